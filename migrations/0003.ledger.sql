-- The ledger (CONTRACTS §5): an RFC 9162 Merkle tree over every stored event, integrated by
-- the projection worker. Leaves and completed subtrees are written once and never changed;
-- the head row guards integration; every checkpoint the log signs is kept.
-- depends: 0002.read-model-positions

CREATE TABLE ledger_leaves (
    leaf_index BIGINT PRIMARY KEY,
    position BIGINT NOT NULL UNIQUE,
    leaf_hash BYTEA NOT NULL
);

CREATE TABLE ledger_nodes (
    level INTEGER NOT NULL,
    node_index BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, node_index)
);

CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tree_size BIGINT NOT NULL,
    position BIGINT NOT NULL,
    epoch BIGINT NOT NULL,  -- bumped by every reset (rebuild)
    updated_at TEXT NOT NULL
);
INSERT INTO ledger_head (id, tree_size, position, epoch, updated_at) VALUES (1, 0, 0, 0, '');

CREATE TABLE ledger_checkpoints (
    tree_size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    signed_at TEXT NOT NULL
);
