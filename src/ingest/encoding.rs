//! Bytes to UTF-8 with `\n` line ends: UTF-8 (with or without BOM) passes through, Shift_JIS
//! (CP932) is transcoded on the fly, binaries and UTF-16 are refused.
use std::io::{self, Chain, Cursor, Read};

use encoding_rs::SHIFT_JIS;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use super::error::FileError;

/// How much is looked at before deciding; also the window that must be free of NUL bytes.
const SNIFF_LEN: usize = 64 * 1024;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encoding a file was read in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourceEncoding {
    #[default]
    Utf8,
    Utf8WithBom,
    /// CP932: encoding_rs's SHIFT_JIS is the WHATWG definition, which is Windows-31J.
    ShiftJis,
}

impl SourceEncoding {
    pub fn label(self) -> &'static str {
        match self {
            SourceEncoding::Utf8 => "UTF-8",
            SourceEncoding::Utf8WithBom => "UTF-8 (BOM付き)",
            SourceEncoding::ShiftJis => "Shift_JIS",
        }
    }
}

/// A reader yielding UTF-8 whatever the file was written in, with every line ending (CRLF, CR,
/// LF) turned into `\n` and a final `\n` added if missing.
///
/// The line ends are normalised because the csv crate's line positions are unreliable for row
/// errors: with CRLF a record's position still points at the previous line, and blank lines
/// are counted towards the record after them. With every record ending in exactly one `\n`,
/// the line after a record minus one is its last physical line (see `Records::next_record`).
pub struct Decoded<R> {
    state: State<R>,
    bom: bool,
    /// The last byte handed out was a `\r` turned into `\n`: a `\n` right after it is dropped.
    after_cr: bool,
    /// The last byte handed out, to add the final `\n`.
    last: u8,
    ended: bool,
}

enum State<R> {
    /// Only ASCII so far, which reads the same in both encodings. The decision waits for the
    /// first non-ASCII byte, so that a file whose first 64 KiB happen to be ASCII (English
    /// headers, codes, ISO dates) is still recognised as Shift_JIS when names appear later.
    Undecided {
        src: R,
        buf: Vec<u8>,
        pos: usize,
        eof: bool,
    },
    Utf8(Chain<Cursor<Vec<u8>>, R>),
    ShiftJis(DecodeReaderBytes<Chain<Cursor<Vec<u8>>, R>, Vec<u8>>),
    /// Only while moving from `Undecided` to a decided state.
    Moving,
}

impl<R: Read> Decoded<R> {
    /// Sniffs the start of `src`. Fails for an empty, binary or UTF-16 file.
    pub fn new(mut src: R) -> Result<Self, FileError> {
        let mut buf = Vec::new();
        let eof = fill(&mut src, &mut buf, SNIFF_LEN)?;
        if buf.is_empty() {
            return Err(FileError::Empty);
        }
        if buf.starts_with(b"\xFF\xFE") || buf.starts_with(b"\xFE\xFF") {
            return Err(FileError::UnsupportedEncoding("UTF-16"));
        }
        if buf.contains(&0) {
            return Err(FileError::Binary);
        }
        if buf.starts_with(UTF8_BOM) {
            let mut cursor = Cursor::new(buf);
            cursor.set_position(UTF8_BOM.len() as u64);
            return Ok(Decoded::with(State::Utf8(cursor.chain(src)), true));
        }
        Ok(Decoded::with(
            State::Undecided {
                src,
                buf,
                pos: 0,
                eof,
            },
            false,
        ))
    }

    fn with(state: State<R>, bom: bool) -> Self {
        Decoded {
            state,
            bom,
            after_cr: false,
            last: b'\n',
            ended: false,
        }
    }

    /// The encoding as decided so far; an all-ASCII prefix counts as UTF-8.
    pub fn encoding(&self) -> SourceEncoding {
        match self.state {
            State::ShiftJis(_) => SourceEncoding::ShiftJis,
            _ if self.bom => SourceEncoding::Utf8WithBom,
            _ => SourceEncoding::Utf8,
        }
    }

