//! One group per article: each lawful path passes and each unlawful one is refused with its code.

use super::*;
use crate::org::Credential;

const DOMAIN: EnforcementDomain = EnforcementDomain::UrbanManagement;

#[test]
fn fen_are_written_as_yuan_exactly() {
    for (fen, text) in [(0, "0.00"), (5, "0.05"), (1234, "12.34"), (100_000_000_001, "1000000000.01"), (-250, "-2.50")] {
        assert_eq!(yuan_of_fen(fen), text);
    }
}

fn cal() -> &'static WorkCalendar {
    WorkCalendar::official()
}

fn d(y: i16, m: i8, day: i8) -> Date {
    Date::constant(y, m, day)
}

fn credential(domains: Vec<EnforcementDomain>, valid_to: Date) -> Option<Credential> {
    Some(Credential { number: "32060000001".into(), valid_from: d(2020, 1, 1), valid_to, domains })
}

fn staff(no: &str, roles: &[Role]) -> Officer {
    Officer {
        staff_no: no.into(),
        name: format!("员工{no}"),
        roles: roles.to_vec(),
        auxiliary: false,
        credential: credential(vec![DOMAIN], d(2030, 12, 31)),
    }
}

fn officer(no: &str) -> Officer {
    staff(no, &[Role::Officer])
}

fn leader() -> Officer {
    staff("L1", &[Role::Leader])
}

fn reviewer() -> Officer {
    staff("R1", &[Role::LegalReviewer])
}

fn auxiliary() -> Officer {
    Officer { auxiliary: true, credential: None, ..staff("X1", &[Role::Auxiliary, Role::Officer]) }
}

fn person() -> Party {
    Party {
        kind: PartyKind::Person,
        name: "王小明".into(),
        id_number: "11010519491231002X".into(),
        address: "崇川区钟秀街道".into(),
        representative: String::new(),
        phone: String::new(),
    }
}

fn organisation() -> Party {
    Party {
        kind: PartyKind::Organisation,
        name: "南通某某餐饮有限公司".into(),
        id_number: "91350100M000100Y43".into(),
        address: "崇川区钟秀街道".into(),
        representative: "李四".into(),
        phone: String::new(),
    }
}

fn opening(procedure: Procedure, party: Party, act: Date) -> Opening {
    Opening {
        procedure,
        source: CaseSource::Patrol,
        source_ref: String::new(),
        party,
        power_code: "320613-UM-001".into(),
        power_name: "擅自占用城市道路".into(),
        domain: DOMAIN,
        facts: "占道经营".into(),
        act_date: act,
        discovered_on: act,
        serious_harm: false,
    }
}

fn step(actor: &Officer, on: Date, kind: StepKind) -> Step {
    Step { actor: actor.clone(), on, thresholds: None, kind }
}

const DAY0: Date = Date::constant(2026, 3, 2);

/// Applies steps in order, panicking with the refusal if one is refused.
fn run(case: Case, steps: &[Step]) -> Case {
    steps
        .iter()
        .fold(case, |c, s| c.apply(s, cal()).unwrap_or_else(|e| panic!("{} refused: {} ({})", s.kind.code(), e.code, e.message)))
}

fn code_of(case: &Case, s: Step) -> &'static str {
    case.apply(&s, cal()).map(|_| "ok").unwrap_or_else(|e| e.code)
}

fn proposed(party: Party) -> Case {
    Case::open(
        &step(&officer("A1"), DAY0, StepKind::Open { opening: opening(Procedure::Ordinary, party, DAY0), summary: None }),
        cal(),
    )
    .unwrap()
}

/// Opened and investigated by A1 and A2, with evidence and a record of inquiry.
fn investigated(party: Party) -> Case {
    run(
        proposed(party),
        &[
            step(&leader(), DAY0, StepKind::ApproveOpening),
            step(&leader(), DAY0, StepKind::AssignInvestigators { investigators: vec![officer("A1"), officer("A2")] }),
            step(
                &officer("A1"),
                DAY0,
                StepKind::AddEvidence {
                    evidence_id: Some("ev-1".into()),
                    category: EvidenceCategory::AudioVisual,
                    description: "现场照片".into(),
                },
            ),
            step(
                &officer("A1"),
                DAY0,
                StepKind::RecordInquiry {
                    officers: vec!["A1".into(), "A2".into()],
                    summary: "询问当事人".into(),
                    evidence_id: None,
                },
            ),
        ],
    )
}

fn notice(fine: u64) -> StepKind {
    StepKind::GiveNotice {
        penalties: vec![Penalty::fine(fine)],
        facts: "占道经营".into(),
        basis: "《城市道路管理条例》第四十二条".into(),
    }
}

fn decide(fine: u64) -> StepKind {
    StepKind::Decide { outcome: Outcome::Penalty { penalties: vec![Penalty::fine(fine)] }, reasons: "事实清楚".into() }
}

/// Notified on DAY0 with a fine, rights waived: ready for a decision.
fn ready(fine: u64) -> Case {
    run(investigated(person()), &[step(&officer("A1"), DAY0, notice(fine)), step(&officer("A1"), DAY0, StepKind::WaiveRights)])
}

fn summary_case(party: Party, penalty: Penalty, collected: bool) -> Result<Case, &'static str> {
    let decision = SummaryDecision {
        facts_clear: true,
        penalty,
        form_number: "NO.0001".into(),
        companion: officer("A2"),
        collected_on_spot: collected,
    };
    Case::open(
        &step(
            &officer("A1"),
            DAY0,
            StepKind::Open { opening: opening(Procedure::Summary, party, DAY0), summary: Some(decision) },
        ),
        cal(),
    )
    .map_err(|e| e.code)
}

