-- Personal data keys (CONTRACTS §6): one AES-256 key per person, wrapped by a key derived
-- from CREDLEDGER_SECRET_KEY, kept outside the event store. Erasure sets wrapped_key to NULL;
-- the row stays, so nothing is ever sealed for that person again.
-- depends: 0003.ledger

CREATE TABLE data_keys (
    subject TEXT PRIMARY KEY,
    wrapped_key BYTEA,
    created_at TEXT NOT NULL,
    destroyed_at TEXT
);
