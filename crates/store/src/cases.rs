//! Stored enforcement cases: a summary row per case for lists and dashboards, the steps the case is the
//! fold of, and the numbered documents issued on them.

use async_trait::async_trait;
use gridward_domain::Date;
use gridward_domain::case::{CaseSource, Procedure, Stage};
use gridward_domain::party::PartyKind;
use serde::Serialize;

use crate::reports::FilterValue;
use crate::{Change, DbResult};

/// A case's summary row: what lists filter and sort on. The case itself is replayed from its steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRecord {
    pub id: i64,
    /// 案号, given by the store when the case is proposed: `{prefix}〔{year}〕{n}号`, numbered per body and year.
    pub number: String,
    pub body_code: String,
    /// The division the body acts for; who may see the case follows from it.
    pub jurisdiction: String,
    pub procedure: Procedure,
    pub stage: Stage,
    pub source: CaseSource,
    pub source_ref: String,
    pub power_code: String,
    pub party_kind: PartyKind,
    pub party_name: String,
    /// Staff numbers of whoever proposed or investigates the case.
    pub officers: Vec<String>,
    pub fine_yuan: i64,
    /// The earliest deadline not yet met, and which one it is.
    pub next_due: Option<Date>,
    pub next_due_code: Option<String>,
    pub proposed_on: Date,
    pub decided_on: Option<Date>,
    pub closed_on: Option<Date>,
    /// Signs of a crime were recorded: the procuratorate watches the case.
    pub crime_indicator: bool,
    /// Where a transfer to the police stands (`proposed`, `approved`, `transferred`, `accepted`, …).
    pub transfer_state: Option<String>,
    pub updated_at: i64,
    pub ledger_seq: i64,
}

/// A step as stored: the domain step as JSON, so the case replays from exactly what was judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseStepRecord {
    pub id: i64,
    pub case_id: i64,
    pub step: String,
    pub body: serde_json::Value,
    pub actor: String,
    pub at: i64,
    pub ledger_seq: i64,
}

/// Written in a document issued with a case's opening where the case's number belongs; the store puts the
/// number in before taking the digest.
pub const CASE_NUMBER_PLACEHOLDER: &str = "{{case_number}}";

/// Replaces the placeholder in every string of `content`.
pub fn fill_case_number(content: &mut serde_json::Value, number: &str) {
    replace_in_strings(content, &[(CASE_NUMBER_PLACEHOLDER, number)]);
}

/// Replaces each `(from, to)` in every string of `value`, however deep.
pub fn replace_in_strings(value: &mut serde_json::Value, pairs: &[(&str, &str)]) {
    match value {
        serde_json::Value::String(s) => {
            for (from, to) in pairs {
                if s.contains(from) {
                    *s = s.replace(from, to);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| replace_in_strings(v, pairs)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| replace_in_strings(v, pairs)),
        _ => {}
    }
}

/// A document to issue with a step; the store numbers it and takes its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    pub kind: String,
    /// The body's document prefix, such as `崇综执罚决字`.
    pub prefix: String,
    pub year: i16,
    pub content: serde_json::Value,
}

/// A document as issued.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseDocument {
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    pub body_code: String,
    pub year: i16,
    pub seq: i32,
    pub number: String,
    pub content: serde_json::Value,
    /// The ledger's hash of `{"number", "content"}`; the same digest is in the step's entry.
    pub digest: String,
    pub issued_at: i64,
    pub ledger_seq: i64,
}

impl CaseDocument {
    /// The bytes a document's digest is taken over.
    pub fn digest_input(number: &str, content: &serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "number": number, "content": content })).unwrap_or_default()
    }
}

/// How a case number and a document number are written.
pub fn numbered(prefix: &str, year: i16, seq: i64) -> String {
    format!("{prefix}〔{year}〕{seq}号")
}

/// Which cases to read. Empty lists and `None` do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseQuery {
    /// Division-code prefixes: a case is listed when its jurisdiction starts with one of them.
    pub within: Vec<String>,
    pub stages: Vec<Stage>,
    pub body_code: Option<String>,
    /// A staff number among the case's officers.
    pub officer: Option<String>,
    /// Only cases the procuratorate watches: transferred, or with signs of a crime (以罚代刑).
    pub watched: bool,
    /// Only cases whose next deadline falls on or before this day.
    pub due_by: Option<Date>,
    pub ids: Vec<i64>,
    pub limit: u32,
}

