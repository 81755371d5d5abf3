//! Transports chosen by configuration: SMTP (lettre URL form, STARTTLS/TLS per the URL), the file
//! transport writing `.eml` files when no SMTP server is configured, and memory for unit tests.
use super::smtp::NoDelaySmtp;
use super::MailError;
use crate::config::Config;
use crate::store::outbox::OutboxRow;
use lettre::address::Envelope;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, FileTransport, Message, SmtpTransport, Transport as _};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DEFAULT_FROM: &str = "regwatch <noreply@localhost>";
pub const DEFAULT_OUTBOX_DIR: &str = "outbox";
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// What the worker needs to build and send messages: the configured defaults (an insurer's own
/// sender, frozen into each message when it is queued, takes precedence), the rate limit, and what
/// the one-click unsubscribe link needs.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `mail_from`: the From of insurers that set none.
    pub from: Mailbox,
    /// `mail_bounce`: the envelope sender of insurers that set none (else their From address).
    pub bounce: Option<Address>,
    pub rate_per_minute: u32,
    pub max_attempts: u32,
    /// `public_url`: base of the RFC 8058 one-click link; without it only the mailto form is sent.
    pub public_url: Option<url::Url>,
    /// The app's key material, which signs the unsubscribe tokens.
    pub token_key: Option<Arc<SecretString>>,
}

/// Who a message is from, after the insurer's settings and the configured defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// Envelope sender (receives bounces).
    pub bounce: Address,
}

impl MailSettings {
    pub fn from_config(c: &Config) -> Result<MailSettings, MailError> {
        let from: Mailbox = c
            .mail_from
            .as_deref()
            .unwrap_or(DEFAULT_FROM)
            .parse()
            .map_err(|e| MailError::Config(format!("mail_from: {e}")))?;
        let bounce: Option<Address> = match &c.mail_bounce {
            Some(b) => Some(
                b.parse()
                    .map_err(|e| MailError::Config(format!("mail_bounce: {e}")))?,
            ),
            None => None,
        };
        let public_url = match c.public_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => {
                let u = url::Url::parse(u)
                    .map_err(|e| MailError::Config(format!("public_url: {e}")))?;
                if !matches!(u.scheme(), "https" | "http") {
                    return Err(MailError::Config(
                        "public_url は https:// で始まる URL を指定してください".into(),
                    ));
                }
                Some(u)
            }
        };
        Ok(MailSettings {
            from,
            bounce,
            rate_per_minute: c.mail_rate_per_minute.max(1),
            max_attempts: c.mail_max_attempts.max(1),
            public_url,
            token_key: None,
        })
    }

    /// With the key that signs unsubscribe tokens.
    pub fn with_token_key(mut self, key: Arc<SecretString>) -> MailSettings {
        self.token_key = Some(key);
        self
    }

    /// The sender from an insurer's (or a message's frozen) fields, each falling back to the
    /// configuration: name and address separately, the bounce address to `mail_bounce`, then to
    /// the From address.
    pub fn sender(
        &self,
        name: Option<&str>,
        from_address: Option<&str>,
        reply_to: Option<&str>,
        bounce: Option<&str>,
    ) -> Result<Sender, String> {
        let addr = |v: &str| {
            v.parse::<Address>()
                .map_err(|e| format!("メールアドレス {v}: {e}"))
        };
        let email = match from_address {
            Some(a) => addr(a)?,
            None => self.from.email.clone(),
        };
        let name = name.map(str::to_string).or_else(|| self.from.name.clone());
        let from = Mailbox::new(name, email);
        let reply_to = reply_to
            .map(|a| addr(a).map(|a| Mailbox::new(None, a)))
            .transpose()?;
        let bounce = match bounce {
            Some(b) => addr(b)?,
            None => self.bounce.clone().unwrap_or_else(|| from.email.clone()),
        };
        Ok(Sender {
            from,
            reply_to,
            bounce,
        })
    }

    /// The sender of a queued message.
    pub fn sender_of(&self, row: &OutboxRow) -> Result<Sender, String> {
        self.sender(
            row.sender_name.as_deref(),
            row.from_address.as_deref(),
            row.reply_to.as_deref(),
            row.bounce_address.as_deref(),
        )
    }

    /// `<regwatch-outbox-42@example.jp>`: the same for every try of one message, so a receiver
    /// (and our tests) can recognise a repeat.
    pub fn message_id(&self, sender: &Sender, id: i64) -> String {
        format!("<regwatch-outbox-{id}@{}>", sender.from.email.domain())
    }

    /// `https://…/unsubscribe/<token>` for the employer, when a public URL and the key are known.
    pub fn unsubscribe_url(&self, insurer: i64, employer: i64) -> Option<String> {
        let (base, key) = (self.public_url.as_ref()?, self.token_key.as_ref()?);
        let token = super::unsubscribe::token(
            key.expose_secret().as_bytes(),
            crate::store::insurers::InsurerId(insurer),
            employer,
        );
        Some(format!(
            "{}/unsubscribe/{token}",
            base.as_str().trim_end_matches('/')
        ))
    }
}

