//! Staffing quotas (编制): established posts per body and kind, and the rule that moving duties moves posts
//! without growing the city's total (财政供养人员总量不增加).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::problem::{Problem, Problems};

string_enum! {
    /// A kind of quota: civil-service posts, public-institution posts, and the cap on auxiliary staff.
    QuotaKind {
        Administrative = "administrative", "行政编制";
        PublicInstitution = "public_institution", "事业编制";
        AuxiliaryCap = "auxiliary_cap", "辅助人员控制数";
    }
}

/// The posts of one kind a body holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub body_code: String,
    pub kind: QuotaKind,
    pub posts: u32,
}

/// A change of one body's posts of one kind; a transfer is a pair of changes that sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaChange {
    pub body_code: String,
    pub kind: QuotaKind,
    pub delta: i64,
}

impl QuotaChange {
    /// Moving `posts` of `kind` from one body to another.
    pub fn transfer(from: &str, to: &str, kind: QuotaKind, posts: u32) -> [QuotaChange; 2] {
        [
            QuotaChange { body_code: from.into(), kind, delta: -i64::from(posts) },
            QuotaChange { body_code: to.into(), kind, delta: i64::from(posts) },
        ]
    }
}

/// Posts by (body, kind).
pub type QuotaTable = BTreeMap<(String, QuotaKind), u32>;

pub fn quota_table(quotas: &[Quota]) -> QuotaTable {
    quotas.iter().map(|q| ((q.body_code.clone(), q.kind), q.posts)).collect()
}

/// The city's total of one kind.
pub fn total(table: &QuotaTable, kind: QuotaKind) -> u64 {
    table.iter().filter(|((_, k), _)| *k == kind).map(|(_, posts)| u64::from(*posts)).sum()
}

/// One kind's total before and after a set of changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaTotal {
    pub kind: QuotaKind,
    pub before: u64,
    pub after: u64,
}

/// What a set of quota changes does: the table after, each kind's totals, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaEffect {
    /// The whole table after the changes (keyed by pairs, so not serialized; `lines` shows what moved).
    #[serde(skip)]
    pub after: QuotaTable,
    /// Each (body, kind) the changes touch, before and after.
    pub lines: Vec<QuotaLine>,
    pub totals: Vec<QuotaTotal>,
    pub problems: Problems,
}

/// One body's posts of one kind before and after a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaLine {
    pub body_code: String,
    pub kind: QuotaKind,
    pub before: u32,
    pub after: u32,
}

/// Applies changes to a table. Refused: a body or kind unknown to `body_exists`, a body left with fewer
/// than zero posts, and any kind whose city total would grow, with the numbers.
pub fn apply_changes(table: &QuotaTable, changes: &[QuotaChange], body_exists: &dyn Fn(&str) -> bool) -> QuotaEffect {
    let mut problems = Problems::default();
    let mut signed: BTreeMap<(String, QuotaKind), i64> = table.iter().map(|(k, v)| (k.clone(), i64::from(*v))).collect();
    for (i, change) in changes.iter().enumerate() {
        if !body_exists(&change.body_code) {
            problems.push(Problem::at(i + 1, "body_code", "unknown_body", format!("body {:?} is not stored", change.body_code)));
            continue;
        }
        *signed.entry((change.body_code.clone(), change.kind)).or_default() += change.delta;
    }
    let mut after = QuotaTable::new();
    for ((body, kind), posts) in signed {
        match u32::try_from(posts) {
            Ok(p) => {
                after.insert((body, kind), p);
            }
            Err(_) => problems.push(Problem::file("quota_negative", format!("{body} would hold {posts} {} posts", kind.zh()))),
        }
    }
    let totals: Vec<QuotaTotal> =
        QuotaKind::ALL.iter().map(|&kind| QuotaTotal { kind, before: total(table, kind), after: total(&after, kind) }).collect();
    for t in &totals {
        if t.after > t.before {
            problems.push(Problem::file(
                "quota_total_grows",
                format!(
                    "the city's {} would grow from {} to {}; posts move with duties, the total does not grow",
                    t.kind.zh(),
                    t.before,
                    t.after
                ),
            ));
        }
    }
    let mut lines: Vec<QuotaLine> = Vec::new();
    for c in changes {
        let key = (c.body_code.clone(), c.kind);
        if lines.iter().any(|l| l.body_code == c.body_code && l.kind == c.kind) {
            continue;
        }
        if let Some(&after_posts) = after.get(&key) {
            lines.push(QuotaLine {
                body_code: c.body_code.clone(),
                kind: c.kind,
                before: table.get(&key).copied().unwrap_or(0),
                after: after_posts,
            });
        }
    }
    QuotaEffect { after, lines, totals, problems }
}

