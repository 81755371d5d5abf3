//! The per-insurer e-mail settings as an admin types them (page form or JSON), checked here once
//! with Japanese messages, and the weekday names the page shows.
use super::MailError;
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::insurers::InsurerId;
use crate::store::mail_settings::{self, MailPrefs};
use crate::store::{outbox, write_tx, DbConn};
use chrono::NaiveDateTime;
use lettre::message::Mailbox;
use lettre::Address;

pub const SENDER_NAME_MAX: usize = 60;

/// 月曜日 … 日曜日 by ISO number (1 = Monday).
pub const WEEKDAYS_JA: [(u32, &str); 7] = [
    (1, "月曜日"),
    (2, "火曜日"),
    (3, "水曜日"),
    (4, "木曜日"),
    (5, "金曜日"),
    (6, "土曜日"),
    (7, "日曜日"),
];

pub fn weekday_ja(n: u32) -> &'static str {
    WEEKDAYS_JA
        .iter()
        .find(|(k, _)| *k == n)
        .map(|(_, v)| *v)
        .unwrap_or("—")
}

/// The fields as typed; empty means "not set".
#[derive(Clone, Debug, Default)]
pub struct PrefsInput<'a> {
    pub sender_name: &'a str,
    pub from_address: &'a str,
    pub reply_to: &'a str,
    pub bounce_address: &'a str,
    pub reminders_enabled: bool,
    pub digest_weekday: &'a str,
    pub schedule_hour: &'a str,
}

fn address(v: &str, label: &str) -> Result<Option<String>, String> {
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<Address>() {
        Ok(a) => Ok(Some(a.to_string())),
        Err(_) => Err(format!(
            "{label}「{t}」はメールアドレスとして正しくありません（例: info@example.jp）"
        )),
    }
}

/// Checks every field; the first problem comes back as a Japanese sentence naming the field.
pub fn parse(i: &PrefsInput) -> Result<MailPrefs, String> {
    let name = i.sender_name.trim();
    if name.chars().any(char::is_control) {
        return Err("差出人名に改行や制御文字は使えません".into());
    }
    if name.chars().count() > SENDER_NAME_MAX {
        return Err(format!(
            "差出人名は{SENDER_NAME_MAX}文字以内で入力してください"
        ));
    }
    let from_address = address(i.from_address, "差出人メールアドレス")?;
    let reply_to = address(i.reply_to, "返信先（お問い合わせ）メールアドレス")?;
    let bounce_address = address(i.bounce_address, "不達通知の受取アドレス")?;
    let digest_weekday = match i.digest_weekday.trim().parse::<u32>() {
        Ok(n) if (1..=7).contains(&n) => n,
        _ => return Err("週次のご案内の曜日は 1（月曜日）〜7（日曜日）から選んでください".into()),
    };
    let hour = i.schedule_hour.trim();
    let schedule_hour = if hour.is_empty() {
        None
    } else {
        match hour.parse::<u32>() {
            Ok(h) if h <= 23 => Some(h),
            _ => {
                return Err(format!(
                    "送信時刻「{hour}」は 0〜23 の整数（時、日本時間）で入力してください"
                ))
            }
        }
    };
    let sender_name = Some(name.to_string()).filter(|n| !n.is_empty());
    // The name and address must make a valid From header together.
    if let (Some(n), Some(a)) = (&sender_name, &from_address) {
        if a.parse::<Address>()
            .map(|a| Mailbox::new(Some(n.clone()), a))
            .is_err()
        {
            return Err("差出人名とメールアドレスから差出人を作れません".into());
        }
    }
    Ok(MailPrefs {
        sender_name,
        from_address,
        reply_to,
        bounce_address,
        reminders_enabled: i.reminders_enabled,
        digest_weekday,
        schedule_hour,
    })
}

