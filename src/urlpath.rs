//! URL paths: percent-decoding (link checking and `tminus serve` share it) and the strict
//! reading of an HTTP request target into a path of the site that `serve` may answer.

/// `%xx` escapes decoded; bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Why a request target is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadTarget {
    /// Not `/…` (absolute-form `http://host/…`, authority-form, `*`).
    NotAPath,
    /// A segment that is empty (`//`), `.` or `..`, or holds `/`, `\` or a control
    /// character once decoded, or is not UTF-8.
    BadSegment,
}

impl std::fmt::Display for BadTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadTarget::NotAPath => "bad request target: expected a path starting with `/`",
            BadTarget::BadSegment => {
                "bad path: no empty, `.` or `..` segments, no encoded `/`, no `\\`, no control characters"
            }
        })
    }
}

/// The site path of an origin-form request target (`/v1.2/pages/x/?q=1` → `v1.2/pages/x/`):
/// the query is dropped, the path split on `/` and each segment decoded **once**. A segment
/// that decodes to `.`, `..`, or to anything holding `/`, `\`, NUL or another control
/// character is refused, and so is an empty segment other than the last (a trailing `/`).
/// `%252e%252e` decodes to the harmless name `%2e%2e`, never to `..`.
pub fn site_path(target: &str) -> Result<String, BadTarget> {
    let path = target.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix('/') else {
        return Err(BadTarget::NotAPath);
    };
    if rest.is_empty() {
        return Ok(String::new());
    }
    let raw: Vec<&str> = rest.split('/').collect();
    let last = raw.len() - 1;
    let mut out = Vec::with_capacity(raw.len());
    for (i, seg) in raw.iter().enumerate() {
        let decoded = percent_encoding::percent_decode_str(seg)
            .decode_utf8()
            .map_err(|_| BadTarget::BadSegment)?;
        let empty_inside = decoded.is_empty() && i != last;
        if empty_inside
            || decoded == "."
            || decoded == ".."
            || decoded
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control())
        {
            return Err(BadTarget::BadSegment);
        }
        out.push(decoded.into_owned());
    }
    Ok(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_decode_once() {
        assert_eq!(site_path("/").unwrap(), "");
        assert_eq!(site_path("/v1.2/pages/x/").unwrap(), "v1.2/pages/x/");
        assert_eq!(site_path("/a%20b/c.html?x=1").unwrap(), "a b/c.html");
        assert_eq!(site_path("/%C3%A9t%C3%A9").unwrap(), "été");
        assert_eq!(site_path("/%252e%252e/x").unwrap(), "%2e%2e/x");
        assert_eq!(site_path("/%252Fetc").unwrap(), "%2Fetc");
    }

    #[test]
    fn escapes_and_traversals_are_refused() {
        for bad in [
            "/%2Fetc/passwd",
            "/%2fproc/self/environ",
            "/..",
            "/a/../b",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc",
            "/a/./b",
            "/..%5c..%5cetc",
            "/a\\b",
            "/a%00.html",
            "/a%0a",
            "//etc/passwd",
            "/a//b",
            "/%ff",
        ] {
            assert_eq!(site_path(bad), Err(BadTarget::BadSegment), "{bad}");
        }
        for bad in ["http://evil/etc/passwd", "*", "evil:80", ""] {
            assert_eq!(site_path(bad), Err(BadTarget::NotAPath), "{bad}");
        }
    }

    #[test]
    fn percent_decode_is_lossy() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
