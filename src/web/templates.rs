//! Tera templates, embedded in the binary so it runs from any directory (and in the container).
use tera::Tera;

/// (name, source) of every template under templates/.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "pages/base.html",
        include_str!("../../templates/pages/base.html"),
    ),
    (
        "pages/login.html",
        include_str!("../../templates/pages/login.html"),
    ),
];

pub fn load() -> tera::Result<Tera> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    tera.autoescape_on(vec![".html", ".htm"]);
    Ok(tera)
}
