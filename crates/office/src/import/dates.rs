//! 完成时限 as offices write it: real date cells, Excel serials, `2026年3月20日`, `2026.3.20`,
//! `3月底`, `6月底前`, `年底前`, `2026年第二季度`, `长期坚持`; and 反馈周期 such as `每月5日前`,
//! which is a cadence, not a deadline. Periods resolve to their last day.

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::feedback::FeedbackCycle;

use super::grid::CellValue;

/// 完成时限 of an imported row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParsedDeadline {
    /// The cell is empty (or held only a 反馈周期).
    Missing,
    /// A date; `end_of_period` when written as a period (`3月底`, `年底前`, `第二季度`).
    Date { date: Date, end_of_period: bool },
    /// 长期坚持 / 持续推进 / 常态化: no fixed deadline (flagged for the user).
    NoFixed { text: String },
}

impl ParsedDeadline {
    /// The date, if there is one.
    pub fn date(&self) -> Option<Date> {
        match self {
            Self::Date { date, .. } => Some(*date),
            _ => None,
        }
    }
}

/// Words meaning "no fixed deadline".
const NO_FIXED: [&str; 8] = [
    "长期",
    "持续",
    "常态",
    "长效",
    "经常性",
    "动态",
    "常年",
    "久久为功",
];

/// Parses a deadline cell. `year` is used when the text has none (from `--year`, the sheet name
/// or the title). Errors are Chinese reasons without the row number.
pub(crate) fn parse_deadline(
    cell: &CellValue,
    year: Option<i16>,
) -> Result<(ParsedDeadline, Option<FeedbackCycle>), String> {
    match cell {
        CellValue::Empty => Ok((ParsedDeadline::Missing, None)),
        CellValue::Date(d) => Ok((date(*d), None)),
        CellValue::Number(n) => from_serial(*n)
            .map(|d| (date(d), None))
            .ok_or_else(|| format!("完成时限「{n}」不是有效的日期")),
        CellValue::Text(t) => parse_text(t, year),
    }
}

fn date(d: Date) -> ParsedDeadline {
    ParsedDeadline::Date {
        date: d,
        end_of_period: false,
    }
}

/// Excel serial day (1900 date system) to a date; `None` outside 1900..=9999.
pub(crate) fn from_serial(serial: f64) -> Option<Date> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    // Serial 60 is Excel's fictitious 1900-02-29; serials before it are one day off.
    let days = if days < 60 { days + 1 } else { days };
    Date::new(1899, 12, 30)
        .ok()?
        .checked_add(jiff::Span::new().days(days))
        .ok()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Num(u32, usize),
    Ch(char),
}

/// Full-width digits to ASCII; Chinese numerals before 月/季/日/号/个 to digits; no spaces.
fn tokenize(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '．' | '。' => '.',
            '／' => '/',
            '－' | '—' | '–' | '~' | '～' | '至' => '-',
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            out.push(Tok::Num(s.parse().unwrap_or(u32::MAX), i - start));
            continue;
        }
        if let Some((n, len)) = chinese_number(&chars[i..]) {
            out.push(Tok::Num(n, 0));
            i += len;
            continue;
        }
        out.push(Tok::Ch(c));
        i += 1;
    }
    out
}

/// `十二月` → 12, `二季度` → 2, `五日` → 5: a run of Chinese numerals followed by a unit.
fn chinese_number(chars: &[char]) -> Option<(u32, usize)> {
    let digit = |c: char| "〇一二三四五六七八九".find(c).map(|b| (b / 3) as u32);
    let mut len = 0;
    while len < chars.len() && (digit(chars[len]).is_some() || chars[len] == '十') {
        len += 1;
    }
    if len == 0 || !matches!(chars.get(len), Some('月' | '季' | '日' | '号' | '个')) {
        return None;
    }
    let run = &chars[..len];
    let value = match run {
        ['十'] => 10,
        ['十', d] => 10 + digit(*d)?,
        [d, '十'] => digit(*d)? * 10,
        [a, '十', b] => digit(*a)? * 10 + digit(*b)?,
        [d] => digit(*d)?,
        _ => return None,
    };
    Some((value, len))
}

