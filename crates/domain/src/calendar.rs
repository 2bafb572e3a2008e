//! The official working-day calendar (工作日): weekends, public holidays and make-up working days (调休), and
//! time limits counted in working hours or working days on it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::problem::{Problem, Problems};

/// The State Council's arrangement as shipped with the product (see data/calendar/README.md).
const OFFICIAL_DAYS: &str = include_str!("../../../data/calendar/cn-official-days.csv");

/// Office hours on a working day, Beijing time: the periods a limit in working hours runs through.
pub const OFFICE_HOURS: [(Time, Time); 2] =
    [(Time::constant(8, 30, 0, 0), Time::constant(12, 0, 0, 0)), (Time::constant(13, 30, 0, 0), Time::constant(17, 30, 0, 0))];

/// How a day differs from the plain rule (Monday–Friday work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Holiday,
    MakeupWorkday,
}

/// Working days: weekends and holidays off, make-up days on, for the years the arrangement is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    exceptions: BTreeMap<Date, DayKind>,
    first_year: i16,
    last_year: i16,
}

/// A time limit: so many working hours (office hours on working days) or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "count", rename_all = "snake_case")]
pub enum TimeLimit {
    WorkingHours(u32),
    WorkingDays(u32),
}

impl TimeLimit {
    /// Reads `4h` (working hours) or `2d` (working days).
    pub fn parse(s: &str) -> Option<TimeLimit> {
        let s = s.trim();
        let (count, unit) = s.split_at(s.len().checked_sub(1)?);
        let count: u32 = count.parse().ok().filter(|n| (1..=366).contains(n))?;
        match unit {
            "h" => Some(TimeLimit::WorkingHours(count)),
            "d" => Some(TimeLimit::WorkingDays(count)),
            _ => None,
        }
    }
}

impl std::fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeLimit::WorkingHours(n) => write!(f, "{n}h"),
            TimeLimit::WorkingDays(n) => write!(f, "{n}d"),
        }
    }
}

/// How a legal period is counted: 行政处罚法 Art. 85 makes its 2-, 3-, 5- and 7-day periods working days,
/// and 行政强制法 Art. 69 every period of ten days or less; the others are calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    WorkingDays,
    CalendarDays,
}

impl PeriodUnit {
    pub fn parse(s: &str) -> Option<PeriodUnit> {
        match s {
            "working_days" => Some(PeriodUnit::WorkingDays),
            "calendar_days" => Some(PeriodUnit::CalendarDays),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodUnit::WorkingDays => "working_days",
            PeriodUnit::CalendarDays => "calendar_days",
        }
    }
}

/// A legal period: so many working or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub days: u32,
    pub unit: PeriodUnit,
}

impl Period {
    pub const fn working(days: u32) -> Period {
        Period { days, unit: PeriodUnit::WorkingDays }
    }

    pub const fn calendar(days: u32) -> Period {
        Period { days, unit: PeriodUnit::CalendarDays }
    }
}

/// The last day of a period, and whether it is provisional: counting ran past the last year whose holiday
/// arrangement is known, so a later arrangement may move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeriodEnd {
    pub last_day: Date,
    pub provisional: bool,
}

/// When a limit ends, and whether counting it ran past the last year the calendar knows (weekdays were
/// then taken as working days, which a later holiday arrangement may contradict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// Unix seconds.
    pub due: i64,
    pub beyond_calendar: bool,
}

fn beijing() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(8)))
}

