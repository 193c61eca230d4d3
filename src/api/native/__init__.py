"""The native `/v1` API (CONTRACTS §2)."""
