//! Synthetic but realistic notices and registration results, for demos, tests and benchmarks.
//!
//! Deterministic for a seed. Notices are generated day by day in received order (like a core
//! system's export) so a million rows stream out without being held in memory.
use crate::domain::my_number::check_digit;
use crate::domain::{Calendar, MyNumberStatus, NoticeKind};
use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub struct GenOptions {
    pub notices: u64,
    pub seed: u64,
    /// Last day of the 12 months covered (the as-of date of the data).
    pub end: NaiveDate,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GenStats {
    pub notices: u64,
    pub registrations: u64,
    pub pending: u64,
    pub my_number_missing: u64,
    pub my_number_invalid: u64,
}

/// How one employer behaves: how late it submits, how often the My Number is missing.
struct Employer {
    code: String,
    name: String,
    /// Mean days from the event to receipt for ordinary notices.
    mean_delay: f64,
    /// Share of acquisitions submitted before the first day (内定者).
    early_share: f64,
    /// Share of notices with a missing or wrong My Number.
    bad_number_share: f64,
    /// Share of notices submitted very late (遡及).
    retro_share: f64,
    weight: f64,
}

const COMPANY_HEADS: &[&str] = &[
    "東都",
    "浪速",
    "北斗",
    "青葉",
    "湘南",
    "瀬戸内",
    "富士",
    "大和",
    "みなと",
    "さくら",
    "若葉",
    "旭日",
    "白山",
    "銀河",
    "紀州",
    "常磐",
    "武蔵",
    "美濃",
    "飛鳥",
    "葵",
];
const COMPANY_TAILS: &[&str] = &[
    "商事",
    "精機",
    "物流",
    "電機",
    "食品",
    "建設",
    "システム",
    "製薬",
    "化学",
    "運輸",
];
const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
];
const GIVEN: &[(&str, &str)] = &[
    ("翔太", "ショウタ"),
    ("陽菜", "ヒナ"),
    ("蓮", "レン"),
    ("結衣", "ユイ"),
    ("大翔", "ヒロト"),
    ("美咲", "ミサキ"),
    ("悠真", "ユウマ"),
    ("葵", "アオイ"),
    ("湊", "ミナト"),
    ("さくら", "サクラ"),
    ("健一", "ケンイチ"),
    ("和子", "カズコ"),
    ("拓海", "タクミ"),
    ("彩花", "アヤカ"),
    ("誠", "マコト"),
];
const CAUSES: &[&str] = &[
    "事業主の提出遅延",
    "個人番号未記載",
    "J-LIS照会不一致",
    "被扶養者認定待ち",
    "書類不備",
    "保険者処理滞留",
];

fn employers(rng: &mut StdRng) -> Vec<Employer> {
    (0..40)
        .map(|i| {
            // A few diligent, most ordinary, a few chronically late: the spread the dashboard shows.
            let habit = match i % 8 {
                0 => 1.5,
                1 | 2 => 3.0,
                3..=5 => 4.5,
                6 => 8.0,
                _ => 14.0,
            };
            Employer {
                code: format!("{:04}", 1001 + i),
                name: format!(
                    "株式会社{}{}",
                    COMPANY_HEADS[i % COMPANY_HEADS.len()],
                    COMPANY_TAILS[(i * 7 + 3) % COMPANY_TAILS.len()]
                ),
                mean_delay: habit * rng.gen_range(0.8..1.2),
                early_share: if i % 5 == 0 {
                    0.6
                } else {
                    rng.gen_range(0.0..0.25)
                },
                bad_number_share: match i % 10 {
                    9 => 0.35,
                    7 => 0.2,
                    _ => rng.gen_range(0.02..0.08),
                },
                retro_share: if i % 13 == 6 { 0.05 } else { 0.005 },
                // Zipf-like sizes: a few large employers, a long tail of small ones.
                weight: 1.0 / (1.0 + i as f64).powf(0.8),
            }
        })
        .collect()
}