#[test]
fn art_51_summary_procedure_limits() {
    let cases: [(Party, Penalty, Result<(), &str>); 7] = [
        (person(), Penalty::fine(200), Ok(())),
        (person(), Penalty::fine(201), Err("summary_fine_over_limit")),
        (organisation(), Penalty::fine(3_000), Ok(())),
        (organisation(), Penalty::fine(3_001), Err("summary_fine_over_limit")),
        (person(), Penalty::warning(), Ok(())),
        (person(), Penalty { kind: PenaltyType::ConfiscateIllegalGains, amount_yuan: 50 }, Err("summary_penalty_not_allowed")),
        (person(), Penalty { kind: PenaltyType::RevokeLicence, amount_yuan: 0 }, Err("summary_penalty_not_allowed")),
    ];
    for (party, penalty, expected) in cases {
        assert_eq!(summary_case(party, penalty.clone(), false).map(|_| ()), expected, "{penalty:?}");
    }
    let unclear = SummaryDecision {
        facts_clear: false,
        penalty: Penalty::fine(50),
        form_number: "1".into(),
        companion: officer("A2"),
        collected_on_spot: false,
    };
    let open = |actor: &Officer, decision: SummaryDecision| {
        Case::open(
            &step(actor, DAY0, StepKind::Open { opening: opening(Procedure::Summary, person(), DAY0), summary: Some(decision) }),
            cal(),
        )
        .map(|_| ())
        .map_err(|e| e.code)
    };
    assert_eq!(open(&officer("A1"), unclear.clone()), Err("facts_not_clear"));
    let good = SummaryDecision { facts_clear: true, ..unclear };
    assert_eq!(
        open(&officer("A1"), SummaryDecision { form_number: " ".into(), ..good.clone() }),
        Err("decision_form_number_required")
    );
    assert_eq!(open(&auxiliary(), good.clone()), Err("auxiliary_cannot_act"));
    assert_eq!(
        open(&officer("A1"), SummaryDecision { companion: officer("A1"), ..good.clone() }),
        Err("two_qualified_officers_required")
    );
    assert_eq!(
        open(&officer("A1"), SummaryDecision { companion: auxiliary(), ..good.clone() }),
        Err("two_qualified_officers_required")
    );
    let lapsed = Officer { credential: credential(vec![DOMAIN], d(2025, 12, 31)), ..officer("A1") };
    assert_eq!(open(&lapsed, good.clone()), Err("officer_not_qualified"));
    let elsewhere = Officer { credential: credential(vec![EnforcementDomain::Transport], d(2030, 1, 1)), ..officer("A1") };
    assert_eq!(open(&elsewhere, good), Err("officer_not_qualified"));
}

#[test]
fn art_52_summary_cases_are_filed_before_closing() {
    let case = summary_case(person(), Penalty::warning(), false).unwrap();
    assert_eq!(case.stage(), Stage::Execution, "served on the spot");
    assert_eq!(code_of(&case, step(&leader(), DAY0, StepKind::Close { summary: "结案".into() })), "summary_not_filed");
    let filed = run(case, &[step(&officer("A1"), DAY0, StepKind::FileSummary)]);
    assert_eq!(code_of(&filed, step(&officer("A1"), DAY0, StepKind::FileSummary)), "already_filed");
    let closed = run(filed, &[step(&leader(), DAY0, StepKind::Close { summary: "结案".into() })]);
    assert_eq!(closed.stage(), Stage::Closed);
    assert_eq!(code_of(&closed, step(&officer("A1"), DAY0, StepKind::FileSummary)), "case_closed");
    let archived = run(closed, &[step(&leader(), DAY0, StepKind::Archive)]);
    assert_eq!(archived.stage(), Stage::Archived);
    assert_eq!(code_of(&archived, step(&leader(), DAY0, StepKind::Archive)), "case_archived");
}

#[test]
fn art_68_on_the_spot_collection() {
    let paid = summary_case(person(), Penalty::fine(100), true).unwrap();
    assert_eq!(paid.outstanding_fen(), 0);
    assert_eq!(summary_case(person(), Penalty::fine(101), true).map(|_| ()), Err("on_the_spot_collection_over_limit"));
    assert_eq!(summary_case(person(), Penalty::warning(), true).map(|_| ()), Err("on_the_spot_collection_over_limit"));
    // Not collected: owed, and the case cannot close until paid.
    let owed =
        run(summary_case(person(), Penalty::fine(150), false).unwrap(), &[step(&officer("A1"), DAY0, StepKind::FileSummary)]);
    assert_eq!(owed.outstanding_fen(), 15_000);
    assert_eq!(code_of(&owed, step(&leader(), DAY0, StepKind::Close { summary: "结案".into() })), "fine_unpaid");
}

#[test]
fn art_36_limitation_period() {
    let open_on = |act: Date, discovered: Date, serious: bool| {
        let mut o = opening(Procedure::Ordinary, person(), act);
        o.discovered_on = discovered;
        o.serious_harm = serious;
        let case = Case::open(&step(&officer("A1"), discovered, StepKind::Open { opening: o, summary: None }), cal()).unwrap();
        code_of(&case, step(&leader(), discovered, StepKind::ApproveOpening))
    };
    assert_eq!(open_on(d(2024, 3, 2), d(2026, 3, 1), false), "ok");
    assert_eq!(open_on(d(2024, 3, 2), d(2026, 3, 2), false), "limitation_expired");
    assert_eq!(open_on(d(2022, 3, 2), d(2026, 3, 1), true), "ok", "five years where life or health was harmed");
    assert_eq!(open_on(d(2021, 3, 2), d(2026, 3, 2), true), "limitation_expired");
    let case = proposed(person());
    assert_eq!(code_of(&case, step(&officer("A1"), DAY0, StepKind::ApproveOpening)), "leader_required");
    assert_eq!(code_of(&case, step(&leader(), DAY0, StepKind::RefuseOpening { reason: String::new() })), "reason_required");
    let refused = run(case, &[step(&leader(), DAY0, StepKind::RefuseOpening { reason: "不属于管辖".into() })]);
    assert_eq!(refused.stage(), Stage::NotOpened);
    assert_eq!(code_of(&refused, step(&leader(), DAY0, StepKind::ApproveOpening)), "case_not_opened");
}

