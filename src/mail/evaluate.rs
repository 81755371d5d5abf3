//! The daily evaluation: for each employer, decide which reminders are due and queue them in the
//! same transaction that read the notices (transactional outbox).
use super::render::{self as tpl, date_ja, render, MailContext, MailRow};
use super::MailError;
use crate::domain::{InsurerKind, MyNumberStatus, NoticeKind, Status};
use crate::store::insurers::{self, Insurer};
use crate::store::mail_settings::{self, MailPrefs};
use crate::store::notices::{self, NoticeFilter, NoticeRow, RuleSel, Sort};
use crate::store::outbox::{self, EmployerContact, FrozenSender, MailKind, NewMessage};
use crate::store::{letters, write_tx, DbConn};
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Late submissions are reported when received within this many days before the as-of date.
pub const LATE_WINDOW_DAYS: u64 = 30;
/// The expiry reminder goes out this many days before a 資格確認書 ends.
pub const CERTIFICATE_NOTICE_DAYS: u64 = 7;
/// Lines listed in one e-mail; the rest is a count.
pub const MAX_ROWS: usize = 50;
/// Upper bound of notices read per employer and kind (a bigger backlog is reminded in parts).
const READ_LIMIT: i64 = 5_000;

#[derive(Clone, Debug, Default, Serialize)]
pub struct EvalCounts {
    pub insurers: usize,
    pub employers: usize,
    pub opted_out: usize,
    pub no_contact: usize,
    /// Insurers whose admin turned automatic reminders off.
    pub disabled: usize,
    /// Messages queued now, per kind code.
    pub queued: BTreeMap<&'static str, usize>,
    /// Reminders that were due but already queued earlier (same dedupe key).
    pub already_queued: usize,
}

impl EvalCounts {
    pub fn queued_total(&self) -> usize {
        self.queued.values().sum()
    }
    pub fn add(&mut self, o: EvalCounts) {
        self.insurers += o.insurers;
        self.employers += o.employers;
        self.opted_out += o.opted_out;
        self.no_contact += o.no_contact;
        self.disabled += o.disabled;
        self.already_queued += o.already_queued;
        for (k, v) in o.queued {
            *self.queued.entry(k).or_default() += v;
        }
    }
}

/// Evaluates every insurer (each in its own transaction).
pub fn evaluate_all(
    conn: &mut DbConn,
    as_of: NaiveDate,
    now: NaiveDateTime,
) -> Result<EvalCounts, MailError> {
    let mut total = EvalCounts::default();
    for ins in insurers::list(conn)? {
        total.add(evaluate_insurer(conn, &ins, as_of, now)?);
    }
    Ok(total)
}

/// Evaluates one insurer as of `as_of` (a Japan date) and queues what is due, unless its admin
/// turned reminders off.
pub fn evaluate_insurer(
    conn: &mut DbConn,
    insurer: &Insurer,
    as_of: NaiveDate,
    now: NaiveDateTime,
) -> Result<EvalCounts, MailError> {
    write_tx(conn, |conn| {
        outbox::lock_insurer(conn, insurer.id)?;
        let stored = mail_settings::get(conn, insurer.id)?;
        evaluate_locked(conn, insurer, &stored.prefs, as_of, now, None)
    })
}

/// The admin's preview (SPEC §5: reminders start switched off; an admin previews them and switches
/// them on): the messages the evaluation as of `as_of` would queue now for this insurer, rendered
/// with its current settings, whether automatic reminders are on or off. Nothing is written.
/// Reminders already queued (same dedupe key) are counted in `already_queued`, not returned.
pub fn preview_insurer(
    conn: &mut DbConn,
    insurer: &Insurer,
    as_of: NaiveDate,
    now: NaiveDateTime,
) -> Result<(EvalCounts, Vec<NewMessage>), MailError> {
    let mut prefs = mail_settings::get(conn, insurer.id)?.prefs;
    prefs.reminders_enabled = true;
    let mut out = Vec::new();
    let counts = evaluate_locked(conn, insurer, &prefs, as_of, now, Some(&mut out))?;
    Ok((counts, out))
}

/// The scheduler's evaluation of `day`: `None` when this insurer was already evaluated that day
/// (by this or another instance — the date is recorded under the insurer's lock, in the same
/// transaction as the messages it queues).
pub fn evaluate_scheduled(
    conn: &mut DbConn,
    insurer: &Insurer,
    day: NaiveDate,
    now: NaiveDateTime,
) -> Result<Option<EvalCounts>, MailError> {
    write_tx(conn, |conn| {
        outbox::lock_insurer(conn, insurer.id)?;
        let stored = mail_settings::get(conn, insurer.id)?;
        if stored.last_evaluated_on.is_some_and(|d| d >= day) {
            return Ok(None);
        }
        let counts = evaluate_locked(conn, insurer, &stored.prefs, day, now, None)?;
        mail_settings::mark_evaluated(conn, insurer.id, day, now)?;
        Ok(Some(counts))
    })
}

