//! Public reporting and the digital-urban-management flow: intake (validate, place by grid, detect
//! duplicates, store through group commit), the seven steps with their roles and time limits, escalation
//! of overdue steps, queues per role, Open311 client keys and rewards.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use gridward_domain::access::{Principal, Role};
use gridward_domain::calendar::WorkCalendar;
use gridward_domain::division::{DivisionCode, Level};
use gridward_domain::report::{
    Action, Channel, DuplicateRule, ReportState, RewardRule, Service, Severity, Step, next_state, reward_for,
};
use gridward_grid::Datum;
use gridward_store::{Actor, Change, Open311Key, ReportQuery, ReportRecord, ReportUpdate, Reporter, RewardRecord};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};
use crate::{App, actor_of, change, now};

/// The longest description taken (GeoReport v2, POST Service Request: `description` up to 4,000 characters).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// The longest address text taken.
pub const MAX_ADDRESS_CHARS: usize = 200;
/// Reports written in one group-commit transaction at most.
const MAX_BATCH: usize = 512;
/// How long a live Open311 key is taken as live without reading the store again.
const OPEN311_KEY_RECHECK: std::time::Duration = std::time::Duration::from_secs(5);
/// The roles that see who reported (to call back, and to pay rewards); everyone else sees a mask.
const SEES_REPORTERS: &[Role] = &[Role::Dispatcher, Role::Leader];
/// The roles that work reports at all.
const WORKS_REPORTS: &[Role] =
    &[Role::Admin, Role::Leader, Role::Dispatcher, Role::Officer, Role::Auxiliary, Role::Supervisor, Role::Procuratorate];
/// The roles that file patrol findings and referrals.
const FILES_INTERNAL: &[Role] = &[Role::Supervisor, Role::Dispatcher, Role::Officer];

/// Live Open311 keys already looked up, by the hash of the key: the client's name and when the store
/// said so; and how many revocations this process has made, so a lookup that raced one is not kept.
#[derive(Default)]
pub struct KnownKeys {
    live: HashMap<String, (String, std::time::Instant)>,
    revocations: u64,
}

/// What intake needs on every report, read once and kept until services or owners change.
pub struct IntakeCache {
    pub services: BTreeMap<String, Service>,
    /// Grid → (squad, primary officer).
    pub owners: HashMap<String, (String, Option<String>)>,
    pub city: DivisionCode,
    /// Division code → name, to show where a report is.
    pub division_names: HashMap<String, String>,
}

/// Who is submitting.
#[derive(Debug, Clone)]
pub enum Submitter {
    /// The public web form.
    Public,
    /// An Open311 client application (its key's name).
    Client(String),
    /// A signed-in member of staff filing a patrol finding or a referral.
    Staff(Principal, Channel),
}

/// A report as given, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub service_code: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The datum `lon`/`lat` are in (WGS-84 when absent, as GPS and Open311 give them).
    pub datum: Option<Datum>,
    pub address: String,
    pub description: String,
    pub reporter: Reporter,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub media_url: Option<String>,
}

/// What the reporter is told.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub id: i64,
    pub token: String,
    /// Whether the report has a place; a report given only as an address waits to be placed.
    pub placed: bool,
    pub duplicate_of: Option<i64>,
    pub state: ReportState,
}

/// One report prepared for the group-commit writer, and where to send its stored form.
pub struct IntakeJob {
    report: ReportRecord,
    reply: oneshot::Sender<AppResult<ReportRecord>>,
}

/// A report as a member of staff sees it: the record (reporter masked unless the role needs it), its
/// service, its history and what the caller may do next.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub report: ReportRecord,
    pub service_name: String,
    pub service_group: String,
    /// The name of the squad it is routed or dispatched to.
    pub squad_name: Option<String>,
    /// Where it is, by name: district, street, community.
    pub place_name: String,
    pub updates: Vec<ReportUpdate>,
    /// The actions the caller may take now.
    pub actions: Vec<&'static str>,
    pub overdue: bool,
}

/// A report as the public sees it: no reporter, text only after it was accepted (moderation).
#[derive(Debug, Clone, Serialize)]
pub struct PublicReport {
    pub id: i64,
    pub service_code: String,
    pub service_name: String,
    pub state: ReportState,
    pub status: &'static str,
    pub extended_status: &'static str,
    pub description: String,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub agency: Option<String>,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub expected_at: Option<i64>,
    pub duplicate_of: Option<i64>,
    pub notes: Vec<PublicNote>,
    /// Photos shown publicly: evidence ids.
    pub photos: Vec<PublicPhoto>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublicNote {
    pub id: i64,
    pub action: String,
    pub state: ReportState,
    pub note: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublicPhoto {
    pub id: String,
    /// Taken when the report was handled (the after-photo), rather than with the report.
    pub after: bool,
}

/// Which queue to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// New reports to verify and registered ones to dispatch (受理员/派遣员).
    Intake,
    /// Dispatched reports for the caller's squad territory (执法队员).
    Tasks,
    /// Handled reports waiting for the check (监督员).
    Checks,
    /// Everything open that is past its step's limit.
    Overdue,
}

impl Queue {
    pub fn parse(s: &str) -> Option<Queue> {
        match s {
            "intake" => Some(Queue::Intake),
            "tasks" => Some(Queue::Tasks),
            "checks" => Some(Queue::Checks),
            "overdue" => Some(Queue::Overdue),
            _ => None,
        }
    }
}

/// Public statistics on rewards: counts and sums by month, nobody named.
#[derive(Debug, Clone, Serialize)]
pub struct RewardStats {
    pub months: Vec<RewardMonth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RewardMonth {
    pub month: String,
    pub pending: u32,
    pub approved: u32,
    pub paid: u32,
    pub paid_yuan: i64,
}

/// The reward rules in force (a city sets its own; these are the demo's).
pub fn default_reward_rules() -> Vec<RewardRule> {
    vec![
        RewardRule { applies_to: "*".into(), min_severity: Severity::Serious, amount: 20 },
        RewardRule { applies_to: "施工管理".into(), min_severity: Severity::Serious, amount: 50 },
        RewardRule { applies_to: "突发事件".into(), min_severity: Severity::Minor, amount: 50 },
        RewardRule { applies_to: "*".into(), min_severity: Severity::Severe, amount: 100 },
    ]
}

/// Reads a reward rule file (CSV: `applies_to,min_severity,amount`), every bad row reported.
pub fn read_reward_rules(bytes: &[u8]) -> AppResult<Vec<RewardRule>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let header: Vec<String> =
        reader.headers().map_err(|e| AppError::bad_request("bad_csv", e.to_string()))?.iter().map(str::to_string).collect();
    if header != ["applies_to", "min_severity", "amount"] {
        return Err(AppError::bad_request("bad_header", "the columns are applies_to,min_severity,amount"));
    }
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
        .collect::<Result<_, _>>()
        .map_err(|e| AppError::bad_request("bad_csv", e.to_string()))?;
    Ok(gridward_domain::report::parse_reward_rules(&rows)?)
}

/// `138****5678`: enough to recognise a number, not to call it.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..3], &chars[chars.len() - 4..]);
    format!("{}****{}", head.iter().collect::<String>(), tail.iter().collect::<String>())
}