/// Relative volume of notices received on a day: working days, an April peak (新卒), a March/April
/// wave of losses and a smaller October one.
fn day_weight(d: NaiveDate, cal: &Calendar) -> f64 {
    let base = if cal.is_admin_holiday(d) { 0.04 } else { 1.0 };
    let season = match d.month() {
        4 => {
            if d.day() <= 15 {
                4.0
            } else {
                2.2
            }
        }
        3 => 1.3,
        5 => 1.4,
        10 => 1.3,
        _ => 1.0,
    };
    base * season
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Geometric-ish delay with the given mean (days, ≥ 0).
fn delay(rng: &mut StdRng, mean: f64) -> i64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    (-u.ln() * mean).floor() as i64
}

fn my_number(rng: &mut StdRng, stats: &mut GenStats, bad_share: f64) -> String {
    let roll: f64 = rng.gen();
    if roll < bad_share * 0.6 {
        stats.my_number_missing += 1;
        return String::new();
    }
    let mut d = [0u8; 12];
    for x in d.iter_mut().take(11) {
        *x = rng.gen_range(0..10);
    }
    d[11] = check_digit(&d[..11]);
    if roll < bad_share {
        // A transcription error: the check digit no longer matches.
        stats.my_number_invalid += 1;
        d[11] = (d[11] + rng.gen_range(1..10)) % 10;
    }
    let s: String = d.iter().map(|b| char::from(b'0' + b)).collect();
    // Real files carry the number in several layouts; the reader normalises them.
    match rng.gen_range(0..20) {
        0 => format!("{} {} {}", &s[0..4], &s[4..8], &s[8..12]),
        1 => format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12]),
        _ => s,
    }
}

/// Writes `notices.csv` and `registrations.csv` into `dir` (created if needed).
pub fn generate(dir: &Path, opts: &GenOptions) -> io::Result<GenStats> {
    std::fs::create_dir_all(dir)?;
    let mut notices =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("notices.csv"))?);
    let mut regs = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(dir.join("registrations.csv"))?,
    );
    let stats = write_all(&mut notices, &mut regs, opts)?;
    notices.flush()?;
    regs.flush()?;
    Ok(stats)
}