#[test]
fn art_42_two_qualified_officers() {
    let opened = run(proposed(person()), &[step(&leader(), DAY0, StepKind::ApproveOpening)]);
    let assign = |o: Officer| code_of(&opened, step(&leader(), DAY0, StepKind::AssignInvestigators { investigators: vec![o] }));
    assert_eq!(assign(officer("A1")), "ok");
    assert_eq!(assign(auxiliary()), "investigator_not_qualified");
    assert_eq!(
        assign(Officer { credential: credential(vec![DOMAIN], d(2026, 3, 1)), ..officer("A3") }),
        "investigator_not_qualified"
    );
    assert_eq!(
        assign(Officer { credential: credential(vec![EnforcementDomain::Transport], d(2030, 1, 1)), ..officer("A3") }),
        "investigator_not_qualified"
    );
    assert_eq!(
        code_of(&opened, step(&officer("A1"), DAY0, StepKind::AssignInvestigators { investigators: vec![officer("A1")] })),
        "leader_required"
    );
    let one = run(opened, &[step(&leader(), DAY0, StepKind::AssignInvestigators { investigators: vec![officer("A1")] })]);
    let alone = step(
        &officer("A1"),
        DAY0,
        StepKind::RecordInquiry { officers: vec!["A1".into(), "B9".into()], summary: "询问".into(), evidence_id: None },
    );
    assert_eq!(code_of(&one, alone), "two_qualified_officers_required", "B9 is not an investigator of the case");
    let with_evidence = run(
        one,
        &[step(
            &officer("A1"),
            DAY0,
            StepKind::AddEvidence {
                evidence_id: None, category: EvidenceCategory::Documentary, description: "营业执照".into()
            },
        )],
    );
    assert_eq!(code_of(&with_evidence, step(&officer("A1"), DAY0, notice(500))), "two_qualified_officers_required");
    // Auxiliary staff never take a step of the procedure.
    assert_eq!(
        code_of(
            &with_evidence,
            step(
                &auxiliary(),
                DAY0,
                StepKind::AddEvidence { evidence_id: None, category: EvidenceCategory::Physical, description: "x".into() }
            )
        ),
        "auxiliary_cannot_act"
    );
}

#[test]
fn art_46_and_55_evidence_and_records_before_notice() {
    let bare = run(
        proposed(person()),
        &[
            step(&leader(), DAY0, StepKind::ApproveOpening),
            step(&leader(), DAY0, StepKind::AssignInvestigators { investigators: vec![officer("A1"), officer("A2")] }),
        ],
    );
    assert_eq!(code_of(&bare, step(&officer("A1"), DAY0, notice(500))), "evidence_required");
    let evidence = run(
        bare,
        &[step(
            &officer("A2"),
            DAY0,
            StepKind::AddEvidence { evidence_id: None, category: EvidenceCategory::Witness, description: "证人证言".into() },
        )],
    );
    assert_eq!(code_of(&evidence, step(&officer("A1"), DAY0, notice(500))), "inquiry_record_required");
    assert_eq!(
        code_of(
            &evidence,
            step(
                &officer("A3"),
                DAY0,
                StepKind::AddEvidence { evidence_id: None, category: EvidenceCategory::Physical, description: "x".into() }
            )
        ),
        "investigator_required"
    );
    let case = investigated(person());
    assert_eq!(code_of(&case, step(&officer("A1"), DAY0, notice(500))), "ok");
    assert_eq!(
        code_of(
            &case,
            step(&officer("A1"), DAY0, StepKind::GiveNotice { penalties: vec![], facts: "f".into(), basis: "b".into() })
        ),
        "notice_incomplete"
    );
    assert_eq!(
        code_of(
            &case,
            step(
                &officer("A1"),
                DAY0,
                StepKind::GiveNotice { penalties: vec![Penalty::fine(0)], facts: "f".into(), basis: "b".into() }
            )
        ),
        "bad_amount"
    );
}

#[test]
fn art_44_no_penalty_without_prior_notice() {
    let case = investigated(person());
    assert_eq!(code_of(&case, step(&leader(), DAY0, decide(500))), "prior_notice_required");
    // A decision not to penalise needs no notice.
    let no_penalty =
        StepKind::Decide { outcome: Outcome::NoPenalty { ground: NoPenaltyGround::Minor }, reasons: "轻微并已改正".into() };
    assert_eq!(code_of(&case, step(&leader(), DAY0, no_penalty)), "ok");
    // The notice's window is open for five working days; a decision inside it is refused.
    let notified = run(case, &[step(&officer("A1"), DAY0, notice(500))]);
    let due = notified.rights_due(cal()).unwrap().last_day;
    assert_eq!(due, d(2026, 3, 9));
    assert_eq!(code_of(&notified, step(&leader(), due, decide(500))), "rights_period_open");
    assert_eq!(code_of(&notified, step(&leader(), due.tomorrow().unwrap(), decide(500))), "ok");
    assert_eq!(code_of(&ready(500), step(&leader(), DAY0, decide(500))), "ok", "the party waived");
    assert_eq!(code_of(&ready(500), step(&officer("A1"), DAY0, decide(500))), "leader_required");
}