fn mask_reporter(r: &Reporter) -> Reporter {
    Reporter {
        name: r.name.chars().next().map(|c| format!("{c}*")).unwrap_or_default(),
        phone: if r.phone.is_empty() { String::new() } else { mask_phone(&r.phone) },
        email: if r.email.is_empty() { String::new() } else { "***".into() },
        device_id: String::new(),
    }
}

/// Plain text only: control characters (other than line breaks) are dropped, and markup is refused so
/// that nothing a reporter writes is ever read as HTML.
pub(crate) fn clean_text(field: &'static str, text: &str, max: usize) -> AppResult<String> {
    let text: String = text.chars().filter(|c| !c.is_control() || *c == '\n').collect::<String>().trim().to_string();
    if text.chars().count() > max {
        return Err(AppError::bad_request("text_too_long", format!("{field} has at most {max} characters")));
    }
    if text.contains('<') && text.contains('>') {
        return Err(AppError::bad_request("markup_refused", format!("{field} is plain text; markup is not taken")));
    }
    Ok(text)
}

/// A report's token: 32 hex digits, the time in milliseconds (12) then 80 random bits (20). The
/// random part makes it unguessable; the time first makes new tokens sort after older ones, so storing
/// one touches the end of the token index and not a page anywhere in it.
fn new_token() -> AppResult<String> {
    let millis = jiff::Timestamp::now().as_millisecond().clamp(0, 0xffff_ffff_ffff);
    Ok(format!("{millis:012x}{}", crate::random_hex::<10>()?))
}

fn sha256_hex(text: &str) -> String {
    gridward_ledger::HashAlgorithm::Sha256.digest(text.as_bytes()).to_hex()
}

/// `YYYY-MM` of an instant, Beijing time.
fn month_of(at: i64) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    let z = jiff::Timestamp::from_second(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(tz);
    format!("{:04}-{:02}", z.year(), z.month())
}

impl App {
    /// Intake's cached services and grid owners, read from the store on first use.
    pub async fn intake_cache(&self) -> AppResult<Arc<IntakeCache>> {
        if let Some(cache) = self.intake_cache.read().expect("intake cache lock").clone() {
            return Ok(cache);
        }
        let services = self.store.services().await?.into_iter().map(|s| (s.code.clone(), s)).collect();
        let owners = self
            .store
            .grid_owners()
            .await?
            .into_iter()
            .map(|o| (o.grid.clone(), (o.squad.clone(), o.primary_officer.clone())))
            .collect();
        let divisions = self.store.all_divisions().await?;
        let city = divisions
            .iter()
            .find(|d| d.level == Level::City)
            .map(|d| d.code.clone())
            .ok_or_else(|| AppError::bad_request("no_city", "load the city's divisions before taking reports"))?;
        let division_names = divisions.into_iter().map(|d| (d.code.to_string(), d.name)).collect();
        let cache = Arc::new(IntakeCache { services, owners, city, division_names });
        *self.intake_cache.write().expect("intake cache lock") = Some(cache.clone());
        Ok(cache)
    }

    /// Forgets the intake cache; the next report reads services and owners again.
    pub fn forget_intake_cache(&self) {
        *self.intake_cache.write().expect("intake cache lock") = None;
    }

