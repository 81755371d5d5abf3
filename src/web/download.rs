//! File downloads: the `Content-Disposition` of an export (RFC 6266), and a body written as it
//! is produced (`stream`).
use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

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

/// Bytes a streamed body sends at a time.
const STREAM_CHUNK: usize = 64 * 1024;
/// Chunks written ahead of what the client has read: a slow client holds back the writer (and
/// its database connection) instead of the server buffering the file.
const STREAM_AHEAD: usize = 4;

/// A response body that `write` produces on a blocking thread: the response starts at once and
/// its bytes go out in chunks as they are written, at most [`STREAM_AHEAD`] chunks ahead of the
/// client. When `write` fails the response is cut off (the client sees an incomplete download,
/// never a file that looks whole) and the error is logged; when the client goes away the writes
/// fail and `write` stops.
pub fn stream<E>(
    write: impl FnOnce(&mut ChunkWriter) -> Result<(), E> + Send + 'static,
) -> StreamBody
where
    E: std::fmt::Display,
{
    let (tx, rx) = mpsc::channel(STREAM_AHEAD);
    actix_web::rt::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(STREAM_CHUNK),
            sent: 0,
        };
        let done = write(&mut out)
            .map_err(|e| e.to_string())
            .and_then(|()| io::Write::flush(&mut out).map_err(|e| e.to_string()));
        if let Err(e) = done {
            tracing::error!(error = %e, sent = out.sent, "download cut off");
            // Fails only when the client has gone already.
            let _ = tx.blocking_send(Err(io::Error::other("download cut off")));
        }
    });
    StreamBody { rx }
}

/// Where a streamed body is written (see [`stream`]).
pub struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    /// Bytes handed to the response so far.
    sent: usize,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(STREAM_CHUNK));
        self.sent += chunk.len();
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= STREAM_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The body [`stream`] returns.
pub struct StreamBody {
    rx: mpsc::Receiver<io::Result<Bytes>>,
}

impl MessageBody for StreamBody {
    type Error = io::Error;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.get_mut().rx.poll_recv(cx)
    }
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