fn write_all(
    notices: &mut impl Write,
    regs: &mut impl Write,
    opts: &GenOptions,
) -> io::Result<GenStats> {
    let cal = Calendar::get();
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let emps = employers(&mut rng);
    let emp_total: f64 = emps.iter().map(|e| e.weight).sum();
    let start = opts.end - Duration::days(364);
    let days: Vec<NaiveDate> = start.iter_days().take(365).collect();
    let weights: Vec<f64> = days.iter().map(|d| day_weight(*d, cal)).collect();
    let wsum: f64 = weights.iter().sum();

    notices.write_all(
        "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号,遅延理由\n"
            .as_bytes(),
    )?;
    regs.write_all("受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n".as_bytes())?;

    let mut stats = GenStats::default();
    let mut carried = 0.0f64;
    let mut member_seq: u64 = 0;
    for (i, (&received, w)) in days.iter().zip(&weights).enumerate() {
        // Largest-remainder rounding so the total is exactly opts.notices.
        let exact = opts.notices as f64 * w / wsum + carried;
        let mut count = exact.floor() as u64;
        carried = exact - count as f64;
        if i == days.len() - 1 {
            count = opts.notices - stats.notices;
        }
        for _ in 0..count {
            stats.notices += 1;
            let n = stats.notices;
            let emp = {
                let mut x = rng.gen_range(0.0..emp_total);
                let mut chosen = &emps[emps.len() - 1];
                for e in &emps {
                    if x < e.weight {
                        chosen = e;
                        break;
                    }
                    x -= e.weight;
                }
                chosen
            };
            let april = received.month() == 4;
            let kind = match rng.gen_range(0..100) {
                0..=54 => NoticeKind::Acquisition,
                55..=74 => NoticeKind::Dependent,
                _ => NoticeKind::Loss,
            };
            let kind = if april && rng.gen_bool(0.5) {
                NoticeKind::Acquisition
            } else {
                kind
            };
            // Event date: before receipt by the employer's habit; 内定者 arrive before the first day;
            // a few retroactive notices arrive months late.
            let lag = if kind == NoticeKind::Acquisition && rng.gen_bool(emp.early_share) {
                -rng.gen_range(1..=30)
            } else if rng.gen_bool(emp.retro_share) {
                rng.gen_range(30..=150)
            } else {
                delay(&mut rng, emp.mean_delay * if april { 1.3 } else { 1.0 })
            };
            let event = received - Duration::days(lag);
            let number = my_number(&mut rng, &mut stats, emp.bad_number_share);
            let bad_number = MyNumberStatus::classify(&number) != MyNumberStatus::Valid;
            let cause = if lag > 5 && rng.gen_bool(0.6) {
                if bad_number {
                    CAUSES[1]
                } else {
                    *pick(&mut rng, &[CAUSES[0], CAUSES[0], CAUSES[3], CAUSES[4]])
                }
            } else {
                ""
            };
            member_seq += 1;
            let (fam, fam_k) = *pick(&mut rng, FAMILY);
            let (giv, giv_k) = *pick(&mut rng, GIVEN);
            let seq = if kind == NoticeKind::Dependent {
                format!("{:02}", rng.gen_range(1..=3))
            } else {
                "00".to_string()
            };
            writeln!(
                notices,
                "{:04}-{:07},{},{},{},{},{},{},{} {},{} {},{},{},{},{}",
                received.year(),
                n,
                match kind {
                    NoticeKind::Acquisition => "資格取得",
                    NoticeKind::Dependent => "被扶養者",
                    NoticeKind::Loss => "資格喪失",
                },
                emp.code,
                emp.name,
                emp.code,
                100000 + member_seq % 900000,
                seq,
                fam,
                giv,
                fam_k,
                giv_k,
                event,
                received,
                number,
                cause
            )?;

            // Registration by the insurer: quick for good numbers, slow (J-LIS lookups) otherwise,
            // slower in the April peak; recent notices may still be pending.
            let reg_mean = match (bad_number, april) {
                (false, false) => 1.6,
                (false, true) => 3.5,
                (true, _) => 12.0,
            };
            let mut reg_lag = delay(&mut rng, reg_mean);
            if rng.gen_bool(0.03) {
                reg_lag += rng.gen_range(5..20); // insurer backlog
            }
            let reg_day = received + Duration::days(reg_lag);
            let never = bad_number && rng.gen_bool(0.15);
            if never || reg_day > opts.end {
                stats.pending += 1;
                continue;
            }
            if bad_number && rng.gen_bool(0.3) {
                // A J-LIS mismatch first, then a success once the number is corrected.
                writeln!(
                    regs,
                    "{:04}-{:07},,エラー,E0101,J-LIS照会結果不一致",
                    received.year(),
                    n
                )?;
                stats.registrations += 1;
            }
            let hour = rng.gen_range(9..19);
            let minute = rng.gen_range(0..60);
            let stamp = match rng.gen_range(0..10) {
                // Some systems export UTC; the reader converts to JST before taking the date.
                0 => {
                    let utc = reg_day.and_hms_opt(hour, minute, 0).unwrap_or_default()
                        - Duration::hours(9);
                    utc.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                }
                1 => format!("{}T{:02}:{:02}:00+09:00", reg_day, hour, minute),
                _ => format!("{} {:02}:{:02}:00", reg_day, hour, minute),
            };
            writeln!(regs, "{:04}-{:07},{},正常,,", received.year(), n, stamp)?;
            stats.registrations += 1;
        }
    }
    Ok(stats)
}
