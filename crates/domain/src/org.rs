//! Organisation: enforcement bodies (执法主体), their domains, and staff with their credentials (执法证).

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::access::{Role, parse_roles};
use crate::division::{DivisionCode, Level};
use crate::problem::{Problem, Problems};

string_enum! {
    /// An enforcement domain (执法领域) a body covers and an officer is qualified for.
    EnforcementDomain {
        UrbanManagement = "urban_management", "城市管理";
        MarketSupervision = "market_supervision", "市场监管";
        EcologyEnvironment = "ecology_environment", "生态环境";
        UrbanRuralConstruction = "urban_rural_construction", "城乡建设";
        WaterResources = "water_resources", "水利";
        CultureTourism = "culture_tourism", "文化旅游";
        Transport = "transport", "交通运输";
        AgricultureRural = "agriculture_rural", "农业农村";
        EmergencyManagement = "emergency_management", "应急管理";
        NaturalResources = "natural_resources", "自然资源";
        HealthCare = "health_care", "卫生健康";
    }
}

string_enum! {
    /// What kind of body it is, which fixes the division level it may sit at.
    BodyKind {
        Bureau = "bureau", "综合行政执法局";
        Brigade = "brigade", "执法大队";
        Company = "company", "执法中队";
        StreetSquad = "street_squad", "街道综合执法队";
    }
}

impl BodyKind {
    /// The division levels a body of this kind may be attached to.
    pub fn allowed_levels(self) -> &'static [Level] {
        match self {
            BodyKind::Bureau => &[Level::City, Level::District],
            BodyKind::Brigade => &[Level::City, Level::District],
            BodyKind::Company => &[Level::District, Level::Street],
            BodyKind::StreetSquad => &[Level::Street],
        }
    }
}

/// Parses a `;`-separated list of domains.
pub fn parse_domains(s: &str) -> Result<Vec<EnforcementDomain>, String> {
    let mut out = Vec::new();
    for part in s.split([';', ',', '|']).map(str::trim).filter(|p| !p.is_empty()) {
        let d = EnforcementDomain::parse(part).ok_or_else(|| format!("{part:?} is not an enforcement domain"))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out.sort();
    Ok(out)
}

pub fn format_domains(domains: &[EnforcementDomain]) -> String {
    domains.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(";")
}

/// An enforcement body (执法主体 / 执法机构), identified by a stable code such as `nt.cc.zhongxiu`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub code: String,
    pub name: String,
    pub kind: BodyKind,
    pub division_code: DivisionCode,
    pub parent_code: Option<String>,
    pub domains: Vec<EnforcementDomain>,
}

/// An enforcement credential (执法证): number, validity, and the domains it qualifies for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub number: String,
    pub valid_from: Date,
    pub valid_to: Date,
    pub domains: Vec<EnforcementDomain>,
}

impl Credential {
    pub fn is_valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && day <= self.valid_to
    }

    /// Where the credential stands on `day`: renewals are flagged [`CREDENTIAL_WARNING_DAYS`] ahead.
    pub fn standing(&self, day: Date) -> Standing {
        if day < self.valid_from || day > self.valid_to {
            Standing::Lapsed
        } else if (self.valid_to - day).get_days() <= CREDENTIAL_WARNING_DAYS {
            Standing::DueSoon
        } else {
            Standing::Good
        }
    }

    /// The number as shown to anyone but an administrator: first three and last two characters.
    pub fn masked_number(&self) -> String {
        mask_middle(&self.number, 3, 2)
    }
}

/// How long before a credential runs out it is flagged for renewal (a quarter: enough time for the
/// training and examination a renewal takes).
pub const CREDENTIAL_WARNING_DAYS: i32 = 90;

/// Where something with a deadline stands; the UI colours these the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Good,
    DueSoon,
    /// Past its end, or not yet started.
    Lapsed,
}

/// Replaces all but `keep_start` leading and `keep_end` trailing characters with `*`.
pub fn mask_middle(s: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    chars.iter().enumerate().map(|(i, c)| if i < keep_start || i >= chars.len() - keep_end { *c } else { '*' }).collect()
}

/// A member of staff (执法人员 or 协管员).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub staff_no: String,
    pub name: String,
    pub body_code: String,
    pub roles: Vec<Role>,
    pub credential: Option<Credential>,
    /// 协管 / 辅助人员: never takes a decision and holds no credential.
    pub auxiliary: bool,
    pub active: bool,
}

