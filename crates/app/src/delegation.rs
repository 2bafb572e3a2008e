//! Delegation use-cases: who holds a power at a place, the overlap and gap check, single assignments,
//! delegation plans (preview, then an atomic commit), responsibility lists (责任清单) and staffing.

use std::collections::{HashMap, HashSet};

use gridward_domain::access::{Principal, Role};
use gridward_domain::catalog::Power;
use gridward_domain::delegation::{Assignment, DelegationIndex, DivisionTree, Gap, Plan, PlanContext, PlanEffect, preview_plan};
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::Body;
use gridward_domain::staffing::{QuotaKind, Staffing, quota_table};
use gridward_domain::{Date, Problem, Problems};
use gridward_store::{PlanRecord, PowerVersion};
use serde::Serialize;

use crate::catalog::{HOLDING_COLUMNS, render_sheet};
use crate::error::{AppError, AppResult};
use crate::sheet::SheetFormat;
use crate::{App, actor_of, change};

/// An assignment with the names people read.
#[derive(Debug, Clone, Serialize)]
pub struct Holding {
    #[serde(flatten)]
    pub assignment: Assignment,
    pub body_name: String,
    pub territory_name: String,
}

/// Everything delegation checks read, taken at once for one day.
pub struct Snapshot {
    pub day: Date,
    pub index: DelegationIndex,
    pub tree: DivisionTree,
    pub powers: Vec<PowerVersion>,
    pub bodies: HashMap<String, Body>,
    pub divisions: HashMap<DivisionCode, Division>,
}

impl Snapshot {
    fn name_of(&self, code: &DivisionCode) -> String {
        self.divisions.get(code).map(|d| d.name.clone()).unwrap_or_else(|| code.to_string())
    }
    fn holding(&self, a: &Assignment) -> Holding {
        Holding {
            assignment: a.clone(),
            body_name: self.bodies.get(&a.body_code).map(|b| b.name.clone()).unwrap_or_else(|| a.body_code.clone()),
            territory_name: self.name_of(&a.territory),
        }
    }
}

/// Who holds a power at a place on a day; `holder` is `None` when nobody does.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    pub power_code: String,
    pub division: DivisionCode,
    pub date: Date,
    pub holder: Option<Holding>,
}

/// A gap with the division's name.
#[derive(Debug, Clone, Serialize)]
pub struct NamedGap {
    #[serde(flatten)]
    pub gap: Gap,
    pub power_name: String,
    pub division_name: String,
    /// The places (divisions without children) the gap covers.
    pub places: usize,
}

/// The whole city checked on one day: every (power, place) pair is held by exactly one body or lies in
/// a listed gap, and any overlap is named.
#[derive(Debug, Clone, Serialize)]
pub struct DelegationCheck {
    pub date: Date,
    pub powers: usize,
    /// Divisions without children (communities and villages), where every power must reach.
    pub places: usize,
    pub held_pairs: usize,
    pub gap_pairs: usize,
    pub gaps: Vec<NamedGap>,
    pub overlaps: Vec<(Holding, Holding)>,
}

/// One line of a responsibility list.
#[derive(Debug, Clone, Serialize)]
pub struct Responsibility {
    pub power: Power,
    pub version: u32,
    pub holding: Holding,
}

/// A body's responsibility list (责任清单), generated from its assignments in force.
#[derive(Debug, Clone, Serialize)]
pub struct ResponsibilityList {
    pub body: Body,
    pub date: Date,
    pub items: Vec<Responsibility>,
    /// Categories with the number of powers in each.
    pub categories: Vec<(String, usize)>,
}

impl ResponsibilityList {
    /// The list as a sheet: a power's columns, then who holds it where.
    pub fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let mut header: Vec<&str> = gridward_domain::catalog::POWER_COLUMNS.iter().map(|(c, _)| *c).collect();
        header.extend(HOLDING_COLUMNS.iter().map(|(c, _)| *c));
        let rows = self
            .items
            .iter()
            .map(|r| {
                let mut cells: Vec<String> = r.power.to_row().cells().iter().map(|c| c.to_string()).collect();
                let a = &r.holding.assignment;
                cells.extend([
                    a.body_code.clone(),
                    r.holding.body_name.clone(),
                    a.territory.to_string(),
                    r.holding.territory_name.clone(),
                    a.valid_from.to_string(),
                    a.instrument.clone(),
                ]);
                cells
            })
            .collect();
        (header, rows)
    }
}

