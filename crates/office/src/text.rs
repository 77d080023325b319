//! Text helpers shared by import and export: name normalization, splitting joined unit
//! names, matching names to the unit tree, and formula-injection neutralization (CWE-1236).

use serde::Serialize;

/// Normalizes a unit or leader name as written by hand: trims, maps full-width brackets,
/// letters, digits and spaces to half-width, and collapses runs of whitespace to one space.
/// Spaces between two CJK characters are dropped (`组 织 科` → `组织科`).
pub fn normalize_name(raw: &str) -> String {
    let mapped: String = raw.chars().map(to_half_width).collect();
    let mut out = String::with_capacity(mapped.len());
    let mut pending_space = false;
    for c in mapped.trim().chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space {
            let prev_cjk = out.chars().last().is_some_and(is_cjk);
            if !(prev_cjk || is_cjk(c)) {
                out.push(' ');
            }
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Full-width ASCII variants and the ideographic space to their half-width forms.
fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' | '\u{00a0}' => ' ',
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '【' | '〔' => '[',
        '】' | '〕' => ']',
        _ => c,
    }
}

/// CJK unified ideographs (the common blocks).
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// Splits a cell listing several units or people (`组织科、干部科；人才办`) on 、，, ； ;
/// and line breaks, normalizing each part and dropping empty ones.
pub fn split_names(raw: &str) -> Vec<String> {
    raw.split(['、', '，', ',', '；', ';', '\n', '\r', '/'])
        .map(normalize_name)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Result of matching a name against the unit tree (or the leader list).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum NameMatch {
    /// Exactly one candidate has this name once normalized.
    Exact(i64),
    /// Near misses, best first: `(id, name, score in 0..=1)`.
    Suggestions(Vec<(i64, String, f32)>),
    /// Nothing close enough.
    None,
}

/// Matches `name` to `candidates` (`(id, name)`): exact after normalization, else up to five
/// suggestions scored by edit distance over characters, with a bonus for a shared prefix and
/// for one name containing the other (`组织科` in `市委组织部组织科`).
pub fn match_name(name: &str, candidates: &[(i64, String)]) -> NameMatch {
    let wanted = normalize_name(name);
    if wanted.is_empty() {
        return NameMatch::None;
    }
    let exact: Vec<i64> = candidates
        .iter()
        .filter(|(_, n)| normalize_name(n) == wanted)
        .map(|(id, _)| *id)
        .collect();
    if let [id] = exact.as_slice() {
        return NameMatch::Exact(*id);
    }
    let w: Vec<char> = wanted.chars().collect();
    let mut scored: Vec<(i64, String, f32)> = candidates
        .iter()
        .map(|(id, n)| {
            let c: Vec<char> = normalize_name(n).chars().collect();
            (*id, n.clone(), similarity(&w, &c))
        })
        .filter(|(_, _, s)| *s >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    scored.truncate(5);
    if scored.is_empty() {
        NameMatch::None
    } else {
        NameMatch::Suggestions(scored)
    }
}

/// Similarity in 0..=1 of two names as character sequences.
fn similarity(a: &[char], b: &[char]) -> f32 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let dist = levenshtein(a, b);
    let mut score = 1.0 - dist as f32 / longest as f32;
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    score += 0.1 * prefix.min(4) as f32 / 4.0;
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() >= 2 && long.windows(short.len()).any(|w| w == short) {
        score = score.max(0.75);
    }
    score.clamp(0.0, 0.99)
}

/// Edit distance over characters (insert, delete, substitute all cost 1).
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Characters that make a spreadsheet treat a cell as a formula (or DDE) when they start it.
const FORMULA_STARTERS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// True when `value` would be read as a formula: it starts, possibly after spaces, with
/// `= + - @`, a tab, a carriage return, or their full-width forms.
pub fn is_formula_like(value: &str) -> bool {
    value
        .trim_start_matches([' ', '\u{3000}'])
        .starts_with(FORMULA_STARTERS)
        || value.starts_with(['\t', '\r'])
}

/// Neutralizes a value for CSV: a formula-like value gets a leading apostrophe, which Excel
/// and WPS show as text and never evaluate. Other values are returned unchanged.
pub fn neutralize_formula(value: &str) -> std::borrow::Cow<'_, str> {
    if is_formula_like(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Undoes [`neutralize_formula`] on import, so an exported ledger reads back unchanged.
pub(crate) fn strip_neutralizer(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if is_formula_like(rest) => rest,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_full_width_brackets_and_stray_spaces_are_normalized() {
        assert_eq!(normalize_name("  组织科（人才办） "), "组织科(人才办)");
        assert_eq!(normalize_name("组 织\u{3000}科"), "组织科");
        assert_eq!(normalize_name("Ａ  B"), "A B");
    }

    #[test]
    fn joined_units_are_split_on_chinese_and_ascii_separators() {
        assert_eq!(
            split_names("组织科、干部科，人才办; 办公室；"),
            vec!["组织科", "干部科", "人才办", "办公室"]
        );
    }

    #[test]
    fn an_exact_name_matches_and_a_near_miss_gets_suggestions() {
        let units = vec![
            (1, "组织科".to_owned()),
            (2, "干部一科".to_owned()),
            (3, "干部二科".to_owned()),
            (4, "办公室".to_owned()),
        ];
        assert_eq!(match_name(" 组织科 ", &units), NameMatch::Exact(1));
        match match_name("干部科", &units) {
            NameMatch::Suggestions(s) => {
                let ids: Vec<i64> = s.iter().map(|x| x.0).collect();
                assert!(ids.contains(&2) && ids.contains(&3), "{s:?}");
            }
            other => panic!("expected suggestions, got {other:?}"),
        }
        assert_eq!(match_name("宣传部外宣办", &units), NameMatch::None);
    }

    #[test]
    fn formula_like_values_are_prefixed_and_plain_ones_are_not() {
        for v in [
            "=1+1", "+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "  =1+1", "＝1+1",
        ] {
            assert!(neutralize_formula(v).starts_with('\''), "{v:?}");
            assert_eq!(strip_neutralizer(&neutralize_formula(v)), v);
        }
        assert_eq!(neutralize_formula("组织科"), "组织科");
        assert_eq!(strip_neutralizer("'abc"), "'abc");
    }
}