fn evaluate_locked(
    conn: &mut DbConn,
    insurer: &Insurer,
    prefs: &MailPrefs,
    as_of: NaiveDate,
    now: NaiveDateTime,
    preview: Option<&mut Vec<NewMessage>>,
) -> Result<EvalCounts, MailError> {
    let mut counts = EvalCounts {
        insurers: 1,
        ..EvalCounts::default()
    };
    if !prefs.reminders_enabled {
        counts.disabled = 1;
        return Ok(counts);
    }
    let mut covered = HashMap::new();
    for kind in MailKind::ALL {
        covered.insert(kind, outbox::covered(conn, insurer.id, kind)?);
    }
    let ending = outbox::certificates_ending(
        conn,
        insurer.id,
        as_of,
        as_of
            .checked_add_days(Days::new(CERTIFICATE_NOTICE_DAYS))
            .unwrap_or(as_of),
    )?;
    let mut ev = Eval {
        conn,
        insurer,
        prefs,
        as_of,
        now,
        counts: &mut counts,
        preview,
    };
    for emp in outbox::employers_of(ev.conn, insurer.id)? {
        ev.counts.employers += 1;
        if emp.opt_out {
            ev.counts.opted_out += 1;
            continue;
        }
        if emp.contacts.is_empty() {
            ev.counts.no_contact += 1;
            continue;
        }
        ev.employer(&emp, &covered, &ending)?;
    }
    Ok(counts)
}

struct Eval<'a> {
    conn: &'a mut DbConn,
    insurer: &'a Insurer,
    prefs: &'a MailPrefs,
    as_of: NaiveDate,
    now: NaiveDateTime,
    counts: &'a mut EvalCounts,
    /// Set: a dry run collecting what would be queued (nothing is written).
    preview: Option<&'a mut Vec<NewMessage>>,
}

type Covered = HashMap<MailKind, (HashSet<i64>, HashSet<i64>)>;

