//! Header row to column positions: Japanese or English names, any order, extras ignored (SPEC §3).
use csv::ByteRecord;

use super::error::FileError;
use super::text::halfwidth;

/// One logical column: the names it is known by and whether a file must have it.
pub(crate) struct ColumnSpec {
    pub ja: &'static str,
    pub en: &'static str,
    /// Other names seen in insurers' exports (共済 wording, per-kind date names).
    pub aliases: &'static [&'static str],
    pub required: bool,
}

impl ColumnSpec {
    const fn new(ja: &'static str, en: &'static str, required: bool) -> Self {
        ColumnSpec {
            ja,
            en,
            aliases: &[],
            required,
        }
    }

    const fn aka(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    /// How errors name the column: `受付日 (received_on)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.ja, self.en)
    }

    fn matches(&self, canonical_name: &str) -> bool {
        std::iter::once(self.ja)
            .chain(std::iter::once(self.en))
            .chain(self.aliases.iter().copied())
            .any(|n| canonical(n) == canonical_name)
    }
}

/// Columns of a notices file, in the order of [`NOTICE_COLUMNS`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum NoticeCol {
    NoticeId,
    Kind,
    EmployerCode,
    EmployerName,
    MemberSymbol,
    MemberNumber,
    DependentSeq,
    Name,
    NameKana,
    EventDate,
    ReceivedOn,
    MyNumber,
    DelayCause,
    InsurerNumber,
    MyNumberStatus,
    Reject,
    BirthDate,
    PostalCode,
    Address,
}

/// The column a converted file (profile, Excel, e-Gov: see `convert.rs`) uses to reject a row
/// whose problem only the conversion could see (a value the profile does not map): the
/// reader rejects the row with this text at the row's own line.
pub(crate) const REJECT_COLUMN: &str = "regwatch_reject";

pub(crate) const NOTICE_COLUMNS: [ColumnSpec; 19] = [
    ColumnSpec::new("受付番号", "notice_id", true),
    ColumnSpec::new("届書種別", "kind", true).aka(&["届出種別"]),
    ColumnSpec::new("事業所記号", "employer_code", true).aka(&["所属所記号"]),
    ColumnSpec::new("事業所名称", "employer_name", false).aka(&[
        "事業所名",
        "所属所名称",
        "所属所名",
    ]),
    ColumnSpec::new("被保険者記号", "member_symbol", true).aka(&["組合員記号"]),
    ColumnSpec::new("被保険者番号", "member_number", true).aka(&["組合員番号"]),
    ColumnSpec::new("枝番", "dependent_seq", false),
    ColumnSpec::new("氏名", "name", false),
    ColumnSpec::new("氏名カナ", "name_kana", false).aka(&["カナ氏名", "フリガナ"]),
    ColumnSpec::new("事実発生日", "event_date", true).aka(&[
        "資格取得年月日",
        "異動年月日",
        "資格喪失年月日",
        "被扶養者認定日",
    ]),
    ColumnSpec::new("受付日", "received_on", true).aka(&["受付年月日"]),
    ColumnSpec::new("個人番号", "my_number", false).aka(&["マイナンバー"]),
    ColumnSpec::new("遅延理由", "delay_cause", false),
    ColumnSpec::new("保険者番号", "insurer_number", false),
    ColumnSpec::new("個人番号記載", "my_number_status", false).aka(&["マイナンバー記載"]),
    ColumnSpec::new(REJECT_COLUMN, REJECT_COLUMN, false),
    // Optional: printed on 資格情報のお知らせ only when known.
    ColumnSpec::new("生年月日", "birth_date", false),
    // Optional: the member's postal address for the window envelope of the letters.
    ColumnSpec::new("郵便番号", "postal_code", false),
    ColumnSpec::new("住所", "address", false),
];

/// Columns of a registrations file, in the order of [`REGISTRATION_COLUMNS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RegistrationCol {
    NoticeId,
    RegisteredAt,
    Result,
    ErrorCode,
    ErrorMessage,
    MemberSymbol,
    MemberNumber,
    DependentSeq,
    Reject,
}

pub(crate) const REGISTRATION_COLUMNS: [ColumnSpec; 9] = [
    // Required unless the file names the member instead (SPEC §3.1; see registrations.rs).
    ColumnSpec::new("受付番号", "notice_id", false),
    // Required only when some row can be a success; the reader decides (see registrations.rs).
    ColumnSpec::new("登録完了日時", "registered_at", false),
    ColumnSpec::new("処理結果", "result", false),
    ColumnSpec::new("エラーコード", "error_code", false),
    ColumnSpec::new("エラー内容", "error_message", false),
    ColumnSpec::new("被保険者記号", "member_symbol", false).aka(&["組合員記号"]),
    ColumnSpec::new("被保険者番号", "member_number", false).aka(&["組合員番号"]),
    ColumnSpec::new("枝番", "dependent_seq", false),
    ColumnSpec::new(REJECT_COLUMN, REJECT_COLUMN, false),
];

