//! Documents (文书): the numbered forms a case issues, each as the fields it prints. The content is stored
//! with the step that issued it and its digest goes into that step's entry, so a printed form can be
//! checked against the record.

use gridward_domain::Date;
use gridward_domain::calendar::{Period, PeriodUnit, WorkCalendar};
use gridward_domain::case::{
    Case, HEARING_REQUEST_PERIOD, LATE_FEE_PERCENT_PER_DAY, LITIGATION_MONTHS, Outcome, PAYMENT_PERIOD, POLICE_DECISION_PERIOD,
    Penalty, RECONSIDERATION_PERIOD, ServiceMethod, Step, StepKind, yuan_of_fen,
};
use gridward_domain::catalog::{PenaltyType, chinese_number};
use gridward_domain::org::Body;
use gridward_domain::party::{Party, PartyKind};
use gridward_store::{CaseRecord, NewDocument};
use serde_json::{Value, json};

/// The forms a case issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// 立案审批表.
    FilingApproval,
    /// 责令改正通知书.
    CorrectionOrder,
    /// 行政处罚事先告知书.
    PriorNotice,
    /// 听证通知书.
    HearingNotice,
    /// 行政处罚决定书 (Art. 59).
    Decision,
    /// 不予行政处罚决定书.
    NoPenaltyDecision,
    /// 当场行政处罚决定书 (Art. 52).
    SummaryDecision,
    /// 送达回证.
    ServiceReceipt,
    /// 结案报告.
    ClosingReport,
    /// 涉嫌犯罪案件移送书 (国务院令第310号 Art. 6), copied to the procuratorate.
    TransferLetter,
    /// 行政处罚决定公示: the decision as the public reads it, personal data masked.
    Publication,
    /// 撤回公示说明.
    Withdrawal,
}

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::FilingApproval => "filing_approval",
            DocumentKind::CorrectionOrder => "correction_order",
            DocumentKind::PriorNotice => "prior_notice",
            DocumentKind::HearingNotice => "hearing_notice",
            DocumentKind::Decision => "decision",
            DocumentKind::NoPenaltyDecision => "no_penalty_decision",
            DocumentKind::SummaryDecision => "summary_decision",
            DocumentKind::ServiceReceipt => "service_receipt",
            DocumentKind::ClosingReport => "closing_report",
            DocumentKind::TransferLetter => "transfer_letter",
            DocumentKind::Publication => "publication",
            DocumentKind::Withdrawal => "withdrawal",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            DocumentKind::FilingApproval => "立案审批表",
            DocumentKind::CorrectionOrder => "责令改正通知书",
            DocumentKind::PriorNotice => "行政处罚事先告知书",
            DocumentKind::HearingNotice => "听证通知书",
            DocumentKind::Decision => "行政处罚决定书",
            DocumentKind::NoPenaltyDecision => "不予行政处罚决定书",
            DocumentKind::SummaryDecision => "当场行政处罚决定书",
            DocumentKind::ServiceReceipt => "送达回证",
            DocumentKind::ClosingReport => "结案报告",
            DocumentKind::TransferLetter => "涉嫌犯罪案件移送书",
            DocumentKind::Publication => "行政处罚决定信息公示",
            DocumentKind::Withdrawal => "撤回行政处罚决定公示说明",
        }
    }

    /// The word in the document's number after the body's prefix, as in `钟秀综执罚决〔2026〕3号`.
    fn word(self) -> &'static str {
        match self {
            DocumentKind::FilingApproval => "立审",
            DocumentKind::CorrectionOrder => "责改",
            DocumentKind::PriorNotice => "罚告",
            DocumentKind::HearingNotice => "听通",
            DocumentKind::Decision => "罚决",
            DocumentKind::NoPenaltyDecision => "不罚决",
            DocumentKind::SummaryDecision => "简罚",
            DocumentKind::ServiceReceipt => "送",
            DocumentKind::ClosingReport => "结",
            DocumentKind::TransferLetter => "移",
            DocumentKind::Publication => "公示",
            DocumentKind::Withdrawal => "撤公",
        }
    }

    /// The forms a step issues, judged on the case after it.
    pub fn issued_by(step: &StepKind, after: &Case) -> Vec<DocumentKind> {
        match step {
            StepKind::ApproveOpening => vec![DocumentKind::FilingApproval],
            StepKind::OrderCorrection { .. } => vec![DocumentKind::CorrectionOrder],
            StepKind::GiveNotice { .. } => vec![DocumentKind::PriorNotice],
            StepKind::ScheduleHearing { .. } => vec![DocumentKind::HearingNotice],
            StepKind::Decide { outcome: Outcome::Penalty { .. }, .. } => vec![DocumentKind::Decision],
            StepKind::Decide { outcome: Outcome::NoPenalty { .. } | Outcome::FactsNotEstablished, .. } => {
                vec![DocumentKind::NoPenaltyDecision]
            }
            StepKind::Serve { .. } if after.procedure() == gridward_domain::case::Procedure::Ordinary => {
                vec![DocumentKind::ServiceReceipt]
            }
            StepKind::Close { .. } => vec![DocumentKind::ClosingReport],
            StepKind::TransferToPolice { .. } => vec![DocumentKind::TransferLetter],
            StepKind::Publish => vec![DocumentKind::Publication],
            StepKind::WithdrawPublication { .. } => vec![DocumentKind::Withdrawal],
            _ => Vec::new(),
        }
    }
}

