-- Positions of the read models (one row per model and table generation) and which
-- generation each model serves from. The generation tables themselves (rm_<table>_g<N>)
-- are derived data: the projector creates them, and a rebuild creates the next generation.
-- depends: 0001.event-store

CREATE TABLE IF NOT EXISTS rm_positions (
    model TEXT NOT NULL,
    generation INTEGER NOT NULL,
    position BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model, generation)
);

CREATE TABLE IF NOT EXISTS rm_active (
    model TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
