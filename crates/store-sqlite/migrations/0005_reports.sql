-- Public reporting and the digital-urban-management flow: services, reports, their updates, Open311 client
-- keys and rewards.

CREATE TABLE report_services (
    code        TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,          -- the Service as JSON
    power_code  TEXT NOT NULL,
    public      INTEGER NOT NULL CHECK (public IN (0, 1)),
    ledger_seq  INTEGER NOT NULL
);

-- One row per report; its number is the Open311 service_request_id.
CREATE TABLE reports (
    id             INTEGER PRIMARY KEY,
    token          TEXT NOT NULL UNIQUE,
    service_code   TEXT NOT NULL REFERENCES report_services (code),
    channel        TEXT NOT NULL,
    client         TEXT,
    state          TEXT NOT NULL,
    cancel_reason  TEXT,
    severity       TEXT NOT NULL,
    description    TEXT NOT NULL,
    address        TEXT NOT NULL,
    lon            REAL,
    lat            REAL,
    grid_code      TEXT,
    jurisdiction   TEXT NOT NULL,
    squad          TEXT,
    officer        TEXT,
    duplicate_of   INTEGER REFERENCES reports (id),
    reporter       TEXT NOT NULL,       -- JSON: name, phone, email, device; shown only to roles that need it
    attributes     TEXT NOT NULL,       -- JSON: Open311 attribute code -> values
    media_url      TEXT,
    submitted_at   INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    step_due       INTEGER,
    escalated      INTEGER NOT NULL DEFAULT 0 CHECK (escalated IN (0, 1)),
    reworks        INTEGER NOT NULL DEFAULT 0,
    closed_at      INTEGER,
    case_ref       TEXT,
    ledger_seq     INTEGER NOT NULL
);
CREATE INDEX reports_by_jurisdiction ON reports (jurisdiction, state);
CREATE INDEX reports_by_time ON reports (submitted_at);
-- Duplicate detection looks for the same service near a point: a latitude band, then longitude and time.
CREATE INDEX reports_by_service_place ON reports (service_code, lat, lon);
CREATE INDEX reports_by_squad ON reports (squad, state);
CREATE INDEX reports_by_due ON reports (state, step_due);

-- Every step taken on a report, in order: the history the reporter and Open311 clients read.
CREATE TABLE report_updates (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    action      TEXT NOT NULL,
    state       TEXT NOT NULL,
    note        TEXT NOT NULL,
    public_note TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    ledger_seq  INTEGER NOT NULL
);
CREATE INDEX report_updates_by_report ON report_updates (report_id, id);
CREATE INDEX report_updates_by_time ON report_updates (at);

-- Open311 client applications; only a SHA-256 of each key is kept.
CREATE TABLE open311_keys (
    name        TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,
    contact     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    ledger_seq  INTEGER NOT NULL
);

-- Rewards for valid reports: pending, then approved, then paid (or refused).
CREATE TABLE rewards (
    report_id   INTEGER PRIMARY KEY REFERENCES reports (id),
    reporter_key TEXT NOT NULL,         -- SHA-256 of the reporter's phone: counts a month's awards without the number
    month       TEXT NOT NULL,          -- YYYY-MM, Beijing time
    amount      INTEGER NOT NULL CHECK (amount > 0),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'paid', 'refused')),
    decided_by  TEXT,
    updated_at  INTEGER NOT NULL,
    ledger_seq  INTEGER NOT NULL
);
CREATE INDEX rewards_by_reporter ON rewards (reporter_key, month);

CREATE TRIGGER report_services_recorded_insert BEFORE INSERT ON report_services
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'service' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER report_services_recorded_update BEFORE UPDATE ON report_services
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'service' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER report_services_no_delete BEFORE DELETE ON report_services BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER reports_recorded_insert BEFORE INSERT ON reports
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'report' AND e.object_id = CAST(NEW.id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER reports_recorded_update BEFORE UPDATE ON reports
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'report' AND e.object_id = CAST(NEW.id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER report_updates_recorded_insert BEFORE INSERT ON report_updates
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'report' AND e.object_id = CAST(NEW.report_id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER report_updates_final BEFORE UPDATE ON report_updates BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER report_updates_no_delete BEFORE DELETE ON report_updates BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER open311_keys_recorded_insert BEFORE INSERT ON open311_keys
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'open311_key' AND e.object_id = NEW.name)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER open311_keys_recorded_update BEFORE UPDATE ON open311_keys
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'open311_key' AND e.object_id = NEW.name)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER open311_keys_no_delete BEFORE DELETE ON open311_keys BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER rewards_recorded_insert BEFORE INSERT ON rewards
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'reward' AND e.object_id = CAST(NEW.report_id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER rewards_recorded_update BEFORE UPDATE ON rewards
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'reward' AND e.object_id = CAST(NEW.report_id AS TEXT))
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER rewards_no_delete BEFORE DELETE ON rewards BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