/// The short form of a body's name used in its numbers: `钟秀街道综合行政执法队` → `钟秀综执`.
pub fn prefix_of(body: &Body) -> String {
    let mut short = body.name.split("综合行政执法").next().unwrap_or(&body.name).to_string();
    for suffix in ["街道", "区", "市", "县", "镇", "乡"] {
        if let Some(s) = short.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            short = s.to_string();
            break;
        }
    }
    format!("{short}综执")
}

fn yuan(amount: u64) -> String {
    format!("{amount}元")
}

/// A penalty as a decision writes it: `罚款 500元`.
pub fn penalty_text(p: &Penalty) -> String {
    if p.amount_yuan > 0 { format!("{} {}", p.kind.zh(), yuan(p.amount_yuan)) } else { p.kind.zh().to_string() }
}

/// Penalties as a decision lists them, `；` between.
pub fn penalties_text(ps: &[Penalty]) -> String {
    ps.iter().map(penalty_text).collect::<Vec<_>>().join("；")
}

fn zh_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn party_fields(p: &Party) -> Vec<Value> {
    let mut out = vec![json!(["当事人", p.name])];
    match p.kind {
        PartyKind::Person => out.push(json!(["公民身份号码", p.id_number])),
        PartyKind::Organisation => {
            out.push(json!(["统一社会信用代码", p.id_number]));
            out.push(json!(["法定代表人（负责人）", p.representative]));
        }
    }
    out.push(json!(["住所（地址）", p.address]));
    if !p.phone.is_empty() {
        out.push(json!(["联系电话", p.phone]));
    }
    out
}

