//! 個人番号 (My Number) status: validated, then only the status is kept (SPEC §2.3, §6).
use serde::{Deserialize, Serialize};

/// What we keep of a My Number. The number itself is never stored or printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MyNumberStatus {
    Valid,
    Invalid,
    Missing,
}

impl MyNumberStatus {
    pub fn code(self) -> &'static str {
        match self {
            MyNumberStatus::Valid => "valid",
            MyNumberStatus::Invalid => "invalid",
            MyNumberStatus::Missing => "missing",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            MyNumberStatus::Valid => "正しい記載",
            MyNumberStatus::Invalid => "誤り",
            MyNumberStatus::Missing => "未記載",
        }
    }

    pub fn parse_code(s: &str) -> Option<MyNumberStatus> {
        match s {
            "valid" => Some(MyNumberStatus::Valid),
            "invalid" => Some(MyNumberStatus::Invalid),
            "missing" => Some(MyNumberStatus::Missing),
            _ => None,
        }
    }

    /// Classifies a raw field: full-width digits, spaces (half and full width) and hyphens
    /// (ASCII and the Japanese dash forms) are normalised away first. The input is not kept.
    pub fn classify(raw: &str) -> MyNumberStatus {
        let mut digits = [0u8; 12];
        let mut n = 0usize;
        let mut seen_any = false;
        for c in raw.chars() {
            let d = match c {
                '0'..='9' => c as u32 - '0' as u32,
                '０'..='９' => c as u32 - '０' as u32,
                ' ' | '\u{3000}' | '\t' | '-' | '‐' | '－' | '—' | '―' | 'ー' | '−' => {
                    continue
                }
                _ => return MyNumberStatus::Invalid,
            };
            seen_any = true;
            if n == 12 {
                return MyNumberStatus::Invalid;
            }
            digits[n] = d as u8;
            n += 1;
        }
        if !seen_any {
            return MyNumberStatus::Missing;
        }
        if n != 12 {
            return MyNumberStatus::Invalid;
        }
        if check_digit(&digits[..11]) == digits[11] {
            MyNumberStatus::Valid
        } else {
            MyNumberStatus::Invalid
        }
    }
}

/// Whether `s` holds a valid My Number anywhere: 12 digits (half or full width) with a valid
/// check digit, written alone or among other characters, possibly with the spaces and hyphens
/// people type inside one (`ID-1234 5678 9018`). An id or code with one is refused, never stored
/// (SPEC §6). A longer digit run (a 13-digit serial) is not a My Number; its 12-digit pieces
/// between separators are still checked.
pub fn contains_valid(s: &str) -> bool {
    let b = s.as_bytes();
    // Fast path: fewer than 12 ASCII digits and no byte that can start a full-width digit.
    if b.iter().filter(|c| c.is_ascii_digit()).count() < 12 && !b.contains(&0xEF) {
        return false;
    }
    let mut group = [0u8; 12]; // digits of the current group, separators skipped
    let mut group_len = 0usize; // may exceed 12 (then the group is not one number)
    let mut piece = [0u8; 12]; // digits since the last separator
    let mut piece_len = 0usize;
    let valid = |d: &[u8; 12]| check_digit(&d[..11]) == d[11];
    let mut chars = s.chars().peekable();
    loop {
        let c = chars.next();
        let digit = match c {
            Some(c @ '0'..='9') => Some(c as u32 - '0' as u32),
            Some(c @ '０'..='９') => Some(c as u32 - '０' as u32),
            _ => None,
        };
        if let Some(d) = digit {
            if group_len < 12 {
                group[group_len] = d as u8;
            }
            group_len += 1;
            if piece_len < 12 {
                piece[piece_len] = d as u8;
            }
            piece_len += 1;
            continue;
        }
        let separator = matches!(
            c,
            Some(' ' | '\u{3000}' | '\t' | '-' | '‐' | '－' | '—' | '―' | 'ー' | '−')
        );
        // A piece ends at any non-digit; a group only where a separator is not followed by more
        // digits (a separator between digit runs joins them).
        if piece_len == 12 && valid(&piece) {
            return true;
        }
        piece_len = 0;
        let joins =
            separator && group_len > 0 && matches!(chars.peek(), Some('0'..='9' | '０'..='９'));
        if !joins {
            if group_len == 12 && valid(&group) {
                return true;
            }
            group_len = 0;
        }
        if c.is_none() {
            return false;
        }
    }
}