    /// Called at the first non-ASCII byte (at `pos`): look at up to SNIFF_LEN bytes from there.
    fn decide(&mut self) -> io::Result<()> {
        let State::Undecided {
            mut src,
            mut buf,
            pos,
            mut eof,
        } = std::mem::replace(&mut self.state, State::Moving)
        else {
            return Ok(());
        };
        buf.drain(..pos);
        if !eof && buf.len() < SNIFF_LEN {
            eof = fill(&mut src, &mut buf, SNIFF_LEN)?;
        }
        let utf8 = looks_like_utf8(&buf, eof);
        let rest = Cursor::new(buf).chain(src);
        self.state = if utf8 {
            State::Utf8(rest)
        } else {
            State::ShiftJis(
                DecodeReaderBytesBuilder::new()
                    .encoding(Some(SHIFT_JIS))
                    .build(rest),
            )
        };
        Ok(())
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.ended {
            return Ok(0);
        }
        loop {
            let n = self.read_utf8(out)?;
            if n == 0 {
                self.ended = true;
                if self.last != b'\n' {
                    out[0] = b'\n';
                    return Ok(1);
                }
                return Ok(0);
            }
            let n = self.normalise_line_ends(&mut out[..n]);
            // A chunk that was only the `\n` of a CRLF is not the end of the file.
            if n > 0 {
                self.last = out[n - 1];
                return Ok(n);
            }
        }
    }
}

impl<R: Read> Decoded<R> {
    /// In place; returns the new length.
    fn normalise_line_ends(&mut self, buf: &mut [u8]) -> usize {
        if !self.after_cr && !buf.contains(&b'\r') {
            return buf.len();
        }
        let mut w = 0;
        for r in 0..buf.len() {
            let b = buf[r];
            if b == b'\n' && self.after_cr {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            buf[w] = if b == b'\r' { b'\n' } else { b };
            w += 1;
        }
        w
    }

    fn read_utf8(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            match &mut self.state {
                State::Utf8(r) => return r.read(out),
                State::ShiftJis(r) => return r.read(out),
                State::Moving => {
                    return Err(io::Error::other("encoding detection was interrupted"));
                }
                State::Undecided { src, buf, pos, eof } => {
                    let pending = &buf[*pos..];
                    if pending.is_empty() {
                        if *eof {
                            return Ok(0);
                        }
                        buf.clear();
                        *pos = 0;
                        *eof = fill(src, buf, SNIFF_LEN)?;
                        continue;
                    }
                    let window = &pending[..pending.len().min(out.len())];
                    let ascii = window.iter().take_while(|b| b.is_ascii()).count();
                    if ascii > 0 {
                        let n = ascii.min(out.len());
                        out[..n].copy_from_slice(&pending[..n]);
                        *pos += n;
                        return Ok(n);
                    }
                }
            }
            // The pending bytes start with a non-ASCII byte.
            self.decide()?;
        }
    }
}

/// Reads until `buf` holds `target` bytes or the source ends; returns whether it ended.
fn fill<R: Read>(src: &mut R, buf: &mut Vec<u8>, target: usize) -> io::Result<bool> {
    let mut len = buf.len();
    buf.resize(target.max(len), 0);
    let eof = loop {
        if len == buf.len() {
            break false;
        }
        match src.read(&mut buf[len..]) {
            Ok(0) => break true,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        }
    };
    buf.truncate(len);
    Ok(eof)
}

/// Valid UTF-8 is UTF-8. Otherwise the encoding with fewer decoding errors wins, so that one
/// corrupt byte in a UTF-8 file gives one bad line rather than a whole file of mojibake.
/// A character cut at the end of the window is not an error unless the file ends there.
fn looks_like_utf8(b: &[u8], eof: bool) -> bool {
    let utf8 = utf8_errors(b, eof);
    utf8 == 0 || utf8 <= shift_jis_errors(b, eof)
}

fn utf8_errors(mut b: &[u8], eof: bool) -> usize {
    let mut n = 0;
    loop {
        match std::str::from_utf8(b) {
            Ok(_) => return n,
            Err(e) => match e.error_len() {
                None => return n + usize::from(eof),
                Some(len) => {
                    n += 1;
                    b = &b[e.valid_up_to() + len..];
                }
            },
        }
    }
}

