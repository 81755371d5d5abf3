//! Transports chosen by configuration: SMTP (lettre URL form, STARTTLS/TLS per the URL), the file
//! transport writing `.eml` files when no SMTP server is configured, and memory for unit tests.
use super::MailError;
use crate::config::Config;
use crate::store::outbox::OutboxRow;
use lettre::address::Envelope;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, FileTransport, Message, SmtpTransport, Transport as _};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DEFAULT_FROM: &str = "regwatch <noreply@localhost>";
pub const DEFAULT_OUTBOX_DIR: &str = "outbox";

/// What the worker needs to build and send messages.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub from: Mailbox,
    /// Envelope sender (receives bounces).
    pub bounce: Address,
    pub rate_per_minute: u32,
    pub max_attempts: u32,
}

impl MailSettings {
    pub fn from_config(c: &Config) -> Result<MailSettings, MailError> {
        let from: Mailbox = c
            .mail_from
            .as_deref()
            .unwrap_or(DEFAULT_FROM)
            .parse()
            .map_err(|e| MailError::Config(format!("mail_from: {e}")))?;
        let bounce: Address = match &c.mail_bounce {
            Some(b) => b
                .parse()
                .map_err(|e| MailError::Config(format!("mail_bounce: {e}")))?,
            None => from.email.clone(),
        };
        Ok(MailSettings {
            from,
            bounce,
            rate_per_minute: c.mail_rate_per_minute.max(1),
            max_attempts: c.mail_max_attempts.max(1),
        })
    }

    /// `<regwatch-outbox-42@example.jp>`: the same for every try of one message, so a receiver
    /// (and our tests) can recognise a repeat.
    pub fn message_id(&self, id: i64) -> String {
        format!("<regwatch-outbox-{id}@{}>", self.from.email.domain())
    }
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Builds the e-mail of an outbox row (subject and bodies were rendered when it was queued).
pub fn build_message(row: &OutboxRow, s: &MailSettings) -> Result<Message, String> {
    let to: Vec<Mailbox> = row
        .recipient_list()
        .iter()
        .map(|a| a.parse::<Mailbox>().map_err(|e| format!("宛先 {a}: {e}")))
        .collect::<Result<_, _>>()?;
    if to.is_empty() {
        return Err("宛先がありません".into());
    }
    let envelope = Envelope::new(
        Some(s.bounce.clone()),
        to.iter().map(|m| m.email.clone()).collect(),
    )
    .map_err(|e| e.to_string())?;
    let mut b = Message::builder()
        .from(s.from.clone())
        .subject(row.subject.clone())
        .message_id(Some(s.message_id(row.id)))
        .header(ListUnsubscribe(format!(
            "<mailto:{}?subject=unsubscribe%20employer%20{}>",
            s.bounce, row.employer_id
        )))
        .envelope(envelope);
    for m in to {
        b = b.to(m);
    }
    b.multipart(MultiPart::alternative_plain_html(
        row.body_text.clone(),
        row.body_html.clone(),
    ))
    .map_err(|e| e.to_string())
}

/// Why a send failed; `permanent` errors (SMTP 5xx) are not retried.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

#[derive(Clone)]
pub enum Transport {
    Smtp(SmtpTransport),
    File(FileTransport),
    Memory(Arc<Mutex<Vec<Message>>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Smtp(_) => "Transport::Smtp",
            Transport::File(_) => "Transport::File",
            Transport::Memory(_) => "Transport::Memory",
        })
    }
}

impl Transport {
    /// SMTP when `smtp_url` is set, else `.eml` files in `./outbox/`.
    pub fn from_config(c: &Config) -> Result<Transport, MailError> {
        match &c.smtp_url {
            Some(url) => Transport::smtp(url.expose_secret()),
            None => Transport::file(PathBuf::from(DEFAULT_OUTBOX_DIR)),
        }
    }

    /// `smtp://host:port` (plain), `smtp://…?tls=required` (STARTTLS), `smtps://…` (TLS).
    pub fn smtp(url: &str) -> Result<Transport, MailError> {
        let t = SmtpTransport::from_url(url)
            // The error text may quote the URL with its password.
            .map_err(|_| MailError::Config("smtp_url を解釈できません（smtp://host:port または smtps://user:pass@host:465）".into()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Transport::Smtp(t))
    }

    pub fn file(dir: PathBuf) -> Result<Transport, MailError> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| MailError::Config(format!("{} を作成できません: {e}", dir.display())))?;
        Ok(Transport::File(FileTransport::new(dir)))
    }

    pub fn memory() -> (Transport, Arc<Mutex<Vec<Message>>>) {
        let sink = Arc::new(Mutex::new(Vec::new()));
        (Transport::Memory(sink.clone()), sink)
    }

    pub fn send(&self, m: &Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp(t) => t.send(m).map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Transport::File(t) => t.send(m).map(|_| ()).map_err(|e| SendError {
                permanent: false,
                message: e.to_string(),
            }),
            Transport::Memory(sink) => {
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(m.clone());
                Ok(())
            }
        }
    }
}
