//! Rule settings of an insurer (SPEC §2): policies and day counts, read from and written to TOML.
//!
//! The database keeps an insurer's settings as the TOML text of [`RuleSettings::to_toml_string`], so
//! the same parser serves the settings file and the stored row. Parsing walks the TOML table by hand
//! instead of deriving `Deserialize`: serde's errors do not carry the key path, and an insurer who
//! mistypes a key must be told which one in Japanese. The API and the settings form send JSON, read by
//! [`RuleSettings::from_json`] through `serde_path_to_error`, which does carry the path; the keys,
//! ranges and messages are the same as the file's. [`key_label`] and [`describe_change`] name the keys
//! in messages and in the audit log.
use super::my_number::MyNumberStatus;
use super::rules::RegistrationRule;
use super::types::NoticeKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a deadline of N days is counted (SPEC §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// start + N calendar days, moved forward past administrative holidays.
    #[default]
    Extend,
    /// start + N calendar days, never moved.
    Strict,
    /// the N-th business day after the start day.
    Business,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Extend, Policy::Strict, Policy::Business];

    /// Code used in the settings TOML, forms and the database.
    pub fn code(self) -> &'static str {
        match self {
            Policy::Extend => "extend",
            Policy::Strict => "strict",
            Policy::Business => "business",
        }
    }

    /// Japanese label shown to users.
    pub fn label_ja(self) -> &'static str {
        match self {
            Policy::Extend => "休日なら翌開庁日まで延長",
            Policy::Strict => "暦日どおり（延長しない）",
            Policy::Business => "営業日で数える",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.code() == s.trim())
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Days per notice kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindDays {
    pub acquisition: u32,
    pub dependent: u32,
    pub loss: u32,
}

impl KindDays {
    pub fn get(&self, kind: NoticeKind) -> u32 {
        match kind {
            NoticeKind::Acquisition => self.acquisition,
            NoticeKind::Dependent => self.dependent,
            NoticeKind::Loss => self.loss,
        }
    }

    fn slot(&mut self, kind: NoticeKind) -> &mut u32 {
        match kind {
            NoticeKind::Acquisition => &mut self.acquisition,
            NoticeKind::Dependent => &mut self.dependent,
            NoticeKind::Loss => &mut self.loss,
        }
    }
}

/// One rule's settings after defaults are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleConfig {
    pub policy: Policy,
    pub days: KindDays,
}

/// All rule settings of an insurer, defaults applied (SPEC §2 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSettings {
    pub warn_days: u32,
    pub standard_days: u32,
    pub ex_officio_days: u32,
    pub submission: RuleConfig,
    pub registration: RuleConfig,
}

/// Largest accepted day count: anything longer is a typo, not a deadline.
pub const MAX_DAYS: u32 = 365;

impl Default for RuleSettings {
    /// SPEC §2: 5 days for every submission; registration 5 days, or 2 for a loss (seed 000: 副本登録
    /// within 2 days); 14 standard days without a valid My Number; the survey's 〇日 is 10.
    fn default() -> Self {
        RuleSettings {
            warn_days: 1,
            standard_days: 14,
            ex_officio_days: 10,
            submission: RuleConfig {
                policy: Policy::Extend,
                days: KindDays {
                    acquisition: 5,
                    dependent: 5,
                    loss: 5,
                },
            },
            registration: RuleConfig {
                policy: Policy::Extend,
                days: KindDays {
                    acquisition: 5,
                    dependent: 5,
                    loss: 2,
                },
            },
        }
    }
}

/// A settings text that cannot be accepted. The message names the offending key so the insurer can
/// find it; values are echoed because settings never contain personal data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("設定の書式が正しくありません（{line}行目）: {message}")]
    Syntax { line: usize, message: String },
    #[error("{key}: 不明な設定項目です")]
    UnknownKey { key: String },
    #[error("{key}: 日数は0〜365の整数で指定してください ({value})")]
    InvalidDays { key: String, value: String },
    #[error("{key}: extend / strict / business のいずれかを指定してください ({value})")]
    InvalidPolicy { key: String, value: String },
    #[error("{key}: 表（テーブル）で指定してください ({value})")]
    NotATable { key: String, value: String },
}

