//! Reports (举报) and the digital-urban-management flow: the service list (部件 and 事件 classes, each mapped
//! to a power), the seven steps as a state machine with the role each step needs, time limits per step,
//! duplicate detection and reward rules. Pure: no IO.

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::calendar::TimeLimit;
use crate::problem::{Problem, Problems};

/// The two classes of digital-urban-management reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportClass {
    /// 部件: a piece of public equipment (a manhole cover, a bin) that is damaged or missing.
    Component,
    /// 事件: something happening (dumped rubbish, a street stall, noise).
    Event,
}

impl ReportClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportClass::Component => "component",
            ReportClass::Event => "event",
        }
    }
    pub fn parse(s: &str) -> Option<ReportClass> {
        match s {
            "component" => Some(ReportClass::Component),
            "event" => Some(ReportClass::Event),
            _ => None,
        }
    }
}

/// The steps that run against a time limit, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 受理/立案: the intake clerk verifies (or cancels) a new report.
    Verify,
    /// 派遣: the dispatcher sends a registered report to a squad.
    Dispatch,
    /// 处置/反馈: the squad handles it on site and reports back.
    Handle,
    /// 核查/结案: the supervisor checks on site and closes or sends back.
    Check,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Verify, Step::Dispatch, Step::Handle, Step::Check];
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Verify => "verify",
            Step::Dispatch => "dispatch",
            Step::Handle => "handle",
            Step::Check => "check",
        }
    }
}

/// The time limit of each step for one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLimits {
    pub verify: TimeLimit,
    pub dispatch: TimeLimit,
    pub handle: TimeLimit,
    pub check: TimeLimit,
}

impl StepLimits {
    pub fn of(&self, step: Step) -> TimeLimit {
        match step {
            Step::Verify => self.verify,
            Step::Dispatch => self.dispatch,
            Step::Handle => self.handle,
            Step::Check => self.check,
        }
    }
}

/// One kind of problem the public can report (an Open311 service), and the power that governs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Four digits: class and group, then the item (e.g. `0101`).
    pub code: String,
    pub class: ReportClass,
    pub group: String,
    pub name: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// The catalog power whose holder is responsible where the problem is.
    pub power_code: String,
    pub limits: StepLimits,
    /// Shown to the public (Open311 and the form); a non-public service takes internal reports only.
    pub public: bool,
}

/// How bad a reported problem is, as the reporter or the intake clerk judges it; rewards depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Serious,
    Severe,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Minor, Severity::Serious, Severity::Severe];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Serious => "serious",
            Severity::Severe => "severe",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Minor => "一般",
            Severity::Serious => "较重",
            Severity::Severe => "严重",
        }
    }
}

/// The columns of a service list file, in order.
pub const SERVICE_COLUMNS: [&str; 12] = [
    "code",
    "class",
    "group",
    "name",
    "description",
    "keywords",
    "power_code",
    "verify",
    "dispatch",
    "handle",
    "check",
    "public",
];