/// A plan's preview: what it would do, with names, and whether it may be committed.
#[derive(Debug, Clone, Serialize)]
pub struct PlanPreview {
    pub effect: PlanEffect,
    pub moves_named: Vec<(String, String, String, String)>,
    pub categories: Vec<(String, usize)>,
    /// Open cases on the powers and places the plan moves. Counted from case records; none are kept yet.
    pub open_cases: u64,
    pub committable: bool,
}

/// A body's posts against its people.
#[derive(Debug, Clone, Serialize)]
pub struct StaffingLine {
    pub body: Body,
    pub staffing: Staffing,
    pub flags: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffingReport {
    pub lines: Vec<StaffingLine>,
    pub totals: Vec<(QuotaKind, u64)>,
}

/// A held power that saw no activity in a period (法定职责必须为).
#[derive(Debug, Clone, Serialize)]
pub struct DormantDuty {
    pub power_code: String,
    pub power_name: String,
    pub territory: DivisionCode,
    pub uses: u64,
}

fn count_categories<'a>(categories: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for c in categories {
        match counts.iter_mut().find(|(name, _)| name == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c.to_string(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

fn require_admin(who: &Principal) -> AppResult<()> {
    if who.has(Role::Admin) { Ok(()) } else { Err(AppError::Forbidden) }
}

impl App {
    /// Reads everything the delegation checks need for `day`.
    pub async fn delegation_snapshot(&self, day: Date) -> AppResult<Snapshot> {
        let divisions = self.store.all_divisions().await?;
        let in_force: Vec<&Division> = divisions.iter().filter(|d| d.is_valid_on(day)).collect();
        // The territory every power must reach is the city's (a one-city platform's root).
        let tree = DivisionTree::new(
            in_force.iter().filter(|d| d.level >= Level::City).map(|d| (d.code.clone(), d.parent_code.clone())),
        );
        let bodies: HashMap<String, Body> = self.store.all_bodies().await?.into_iter().map(|b| (b.code.clone(), b)).collect();
        Ok(Snapshot {
            day,
            index: DelegationIndex::new(self.store.assignments().await?),
            tree,
            powers: self.store.powers_in_force(day).await?,
            bodies,
            divisions: divisions.into_iter().map(|d| (d.code.clone(), d)).collect(),
        })
    }

    /// Assignments in force on `day` that `keep` selects, with names.
    pub async fn holdings(&self, day: Date, keep: impl Fn(&Assignment) -> bool) -> AppResult<Vec<Holding>> {
        let snapshot = self.delegation_snapshot(day).await?;
        Ok(snapshot.index.assignments().iter().filter(|a| a.is_valid_on(day) && keep(a)).map(|a| snapshot.holding(a)).collect())
    }

    /// Who holds `power` at `place` on `day`.
    pub async fn resolve_power(&self, power: &str, place: &DivisionCode, day: Date) -> AppResult<Resolution> {
        let snapshot = self.delegation_snapshot(day).await?;
        if !snapshot.powers.iter().any(|p| p.power.code == power) {
            return Err(AppError::NotFound("power"));
        }
        if !snapshot.divisions.contains_key(place) {
            return Err(AppError::NotFound("division"));
        }
        let holder = snapshot.index.resolve(power, place, day).map(|a| snapshot.holding(a));
        Ok(Resolution { power_code: power.to_string(), division: place.clone(), date: day, holder })
    }

    /// Checks the whole city on `day`: gaps (largest uncovered divisions per power) and overlaps.
    pub async fn delegation_check(&self, _who: &Principal, day: Date) -> AppResult<DelegationCheck> {
        let s = self.delegation_snapshot(day).await?;
        let leaves: HashSet<&DivisionCode> = s.tree.leaves().into_iter().collect();
        let places_under = |d: &DivisionCode| leaves.iter().filter(|l| d.covers(l)).count();
        let mut gaps = Vec::new();
        let mut gap_pairs = 0;
        for p in &s.powers {
            for division in s.index.gaps(&p.power.code, &s.tree, day) {
                let places = places_under(&division);
                gap_pairs += places;
                gaps.push(NamedGap {
                    division_name: s.name_of(&division),
                    gap: Gap { power_code: p.power.code.clone(), division },
                    power_name: p.power.name.clone(),
                    places,
                });
            }
        }
        let overlaps = s.index.overlaps().into_iter().map(|(a, b)| (s.holding(a), s.holding(b))).collect();
        let pairs = s.powers.len() * leaves.len();
        Ok(DelegationCheck {
            date: day,
            powers: s.powers.len(),
            places: leaves.len(),
            held_pairs: pairs - gap_pairs,
            gap_pairs,
            gaps,
            overlaps,
        })
    }

    /// Adds one assignment, refused with both assignments named when it would overlap one, unless it
    /// supersedes that one. Administrators only.
    pub async fn assign(&self, who: &Principal, new: &Assignment, supersedes: Option<i64>) -> AppResult<Assignment> {
        require_admin(who)?;
        let s = self.delegation_snapshot(new.valid_from).await?;
        let mut problems = Problems::default();
        if !s.powers.iter().any(|p| p.power.code == new.power_code) {
            problems.push(Problem::at(
                1,
                "power_code",
                "unknown_power",
                format!("power {} is not in force on {}", new.power_code, new.valid_from),
            ));
        }
        match s.bodies.get(&new.body_code) {
            None => problems.push(Problem::at(1, "body_code", "unknown_body", format!("body {:?} is not stored", new.body_code))),
            Some(b) if !b.division_code.covers(&new.territory) => problems.push(Problem::at(
                1,
                "territory",
                "outside_body",
                format!("{} lies outside {}'s division {}", new.territory, b.code, b.division_code),
            )),
            Some(_) => {}
        }
        if !s.divisions.contains_key(&new.territory) {
            problems.push(Problem::at(1, "territory", "unknown_division", format!("division {} is not stored", new.territory)));
        }
        if new.instrument.trim().is_empty() {
            problems.push(Problem::at(1, "instrument", "missing_instrument", "an assignment names its legal instrument"));
        }
        if new.valid_to.is_some_and(|to| to < new.valid_from) {
            problems.push(Problem::at(1, "valid_to", "bad_range", "the last day comes before the first"));
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        match self.store.add_assignment(new, supersedes, &change(&actor_of(who))).await? {
            Ok(stored) => Ok(stored),
            Err(refusal) => Err(AppError::Delegation(Box::new(refusal))),
        }
    }

    /// Works out what a plan would do. Administrators and leaders.
    pub async fn preview_plan(&self, who: &Principal, plan: &Plan) -> AppResult<PlanPreview> {
        if !who.has(Role::Admin) && !who.has(Role::Leader) {
            return Err(AppError::Forbidden);
        }
        let s = self.delegation_snapshot(plan.effective_from).await?;
        let quotas = quota_table(&self.store.quotas().await?);
        let powers: HashSet<String> = s.powers.iter().map(|p| p.power.code.clone()).collect();
        let seats: HashMap<String, DivisionCode> = s.bodies.iter().map(|(c, b)| (c.clone(), b.division_code.clone())).collect();
        let ctx = PlanContext { index: &s.index, tree: &s.tree, powers: &powers, bodies: &seats, quotas: &quotas };
        let effect = preview_plan(plan, &ctx);
        let body_name = |b: &Option<String>| {
            b.as_ref().map(|c| s.bodies.get(c).map(|b| b.name.clone()).unwrap_or_else(|| c.clone())).unwrap_or_else(|| "—".into())
        };
        let power_name = |code: &str| {
            s.powers.iter().find(|p| p.power.code == code).map(|p| p.power.name.clone()).unwrap_or_else(|| code.to_string())
        };
        let moves_named = effect
            .moves
            .iter()
            .map(|m| (power_name(&m.power_code), s.name_of(&m.territory), body_name(&m.from_body), body_name(&m.to_body)))
            .collect();
        let categories = count_categories(
            effect
                .moves
                .iter()
                .filter_map(|m| s.powers.iter().find(|p| p.power.code == m.power_code))
                .map(|p| p.power.category.as_str()),
        );
        let committable = effect.problems.is_empty();
        Ok(PlanPreview { effect, moves_named, categories, open_cases: 0, committable })
    }

    /// Commits a plan after previewing it again: every change and the plan itself in one transaction,
    /// each in the full-process record. Administrators only.
    pub async fn commit_plan(&self, who: &Principal, plan: &Plan) -> AppResult<PlanRecord> {
        require_admin(who)?;
        let preview = self.preview_plan(who, plan).await?;
        if !preview.committable {
            return Err(AppError::Invalid(preview.effect.problems));
        }
        self.commit_previewed(plan, &preview.effect, &actor_of(who)).await
    }

    /// Commits a plan the caller has previewed, as `actor` (the demo and the command line).
    pub async fn commit_previewed(
        &self,
        plan: &Plan,
        effect: &PlanEffect,
        actor: &gridward_store::Actor,
    ) -> AppResult<PlanRecord> {
        match self.store.commit_plan(plan, effect, &change(actor)).await? {
            Ok(record) => Ok(record),
            Err(refusal) => Err(AppError::Delegation(Box::new(refusal))),
        }
    }

    pub async fn plans(&self, _who: &Principal) -> AppResult<Vec<PlanRecord>> {
        Ok(self.store.plans().await?)
    }

    /// A body's responsibility list on `day`. Public: the law requires these lists to be published.
    pub async fn responsibility_list(&self, body_code: &str, day: Date) -> AppResult<ResponsibilityList> {
        let s = self.delegation_snapshot(day).await?;
        let body = s.bodies.get(body_code).cloned().ok_or(AppError::NotFound("body"))?;
        Ok(list_of(&s, body))
    }

    /// The responsibility lists of the bodies seated in a division. Public.
    pub async fn division_responsibilities(&self, division: &DivisionCode, day: Date) -> AppResult<Vec<ResponsibilityList>> {
        let s = self.delegation_snapshot(day).await?;
        if !s.divisions.contains_key(division) {
            return Err(AppError::NotFound("division"));
        }
        let mut bodies: Vec<Body> = s.bodies.values().filter(|b| &b.division_code == division).cloned().collect();
        bodies.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(bodies.into_iter().map(|b| list_of(&s, b)).collect())
    }

    pub async fn export_responsibility_list(&self, body_code: &str, day: Date, format: SheetFormat) -> AppResult<Vec<u8>> {
        let list = self.responsibility_list(body_code, day).await?;
        let (header, rows) = list.rows();
        render_sheet(format, "责任清单", &header, &rows)
    }

    /// Powers a body holds that saw no activity from `from` to `to`. Activity is counted from case
    /// records; none are kept yet, so every held power is listed with zero uses.
    pub async fn dormant_duties(&self, _who: &Principal, body_code: &str, from: Date, to: Date) -> AppResult<Vec<DormantDuty>> {
        if to < from {
            return Err(AppError::bad_request("bad_period", "the period ends before it begins"));
        }
        let list = self.responsibility_list(body_code, to).await?;
        Ok(list
            .items
            .into_iter()
            .map(|r| DormantDuty {
                power_code: r.power.code,
                power_name: r.power.name,
                territory: r.holding.assignment.territory,
                uses: 0,
            })
            .collect())
    }

    /// Every body's posts against its people, with the city's totals.
    pub async fn staffing(&self, _who: &Principal) -> AppResult<StaffingReport> {
        let quotas = quota_table(&self.store.quotas().await?);
        let heads = self.store.headcounts().await?;
        let mut bodies = self.store.all_bodies().await?;
        bodies.sort_by(|a, b| a.code.cmp(&b.code));
        let posts = |body: &str, kind| quotas.get(&(body.to_string(), kind)).copied().unwrap_or(0);
        let lines = bodies
            .into_iter()
            .map(|body| {
                let head = heads.get(&body.code).copied().unwrap_or_default();
                let staffing = Staffing {
                    body_code: body.code.clone(),
                    administrative: posts(&body.code, QuotaKind::Administrative),
                    public_institution: posts(&body.code, QuotaKind::PublicInstitution),
                    auxiliary_cap: posts(&body.code, QuotaKind::AuxiliaryCap),
                    established: head.established,
                    auxiliaries: head.auxiliaries,
                };
                let mut flags = staffing.auxiliary_flags();
                if staffing.over_quota() {
                    flags.push("established_exceed_posts");
                }
                StaffingLine { body, staffing, flags }
            })
            .collect();
        let totals = QuotaKind::ALL.iter().map(|&k| (k, gridward_domain::staffing::total(&quotas, k))).collect();
        Ok(StaffingReport { lines, totals })
    }
}

fn list_of(s: &Snapshot, body: Body) -> ResponsibilityList {
    let powers: HashMap<&str, &PowerVersion> = s.powers.iter().map(|p| (p.power.code.as_str(), p)).collect();
    let mut items: Vec<Responsibility> = s
        .index
        .assignments()
        .iter()
        .filter(|a| a.body_code == body.code && a.is_valid_on(s.day))
        .filter_map(|a| {
            let p = powers.get(a.power_code.as_str())?;
            Some(Responsibility { power: p.power.clone(), version: p.version, holding: s.holding(a) })
        })
        .collect();
    items.sort_by(|a, b| {
        (&a.power.category, &a.power.code, &a.holding.assignment.territory).cmp(&(
            &b.power.category,
            &b.power.code,
            &b.holding.assignment.territory,
        ))
    });
    let categories = count_categories(items.iter().map(|r| r.power.category.as_str()));
    ResponsibilityList { body, date: s.day, items, categories }
}