impl SettingsError {
    /// The dotted key the error is about (None for a syntax error).
    pub fn key(&self) -> Option<&str> {
        match self {
            SettingsError::Syntax { .. } => None,
            SettingsError::UnknownKey { key }
            | SettingsError::InvalidDays { key, .. }
            | SettingsError::InvalidPolicy { key, .. }
            | SettingsError::NotATable { key, .. } => Some(key),
        }
    }
}

/// A TOML table being read: known keys are taken out, whatever remains is unknown.
struct Section {
    path: String,
    table: toml::Table,
}

impl Section {
    fn key(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn take_section(&mut self, name: &str) -> Result<Option<Section>, SettingsError> {
        let key = self.key(name);
        match self.table.remove(name) {
            None => Ok(None),
            Some(toml::Value::Table(table)) => Ok(Some(Section { path: key, table })),
            Some(other) => Err(SettingsError::NotATable {
                key,
                value: other.to_string(),
            }),
        }
    }

    fn take_days(&mut self, name: &str) -> Result<Option<u32>, SettingsError> {
        let key = self.key(name);
        match self.table.remove(name) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if (0..=i64::from(MAX_DAYS)).contains(&n) => {
                Ok(u32::try_from(n).ok())
            }
            Some(other) => Err(SettingsError::InvalidDays {
                key,
                value: other.to_string(),
            }),
        }
    }

    fn take_policy(&mut self, name: &str) -> Result<Option<Policy>, SettingsError> {
        let key = self.key(name);
        match self.table.remove(name) {
            None => Ok(None),
            Some(value) => match value.as_str().and_then(Policy::parse) {
                Some(p) => Ok(Some(p)),
                None => Err(SettingsError::InvalidPolicy {
                    key,
                    value: value.to_string(),
                }),
            },
        }
    }

    fn finish(self) -> Result<(), SettingsError> {
        match self.table.keys().next() {
            Some(unknown) => Err(SettingsError::UnknownKey {
                key: self.key(unknown),
            }),
            None => Ok(()),
        }
    }
}

fn syntax_error(source: &str, e: &toml::de::Error) -> SettingsError {
    let line = e
        .span()
        .map(|span| {
            source
                .get(..span.start)
                .unwrap_or(source)
                .matches('\n')
                .count()
                + 1
        })
        .unwrap_or(1);
    SettingsError::Syntax {
        line,
        message: e.message().trim().to_owned(),
    }
}

/// Reads `[rules.submission]` or `[rules.registration]` into `config`.
fn read_rule(mut section: Section, config: &mut RuleConfig) -> Result<(), SettingsError> {
    if let Some(p) = section.take_policy("policy")? {
        config.policy = p;
    }
    if let Some(mut days) = section.take_section("days")? {
        for kind in NoticeKind::ALL {
            if let Some(n) = days.take_days(kind.code())? {
                *config.days.slot(kind) = n;
            }
        }
        days.finish()?;
    }
    section.finish()
}