/// A body's posts against the people it has, for the flags on the staffing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staffing {
    pub body_code: String,
    pub administrative: u32,
    pub public_institution: u32,
    pub auxiliary_cap: u32,
    /// Active staff who are not auxiliaries.
    pub established: u32,
    pub auxiliaries: u32,
}

impl Staffing {
    /// Auxiliary staff outnumber the established staff, or exceed the body's cap.
    pub fn auxiliary_flags(&self) -> Vec<&'static str> {
        let mut flags = Vec::new();
        if self.auxiliaries > self.established {
            flags.push("auxiliaries_exceed_established");
        }
        if self.auxiliaries > self.auxiliary_cap {
            flags.push("auxiliaries_exceed_cap");
        }
        flags
    }

    /// Established staff beyond the body's posts.
    pub fn over_quota(&self) -> bool {
        self.established > self.administrative + self.public_institution
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> QuotaTable {
        quota_table(&[
            Quota { body_code: "bureau".into(), kind: QuotaKind::Administrative, posts: 30 },
            Quota { body_code: "squad".into(), kind: QuotaKind::Administrative, posts: 5 },
        ])
    }

    #[test]
    fn a_transfer_keeps_the_total() {
        let changes = QuotaChange::transfer("bureau", "squad", QuotaKind::Administrative, 4);
        let effect = apply_changes(&table(), &changes, &|_| true);
        assert!(effect.problems.is_empty(), "{}", effect.problems);
        assert_eq!(effect.after[&("squad".to_string(), QuotaKind::Administrative)], 9);
        assert_eq!(effect.totals[0], QuotaTotal { kind: QuotaKind::Administrative, before: 35, after: 35 });
    }

    #[test]
    fn growth_and_overdraft_are_refused_with_numbers() {
        let grow = [QuotaChange { body_code: "squad".into(), kind: QuotaKind::Administrative, delta: 3 }];
        let effect = apply_changes(&table(), &grow, &|_| true);
        assert_eq!(effect.problems.0[0].code, "quota_total_grows");
        assert!(effect.problems.0[0].message.contains("35 to 38"), "{}", effect.problems);
        let overdraw = QuotaChange::transfer("squad", "bureau", QuotaKind::Administrative, 6);
        let effect = apply_changes(&table(), &overdraw, &|_| true);
        assert_eq!(effect.problems.0[0].code, "quota_negative");
        let unknown = QuotaChange::transfer("squad", "nobody", QuotaKind::Administrative, 1);
        let effect = apply_changes(&table(), &unknown, &|b| b != "nobody");
        assert_eq!(effect.problems.0[0].code, "unknown_body");
    }

    #[test]
    fn auxiliaries_are_flagged() {
        let s = Staffing {
            body_code: "squad".into(),
            administrative: 2,
            public_institution: 1,
            auxiliary_cap: 2,
            established: 2,
            auxiliaries: 3,
        };
        assert_eq!(s.auxiliary_flags(), vec!["auxiliaries_exceed_established", "auxiliaries_exceed_cap"]);
        assert!(!s.over_quota());
    }
}
