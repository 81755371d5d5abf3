//! Logging with `tracing`: human-readable by default, JSON when `REGWATCH_LOG_FORMAT=json`.
use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; logs go to stderr so command output stays clean.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("REGWATCH_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}
