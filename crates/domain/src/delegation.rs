//! Delegation (下放 / 赋权): which body holds which power where and when, and the checks that keep every
//! power owned exactly once.
//!
//! An assignment gives one power to one body for a division subtree and a period. Assignments nest: one
//! for a street carves that street out of its district's, so a place's holder is the deepest assignment
//! covering it on that day. Two assignments of one power to the same territory on the same day are an
//! overlap (多头执法) and are refused; a place no assignment covers is a gap.

use std::collections::{HashMap, HashSet};

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::division::{DivisionCode, Level};
use crate::problem::{Problem, Problems};
use crate::staffing::{QuotaChange, QuotaEffect, QuotaTable, apply_changes};

/// One assignment of a power to a body for a territory over `[valid_from, valid_to]` (last day
/// included; open when `None`), under a legal instrument such as a provincial decision made under
/// 行政处罚法 Art. 24, with the date its evaluation is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub id: i64,
    pub power_code: String,
    pub body_code: String,
    pub territory: DivisionCode,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub instrument: String,
    pub evaluation_due: Option<Date>,
}

impl Assignment {
    pub fn is_valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }

    /// Same power, same territory, periods that share a day.
    pub fn overlaps(&self, other: &Assignment) -> bool {
        self.power_code == other.power_code
            && self.territory == other.territory
            && periods_meet(self.valid_from, self.valid_to, other.valid_from, other.valid_to)
    }
}

fn periods_meet(a_from: Date, a_to: Option<Date>, b_from: Date, b_to: Option<Date>) -> bool {
    a_to.is_none_or(|t| b_from <= t) && b_to.is_none_or(|t| a_from <= t)
}

/// The 12-digit code as a number, and its ancestors' codes as numbers (zero-padded), deepest first.
fn ancestor_keys(code: &DivisionCode) -> impl Iterator<Item = u64> {
    let n: u64 = code.as_str().parse().unwrap_or(0);
    let deepest = code.implied_level();
    [
        (Level::Community, 1),
        (Level::Street, 1_000),
        (Level::District, 1_000_000),
        (Level::City, 100_000_000),
        (Level::Province, 10_000_000_000),
    ]
    .into_iter()
    .filter(move |(level, _)| *level <= deepest)
    .map(move |(_, unit)| n / unit * unit)
}

fn key_of(code: &DivisionCode) -> u64 {
    code.as_str().parse().unwrap_or(0)
}

/// Assignments indexed for resolution: by power and territory, so resolving a place is one lookup per
/// level of its code.
#[derive(Debug, Default, Clone)]
pub struct DelegationIndex {
    assignments: Vec<Assignment>,
    powers: HashMap<String, u32>,
    slots: HashMap<(u32, u64), Vec<usize>>,
}

impl DelegationIndex {
    pub fn new(assignments: Vec<Assignment>) -> DelegationIndex {
        let mut index = DelegationIndex { assignments, ..DelegationIndex::default() };
        for (i, a) in index.assignments.iter().enumerate() {
            let next = index.powers.len() as u32;
            let p = *index.powers.entry(a.power_code.clone()).or_insert(next);
            index.slots.entry((p, key_of(&a.territory))).or_default().push(i);
        }
        index
    }

    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    /// The assignment holding `power` at `place` on `day`: the deepest valid one covering it. `None`
    /// means nobody holds the power there.
    pub fn resolve(&self, power: &str, place: &DivisionCode, day: Date) -> Option<&Assignment> {
        let p = *self.powers.get(power)?;
        ancestor_keys(place).find_map(|key| self.at(p, key, day))
    }

    /// The assignment of `power` exactly at `territory` valid on `day`.
    pub fn exactly_at(&self, power: &str, territory: &DivisionCode, day: Date) -> Option<&Assignment> {
        let p = *self.powers.get(power)?;
        self.at(p, key_of(territory), day)
    }

    fn at(&self, power: u32, key: u64, day: Date) -> Option<&Assignment> {
        let slot = self.slots.get(&(power, key))?;
        slot.iter().map(|&i| &self.assignments[i]).find(|a| a.is_valid_on(day))
    }

    /// Assignments of `power` at exactly `territory`, whatever their dates.
    pub fn all_at(&self, power: &str, territory: &DivisionCode) -> Vec<&Assignment> {
        let Some(&p) = self.powers.get(power) else { return Vec::new() };
        self.slots.get(&(p, key_of(territory))).map(|s| s.iter().map(|&i| &self.assignments[i]).collect()).unwrap_or_default()
    }