#[test]
fn art_45_no_heavier_penalty_because_the_party_argued() {
    let notified = run(investigated(person()), &[step(&officer("A1"), DAY0, notice(500))]);
    let argued = run(notified.clone(), &[step(&officer("A1"), DAY0, StepKind::RecordStatement { summary: "当事人申辩".into() })]);
    let later = d(2026, 3, 10);
    assert_eq!(code_of(&argued, step(&leader(), later, decide(800))), "penalty_raised_after_defence");
    assert_eq!(
        code_of(&argued, step(&officer("A1"), later, notice(800))),
        "penalty_raised_after_defence",
        "not by a new notice either"
    );
    assert_eq!(code_of(&argued, step(&leader(), later, decide(300))), "ok", "lowering is lawful");
    // Without argument a heavier decision still needs a new notice.
    assert_eq!(code_of(&notified, step(&leader(), later, decide(800))), "penalty_not_in_notice");
    let other_kind = StepKind::Decide {
        outcome: Outcome::Penalty {
            penalties: vec![Penalty::fine(500), Penalty { kind: PenaltyType::OrderSuspension, amount_yuan: 0 }],
        },
        reasons: "r".into(),
    };
    assert_eq!(code_of(&notified, step(&leader(), later, other_kind)), "penalty_not_in_notice");
}

#[test]
fn art_63_and_64_hearings() {
    // 500 yuan on a person carries no hearing right; 5,000 does; so does revoking a licence.
    let small = run(investigated(person()), &[step(&officer("A1"), DAY0, notice(500))]);
    assert!(!small.notice.as_ref().unwrap().hearing_right);
    assert_eq!(code_of(&small, step(&officer("A1"), DAY0, StepKind::RequestHearing)), "no_hearing_right");
    let revoke = StepKind::GiveNotice {
        penalties: vec![Penalty { kind: PenaltyType::RevokeLicence, amount_yuan: 0 }],
        facts: "f".into(),
        basis: "b".into(),
    };
    assert!(run(investigated(organisation()), &[step(&officer("A1"), DAY0, revoke)]).notice.unwrap().hearing_right);
    assert!(!run(investigated(organisation()), &[step(&officer("A1"), DAY0, notice(5_000))]).notice.unwrap().hearing_right);

    // A province with a lower threshold: the step carries it, so a replay judges it the same way.
    let lower = Step {
        thresholds: Some(HearingThresholds { person_yuan: 400, organisation_yuan: 4_000 }),
        ..step(&officer("A1"), DAY0, notice(500))
    };
    let province = investigated(person()).apply(&lower, cal()).unwrap();
    assert!(province.notice.as_ref().unwrap().hearing_right);
    let json = serde_json::to_value(&lower).unwrap();
    assert_eq!(serde_json::from_value::<Step>(json).unwrap(), lower);
    let big = run(investigated(person()), &[step(&officer("A1"), DAY0, notice(5_000))]);
    // Notified Monday 2 March 2026: five working days run to Monday 9 March.
    assert_eq!(code_of(&big, step(&officer("A1"), d(2026, 3, 10), StepKind::RequestHearing)), "hearing_request_late");
    let requested = run(big, &[step(&officer("A1"), d(2026, 3, 9), StepKind::RequestHearing)]);
    assert_eq!(code_of(&requested, step(&leader(), d(2026, 3, 20), decide(5_000))), "hearing_pending");
    let schedule = |presiding: Officer, on: Date| {
        step(&leader(), d(2026, 3, 10), StepKind::ScheduleHearing { hearing_on: on, presiding, place: "听证室".into() })
    };
    assert_eq!(code_of(&requested, schedule(officer("A2"), d(2026, 3, 30))), "presiding_officer_is_investigator");
    // Told on Tuesday 10 March: seven working days later is Thursday 19 March.
    assert_eq!(code_of(&requested, schedule(officer("H1"), d(2026, 3, 18))), "hearing_notice_too_short");
    let scheduled = run(requested, &[schedule(officer("H1"), d(2026, 3, 19))]);
    let record = |who: &str, on: Date, attended: bool, transcript: &str| {
        step(
            &officer(who),
            on,
            StepKind::RecordHearing { party_attended: attended, transcript: transcript.into(), evidence_id: None },
        )
    };
    assert_eq!(code_of(&scheduled, record("A1", d(2026, 3, 19), true, "笔录")), "presiding_officer_required");
    assert_eq!(code_of(&scheduled, record("H1", d(2026, 3, 18), true, "笔录")), "hearing_not_yet_due");
    assert_eq!(code_of(&scheduled, record("H1", d(2026, 3, 19), true, "")), "transcript_required");
    let held = run(scheduled.clone(), &[record("H1", d(2026, 3, 19), true, "听证笔录")]);
    // Art. 58 (2): a heard case needs legal review before the decision.
    assert_eq!(code_of(&held, step(&leader(), d(2026, 3, 20), decide(5_000))), "legal_review_required");
    // The party stayed away: the right is given up and no review is required by the hearing.
    let absent = run(scheduled, &[record("H1", d(2026, 3, 19), false, "")]);
    assert_eq!(code_of(&absent, step(&leader(), d(2026, 3, 20), decide(5_000))), "ok");
}

