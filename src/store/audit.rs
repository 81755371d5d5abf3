//! Audit log: who did what to which tenant's data, and when.
use super::insurers::InsurerId;
use super::schema::audit_log;
use super::users::UserId;
use super::{now_utc, DbConn};
use diesel::prelude::*;

/// What an audit entry records. The code is what the database stores (entries written by earlier
/// versions keep theirs); the label is what the audit page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// ログイン
    Login,
    /// ログイン失敗
    LoginFailed,
    /// ログイン失敗（一時停止中: 同じ接続元から同じアドレスへの失敗が続いた）
    LoginLocked,
    /// ログアウト
    Logout,
    /// パスワード変更
    PasswordChanged,
    /// 案件の閲覧
    ViewNotice,
    /// 案件一覧の出力
    ExportNotices,
    /// チェックリストの出力
    ExportChecklist,
    /// 統計表の出力
    ExportStatistics,
    /// 事務量の出力
    ExportWorkload,
    /// フォローアップ調査の出力
    ExportSurvey,
    /// ファイルの取込
    Import,
    /// ファイルの取込（失敗）
    ImportFailed,
    /// 届書の取込（CLI）
    ImportNoticesCli,
    /// 登録結果の取込（CLI）
    ImportRegistrationsCli,
    /// 取込プロファイルの保存
    ImportProfileSave,
    /// 取込プロファイルの削除
    ImportProfileDelete,
    /// お知らせの作成
    LettersGenerated,
    /// お知らせの見本表示
    LetterPreviewed,
    /// お知らせの再ダウンロード
    LetterDownloaded,
    /// お知らせの発送記録
    LetterSent,
    /// お知らせ差出人の変更
    LetterSenderChanged,
    /// 資格確認書の交付記録
    CertificateIssued,
    /// 案件の担当者・次回対応日の変更
    CaseWorkflowSet,
    /// 案件メモの追加
    CaseNoteAdded,
    /// 事業所・所属所の連絡先の変更
    EmployerUpdated,
    /// 事業所のマイナンバー提出遅延の記録
    EmployerMyNumberLate,
    /// 事業所の配信停止（メール内のリンク）
    EmployerUnsubscribed,
    /// エラーコードと要因の変更
    ErrorCausesSet,
    /// チェックリストの回答
    ChecklistAnswer,
    /// 改善計画の取組の追加
    PlanActionAdd,
    /// 改善計画の取組の状況変更
    PlanActionStatus,
    /// 改善計画の取組の変更
    PlanActionEdit,
    /// 改善計画の取組の削除
    PlanActionDelete,
    /// 改善計画の確認
    PlanReview,
    /// フォローアップ調査の回答
    SurveyAnswer,
    /// フォローアップ調査の提出記録
    SurveySubmit,
    /// 事務体制の登録
    StaffingSet,
    /// 事務体制の一括登録
    StaffingReplace,
    /// 設定の変更
    SettingsChanged,
    /// メール設定の変更
    MailSettingsChanged,
    /// メールの再送
    MailRetry,
    /// メールの保留
    MailHold,
    /// メールの保留解除
    MailRelease,
    /// メールの取消
    MailCancel,
    /// 利用者の追加
    UserAdded,
    /// 役割の変更
    RoleChanged,
    /// 利用者の追加（CLI）
    UserAddCli,
    /// 表示名の変更
    DisplayNameChanged,
    /// 利用者の無効化（ログイン不可、すべてのセッションを終了）
    UserDeactivated,
    /// 利用者の再有効化
    UserReactivated,
    /// 管理者によるパスワードの再設定（次回ログイン時に変更を求める）
    PasswordReset,
    /// 監査ログの出力
    ExportAudit,
    /// 保険者の登録（CLI）
    InsurerAddCli,
}

impl AuditAction {
    /// Every action, in the order the audit page's filter offers them.
    pub const ALL: [AuditAction; 54] = {
        use AuditAction::*;
        [
            Login,
            LoginFailed,
            LoginLocked,
            Logout,
            PasswordChanged,
            ViewNotice,
            ExportNotices,
            ExportChecklist,
            ExportStatistics,
            ExportWorkload,
            ExportSurvey,
            Import,
            ImportFailed,
            ImportNoticesCli,
            ImportRegistrationsCli,
            ImportProfileSave,
            ImportProfileDelete,
            LettersGenerated,
            LetterPreviewed,
            LetterDownloaded,
            LetterSent,
            LetterSenderChanged,
            CertificateIssued,
            CaseWorkflowSet,
            CaseNoteAdded,
            EmployerUpdated,
            EmployerMyNumberLate,
            EmployerUnsubscribed,
            ErrorCausesSet,
            ChecklistAnswer,
            PlanActionAdd,
            PlanActionStatus,
            PlanActionEdit,
            PlanActionDelete,
            PlanReview,
            SurveyAnswer,
            SurveySubmit,
            StaffingSet,
            StaffingReplace,
            SettingsChanged,
            MailSettingsChanged,
            MailRetry,
            MailHold,
            MailRelease,
            MailCancel,
            UserAdded,
            RoleChanged,
            UserAddCli,
            DisplayNameChanged,
            UserDeactivated,
            UserReactivated,
            PasswordReset,
            ExportAudit,
            InsurerAddCli,
        ]
    };

