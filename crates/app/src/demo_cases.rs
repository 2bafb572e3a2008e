//! Demo cases: 钟秀街道's squad with cases at every stage, dated back from today so that deadlines are
//! near, met and missed. Each is made through the same use-cases an officer, a leader and a legal reviewer
//! use, so every step is judged by the law and written to the record.

use gridward_domain::Date;
use gridward_domain::access::Role;
use gridward_domain::case::{
    CaseSource, EvidenceCategory, Officer, Outcome, Penalty, Procedure, ServiceMethod, StepKind, TransferAttachment,
};
use gridward_domain::party::{Party, PartyKind};
use gridward_store::Page;

use crate::cases::{OpenCase, SummaryInput};
use crate::demo::{CITY, ZHONGXIU, ZHONGXIU_SQUAD, demo_principal};
use crate::{App, AppResult, now, today};

const CASES_SEED_NAME: &str = "demo-cases-v1";
/// The power the demo cases are brought under: 城市市容和环境卫生管理条例 Art. 34 (waste in public places).
const DEMO_POWER: &str = "srhw.34.1.4";

/// Demo parties: made-up people and shops with identifiers that pass their check digits.
fn parties() -> Vec<Party> {
    let person = |name: &str, id: &str, address: &str| Party {
        kind: PartyKind::Person,
        name: name.into(),
        id_number: id.into(),
        address: address.into(),
        representative: String::new(),
        phone: "13800000000".into(),
    };
    let shop = |name: &str, code: &str, rep: &str| Party {
        kind: PartyKind::Organisation,
        name: name.into(),
        id_number: code.into(),
        address: "南通市崇川区钟秀街道钟秀中路".into(),
        representative: rep.into(),
        phone: String::new(),
    };
    vec![
        person("周建国", "11010519491231002X", "南通市崇川区钟秀街道城港路"),
        shop("南通某某餐饮有限公司", "91350100M000100Y43", "陈海燕"),
        person("顾立新", "320612198001010016", "南通市崇川区钟秀街道园林路"),
        shop("南通某某建材经营部", "91110000802100433B", "季国庆"),
    ]
}

fn days_ago(n: i64) -> Date {
    today().checked_sub(jiff::Span::new().days(n)).unwrap_or_else(|_| today())
}

