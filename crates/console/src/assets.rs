//! The files the pages load, embedded in the binary: no build step, no CDN, nothing fetched.

/// (name, content type, bytes) of every file under `/static/`.
pub const ASSETS: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/console.js"),
    ),
    (
        "report.css",
        "text/css; charset=utf-8",
        touchstone_report::HTML_CSS,
    ),
];

/// The file `/static/{name}`: its content type and text.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, content_type, text)| (*content_type, *text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_frame_loads_is_embedded() {
        for name in ["console.css", "console.js", "report.css"] {
            let (_, text) = asset(name).unwrap();
            assert!(!text.is_empty());
        }
        assert_eq!(asset("../Cargo.toml"), None);
        assert_eq!(asset(""), None);
    }
}