/// Reads a service list (CSV with `SERVICE_COLUMNS`); `known_power` says whether a power code exists.
/// Every bad row is reported.
pub fn parse_services(rows: &[Vec<String>], known_power: impl Fn(&str) -> bool) -> Result<Vec<Service>, Problems> {
    let mut problems = Problems::default();
    let mut services: Vec<Service> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        let field = |name: &str| {
            let at = SERVICE_COLUMNS.iter().position(|c| *c == name).expect("a known column");
            row.get(at).map(|s| s.trim()).unwrap_or("")
        };
        let before = problems.len();
        let code = field("code");
        if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(Problem::at(line, "code", "bad_service_code", format!("{code:?} is not four digits")));
        } else if services.iter().any(|s| s.code == code) {
            problems.push(Problem::at(line, "code", "duplicate_service", format!("service {code} is listed twice")));
        }
        let class = ReportClass::parse(field("class"));
        if class.is_none() {
            problems.push(Problem::at(line, "class", "bad_class", "class is component (部件) or event (事件)"));
        }
        for column in ["group", "name"] {
            if field(column).is_empty() {
                problems.push(Problem::at(line, column, "missing", format!("{column} is required")));
            }
        }
        let power = field("power_code");
        if !known_power(power) {
            problems.push(Problem::at(line, "power_code", "unknown_power", format!("{power:?} is not a power in the catalog")));
        }
        let mut limits = [TimeLimit::WorkingHours(1); 4];
        for (slot, step) in limits.iter_mut().zip(Step::ALL) {
            match TimeLimit::parse(field(step.as_str())) {
                Some(limit) => *slot = limit,
                None => problems.push(Problem::at(
                    line,
                    step.as_str(),
                    "bad_time_limit",
                    format!("{:?} is not a limit like 4h (working hours) or 2d (working days)", field(step.as_str())),
                )),
            }
        }
        let public = match field("public") {
            "" | "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            other => {
                problems.push(Problem::at(line, "public", "bad_flag", format!("{other:?} is not true or false")));
                true
            }
        };
        if problems.len() > before {
            continue;
        }
        services.push(Service {
            code: code.to_string(),
            class: class.expect("checked above"),
            group: field("group").to_string(),
            name: field("name").to_string(),
            description: field("description").to_string(),
            keywords: field("keywords").split(';').map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect(),
            power_code: power.to_string(),
            limits: StepLimits { verify: limits[0], dispatch: limits[1], handle: limits[2], check: limits[3] },
            public,
        });
    }
    problems.into_result(services)
}

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The public web form.
    Web,
    /// An Open311 client application.
    Open311,
    /// A supervisor's patrol finding (监督员上报).
    Patrol,
    /// A referral from another agency.
    Referral,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Web, Channel::Open311, Channel::Patrol, Channel::Referral];
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Open311 => "open311",
            Channel::Patrol => "patrol",
            Channel::Referral => "referral",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a report stands in the seven steps. Collection (信息收集) is the report's arrival; evaluation
/// (综合评价) is computed when it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Arrived; waits for the intake clerk (受理). With no location yet it waits to be placed.
    Submitted,
    /// Verified and registered (立案); waits to be dispatched.
    Registered,
    /// Sent to a squad (派遣); waits to be handled.
    Dispatched,
    /// Handled on site and reported back (处置/反馈); waits for the supervisor's check.
    Handled,
    /// Checked and closed (核查结案).
    Closed,
    /// Refused at intake: not valid, not ours, or withdrawn.
    Cancelled,
    /// The same problem as an earlier report, linked to it.
    Duplicate,
}

impl ReportState {
    pub const ALL: [ReportState; 7] = [
        ReportState::Submitted,
        ReportState::Registered,
        ReportState::Dispatched,
        ReportState::Handled,
        ReportState::Closed,
        ReportState::Cancelled,
        ReportState::Duplicate,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Submitted => "submitted",
            ReportState::Registered => "registered",
            ReportState::Dispatched => "dispatched",
            ReportState::Handled => "handled",
            ReportState::Closed => "closed",
            ReportState::Cancelled => "cancelled",
            ReportState::Duplicate => "duplicate",
        }
    }
    pub fn parse(s: &str) -> Option<ReportState> {
        ReportState::ALL.into_iter().find(|v| v.as_str() == s)
    }
    pub fn is_open(self) -> bool {
        !matches!(self, ReportState::Closed | ReportState::Cancelled | ReportState::Duplicate)
    }
    /// The step running in this state, whose time limit applies.
    pub fn step(self) -> Option<Step> {
        match self {
            ReportState::Submitted => Some(Step::Verify),
            ReportState::Registered => Some(Step::Dispatch),
            ReportState::Dispatched => Some(Step::Handle),
            ReportState::Handled => Some(Step::Check),
            _ => None,
        }
    }
}

