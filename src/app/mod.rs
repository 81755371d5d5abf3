//! Use cases between the web (and CLI) and the store: typed input and the acting user in, the
//! transaction and the audit entry here, a per-area error out.
pub mod imports;
pub mod letters;

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
