//! Administrative divisions (行政区划): GB/T 2260 codes extended with the statistical street and community
//! digits, their levels, their validity in time, and the rules an import must satisfy.

use std::collections::HashMap;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::problem::{Problem, Problems};

/// Province-level prefixes of GB/T 2260 (the first two digits of every valid code).
pub const PROVINCE_PREFIXES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46",
    "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
];

/// The level of a division. A district here also covers counties and county-level cities (区/县/县级市).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    City,
    District,
    Street,
    Community,
}

impl Level {
    pub const ALL: [Level; 5] = [Level::Province, Level::City, Level::District, Level::Street, Level::Community];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level a parent of this level must have.
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::Province => None,
            Level::City => Some(Level::Province),
            Level::District => Some(Level::City),
            Level::Street => Some(Level::District),
            Level::Community => Some(Level::Street),
        }
    }

    /// The level of this level's children.
    pub fn child(self) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.parent() == Some(self))
    }

    /// How many leading digits of the code identify a division of this level.
    fn significant_digits(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::District => 6,
            Level::Street => 9,
            Level::Community => 12,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 12-digit division code whose first two digits are a GB/T 2260 province.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

/// Why a string is not a division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a division code has exactly 12 digits")]
    Shape,
    #[error("the first two digits {0} are not a GB/T 2260 province")]
    Province(String),
}

impl DivisionCode {
    pub fn parse(s: &str) -> Result<DivisionCode, CodeError> {
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Shape);
        }
        if !PROVINCE_PREFIXES.contains(&&s[..2]) {
            return Err(CodeError::Province(s[..2].to_string()));
        }
        Ok(DivisionCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level implied by the code's zero padding: `320613000000` is a district, `320613007000` a street.
    pub fn implied_level(&self) -> Level {
        let s = &self.0;
        if &s[2..] == "0000000000" {
            Level::Province
        } else if &s[4..] == "00000000" {
            Level::City
        } else if &s[6..] == "000000" {
            Level::District
        } else if &s[9..] == "000" {
            Level::Street
        } else {
            Level::Community
        }
    }

    /// The leading digits every descendant shares; territory checks compare prefixes, not trees.
    pub fn territory_prefix(&self) -> &str {
        &self.0[..self.implied_level().significant_digits()]
    }

    /// This code's ancestor (or itself) at `level`, e.g. the district `320613000000` of `320613007001`.
    /// `None` when `level` is below this code's own level.
    pub fn ancestor_at(&self, level: Level) -> Option<DivisionCode> {
        let digits = level.significant_digits();
        (level <= self.implied_level()).then(|| DivisionCode(format!("{:0<12}", &self.0[..digits])))
    }

    /// Whether `other` is this division or lies inside it.
    pub fn covers(&self, other: &DivisionCode) -> bool {
        other.0.starts_with(self.territory_prefix())
    }

    /// The province a code belongs to, e.g. `320000000000` for every Jiangsu code.
    pub fn province(&self) -> DivisionCode {
        DivisionCode(format!("{}0000000000", &self.0[..2]))
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(c: DivisionCode) -> String {
        c.0
    }
}

/// One administrative division, valid over `[valid_from, valid_to)` (open ends mean "always").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Division {
    pub code: DivisionCode,
    pub name: String,
    pub level: Level,
    /// `None` only for a province, or for a division whose parent is outside the platform (a city's province).
    pub parent_code: Option<DivisionCode>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

impl Division {
    /// Whether the division exists on `day`.
    pub fn is_valid_on(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| day < to)
    }
}

/// A division row as it comes from a file, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DivisionRow {
    /// The file line the row came from (header = 1).
    pub line: usize,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: String,
    pub valid_from: String,
    pub valid_to: String,
}

