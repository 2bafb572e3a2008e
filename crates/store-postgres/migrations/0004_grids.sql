-- Unit grids (单元网格) under communities, who owns each, and the datum of every stored geometry.

-- Outlines so far were all GCJ-02 lon/lat; from now on each says which datum it is in.
ALTER TABLE division_boundaries ADD COLUMN datum TEXT NOT NULL DEFAULT 'gcj02' CHECK (datum IN ('wgs84', 'cgcs2000', 'gcj02'));

-- A grid is never deleted: a grid redrawn away is retired, and its history stays in the record.
CREATE TABLE grids (
    code       TEXT COLLATE "C" PRIMARY KEY,
    community  TEXT NOT NULL REFERENCES divisions (code),
    name       TEXT NOT NULL,
    datum      TEXT NOT NULL CHECK (datum IN ('wgs84', 'cgcs2000', 'gcj02')),
    geometry   TEXT NOT NULL,
    area_m2    DOUBLE PRECISION NOT NULL CHECK (area_m2 >= 0),
    synthetic  BOOLEAN NOT NULL,
    source     TEXT NOT NULL,
    retired    BOOLEAN NOT NULL DEFAULT FALSE,
    ledger_seq BIGINT NOT NULL
);
CREATE INDEX grids_by_community ON grids (community);

-- The squad that owns a grid, its primary officer and the backups (a ';'-list of staff numbers).
CREATE TABLE grid_owners (
    grid_code       TEXT COLLATE "C" PRIMARY KEY REFERENCES grids (code),
    squad           TEXT NOT NULL REFERENCES bodies (code),
    primary_officer TEXT REFERENCES staff (staff_no),
    backups         TEXT NOT NULL,
    ledger_seq      BIGINT NOT NULL
);
CREATE INDEX grid_owners_by_squad ON grid_owners (squad);

CREATE TRIGGER grids_recorded BEFORE INSERT OR UPDATE OR DELETE ON grids
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('grid', 'code');
CREATE TRIGGER grid_owners_recorded BEFORE INSERT OR UPDATE OR DELETE ON grid_owners
    FOR EACH ROW EXECUTE FUNCTION require_ledger_entry('grid_owner', 'grid_code');
