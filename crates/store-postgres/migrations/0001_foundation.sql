-- Divisions, boundaries, organisation, accounts and sessions.
-- Text keys use the "C" collation so that they sort by bytes, as on SQLite (cursors depend on it).
-- Dates are ISO-8601 text (YYYY-MM-DD, Asia/Shanghai business dates); instants are Unix seconds (UTC).

CREATE TABLE divisions (
    code        TEXT COLLATE "C" PRIMARY KEY CHECK (length(code) = 12),
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'city', 'district', 'street', 'community')),
    -- No foreign key: a city's province may live outside the platform. Imports check parents.
    parent_code TEXT,
    valid_from  TEXT,
    valid_to    TEXT,
    ledger_seq  BIGINT NOT NULL
);
CREATE INDEX divisions_by_parent ON divisions (parent_code, code);

CREATE TABLE division_boundaries (
    code      TEXT PRIMARY KEY REFERENCES divisions (code),
    geometry  TEXT NOT NULL,
    synthetic BOOLEAN NOT NULL,
    source    TEXT NOT NULL,
    ledger_seq BIGINT NOT NULL
);

CREATE TABLE bodies (
    code          TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    division_code TEXT NOT NULL REFERENCES divisions (code),
    parent_code   TEXT REFERENCES bodies (code) DEFERRABLE INITIALLY DEFERRED,
    domains       TEXT NOT NULL,
    ledger_seq    BIGINT NOT NULL
);
CREATE INDEX bodies_by_division ON bodies (division_code);

CREATE TABLE staff (
    staff_no              TEXT COLLATE "C" PRIMARY KEY,
    name                  TEXT NOT NULL,
    body_code             TEXT NOT NULL REFERENCES bodies (code),
    roles                 TEXT NOT NULL,
    credential_no         TEXT UNIQUE,
    credential_valid_from TEXT,
    credential_valid_to   TEXT,
    qualification_domains TEXT,
    auxiliary             BOOLEAN NOT NULL,
    active                BOOLEAN NOT NULL,
    ledger_seq            BIGINT NOT NULL,
    -- Auxiliary staff never hold an enforcement credential.
    CHECK (NOT (auxiliary AND credential_no IS NOT NULL))
);
CREATE INDEX staff_by_body ON staff (body_code, staff_no);

CREATE TABLE users (
    username      TEXT COLLATE "C" PRIMARY KEY,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    scope_code    TEXT NOT NULL,
    staff_no      TEXT REFERENCES staff (staff_no),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL,
    ledger_seq    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Sign-in attempts per username, known or not, so that unknown names are throttled exactly like real
-- ones and the answer never tells which accounts exist. A successful sign-in deletes the row.
CREATE TABLE login_attempts (
    username     TEXT PRIMARY KEY,
    attempts     BIGINT NOT NULL,
    locked_until BIGINT,
    last_attempt BIGINT NOT NULL
);
CREATE INDEX login_attempts_by_age ON login_attempts (last_attempt);

CREATE TABLE seeds (
    name       TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);

-- The full-process record. Every change to the tables above appends an entry here in the same
-- transaction; the entries are the leaves of an RFC 6962 Merkle tree whose complete subtrees are kept in
-- ledger_nodes. Entries and nodes are append-only.
CREATE TABLE ledger_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    algorithm  TEXT NOT NULL CHECK (algorithm IN ('sm3', 'sha256')),
    size       BIGINT NOT NULL CHECK (size >= 0),
    -- The roots of the tree's complete subtrees, largest first, as comma-separated hex: what an append
    -- needs, kept here so a write reads one row instead of up to log2(size) nodes.
    frontier   TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE ledger_entries (
    seq            BIGINT PRIMARY KEY CHECK (seq >= 0),
    recorded_at    BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    role           TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT COLLATE "C" NOT NULL,
    jurisdiction   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    payload_digest TEXT NOT NULL,
    leaf_hash      TEXT NOT NULL
);
CREATE INDEX ledger_entries_by_object ON ledger_entries (object_type, object_id, seq);

CREATE TABLE ledger_nodes (
    level INTEGER NOT NULL,
    idx   BIGINT NOT NULL,
    hash  TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Nested, because PL/pgSQL evaluates a whole condition and only ledger_state has these columns.
    IF TG_TABLE_NAME = 'ledger_state' AND TG_OP = 'UPDATE' THEN
        IF NEW.size >= OLD.size AND NEW.algorithm = OLD.algorithm THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'ledger_append_only' USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_nodes
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_state_only_grows BEFORE UPDATE OR DELETE ON ledger_state
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- A row of enforcement data is written only together with the ledger entry that records it: the row names
-- its entry, the entry must be about this very object, and an update must name a newer entry.
-- Arguments: the entry's object_type, and the row's key column.
CREATE FUNCTION require_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'unrecorded_change' USING ERRCODE = 'check_violation';
    END IF;
    IF (TG_OP = 'UPDATE' AND NEW.ledger_seq <= OLD.ledger_seq)
       OR NOT EXISTS (SELECT 1 FROM ledger_entries e
                      WHERE e.seq = NEW.ledger_seq AND e.object_type = TG_ARGV[0]
                        AND e.object_id = to_jsonb(NEW) ->> TG_ARGV[1]) THEN
        RAISE EXCEPTION 'unrecorded_change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER divisions_recorded BEFORE INSERT OR UPDATE OR DELETE ON divisions
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('division', 'code');
CREATE TRIGGER division_boundaries_recorded BEFORE INSERT OR UPDATE OR DELETE ON division_boundaries
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('boundary', 'code');
CREATE TRIGGER bodies_recorded BEFORE INSERT OR UPDATE OR DELETE ON bodies
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('body', 'code');
CREATE TRIGGER staff_recorded BEFORE INSERT OR UPDATE OR DELETE ON staff
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('staff', 'staff_no');
CREATE TRIGGER users_recorded BEFORE INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('account', 'username');

-- Signed tree heads: the server's own signatures and witnesses' cosignatures. Append-only.
CREATE TABLE ledger_checkpoints (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin        TEXT NOT NULL,
    algorithm     TEXT NOT NULL,
    size          BIGINT NOT NULL,
    root          TEXT NOT NULL,
    signed_at     BIGINT NOT NULL,
    signer        TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    sig_algorithm TEXT NOT NULL,
    signature     TEXT NOT NULL,
    UNIQUE (size, signed_at, signer)
);
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- Evidence attached to enforcement objects. The file itself lives in the content-addressed evidence
-- store of the data directory, named by its SM3 digest; the row and its ledger entry carry the digest.
CREATE TABLE evidence (
    id            TEXT COLLATE "C" PRIMARY KEY,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL,
    digest        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    size          BIGINT NOT NULL,
    original_name TEXT,
    captured_at   TEXT,
    latitude      DOUBLE PRECISION,
    longitude     DOUBLE PRECISION,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   BIGINT NOT NULL,
    ledger_seq    BIGINT NOT NULL
);
CREATE INDEX evidence_by_object ON evidence (object_type, object_id, uploaded_at);
-- Evidence is never changed: a correction is a new file.
CREATE FUNCTION evidence_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'unrecorded_change' USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER evidence_recorded BEFORE INSERT ON evidence
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('evidence', 'id');
CREATE TRIGGER evidence_final BEFORE UPDATE OR DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION evidence_is_final();