fn parse_text(
    raw: &str,
    year: Option<i16>,
) -> Result<(ParsedDeadline, Option<FeedbackCycle>), String> {
    let text = raw.trim();
    let toks = tokenize(text);
    let (cycle, rest) = take_cycle(&toks);
    if NO_FIXED.iter().any(|w| text.contains(w)) {
        return Ok((
            ParsedDeadline::NoFixed {
                text: text.to_owned(),
            },
            cycle,
        ));
    }
    let rest_text: String = rest
        .iter()
        .map(|t| match t {
            Tok::Num(n, _) => n.to_string(),
            Tok::Ch(c) => c.to_string(),
        })
        .collect();
    let only_filler = rest_text
        .chars()
        .all(|c| "前报送反馈进展情况，,。.;；、".contains(c));
    if only_filler && cycle.is_some() {
        return Ok((ParsedDeadline::Missing, cycle));
    }
    let need_year = || {
        year.ok_or_else(|| {
            format!(
                "完成时限「{text}」没有年份，且无法从工作表名或标题确定年度（可用 --year 指定）"
            )
        })
    };
    let mut found: Option<ParsedDeadline> = None;
    let mut i = 0;
    while i < rest.len() {
        let (hit, next) = match_at(&rest, i, text, &need_year)?;
        if let Some(d) = hit {
            found = Some(d);
        }
        i = next.max(i + 1);
    }
    if found.is_none() {
        let whole_year = ["年底", "年末", "年内", "全年", "下半年"];
        if whole_year.iter().any(|w| text.contains(w)) {
            found = Some(end_of(need_year()?, 12, text)?);
        } else if text.contains("上半年") {
            found = Some(end_of(need_year()?, 6, text)?);
        }
    }
    match found {
        Some(d) => Ok((d, cycle)),
        None => Err(format!(
            "无法识别完成时限「{text}」（示例：2026年3月20日、6月底前、长期坚持）"
        )),
    }
}

/// Finds and removes a 反馈周期 (`每月5日前`, `每月第3个工作日`, `每周五`).
fn take_cycle(toks: &[Tok]) -> (Option<FeedbackCycle>, Vec<Tok>) {
    use Tok::{Ch, Num};
    for i in 0..toks.len() {
        let window = &toks[i..];
        let (cycle, len) = match window {
            [
                Ch('每'),
                Ch('月'),
                Ch('第'),
                Num(n, _),
                Ch('个'),
                Ch('工'),
                Ch('作'),
                Ch('日'),
                ..,
            ] if (1..=23).contains(n) => (FeedbackCycle::MonthlyWorkday { n: *n as u8 }, 8),
            [Ch('每'), Ch('月'), Num(d, _), Ch('日' | '号'), ..] if (1..=28).contains(d) => {
                (FeedbackCycle::MonthlyDay { day: *d as u8 }, 4)
            }
            [Ch('每'), Ch('周' | '星'), rest @ ..] => {
                let rest = if let [Ch('期'), r @ ..] = rest {
                    r
                } else {
                    rest
                };
                let day = match rest.first() {
                    Some(Ch(c)) => "一二三四五六日".find(*c).map(|b| b / 3 + 1),
                    Some(Num(n, _)) if (1..=7).contains(n) => Some(*n as usize),
                    _ => None,
                };
                let Some(day) = day else { continue };
                let skip = toks.len() - rest.len() - i + 1;
                (FeedbackCycle::Weekly { weekday: day as u8 }, skip)
            }
            _ => continue,
        };
        let mut rest: Vec<Tok> = toks[..i].to_vec();
        rest.extend_from_slice(&toks[(i + len).min(toks.len())..]);
        return (Some(cycle), rest);
    }
    (None, toks.to_vec())
}

type Hit = (Option<ParsedDeadline>, usize);