impl RuleSettings {
    /// Parses the settings TOML:
    ///
    /// ```toml
    /// [rules]
    /// policy = "extend"        # extend | strict | business — both rules unless a rule overrides it
    /// warn_days = 1
    /// standard_days = 14
    /// ex_officio_days = 10
    /// [rules.submission]
    /// policy = "extend"
    /// days = { acquisition = 5, dependent = 5, loss = 5 }
    /// [rules.registration]
    /// policy = "extend"
    /// days = { acquisition = 5, dependent = 5, loss = 2 }
    /// ```
    ///
    /// Every key is optional and falls back to [`RuleSettings::default`]. Unknown keys and impossible
    /// values (not an integer in 0..=365, an unknown policy) are rejected with the key's dotted path,
    /// because a silently ignored typo would change deadlines without anyone noticing.
    pub fn from_toml_str(s: &str) -> Result<RuleSettings, SettingsError> {
        let doc: toml::Table = toml::from_str(s).map_err(|e| syntax_error(s, &e))?;
        let mut top = Section {
            path: String::new(),
            table: doc,
        };
        let rules = top.take_section("rules")?;
        top.finish()?;
        let mut out = RuleSettings::default();
        let Some(mut rules) = rules else {
            return Ok(out);
        };
        if let Some(p) = rules.take_policy("policy")? {
            out.submission.policy = p;
            out.registration.policy = p;
        }
        if let Some(n) = rules.take_days("warn_days")? {
            out.warn_days = n;
        }
        if let Some(n) = rules.take_days("standard_days")? {
            out.standard_days = n;
        }
        if let Some(n) = rules.take_days("ex_officio_days")? {
            out.ex_officio_days = n;
        }
        if let Some(section) = rules.take_section("submission")? {
            read_rule(section, &mut out.submission)?;
        }
        if let Some(section) = rules.take_section("registration")? {
            read_rule(section, &mut out.registration)?;
        }
        rules.finish()?;
        Ok(out)
    }

    /// Every setting spelled out, so the stored text still means the same if defaults change later.
    pub fn to_toml_string(&self) -> String {
        fn rule(name: &str, c: &RuleConfig) -> String {
            format!(
                "[rules.{name}]\npolicy = \"{}\"\ndays = {{ acquisition = {}, dependent = {}, loss = {} }}\n",
                c.policy.code(),
                c.days.acquisition,
                c.days.dependent,
                c.days.loss
            )
        }
        format!(
            "[rules]\nwarn_days = {}\nstandard_days = {}\nex_officio_days = {}\n\n{}\n{}",
            self.warn_days,
            self.standard_days,
            self.ex_officio_days,
            rule("submission", &self.submission),
            rule("registration", &self.registration)
        )
    }

    /// Days allowed for an employer to submit a notice of `kind`.
    pub fn submission_days(&self, kind: NoticeKind) -> u32 {
        self.submission.days.get(kind)
    }

    /// SPEC §2.3: the registration days of a notice and which rule they come from. Only a valid My
    /// Number gets the per-kind (5-day) rule; otherwise the standard processing days apply to every
    /// kind, loss included.
    pub fn registration_days(
        &self,
        kind: NoticeKind,
        my_number: MyNumberStatus,
    ) -> (u32, RegistrationRule) {
        // A 資格喪失届 has its own rule whatever the My Number: the member's number is already
        // on file (SPEC §2, §2.3; seed 000: 副本登録 within 2 days).
        if kind == NoticeKind::Loss {
            return (self.registration.days.get(kind), RegistrationRule::Loss);
        }
        match my_number {
            MyNumberStatus::Valid => (self.registration.days.get(kind), RegistrationRule::FiveDay),
            MyNumberStatus::Invalid | MyNumberStatus::Missing => {
                (self.standard_days, RegistrationRule::Standard)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON: the API's shape (`submission.days.loss`, no `rules.` prefix) and the settings form

/// Japanese name of a settings key as the API spells it, for error messages and the change log.
pub fn key_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "warn_days" => "期限間近とする日数",
        "standard_days" => "標準処理日数",
        "ex_officio_days" => "資格確認書の職権交付を検討する日数",
        "policy" => "期限の数え方（両方）",
        "submission.policy" => "提出期限の数え方",
        "submission.days.acquisition" => "提出期限・資格取得届の日数",
        "submission.days.dependent" => "提出期限・被扶養者届の日数",
        "submission.days.loss" => "提出期限・資格喪失届の日数",
        "registration.policy" => "登録期限の数え方",
        "registration.days.acquisition" => "登録期限・資格取得届の日数",
        "registration.days.dependent" => "登録期限・被扶養者届の日数",
        "registration.days.loss" => "登録期限・資格喪失届の日数",
        _ => return None,
    })
}

/// Settings in the API's JSON shape that cannot be accepted. The message names the key as the API
/// spells it, with its Japanese name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsJsonError {
    #[error("設定は JSON のオブジェクトで指定してください")]
    NotAnObject,
    #[error("設定を保存できません。{key}: 値を指定してください")]
    Null { key: String },
    /// The key in the inner error is already `submission.days.loss（提出期限・資格喪失届の日数）`.
    #[error("設定を保存できません。{0}")]
    Invalid(SettingsError),
}

