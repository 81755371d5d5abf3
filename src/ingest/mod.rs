//! Bytes → typed rows: encodings, era dates, header mapping, per-line errors (SPEC §3).
//!
//! Files are streamed: a reader holds one record at a time (plus, for notices, a 32-byte entry
//! per distinct 受付番号 to catch duplicates). The My Number column is classified and dropped
//! as soon as it is read (SPEC §6).
use std::fs::File;
use std::io::Read;
use std::path::Path;

mod dates;
mod encoding;
mod error;
mod headers;
mod notices;
mod record;
mod registrations;
mod text;

pub use dates::{parse_date, parse_timestamp, DateError, RegisteredAt};
pub use encoding::SourceEncoding;
pub use error::{FileError, RowError};
pub use notices::{NoticeReadOptions, NoticeReader, NoticeRow};
pub use record::ReadStats;
pub use registrations::{RegResult, RegistrationReader, RegistrationRow};
pub use text::mask_digits;

/// Opens a notices file from disk.
pub fn open_notices(
    path: &Path,
    opts: NoticeReadOptions,
) -> Result<NoticeReader<Box<dyn Read>>, FileError> {
    NoticeReader::new(open(path)?, opts)
}

/// Opens a registrations file from disk.
pub fn open_registrations(path: &Path) -> Result<RegistrationReader<Box<dyn Read>>, FileError> {
    RegistrationReader::new(open(path)?)
}

fn open(path: &Path) -> Result<Box<dyn Read>, FileError> {
    // No BufReader: the sniffer and the csv reader both read in 64 KiB blocks.
    let file = File::open(path).map_err(|source| FileError::Open {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Box::new(file))
}
