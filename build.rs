//! Embeds every file under templates/ in the binary (so it runs from any directory and in the
//! container) without a hand-kept list: writes `TEMPLATES: &[(name, source)]` to OUT_DIR.
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// `REGWATCH_BROWSER_TEST=1` / `REGWATCH_SMTP_TEST=1` (CI) turn on the tests that need Chromium or
/// aiosmtpd: they carry `#[cfg_attr(not(regwatch_browser_test), ignore = "…")]`, so without the
/// variable `cargo test` lists them as ignored instead of passing them silently.
fn test_switches() {
    for (var, cfg) in [
        ("REGWATCH_BROWSER_TEST", "regwatch_browser_test"),
        ("REGWATCH_SMTP_TEST", "regwatch_smtp_test"),
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var(var).is_ok_and(|v| v == "1") {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

fn main() {
    test_switches();
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("templates");
    println!("cargo:rerun-if-changed=templates");
    // The migrations are embedded by diesel's macro: a new one must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut code = String::from("pub const TEMPLATES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("templates.rs");
    std::fs::write(out, code).unwrap();
}