/// Why a report was cancelled at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// Not a real or not a reportable problem.
    Invalid,
    /// Outside this platform's responsibility (another agency's matter).
    NotOurs,
    /// The reporter withdrew it.
    Withdrawn,
}

impl CancelReason {
    pub const ALL: [CancelReason; 3] = [CancelReason::Invalid, CancelReason::NotOurs, CancelReason::Withdrawn];
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Invalid => "invalid",
            CancelReason::NotOurs => "not_ours",
            CancelReason::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<CancelReason> {
        CancelReason::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The status an Open311 client sees: the standard open/closed and the mySociety extended status.
pub fn open311_status(state: ReportState, cancel: Option<CancelReason>) -> (&'static str, &'static str) {
    match state {
        ReportState::Submitted => ("open", "FOR_TRIAGE"),
        ReportState::Registered => ("open", "INVESTIGATING"),
        ReportState::Dispatched => ("open", "ACTION_SCHEDULED"),
        ReportState::Handled => ("open", "IN_PROGRESS"),
        ReportState::Closed => ("closed", "FIXED"),
        ReportState::Duplicate => ("closed", "DUPLICATE"),
        ReportState::Cancelled => match cancel {
            Some(CancelReason::NotOurs) => ("closed", "NOT_COUNCILS_RESPONSIBILITY"),
            Some(CancelReason::Invalid) => ("closed", "NO_FURTHER_ACTION"),
            _ => ("closed", "CANCELLED"),
        },
    }
}

/// A step someone takes on a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// 受理: accept a report as a real problem and register it. `public_text`, when given, replaces the
    /// description before it is published (moderation: a name, a number or an insult taken out); the
    /// reporter's words stay in the record.
    Verify {
        severity: Option<Severity>,
        #[serde(default)]
        public_text: Option<String>,
    },
    /// Refuse a report at intake.
    Cancel { reason: CancelReason, note: String },
    /// Link a report to an earlier one about the same problem.
    MarkDuplicate { of: i64 },
    /// 派遣: send to a squad (and optionally its officer).
    Dispatch { squad: String, officer: Option<String> },
    /// Send a dispatched report to another squad, with the reason.
    Reassign { squad: String, officer: Option<String>, reason: String },
    /// 处置/反馈: handled on site; the after-photo is attached as evidence.
    Handle { note: String },
    /// 核查结案: checked on site and closed.
    Close { note: String },
    /// 返工: the check failed; back to the squad.
    Rework { reason: String },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Verify { .. } => "verify",
            Action::Cancel { .. } => "cancel",
            Action::MarkDuplicate { .. } => "mark_duplicate",
            Action::Dispatch { .. } => "dispatch",
            Action::Reassign { .. } => "reassign",
            Action::Handle { .. } => "handle",
            Action::Close { .. } => "close",
            Action::Rework { .. } => "rework",
        }
    }

    /// The roles that may take this action.
    pub fn roles(&self) -> &'static [Role] {
        match self {
            Action::Verify { .. }
            | Action::Cancel { .. }
            | Action::MarkDuplicate { .. }
            | Action::Dispatch { .. }
            | Action::Reassign { .. } => &[Role::Dispatcher],
            Action::Handle { .. } => &[Role::Officer, Role::Auxiliary],
            Action::Close { .. } | Action::Rework { .. } => &[Role::Supervisor],
        }
    }
}

/// Why an action cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("a report that is {state} cannot be {action}")]
    NotNow { state: &'static str, action: &'static str },
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("a report without a location cannot be registered; place it first")]
    Unplaced,
}

impl FlowError {
    pub fn code(&self) -> &'static str {
        match self {
            FlowError::NotNow { .. } => "illegal_transition",
            FlowError::Missing(_) => "missing_reason",
            FlowError::Unplaced => "unplaced_report",
        }
    }
}