/// Where each logical column is in the file. A column may appear more than once (an export
/// with both 資格取得年月日 and 資格喪失年月日); the row then takes the one that is filled.
#[derive(Debug)]
pub(crate) struct ColumnMap {
    positions: Vec<Vec<usize>>,
}

impl ColumnMap {
    pub fn positions(&self, column: usize) -> &[usize] {
        &self.positions[column]
    }

    pub fn has(&self, column: usize) -> bool {
        !self.positions[column].is_empty()
    }
}

/// Maps the header record. Every missing required column is named, not just the first.
pub(crate) fn map_header(
    header: &ByteRecord,
    specs: &[ColumnSpec],
) -> Result<ColumnMap, FileError> {
    let mut positions = vec![Vec::new(); specs.len()];
    for (i, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| {
            FileError::BadHeader(format!("{}列目の列名の文字コードが読み取れません", i + 1))
        })?;
        let name = canonical(name);
        if name.is_empty() {
            continue;
        }
        if let Some(k) = specs.iter().position(|s| s.matches(&name)) {
            positions[k].push(i);
        }
    }
    let missing: Vec<String> = specs
        .iter()
        .zip(&positions)
        .filter(|(s, p)| s.required && p.is_empty())
        .map(|(s, _)| s.label())
        .collect();
    if missing.is_empty() {
        Ok(ColumnMap { positions })
    } else {
        Err(FileError::MissingColumns(missing))
    }
}

/// The comparable form of a column name: half-width, ASCII lower case, without BOM, spaces,
/// underscores, hyphens, or the `*`/`※` marks templates put on required columns.
pub(crate) fn canonical(name: &str) -> String {
    halfwidth(name)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{FEFF}' | '_' | '-' | '*' | '※'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> ByteRecord {
        ByteRecord::from(names.to_vec())
    }

    const REQUIRED_JA: [&str; 7] = [
        "受付番号",
        "届書種別",
        "事業所記号",
        "被保険者記号",
        "被保険者番号",
        "事実発生日",
        "受付日",
    ];

    #[test]
    fn japanese_and_english_names_in_any_order() {
        let ja = map_header(&header(&REQUIRED_JA), &NOTICE_COLUMNS).unwrap();
        assert_eq!(ja.positions(NoticeCol::ReceivedOn as usize), &[6]);
        let en = header(&[
            "received_on",
            "extra",
            "event_date",
            "member_number",
            "member_symbol",
            "employer_code",
            "kind",
            "notice_id",
        ]);
        let en = map_header(&en, &NOTICE_COLUMNS).unwrap();
        assert_eq!(en.positions(NoticeCol::NoticeId as usize), &[7]);
        assert_eq!(en.positions(NoticeCol::ReceivedOn as usize), &[0]);
        assert!(!en.has(NoticeCol::MyNumber as usize));
    }

    #[test]
    fn names_are_normalised() {
        let names = [
            "\u{FEFF}受付番号",
            " 届書種別 ",
            "事業所記号※",
            "被保険者記号",
            "被保険者番号",
            "資格取得年月日",
            "受付年月日",
            "Notice ID",
            "ＭＹ＿ＮＵＭＢＥＲ",
            "マイナンバー",
        ];
        let map = map_header(&header(&names), &NOTICE_COLUMNS).unwrap();
        assert_eq!(map.positions(NoticeCol::NoticeId as usize), &[0, 7]);
        assert_eq!(map.positions(NoticeCol::EventDate as usize), &[5]);
        assert_eq!(map.positions(NoticeCol::MyNumber as usize), &[8, 9]);
    }

    #[test]
    fn missing_required_columns_are_all_named() {
        let err = map_header(&header(&REQUIRED_JA[..5]), &NOTICE_COLUMNS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "必須の列がありません: 事実発生日 (event_date), 受付日 (received_on)"
        );
    }

    #[test]
    fn column_enums_follow_their_tables() {
        assert_eq!(
            NOTICE_COLUMNS[NoticeCol::InsurerNumber as usize].en,
            "insurer_number"
        );
        assert_eq!(NOTICE_COLUMNS[NoticeCol::MyNumber as usize].en, "my_number");
        assert_eq!(
            NOTICE_COLUMNS[NoticeCol::EventDate as usize].en,
            "event_date"
        );
        assert_eq!(
            REGISTRATION_COLUMNS[RegistrationCol::ErrorMessage as usize].en,
            "error_message"
        );
        assert_eq!(
            REGISTRATION_COLUMNS[RegistrationCol::Result as usize].en,
            "result"
        );
    }
}
