//! Employers' electronic-media / e-Gov files (日本年金機構 `SHFD0006.CSV`, 健保組合 `KPFD0006.CSV`)
//! → the regwatch notices format (SPEC §3.1).
//!
//! Layout (CSV形式届書作成仕様書): Shift_JIS, CRLF, commas without quoting; line 1 the 媒体管理
//! record (`都道府県,郡市区,事業所記号,媒体通番,作成年月日,22223`; the 健保組合 form starts
//! `組合事業所番号,媒体通番,作成年月日`), `[kanri]`, the office count, the office line, `[data]`,
//! then one record per person whose first item is the 届書コード. Dates are a 元号 code item
//! (5 昭和, 7 平成, 9 令和) followed by a YYMMDD item. Items read (1-based):
//!
//! | 届書 | 整理番号 | 氏名カナ / 漢字 | 個人番号 | 事実発生日 |
//! | --- | --- | --- | --- | --- |
//! | 2200700 資格取得届 | 6 (KPFD: 35 被保険者証番号 when filled) | 7 / 8 | 13 | 18–19 資格取得年月日 |
//! | 2201700 資格喪失届 | 6 | 7 / 8 | 11 | 14–15 資格喪失年月日 |
//! | 2202700 被扶養者(異動)届 | 8 | spouse 24 / 25, others +1 / +2 from 70 and 103 | spouse 29, others +8 | spouse 44–45, others +20–21 |
//!
//! The My Number is classified and dropped here: only its status goes on. The 受付番号 is
//! derived from the file's media record and the record's line
//! (`EG{作成年月日}-E{事業所番号}-S{媒体通番}-L{line}`), so loading the file again
//! changes nothing.
use chrono::NaiveDate;

use super::error::FileError;

/// The media record's 代表届書コード of SHFD0006.
const MEDIA_CODE: &str = "22223";

/// A file whose head has the `[kanri]` and `[data]` section lines (ASCII in any encoding).
pub(crate) fn looks_like_egov(head: &[u8]) -> bool {
    let mut kanri = false;
    for line in head.split(|&b| b == b'\n').take(64) {
        let l = line.strip_suffix(b"\r").unwrap_or(line);
        if l.eq_ignore_ascii_case(b"[kanri]") {
            kanri = true;
        } else if kanri && l.eq_ignore_ascii_case(b"[data]") {
            return true;
        }
    }
    false
}

const HEADER: [&str; 13] = [
    "notice_id",
    "kind",
    "employer_code",
    "employer_name",
    "member_symbol",
    "member_number",
    "dependent_seq",
    "name",
    "name_kana",
    "event_date",
    "received_on",
    "my_number_status",
    "regwatch_reject",
];

/// One notice as the regwatch format has it (the columns of `HEADER`).
#[derive(Default)]
struct Out {
    kind: &'static str,
    member_number: String,
    dependent_seq: String,
    name: String,
    name_kana: String,
    event_date: String,
    my_number_status: &'static str,
    reject: String,
}

