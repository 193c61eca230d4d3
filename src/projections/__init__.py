"""Read models built from the event store (users, organizations, credential history)."""