impl App {
    /// Loads the demo cases once. Needs the demo city (its staff and the delegation of the demo power).
    pub async fn load_demo_cases(&self) -> AppResult<()> {
        if self.store.seed_applied(CASES_SEED_NAME).await? {
            return Ok(());
        }
        let person = demo_principal;
        let officer = person("officer.zhongxiu", &[Role::Officer], ZHONGXIU)?;
        let leader = person("leader", &[Role::Leader], CITY)?;
        let legal = person("legal", &[Role::LegalReviewer], CITY)?;
        let squad = self.store.staff_of_body(ZHONGXIU_SQUAD, &Page { after: None, limit: 50 }).await?;
        let mut credentialed = squad.iter().filter(|s| !s.auxiliary && s.credential.is_some()).map(|s| s.staff_no.clone());
        let (Some(first), Some(second)) = (credentialed.next(), credentialed.next()) else {
            return Ok(());
        };
        let named = Officer::by_staff_no;
        let parties = parties();
        let open = |party: &Party, facts: &str, act: Date, summary: Option<SummaryInput>| OpenCase {
            procedure: if summary.is_some() { Procedure::Summary } else { Procedure::Ordinary },
            source: CaseSource::Patrol,
            source_ref: String::new(),
            party: party.clone(),
            power_code: DEMO_POWER.into(),
            facts: facts.into(),
            act_date: act,
            discovered_on: Some(act),
            serious_harm: false,
            summary,
        };
        let notice = |fine| StepKind::GiveNotice {
            penalties: vec![Penalty::fine(fine)],
            facts: "在公共场所堆放垃圾、废弃物，影响市容".into(),
            basis: "《城市市容和环境卫生管理条例》第三十四条第（四）项".into(),
        };
        let investigate = |on: Date| {
            vec![
                (on, StepKind::ApproveOpening),
                (on, StepKind::AssignInvestigators { investigators: vec![named(&first), named(&second)] }),
                (
                    on,
                    StepKind::AddEvidence {
                        evidence_id: None,
                        category: EvidenceCategory::AudioVisual,
                        description: "现场照片四张".into(),
                    },
                ),
                (
                    on,
                    StepKind::RecordInquiry {
                        officers: vec![first.clone(), second.clone()],
                        summary: "现场检查并询问当事人，当事人承认堆放行为".into(),
                        evidence_id: None,
                    },
                ),
            ]
        };
        let decide = |fine| StepKind::Decide {
            outcome: Outcome::Penalty { penalties: vec![Penalty::fine(fine)] },
            reasons: "违法事实清楚，证据确凿，程序合法".into(),
        };

        // Each case: who opened it, when, and its later steps by whom and when.
        type Plan = Vec<(Date, &'static str, StepKind)>;
        let with = |by: &'static str, steps: Vec<(Date, StepKind)>| steps.into_iter().map(|(d, s)| (d, by, s)).collect::<Plan>();
        let mut cases: Vec<(OpenCase, Date, Plan)> = Vec::new();
        // 1. Proposed yesterday, awaiting the leader's approval.
        cases.push((open(&parties[0], "在钟秀路人行道堆放建筑垃圾", days_ago(1), None), days_ago(1), Vec::new()));
        // 2. Under investigation.
        cases.push((
            open(&parties[2], "在园林路绿化带倾倒生活垃圾", days_ago(6), None),
            days_ago(6),
            with("leader", investigate(days_ago(5))[..2].to_vec()),
        ));
        // 3. Notified two days ago: the party's time to answer runs.
        let mut plan = with("leader", investigate(days_ago(12))[..2].to_vec());
        plan.extend(with("officer", investigate(days_ago(12))[2..].to_vec()));
        plan.push((days_ago(2), "officer", notice(800)));
        cases.push((open(&parties[0], "在城港路沿街堆放杂物和垃圾", days_ago(14), None), days_ago(14), plan));
        // 4. Decided sixteen days ago and still not served: the service deadline (7 working days) is missed.
        let mut plan = with("leader", investigate(days_ago(30))[..2].to_vec());
        plan.extend(with("officer", investigate(days_ago(30))[2..].to_vec()));
        plan.push((days_ago(25), "officer", notice(2_000)));
        plan.push((days_ago(25), "officer", StepKind::WaiveRights));
        // Signs of a crime were noted, yet the case was penalised, not transferred: the procuratorate watches it.
        plan.push((days_ago(20), "officer", StepKind::FlagCrimeIndicator { note: "餐厨垃圾数量较大，可能涉嫌污染环境".into() }));
        plan.push((
            days_ago(16),
            "legal",
            StepKind::LegalReview { passed: true, opinion: "事实清楚，依据正确，程序合法".into() },
        ));
        plan.push((days_ago(16), "leader", decide(2_000)));
        cases.push((open(&parties[1], "餐厨垃圾露天堆放于店外公共通道", days_ago(32), None), days_ago(32), plan));
        // 5. Served sixty days ago and unpaid: the late fee runs up to its cap. The party argued, and the
        // decision is lighter than the notice.
        let mut plan = with("leader", investigate(days_ago(85))[..2].to_vec());
        plan.extend(with("officer", investigate(days_ago(85))[2..].to_vec()));
        plan.push((days_ago(80), "officer", notice(1_000)));
        plan.push((days_ago(80), "officer", StepKind::RecordStatement { summary: "当事人称系临时堆放，请求从轻".into() }));
        plan.push((days_ago(60), "leader", decide(600)));
        plan.push((days_ago(60), "officer", StepKind::Serve { method: ServiceMethod::InPerson }));
        plan.push((days_ago(58), "officer", StepKind::Publish));
        cases.push((open(&parties[3], "建材堆放占用人行道并遗撒", days_ago(87), None), days_ago(87), plan));
        // 6. Closed and archived after payment.
        let mut plan = with("leader", investigate(days_ago(100))[..2].to_vec());
        plan.extend(with("officer", investigate(days_ago(100))[2..].to_vec()));
        plan.push((days_ago(95), "officer", notice(500)));
        plan.push((days_ago(95), "officer", StepKind::WaiveRights));
        plan.push((days_ago(94), "leader", decide(500)));
        plan.push((days_ago(94), "officer", StepKind::Serve { method: ServiceMethod::OnTheSpot }));
        plan.push((days_ago(92), "officer", StepKind::Publish));
        plan.push((days_ago(90), "officer", StepKind::RecordPayment { amount_fen: 50_000, receipt: "NT-2026-003121".into() }));
        plan.push((days_ago(88), "leader", StepKind::Close { summary: "罚款已缴清，责令改正已落实，结案".into() }));
        plan.push((days_ago(80), "leader", StepKind::Archive));
        cases.push((open(&parties[2], "在园林路公共场所焚烧垃圾", days_ago(102), None), days_ago(102), plan));
        // 7. Transferred to the police nine days ago; their decision is overdue.
        let mut plan = with("leader", investigate(days_ago(20))[..2].to_vec());
        plan.extend(with("officer", investigate(days_ago(20))[2..].to_vec()));
        plan.push((
            days_ago(10),
            "officer",
            StepKind::ProposeTransfer {
                report: "非法倾倒建筑垃圾逾百吨，涉嫌污染环境罪，建议移送".into()
            },
        ));
        plan.push((days_ago(9), "leader", StepKind::DecideTransfer { approve: true, reason: String::new() }));
        plan.push((
            days_ago(9),
            "officer",
            StepKind::TransferToPolice {
                police: "南通市公安局崇川分局".into(),
                attachments: vec![
                    TransferAttachment::TransferLetter,
                    TransferAttachment::InvestigationReport,
                    TransferAttachment::ItemList,
                ],
            },
        ));
        plan.push((days_ago(9), "officer", StepKind::RecordPoliceReceipt { receipt: "崇公回〔2026〕118号".into() }));
        cases.push((open(&parties[3], "在城港路河道旁非法倾倒建筑垃圾逾百吨", days_ago(22), None), days_ago(22), plan));
        // 8. Summary decisions: one paid on the spot and filed, one fine still to pay.
        let summary = |amount, collected, form: &str| SummaryInput {
            facts_clear: true,
            penalty: Penalty::fine(amount),
            form_number: form.into(),
            companion: second.clone(),
            collected_on_spot: collected,
        };
        cases.push((
            open(&parties[0], "随意倾倒生活垃圾一袋", days_ago(3), Some(summary(50, true, "苏城管简0001201"))),
            days_ago(3),
            vec![
                (days_ago(3), "officer", StepKind::FileSummary),
                (days_ago(2), "leader", StepKind::Close { summary: "当场收缴罚款，已备案，结案".into() }),
            ],
        ));
        cases.push((
            open(&parties[2], "在人行道乱扔废弃物", days_ago(1), Some(summary(150, false, "苏城管简0001202"))),
            days_ago(1),
            Vec::new(),
        ));

        for (input, on, plan) in cases {
            let record = self.open_case_on(&officer, input, on).await?;
            for (day, who, step) in plan {
                let actor = match who {
                    "leader" => &leader,
                    "legal" => &legal,
                    _ => &officer,
                };
                self.act_on_case_on(actor, record.id, step, day).await?;
            }
        }
        self.store.mark_seed_applied(CASES_SEED_NAME, now()).await?;
        Ok(())
    }
}
