//! Enforcement cases: open a case, take the steps the Administrative Penalty Law allows, read the
//! workspace and the deadlines. The law is the domain's ([`gridward_domain::case`]); this module finds who
//! is acting, replays the case from its stored steps, applies the step and writes it with its documents
//! under one entry.

use std::collections::HashMap;
use std::sync::Arc;

use gridward_domain::Date;
use gridward_domain::access::{Principal, Role};
use gridward_domain::calendar::WorkCalendar;
use gridward_domain::case::{
    Case, CaseDeadline, CaseError, CaseSource, Officer, Opening, Penalty, Procedure, STEP_CODES, Stage, Step, StepKind,
    SummaryDecision,
};
use gridward_domain::catalog::PowerKind;
use gridward_domain::division::DivisionCode;
use gridward_domain::org::Body;
use gridward_domain::party::Party;
use gridward_domain::report::ReportState;
use gridward_store::{CaseDocument, CaseQuery, CaseRecord, CaseStepRecord, NewDocument};
use serde::{Deserialize, Serialize};

use crate::documents::{DocumentKind, document_for, prefix_of};
use crate::reports::clean_text;
use crate::{App, AppError, AppResult, actor_of, change, now, today};

/// Roles that work cases in their territory (auxiliary staff read and assist; the domain refuses their steps).
pub const WORKS_CASES: &[Role] = &[Role::Leader, Role::Officer, Role::Auxiliary, Role::LegalReviewer];
/// Roles that open a case (an auxiliary assists but does not open one).
pub const OPENS_CASES: &[Role] = &[Role::Officer, Role::Leader];
/// Roles that see a party's identity in full; everyone else sees it masked. The procuratorate checks
/// transfers against criminal records, so it reads them whole.
const SEES_PARTIES: &[Role] = &[Role::Leader, Role::Officer, Role::LegalReviewer, Role::Procuratorate];
/// The longest free text a step takes.
const MAX_TEXT_CHARS: usize = 4_000;

/// What the new-case form offers: see [`App::new_case_choices`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewCaseChoices {
    pub powers: Vec<(String, String)>,
    pub colleagues: Vec<(String, String)>,
}

/// What opening a case takes from its user.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenCase {
    pub procedure: Procedure,
    pub source: CaseSource,
    #[serde(default)]
    pub source_ref: String,
    pub party: Party,
    pub power_code: String,
    pub facts: String,
    pub act_date: Date,
    /// Today when not given.
    #[serde(default)]
    pub discovered_on: Option<Date>,
    #[serde(default)]
    pub serious_harm: bool,
    /// The on-the-spot decision, for the summary procedure.
    #[serde(default)]
    pub summary: Option<SummaryInput>,
}

/// The on-the-spot decision as an officer enters it on the phone.
#[derive(Debug, Clone, Deserialize)]
pub struct SummaryInput {
    pub facts_clear: bool,
    pub penalty: Penalty,
    pub form_number: String,
    /// The staff number of the second officer present.
    pub companion: String,
    #[serde(default)]
    pub collected_on_spot: bool,
}

/// Whether a step is open to the caller now, and if not, why (the unmet condition and its article).
#[derive(Debug, Clone, Serialize)]
pub struct NextStep {
    pub code: &'static str,
    pub available: bool,
    pub refusal: Option<Refusal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub code: &'static str,
    pub article: &'static str,
    pub message: String,
}

impl From<CaseError> for Refusal {
    fn from(e: CaseError) -> Self {
        Refusal { code: e.code, article: e.article, message: e.message }
    }
}

/// A step as the workspace's timeline shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineStep {
    pub step: String,
    pub on: Date,
    pub actor: String,
    pub actor_name: String,
    pub at: i64,
    pub ledger_seq: i64,
    pub detail: serde_json::Value,
}

