//! `/docs/robustness`: the method write-up behind the results page's robustness figures
//! (`docs/robustness.md`, compiled in), as a plain HTML page with one anchor per section, so each
//! figure can link to its method; `/docs/rules`: the rule-language reference (`docs/rules.md`)
//! the strategy editor links to. No scripts; a small Markdown subset is enough for the files:
//! headings, paragraphs, `-`/`*` lists, indented and fenced code blocks, `|` tables,
//! `inline code` and **bold**.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;

use super::assets::Stylesheet;
use app::components::results::format::escape_xml as escape;

/// The write-up, as committed.
const ROBUSTNESS_MD: &str = include_str!("../../../docs/robustness.md");

/// No scripts, no frames; styles from our own origin only.
const DOCS_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The rule-language reference, as committed.
const RULES_MD: &str = include_str!("../../../docs/rules.md");

/// `GET /docs/robustness`.
pub async fn robustness_page(Extension(css): Extension<Stylesheet>) -> Response {
    doc_page(&css, "Robustness methods", ROBUSTNESS_MD)
}

/// `GET /docs/rules`: the language reference the strategy editor links to.
pub async fn rules_page(Extension(css): Extension<Stylesheet>) -> Response {
    doc_page(&css, "The rule language", RULES_MD)
}

fn doc_page(css: &Stylesheet, title: &str, md: &str) -> Response {
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{} · Runboard</title><link rel="stylesheet" href="{}"></head>
<body><main class="container docs" data-testid="docs"><p><a href="/">Runboard</a></p>
{}
</main></body></html>"#,
        escape(title),
        escape(&css.0),
        markdown_to_html(md)
    );
    let mut response = (StatusCode::OK, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A heading's anchor, as GitHub makes it: lower case, spaces to `-`, other punctuation dropped.
pub fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// `code` and **bold** inside escaped text.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            for (j, p) in escape(part).split("**").enumerate() {
                if j % 2 == 1 {
                    out.push_str(&format!("<strong>{p}</strong>"));
                } else {
                    out.push_str(p);
                }
            }
        }
    }
    out
}

/// The Markdown subset described in the module docs, to HTML.
pub fn markdown_to_html(md: &str) -> String {
    #[derive(PartialEq)]
    enum Block {
        None,
        Para,
        List,
        Code,
        Fence,
        Table,
    }
    let mut out = String::new();
    let mut block = Block::None;
    let close = |out: &mut String, block: &mut Block| {
        out.push_str(match block {
            Block::Para => "</p>\n",
            Block::List => "</li></ul>\n",
            Block::Code | Block::Fence => "</code></pre>\n",
            Block::Table => "</tbody></table></div>\n",
            Block::None => "",
        });
        *block = Block::None;
    };
    for line in md.lines() {
        // ``` fences: everything up to the closing fence is code, as is.
        if line.trim_start().starts_with("```") {
            if block == Block::Fence {
                close(&mut out, &mut block);
            } else {
                close(&mut out, &mut block);
                out.push_str("<pre><code>");
                block = Block::Fence;
            }
            continue;
        }
        if block == Block::Fence {
            if !out.ends_with("<code>") {
                out.push('\n');
            }
            out.push_str(&escape(line));
            continue;
        }
        // `| a | b |` tables: the first row is the header, the `|---|` row is skipped.
        if let Some(row) = line.trim().strip_prefix('|') {
            let cells: Vec<&str> = row
                .trim_end_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            if cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
            {
                continue;
            }
            let tag = if block == Block::Table { "td" } else { "th" };
            if block != Block::Table {
                close(&mut out, &mut block);
                out.push_str("<div class=\"table-wrap\"><table><thead>");
            }
            out.push_str("<tr>");
            for cell in cells {
                out.push_str(&format!("<{tag}>{}</{tag}>", inline(cell)));
            }
            out.push_str("</tr>");
            if block != Block::Table {
                out.push_str("</thead><tbody>");
                block = Block::Table;
            }
            out.push('\n');
            continue;
        }
        if block == Block::Table {
            close(&mut out, &mut block);
        }
        if let Some(code) = line.strip_prefix("    ").filter(|_| block != Block::List) {
            if block != Block::Code {
                close(&mut out, &mut block);
                out.push_str("<pre><code>");
                block = Block::Code;
            } else {
                out.push('\n');
            }
            out.push_str(&escape(code));
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            close(&mut out, &mut block);
            continue;
        }
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=4).contains(&level) && trimmed[level..].starts_with(' ') {
            close(&mut out, &mut block);
            let text = trimmed[level..].trim();
            out.push_str(&format!(
                "<h{level} id=\"{}\">{}</h{level}>\n",
                slug(text),
                inline(text)
            ));
            continue;
        }
        if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            if block == Block::List {
                out.push_str("</li>\n<li>");
            } else {
                close(&mut out, &mut block);
                out.push_str("<ul>\n<li>");
                block = Block::List;
            }
            out.push_str(&inline(item));
            continue;
        }
        match block {
            Block::Para | Block::List => out.push('\n'),
            _ => {
                close(&mut out, &mut block);
                out.push_str("<p>");
                block = Block::Para;
            }
        }
        out.push_str(&inline(trimmed));
    }
    close(&mut out, &mut block);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_match_the_links_on_the_results_page() {
        let html = markdown_to_html(ROBUSTNESS_MD);
        for anchor in [
            "deflated-sharpe-ratio",
            "probability-of-backtest-overfitting-pbo",
            "bootstrap-significance-of-the-best-run",
            "parameter-plateau",
        ] {
            assert!(html.contains(&format!("id=\"{anchor}\"")), "{anchor}");
        }
    }

    #[test]
    fn fences_tables_and_star_lists_render() {
        let html = markdown_to_html(
            "```\nlong entry: a < b\n\n  x\n```\n| Statement | Meaning |\n|---|---|\n| `a` | b <c> |\nafter\n\n* one\n",
        );
        assert_eq!(
            html,
            "<pre><code>long entry: a &lt; b\n\n  x</code></pre>\n\
             <div class=\"table-wrap\"><table><thead><tr><th>Statement</th><th>Meaning</th></tr></thead><tbody>\n\
             <tr><td><code>a</code></td><td>b &lt;c&gt;</td></tr>\n</tbody></table></div>\n\
             <p>after</p>\n<ul>\n<li>one</li></ul>\n"
        );
        // The committed reference renders every table and its code blocks.
        let rules = markdown_to_html(RULES_MD);
        assert_eq!(
            rules.matches("<table>").count(),
            RULES_MD.matches("\n|---").count()
        );
        assert!(!rules.contains("```"), "no fence left unrendered");
    }

    #[test]
    fn markdown_subset_renders_and_escapes() {
        let html = markdown_to_html(
            "# A <b>\n\ntext **bold** and `x < y`\nmore\n\n- one\n- two `c`\n\n    code <1>\n    two\n",
        );
        assert_eq!(
            html,
            "<h1 id=\"a-b\">A &lt;b&gt;</h1>\n<p>text <strong>bold</strong> and <code>x &lt; y</code>\nmore</p>\n\
             <ul>\n<li>one</li>\n<li>two <code>c</code></li></ul>\n<pre><code>code &lt;1&gt;\ntwo</code></pre>\n"
        );
    }
}