    /// Adds or revises the service list (admin). Every service must name a power in the catalog.
    pub async fn set_services(&self, who: &Principal, services: &[Service]) -> AppResult<usize> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        self.store_services(services, &actor_of(who)).await
    }

    pub(crate) async fn store_services(&self, services: &[Service], actor: &Actor) -> AppResult<usize> {
        let powers: std::collections::HashSet<String> =
            self.store.powers_in_force(crate::today()).await?.into_iter().map(|p| p.power.code).collect();
        let rows: Vec<Vec<String>> = services
            .iter()
            .map(|s| {
                vec![
                    s.code.clone(),
                    s.class.as_str().into(),
                    s.group.clone(),
                    s.name.clone(),
                    s.description.clone(),
                    s.keywords.join(";"),
                    s.power_code.clone(),
                    s.limits.verify.to_string(),
                    s.limits.dispatch.to_string(),
                    s.limits.handle.to_string(),
                    s.limits.check.to_string(),
                    s.public.to_string(),
                ]
            })
            .collect();
        gridward_domain::report::parse_services(&rows, |p| powers.contains(p))?;
        let changed = self.store.set_services(services, &change(actor)).await?;
        self.forget_intake_cache();
        Ok(changed)
    }

    /// Reads a service list file (CSV, `SERVICE_COLUMNS`) and stores it, all or nothing (admin).
    pub async fn import_services_csv(&self, who: &Principal, bytes: &[u8]) -> AppResult<usize> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        self.import_services_csv_as(bytes, &actor_of(who)).await
    }

    /// The same, as an operator at the shell.
    pub async fn import_services_csv_as(&self, bytes: &[u8], actor: &Actor) -> AppResult<usize> {
        let services = self.parse_services_csv(bytes).await?;
        self.store_services(&services, actor).await
    }

    pub(crate) async fn parse_services_csv(&self, bytes: &[u8]) -> AppResult<Vec<Service>> {
        let powers: std::collections::HashSet<String> =
            self.store.powers_in_force(crate::today()).await?.into_iter().map(|p| p.power.code).collect();
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
        let header: Vec<String> =
            reader.headers().map_err(|e| AppError::bad_request("bad_csv", e.to_string()))?.iter().map(str::to_string).collect();
        if header != gridward_domain::report::SERVICE_COLUMNS {
            return Err(AppError::bad_request(
                "bad_header",
                format!("the columns are {}", gridward_domain::report::SERVICE_COLUMNS.join(",")),
            ));
        }
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::bad_request("bad_csv", e.to_string()))?;
        Ok(gridward_domain::report::parse_services(&rows, |p| powers.contains(p))?)
    }

    /// The services the public may report (all of them for staff).
    pub async fn services(&self, public_only: bool) -> AppResult<Vec<Service>> {
        let cache = self.intake_cache().await?;
        Ok(cache.services.values().filter(|s| s.public || !public_only).cloned().collect())
    }

    /// Checks a report, places it, looks for an earlier report of the same problem, and stores it. Public
    /// and Open311 reports go through the group-commit writer: concurrent reports share one transaction.
    pub async fn submit_report(&self, submitter: &Submitter, input: NewReport) -> AppResult<Submitted> {
        let cache = self.intake_cache().await?;
        let (channel, client, staff) = match submitter {
            Submitter::Public => (Channel::Web, None, None),
            Submitter::Client(name) => (Channel::Open311, Some(name.clone()), None),
            Submitter::Staff(who, channel) => {
                if !who.has_any(FILES_INTERNAL) || !matches!(channel, Channel::Patrol | Channel::Referral) {
                    return Err(AppError::Forbidden);
                }
                (*channel, None, Some(who))
            }
        };
        let service = cache
            .services
            .get(input.service_code.trim())
            .filter(|s| s.public || staff.is_some())
            .ok_or(AppError::NotFound("service"))?;
        let description = clean_text("description", &input.description, MAX_DESCRIPTION_CHARS)?;
        let address = clean_text("address", &input.address, MAX_ADDRESS_CHARS)?;
        let severity = match input.attributes.get("severity").and_then(|v| v.first()) {
            None => Severity::Minor,
            Some(v) => Severity::parse(v).ok_or_else(|| {
                AppError::bad_request("bad_attribute", format!("severity {v:?} is not one of minor, serious, severe"))
            })?,
        };
        for code in input.attributes.keys() {
            if code != "severity" {
                return Err(AppError::bad_request(
                    "unknown_attribute",
                    format!("service {} has no attribute {code:?}", service.code),
                ));
            }
        }
        let reporter = Reporter {
            name: clean_text("first_name/last_name", &input.reporter.name, 60)?,
            phone: clean_text("phone", &input.reporter.phone, 30)?,
            email: clean_text("email", &input.reporter.email, 120)?,
            device_id: clean_text("device_id", &input.reporter.device_id, 120)?,
        };
        let media_url = match input.media_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(u)
                if (u.starts_with("https://") || u.starts_with("http://"))
                    && u.len() <= 500
                    && !u.contains(['<', '>', '"', ' ']) =>
            {
                Some(u.to_string())
            }
            Some(_) => {
                return Err(AppError::bad_request("bad_media_url", "media_url is an http(s) URL of at most 500 characters"));
            }
        };
        // Place the report: a point goes through the grid index; an address alone waits to be placed.
        let (lon, lat, grid_code, jurisdiction) = match (input.lon, input.lat) {
            (Some(lon), Some(lat)) => {
                let (wlon, wlat, grid, place) = self.place_point(lon, lat, input.datum.unwrap_or(Datum::Wgs84)).await?;
                (Some(wlon), Some(wlat), grid, place)
            }
            (None, None) if !address.is_empty() => (None, None, None, cache.city.to_string()),
            (Some(_), None) | (None, Some(_)) => return Err(AppError::bad_request("missing_location", "give both lat and long")),
            (None, None) => return Err(AppError::bad_request("missing_location", "give lat and long, or an address")),
        };
        let at = now();
        let (squad, officer) =
            grid_code.as_ref().and_then(|g| cache.owners.get(g)).cloned().map_or((None, None), |(s, o)| (Some(s), o));
        let report = ReportRecord {
            id: 0,
            token: new_token()?,
            service_code: service.code.clone(),
            channel,
            client,
            state: ReportState::Submitted,
            cancel_reason: None,
            severity,
            description,
            address,
            lon,
            lat,
            grid_code,
            jurisdiction,
            squad,
            officer,
            duplicate_of: None,
            reporter,
            attributes: input.attributes,
            media_url,
            submitted_at: at,
            updated_at: at,
            step_due: Some(WorkCalendar::official().deadline(at, service.limits.of(Step::Verify)).due),
            escalated: false,
            reworks: 0,
            closed_at: None,
            case_ref: None,
            ledger_seq: 0,
        };
        // The store links duplicates in the transaction that writes the report.
        let rule = Some(self.duplicate_rule);
        let stored = match staff {
            Some(who) => self.store.submit_reports(std::slice::from_ref(&report), rule, &change(&actor_of(who))).await?.remove(0),
            None if self.group_commit => self.submit_through_writer(report).await?,
            None => self.store.submit_reports(std::slice::from_ref(&report), rule, &intake_change()).await?.remove(0),
        };
        Ok(Submitted {
            id: stored.id,
            token: stored.token,
            placed: stored.lon.is_some(),
            duplicate_of: stored.duplicate_of,
            state: stored.state,
        })
    }

    /// A point's WGS-84 position, its grid (if one covers it) and its community, or
    /// `outside_jurisdiction`.
    async fn place_point(&self, lon: f64, lat: f64, datum: Datum) -> AppResult<(f64, f64, Option<String>, String)> {
        crate::places::check_point(lon, lat)?;
        let (wlon, wlat) = datum.convert(Datum::Wgs84, lon, lat);
        let places = self.places().await?;
        let (x, y) = Datum::Wgs84.convert(places.datum, wlon, wlat);
        match places.grid_and_place(x, y) {
            Some((grid, place)) => Ok((wlon, wlat, grid.map(str::to_owned), place.to_string())),
            None => Err(AppError::bad_request(
                crate::places::OUTSIDE_JURISDICTION,
                format!("({lon}, {lat}) lies outside every division of this city"),
            )),
        }
    }

    /// Pins a report that came with an address only (dispatcher): it moves to the community the point lies
    /// in, is routed like any other, and its token now yields its number.
    pub async fn place_report(&self, who: &Principal, id: i64, lon: f64, lat: f64, datum: Datum) -> AppResult<ReportView> {
        if !who.has(Role::Dispatcher) {
            return Err(AppError::Forbidden);
        }
        let report = self.report_in_scope(who, id).await?;
        if report.lon.is_some() || report.state != ReportState::Submitted {
            return Err(AppError::bad_request("illegal_transition", "only a new report given as an address is placed"));
        }
        let (wlon, wlat, grid_code, jurisdiction) = self.place_point(lon, lat, datum).await?;
        let cache = self.intake_cache().await?;
        let (squad, officer) =
            grid_code.as_ref().and_then(|g| cache.owners.get(g)).cloned().map_or((None, None), |(s, o)| (Some(s), o));
        let at = now();
        let next = ReportRecord {
            lon: Some(wlon),
            lat: Some(wlat),
            grid_code,
            jurisdiction,
            squad,
            officer,
            updated_at: at,
            ..report.clone()
        };
        let update = ReportUpdate::new(
            id,
            "place",
            report.state,
            format!("placed at ({wlon:.6}, {wlat:.6})"),
            String::new(),
            &who.username,
            at,
        );
        let stored = self.record_step(&change(&actor_of(who)), &report, next, &update).await?;
        self.view_with_history(who, stored).await
    }

    /// Writes one step: the report's new row and its update under one entry, if the stored report is still
    /// the one `read` (`conflict` otherwise, and nothing is written).
    async fn record_step(
        &self,
        change: &Change,
        read: &ReportRecord,
        next: ReportRecord,
        update: &ReportUpdate,
    ) -> AppResult<ReportRecord> {
        self.store
            .update_report(&next, read.ledger_seq, update, change)
            .await?
            .ok_or_else(|| AppError::Conflict("the report changed since it was read; reload it".into()))
    }

    /// A report as the caller sees it, with its whole history.
    async fn view_with_history(&self, who: &Principal, report: ReportRecord) -> AppResult<ReportView> {
        let cache = self.intake_cache().await?;
        let updates = self.store.report_updates(report.id).await?;
        Ok(self.view(who, report, updates, &cache, &self.body_names().await?))
    }

    /// Hands a report to the group-commit writer (started on first use) and waits until it is durable.
    async fn submit_through_writer(&self, report: ReportRecord) -> AppResult<ReportRecord> {
        let sender = self
            .intake_writer
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel::<IntakeJob>(MAX_BATCH * 8);
                // The writer gets a thread and a runtime of its own: on the shared runtime each of its
                // awaits would queue behind every request in flight, and a batch would take that long.
                let (store, rule) = (self.store.clone(), self.duplicate_rule);
                let started = std::thread::Builder::new().name("intake-writer".into()).spawn(move || {
                    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(runtime) => runtime.block_on(run_intake_writer(store, rx, rule)),
                        Err(e) => tracing::error!(error = %e, "the intake writer's runtime did not start"),
                    }
                });
                if let Err(e) = started {
                    tracing::error!(error = %e, "the intake writer's thread did not start");
                }
                tx
            })
            .clone();
        let (reply, answer) = oneshot::channel();
        sender.send(IntakeJob { report, reply }).await.map_err(|_| AppError::Internal("the intake writer stopped".into()))?;
        answer.await.map_err(|_| AppError::Internal("the intake writer dropped a report".into()))?
    }

    /// A report for a member of staff in its territory (404 outside it, so its existence does not leak).
    pub async fn report_view(&self, who: &Principal, id: i64) -> AppResult<ReportView> {
        let report = self.report_in_scope(who, id).await?;
        self.view_with_history(who, report).await
    }

    async fn report_in_scope(&self, who: &Principal, id: i64) -> AppResult<ReportRecord> {
        if !who.has_any(WORKS_REPORTS) {
            return Err(AppError::Forbidden);
        }
        match self.store.report(id).await? {
            Some(r) if DivisionCode::parse(&r.jurisdiction).is_ok_and(|d| who.covers(&d)) => Ok(r),
            _ => Err(AppError::NotFound("report")),
        }
    }

    /// Body code → name, for showing squads by name.
    async fn body_names(&self) -> AppResult<HashMap<String, String>> {
        Ok(self.store.all_bodies().await?.into_iter().map(|b| (b.code, b.name)).collect())
    }

    fn view(
        &self,
        who: &Principal,
        mut report: ReportRecord,
        updates: Vec<ReportUpdate>,
        cache: &IntakeCache,
        names: &HashMap<String, String>,
    ) -> ReportView {
        if !who.has_any(SEES_REPORTERS) {
            report.reporter = mask_reporter(&report.reporter);
        }
        let service = cache.services.get(&report.service_code);
        let actions = possible_actions(who, &report);
        let overdue = report.state.is_open() && report.step_due.is_some_and(|d| d < now());
        report.token = String::new();
        ReportView {
            place_name: place_name(&report.jurisdiction, &cache.division_names),
            squad_name: report.squad.as_ref().map(|s| names.get(s).cloned().unwrap_or_else(|| s.clone())),
            service_name: service.map(|s| s.name.clone()).unwrap_or_default(),
            service_group: service.map(|s| s.group.clone()).unwrap_or_default(),
            report,
            updates,
            actions,
            overdue,
        }
    }

    /// A role's queue within the caller's territory, oldest first.
    pub async fn queue(&self, who: &Principal, queue: Queue, limit: u32) -> AppResult<Vec<ReportView>> {
        if !who.has_any(WORKS_REPORTS) {
            return Err(AppError::Forbidden);
        }
        let states = match queue {
            Queue::Intake => vec![ReportState::Submitted, ReportState::Registered],
            Queue::Tasks => vec![ReportState::Dispatched],
            Queue::Checks => vec![ReportState::Handled],
            Queue::Overdue => ReportState::ALL.into_iter().filter(|s| s.is_open()).collect(),
        };
        let query = ReportQuery {
            within: who.scope.territory_prefix().to_string(),
            states,
            due_before: (queue == Queue::Overdue).then(now),
            limit: limit.clamp(1, 500),
            ..ReportQuery::default()
        };
        let cache = self.intake_cache().await?;
        let reports = self.store.reports(&query).await?;
        let names = self.body_names().await?;
        Ok(reports.into_iter().map(|r| self.view(who, r, Vec::new(), &cache, &names)).collect())
    }

    /// Reports in the caller's territory matching `query` (its `within` is narrowed to the territory).
    pub async fn search_reports(&self, who: &Principal, mut query: ReportQuery) -> AppResult<Vec<ReportView>> {
        if !who.has_any(WORKS_REPORTS) {
            return Err(AppError::Forbidden);
        }
        let scope = who.scope.territory_prefix().to_string();
        if !query.within.starts_with(&scope) {
            query.within = scope;
        }
        let cache = self.intake_cache().await?;
        let names = self.body_names().await?;
        Ok(self.store.reports(&query).await?.into_iter().map(|r| self.view(who, r, Vec::new(), &cache, &names)).collect())
    }

    /// Takes one step on a report, as the caller, if the law of the flow and the caller's role and
    /// territory allow it now.
    pub async fn act_on_report(&self, who: &Principal, id: i64, action: Action) -> AppResult<ReportView> {
        let report = self.report_in_scope(who, id).await?;
        if !who.has_any(action.roles()) {
            return Err(AppError::Forbidden);
        }
        let cache = self.intake_cache().await?;
        let service = cache.services.get(&report.service_code).ok_or(AppError::NotFound("service"))?.clone();
        let state = next_state(report.state, &action, report.lon.is_some())
            .map_err(|e| AppError::bad_request(e.code(), e.to_string()))?;
        let at = now();
        let mut next = ReportRecord { state, updated_at: at, ..report.clone() };
        let (note, public_note) = match &action {
            Action::Verify { severity, public_text } => {
                if let Some(s) = severity {
                    next.severity = *s;
                }
                if let Some(text) = public_text {
                    next.description = clean_text("description", text, MAX_DESCRIPTION_CHARS)?;
                }
                (String::new(), "已受理立案 / registered".to_string())
            }
            Action::Cancel { reason, note } => {
                next.cancel_reason = Some(*reason);
                (note.clone(), note.clone())
            }
            Action::MarkDuplicate { of } => {
                let earlier = self.report_in_scope(who, *of).await.map_err(|_| {
                    AppError::bad_request("bad_duplicate", format!("report {of} is not a report in your territory"))
                })?;
                if earlier.id == report.id || earlier.duplicate_of.is_some() {
                    return Err(AppError::bad_request("bad_duplicate", "a report is a duplicate of another, original report"));
                }
                next.duplicate_of = Some(earlier.id);
                (String::new(), format!("duplicate of {}", earlier.id))
            }
            Action::Dispatch { squad, officer } | Action::Reassign { squad, officer, .. } => {
                self.check_squad(&report, squad, officer.as_deref()).await?;
                next.squad = Some(squad.clone());
                next.officer = officer.clone();
                let name = self.store.body(squad).await?.map(|b| b.name).unwrap_or_else(|| squad.clone());
                let reason = if let Action::Reassign { reason, .. } = &action { reason.clone() } else { String::new() };
                (reason, format!("已派遣至 {name} / dispatched"))
            }
            Action::Handle { note } => {
                // Record order, not clock seconds, tells which photos came after the report was (re)sent.
                let since = self.last_dispatch_seq(id).await?;
                let photos = self.store.evidence_of("report", &id.to_string()).await?;
                if !photos.iter().any(|p| p.kind == "photo" && p.ledger_seq > since) {
                    return Err(AppError::bad_request(
                        "photo_required",
                        "attach a photo of the result before marking the report handled",
                    ));
                }
                (note.clone(), note.clone())
            }
            Action::Close { note } => {
                next.closed_at = Some(at);
                (note.clone(), if note.is_empty() { "已核查结案 / closed".into() } else { note.clone() })
            }
            Action::Rework { reason } => {
                next.reworks += 1;
                (reason.clone(), "核查未通过，返工 / sent back for rework".into())
            }
        };
        if state != report.state || matches!(action, Action::Reassign { .. }) {
            next.escalated = false;
            next.step_due = state.step().map(|step| WorkCalendar::official().deadline(at, service.limits.of(step)).due);
        }
        let update = ReportUpdate::new(id, action.name(), state, note, public_note, &who.username, at);
        let stored = self.record_step(&change(&actor_of(who)), &report, next, &update).await?;
        if state == ReportState::Closed {
            self.propose_reward(&stored, &service).await?;
        }
        self.view_with_history(who, stored).await
    }

    async fn last_dispatch_seq(&self, id: i64) -> AppResult<i64> {
        let updates = self.store.report_updates(id).await?;
        Ok(updates
            .iter()
            .rev()
            .find(|u| matches!(u.action.as_str(), "dispatch" | "reassign" | "rework"))
            .map_or(0, |u| u.ledger_seq))
    }

    /// A squad may take a report when its territory covers the report's place; an officer must be an active
    /// member of it.
    async fn check_squad(&self, report: &ReportRecord, squad: &str, officer: Option<&str>) -> AppResult<()> {
        let body =
            self.store.body(squad).await?.ok_or_else(|| AppError::bad_request("unknown_squad", format!("no body {squad:?}")))?;
        let place = DivisionCode::parse(&report.jurisdiction).map_err(|e| AppError::Internal(e.to_string()))?;
        if !body.division_code.covers(&place) {
            return Err(AppError::bad_request(
                "squad_out_of_territory",
                format!("{} works in {}, not where the report is", body.name, body.division_code),
            ));
        }
        if let Some(no) = officer {
            let staff = self.store.staff_member(no).await?;
            if !staff.is_some_and(|s| s.body_code == squad && s.active) {
                return Err(AppError::bad_request(
                    "officer_not_in_squad",
                    format!("{no} is not an active member of {}", body.name),
                ));
            }
        }
        Ok(())
    }

    /// The squads that may take a report (their territory covers its place), the routed one first.
    pub async fn squads_for_report(&self, who: &Principal, id: i64) -> AppResult<Vec<(String, String)>> {
        let report = self.report_in_scope(who, id).await?;
        let place = DivisionCode::parse(&report.jurisdiction).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut squads: Vec<(String, String)> = self
            .store
            .all_bodies()
            .await?
            .into_iter()
            .filter(|b| b.kind == gridward_domain::org::BodyKind::StreetSquad && b.division_code.covers(&place))
            .map(|b| (b.code, b.name))
            .collect();
        squads.sort_by_key(|(code, _)| Some(code) != report.squad.as_ref());
        Ok(squads)
    }

    /// Records that a report revealed a violation and became an enforcement case (officers, leaders):
    /// the case's reference is kept with the report and in the record. A report links to one case.
    pub async fn link_case(&self, who: &Principal, id: i64, case_ref: &str) -> AppResult<ReportView> {
        if !who.has_any(&[Role::Officer, Role::Leader]) {
            return Err(AppError::Forbidden);
        }
        let report = self.report_in_scope(who, id).await?;
        let case_ref = clean_text("case", case_ref, 60)?;
        if case_ref.is_empty() {
            return Err(AppError::bad_request("missing_case", "name the case"));
        }
        if report.case_ref.is_some() {
            return Err(AppError::bad_request("case_linked", format!("report {id} is already linked to a case")));
        }
        if matches!(report.state, ReportState::Submitted | ReportState::Cancelled | ReportState::Duplicate) {
            return Err(AppError::bad_request("illegal_transition", "only a registered report can become a case"));
        }
        let at = now();
        let next = ReportRecord { case_ref: Some(case_ref.clone()), updated_at: at, ..report.clone() };
        let update = ReportUpdate::new(id, "to_case", report.state, format!("case {case_ref}"), String::new(), &who.username, at);
        let stored = self.record_step(&change(&actor_of(who)), &report, next, &update).await?;
        self.view_with_history(who, stored).await
    }

    /// Marks every open report whose step ran over its limit as escalated (督办), once per step.
    pub async fn escalate_overdue(&self) -> AppResult<usize> {
        let at = now();
        let overdue = self
            .store
            .reports(&ReportQuery {
                states: ReportState::ALL.into_iter().filter(|s| s.is_open()).collect(),
                due_before: Some(at),
                // Only those not pushed yet, so a backlog of escalated reports never hides a new one.
                escalated: Some(false),
                limit: 1000,
                ..ReportQuery::default()
            })
            .await?;
        let system = Change { actor: Actor::new("deadline-scan", "system"), at };
        let mut escalated = 0;
        for report in overdue {
            let step = report.state.step().map(Step::as_str).unwrap_or("");
            let update = ReportUpdate::new(
                report.id,
                "escalate",
                report.state,
                format!("the {step} step ran over its time limit"),
                String::new(),
                &system.actor.name,
                at,
            );
            let next = ReportRecord { escalated: true, updated_at: at, ..report.clone() };
            if self.store.update_report(&next, report.ledger_seq, &update, &system).await?.is_some() {
                escalated += 1;
            }
        }
        Ok(escalated)
    }

    /// A report as anyone may see it, by number or by the reporter's token.
    pub async fn public_report(&self, id: i64) -> AppResult<PublicReport> {
        let report = self.store.report(id).await?.ok_or(AppError::NotFound("report"))?;
        self.public_form(report).await
    }

    pub async fn public_report_by_token(&self, token: &str) -> AppResult<PublicReport> {
        let report = self.store.report_by_token(token.trim()).await?.ok_or(AppError::NotFound("report"))?;
        self.public_form(report).await
    }

    /// The report numbers behind tokens: `None` for a token whose report is not placed yet.
    pub async fn report_id_for_token(&self, token: &str) -> AppResult<Option<i64>> {
        let report = self.store.report_by_token(token.trim()).await?.ok_or(AppError::NotFound("token"))?;
        Ok(report.lon.is_some().then_some(report.id))
    }

    /// Public reports by an Open311 query (at most 1000, and 90 days by default).
    pub async fn public_reports(&self, query: ReportQuery) -> AppResult<Vec<PublicReport>> {
        let reports = self.store.reports(&query).await?;
        let ids: Vec<i64> = reports.iter().map(|r| r.id).collect();
        // Three reads for the whole list, not three per report.
        let mut updates: HashMap<i64, Vec<ReportUpdate>> = HashMap::new();
        for u in self.store.updates_of_reports(&ids).await? {
            updates.entry(u.report_id).or_default().push(u);
        }
        let mut photos: HashMap<i64, Vec<gridward_store::EvidenceRecord>> = HashMap::new();
        for p in self.store.photos_of_reports(&ids).await? {
            if let Ok(id) = p.object_id.parse::<i64>() {
                photos.entry(id).or_default().push(p);
            }
        }
        let (cache, names) = (self.intake_cache().await?, self.body_names().await?);
        Ok(reports
            .into_iter()
            .map(|r| {
                let (u, p) = (updates.remove(&r.id).unwrap_or_default(), photos.remove(&r.id).unwrap_or_default());
                public_form(r, u, p, &cache, &names)
            })
            .collect())
    }

    /// Updates to reports in [from, to), for the Open311 `servicerequestupdates` extension.
    pub async fn public_updates(&self, from: i64, to: i64, limit: u32) -> AppResult<Vec<(ReportUpdate, ReportRecord)>> {
        let updates = self.store.updates_between(from, to, limit).await?;
        let mut ids: Vec<i64> = updates.iter().map(|u| u.report_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let reports: HashMap<i64, ReportRecord> = self
            .store
            .reports(&ReportQuery { ids, limit: limit.max(1), ..ReportQuery::default() })
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Ok(updates.into_iter().filter_map(|u| reports.get(&u.report_id).cloned().map(|r| (u, r))).collect())
    }

    async fn public_form(&self, report: ReportRecord) -> AppResult<PublicReport> {
        let updates = self.store.report_updates(report.id).await?;
        let photos = self.store.photos_of_reports(&[report.id]).await?;
        Ok(public_form(report, updates, photos, &*self.intake_cache().await?, &self.body_names().await?))
    }

    /// A client application's comment on an open, placed report (the Open311 update extension): recorded
    /// and shown with the report; it never changes the report's state.
    pub async fn comment_on_report(&self, client: &str, id: i64, text: &str) -> AppResult<ReportUpdate> {
        let text = clean_text("description", text, MAX_DESCRIPTION_CHARS)?;
        if text.is_empty() {
            return Err(AppError::bad_request("missing_description", "description is required"));
        }
        let report = self.store.report(id).await?.filter(|r| r.lon.is_some()).ok_or(AppError::NotFound("report"))?;
        if !report.state.is_open() {
            return Err(AppError::bad_request("report_closed", "a closed report takes no more updates"));
        }
        let at = now();
        let update = ReportUpdate::new(id, "comment", report.state, format!("from {client}"), text, client, at);
        let next = ReportRecord { updated_at: at, ..report.clone() };
        self.record_step(&change(&Actor::new(client, "open311_client")), &report, next, &update).await?;
        let updates = self.store.report_updates(id).await?;
        updates
            .into_iter()
            .rev()
            .find(|u| u.action == "comment")
            .ok_or_else(|| AppError::Internal("the update was not stored".into()))
    }

    /// The city's district outlines as GeoJSON (GCJ-02, as stored for the demo): the base map of the public
    /// form and the task map. Administrative boundaries are public.
    pub async fn public_outlines(&self) -> AppResult<serde_json::Value> {
        let city = self.intake_cache().await?.city.clone();
        let features: Vec<serde_json::Value> = self
            .store
            .child_boundaries(&city)
            .await?
            .into_iter()
            .map(|b| serde_json::json!({"type": "Feature", "geometry": b.geometry, "properties": {"code": b.code.as_str(), "datum": b.datum}}))
            .collect();
        Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
    }

    /// Issues an Open311 key for a client application (admin). The key is shown once; only its hash is kept.
    pub async fn issue_open311_key(&self, who: &Principal, name: &str, contact: &str) -> AppResult<String> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        self.issue_open311_key_as(name, contact, &actor_of(who)).await
    }

    pub async fn issue_open311_key_as(&self, name: &str, contact: &str, actor: &Actor) -> AppResult<String> {
        let name = name.trim();
        if name.is_empty() || name.len() > 60 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(AppError::bad_request("bad_key_name", "a key name is 1–60 letters, digits, '-', '_' or '.'"));
        }
        if self.store.open311_keys().await?.iter().any(|k| k.name == name) {
            return Err(AppError::Conflict(format!("a key named {name} exists; revoke it and choose another name")));
        }
        let key = format!("gw311_{}", new_token()?);
        let record = Open311Key {
            name: name.to_string(),
            key_hash: sha256_hex(&key),
            contact: clean_text("contact", contact, 200)?,
            created_by: actor.name.clone(),
            created_at: now(),
            revoked_at: None,
        };
        self.store.add_open311_key(&record, &change(actor)).await?;
        Ok(key)
    }

    pub async fn open311_keys(&self, who: &Principal) -> AppResult<Vec<Open311Key>> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        Ok(self.store.open311_keys().await?)
    }

    pub async fn revoke_open311_key(&self, who: &Principal, name: &str) -> AppResult<()> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        let revoked = self.store.revoke_open311_key(name, &change(&actor_of(who))).await?;
        let mut known = self.open311_keys.write().expect("open311 key cache lock");
        known.live.retain(|_, (client, _)| client != name);
        known.revocations += 1;
        drop(known);
        if revoked { Ok(()) } else { Err(AppError::NotFound("key")) }
    }

    /// The client a key belongs to, if the key is live. A live key is remembered for
    /// `OPEN311_KEY_RECHECK`, so a busy client's posts do not each read the store; a revocation here takes
    /// effect at once, one made by another process within that time. Unknown keys are never remembered.
    pub async fn open311_client(&self, key: &str) -> AppResult<Option<String>> {
        let key = key.trim();
        if key.is_empty() {
            return Ok(None);
        }
        let hash = sha256_hex(key);
        let revocations = {
            let known = self.open311_keys.read().expect("open311 key cache lock");
            if let Some((client, read)) = known.live.get(&hash)
                && read.elapsed() < OPEN311_KEY_RECHECK
            {
                return Ok(Some(client.clone()));
            }
            known.revocations
        };
        let read = std::time::Instant::now();
        let client = self.store.open311_key_by_hash(&hash).await?.filter(|k| k.revoked_at.is_none()).map(|k| k.name);
        let mut known = self.open311_keys.write().expect("open311 key cache lock");
        match &client {
            // A revocation made while the store was read may not be in what was read.
            Some(name) if known.revocations == revocations => known.live.insert(hash, (name.clone(), read)),
            _ => known.live.remove(&hash),
        };
        Ok(client)
    }

    /// A closed report earns its reporter a reward when a rule covers it, the reporter left a phone number
    /// and the month's cap is not spent; it starts pending.
    async fn propose_reward(&self, report: &ReportRecord, service: &Service) -> AppResult<()> {
        if report.reporter.phone.is_empty()
            || report.duplicate_of.is_some()
            || matches!(report.channel, Channel::Patrol | Channel::Referral)
        {
            return Ok(());
        }
        let key = sha256_hex(report.reporter.phone.trim());
        let month = month_of(report.closed_at.unwrap_or(report.updated_at));
        let awarded = self.store.awarded_in_month(&key, &month).await?;
        let Some(amount) = reward_for(
            &self.reward_rules,
            self.reward_policy,
            service,
            report.severity,
            awarded.clamp(0, u32::MAX as i64) as u32,
        ) else {
            return Ok(());
        };
        let reward = RewardRecord {
            report_id: report.id,
            reporter_key: key,
            month,
            amount: i64::from(amount),
            state: "pending".into(),
            decided_by: None,
            updated_at: now(),
        };
        self.store.put_reward(&reward, &change(&Actor::new("reward-rules", "system"))).await?;
        Ok(())
    }

    /// Approves, pays or refuses a reward (leader).
    pub async fn decide_reward(&self, who: &Principal, report_id: i64, decision: &str) -> AppResult<RewardRecord> {
        if !who.has(Role::Leader) {
            return Err(AppError::Forbidden);
        }
        self.report_in_scope(who, report_id).await?;
        let reward = self.store.reward(report_id).await?.ok_or(AppError::NotFound("reward"))?;
        let allowed = matches!(
            (reward.state.as_str(), decision),
            ("pending", "approved") | ("pending", "refused") | ("approved", "paid") | ("approved", "refused")
        );
        if !allowed {
            return Err(AppError::bad_request(
                "illegal_transition",
                format!("a {} reward cannot become {decision}", reward.state),
            ));
        }
        let next =
            RewardRecord { state: decision.to_string(), decided_by: Some(who.username.clone()), updated_at: now(), ..reward };
        self.store.put_reward(&next, &change(&actor_of(who))).await?;
        Ok(next)
    }

    /// Rewards in the caller's territory (leader).
    pub async fn rewards(&self, who: &Principal) -> AppResult<Vec<(RewardRecord, ReportView)>> {
        if !who.has(Role::Leader) {
            return Err(AppError::Forbidden);
        }
        let cache = self.intake_cache().await?;
        let names = self.body_names().await?;
        let mut out = Vec::new();
        for reward in self.store.rewards().await? {
            if let Some(report) = self.store.report(reward.report_id).await?
                && DivisionCode::parse(&report.jurisdiction).is_ok_and(|d| who.covers(&d))
            {
                out.push((reward, self.view(who, report, Vec::new(), &cache, &names)));
            }
        }
        Ok(out)
    }

    /// Public, anonymous reward statistics by month.
    pub async fn reward_stats(&self) -> AppResult<RewardStats> {
        let mut months: BTreeMap<String, RewardMonth> = BTreeMap::new();
        for r in self.store.rewards().await? {
            let m = months.entry(r.month.clone()).or_insert_with(|| RewardMonth {
                month: r.month.clone(),
                pending: 0,
                approved: 0,
                paid: 0,
                paid_yuan: 0,
            });
            match r.state.as_str() {
                "pending" => m.pending += 1,
                "approved" => m.approved += 1,
                "paid" => {
                    m.paid += 1;
                    m.paid_yuan += r.amount;
                }
                _ => {}
            }
        }
        Ok(RewardStats { months: months.into_values().rev().collect() })
    }

    /// Attaches a photo sent with a public report. Only while the report waits for intake, so a stranger
    /// who learns a number cannot add to it later.
    pub async fn attach_public_photo(
        &self,
        token: &str,
        bytes: &[u8],
        original_name: Option<&str>,
    ) -> AppResult<gridward_store::EvidenceRecord> {
        let report = self.store.report_by_token(token.trim()).await?.ok_or(AppError::NotFound("report"))?;
        if !matches!(report.state, ReportState::Submitted | ReportState::Duplicate) {
            return Err(AppError::bad_request("report_accepted", "photos are added while the report waits for intake"));
        }
        if gridward_domain::evidence::kind_of(&crate::evidence::inspect(bytes)?.media_type)
            != Some(gridward_domain::evidence::EvidenceKind::Photo)
        {
            return Err(AppError::bad_request("not_a_photo", "only photos are taken with a public report"));
        }
        let upload = crate::evidence::Upload { object_type: "report", object_id: &report.id.to_string(), bytes, original_name };
        let jurisdiction = DivisionCode::parse(&report.jurisdiction).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store_evidence(&jurisdiction, &upload, "public", &intake_change()).await
    }
}

