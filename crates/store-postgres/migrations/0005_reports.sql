-- Public reporting and the digital-urban-management flow: services, reports, their updates, Open311 client
-- keys and rewards.

CREATE TABLE report_services (
    code        TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,          -- the Service as JSON
    power_code  TEXT NOT NULL,
    public      BOOLEAN NOT NULL,
    ledger_seq  BIGINT NOT NULL
);

-- One row per report; its number is the Open311 service_request_id.
CREATE TABLE reports (
    id             BIGINT PRIMARY KEY,
    token          TEXT NOT NULL UNIQUE,
    service_code   TEXT NOT NULL REFERENCES report_services (code),
    channel        TEXT NOT NULL,
    client         TEXT,
    state          TEXT NOT NULL,
    cancel_reason  TEXT,
    severity       TEXT NOT NULL,
    description    TEXT NOT NULL,
    address        TEXT NOT NULL,
    lon            DOUBLE PRECISION,
    lat            DOUBLE PRECISION,
    grid_code      TEXT,
    jurisdiction   TEXT NOT NULL,
    squad          TEXT,
    officer        TEXT,
    duplicate_of   BIGINT REFERENCES reports (id),
    reporter       TEXT NOT NULL,       -- JSON: name, phone, email, device; shown only to roles that need it
    attributes     TEXT NOT NULL,       -- JSON: Open311 attribute code -> values
    media_url      TEXT,
    submitted_at   BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    step_due       BIGINT,
    escalated      BOOLEAN NOT NULL DEFAULT FALSE,
    reworks        BIGINT NOT NULL DEFAULT 0,
    closed_at      BIGINT,
    case_ref       TEXT,
    ledger_seq     BIGINT NOT NULL
);
CREATE INDEX reports_by_jurisdiction ON reports (jurisdiction, state);
CREATE INDEX reports_by_time ON reports (submitted_at);
-- Duplicate detection looks for the same service near a point: a latitude band, then longitude and time.
CREATE INDEX reports_by_service_place ON reports (service_code, lat, lon);
CREATE INDEX reports_by_squad ON reports (squad, state);
CREATE INDEX reports_by_due ON reports (state, step_due);

-- Every step taken on a report, in order: the history the reporter and Open311 clients read.
CREATE TABLE report_updates (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   BIGINT NOT NULL REFERENCES reports (id),
    action      TEXT NOT NULL,
    state       TEXT NOT NULL,
    note        TEXT NOT NULL,
    public_note TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    ledger_seq  BIGINT NOT NULL
);
CREATE INDEX report_updates_by_report ON report_updates (report_id, id);
CREATE INDEX report_updates_by_time ON report_updates (at);

-- Open311 client applications; only a SHA-256 of each key is kept.
CREATE TABLE open311_keys (
    name        TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,
    contact     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    ledger_seq  BIGINT NOT NULL
);

-- Rewards for valid reports: pending, then approved, then paid (or refused).
CREATE TABLE rewards (
    report_id   BIGINT PRIMARY KEY REFERENCES reports (id),
    reporter_key TEXT NOT NULL,         -- SHA-256 of the reporter's phone: counts a month's awards without the number
    month       TEXT NOT NULL,          -- YYYY-MM, Beijing time
    amount      BIGINT NOT NULL CHECK (amount > 0),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'paid', 'refused')),
    decided_by  TEXT,
    updated_at  BIGINT NOT NULL,
    ledger_seq  BIGINT NOT NULL
);
CREATE INDEX rewards_by_reporter ON rewards (reporter_key, month);

CREATE TRIGGER report_services_recorded BEFORE INSERT OR UPDATE OR DELETE ON report_services
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('service', 'code');
CREATE TRIGGER reports_recorded BEFORE INSERT OR UPDATE OR DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('report', 'id');
CREATE TRIGGER report_updates_recorded BEFORE INSERT ON report_updates
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('report', 'report_id');
CREATE TRIGGER report_updates_final BEFORE UPDATE OR DELETE ON report_updates
    FOR EACH ROW EXECUTE FUNCTION final_row();
CREATE TRIGGER open311_keys_recorded BEFORE INSERT OR UPDATE OR DELETE ON open311_keys
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('open311_key', 'name');
CREATE TRIGGER rewards_recorded BEFORE INSERT OR UPDATE OR DELETE ON rewards
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('reward', 'report_id');
