//! Importers for divisions, boundaries, bodies and staff. Each reads the whole file, reports every bad row
//! (line, column, reason) and writes nothing unless the whole file is good.

use std::collections::HashMap;

use gridward_domain::division::{DivisionCode, DivisionRow, Level, validate_division_rows};
use gridward_domain::org::{BodyLink, BodyRow, OrgLookup, StaffRow, validate_body_rows, validate_staff_rows};
use gridward_domain::{Problem, Problems};
use gridward_store::{Actor, BoundaryRecord};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::{App, change};

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows: usize,
}

/// The file layouts the importers accept: required columns in order, then optional ones.
pub const DIVISION_COLUMNS: (&[&str], &[&str]) = (&["code", "name", "level", "parent_code"], &["valid_from", "valid_to"]);
pub const BODY_COLUMNS: (&[&str], &[&str]) = (&["code", "name", "kind", "division_code", "parent_code", "domains"], &[]);
pub const STAFF_COLUMNS: (&[&str], &[&str]) = (
    &[
        "staff_no",
        "name",
        "body_code",
        "roles",
        "credential_no",
        "credential_valid_from",
        "credential_valid_to",
        "qualification_domains",
        "auxiliary",
        "active",
    ],
    &[],
);

#[derive(Debug)]
/// One CSV record: its line and its cells by column name (absent optional columns read as empty).
struct Record {
    line: usize,
    cells: HashMap<String, String>,
}

impl Record {
    fn get(&self, column: &str) -> String {
        self.cells.get(column).cloned().unwrap_or_default()
    }
}

/// The well-formed records of a CSV file, and the problems of the malformed ones.
#[derive(Debug)]
struct CsvFile {
    records: Vec<Record>,
    problems: Problems,
}

impl CsvFile {
    /// Validates the well-formed rows and reports their problems together with the malformed rows', so
    /// one pass shows everything wrong with the file.
    fn validate<R, T>(
        self,
        to_row: impl Fn(Record) -> R,
        check: impl FnOnce(&[R]) -> Result<T, Problems>,
    ) -> Result<T, Problems> {
        let rows: Vec<R> = self.records.into_iter().map(to_row).collect();
        let mut problems = self.problems;
        match check(&rows) {
            Ok(value) => problems.into_result(value),
            Err(found) => {
                problems.0.extend(found.0);
                problems.0.sort_by_key(|p| p.line);
                Err(problems)
            }
        }
    }
}

/// Reads CSV text whose header must start with the required columns and may add the optional ones. A bad
/// header fails the file at once; bad rows are kept as problems beside the good rows.
fn read_csv(text: &str, (required, optional): (&[&str], &[&str])) -> Result<CsvFile, Problems> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let mut problems = Problems::default();
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => {
            return Err(Problems(vec![Problem::file("bad_csv", format!("the header cannot be read: {e}"))]));
        }
    };
    let starts_right = header.len() >= required.len() && header.iter().zip(required).all(|(h, r)| h == r);
    let extra_ok = header.iter().skip(required.len()).all(|h| optional.contains(&h.as_str()));
    if !starts_right || !extra_ok {
        let expected = required.join(",") + &optional.iter().map(|o| format!("[,{o}]")).collect::<String>();
        return Err(Problems(vec![Problem {
            line: Some(1),
            column: None,
            code: "bad_header",
            message: format!("the header is {:?}; expected {expected}", header.join(",")),
        }]));
    }
    let mut records = Vec::new();
    for result in reader.records() {
        match result {
            Ok(row) => {
                let line = row.position().map_or(0, |p| p.line() as usize);
                if row.len() != header.len() {
                    problems.push(Problem {
                        line: Some(line),
                        column: None,
                        code: "bad_row",
                        message: format!("{} fields where the header has {}", row.len(), header.len()),
                    });
                    continue;
                }
                let cells = header.iter().cloned().zip(row.iter().map(str::to_string)).collect();
                records.push(Record { line, cells });
            }
            Err(e) => problems.push(Problem {
                line: e.position().map(|p| p.line() as usize),
                column: None,
                code: "bad_csv",
                message: e.to_string(),
            }),
        }
    }
    if records.is_empty() && problems.is_empty() {
        return Err(Problems(vec![Problem::file("empty_file", "the file has a header but no rows")]));
    }
    Ok(CsvFile { records, problems })
}

