//! Stored reports, their updates, services, Open311 keys and rewards, and the SQL both backends run for them.

use async_trait::async_trait;
use gridward_domain::report::{CancelReason, Channel, DuplicateRule, ReportState, Service, Severity, Sighting, find_duplicate};
use serde::{Deserialize, Serialize};

use crate::{Change, DbResult};

/// Who reported, as given. Personal data: shown only to roles that need it, and kept out of the record
/// (the ledger entry holds its digest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device_id: String,
}

impl Reporter {
    pub fn is_anonymous(&self) -> bool {
        self.name.is_empty() && self.phone.is_empty() && self.email.is_empty()
    }
}

/// A report as stored. `id` is the Open311 `service_request_id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRecord {
    pub id: i64,
    /// Handed to a client while the report waits to be placed; also the reporter's private handle.
    pub token: String,
    pub service_code: String,
    pub channel: Channel,
    /// The Open311 client application, for reports that came through one.
    pub client: Option<String>,
    pub state: ReportState,
    pub cancel_reason: Option<CancelReason>,
    pub severity: Severity,
    pub description: String,
    pub address: String,
    /// WGS-84.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub grid_code: Option<String>,
    /// The community the report lies in, or the city while it is not placed.
    pub jurisdiction: String,
    /// The squad it is routed or dispatched to, and the officer.
    pub squad: Option<String>,
    pub officer: Option<String>,
    pub duplicate_of: Option<i64>,
    pub reporter: Reporter,
    /// Open311 attribute code → its values.
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    pub media_url: Option<String>,
    pub submitted_at: i64,
    pub updated_at: i64,
    /// When the running step's time limit ends.
    pub step_due: Option<i64>,
    /// 督办: pushed because a step ran over its limit.
    pub escalated: bool,
    pub reworks: i64,
    pub closed_at: Option<i64>,
    /// The enforcement case this report was escalated into.
    pub case_ref: Option<String>,
    pub ledger_seq: i64,
}

impl ReportRecord {
    /// Links this new report to the earlier report `of`: it is closed as its duplicate at once.
    pub fn mark_duplicate_of(&mut self, of: i64) {
        self.state = ReportState::Duplicate;
        self.duplicate_of = Some(of);
        self.step_due = None;
        self.closed_at = Some(self.submitted_at);
    }

    /// What the record's entry holds: everything but the reporter's details, which are replaced by their
    /// digest so the append-only record never carries a phone number.
    pub fn entry_payload(&self, algorithm: gridward_ledger::HashAlgorithm) -> serde_json::Value {
        let mut payload = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = payload.as_object_mut() {
            map.remove("ledger_seq");
            map.remove("token");
            let reporter = serde_json::to_vec(&self.reporter).unwrap_or_default();
            map.insert("reporter".into(), serde_json::Value::String(algorithm.digest(&reporter).to_hex()));
        }
        payload
    }
}

/// One step taken on a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportUpdate {
    pub id: i64,
    pub report_id: i64,
    pub action: String,
    /// The state after the step.
    pub state: ReportState,
    /// The note for staff.
    pub note: String,
    /// What the reporter and Open311 clients read.
    pub public_note: String,
    pub actor: String,
    pub at: i64,
    pub ledger_seq: i64,
}

impl ReportUpdate {
    /// A step about to be written; the store numbers it and names its entry.
    pub fn new(
        report_id: i64,
        action: &str,
        state: ReportState,
        note: String,
        public_note: String,
        actor: &str,
        at: i64,
    ) -> ReportUpdate {
        ReportUpdate {
            id: 0,
            report_id,
            action: action.to_string(),
            state,
            note,
            public_note,
            actor: actor.to_string(),
            at,
            ledger_seq: 0,
        }
    }
}

/// Where to look for reports of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct NearArea {
    pub service_code: String,
    /// `[west, south, east, north]`, WGS-84 degrees.
    pub bbox: [f64; 4],
}

/// Where and when a stored report was made: what duplicate detection compares.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyReport {
    pub id: i64,
    pub service_code: String,
    pub lon: f64,
    pub lat: f64,
    pub submitted_at: i64,
}

