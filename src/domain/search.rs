//! The form a member's name and kana are compared in when staff search the case list: what people
//! type differs from what files hold only in width, spacing, hiragana/katakana and small kana, so
//! both sides are folded the same way and compared by prefix (前方一致).
use super::types::halfwidth_ascii;

/// `name` folded for search: full-width ASCII to ASCII and upper case, half-width katakana to
/// full-width (ｶﾞ → ガ), hiragana to katakana, small kana to large (ョ → ヨ: kana fields often
/// have none), spaces and the middle dot (・) dropped. `None` when nothing is left.
pub fn fold(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = halfwidth_ascii(c);
        if c.is_whitespace() || matches!(c, '・' | '･') {
            continue;
        }
        // A voiced or semi-voiced mark joins the kana before it when the pair has one character.
        if let Some(mark @ (Mark::Voiced | Mark::SemiVoiced)) = mark_of(c) {
            if let Some(joined) = out.chars().last().and_then(|prev| join(prev, mark)) {
                out.pop();
                out.push(joined);
                continue;
            }
        }
        out.push(fold_char(c));
    }
    (!out.is_empty()).then_some(out)
}

/// The key just above every string that starts with `prefix`, in code-point order (the order
/// SQLite's BINARY and PostgreSQL's "C" collation compare in): `prefix` with its last character
/// stepped up by one. Searching `prefix <= key < upper(prefix)` finds exactly the keys that
/// start with `prefix`, through an index.
pub fn upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // Skip the surrogate gap; a last character of U+10FFFF carries over to the one before.
        let next = match last as u32 + 1 {
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(n) = next {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Voiced,
    SemiVoiced,
}

fn mark_of(c: char) -> Option<Mark> {
    match c {
        'ﾞ' | '゛' | '\u{3099}' => Some(Mark::Voiced),
        'ﾟ' | '゜' | '\u{309A}' => Some(Mark::SemiVoiced),
        _ => None,
    }
}

/// カ + ゛ → ガ, ハ + ゜ → パ, ウ + ゛ → ヴ (on folded, full-width katakana).
fn join(prev: char, mark: Mark) -> Option<char> {
    let p = prev as u32;
    let voiced_base =
        matches!(p, 0x30AB..=0x30C2 if p % 2 == 1) || matches!(p, 0x30C4 | 0x30C6 | 0x30C8);
    let hv = matches!(p, 0x30CF | 0x30D2 | 0x30D5 | 0x30D8 | 0x30DB);
    match mark {
        Mark::Voiced if voiced_base || hv => char::from_u32(p + 1),
        Mark::Voiced if prev == 'ウ' => Some('ヴ'),
        Mark::SemiVoiced if hv => char::from_u32(p + 2),
        _ => None,
    }
}

/// Half-width katakana U+FF61..U+FF9F in order, as full-width characters.
const HALFWIDTH_KANA: &str = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン゛゜";

fn fold_char(c: char) -> char {
    let c = match c as u32 {
        0xFF61..=0xFF9F => HALFWIDTH_KANA
            .chars()
            .nth((c as u32 - 0xFF61) as usize)
            .unwrap_or(c),
        // Hiragana ぁ..ゖ → katakana ァ..ヶ.
        n @ 0x3041..=0x3096 => char::from_u32(n + 0x60).unwrap_or(c),
        _ => c,
    };
    match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        _ => c.to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_across_width_spacing_and_script() {
        assert_eq!(fold("山田　太郎").as_deref(), Some("山田太郎"));
        assert_eq!(fold(" 山田 太郎 ").as_deref(), Some("山田太郎"));
        assert_eq!(fold("ﾔﾏﾀﾞ ﾀﾛｳ").as_deref(), Some("ヤマダタロウ"));
        assert_eq!(fold("やまだ たろう").as_deref(), Some("ヤマダタロウ"));
        assert_eq!(fold("ヤマダ　タロウ").as_deref(), Some("ヤマダタロウ"));
        assert_eq!(fold("ｷｮｳｺ").as_deref(), Some("キヨウコ"));
        assert_eq!(fold("きょうこ").as_deref(), Some("キヨウコ"));
        assert_eq!(fold("ﾊﾟｳﾞｪﾙ").as_deref(), Some("パヴエル"));
        assert_eq!(fold("ジョン・スミス").as_deref(), Some("ジヨンスミス"));
        assert_eq!(fold("Ｓｍｉｔｈ john").as_deref(), Some("SMITHJOHN"));
        assert_eq!(fold("   "), None);
        // A mark with nothing to join stays as it is.
        assert_eq!(fold("ﾞ").as_deref(), Some("゛"));
    }

    #[test]
    fn the_upper_bound_is_just_above_every_key_with_the_prefix() {
        let hi = upper_bound("ヤマダ").unwrap();
        for key in ["ヤマダ", "ヤマダタロウ", "ヤマダ\u{10FFFF}"] {
            assert!(key >= "ヤマダ" && key < hi.as_str(), "{key}");
        }
        for key in ["ヤマタ", "ヤマチ", "ヤマ"] {
            assert!(!(key >= "ヤマダ" && key < hi.as_str()), "{key}");
        }
        assert_eq!(upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(upper_bound(""), None);
    }
}
