-- Unit grids (单元网格) under communities, who owns each, and the datum of every stored geometry.

-- Outlines so far were all GCJ-02 lon/lat; from now on each says which datum it is in.
ALTER TABLE division_boundaries ADD COLUMN datum TEXT NOT NULL DEFAULT 'gcj02' CHECK (datum IN ('wgs84', 'cgcs2000', 'gcj02'));

-- A grid is never deleted: a grid redrawn away is retired, and its history stays in the record.
CREATE TABLE grids (
    code       TEXT PRIMARY KEY,
    community  TEXT NOT NULL REFERENCES divisions (code),
    name       TEXT NOT NULL,
    datum      TEXT NOT NULL CHECK (datum IN ('wgs84', 'cgcs2000', 'gcj02')),
    geometry   TEXT NOT NULL,
    area_m2    REAL NOT NULL CHECK (area_m2 >= 0),
    synthetic  INTEGER NOT NULL CHECK (synthetic IN (0, 1)),
    source     TEXT NOT NULL,
    retired    INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    ledger_seq INTEGER NOT NULL
);
CREATE INDEX grids_by_community ON grids (community);

-- The squad that owns a grid, its primary officer and the backups (a ';'-list of staff numbers).
CREATE TABLE grid_owners (
    grid_code       TEXT PRIMARY KEY REFERENCES grids (code),
    squad           TEXT NOT NULL REFERENCES bodies (code),
    primary_officer TEXT REFERENCES staff (staff_no),
    backups         TEXT NOT NULL,
    ledger_seq      INTEGER NOT NULL
);
CREATE INDEX grid_owners_by_squad ON grid_owners (squad);

CREATE TRIGGER grids_recorded_insert BEFORE INSERT ON grids
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'grid' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER grids_recorded_update BEFORE UPDATE ON grids
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'grid' AND e.object_id = NEW.code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER grids_no_delete BEFORE DELETE ON grids BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;

CREATE TRIGGER grid_owners_recorded_insert BEFORE INSERT ON grid_owners
    WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'grid_owner' AND e.object_id = NEW.grid_code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER grid_owners_recorded_update BEFORE UPDATE ON grid_owners
    WHEN NEW.ledger_seq <= OLD.ledger_seq
      OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.seq = NEW.ledger_seq AND e.object_type = 'grid_owner' AND e.object_id = NEW.grid_code)
    BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
CREATE TRIGGER grid_owners_no_delete BEFORE DELETE ON grid_owners BEGIN SELECT RAISE(ABORT, 'unrecorded_change'); END;