/// The form `kind` for `case` as it stands after `step`, ready for the store to number.
/// `district` is the name of the district the body serves, whose government hears reconsideration.
pub fn document_for(
    kind: DocumentKind,
    record: &CaseRecord,
    case: &Case,
    body: &Body,
    district: &str,
    step: &Step,
    cal: &WorkCalendar,
) -> NewDocument {
    let party = &case.opening.party;
    let mut fields = vec![json!(["案号", record.number]), json!(["案由", case.opening.power_name])];
    let mut paragraphs: Vec<String> = Vec::new();
    match kind {
        DocumentKind::FilingApproval => {
            fields.extend(party_fields(party));
            fields.push(json!(["案件来源", case.opening.source.zh()]));
            fields.push(json!(["违法行为发生日期", zh_date(case.opening.act_date)]));
            fields.push(json!(["发现日期", zh_date(case.opening.discovered_on)]));
            fields.push(json!(["简要案情", case.opening.facts]));
            fields.push(json!(["承办人", case.opened_by]));
            fields.push(json!(["审批意见", format!("同意立案。{}（{}）", step.actor.name, zh_date(step.on))]));
        }
        DocumentKind::CorrectionOrder => {
            fields.extend(party_fields(party));
            if let StepKind::OrderCorrection { requirement, within_days } = &step.kind {
                paragraphs.push(format!("经查，你（单位）存在以下违法行为：{}。", case.opening.facts));
                paragraphs.push(format!("根据《中华人民共和国行政处罚法》第二十八条第一款，现责令你（单位）于收到本通知书之日起{within_days}日内改正：{requirement}。"));
            }
        }
        DocumentKind::PriorNotice => {
            fields.extend(party_fields(party));
            if let Some(n) = &case.notice {
                paragraphs.push(format!("经查，你（单位）{}。", n.facts));
                paragraphs.push(format!("以上事实违反了{}。", n.basis));
                paragraphs.push(format!("本机关拟对你（单位）作出如下行政处罚：{}。", penalties_text(&n.penalties)));
                paragraphs.push(
                    "根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你（单位）有权进行陈述和申辩。本机关不因你（单位）陈述、申辩而给予更重的处罚。"
                        .to_string(),
                );
                if n.hearing_right {
                    let due = case.rights_due(cal).map(|d| zh_date(d.last_day)).unwrap_or_default();
                    paragraphs.push(format!(
                        "根据《中华人民共和国行政处罚法》第六十三条、第六十四条的规定，你（单位）有权要求听证。如要求听证，应当在收到本告知书之日起{}内（至{due}）提出，逾期视为放弃听证权利。当事人不承担听证费用。",
                        period_zh(HEARING_REQUEST_PERIOD)
                    ));
                }
            }
        }
        DocumentKind::HearingNotice => {
            fields.extend(party_fields(party));
            if let StepKind::ScheduleHearing { hearing_on, presiding, place } = &step.kind {
                fields.push(json!(["听证时间", zh_date(*hearing_on)]));
                fields.push(json!(["听证地点", place]));
                fields.push(json!(["主持人", presiding.name]));
                paragraphs.push("根据你（单位）的申请，本机关决定举行听证。你（单位）可以委托一至二人代理参加听证；无正当理由不出席的，视为放弃听证权利。听证公开举行，涉及国家秘密、商业秘密或者个人隐私的除外。".to_string());
                paragraphs.push("如认为主持人与本案有直接利害关系，你（单位）有权申请回避。".to_string());
            }
        }
        DocumentKind::Decision | DocumentKind::NoPenaltyDecision | DocumentKind::SummaryDecision => {
            fields.extend(party_fields(party));
            let facts = case.notice.as_ref().map_or(case.opening.facts.as_str(), |n| n.facts.as_str());
            paragraphs.push(format!("违法事实：{facts}。"));
            if !case.evidence.is_empty() {
                let list = case
                    .evidence
                    .iter()
                    .map(|e| format!("{}（{}）", e.category.zh(), e.description))
                    .collect::<Vec<_>>()
                    .join("、");
                paragraphs.push(format!("以上事实有下列证据证明：{list}。"));
            }
            if let Some(n) = &case.notice {
                paragraphs.push(format!("处罚依据：{}。", n.basis));
            }
            match case.decision.as_ref().map(|d| &d.outcome) {
                Some(Outcome::Penalty { penalties }) => {
                    paragraphs.push(format!("本机关决定给予如下行政处罚：{}。", penalties_text(penalties)));
                    if penalties.iter().any(|p| p.kind == PenaltyType::Fine) {
                        let collected = case.summary.as_ref().is_some_and(|s| s.collected_on_spot);
                        paragraphs.push(if collected {
                            "罚款已由执法人员当场收缴，并出具财政部门统一制发的专用票据（《中华人民共和国行政处罚法》第六十八条）。".to_string()
                        } else {
                            format!(
                                "履行方式和期限：自收到本决定书之日起{}内，到指定银行或者通过电子支付系统缴纳罚款。到期不缴纳罚款的，本机关每日按罚款数额的百分之{}加处罚款，加处罚款的数额不超出罚款的数额（《中华人民共和国行政处罚法》第六十七条、第七十二条）。",
                                period_zh(PAYMENT_PERIOD),
                                chinese_number(LATE_FEE_PERCENT_PER_DAY as u32)
                            )
                        });
                    }
                }
                Some(Outcome::NoPenalty { ground }) => {
                    paragraphs.push(format!(
                        "鉴于{}，根据《中华人民共和国行政处罚法》第三十三条，本机关决定不予行政处罚，并对你（单位）进行教育。",
                        ground.zh()
                    ));
                }
                Some(Outcome::FactsNotEstablished) => {
                    paragraphs.push("经调查，违法事实不能成立。根据《中华人民共和国行政处罚法》第五十七条第一款第（三）项，本机关决定不予行政处罚。".to_string());
                }
                _ => {}
            }
            if let Some(d) = case.decision.as_ref().filter(|d| !d.reasons.is_empty() && kind != DocumentKind::SummaryDecision) {
                paragraphs.push(format!("理由：{}", d.reasons));
            }
            if let Some(s) = &case.summary {
                fields.push(json!(["预定格式决定书编号", s.form_number]));
                fields.push(json!(["执法人员", format!("{}、{}", step.actor.name, s.companion.name)]));
            }
            paragraphs.push(format!(
                "如不服本决定，可以在收到本决定书之日起{}内向{}申请行政复议（《中华人民共和国行政复议法》第二十条），或者在{}个月内依法向人民法院提起行政诉讼（《中华人民共和国行政诉讼法》第四十六条）。行政复议和行政诉讼期间，本决定不停止执行（《中华人民共和国行政处罚法》第七十三条）。",
                period_zh(RECONSIDERATION_PERIOD),
                reconsideration_body(district),
                chinese_number(LITIGATION_MONTHS)
            ));
        }
        DocumentKind::ServiceReceipt => {
            fields.push(json!(["受送达人", party.name]));
            fields.push(json!(["送达地点", party.address]));
            if let Some((method, on)) = &case.served {
                fields.push(json!(["送达方式", method.zh()]));
                fields.push(json!(["送达日期", zh_date(*on)]));
                if *method == ServiceMethod::Electronic {
                    fields.push(json!(["电子送达确认", "当事人已签署电子送达确认书（《中华人民共和国行政处罚法》第六十一条）"]));
                }
            }
            fields.push(json!(["送达人", step.actor.name]));
            fields.push(json!(["受送达人签名", ""]));
        }
        DocumentKind::TransferLetter => {
            fields.extend(party_fields(party));
            if let Some(t) = &case.transfer {
                fields.push(json!(["接收机关", t.police]));
                fields.push(json!(["附送材料", t.attachments.iter().map(|a| a.zh()).collect::<Vec<_>>().join("、")]));
                fields.push(json!(["抄送", "同级人民检察院"]));
            }
            paragraphs.push(format!("经查，{}涉嫌犯罪。根据《行政执法机关移送涉嫌犯罪案件的规定》第三条、第五条、第六条，现将该案移送你局，请依法审查。", party.name));
            paragraphs.push(format!(
                "请在本移送书回执上签字；自接受移送之日起{}内作出立案或者不予立案的决定，并书面通知本机关（第七条、第八条）。",
                period_zh(POLICE_DECISION_PERIOD)
            ));
        }
        DocumentKind::Publication => {
            let masked = party.masked();
            fields = vec![json!(["案号", record.number]), json!(["当事人", masked.name])];
            if party.kind == PartyKind::Organisation {
                fields.push(json!(["统一社会信用代码", party.id_number]));
            }
            fields.push(json!(["执法事项", case.opening.power_name]));
            if let Some(n) = &case.notice {
                fields.push(json!(["违法事实", n.facts]));
                fields.push(json!(["处罚依据", n.basis]));
            }
            if let Some(d) = &case.decision {
                fields.push(json!(["处罚决定", penalties_text(d.outcome.penalties())]));
                fields.push(json!(["决定日期", zh_date(d.decided_on)]));
            }
            fields.push(json!(["作出决定机关", body.name]));
            paragraphs.push("根据《中华人民共和国行政处罚法》第四十八条公示；个人信息已依法处理。".to_string());
        }
        DocumentKind::Withdrawal => {
            if let StepKind::WithdrawPublication { reason } = &step.kind {
                paragraphs.push(format!(
                    "本机关于{}公示的{}号案件行政处罚决定信息，因{}，现予撤回（《中华人民共和国行政处罚法》第四十八条）。",
                    case.published_on.map(zh_date).unwrap_or_default(),
                    record.number,
                    reason
                ));
            }
        }
        DocumentKind::ClosingReport => {
            fields.extend(party_fields(party));
            fields.push(json!(["程序", case.procedure().zh()]));
            if let Some(d) = &case.decision {
                fields.push(json!(["决定", d.outcome.zh()]));
                fields.push(json!(["决定日期", zh_date(d.decided_on)]));
                fields.push(json!(["处罚", penalties_text(d.outcome.penalties())]));
            }
            fields.push(json!(["已缴金额", format!("{}元", yuan_of_fen(case.paid_fen()))]));
            if let StepKind::Close { summary } = &step.kind {
                paragraphs.push(summary.clone());
            }
        }
    }
    NewDocument {
        kind: kind.code().to_string(),
        prefix: format!("{}{}", prefix_of(body), kind.word()),
        year: step.on.year(),
        content: json!({
            "title": kind.title(),
            "issuer": body.name,
            "fields": fields,
            "paragraphs": paragraphs,
            "date": zh_date(step.on),
            "seal": format!("{}（印章）", body.name),
        }),
    }
}

