//! Typed configuration: an optional TOML file, then `REGWATCH_*` environment overrides, then flags.
use secrecy::SecretString;
use serde::Deserialize;
use std::path::Path;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://regwatch.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Everything the service reads at start. Secrets are `SecretString`, whose Debug prints
/// `[REDACTED]`, so a config dump never leaks them.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub pool_size: u32,
    /// JWT signing key; generated and kept in the database when not configured.
    pub jwt_secret: Option<SecretString>,
    pub session_hours: u32,
    pub smtp_url: Option<SecretString>,
    pub mail_from: Option<String>,
    /// Envelope sender (Return-Path) for bounces; the From address when unset.
    pub mail_bounce: Option<String>,
    /// At most this many e-mails per minute, across all workers.
    pub mail_rate_per_minute: u32,
    /// Hour (Japan time, 0–23) of the daily reminder evaluation in `serve`.
    pub mail_schedule_hour: u32,
    /// Failed sends are retried with backoff; after this many attempts the message is dead.
    pub mail_max_attempts: u32,
    /// The address employers reach the service at (`https://regwatch.example.jp`): the base of the
    /// one-click unsubscribe link in e-mails. Without it only the mailto form is sent.
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    /// The service runs behind a reverse proxy that appends the client's address to
    /// `X-Forwarded-For`: sign-in throttling then counts per that address instead of the proxy's.
    pub behind_proxy: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: DEFAULT_DATABASE_URL.into(),
            bind: DEFAULT_BIND.into(),
            pool_size: 8,
            jwt_secret: None,
            session_hours: 8,
            smtp_url: None,
            mail_from: None,
            mail_bounce: None,
            mail_rate_per_minute: 60,
            mail_schedule_hour: 9,
            mail_max_attempts: 12,
            public_url: None,
            log_format: LogFormat::Text,
            behind_proxy: false,
        }
    }
}

/// The TOML file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    pool_size: Option<u32>,
    jwt_secret: Option<String>,
    session_hours: Option<u32>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    mail_bounce: Option<String>,
    mail_rate_per_minute: Option<u32>,
    mail_schedule_hour: Option<u32>,
    mail_max_attempts: Option<u32>,
    public_url: Option<String>,
    log_format: Option<LogFormat>,
    behind_proxy: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("設定ファイル {path} を読めません: {reason}")]
    Read { path: String, reason: String },
    #[error("設定ファイル {path} の内容が正しくありません: {reason}")]
    Parse { path: String, reason: String },
    #[error("環境変数 {name} の値が正しくありません: {reason}")]
    Env { name: String, reason: String },
}

