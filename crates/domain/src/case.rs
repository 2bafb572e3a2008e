//! Enforcement cases (案件) under the Administrative Penalty Law (行政处罚法, 2021): the summary and the
//! ordinary procedure as one pure state machine.
//!
//! A case is the fold of its steps: [`Case::apply`] takes a step and either returns the case after it or
//! refuses with a [`CaseError`] naming the unmet condition and its article. Every step carries what it
//! needs to be judged (the actor, the officers and their credentials, the dates), so replaying the stored
//! steps always yields the same case. The stage a case is at is derived from its facts, never stored apart.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::calendar::{Period, PeriodEnd, WorkCalendar};
use crate::catalog::PenaltyType;
use crate::org::{Credential, EnforcementDomain};
use crate::party::{Party, PartyKind};

/// Art. 51: the largest fine on a person that the summary procedure may impose.
pub const SUMMARY_FINE_LIMIT_PERSON: u64 = 200;
/// Art. 51: the largest fine on an organisation that the summary procedure may impose.
pub const SUMMARY_FINE_LIMIT_ORGANISATION: u64 = 3_000;
/// Art. 68 (1): the largest fine an officer may collect on the spot.
pub const ON_THE_SPOT_COLLECTION_LIMIT: u64 = 100;
/// Art. 42: enforcement is done by at least two officers holding enforcement credentials.
pub const MIN_OFFICERS: usize = 2;
/// Art. 36: the limitation period, and the longer one where life, health or financial security was harmed.
pub const LIMITATION_YEARS: i16 = 2;
pub const LIMITATION_YEARS_SERIOUS: i16 = 5;
/// Art. 64 (1): the party asks for a hearing within five (working, Art. 85) days of the notice.
pub const HEARING_REQUEST_PERIOD: Period = Period::working(5);
/// Art. 64 (2): the party is told of the hearing at least seven working days before it.
pub const HEARING_NOTICE_PERIOD: Period = Period::working(7);
/// Art. 60: the decision is made within ninety (calendar) days of opening the case.
pub const DECISION_PERIOD: Period = Period::calendar(90);
/// The longest single extension of the decision period a leader approves; a further one needs a collective
/// deliberation (the practice of 市场监督管理行政处罚程序规定, adopted here as the stricter reading).
pub const MAX_EXTENSION_DAYS: u32 = 30;
/// Art. 61: a decision not handed over on the spot is served within seven working days.
pub const SERVICE_PERIOD: Period = Period::working(7);
/// Art. 67: the fine is paid within fifteen (calendar) days of receiving the decision.
pub const PAYMENT_PERIOD: Period = Period::calendar(15);
/// 行政复议法 (2023) Art. 20: reconsideration is asked for within sixty days of receiving the decision.
pub const RECONSIDERATION_PERIOD: Period = Period::calendar(60);
/// 行政诉讼法 Art. 46: a suit is brought within six months of learning of the decision.
pub const LITIGATION_MONTHS: u32 = 6;
/// Art. 72 (1): the late-payment fine per day, in per cent of the fine; it never exceeds the fine.
pub const LATE_FEE_PERCENT_PER_DAY: i64 = 3;
/// 国务院令第310号 Art. 5: the leader decides on a proposed transfer within three days of the report.
pub const TRANSFER_DECISION_PERIOD: Period = Period::calendar(3);
/// 国务院令第310号 Art. 5: an approved transfer reaches the police within 24 hours, here the next day.
pub const TRANSFER_PERIOD: Period = Period::calendar(1);
/// 国务院令第310号 Arts. 8–9: the police decide within three days; a review is asked for within three days.
pub const POLICE_DECISION_PERIOD: Period = Period::calendar(3);
pub const POLICE_REVIEW_REQUEST_PERIOD: Period = Period::calendar(3);
/// 国办发〔2018〕118号: penalty decisions are published within seven working days.
pub const PUBLICATION_PERIOD: Period = Period::working(7);
/// Art. 48: a published decision that is changed or revoked is withdrawn within three (working) days.
pub const WITHDRAWAL_PERIOD: Period = Period::working(3);
/// Art. 57: a collective deliberation has more than one of the body's leaders.
pub const MIN_DELIBERATION_MEMBERS: usize = 2;

/// Art. 63 (1): fines from which the party may ask for a hearing. The amounts are set by each province;
/// the defaults are placeholders to be confirmed against the province's rule, and the server takes its own
/// (`serve --hearing-threshold-person/-organisation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HearingThresholds {
    pub person_yuan: u64,
    pub organisation_yuan: u64,
}

impl Default for HearingThresholds {
    fn default() -> Self {
        HearingThresholds { person_yuan: 5_000, organisation_yuan: 50_000 }
    }
}

string_enum! {
    /// The procedure a case follows.
    Procedure {
        Summary = "summary", "简易程序";
        Ordinary = "ordinary", "普通程序";
    }
}

string_enum! {
    /// Where a case came from.
    CaseSource {
        Report = "report", "事件转案";
        Patrol = "patrol", "巡查发现";
        Inspection = "inspection", "检查发现";
        Complaint = "complaint", "投诉举报";
        TransferIn = "transfer_in", "移送";
    }
}

string_enum! {
    /// Where a case stands; derived from its steps.
    Stage {
        Filing = "filing", "立案审批";
        NotOpened = "not_opened", "不予立案";
        Investigation = "investigation", "调查取证";
        Notified = "notified", "告知与申辩";
        Decided = "decided", "已决定";
        Execution = "execution", "执行";
        Closed = "closed", "结案";
        Archived = "archived", "归档";
    }
}

string_enum! {
    /// The kinds of evidence of Art. 46.
    EvidenceCategory {
        Documentary = "documentary", "书证";
        Physical = "physical", "物证";
        AudioVisual = "audio_visual", "视听资料";
        Electronic = "electronic", "电子数据";
        Witness = "witness", "证人证言";
        PartyStatement = "party_statement", "当事人的陈述";
        ExpertOpinion = "expert_opinion", "鉴定意见";
        InspectionRecord = "inspection_record", "勘验笔录、现场笔录";
    }
}

string_enum! {
    /// How a decision reached the party (Art. 61).
    ServiceMethod {
        OnTheSpot = "on_the_spot", "当场交付";
        InPerson = "in_person", "直接送达";
        Post = "post", "邮寄送达";
        Electronic = "electronic", "电子送达";
        Announcement = "announcement", "公告送达";
    }
}

string_enum! {
    /// The grounds of Art. 33 for imposing no penalty.
    NoPenaltyGround {
        Minor = "minor", "违法行为轻微并及时改正，没有造成危害后果";
        FirstOffence = "first_offence", "初次违法且危害后果轻微并及时改正";
        NoFault = "no_fault", "当事人有证据足以证明没有主观过错";
    }
}

string_enum! {
    /// An appeal against a decision (Art. 73): it does not stop execution but stops the late fee.
    AppealKind {
        Reconsideration = "reconsideration", "行政复议";
        Litigation = "litigation", "行政诉讼";
    }
}

string_enum! {
    /// The materials a transfer to the police carries (国务院令第310号 Art. 6).
    TransferAttachment {
        TransferLetter = "transfer_letter", "涉嫌犯罪案件移送书";
        InvestigationReport = "investigation_report", "涉嫌犯罪案件情况的调查报告";
        ItemList = "item_list", "涉案物品清单";
        ExpertReport = "expert_report", "有关检验报告或者鉴定结论";
        Other = "other", "其他有关涉嫌犯罪的材料";
    }
}

/// A transfer to the police and where it stands (行刑衔接, 国务院令第310号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The day the case team's written report proposing the transfer was made.
    pub reported_on: Date,
    /// The leader's decision: approved or not, and when.
    pub approved: Option<bool>,
    pub decided_on: Option<Date>,
    pub transferred_on: Option<Date>,
    pub police: String,
    pub attachments: Vec<TransferAttachment>,
    pub receipt: Option<String>,
    /// The police's decision to open a criminal case, and when.
    pub police_accepted: Option<bool>,
    pub police_decided_on: Option<Date>,
    pub review_requested_on: Option<Date>,
    pub review_accepted: Option<bool>,
    pub review_decided_on: Option<Date>,
    /// The procuratorate was asked to supervise the police's refusal.
    pub supervision_requested_on: Option<Date>,
}

impl Transfer {
    /// The police opened a criminal case, at first or on review.
    pub fn accepted(&self) -> bool {
        self.police_accepted == Some(true) || self.review_accepted == Some(true)
    }

    /// The police refused and no review is pending: the body deals with the case itself (Art. 10).
    pub fn finally_declined(&self) -> bool {
        self.police_accepted == Some(false) && (self.review_requested_on.is_none() || self.review_accepted == Some(false))
    }

    /// Still on its way to the police or before them: no penalty may take its place (Art. 11).
    pub fn pending(&self) -> bool {
        self.approved != Some(false) && !self.accepted() && !self.finally_declined()
    }

    /// Where the transfer stands, as one code.
    pub fn state(&self) -> &'static str {
        match () {
            _ if self.approved == Some(false) => "not_approved",
            _ if self.accepted() => "accepted",
            _ if self.finally_declined() => "declined",
            _ if self.review_requested_on.is_some() => "under_review",
            _ if self.transferred_on.is_some() => "transferred",
            _ if self.approved == Some(true) => "approved",
            _ => "proposed",
        }
    }
}

/// One penalty: its type and, for fines and confiscations, the amount in yuan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    pub kind: PenaltyType,
    #[serde(default)]
    pub amount_yuan: u64,
}