/// Everything the case workspace shows.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub record: CaseRecord,
    pub case: Case,
    pub body_name: String,
    pub power_name: String,
    pub timeline: Vec<TimelineStep>,
    pub documents: Vec<CaseDocument>,
    pub deadlines: Vec<CaseDeadline>,
    pub next_steps: Vec<NextStep>,
    pub late_fee_fen: i64,
    /// What is left of the fine itself.
    pub outstanding_fen: i64,
    /// What the party owes today: the rest of the fine and the late fee.
    pub owed_fen: i64,
    /// Whether the party's identity is masked for this caller.
    pub party_masked: bool,
    /// Staff of the case's body and its bureau who may be named as investigators or presiding officer.
    pub colleagues: Vec<(String, String)>,
    /// Files attached to the case in the evidence store, and whether each is registered as evidence.
    pub files: Vec<(gridward_store::EvidenceRecord, bool)>,
}

/// The deadlines dashboard: cases whose next deadline falls within the window, by body and by officer.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineBoard {
    pub today: Date,
    pub until: Date,
    pub cases: Vec<CaseRecord>,
    pub by_body: Vec<(String, usize, usize)>,
    pub by_officer: Vec<(String, usize, usize)>,
}

fn refused(e: CaseError) -> AppError {
    AppError::Unlawful { code: e.code, article: e.article, message: e.message }
}

impl App {
    /// The staff member behind the caller's account, as a step records them.
    async fn acting_officer(&self, who: &Principal) -> AppResult<(Officer, String)> {
        let user = self.store.user(&who.username).await?.ok_or(AppError::Forbidden)?;
        let staff_no = user
            .staff_no
            .ok_or_else(|| AppError::bad_request("staff_record_required", "only accounts of enforcement staff act on cases"))?;
        let staff = self.store.staff_member(&staff_no).await?.filter(|s| s.active).ok_or(AppError::Forbidden)?;
        let officer = Officer {
            staff_no: staff.staff_no,
            name: staff.name,
            roles: who.roles.clone(),
            auxiliary: staff.auxiliary || who.has(Role::Auxiliary),
            credential: staff.credential,
        };
        Ok((officer, staff.body_code))
    }

    /// A named member of staff as a step records them, if they work in the case's line of bodies.
    async fn named_officer(&self, staff_no: &str, jurisdiction: &DivisionCode) -> AppResult<Officer> {
        let staff =
            self.store.staff_member(staff_no.trim()).await?.filter(|s| s.active).ok_or(AppError::NotFound("staff member"))?;
        let body = self.store.body(&staff.body_code).await?.ok_or(AppError::NotFound("body"))?;
        if !(body.division_code.covers(jurisdiction) || jurisdiction.covers(&body.division_code)) {
            return Err(AppError::bad_request(
                "staff_outside_case",
                format!("{} works outside this case's territory", staff.name),
            ));
        }
        Ok(Officer {
            staff_no: staff.staff_no,
            name: staff.name,
            roles: staff.roles,
            auxiliary: staff.auxiliary,
            credential: staff.credential,
        })
    }

    /// A case the caller may read: in their territory, and for the procuratorate only the cases it watches
    /// (transferred, or with signs of a crime).
    async fn case_in_scope(&self, who: &Principal, id: i64) -> AppResult<CaseRecord> {
        let oversight = oversees(who);
        if !who.has_any(WORKS_CASES) && !oversight {
            return Err(AppError::Forbidden);
        }
        match self.store.case(id).await? {
            Some(c) if DivisionCode::parse(&c.jurisdiction).is_ok_and(|d| who.covers(&d)) && (!oversight || watched(&c)) => Ok(c),
            _ => Err(AppError::NotFound("case")),
        }
    }

    /// Replays a stored case from its steps.
    async fn replay_case(&self, id: i64) -> AppResult<(Case, Vec<CaseStepRecord>)> {
        let stored = self.store.case_steps(id).await?;
        let steps: Vec<Step> = stored
            .iter()
            .map(|s| {
                serde_json::from_value(s.body.clone()).map_err(|e| AppError::Internal(format!("case {id} step {}: {e}", s.id)))
            })
            .collect::<AppResult<_>>()?;
        let cal = self.work_calendar().await?;
        // A step judged on provisional days (past the known years) was judged on the shipped calendar; if a
        // later year's arrangement moves such a day, the case replays as it was judged.
        let case = Case::replay(&steps, &cal)
            .or_else(|_| Case::replay(&steps, WorkCalendar::official()))
            .map_err(|e| AppError::Internal(format!("case {id} does not replay: {}", e.code)))?;
        Ok((case, stored))
    }