    /// Every pair of assignments that overlap.
    pub fn overlaps(&self) -> Vec<(&Assignment, &Assignment)> {
        let mut out = Vec::new();
        for slot in self.slots.values() {
            for (n, &i) in slot.iter().enumerate() {
                for &j in &slot[n + 1..] {
                    let (a, b) = (&self.assignments[i], &self.assignments[j]);
                    if a.overlaps(b) {
                        out.push(if a.id <= b.id { (a, b) } else { (b, a) });
                    }
                }
            }
        }
        out.sort_by_key(|(a, b)| (a.id, b.id));
        out
    }

    /// The assignments `candidate` would overlap.
    pub fn conflicts_with(&self, candidate: &Assignment) -> Vec<&Assignment> {
        self.all_at(&candidate.power_code, &candidate.territory)
            .into_iter()
            .filter(|a| a.id != candidate.id && a.overlaps(candidate))
            .collect()
    }

    /// Whether an assignment of `power` at exactly this territory is valid on `day`.
    fn held_at(&self, power: u32, key: u64, day: Date) -> bool {
        self.at(power, key, day).is_some()
    }

    /// The places where `power` has no holder on `day`, as the largest uncovered divisions: a district
    /// nobody covers is one gap, not one per community.
    pub fn gaps(&self, power: &str, tree: &DivisionTree, day: Date) -> Vec<DivisionCode> {
        let p = self.powers.get(power).copied();
        let mut out = Vec::new();
        for root in &tree.roots {
            if let Uncovered::Whole = self.walk(p, root, tree, day, &mut out) {
                out.push(root.clone());
            }
        }
        out
    }

    fn walk(
        &self,
        power: Option<u32>,
        node: &DivisionCode,
        tree: &DivisionTree,
        day: Date,
        out: &mut Vec<DivisionCode>,
    ) -> Uncovered {
        if power.is_some_and(|p| self.held_at(p, key_of(node), day)) {
            return Uncovered::Nothing;
        }
        let children = tree.children(node);
        if children.is_empty() {
            return Uncovered::Whole;
        }
        let mut whole = Vec::new();
        let mut partly = false;
        for child in children {
            match self.walk(power, child, tree, day, out) {
                Uncovered::Whole => whole.push(child.clone()),
                Uncovered::Part => partly = true,
                Uncovered::Nothing => {}
            }
        }
        if whole.len() == children.len() {
            return Uncovered::Whole;
        }
        if whole.is_empty() && !partly {
            return Uncovered::Nothing;
        }
        out.extend(whole);
        Uncovered::Part
    }
}

enum Uncovered {
    Nothing,
    Part,
    Whole,
}

/// The divisions in force, as a tree, for gap checks.
#[derive(Debug, Default, Clone)]
pub struct DivisionTree {
    pub roots: Vec<DivisionCode>,
    children: HashMap<DivisionCode, Vec<DivisionCode>>,
    known: HashSet<DivisionCode>,
}

impl DivisionTree {
    /// A tree from (code, parent) pairs; a division whose parent is not among them is a root.
    pub fn new(divisions: impl IntoIterator<Item = (DivisionCode, Option<DivisionCode>)>) -> DivisionTree {
        let pairs: Vec<_> = divisions.into_iter().collect();
        let known: HashSet<DivisionCode> = pairs.iter().map(|(c, _)| c.clone()).collect();
        let mut tree = DivisionTree::default();
        for (code, parent) in pairs {
            match parent.filter(|p| known.contains(p)) {
                Some(p) => tree.children.entry(p).or_default().push(code),
                None => tree.roots.push(code),
            }
        }
        for list in tree.children.values_mut() {
            list.sort();
        }
        tree.roots.sort();
        tree.known = known;
        tree
    }

    pub fn children(&self, code: &DivisionCode) -> &[DivisionCode] {
        self.children.get(code).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn contains(&self, code: &DivisionCode) -> bool {
        self.known.contains(code)
    }

    /// The divisions with no children: the places every power must reach.
    pub fn leaves(&self) -> Vec<&DivisionCode> {
        self.known.iter().filter(|c| self.children(c).is_empty()).collect()
    }
}

/// One step of a delegation plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PlanStep {
    /// Give `power` in `territory` to `body_code`, ending whoever held it at exactly that territory.
    Assign { power_code: String, body_code: String, territory: DivisionCode, evaluation_due: Option<Date> },
    /// End the assignment of `power` at exactly `territory`; the holder of the wider territory takes it back.
    Revoke { power_code: String, territory: DivisionCode },
}