/// A header whose value we format ourselves (ASCII only: URLs and addresses).
macro_rules! raw_header {
    ($t:ident, $name:literal) => {
        #[derive(Clone)]
        struct $t(String);
        impl Header for $t {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($t(s.to_string()))
            }
            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

raw_header!(ListUnsubscribe, "List-Unsubscribe");
raw_header!(ListUnsubscribePost, "List-Unsubscribe-Post");

/// Builds the e-mail of an outbox row (subject and bodies were rendered when it was queued).
pub fn build_message(row: &OutboxRow, s: &MailSettings) -> Result<Message, String> {
    let sender = s.sender_of(row)?;
    let to: Vec<Mailbox> = row
        .recipient_list()
        .iter()
        .map(|a| a.parse::<Mailbox>().map_err(|e| format!("宛先 {a}: {e}")))
        .collect::<Result<_, _>>()?;
    if to.is_empty() {
        return Err("宛先がありません".into());
    }
    let envelope = Envelope::new(
        Some(sender.bounce.clone()),
        to.iter().map(|m| m.email.clone()).collect(),
    )
    .map_err(|e| e.to_string())?;
    // The mailto form reaches a person: the reply-to address when set, else the bounce mailbox.
    let mailto = sender
        .reply_to
        .as_ref()
        .map(|m| m.email.clone())
        .unwrap_or_else(|| sender.bounce.clone());
    let mailto = format!(
        "<mailto:{mailto}?subject=unsubscribe%20employer%20{}>",
        row.employer_id
    );
    let mut b = Message::builder()
        .from(sender.from.clone())
        .subject(row.subject.clone())
        .message_id(Some(s.message_id(&sender, row.id)))
        .envelope(envelope);
    if let Some(r) = &sender.reply_to {
        b = b.reply_to(r.clone());
    }
    b = match s.unsubscribe_url(row.insurer_id, row.employer_id) {
        Some(url) => b
            .header(ListUnsubscribe(format!("<{url}>, {mailto}")))
            .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into())),
        None => b.header(ListUnsubscribe(mailto)),
    };
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
    /// `smtp://`: one kept connection with TCP_NODELAY (see `mail::smtp`).
    Smtp(Arc<NoDelaySmtp>),
    /// `smtps://`: lettre's pooled blocking transport (implicit TLS).
    Pooled(SmtpTransport),
    File(FileTransport),
    Memory(Arc<Mutex<Vec<Message>>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Smtp(_) => "Transport::Smtp",
            Transport::Pooled(_) => "Transport::Pooled",
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
        // The error texts never quote the URL: it may hold a password.
        let bad = || {
            MailError::Config(
                "smtp_url を解釈できません（smtp://host:port または smtps://user:pass@host:465）"
                    .into(),
            )
        };
        let parsed = url::Url::parse(url).map_err(|_| bad())?;
        if let Some(t) = NoDelaySmtp::from_url(&parsed, SMTP_TIMEOUT).map_err(|_| bad())? {
            return Ok(Transport::Smtp(Arc::new(t)));
        }
        let t = SmtpTransport::from_url(url)
            .map_err(|_| bad())?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Transport::Pooled(t))
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
            Transport::Smtp(t) => t.send(m.envelope(), &m.formatted()).map_err(|e| SendError {
                permanent: e.permanent,
                message: e.message,
            }),
            Transport::Pooled(t) => t.send(m).map(|_| ()).map_err(|e| SendError {
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