#[test]
fn art_58_legal_review() {
    let flagged = run(
        ready(500),
        &[step(&leader(), DAY0, StepKind::MarkSignificance { major_public_interest: true, complex: false, serious: false })],
    );
    assert_eq!(code_of(&flagged, step(&leader(), DAY0, decide(500))), "legal_review_required");
    let review = |who: Officer, passed| step(&who, DAY0, StepKind::LegalReview { passed, opinion: "意见".into() });
    assert_eq!(code_of(&flagged, review(officer("A3"), true)), "legal_reviewer_required");
    let reviewer_investigator = Officer { roles: vec![Role::Officer, Role::LegalReviewer], ..officer("A1") };
    assert_eq!(code_of(&flagged, review(reviewer_investigator, true)), "reviewer_is_investigator");
    let unqualified = Officer { credential: credential(vec![DOMAIN], d(2025, 12, 31)), ..reviewer() };
    assert_eq!(code_of(&flagged, review(unqualified, true)), "reviewer_not_qualified");
    let returned = run(flagged.clone(), &[review(reviewer(), false)]);
    assert_eq!(code_of(&returned, step(&leader(), DAY0, decide(500))), "legal_review_required");
    let passed = run(returned, &[review(reviewer(), true)]);
    assert_eq!(code_of(&passed, step(&leader(), DAY0, decide(500))), "ok");
    // A review returned on a case that did not need one still blocks the decision.
    let unrequired = run(ready(500), &[review(reviewer(), false)]);
    assert_eq!(code_of(&unrequired, step(&leader(), DAY0, decide(500))), "legal_review_returned");
    // Review waits for the party's rights.
    let notified = run(investigated(person()), &[step(&officer("A1"), DAY0, notice(500))]);
    assert_eq!(code_of(&notified, review(reviewer(), true)), "rights_period_open");
}

#[test]
fn art_57_collective_deliberation() {
    let serious = run(
        ready(500),
        &[step(&leader(), DAY0, StepKind::MarkSignificance { major_public_interest: false, complex: false, serious: true })],
    );
    assert_eq!(code_of(&serious, step(&leader(), DAY0, decide(500))), "collective_deliberation_required");
    let deliberate = |members: &[&str]| {
        step(
            &leader(),
            DAY0,
            StepKind::CollectiveDeliberation {
                members: members.iter().map(|m| m.to_string()).collect(),
                conclusion: "同意".into(),
            },
        )
    };
    assert_eq!(code_of(&serious, deliberate(&["L1", "L1"])), "deliberation_quorum");
    let done = run(serious, &[deliberate(&["L1", "L2", "L3"])]);
    assert_eq!(code_of(&done, step(&leader(), DAY0, decide(500))), "ok");
}

#[test]
fn art_60_decision_within_ninety_days() {
    let case = ready(500);
    // Opened Monday 2 March 2026: ninety days end on Sunday 31 May, so the period runs to Monday 1 June.
    let due = case.decision_due(cal()).unwrap().last_day;
    assert_eq!(due, d(2026, 6, 1));
    assert_eq!(code_of(&case, step(&leader(), due, decide(500))), "ok");
    assert_eq!(code_of(&case, step(&leader(), d(2026, 6, 2), decide(500))), "decision_period_expired");
    let extend = |on: Date, days| step(&leader(), on, StepKind::ExtendDecisionPeriod { days, reason: "案情复杂".into() });
    assert_eq!(code_of(&case, extend(d(2026, 6, 2), 30)), "extension_too_late");
    assert_eq!(code_of(&case, extend(d(2026, 5, 20), 31)), "extension_too_long");
    let extended = run(case, &[extend(d(2026, 5, 20), 30)]);
    assert_eq!(code_of(&extended, step(&leader(), d(2026, 6, 30), decide(500))), "ok");
    assert_eq!(code_of(&extended, extend(d(2026, 6, 20), 10)), "collective_deliberation_required");
    let deliberated = run(
        extended,
        &[step(
            &leader(),
            d(2026, 6, 20),
            StepKind::CollectiveDeliberation { members: vec!["L1".into(), "L2".into()], conclusion: "再延期".into() },
        )],
    );
    assert_eq!(code_of(&deliberated, extend(d(2026, 6, 20), 10)), "ok");
}

#[test]
fn art_61_service() {
    let decided = run(ready(500), &[step(&leader(), DAY0, decide(500))]);
    let deadline = decided.deadlines(cal()).into_iter().find(|x| x.code == "service").unwrap();
    assert_eq!(deadline.last_day, d(2026, 3, 11), "seven working days after Monday 2 March");
    assert_eq!(
        code_of(&decided, step(&officer("A1"), DAY0, StepKind::Serve { method: ServiceMethod::Electronic })),
        "electronic_service_without_consent"
    );
    assert_eq!(
        code_of(&decided, step(&officer("A1"), d(2026, 3, 3), StepKind::Serve { method: ServiceMethod::OnTheSpot })),
        "not_on_the_spot"
    );
    let consented =
        run(decided, &[step(&officer("A1"), DAY0, StepKind::RecordConsentToElectronicService { address: "a@b.cn".into() })]);
    let served = run(consented, &[step(&officer("A1"), d(2026, 3, 3), StepKind::Serve { method: ServiceMethod::Electronic })]);
    assert_eq!(served.stage(), Stage::Execution);
    assert_eq!(
        code_of(&served, step(&officer("A1"), d(2026, 3, 3), StepKind::Serve { method: ServiceMethod::Post })),
        "wrong_stage"
    );
}

fn served_on(on: Date, fine: u64) -> Case {
    run(
        ready(fine),
        &[step(&leader(), DAY0, decide(fine)), step(&officer("A1"), on, StepKind::Serve { method: ServiceMethod::InPerson })],
    )
}