    /// Opens a case as the caller: an ordinary case awaiting approval, or a summary case decided on the spot.
    pub async fn open_case(&self, who: &Principal, input: OpenCase) -> AppResult<CaseView> {
        let record = self.open_case_on(who, input, today()).await?;
        self.case_view(who, record.id).await
    }

    /// [`App::open_case`], answering with the stored record only (for a form that redirects to the case).
    pub async fn open_case_record(&self, who: &Principal, input: OpenCase) -> AppResult<CaseRecord> {
        self.open_case_on(who, input, today()).await
    }

    pub(crate) async fn open_case_on(&self, who: &Principal, input: OpenCase, day: Date) -> AppResult<CaseRecord> {
        if !who.has_any(OPENS_CASES) {
            return Err(AppError::Forbidden);
        }
        let (actor, body_code) = self.acting_officer(who).await?;
        let body = self.store.body(&body_code).await?.ok_or(AppError::NotFound("body"))?;
        let party = input.party.parse(day).map_err(|e| AppError::bad_request(e.code(), e.to_string()))?;
        let power = self
            .store
            .powers_in_force(day)
            .await?
            .into_iter()
            .find(|p| p.power.code == input.power_code.trim())
            .ok_or(AppError::NotFound("power"))?
            .power;
        if power.kind != PowerKind::Penalty {
            return Err(refused(CaseError {
                code: "not_a_penalty_power",
                article: "Art. 2",
                message: format!("{} is not a penalty power", power.name),
            }));
        }
        self.check_power_held(&power.code, &body, day).await?;
        let mut source_ref = clean_text("source_ref", &input.source_ref, MAX_TEXT_CHARS)?;
        let report_id = if input.source == CaseSource::Report {
            let id: i64 = source_ref.parse().map_err(|_| AppError::bad_request("bad_source_ref", "name the report's number"))?;
            // The report is checked before the case is written, so a report that cannot take the link
            // leaves no case behind.
            let report = self.report_view(who, id).await?.report;
            if report.case_ref.is_some() {
                return Err(AppError::bad_request("case_linked", format!("report {id} is already linked to a case")));
            }
            if matches!(report.state, ReportState::Submitted | ReportState::Cancelled | ReportState::Duplicate) {
                return Err(AppError::bad_request("illegal_transition", "only a registered report can become a case"));
            }
            source_ref = id.to_string();
            Some(id)
        } else {
            None
        };
        let summary = match &input.summary {
            None => None,
            Some(s) => Some(SummaryDecision {
                facts_clear: s.facts_clear,
                penalty: s.penalty.clone(),
                form_number: clean_text("form_number", &s.form_number, MAX_TEXT_CHARS)?,
                companion: self.named_officer(&s.companion, &body.division_code).await?,
                collected_on_spot: s.collected_on_spot,
            }),
        };
        let opening = Opening {
            procedure: input.procedure,
            source: input.source,
            source_ref,
            party,
            power_code: power.code.clone(),
            power_name: power.name.clone(),
            domain: power.domain,
            facts: clean_text("facts", &input.facts, MAX_TEXT_CHARS)?,
            act_date: input.act_date,
            discovered_on: input.discovered_on.unwrap_or(day),
            serious_harm: input.serious_harm,
        };
        let step =
            Step { actor, on: day, thresholds: Some(self.hearing_thresholds()), kind: StepKind::Open { opening, summary } };
        let cal = self.work_calendar().await?;
        let case = Case::open(&step, &cal).map_err(refused)?;
        let record = CaseRecord {
            id: 0,
            number: String::new(),
            body_code: body.code.clone(),
            jurisdiction: body.division_code.as_str().to_string(),
            procedure: case.procedure(),
            stage: case.stage(),
            source: case.opening.source,
            source_ref: case.opening.source_ref.clone(),
            power_code: power.code.clone(),
            party_kind: case.opening.party.kind,
            party_name: case.opening.party.name.clone(),
            officers: Vec::new(),
            fine_yuan: 0,
            next_due: None,
            next_due_code: None,
            proposed_on: day,
            decided_on: None,
            closed_on: None,
            crime_indicator: false,
            transfer_state: None,
            updated_at: now(),
            ledger_seq: 0,
        };
        let record = summarise(record, &case, &cal);
        let step_record = step_record(&step)?;
        // The case number comes from the store; documents of a summary case carry it.
        let prefix = prefix_of(&body);
        let kinds: &[DocumentKind] = if case.procedure() == Procedure::Summary { &[DocumentKind::SummaryDecision] } else { &[] };
        let placeholder = CaseRecord { number: gridward_store::cases::CASE_NUMBER_PLACEHOLDER.to_string(), ..record.clone() };
        let district = self.district_name(&body).await?;
        let docs = kinds.iter().map(|k| document_for(*k, &placeholder, &case, &body, &district, &step, &cal)).collect::<Vec<_>>();
        let (stored, _) =
            self.store.open_case(&record, &format!("{prefix}立"), &step_record, &docs, &change(&actor_of(who))).await?;
        if let Some(report) = report_id {
            self.link_case(who, report, &stored.number).await?;
        }
        Ok(stored)
    }

