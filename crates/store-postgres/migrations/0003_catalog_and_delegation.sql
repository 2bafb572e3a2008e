-- The power catalog (权力库), delegation of powers to bodies, committed delegation plans and staffing
-- quotas. Every row names the ledger entry that recorded it, as for the organisation tables.

-- One row per version of a power; a change is a new version, so rows are never updated.
CREATE TABLE powers (
    code          TEXT COLLATE "C" NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    valid_from    TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    domain        TEXT NOT NULL,
    category      TEXT NOT NULL,
    default_level TEXT NOT NULL,
    detail        TEXT NOT NULL,
    ledger_seq    BIGINT NOT NULL,
    PRIMARY KEY (code, version)
);

CREATE TABLE delegation_plans (
    id             BIGINT PRIMARY KEY,
    title          TEXT NOT NULL,
    instrument     TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    plan           TEXT NOT NULL,
    committed_by   TEXT NOT NULL,
    committed_at   BIGINT NOT NULL,
    ledger_seq     BIGINT NOT NULL
);

-- A power given to a body for a division subtree over [valid_from, valid_to] (last day included).
CREATE TABLE assignments (
    id             BIGINT PRIMARY KEY,
    power_code     TEXT COLLATE "C" NOT NULL,
    body_code      TEXT NOT NULL REFERENCES bodies (code),
    territory      TEXT NOT NULL REFERENCES divisions (code),
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    instrument     TEXT NOT NULL,
    evaluation_due TEXT,
    plan_id        BIGINT REFERENCES delegation_plans (id),
    ledger_seq     BIGINT NOT NULL,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX assignments_by_place ON assignments (power_code, territory);
CREATE INDEX assignments_by_body ON assignments (body_code);

CREATE TABLE staffing_quotas (
    body_code  TEXT NOT NULL REFERENCES bodies (code),
    kind       TEXT NOT NULL,
    posts      INTEGER NOT NULL CHECK (posts >= 0),
    ledger_seq BIGINT NOT NULL,
    PRIMARY KEY (body_code, kind)
);

-- Rows that are final once written: refuse any change.
CREATE FUNCTION final_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'unrecorded_change' USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER powers_recorded BEFORE INSERT ON powers
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('power', 'code');
CREATE TRIGGER powers_final BEFORE UPDATE OR DELETE ON powers
    FOR EACH ROW EXECUTE FUNCTION final_row();
CREATE TRIGGER delegation_plans_recorded BEFORE INSERT ON delegation_plans
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('plan', 'id');
CREATE TRIGGER delegation_plans_final BEFORE UPDATE OR DELETE ON delegation_plans
    FOR EACH ROW EXECUTE FUNCTION final_row();
CREATE TRIGGER assignments_recorded BEFORE INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('assignment', 'id');
CREATE TRIGGER staffing_quotas_recorded BEFORE INSERT OR UPDATE OR DELETE ON staffing_quotas
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('quota', 'body_code');