/// Where a party asks for reconsideration of a county-level body's or a street's decision: the people's
/// government of the district (行政复议法 2023, Art. 24).
fn reconsideration_body(district: &str) -> String {
    if district.is_empty() { "本机关所属的人民政府".to_string() } else { format!("{district}人民政府") }
}

/// Replaces the party's identifying details in a document's strings with their masked forms.
pub fn mask_party(content: &mut Value, full: &Party, masked: &Party) {
    let pairs: Vec<(&str, &str)> = [
        (full.id_number.as_str(), masked.id_number.as_str()),
        (full.phone.as_str(), masked.phone.as_str()),
        (full.name.as_str(), masked.name.as_str()),
        (full.representative.as_str(), masked.representative.as_str()),
    ]
    .into_iter()
    .filter(|(f, m)| !f.is_empty() && f != m)
    .collect();
    gridward_store::cases::replace_in_strings(content, &pairs);
}

/// A legal period as documents write it: 五个工作日, 十五日. The numbers come from the domain's named
/// periods, so a document never states a period other than the one its deadlines are counted by.
fn period_zh(period: Period) -> String {
    match period.unit {
        PeriodUnit::WorkingDays => format!("{}个工作日", chinese_number(period.days)),
        PeriodUnit::CalendarDays => format!("{}日", chinese_number(period.days)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_state_the_periods_the_deadlines_are_counted_by() {
        assert_eq!(period_zh(HEARING_REQUEST_PERIOD), "五个工作日");
        assert_eq!(period_zh(PAYMENT_PERIOD), "十五日");
        assert_eq!(period_zh(RECONSIDERATION_PERIOD), "六十日");
        assert_eq!(period_zh(POLICE_DECISION_PERIOD), "三日");
        assert_eq!(chinese_number(LATE_FEE_PERCENT_PER_DAY as u32), "三");
        assert_eq!(chinese_number(LITIGATION_MONTHS), "六");
    }
}
