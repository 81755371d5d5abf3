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