#[test]
fn art_67_and_72_payment_and_late_fee() {
    let case = served_on(d(2026, 3, 3), 1_000);
    // Fifteen days from Tuesday 3 March: Wednesday 18 March.
    assert_eq!(case.instalments, vec![Instalment { due: d(2026, 3, 18), amount_fen: 100_000 }]);
    assert_eq!(case.late_fee_fen(d(2026, 3, 18)), 0);
    assert_eq!(case.late_fee_fen(d(2026, 3, 19)), 3_000, "3% of 1,000 yuan on the first late day");
    assert_eq!(case.late_fee_fen(d(2026, 3, 28)), 30_000);
    // Day 40 would be 120%: the fee stops at the fine.
    assert_eq!(case.late_fee_fen(d(2026, 4, 27)), 100_000);
    assert_eq!(case.late_fee_fen(d(2027, 1, 1)), 100_000);
    // Paid late on day 2: 60 yuan owed on top, and the case closes only when it is paid.
    let receipt = |amount_fen| StepKind::RecordPayment { amount_fen, receipt: "NT-0001".into() };
    let principal = run(case.clone(), &[step(&officer("A1"), d(2026, 3, 20), receipt(100_000))]);
    assert_eq!(principal.late_fee_fen(d(2026, 4, 30)), 6_000, "the fee stops when the fine is paid");
    assert_eq!(code_of(&principal, step(&leader(), d(2026, 4, 30), StepKind::Close { summary: "结案".into() })), "fine_unpaid");
    assert_eq!(code_of(&principal, step(&officer("A1"), d(2026, 4, 30), receipt(6_001))), "overpayment");
    let settled = run(principal, &[step(&officer("A1"), d(2026, 4, 30), receipt(6_000))]);
    assert_eq!(code_of(&settled, step(&leader(), d(2026, 4, 30), StepKind::Close { summary: "结案".into() })), "ok");
    assert_eq!(code_of(&case, step(&officer("A1"), d(2026, 3, 20), receipt(0))), "bad_amount");
}

#[test]
fn art_73_no_late_fee_during_an_appeal() {
    let case = served_on(d(2026, 3, 3), 1_000);
    let appealed = run(
        case,
        &[
            step(&officer("A1"), d(2026, 3, 16), StepKind::RecordAppeal { kind: AppealKind::Reconsideration }),
            step(&officer("A1"), d(2026, 3, 25), StepKind::EndAppeal { decision_upheld: true }),
        ],
    );
    // Late from 19 March, but 19–25 March were under appeal: 26–28 March are three late days.
    assert_eq!(appealed.late_fee_fen(d(2026, 3, 28)), 9_000);
    let pending =
        run(appealed.clone(), &[step(&officer("A1"), d(2026, 3, 26), StepKind::RecordAppeal { kind: AppealKind::Litigation })]);
    assert_eq!(pending.late_fee_fen(d(2026, 6, 1)), pending.late_fee_fen(d(2026, 3, 26)), "nothing accrues while the suit runs");
    assert_eq!(
        code_of(&pending, step(&officer("A1"), d(2026, 3, 27), StepKind::RecordAppeal { kind: AppealKind::Litigation })),
        "appeal_pending"
    );
    assert_eq!(code_of(&pending, step(&leader(), d(2026, 3, 27), StepKind::Close { summary: "x".into() })), "appeal_pending");
    let revoked = run(pending, &[step(&officer("A1"), d(2026, 5, 1), StepKind::EndAppeal { decision_upheld: false })]);
    assert_eq!((revoked.outstanding_fen(), revoked.late_fee_fen(d(2026, 6, 1))), (0, 0));
    assert_eq!(code_of(&revoked, step(&leader(), d(2026, 5, 2), StepKind::Close { summary: "撤销".into() })), "ok");
}

#[test]
fn art_66_deferral_and_instalments() {
    let case = served_on(d(2026, 3, 3), 1_000);
    assert_eq!(
        code_of(&case, step(&officer("A1"), d(2026, 3, 10), StepKind::GrantDeferral { until: d(2026, 5, 1) })),
        "leader_required"
    );
    let deferred = run(case.clone(), &[step(&leader(), d(2026, 3, 10), StepKind::GrantDeferral { until: d(2026, 5, 1) })]);
    assert_eq!(deferred.late_fee_fen(d(2026, 5, 1)), 0);
    assert_eq!(deferred.late_fee_fen(d(2026, 5, 2)), 3_000);
    let plan = |a, b| vec![Instalment { due: d(2026, 4, 1), amount_fen: a }, Instalment { due: d(2026, 5, 1), amount_fen: b }];
    assert_eq!(
        code_of(&case, step(&leader(), d(2026, 3, 10), StepKind::GrantInstalments { plan: plan(50_000, 40_000) })),
        "bad_instalments"
    );
    let split = run(case, &[step(&leader(), d(2026, 3, 10), StepKind::GrantInstalments { plan: plan(50_000, 50_000) })]);
    // The first half is two days late: 3% of 500 yuan twice.
    let paid =
        run(split, &[step(&officer("A1"), d(2026, 4, 3), StepKind::RecordPayment { amount_fen: 50_000, receipt: "r1".into() })]);
    assert_eq!(paid.late_fee_fen(d(2026, 5, 1)), 3_000);
}

#[test]
fn deadlines_on_the_workspace() {
    let case = served_on(d(2026, 3, 3), 1_000);
    let codes: Vec<_> = case.deadlines(cal()).iter().map(|x| (x.code, x.met)).collect();
    assert_eq!(codes, [("decision", true), ("service", true), ("publication", false), ("payment", false)]);
    assert_eq!(case.next_deadline(cal()).map(|d| (d.code, d.last_day)), Some(("publication", d(2026, 3, 11))));
    let notified = run(investigated(person()), &[step(&officer("A1"), DAY0, notice(500))]);
    assert_eq!(notified.next_deadline(cal()).unwrap().code, "hearing_request");
}

#[test]
fn replay_reproduces_the_case() {
    let steps = vec![
        step(&officer("A1"), DAY0, StepKind::Open { opening: opening(Procedure::Ordinary, person(), DAY0), summary: None }),
        step(&leader(), DAY0, StepKind::ApproveOpening),
        step(&leader(), DAY0, StepKind::AssignInvestigators { investigators: vec![officer("A1"), officer("A2")] }),
        step(
            &officer("A1"),
            DAY0,
            StepKind::AddEvidence {
                evidence_id: Some("ev-1".into()),
                category: EvidenceCategory::AudioVisual,
                description: "现场照片".into(),
            },
        ),
        step(
            &officer("A1"),
            DAY0,
            StepKind::RecordInquiry {
                officers: vec!["A1".into(), "A2".into()], summary: "询问当事人".into(), evidence_id: None
            },
        ),
    ];
    assert_eq!(Case::replay(&steps, cal()).unwrap(), investigated(person()));
    let json = serde_json::to_string(&steps[2]).unwrap();
    assert!(json.contains("\"step\":\"assign_investigators\""), "{json}");
    assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), steps[2]);
    assert_eq!(Case::replay(&steps[1..], cal()).unwrap_err().code, "case_not_opened");
}

