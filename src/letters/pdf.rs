//! Prints the letters' HTML to PDF with headless Chromium: its layout engine handles Japanese line
//! breaking, `@page` sizes and embeds the (subset) CJK font with a ToUnicode map, so the text of
//! the PDF stays extractable. The HTML and the PDF hold personal data: they live in a private
//! temporary directory that is removed afterwards, whatever happens.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Environment variable naming the Chromium executable (default `chromium` on PATH).
pub const CHROMIUM_ENV: &str = "REGWATCH_CHROMIUM";
/// Chromium processes printing at once: each takes a few hundred MB.
const MAX_PARALLEL: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("PDF を作成できません: Chromium（{0}）が見つかりません。chromium をインストールするか、環境変数 REGWATCH_CHROMIUM で実行ファイルを指定してください")]
    Missing(String),
    #[error("PDF を作成できません: Chromium が {0} 秒以内に終わりませんでした。通数を減らしてもう一度お試しください")]
    Timeout(u64),
    #[error("PDF を作成できません: Chromium が異常終了しました（{status}）")]
    Failed { status: String, stderr: String },
    #[error("PDF を作成できません: 一時ファイルを扱えません（{0}）")]
    Io(#[from] std::io::Error),
}

/// How to run Chromium.
#[derive(Clone, Debug)]
pub struct Printer {
    pub program: PathBuf,
    /// Time allowed for `pages` pages: `base + per_page * pages`.
    pub base_timeout: Duration,
    pub per_page_timeout: Duration,
}

impl Printer {
    /// `REGWATCH_CHROMIUM` or `chromium`.
    pub fn from_env() -> Printer {
        let program = std::env::var(CHROMIUM_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "chromium".into());
        Printer::new(program)
    }

    pub fn new(program: impl Into<PathBuf>) -> Printer {
        Printer {
            program: program.into(),
            base_timeout: Duration::from_secs(60),
            per_page_timeout: Duration::from_millis(200),
        }
    }

    /// Prints `html` (a whole document; `pages` is only used for the time limit) and returns the PDF.
    pub fn print(&self, html: &str, pages: usize) -> Result<Vec<u8>, PdfError> {
        let _slot = Slot::take();
        let dir = TempDir::new()?;
        let input = dir.path.join("letters.html");
        let output = dir.path.join("letters.pdf");
        std::fs::write(&input, html)?;
        let stderr_path = dir.path.join("chromium.log");
        let stderr = std::fs::File::create(&stderr_path)?;
        let mut child = match Command::new(&self.program)
            .arg("--headless=new")
            .arg("--no-sandbox")
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            .arg("--disable-extensions")
            .arg("--disable-background-networking")
            .arg("--disable-sync")
            .arg("--no-first-run")
            .arg("--no-default-browser-check")
            .arg("--mute-audio")
            .arg("--no-pdf-header-footer")
            .arg(format!(
                "--user-data-dir={}",
                dir.path.join("profile").display()
            ))
            .arg(format!("--print-to-pdf={}", output.display()))
            .arg(file_url(&input))
            .env("HOME", &dir.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PdfError::Missing(self.program.display().to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(PdfError::Missing(self.program.display().to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        let limit = self.base_timeout + self.per_page_timeout * pages as u32;
        let started = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break s;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PdfError::Timeout(limit.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let pdf = std::fs::read(&output).unwrap_or_default();
        if !status.success() || !pdf.starts_with(b"%PDF") {
            let mut log = String::new();
            if let Ok(mut f) = std::fs::File::open(&stderr_path) {
                let _ = f.read_to_string(&mut log);
            }
            let tail: String = log
                .lines()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            return Err(PdfError::Failed {
                status: status.to_string(),
                stderr: tail,
            });
        }
        Ok(pdf)
    }
}

fn file_url(p: &Path) -> String {
    url::Url::from_file_path(p)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| format!("file://{}", p.display()))
}

/// A private directory (0700) under the system temp dir, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        static N: AtomicU64 = AtomicU64::new(0);
        let mut b = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
        let path = std::env::temp_dir().join(format!(
            "regwatch-letters-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            hex::encode(b)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path)?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(error = %e, "could not remove the letters' temporary directory");
        }
    }
}

/// A process-wide limit on concurrent Chromium runs (a resource of the machine, not a setting).
struct Slot;

fn slots() -> &'static (Mutex<usize>, Condvar) {
    static S: OnceLock<(Mutex<usize>, Condvar)> = OnceLock::new();
    S.get_or_init(|| (Mutex::new(0), Condvar::new()))
}

impl Slot {
    fn take() -> Slot {
        let (m, cv) = slots();
        let mut busy = m.lock().unwrap_or_else(|p| p.into_inner());
        while *busy >= MAX_PARALLEL {
            busy = cv.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        *busy += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (m, cv) = slots();
        let mut busy = m.lock().unwrap_or_else(|p| p.into_inner());
        *busy -= 1;
        cv.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_chromium_is_a_clear_japanese_error() {
        let p = Printer::new("/nonexistent/regwatch-no-chromium");
        let e = p.print("<p>x</p>", 1).unwrap_err();
        assert!(matches!(e, PdfError::Missing(_)), "{e:?}");
        assert!(e.to_string().contains("REGWATCH_CHROMIUM"), "{e}");
    }
}