    /// The stored code.
    pub fn code(self) -> &'static str {
        use AuditAction::*;
        match self {
            Login => "login",
            LoginFailed => "login_failed",
            LoginLocked => "login_locked",
            Logout => "logout",
            PasswordChanged => "password_changed",
            ViewNotice => "view_notice",
            ExportNotices => "export_notices",
            ExportChecklist => "export_checklist",
            ExportStatistics => "export_statistics",
            ExportWorkload => "export_workload",
            ExportSurvey => "export_survey",
            Import => "import",
            ImportFailed => "import_failed",
            ImportNoticesCli => "import.notices",
            ImportRegistrationsCli => "import.registrations",
            ImportProfileSave => "import_profile_save",
            ImportProfileDelete => "import_profile_delete",
            LettersGenerated => "letters_generated",
            LetterPreviewed => "letter_previewed",
            LetterDownloaded => "letter_downloaded",
            LetterSent => "letter_sent",
            LetterSenderChanged => "letter_sender_changed",
            CertificateIssued => "certificate_issued",
            CaseWorkflowSet => "case_workflow_set",
            CaseNoteAdded => "case_note_added",
            EmployerUpdated => "employer_updated",
            EmployerMyNumberLate => "employer_my_number_late",
            EmployerUnsubscribed => "employer_unsubscribed",
            ErrorCausesSet => "error_causes_set",
            ChecklistAnswer => "checklist_answer",
            PlanActionAdd => "plan_action_add",
            PlanActionStatus => "plan_action_status",
            PlanActionEdit => "plan_action_edit",
            PlanActionDelete => "plan_action_delete",
            PlanReview => "plan_review",
            SurveyAnswer => "survey_answer",
            SurveySubmit => "survey_submit",
            StaffingSet => "staffing_set",
            StaffingReplace => "staffing_replace",
            SettingsChanged => "settings_changed",
            MailSettingsChanged => "mail_settings_changed",
            MailRetry => "mail.retry",
            MailHold => "mail.hold",
            MailRelease => "mail.release",
            MailCancel => "mail.cancel",
            UserAdded => "user_added",
            RoleChanged => "role_changed",
            UserAddCli => "user.add",
            DisplayNameChanged => "display_name_changed",
            UserDeactivated => "user_deactivated",
            UserReactivated => "user_reactivated",
            PasswordReset => "password_reset",
            ExportAudit => "export_audit",
            InsurerAddCli => "insurer.add",
        }
    }

    /// The Japanese name on the audit page.
    pub fn label_ja(self) -> &'static str {
        use AuditAction::*;
        match self {
            Login => "ログイン",
            LoginFailed => "ログイン失敗",
            LoginLocked => "ログイン失敗（一時停止中）",
            Logout => "ログアウト",
            PasswordChanged => "パスワード変更",
            ViewNotice => "案件の閲覧",
            ExportNotices => "案件一覧の出力",
            ExportChecklist => "チェックリストの出力",
            ExportStatistics => "統計表の出力",
            ExportWorkload => "事務量の出力",
            ExportSurvey => "フォローアップ調査の出力",
            Import => "ファイルの取込",
            ImportFailed => "ファイルの取込（失敗）",
            ImportNoticesCli => "届書の取込（CLI）",
            ImportRegistrationsCli => "登録結果の取込（CLI）",
            ImportProfileSave => "取込プロファイルの保存",
            ImportProfileDelete => "取込プロファイルの削除",
            LettersGenerated => "お知らせの作成",
            LetterPreviewed => "お知らせの見本表示",
            LetterDownloaded => "お知らせの再ダウンロード",
            LetterSent => "お知らせの発送記録",
            LetterSenderChanged => "お知らせ差出人の変更",
            CertificateIssued => "資格確認書の交付記録",
            CaseWorkflowSet => "案件の担当者・次回対応日の変更",
            CaseNoteAdded => "案件メモの追加",
            EmployerUpdated => "事業所・所属所の連絡先の変更",
            EmployerMyNumberLate => "事業所のマイナンバー提出遅延の記録",
            EmployerUnsubscribed => "事業所の配信停止（メール内のリンク）",
            ErrorCausesSet => "エラーコードと要因の変更",
            ChecklistAnswer => "チェックリストの回答",
            PlanActionAdd => "改善計画の取組の追加",
            PlanActionStatus => "改善計画の取組の状況変更",
            PlanActionEdit => "改善計画の取組の変更",
            PlanActionDelete => "改善計画の取組の削除",
            PlanReview => "改善計画の確認",
            SurveyAnswer => "フォローアップ調査の回答",
            SurveySubmit => "フォローアップ調査の提出記録",
            StaffingSet => "事務体制の登録",
            StaffingReplace => "事務体制の一括登録",
            SettingsChanged => "設定の変更",
            MailSettingsChanged => "メール設定の変更",
            MailRetry => "メールの再送",
            MailHold => "メールの保留",
            MailRelease => "メールの保留解除",
            MailCancel => "メールの取消",
            UserAdded => "利用者の追加",
            RoleChanged => "役割の変更",
            UserAddCli => "利用者の追加（CLI）",
            DisplayNameChanged => "表示名の変更",
            UserDeactivated => "利用者の無効化",
            UserReactivated => "利用者の再有効化",
            PasswordReset => "パスワードの再設定（管理者）",
            ExportAudit => "監査ログの出力",
            InsurerAddCli => "保険者の登録（CLI）",
        }
    }

    pub fn from_code(code: &str) -> Option<AuditAction> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The Japanese name of a stored code (a code this version does not know shows as itself).
    pub fn label_of(code: &str) -> &str {
        match Self::from_code(code) {
            Some(a) => a.label_ja(),
            None => code,
        }
    }
}