/// Checks every row of a division import against itself and the divisions already stored, and returns the
/// divisions to write, or every problem. `existing` tells the level of a stored division code.
///
/// A city's parent may be its province even when the province is not stored: the platform runs one city,
/// and a province is fully described by its GB/T 2260 prefix.
pub fn validate_division_rows(
    rows: &[DivisionRow],
    existing: &dyn Fn(&DivisionCode) -> Option<Level>,
) -> Result<Vec<Division>, Problems> {
    let mut problems = Problems::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut parsed: Vec<(usize, Division)> = Vec::with_capacity(rows.len());

    for row in rows {
        let line = row.line;
        // Duplicates are found on the trimmed code, the same text that would be stored.
        if let Some(first) = seen.insert(row.code.trim().to_string(), line) {
            problems.push(Problem::at(
                line,
                "code",
                "duplicate_code",
                format!("code {} already appears on line {first}", row.code.trim()),
            ));
            continue;
        }
        let code = match DivisionCode::parse(row.code.trim()) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(Problem::at(line, "code", "bad_code", format!("{:?}: {e}", row.code)));
                None
            }
        };
        let name = row.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            problems.push(Problem::at(line, "name", "bad_name", "a name has 1 to 100 characters"));
        }
        let level = Level::parse(row.level.trim());
        if level.is_none() {
            problems.push(Problem::at(
                line,
                "level",
                "bad_level",
                format!("{:?} is not one of province, city, district, street, community", row.level),
            ));
        }
        // `Some(None)`: no parent given; `None`: a parent that is not a code (reported, row skipped later).
        let parent = if row.parent_code.trim().is_empty() {
            Some(None)
        } else {
            match DivisionCode::parse(row.parent_code.trim()) {
                Ok(c) => Some(Some(c)),
                Err(e) => {
                    problems.push(Problem::at(line, "parent_code", "bad_code", format!("{:?}: {e}", row.parent_code)));
                    None
                }
            }
        };
        let valid_from = parse_date(line, "valid_from", &row.valid_from, &mut problems);
        let valid_to = parse_date(line, "valid_to", &row.valid_to, &mut problems);
        if let (Some(Some(from)), Some(Some(to))) = (valid_from, valid_to)
            && to <= from
        {
            problems.push(Problem::at(line, "valid_to", "bad_validity", "valid_to must come after valid_from"));
        }
        let (Some(code), Some(level), Some(parent), Some(valid_from), Some(valid_to)) =
            (code, level, parent, valid_from, valid_to)
        else {
            continue;
        };
        if code.implied_level() != level {
            problems.push(Problem::at(
                line,
                "level",
                "level_mismatch",
                format!("code {code} is a {} code, not a {level}", code.implied_level()),
            ));
            continue;
        }
        match (&parent, level.parent()) {
            (None, Some(_)) => {
                problems.push(Problem::at(line, "parent_code", "missing_parent", format!("a {level} needs a parent")));
                continue;
            }
            (Some(_), None) => {
                problems.push(Problem::at(line, "parent_code", "bad_parent", "a province has no parent"));
                continue;
            }
            (Some(p), Some(_)) if !p.covers(&code) || p == &code => {
                problems.push(Problem::at(
                    line,
                    "parent_code",
                    "bad_parent",
                    format!("code {code} does not lie inside its parent {p}"),
                ));
                continue;
            }
            _ => {}
        }
        parsed.push((line, Division { code, name: name.to_string(), level, parent_code: parent, valid_from, valid_to }));
    }

    let in_file: HashMap<&DivisionCode, Level> = parsed.iter().map(|(_, d)| (&d.code, d.level)).collect();
    for (line, d) in &parsed {
        let Some(parent) = &d.parent_code else { continue };
        let parent_level = in_file.get(parent).copied().or_else(|| existing(parent));
        let wanted = d.level.parent().expect("non-province levels have a parent level");
        match parent_level {
            Some(l) if l == wanted => {}
            Some(l) => problems.push(Problem::at(
                *line,
                "parent_code",
                "level_mismatch",
                format!("parent {parent} is a {l}; a {} needs a {wanted}", d.level),
            )),
            None if d.level == Level::City && parent == &d.code.province() => {}
            None => problems.push(Problem::at(
                *line,
                "parent_code",
                "missing_parent",
                format!("parent {parent} is neither in the file nor stored"),
            )),
        }
    }
    problems.into_result(parsed.into_iter().map(|(_, d)| d).collect())
}

