-- Divisions, boundaries, organisation, accounts and sessions.
-- Dates are ISO-8601 text (YYYY-MM-DD, Asia/Shanghai business dates); instants are Unix seconds (UTC).

CREATE TABLE divisions (
    code        TEXT PRIMARY KEY CHECK (length(code) = 12),
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'city', 'district', 'street', 'community')),
    -- No foreign key: a city's province may live outside the platform. Imports check parents.
    parent_code TEXT,
    valid_from  TEXT,
    valid_to    TEXT,
    ledger_seq  INTEGER NOT NULL
);
CREATE INDEX divisions_by_parent ON divisions (parent_code, code);

CREATE TABLE division_boundaries (
    code      TEXT PRIMARY KEY REFERENCES divisions (code),
    geometry  TEXT NOT NULL,
    synthetic INTEGER NOT NULL CHECK (synthetic IN (0, 1)),
    source    TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
);

CREATE TABLE bodies (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    division_code TEXT NOT NULL REFERENCES divisions (code),
    parent_code   TEXT REFERENCES bodies (code) DEFERRABLE INITIALLY DEFERRED,
    domains       TEXT NOT NULL,
    ledger_seq    INTEGER NOT NULL
);
CREATE INDEX bodies_by_division ON bodies (division_code);

CREATE TABLE staff (
    staff_no              TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    body_code             TEXT NOT NULL REFERENCES bodies (code),
    roles                 TEXT NOT NULL,
    credential_no         TEXT UNIQUE,
    credential_valid_from TEXT,
    credential_valid_to   TEXT,
    qualification_domains TEXT,
    auxiliary             INTEGER NOT NULL CHECK (auxiliary IN (0, 1)),
    active                INTEGER NOT NULL CHECK (active IN (0, 1)),
    ledger_seq            INTEGER NOT NULL,
    -- Auxiliary staff never hold an enforcement credential.
    CHECK (NOT (auxiliary = 1 AND credential_no IS NOT NULL))
);
CREATE INDEX staff_by_body ON staff (body_code, staff_no);

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    scope_code    TEXT NOT NULL,
    staff_no      TEXT REFERENCES staff (staff_no),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    ledger_seq    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Sign-in attempts per username, known or not, so that unknown names are throttled exactly like real
-- ones and the answer never tells which accounts exist. A successful sign-in deletes the row.
CREATE TABLE login_attempts (
    username     TEXT PRIMARY KEY,
    attempts     INTEGER NOT NULL,
    locked_until INTEGER,
    last_attempt INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_age ON login_attempts (last_attempt);

CREATE TABLE seeds (
    name       TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
);

-- The full-process record. Every change to the tables above appends an entry here in the same
-- transaction; the entries are the leaves of an RFC 6962 Merkle tree whose complete subtrees are kept in
-- ledger_nodes. Entries and nodes are append-only.
CREATE TABLE ledger_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    algorithm  TEXT NOT NULL CHECK (algorithm IN ('sm3', 'sha256')),
    size       INTEGER NOT NULL CHECK (size >= 0),
    -- The roots of the tree's complete subtrees, largest first, as comma-separated hex: what an append
    -- needs, kept here so a write reads one row instead of up to log2(size) nodes.
    frontier   TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE ledger_entries (
    seq            INTEGER PRIMARY KEY CHECK (seq >= 0),
    recorded_at    INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    role           TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    jurisdiction   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    payload_digest TEXT NOT NULL,
    leaf_hash      TEXT NOT NULL
);
CREATE INDEX ledger_entries_by_object ON ledger_entries (object_type, object_id, seq);

CREATE TABLE ledger_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
CREATE TRIGGER ledger_state_no_delete BEFORE DELETE ON ledger_state BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
CREATE TRIGGER ledger_state_only_grows BEFORE UPDATE ON ledger_state
    WHEN NEW.size < OLD.size OR NEW.algorithm <> OLD.algorithm
    BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;

-- A row of enforcement data is written only together with the ledger entry that records it: the row names
-- its entry, the entry must be about this very object, and an update must name a newer entry.
CREATE TRIGGER divisions_recorded_insert BEFORE INSERT ON divisions
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'division' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER divisions_recorded_update BEFORE UPDATE ON divisions
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'division' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER divisions_no_delete BEFORE DELETE ON divisions BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER division_boundaries_recorded_insert BEFORE INSERT ON division_boundaries
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'boundary' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER division_boundaries_recorded_update BEFORE UPDATE ON division_boundaries
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'boundary' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER division_boundaries_no_delete BEFORE DELETE ON division_boundaries BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER bodies_recorded_insert BEFORE INSERT ON bodies
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'body' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER bodies_recorded_update BEFORE UPDATE ON bodies
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'body' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER bodies_no_delete BEFORE DELETE ON bodies BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER staff_recorded_insert BEFORE INSERT ON staff
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'staff' AND e.object_id = NEW.staff_no)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER staff_recorded_update BEFORE UPDATE ON staff
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'staff' AND e.object_id = NEW.staff_no)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER staff_no_delete BEFORE DELETE ON staff BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER users_recorded_insert BEFORE INSERT ON users
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'account' AND e.object_id = NEW.username)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER users_recorded_update BEFORE UPDATE ON users
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'account' AND e.object_id = NEW.username)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER users_no_delete BEFORE DELETE ON users BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

-- Signed tree heads: the server's own signatures and witnesses' cosignatures. Append-only.
CREATE TABLE ledger_checkpoints (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    origin        TEXT NOT NULL,
    algorithm     TEXT NOT NULL,
    size          INTEGER NOT NULL,
    root          TEXT NOT NULL,
    signed_at     INTEGER NOT NULL,
    signer        TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    sig_algorithm TEXT NOT NULL,
    signature     TEXT NOT NULL,
    UNIQUE (size, signed_at, signer)
);
CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;

-- Evidence attached to enforcement objects. The file itself lives in the content-addressed evidence
-- store of the data directory, named by its SM3 digest; the row and its ledger entry carry the digest.
CREATE TABLE evidence (
    id            TEXT PRIMARY KEY,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL,
    digest        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    original_name TEXT,
    captured_at   TEXT,
    latitude      REAL,
    longitude     REAL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   INTEGER NOT NULL,
    ledger_seq    INTEGER NOT NULL
);
CREATE INDEX evidence_by_object ON evidence (object_type, object_id, uploaded_at);
CREATE TRIGGER evidence_recorded_insert BEFORE INSERT ON evidence
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'evidence' AND e.object_id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