/// One audit entry. `actor` is a readable label (an e-mail, or "cli") so entries stay meaningful
/// after a user is removed.
pub struct AuditEntry<'a> {
    pub insurer: Option<InsurerId>,
    pub user: Option<UserId>,
    pub actor: &'a str,
    pub action: AuditAction,
    pub target: Option<&'a str>,
    pub detail: Option<&'a str>,
}

pub fn record(conn: &mut DbConn, e: &AuditEntry<'_>) -> Result<(), diesel::result::Error> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::insurer_id.eq(e.insurer.map(|i| i.0)),
            audit_log::user_id.eq(e.user.map(|u| u.0)),
            audit_log::actor.eq(e.actor),
            audit_log::action.eq(e.action.code()),
            audit_log::target.eq(e.target),
            audit_log::detail.eq(e.detail),
            audit_log::created_at.eq(now_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One stored entry as the audit log shows it (fields in the order of the query's columns).
#[derive(Debug, Clone, Queryable)]
pub struct AuditRecord {
    pub id: i64,
    /// UTC
    pub at: chrono::NaiveDateTime,
    /// The user who acted, when it was a signed-in user (or the account a failed sign-in named).
    pub user_id: Option<i64>,
    pub actor: String,
    /// The stored code (a code this version no longer knows stays readable).
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// Which entries of an insurer's log: each part optional. Times are UTC bounds, `from` included
/// and `until` excluded (the web turns a range of Japan dates into them).
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub user: Option<UserId>,
    pub from: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
}

fn filtered<'a>(
    insurer: InsurerId,
    f: &AuditFilter,
) -> audit_log::BoxedQuery<'a, super::MultiBackend> {
    let mut q = audit_log::table
        .filter(audit_log::insurer_id.eq(insurer.0))
        .into_boxed();
    if let Some(a) = f.action {
        q = q.filter(audit_log::action.eq(a.code()));
    }
    if let Some(u) = f.user {
        q = q.filter(audit_log::user_id.eq(u.0));
    }
    if let Some(t) = f.from {
        q = q.filter(audit_log::created_at.ge(t));
    }
    if let Some(t) = f.until {
        q = q.filter(audit_log::created_at.lt(t));
    }
    q
}

/// One page (1-based) of the insurer's audit log that matches `f`, newest first, and the total of
/// entries that match. A read of one table by the insurer index.
pub fn page(
    c: &mut DbConn,
    insurer: InsurerId,
    f: &AuditFilter,
    page: i64,
    per_page: i64,
) -> Result<(Vec<AuditRecord>, i64), diesel::result::Error> {
    let total: i64 = filtered(insurer, f).count().get_result(c)?;
    let records = load(c, insurer, f, (page - 1).saturating_mul(per_page), per_page)?;
    Ok((records, total))
}

/// Up to `limit` entries of the insurer's log that match `f`, newest first (the export).
pub fn matching(
    c: &mut DbConn,
    insurer: InsurerId,
    f: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRecord>, diesel::result::Error> {
    load(c, insurer, f, 0, limit)
}

fn load(
    c: &mut DbConn,
    insurer: InsurerId,
    f: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>, diesel::result::Error> {
    filtered(insurer, f)
        .order((audit_log::created_at.desc(), audit_log::id.desc()))
        .offset(offset)
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::created_at,
            audit_log::user_id,
            audit_log::actor,
            audit_log::action,
            audit_log::target,
            audit_log::detail,
        ))
        .load(c)
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert!(seen.insert(a.code()), "{} twice", a.code());
            assert_eq!(AuditAction::from_code(a.code()), Some(a));
        }
        assert_eq!(AuditAction::label_of("login"), "ログイン");
        assert_eq!(AuditAction::label_of("something_old"), "something_old");
    }
}
