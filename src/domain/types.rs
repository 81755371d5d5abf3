//! Parsed, trusted value types shared by every stage.
use serde::{Deserialize, Serialize};
use std::fmt;

/// 届書種別.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Acquisition,
    Dependent,
    Loss,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 3] = [
        NoticeKind::Acquisition,
        NoticeKind::Dependent,
        NoticeKind::Loss,
    ];

    /// English code used in files, JSON and the database.
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Acquisition => "acquisition",
            NoticeKind::Dependent => "dependent",
            NoticeKind::Loss => "loss",
        }
    }

    /// Japanese label shown to users.
    pub fn label_ja(self) -> &'static str {
        match self {
            NoticeKind::Acquisition => "資格取得届",
            NoticeKind::Dependent => "被扶養者届",
            NoticeKind::Loss => "資格喪失届",
        }
    }

    /// Accepts the English codes and the Japanese names of SPEC §3 (資格取得 / 被扶養者 / 資格喪失,
    /// with or without 届).
    pub fn parse(s: &str) -> Option<NoticeKind> {
        let t = s.trim();
        let t = t.strip_suffix('届').unwrap_or(t);
        match t {
            "acquisition" | "資格取得" => Some(NoticeKind::Acquisition),
            "dependent" | "被扶養者" | "被扶養者異動" => Some(NoticeKind::Dependent),
            "loss" | "資格喪失" => Some(NoticeKind::Loss),
            _ => {
                let lower = t.to_ascii_lowercase();
                match lower.as_str() {
                    "acquisition" => Some(NoticeKind::Acquisition),
                    "dependent" => Some(NoticeKind::Dependent),
                    "loss" => Some(NoticeKind::Loss),
                    _ => None,
                }
            }
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// 保険者の種別: 健保組合 or 共済組合等.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsurerKind {
    Kenpo,
    Kyosai,
}

impl InsurerKind {
    pub fn code(self) -> &'static str {
        match self {
            InsurerKind::Kenpo => "kenpo",
            InsurerKind::Kyosai => "kyosai",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            InsurerKind::Kenpo => "健保組合",
            InsurerKind::Kyosai => "共済組合等",
        }
    }
    pub fn parse(s: &str) -> Result<InsurerKind, String> {
        match s.trim() {
            "kenpo" | "健保組合" => Ok(InsurerKind::Kenpo),
            "kyosai" | "共済組合等" | "共済組合" => Ok(InsurerKind::Kyosai),
            other => Err(format!(
                "保険者種別は kenpo または kyosai です（指定: {other}）"
            )),
        }
    }
}

/// 保険者番号: exactly 8 ASCII digits (full-width digits are normalised first).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct InsurerNumber(String);

impl InsurerNumber {
    pub fn parse(s: &str) -> Result<InsurerNumber, String> {
        let n: String = s
            .trim()
            .chars()
            .map(crate::domain::types::halfwidth_digit)
            .collect();
        if n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()) {
            Ok(InsurerNumber(n))
        } else {
            Err(format!("保険者番号は8桁の数字です（指定: {}）", s.trim()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 受付番号: the insurer's own identifier of a notice; non-empty, at most 64 characters, no
/// controls, and no My Number in it (SPEC §6: an id is stored and shown everywhere, so one that
/// holds a valid 12-digit number is refused, and the message does not repeat it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct NoticeId(String);

/// Why a 受付番号 with a My Number in it is refused (the value is not repeated).
pub const NOTICE_ID_HOLDS_MY_NUMBER: &str =
    "受付番号に個人番号（マイナンバー）と思われる12桁の番号が含まれています。個人番号は保存できないため、この行は取り込みません";

impl NoticeId {
    pub fn parse(s: &str) -> Result<NoticeId, String> {
        let trimmed = s.trim();
        // Fast path for the usual case (a million ids a second go through here): printable ASCII
        // needs no normalisation, only validation.
        if !trimmed.is_empty()
            && trimmed.len() <= 64
            && trimmed.bytes().all(|b| (0x20..0x7f).contains(&b))
        {
            if super::my_number::contains_valid(trimmed) {
                return Err(NOTICE_ID_HOLDS_MY_NUMBER.into());
            }
            return Ok(NoticeId(trimmed.to_owned()));
        }
        let t: String = trimmed.chars().map(halfwidth_ascii).collect();
        if t.is_empty() {
            return Err("受付番号が空です".into());
        }
        if t.chars().count() > 64 {
            return Err("受付番号が長すぎます（64文字まで）".into());
        }
        if t.chars().any(char::is_control) {
            return Err("受付番号に制御文字が含まれています".into());
        }
        if super::my_number::contains_valid(&t) {
            return Err(NOTICE_ID_HOLDS_MY_NUMBER.into());
        }
        Ok(NoticeId(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Full-width digit (０-９) to ASCII; other characters unchanged.
pub fn halfwidth_digit(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        _ => c,
    }
}

/// Full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space to ASCII.
pub fn halfwidth_ascii(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insurer_number_is_eight_digits() {
        assert_eq!(
            InsurerNumber::parse("06123456").unwrap().as_str(),
            "06123456"
        );
        assert_eq!(
            InsurerNumber::parse("０６１２３４５６").unwrap().as_str(),
            "06123456"
        );
        assert!(InsurerNumber::parse("0612345").is_err());
        assert!(InsurerNumber::parse("0612345a").is_err());
    }

    #[test]
    fn notice_kind_accepts_japanese_and_english() {
        assert_eq!(NoticeKind::parse("資格取得"), Some(NoticeKind::Acquisition));
        assert_eq!(
            NoticeKind::parse("資格取得届"),
            Some(NoticeKind::Acquisition)
        );
        assert_eq!(NoticeKind::parse("被扶養者"), Some(NoticeKind::Dependent));
        assert_eq!(NoticeKind::parse("Loss"), Some(NoticeKind::Loss));
        assert_eq!(NoticeKind::parse("転居"), None);
    }
}
