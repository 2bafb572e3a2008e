//! Power catalog (权力库): every enforcement power (执法事项) with its legal basis, split into the violation
//! clause (定性条款) and the penalty clause (处罚条款), the penalties the law allows, and where it sits by
//! default. The catalog is read from and written to the spreadsheets published lists use (权力清单).

use std::collections::HashSet;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::division::{Level, parse_date};
use crate::org::{EnforcementDomain, parse_bool};
use crate::problem::{Problem, Problems};

string_enum! {
    /// The kind of a power: 行政处罚, 行政强制 or 行政检查.
    PowerKind {
        Penalty = "penalty", "行政处罚";
        Coercion = "coercion", "行政强制";
        Inspection = "inspection", "行政检查";
    }
}

string_enum! {
    /// The kinds of administrative penalty listed in 行政处罚法 Art. 9.
    PenaltyType {
        Warning = "warning", "警告";
        NoticeOfCriticism = "notice_of_criticism", "通报批评";
        Fine = "fine", "罚款";
        ConfiscateIllegalGains = "confiscate_illegal_gains", "没收违法所得";
        ConfiscateIllegalProperty = "confiscate_illegal_property", "没收非法财物";
        SuspendLicence = "suspend_licence", "暂扣许可证件";
        LowerQualification = "lower_qualification", "降低资质等级";
        RevokeLicence = "revoke_licence", "吊销许可证件";
        RestrictBusiness = "restrict_business", "限制开展生产经营活动";
        OrderSuspension = "order_suspension", "责令停产停业";
        OrderClosure = "order_closure", "责令关闭";
        RestrictEmployment = "restrict_employment", "限制从业";
        Detention = "detention", "行政拘留";
        Other = "other", "其他";
    }
}

impl PenaltyType {
    /// Penalties after which the party may always ask for a hearing (行政处罚法 Art. 63 (2)–(5)).
    pub fn always_allows_hearing(self) -> bool {
        matches!(
            self,
            PenaltyType::LowerQualification
                | PenaltyType::RevokeLicence
                | PenaltyType::OrderSuspension
                | PenaltyType::OrderClosure
                | PenaltyType::RestrictEmployment
        )
    }
}

string_enum! {
    /// What a fine expressed as a multiple is a multiple of.
    FineBase {
        IllegalGains = "illegal_gains", "违法所得";
        ProjectCost = "project_cost", "工程造价";
        AdvertisingFee = "advertising_fee", "广告费用";
        GoodsValue = "goods_value", "货值金额";
        Other = "other", "其他";
    }
}

/// One citation of the law: `《title》第N条[第M款][第K项]：text`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Citation {
    pub law: String,
    pub article: u32,
    pub clause: Option<u32>,
    pub item: Option<u32>,
    pub text: String,
}

impl Citation {
    /// The reference without the text, e.g. `《城市道路管理条例》第四十二条第一款`.
    pub fn reference(&self) -> String {
        let mut s = format!("《{}》第{}条", self.law, chinese_number(self.article));
        if let Some(c) = self.clause {
            s.push_str(&format!("第{}款", chinese_number(c)));
        }
        if let Some(i) = self.item {
            s.push_str(&format!("第{}项", chinese_number(i)));
        }
        s
    }

    /// Parses one citation as published lists write it.
    pub fn parse(s: &str) -> Result<Citation, String> {
        let s = s.trim();
        let rest = s.strip_prefix('《').ok_or("a citation starts with the law's title in 《》")?;
        let (law, rest) = rest.split_once('》').ok_or("the law's title is not closed with 》")?;
        let law = law.trim();
        if law.is_empty() || law.chars().count() > 100 {
            return Err("a law's title has 1 to 100 characters".into());
        }
        let (reference, text) = rest
            .split_once('：')
            .or_else(|| rest.split_once(':'))
            .ok_or("the reference is followed by '：' and the cited text")?;
        let text = text.trim();
        if text.is_empty() {
            return Err("a citation quotes the text it cites".into());
        }
        if text.chars().count() > 2000 {
            return Err("a cited text has at most 2,000 characters".into());
        }
        let (article, clause, item) = parse_reference(reference.trim())?;
        Ok(Citation { law: law.to_string(), article, clause, item, text: text.to_string() })
    }
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}：{}", self.reference(), self.text)
    }
}

