//! Chart geometry for the inline SVG of the dashboard, the 要因分析 page and the 改善計画 schedule:
//! coordinates are computed here, the SVG elements are written by the template (tera escapes every
//! label).
use crate::reports::analysis::Analysis;
use crate::reports::dashboard::{Dashboard, HISTOGRAM_DAYS};
use crate::reports::plan::ActionView;
use crate::store::survey::PlanStatus;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Serialize, Clone)]
pub struct BarShape {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub label: String,
    pub value: String,
    pub title: String,
    pub tone: &'static str,
}

#[derive(Serialize, Clone)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub title: String,
}

#[derive(Serialize, Clone)]
pub struct Line {
    pub name: String,
    pub css: &'static str,
    pub points: Vec<Point>,
    /// "x1,y1 x2,y2 …" for <polyline>
    pub path: String,
}

#[derive(Serialize, Clone)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    /// The plot area: x of the left and right axes, y of the top and of the base line.
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub bars: Vec<BarShape>,
    pub lines: Vec<Line>,
    /// Horizontal grid lines with their labels on the left axis.
    pub grid: Vec<(f64, String)>,
    /// Labels of the same grid lines on a right axis (the count scale of a chart whose left axis
    /// is a rate); empty when there is no right axis.
    pub right_grid: Vec<(f64, String)>,
    pub x_labels: Vec<(f64, String)>,
    /// What the left axis, the right axis and the x axis measure.
    pub y_title: String,
    pub y2_title: String,
    pub x_title: String,
    pub empty: bool,
}

/// Width of a chart in a half-width card. A chart in a full-width card is twice as wide
/// ([`WIDE`]), so both are drawn at the same scale and their text is the same size on screen.
const W: f64 = 560.0;
const WIDE: f64 = 2.0 * W;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
/// Room on the right for a second axis's labels.
const RIGHT_AXIS: f64 = 48.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 40.0;

fn plot_h() -> f64 {
    H - TOP - BOTTOM
}

fn nice_max(v: u64) -> u64 {
    if v <= 5 {
        return 5;
    }
    let mag = 10u64.pow((v as f64).log10().floor() as u32);
    for m in [1, 2, 5, 10] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10 * mag
}

/// Intervals of a count axis up to a `nice_max`: steps of 1, 2 or 5 times a power of ten
/// (500 → 5 × 100, 200 → 4 × 50, 1000 → 5 × 200).
fn intervals(max: u64) -> u64 {
    let mut lead = max.max(1);
    while lead >= 10 && lead % 10 == 0 {
        lead /= 10;
    }
    if lead == 2 {
        4
    } else {
        5
    }
}

fn grid_at(n: u64, label: impl Fn(u64) -> String) -> Vec<(f64, String)> {
    (0..=n)
        .map(|i| (TOP + plot_h() - plot_h() * i as f64 / n as f64, label(i)))
        .collect()
}

fn count_grid(max: u64) -> Vec<(f64, String)> {
    let n = intervals(max);
    grid_at(n, |i| (max * i / n).to_string())
}

/// 0–100% in `n` steps (the count axis beside it has the same lines).
fn rate_grid(n: u64) -> Vec<(f64, String)> {
    grid_at(n, |i| format!("{}%", 100 * i / n))
}