/// Converts a whole e-Gov file (they are small: one employer's submission).
pub(crate) fn convert(bytes: &[u8], received_on: Option<NaiveDate>) -> Result<Vec<u8>, FileError> {
    let received_on = received_on.ok_or_else(|| {
        FileError::Egov("受付日（ファイルを受け取った日）が指定されていません".into())
    })?;
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t.trim_start_matches('\u{FEFF}')),
        Err(_) => {
            let (t, _, had_errors) = encoding_rs::SHIFT_JIS.decode(bytes);
            if had_errors {
                return Err(FileError::Egov(
                    "Shift_JIS として読めない文字があります".into(),
                ));
            }
            t
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let media: Vec<&str> = lines
        .first()
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    let pension = media.get(5).map(|s| s.trim()) == Some(MEDIA_CODE);
    let (media_office, serial, created) = if pension {
        (
            format!("{}{}{}", item(&media, 1), item(&media, 2), item(&media, 3)),
            item(&media, 4),
            item(&media, 5),
        )
    } else {
        (
            item(&media, 1).to_string(),
            item(&media, 2),
            item(&media, 3),
        )
    };
    if created.len() != 8 || !created.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FileError::Egov(format!(
            "1行目（媒体管理レコード）の作成年月日「{created}」が YYYYMMDD ではありません"
        )));
    }
    let data_at = lines
        .iter()
        .position(|l| l.trim().eq_ignore_ascii_case("[data]"))
        .ok_or_else(|| FileError::Egov("[data] の行がありません".into()))?;
    let kanri_at = lines
        .iter()
        .position(|l| l.trim().eq_ignore_ascii_case("[kanri]"))
        .ok_or_else(|| FileError::Egov("[kanri] の行がありません".into()))?;
    // [kanri], the office count, then the office line(s): the first one names the employer.
    let office: Vec<&str> = lines
        .get(kanri_at + 2)
        .filter(|_| kanri_at + 2 < data_at)
        .map(|l| l.split(',').collect())
        .ok_or_else(|| FileError::Egov("事業所情報の行がありません".into()))?;
    let (employer_code, employer_name) = if pension {
        (item(&office, 4).to_string(), item(&office, 8).to_string())
    } else {
        (item(&office, 1).to_string(), item(&office, 5).to_string())
    };
    let employer_code = if employer_code.is_empty() {
        media_office
    } else {
        employer_code
    };
    if employer_code.is_empty() {
        return Err(FileError::Egov("事業所番号がありません".into()));
    }

    let mut out = Vec::with_capacity(bytes.len() * 2);
    push_record(&mut out, HEADER.iter().copied());
    out.extend(std::iter::repeat_n(b'\n', data_at));
    for (i, line) in lines.iter().enumerate().skip(data_at + 1) {
        let line_no = i + 1;
        if line.trim().is_empty() {
            out.push(b'\n');
            continue;
        }
        let items: Vec<&str> = line.split(',').collect();
        let n = record(&items, pension);
        // Letters between the parts: a run of 12 digits or more (even with hyphens) would be
        // masked as a possible My Number wherever the 受付番号 is echoed.
        let notice_id = format!("EG{created}-E{employer_code}-S{serial}-L{line_no:04}");
        let received = received_on.format("%Y-%m-%d").to_string();
        push_record(
            &mut out,
            [
                notice_id.as_str(),
                n.kind,
                &employer_code,
                &employer_name,
                &employer_code,
                &n.member_number,
                &n.dependent_seq,
                &n.name,
                &n.name_kana,
                &n.event_date,
                &received,
                n.my_number_status,
                &n.reject,
            ]
            .into_iter(),
        );
    }
    Ok(out)
}

/// Item `n` (1-based), trimmed; empty when the record is shorter.
fn item<'a>(items: &[&'a str], n: usize) -> &'a str {
    items.get(n - 1).map_or("", |s| s.trim())
}

/// One data record.
fn record(items: &[&str], pension: bool) -> Out {
    let code = item(items, 1);
    let mut o = Out::default();
    let reject = |o: &mut Out, why: String| {
        if o.reject.is_empty() {
            o.reject = why;
        }
    };
    let (kind, min_items) = match code {
        "2200700" => ("acquisition", 19),
        "2201700" => ("loss", 15),
        "2202700" => ("dependent", 139),
        _ => {
            o.kind = "acquisition";
            reject(
                &mut o,
                format!(
                    "届書コード「{}」は取込の対象外です（2200700 資格取得届、2202700 被扶養者(異動)届、2201700 資格喪失届）",
                    super::text::mask_digits(code)
                ),
            );
            return o;
        }
    };
    o.kind = kind;
    if items.len() < min_items {
        reject(
            &mut o,
            format!(
                "届書コード {code} の項目数が {} です（{min_items} 項目以上が必要です）",
                items.len()
            ),
        );
        return o;
    }
    let (number_item, kana, kanji, my_number, date) = match code {
        "2200700" => {
            // 健保組合の様式: item 35 is the 被保険者証番号 the 組合 gave.
            let own = if pension { "" } else { item(items, 35) };
            (if own.is_empty() { 6 } else { 35 }, 7, 8, 13, 18)
        }
        "2201700" => (6, 7, 8, 11, 14),
        _ => {
            if item(items, 21) != "1" {
                reject(
                    &mut o,
                    format!(
                        "異動の別「{}」は取込の対象外です（1 該当の届のみ）",
                        item(items, 21)
                    ),
                );
            }
            // The first dependent the record adds: the spouse, else the others in order.
            let sections = [
                (22, "配偶者", 2, 3, 7, 22),
                (70, "被扶養者1", 1, 2, 8, 20),
                (103, "被扶養者2", 1, 2, 8, 20),
            ];
            let found = sections
                .iter()
                .find(|(base, _, _, _, _, d)| !item(items, base + d + 1).is_empty());
            match found {
                Some(&(base, seq, kana, kanji, mn, d)) => {
                    o.dependent_seq = seq.to_string();
                    (8, base + kana, base + kanji, base + mn, base + d)
                }
                None => {
                    reject(
                        &mut o,
                        "被扶養者になった日のある被扶養者がありません".into(),
                    );
                    return o;
                }
            }
        }
    };
    o.member_number = item(items, number_item).to_string();
    if o.member_number.is_empty() {
        reject(
            &mut o,
            "被保険者整理番号が空です（加入者を特定できません）".into(),
        );
    }
    o.name_kana = item(items, kana).to_string();
    o.name = item(items, kanji).to_string();
    // Classified here and dropped: only the status leaves this function (SPEC §6).
    o.my_number_status =
        crate::domain::my_number::MyNumberStatus::classify(item(items, my_number)).code();
    match era_date(item(items, date), item(items, date + 1)) {
        Ok(d) => o.event_date = d,
        Err(why) => reject(&mut o, why),
    }
    o
}