/// Where to look for open reports that `reports` may repeat, and from when.
pub fn duplicate_search(reports: &[ReportRecord], rule: DuplicateRule) -> (Vec<NearArea>, i64) {
    let areas = reports
        .iter()
        .filter_map(|r| Some(NearArea { service_code: r.service_code.clone(), bbox: rule.search_box(r.lon?, r.lat?) }))
        .collect();
    let earliest = reports.iter().map(|r| r.submitted_at).min().unwrap_or(0);
    (areas, earliest - rule.window_s)
}

/// Makes each report in `reports` (numbered, in the order they arrived) that repeats an open report a
/// duplicate of it: of one of `nearby`, or of an earlier report in `reports` that is itself no duplicate.
/// So reports of one problem that arrive together are linked to one original.
pub fn link_duplicates(reports: &mut [ReportRecord], nearby: &[NearbyReport], rule: DuplicateRule) {
    let mut originals: Vec<Sighting<'_>> = nearby
        .iter()
        .map(|r| Sighting { id: r.id, service_code: &r.service_code, lon: r.lon, lat: r.lat, at: r.submitted_at })
        .collect();
    let mut found = Vec::with_capacity(reports.len());
    for r in reports.iter() {
        let Some((lon, lat)) = r.lon.zip(r.lat) else {
            found.push(None);
            continue;
        };
        let me = Sighting { id: r.id, service_code: &r.service_code, lon, lat, at: r.submitted_at };
        let of = find_duplicate(&me, &originals, rule);
        if of.is_none() {
            originals.push(me);
        }
        found.push(of);
    }
    for (r, of) in reports.iter_mut().zip(found) {
        if let Some(of) = of {
            r.mark_duplicate_of(of);
        }
    }
}

/// Placed reports are filed by a cell of the WGS-84 graticule a thousandth of a degree on a side (about
/// 110 m north to south and 95 m east to west here), so a search near a point reads the few cells
/// around it and not a whole band of latitude. Migration 0007 fills the cell of older reports with the
/// same arithmetic.
const PLACE_CELLS_PER_DEGREE: f64 = 1000.0;
/// Cells in one row of the cell numbering: 360° of longitude, both ends included.
const PLACE_CELL_COLUMNS: i64 = 360_001;

fn place_cell_row(lat: f64) -> i64 {
    ((lat + 90.0) * PLACE_CELLS_PER_DEGREE).floor() as i64
}

fn place_cell_column(lon: f64) -> i64 {
    ((lon + 180.0) * PLACE_CELLS_PER_DEGREE).floor() as i64
}

/// The number of the cell a WGS-84 point lies in; numbers run along each row of latitude.
pub fn place_cell(lon: f64, lat: f64) -> i64 {
    place_cell_row(lat) * PLACE_CELL_COLUMNS + place_cell_column(lon)
}