impl Config {
    /// Loads the file (if any) and applies environment overrides from the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with(path, |k| std::env::var(k).ok())
    }

    /// Same as `load`, with the environment passed in (tests).
    pub fn load_with(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = match path {
            None => FileConfig::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: p.display().to_string(),
                    reason: e.message().to_string(),
                })?
            }
        };
        let mut c = Config::default();
        if let Some(v) = file.database_url {
            c.database_url = v;
        }
        if let Some(v) = file.bind {
            c.bind = v;
        }
        if let Some(v) = file.pool_size {
            c.pool_size = v;
        }
        c.jwt_secret = file.jwt_secret.map(SecretString::from);
        if let Some(v) = file.session_hours {
            c.session_hours = v;
        }
        c.smtp_url = file.smtp_url.map(SecretString::from);
        c.mail_from = file.mail_from;
        c.mail_bounce = file.mail_bounce;
        if let Some(v) = file.mail_rate_per_minute {
            c.mail_rate_per_minute = v;
        }
        if let Some(v) = file.mail_schedule_hour {
            c.mail_schedule_hour = v;
        }
        if let Some(v) = file.mail_max_attempts {
            c.mail_max_attempts = v;
        }
        c.public_url = file.public_url;
        if let Some(v) = file.log_format {
            c.log_format = v;
        }
        if let Some(v) = file.behind_proxy {
            c.behind_proxy = v;
        }

        let env_nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = env_nonempty("REGWATCH_DATABASE_URL") {
            c.database_url = v;
        }
        if let Some(v) = env_nonempty("REGWATCH_BIND") {
            c.bind = v;
        }
        if let Some(v) = env_nonempty("REGWATCH_POOL_SIZE") {
            c.pool_size = parse_env("REGWATCH_POOL_SIZE", &v)?;
        }
        if let Some(v) = env_nonempty("REGWATCH_JWT_SECRET") {
            c.jwt_secret = Some(SecretString::from(v));
        }
        if let Some(v) = env_nonempty("REGWATCH_SESSION_HOURS") {
            c.session_hours = parse_env("REGWATCH_SESSION_HOURS", &v)?;
        }
        if let Some(v) = env_nonempty("REGWATCH_SMTP_URL") {
            c.smtp_url = Some(SecretString::from(v));
        }
        if let Some(v) = env_nonempty("REGWATCH_MAIL_FROM") {
            c.mail_from = Some(v);
        }
        if let Some(v) = env_nonempty("REGWATCH_MAIL_BOUNCE") {
            c.mail_bounce = Some(v);
        }
        if let Some(v) = env_nonempty("REGWATCH_MAIL_RATE_PER_MINUTE") {
            c.mail_rate_per_minute = parse_env("REGWATCH_MAIL_RATE_PER_MINUTE", &v)?;
        }
        if let Some(v) = env_nonempty("REGWATCH_MAIL_SCHEDULE_HOUR") {
            c.mail_schedule_hour = parse_env("REGWATCH_MAIL_SCHEDULE_HOUR", &v)?;
        }
        if let Some(v) = env_nonempty("REGWATCH_MAIL_MAX_ATTEMPTS") {
            c.mail_max_attempts = parse_env("REGWATCH_MAIL_MAX_ATTEMPTS", &v)?;
        }
        if let Some(v) = env_nonempty("REGWATCH_PUBLIC_URL") {
            c.public_url = Some(v);
        }
        if let Some(v) = env_nonempty("REGWATCH_BEHIND_PROXY") {
            c.behind_proxy = parse_env("REGWATCH_BEHIND_PROXY", &v)?;
        }
        if c.mail_schedule_hour > 23 {
            return Err(ConfigError::Env {
                name: "mail_schedule_hour".into(),
                reason: format!("0〜23 を指定してください（{}）", c.mail_schedule_hour),
            });
        }
        if let Some(v) = env_nonempty("REGWATCH_LOG_FORMAT") {
            c.log_format = match v.as_str() {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                other => {
                    return Err(ConfigError::Env {
                        name: "REGWATCH_LOG_FORMAT".into(),
                        reason: format!("json または text を指定してください（{other}）"),
                    })
                }
            };
        }
        Ok(c)
    }
}

fn parse_env<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    v.trim().parse().map_err(|e: T::Err| ConfigError::Env {
        name: name.into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    #[test]
    fn defaults_without_file_or_env() {
        let c = Config::load_with(None, |_| None).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind, DEFAULT_BIND);
        assert!(c.jwt_secret.is_none());
    }

    #[test]
    fn env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("regwatch.toml");
        std::fs::write(
            &p,
            "bind = \"0.0.0.0:9000\"\njwt_secret = \"from-file\"\npool_size = 3\n",
        )
        .unwrap();
        let env: HashMap<&str, &str> = [("REGWATCH_JWT_SECRET", "from-env")].into();
        let c = Config::load_with(Some(&p), |k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.pool_size, 3);
        assert_eq!(c.jwt_secret.unwrap().expose_secret(), "from-env");
    }

    #[test]
    fn unknown_key_in_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("regwatch.toml");
        std::fs::write(&p, "bnd = \"x\"\n").unwrap();
        let e = Config::load_with(Some(&p), |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bnd"), "{e}");
    }

    #[test]
    fn secrets_do_not_print() {
        let env: HashMap<&str, &str> = [
            ("REGWATCH_JWT_SECRET", "top-secret-key"),
            ("REGWATCH_SMTP_URL", "smtps://u:pw-secret@h:465"),
        ]
        .into();
        let c = Config::load_with(None, |k| env.get(k).map(|v| v.to_string())).unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("top-secret-key") && !dbg.contains("pw-secret"),
            "{dbg}"
        );
    }
}