/// Tries the date shapes at token `i`; returns the match and the next index.
fn match_at(
    t: &[Tok],
    i: usize,
    text: &str,
    need_year: &dyn Fn() -> Result<i16, String>,
) -> Result<Hit, String> {
    use Tok::{Ch, Num};
    let w = &t[i..];
    let y16 = |y: u32| i16::try_from(y).unwrap_or(0);
    let sep = |c: char| matches!(c, '年' | '.' | '-' | '/');
    match w {
        // 2026年3月20日, 2026.3.20, 2026/3/20, 2026-03-20
        [Num(y, 4), Ch(a), Num(m, _), Ch(b), Num(d, _), ..]
            if sep(*a) && (sep(*b) || *b == '月') && *b != '年' =>
        {
            Ok((Some(exact(y16(*y), *m, *d, text)?), i + 5))
        }
        // 20260320
        [Num(n, 8), ..] => {
            let (y, m, d) = (n / 10000, n / 100 % 100, n % 100);
            Ok((Some(exact(y16(y), m, d, text)?), i + 1))
        }
        // 2026年第二季度 / 2026年二季度
        [Num(y, 4), Ch('年'), Ch('第'), Num(q, _), Ch('季'), ..]
        | [Num(y, 4), Ch('年'), Num(q, _), Ch('季'), ..] => Ok((
            Some(end_of(y16(*y), quarter_month(*q, text)?, text)?),
            i + 4,
        )),
        // 2026年6月(底|末|前)
        [Num(y, 4), Ch('年' | '.' | '-' | '/'), Num(m, _), rest @ ..] => {
            Ok((Some(month_end(y16(*y), *m, rest, text)?), i + 3))
        }
        // 2026年底 / 2026年年底
        [Num(y, 4), Ch('年'), Ch('底' | '末' | '内'), ..]
        | [Num(y, 4), Ch('年'), Ch('年'), Ch('底' | '末'), ..] => {
            Ok((Some(end_of(y16(*y), 12, text)?), i + 3))
        }
        // 第二季度 / 二季度
        [Ch('第'), Num(q, _), Ch('季'), ..] => Ok((
            Some(end_of(need_year()?, quarter_month(*q, text)?, text)?),
            i + 3,
        )),
        [Num(q, _), Ch('季'), ..] => Ok((
            Some(end_of(need_year()?, quarter_month(*q, text)?, text)?),
            i + 2,
        )),
        // 3月20日
        [Num(m, _), Ch('月'), Num(d, _), Ch('日' | '号'), ..] => {
            Ok((Some(exact(need_year()?, *m, *d, text)?), i + 4))
        }
        // 3月底 / 6月底前 / 6月
        [Num(m, _), Ch('月'), rest @ ..] => {
            let rest = std::iter::once(Ch('月'))
                .chain(rest.iter().copied())
                .collect::<Vec<_>>();
            Ok((Some(month_end(need_year()?, *m, &rest, text)?), i + 2))
        }
        // A serial number written as text.
        [Num(n, len)] if i == 0 && (3..=7).contains(len) => match from_serial(f64::from(*n)) {
            Some(d) => Ok((Some(date(d)), i + 1)),
            None => Err(format!("完成时限「{text}」不是有效的日期")),
        },
        _ => Ok((None, i + 1)),
    }
}

fn quarter_month(q: u32, text: &str) -> Result<u32, String> {
    match q {
        1..=4 => Ok(q * 3),
        _ => Err(format!("完成时限「{text}」中的季度 {q} 不存在")),
    }
}

/// Month `m` of `year`, then 上旬 / 中旬 / 下旬 / 底 (default: the last day).
fn month_end(year: i16, m: u32, rest: &[Tok], text: &str) -> Result<ParsedDeadline, String> {
    let mut parsed = end_of(year, m, text)?;
    let has = |a: char, b: char| rest.windows(2).any(|w| w == [Tok::Ch(a), Tok::Ch(b)]);
    let day = if has('上', '旬') {
        Some(10)
    } else if has('中', '旬') {
        Some(20)
    } else {
        None
    };
    if let (Some(d), ParsedDeadline::Date { date, .. }) = (day, &mut parsed) {
        *date = date.with().day(d).build().map_err(|e| e.to_string())?;
    }
    Ok(parsed)
}

/// The last day of month `m` of `year`.
fn end_of(year: i16, m: u32, text: &str) -> Result<ParsedDeadline, String> {
    let month = i8::try_from(m)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| format!("完成时限「{text}」中的月份 {m} 不存在"))?;
    let first = Date::new(year, month, 1)
        .map_err(|_| format!("完成时限「{text}」中的年份 {year} 不是有效年份"))?;
    Ok(ParsedDeadline::Date {
        date: first.last_of_month(),
        end_of_period: true,
    })
}

fn exact(year: i16, m: u32, d: u32, text: &str) -> Result<ParsedDeadline, String> {
    let bad = || format!("完成时限「{text}」不是有效日期");
    let month = i8::try_from(m).ok().filter(|m| (1..=12).contains(m));
    let Some(month) = month else {
        return Err(format!("{}：没有 {m} 月", bad()));
    };
    let first = Date::new(year, month, 1).map_err(|_| bad())?;
    let day = i8::try_from(d).map_err(|_| bad())?;
    match Date::new(year, month, day) {
        Ok(d) if year >= 1900 => Ok(date(d)),
        _ if year < 1900 => Err(format!("{}：年份 {year} 超出范围", bad())),
        _ => Err(format!(
            "{}：{year}年{m}月只有{}天",
            bad(),
            first.days_in_month()
        )),
    }
}