impl Penalty {
    pub fn fine(amount_yuan: u64) -> Penalty {
        Penalty { kind: PenaltyType::Fine, amount_yuan }
    }

    pub fn warning() -> Penalty {
        Penalty { kind: PenaltyType::Warning, amount_yuan: 0 }
    }
}

/// An amount of fen as yuan with two decimals, `1234` → `12.34`, in integers (no rounding on the way).
pub fn yuan_of_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// The total fine among `penalties`, in yuan.
pub fn fine_of(penalties: &[Penalty]) -> u64 {
    penalties.iter().filter(|p| p.kind == PenaltyType::Fine).map(|p| p.amount_yuan).sum()
}

/// What a decision decides (Art. 57).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Penalty { penalties: Vec<Penalty> },
    NoPenalty { ground: NoPenaltyGround },
    FactsNotEstablished,
    TransferToJudicial,
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Penalty { .. } => "penalty",
            Outcome::NoPenalty { .. } => "no_penalty",
            Outcome::FactsNotEstablished => "facts_not_established",
            Outcome::TransferToJudicial => "transfer_to_judicial",
        }
    }

    pub fn zh(&self) -> &'static str {
        match self {
            Outcome::Penalty { .. } => "给予行政处罚",
            Outcome::NoPenalty { .. } => "不予行政处罚",
            Outcome::FactsNotEstablished => "违法事实不能成立，不予行政处罚",
            Outcome::TransferToJudicial => "移送司法机关",
        }
    }

    pub fn penalties(&self) -> &[Penalty] {
        match self {
            Outcome::Penalty { penalties } => penalties,
            _ => &[],
        }
    }
}

/// A member of staff as a step records them: enough to judge the step again later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    pub staff_no: String,
    pub name: String,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub auxiliary: bool,
    #[serde(default)]
    pub credential: Option<Credential>,
}

impl Officer {
    /// A member of staff named by number alone, as input names people; the rest is filled in from the
    /// staff records before a step is judged.
    pub fn by_staff_no(staff_no: impl Into<String>) -> Officer {
        Officer { staff_no: staff_no.into(), name: String::new(), roles: Vec::new(), auxiliary: false, credential: None }
    }

    /// Whether this person may act as an enforcement officer in `domain` on `day` (Art. 42; 协管 never).
    pub fn qualified(&self, domain: EnforcementDomain, day: Date) -> bool {
        !self.auxiliary && self.credential.as_ref().is_some_and(|c| c.is_valid_on(day) && c.domains.contains(&domain))
    }

    fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The facts a case is opened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    pub procedure: Procedure,
    pub source: CaseSource,
    /// The report number, inspection or referral the case came from, if any.
    #[serde(default)]
    pub source_ref: String,
    pub party: Party,
    pub power_code: String,
    pub power_name: String,
    pub domain: EnforcementDomain,
    /// What happened, where and when (违法事实).
    pub facts: String,
    /// The day the act was committed, or for a continuing act the day it ended (Art. 36).
    pub act_date: Date,
    /// The day the body discovered it.
    pub discovered_on: Date,
    /// Whether life, health or financial security was involved and harm resulted (the 5-year period).
    #[serde(default)]
    pub serious_harm: bool,
}

/// The on-the-spot decision of the summary procedure (Arts. 51–52).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryDecision {
    pub facts_clear: bool,
    pub penalty: Penalty,
    /// The number printed on the pre-numbered decision form.
    pub form_number: String,
    /// The second officer present.
    pub companion: Officer,
    #[serde(default)]
    pub collected_on_spot: bool,
}

/// A step taken on a case: what the law calls for at each stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[expect(clippy::large_enum_variant, reason = "a case takes a few dozen steps; boxing the opening buys nothing")]
pub enum StepKind {
    /// Creates the case: an ordinary case awaits approval to open; a summary case is decided on the spot.
    Open {
        opening: Opening,
        summary: Option<SummaryDecision>,
    },
    /// A leader approves opening the case (立案, Art. 54).
    ApproveOpening,
    RefuseOpening {
        reason: String,
    },
    /// The officers who investigate (at least two, Art. 42).
    AssignInvestigators {
        investigators: Vec<Officer>,
    },
    /// Flags that bring the gates of Arts. 57 and 58.
    MarkSignificance {
        major_public_interest: bool,
        complex: bool,
        serious: bool,
    },
    AddEvidence {
        evidence_id: Option<String>,
        category: EvidenceCategory,
        description: String,
    },
    /// A record of an inquiry or inspection (笔录, Art. 55), made by at least two investigators.
    RecordInquiry {
        officers: Vec<String>,
        summary: String,
        evidence_id: Option<String>,
    },
    OrderCorrection {
        requirement: String,
        within_days: u32,
    },
    /// Prior notice (事先告知, Art. 44).
    GiveNotice {
        penalties: Vec<Penalty>,
        facts: String,
        basis: String,
    },
    /// The party's statement and defence (陈述申辩, Art. 45).
    RecordStatement {
        summary: String,
    },
    RequestHearing,
    /// The party expressly waives statement, defence and hearing (Art. 62).
    WaiveRights,
    ScheduleHearing {
        hearing_on: Date,
        presiding: Officer,
        place: String,
    },
    RecordHearing {
        party_attended: bool,
        transcript: String,
        evidence_id: Option<String>,
    },
    LegalReview {
        passed: bool,
        opinion: String,
    },
    CollectiveDeliberation {
        members: Vec<String>,
        conclusion: String,
    },
    ExtendDecisionPeriod {
        days: u32,
        reason: String,
    },
    /// The party's written consent to electronic service (Art. 61).
    RecordConsentToElectronicService {
        address: String,
    },
    Decide {
        outcome: Outcome,
        reasons: String,
    },
    Serve {
        method: ServiceMethod,
    },
    /// Filing a summary decision with the body (备案, Art. 52).
    FileSummary,
    RecordAppeal {
        kind: AppealKind,
    },
    EndAppeal {
        decision_upheld: bool,
    },
    GrantDeferral {
        until: Date,
    },
    GrantInstalments {
        plan: Vec<Instalment>,
    },
    RecordPayment {
        amount_fen: i64,
        receipt: String,
    },
    /// Marks signs of a crime (涉嫌犯罪线索): the procuratorate watches such cases (以罚代刑).
    FlagCrimeIndicator {
        note: String,
    },
    /// The case team's written report proposing a transfer to the police (310号 Art. 5).
    ProposeTransfer {
        report: String,
    },
    DecideTransfer {
        approve: bool,
        reason: String,
    },
    TransferToPolice {
        police: String,
        attachments: Vec<TransferAttachment>,
    },
    RecordPoliceReceipt {
        receipt: String,
    },
    RecordPoliceDecision {
        accepted: bool,
        reason: String,
    },
    RequestPoliceReview,
    RecordReviewDecision {
        accepted: bool,
    },
    RequestSupervision,
    /// Publishes the decision with personal data masked (Art. 48; 国办发〔2018〕118号).
    Publish,
    WithdrawPublication {
        reason: String,
    },
    Close {
        summary: String,
    },
    Archive,
}

impl StepKind {
    /// The stable code of the step, as the API and the record name it.
    pub fn code(&self) -> &'static str {
        match self {
            StepKind::Open { .. } => "open",
            StepKind::ApproveOpening => "approve_opening",
            StepKind::RefuseOpening { .. } => "refuse_opening",
            StepKind::AssignInvestigators { .. } => "assign_investigators",
            StepKind::MarkSignificance { .. } => "mark_significance",
            StepKind::AddEvidence { .. } => "add_evidence",
            StepKind::RecordInquiry { .. } => "record_inquiry",
            StepKind::OrderCorrection { .. } => "order_correction",
            StepKind::GiveNotice { .. } => "give_notice",
            StepKind::RecordStatement { .. } => "record_statement",
            StepKind::RequestHearing => "request_hearing",
            StepKind::WaiveRights => "waive_rights",
            StepKind::ScheduleHearing { .. } => "schedule_hearing",
            StepKind::RecordHearing { .. } => "record_hearing",
            StepKind::LegalReview { .. } => "legal_review",
            StepKind::CollectiveDeliberation { .. } => "collective_deliberation",
            StepKind::ExtendDecisionPeriod { .. } => "extend_decision_period",
            StepKind::RecordConsentToElectronicService { .. } => "record_consent",
            StepKind::Decide { .. } => "decide",
            StepKind::Serve { .. } => "serve",
            StepKind::FileSummary => "file_summary",
            StepKind::RecordAppeal { .. } => "record_appeal",
            StepKind::EndAppeal { .. } => "end_appeal",
            StepKind::GrantDeferral { .. } => "grant_deferral",
            StepKind::GrantInstalments { .. } => "grant_instalments",
            StepKind::RecordPayment { .. } => "record_payment",
            StepKind::Close { .. } => "close",
            StepKind::FlagCrimeIndicator { .. } => "flag_crime_indicator",
            StepKind::ProposeTransfer { .. } => "propose_transfer",
            StepKind::DecideTransfer { .. } => "decide_transfer",
            StepKind::TransferToPolice { .. } => "transfer_to_police",
            StepKind::RecordPoliceReceipt { .. } => "record_police_receipt",
            StepKind::RecordPoliceDecision { .. } => "record_police_decision",
            StepKind::RequestPoliceReview => "request_police_review",
            StepKind::RecordReviewDecision { .. } => "record_review_decision",
            StepKind::RequestSupervision => "request_supervision",
            StepKind::Publish => "publish",
            StepKind::WithdrawPublication { .. } => "withdraw_publication",
            StepKind::Archive => "archive",
        }
    }
}

