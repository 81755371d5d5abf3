//! Tera templates, embedded in the binary by build.rs (every file under templates/).
use tera::Tera;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

pub fn load() -> tera::Result<Tera> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".htm", ".svg"]);
    tera.add_raw_templates(embedded::TEMPLATES.iter().copied())?;
    tera.register_filter("pct", pct);
    tera.register_filter("num", num);
    tera.register_filter("dec1", dec1);
    tera.register_filter("jst", crate::time::tera_jst);
    tera.register_filter("day", crate::time::tera_day);
    Ok(tera)
}

/// 0.8734 → "87.3%"; null → "—".
fn pct(
    v: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    Ok(match v.as_f64() {
        Some(f) => tera::Value::String(format!("{:.1}%", f * 100.0)),
        None => tera::Value::String("—".into()),
    })
}

/// 23 → "23.0", 43.666 → "43.7" (ratios such as notices per staff member); null → "—".
fn dec1(
    v: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    Ok(tera::Value::String(match v.as_f64() {
        Some(f) => format!("{f:.1}"),
        None => "—".into(),
    }))
}

/// 1234567 → "1,234,567".
fn num(
    v: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let Some(n) = v.as_i64() else {
        return Ok(match v {
            tera::Value::Null => tera::Value::String("—".into()),
            other => other.clone(),
        });
    };
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    Ok(tera::Value::String(if n < 0 {
        format!("-{out}")
    } else {
        out
    }))
}

/// A tera error with its causes (tera puts the parse position in the source chain).
pub fn describe(e: &tera::Error) -> String {
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        if let Err(e) = super::load() {
            panic!("{}", super::describe(&e));
        }
    }
}