/// The state after `action`, or why it is not allowed in `state`. `placed` says whether the report has a
/// location; the caller checks roles (`Action::roles`) and territory.
pub fn next_state(state: ReportState, action: &Action, placed: bool) -> Result<ReportState, FlowError> {
    use ReportState::*;
    let refuse = || FlowError::NotNow { state: state.as_str(), action: action.name() };
    let need = |text: &str, what: &'static str| if text.trim().is_empty() { Err(FlowError::Missing(what)) } else { Ok(()) };
    match (state, action) {
        (Submitted, Action::Verify { .. }) if !placed => Err(FlowError::Unplaced),
        (Submitted, Action::Verify { .. }) => Ok(Registered),
        (Submitted, Action::Cancel { note, reason }) => {
            if *reason != CancelReason::Withdrawn {
                need(note, "a note saying why")?;
            }
            Ok(Cancelled)
        }
        (Submitted | Registered, Action::MarkDuplicate { .. }) => Ok(Duplicate),
        (Registered, Action::Dispatch { squad, .. }) => {
            need(squad, "the squad")?;
            Ok(Dispatched)
        }
        (Dispatched, Action::Reassign { squad, reason, .. }) => {
            need(squad, "the squad")?;
            need(reason, "the reason for reassigning")?;
            Ok(Dispatched)
        }
        (Dispatched, Action::Handle { note }) => {
            need(note, "a note on what was done")?;
            Ok(Handled)
        }
        (Handled, Action::Close { .. }) => Ok(Closed),
        (Handled, Action::Rework { reason }) => {
            need(reason, "the reason for rework")?;
            Ok(Dispatched)
        }
        _ => Err(refuse()),
    }
}

/// A report as duplicate detection sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sighting<'a> {
    pub id: i64,
    pub service_code: &'a str,
    pub lon: f64,
    pub lat: f64,
    /// Unix seconds.
    pub at: i64,
}

/// How close in space and time a report must be to an earlier one of the same service to be the same
/// problem.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DuplicateRule {
    pub radius_m: f64,
    pub window_s: i64,
}

impl DuplicateRule {
    /// `[west, south, east, north]`: a box a little larger than the radius around a point, for a search
    /// whose results are then measured with [`distance_m`].
    pub fn search_box(&self, lon: f64, lat: f64) -> [f64; 4] {
        let dlat = self.radius_m / 111_000.0 * 1.1;
        let dlon = dlat / lat.to_radians().cos().max(0.01);
        [lon - dlon, lat - dlat, lon + dlon, lat + dlat]
    }
}

impl Default for DuplicateRule {
    /// 50 m and 24 hours: a stall or a heap of rubbish seen by several passers-by on one day.
    fn default() -> Self {
        DuplicateRule { radius_m: 50.0, window_s: 24 * 3600 }
    }
}

/// Metres between two WGS-84 points (haversine on the mean Earth radius; exact enough at 50 m).
pub fn distance_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

/// The earliest open report that `new` duplicates, if any: same service, within the radius and the window
/// before it. `open` holds the candidates (open reports that are not themselves duplicates).
pub fn find_duplicate(new: &Sighting<'_>, open: &[Sighting<'_>], rule: DuplicateRule) -> Option<i64> {
    open.iter()
        .filter(|o| o.id != new.id && o.service_code == new.service_code)
        .filter(|o| o.at <= new.at && new.at - o.at <= rule.window_s)
        .filter(|o| distance_m(o.lon, o.lat, new.lon, new.lat) <= rule.radius_m)
        .min_by_key(|o| (o.at, o.id))
        .map(|o| o.id)
}

/// A reward rule (举报奖励): what a valid report of a service group at a severity earns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardRule {
    /// A service group (e.g. 施工管理), a service code, or `*` for any.
    pub applies_to: String,
    pub min_severity: Severity,
    /// Yuan.
    pub amount: u32,
}

/// Limits shared by every reward rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardPolicy {
    /// The most one reporter may be awarded in a calendar month, in yuan.
    pub monthly_cap: u32,
}

impl Default for RewardPolicy {
    fn default() -> Self {
        RewardPolicy { monthly_cap: 500 }
    }
}