/// The SQL of the search for open reports that `areas` may repeat (see [`ReportStore::submit_reports`]),
/// and the service code to bind for each of its terms, in order, then `from`. `placeholder(n)` writes parameter `n`. Each area becomes one range
/// of cell numbers per row of cells it touches, ranges of one service that meet are merged, and each
/// range is a seek on the index (service, cell, time); the time and the state are written so that no
/// other index can serve them, since an index on either would walk every report of the day. Cells hold
/// more than the areas: the caller measures distances.
pub fn open_reports_near_sql(areas: &[NearArea], placeholder: impl Fn(usize) -> String) -> (String, Vec<&str>) {
    let mut ranges: Vec<(&str, i64, i64)> = Vec::new();
    for area in areas {
        let [west, south, east, north] = area.bbox;
        let (first, last) = (place_cell_column(west), place_cell_column(east));
        for row in place_cell_row(south)..=place_cell_row(north) {
            ranges.push((&area.service_code, row * PLACE_CELL_COLUMNS + first, row * PLACE_CELL_COLUMNS + last));
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(&str, i64, i64)> = Vec::with_capacity(ranges.len());
    for (service, low, high) in ranges {
        match merged.last_mut() {
            Some(last) if last.0 == service && low <= last.2 + 1 => last.2 = last.2.max(high),
            _ => merged.push((service, low, high)),
        }
    }
    let open = ReportState::ALL.into_iter().filter(|s| s.is_open()).map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>();
    let terms = merged
        .iter()
        .enumerate()
        .map(|(i, (_, low, high))| format!("(service_code = {} AND place_cell BETWEEN {low} AND {high})", placeholder(1 + i)))
        .collect::<Vec<_>>();
    let sql = format!(
        "SELECT id, service_code, lon, lat, submitted_at FROM reports WHERE ({}) AND submitted_at + 0 >= {} AND state || '' IN ({}) LIMIT {}",
        terms.join(" OR "),
        placeholder(1 + merged.len()),
        open.join(","),
        1000 * areas.len()
    );
    (sql, merged.into_iter().map(|(service, _, _)| service).collect())
}

/// Which reports to read. Empty lists and `None` do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportQuery {
    /// A division-code prefix the jurisdiction must start with ("" for all).
    pub within: String,
    pub ids: Vec<i64>,
    pub states: Vec<ReportState>,
    pub service_codes: Vec<String>,
    /// Submitted at or after / before (Unix seconds).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Updated at or after.
    pub updated_from: Option<i64>,
    pub squad: Option<String>,
    pub officer: Option<String>,
    /// Only reports whose running step was due before this instant.
    pub due_before: Option<i64>,
    /// Only reports escalated (true) or not escalated (false).
    pub escalated: Option<bool>,
    pub newest_first: bool,
    pub limit: u32,
    pub offset: u32,
}

/// An Open311 client application's key; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open311Key {
    pub name: String,
    pub key_hash: String,
    pub contact: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A reward for a valid report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RewardRecord {
    pub report_id: i64,
    /// SHA-256 of the reporter's phone number.
    pub reporter_key: String,
    /// `YYYY-MM`, Beijing time.
    pub month: String,
    /// Yuan.
    pub amount: i64,
    /// `pending`, `approved`, `paid` or `refused`.
    pub state: String,
    pub decided_by: Option<String>,
    pub updated_at: i64,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Adds or revises services; returns how many changed (one entry each).
    async fn set_services(&self, services: &[Service], change: &Change) -> DbResult<usize>;
    async fn services(&self) -> DbResult<Vec<Service>>;

    /// Stores new reports in one transaction, numbering them after the highest stored number; each gets
    /// one entry and its first update. Under a duplicate rule, a report that repeats an open report, stored
    /// or earlier in `reports`, is stored as its duplicate (see [`link_duplicates`]); the search and the
    /// writes share the transaction. Returns the stored records in order.
    async fn submit_reports(
        &self,
        reports: &[ReportRecord],
        duplicates: Option<DuplicateRule>,
        change: &Change,
    ) -> DbResult<Vec<ReportRecord>>;
    async fn report(&self, id: i64) -> DbResult<Option<ReportRecord>>;
    async fn report_by_token(&self, token: &str) -> DbResult<Option<ReportRecord>>;
    async fn reports(&self, query: &ReportQuery) -> DbResult<Vec<ReportRecord>>;
    /// How many reports a query matches, ignoring its limit and offset.
    async fn count_reports(&self, query: &ReportQuery) -> DbResult<u64>;
    /// Replaces a report's row with `report` and adds `update`, under one entry, if the stored row is still
    /// the one numbered `expected_seq`; `None` when it changed meanwhile (nothing is written).
    async fn update_report(
        &self,
        report: &ReportRecord,
        expected_seq: i64,
        update: &ReportUpdate,
        change: &Change,
    ) -> DbResult<Option<ReportRecord>>;
    async fn report_updates(&self, report_id: i64) -> DbResult<Vec<ReportUpdate>>;
    /// The updates of many reports at once, in order.
    async fn updates_of_reports(&self, report_ids: &[i64]) -> DbResult<Vec<ReportUpdate>>;
    /// The photos attached to many reports at once.
    async fn photos_of_reports(&self, report_ids: &[i64]) -> DbResult<Vec<crate::EvidenceRecord>>;
    /// Updates made in [from, to), oldest first, at most `limit`.
    async fn updates_between(&self, from: i64, to: i64, limit: u32) -> DbResult<Vec<ReportUpdate>>;

    async fn add_open311_key(&self, key: &Open311Key, change: &Change) -> DbResult<()>;
    async fn open311_keys(&self) -> DbResult<Vec<Open311Key>>;
    async fn open311_key_by_hash(&self, key_hash: &str) -> DbResult<Option<Open311Key>>;
    /// Revokes a key; false when it does not exist or is already revoked.
    async fn revoke_open311_key(&self, name: &str, change: &Change) -> DbResult<bool>;

    async fn put_reward(&self, reward: &RewardRecord, change: &Change) -> DbResult<()>;
    async fn rewards(&self) -> DbResult<Vec<RewardRecord>>;
    async fn reward(&self, report_id: i64) -> DbResult<Option<RewardRecord>>;
    /// The total awarded (not refused) to a reporter in a month.
    async fn awarded_in_month(&self, reporter_key: &str, month: &str) -> DbResult<i64>;
}

/// The columns of `reports` in the order inserts list them.
pub const REPORT_COLUMNS: [&str; 29] = [
    "id",
    "token",
    "service_code",
    "channel",
    "client",
    "state",
    "cancel_reason",
    "severity",
    "description",
    "address",
    "lon",
    "lat",
    "grid_code",
    "jurisdiction",
    "squad",
    "officer",
    "duplicate_of",
    "reporter",
    "attributes",
    "media_url",
    "submitted_at",
    "updated_at",
    "step_due",
    "escalated",
    "reworks",
    "closed_at",
    "case_ref",
    "ledger_seq",
    "place_cell",
];

/// Reports per INSERT statement (29 parameters each).
pub const REPORTS_PER_INSERT: usize = 16;

/// The WHERE clause of a query and its binds, numbered from `$1`.
pub fn report_filter(q: &ReportQuery) -> (String, Vec<FilterValue>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    fn push(clauses: &mut Vec<String>, clause: &str, value: FilterValue, binds: &mut Vec<FilterValue>) {
        binds.push(value);
        clauses.push(clause.replace('?', &format!("${}", binds.len())));
    }
    if !q.within.is_empty() {
        push(
            &mut clauses,
            "jurisdiction LIKE ?",
            FilterValue::Text(format!("{}%", q.within.replace(['%', '_'], ""))),
            &mut binds,
        );
    }
    if !q.ids.is_empty() {
        let list = q.ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        clauses.push(format!("id IN ({list})"));
    }
    if !q.states.is_empty() {
        let list = q.states.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
        clauses.push(format!("state IN ({list})"));
    }
    if !q.service_codes.is_empty() {
        let mut parts = Vec::new();
        for code in &q.service_codes {
            binds.push(FilterValue::Text(code.clone()));
            parts.push(format!("${}", binds.len()));
        }
        clauses.push(format!("service_code IN ({})", parts.join(",")));
    }
    if let Some(from) = q.from {
        push(&mut clauses, "submitted_at >= ?", FilterValue::Int(from), &mut binds);
    }
    if let Some(to) = q.to {
        push(&mut clauses, "submitted_at < ?", FilterValue::Int(to), &mut binds);
    }
    if let Some(from) = q.updated_from {
        push(&mut clauses, "updated_at >= ?", FilterValue::Int(from), &mut binds);
    }
    if let Some(squad) = &q.squad {
        push(&mut clauses, "squad = ?", FilterValue::Text(squad.clone()), &mut binds);
    }
    if let Some(officer) = &q.officer {
        push(&mut clauses, "officer = ?", FilterValue::Text(officer.clone()), &mut binds);
    }
    if let Some(due) = q.due_before {
        push(&mut clauses, "step_due < ?", FilterValue::Int(due), &mut binds);
    }
    if let Some(escalated) = q.escalated {
        // A literal, so the column's type (INTEGER on SQLite, BOOLEAN on PostgreSQL) decides the comparison.
        clauses.push(format!("escalated = {}", if escalated { "TRUE" } else { "FALSE" }));
    }
    let clause = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    (clause, binds)
}

/// A value bound into a report filter.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Int(i64),
}