fn pct(r: Option<f64>) -> String {
    r.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// Bars of counts with labels under them, `width` wide.
fn bar_chart(items: &[(String, u64, String, &'static str)], width: f64) -> Chart {
    let values: Vec<(String, f64, String, &'static str)> = items
        .iter()
        .map(|(l, v, t, tone)| (l.clone(), *v as f64, t.clone(), *tone))
        .collect();
    value_chart_w(&values, width)
}

/// Bars of non-negative values (counts, or ratios such as notices per staff member).
fn value_chart(items: &[(String, f64, String, &'static str)]) -> Chart {
    value_chart_w(items, W)
}

fn frame(width: f64, right_margin: f64) -> Chart {
    Chart {
        width,
        height: H,
        left: LEFT,
        right: width - right_margin,
        top: TOP,
        bottom: TOP + plot_h(),
        bars: vec![],
        lines: vec![],
        grid: vec![],
        right_grid: vec![],
        x_labels: vec![],
        y_title: String::new(),
        y2_title: String::new(),
        x_title: String::new(),
        empty: false,
    }
}

fn value_chart_w(items: &[(String, f64, String, &'static str)], width: f64) -> Chart {
    let max = nice_max(
        items
            .iter()
            .map(|i| i.1.max(0.0).ceil() as u64)
            .max()
            .unwrap_or(0),
    );
    let n = items.len().max(1) as f64;
    let slot = (width - LEFT - RIGHT) / n;
    let bw = (slot * 0.7).max(2.0);
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, v, title, tone))| {
            let h = plot_h() * v.max(0.0) / (max as f64);
            BarShape {
                x: LEFT + slot * i as f64 + (slot - bw) / 2.0,
                y: TOP + plot_h() - h,
                w: bw,
                h,
                label: label.clone(),
                value: if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                },
                title: title.clone(),
                tone,
            }
        })
        .collect();
    let every = (items.len() / 12).max(1);
    Chart {
        bars,
        grid: count_grid(max),
        x_labels: items
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, it)| (LEFT + slot * i as f64 + slot / 2.0, it.0.clone()))
            .collect(),
        empty: items.iter().all(|i| i.1 <= 0.0),
        ..frame(width, RIGHT)
    }
}

/// Bars of counts (`volume`) with a part of each drawn in red from the base line (`bad`): the
/// share of the bar that broke a rule shows as the share of red.
fn stacked_chart(items: &[(String, u64, u64, String)]) -> Chart {
    let base: Vec<(String, u64, String, &'static str)> = items
        .iter()
        .map(|(l, total, _, t)| (l.clone(), *total, t.clone(), "volume"))
        .collect();
    let mut c = bar_chart(&base, W);
    let max = nice_max(items.iter().map(|i| i.1).max().unwrap_or(0)) as f64;
    let reds: Vec<BarShape> = c
        .bars
        .iter()
        .zip(items)
        .filter(|(_, i)| i.2 > 0)
        .map(|(b, (_, _, part, title))| {
            let h = plot_h() * (*part as f64) / max;
            BarShape {
                y: TOP + plot_h() - h,
                h,
                value: part.to_string(),
                title: title.clone(),
                tone: "bad",
                ..b.clone()
            }
        })
        .collect();
    c.bars.extend(reds);
    c
}

/// Monthly met rates as lines over bars of notice counts (bars scaled to the plot's height).
fn trend_chart(d: &Dashboard) -> Chart {
    let months = &d.figures.months;
    let n = months.len().max(1) as f64;
    let slot = (W - LEFT - RIGHT_AXIS) / n;
    let max = nice_max(months.iter().map(|m| m.notices).max().unwrap_or(0));
    let bw = (slot * 0.6).max(2.0);
    let bars = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let h = plot_h() * (m.notices as f64) / (max as f64);
            BarShape {
                x: LEFT + slot * i as f64 + (slot - bw) / 2.0,
                y: TOP + plot_h() - h,
                w: bw,
                h,
                label: m.month[2..].replace('-', "/"),
                value: m.notices.to_string(),
                title: format!("{}: 届書 {} 件", m.month, m.notices),
                tone: "volume",
            }
        })
        .collect();
    type Pick = fn(&crate::reports::dashboard::MonthFigures) -> Option<f64>;
    let series: [(&str, &'static str, Pick); 3] = [
        ("提出 期限内率", "line-sub", |m| m.submission_met_rate),
        ("登録（5日）期限内率", "line-five", |m| {
            m.registration_five_day_met_rate
        }),
        ("登録（標準）期限内率", "line-std", |m| {
            m.registration_standard_met_rate
        }),
    ];
    let lines = series
        .iter()
        .map(|(name, css, pick)| {
            let points: Vec<Point> = months
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    pick(m).map(|r| Point {
                        x: LEFT + slot * i as f64 + slot / 2.0,
                        y: TOP + plot_h() * (1.0 - r),
                        title: format!("{} {}: {}", m.month, name, pct(Some(r))),
                    })
                })
                .collect();
            let path = points
                .iter()
                .map(|p| format!("{:.1},{:.1}", p.x, p.y))
                .collect::<Vec<_>>()
                .join(" ");
            Line {
                name: name.to_string(),
                css,
                points,
                path,
            }
        })
        .collect();
    let every = (months.len() / 12).max(1);
    Chart {
        bars,
        lines,
        grid: rate_grid(intervals(max)),
        right_grid: count_grid(max),
        y_title: "期限内率".into(),
        y2_title: "届書（件）".into(),
        x_title: "受付月".into(),
        x_labels: months
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, m)| {
                (
                    LEFT + slot * i as f64 + slot / 2.0,
                    m.month[2..].replace('-', "/"),
                )
            })
            .collect(),
        empty: months.is_empty(),
        ..frame(W, RIGHT_AXIS)
    }
}

