//! File downloads: the `Content-Disposition` of an export (RFC 6266).
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What RFC 5987 lets stand unencoded in `filename*` (its `attr-char`).
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` named `file_name` (UTF-8, in `filename*`), with `ascii` for clients that read
/// only `filename` (RFC 6266 §4.3). Characters a quoted string cannot hold are dropped from it.
pub fn attachment(file_name: &str, ascii: &str) -> String {
    let fallback: String = ascii
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%'))
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(file_name, ATTR_CHAR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_encoded_with_an_ascii_fallback() {
        assert_eq!(
            attachment(
                "案件一覧_06123456_2026-04-30.xlsx",
                "cases_06123456_2026-04-30.xlsx"
            ),
            "attachment; filename=\"cases_06123456_2026-04-30.xlsx\"; \
             filename*=UTF-8''%E6%A1%88%E4%BB%B6%E4%B8%80%E8%A6%A7_06123456_2026-04-30.xlsx"
        );
        assert_eq!(
            attachment("a b\".csv", "a b\".csv"),
            "attachment; filename=\"ab.csv\"; filename*=UTF-8''a%20b%22.csv"
        );
    }
}