/// Reads reward rules from CSV rows `applies_to,min_severity,amount` (the header is the first row, skipped
/// by the caller); every bad row is reported.
pub fn parse_reward_rules(rows: &[Vec<String>]) -> Result<Vec<RewardRule>, Problems> {
    let mut problems = Problems::default();
    let mut rules = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        let cell = |n: usize| row.get(n).map(|s| s.trim()).unwrap_or("");
        let applies_to = cell(0);
        if applies_to.is_empty() {
            problems.push(Problem::at(line, "applies_to", "missing", "a service group, a service code or *"));
        }
        let Some(min_severity) = Severity::parse(cell(1)) else {
            problems.push(Problem::at(line, "min_severity", "bad_severity", "minor, serious or severe"));
            continue;
        };
        match cell(2).parse::<u32>() {
            Ok(amount) if amount > 0 => rules.push(RewardRule { applies_to: applies_to.to_string(), min_severity, amount }),
            _ => problems.push(Problem::at(
                line,
                "amount",
                "bad_amount",
                format!("{:?} is not a positive number of yuan", cell(2)),
            )),
        }
    }
    problems.into_result(rules)
}

/// What a closed report earns its reporter: the best matching rule, cut to what is left of the monthly cap.
/// Only verified reports that were not duplicates earn (the first reporter of a cluster is the one whose
/// report stays open), and only reporters who left contact details can be paid.
pub fn reward_for(
    rules: &[RewardRule],
    policy: RewardPolicy,
    service: &Service,
    severity: Severity,
    awarded_this_month: u32,
) -> Option<u32> {
    let best = rules
        .iter()
        .filter(|r| r.applies_to == "*" || r.applies_to == service.group || r.applies_to == service.code)
        .filter(|r| severity >= r.min_severity)
        .map(|r| r.amount)
        .max()?;
    let left = policy.monthly_cap.saturating_sub(awarded_this_month);
    Some(best.min(left)).filter(|a| *a > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Service {
        Service {
            code: "0101".into(),
            class: ReportClass::Event,
            group: "市容环境".into(),
            name: "暴露垃圾".into(),
            description: String::new(),
            keywords: vec![],
            power_code: "srhw.34.1.4".into(),
            limits: StepLimits {
                verify: TimeLimit::WorkingHours(1),
                dispatch: TimeLimit::WorkingHours(1),
                handle: TimeLimit::WorkingDays(1),
                check: TimeLimit::WorkingHours(4),
            },
            public: true,
        }
    }

    #[test]
    fn the_seven_steps_in_order_and_rework() {
        let mut s = ReportState::Submitted;
        s = next_state(s, &Action::Verify { severity: None, public_text: None }, true).unwrap();
        assert_eq!(s, ReportState::Registered);
        s = next_state(s, &Action::Dispatch { squad: "squad.1".into(), officer: None }, true).unwrap();
        s = next_state(s, &Action::Handle { note: "cleared".into() }, true).unwrap();
        assert_eq!(s, ReportState::Handled);
        s = next_state(s, &Action::Rework { reason: "still there".into() }, true).unwrap();
        assert_eq!(s, ReportState::Dispatched);
        s = next_state(s, &Action::Handle { note: "cleared again".into() }, true).unwrap();
        s = next_state(s, &Action::Close { note: String::new() }, true).unwrap();
        assert_eq!(s, ReportState::Closed);
        assert!(!s.is_open());
        assert_eq!(open311_status(s, None), ("closed", "FIXED"));
    }

    #[test]
    fn illegal_steps_are_refused_with_a_reason() {
        let e = next_state(ReportState::Submitted, &Action::Close { note: String::new() }, true).unwrap_err();
        assert_eq!(e.code(), "illegal_transition");
        let e = next_state(ReportState::Submitted, &Action::Verify { severity: None, public_text: None }, false).unwrap_err();
        assert_eq!(e, FlowError::Unplaced);
        let e = next_state(ReportState::Handled, &Action::Rework { reason: " ".into() }, true).unwrap_err();
        assert_eq!(e.code(), "missing_reason");
        let e =
            next_state(ReportState::Dispatched, &Action::Reassign { squad: "s".into(), officer: None, reason: "".into() }, true);
        assert!(e.is_err());
        assert!(next_state(ReportState::Closed, &Action::Rework { reason: "x".into() }, true).is_err());
        assert_eq!(Action::Close { note: String::new() }.roles(), &[Role::Supervisor]);
    }

    #[test]
    fn duplicates_are_near_in_space_and_time_and_of_one_service() {
        let base = Sighting { id: 1, service_code: "0101", lon: 120.86, lat: 32.01, at: 1_000_000 };
        let near = Sighting { id: 5, lon: 120.8603, at: 1_000_000 + 3600, ..base };
        let far = Sighting { id: 6, lon: 120.87, ..near };
        let other = Sighting { id: 7, service_code: "0201", ..near };
        let later = Sighting { id: 8, at: 1_000_000 + 2 * 86_400, ..near };
        let open = [base];
        assert_eq!(find_duplicate(&near, &open, DuplicateRule::default()), Some(1));
        assert_eq!(find_duplicate(&far, &open, DuplicateRule::default()), None);
        assert_eq!(find_duplicate(&other, &open, DuplicateRule::default()), None);
        assert_eq!(find_duplicate(&later, &open, DuplicateRule::default()), None);
        assert!((distance_m(120.86, 32.01, 120.8603, 32.01) - 28.3).abs() < 0.5);
    }

    #[test]
    fn rewards_take_the_best_rule_within_the_cap() {
        let rules = vec![
            RewardRule { applies_to: "*".into(), min_severity: Severity::Minor, amount: 20 },
            RewardRule { applies_to: "市容环境".into(), min_severity: Severity::Serious, amount: 50 },
        ];
        let policy = RewardPolicy { monthly_cap: 100 };
        assert_eq!(reward_for(&rules, policy, &service(), Severity::Minor, 0), Some(20));
        assert_eq!(reward_for(&rules, policy, &service(), Severity::Severe, 0), Some(50));
        assert_eq!(reward_for(&rules, policy, &service(), Severity::Severe, 80), Some(20));
        assert_eq!(reward_for(&rules, policy, &service(), Severity::Severe, 100), None);
        assert_eq!(reward_for(&[], policy, &service(), Severity::Severe, 0), None);
    }

    #[test]
    fn reward_rules_read_from_rows() {
        let row = |cells: &[&str]| cells.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rules = parse_reward_rules(&[row(&["*", "serious", "30"]), row(&["施工管理", "minor", "50"])]).unwrap();
        assert_eq!(rules[1], RewardRule { applies_to: "施工管理".into(), min_severity: Severity::Minor, amount: 50 });
        let err = parse_reward_rules(&[row(&["", "awful", "x"]), row(&["*", "minor", "0"])]).unwrap_err();
        let codes: Vec<_> = err.0.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["missing", "bad_severity", "bad_amount"]);
    }

    #[test]
    fn service_rows_report_every_problem() {
        let row = |cells: &[&str]| cells.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rows = vec![
            row(&["0101", "event", "市容环境", "暴露垃圾", "", "垃圾", "p1", "1h", "1h", "1d", "4h", "true"]),
            row(&["01x", "thing", "", "n", "", "", "nope", "1h", "1w", "1d", "4h", "maybe"]),
        ];
        let err = parse_services(&rows, |p| p == "p1").unwrap_err();
        let codes: Vec<_> = err.0.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["bad_service_code", "bad_class", "missing", "unknown_power", "bad_time_limit", "bad_flag"]);
        let ok = parse_services(&rows[..1], |p| p == "p1").unwrap();
        assert_eq!(ok[0].limits.handle, TimeLimit::WorkingDays(1));
    }
}