/// What the importers need from the store to check references.
struct Stored {
    levels: HashMap<DivisionCode, Level>,
    bodies: HashMap<String, BodyLink>,
}

impl OrgLookup for Stored {
    fn division_level(&self, code: &DivisionCode) -> Option<Level> {
        self.levels.get(code).copied()
    }
    fn stored_bodies(&self) -> &HashMap<String, BodyLink> {
        &self.bodies
    }
}

impl App {
    /// Imports divisions from `code,name,level,parent_code[,valid_from][,valid_to]` CSV.
    pub async fn import_divisions(&self, text: &str, actor: &Actor) -> AppResult<ImportReport> {
        let levels = self.store.division_levels().await?;
        let divisions = read_csv(text, DIVISION_COLUMNS)?.validate(
            |r| DivisionRow {
                line: r.line,
                code: r.get("code"),
                name: r.get("name"),
                level: r.get("level"),
                parent_code: r.get("parent_code"),
                valid_from: r.get("valid_from"),
                valid_to: r.get("valid_to"),
            },
            |rows| validate_division_rows(rows, &|c| levels.get(c).copied()),
        )?;
        self.store.upsert_divisions(&divisions, &[], &change(actor)).await?;
        Ok(ImportReport { rows: divisions.len() })
    }

    /// Imports real (not synthetic) outlines from a GeoJSON FeatureCollection whose features carry `code`.
    /// Every code must be a stored division, and a `level` property, when given, must match it. Geometry
    /// problems and these checks are reported together, in feature order.
    pub async fn import_boundaries(&self, text: &str, source: &str, actor: &Actor) -> AppResult<ImportReport> {
        let geometry_problem = |p: gridward_grid::GeoProblem| (p.feature, feature_problem(p.feature, "bad_geometry", p.reason));
        let (features, geo_problems) = gridward_grid::read_boundaries(text)
            .map_err(|geo| AppError::Invalid(Problems(geo.into_iter().map(|p| geometry_problem(p).1).collect())))?;
        // Outlines without a `crs` member are taken as GCJ-02, as published Chinese boundary data are.
        let datum = gridward_grid::datum::geojson_datum(text)
            .map_err(|reason| AppError::Invalid(Problems(vec![feature_problem(None, "unsupported_crs", reason)])))?
            .unwrap_or(gridward_grid::Datum::Gcj02);
        let levels = self.store.division_levels().await?;
        let mut problems: Vec<(Option<usize>, Problem)> = geo_problems.into_iter().map(geometry_problem).collect();
        let mut records = Vec::new();
        for (i, f) in &features {
            let checked =
                DivisionCode::parse(&f.code).map_err(|e| ("bad_code", format!("{:?}: {e}", f.code))).and_then(
                    |code| match levels.get(&code) {
                        None => Err(("unknown_division", format!("division {code} is not stored"))),
                        Some(level) if !f.level.is_empty() && f.level != level.as_str() => {
                            Err(("level_mismatch", format!("division {code} is a {level}, the feature says {}", f.level)))
                        }
                        Some(_) => Ok(code),
                    },
                );
            match checked {
                Ok(code) => records.push(BoundaryRecord {
                    code,
                    geometry: gridward_grid::geometry_to_geojson(&f.geometry),
                    synthetic: false,
                    source: source.to_string(),
                    datum: datum.code().to_string(),
                }),
                Err((code, message)) => problems.push((Some(*i), feature_problem(Some(*i), code, message))),
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|(index, _)| *index);
            return Err(AppError::Invalid(Problems(problems.into_iter().map(|(_, p)| p).collect())));
        }
        self.store.upsert_divisions(&[], &records, &change(actor)).await?;
        self.refresh_places().await?;
        Ok(ImportReport { rows: records.len() })
    }

    /// Imports bodies from `code,name,kind,division_code,parent_code,domains` CSV.
    pub async fn import_bodies(&self, text: &str, actor: &Actor) -> AppResult<ImportReport> {
        let file = read_csv(text, BODY_COLUMNS)?;
        let stored = Stored { levels: self.store.division_levels().await?, bodies: self.store.body_links().await? };
        let bodies = file.validate(
            |r| BodyRow {
                line: r.line,
                code: r.get("code"),
                name: r.get("name"),
                kind: r.get("kind"),
                division_code: r.get("division_code"),
                parent_code: r.get("parent_code"),
                domains: r.get("domains"),
            },
            |rows| validate_body_rows(rows, &stored),
        )?;
        self.store.upsert_bodies(&bodies, &change(actor)).await?;
        Ok(ImportReport { rows: bodies.len() })
    }

