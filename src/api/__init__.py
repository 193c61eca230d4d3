"""HTTP layer: thin routes that translate requests into use cases and errors into dialects."""