/// A body row as read from CSV (`code,name,kind,division_code,parent_code,domains`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyRow {
    pub line: usize,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub division_code: String,
    pub parent_code: String,
    pub domains: String,
}

/// What validation needs to know about what is already stored.
pub trait OrgLookup {
    fn division_level(&self, code: &DivisionCode) -> Option<Level>;
    /// Every stored body's division and parent, by body code.
    fn stored_bodies(&self) -> &HashMap<String, BodyLink>;
}

/// Where a stored body sits: its division and its parent body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLink {
    pub division: DivisionCode,
    pub parent: Option<String>,
}

pub(crate) fn valid_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Checks a body import as a whole: every body sits on an existing division of a level its kind allows,
/// inside its parent's territory, with at least one domain, and no code appears twice.
pub fn validate_body_rows(rows: &[BodyRow], stored: &dyn OrgLookup) -> Result<Vec<Body>, Problems> {
    let mut problems = Problems::default();
    let mut bodies = Vec::new();
    let mut seen = HashSet::new();
    for row in rows {
        let line = row.line;
        let code = row.code.trim();
        if !valid_key(code) {
            problems.push(Problem::at(line, "code", "bad_code", "a body code has 1 to 64 letters, digits, '.', '_' or '-'"));
        } else if !seen.insert(code.to_string()) {
            problems.push(Problem::at(line, "code", "duplicate_code", format!("body {code} appears twice")));
        }
        let name = row.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            problems.push(Problem::at(line, "name", "bad_name", "a name has 1 to 100 characters"));
        }
        let kind = BodyKind::parse(row.kind.trim());
        if kind.is_none() {
            problems.push(Problem::at(line, "kind", "bad_kind", format!("{:?} is not a body kind", row.kind)));
        }
        let division = match DivisionCode::parse(row.division_code.trim()) {
            Ok(d) => match stored.division_level(&d) {
                Some(level) => Some((d, level)),
                None => {
                    problems.push(Problem::at(line, "division_code", "unknown_division", format!("division {d} is not stored")));
                    None
                }
            },
            Err(e) => {
                problems.push(Problem::at(line, "division_code", "bad_code", e.to_string()));
                None
            }
        };
        if let (Some(kind), Some((_, level))) = (kind, &division)
            && !kind.allowed_levels().contains(level)
        {
            problems.push(Problem::at(line, "kind", "level_mismatch", format!("a {kind} cannot sit at a {level}")));
        }
        let domains = match parse_domains(&row.domains) {
            Ok(d) if d.is_empty() => {
                problems.push(Problem::at(line, "domains", "bad_domain", "a body covers at least one domain"));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(Problem::at(line, "domains", "bad_domain", e));
                None
            }
        };
        let parent = row.parent_code.trim();
        if let (Some(kind), Some((division, _)), Some(domains)) = (kind, division, domains) {
            bodies.push((
                line,
                Body {
                    code: code.to_string(),
                    name: name.to_string(),
                    kind,
                    division_code: division,
                    parent_code: (!parent.is_empty()).then(|| parent.to_string()),
                    domains,
                },
            ));
        }
    }
    // The organisation as it will be once the file is written: stored links overridden by the file's.
    let mut links: HashMap<&str, (DivisionCode, Option<&str>)> =
        stored.stored_bodies().iter().map(|(code, l)| (code.as_str(), (l.division.clone(), l.parent.as_deref()))).collect();
    for (_, b) in &bodies {
        links.insert(b.code.as_str(), (b.division_code.clone(), b.parent_code.as_deref()));
    }
    for (line, body) in &bodies {
        if let Some(parent) = &body.parent_code {
            match links.get(parent.as_str()) {
                None => problems.push(Problem::at(
                    *line,
                    "parent_code",
                    "missing_parent",
                    format!("parent body {parent} is neither in the file nor stored"),
                )),
                Some((pd, _)) if !pd.covers(&body.division_code) => problems.push(Problem::at(
                    *line,
                    "parent_code",
                    "bad_parent",
                    format!("division {} lies outside the parent's division {pd}", body.division_code),
                )),
                Some(_) => {}
            }
            if leads_back_to(&links, &body.code) {
                problems.push(Problem::at(
                    *line,
                    "parent_code",
                    "parent_cycle",
                    format!("body {} would be its own ancestor", body.code),
                ));
            }
        }
        // A stored body that stays below this one must still lie inside its (possibly new) division.
        for (child, (division, parent)) in &links {
            if *parent == Some(body.code.as_str()) && !body.division_code.covers(division) {
                problems.push(Problem::at(
                    *line,
                    "division_code",
                    "orphaned_child",
                    format!("body {child} below {} lies in {division}, outside {}", body.code, body.division_code),
                ));
            }
        }
    }
    problems.into_result(bodies.into_iter().map(|(_, b)| b).collect())
}