/// Decodes the text forms stored for a report's enums.
pub mod decode {
    use super::*;
    use crate::DbError;

    fn corrupt(what: &str, value: &str) -> DbError {
        DbError::Corrupt(format!("{what} {value:?}"))
    }
    pub fn state(s: &str) -> DbResult<ReportState> {
        ReportState::parse(s).ok_or_else(|| corrupt("report state", s))
    }
    pub fn channel(s: &str) -> DbResult<Channel> {
        Channel::parse(s).ok_or_else(|| corrupt("channel", s))
    }
    pub fn severity(s: &str) -> DbResult<Severity> {
        Severity::parse(s).ok_or_else(|| corrupt("severity", s))
    }
    pub fn cancel_reason(s: Option<String>) -> DbResult<Option<CancelReason>> {
        s.map(|s| CancelReason::parse(&s).ok_or_else(|| corrupt("cancel reason", &s))).transpose()
    }
    pub fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> DbResult<T> {
        serde_json::from_str(s).map_err(|_| corrupt(what, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: i64, service: &str, lon: f64, lat: f64, at: i64) -> ReportRecord {
        ReportRecord {
            id,
            token: format!("{id:032x}"),
            service_code: service.into(),
            channel: Channel::Web,
            client: None,
            state: ReportState::Submitted,
            cancel_reason: None,
            severity: Severity::Minor,
            description: String::new(),
            address: String::new(),
            lon: Some(lon),
            lat: Some(lat),
            grid_code: None,
            jurisdiction: "320613007001".into(),
            squad: None,
            officer: None,
            duplicate_of: None,
            reporter: Reporter::default(),
            attributes: Default::default(),
            media_url: None,
            submitted_at: at,
            updated_at: at,
            step_due: Some(at + 3600),
            escalated: false,
            reworks: 0,
            closed_at: None,
            case_ref: None,
            ledger_seq: 0,
        }
    }

    #[test]
    fn cells_number_rows_of_latitude() {
        // 32.0005° N, 120.8505° E: row 122000, column 300850.
        assert_eq!(place_cell(120.8505, 32.0005), 122_000 * 360_001 + 300_850);
        // East and north of it are the next column and the next row.
        assert_eq!(place_cell(120.8515, 32.0005), place_cell(120.8505, 32.0005) + 1);
        assert_eq!(place_cell(120.8505, 32.0015), place_cell(120.8505, 32.0005) + PLACE_CELL_COLUMNS);
    }

    #[test]
    fn the_search_reads_one_range_per_row_and_merges_what_meets() {
        let areas = [
            NearArea { service_code: "0101".into(), bbox: [120.8502, 32.0004, 120.8512, 32.0014] },
            // Touches the first area's cells: merged into its ranges.
            NearArea { service_code: "0101".into(), bbox: [120.8511, 32.0004, 120.8521, 32.0008] },
            NearArea { service_code: "0201".into(), bbox: [120.8502, 32.0004, 120.8503, 32.0005] },
        ];
        let (sql, services) = open_reports_near_sql(&areas, |n| format!("${n}"));
        let (row, next) = (122_000_i64 * 360_001, 122_001_i64 * 360_001);
        assert_eq!(services, ["0101", "0101", "0201"]);
        assert!(
            sql.contains(&format!("(service_code = $1 AND place_cell BETWEEN {} AND {})", row + 300_850, row + 300_852)),
            "{sql}"
        );
        assert!(
            sql.contains(&format!("(service_code = $2 AND place_cell BETWEEN {} AND {})", next + 300_850, next + 300_851)),
            "{sql}"
        );
        assert!(
            sql.contains(&format!("(service_code = $3 AND place_cell BETWEEN {} AND {})", row + 300_850, row + 300_850)),
            "{sql}"
        );
        assert!(sql.contains("submitted_at + 0 >= $4"), "{sql}");
    }

    #[test]
    fn a_batch_links_to_stored_originals_and_to_its_own_first_report() {
        let rule = DuplicateRule::default();
        let stored = NearbyReport { id: 7, service_code: "0101".into(), lon: 120.85, lat: 32.0, submitted_at: 1000 };
        let mut batch = vec![
            report(10, "0101", 120.85001, 32.0, 2000),  // 1 m from report 7
            report(11, "0201", 120.86, 32.01, 2000),    // another problem
            report(12, "0201", 120.86002, 32.01, 2001), // 2 m from report 11, in the same batch
            report(13, "0201", 120.87, 32.01, 2001),    // ~950 m away
            // After report 7's window; report 10 is a duplicate, so this one starts anew.
            report(14, "0101", 120.85, 32.0, 1000 + rule.window_s + 1),
        ];
        let (areas, from) = duplicate_search(&batch, rule);
        assert_eq!((areas.len(), from), (5, 2000 - rule.window_s));
        link_duplicates(&mut batch, std::slice::from_ref(&stored), rule);
        let links: Vec<_> = batch.iter().map(|r| r.duplicate_of).collect();
        assert_eq!(links, [Some(7), None, Some(11), None, None]);
        let linked = &batch[0];
        assert_eq!((linked.state, linked.step_due, linked.closed_at), (ReportState::Duplicate, None, Some(2000)));
        assert_eq!(batch[1].state, ReportState::Submitted);
    }
}