/// `Some(None)` for an empty cell, `Some(Some(date))` for a valid date, `None` (and a problem) otherwise.
pub(crate) fn parse_date(line: usize, column: &str, cell: &str, problems: &mut Problems) -> Option<Option<Date>> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Some(None);
    }
    match cell.parse::<Date>() {
        Ok(d) => Some(Some(d)),
        Err(_) => {
            problems.push(Problem::at(line, column, "bad_date", format!("{cell:?} is not a date like 2020-07-22")));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    fn row(line: usize, code: &str, name: &str, level: &str, parent: &str) -> DivisionRow {
        DivisionRow {
            line,
            code: code.into(),
            name: name.into(),
            level: level.into(),
            parent_code: parent.into(),
            ..Default::default()
        }
    }

    #[test]
    fn codes_imply_levels_and_territory() {
        assert_eq!(code("320000000000").implied_level(), Level::Province);
        assert_eq!(code("320600000000").implied_level(), Level::City);
        assert_eq!(code("320613000000").implied_level(), Level::District);
        assert_eq!(code("320613007000").implied_level(), Level::Street);
        assert_eq!(code("320613007001").implied_level(), Level::Community);
        assert!(code("320613000000").covers(&code("320613007001")));
        assert!(code("320613007000").covers(&code("320613007000")));
        assert!(!code("320613007000").covers(&code("320613008000")));
        assert!(!code("320613000000").covers(&code("320612000000")));
        assert_eq!(code("320613007001").ancestor_at(Level::District), Some(code("320613000000")));
        assert_eq!(code("320613007001").ancestor_at(Level::Street), Some(code("320613007000")));
        assert_eq!(code("320613000000").ancestor_at(Level::Street), None);
        assert_eq!(Level::District.child(), Some(Level::Street));
        assert_eq!(Level::Community.child(), None);
    }

    #[test]
    fn bad_codes_are_refused_with_reasons() {
        assert_eq!(DivisionCode::parse("3206130000"), Err(CodeError::Shape));
        assert_eq!(DivisionCode::parse("32061300000x"), Err(CodeError::Shape));
        assert_eq!(DivisionCode::parse("990613000000"), Err(CodeError::Province("99".into())));
    }

    #[test]
    fn a_valid_tree_passes_and_a_city_may_hang_from_its_province() {
        let rows = vec![
            row(2, "320600000000", "南通市", "city", "320000000000"),
            row(3, "320613000000", "崇川区", "district", "320600000000"),
            row(4, "320613007000", "钟秀街道", "street", "320613000000"),
            row(5, "320613007001", "某社区", "community", "320613007000"),
        ];
        let divisions = validate_division_rows(&rows, &|_| None).unwrap();
        assert_eq!(divisions.len(), 4);
        assert_eq!(divisions[0].parent_code, Some(code("320000000000")));
    }

    #[test]
    fn every_bad_row_is_reported() {
        let rows = vec![
            row(2, "320600000000", "南通市", "city", "320000000000"),
            row(3, "32061300000", "坏代码", "district", "320600000000"),
            row(4, "320613007000", "钟秀街道", "street", "320614000000"),
            row(5, "320613008000", "文峰街道", "district", "320613000000"),
            row(6, "320600000000 ", "重复", "city", "320000000000"),
            row(7, "320612001000", "无父", "street", "320612000000"),
            row(8, "320612002000", "", "village", "320612000000"),
        ];
        let problems = validate_division_rows(&rows, &|_| None).unwrap_err();
        let lines: Vec<_> = problems.0.iter().map(|p| (p.line.unwrap(), p.code)).collect();
        assert!(lines.contains(&(3, "bad_code")), "{lines:?}");
        assert!(lines.contains(&(4, "bad_parent")), "{lines:?}");
        assert!(lines.contains(&(5, "level_mismatch")), "{lines:?}");
        assert!(lines.contains(&(6, "duplicate_code")), "{lines:?}");
        assert!(lines.contains(&(7, "missing_parent")), "{lines:?}");
        assert!(lines.contains(&(8, "bad_name")), "{lines:?}");
        assert!(lines.contains(&(8, "bad_level")), "{lines:?}");
    }

    #[test]
    fn stored_parents_count_and_validity_is_checked() {
        let mut r = row(2, "320613007000", "钟秀街道", "street", "320613000000");
        r.valid_from = "2020-07-22".into();
        r.valid_to = "2019-01-01".into();
        let stored = |c: &DivisionCode| (c.as_str() == "320613000000").then_some(Level::District);
        let problems = validate_division_rows(&[r.clone()], &stored).unwrap_err();
        assert_eq!(problems.0[0].code, "bad_validity");
        r.valid_to = "2030-01-01".into();
        let d = validate_division_rows(&[r], &stored).unwrap();
        assert!(d[0].is_valid_on("2025-01-01".parse().unwrap()));
        assert!(!d[0].is_valid_on("2019-01-01".parse().unwrap()));
    }
}
