//! The longest value each kind of field may hold, in characters (README "Field length limits").
//! Longer values are refused with the line (files) or the field (forms, API) named: nothing
//! longer reaches the database, pages, exports or letters.

/// 事業所記号, 被保険者記号・番号, 枝番, エラーコード: codes systems issue are a few characters.
pub const CODE: usize = 32;
/// 氏名, 氏名カナ.
pub const NAME: usize = 100;
/// 事業所名称 / 所属所名.
pub const EMPLOYER_NAME: usize = 200;
/// 住所 (members, employers).
pub const ADDRESS: usize = 200;
/// 遅延理由 (free text on a notice).
pub const DELAY_CAUSE: usize = 500;
/// エラー内容 of an intermediate-server result.
pub const ERROR_MESSAGE: usize = 1000;
/// E-mail addresses (RFC 5321's path limit).
pub const EMAIL: usize = 254;
/// Short free text entered on pages: a contact person, a plan action's title, a sender line.
pub const SHORT_TEXT: usize = 200;
/// Longer free text entered on pages: notes, a plan action's description.
pub const LONG_TEXT: usize = 2000;

/// `Err` with a Japanese message naming `field` when `value` is longer than `max` characters.
pub fn check(field: &str, value: &str, max: usize) -> Result<(), String> {
    // Bytes bound characters from above: most values need no count.
    if value.len() <= max {
        return Ok(());
    }
    let n = value.chars().count();
    if n > max {
        return Err(format!("{field} が長すぎます（{max}文字まで、{n}文字）"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert!(check("氏名", &"山".repeat(100), NAME).is_ok());
        assert_eq!(
            check("氏名", &"山".repeat(101), NAME).unwrap_err(),
            "氏名 が長すぎます（100文字まで、101文字）"
        );
    }
}