impl WorkCalendar {
    /// The arrangement shipped with the product.
    pub fn official() -> &'static WorkCalendar {
        static CALENDAR: OnceLock<WorkCalendar> = OnceLock::new();
        CALENDAR.get_or_init(|| WorkCalendar::parse(OFFICIAL_DAYS).expect("the shipped calendar is well formed"))
    }

    /// Reads `date,kind,festival` rows; every bad row is reported.
    pub fn parse(csv_text: &str) -> Result<WorkCalendar, Problems> {
        let mut problems = Problems::default();
        let mut exceptions = BTreeMap::new();
        for (i, line) in csv_text.lines().enumerate().skip(1) {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut fields = line.split(',');
            let (date, kind) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
            let Ok(date) = date.trim().parse::<Date>() else {
                problems.push(Problem::at(line_no, "date", "bad_date", format!("{date:?} is not a YYYY-MM-DD date")));
                continue;
            };
            let kind = match kind.trim() {
                "holiday" => DayKind::Holiday,
                "makeup_workday" => DayKind::MakeupWorkday,
                other => {
                    problems.push(Problem::at(
                        line_no,
                        "kind",
                        "bad_day_kind",
                        format!("{other:?} is neither holiday nor makeup_workday"),
                    ));
                    continue;
                }
            };
            if exceptions.insert(date, kind).is_some() {
                problems.push(Problem::at(line_no, "date", "duplicate_date", format!("{date} is listed twice")));
            }
        }
        let (Some(first), Some(last)) = (exceptions.keys().next(), exceptions.keys().next_back()) else {
            problems.push(Problem::file("empty_calendar", "the calendar lists no day"));
            return Err(problems);
        };
        let (first_year, last_year) = (first.year(), last.year());
        problems.into_result(WorkCalendar { exceptions, first_year, last_year })
    }

    /// This calendar with the arrangement of later years added, read from `date,kind,festival` rows. Only
    /// years after the last known one are taken, so days already counted on are never moved.
    pub fn extended(&self, csv_text: &str) -> Result<WorkCalendar, Problems> {
        let added = WorkCalendar::parse(csv_text)?;
        let refusal = if added.first_year <= self.last_year {
            Some((
                "year_already_known",
                format!("{} is already known; only years after {} are added", added.first_year, self.last_year),
            ))
        } else if added.first_year > self.last_year + 1 {
            Some(("year_gap", format!("the arrangement of {} comes first", self.last_year + 1)))
        } else {
            None
        };
        if let Some((code, message)) = refusal {
            let mut problems = Problems::default();
            problems.push(Problem::file(code, message));
            return Err(problems);
        }
        let mut exceptions = self.exceptions.clone();
        exceptions.extend(added.exceptions);
        Ok(WorkCalendar { exceptions, first_year: self.first_year, last_year: added.last_year })
    }

    /// The days that differ from the weekday rule, as `(date, kind)`.
    pub fn exceptions(&self) -> impl Iterator<Item = (Date, DayKind)> + '_ {
        self.exceptions.iter().map(|(d, k)| (*d, *k))
    }

    /// The last date whose status is known from the arrangement.
    pub fn known_through(&self) -> Date {
        Date::constant(self.last_year, 12, 31)
    }

    /// Whether `day` is a working day; days outside the known years follow the plain weekday rule.
    pub fn is_working_day(&self, day: Date) -> bool {
        match self.exceptions.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::MakeupWorkday) => true,
            None => !matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday),
        }
    }

    fn known(&self, day: Date) -> bool {
        (self.first_year..=self.last_year).contains(&day.year())
    }

    /// The `n`th working day after `day` (the day itself does not count, as periods run from the next day).
    pub fn add_working_days(&self, day: Date, n: u32) -> Date {
        let mut at = day;
        let mut left = n;
        while left > 0 {
            at = at.tomorrow().expect("dates stay far from the end of time");
            if self.is_working_day(at) {
                left -= 1;
            }
        }
        at
    }

    /// The last day of `period` started on `start`. The start day is not counted (民法典 Art. 201); a
    /// calendar-day period whose last day is a rest day ends on the next working day (民法典 Art. 203).
    pub fn period_end(&self, start: Date, period: Period) -> PeriodEnd {
        let last_day = match period.unit {
            PeriodUnit::WorkingDays => self.add_working_days(start, period.days),
            PeriodUnit::CalendarDays => {
                let mut day = start.checked_add(jiff::Span::new().days(i64::from(period.days))).unwrap_or(start);
                while !self.is_working_day(day) {
                    day = day.tomorrow().expect("dates stay far from the end of time");
                }
                day
            }
        };
        PeriodEnd { last_day, provisional: !self.known(last_day) || !self.known(start) }
    }

    /// When `limit`, started at `start` (Unix seconds), runs out. Working days end at the close of office
    /// hours on the last day; working hours run only through office hours on working days.
    pub fn deadline(&self, start: i64, limit: TimeLimit) -> Deadline {
        let tz = beijing();
        let start_zoned = Timestamp::from_second(start).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone());
        let close = OFFICE_HOURS[1].1;
        let (due, last_day) = match limit {
            TimeLimit::WorkingDays(n) => {
                let day = self.add_working_days(start_zoned.date(), n);
                (day.to_datetime(close), day)
            }
            TimeLimit::WorkingHours(n) => {
                let (day, time) = self.add_working_hours(start_zoned.date(), start_zoned.time(), n);
                (day.to_datetime(time), day)
            }
        };
        let due = due.to_zoned(tz).map(|z| z.timestamp().as_second()).unwrap_or(start);
        Deadline { due, beyond_calendar: !self.known(last_day) }
    }

    /// The moment `hours` of office time after (`day`, `time`) have passed.
    fn add_working_hours(&self, mut day: Date, time: Time, hours: u32) -> (Date, Time) {
        let mut left = i64::from(hours) * 3600;
        let mut from_second = second_of_day(time);
        loop {
            if self.is_working_day(day) {
                for (open, shut) in OFFICE_HOURS.map(|(o, s)| (second_of_day(o), second_of_day(s))) {
                    let from = from_second.max(open);
                    if from >= shut {
                        continue;
                    }
                    if shut - from >= left {
                        let end = from + left;
                        let at = Time::new((end / 3600) as i8, (end % 3600 / 60) as i8, (end % 60) as i8, 0)
                            .expect("inside office hours");
                        return (day, at);
                    }
                    left -= shut - from;
                }
            }
            day = day.tomorrow().expect("dates stay far from the end of time");
            from_second = 0;
        }
    }
}