/// `第一百一十八条第一款第（三）项` → (118, Some(1), Some(3)).
fn parse_reference(s: &str) -> Result<(u32, Option<u32>, Option<u32>), String> {
    let bad = || format!("{s:?} is not a reference like 第一百一十八条第一款");
    let mut parts = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let after = rest.strip_prefix('第').ok_or_else(bad)?;
        let end = after.find(['条', '款', '项']).ok_or_else(bad)?;
        let number = after[..end].trim_matches(['（', '）', '(', ')']);
        let unit = after[end..].chars().next().ok_or_else(bad)?;
        parts.push((parse_number(number).ok_or_else(bad)?, unit));
        rest = &after[end + unit.len_utf8()..];
    }
    match parts.as_slice() {
        [(a, '条')] => Ok((*a, None, None)),
        [(a, '条'), (c, '款')] => Ok((*a, Some(*c), None)),
        [(a, '条'), (i, '项')] => Ok((*a, None, Some(*i))),
        [(a, '条'), (c, '款'), (i, '项')] => Ok((*a, Some(*c), Some(*i))),
        _ => Err(bad()),
    }
}

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// Parses a number written in Arabic digits or in Chinese numerals up to 九百九十九.
pub fn parse_number(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().filter(|n| *n > 0 && *n < 1000);
    }
    let digit = |c: char| DIGITS.iter().position(|d| *d == c).map(|p| p as u32);
    let mut total = 0;
    let mut pending: Option<u32> = None;
    for c in s.chars() {
        match c {
            '百' => {
                total += pending.take()? * 100;
            }
            '十' => {
                total += pending.take().unwrap_or(1) * 10;
            }
            '零' => {}
            _ => {
                if pending.is_some() {
                    return None;
                }
                pending = Some(digit(c)?);
            }
        }
    }
    total += pending.unwrap_or(0);
    (total > 0 && total < 1000).then_some(total)
}

/// Writes a number as statutes do: 十二, 二十, 一百零五, 一百一十八.
pub fn chinese_number(n: u32) -> String {
    let digit = |d: u32| DIGITS[d as usize].to_string();
    let below_hundred = |n: u32, after_hundreds: bool| match (n / 10, n % 10) {
        (0, 0) => String::new(),
        (0, o) if after_hundreds => format!("零{}", digit(o)),
        (0, o) => digit(o),
        (1, o) if !after_hundreds => format!("十{}", if o > 0 { digit(o) } else { String::new() }),
        (t, o) => format!("{}十{}", digit(t), if o > 0 { digit(o) } else { String::new() }),
    };
    if n >= 100 { format!("{}百{}", digit(n / 100), below_hundred(n % 100, true)) } else { below_hundred(n, false) }
}

/// A multiple or fraction written with up to three decimals (0.05, 1, 2.5), held in thousandths so that
/// it compares and prints exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Multiple(pub u32);

impl Multiple {
    pub fn parse(s: &str) -> Option<Multiple> {
        let s = s.trim();
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 3 {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: u32 = whole.parse().ok().filter(|w| *w <= 1000)?;
        let frac: u32 = format!("{frac:0<3}").parse().ok()?;
        Some(Multiple(whole * 1000 + frac))
    }
}

impl fmt::Display for Multiple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 1000, self.0 % 1000);
        if frac == 0 { write!(f, "{whole}") } else { write!(f, "{}", format!("{whole}.{frac:03}").trim_end_matches('0')) }
    }
}

/// A fine set as a multiple of some base: 违法所得一倍以上五倍以下.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FineMultiple {
    pub base: FineBase,
    pub min: Option<Multiple>,
    pub max: Multiple,
}