/// 元号 code + YYMMDD → 和暦 text the date reader checks (`令和7年4月1日`).
fn era_date(era: &str, yymmdd: &str) -> Result<String, String> {
    let name = match era {
        "5" => "昭和",
        "7" => "平成",
        "9" => "令和",
        "" => return Err("事実発生日（元号）が空です".into()),
        other => {
            return Err(format!(
                "元号コード「{other}」が読めません（7 平成、9 令和）"
            ))
        }
    };
    if yymmdd.len() != 6 || !yymmdd.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("事実発生日「{yymmdd}」が YYMMDD ではありません"));
    }
    let n = |r: std::ops::Range<usize>| yymmdd[r].parse::<u32>().unwrap_or(0);
    Ok(format!("{name}{}年{}月{}日", n(0..2), n(2..4), n(4..6)))
}

fn push_record<'a>(out: &mut Vec<u8>, fields: impl Iterator<Item = &'a str>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if f.contains([',', '"']) {
            out.push(b'"');
            out.extend_from_slice(f.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(f.as_bytes());
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = "21,01,ｹｲﾄ,001,20250410,22223\r\n[kanri]\r\n,001\r\n21,01,ｹｲﾄ,12345,100,0013,東京都千代田区霞が関１－２－２,健保サービス株式会社,健保　良一,03,1234,5678\r\n[data]\r\n2200700,21,01,ｹｲﾄ,12345,101,ﾔﾏﾀﾞ ﾀﾛｳ,山田　太郎,7,020515,1,1,,,,1234,567890,9,070401,1,0300000,0000000,0300000,,,,,,100,0013,ﾄｳｷｮｳﾄ,東京都千代田区,,\r\n";

    #[test]
    fn an_acquisition_record_becomes_a_notice() {
        let out = convert(SAMPLE.as_bytes(), NaiveDate::from_ymd_opt(2025, 4, 11)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[0], HEADER.join(","));
        assert!(lines[1..5].iter().all(|l| l.is_empty()));
        assert_eq!(
            lines[5],
            "EG20250410-E12345-S001-L0006,acquisition,12345,健保サービス株式会社,12345,101,,山田　太郎,ﾔﾏﾀﾞ ﾀﾛｳ,令和7年4月1日,2025-04-11,missing,"
        );
    }

    #[test]
    fn the_sections_are_recognised() {
        assert!(looks_like_egov(SAMPLE.as_bytes()));
        assert!(!looks_like_egov(b"notice_id,kind\n[kanri]\n"));
    }

    #[test]
    fn eras_and_bad_dates() {
        assert_eq!(era_date("9", "070401").unwrap(), "令和7年4月1日");
        assert_eq!(era_date("7", "310430").unwrap(), "平成31年4月30日");
        assert!(era_date("3", "070401").unwrap_err().contains("元号コード"));
        assert!(era_date("9", "0704").is_err());
    }
}