impl Eval<'_> {
    fn filter(&self, employer: i64) -> NoticeFilter {
        let mut f = NoticeFilter::new(self.as_of);
        f.employer = Some(employer);
        f.sort = Sort::NoticeId;
        f
    }

    fn late_filter(&self, employer: i64) -> NoticeFilter {
        let mut f = self.filter(employer);
        f.status = Some(Status::Breached);
        f.rule = Some(RuleSel::Submission);
        f.received_from = self.as_of.checked_sub_days(Days::new(LATE_WINDOW_DAYS));
        f.received_to = Some(self.as_of);
        f
    }

    fn rows(&mut self, f: &NoticeFilter) -> Result<Vec<NoticeRow>, MailError> {
        Ok(notices::rows(
            self.conn,
            self.insurer.id,
            &self.insurer.rules,
            f,
            0,
            READ_LIMIT,
        )?)
    }

    /// 資格取得届・被扶養者届 not registered yet, with a missing or invalid My Number. A 資格喪失届
    /// never triggers a My Number request (SPEC §5): its registration does not wait for a number.
    fn missing_numbers(&mut self, employer: i64) -> Result<Vec<NoticeRow>, MailError> {
        let mut out = Vec::new();
        for kind in [NoticeKind::Acquisition, NoticeKind::Dependent] {
            for status in [MyNumberStatus::Missing, MyNumberStatus::Invalid] {
                let mut f = self.filter(employer);
                f.pending = true;
                f.kind = Some(kind);
                f.my_number = Some(status);
                out.extend(self.rows(&f)?);
            }
        }
        out.sort_by(|a, b| a.notice_id.cmp(&b.notice_id));
        Ok(out)
    }

    fn employer(
        &mut self,
        emp: &EmployerContact,
        covered: &Covered,
        ending: &[(i64, i64, NaiveDate)],
    ) -> Result<(), MailError> {
        // 提出遅延のお知らせ: late notices not yet reported.
        let late: Vec<NoticeRow> = self
            .rows(&self.late_filter(emp.id))?
            .into_iter()
            .filter(|r| !covered[&MailKind::LateSubmission].0.contains(&r.id))
            .collect();
        if !late.is_empty() {
            let items = late.iter().map(|r| (r.id, None)).collect();
            let rows = late.iter().map(|r| self.row(r, None)).collect();
            self.queue(emp, MailKind::LateSubmission, items, rows, None)?;
        }

        // 個人番号ご提出のお願い: missing/invalid numbers not yet requested, with the 資格確認書
        // expiry where one was issued.
        let missing = self.missing_numbers(emp.id)?;
        let fresh: Vec<&NoticeRow> = missing
            .iter()
            .filter(|r| !covered[&MailKind::MyNumber].0.contains(&r.id))
            .collect();
        if !fresh.is_empty() {
            let ids: Vec<i64> = fresh.iter().map(|r| r.id).collect();
            let certs = letters::certificates_for(self.conn, self.insurer.id, &ids)?;
            let items = ids.iter().map(|id| (*id, None)).collect();
            let rows = fresh
                .iter()
                .map(|r| {
                    let until = certs
                        .get(&r.id)
                        .and_then(|c| c.first())
                        .map(|c| c.valid_until);
                    self.row(r, until)
                })
                .collect();
            self.queue(emp, MailKind::MyNumber, items, rows, None)?;
        }

        // 資格確認書の有効期限が近づいています: only while the number is still missing.
        if !ending.is_empty() {
            let by_notice: HashMap<i64, &NoticeRow> = missing.iter().map(|r| (r.id, r)).collect();
            let mut items = Vec::new();
            let mut rows = Vec::new();
            for (cert, notice, until) in ending {
                let seen = covered[&MailKind::CertificateExpiry].1.contains(cert);
                if let (false, Some(r)) = (seen, by_notice.get(notice)) {
                    items.push((*notice, Some(*cert)));
                    rows.push(self.row(r, Some(*until)));
                }
            }
            if !items.is_empty() {
                self.queue(emp, MailKind::CertificateExpiry, items, rows, None)?;
            }
        }

        // 週次のご案内: once per ISO week, from the insurer's weekday on (a day the evaluation did
        // not run is caught up later in the week), when anything is outstanding.
        if self.as_of.weekday().number_from_monday() < self.prefs.digest_weekday {
            return Ok(());
        }
        let week = self.as_of.iso_week();
        let week_key = format!("{}-W{:02}", week.year(), week.week());
        let key = dedupe_key(self.insurer, emp, MailKind::WeeklyDigest, &[], &week_key);
        if outbox::dedupe_key_exists(self.conn, &key)? {
            self.counts.already_queued += 1;
            return Ok(());
        }
        let mut pending_f = self.filter(emp.id);
        pending_f.pending = true;
        let pending = notices::count(self.conn, self.insurer.id, &self.insurer.rules, &pending_f)?;
        let late_recent = notices::count(
            self.conn,
            self.insurer.id,
            &self.insurer.rules,
            &self.late_filter(emp.id),
        )?;
        if pending + late_recent > 0 {
            let rows = missing.iter().map(|r| self.row(r, None)).collect();
            let extra = serde_json::Map::from_iter([
                ("pending".to_string(), pending.into()),
                ("my_number_missing".to_string(), missing.len().into()),
                ("late_recent".to_string(), late_recent.into()),
            ]);
            self.queue_keyed(emp, MailKind::WeeklyDigest, key, Vec::new(), rows, extra)?;
        }
        Ok(())
    }

    fn row(&self, r: &NoticeRow, cert_until: Option<NaiveDate>) -> MailRow {
        MailRow {
            notice_id: r.notice_id.clone(),
            kind_ja: r.kind().label_ja().to_string(),
            event_date: date_ja(r.event_date),
            received_on: date_ja(r.received_on),
            submission_deadline: date_ja(r.submission_deadline),
            days_late: (r.received_on - r.submission_deadline).num_days().max(0),
            my_number_ja: r.my_number().label_ja().to_string(),
            cert_valid_until: cert_until.map(date_ja),
            kind: Some(r.kind()),
        }
    }

    fn queue(
        &mut self,
        emp: &EmployerContact,
        kind: MailKind,
        items: Vec<(i64, Option<i64>)>,
        rows: Vec<MailRow>,
        extra: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<(), MailError> {
        let threshold = match kind {
            MailKind::CertificateExpiry => format!("{CERTIFICATE_NOTICE_DAYS}d"),
            MailKind::LateSubmission => format!("{LATE_WINDOW_DAYS}d"),
            _ => String::new(),
        };
        let key = dedupe_key(self.insurer, emp, kind, &items, &threshold);
        self.queue_keyed(emp, kind, key, items, rows, extra.unwrap_or_default())
    }

    fn queue_keyed(
        &mut self,
        emp: &EmployerContact,
        kind: MailKind,
        key: String,
        items: Vec<(i64, Option<i64>)>,
        mut rows: Vec<MailRow>,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), MailError> {
        let total = rows.len();
        let kinds: Vec<NoticeKind> = rows.iter().filter_map(|r| r.kind).collect();
        rows.truncate(MAX_ROWS);
        let rules = &self.insurer.rules;
        let ctx = MailContext {
            insurer_name: self.insurer.name.clone(),
            kyosai: self.insurer.kind == InsurerKind::Kyosai,
            employer_word: tpl::employer_word(self.insurer.kind).into(),
            addressee: tpl::addressee(self.insurer.kind).into(),
            contact_lines: contact_lines(self.insurer, self.prefs),
            reply_to: self.prefs.reply_to.clone(),
            submission_days_ja: tpl::days_ja(&rules.submission.days, &kinds),
            requests_days_ja: tpl::days_ja(&rules.submission.days, &[]),
            registration_days_ja: tpl::days_ja(&rules.registration.days, &kinds),
            late_window_days: LATE_WINDOW_DAYS,
            employer_label: employer_label(emp, self.insurer.kind),
            as_of_ja: date_ja(self.as_of),
            shown: rows.len(),
            total,
            rows,
            extra,
        };
        let r = render(kind, &ctx)?;
        let msg = NewMessage {
            insurer: self.insurer.id,
            employer_id: emp.id,
            kind,
            dedupe_key: key,
            recipients: emp.contacts.clone(),
            subject: r.subject,
            body_text: r.body_text,
            body_html: r.body_html,
            as_of: self.as_of,
            items,
            sender: FrozenSender {
                name: self.prefs.sender_name.clone(),
                from_address: self.prefs.from_address.clone(),
                reply_to: self.prefs.reply_to.clone(),
                bounce_address: self.prefs.bounce_address.clone(),
            },
        };
        if let Some(out) = self.preview.as_deref_mut() {
            if outbox::dedupe_key_exists(self.conn, &msg.dedupe_key)? {
                self.counts.already_queued += 1;
            } else {
                *self.counts.queued.entry(kind.code()).or_default() += 1;
                out.push(msg);
            }
            return Ok(());
        }
        match outbox::queue(self.conn, &msg, self.now)? {
            Some(_) => *self.counts.queued.entry(kind.code()).or_default() += 1,
            None => self.counts.already_queued += 1,
        }
        Ok(())
    }
}