/// Every step code, in the order a case usually meets them: what the UI offers.
pub const STEP_CODES: [&str; 39] = [
    "open",
    "approve_opening",
    "refuse_opening",
    "assign_investigators",
    "mark_significance",
    "add_evidence",
    "record_inquiry",
    "order_correction",
    "give_notice",
    "record_statement",
    "request_hearing",
    "waive_rights",
    "schedule_hearing",
    "record_hearing",
    "legal_review",
    "collective_deliberation",
    "extend_decision_period",
    "record_consent",
    "decide",
    "serve",
    "file_summary",
    "record_appeal",
    "end_appeal",
    "grant_deferral",
    "grant_instalments",
    "record_payment",
    "flag_crime_indicator",
    "propose_transfer",
    "decide_transfer",
    "transfer_to_police",
    "record_police_receipt",
    "record_police_decision",
    "request_police_review",
    "record_review_decision",
    "request_supervision",
    "publish",
    "withdraw_publication",
    "close",
    "archive",
];

/// A step as taken: by whom and on which day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub actor: Officer,
    pub on: Date,
    /// The province's Art. 63 thresholds the step was judged with (the defaults when absent), kept with
    /// the step so that replaying it judges it the same way after the setting changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<HearingThresholds>,
    #[serde(flatten)]
    pub kind: StepKind,
}

/// Part of a fine due on a day (Art. 66: deferral and instalments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instalment {
    pub due: Date,
    pub amount_fen: i64,
}

/// The notice as given, and whether the party has argued against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub penalties: Vec<Penalty>,
    pub facts: String,
    pub basis: String,
    pub given_on: Date,
    pub hearing_right: bool,
}

/// A hearing and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    pub requested_on: Date,
    pub scheduled_on: Option<Date>,
    pub presiding: Option<String>,
    pub held: bool,
    /// The party did not attend: the hearing right is then given up (Art. 65 (5)).
    pub waived_by_absence: bool,
}

/// The decision as made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub reasons: String,
    pub decided_on: Date,
    pub by: String,
}

/// A piece of evidence the investigation registered (Art. 46).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub category: EvidenceCategory,
    /// The file in the evidence store, if the evidence is one.
    pub evidence_id: Option<String>,
    pub description: String,
}

/// An appeal's days: the late fee does not accrue from `from` to `to` (both included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealSpan {
    pub kind: AppealKind,
    pub from: Date,
    pub to: Option<Date>,
}

/// A case: the facts its steps have established.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub opening: Opening,
    pub opened_by: String,
    pub proposed_on: Date,
    /// The day the case was opened (立案); for the summary procedure, the day of the decision.
    pub opened_on: Option<Date>,
    pub not_opened: bool,
    pub investigators: Vec<Officer>,
    pub evidence: Vec<EvidenceItem>,
    pub inquiry_records: usize,
    pub corrections_ordered: usize,
    pub major_public_interest: bool,
    pub complex: bool,
    pub serious: bool,
    pub notice: Option<Notice>,
    /// The penalties notified when the party first argued: nothing later may exceed them (Art. 45).
    pub argued_against: Option<Vec<Penalty>>,
    pub statements: usize,
    pub rights_waived: bool,
    pub hearing: Option<Hearing>,
    /// The last legal review's result: `Some(true)` passed, `Some(false)` returned.
    pub legal_review: Option<bool>,
    pub deliberations: usize,
    /// Deliberations recorded since the last extension of the decision period.
    pub deliberations_since_extension: usize,
    pub extensions_days: Vec<u32>,
    pub electronic_consent: bool,
    pub decision: Option<Decision>,
    pub summary: Option<SummaryDecision>,
    pub summary_filed: bool,
    pub served: Option<(ServiceMethod, Date)>,
    pub appeals: Vec<AppealSpan>,
    /// The decision was changed or revoked on appeal: nothing is left to collect.
    pub revoked: bool,
    pub instalments: Vec<Instalment>,
    pub payments: Vec<(Date, i64)>,
    pub closed_on: Option<Date>,
    pub archived: bool,
    pub crime_indicator: bool,
    pub transfer: Option<Transfer>,
    pub published_on: Option<Date>,
    pub withdrawn_on: Option<Date>,
    /// The day an appeal changed or revoked the decision.
    pub revoked_on: Option<Date>,
}

/// Why a step is refused: the unmet condition (its stable code) and the article that sets it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CaseError {
    pub code: &'static str,
    pub article: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, article: &'static str, message: impl Into<String>) -> CaseError {
    CaseError { code, article, message: message.into() }
}

fn ensure(ok: bool, code: &'static str, article: &'static str, message: &str) -> Result<(), CaseError> {
    if ok { Ok(()) } else { Err(refuse(code, article, message)) }
}

/// A deadline the case must meet, as the dashboards and the workspace show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseDeadline {
    pub code: &'static str,
    pub article: &'static str,
    pub last_day: Date,
    pub provisional: bool,
    /// Whether the step it waits for has been taken.
    pub met: bool,
}

impl Case {
    /// Opens a case from its first step.
    pub fn open(step: &Step, cal: &WorkCalendar) -> Result<Case, CaseError> {
        let StepKind::Open { opening, summary } = &step.kind else {
            return Err(refuse("case_not_opened", "Art. 54", "a case begins with its opening"));
        };
        let actor = &step.actor;
        ensure(!actor.auxiliary, "auxiliary_cannot_act", "Art. 42", "auxiliary staff assist but never open or decide a case")?;
        ensure(
            actor.has(Role::Officer) || actor.has(Role::Leader),
            "role_not_allowed",
            "Art. 42",
            "only enforcement officers and leaders open cases",
        )?;
        ensure(
            opening.discovered_on <= step.on && opening.act_date <= opening.discovered_on,
            "bad_dates",
            "Art. 36",
            "the act comes before its discovery, which comes before today",
        )?;
        ensure(
            !opening.facts.trim().is_empty() && !opening.power_code.trim().is_empty(),
            "facts_required",
            "Art. 40",
            "a case states the facts and the power it is brought under",
        )?;
        let mut case = Case {
            opening: opening.clone(),
            opened_by: actor.staff_no.clone(),
            proposed_on: step.on,
            opened_on: None,
            not_opened: false,
            investigators: Vec::new(),
            evidence: Vec::new(),
            inquiry_records: 0,
            corrections_ordered: 0,
            major_public_interest: false,
            complex: false,
            serious: false,
            notice: None,
            argued_against: None,
            statements: 0,
            rights_waived: false,
            hearing: None,
            legal_review: None,
            deliberations: 0,
            deliberations_since_extension: 0,
            extensions_days: Vec::new(),
            electronic_consent: false,
            decision: None,
            summary: None,
            summary_filed: false,
            served: None,
            appeals: Vec::new(),
            revoked: false,
            instalments: Vec::new(),
            payments: Vec::new(),
            closed_on: None,
            archived: false,
            crime_indicator: false,
            transfer: None,
            published_on: None,
            withdrawn_on: None,
            revoked_on: None,
        };
        match (opening.procedure, summary) {
            (Procedure::Ordinary, None) => Ok(case),
            (Procedure::Ordinary, Some(_)) => Err(refuse(
                "summary_decision_in_ordinary_case",
                "Art. 51",
                "an ordinary case is decided after investigation, not on the spot",
            )),
            (Procedure::Summary, None) => {
                Err(refuse("summary_decision_required", "Art. 52", "a summary case is the on-the-spot decision"))
            }
            (Procedure::Summary, Some(decision)) => {
                case.check_limitation(step.on)?;
                check_summary(decision, actor, opening, step.on)?;
                case.opened_on = Some(step.on);
                case.investigators = vec![actor.clone(), decision.companion.clone()];
                case.summary = Some(decision.clone());
                case.decision = Some(Decision {
                    outcome: Outcome::Penalty { penalties: vec![decision.penalty.clone()] },
                    reasons: opening.facts.clone(),
                    decided_on: step.on,
                    by: actor.staff_no.clone(),
                });
                // Art. 52: the form is handed to the party on the spot.
                case.served = Some((ServiceMethod::OnTheSpot, step.on));
                case.set_payment_schedule(cal);
                if decision.collected_on_spot {
                    case.payments.push((step.on, i64::try_from(decision.penalty.amount_yuan).unwrap_or(i64::MAX) * 100));
                }
                Ok(case)
            }
        }
    }

    /// Replays stored steps; the first must be the opening.
    pub fn replay(steps: &[Step], cal: &WorkCalendar) -> Result<Case, CaseError> {
        let (first, rest) = steps.split_first().ok_or_else(|| refuse("case_not_opened", "Art. 54", "no steps"))?;
        let mut case = Case::open(first, cal)?;
        for step in rest {
            case = case.apply(step, cal)?;
        }
        Ok(case)
    }

    pub fn procedure(&self) -> Procedure {
        self.opening.procedure
    }

    /// Where the case stands.
    pub fn stage(&self) -> Stage {
        if self.archived {
            Stage::Archived
        } else if self.closed_on.is_some() {
            Stage::Closed
        } else if self.not_opened {
            Stage::NotOpened
        } else if self.served.is_some() {
            Stage::Execution
        } else if self.decision.is_some() {
            Stage::Decided
        } else if self.opened_on.is_none() {
            Stage::Filing
        } else if self.notice.is_some() {
            Stage::Notified
        } else {
            Stage::Investigation
        }
    }

    /// The total fine decided, in fen.
    pub fn fine_fen(&self) -> i64 {
        let yuan = self.decision.as_ref().map_or(0, |d| fine_of(d.outcome.penalties()));
        i64::try_from(yuan).unwrap_or(i64::MAX / 200) * 100
    }

