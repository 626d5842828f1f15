//! The HTTP side of `tminus serve`: answering requests from the site in memory, the
//! long poll, and the live-reload script injected into HTML responses.

use std::sync::Arc;
use std::time::Duration;

use super::{Served, Shared, POLL_PATH, STATUS_PATH};
use crate::source::inside::resolve_inside;
use crate::urlpath::site_path;

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

/// Whether a `Host` header names this machine's loopback interface: `127.0.0.1`,
/// `localhost` or `[::1]`, with or without a port. Anything else is refused, so a web page
/// whose own domain was made to resolve to 127.0.0.1 (DNS rebinding) cannot read the site.
fn loopback_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some(("::1", port)) => ("[::1]", port),
            _ => return false,
        }
    } else {
        match host.find(':') {
            Some(at) => (&host[..at], &host[at..]),
            None => (host, ""),
        }
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && (name == "127.0.0.1" || name == "[::1]" || name.eq_ignore_ascii_case("localhost"))
}

/// `Err(explanation)` unless the request has exactly one loopback `Host` header.
fn check_host(request: &tiny_http::Request) -> Result<(), String> {
    let mut hosts = request
        .headers()
        .iter()
        .filter(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().trim());
    match (hosts.next(), hosts.next()) {
        (Some(host), None) if loopback_host(host) => Ok(()),
        _ => Err(
            "tminus serve answers only requests addressed to 127.0.0.1, localhost or [::1] \
             (the Host header); open the address it printed, e.g. http://127.0.0.1:8000/\n"
                .into(),
        ),
    }
}

pub(super) fn handle(shared: &Shared, request: tiny_http::Request) {
    if let Err(why) = check_host(&request) {
        return respond(request, 403, "text/plain; charset=utf-8", why.into_bytes());
    }
    let url = request.url().to_string();
    let (raw_path, query) = url.split_once('?').unwrap_or((&url, ""));
    let decoded = match site_path(&url) {
        Ok(p) => p,
        Err(e) => {
            let body = format!("{e}\n").into_bytes();
            return respond(request, 400, "text/plain; charset=utf-8", body);
        }
    };
    if raw_path == POLL_PATH {
        let since = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("since="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let g = shared.wait(since, Duration::from_secs(25));
        let body = format!("{{\"generation\":{g}}}");
        return respond(request, 200, "application/json", body.into_bytes());
    }
    if raw_path == STATUS_PATH {
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
    let found = served
        .files
        .get(&key)
        .cloned()
        .or_else(|| other_version_file(shared, &served, &key));
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
            let location = format!("{raw_path}/");
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

/// A file of another published version (`v<version>/…`, a version of the switcher's list),
/// read from the output folder: only below `output/v<version>/`, never through a link
/// that leads out of it.
fn other_version_file(shared: &Shared, served: &Served, key: &str) -> Option<Arc<Vec<u8>>> {
    let (first, _) = key.split_once('/')?;
    let v = first.strip_prefix('v')?;
    if v == served.version || !served.other_versions.iter().any(|o| o == v) {
        return None;
    }
    let dir = shared.out.join(first);
    let real = resolve_inside(&dir, &dir.join(&key[first.len() + 1..])).ok()?;
    real.is_file()
        .then(|| std::fs::read(real).ok().map(Arc::new))
        .flatten()
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

    #[test]
    fn only_loopback_hosts_are_answered() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:8000",
            "localhost",
            "LOCALHOST:65535",
            "[::1]",
            "[::1]:8000",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:8000",
            "127.0.0.1.evil.example",
            "localhost.evil.example:80",
            "127.0.0.2",
            "0.0.0.0:8000",
            "[::1",
            "[::2]:80",
            "127.0.0.1:",
            "127.0.0.1:80x",
            "127.0.0.1:123456",
            "localhost:8000:1",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
