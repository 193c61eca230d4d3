-- Rate-limit windows shared by every server process and node (CONTRACTS §8). Keys are
-- keyed digests of "addr:<ip>" / "account:<login>", so no address or login is stored.
-- depends: 0004.data-keys

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    hits INTEGER NOT NULL
);