    pub fn paid_fen(&self) -> i64 {
        self.payments.iter().map(|(_, f)| f).sum()
    }

    /// Whether the party may ask for a hearing for `penalties` (Art. 63).
    pub fn hearing_right(&self, penalties: &[Penalty], thresholds: HearingThresholds) -> bool {
        let threshold = match self.opening.party.kind {
            PartyKind::Person => thresholds.person_yuan,
            PartyKind::Organisation => thresholds.organisation_yuan,
        };
        penalties.iter().any(|p| {
            p.kind.always_allows_hearing()
                || (matches!(
                    p.kind,
                    PenaltyType::Fine | PenaltyType::ConfiscateIllegalGains | PenaltyType::ConfiscateIllegalProperty
                ) && p.amount_yuan >= threshold)
        })
    }

    /// Whether legal review must pass before the decision (Art. 58).
    pub fn legal_review_required(&self) -> bool {
        self.opening.procedure == Procedure::Ordinary
            && (self.major_public_interest || self.complex || self.hearing.as_ref().is_some_and(|h| h.held))
    }

    /// The last day the decision may be made: ninety days from opening plus approved extensions (Art. 60).
    pub fn decision_due(&self, cal: &WorkCalendar) -> Option<PeriodEnd> {
        let opened = self.opened_on?;
        let days = DECISION_PERIOD.days + self.extensions_days.iter().sum::<u32>();
        Some(cal.period_end(opened, Period::calendar(days)))
    }

    /// The last day the party may ask for a hearing or state a defence.
    pub fn rights_due(&self, cal: &WorkCalendar) -> Option<PeriodEnd> {
        self.notice.as_ref().map(|n| cal.period_end(n.given_on, HEARING_REQUEST_PERIOD))
    }

    /// Whether the party's rights after notice still stand open on `day`, so that no decision may be made.
    fn rights_open(&self, day: Date, cal: &WorkCalendar) -> bool {
        if self.rights_waived {
            return false;
        }
        match (&self.notice, &self.hearing) {
            (None, _) => false,
            // A requested hearing is waited for by its own gate.
            (Some(_), Some(_)) => false,
            (Some(_), None) => self.rights_due(cal).is_some_and(|due| day <= due.last_day),
        }
    }

    /// The case's transfer, if it is at the point `at` describes.
    fn transfer_at(&self, at: impl Fn(&Transfer) -> bool, what: &str) -> Result<&Transfer, CaseError> {
        ensure(self.closed_on.is_none(), "case_closed", "Art. 47", "the case is closed")?;
        match &self.transfer {
            Some(t) if at(t) => Ok(t),
            _ => Err(refuse("wrong_transfer_stage", "Art. 5 (国务院令第310号)", what)),
        }
    }

    fn is_investigator(&self, staff_no: &str) -> bool {
        self.investigators.iter().any(|o| o.staff_no == staff_no)
    }

    fn qualified_investigators(&self, day: Date) -> usize {
        self.investigators.iter().filter(|o| o.qualified(self.opening.domain, day)).count()
    }

    fn check_limitation(&self, day: Date) -> Result<(), CaseError> {
        let years = if self.opening.serious_harm { LIMITATION_YEARS_SERIOUS } else { LIMITATION_YEARS };
        let barred_from = self.opening.act_date.checked_add(jiff::Span::new().years(years)).unwrap_or(self.opening.act_date);
        ensure(
            self.opening.discovered_on < barred_from,
            "limitation_expired",
            "Art. 36",
            &format!("the act was not discovered within {years} years, so it may no longer be penalised"),
        )?;
        ensure(day >= self.opening.discovered_on, "bad_dates", "Art. 36", "a case is opened after the act is discovered")
    }

    fn check_decision_gates(&self, day: Date, cal: &WorkCalendar) -> Result<(), CaseError> {
        ensure(
            self.qualified_investigators(day) >= MIN_OFFICERS,
            "two_qualified_officers_required",
            "Art. 42",
            "at least two investigators must hold a valid enforcement credential for this domain",
        )?;
        self.check_rights_done(day, cal)
    }

    /// The party's statement, defence and hearing are over: a review or decision may follow.
    fn check_rights_done(&self, day: Date, cal: &WorkCalendar) -> Result<(), CaseError> {
        ensure(
            !self.rights_open(day, cal),
            "rights_period_open",
            "Art. 44, 64",
            "the party's time to state a defence or ask for a hearing has not run out",
        )?;
        if let Some(h) = &self.hearing {
            ensure(h.held || h.waived_by_absence, "hearing_pending", "Art. 65", "the requested hearing has not been held")?;
        }
        Ok(())
    }

    /// What is left of the fine itself, in fen (the late fee aside).
    pub fn outstanding_fen(&self) -> i64 {
        if self.revoked { 0 } else { (self.fine_fen() - self.paid_fen()).max(0) }
    }

    /// What the party owes on `day`: the rest of the fine and the late fee; nothing once revoked.
    pub fn owed_fen(&self, day: Date) -> i64 {
        if self.revoked { 0 } else { (self.fine_fen() + self.late_fee_fen(day) - self.paid_fen()).max(0) }
    }

    /// The late-payment fine owed on `day` (Art. 72 (1)): 3% of each overdue sum per day from the day after it
    /// fell due until paid, not counting the days of an appeal (Art. 73), never more than the fine.
    pub fn late_fee_fen(&self, day: Date) -> i64 {
        if self.revoked || self.instalments.is_empty() {
            return 0;
        }
        // Payments settle instalments in order of their due dates.
        let mut payments = self.payments.clone();
        payments.sort_by_key(|(d, _)| *d);
        let mut paid = payments.iter().map(|(d, f)| (*d, *f)).collect::<Vec<_>>().into_iter();
        let mut carry: Option<(Date, i64)> = None;
        let mut fee = 0i64;
        for inst in &self.instalments {
            let mut left = inst.amount_fen;
            let mut settled_on = None;
            while left > 0 {
                let Some((d, f)) = carry.take().or_else(|| paid.next()) else { break };
                let used = f.min(left);
                left -= used;
                if f > used {
                    carry = Some((d, f - used));
                }
                if left == 0 {
                    settled_on = Some(d);
                }
            }
            let until = settled_on.map_or(day, |d| d.min(day));
            let late_days = self.late_days(inst.due, until);
            fee += inst.amount_fen * LATE_FEE_PERCENT_PER_DAY * late_days / 100;
        }
        fee.min(self.fine_fen())
    }

    /// Days after `due` up to and including `until` that were not in an appeal.
    fn late_days(&self, due: Date, until: Date) -> i64 {
        let mut days = 0;
        let mut at = due;
        while at < until {
            at = at.tomorrow().expect("dates stay far from the end of time");
            let appealing = self.appeals.iter().any(|a| a.from <= at && a.to.is_none_or(|to| at <= to));
            if !appealing {
                days += 1;
            }
        }
        days
    }

    fn set_payment_schedule(&mut self, cal: &WorkCalendar) {
        let fine = self.fine_fen();
        self.instalments = match self.served {
            Some((_, on)) if fine > 0 => vec![Instalment { due: cal.period_end(on, PAYMENT_PERIOD).last_day, amount_fen: fine }],
            _ => Vec::new(),
        };
    }