/// Every step in every stage either applies or is refused with a code and an article; none panics.
#[test]
fn every_step_in_every_stage_is_judged() {
    let mut stages = vec![
        proposed(person()),
        run(proposed(person()), &[step(&leader(), DAY0, StepKind::RefuseOpening { reason: "r".into() })]),
        investigated(person()),
        ready(500),
        run(ready(500), &[step(&leader(), DAY0, decide(500))]),
        served_on(d(2026, 3, 3), 500),
        summary_case(person(), Penalty::fine(50), false).unwrap(),
    ];
    let closed = run(
        summary_case(person(), Penalty::warning(), false).unwrap(),
        &[step(&officer("A1"), DAY0, StepKind::FileSummary), step(&leader(), DAY0, StepKind::Close { summary: "s".into() })],
    );
    stages.push(run(closed.clone(), &[step(&leader(), DAY0, StepKind::Archive)]));
    stages.push(closed);
    let kinds = vec![
        StepKind::Open { opening: opening(Procedure::Ordinary, person(), DAY0), summary: None },
        StepKind::ApproveOpening,
        StepKind::RefuseOpening { reason: "r".into() },
        StepKind::AssignInvestigators { investigators: vec![officer("A3")] },
        StepKind::MarkSignificance { major_public_interest: true, complex: true, serious: true },
        StepKind::AddEvidence { evidence_id: None, category: EvidenceCategory::Physical, description: "x".into() },
        StepKind::RecordInquiry { officers: vec!["A1".into(), "A2".into()], summary: "s".into(), evidence_id: None },
        StepKind::OrderCorrection { requirement: "r".into(), within_days: 3 },
        notice(500),
        StepKind::RecordStatement { summary: "s".into() },
        StepKind::RequestHearing,
        StepKind::WaiveRights,
        StepKind::ScheduleHearing { hearing_on: d(2026, 4, 1), presiding: officer("H1"), place: "p".into() },
        StepKind::RecordHearing { party_attended: true, transcript: "t".into(), evidence_id: None },
        StepKind::LegalReview { passed: true, opinion: "o".into() },
        StepKind::CollectiveDeliberation { members: vec!["L1".into(), "L2".into()], conclusion: "c".into() },
        StepKind::ExtendDecisionPeriod { days: 10, reason: "r".into() },
        StepKind::RecordConsentToElectronicService { address: "a".into() },
        decide(500),
        StepKind::Serve { method: ServiceMethod::Post },
        StepKind::FileSummary,
        StepKind::RecordAppeal { kind: AppealKind::Reconsideration },
        StepKind::EndAppeal { decision_upheld: true },
        StepKind::GrantDeferral { until: d(2026, 6, 1) },
        StepKind::GrantInstalments { plan: vec![Instalment { due: d(2026, 5, 1), amount_fen: 100 }] },
        StepKind::RecordPayment { amount_fen: 100, receipt: "r".into() },
        StepKind::FlagCrimeIndicator { note: "n".into() },
        StepKind::ProposeTransfer { report: "r".into() },
        StepKind::DecideTransfer { approve: true, reason: String::new() },
        StepKind::TransferToPolice {
            police: "p".into(),
            attachments: vec![TransferAttachment::TransferLetter, TransferAttachment::InvestigationReport],
        },
        StepKind::RecordPoliceReceipt { receipt: "r".into() },
        StepKind::RecordPoliceDecision { accepted: false, reason: "r".into() },
        StepKind::RequestPoliceReview,
        StepKind::RecordReviewDecision { accepted: false },
        StepKind::RequestSupervision,
        StepKind::Publish,
        StepKind::WithdrawPublication { reason: "r".into() },
        StepKind::Close { summary: "s".into() },
        StepKind::Archive,
    ];
    assert_eq!(kinds.iter().map(StepKind::code).collect::<Vec<_>>(), STEP_CODES);
    let actors = [officer("A1"), leader(), reviewer(), auxiliary(), officer("H1")];
    let mut applied = 0;
    for case in &stages {
        for kind in &kinds {
            for actor in &actors {
                match case.apply(&step(actor, d(2026, 3, 20), kind.clone()), cal()) {
                    Ok(after) => {
                        applied += 1;
                        assert!(
                            after.stage() >= case.stage() || after.stage() == Stage::Notified,
                            "{} moved {:?} back",
                            kind.code(),
                            case.stage()
                        );
                    }
                    Err(e) => assert!(!e.code.is_empty() && e.article.starts_with("Art."), "{e:?}"),
                }
            }
        }
    }
    assert!(applied > 20, "lawful steps exist in the sweep: {applied}");
}

