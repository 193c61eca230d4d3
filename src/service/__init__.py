"""Application service: one method per use case, over the event store.

Order on every password path: load → verify → policy → hash → event → save, the whole
command retried when a concurrent writer got there first (optimistic concurrency).
"""
