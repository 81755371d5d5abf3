//! Use cases between the web (and CLI) and the store: typed input and the acting user in, the
//! transaction and the audit entry here, a per-area error out.
pub mod account;
pub mod audit;
pub mod cases;
pub mod employers;
pub mod error_causes;
pub mod imports;
pub mod letters;
pub mod mail;
pub mod profiles;
pub mod settings;
pub mod staffing;
pub mod survey;
pub mod users;
pub mod workflow;

use crate::store::insurers::InsurerId;
use crate::store::users::UserId;

/// Who acts: the insurer whose data is touched, the signed-in user (none for the CLI), and how
/// the audit log names them.
#[derive(Clone, Debug)]
pub struct Acting {
    pub insurer: InsurerId,
    pub user: Option<UserId>,
    pub label: String,
}

impl Acting {
    /// Writes the audit entry of what this actor did, in the caller's transaction.
    pub fn audit(
        &self,
        conn: &mut crate::store::DbConn,
        action: crate::store::audit::AuditAction,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), diesel::result::Error> {
        crate::store::audit::record(
            conn,
            &crate::store::audit::AuditEntry {
                insurer: Some(self.insurer),
                user: self.user,
                actor: &self.label,
                action,
                target,
                detail,
            },
        )
    }
}
