"""The provable log: RFC 9162 Merkle tree, C2SP checkpoints and signed notes, leaf encoding.

Pure functions only: no SQL, no HTTP. Storage and integration live in `projections.ledger`.
"""
