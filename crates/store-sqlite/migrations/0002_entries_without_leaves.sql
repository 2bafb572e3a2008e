-- Writes insert only their entries, numbered by the database; the tree over them is derived afterwards,
-- many entries per transaction. An entry's leaf hash is therefore its level-0 node in ledger_nodes, which
-- every earlier write already stored, and no longer a column of the entry.
DROP TRIGGER ledger_entries_no_update;
ALTER TABLE ledger_entries DROP COLUMN leaf_hash;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
-- Nothing reads entries by object yet; an index for that belongs to the integration, off the write path.
DROP INDEX ledger_entries_by_object;

-- Tree nodes clustered on their key: a proof reads ~2·log2(n) nodes, each now one B-tree descent
-- instead of an index descent and a table descent.
CREATE TABLE ledger_nodes_clustered (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  TEXT NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
INSERT INTO ledger_nodes_clustered (level, idx, hash) SELECT level, idx, hash FROM ledger_nodes;
DROP TABLE ledger_nodes;
ALTER TABLE ledger_nodes_clustered RENAME TO ledger_nodes;
CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes BEGIN SELECT RAISE(ABORT, 'ledger_append_only'); END;