#[test]
fn transfer_to_the_police_state_council_order_310() {
    let case = ready(5_000);
    let report = |who: &str| step(&officer(who), DAY0, StepKind::ProposeTransfer { report: "涉嫌非法经营，数额较大".into() });
    assert_eq!(code_of(&case, report("A9")), "investigator_required");
    let proposed = run(case.clone(), &[report("A1")]);
    assert!(proposed.crime_indicator);
    // Art. 11: while the transfer is pending no penalty takes its place.
    assert_eq!(code_of(&proposed, step(&leader(), DAY0, decide(5_000))), "transfer_pending");
    assert_eq!(
        code_of(&proposed, step(&officer("A1"), DAY0, StepKind::TransferToPolice { police: "p".into(), attachments: vec![] })),
        "wrong_transfer_stage"
    );
    // Art. 5: a refusal is recorded with reasons; the decision falls due three days after the report.
    assert_eq!(
        code_of(&proposed, step(&leader(), DAY0, StepKind::DecideTransfer { approve: false, reason: String::new() })),
        "reason_required"
    );
    let due = proposed.deadlines(cal()).into_iter().find(|d| d.code == "transfer_decision").unwrap();
    assert_eq!(due.last_day, d(2026, 3, 5));
    let refused = run(
        proposed.clone(),
        &[step(&leader(), DAY0, StepKind::DecideTransfer { approve: false, reason: "未达追诉标准".into() })],
    );
    assert_eq!(code_of(&refused, step(&leader(), DAY0, decide(5_000))), "ok", "the body then penalises itself");
    // Approved: sent with the letter and the report (Art. 6), received, and the police decide.
    let approved = run(proposed, &[step(&leader(), DAY0, StepKind::DecideTransfer { approve: true, reason: String::new() })]);
    let send = |attachments: Vec<TransferAttachment>| {
        step(&officer("A1"), DAY0, StepKind::TransferToPolice { police: "南通市公安局崇川分局".into(), attachments })
    };
    assert_eq!(code_of(&approved, send(vec![TransferAttachment::TransferLetter])), "transfer_attachments_missing");
    let sent = run(
        approved,
        &[
            send(vec![TransferAttachment::TransferLetter, TransferAttachment::InvestigationReport, TransferAttachment::ItemList]),
            step(&officer("A1"), DAY0, StepKind::RecordPoliceReceipt { receipt: "崇公回〔2026〕12号".into() }),
        ],
    );
    assert_eq!(sent.transfer.as_ref().unwrap().state(), "transferred");
    assert_eq!(
        code_of(&sent, step(&leader(), DAY0, StepKind::Decide { outcome: Outcome::TransferToJudicial, reasons: "r".into() })),
        "police_not_filed"
    );
    // The police refuse; the review is asked for within three days; refused again, the procuratorate is asked.
    let declined = run(
        sent.clone(),
        &[step(&officer("A1"), d(2026, 3, 3), StepKind::RecordPoliceDecision { accepted: false, reason: "证据不足".into() })],
    );
    assert_eq!(code_of(&declined, step(&officer("A1"), d(2026, 3, 7), StepKind::RequestPoliceReview)), "review_request_late");
    let reviewed = run(
        declined,
        &[
            step(&officer("A1"), d(2026, 3, 5), StepKind::RequestPoliceReview),
            step(&officer("A1"), d(2026, 3, 8), StepKind::RecordReviewDecision { accepted: false }),
        ],
    );
    assert_eq!(
        code_of(&reviewed, step(&officer("A1"), d(2026, 3, 12), StepKind::RequestSupervision)),
        "supervision_request_late"
    );
    let supervised = run(reviewed, &[step(&officer("A1"), d(2026, 3, 11), StepKind::RequestSupervision)]);
    assert_eq!(supervised.transfer.as_ref().unwrap().state(), "declined");
    assert_eq!(code_of(&supervised, step(&leader(), d(2026, 3, 12), decide(5_000))), "ok", "Art. 10: the body penalises");
    // The police open a case: the decision is the transfer, and the case closes without service.
    let filed =
        run(sent, &[step(&officer("A1"), DAY0, StepKind::RecordPoliceDecision { accepted: true, reason: String::new() })]);
    let decided = run(
        filed,
        &[step(
            &leader(),
            DAY0,
            StepKind::Decide { outcome: Outcome::TransferToJudicial, reasons: "已移送公安机关立案侦查".into() },
        )],
    );
    assert!(decided.deadlines(cal()).iter().all(|d| d.code != "service"));
    assert_eq!(code_of(&decided, step(&leader(), DAY0, StepKind::Close { summary: "移送结案".into() })), "ok");
}

#[test]
fn art_48_publication_and_withdrawal() {
    let decided = run(ready(500), &[step(&leader(), DAY0, decide(500))]);
    let due = decided.deadlines(cal()).into_iter().find(|d| d.code == "publication").unwrap();
    assert_eq!((due.last_day, due.met), (d(2026, 3, 11), false), "seven working days");
    assert_eq!(code_of(&ready(500), step(&officer("A1"), DAY0, StepKind::Publish)), "decision_required");
    let published = run(decided, &[step(&officer("A1"), DAY0, StepKind::Publish)]);
    assert_eq!(code_of(&published, step(&officer("A1"), DAY0, StepKind::Publish)), "already_published");
    // Revoked on appeal: the publication is withdrawn within three working days.
    let revoked = run(
        published,
        &[
            step(&officer("A1"), DAY0, StepKind::Serve { method: ServiceMethod::OnTheSpot }),
            step(&officer("A1"), d(2026, 3, 10), StepKind::RecordAppeal { kind: AppealKind::Reconsideration }),
            step(&officer("A1"), d(2026, 4, 30), StepKind::EndAppeal { decision_upheld: false }),
        ],
    );
    let withdrawal = revoked.deadlines(cal()).into_iter().find(|d| d.code == "withdrawal").unwrap();
    assert_eq!((withdrawal.last_day, withdrawal.met), (d(2026, 5, 8), false), "1–5 May are off, 9 May is worked");
    assert_eq!(
        code_of(&revoked, step(&officer("A1"), d(2026, 5, 6), StepKind::WithdrawPublication { reason: String::new() })),
        "reason_required"
    );
    let withdrawn =
        run(revoked, &[step(&officer("A1"), d(2026, 5, 6), StepKind::WithdrawPublication { reason: "复议撤销".into() })]);
    assert!(withdrawn.deadlines(cal()).iter().all(|d| d.met || d.code == "payment"));
}