    /// Whether `body` may bring a case under `power` where it acts: it holds the power there, or acts for the
    /// bureau that does (行政处罚法 Arts. 20–24; a body without the power decides nothing, Art. 38).
    async fn check_power_held(&self, power: &str, body: &Body, day: Date) -> AppResult<()> {
        let resolution = self.resolve_power(power, &body.division_code, day).await?;
        let holder = resolution.holder.map(|h| h.assignment.body_code);
        if holder.as_deref() == Some(body.code.as_str()) || (holder.is_some() && holder == body.parent_code) {
            return Ok(());
        }
        Err(refused(CaseError {
            code: "power_not_held",
            article: "Art. 38",
            message: match holder {
                Some(h) => format!("{h} holds this power here, not {}", body.name),
                None => "nobody holds this power here".to_string(),
            },
        }))
    }

    /// Takes one step on a case as the caller, today, if the law allows it now; 409 with the unmet
    /// condition otherwise, and nothing changes.
    pub async fn act_on_case(&self, who: &Principal, id: i64, kind: StepKind) -> AppResult<CaseView> {
        let record = self.act_on_case_on(who, id, kind, today()).await?;
        self.case_view(who, record.id).await
    }

    /// [`App::act_on_case`], answering with the stored record only (for a form that redirects to the case).
    pub async fn act_on_case_record(&self, who: &Principal, id: i64, kind: StepKind) -> AppResult<CaseRecord> {
        self.act_on_case_on(who, id, kind, today()).await
    }

