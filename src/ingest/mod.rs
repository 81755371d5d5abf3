//! Bytes → typed rows: encodings, era dates, header mapping, per-line errors (SPEC §3).
//!
//! Files are streamed: a reader holds one record at a time (plus, for notices, a 20-byte slot
//! per distinct 受付番号 to catch duplicates), or with `par_for_each` a few blocks of records
//! that worker threads type while the calling thread takes the results in file order. The My
//! Number column is classified and dropped as soon as it is read (SPEC §6).
use std::fs::File;
use std::io::Read;
use std::path::Path;

mod dates;
mod encoding;
mod error;
mod headers;
mod notices;
mod parallel;
mod record;
mod registrations;
pub(crate) mod table;
mod text;

pub use dates::{parse_date, parse_timestamp, DateError, RegisteredAt};
pub use encoding::SourceEncoding;
pub use error::{FileError, RowError};
pub use notices::{duplicate_message, NoticeReadOptions, NoticeReader, NoticeRef, NoticeRow};
pub use parallel::default_threads;
pub use record::ReadStats;
pub use registrations::{RegResult, RegistrationReader, RegistrationRef, RegistrationRow};
pub use text::mask_digits;

/// Opens a notices file from disk.
pub fn open_notices(
    path: &Path,
    opts: NoticeReadOptions,
) -> Result<NoticeReader<Box<dyn Read>>, FileError> {
    let (file, bytes) = open(path)?;
    NoticeReader::with_size_hint(file, opts, bytes)
}

/// Opens a registrations file from disk.
pub fn open_registrations(path: &Path) -> Result<RegistrationReader<Box<dyn Read>>, FileError> {
    RegistrationReader::new(open(path)?.0)
}

/// The file size in bytes returned along is 0 when unknown (a pipe).
fn open(path: &Path) -> Result<(Box<dyn Read>, u64), FileError> {
    // No BufReader: the sniffer and the record readers read in blocks of 64 KiB or more.
    let file = File::open(path).map_err(|source| FileError::Open {
        path: path.display().to_string(),
        source,
    })?;
    let bytes = file.metadata().map_or(0, |m| m.len());
    Ok((Box::new(file), bytes))
}

/// The size of the file at `path` in bytes, 0 when unknown.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
