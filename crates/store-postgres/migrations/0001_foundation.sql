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
    valid_to    TEXT
);
CREATE INDEX divisions_by_parent ON divisions (parent_code, code);

CREATE TABLE division_boundaries (
    code      TEXT PRIMARY KEY REFERENCES divisions (code),
    geometry  TEXT NOT NULL,
    synthetic BOOLEAN NOT NULL,
    source    TEXT NOT NULL
);

CREATE TABLE bodies (
    code          TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    division_code TEXT NOT NULL REFERENCES divisions (code),
    parent_code   TEXT REFERENCES bodies (code) DEFERRABLE INITIALLY DEFERRED,
    domains       TEXT NOT NULL
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
    created_at    BIGINT NOT NULL
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
