"""Store adapters: every line written for SQLite or PostgreSQL in particular.

The read models' stores, the data-key table, shared rate limits, worker leadership, the lean
reads of the events table and the event cipher. They implement what the inner layers ask of a
store (`projections.readstore`, `service.sealing`, the rate-limit protocol); only the
composition root (`credledger`) picks one and wires it in. The write side's SQL is the
`eventsourcing` library's own, configured in `credledger.wiring`.
"""