/// Whether following parent links up from `start` comes back to `start`.
fn leads_back_to(links: &HashMap<&str, (DivisionCode, Option<&str>)>, start: &str) -> bool {
    let mut seen = HashSet::new();
    let mut next = links.get(start).and_then(|(_, p)| *p);
    while let Some(code) = next {
        if code == start {
            return true;
        }
        if !seen.insert(code) {
            return false;
        }
        next = links.get(code).and_then(|(_, p)| *p);
    }
    false
}

/// A staff row as read from CSV
/// (`staff_no,name,body_code,roles,credential_no,credential_valid_from,credential_valid_to,qualification_domains,auxiliary,active`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffRow {
    pub line: usize,
    pub staff_no: String,
    pub name: String,
    pub body_code: String,
    pub roles: String,
    pub credential_no: String,
    pub credential_valid_from: String,
    pub credential_valid_to: String,
    pub qualification_domains: String,
    pub auxiliary: String,
    pub active: String,
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" | "" => Some(false),
        _ => None,
    }
}

/// Checks a staff import: the body exists, auxiliaries take no deciding role and hold no credential,
/// every officer holds a credential with an ordered validity, and neither staff numbers nor credential
/// numbers repeat.
pub fn validate_staff_rows(
    rows: &[StaffRow],
    body_exists: &dyn Fn(&str) -> bool,
    credential_taken: &dyn Fn(&str, &str) -> bool,
) -> Result<Vec<Staff>, Problems> {
    let mut problems = Problems::default();
    let mut staff = Vec::new();
    let mut numbers = HashSet::new();
    let mut credentials = HashSet::new();
    for row in rows {
        let line = row.line;
        let before = problems.len();
        let staff_no = row.staff_no.trim();
        if !valid_key(staff_no) {
            problems.push(Problem::at(
                line,
                "staff_no",
                "bad_code",
                "a staff number has 1 to 64 letters, digits, '.', '_' or '-'",
            ));
        } else if !numbers.insert(staff_no.to_string()) {
            problems.push(Problem::at(line, "staff_no", "duplicate_code", format!("staff number {staff_no} appears twice")));
        }
        let name = row.name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            problems.push(Problem::at(line, "name", "bad_name", "a name has 1 to 50 characters"));
        }
        let body_code = row.body_code.trim();
        if !body_exists(body_code) {
            problems.push(Problem::at(line, "body_code", "unknown_body", format!("body {body_code:?} is not stored")));
        }
        let roles = parse_roles(&row.roles).unwrap_or_else(|e| {
            problems.push(Problem::at(line, "roles", "bad_role", e));
            Vec::new()
        });
        let auxiliary = parse_bool(&row.auxiliary).unwrap_or_else(|| {
            problems.push(Problem::at(line, "auxiliary", "bad_flag", "use true or false"));
            false
        });
        let active = parse_bool(if row.active.trim().is_empty() { "true" } else { &row.active }).unwrap_or_else(|| {
            problems.push(Problem::at(line, "active", "bad_flag", "use true or false"));
            true
        });
        if auxiliary && roles.iter().any(|r| r.decides()) {
            problems.push(Problem::at(line, "roles", "auxiliary_decides", "auxiliary staff never take a deciding role"));
        }
        if roles.contains(&Role::Auxiliary) && !auxiliary {
            problems.push(Problem::at(line, "auxiliary", "auxiliary_flag", "staff in the auxiliary role are auxiliary staff"));
        }
        let number = row.credential_no.trim();
        let credential = if number.is_empty() {
            if roles.contains(&Role::Officer) {
                problems.push(Problem::at(
                    line,
                    "credential_no",
                    "missing_credential",
                    "an officer needs an enforcement credential",
                ));
            }
            None
        } else if auxiliary {
            problems.push(Problem::at(
                line,
                "credential_no",
                "auxiliary_credential",
                "auxiliary staff hold no enforcement credential",
            ));
            None
        } else {
            if number.chars().count() > 32 {
                problems.push(Problem::at(
                    line,
                    "credential_no",
                    "bad_credential",
                    "a credential number has at most 32 characters",
                ));
            }
            if !credentials.insert(number.to_string()) || credential_taken(number, staff_no) {
                problems.push(Problem::at(
                    line,
                    "credential_no",
                    "duplicate_credential",
                    format!("credential {number} is already held"),
                ));
            }
            let from = row.credential_valid_from.trim().parse::<Date>();
            let to = row.credential_valid_to.trim().parse::<Date>();
            let domains = parse_domains(&row.qualification_domains);
            if from.is_err() {
                problems.push(Problem::at(line, "credential_valid_from", "bad_date", "a date like 2024-01-01"));
            }
            if to.is_err() {
                problems.push(Problem::at(line, "credential_valid_to", "bad_date", "a date like 2029-12-31"));
            }
            if let Err(e) = &domains {
                problems.push(Problem::at(line, "qualification_domains", "bad_domain", e.clone()));
            }
            match (from, to, domains) {
                (Ok(f), Ok(t), Ok(_)) if t < f => {
                    problems.push(Problem::at(
                        line,
                        "credential_valid_to",
                        "bad_validity",
                        "the credential expires before it starts",
                    ));
                    None
                }
                (Ok(valid_from), Ok(valid_to), Ok(domains)) => {
                    Some(Credential { number: number.to_string(), valid_from, valid_to, domains })
                }
                _ => None,
            }
        };
        if problems.len() == before {
            staff.push(Staff {
                staff_no: staff_no.to_string(),
                name: name.to_string(),
                body_code: body_code.to_string(),
                roles,
                credential,
                auxiliary,
                active,
            });
        }
    }
    problems.into_result(staff)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stored(HashMap<String, BodyLink>);
    impl OrgLookup for Stored {
        fn division_level(&self, code: &DivisionCode) -> Option<Level> {
            match code.as_str() {
                "320600000000" => Some(Level::City),
                "320613000000" => Some(Level::District),
                "320613007000" | "320613008000" => Some(Level::Street),
                _ => None,
            }
        }
        fn stored_bodies(&self) -> &HashMap<String, BodyLink> {
            &self.0
        }
    }

    /// The city bureau `nt`, and below it a squad in 钟秀街道 hanging from the district bureau `nt.cc`.
    fn stored() -> Stored {
        let link = |division: &str, parent: Option<&str>| BodyLink {
            division: DivisionCode::parse(division).unwrap(),
            parent: parent.map(String::from),
        };
        Stored(HashMap::from([
            ("nt".to_string(), link("320600000000", None)),
            ("nt.cc".to_string(), link("320613000000", Some("nt"))),
            ("nt.cc.zx".to_string(), link("320613007000", Some("nt.cc"))),
        ]))
    }

    fn body(line: usize, code: &str, kind: &str, division: &str, parent: &str) -> BodyRow {
        BodyRow {
            line,
            code: code.into(),
            name: format!("{code} 名称"),
            kind: kind.into(),
            division_code: division.into(),
            parent_code: parent.into(),
            domains: "urban_management;market_supervision".into(),
        }
    }

    #[test]
    fn bodies_chain_to_parents_in_file_or_store() {
        let rows = vec![
            body(2, "nt.cc", "bureau", "320613000000", "nt"),
            body(3, "nt.cc.zhongxiu", "street_squad", "320613007000", "nt.cc"),
        ];
        let bodies = validate_body_rows(&rows, &stored()).unwrap();
        assert_eq!(bodies[1].parent_code.as_deref(), Some("nt.cc"));
        assert_eq!(bodies[0].domains, vec![EnforcementDomain::UrbanManagement, EnforcementDomain::MarketSupervision]);
    }

    #[test]
    fn bad_bodies_are_all_reported() {
        let mut bad_domain = body(6, "d", "bureau", "320613000000", "");
        bad_domain.domains = "astrology".into();
        let rows = vec![
            body(2, "a", "street_squad", "320613000000", ""),
            body(3, "b", "bureau", "320699000000", ""),
            body(4, "c", "street_squad", "320613007000", "missing"),
            body(5, "e", "street_squad", "320613008000", "f"),
            bad_domain,
            body(7, "f", "street_squad", "320613007000", ""),
        ];
        let problems = validate_body_rows(&rows, &stored()).unwrap_err();
        let found: Vec<_> = problems.0.iter().map(|p| (p.line.unwrap(), p.code)).collect();
        for expected in
            [(2, "level_mismatch"), (3, "unknown_division"), (4, "missing_parent"), (5, "bad_parent"), (6, "bad_domain")]
        {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
    }

    #[test]
    fn cycles_and_stranded_children_are_refused() {
        // nt.cc moves below a body that hangs from nt.cc itself.
        let rows = vec![body(2, "nt.a", "bureau", "320613000000", "nt.cc"), body(3, "nt.cc", "bureau", "320613000000", "nt.a")];
        let problems = validate_body_rows(&rows, &stored()).unwrap_err();
        assert!(problems.0.iter().any(|p| p.code == "parent_cycle"), "{problems}");
        // nt.cc moves to 通州区, leaving its stored squad in 崇川区 outside it.
        let rows = vec![body(2, "nt.cc", "bureau", "320612000000", "nt")];
        let mut s = stored();
        s.0.insert("tz".into(), BodyLink { division: DivisionCode::parse("320612000000").unwrap(), parent: None });
        struct WithTongzhou(Stored);
        impl OrgLookup for WithTongzhou {
            fn division_level(&self, code: &DivisionCode) -> Option<Level> {
                if code.as_str() == "320612000000" { Some(Level::District) } else { self.0.division_level(code) }
            }
            fn stored_bodies(&self) -> &HashMap<String, BodyLink> {
                self.0.stored_bodies()
            }
        }
        let problems = validate_body_rows(&rows, &WithTongzhou(s)).unwrap_err();
        assert_eq!(problems.0.iter().map(|p| p.code).collect::<Vec<_>>(), ["orphaned_child"]);
    }

    fn staff(line: usize, no: &str, roles: &str, credential: &str, auxiliary: &str) -> StaffRow {
        StaffRow {
            line,
            staff_no: no.into(),
            name: "张三".into(),
            body_code: "nt".into(),
            roles: roles.into(),
            credential_no: credential.into(),
            credential_valid_from: "2024-01-01".into(),
            credential_valid_to: "2028-12-31".into(),
            qualification_domains: "urban_management".into(),
            auxiliary: auxiliary.into(),
            active: "".into(),
        }
    }

    #[test]
    fn staff_rules_hold() {
        let none_taken = |_: &str, _: &str| false;
        let ok = validate_staff_rows(
            &[staff(2, "s1", "officer", "32060001", "false"), staff(3, "s2", "auxiliary", "", "true")],
            &|b| b == "nt",
            &none_taken,
        )
        .unwrap();
        assert!(ok[0].credential.as_ref().unwrap().is_valid_on("2025-06-01".parse().unwrap()));
        assert!(ok[1].auxiliary && ok[1].active);
        let credential = ok[0].credential.as_ref().unwrap();
        assert_eq!(credential.masked_number(), "320***01");
        assert_eq!(credential.standing("2025-06-01".parse().unwrap()), Standing::Good);
        assert_eq!(credential.standing("2028-10-31".parse().unwrap()), Standing::DueSoon);
        assert_eq!(credential.standing("2028-12-31".parse().unwrap()), Standing::DueSoon);
        assert_eq!(credential.standing("2029-01-01".parse().unwrap()), Standing::Lapsed);
        assert_eq!(credential.standing("2023-12-31".parse().unwrap()), Standing::Lapsed);

        let problems = validate_staff_rows(
            &[
                staff(2, "s1", "officer", "", "false"),
                staff(3, "s2", "officer", "X1", "true"),
                staff(4, "s3", "officer", "X2", "false"),
                staff(5, "s3", "officer", "X2", "false"),
                staff(6, "s6", "king", "", "maybe"),
                staff(7, "s7", "auxiliary", "", "false"),
            ],
            &|b| b == "nt",
            &none_taken,
        )
        .unwrap_err();
        let found: Vec<_> = problems.0.iter().map(|p| (p.line.unwrap(), p.code)).collect();
        for expected in [
            (2, "missing_credential"),
            (3, "auxiliary_decides"),
            (3, "auxiliary_credential"),
            (5, "duplicate_code"),
            (5, "duplicate_credential"),
            (6, "bad_role"),
            (6, "bad_flag"),
            (7, "auxiliary_flag"),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
    }
}