    pub(crate) async fn act_on_case_on(&self, who: &Principal, id: i64, mut kind: StepKind, day: Date) -> AppResult<CaseRecord> {
        let record = self.case_in_scope(who, id).await?;
        if matches!(kind, StepKind::Open { .. }) {
            return Err(refused(CaseError {
                code: "already_open",
                article: "Art. 54",
                message: "the case already exists".into(),
            }));
        }
        let (actor, _) = self.acting_officer(who).await?;
        let jurisdiction = DivisionCode::parse(&record.jurisdiction).map_err(|e| AppError::Internal(e.to_string()))?;
        // Named staff are looked up: their credentials are the directory's, never the caller's word.
        match &mut kind {
            StepKind::AssignInvestigators { investigators } => {
                for o in investigators.iter_mut() {
                    *o = self.named_officer(&o.staff_no, &jurisdiction).await?;
                }
            }
            StepKind::ScheduleHearing { presiding, .. } => {
                *presiding = self.named_officer(&presiding.staff_no, &jurisdiction).await?
            }
            _ => {}
        }
        let (case, _) = self.replay_case(id).await?;
        self.check_case_evidence(id, &case, &kind).await?;
        let step = Step { actor, on: day, thresholds: Some(self.hearing_thresholds()), kind };
        let cal = self.work_calendar().await?;
        let next = case.apply(&step, &cal).map_err(refused)?;
        let body = self.store.body(&record.body_code).await?.ok_or(AppError::NotFound("body"))?;
        let summary = CaseRecord { updated_at: now(), ..summarise(record.clone(), &next, &cal) };
        let district = self.district_name(&body).await?;
        let docs: Vec<NewDocument> = DocumentKind::issued_by(&step.kind, &next)
            .into_iter()
            .map(|k| document_for(k, &summary, &next, &body, &district, &step, &cal))
            .collect();
        let stored = self
            .store
            .add_case_step(&summary, record.ledger_seq, &step_record(&step)?, &docs, &change(&actor_of(who)))
            .await?
            .ok_or_else(|| AppError::Conflict("the case changed meanwhile; reload it and try again".into()))?;
        Ok(stored.0)
    }

    /// A file named by a step must be in the evidence store, attached to this case, and registered once.
    async fn check_case_evidence(&self, id: i64, case: &Case, kind: &StepKind) -> AppResult<()> {
        let named = match kind {
            StepKind::AddEvidence { evidence_id, .. }
            | StepKind::RecordInquiry { evidence_id, .. }
            | StepKind::RecordHearing { evidence_id, .. } => evidence_id.as_deref(),
            _ => None,
        };
        let Some(evidence_id) = named else { return Ok(()) };
        match self.store.evidence(evidence_id).await? {
            Some(ev) if ev.object_type == "case" && ev.object_id == id.to_string() => {}
            _ => return Err(AppError::bad_request("evidence_not_attached", "the file is not attached to this case")),
        }
        if case.evidence.iter().any(|e| e.evidence_id.as_deref() == Some(evidence_id)) {
            return Err(AppError::bad_request("evidence_registered", "the file is already registered as evidence"));
        }
        Ok(())
    }

    /// The case workspace for the caller.
    pub async fn case_view(&self, who: &Principal, id: i64) -> AppResult<CaseView> {
        let record = self.case_in_scope(who, id).await?;
        let (mut case, stored) = self.replay_case(id).await?;
        let cal = self.work_calendar().await?;
        let cal = cal.as_ref();
        let day = today();
        let acting = self.acting_officer(who).await.ok().map(|(o, _)| o);
        let next_steps = STEP_CODES
            .iter()
            .filter(|c| **c != "open")
            .map(|code| match &acting {
                None => NextStep {
                    code,
                    available: false,
                    refusal: Some(Refusal {
                        code: "staff_record_required",
                        article: "Art. 42",
                        message: "only enforcement staff act on cases".into(),
                    }),
                },
                Some(actor) => match case.probe(code, actor, day, cal) {
                    Ok(()) => NextStep { code, available: true, refusal: None },
                    Err(e) => NextStep { code, available: false, refusal: Some(e.into()) },
                },
            })
            .collect();
        let names: HashMap<String, String> = case
            .investigators
            .iter()
            .map(|o| (o.staff_no.clone(), o.name.clone()))
            .chain(stored.iter().filter_map(|s| Some((s.actor.clone(), s.body.get("actor")?.get("name")?.as_str()?.to_string()))))
            .collect();
        let party_masked = !who.has_any(SEES_PARTIES);
        let mut timeline: Vec<TimelineStep> = stored
            .iter()
            .map(|s| {
                let mut detail = s.body.clone();
                if let Some(map) = detail.as_object_mut() {
                    map.remove("actor");
                    map.remove("on");
                    map.remove("thresholds");
                    map.remove("step");
                }
                TimelineStep {
                    step: s.step.clone(),
                    on: s.body.get("on").and_then(|d| d.as_str()).and_then(|d| d.parse().ok()).unwrap_or(record.proposed_on),
                    actor: s.actor.clone(),
                    actor_name: names.get(&s.actor).cloned().unwrap_or_default(),
                    at: s.at,
                    ledger_seq: s.ledger_seq,
                    detail,
                }
            })
            .collect();
        let mut record = record;
        let mut documents = self.store.case_documents(id).await?;
        if party_masked {
            let masked = case.opening.party.masked();
            record.party_name = masked.name.clone();
            for step in &mut timeline {
                if let Some(p) = step.detail.pointer_mut("/opening/party") {
                    *p = serde_json::to_value(&masked).unwrap_or_default();
                }
            }
            for d in &mut documents {
                crate::documents::mask_party(&mut d.content, &case.opening.party, &masked);
            }
            case.opening.party = masked;
        }
        let body = self.store.body(&record.body_code).await?;
        let colleagues = match &body {
            Some(b) => self.colleagues(b).await?,
            None => Vec::new(),
        };
        let files = self
            .evidence_of(who, "case", &id.to_string())
            .await?
            .into_iter()
            .map(|f| {
                let registered = case.evidence.iter().any(|e| e.evidence_id.as_deref() == Some(f.id.as_str()));
                (f, registered)
            })
            .collect();
        Ok(CaseView {
            files,
            deadlines: case.deadlines(cal),
            late_fee_fen: case.late_fee_fen(day),
            outstanding_fen: case.outstanding_fen(),
            owed_fen: case.owed_fen(day),
            body_name: body.map(|b| b.name).unwrap_or_default(),
            power_name: case.opening.power_name.clone(),
            record,
            case,
            timeline,
            documents,
            next_steps,
            party_masked,
            colleagues,
        })
    }

