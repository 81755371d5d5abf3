//! Bytes → typed rows: encodings, era dates, header mapping, per-line errors (SPEC §3).
//!
//! Files are streamed: a reader holds one record at a time (plus, for notices, a 20-byte slot
//! per distinct 受付番号 to catch duplicates), or with `par_for_each` a few blocks of records
//! that worker threads type while the calling thread takes the results in file order. The My
//! Number column is classified and dropped as soon as it is read (SPEC §6).
use std::io::Read;
use std::path::Path;

pub mod convert;
mod dates;
mod egov;
mod encoding;
mod error;
mod headers;
mod notices;
mod parallel;
pub mod profile;
mod record;
mod registrations;
pub(crate) mod table;
mod text;

pub use convert::{Format, SourceOptions};
pub use dates::{parse_date, parse_timestamp, DateError, RegisteredAt};
pub use encoding::SourceEncoding;
pub use error::{FileError, RowError};
pub use notices::{
    duplicate_message, postal_code, NoticeReadOptions, NoticeReader, NoticeRef, NoticeRow,
};
pub use parallel::default_threads;
pub use profile::{FileProfile, Part, Profile, ProfileError};
pub use record::ReadStats;
pub use registrations::{
    member_key, member_label, pick_notice, MemberKey, RegResult, RegistrationReader,
    RegistrationRef, RegistrationRow,
};
pub use text::mask_digits;

/// Opens a notices file from disk: a regwatch CSV as it is, anything else (Excel, a profile,
/// tab-separated, e-Gov) converted on the way (see `convert`).
pub fn open_notices(
    path: &Path,
    opts: NoticeReadOptions,
    source: SourceOptions<'_>,
) -> Result<NoticeReader<Box<dyn Read>>, FileError> {
    let opened = convert::open_path(path, Part::Notices, source)?;
    let bytes = if opened.format == Format::Csv {
        file_size(path)
    } else {
        0
    };
    NoticeReader::with_size_hint(opened.reader, opts, bytes)
}

/// Opens a registrations file from disk, converted like [`open_notices`].
pub fn open_registrations(
    path: &Path,
    source: SourceOptions<'_>,
) -> Result<RegistrationReader<Box<dyn Read>>, FileError> {
    RegistrationReader::new(convert::open_path(path, Part::Registrations, source)?.reader)
}

/// The size of the file at `path` in bytes, 0 when unknown.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