/// One power of the catalog as in force from `valid_from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Power {
    pub code: String,
    pub name: String,
    pub kind: PowerKind,
    pub domain: EnforcementDomain,
    /// The category (事项类别) lists group powers by, e.g. 市容环境卫生.
    pub category: String,
    pub violation_basis: Vec<Citation>,
    pub penalty_basis: Vec<Citation>,
    pub penalty_types: Vec<PenaltyType>,
    /// Fixed fine bounds in yuan; `None` bounds are open.
    pub fine_min: Option<u64>,
    pub fine_max: Option<u64>,
    pub fine_multiple: Option<FineMultiple>,
    /// Whether a hearing right can arise (行政处罚法 Art. 63).
    pub hearing: bool,
    pub default_level: Level,
    pub valid_from: Date,
    pub notes: String,
}

impl Power {
    /// The titles of the laws this power cites, each once, in citation order.
    pub fn laws(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for c in self.violation_basis.iter().chain(&self.penalty_basis) {
            if !seen.contains(&c.law.as_str()) {
                seen.push(c.law.as_str());
            }
        }
        seen
    }

    /// The fine as people read it: `5000–50000 元; 违法所得 1–5 倍`.
    pub fn fine_text(&self) -> String {
        let mut parts = Vec::new();
        match (self.fine_min, self.fine_max) {
            (None, None) => {}
            (None, Some(max)) => parts.push(format!("{max} 元以下")),
            (Some(min), None) => parts.push(format!("{min} 元以上")),
            (Some(min), Some(max)) => parts.push(format!("{min}–{max} 元")),
        }
        if let Some(m) = &self.fine_multiple {
            match m.min {
                Some(min) => parts.push(format!("{} {min}–{} 倍", m.base.zh(), m.max)),
                None => parts.push(format!("{} {} 倍以下", m.base.zh(), m.max)),
            }
        }
        parts.join("；")
    }

    /// The row this power is written as; reading it back gives the same power.
    pub fn to_row(&self) -> PowerRow {
        let citations = |c: &[Citation]| c.iter().map(Citation::to_string).collect::<Vec<_>>().join("\n");
        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        PowerRow {
            line: 0,
            code: self.code.clone(),
            name: self.name.clone(),
            kind: self.kind.as_str().into(),
            domain: self.domain.as_str().into(),
            category: self.category.clone(),
            violation_basis: citations(&self.violation_basis),
            penalty_basis: citations(&self.penalty_basis),
            penalty_types: self.penalty_types.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(";"),
            fine_min: opt(self.fine_min),
            fine_max: opt(self.fine_max),
            fine_multiple_of: self.fine_multiple.map(|m| m.base.as_str().to_string()).unwrap_or_default(),
            fine_multiple_min: self.fine_multiple.and_then(|m| m.min).map(|m| m.to_string()).unwrap_or_default(),
            fine_multiple_max: self.fine_multiple.map(|m| m.max.to_string()).unwrap_or_default(),
            hearing: self.hearing.to_string(),
            default_level: self.default_level.as_str().into(),
            valid_from: self.valid_from.to_string(),
            notes: self.notes.clone(),
        }
    }
}

/// Declares the catalog row once: the struct of text cells, the columns with their Chinese headings, and
/// the conversions to and from cells in column order.
macro_rules! power_row {
    ($($field:ident => $heading:literal),+ $(,)?) => {
        /// The columns of a catalog spreadsheet: the code used in files and the heading published lists
        /// use. Either may head a column on import; exports write the code.
        pub const POWER_COLUMNS: [(&str, &str); power_row!(@count $($field)+)] = [$((stringify!($field), $heading)),+];

        /// One catalog row as read from a spreadsheet, every cell as text.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct PowerRow {
            pub line: usize,
            $(pub $field: String),+
        }

        impl PowerRow {
            /// The cells in `POWER_COLUMNS` order.
            pub fn cells(&self) -> [&str; POWER_COLUMNS.len()] {
                [$(&self.$field),+]
            }

            /// A row from cells in `POWER_COLUMNS` order.
            pub fn from_cells(line: usize, cells: [String; POWER_COLUMNS.len()]) -> PowerRow {
                let [$($field),+] = cells;
                PowerRow { line, $($field),+ }
            }
        }
    };
    (@count $($field:ident)+) => { 0 $(+ power_row!(@one $field))+ };
    (@one $field:ident) => { 1 };
}