fn second_of_day(t: Time) -> i64 {
    i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<jiff::civil::DateTime>().unwrap().to_zoned(beijing()).unwrap().timestamp().as_second()
    }

    #[test]
    fn holidays_and_makeup_days() {
        let c = WorkCalendar::official();
        assert!(!c.is_working_day(Date::constant(2026, 10, 1)), "National Day");
        assert!(c.is_working_day(Date::constant(2026, 10, 10)), "a Saturday made a working day");
        assert!(!c.is_working_day(Date::constant(2026, 11, 28)), "a plain Saturday");
        assert!(c.is_working_day(Date::constant(2026, 11, 27)));
        assert_eq!(c.known_through(), Date::constant(2026, 12, 31));
    }

    #[test]
    fn working_days_skip_the_golden_week() {
        let c = WorkCalendar::official();
        // From Wednesday 30 September 2026: 1–7 October are off, 10 October (Saturday) is worked.
        assert_eq!(c.add_working_days(Date::constant(2026, 9, 30), 1), Date::constant(2026, 10, 8));
        assert_eq!(c.add_working_days(Date::constant(2026, 9, 30), 3), Date::constant(2026, 10, 10));
        let d = c.deadline(at("2026-09-30T16:00"), TimeLimit::WorkingDays(1));
        assert_eq!(d.due, at("2026-10-08T17:30"));
        assert!(!d.beyond_calendar);
    }

    #[test]
    fn working_hours_run_through_office_hours_only() {
        let c = WorkCalendar::official();
        // Friday 11:00 + 2h: one hour before lunch, one after.
        assert_eq!(c.deadline(at("2026-11-27T11:00"), TimeLimit::WorkingHours(2)).due, at("2026-11-27T14:30"));
        // Friday 17:00 + 1h: half an hour on Friday, the rest on Monday morning.
        assert_eq!(c.deadline(at("2026-11-27T17:00"), TimeLimit::WorkingHours(1)).due, at("2026-11-30T09:00"));
        // Saturday night + 4h: Monday 08:30 + 3.5h + lunch.
        assert_eq!(c.deadline(at("2026-11-28T22:00"), TimeLimit::WorkingHours(4)).due, at("2026-11-30T14:00"));
        // Exactly to the close of the morning.
        assert_eq!(c.deadline(at("2026-11-27T08:00"), TimeLimit::WorkingHours(3)).due, at("2026-11-27T11:30"));
    }

    #[test]
    fn past_the_known_years_is_flagged() {
        let c = WorkCalendar::official();
        let d = c.deadline(at("2026-12-30T10:00"), TimeLimit::WorkingDays(5));
        assert!(d.beyond_calendar);
        assert!(!c.deadline(at("2026-12-01T10:00"), TimeLimit::WorkingDays(5)).beyond_calendar);
    }

    #[test]
    fn legal_periods_across_the_2025_and_2026_holidays() {
        let c = WorkCalendar::official();
        let end = |y, m, d, p| c.period_end(Date::constant(y, m, d), p).last_day;
        // 7 working days from a make-up working day before National Day 2025 skip 1–8 October and count
        // the make-up Saturday 11 October.
        assert_eq!(end(2025, 9, 28, Period::working(7)), Date::constant(2025, 10, 14));
        // 5 working days over the 2026 Spring Festival (15–23 February off, 14 and 28 February worked).
        assert_eq!(end(2026, 2, 13, Period::working(5)), Date::constant(2026, 2, 27));
        assert_eq!(end(2026, 2, 13, Period::working(6)), Date::constant(2026, 2, 28));
        // 15 calendar days ending on National Day 2026 run on to the first working day after it.
        assert_eq!(end(2026, 9, 16, Period::calendar(15)), Date::constant(2026, 10, 8));
        // Ending on a make-up Saturday: that day is a working day, so the period ends there.
        assert_eq!(end(2026, 9, 25, Period::calendar(15)), Date::constant(2026, 10, 10));
        // Ending on a plain Sunday runs on to Monday.
        assert_eq!(end(2026, 11, 14, Period::calendar(15)), Date::constant(2026, 11, 30));
        // 90 calendar days from 1 January 2026 end on 1 April 2026, a Wednesday.
        assert_eq!(end(2026, 1, 1, Period::calendar(90)), Date::constant(2026, 4, 1));
        let late = c.period_end(Date::constant(2026, 12, 1), Period::calendar(90));
        assert!(late.provisional, "2027 is not in the shipped arrangement");
        assert!(!c.period_end(Date::constant(2026, 3, 1), Period::calendar(90)).provisional);
    }

    #[test]
    fn later_years_are_added_and_known_years_kept() {
        let c = WorkCalendar::official();
        let next = c
            .extended("date,kind,festival\n2027-01-01,holiday,New Year's Day\n2027-02-20,makeup_workday,Spring Festival\n")
            .unwrap();
        assert_eq!(next.known_through(), Date::constant(2027, 12, 31));
        assert!(!next.is_working_day(Date::constant(2027, 1, 1)));
        assert!(next.is_working_day(Date::constant(2027, 2, 20)), "a Saturday made a working day");
        assert!(!next.period_end(Date::constant(2027, 3, 1), Period::calendar(30)).provisional);
        assert!(!next.is_working_day(Date::constant(2026, 10, 1)), "the shipped years stay");
        let err = c.extended("date,kind,festival\n2026-12-31,holiday,x\n").unwrap_err();
        assert_eq!(err.0[0].code, "year_already_known");
        assert!(c.extended("date,kind,festival\n2027-13-01,holiday,x\n").is_err());
        assert_eq!(c.extended("date,kind,festival\n2028-01-01,holiday,x\n").unwrap_err().0[0].code, "year_gap");
    }

    #[test]
    fn limits_and_bad_rows() {
        assert_eq!(TimeLimit::parse("4h"), Some(TimeLimit::WorkingHours(4)));
        assert_eq!(TimeLimit::parse("2d"), Some(TimeLimit::WorkingDays(2)));
        assert_eq!(TimeLimit::parse("0d"), None);
        assert_eq!(TimeLimit::parse("x"), None);
        assert_eq!(TimeLimit::parse(""), None);
        let err = WorkCalendar::parse("date,kind,festival\n2026-13-01,holiday,x\n2026-01-01,day,x\n").unwrap_err();
        let codes: Vec<_> = err.0.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["bad_date", "bad_day_kind", "empty_calendar"]);
    }
}