/// Check digit of 総務省令 (行政手続における特定の個人を識別するための番号の利用等に関する法律施行令 第8条):
/// P(n) is the n-th digit from the right of the 11 leading digits; Q(n) = n+1 for n ≤ 6, n−5 for n ≥ 7.
pub fn check_digit(leading11: &[u8]) -> u8 {
    debug_assert_eq!(leading11.len(), 11);
    let mut sum: u32 = 0;
    for (i, &p) in leading11.iter().rev().enumerate() {
        let n = i as u32 + 1;
        let q = if n <= 6 { n + 1 } else { n - 5 };
        sum += u32::from(p) * q;
    }
    let r = sum % 11;
    if r <= 1 {
        0
    } else {
        (11 - r) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_number_is_found_anywhere_in_a_value() {
        for s in [
            "123456789018",
            "ID123456789018",
            "N-1234-5678-9018",
            "受付１２３４５６７８９０１８号",
            "1234 5678 9018",
            "A123456789018B",
        ] {
            assert!(contains_valid(s), "{s}");
        }
        for s in [
            "",
            "123456789010",     // wrong check digit
            "1234567890180",    // 13 digits
            "2026-0001-000123", // 14 digits joined by separators
            "EG20261202-E12345-S001-L12",
            "12345678901",
        ] {
            assert!(!contains_valid(s), "{s}");
        }
        // A 12-digit piece of a longer hyphenated id is still a number someone typed in.
        assert!(contains_valid("2026-123456789018"));
    }

    #[test]
    fn spec_test_vector_is_valid() {
        assert_eq!(
            MyNumberStatus::classify("123456789018"),
            MyNumberStatus::Valid
        );
    }

    #[test]
    fn wrong_check_digit_is_invalid() {
        for last in 0..=9 {
            let s = format!("12345678901{last}");
            let want = if last == 8 {
                MyNumberStatus::Valid
            } else {
                MyNumberStatus::Invalid
            };
            assert_eq!(MyNumberStatus::classify(&s), want, "{s}");
        }
    }

    #[test]
    fn blank_is_missing() {
        assert_eq!(MyNumberStatus::classify(""), MyNumberStatus::Missing);
        assert_eq!(MyNumberStatus::classify("  　 "), MyNumberStatus::Missing);
        assert_eq!(MyNumberStatus::classify("-"), MyNumberStatus::Missing);
    }

    #[test]
    fn full_width_and_separators_are_normalised() {
        assert_eq!(
            MyNumberStatus::classify("１２３４５６７８９０１８"),
            MyNumberStatus::Valid
        );
        assert_eq!(
            MyNumberStatus::classify("1234-5678-9018"),
            MyNumberStatus::Valid
        );
        assert_eq!(
            MyNumberStatus::classify("1234 5678 9018"),
            MyNumberStatus::Valid
        );
        assert_eq!(
            MyNumberStatus::classify("１２３４－５６７８－９０１８"),
            MyNumberStatus::Valid
        );
    }

    #[test]
    fn wrong_length_or_letters_are_invalid() {
        assert_eq!(
            MyNumberStatus::classify("12345678901"),
            MyNumberStatus::Invalid
        );
        assert_eq!(
            MyNumberStatus::classify("1234567890180"),
            MyNumberStatus::Invalid
        );
        assert_eq!(
            MyNumberStatus::classify("12345678901X"),
            MyNumberStatus::Invalid
        );
    }

    #[test]
    fn check_digit_remainder_zero_and_one_give_zero() {
        // Exhaustive over a prefix family: the computed digit always validates.
        for k in 0..2000u64 {
            let base = 10_000_000_000u64 + k * 7919;
            let s = format!("{base:011}");
            let d: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
            let c = check_digit(&d);
            assert!(c <= 9);
            assert_eq!(
                MyNumberStatus::classify(&format!("{s}{c}")),
                MyNumberStatus::Valid
            );
        }
    }
}