/// 「株式会社テスト（事業所記号 E01）」; a 共済組合等's employer is a 所属所 (所属所記号).
fn employer_label(emp: &EmployerContact, kind: InsurerKind) -> String {
    let word = tpl::employer_word(kind);
    match emp.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("{name}（{word}記号 {}）", emp.code),
        None => format!("{word}記号 {}", emp.code),
    }
}

/// The footer's お問い合わせ先: the insurer's contact text, the Reply-To of the mail settings (else
/// the sender's name and From address set there) and the insurer's address. Empty when none of
/// these is set: the footer then names no 「上記お問い合わせ先」.
pub fn contact_lines(insurer: &Insurer, prefs: &MailPrefs) -> Vec<String> {
    let mut out: Vec<String> = insurer
        .contact
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let named = |a: &str, out: &[String]| out.iter().any(|l| l.contains(a));
    match (&prefs.reply_to, &prefs.from_address) {
        (Some(r), _) if !named(r, &out) => out.push(format!("電子メール: {r}")),
        (None, Some(f)) if !named(f, &out) => {
            if let Some(n) = &prefs.sender_name {
                out.push(format!("担当: {n}"));
            }
            out.push(format!("電子メール: {f}"));
        }
        _ => {}
    }
    if let Some(a) = insurer
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        out.push(format!("所在地: {a}"));
    }
    out
}

/// (insurer, employer, kind, notice set, threshold) hashed.
fn dedupe_key(
    insurer: &Insurer,
    emp: &EmployerContact,
    kind: MailKind,
    items: &[(i64, Option<i64>)],
    threshold: &str,
) -> String {
    let mut ids: Vec<String> = items
        .iter()
        .map(|(n, c)| match c {
            Some(c) => format!("{n}:{c}"),
            None => n.to_string(),
        })
        .collect();
    ids.sort();
    let mut h = Sha256::new();
    h.update(format!(
        "{}|{}|{}|{}|{}",
        insurer.id.0,
        emp.id,
        kind.code(),
        threshold,
        ids.join(",")
    ));
    format!("{}:{}", kind.code(), hex::encode(h.finalize()))
}