/// What the value under a known key must be.
#[derive(Clone, Copy)]
enum Slot {
    Days,
    Policy,
    Table,
}

fn slot_of(key: &str) -> Option<Slot> {
    match key {
        "submission" | "registration" | "submission.days" | "registration.days" => {
            Some(Slot::Table)
        }
        "policy" | "submission.policy" | "registration.policy" => Some(Slot::Policy),
        k if key_label(k).is_some() => Some(Slot::Days),
        _ => None,
    }
}

/// `present` for optional keys: a missing key is `None`, but an explicit `null` reaches the inner
/// type (and is refused) instead of being read as "missing".
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A day count in 0..=[`MAX_DAYS`]. The error text is not shown: the message is rebuilt from the key.
struct JsonDays(u32);

impl<'de> Deserialize<'de> for JsonDays {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u32::deserialize(d)? {
            n if n <= MAX_DAYS => Ok(JsonDays(n)),
            _ => Err(serde::de::Error::custom("day count out of range")),
        }
    }
}

/// A policy code (surrounding spaces allowed, as in the file).
struct JsonPolicy(Policy);

impl<'de> Deserialize<'de> for JsonPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Policy::parse(&s)
            .map(JsonPolicy)
            .ok_or_else(|| serde::de::Error::custom("unknown policy"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonKindDays {
    #[serde(default, deserialize_with = "present")]
    acquisition: Option<JsonDays>,
    #[serde(default, deserialize_with = "present")]
    dependent: Option<JsonDays>,
    #[serde(default, deserialize_with = "present")]
    loss: Option<JsonDays>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRule {
    #[serde(default, deserialize_with = "present")]
    policy: Option<JsonPolicy>,
    #[serde(default, deserialize_with = "present")]
    days: Option<JsonKindDays>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSettings {
    #[serde(default, deserialize_with = "present")]
    policy: Option<JsonPolicy>,
    #[serde(default, deserialize_with = "present")]
    warn_days: Option<JsonDays>,
    #[serde(default, deserialize_with = "present")]
    standard_days: Option<JsonDays>,
    #[serde(default, deserialize_with = "present")]
    ex_officio_days: Option<JsonDays>,
    #[serde(default, deserialize_with = "present")]
    submission: Option<JsonRule>,
    #[serde(default, deserialize_with = "present")]
    registration: Option<JsonRule>,
}

fn apply_rule(rule: Option<JsonRule>, config: &mut RuleConfig) {
    let Some(rule) = rule else { return };
    if let Some(JsonPolicy(p)) = rule.policy {
        config.policy = p;
    }
    if let Some(days) = rule.days {
        for (slot, value) in [
            (&mut config.days.acquisition, days.acquisition),
            (&mut config.days.dependent, days.dependent),
            (&mut config.days.loss, days.loss),
        ] {
            if let Some(JsonDays(n)) = value {
                *slot = n;
            }
        }
    }
}

/// The error for the key serde stopped at, told from the key and the value found there (serde's
/// own message is English and says nothing the insurer can use).
fn json_error(root: &serde_json::Value, path: &serde_path_to_error::Path) -> SettingsJsonError {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    let key = keys.join(".");
    let value = keys
        .iter()
        .try_fold(root, |v, k| v.get(k))
        .unwrap_or(&serde_json::Value::Null);
    if value.is_null() {
        return SettingsJsonError::Null { key };
    }
    let named = match key_label(&key) {
        Some(l) => format!("{key}（{l}）"),
        None => key.clone(),
    };
    let value = value.to_string();
    SettingsJsonError::Invalid(match slot_of(&key) {
        None => SettingsError::UnknownKey { key: named },
        Some(Slot::Days) => SettingsError::InvalidDays { key: named, value },
        Some(Slot::Policy) => SettingsError::InvalidPolicy { key: named, value },
        Some(Slot::Table) => SettingsError::NotATable { key: named, value },
    })
}

impl RuleSettings {
    /// Reads settings in the API's JSON shape (the `[rules]` table of the file as an object):
    /// every key optional, defaults as in [`RuleSettings::from_toml_str`], the same ranges, and an
    /// unknown key, a `null` or an impossible value refused with the key's dotted path.
    pub fn from_json(v: &serde_json::Value) -> Result<RuleSettings, SettingsJsonError> {
        if !v.is_object() {
            return Err(SettingsJsonError::NotAnObject);
        }
        let json: JsonSettings =
            serde_path_to_error::deserialize(v).map_err(|e| json_error(v, e.path()))?;
        let mut out = RuleSettings::default();
        if let Some(JsonPolicy(p)) = json.policy {
            out.submission.policy = p;
            out.registration.policy = p;
        }
        for (slot, value) in [
            (&mut out.warn_days, json.warn_days),
            (&mut out.standard_days, json.standard_days),
            (&mut out.ex_officio_days, json.ex_officio_days),
        ] {
            if let Some(JsonDays(n)) = value {
                *slot = n;
            }
        }
        apply_rule(json.submission, &mut out.submission);
        apply_rule(json.registration, &mut out.registration);
        Ok(out)
    }
}

/// Every setting as (key, value) in a fixed order, to log what changed.
fn flat(s: &RuleSettings) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("warn_days", s.warn_days.to_string()),
        ("standard_days", s.standard_days.to_string()),
        ("ex_officio_days", s.ex_officio_days.to_string()),
    ];
    for (keys, c) in [
        (
            [
                "submission.policy",
                "submission.days.acquisition",
                "submission.days.dependent",
                "submission.days.loss",
            ],
            &s.submission,
        ),
        (
            [
                "registration.policy",
                "registration.days.acquisition",
                "registration.days.dependent",
                "registration.days.loss",
            ],
            &s.registration,
        ),
    ] {
        out.push((keys[0], c.policy.code().to_string()));
        out.push((keys[1], c.days.acquisition.to_string()));
        out.push((keys[2], c.days.dependent.to_string()));
        out.push((keys[3], c.days.loss.to_string()));
    }
    out
}

/// What changed from `old` to `new`, for the audit log: `submission.policy: extend → strict、…`.
pub fn describe_change(old: &RuleSettings, new: &RuleSettings) -> String {
    flat(old)
        .into_iter()
        .zip(flat(new))
        .filter(|(a, b)| a.1 != b.1)
        .map(|((k, a), (_, b))| format!("{k}: {a} → {b}"))
        .collect::<Vec<_>>()
        .join("、")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BRIEF_EXAMPLE: &str = r#"
[rules]
policy = "extend"        # extend | strict | business — for both rules unless overridden
warn_days = 1
standard_days = 14
ex_officio_days = 10
[rules.submission]       # optional
policy = "extend"
days = { acquisition = 5, dependent = 5, loss = 5 }
[rules.registration]     # optional
policy = "extend"
days = { acquisition = 5, dependent = 5, loss = 2 }
"#;

    fn err(s: &str) -> String {
        RuleSettings::from_toml_str(s).unwrap_err().to_string()
    }

    #[test]
    fn defaults_follow_the_spec_table() {
        let s = RuleSettings::default();
        assert_eq!(s.submission.policy, Policy::Extend);
        assert_eq!(s.registration.policy, Policy::Extend);
        assert_eq!(
            (s.warn_days, s.standard_days, s.ex_officio_days),
            (1, 14, 10)
        );
        assert_eq!(
            s.submission.days,
            KindDays {
                acquisition: 5,
                dependent: 5,
                loss: 5
            }
        );
        assert_eq!(
            s.registration.days,
            KindDays {
                acquisition: 5,
                dependent: 5,
                loss: 2
            }
        );
    }

    #[test]
    fn empty_text_and_empty_rules_give_the_defaults() {
        assert_eq!(
            RuleSettings::from_toml_str("").unwrap(),
            RuleSettings::default()
        );
        assert_eq!(
            RuleSettings::from_toml_str("[rules]\n").unwrap(),
            RuleSettings::default()
        );
        assert_eq!(
            RuleSettings::from_toml_str(BRIEF_EXAMPLE).unwrap(),
            RuleSettings::default()
        );
    }

    #[test]
    fn partial_days_keep_the_other_defaults() {
        let s = RuleSettings::from_toml_str("[rules.registration]\ndays = { loss = 3 }\n").unwrap();
        assert_eq!(
            s.registration.days,
            KindDays {
                acquisition: 5,
                dependent: 5,
                loss: 3
            }
        );
        assert_eq!(s.submission, RuleSettings::default().submission);
        let s = RuleSettings::from_toml_str("[rules.submission.days]\nacquisition = 0\n").unwrap();
        assert_eq!(
            s.submission.days,
            KindDays {
                acquisition: 0,
                dependent: 5,
                loss: 5
            }
        );
    }

    #[test]
    fn top_policy_applies_to_both_rules_unless_overridden() {
        let s = RuleSettings::from_toml_str("[rules]\npolicy = \"business\"\n").unwrap();
        assert_eq!(
            (s.submission.policy, s.registration.policy),
            (Policy::Business, Policy::Business)
        );
        let s = RuleSettings::from_toml_str(
            "[rules]\npolicy = \"strict\"\n[rules.registration]\npolicy = \"extend\"\n",
        )
        .unwrap();
        assert_eq!(
            (s.submission.policy, s.registration.policy),
            (Policy::Strict, Policy::Extend)
        );
    }

    #[test]
    fn scalar_settings_are_read() {
        let s = RuleSettings::from_toml_str(
            "[rules]\nwarn_days = 2\nstandard_days = 30\nex_officio_days = 7\n",
        )
        .unwrap();
        assert_eq!(
            (s.warn_days, s.standard_days, s.ex_officio_days),
            (2, 30, 7)
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        assert_eq!(
            err("[rules.registration]\npolcy = \"extend\"\n"),
            "rules.registration.polcy: 不明な設定項目です"
        );
        assert_eq!(
            err("[rule]\npolicy = \"extend\"\n"),
            "rule: 不明な設定項目です"
        );
        assert_eq!(err("[rules]\nwarn = 1\n"), "rules.warn: 不明な設定項目です");
        assert_eq!(
            err("[rules.submission]\ndays = { los = 5 }\n"),
            "rules.submission.days.los: 不明な設定項目です"
        );
    }

    #[test]
    fn impossible_days_are_named() {
        assert_eq!(
            err("[rules.submission]\ndays = { loss = -1 }\n"),
            "rules.submission.days.loss: 日数は0〜365の整数で指定してください (-1)"
        );
        assert_eq!(
            err("[rules]\nstandard_days = 366\n"),
            "rules.standard_days: 日数は0〜365の整数で指定してください (366)"
        );
        assert_eq!(
            err("[rules]\nwarn_days = \"1\"\n"),
            "rules.warn_days: 日数は0〜365の整数で指定してください (\"1\")"
        );
        assert_eq!(
            err("[rules]\nex_officio_days = 2.5\n"),
            "rules.ex_officio_days: 日数は0〜365の整数で指定してください (2.5)"
        );
        assert!(RuleSettings::from_toml_str("[rules]\nstandard_days = 365\n").is_ok());
    }

    #[test]
    fn unknown_policy_is_named() {
        let e =
            RuleSettings::from_toml_str("[rules.submission]\npolicy = \"lenient\"\n").unwrap_err();
        assert_eq!(e.key(), Some("rules.submission.policy"));
        assert_eq!(
            e.to_string(),
            "rules.submission.policy: extend / strict / business のいずれかを指定してください (\"lenient\")"
        );
        assert_eq!(
            err("[rules]\npolicy = 1\n"),
            "rules.policy: extend / strict / business のいずれかを指定してください (1)"
        );
    }

    #[test]
    fn wrong_shapes_are_named() {
        assert_eq!(
            err("rules = 5\n"),
            "rules: 表（テーブル）で指定してください (5)"
        );
        assert_eq!(
            err("[rules.submission]\ndays = 5\n"),
            "rules.submission.days: 表（テーブル）で指定してください (5)"
        );
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e =
            RuleSettings::from_toml_str("[rules]\nwarn_days = 1\nstandard_days = \n").unwrap_err();
        match e {
            SettingsError::Syntax { line, .. } => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        assert!(err("[rules]\nwarn_days = 1\nstandard_days = \n")
            .starts_with("設定の書式が正しくありません（3行目）"));
    }

    #[test]
    fn to_toml_string_round_trips() {
        let mut s = RuleSettings::default();
        assert_eq!(RuleSettings::from_toml_str(&s.to_toml_string()).unwrap(), s);
        s.submission.policy = Policy::Business;
        s.registration.policy = Policy::Strict;
        s.registration.days.loss = 0;
        s.standard_days = 365;
        assert_eq!(RuleSettings::from_toml_str(&s.to_toml_string()).unwrap(), s);
    }

    #[test]
    fn registration_days_split_by_my_number() {
        let s = RuleSettings::default();
        assert_eq!(
            s.registration_days(NoticeKind::Acquisition, MyNumberStatus::Valid),
            (5, RegistrationRule::FiveDay)
        );
        assert_eq!(
            s.registration_days(NoticeKind::Loss, MyNumberStatus::Valid),
            (2, RegistrationRule::Loss)
        );
        assert_eq!(
            s.registration_days(NoticeKind::Dependent, MyNumberStatus::Missing),
            (14, RegistrationRule::Standard)
        );
        assert_eq!(
            s.registration_days(NoticeKind::Loss, MyNumberStatus::Invalid),
            (2, RegistrationRule::Loss),
            "a loss notice keeps its own rule whatever the My Number"
        );
        assert_eq!(
            s.registration_days(NoticeKind::Loss, MyNumberStatus::Missing),
            (2, RegistrationRule::Loss)
        );
        assert_eq!(s.submission_days(NoticeKind::Loss), 5);
    }

    #[test]
    fn json_settings_are_read_with_api_key_names() {
        let s = RuleSettings::from_json(&serde_json::json!({
            "warn_days": 2,
            "registration": {"policy": "business", "days": {"loss": 3}}
        }))
        .unwrap();
        assert_eq!(s.warn_days, 2);
        assert_eq!(s.registration.policy, Policy::Business);
        assert_eq!(s.registration.days.loss, 3);
        assert_eq!(
            s.registration.days.acquisition, 5,
            "missing keys take defaults"
        );

        let msg = |v: serde_json::Value| RuleSettings::from_json(&v).unwrap_err().to_string();
        let m = msg(serde_json::json!({"submission": {"days": {"loss": 400}}}));
        assert!(
            m.contains("submission.days.loss") && !m.contains("rules."),
            "{m}"
        );
        let m = msg(serde_json::json!({"registration": {"policy": "sometimes"}}));
        assert!(m.contains("registration.policy"), "{m}");
        let m = msg(serde_json::json!({"warn_dayz": 1}));
        assert!(m.contains("warn_dayz"), "{m}");
        let m = msg(serde_json::json!({"standard_days": null}));
        assert!(m.contains("standard_days"), "{m}");
        let m = msg(serde_json::json!({"warn_days": 1.5}));
        assert!(m.contains("warn_days"), "{m}");
    }

    #[test]
    fn json_errors_read_as_the_settings_file_errors_did() {
        let msg = |v: serde_json::Value| RuleSettings::from_json(&v).unwrap_err().to_string();
        assert_eq!(
            msg(serde_json::json!({"submission": {"days": {"loss": 400}}})),
            "設定を保存できません。submission.days.loss（提出期限・資格喪失届の日数）: 日数は0〜365の整数で指定してください (400)"
        );
        assert_eq!(
            msg(serde_json::json!({"warn_days": "two"})),
            "設定を保存できません。warn_days（期限間近とする日数）: 日数は0〜365の整数で指定してください (\"two\")"
        );
        assert_eq!(
            msg(serde_json::json!({"ex_officio_days": -1})),
            "設定を保存できません。ex_officio_days（資格確認書の職権交付を検討する日数）: 日数は0〜365の整数で指定してください (-1)"
        );
        assert_eq!(
            msg(serde_json::json!({"registration": {"policy": "sometimes"}})),
            "設定を保存できません。registration.policy（登録期限の数え方）: extend / strict / business のいずれかを指定してください (\"sometimes\")"
        );
        assert_eq!(
            msg(serde_json::json!({"policy": 1})),
            "設定を保存できません。policy（期限の数え方（両方））: extend / strict / business のいずれかを指定してください (1)"
        );
        assert_eq!(
            msg(serde_json::json!({"submision": {"policy": "strict"}})),
            "設定を保存できません。submision: 不明な設定項目です"
        );
        assert_eq!(
            msg(serde_json::json!({"submission": {"days": {"los": 5}}})),
            "設定を保存できません。submission.days.los: 不明な設定項目です"
        );
        assert_eq!(
            msg(serde_json::json!({"submission": {"days": 5}})),
            "設定を保存できません。submission.days: 表（テーブル）で指定してください (5)"
        );
        assert_eq!(
            msg(serde_json::json!({"standard_days": null})),
            "設定を保存できません。standard_days: 値を指定してください"
        );
        assert_eq!(
            msg(serde_json::json!({"registration": {"days": {"loss": null}}})),
            "設定を保存できません。registration.days.loss: 値を指定してください"
        );
        assert_eq!(
            msg(serde_json::json!([1])),
            "設定は JSON のオブジェクトで指定してください"
        );
    }

    #[test]
    fn json_and_toml_read_the_same_settings() {
        let s = RuleSettings::from_json(&serde_json::json!({
            "policy": " strict ",
            "standard_days": 365,
            "submission": {"days": {"acquisition": 0}},
            "registration": {"policy": "business"}
        }))
        .unwrap();
        let t = RuleSettings::from_toml_str(
            "[rules]\npolicy = \" strict \"\nstandard_days = 365\n[rules.submission.days]\nacquisition = 0\n[rules.registration]\npolicy = \"business\"\n",
        )
        .unwrap();
        assert_eq!(s, t);
        assert_eq!(
            RuleSettings::from_json(&serde_json::json!({})).unwrap(),
            RuleSettings::default()
        );
    }

    #[test]
    fn the_change_log_names_only_what_changed() {
        let old = RuleSettings::default();
        let mut new = old;
        new.registration.days.loss = 3;
        new.submission.policy = Policy::Strict;
        assert_eq!(
            describe_change(&old, &new),
            "submission.policy: extend → strict、registration.days.loss: 2 → 3"
        );
    }

    fn arb_policy() -> impl Strategy<Value = Policy> {
        prop_oneof![
            Just(Policy::Extend),
            Just(Policy::Strict),
            Just(Policy::Business)
        ]
    }

    fn arb_rule() -> impl Strategy<Value = RuleConfig> {
        (arb_policy(), 0..=MAX_DAYS, 0..=MAX_DAYS, 0..=MAX_DAYS).prop_map(|(policy, a, d, l)| {
            RuleConfig {
                policy,
                days: KindDays {
                    acquisition: a,
                    dependent: d,
                    loss: l,
                },
            }
        })
    }

    proptest! {
        #[test]
        fn any_settings_round_trip_through_toml(
            warn in 0..=MAX_DAYS, standard in 0..=MAX_DAYS, ex in 0..=MAX_DAYS,
            submission in arb_rule(), registration in arb_rule(),
        ) {
            let s = RuleSettings { warn_days: warn, standard_days: standard, ex_officio_days: ex, submission, registration };
            prop_assert_eq!(RuleSettings::from_toml_str(&s.to_toml_string()).unwrap(), s);
        }
    }
}
