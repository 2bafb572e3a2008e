-- Duplicate detection reads the cells around a point (a thousandth of a degree on a side) instead of a
-- whole band of latitude; the index also serves the time window. See `gridward_store::reports::place_cell`:
-- row = floor((lat + 90) * 1000), column = floor((lon + 180) * 1000), cell = row * 360001 + column.

ALTER TABLE reports ADD COLUMN place_cell BIGINT;
UPDATE reports
   SET place_cell = floor((lat + 90.0::float8) * 1000.0::float8)::bigint * 360001
                  + floor((lon + 180.0::float8) * 1000.0::float8)::bigint
 WHERE lat IS NOT NULL AND lon IS NOT NULL;
DROP INDEX reports_by_service_place;
-- The index holds all the search reads, so no candidate is fetched from the table.
CREATE INDEX reports_by_service_cell ON reports (service_code, place_cell, submitted_at) INCLUDE (state, lon, lat);