    /// Decisions published under Art. 48 and not withdrawn, newest first, with personal data masked.
    pub async fn published_decisions(&self, limit: u32) -> AppResult<Vec<CaseDocument>> {
        Ok(self.store.published_documents(limit.clamp(1, 500)).await?)
    }

    /// The official working-day calendar: the arrangement shipped with the product and the later years
    /// imported since.
    pub async fn work_calendar(&self) -> AppResult<Arc<WorkCalendar>> {
        if let Some(c) = self.calendar.read().ok().and_then(|c| c.clone()) {
            return Ok(c);
        }
        let rows = self.store.calendar_days().await?;
        let calendar = if rows.is_empty() {
            WorkCalendar::official().clone()
        } else {
            WorkCalendar::official()
                .extended(&calendar_csv(&rows))
                .map_err(|p| AppError::Internal(format!("stored calendar: {p:?}")))?
        };
        let calendar = Arc::new(calendar);
        if let Ok(mut slot) = self.calendar.write() {
            *slot = Some(calendar.clone());
        }
        Ok(calendar)
    }

    /// Adds the working-day arrangement of the next years (admins), as published by the State Council:
    /// `date,kind,festival` rows; known years are never changed.
    pub async fn import_calendar(&self, who: &Principal, bytes: &[u8]) -> AppResult<usize> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        self.import_calendar_as(bytes, &actor_of(who)).await
    }

    pub async fn import_calendar_as(&self, bytes: &[u8], actor: &gridward_store::Actor) -> AppResult<usize> {
        let text = std::str::from_utf8(bytes).map_err(|_| AppError::bad_request("bad_encoding", "the calendar is UTF-8 text"))?;
        let current = self.work_calendar().await?;
        let extended = current.extended(text).map_err(AppError::Invalid)?;
        let known = current.known_through();
        let days: Vec<(String, String, String)> = text
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut f = l.split(',').map(str::trim);
                (f.next().unwrap_or("").to_string(), f.next().unwrap_or("").to_string(), f.next().unwrap_or("").to_string())
            })
            .filter(|(d, _, _)| d.parse::<Date>().is_ok_and(|d| d > known))
            .collect();
        self.store.add_calendar_days(&days, &crate::change(actor)).await?;
        if let Ok(mut slot) = self.calendar.write() {
            *slot = Some(Arc::new(extended));
        }
        Ok(days.len())
    }

    /// What the new-case form offers the caller: the penalty powers their body may bring a case under where
    /// it acts (code, name), and their credentialed colleagues, who may be the second officer of a summary
    /// decision (staff number, name).
    pub async fn new_case_choices(&self, who: &Principal) -> AppResult<NewCaseChoices> {
        if !who.has_any(OPENS_CASES) {
            return Err(AppError::Forbidden);
        }
        let (me, body_code) = self.acting_officer(who).await?;
        let body = self.store.body(&body_code).await?.ok_or(AppError::NotFound("body"))?;
        let day = today();
        let snapshot = self.delegation_snapshot(day).await?;
        let powers = snapshot
            .powers
            .iter()
            .filter(|p| p.power.kind == PowerKind::Penalty)
            .filter(|p| {
                let holder = snapshot.index.resolve(&p.power.code, &body.division_code, day).map(|a| a.body_code.clone());
                holder.as_deref() == Some(body.code.as_str()) || (holder.is_some() && holder == body.parent_code)
            })
            .map(|p| (p.power.code.clone(), p.power.name.clone()))
            .collect();
        let colleagues = self.colleagues(&body).await?.into_iter().filter(|(no, _)| *no != me.staff_no).collect();
        Ok(NewCaseChoices { powers, colleagues })
    }

    /// The name of the district a body serves ("" above district level).
    async fn district_name(&self, body: &Body) -> AppResult<String> {
        let Some(district) = body.division_code.ancestor_at(gridward_domain::division::Level::District) else {
            return Ok(String::new());
        };
        Ok(self
            .store
            .division(&district)
            .await?
            .filter(|d| d.level == gridward_domain::division::Level::District)
            .map(|d| d.name)
            .unwrap_or_default())
    }

    /// Active, credentialed staff of `body` and of the body above it.
    async fn colleagues(&self, body: &Body) -> AppResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        for code in std::iter::once(body.code.as_str()).chain(body.parent_code.as_deref()) {
            let staff = self.store.staff_of_body(code, &gridward_store::Page { after: None, limit: 200 }).await?;
            out.extend(
                staff.into_iter().filter(|s| s.active && !s.auxiliary && s.credential.is_some()).map(|s| (s.staff_no, s.name)),
            );
        }
        Ok(out)
    }

    /// One issued document of a case, masked like the workspace for callers without a need to know.
    pub async fn case_document(&self, who: &Principal, id: i64, document_id: i64) -> AppResult<(CaseRecord, CaseDocument)> {
        let mut record = self.case_in_scope(who, id).await?;
        let mut document = self
            .store
            .case_documents(id)
            .await?
            .into_iter()
            .find(|d| d.id == document_id)
            .ok_or(AppError::NotFound("document"))?;
        if !who.has_any(SEES_PARTIES) {
            // The party as opened, to find every place the document names them.
            let party = self.replay_case(id).await?.0.opening.party;
            let masked = party.masked();
            crate::documents::mask_party(&mut document.content, &party, &masked);
            record.party_name = masked.name;
        }
        Ok((record, document))
    }

    /// Cases in the caller's territory, newest first, optionally at some stages.
    /// The procuratorate sees the cases it watches.
    pub async fn cases(&self, who: &Principal, stages: Vec<Stage>, mine: bool) -> AppResult<Vec<CaseRecord>> {
        let oversight = oversees(who);
        if !who.has_any(WORKS_CASES) && !oversight {
            return Err(AppError::Forbidden);
        }
        let officer = if mine { Some(self.acting_officer(who).await?.0.staff_no) } else { None };
        let query = CaseQuery {
            within: vec![who.scope.territory_prefix().to_string()],
            stages,
            officer,
            watched: oversight,
            limit: 500,
            ..CaseQuery::default()
        };
        let mut cases = self.store.cases(&query).await?;
        mask_party_names(who, &mut cases);
        Ok(cases)
    }

    /// Cases whose next deadline falls within `days` calendar days (or is past), counted by body and by officer.
    /// The procuratorate's board covers the cases it watches.
    pub async fn deadline_board(&self, who: &Principal, days: u32) -> AppResult<DeadlineBoard> {
        let oversight = oversees(who);
        if !who.has_any(WORKS_CASES) && !oversight {
            return Err(AppError::Forbidden);
        }
        let day = today();
        let until = day.checked_add(jiff::Span::new().days(i64::from(days.min(366)))).unwrap_or(day);
        let query = CaseQuery {
            within: vec![who.scope.territory_prefix().to_string()],
            due_by: Some(until),
            watched: oversight,
            limit: 1000,
            ..CaseQuery::default()
        };
        let cases = self.store.cases(&query).await?;
        let names: HashMap<String, String> = self.store.all_bodies().await?.into_iter().map(|b| (b.code, b.name)).collect();
        let mut by_body: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
        let mut by_officer: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
        for c in &cases {
            let overdue = c.next_due.is_some_and(|d| d < day);
            let body = names.get(&c.body_code).cloned().unwrap_or_else(|| c.body_code.clone());
            let e = by_body.entry(body).or_default();
            e.0 += 1;
            e.1 += usize::from(overdue);
            for o in &c.officers {
                let e = by_officer.entry(o.clone()).or_default();
                e.0 += 1;
                e.1 += usize::from(overdue);
            }
        }
        let flatten =
            |m: std::collections::BTreeMap<String, (usize, usize)>| m.into_iter().map(|(k, (n, o))| (k, n, o)).collect();
        let mut cases = cases;
        mask_party_names(who, &mut cases);
        Ok(DeadlineBoard { today: day, until, cases, by_body: flatten(by_body), by_officer: flatten(by_officer) })
    }
}

