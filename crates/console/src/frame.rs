//! The frame around every page: the header with the center's name, the links the visitor may
//! follow, the language switch and who is signed in; the footer with the public links.

use maud::{DOCTYPE, Markup, html};

use crate::Lang;

/// The text in the page's language.
pub fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Who is signed in, as the header shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub name: String,
    /// The role's name (`admin`, `assessor`, …).
    pub role: String,
    pub organisation: Option<String>,
}

/// A link of the header's navigation; the center offers only those its policy allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavLink {
    pub href: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// What every page is framed with.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub lang: Lang,
    pub viewer: Option<&'a Viewer>,
    pub nav: &'a [NavLink],
    /// This page's path and query, where the language switch comes back to.
    pub here: &'a str,
}

/// The roles, as (value, 简体中文, English), in the order a form offers them.
pub(crate) const ROLES: [(&str, &str, &str); 5] = [
    ("applicant", "申请方", "applicant"),
    ("assessor", "评估员", "assessor"),
    ("reviewer", "复核员", "reviewer"),
    ("auditor", "审计员", "auditor"),
    ("admin", "管理员", "administrator"),
];

/// A role's name in the page's language (an unknown one as it is).
pub(crate) fn role_name(lang: Lang, role: &str) -> &str {
    ROLES
        .iter()
        .find(|(value, _, _)| *value == role)
        .map_or(role, |(_, zh, en)| t(lang, zh, en))
}

/// A query string (without `?`) of the pairs whose value is set, each value encoded.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A whole page: `title` (already in the page's language) over `body`.
pub(crate) fn page(frame: &Frame<'_>, title: &str, body: Markup) -> String {
    let lang = frame.lang;
    let switch = |to: Lang, label: &'static str| {
        let href = format!("/lang/{to}?next={}", encode(frame.here));
        html! {
            @if to == lang {
                span.current aria-current="true" { (label) }
            } @else {
                a href=(href) lang=(t(to, "zh-CN", "en")) { (label) }
            }
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(t(lang, "zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t(lang, "试金石评测中心", "Touchstone evaluation center")) }
                link rel="stylesheet" href="/static/report.css";
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body {
                a.skip href="#main" { (t(lang, "跳到正文", "Skip to content")) }
                header.site {
                    a.brand href="/" { "试金石 " span { "Touchstone" } }
                    nav aria-label=(t(lang, "主导航", "Main")) {
                        ul {
                            @for link in frame.nav {
                                li { a href=(link.href) { (t(lang, link.zh, link.en)) } }
                            }
                        }
                    }
                    div.account {
                        span.lang role="group" aria-label=(t(lang, "语言", "Language")) {
                            (switch(Lang::Zh, "中文")) " | " (switch(Lang::En, "English"))
                        }
                        @match frame.viewer {
                            Some(v) => {
                                span.who {
                                    (v.name) " · " (role_name(lang, &v.role))
                                    @if let Some(o) = &v.organisation { " · " (o) }
                                }
                                form.inline method="post" action="/logout" {
                                    button type="submit" { (t(lang, "退出", "Sign out")) }
                                }
                            }
                            None => {
                                a href=(format!("/login?next={}", encode(frame.here))) { (t(lang, "登录", "Sign in")) }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
                footer.site {
                    a href="/" { (t(lang, "公开结果", "Published results")) } " · "
                    a href="/verify" { (t(lang, "验证证书", "Verify a certificate")) } " · "
                    a href="/about" { (t(lang, "评估说明", "About the assessment")) } " · "
                    a href="/log" { (t(lang, "透明日志头", "Transparency log head")) } " · "
                    a href="/api/v1/openapi.json" { "API" }
                }
            }
        }
    };
    let mut out = markup.into_string();
    out.push('\n');
    out
}

/// Percent-encodes a path and query for use as a query value (`next=`) or a path segment.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_values_are_encoded_so_they_stay_one_parameter() {
        assert_eq!(
            encode("/console/runs/r1?x=1&y=2"),
            "/console/runs/r1%3Fx%3D1%26y%3D2"
        );
        assert_eq!(encode("\"><script>"), "%22%3E%3Cscript%3E");
    }

    #[test]
    fn the_frame_escapes_who_is_signed_in() {
        let viewer = Viewer {
            name: "<script>alert(1)</script>".into(),
            role: "applicant".into(),
            organisation: Some("\"><img src=x onerror=alert(1)>".into()),
        };
        let frame = Frame {
            lang: Lang::En,
            viewer: Some(&viewer),
            nav: &[],
            here: "/\"><b>",
        };
        let html = page(&frame, "T", html! {});
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<b>"));
        // The only script is the console's own file.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains("<script src=\"/static/console.js\" defer></script>"));
    }
}