/// What changed from `old` to `new`, in Japanese for the audit log (「変更なし」 when nothing did).
pub fn describe_change(old: &MailPrefs, new: &MailPrefs) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "（既定）".into());
    let hour = |v: Option<u32>| {
        v.map(|h| format!("{h}時"))
            .unwrap_or_else(|| "（既定）".into())
    };
    let onoff = |b: bool| if b { "送信する" } else { "送信しない" };
    let mut out = Vec::new();
    let mut diff = |label: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{label}: {a} → {b}"));
        }
    };
    diff("差出人名", show(&old.sender_name), show(&new.sender_name));
    diff(
        "差出人アドレス",
        show(&old.from_address),
        show(&new.from_address),
    );
    diff("返信先", show(&old.reply_to), show(&new.reply_to));
    diff(
        "不達通知の受取",
        show(&old.bounce_address),
        show(&new.bounce_address),
    );
    diff(
        "自動送信",
        onoff(old.reminders_enabled).into(),
        onoff(new.reminders_enabled).into(),
    );
    diff(
        "週次のご案内",
        weekday_ja(old.digest_weekday).into(),
        weekday_ja(new.digest_weekday).into(),
    );
    diff(
        "評価の時刻",
        hour(old.schedule_hour),
        hour(new.schedule_hour),
    );
    if out.is_empty() {
        "変更なし".into()
    } else {
        out.join("、")
    }
}

/// Switches an insurer's automatic reminders on or off, keeping its other settings: under the
/// insurer's evaluation lock, audited as メール設定の変更 by `actor`. Returns whether anything
/// changed (a new insurer is off until this or the settings page switches it on, SPEC §5). The
/// demo switches its insurers on with it.
pub fn set_reminders(
    conn: &mut DbConn,
    insurer: InsurerId,
    enabled: bool,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, MailError> {
    write_tx(conn, |conn| {
        outbox::lock_insurer(conn, insurer)?;
        let mut p = mail_settings::get(conn, insurer)?.prefs;
        if p.reminders_enabled == enabled {
            return Ok(false);
        }
        p.reminders_enabled = enabled;
        mail_settings::save(conn, insurer, &p, actor, now)?;
        let detail = if enabled {
            "自動送信: 送信しない → 送信する"
        } else {
            "自動送信: 送信する → 送信しない"
        };
        audit::record(
            conn,
            &AuditEntry {
                insurer: Some(insurer),
                user: None,
                actor,
                action: AuditAction::MailSettingsChanged,
                target: None,
                detail: Some(detail),
            },
        )?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>() -> PrefsInput<'a> {
        PrefsInput {
            sender_name: "テスト健保 適用課",
            from_address: "info@kenpo.example.jp",
            reply_to: "",
            bounce_address: "",
            reminders_enabled: true,
            digest_weekday: "3",
            schedule_hour: "",
        }
    }

    #[test]
    fn valid_settings_parse_and_empty_means_the_configuration() {
        let p = parse(&input()).unwrap();
        assert_eq!(p.sender_name.as_deref(), Some("テスト健保 適用課"));
        assert_eq!(p.from_address.as_deref(), Some("info@kenpo.example.jp"));
        assert_eq!((p.reply_to, p.bounce_address), (None, None));
        assert_eq!((p.digest_weekday, p.schedule_hour), (3, None));
    }

    #[test]
    fn invalid_values_are_refused_with_japanese_messages_naming_the_field() {
        let bad = |f: &dyn Fn(&mut PrefsInput)| {
            let mut i = input();
            f(&mut i);
            parse(&i).unwrap_err()
        };
        assert!(bad(&|i| i.from_address = "info@@example").contains("差出人メールアドレス"));
        assert!(bad(&|i| i.reply_to = "問い合わせ").contains("返信先"));
        assert!(bad(&|i| i.bounce_address = "x").contains("不達通知"));
        assert!(bad(&|i| i.digest_weekday = "8").contains("曜日"));
        assert!(bad(&|i| i.schedule_hour = "24").contains("0〜23"));
        assert!(bad(&|i| i.sender_name = "a\r\nBcc: x@example.jp").contains("改行"));
    }
}