impl PlanStep {
    pub fn power_code(&self) -> &str {
        match self {
            PlanStep::Assign { power_code, .. } | PlanStep::Revoke { power_code, .. } => power_code,
        }
    }
    pub fn territory(&self) -> &DivisionCode {
        match self {
            PlanStep::Assign { territory, .. } | PlanStep::Revoke { territory, .. } => territory,
        }
    }
}

/// A delegation plan (e.g. "move 143 powers in 9 categories from the district departments to 钟秀街道"):
/// reassignments and quota changes that take effect together on one day under one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub title: String,
    pub instrument: String,
    pub effective_from: Date,
    pub steps: Vec<PlanStep>,
    pub quota_changes: Vec<QuotaChange>,
}

/// A power changing hands in one territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub power_code: String,
    pub territory: DivisionCode,
    pub from_body: Option<String>,
    pub to_body: Option<String>,
}

/// A gap a plan opens or closes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gap {
    pub power_code: String,
    pub division: DivisionCode,
}

/// What a plan would do, computed before anything is written.
#[derive(Debug, Clone, Serialize)]
pub struct PlanEffect {
    /// Assignments ended, with their new last day.
    pub ended: Vec<(Assignment, Date)>,
    /// Assignments created (id 0 until stored).
    pub created: Vec<Assignment>,
    pub moves: Vec<Move>,
    pub overlaps_after: Vec<(Assignment, Assignment)>,
    pub gaps_opened: Vec<Gap>,
    pub gaps_closed: Vec<Gap>,
    pub quotas: QuotaEffect,
    /// Every reason the plan cannot be committed; empty when it can.
    pub problems: Problems,
}

/// What a plan is checked against.
pub struct PlanContext<'a> {
    pub index: &'a DelegationIndex,
    pub tree: &'a DivisionTree,
    /// Powers in force on the plan's day.
    pub powers: &'a HashSet<String>,
    /// Every body's division.
    pub bodies: &'a HashMap<String, DivisionCode>,
    pub quotas: &'a QuotaTable,
}