/// Stored calendar rows as the CSV the calendar reads.
fn calendar_csv(rows: &[(String, String, String)]) -> String {
    let mut text = String::from("date,kind,festival\n");
    for (d, k, f) in rows {
        text.push_str(&format!("{d},{k},{f}\n"));
    }
    text
}

/// Whether the caller reads cases only as the procuratorate, which watches some and works none.
fn oversees(who: &Principal) -> bool {
    who.has(Role::Procuratorate) && !who.has_any(WORKS_CASES)
}

/// Party names in a list, masked for callers without a need to see them.
fn mask_party_names(who: &Principal, cases: &mut [CaseRecord]) {
    if !who.has_any(SEES_PARTIES) {
        for c in cases {
            c.party_name = gridward_domain::org::mask_middle(&c.party_name, 1, 0);
        }
    }
}

/// Whether the procuratorate watches a case: transferred to the police, or with signs of a crime.
fn watched(c: &CaseRecord) -> bool {
    c.crime_indicator || c.transfer_state.is_some()
}

/// The case's summary row after a step.
fn summarise(record: CaseRecord, case: &Case, cal: &WorkCalendar) -> CaseRecord {
    let next = case.next_deadline(cal);
    let mut officers = vec![case.opened_by.clone()];
    for o in &case.investigators {
        if !officers.contains(&o.staff_no) {
            officers.push(o.staff_no.clone());
        }
    }
    CaseRecord {
        stage: case.stage(),
        officers,
        fine_yuan: case.fine_fen() / 100,
        next_due: next.as_ref().map(|d| d.last_day),
        next_due_code: next.map(|d| d.code.to_string()),
        decided_on: case.decision.as_ref().map(|d| d.decided_on),
        closed_on: case.closed_on,
        crime_indicator: case.crime_indicator,
        transfer_state: case.transfer.as_ref().map(|t| t.state().to_string()),
        ..record
    }
}

fn step_record(step: &Step) -> AppResult<CaseStepRecord> {
    Ok(CaseStepRecord {
        id: 0,
        case_id: 0,
        step: step.kind.code().to_string(),
        body: serde_json::to_value(step).map_err(|e| AppError::Internal(e.to_string()))?,
        actor: step.actor.staff_no.clone(),
        at: now(),
        ledger_seq: 0,
    })
}
