//! SMTP for `smtp://` URLs (plain or STARTTLS): lettre's SMTP client over a TCP connection we open
//! ourselves with TCP_NODELAY, kept open between messages.
//!
//! Why not lettre's blocking `SmtpTransport`: its socket keeps Nagle's algorithm on and it writes a
//! message's body and the closing `\r\n.\r\n` as two writes, so the 5-byte terminator waits for the
//! server's delayed ACK of the body (40 ms on Linux) — every message cost ~40 ms however fast the
//! server (the ~26 messages/s measured to a local aiosmtpd). lettre's async connection takes any
//! stream, so we give it one with TCP_NODELAY; the protocol (EHLO, STARTTLS, AUTH, dot-stuffing)
//! stays lettre's.
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StartTls {
    Never,
    Opportunistic,
    Required,
}

/// A reused connection that has been idle this long is checked with NOOP before the next message.
const IDLE_CHECK: Duration = Duration::from_secs(5);

pub struct NoDelaySmtp {
    host: String,
    port: u16,
    starttls: StartTls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    /// Always `Some` until dropped (see `Drop`).
    rt: Option<tokio::runtime::Runtime>,
    conn: Mutex<Option<(AsyncSmtpConnection, Instant)>>,
}

/// A send error: the text (never the URL or credentials) and whether the server refused for good.
pub struct SmtpFailure {
    pub message: String,
    pub permanent: bool,
}

impl From<lettre::transport::smtp::Error> for SmtpFailure {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        SmtpFailure {
            permanent: e.is_permanent(),
            message: e.to_string(),
        }
    }
}

fn transient(message: String) -> SmtpFailure {
    SmtpFailure {
        message,
        permanent: false,
    }
}

impl NoDelaySmtp {
    /// `smtp://[user:pass@]host[:port][?tls=required|opportunistic][&ehlo_domain=…]`, like lettre's
    /// URL form (port 25, or 587 with STARTTLS). `None` for any other scheme.
    pub fn from_url(u: &url::Url, timeout: Duration) -> Result<Option<NoDelaySmtp>, String> {
        if u.scheme() != "smtp" {
            return Ok(None);
        }
        let host = u.host_str().ok_or("ホスト名がありません")?.to_string();
        let mut starttls = StartTls::Never;
        let mut hello = ClientId::default();
        for (k, v) in u.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", "required") => starttls = StartTls::Required,
                ("tls", "opportunistic") => starttls = StartTls::Opportunistic,
                ("tls", _) => {}
                ("ehlo_domain", d) => hello = ClientId::Domain(d.to_string()),
                _ => {}
            }
        }
        let port = u.port().unwrap_or(match starttls {
            StartTls::Never => 25,
            _ => 587,
        });
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let credentials = (!u.username().is_empty())
            .then(|| Credentials::new(decode(u.username()), decode(u.password().unwrap_or(""))));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Some(NoDelaySmtp {
            host,
            port,
            starttls,
            credentials,
            hello,
            timeout,
            rt: Some(rt),
            conn: Mutex::new(None),
        }))
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpFailure> {
        let tcp = tokio::time::timeout(
            self.timeout,
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| {
            transient(format!(
                "{}:{} に接続できません（時間切れ）",
                self.host, self.port
            ))
        })?
        .map_err(|e| transient(format!("{}:{} に接続できません: {e}", self.host, self.port)))?;
        tcp.set_nodelay(true)
            .map_err(|e| transient(format!("TCP_NODELAY: {e}")))?;
        let mut c = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?;
        if self.starttls != StartTls::Never {
            if c.can_starttls() {
                let params = TlsParameters::new(self.host.clone())?;
                c.starttls(params, &self.hello).await?;
            } else if self.starttls == StartTls::Required {
                return Err(transient(
                    "SMTP サーバーが STARTTLS に対応していません".into(),
                ));
            }
        }
        if let Some(cred) = &self.credentials {
            c.auth(&[Mechanism::Plain, Mechanism::Login], cred).await?;
        }
        Ok(c)
    }

    /// Sends one message on the kept connection (opened, or reopened after a failure, as needed).
    /// A failed connection is dropped, never retried here: the outbox retries with backoff.
    pub fn send(&self, envelope: &Envelope, email: &[u8]) -> Result<(), SmtpFailure> {
        let mut slot = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let rt = self.rt.as_ref().expect("runtime kept until drop");
        rt.block_on(async {
            let reusable = match slot.take() {
                Some((mut c, last)) if !c.has_broken() => {
                    if last.elapsed() < IDLE_CHECK || c.test_connected().await {
                        Some(c)
                    } else {
                        c.abort().await;
                        None
                    }
                }
                Some((mut c, _)) => {
                    c.abort().await;
                    None
                }
                None => None,
            };
            let mut c = match reusable {
                Some(c) => c,
                None => self.connect().await?,
            };
            match tokio::time::timeout(self.timeout, c.send(envelope, email)).await {
                Ok(Ok(_)) => {
                    *slot = Some((c, Instant::now()));
                    Ok(())
                }
                Ok(Err(e)) => {
                    // A refused message (4xx/5xx after RSET-able state) leaves the session usable.
                    if !c.has_broken() && (e.is_permanent() || e.is_transient()) {
                        *slot = Some((c, Instant::now()));
                    } else {
                        c.abort().await;
                    }
                    Err(e.into())
                }
                Err(_) => {
                    c.abort().await;
                    Err(transient(
                        "SMTP サーバーの応答がありません（時間切れ）".into(),
                    ))
                }
            }
        })
    }
}

impl Drop for NoDelaySmtp {
    fn drop(&mut self) {
        let slot = self
            .conn
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(rt) = self.rt.take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Dropped inside another runtime (e.g. `serve` failing to start): blocking is not
            // allowed there, so no QUIT, and the runtime is let go without waiting.
            rt.shutdown_background();
        } else if let Some((mut c, _)) = slot {
            let _ = rt.block_on(async { c.quit().await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(u: &str) -> Option<NoDelaySmtp> {
        NoDelaySmtp::from_url(&url::Url::parse(u).unwrap(), Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn smtp_urls_read_like_lettre_and_smtps_is_left_to_lettre() {
        let t = parse("smtp://127.0.0.1").unwrap();
        assert_eq!((t.port, t.starttls), (25, StartTls::Never));
        assert!(t.credentials.is_none());
        let t = parse("smtp://user%40x:p%2Fw@mail.example.jp?tls=required").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.starttls),
            ("mail.example.jp", 587, StartTls::Required)
        );
        assert!(t.credentials.is_some());
        let t = parse("smtp://mail.example.jp:2525?tls=opportunistic&ehlo_domain=rw.example.jp")
            .unwrap();
        assert_eq!((t.port, t.starttls), (2525, StartTls::Opportunistic));
        assert_eq!(t.hello, ClientId::Domain("rw.example.jp".into()));
        assert!(parse("smtps://u:p@mail.example.jp:465").is_none());
    }
}