fn histogram(bars: &[crate::reports::dashboard::Bar], deadline: u64) -> Chart {
    let items: Vec<(String, u64, String, &'static str)> = bars
        .iter()
        .map(|b| {
            let label = if b.days == HISTOGRAM_DAYS {
                format!("{}+", b.days)
            } else {
                b.days.to_string()
            };
            let title = if b.days == HISTOGRAM_DAYS {
                format!("{}日以上: {} 件", b.days, b.count)
            } else {
                format!("{}日: {} 件", b.days, b.count)
            };
            let tone = if b.days as u64 > deadline {
                "bad"
            } else {
                "ok"
            };
            (label, b.count, title, tone)
        })
        .collect();
    Chart {
        y_title: "届書（件）".into(),
        x_title: "日数".into(),
        ..bar_chart(&items, W)
    }
}

#[derive(Serialize)]
pub struct DashboardCharts {
    pub trend: Chart,
    pub submission_days: Chart,
    pub registration_days: Chart,
    pub employers: Chart,
    pub april: Chart,
}

pub fn dashboard_charts(d: &Dashboard) -> DashboardCharts {
    let f = &d.figures;
    let employers: Vec<(String, u64, String, &'static str)> = f
        .worst_employers
        .iter()
        .map(|e| {
            (
                e.code.clone(),
                e.submission_breached,
                format!(
                    "{} {}: 提出期限超過 {} 件 / {} 件（期限内率 {}）",
                    e.code,
                    e.name.clone().unwrap_or_default(),
                    e.submission_breached,
                    e.notices,
                    pct(e.submission_met_rate)
                ),
                "bad",
            )
        })
        .collect();
    let april: Vec<(String, u64, u64, String)> = f
        .april_weeks
        .iter()
        .map(|w| {
            (
                w.week_start.format("%m/%d").to_string(),
                w.notices,
                w.registration_breached_any,
                format!(
                    "{} の週: 届書 {} 件、うち登録期限の超過 {} 件（{}）、登録（5日）期限内率 {}",
                    w.week_start,
                    w.notices,
                    w.registration_breached_any,
                    share(w.registration_breached_any, w.notices),
                    pct(w.registration_five_day_met_rate),
                ),
            )
        })
        .collect();
    DashboardCharts {
        trend: trend_chart(d),
        submission_days: histogram(&f.submission_days, 5),
        registration_days: histogram(&f.registration_days, 5),
        employers: Chart {
            y_title: "提出期限超過（件）".into(),
            x_title: "事業所記号".into(),
            ..bar_chart(&employers, WIDE)
        },
        april: Chart {
            y_title: "届書（件）".into(),
            x_title: "週（月曜日）".into(),
            ..stacked_chart(&april)
        },
    }
}

fn share(part: u64, total: u64) -> String {
    if total == 0 {
        "—".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / total as f64)
    }
}

/// The April peak (checklist 2-②) by week: notices received, and notices per staff member when
/// staffing is entered (None otherwise: the page then shows the peak without the ratio).
#[derive(Serialize)]
pub struct WorkloadCharts {
    pub notices: Chart,
    pub per_staff: Option<Chart>,
}

pub fn workload_charts(w: &crate::reports::workload::Workload) -> WorkloadCharts {
    let days = |d: Option<i64>| d.map(|d| format!("{d}日")).unwrap_or_else(|| "—".into());
    let describe = |r: &crate::reports::workload::LoadRow| {
        format!(
            "{}: 届書 {} 件、職員 {}、1人当たり {}、登録日数 中央値 {}・90%点 {}、登録期限超過 {} 件",
            r.label,
            r.notices,
            r.staff.map(|s| format!("{s} 人")).unwrap_or_else(|| "未入力".into()),
            r.per_staff.map(|p| format!("{p:.1} 件")).unwrap_or_else(|| "—".into()),
            days(r.median_days),
            days(r.p90_days),
            r.breached
        )
    };
    let tone =
        |r: &crate::reports::workload::LoadRow| if r.breached > 0 { "warn" } else { "volume" };
    let label = |r: &crate::reports::workload::LoadRow| r.starts_on.format("%m/%d").to_string();
    let notices: Vec<(String, f64, String, &'static str)> = w
        .weeks
        .iter()
        .map(|r| (label(r), r.notices as f64, describe(r), tone(r)))
        .collect();
    let per_staff = w.has_staffing.then(|| {
        let items: Vec<(String, f64, String, &'static str)> = w
            .weeks
            .iter()
            .map(|r| (label(r), r.per_staff.unwrap_or(0.0), describe(r), tone(r)))
            .collect();
        value_chart(&items)
    });
    WorkloadCharts {
        notices: value_chart(&notices),
        per_staff,
    }
}

/// One bar pair of the 要因分析 page's monthly chart, in the SVG's units (700 × 220, baseline at
/// 180).
#[derive(Serialize)]
pub struct MonthBar {
    label: String,
    x: f64,
    width: f64,
    notices: u64,
    late: u64,
    height: f64,
    late_height: f64,
    april: bool,
}

pub fn month_bars(a: &Analysis) -> Vec<MonthBar> {
    let n = a.by_month.len().max(1) as f64;
    let max = a
        .by_month
        .iter()
        .map(|m| m.notices)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = 680.0 / n;
    a.by_month
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let late = m.submission_late + m.registration_late;
            MonthBar {
                label: m.key.get(2..).unwrap_or(&m.key).to_string(),
                x: 10.0 + i as f64 * step,
                width: step * 0.7,
                notices: m.notices,
                late,
                height: m.notices as f64 * 170.0 / max,
                late_height: (late as f64 * 170.0 / max).min(170.0),
                april: m.key.ends_with("-04"),
            }
        })
        .collect()
}

/// The scale of the 要因分析 page's cause bars: the largest count of one cause (at least 1).
pub fn cause_scale(a: &Analysis) -> u64 {
    a.causes
        .iter()
        .map(|c| c.submission.max(c.registration))
        .max()
        .unwrap_or(0)
        .max(1)
}

/// A bar per scheduled action on a common time axis (percentages of the width), for the
/// 改善計画 schedule view, with today's position.
#[derive(Serialize)]
pub struct Schedule {
    start: String,
    end: String,
    today_pct: f64,
    /// Today as the axis labels it (`12/3`).
    today: String,
    bars: Vec<ScheduleBar>,
    /// The first day of every month in the span: the date axis.
    ticks: Vec<ScheduleTick>,
}

#[derive(Serialize)]
struct ScheduleTick {
    pct: f64,
    /// `9月`, with the year at January and at the first tick (`2026年9月`).
    label: String,
}

#[derive(Serialize)]
struct ScheduleBar {
    title: String,
    /// The bar's first and last day, for its tooltip (the page writes them in its date style).
    start: NaiveDate,
    end: NaiveDate,
    left: f64,
    width: f64,
    overdue: bool,
    done: bool,
}

/// The schedule of the actions that have both a start and a due date (None when none has).
pub fn schedule(plan: &[ActionView], today: NaiveDate) -> Option<Schedule> {
    let dated: Vec<&ActionView> = plan
        .iter()
        .filter(|a| a.start_on.is_some() && a.due_on.is_some())
        .collect();
    let start = dated.iter().filter_map(|a| a.start_on).min()?;
    let end = dated.iter().filter_map(|a| a.due_on).max()?.max(start);
    let span = ((end - start).num_days() + 1) as f64;
    let at = |d: NaiveDate| ((d - start).num_days() as f64 / span * 100.0).clamp(0.0, 100.0);
    let mut ticks = Vec::new();
    let mut month = start.with_day(1).unwrap_or(start);
    while month <= end {
        if month >= start {
            let label = if ticks.is_empty() || month.month() == 1 {
                format!("{}年{}月", month.year(), month.month())
            } else {
                format!("{}月", month.month())
            };
            ticks.push(ScheduleTick {
                pct: at(month),
                label,
            });
        }
        month = month
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(end.succ_opt().unwrap_or(end));
    }
    Some(Schedule {
        start: start.to_string(),
        end: end.to_string(),
        today_pct: at(today),
        today: format!("{}/{}", today.month(), today.day()),
        ticks,
        bars: dated
            .iter()
            .map(|a| {
                let s = a.start_on.unwrap_or(start);
                let e = a.due_on.unwrap_or(end).max(s);
                ScheduleBar {
                    title: a.title.clone(),
                    start: s,
                    end: e,
                    left: at(s),
                    width: (((e - s).num_days() + 1) as f64 / span * 100.0).max(1.0),
                    overdue: a.overdue,
                    done: a.status == PlanStatus::Done.code(),
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_max_rounds_up_to_1_2_5() {
        assert_eq!(nice_max(0), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(230), 500);
        assert_eq!(nice_max(1000), 1000);
    }

    #[test]
    fn a_full_width_chart_is_twice_as_wide_so_its_text_is_the_same_size() {
        let items = vec![("a".to_string(), 3u64, String::new(), "bad")];
        let half = bar_chart(&items, W);
        let full = bar_chart(&items, WIDE);
        assert_eq!(full.width, 2.0 * half.width);
        assert_eq!(full.height, half.height);
    }

    #[test]
    fn the_red_part_of_a_stacked_bar_is_its_share() {
        let c = stacked_chart(&[
            ("w1".into(), 40, 10, String::new()),
            ("w2".into(), 20, 0, String::new()),
        ]);
        assert_eq!(c.bars.len(), 3, "two bars, one red part");
        let red = c.bars.iter().find(|b| b.tone == "bad").unwrap();
        let base = &c.bars[0];
        assert!((red.h * 4.0 - base.h).abs() < 1e-9);
        assert!(
            (red.y + red.h - (base.y + base.h)).abs() < 1e-9,
            "from the base line"
        );
    }

    #[test]
    fn count_axes_have_round_steps() {
        let labels = |g: Vec<(f64, String)>| g.into_iter().map(|(_, l)| l).collect::<Vec<_>>();
        assert_eq!(
            labels(count_grid(500)),
            ["0", "100", "200", "300", "400", "500"]
        );
        assert_eq!(
            labels(count_grid(2000)),
            ["0", "500", "1000", "1500", "2000"]
        );
        assert_eq!(labels(count_grid(5)), ["0", "1", "2", "3", "4", "5"]);
        assert_eq!(labels(rate_grid(4)), ["0%", "25%", "50%", "75%", "100%"]);
    }

    #[test]
    fn bars_stay_inside_the_plot() {
        let items: Vec<_> = (0..20u64)
            .map(|i| (i.to_string(), i * 37, String::new(), "ok"))
            .collect();
        let c = bar_chart(&items, W);
        for b in &c.bars {
            assert!(b.x >= LEFT && b.x + b.w <= W - RIGHT + 0.001);
            assert!(b.y >= TOP - 0.001 && b.y + b.h <= TOP + plot_h() + 0.001);
        }
    }

    #[test]
    fn the_workload_chart_shows_the_ratio_only_with_staffing() {
        use crate::domain::staffing::StaffingPeriod;
        use crate::domain::Status;
        use crate::reports::workload::WorkloadAcc;
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let fill = || {
            let mut acc = WorkloadAcc::new(d("2026-03-01"), d("2026-05-31"), d("2026-06-30"));
            for i in 0..7 {
                acc.add(
                    d("2026-04-06") + chrono::Days::new(i % 5),
                    None,
                    Status::Open,
                );
            }
            acc
        };
        let without = workload_charts(&fill().finish(&[]));
        assert!(without.per_staff.is_none());
        assert_eq!(without.notices.bars.len(), 14);
        let with =
            workload_charts(&fill().finish(&[(StaffingPeriod::Month(d("2026-04-01")), 2.0)]));
        let ratio = with.per_staff.unwrap();
        let peak = ratio.bars.iter().find(|b| b.label == "04/06").unwrap();
        assert_eq!(peak.value, "3.5");
        for b in &ratio.bars {
            assert!(b.y >= TOP - 0.001 && b.y + b.h <= TOP + plot_h() + 0.001);
        }
    }
}
