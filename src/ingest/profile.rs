//! Import profiles (SPEC §3.1): how an insurer's own file maps onto regwatch's fields — which
//! sheet and header row, which column is which field, and the file's values onto ours.
//!
//! The TOML form is what the CLI reads, what the web page exports and imports, and what the
//! database keeps (so all three always agree):
//!
//! ```toml
//! [notices]
//! sheet = "届書一覧"
//! header_row = 3
//! [notices.columns]
//! notice_id = "受付No"
//! [notices.values.kind]
//! "01" = "acquisition"
//! ```
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::headers::{canonical, ColumnSpec, NOTICE_COLUMNS, REGISTRATION_COLUMNS, REJECT_COLUMN};
use super::notices::parse_status;
use super::registrations::RegResult;
use super::text::halfwidth;
use crate::domain::types::NoticeKind;

/// Which of the two input files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Notices,
    Registrations,
}

impl Part {
    pub fn code(self) -> &'static str {
        match self {
            Part::Notices => "notices",
            Part::Registrations => "registrations",
        }
    }

    pub(crate) fn specs(self) -> &'static [ColumnSpec] {
        match self {
            Part::Notices => &NOTICE_COLUMNS,
            Part::Registrations => &REGISTRATION_COLUMNS,
        }
    }

    /// The fields a profile can map: every column of the file format but the internal one.
    pub fn fields(self) -> impl Iterator<Item = Field> {
        self.specs()
            .iter()
            .filter(|s| s.en != REJECT_COLUMN)
            .map(|s| Field {
                key: s.en,
                label_ja: s.ja,
                required: s.required,
            })
    }

    /// The names regwatch finds `field` by without a mapping (Japanese, English, aliases).
    pub fn specs_names(self, field: &str) -> Vec<&'static str> {
        self.specs()
            .iter()
            .filter(|s| s.en == field)
            .flat_map(|s| [s.ja, s.en].into_iter().chain(s.aliases.iter().copied()))
            .collect()
    }

    /// The fields whose values a profile can map, with regwatch's values for each.
    pub fn value_fields(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Part::Notices => &[
                ("kind", &["acquisition", "dependent", "loss"]),
                ("my_number_status", &["valid", "missing", "invalid"]),
            ],
            Part::Registrations => &[("result", &["ok", "error"])],
        }
    }
}

/// A field of a file format, as the profile editor lists it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Field {
    pub key: &'static str,
    pub label_ja: &'static str,
    pub required: bool,
}

/// A whole profile: a part for either file, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notices: Option<FileProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registrations: Option<FileProfile>,
}

/// How one file is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProfile {
    /// Excel only: the sheet's name; the first sheet when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The 1-based row (line) of the header; rows above it (a title) are skipped.
    #[serde(default = "first_row")]
    pub header_row: u32,
    /// regwatch field → the header text in the file.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// regwatch field → (the file's value → regwatch's value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

fn first_row() -> u32 {
    1
}

impl Default for FileProfile {
    fn default() -> Self {
        FileProfile {
            sheet: None,
            header_row: 1,
            columns: BTreeMap::new(),
            values: BTreeMap::new(),
        }
    }
}

/// A profile that cannot be used; the message names the key or value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("取込プロファイルが正しくありません: {0}")]
pub struct ProfileError(pub String);

