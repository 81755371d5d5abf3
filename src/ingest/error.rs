//! What can go wrong while reading a file: per-line rejections and whole-file failures.
use std::fmt;

/// One rejected data line. The rest of the file is still read (SPEC §2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// 1-based physical line of the CSV where the record starts; the header is line 1.
    pub line: u64,
    /// Japanese, names the column; any echoed value has long digit runs masked.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for RowError {}

/// The file as a whole cannot be used. Messages are shown to users as they are.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("ファイルを開けません: {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("ファイルを読み込めません: {0}")]
    Io(#[from] std::io::Error),
    #[error("バイナリファイルのようです。CSV または Excel のファイルを指定してください")]
    Binary,
    #[error("{0} のファイルには対応していません。UTF-8 または Shift_JIS のCSV（または Excel）で保存してください")]
    UnsupportedEncoding(&'static str),
    #[error("ファイルが空です")]
    Empty,
    #[error("データ行がありません")]
    NoDataRows,
    #[error("必須の列がありません: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("見出し行（1行目）を読み取れません: {0}")]
    BadHeader(String),
    #[error("取込プロファイルが合いません: {0}")]
    Profile(String),
    #[error("{0}")]
    Excel(String),
    #[error("e-Gov ファイルを読み込めません: {0}")]
    Egov(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_error_displays_line_first() {
        let e = RowError {
            line: 12,
            reason: "受付日 (received_on) が空です".into(),
        };
        assert_eq!(e.to_string(), "line 12: 受付日 (received_on) が空です");
    }
}
