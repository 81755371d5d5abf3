//! Pure rules: Japanese administrative calendar, deadlines, statuses, My Number status. No I/O.
pub mod calendar;
pub mod limits;
pub mod my_number;
pub mod results;
pub mod rules;
pub mod search;
pub mod settings;
pub mod staffing;
pub mod types;

pub use calendar::Calendar;
pub use my_number::MyNumberStatus;
pub use rules::{evaluate, Evaluation, NoticeFacts, RegistrationRule, RuleEval, Status};
pub use settings::{Policy, RuleSettings};
pub use types::{InsurerKind, InsurerNumber, NoticeId, NoticeKind};
