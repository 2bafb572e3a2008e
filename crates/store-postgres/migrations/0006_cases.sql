-- Enforcement cases: one summary row per case (for lists and dashboards), every step taken on it in order,
-- and the numbered documents issued. The case itself is the fold of its steps.

CREATE TABLE cases (
    id              BIGINT PRIMARY KEY,
    number          TEXT NOT NULL,          -- 案号, numbered per body per year
    body_code       TEXT NOT NULL,
    jurisdiction    TEXT NOT NULL,          -- the division the body acts for: who may see the case
    procedure       TEXT NOT NULL,
    stage           TEXT NOT NULL,
    source          TEXT NOT NULL,
    source_ref      TEXT NOT NULL,
    power_code      TEXT NOT NULL,
    party_kind      TEXT NOT NULL,
    party_name      TEXT NOT NULL,          -- personal data for a person: masked where shown without need
    officers        TEXT NOT NULL,          -- JSON: staff numbers of whoever opened or investigates it
    fine_yuan       BIGINT NOT NULL,
    next_due        TEXT,                   -- YYYY-MM-DD: the earliest deadline not yet met
    next_due_code   TEXT,
    proposed_on     TEXT NOT NULL,
    decided_on      TEXT,
    closed_on       TEXT,
    crime_indicator BOOLEAN NOT NULL,   -- signs of a crime: the procuratorate watches the case
    transfer_state  TEXT,                   -- where a transfer to the police stands, if one was proposed
    updated_at      BIGINT NOT NULL,
    ledger_seq      BIGINT NOT NULL,
    UNIQUE (body_code, number)
);
CREATE INDEX cases_by_jurisdiction ON cases (jurisdiction, stage);
CREATE INDEX cases_by_due ON cases (next_due);
CREATE INDEX cases_by_body ON cases (body_code, proposed_on);
CREATE INDEX cases_watched ON cases (crime_indicator, transfer_state);

CREATE TABLE case_steps (
    id          BIGINT PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    step        TEXT NOT NULL,
    body        TEXT NOT NULL,              -- the step as JSON, with its actor and day
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    ledger_seq  BIGINT NOT NULL
);
CREATE INDEX case_steps_by_case ON case_steps (case_id, id);

-- Documents (文书): numbered per body, kind and year; the digest of each is in its step's entry.
CREATE TABLE case_documents (
    id          BIGINT PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    kind        TEXT NOT NULL,
    body_code   TEXT NOT NULL,
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    number      TEXT NOT NULL,
    content     TEXT NOT NULL,              -- JSON: every field the form prints
    digest      TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    ledger_seq  BIGINT NOT NULL,
    UNIQUE (body_code, kind, year, seq)
);
CREATE INDEX case_documents_by_case ON case_documents (case_id, id);
CREATE INDEX case_documents_by_kind ON case_documents (kind, id);

-- The official working-day arrangement of years after those shipped with the product, as imported.
CREATE TABLE calendar_days (
    day         TEXT PRIMARY KEY,           -- YYYY-MM-DD
    kind        TEXT NOT NULL CHECK (kind IN ('holiday', 'makeup_workday')),
    festival    TEXT NOT NULL,
    ledger_seq  BIGINT NOT NULL
);

CREATE TRIGGER cases_recorded BEFORE INSERT OR UPDATE OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('case', 'id');
CREATE TRIGGER case_steps_recorded BEFORE INSERT ON case_steps
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('case', 'case_id');
CREATE TRIGGER case_steps_final BEFORE UPDATE OR DELETE ON case_steps
    FOR EACH ROW EXECUTE FUNCTION final_row();
CREATE TRIGGER case_documents_recorded BEFORE INSERT ON case_documents
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('case', 'case_id');
CREATE TRIGGER case_documents_final BEFORE UPDATE OR DELETE ON case_documents
    FOR EACH ROW EXECUTE FUNCTION final_row();
CREATE TRIGGER calendar_days_final BEFORE UPDATE OR DELETE ON calendar_days
    FOR EACH ROW EXECUTE FUNCTION final_row();
-- A calendar row names the entry that recorded its year's arrangement.
CREATE FUNCTION calendar_day_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_entries e
                   WHERE e.seq = NEW.ledger_seq AND e.object_type = 'calendar' AND e.object_id = substr(NEW.day, 1, 4)) THEN
        RAISE EXCEPTION 'unrecorded_change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER calendar_days_recorded BEFORE INSERT ON calendar_days
    FOR EACH ROW EXECUTE FUNCTION calendar_day_recorded();
