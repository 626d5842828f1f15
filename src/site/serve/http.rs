//! The HTTP side of `tminus serve`: answering requests from the site in memory, the
//! long poll, and the live-reload script injected into HTML responses.

use std::sync::Arc;
use std::time::Duration;

use super::{Shared, POLL_PATH, STATUS_PATH};

/// The live-reload script, for a page served at generation `generation`.
fn reload_script(generation: u64) -> String {
    format!(
        "<script>/* tminus serve: live reload */(function(){{var g={generation};\
function poll(){{fetch(\"{POLL_PATH}?since=\"+g,{{cache:\"no-store\"}}).then(function(r){{return r.json();}})\
.then(function(d){{if(d.generation!==g){{location.reload();}}else{{poll();}}}})\
.catch(function(){{setTimeout(poll,1000);}});}}poll();}})();</script>"
    )
}

/// Inserts `script` before `</body>` (or at the end) and `banner` after `<body…>`.
fn inject(html: &str, banner: Option<&str>, script: &str) -> String {
    let mut out = String::with_capacity(html.len() + script.len() + banner.map_or(0, str::len));
    let lower = html.to_ascii_lowercase();
    let body_open = banner.and_then(|_| {
        let at = lower.find("<body")?;
        Some(at + lower[at..].find('>')? + 1)
    });
    let body_close = lower.rfind("</body>").unwrap_or(html.len());
    match (banner, body_open) {
        (Some(b), Some(at)) if at <= body_close => {
            out.push_str(&html[..at]);
            out.push_str(b);
            out.push_str(&html[at..body_close]);
        }
        (Some(b), _) => {
            out.push_str(b);
            out.push_str(&html[..body_close]);
        }
        (None, _) => out.push_str(&html[..body_close]),
    }
    out.push_str(script);
    out.push_str(&html[body_close..]);
    out
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "ics" => "text/calendar; charset=utf-8",
        "eml" => "message/rfc822",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" | "md" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

fn respond(request: tiny_http::Request, status: u16, ctype: &str, body: Vec<u8>) {
    let response = tiny_http::Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", ctype))
        .with_header(header("Cache-Control", "no-store"));
    let _ = request.respond(response);
}

pub(super) fn handle(shared: &Shared, request: tiny_http::Request) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if path == POLL_PATH {
        let since = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("since="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let g = shared.wait(since, Duration::from_secs(25));
        let body = format!("{{\"generation\":{g}}}");
        return respond(request, 200, "application/json", body.into_bytes());
    }
    if path == STATUS_PATH {
        let served = shared.served.read().expect("lock");
        let body = serde_json::json!({
            "generation": shared.generation(),
            "version": served.version,
            "errors": served.errors.as_ref().map_or(0, Vec::len),
        });
        drop(served);
        return respond(
            request,
            200,
            "application/json",
            body.to_string().into_bytes(),
        );
    }
    let decoded = percent_decode(path.trim_start_matches('/'));
    if decoded.split('/').any(|s| s == ".." || s.contains('\\')) {
        return respond(request, 400, "text/plain", b"bad path".to_vec());
    }
    let generation = shared.generation();
    let served = shared.served.read().expect("lock");
    let version = served.version.clone();
    let mut key = if decoded.is_empty() {
        "index.html".to_string()
    } else {
        decoded
    };
    if let Some(rest) = key.strip_prefix("latest/") {
        key = format!("v{version}/{rest}");
    }
    if key.ends_with('/') {
        key.push_str("index.html");
    }
    let script = reload_script(generation);
    // With no good build at all, every page is the error page.
    if served.files.is_empty() {
        let html = inject(&served.error_html, None, &script);
        return respond(request, 500, "text/html; charset=utf-8", html.into_bytes());
    }
    let banner = served.errors.as_ref().map(|_| served.error_html.as_str());
    let found = served.files.get(&key).cloned().or_else(|| {
        // Another version, from the output folder (read only).
        (!key.starts_with(&format!("v{version}/")))
            .then(|| std::fs::read(shared.out.join(&key)).ok().map(Arc::new))
            .flatten()
    });
    match found {
        Some(bytes) => {
            let ctype = content_type(&key);
            if ctype.starts_with("text/html") {
                let html = inject(&String::from_utf8_lossy(&bytes), banner, &script);
                respond(request, 200, ctype, html.into_bytes())
            } else {
                respond(request, 200, ctype, bytes.to_vec())
            }
        }
        None if served.files.contains_key(&format!("{key}/index.html")) => {
            let location = format!("{}/", path);
            let response =
                tiny_http::Response::empty(301).with_header(header("Location", &location));
            let _ = request.respond(response);
        }
        None => {
            let not_found = served
                .files
                .get(&format!("v{version}/404.html"))
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|| {
                    "<!DOCTYPE html><html><body><h1>Not found</h1></body></html>".into()
                });
            // The 404 page's links are relative to the version root.
            let not_found =
                not_found.replacen("<head>", &format!("<head><base href=\"/v{version}/\">"), 1);
            let html = inject(&not_found, banner, &script);
            respond(request, 404, "text/html; charset=utf-8", html.into_bytes())
        }
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_body_end_and_the_banner_after_body_start() {
        let html = "<html><body class=\"x\"><p>hi</p></body></html>";
        let out = inject(html, Some("<b>ERR</b>"), "<script>s</script>");
        assert_eq!(
            out,
            "<html><body class=\"x\"><b>ERR</b><p>hi</p><script>s</script></body></html>"
        );
        assert_eq!(inject("<p>x</p>", None, "<s>"), "<p>x</p><s>");
    }
}