/// The WHERE clause of a case query and its binds, numbered from `$1`.
pub fn case_filter(q: &CaseQuery) -> (String, Vec<FilterValue>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    if !q.within.is_empty() {
        let mut parts = Vec::new();
        for prefix in &q.within {
            binds.push(FilterValue::Text(format!("{}%", prefix.replace(['%', '_'], ""))));
            parts.push(format!("jurisdiction LIKE ${}", binds.len()));
        }
        clauses.push(format!("({})", parts.join(" OR ")));
    }
    if !q.stages.is_empty() {
        let list = q.stages.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
        clauses.push(format!("stage IN ({list})"));
    }
    if !q.ids.is_empty() {
        let list = q.ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        clauses.push(format!("id IN ({list})"));
    }
    if let Some(body) = &q.body_code {
        binds.push(FilterValue::Text(body.clone()));
        clauses.push(format!("body_code = ${}", binds.len()));
    }
    if let Some(officer) = &q.officer {
        // Staff numbers are stored as a JSON list of strings: match the quoted number.
        binds.push(FilterValue::Text(format!("%\"{}\"%", officer.replace(['%', '_', '"'], ""))));
        clauses.push(format!("officers LIKE ${}", binds.len()));
    }
    if q.watched {
        // A literal, so the column's type (INTEGER on SQLite, BOOLEAN on PostgreSQL) decides the comparison.
        clauses.push("(crime_indicator = TRUE OR transfer_state IS NOT NULL)".to_string());
    }
    if let Some(due) = q.due_by {
        binds.push(FilterValue::Text(due.to_string()));
        clauses.push(format!("next_due <= ${}", binds.len()));
    }
    let clause = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    (clause, binds)
}

/// The columns of `cases` in the order writes list them.
pub const CASE_COLUMNS: [&str; 22] = [
    "id",
    "number",
    "body_code",
    "jurisdiction",
    "procedure",
    "stage",
    "source",
    "source_ref",
    "power_code",
    "party_kind",
    "party_name",
    "officers",
    "fine_yuan",
    "next_due",
    "next_due_code",
    "proposed_on",
    "decided_on",
    "closed_on",
    "crime_indicator",
    "transfer_state",
    "updated_at",
    "ledger_seq",
];

/// What a step's ledger entry holds: the case's summary without the party's name, the step with every
/// party replaced by its digest (so the append-only record never carries an ID number or a phone), the
/// digest of the full step as stored, and each document's number and digest.
pub fn step_entry_payload(
    algorithm: gridward_ledger::HashAlgorithm,
    case: &CaseRecord,
    step: &serde_json::Value,
    documents: &[CaseDocument],
) -> serde_json::Value {
    let full = serde_json::to_vec(step).unwrap_or_default();
    let mut redacted = step.clone();
    redact_parties(&mut redacted, algorithm);
    serde_json::json!({
        "case": {
            "number": case.number,
            "body": case.body_code,
            "procedure": case.procedure,
            "stage": case.stage,
            "power": case.power_code,
        },
        "step": redacted,
        "step_digest": algorithm.digest(&full).to_hex(),
        "documents": documents.iter().map(|d| serde_json::json!({"kind": d.kind, "number": d.number, "digest": d.digest})).collect::<Vec<_>>(),
    })
}

fn redact_parties(value: &mut serde_json::Value, algorithm: gridward_ledger::HashAlgorithm) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "party" {
                    let bytes = serde_json::to_vec(v).unwrap_or_default();
                    *v = serde_json::json!({ "digest": algorithm.digest(&bytes).to_hex() });
                } else {
                    redact_parties(v, algorithm);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_parties(v, algorithm)),
        _ => {}
    }
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Stores a new case with its first step and documents under one entry. The case's id follows the
    /// highest stored one and its number the body's count for the year (`prefix` writes it).
    async fn open_case(
        &self,
        case: &CaseRecord,
        prefix: &str,
        step: &CaseStepRecord,
        documents: &[NewDocument],
        change: &Change,
    ) -> DbResult<(CaseRecord, Vec<CaseDocument>)>;
    /// Replaces the case's row and adds a step and its documents under one entry, if the stored row is
    /// still the one numbered `expected_seq`; `None` when it changed meanwhile (nothing is written).
    async fn add_case_step(
        &self,
        case: &CaseRecord,
        expected_seq: i64,
        step: &CaseStepRecord,
        documents: &[NewDocument],
        change: &Change,
    ) -> DbResult<Option<(CaseRecord, Vec<CaseDocument>)>>;
    async fn case(&self, id: i64) -> DbResult<Option<CaseRecord>>;
    async fn cases(&self, query: &CaseQuery) -> DbResult<Vec<CaseRecord>>;
    async fn case_steps(&self, case_id: i64) -> DbResult<Vec<CaseStepRecord>>;
    async fn case_documents(&self, case_id: i64) -> DbResult<Vec<CaseDocument>>;
    /// Adds the working-day arrangement of whole years: one entry per year, each row naming it.
    /// `days` are `(YYYY-MM-DD, kind, festival)`.
    async fn add_calendar_days(&self, days: &[(String, String, String)], change: &Change) -> DbResult<()>;
    /// Every imported day, oldest first.
    async fn calendar_days(&self) -> DbResult<Vec<(String, String, String)>>;
    /// Publications (`kind = 'publication'`) not followed by a withdrawal of the same case, newest first.
    async fn published_documents(&self, limit: u32) -> DbResult<Vec<CaseDocument>>;
}
