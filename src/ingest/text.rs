//! Small text helpers shared by the readers: width normalisation and My Number masking.
use std::borrow::Cow;

use crate::domain::types::halfwidth_ascii;

/// Full-width ASCII (digits, letters, punctuation) and the ideographic space to ASCII, borrowing
/// when there is nothing to change (the common case for machine-written files).
pub(crate) fn halfwidth(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    match s.char_indices().find(|&(_, c)| halfwidth_ascii(c) != c) {
        None => Cow::Borrowed(s),
        Some((first, _)) => {
            let mut out = String::with_capacity(s.len());
            out.push_str(&s[..first]);
            out.extend(s[first..].chars().map(halfwidth_ascii));
            Cow::Owned(out)
        }
    }
}

/// Free text as kept: blank is absent, width normalised, and a misplaced My Number masked
/// before it can reach the database.
/// `s` is already trimmed.
/// Borrows when nothing changes.
pub(crate) fn free_text(s: &str) -> Option<Cow<'_, str>> {
    if s.is_empty() {
        return None;
    }
    if nothing_to_change(s) {
        return Some(Cow::Borrowed(s));
    }
    Some(Cow::Owned(mask_digits(&halfwidth(s)).into_owned()))
}

/// Decides cheaply that neither `halfwidth` nor `mask_digits` would change `s`: fewer than 12
/// ASCII digits, no full-width form (lead byte EF), no ideographic space (E3 80 80), in one
/// pass over the bytes.
fn nothing_to_change(s: &str) -> bool {
    let b = s.as_bytes();
    let mut digits = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => digits += 1,
            0xEF => return false,
            0xE3 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0x80) => return false,
            _ => {}
        }
    }
    digits < 12
}

/// Replaces every run of 12 or more digits (ASCII or full-width, possibly broken up by the
/// spaces and hyphens people type inside a My Number) with `************`.
///
/// Applied to every value an error message echoes and to free-text fields we keep, because a
/// My Number typed into the wrong column must not reach a message, a log or the database (SPEC §6).
pub fn mask_digits(s: &str) -> Cow<'_, str> {
    const MIN_DIGITS: usize = 12;
    if s.len() < MIN_DIGITS {
        return Cow::Borrowed(s);
    }
    // Shortcut for names and messages: too few ASCII digits, and no byte that could start a
    // full-width digit (U+FF10..U+FF19 are EF BC 90..99 in UTF-8).
    let ascii_digits = s.bytes().filter(u8::is_ascii_digit).count();
    if ascii_digits < MIN_DIGITS && !s.as_bytes().contains(&0xEF) {
        return Cow::Borrowed(s);
    }
    // First pass finds the runs without allocating: almost every echoed value has none.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start: Option<usize> = None; // byte offset of the first digit of the current run
    let mut end = 0; // byte offset just past its last digit
    let mut digits = 0;
    for (i, c) in s.char_indices() {
        if is_digit(c) {
            if start.is_none() {
                start = Some(i);
                digits = 0;
            }
            digits += 1;
            end = i + c.len_utf8();
        } else if start.is_some() && is_separator(c) {
            continue;
        } else if let Some(st) = start.take() {
            if digits >= MIN_DIGITS {
                runs.push((st, end));
            }
        }
    }
    if let Some(st) = start {
        if digits >= MIN_DIGITS {
            runs.push((st, end));
        }
    }
    if runs.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (st, en) in runs {
        out.push_str(&s[last..st]);
        out.push_str("************");
        last = en;
    }
    out.push_str(&s[last..]);
    Cow::Owned(out)
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// The separators MyNumberStatus::classify ignores: a number written with them is still one.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{3000}' | '\t' | '-' | '‐' | '－' | '—' | '―' | 'ー' | '−'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_normalises_and_masks() {
        assert_eq!(free_text(""), None);
        assert_eq!(
            free_text("株式会社みなと商事").as_deref(),
            Some("株式会社みなと商事")
        );
        assert_eq!(free_text("山田　花子").as_deref(), Some("山田 花子"));
        assert_eq!(free_text("ＡＢＣ商事").as_deref(), Some("ABC商事"));
        assert_eq!(
            free_text("番号123456789018").as_deref(),
            Some("番号************")
        );
        assert_eq!(
            free_text("番号１２３４５６７８９０１８").as_deref(),
            Some("番号************")
        );
    }

    #[test]
    fn halfwidth_borrows_unless_something_changes() {
        assert!(matches!(halfwidth("山田 太郎"), Cow::Borrowed(_)));
        assert_eq!(halfwidth("山田　ＡＢ１"), "山田 AB1");
        assert_eq!(halfwidth("ＡＢ"), "AB");
    }

    #[test]
    fn twelve_digit_runs_are_masked() {
        assert_eq!(mask_digits("123456789018"), "************");
        assert_eq!(mask_digits("x 123456789018 y"), "x ************ y");
        assert_eq!(mask_digits("１２３４５６７８９０１８"), "************");
        assert_eq!(mask_digits("1234-5678-9018"), "************");
        assert_eq!(mask_digits("1234 5678 9018 です"), "************ です");
        assert_eq!(mask_digits("1234567890123456"), "************");
        assert_eq!(
            mask_digits("a123456789018b12345678901c"),
            "a************b12345678901c"
        );
    }

    #[test]
    fn shorter_runs_and_dates_are_kept() {
        assert_eq!(mask_digits("2024-13-01"), "2024-13-01");
        assert_eq!(mask_digits("12345678901"), "12345678901");
        assert_eq!(mask_digits("2024-05-01 10:00:00"), "2024-05-01 10:00:00");
        assert_eq!(mask_digits("令和6年13月1日"), "令和6年13月1日");
        assert!(matches!(mask_digits("20240501"), Cow::Borrowed(_)));
    }
}