    /// Imports bodies built in code (the demo) through the same checks as a file.
    pub(crate) async fn import_body_rows(&self, rows: &[BodyRow], actor: &Actor) -> AppResult<ImportReport> {
        let stored = Stored { levels: self.store.division_levels().await?, bodies: self.store.body_links().await? };
        let bodies = validate_body_rows(rows, &stored)?;
        self.store.upsert_bodies(&bodies, &change(actor)).await?;
        Ok(ImportReport { rows: bodies.len() })
    }

    /// Imports staff from CSV with the columns of [`STAFF_COLUMNS`].
    pub async fn import_staff(&self, text: &str, actor: &Actor) -> AppResult<ImportReport> {
        let file = read_csv(text, STAFF_COLUMNS)?;
        let check = self.staff_checker().await?;
        let staff = file.validate(
            |r| StaffRow {
                line: r.line,
                staff_no: r.get("staff_no"),
                name: r.get("name"),
                body_code: r.get("body_code"),
                roles: r.get("roles"),
                credential_no: r.get("credential_no"),
                credential_valid_from: r.get("credential_valid_from"),
                credential_valid_to: r.get("credential_valid_to"),
                qualification_domains: r.get("qualification_domains"),
                auxiliary: r.get("auxiliary"),
                active: r.get("active"),
            },
            |rows| check.validate(rows),
        )?;
        self.store.upsert_staff(&staff, &change(actor)).await?;
        Ok(ImportReport { rows: staff.len() })
    }

    /// Imports staff built in code (the demo) through the same checks as a file.
    pub(crate) async fn import_staff_rows(&self, rows: &[StaffRow], actor: &Actor) -> AppResult<ImportReport> {
        let staff = self.staff_checker().await?.validate(rows)?;
        self.store.upsert_staff(&staff, &change(actor)).await?;
        Ok(ImportReport { rows: staff.len() })
    }

    async fn staff_checker(&self) -> AppResult<StaffChecker> {
        Ok(StaffChecker { bodies: self.store.body_links().await?, holders: self.store.credential_holders().await? })
    }
}

/// What staff validation needs from the store: the bodies, and who holds which credential.
struct StaffChecker {
    bodies: HashMap<String, BodyLink>,
    holders: HashMap<String, String>,
}

impl StaffChecker {
    fn validate(&self, rows: &[StaffRow]) -> Result<Vec<gridward_domain::org::Staff>, Problems> {
        validate_staff_rows(rows, &|b| self.bodies.contains_key(b), &|number, staff_no| {
            self.holders.get(number).is_some_and(|holder| holder != staff_no)
        })
    }
}

fn feature_problem(feature: Option<usize>, code: &'static str, message: String) -> Problem {
    Problem { line: None, column: feature.map(|i| format!("features[{i}]")), code, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked_exactly() {
        assert_eq!(read_csv("code,name,level,parent_code\n1,2,3,4\n", DIVISION_COLUMNS).unwrap().records.len(), 1);
        assert!(read_csv("code,name,level,parent_code,valid_to\n1,2,3,4,\n", DIVISION_COLUMNS).unwrap().problems.is_empty());
        let e = read_csv("code,name,parent_code,level\n1,2,3,4\n", DIVISION_COLUMNS).unwrap_err();
        assert_eq!(e.0[0].code, "bad_header");
        let e = read_csv("code,name,level,parent_code,colour\n1,2,3,4,red\n", DIVISION_COLUMNS).unwrap_err();
        assert_eq!(e.0[0].code, "bad_header");
        let e = read_csv("code,name,level,parent_code\n", DIVISION_COLUMNS).unwrap_err();
        assert_eq!(e.0[0].code, "empty_file");
    }

    #[test]
    fn ragged_rows_are_reported_with_lines() {
        let file = read_csv("code,name,level,parent_code\n1,2,3,4\n1,2\n1,2,3,4,5\n", DIVISION_COLUMNS).unwrap();
        let lines: Vec<_> = file.problems.0.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(3), Some(4)]);
        assert_eq!(file.records.len(), 1, "the good row is still checked");
    }
}