fn shift_jis_errors(mut b: &[u8], eof: bool) -> usize {
    use encoding_rs::DecoderResult;
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut scratch = [0u8; 4096];
    let mut n = 0;
    loop {
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(b, &mut scratch, eof);
        b = &b[read..];
        match result {
            DecoderResult::InputEmpty => return n,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(..) => n += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> (SourceEncoding, String) {
        let mut d = Decoded::new(bytes).unwrap();
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        (d.encoding(), String::from_utf8(out).unwrap())
    }

    /// Hands out at most `step` bytes per read, like a socket or a pipe.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn line_ends_become_lf_and_the_last_line_is_ended() {
        let (_, out) = decode_all(b"a\r\nb\rc\n\r\nd");
        assert_eq!(out, "a\nb\nc\n\nd\n");
        let (_, out) = decode_all("受付\r\n".as_bytes());
        assert_eq!(out, "受付\n");
        // A CRLF split between two reads is still one line end.
        let data = b"ab\r\ncd\r\n";
        let mut d = Decoded::new(Trickle { data, step: 3 }).unwrap();
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"ab\ncd\n");
    }

    #[test]
    fn utf8_passes_through_and_bom_is_stripped() {
        let text = "受付番号,氏名\nA1,山田\n";
        assert_eq!(
            decode_all(text.as_bytes()),
            (SourceEncoding::Utf8, text.to_string())
        );
        let mut with_bom = UTF8_BOM.to_vec();
        with_bom.extend_from_slice(text.as_bytes());
        assert_eq!(
            decode_all(&with_bom),
            (SourceEncoding::Utf8WithBom, text.to_string())
        );
    }

    #[test]
    fn shift_jis_is_transcoded() {
        let text = "受付番号,氏名\nA1,髙橋　①\n";
        let (sjis, _, unmappable) = SHIFT_JIS.encode(text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&sjis).is_err());
        assert_eq!(
            decode_all(&sjis),
            (SourceEncoding::ShiftJis, text.to_string())
        );
    }

    #[test]
    fn shift_jis_after_a_long_ascii_prefix_is_still_detected() {
        let mut text = String::from("notice_id,name\n");
        while text.len() < 3 * SNIFF_LEN {
            text.push_str("A0000001,Yamada Taro\n");
        }
        text.push_str("A9,山田太郎\n");
        let (sjis, _, _) = SHIFT_JIS.encode(&text);
        assert_eq!(decode_all(&sjis), (SourceEncoding::ShiftJis, text.clone()));
        let (enc, out) = decode_all(text.as_bytes());
        assert_eq!((enc, out == text), (SourceEncoding::Utf8, true));
    }

    #[test]
    fn a_character_cut_at_the_sniff_window_is_not_an_error() {
        for shift in 0..3 {
            let mut text = "x".repeat(SNIFF_LEN - 1 - shift);
            text.push_str(&"受付".repeat(40_000));
            text.push('\n');
            let data = text.as_bytes();
            let mut d = Decoded::new(Trickle { data, step: 1000 }).unwrap();
            let mut out = Vec::new();
            d.read_to_end(&mut out).unwrap();
            assert_eq!(d.encoding(), SourceEncoding::Utf8);
            assert_eq!(out, data);
        }
    }

    #[test]
    fn one_bad_byte_in_a_utf8_file_keeps_it_utf8() {
        let mut bytes = "受付番号,氏名\n".repeat(50).into_bytes();
        bytes.extend_from_slice(b"A1,\xFF\n");
        bytes.extend_from_slice("A2,山田\n".repeat(50).as_bytes());
        let mut d = Decoded::new(&bytes[..]).unwrap();
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        assert_eq!(d.encoding(), SourceEncoding::Utf8);
        assert_eq!(out, bytes);
    }

    #[test]
    fn empty_binary_and_utf16_are_refused() {
        assert!(matches!(Decoded::new(&b""[..]), Err(FileError::Empty)));
        assert!(matches!(
            Decoded::new(&b"PK\x03\x04\x14\x00\x06\x00"[..]),
            Err(FileError::Binary)
        ));
        let utf16 = b"\xFF\xFEa\x00,\x00b\x00";
        assert!(matches!(
            Decoded::new(&utf16[..]),
            Err(FileError::UnsupportedEncoding("UTF-16"))
        ));
    }
}