    /// The case after `step`, or why the step is refused. Nothing about `self` changes either way.
    pub fn apply(&self, step: &Step, cal: &WorkCalendar) -> Result<Case, CaseError> {
        let thresholds = step.thresholds.unwrap_or_default();
        let mut next = self.clone();
        let actor = &step.actor;
        let day = step.on;
        ensure(!self.archived, "case_archived", "Art. 47", "an archived case takes no further steps")?;
        ensure(!self.not_opened, "case_not_opened", "Art. 54", "the case was not opened")?;
        ensure(day >= self.proposed_on, "bad_dates", "Art. 47", "a step cannot come before the case began")?;
        if !matches!(step.kind, StepKind::Archive) {
            ensure(self.closed_on.is_none(), "case_closed", "Art. 47", "the case is closed; only archiving remains")?;
        }
        let leader = || {
            ensure(
                actor.has(Role::Leader) && !actor.auxiliary,
                "leader_required",
                "Art. 57",
                "this step is taken by a leader of the body",
            )
        };
        let officer = || {
            ensure(
                !actor.auxiliary,
                "auxiliary_cannot_act",
                "Art. 42",
                "auxiliary staff assist but never take a step of the procedure",
            )?;
            ensure(
                actor.has(Role::Officer) || actor.has(Role::Leader),
                "role_not_allowed",
                "Art. 42",
                "this step is taken by an enforcement officer",
            )
        };
        let stage = self.stage();
        let at_stage = |stages: &[Stage]| {
            ensure(
                stages.contains(&stage),
                "wrong_stage",
                "Art. 47",
                &format!("this step is not taken while the case is at {}", stage.zh()),
            )
        };
        let ordinary = || {
            ensure(
                self.procedure() == Procedure::Ordinary,
                "ordinary_procedure_only",
                "Art. 54",
                "this step belongs to the ordinary procedure",
            )
        };
        match &step.kind {
            StepKind::Open { .. } => return Err(refuse("already_open", "Art. 54", "the case already exists")),
            StepKind::ApproveOpening => {
                leader()?;
                at_stage(&[Stage::Filing])?;
                self.check_limitation(day)?;
                next.opened_on = Some(day);
            }
            StepKind::RefuseOpening { reason } => {
                leader()?;
                at_stage(&[Stage::Filing])?;
                ensure(!reason.trim().is_empty(), "reason_required", "Art. 54", "a refusal to open gives its reason")?;
                next.not_opened = true;
            }
            StepKind::AssignInvestigators { investigators } => {
                leader()?;
                ordinary()?;
                at_stage(&[Stage::Filing, Stage::Investigation, Stage::Notified])?;
                for o in investigators {
                    ensure(
                        o.qualified(self.opening.domain, day),
                        "investigator_not_qualified",
                        "Art. 42",
                        &format!("{} holds no valid enforcement credential for {}", o.name, self.opening.domain.zh()),
                    )?;
                }
                let mut all = self.investigators.clone();
                for o in investigators {
                    if !all.iter().any(|a| a.staff_no == o.staff_no) {
                        all.push(o.clone());
                    }
                }
                next.investigators = all;
            }
            StepKind::MarkSignificance { major_public_interest, complex, serious } => {
                leader()?;
                ordinary()?;
                ensure(self.decision.is_none(), "already_decided", "Art. 57", "significance is judged before the decision")?;
                next.major_public_interest = *major_public_interest;
                next.complex = *complex;
                next.serious = *serious;
            }
            StepKind::AddEvidence { category, description, evidence_id } => {
                officer()?;
                ordinary()?;
                at_stage(&[Stage::Investigation, Stage::Notified])?;
                ensure(
                    self.is_investigator(&actor.staff_no),
                    "investigator_required",
                    "Art. 55",
                    "evidence is gathered by the case's investigators",
                )?;
                ensure(!description.trim().is_empty(), "description_required", "Art. 46", "evidence says what it is")?;
                next.evidence.push(EvidenceItem {
                    category: *category,
                    evidence_id: evidence_id.clone(),
                    description: description.trim().to_string(),
                });
            }
            StepKind::RecordInquiry { officers, summary, .. } => {
                officer()?;
                ordinary()?;
                at_stage(&[Stage::Investigation, Stage::Notified])?;
                let present = officers
                    .iter()
                    .filter(|s| self.investigators.iter().any(|o| &&o.staff_no == s && o.qualified(self.opening.domain, day)))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                ensure(
                    present >= MIN_OFFICERS,
                    "two_qualified_officers_required",
                    "Art. 42, 55",
                    "an inquiry is made by at least two qualified investigators of the case",
                )?;
                ensure(
                    !summary.trim().is_empty(),
                    "description_required",
                    "Art. 55",
                    "a record says what was asked and answered",
                )?;
                next.inquiry_records += 1;
            }
            StepKind::OrderCorrection { requirement, within_days } => {
                officer()?;
                at_stage(&[Stage::Investigation, Stage::Notified, Stage::Decided, Stage::Execution])?;
                ensure(
                    !requirement.trim().is_empty() && *within_days > 0,
                    "description_required",
                    "Art. 28",
                    "an order to correct says what to do and by when",
                )?;
                next.corrections_ordered += 1;
            }
            StepKind::GiveNotice { penalties, facts, basis } => {
                officer()?;
                ordinary()?;
                at_stage(&[Stage::Investigation, Stage::Notified])?;
                ensure(
                    self.qualified_investigators(day) >= MIN_OFFICERS,
                    "two_qualified_officers_required",
                    "Art. 42",
                    "at least two investigators must hold a valid enforcement credential for this domain",
                )?;
                ensure(
                    !self.evidence.is_empty(),
                    "evidence_required",
                    "Art. 46",
                    "a notice rests on evidence gathered in the investigation",
                )?;
                ensure(
                    self.inquiry_records > 0,
                    "inquiry_record_required",
                    "Art. 55",
                    "the investigation has no record of inquiry or inspection",
                )?;
                ensure(
                    !penalties.is_empty() && !facts.trim().is_empty() && !basis.trim().is_empty(),
                    "notice_incomplete",
                    "Art. 44",
                    "a notice states the proposed penalty, the facts and the legal basis",
                )?;
                check_penalties(penalties)?;
                if let Some(limit) = &self.argued_against {
                    ensure(
                        covered_by(penalties, limit),
                        "penalty_raised_after_defence",
                        "Art. 45",
                        "the penalty may not be raised because the party argued",
                    )?;
                }
                ensure(
                    self.hearing.as_ref().is_none_or(|h| h.held || h.waived_by_absence),
                    "hearing_pending",
                    "Art. 64",
                    "a hearing is under way",
                )?;
                next.notice = Some(Notice {
                    penalties: penalties.clone(),
                    facts: facts.trim().to_string(),
                    basis: basis.trim().to_string(),
                    given_on: day,
                    hearing_right: self.hearing_right(penalties, thresholds),
                });
                next.rights_waived = false;
                next.hearing = None;
                next.legal_review = None;
            }
            StepKind::RecordStatement { summary } => {
                officer()?;
                at_stage(&[Stage::Notified])?;
                ensure(!summary.trim().is_empty(), "description_required", "Art. 45", "the record says what the party stated")?;
                next.statements += 1;
                if self.argued_against.is_none() {
                    next.argued_against = self.notice.as_ref().map(|n| n.penalties.clone());
                }
            }
            StepKind::RequestHearing => {
                officer()?;
                at_stage(&[Stage::Notified])?;
                let notice = self.notice.as_ref().expect("notified");
                ensure(
                    notice.hearing_right,
                    "no_hearing_right",
                    "Art. 63",
                    "the proposed penalty does not carry a right to a hearing",
                )?;
                ensure(self.hearing.is_none(), "hearing_already_requested", "Art. 64", "a hearing has already been requested")?;
                ensure(!self.rights_waived, "rights_waived", "Art. 62", "the party waived the hearing")?;
                let due = self.rights_due(cal).expect("notified");
                ensure(
                    day <= due.last_day,
                    "hearing_request_late",
                    "Art. 64",
                    &format!("a hearing had to be asked for by {}", due.last_day),
                )?;
                next.hearing = Some(Hearing {
                    requested_on: day,
                    scheduled_on: None,
                    presiding: None,
                    held: false,
                    waived_by_absence: false,
                });
                if self.argued_against.is_none() {
                    next.argued_against = Some(notice.penalties.clone());
                }
            }
            StepKind::WaiveRights => {
                officer()?;
                at_stage(&[Stage::Notified])?;
                ensure(
                    self.hearing.is_none(),
                    "hearing_already_requested",
                    "Art. 64",
                    "a requested hearing is held or the party stays away",
                )?;
                next.rights_waived = true;
            }
            StepKind::ScheduleHearing { hearing_on, presiding, place } => {
                leader()?;
                at_stage(&[Stage::Notified])?;
                let Some(hearing) = &self.hearing else {
                    return Err(refuse("hearing_not_requested", "Art. 64", "the party has not asked for a hearing"));
                };
                ensure(!hearing.held, "hearing_already_held", "Art. 64", "the hearing has been held")?;
                ensure(
                    !self.is_investigator(&presiding.staff_no),
                    "presiding_officer_is_investigator",
                    "Art. 64 (4)",
                    "the presiding officer may not be an investigator of the case",
                )?;
                ensure(!presiding.auxiliary, "auxiliary_cannot_act", "Art. 42", "auxiliary staff do not preside over hearings")?;
                let earliest = cal.period_end(day, HEARING_NOTICE_PERIOD).last_day;
                ensure(
                    *hearing_on >= earliest,
                    "hearing_notice_too_short",
                    "Art. 64 (2)",
                    &format!("the party is told seven working days ahead: the hearing may be on {earliest} at the earliest"),
                )?;
                ensure(!place.trim().is_empty(), "description_required", "Art. 64", "the notice names the place")?;
                next.hearing = Some(Hearing {
                    scheduled_on: Some(*hearing_on),
                    presiding: Some(presiding.staff_no.clone()),
                    ..hearing.clone()
                });
            }
            StepKind::RecordHearing { party_attended, transcript, .. } => {
                let Some(hearing) = &self.hearing else {
                    return Err(refuse("hearing_not_requested", "Art. 64", "the party has not asked for a hearing"));
                };
                let Some(on) = hearing.scheduled_on else {
                    return Err(refuse("hearing_not_scheduled", "Art. 64", "the hearing has not been scheduled"));
                };
                ensure(
                    hearing.presiding.as_deref() == Some(actor.staff_no.as_str()),
                    "presiding_officer_required",
                    "Art. 64",
                    "the presiding officer records the hearing",
                )?;
                ensure(day >= on, "hearing_not_yet_due", "Art. 64", "the hearing is recorded on or after its day")?;
                ensure(
                    !hearing.held && !hearing.waived_by_absence,
                    "hearing_already_held",
                    "Art. 64",
                    "the hearing has been recorded",
                )?;
                ensure(
                    !*party_attended || !transcript.trim().is_empty(),
                    "transcript_required",
                    "Art. 64 (8)",
                    "a hearing has a transcript",
                )?;
                next.hearing = Some(Hearing { held: *party_attended, waived_by_absence: !*party_attended, ..hearing.clone() });
            }
            StepKind::LegalReview { passed, opinion } => {
                ensure(
                    actor.has(Role::LegalReviewer) && !actor.auxiliary,
                    "legal_reviewer_required",
                    "Art. 58",
                    "legal review is made by the body's legal reviewers",
                )?;
                ensure(
                    actor.credential.as_ref().is_some_and(|c| c.is_valid_on(day)),
                    "reviewer_not_qualified",
                    "Art. 58",
                    "a legal reviewer holds a valid qualification on record",
                )?;
                ensure(
                    !self.is_investigator(&actor.staff_no),
                    "reviewer_is_investigator",
                    "Art. 58",
                    "a reviewer does not review a case they investigated",
                )?;
                at_stage(&[Stage::Investigation, Stage::Notified])?;
                ordinary()?;
                self.check_rights_done(day, cal)?;
                ensure(!opinion.trim().is_empty(), "description_required", "Art. 58", "a review gives its opinion")?;
                next.legal_review = Some(*passed);
            }
            StepKind::CollectiveDeliberation { members, conclusion } => {
                leader()?;
                ordinary()?;
                at_stage(&[Stage::Investigation, Stage::Notified])?;
                let distinct =
                    members.iter().map(|m| m.trim()).filter(|m| !m.is_empty()).collect::<std::collections::BTreeSet<_>>();
                ensure(
                    distinct.len() >= MIN_DELIBERATION_MEMBERS,
                    "deliberation_quorum",
                    "Art. 57",
                    "a collective deliberation has at least two of the body's leaders",
                )?;
                ensure(
                    !conclusion.trim().is_empty(),
                    "description_required",
                    "Art. 57",
                    "the deliberation records its conclusion",
                )?;
                next.deliberations += 1;
                next.deliberations_since_extension += 1;
            }
            StepKind::ExtendDecisionPeriod { days, reason } => {
                leader()?;
                ordinary()?;
                at_stage(&[Stage::Investigation, Stage::Notified])?;
                ensure(
                    (1..=MAX_EXTENSION_DAYS).contains(days),
                    "extension_too_long",
                    "Art. 60",
                    "one extension is at most thirty days",
                )?;
                ensure(!reason.trim().is_empty(), "reason_required", "Art. 60", "an extension gives its reason")?;
                let due = self.decision_due(cal).expect("opened");
                ensure(day <= due.last_day, "extension_too_late", "Art. 60", "the decision period has already run out")?;
                ensure(
                    self.extensions_days.is_empty() || self.deliberations_since_extension > 0,
                    "collective_deliberation_required",
                    "Art. 60",
                    "a further extension needs a collective deliberation",
                )?;
                next.extensions_days.push(*days);
                next.deliberations_since_extension = 0;
            }
            StepKind::RecordConsentToElectronicService { address } => {
                officer()?;
                ensure(!address.trim().is_empty(), "description_required", "Art. 61", "consent names the address to serve at")?;
                next.electronic_consent = true;
            }
            StepKind::Decide { outcome, reasons } => {
                leader()?;
                ordinary()?;
                at_stage(&[Stage::Investigation, Stage::Notified])?;
                let due = self.decision_due(cal).expect("opened");
                ensure(
                    day <= due.last_day,
                    "decision_period_expired",
                    "Art. 60",
                    &format!("the decision was due by {}", due.last_day),
                )?;
                ensure(!reasons.trim().is_empty(), "reason_required", "Art. 59", "a decision states its reasons")?;
                self.check_decision_gates(day, cal)?;
                match (&self.transfer, outcome) {
                    (t, Outcome::TransferToJudicial) => ensure(
                        t.as_ref().is_some_and(Transfer::accepted),
                        "police_not_filed",
                        "Art. 57; Art. 8 (国务院令第310号)",
                        "a case is decided as transferred once the police have opened a criminal case",
                    )?,
                    (Some(t), _) => ensure(
                        !t.pending(),
                        "transfer_pending",
                        "Art. 11 (国务院令第310号)",
                        "a penalty may not take the place of a pending transfer to the police",
                    )?,
                    (None, _) => {}
                }
                if let Outcome::Penalty { penalties } = outcome {
                    check_penalties(penalties)?;
                    let Some(notice) = &self.notice else {
                        return Err(refuse(
                            "prior_notice_required",
                            "Art. 44, 62",
                            "no penalty is decided without prior notice to the party",
                        ));
                    };
                    if let Some(limit) = &self.argued_against {
                        ensure(
                            covered_by(penalties, limit),
                            "penalty_raised_after_defence",
                            "Art. 45",
                            "the penalty may not be raised because the party argued",
                        )?;
                    }
                    ensure(
                        covered_by(penalties, &notice.penalties),
                        "penalty_not_in_notice",
                        "Art. 44",
                        "the decided penalty goes beyond the notice; give a new notice first",
                    )?;
                }
                if self.legal_review_required() {
                    ensure(
                        self.legal_review == Some(true),
                        "legal_review_required",
                        "Art. 58",
                        "legal review must pass before this decision",
                    )?;
                }
                ensure(self.legal_review != Some(false), "legal_review_returned", "Art. 58", "legal review returned the case")?;
                if self.serious {
                    ensure(
                        self.deliberations > 0,
                        "collective_deliberation_required",
                        "Art. 57",
                        "a complex or serious case is decided by collective deliberation",
                    )?;
                }
                next.decision = Some(Decision {
                    outcome: outcome.clone(),
                    reasons: reasons.trim().to_string(),
                    decided_on: day,
                    by: actor.staff_no.clone(),
                });
            }
            StepKind::Serve { method } => {
                officer()?;
                at_stage(&[Stage::Decided])?;
                ensure(
                    *method != ServiceMethod::Electronic || self.electronic_consent,
                    "electronic_service_without_consent",
                    "Art. 61",
                    "electronic service needs the party's signed consent",
                )?;
                ensure(
                    *method != ServiceMethod::OnTheSpot || self.decision.as_ref().is_some_and(|d| d.decided_on == day),
                    "not_on_the_spot",
                    "Art. 61",
                    "a decision is handed over on the spot only on the day it is made",
                )?;
                next.served = Some((*method, day));
                next.set_payment_schedule(cal);
            }
            StepKind::FileSummary => {
                officer()?;
                ensure(
                    self.procedure() == Procedure::Summary,
                    "summary_procedure_only",
                    "Art. 52",
                    "only summary decisions are filed with the body",
                )?;
                ensure(!self.summary_filed, "already_filed", "Art. 52", "the decision is already filed")?;
                next.summary_filed = true;
            }
            StepKind::RecordAppeal { kind } => {
                officer()?;
                at_stage(&[Stage::Decided, Stage::Execution])?;
                ensure(
                    self.appeals.iter().all(|a| a.to.is_some()),
                    "appeal_pending",
                    "Art. 73",
                    "an appeal is already under way",
                )?;
                next.appeals.push(AppealSpan { kind: *kind, from: day, to: None });
            }
            StepKind::EndAppeal { decision_upheld } => {
                officer()?;
                let Some(open) = next.appeals.iter_mut().find(|a| a.to.is_none()) else {
                    return Err(refuse("no_appeal_pending", "Art. 73", "no appeal is under way"));
                };
                open.to = Some(day);
                next.revoked = !decision_upheld;
                next.revoked_on = (!decision_upheld).then_some(day);
            }
            StepKind::GrantDeferral { until } => {
                leader()?;
                at_stage(&[Stage::Execution])?;
                ensure(self.outstanding_fen() > 0, "nothing_to_pay", "Art. 66", "nothing is owed")?;
                ensure(*until > day, "bad_dates", "Art. 66", "a deferral runs to a later day")?;
                let owed = self.outstanding_fen();
                next.instalments = settled_part(self).into_iter().chain([Instalment { due: *until, amount_fen: owed }]).collect();
            }
            StepKind::GrantInstalments { plan } => {
                leader()?;
                at_stage(&[Stage::Execution])?;
                let owed = self.outstanding_fen();
                ensure(owed > 0, "nothing_to_pay", "Art. 66", "nothing is owed")?;
                ensure(
                    plan.len() >= 2
                        && plan.iter().all(|i| i.amount_fen > 0 && i.due > day)
                        && plan.windows(2).all(|w| w[0].due < w[1].due),
                    "bad_instalments",
                    "Art. 66",
                    "instalments are two or more positive sums on later, increasing days",
                )?;
                ensure(
                    plan.iter().map(|i| i.amount_fen).sum::<i64>() == owed,
                    "bad_instalments",
                    "Art. 66",
                    "the instalments add up to what is owed",
                )?;
                next.instalments = settled_part(self).into_iter().chain(plan.iter().copied()).collect();
            }
            StepKind::RecordPayment { amount_fen, receipt } => {
                officer()?;
                at_stage(&[Stage::Execution])?;
                ensure(*amount_fen > 0, "bad_amount", "Art. 67", "a payment is a positive sum")?;
                ensure(!receipt.trim().is_empty(), "receipt_required", "Art. 70", "a payment has its receipt")?;
                ensure(*amount_fen <= self.owed_fen(day), "overpayment", "Art. 67", "the payment is more than is owed")?;
                next.payments.push((day, *amount_fen));
            }
            StepKind::FlagCrimeIndicator { note } => {
                officer()?;
                at_stage(&[Stage::Investigation, Stage::Notified, Stage::Decided, Stage::Execution])?;
                ensure(!note.trim().is_empty(), "description_required", "Art. 27", "say what points to a crime")?;
                next.crime_indicator = true;
            }
            StepKind::ProposeTransfer { report } => {
                officer()?;
                at_stage(&[Stage::Investigation, Stage::Notified, Stage::Decided, Stage::Execution])?;
                ensure(
                    self.is_investigator(&actor.staff_no),
                    "investigator_required",
                    "Art. 5 (国务院令第310号)",
                    "the case team proposes the transfer",
                )?;
                ensure(
                    self.qualified_investigators(day) >= MIN_OFFICERS,
                    "two_qualified_officers_required",
                    "Art. 5 (国务院令第310号)",
                    "a transfer is proposed by a team of at least two officers",
                )?;
                ensure(
                    self.transfer.as_ref().is_none_or(|t| t.approved == Some(false)),
                    "transfer_exists",
                    "Art. 5 (国务院令第310号)",
                    "a transfer is already under way",
                )?;
                ensure(
                    !report.trim().is_empty(),
                    "description_required",
                    "Art. 5 (国务院令第310号)",
                    "the proposal is a written report",
                )?;
                next.crime_indicator = true;
                next.transfer = Some(Transfer {
                    reported_on: day,
                    approved: None,
                    decided_on: None,
                    transferred_on: None,
                    police: String::new(),
                    attachments: Vec::new(),
                    receipt: None,
                    police_accepted: None,
                    police_decided_on: None,
                    review_requested_on: None,
                    review_accepted: None,
                    review_decided_on: None,
                    supervision_requested_on: None,
                });
            }
            StepKind::DecideTransfer { approve, reason } => {
                leader()?;
                let t = self.transfer_at(|t| t.approved.is_none(), "no transfer awaits a decision")?;
                ensure(
                    *approve || !reason.trim().is_empty(),
                    "reason_required",
                    "Art. 5 (国务院令第310号)",
                    "a refusal to transfer is recorded with its reasons",
                )?;
                next.transfer = Some(Transfer { approved: Some(*approve), decided_on: Some(day), ..t.clone() });
            }
            StepKind::TransferToPolice { police, attachments } => {
                officer()?;
                let t = self.transfer_at(
                    |t| t.approved == Some(true) && t.transferred_on.is_none(),
                    "no approved transfer awaits sending",
                )?;
                ensure(!police.trim().is_empty(), "description_required", "Art. 5 (国务院令第310号)", "name the police body")?;
                ensure(
                    attachments.contains(&TransferAttachment::TransferLetter)
                        && attachments.contains(&TransferAttachment::InvestigationReport),
                    "transfer_attachments_missing",
                    "Art. 6 (国务院令第310号)",
                    "a transfer carries the transfer letter and the investigation report",
                )?;
                let mut attached = attachments.clone();
                attached.sort();
                attached.dedup();
                next.transfer = Some(Transfer {
                    transferred_on: Some(day),
                    police: police.trim().to_string(),
                    attachments: attached,
                    ..t.clone()
                });
            }
            StepKind::RecordPoliceReceipt { receipt } => {
                officer()?;
                let t =
                    self.transfer_at(|t| t.transferred_on.is_some() && t.receipt.is_none(), "no transfer awaits a receipt")?;
                ensure(
                    !receipt.trim().is_empty(),
                    "receipt_required",
                    "Art. 7 (国务院令第310号)",
                    "the police sign the receipt",
                )?;
                next.transfer = Some(Transfer { receipt: Some(receipt.trim().to_string()), ..t.clone() });
            }
            StepKind::RecordPoliceDecision { accepted, reason } => {
                officer()?;
                let t = self.transfer_at(
                    |t| t.transferred_on.is_some() && t.police_accepted.is_none(),
                    "no transfer awaits the police's decision",
                )?;
                ensure(
                    *accepted || !reason.trim().is_empty(),
                    "reason_required",
                    "Art. 8 (国务院令第310号)",
                    "a refusal to open a criminal case states its reasons",
                )?;
                next.transfer = Some(Transfer { police_accepted: Some(*accepted), police_decided_on: Some(day), ..t.clone() });
            }
            StepKind::RequestPoliceReview => {
                officer()?;
                let t = self.transfer_at(
                    |t| t.police_accepted == Some(false) && t.review_requested_on.is_none(),
                    "no refusal by the police to review",
                )?;
                let due = cal.period_end(t.police_decided_on.unwrap_or(day), POLICE_REVIEW_REQUEST_PERIOD).last_day;
                ensure(
                    day <= due,
                    "review_request_late",
                    "Art. 9 (国务院令第310号)",
                    &format!("a review had to be asked for by {due}"),
                )?;
                next.transfer = Some(Transfer { review_requested_on: Some(day), ..t.clone() });
            }
            StepKind::RecordReviewDecision { accepted } => {
                officer()?;
                let t =
                    self.transfer_at(|t| t.review_requested_on.is_some() && t.review_accepted.is_none(), "no review is pending")?;
                next.transfer = Some(Transfer { review_accepted: Some(*accepted), review_decided_on: Some(day), ..t.clone() });
            }
            StepKind::RequestSupervision => {
                officer()?;
                let t = self.transfer_at(
                    |t| t.finally_declined() && t.supervision_requested_on.is_none(),
                    "the police have not finally refused",
                )?;
                if let Some(reviewed) = t.review_decided_on {
                    let due = cal.period_end(reviewed, POLICE_REVIEW_REQUEST_PERIOD).last_day;
                    ensure(
                        day <= due,
                        "supervision_request_late",
                        "Art. 9 (国务院令第310号)",
                        &format!("supervision had to be asked for by {due}"),
                    )?;
                }
                next.transfer = Some(Transfer { supervision_requested_on: Some(day), ..t.clone() });
            }
            StepKind::Publish => {
                officer()?;
                ordinary()?;
                ensure(
                    self.decision.as_ref().is_some_and(|d| matches!(d.outcome, Outcome::Penalty { .. })),
                    "decision_required",
                    "Art. 48",
                    "penalty decisions are published",
                )?;
                ensure(self.published_on.is_none(), "already_published", "Art. 48", "the decision is already published")?;
                ensure(!self.revoked, "decision_revoked", "Art. 48", "a revoked decision is not published")?;
                next.published_on = Some(day);
            }
            StepKind::WithdrawPublication { reason } => {
                officer()?;
                ensure(
                    self.published_on.is_some() && self.withdrawn_on.is_none(),
                    "not_published",
                    "Art. 48",
                    "nothing is published",
                )?;
                ensure(!reason.trim().is_empty(), "reason_required", "Art. 48", "a withdrawal explains itself")?;
                next.withdrawn_on = Some(day);
            }
            StepKind::Close { summary } => {
                leader()?;
                ensure(!summary.trim().is_empty(), "description_required", "Art. 47", "a closing report summarises the case")?;
                let Some(decision) = &self.decision else {
                    return Err(refuse("decision_required", "Art. 57", "a case is closed after its decision"));
                };
                if decision.outcome != Outcome::TransferToJudicial {
                    ensure(self.served.is_some(), "service_required", "Art. 61", "the decision has not been served")?;
                }
                if self.procedure() == Procedure::Summary {
                    ensure(
                        self.summary_filed,
                        "summary_not_filed",
                        "Art. 52",
                        "the summary decision has not been filed with the body",
                    )?;
                }
                ensure(self.appeals.iter().all(|a| a.to.is_some()), "appeal_pending", "Art. 73", "an appeal is under way")?;
                if matches!(decision.outcome, Outcome::Penalty { .. }) {
                    let owed = self.owed_fen(day);
                    ensure(owed == 0, "fine_unpaid", "Art. 67, 72", &format!("{} yuan is still owed", yuan_of_fen(owed)))?;
                }
                next.closed_on = Some(day);
            }
            StepKind::Archive => {
                leader()?;
                ensure(self.closed_on.is_some(), "case_not_closed", "Art. 47", "a case is archived after it is closed")?;
                next.archived = true;
            }
        }
        Ok(next)
    }