/// "崇川区 钟秀街道 郭里头村社区居委会" for a community code; the city's name for the city.
fn place_name(code: &str, names: &HashMap<String, String>) -> String {
    if code.len() != 12 {
        return code.to_string();
    }
    let levels = [format!("{}000000", &code[..6]), format!("{}000", &code[..9]), code.to_string()];
    let mut parts: Vec<&str> = Vec::new();
    for c in &levels {
        if let Some(n) = names.get(c)
            && !parts.contains(&n.as_str())
        {
            parts.push(n);
        }
    }
    if parts.is_empty() { names.get(code).cloned().unwrap_or_else(|| code.to_string()) } else { parts.join(" ") }
}

/// The change for reports the public and client applications file: recorded under the intake service.
fn intake_change() -> Change {
    change(&Actor::new("public", "public"))
}

/// A report as anyone may see it: no reporter; text and photos only once intake accepted it (moderation).
fn public_form(
    report: ReportRecord,
    updates: Vec<ReportUpdate>,
    photos: Vec<gridward_store::EvidenceRecord>,
    cache: &IntakeCache,
    names: &HashMap<String, String>,
) -> PublicReport {
    let service = cache.services.get(&report.service_code);
    let accepted = !matches!(report.state, ReportState::Submitted | ReportState::Cancelled | ReportState::Duplicate);
    let (status, extended_status) = gridward_domain::report::open311_status(report.state, report.cancel_reason);
    let photos = if accepted {
        photos.into_iter().map(|e| PublicPhoto { after: e.uploaded_by != "public", id: e.id }).collect()
    } else {
        Vec::new()
    };
    let agency = match &report.squad {
        Some(code) if report.state != ReportState::Submitted => names.get(code).cloned(),
        _ => None,
    };
    PublicReport {
        id: report.id,
        service_name: service.map(|s| s.name.clone()).unwrap_or_default(),
        service_code: report.service_code,
        state: report.state,
        status,
        extended_status,
        description: if accepted { report.description } else { String::new() },
        address: report.address,
        lon: report.lon,
        lat: report.lat,
        agency,
        submitted_at: report.submitted_at,
        updated_at: report.updated_at,
        closed_at: report.closed_at,
        expected_at: report.step_due.filter(|_| report.state.is_open()),
        duplicate_of: report.duplicate_of,
        notes: updates
            .into_iter()
            .filter(|u| !u.public_note.is_empty() || u.action == "submit")
            .map(|u| PublicNote { id: u.id, action: u.action, state: u.state, note: u.public_note, at: u.at })
            .collect(),
        photos,
    }
}

