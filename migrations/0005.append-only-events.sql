-- Stored events are never changed or removed (CONTRACTS §8), whoever asks.
--
-- Why triggers and not only privileges: the library's PostgreSQL recorder runs
-- `LOCK TABLE credledger_events IN EXCLUSIVE MODE` before every insert (so commit order equals
-- notification order), and PostgreSQL allows that lock mode only to a role holding UPDATE,
-- DELETE or TRUNCATE on the table. The runtime role is therefore granted UPDATE (and never
-- DELETE or TRUNCATE: see `credledger roles`), and these statement-level triggers refuse every
-- UPDATE, DELETE and TRUNCATE with SQLSTATE 42501 (insufficient_privilege). Statement-level,
-- so even an UPDATE that matches no row is refused, and so is INSERT ... ON CONFLICT DO UPDATE.
--
-- They bind the owner as well: a migration or an operator's ad-hoc statement cannot rewrite
-- history by accident. Only the table's owner (or a superuser) can lift them, with
-- `ALTER TABLE ... DISABLE TRIGGER`, a deliberate DDL statement; the ledger (CONTRACTS §5)
-- still detects whatever is changed that way.
--
-- Snapshots are derived from the events but are not covered by the ledger, so a rewritten
-- snapshot could change a user's state unnoticed: UPDATE is refused there too. Deleting
-- snapshots stays possible for the owner (they are rebuilt from the events); the runtime
-- role holds neither UPDATE nor DELETE on them.
-- depends: 0004.data-keys

CREATE FUNCTION credledger_refuse_rewrite() RETURNS trigger
    LANGUAGE plpgsql
    -- Pinned, so no object created later in a schema on the caller's search_path is used.
    SET search_path = pg_catalog
AS $body$
BEGIN
    RAISE EXCEPTION '% on %.% is refused: the table is append-only',
            TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Stored events and snapshots are never rewritten; record a new event.';
END
$body$;

CREATE TRIGGER credledger_events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON credledger_events
    FOR EACH STATEMENT EXECUTE FUNCTION credledger_refuse_rewrite();

CREATE TRIGGER credledger_snapshots_never_rewritten
    BEFORE UPDATE ON credledger_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION credledger_refuse_rewrite();