impl Profile {
    /// Parses and checks the TOML form. Unknown keys, fields and values are errors naming them.
    pub fn from_toml_str(text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| {
            // toml's message names the key and its line; keep it, minus the source excerpt.
            let msg = e.message().to_string();
            let at = e
                .span()
                .map(|s| format!("（{}行目）", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            ProfileError(format!("{msg}{at}"))
        })?;
        profile.validate()?;
        Ok(profile)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    pub fn part(&self, part: Part) -> Option<&FileProfile> {
        match part {
            Part::Notices => self.notices.as_ref(),
            Part::Registrations => self.registrations.as_ref(),
        }
    }

    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.notices.is_none() && self.registrations.is_none() {
            return Err(ProfileError(
                "[notices] も [registrations] もありません".into(),
            ));
        }
        for part in [Part::Notices, Part::Registrations] {
            if let Some(p) = self.part(part) {
                p.validate(part)?;
            }
        }
        Ok(())
    }
}

impl FileProfile {
    pub fn validate(&self, part: Part) -> Result<(), ProfileError> {
        let at = part.code();
        if self.header_row == 0 {
            return Err(ProfileError(format!(
                "[{at}] header_row は1以上です（見出しの行番号）"
            )));
        }
        let known: Vec<&str> = part.fields().map(|f| f.key).collect();
        let mut headers: BTreeMap<String, &str> = BTreeMap::new();
        for (field, header) in &self.columns {
            if !known.contains(&field.as_str()) {
                return Err(ProfileError(format!(
                    "[{at}.columns] の項目 {field} はありません（使える項目: {}）",
                    known.join(", ")
                )));
            }
            let key = canonical(header);
            if key.is_empty() {
                return Err(ProfileError(format!(
                    "[{at}.columns] {field} の見出しが空です"
                )));
            }
            if let Some(other) = headers.insert(key, field) {
                return Err(ProfileError(format!(
                    "[{at}.columns] 見出し「{header}」が {other} と {field} の両方に指定されています"
                )));
            }
        }
        for (field, map) in &self.values {
            let Some((_, allowed)) = part.value_fields().iter().find(|(f, _)| *f == field) else {
                let names: Vec<&str> = part.value_fields().iter().map(|(f, _)| *f).collect();
                return Err(ProfileError(format!(
                    "[{at}.values] の項目 {field} には値の対応を指定できません（指定できる項目: {}）",
                    names.join(", ")
                )));
            };
            for (from, to) in map {
                if !allowed.contains(&to.as_str()) {
                    return Err(ProfileError(format!(
                        "[{at}.values.{field}] 「{from}」の対応先 {to} は使えません（{}）",
                        allowed.join(" / ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// The regwatch value for a file's value of `field`, when the profile maps it. Values are
    /// compared trimmed and half-width, and a number stored as a number (`1`) matches a code
    /// written with leading zeros (`01`): Excel drops them from numeric cells.
    pub fn map_value(&self, field: &str, raw: &str) -> Option<&str> {
        let i = self.value_map(field)?.position(raw)?;
        self.values.get(field)?.values().nth(i).map(String::as_str)
    }

    /// The map of `field`'s values, with its keys normalised once (a file's every cell is looked
    /// up in it); `None` when the profile maps no value of `field`.
    pub fn value_map(&self, field: &str) -> Option<ValueMap> {
        let map = self.values.get(field).filter(|m| !m.is_empty())?;
        Some(ValueMap(
            map.iter()
                .map(|(k, v)| {
                    let k = normal_value(k);
                    let n = k.parse::<u64>().ok();
                    (k, n, v.clone())
                })
                .collect(),
        ))
    }
}

/// A field's value map ready for lookups: (normalised key, the key as a number, regwatch value),
/// in the profile's order.
pub struct ValueMap(Vec<(String, Option<u64>, String)>);

impl ValueMap {
    /// The regwatch value for `raw` (see [`FileProfile::map_value`]).
    pub fn get(&self, raw: &str) -> Option<&str> {
        self.position(raw).map(|i| self.0[i].2.as_str())
    }

    fn position(&self, raw: &str) -> Option<usize> {
        let want = normal_value(raw);
        let number = want.parse::<u64>().ok();
        self.0
            .iter()
            .position(|(k, n, _)| *k == want || (n.is_some() && *n == number))
    }
}

/// A value as compared: half-width and trimmed.
fn normal_value(s: &str) -> String {
    halfwidth(s).trim().to_string()
}

/// Whether regwatch itself reads `raw` as a value of `field` (a file may mix its codes with
/// regwatch's words).
pub(crate) fn understood(field: &str, raw: &str) -> bool {
    match field {
        "kind" => NoticeKind::parse(raw).is_some() || NoticeKind::parse(&halfwidth(raw)).is_some(),
        "my_number_status" => parse_status(raw).is_some(),
        "result" => RegResult::parse(raw).is_some(),
        _ => true,
    }
}

/// Whether two header texts name the same column (width, case, spaces and marks ignored).
pub fn same_header(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

/// Suggests the field a header names: regwatch's own names and aliases first, then the words
/// insurers' systems use (資格取得日, 記号, 届出区分, …). For the profile editor.
pub fn suggest_field(part: Part, header: &str) -> Option<&'static str> {
    let c = canonical(header);
    if c.is_empty() {
        return None;
    }
    if let Some(s) = part.specs().iter().find(|s| {
        s.en != REJECT_COLUMN
            && std::iter::once(s.ja)
                .chain(std::iter::once(s.en))
                .chain(s.aliases.iter().copied())
                .any(|n| canonical(n) == c)
    }) {
        return Some(s.en);
    }
    let words: &[(&str, &[&str])] = match part {
        Part::Notices => &[
            (
                "notice_id",
                &[
                    "受付no",
                    "受付№",
                    "受付id",
                    "届書番号",
                    "受付ＮＯ",
                    "整理番号",
                ],
            ),
            (
                "kind",
                &["届出区分", "届書区分", "届書種類", "種別", "区分"],
            ),
            (
                "employer_code",
                &["事業所番号", "事業所コード", "所属所コード", "所属所番号"],
            ),
            ("member_symbol", &["記号", "保険証記号"]),
            ("member_number", &["番号", "保険証番号"]),
            ("dependent_seq", &["枝番号", "続柄番号"]),
            (
                "name",
                &["氏名漢字", "漢字氏名", "被保険者氏名", "加入者氏名"],
            ),
            ("name_kana", &["氏名ｶﾅ", "ｶﾅ氏名", "ふりがな"]),
            (
                "event_date",
                &[
                    "資格取得日",
                    "資格喪失日",
                    "認定日",
                    "異動日",
                    "取得日",
                    "喪失日",
                ],
            ),
            (
                "received_on",
                &["受付年月日", "受理日", "受付日付", "受理年月日"],
            ),
            ("my_number", &["個人番号(マイナンバー)", "mynumber"]),
            (
                "my_number_status",
                &[
                    "個人番号有無",
                    "マイナンバー有無",
                    "個人番号記載有無",
                    "マイナンバー記載有無",
                    "個人番号の記載",
                ],
            ),
            ("delay_cause", &["遅延事由", "理由", "備考"]),
        ],
        Part::Registrations => &[
            ("notice_id", &["受付no", "届書番号"]),
            (
                "registered_at",
                &["登録日時", "登録完了日", "処理日時", "処理年月日"],
            ),
            ("result", &["処理結果区分", "結果"]),
            ("error_code", &["エラーｺｰﾄﾞ", "結果コード"]),
            (
                "error_message",
                &["エラーメッセージ", "エラー内容", "メッセージ"],
            ),
            ("member_symbol", &["記号", "保険証記号"]),
            ("member_number", &["番号", "保険証番号"]),
            ("dependent_seq", &["枝番号"]),
        ],
    };
    words
        .iter()
        .find(|(_, names)| names.iter().any(|n| canonical(n) == c))
        .map(|(f, _)| *f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[notices]
sheet = "届書一覧"
header_row = 3
[notices.columns]
notice_id = "受付No"
event_date = "資格取得日"
my_number_status = "マイナンバー記載"
[notices.values.kind]
"01" = "acquisition"
"02" = "dependent"
[registrations.columns]
member_symbol = "記号"
"#;

    #[test]
    fn the_spec_example_parses_and_round_trips() {
        let p = Profile::from_toml_str(SAMPLE).unwrap();
        let n = p.notices.as_ref().unwrap();
        assert_eq!(n.header_row, 3);
        assert_eq!(n.sheet.as_deref(), Some("届書一覧"));
        assert_eq!(n.columns["notice_id"], "受付No");
        assert_eq!(p.registrations.as_ref().unwrap().header_row, 1);
        assert_eq!(Profile::from_toml_str(&p.to_toml()).unwrap(), p);
    }

    #[test]
    fn unknown_keys_fields_and_values_are_named() {
        let e = Profile::from_toml_str("[notices]\nheader_rows = 2\n").unwrap_err();
        assert!(e.0.contains("header_rows"), "{e}");
        let e = Profile::from_toml_str("[notices.columns]\nreceived = \"受付\"\n").unwrap_err();
        assert!(e.0.contains("received"), "{e}");
        let e = Profile::from_toml_str("[notices.values.kind]\n\"01\" = \"join\"\n").unwrap_err();
        assert!(e.0.contains("join"), "{e}");
        let e = Profile::from_toml_str("[notices.values.name]\n\"a\" = \"b\"\n").unwrap_err();
        assert!(e.0.contains("name"), "{e}");
        let e = Profile::from_toml_str("[other]\n").unwrap_err();
        assert!(e.0.contains("other"), "{e}");
        assert!(Profile::from_toml_str("").is_err());
    }

    #[test]
    fn codes_match_with_or_without_leading_zeros() {
        let p = Profile::from_toml_str(SAMPLE).unwrap();
        let n = p.notices.unwrap();
        assert_eq!(n.map_value("kind", "01"), Some("acquisition"));
        assert_eq!(n.map_value("kind", "1"), Some("acquisition"));
        assert_eq!(n.map_value("kind", "０２"), Some("dependent"));
        assert_eq!(n.map_value("kind", "03"), None);
    }

    #[test]
    fn suggestions_from_insurer_headers() {
        assert_eq!(
            suggest_field(Part::Notices, "資格取得日"),
            Some("event_date")
        );
        assert_eq!(
            suggest_field(Part::Notices, "受付年月日"),
            Some("received_on")
        );
        assert_eq!(suggest_field(Part::Notices, "記号"), Some("member_symbol"));
        assert_eq!(suggest_field(Part::Notices, "届出区分"), Some("kind"));
        assert_eq!(
            suggest_field(Part::Registrations, "番号"),
            Some("member_number")
        );
        assert_eq!(suggest_field(Part::Notices, "性別"), None);
    }
}