power_row! {
    code => "事项编码",
    name => "事项名称",
    kind => "事项类型",
    domain => "执法领域",
    category => "事项类别",
    violation_basis => "定性依据",
    penalty_basis => "处罚依据",
    penalty_types => "处罚种类",
    fine_min => "罚款下限",
    fine_max => "罚款上限",
    fine_multiple_of => "倍数基数",
    fine_multiple_min => "倍数下限",
    fine_multiple_max => "倍数上限",
    hearing => "可能听证",
    default_level => "默认层级",
    valid_from => "生效日期",
    notes => "备注",
}

/// Whether a power code is well formed: 3 to 64 lowercase letters, digits, '.' or '-', starting with a
/// letter, e.g. `dqwr.118.1`.
pub fn valid_power_code(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// Checks a catalog file as a whole and returns its powers, or every problem with line and column.
pub fn validate_power_rows(rows: &[PowerRow]) -> Result<Vec<Power>, Problems> {
    let mut problems = Problems::default();
    let mut powers = Vec::new();
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for row in rows {
        if let Some(power) = validate_power_row(row, &mut problems) {
            if !codes.insert(power.code.clone()) {
                problems.push(Problem::at(row.line, "code", "duplicate_code", format!("power {} appears twice", power.code)));
            }
            if !names.insert(power.name.clone()) {
                problems.push(Problem::at(row.line, "name", "duplicate_name", format!("{} appears twice", power.name)));
            }
            powers.push(power);
        }
    }
    problems.into_result(powers)
}

fn validate_power_row(row: &PowerRow, problems: &mut Problems) -> Option<Power> {
    let line = row.line;
    let before = problems.len();
    let code = row.code.trim();
    if !valid_power_code(code) {
        problems.push(Problem::at(
            line,
            "code",
            "bad_code",
            "a power code has 3 to 64 lowercase letters, digits, '.' or '-' and starts with a letter",
        ));
    }
    let name = row.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        problems.push(Problem::at(line, "name", "bad_name", "a name has 1 to 200 characters"));
    }
    let kind = PowerKind::parse_either(&row.kind);
    if kind.is_none() {
        problems.push(Problem::at(line, "kind", "bad_kind", format!("{:?} is not penalty, coercion or inspection", row.kind)));
    }
    let domain = EnforcementDomain::parse_either(&row.domain);
    if domain.is_none() {
        problems.push(Problem::at(line, "domain", "bad_domain", format!("{:?} is not an enforcement domain", row.domain)));
    }
    let category = row.category.trim();
    if category.is_empty() || category.chars().count() > 50 {
        problems.push(Problem::at(line, "category", "bad_category", "a category has 1 to 50 characters"));
    }
    let violation_basis = citations(line, "violation_basis", &row.violation_basis, problems);
    let penalty_basis = citations(line, "penalty_basis", &row.penalty_basis, problems);
    let mut penalty_types = Vec::new();
    for part in row.penalty_types.split([';', '；', ',', '，', '、']).map(str::trim).filter(|p| !p.is_empty()) {
        match PenaltyType::parse_either(part) {
            Some(p) if !penalty_types.contains(&p) => penalty_types.push(p),
            Some(_) => {}
            None => problems.push(Problem::at(
                line,
                "penalty_types",
                "bad_penalty_type",
                format!("{part:?} is not a penalty of 行政处罚法 Art. 9"),
            )),
        }
    }
    penalty_types.sort();
    let amount = |column: &str, cell: &str, problems: &mut Problems| -> Option<Option<u64>> {
        let cell = cell.trim();
        if cell.is_empty() {
            return Some(None);
        }
        match cell.parse::<u64>() {
            Ok(v) if v <= 1_000_000_000 => Some(Some(v)),
            _ => {
                problems.push(Problem::at(line, column, "bad_amount", format!("{cell:?} is not a whole number of yuan")));
                None
            }
        }
    };
    let fine_min = amount("fine_min", &row.fine_min, problems);
    let fine_max = amount("fine_max", &row.fine_max, problems);
    if let (Some(Some(min)), Some(Some(max))) = (fine_min, fine_max)
        && min > max
    {
        problems.push(Problem::at(line, "fine_max", "bad_range", format!("the fine's maximum {max} is below its minimum {min}")));
    }
    let fine_multiple = fine_multiple(row, problems);
    let fined = fine_min.flatten().is_some() || fine_max.flatten().is_some() || fine_multiple.flatten().is_some();
    if fined && !penalty_types.contains(&PenaltyType::Fine) {
        problems.push(Problem::at(
            line,
            "penalty_types",
            "fine_not_listed",
            "a fine range is given but 罚款 is not a penalty type",
        ));
    }
    let hearing = parse_bool(&row.hearing);
    if hearing.is_none() {
        problems.push(Problem::at(line, "hearing", "bad_bool", format!("{:?} is not true or false", row.hearing)));
    }
    if hearing == Some(false)
        && let Some(p) = penalty_types.iter().find(|p| p.always_allows_hearing())
    {
        problems.push(Problem::at(
            line,
            "hearing",
            "hearing_required",
            format!("{} always lets the party ask for a hearing (行政处罚法 Art. 63)", p.zh()),
        ));
    }
    let default_level =
        Level::parse(row.default_level.trim()).filter(|l| matches!(l, Level::City | Level::District | Level::Street));
    if default_level.is_none() {
        problems.push(Problem::at(
            line,
            "default_level",
            "bad_level",
            format!("{:?} is not city, district or street", row.default_level),
        ));
    }
    let valid_from = match parse_date(line, "valid_from", &row.valid_from, problems) {
        Some(Some(d)) => Some(d),
        Some(None) => {
            problems.push(Problem::at(line, "valid_from", "bad_date", "the date the power takes effect is required"));
            None
        }
        None => None,
    };
    if row.notes.chars().count() > 2000 {
        problems.push(Problem::at(line, "notes", "too_long", "notes have at most 2,000 characters"));
    }
    if let (Some(kind), Some(violation), Some(penalty)) = (kind, &violation_basis, &penalty_basis) {
        if violation.is_empty() {
            problems.push(Problem::at(line, "violation_basis", "missing_basis", "every power cites the law it rests on"));
        }
        match kind {
            PowerKind::Penalty => {
                if penalty.is_empty() {
                    problems.push(Problem::at(line, "penalty_basis", "missing_basis", "a penalty cites its penalty clause"));
                }
                if penalty_types.is_empty() {
                    problems.push(Problem::at(
                        line,
                        "penalty_types",
                        "missing_penalty_type",
                        "a penalty names at least one penalty type",
                    ));
                }
            }
            PowerKind::Coercion | PowerKind::Inspection => {
                if !penalty.is_empty() || !penalty_types.is_empty() || fined {
                    problems.push(Problem::at(
                        line,
                        "penalty_basis",
                        "not_a_penalty",
                        format!("a {} power has no penalty clause, penalty types or fine", kind.zh()),
                    ));
                }
            }
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Power {
        code: code.to_string(),
        name: name.to_string(),
        kind: kind?,
        domain: domain?,
        category: category.to_string(),
        violation_basis: violation_basis?,
        penalty_basis: penalty_basis?,
        penalty_types,
        fine_min: fine_min?,
        fine_max: fine_max?,
        fine_multiple: fine_multiple?,
        hearing: hearing?,
        default_level: default_level?,
        valid_from: valid_from?,
        notes: row.notes.trim().to_string(),
    })
}

fn citations(line: usize, column: &str, cell: &str, problems: &mut Problems) -> Option<Vec<Citation>> {
    let mut out = Vec::new();
    let mut ok = true;
    for part in cell.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match Citation::parse(part) {
            Ok(c) => out.push(c),
            Err(e) => {
                problems.push(Problem::at(line, column, "bad_citation", e));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn fine_multiple(row: &PowerRow, problems: &mut Problems) -> Option<Option<FineMultiple>> {
    let line = row.line;
    let (of, min, max) = (row.fine_multiple_of.trim(), row.fine_multiple_min.trim(), row.fine_multiple_max.trim());
    if of.is_empty() && min.is_empty() && max.is_empty() {
        return Some(None);
    }
    let base = FineBase::parse_either(of);
    if base.is_none() {
        problems.push(Problem::at(
            line,
            "fine_multiple_of",
            "bad_fine_base",
            format!("{of:?} is not a base a fine is a multiple of"),
        ));
    }
    let multiple = |column: &str, cell: &str, problems: &mut Problems| {
        let m = Multiple::parse(cell);
        if m.is_none() {
            problems.push(Problem::at(line, column, "bad_multiple", format!("{cell:?} is not a number like 0.05 or 3")));
        }
        m
    };
    let min = if min.is_empty() { Some(None) } else { multiple("fine_multiple_min", min, problems).map(Some) };
    let max = multiple("fine_multiple_max", max, problems);
    if let (Some(Some(min)), Some(max)) = (min, max)
        && min > max
    {
        problems.push(Problem::at(
            line,
            "fine_multiple_max",
            "bad_range",
            format!("the multiple's maximum {max} is below its minimum {min}"),
        ));
    }
    Some(Some(FineMultiple { base: base?, min: min?, max: max? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(code: &str) -> PowerRow {
        PowerRow {
            line: 2,
            code: code.into(),
            name: format!("对{code}的行政处罚"),
            kind: "penalty".into(),
            domain: "ecology_environment".into(),
            category: "大气污染防治".into(),
            violation_basis:
                "《中华人民共和国大气污染防治法》第一百一十八条第一款：违反本法规定，排放油烟的餐饮服务业经营者未安装油烟净化设施"
                    .into(),
            penalty_basis:
                "《中华人民共和国大气污染防治法》第一百一十八条第一款：处五千元以上五万元以下的罚款；拒不改正的，责令停业整治。"
                    .into(),
            penalty_types: "fine;order_suspension".into(),
            fine_min: "5000".into(),
            fine_max: "50000".into(),
            hearing: "true".into(),
            default_level: "street".into(),
            valid_from: "2018-10-26".into(),
            ..PowerRow::default()
        }
    }

    #[test]
    fn numbers_read_and_write_as_statutes_do() {
        for (n, s) in [
            (1, "一"),
            (10, "十"),
            (12, "十二"),
            (20, "二十"),
            (35, "三十五"),
            (100, "一百"),
            (105, "一百零五"),
            (110, "一百一十"),
            (118, "一百一十八"),
            (120, "一百二十"),
        ] {
            assert_eq!(chinese_number(n), s);
            assert_eq!(parse_number(s), Some(n), "{s}");
        }
        assert_eq!(parse_number("42"), Some(42));
        assert_eq!(parse_number("二二"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("零"), None);
        for n in 1..1000 {
            assert_eq!(parse_number(&chinese_number(n)), Some(n));
        }
    }

    #[test]
    fn a_citation_reads_back_as_written() {
        let c = Citation::parse("《城市道路管理条例》第四十二条第（二）项：未按照批准的位置、面积、期限占用或者挖掘城市道路")
            .unwrap();
        assert_eq!((c.article, c.clause, c.item), (42, None, Some(2)));
        assert_eq!(c.to_string(), "《城市道路管理条例》第四十二条第二项：未按照批准的位置、面积、期限占用或者挖掘城市道路");
        assert_eq!(Citation::parse(&c.to_string()).unwrap(), c);
        let c = Citation::parse("《中华人民共和国大气污染防治法》第一百一十八条第二款第3项：x").unwrap();
        assert_eq!((c.article, c.clause, c.item), (118, Some(2), Some(3)));
        for bad in [
            "城市道路管理条例第四十二条：x",
            "《城市道路管理条例》第四十二条",
            "《城市道路管理条例》第四十二款：x",
            "《》第一条：x",
            "《a》第条：x",
        ] {
            assert!(Citation::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn multiples_are_exact() {
        assert_eq!(Multiple::parse("0.05"), Some(Multiple(50)));
        assert_eq!(Multiple::parse("3"), Some(Multiple(3000)));
        assert_eq!(Multiple::parse("0.05").unwrap().to_string(), "0.05");
        assert_eq!(Multiple::parse("2.500").unwrap().to_string(), "2.5");
        assert_eq!(Multiple::parse("1e3"), None);
        assert_eq!(Multiple::parse("0.0001"), None);
    }

    #[test]
    fn a_valid_row_round_trips() {
        let powers = validate_power_rows(&[row("dqwr.118.1")]).unwrap();
        let p = &powers[0];
        assert_eq!(p.penalty_types, vec![PenaltyType::Fine, PenaltyType::OrderSuspension]);
        assert_eq!(p.fine_text(), "5000–50000 元");
        let mut again = p.to_row();
        again.line = 2;
        assert_eq!(validate_power_rows(&[again]).unwrap(), powers);
    }

    #[test]
    fn chinese_cells_are_taken() {
        let mut r = row("dqwr.118.1");
        r.kind = "行政处罚".into();
        r.domain = "生态环境".into();
        r.penalty_types = "罚款、责令停产停业".into();
        assert!(validate_power_rows(&[r]).is_ok());
    }

    #[test]
    fn every_problem_is_reported_with_its_column() {
        let mut r = row("Bad Code");
        r.kind = "punish".into();
        r.penalty_types = "fine;order_closure;flogging".into();
        r.fine_min = "60000".into();
        r.hearing = "false".into();
        r.default_level = "community".into();
        r.valid_from = "".into();
        r.penalty_basis = "第一百一十八条".into();
        r.fine_multiple_of = "illegal_gains".into();
        r.fine_multiple_max = "x".into();
        let problems = validate_power_rows(&[r]).unwrap_err();
        let found: Vec<(&str, &str)> = problems.0.iter().map(|p| (p.column.as_deref().unwrap(), p.code)).collect();
        for expected in [
            ("code", "bad_code"),
            ("kind", "bad_kind"),
            ("penalty_basis", "bad_citation"),
            ("penalty_types", "bad_penalty_type"),
            ("fine_max", "bad_range"),
            ("fine_multiple_max", "bad_multiple"),
            ("hearing", "hearing_required"),
            ("default_level", "bad_level"),
            ("valid_from", "bad_date"),
        ] {
            assert!(found.contains(&expected), "{expected:?} missing from {found:?}");
        }
    }

    #[test]
    fn duplicates_and_kind_rules_are_caught() {
        let mut inspection = row("dqwr.29");
        inspection.kind = "inspection".into();
        let problems = validate_power_rows(&[row("dqwr.118.1"), row("dqwr.118.1"), inspection]).unwrap_err();
        let codes: Vec<&str> = problems.0.iter().map(|p| p.code).collect();
        assert!(codes.contains(&"duplicate_code"));
        assert!(codes.contains(&"duplicate_name"));
        assert!(codes.contains(&"not_a_penalty"));
        let mut fine_unlisted = row("dqwr.118.2");
        fine_unlisted.penalty_types = "warning".into();
        let problems = validate_power_rows(&[fine_unlisted]).unwrap_err();
        assert_eq!(problems.0[0].code, "fine_not_listed");
    }
}