/// Works out what `plan` would change, and everything wrong with it. Steps are numbered from 1 in
/// problems (`line`), quota changes from 1 under the column `quota_changes`.
pub fn preview_plan(plan: &Plan, ctx: &PlanContext) -> PlanEffect {
    let day = plan.effective_from;
    let mut problems = Problems::default();
    let mut ended: Vec<(Assignment, Date)> = Vec::new();
    let mut created = Vec::new();
    let mut seen = HashSet::new();
    if plan.title.trim().is_empty() {
        problems.push(Problem::file("bad_title", "a plan has a title"));
    }
    if plan.instrument.trim().is_empty() {
        problems.push(Problem::file("missing_instrument", "a plan names the legal instrument it carries out"));
    }
    if plan.steps.is_empty() && plan.quota_changes.is_empty() {
        problems.push(Problem::file("empty_plan", "a plan has at least one step"));
    }
    for (i, step) in plan.steps.iter().enumerate() {
        let line = i + 1;
        let (power, territory) = (step.power_code(), step.territory());
        if !ctx.powers.contains(power) {
            problems.push(Problem::at(line, "power_code", "unknown_power", format!("power {power} is not in force on {day}")));
        }
        if !ctx.tree.contains(territory) {
            problems.push(Problem::at(line, "territory", "unknown_division", format!("division {territory} is not in force")));
        }
        if !seen.insert((power.to_string(), territory.clone())) {
            problems.push(Problem::at(line, "territory", "duplicate_step", format!("{power} in {territory} is changed twice")));
            continue;
        }
        for later in ctx.index.all_at(power, territory).into_iter().filter(|a| a.valid_from > day) {
            problems.push(Problem::at(
                line,
                "territory",
                "later_assignment",
                format!("assignment {} of {power} in {territory} starts later, on {}", later.id, later.valid_from),
            ));
        }
        let current = ctx.index.exactly_at(power, territory, day);
        if let Some(a) = current
            && a.valid_from == day
        {
            problems.push(Problem::at(
                line,
                "territory",
                "starts_same_day",
                format!("assignment {} starts on {day}; choose a later day to replace it", a.id),
            ));
        }
        match step {
            PlanStep::Assign { body_code, evaluation_due, .. } => {
                match ctx.bodies.get(body_code) {
                    None => {
                        problems.push(Problem::at(line, "body_code", "unknown_body", format!("body {body_code:?} is not stored")))
                    }
                    Some(seat) if !seat.covers(territory) => problems.push(Problem::at(
                        line,
                        "territory",
                        "outside_body",
                        format!("{territory} lies outside {body_code}'s division {seat}"),
                    )),
                    Some(_) => {}
                }
                if current.is_some_and(|a| &a.body_code == body_code) {
                    problems.push(Problem::at(
                        line,
                        "body_code",
                        "no_change",
                        format!("{body_code} already holds {power} in {territory}"),
                    ));
                }
                created.push(Assignment {
                    id: 0,
                    power_code: power.to_string(),
                    body_code: body_code.clone(),
                    territory: territory.clone(),
                    valid_from: day,
                    valid_to: None,
                    instrument: plan.instrument.trim().to_string(),
                    evaluation_due: *evaluation_due,
                });
            }
            PlanStep::Revoke { .. } => {
                if current.is_none() {
                    problems.push(Problem::at(
                        line,
                        "territory",
                        "nothing_to_revoke",
                        format!("nobody holds {power} at exactly {territory} on {day}"),
                    ));
                }
            }
        }
        if let Some(a) = current {
            ended.push((a.clone(), day.saturating_sub(1.day())));
        }
    }

    // The assignments as they would be, for the powers the plan touches.
    let touched: HashSet<&str> = plan.steps.iter().map(PlanStep::power_code).collect();
    let ended_ids: HashSet<i64> = ended.iter().map(|(a, _)| a.id).collect();
    let mut after: Vec<Assignment> = Vec::new();
    let mut before: Vec<Assignment> = Vec::new();
    for a in ctx.index.assignments().iter().filter(|a| touched.contains(a.power_code.as_str())) {
        before.push(a.clone());
        let mut kept = a.clone();
        if ended_ids.contains(&a.id) {
            kept.valid_to = Some(day.saturating_sub(1.day()));
        }
        after.push(kept);
    }
    let next_id = ctx.index.assignments().iter().map(|a| a.id).max().unwrap_or(0);
    after.extend(created.iter().enumerate().map(|(n, a)| Assignment { id: next_id + 1 + n as i64, ..a.clone() }));
    let before = DelegationIndex::new(before);
    let after = DelegationIndex::new(after);

    let moves = plan
        .steps
        .iter()
        .map(|s| Move {
            power_code: s.power_code().to_string(),
            territory: s.territory().clone(),
            from_body: before.resolve(s.power_code(), s.territory(), day).map(|a| a.body_code.clone()),
            to_body: after.resolve(s.power_code(), s.territory(), day).map(|a| a.body_code.clone()),
        })
        .collect();
    let overlaps_after: Vec<(Assignment, Assignment)> =
        after.overlaps().into_iter().map(|(a, b)| (a.clone(), b.clone())).collect();
    for (a, b) in &overlaps_after {
        problems.push(Problem::file(
            "assignment_overlap",
            format!("{} in {} would be held by both {} and {}", a.power_code, a.territory, a.body_code, b.body_code),
        ));
    }
    let mut gaps_opened = Vec::new();
    let mut gaps_closed = Vec::new();
    let mut powers: Vec<&str> = touched.into_iter().collect();
    powers.sort();
    for power in powers {
        let was: HashSet<DivisionCode> = before.gaps(power, ctx.tree, day).into_iter().collect();
        let will: HashSet<DivisionCode> = after.gaps(power, ctx.tree, day).into_iter().collect();
        let gap = |division: &DivisionCode| Gap { power_code: power.to_string(), division: division.clone() };
        gaps_opened.extend(will.difference(&was).map(gap));
        gaps_closed.extend(was.difference(&will).map(gap));
    }
    gaps_opened.sort_by(|a, b| (&a.power_code, &a.division).cmp(&(&b.power_code, &b.division)));
    gaps_closed.sort_by(|a, b| (&a.power_code, &a.division).cmp(&(&b.power_code, &b.division)));

    let quotas = apply_changes(ctx.quotas, &plan.quota_changes, &|b| ctx.bodies.contains_key(b));
    for p in &quotas.problems.0 {
        let mut p = p.clone();
        p.column = Some("quota_changes".into());
        problems.push(p);
    }
    PlanEffect { ended, created, moves, overlaps_after, gaps_opened, gaps_closed, quotas, problems }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }
    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }
    fn assignment(id: i64, power: &str, body: &str, territory: &str, from: &str, to: Option<&str>) -> Assignment {
        Assignment {
            id,
            power_code: power.into(),
            body_code: body.into(),
            territory: code(territory),
            valid_from: day(from),
            valid_to: to.map(day),
            instrument: "决定".into(),
            evaluation_due: None,
        }
    }
    const CITY: &str = "320600000000";
    const CHONGCHUAN: &str = "320613000000";
    const ZHONGXIU: &str = "320613007000";
    const WENFENG: &str = "320613008000";
    const TONGZHOU: &str = "320612000000";

    fn tree() -> DivisionTree {
        let pairs = [
            (CITY, None),
            (CHONGCHUAN, Some(CITY)),
            (TONGZHOU, Some(CITY)),
            (ZHONGXIU, Some(CHONGCHUAN)),
            (WENFENG, Some(CHONGCHUAN)),
            ("320613007001", Some(ZHONGXIU)),
            ("320613007002", Some(ZHONGXIU)),
            ("320613008001", Some(WENFENG)),
            ("320612001000", Some(TONGZHOU)),
        ];
        DivisionTree::new(pairs.iter().map(|(c, p)| (code(c), p.map(code))))
    }

    fn index() -> DelegationIndex {
        DelegationIndex::new(vec![
            assignment(1, "p", "bureau.320613", CHONGCHUAN, "2020-01-01", None),
            assignment(2, "p", "squad.320613007", ZHONGXIU, "2021-06-01", None),
            assignment(3, "p", "bureau.320612", TONGZHOU, "2020-01-01", Some("2022-12-31")),
        ])
    }

    #[test]
    fn the_deepest_valid_assignment_holds_a_place() {
        let idx = index();
        let holder = |place: &str, on: &str| idx.resolve("p", &code(place), day(on)).map(|a| a.body_code.as_str());
        assert_eq!(holder("320613007001", "2024-01-01"), Some("squad.320613007"));
        assert_eq!(holder("320613007001", "2021-05-31"), Some("bureau.320613"));
        assert_eq!(holder("320613008001", "2024-01-01"), Some("bureau.320613"));
        assert_eq!(holder(ZHONGXIU, "2024-01-01"), Some("squad.320613007"));
        assert_eq!(holder("320612001000", "2022-12-31"), Some("bureau.320612"));
        assert_eq!(holder("320612001000", "2023-01-01"), None);
        assert_eq!(idx.resolve("unknown", &code(ZHONGXIU), day("2024-01-01")), None);
    }

    #[test]
    fn overlaps_are_same_territory_and_shared_days() {
        let mut all = index().assignments().to_vec();
        assert!(DelegationIndex::new(all.clone()).overlaps().is_empty());
        let clash = assignment(4, "p", "squad.320613008", ZHONGXIU, "2024-01-01", None);
        let idx = DelegationIndex::new(all.clone());
        assert_eq!(idx.conflicts_with(&clash).iter().map(|a| a.id).collect::<Vec<_>>(), vec![2]);
        let after = assignment(5, "p", "bureau.320612", TONGZHOU, "2023-01-01", None);
        assert!(idx.conflicts_with(&after).is_empty());
        all.push(clash);
        let pairs: Vec<(i64, i64)> = DelegationIndex::new(all).overlaps().iter().map(|(a, b)| (a.id, b.id)).collect();
        assert_eq!(pairs, vec![(2, 4)]);
    }

    #[test]
    fn gaps_are_the_largest_uncovered_divisions() {
        let idx = index();
        assert_eq!(idx.gaps("p", &tree(), day("2024-01-01")), vec![code(TONGZHOU)]);
        assert!(idx.gaps("p", &tree(), day("2022-01-01")).is_empty());
        assert_eq!(idx.gaps("nobody-holds", &tree(), day("2024-01-01")), vec![code(CITY)]);
        let only_zhongxiu = DelegationIndex::new(vec![assignment(1, "q", "s", ZHONGXIU, "2020-01-01", None)]);
        let mut gaps = only_zhongxiu.gaps("q", &tree(), day("2024-01-01"));
        gaps.sort();
        assert_eq!(gaps, vec![code(TONGZHOU), code(WENFENG)]);
    }

    fn ctx_parts() -> (HashSet<String>, HashMap<String, DivisionCode>, QuotaTable) {
        let powers = ["p".to_string(), "q".to_string()].into_iter().collect();
        let bodies = [
            ("bureau.320613", CHONGCHUAN),
            ("squad.320613007", ZHONGXIU),
            ("squad.320613008", WENFENG),
            ("bureau.320612", TONGZHOU),
        ]
        .into_iter()
        .map(|(b, d)| (b.to_string(), code(d)))
        .collect();
        let quotas = [(("bureau.320613".to_string(), crate::staffing::QuotaKind::Administrative), 10)].into_iter().collect();
        (powers, bodies, quotas)
    }

    #[test]
    fn a_plan_previews_moves_gaps_and_quotas() {
        let idx = index();
        let tree = tree();
        let (powers, bodies, quotas) = ctx_parts();
        let ctx = PlanContext { index: &idx, tree: &tree, powers: &powers, bodies: &bodies, quotas: &quotas };
        let plan = Plan {
            title: "下放到文峰街道".into(),
            instrument: "省政府决定".into(),
            effective_from: day("2025-01-01"),
            steps: vec![
                PlanStep::Assign {
                    power_code: "p".into(),
                    body_code: "squad.320613008".into(),
                    territory: code(WENFENG),
                    evaluation_due: None,
                },
                PlanStep::Revoke { power_code: "p".into(), territory: code(ZHONGXIU) },
                PlanStep::Assign {
                    power_code: "p".into(),
                    body_code: "bureau.320612".into(),
                    territory: code(TONGZHOU),
                    evaluation_due: None,
                },
            ],
            quota_changes: QuotaChange::transfer(
                "bureau.320613",
                "squad.320613008",
                crate::staffing::QuotaKind::Administrative,
                3,
            )
            .to_vec(),
        };
        let effect = preview_plan(&plan, &ctx);
        assert!(effect.problems.is_empty(), "{}", effect.problems);
        assert_eq!(effect.created.len(), 2);
        assert_eq!(
            effect.ended.iter().map(|(a, to)| (a.id, to.to_string())).collect::<Vec<_>>(),
            vec![(2, "2024-12-31".to_string())]
        );
        let moves: Vec<(Option<&str>, Option<&str>)> =
            effect.moves.iter().map(|m| (m.from_body.as_deref(), m.to_body.as_deref())).collect();
        assert_eq!(
            moves,
            vec![
                (Some("bureau.320613"), Some("squad.320613008")),
                (Some("squad.320613007"), Some("bureau.320613")),
                (None, Some("bureau.320612")),
            ]
        );
        assert_eq!(effect.gaps_closed, vec![Gap { power_code: "p".into(), division: code(TONGZHOU) }]);
        assert!(effect.gaps_opened.is_empty());
        assert_eq!(effect.quotas.totals[0].after, 10);
    }

    #[test]
    fn a_bad_plan_names_every_problem() {
        let idx = index();
        let tree = tree();
        let (powers, bodies, quotas) = ctx_parts();
        let ctx = PlanContext { index: &idx, tree: &tree, powers: &powers, bodies: &bodies, quotas: &quotas };
        let plan = Plan {
            title: "坏计划".into(),
            instrument: "决定".into(),
            effective_from: day("2025-01-01"),
            steps: vec![
                PlanStep::Assign {
                    power_code: "p".into(),
                    body_code: "squad.320613007".into(),
                    territory: code(ZHONGXIU),
                    evaluation_due: None,
                },
                PlanStep::Assign {
                    power_code: "p".into(),
                    body_code: "squad.320613007".into(),
                    territory: code(WENFENG),
                    evaluation_due: None,
                },
                PlanStep::Assign {
                    power_code: "x".into(),
                    body_code: "ghost".into(),
                    territory: code(WENFENG),
                    evaluation_due: None,
                },
                PlanStep::Revoke { power_code: "q".into(), territory: code(WENFENG) },
                PlanStep::Revoke { power_code: "q".into(), territory: code(WENFENG) },
            ],
            quota_changes: vec![QuotaChange {
                body_code: "squad.320613007".into(),
                kind: crate::staffing::QuotaKind::Administrative,
                delta: 2,
            }],
        };
        let effect = preview_plan(&plan, &ctx);
        let found: Vec<(Option<usize>, &str)> = effect.problems.0.iter().map(|p| (p.line, p.code)).collect();
        for expected in [
            (Some(1), "no_change"),
            (Some(2), "outside_body"),
            (Some(3), "unknown_power"),
            (Some(3), "unknown_body"),
            (Some(4), "nothing_to_revoke"),
            (Some(5), "duplicate_step"),
            (None, "quota_total_grows"),
        ] {
            assert!(found.contains(&expected), "{expected:?} missing from {found:?}");
        }
    }
}
