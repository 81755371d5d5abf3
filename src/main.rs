//! The `regwatch` binary: parse the command line, run it, print a failure as one clear line.
use std::process::ExitCode;

fn main() -> ExitCode {
    match regwatch::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("エラー: {e:#}");
            ExitCode::from(1)
        }
    }
}
