-- The power catalog (权力库), delegation of powers to bodies, committed delegation plans and staffing
-- quotas. Every row names the ledger entry that recorded it, as for the organisation tables.

-- One row per version of a power; a change is a new version, so rows are never updated.
CREATE TABLE powers (
    code          TEXT NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    valid_from    TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    domain        TEXT NOT NULL,
    category      TEXT NOT NULL,
    default_level TEXT NOT NULL,
    detail        TEXT NOT NULL,
    ledger_seq    INTEGER NOT NULL,
    PRIMARY KEY (code, version)
);

CREATE TABLE delegation_plans (
    id             INTEGER PRIMARY KEY,
    title          TEXT NOT NULL,
    instrument     TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    plan           TEXT NOT NULL,
    committed_by   TEXT NOT NULL,
    committed_at   INTEGER NOT NULL,
    ledger_seq     INTEGER NOT NULL
);

-- A power given to a body for a division subtree over [valid_from, valid_to] (last day included).
CREATE TABLE assignments (
    id             INTEGER PRIMARY KEY,
    power_code     TEXT NOT NULL,
    body_code      TEXT NOT NULL REFERENCES bodies (code),
    territory      TEXT NOT NULL REFERENCES divisions (code),
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    instrument     TEXT NOT NULL,
    evaluation_due TEXT,
    plan_id        INTEGER REFERENCES delegation_plans (id),
    ledger_seq     INTEGER NOT NULL,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX assignments_by_place ON assignments (power_code, territory);
CREATE INDEX assignments_by_body ON assignments (body_code);

CREATE TABLE staffing_quotas (
    body_code  TEXT NOT NULL REFERENCES bodies (code),
    kind       TEXT NOT NULL,
    posts      INTEGER NOT NULL CHECK (posts >= 0),
    ledger_seq INTEGER NOT NULL,
    PRIMARY KEY (body_code, kind)
);

CREATE TRIGGER powers_recorded_insert BEFORE INSERT ON powers
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'power' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER powers_no_update BEFORE UPDATE ON powers BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER powers_no_delete BEFORE DELETE ON powers BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER delegation_plans_recorded_insert BEFORE INSERT ON delegation_plans
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'plan' AND e.object_id = CAST(NEW.id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER delegation_plans_no_update BEFORE UPDATE ON delegation_plans BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER delegation_plans_no_delete BEFORE DELETE ON delegation_plans BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER assignments_recorded_insert BEFORE INSERT ON assignments
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'assignment' AND e.object_id = CAST(NEW.id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER assignments_recorded_update BEFORE UPDATE ON assignments
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'assignment' AND e.object_id = CAST(NEW.id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER assignments_no_delete BEFORE DELETE ON assignments BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER staffing_quotas_recorded_insert BEFORE INSERT ON staffing_quotas
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'quota' AND e.object_id = NEW.body_code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER staffing_quotas_recorded_update BEFORE UPDATE ON staffing_quotas
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'quota' AND e.object_id = NEW.body_code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER staffing_quotas_no_delete BEFORE DELETE ON staffing_quotas BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