    /// Whether the step named `code` is open to `actor` on `day`. It is judged with a plausible payload, and
    /// refusals that concern only what a payload says (a missing reason, an amount) do not count against it:
    /// what is left is the law's gate — stage, role, rights, review — that the workspace names.
    pub fn probe(&self, code: &str, actor: &Officer, day: Date, cal: &WorkCalendar) -> Result<(), CaseError> {
        let text = || "—".to_string();
        let notified = self.notice.as_ref().map(|n| n.penalties.clone()).unwrap_or_else(|| vec![Penalty::fine(1)]);
        let owed = self.outstanding_fen().max(2);
        let kind = match code {
            "approve_opening" => StepKind::ApproveOpening,
            "refuse_opening" => StepKind::RefuseOpening { reason: text() },
            "assign_investigators" => StepKind::AssignInvestigators { investigators: Vec::new() },
            "mark_significance" => StepKind::MarkSignificance { major_public_interest: false, complex: false, serious: false },
            "add_evidence" => {
                StepKind::AddEvidence { evidence_id: None, category: EvidenceCategory::Documentary, description: text() }
            }
            "record_inquiry" => StepKind::RecordInquiry {
                officers: self.investigators.iter().map(|o| o.staff_no.clone()).collect(),
                summary: text(),
                evidence_id: None,
            },
            "order_correction" => StepKind::OrderCorrection { requirement: text(), within_days: 1 },
            "give_notice" => StepKind::GiveNotice { penalties: notified, facts: text(), basis: text() },
            "record_statement" => StepKind::RecordStatement { summary: text() },
            "request_hearing" => StepKind::RequestHearing,
            "waive_rights" => StepKind::WaiveRights,
            "schedule_hearing" => StepKind::ScheduleHearing {
                hearing_on: cal.period_end(day, Period::working(30)).last_day,
                presiding: Officer {
                    staff_no: "\u{0}probe".into(),
                    name: String::new(),
                    roles: Vec::new(),
                    auxiliary: false,
                    credential: None,
                },
                place: text(),
            },
            "record_hearing" => StepKind::RecordHearing { party_attended: true, transcript: text(), evidence_id: None },
            "legal_review" => StepKind::LegalReview { passed: true, opinion: text() },
            "collective_deliberation" => {
                StepKind::CollectiveDeliberation { members: vec!["1".into(), "2".into()], conclusion: text() }
            }
            "extend_decision_period" => StepKind::ExtendDecisionPeriod { days: 1, reason: text() },
            "record_consent" => StepKind::RecordConsentToElectronicService { address: text() },
            "decide" => StepKind::Decide {
                outcome: match &self.notice {
                    Some(n) => Outcome::Penalty { penalties: n.penalties.clone() },
                    None => Outcome::FactsNotEstablished,
                },
                reasons: text(),
            },
            "serve" => StepKind::Serve { method: ServiceMethod::InPerson },
            "file_summary" => StepKind::FileSummary,
            "record_appeal" => StepKind::RecordAppeal { kind: AppealKind::Reconsideration },
            "end_appeal" => StepKind::EndAppeal { decision_upheld: true },
            "grant_deferral" => StepKind::GrantDeferral { until: day.tomorrow().unwrap_or(day) },
            "grant_instalments" => StepKind::GrantInstalments {
                plan: vec![
                    Instalment { due: day.tomorrow().unwrap_or(day), amount_fen: owed / 2 },
                    Instalment { due: day.tomorrow().and_then(|d| d.tomorrow()).unwrap_or(day), amount_fen: owed - owed / 2 },
                ],
            },
            "record_payment" => StepKind::RecordPayment { amount_fen: 1, receipt: text() },
            "flag_crime_indicator" => StepKind::FlagCrimeIndicator { note: text() },
            "propose_transfer" => StepKind::ProposeTransfer { report: text() },
            "decide_transfer" => StepKind::DecideTransfer { approve: true, reason: text() },
            "transfer_to_police" => StepKind::TransferToPolice {
                police: text(),
                attachments: vec![TransferAttachment::TransferLetter, TransferAttachment::InvestigationReport],
            },
            "record_police_receipt" => StepKind::RecordPoliceReceipt { receipt: text() },
            "record_police_decision" => StepKind::RecordPoliceDecision { accepted: true, reason: text() },
            "request_police_review" => StepKind::RequestPoliceReview,
            "record_review_decision" => StepKind::RecordReviewDecision { accepted: true },
            "request_supervision" => StepKind::RequestSupervision,
            "publish" => StepKind::Publish,
            "withdraw_publication" => StepKind::WithdrawPublication { reason: text() },
            "close" => StepKind::Close { summary: text() },
            "archive" => StepKind::Archive,
            _ => return Err(refuse("unknown_step", "Art. 47", format!("{code} is not a step of the procedure"))),
        };
        match self.apply(&Step { actor: actor.clone(), on: day, thresholds: None, kind }, cal) {
            Err(e) if PAYLOAD_REFUSALS.contains(&e.code) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// The deadlines the case has met or still faces.
    pub fn deadlines(&self, cal: &WorkCalendar) -> Vec<CaseDeadline> {
        let mut out = Vec::new();
        let mut push = |code, article, end: PeriodEnd, met| {
            out.push(CaseDeadline { code, article, last_day: end.last_day, provisional: end.provisional, met });
        };
        if self.procedure() == Procedure::Ordinary {
            if let Some(due) = self.decision_due(cal) {
                push("decision", "Art. 60", due, self.decision.is_some());
            }
            if let (Some(due), None) = (self.rights_due(cal), &self.decision) {
                push("hearing_request", "Art. 64", due, self.rights_waived || self.hearing.is_some());
            }
            if let Some(d) = self.decision.as_ref().filter(|d| d.outcome != Outcome::TransferToJudicial) {
                push("service", "Art. 61", cal.period_end(d.decided_on, SERVICE_PERIOD), self.served.is_some());
            }
            if let Some(d) = self.decision.as_ref().filter(|d| matches!(d.outcome, Outcome::Penalty { .. })) {
                push(
                    "publication",
                    "Art. 48",
                    cal.period_end(d.decided_on, PUBLICATION_PERIOD),
                    self.published_on.is_some() || self.revoked,
                );
            }
            if let (Some(_), Some(on)) = (self.published_on, self.revoked_on) {
                push("withdrawal", "Art. 48", cal.period_end(on, WITHDRAWAL_PERIOD), self.withdrawn_on.is_some());
            }
        }
        if let Some(t) = &self.transfer {
            push(
                "transfer_decision",
                "Art. 5 (国务院令第310号)",
                cal.period_end(t.reported_on, TRANSFER_DECISION_PERIOD),
                t.approved.is_some(),
            );
            if let (Some(true), Some(on)) = (t.approved, t.decided_on) {
                push("transfer", "Art. 5 (国务院令第310号)", cal.period_end(on, TRANSFER_PERIOD), t.transferred_on.is_some());
            }
            if let Some(on) = t.transferred_on {
                push(
                    "police_decision",
                    "Art. 8 (国务院令第310号)",
                    cal.period_end(on, POLICE_DECISION_PERIOD),
                    t.police_accepted.is_some(),
                );
            }
        }
        let settled = self.outstanding_fen() == 0;
        for inst in &self.instalments {
            push("payment", "Art. 67", PeriodEnd { last_day: inst.due, provisional: false }, settled);
        }
        out
    }

    /// The next deadline not yet met, if any.
    pub fn next_deadline(&self, cal: &WorkCalendar) -> Option<CaseDeadline> {
        if self.closed_on.is_some() || self.not_opened {
            return None;
        }
        self.deadlines(cal).into_iter().filter(|d| !d.met).min_by_key(|d| d.last_day)
    }
}

/// Refusals about what a step's payload says rather than whether the step may be taken.
const PAYLOAD_REFUSALS: &[&str] = &[
    "transfer_attachments_missing",
    "description_required",
    "reason_required",
    "bad_amount",
    "notice_incomplete",
    "bad_instalments",
    "transcript_required",
    "hearing_notice_too_short",
    "receipt_required",
    "deliberation_quorum",
    "extension_too_long",
    "overpayment",
    "penalty_not_in_notice",
    "penalty_raised_after_defence",
    "penalty_required",
];

/// The instalments already paid for, kept as they were when a new schedule replaces the rest.
fn settled_part(case: &Case) -> Vec<Instalment> {
    let mut paid = case.paid_fen();
    let mut out = Vec::new();
    for inst in &case.instalments {
        if paid >= inst.amount_fen {
            paid -= inst.amount_fen;
            out.push(*inst);
        } else {
            break;
        }
    }
    out
}

/// Whether every penalty in `decided` appears in `notified` of the same kind and no larger.
fn covered_by(decided: &[Penalty], notified: &[Penalty]) -> bool {
    decided.iter().all(|d| notified.iter().any(|n| n.kind == d.kind && d.amount_yuan <= n.amount_yuan))
}

fn check_penalties(penalties: &[Penalty]) -> Result<(), CaseError> {
    ensure(!penalties.is_empty(), "penalty_required", "Art. 9", "name at least one penalty")?;
    for p in penalties {
        ensure(
            p.kind != PenaltyType::Detention,
            "penalty_not_available",
            "Art. 18",
            "administrative detention is for the police alone",
        )?;
        let amounted =
            matches!(p.kind, PenaltyType::Fine | PenaltyType::ConfiscateIllegalGains | PenaltyType::ConfiscateIllegalProperty);
        ensure(
            amounted == (p.amount_yuan > 0),
            "bad_amount",
            "Art. 9",
            "fines and confiscations have an amount; other penalties do not",
        )?;
    }
    Ok(())
}

fn check_summary(d: &SummaryDecision, actor: &Officer, opening: &Opening, day: Date) -> Result<(), CaseError> {
    ensure(
        actor.qualified(opening.domain, day),
        "officer_not_qualified",
        "Art. 42, 52",
        "the deciding officer must hold a valid enforcement credential for this domain",
    )?;
    ensure(
        d.companion.staff_no != actor.staff_no && d.companion.qualified(opening.domain, day),
        "two_qualified_officers_required",
        "Art. 42",
        "a second officer with a valid enforcement credential must be present",
    )?;
    ensure(d.facts_clear, "facts_not_clear", "Art. 51", "the summary procedure needs clear facts with a legal basis")?;
    let limit = match opening.party.kind {
        PartyKind::Person => SUMMARY_FINE_LIMIT_PERSON,
        PartyKind::Organisation => SUMMARY_FINE_LIMIT_ORGANISATION,
    };
    match d.penalty.kind {
        PenaltyType::Warning => ensure(d.penalty.amount_yuan == 0, "bad_amount", "Art. 9", "a warning has no amount")?,
        PenaltyType::Fine => {
            ensure(d.penalty.amount_yuan > 0, "bad_amount", "Art. 9", "a fine has an amount")?;
            ensure(
                d.penalty.amount_yuan <= limit,
                "summary_fine_over_limit",
                "Art. 51",
                &format!("the summary procedure fines a {} at most {limit} yuan", opening.party.kind.zh()),
            )?;
        }
        _ => {
            return Err(refuse(
                "summary_penalty_not_allowed",
                "Art. 51",
                "the summary procedure imposes only a warning or a small fine",
            ));
        }
    }
    ensure(
        !d.form_number.trim().is_empty(),
        "decision_form_number_required",
        "Art. 52",
        "the pre-numbered decision form's number is recorded",
    )?;
    ensure(
        !d.collected_on_spot || (d.penalty.kind == PenaltyType::Fine && d.penalty.amount_yuan <= ON_THE_SPOT_COLLECTION_LIMIT),
        "on_the_spot_collection_over_limit",
        "Art. 68",
        "officers collect on the spot only fines of 100 yuan or less",
    )?;
    Ok(())
}

#[cfg(test)]
#[path = "case_tests.rs"]
mod tests;