/// What the caller may do next with a report.
fn possible_actions(who: &Principal, report: &ReportRecord) -> Vec<&'static str> {
    let samples = [
        Action::Verify { severity: None, public_text: None },
        Action::Cancel { reason: gridward_domain::report::CancelReason::Invalid, note: "x".into() },
        Action::MarkDuplicate { of: 0 },
        Action::Dispatch { squad: "x".into(), officer: None },
        Action::Reassign { squad: "x".into(), officer: None, reason: "x".into() },
        Action::Handle { note: "x".into() },
        Action::Close { note: String::new() },
        Action::Rework { reason: "x".into() },
    ];
    samples
        .iter()
        .filter(|a| who.has_any(a.roles()) && next_state(report.state, a, report.lon.is_some()).is_ok())
        .map(Action::name)
        .collect()
}

/// Writes queued reports in batches: whatever is waiting when the writer turns (up to `MAX_BATCH`) goes into
/// one transaction, and every sender learns its number once that transaction is durable.
async fn run_intake_writer(store: Arc<dyn gridward_store::Store>, mut rx: mpsc::Receiver<IntakeJob>, rule: DuplicateRule) {
    let mut batch: Vec<IntakeJob> = Vec::with_capacity(MAX_BATCH);
    // Whatever arrived while the last batch was written is the next batch.
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let started = std::time::Instant::now();
        let reports: Vec<ReportRecord> = batch.iter().map(|j| j.report.clone()).collect();
        let written = store.submit_reports(&reports, Some(rule), &intake_change()).await;
        tracing::debug!(reports = reports.len(), micros = started.elapsed().as_micros() as u64, "intake batch written");
        match written {
            Ok(stored) => {
                for (job, record) in batch.drain(..).zip(stored) {
                    let _ = job.reply.send(Ok(record));
                }
            }
            Err(e) => fail_all(std::mem::take(&mut batch), &e.to_string()),
        }
    }
}

/// Tells every sender in `jobs` that its report was not stored.
fn fail_all(jobs: Vec<IntakeJob>, message: &str) {
    tracing::error!(%message, reports = jobs.len(), "a batch of reports was not stored");
    for job in jobs {
        let _ = job.reply.send(Err(AppError::Internal(message.to_string())));
    }
}
