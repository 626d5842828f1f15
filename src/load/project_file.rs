//! `content/project.yaml` → the project's settings, T-0, waves, audiences and roster.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Duration, TimeZone};
use chrono_tz::Tz;

use super::{audience, is_valid_locale, Checker};
use crate::diagnostics::Diagnostics;
use crate::model::project::{ProjectFile, SmtpSecurity};
use crate::project::{Audience, CommsPolicy, Cutover, Project, Recipient, Wave};
use crate::source::yaml::{self, index, join};
use crate::source::SourceFile;
use crate::time::{local_to_instant, parse_time_spec, TimeSpec};
use crate::util::is_loopback;

const DEFAULT_MAX_LATENESS_HOURS: i64 = 24;
const DEFAULT_RATE_PER_SECOND: f64 = 10.0;
const DEFAULT_CONNECTIONS: usize = 4;
/// More sessions than this would be refused by most relays long before they helped.
const MAX_CONNECTIONS: i64 = 64;

/// Loads `content/project.yaml`, reporting every problem to `diags`. Fields with errors get
/// stand-in values so the rest of the project can still be checked; `None` only when the
/// file cannot be read or parsed at all.
pub fn load(root: &Path, diags: &mut Diagnostics) -> Option<Project> {
    let file = match SourceFile::read(root, Path::new("content/project.yaml")) {
        Ok(f) => f,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let parsed = yaml::parse::<ProjectFile>(&file, &file.text, 1, diags)?;
    let mut c = Checker {
        file: &file,
        spans: &parsed.spans,
        diags,
    };
    let p = parsed.value;

    let zone = c.zone("timezone", &p.timezone);
    let zone_or_utc = zone.unwrap_or(Tz::UTC);

    let mut waves = Vec::new();
    for (i, w) in p.waves.iter().enumerate() {
        let at = index("waves", i);
        c.id(&join(&at, "id"), &w.id, "wave");
        if p.waves[..i].iter().any(|o| o.id == w.id) {
            c.error(
                &join(&at, "id"),
                format!("duplicate wave id `{}`", w.id),
                "give each wave its own id",
            );
        }
        let own_zone = w
            .timezone
            .as_ref()
            .and_then(|z| c.zone(&join(&at, "timezone"), z));
        let wave_zone = own_zone.unwrap_or(zone_or_utc);
        let Some(go_live) = absolute(&mut c, &join(&at, "go_live"), &w.go_live, wave_zone) else {
            continue;
        };
        waves.push(Wave {
            id: w.id.clone(),
            name: w.name.clone().unwrap_or_else(|| w.id.clone()),
            go_live,
            zone: wave_zone,
            own_zone: own_zone.is_some(),
            audience: w.audience.clone(),
            description: w.description.clone(),
        });
    }

    let go_live = match &p.go_live {
        Some(text) => absolute(&mut c, "go_live", text, zone_or_utc),
        None => match waves.iter().map(|w| w.go_live).max() {
            Some(last) => Some(last.with_timezone(&zone_or_utc)),
            None => {
                c.error(
                    "",
                    "missing required key `go_live`",
                    "give the project's T-0 as local time, e.g. `go_live: 2027-03-29T18:00`",
                );
                None
            }
        },
    };

    let mut audiences = BTreeMap::new();
    for (id, a) in &p.audiences {
        let at = join("audiences", id);
        c.id(&at, id, "audience");
        let audience_zone = a
            .timezone
            .as_ref()
            .and_then(|z| c.zone(&join(&at, "timezone"), z));
        let mut recipients = Vec::new();
        let mut seen = audience::OnePerAddress::default();
        for (i, address) in a.to.iter().enumerate() {
            let item = index(&join(&at, "to"), i);
            if c.email(&item, address)
                && seen.admit(address, format!("`to` item {}", i + 1), |m, h| {
                    c.file.error(c.spans.nearest(&item), m).with_hint(h)
                })
            {
                recipients.push(Recipient {
                    email: address.clone(),
                    name: None,
                    locale: None,
                    zone: None,
                });
            }
        }
        if let Some(csv) = &a.file {
            recipients.extend(audience::load_csv(
                root,
                csv,
                &mut c,
                &join(&at, "file"),
                &mut seen,
            ));
        }
        if a.to.is_empty() && a.file.is_none() {
            c.error(
                &at,
                format!("audience `{id}` has no recipients"),
                "give `to: [addresses]` or `file: audiences/x.csv`",
            );
        }
        audiences.insert(
            id.clone(),
            Audience {
                id: id.clone(),
                zone: audience_zone,
                description: a.description.clone(),
                recipients: recipients.into(),
                duplicates: seen.warnings,
            },
        );
    }

    for (i, w) in p.waves.iter().enumerate() {
        if let Some(a) = &w.audience {
            let known: Vec<&str> = p.audiences.keys().map(String::as_str).collect();
            c.reference(&join(&index("waves", i), "audience"), "audience", a, &known);
        }
    }

    for (i, person) in p.roster.iter().enumerate() {
        let at = index("roster", i);
        c.id(&join(&at, "role"), &person.role, "role");
        if p.roster[..i].iter().any(|o| o.role == person.role) {
            c.error(
                &join(&at, "role"),
                format!("duplicate roster role `{}`", person.role),
                "list each role once",
            );
        }
        if let Some(email) = &person.email {
            c.email(&join(&at, "email"), email);
        }
    }
    if let Some(url) = &p.support.url {
        c.url("support.url", url, false);
    }
    if !p.site.base_url.trim().is_empty() {
        c.url("site.base_url", p.site.base_url.trim(), false);
    }
    if let Some(email) = &p.support.email {
        c.email("support.email", email);
    }

    let max_lateness = match &p.comms.max_lateness {
        Some(text) => c.duration("comms.max_lateness", text),
        None => Some(Duration::hours(DEFAULT_MAX_LATENESS_HOURS)),
    };
    let rate_per_second = p.comms.rate_per_second.unwrap_or(DEFAULT_RATE_PER_SECOND);
    if rate_per_second.is_nan() || rate_per_second <= 0.0 {
        c.error(
            "comms.rate_per_second",
            "`rate_per_second` must be a positive number",
            "e.g. `rate_per_second: 10`",
        );
    }
    let connections = match p.comms.connections {
        None => DEFAULT_CONNECTIONS,
        Some(n) if (1..=MAX_CONNECTIONS).contains(&n) => n as usize,
        Some(n) => {
            c.error(
                "comms.connections",
                format!("`connections: {n}` is out of range: tminus opens 1 to {MAX_CONNECTIONS} SMTP sessions in parallel"),
                format!("e.g. `connections: {DEFAULT_CONNECTIONS}` (the default); ask the relay's administrators how many sessions it accepts from one client"),
            );
            DEFAULT_CONNECTIONS
        }
    };
    if let Some(smtp) = &p.smtp {
        check_smtp(&mut c, smtp);
    }

    if let Some(v) = &p.version {
        if v.is_empty()
            || v.starts_with('.')
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        {
            c.error(
                "version",
                format!("`{v}` cannot be a version: it names the output folder v<version>"),
                "use letters, digits, `.`, `-` and `_`, e.g. `1.2` or `2.0-rc1`",
            );
        }
    }

    let locale = p.locale.clone().unwrap_or_else(|| "en".to_string());
    if !is_valid_locale(&locale) {
        c.error(
            "locale",
            format!("`{locale}` is not a locale"),
            "write a language tag such as `en` or `fr-CA`",
        );
    }

    let theme_dir = p.site.theme.as_ref().and_then(|name| {
        let dir = root.join("themes").join(name);
        if !crate::model::is_valid_id(name) || !dir.is_dir() {
            c.error(
                "site.theme",
                format!("no theme folder themes/{name}/"),
                "create it, or remove `theme:` to use the built-in theme",
            );
            None
        } else {
            Some(dir)
        }
    });

    // Fields with errors fall back so the other files can still be checked.
    let fallback = placeholder(root);
    Some(Project {
        root: root.to_path_buf(),
        system: p.system.clone().unwrap_or_else(|| p.project.clone()),
        name: p.project,
        version: p.version.unwrap_or_else(|| "1.0".to_string()),
        status: p.status,
        zone: zone.unwrap_or(fallback.zone),
        go_live: go_live.unwrap_or(fallback.go_live),
        strategy: p.strategy,
        description: p.description,
        locale,
        waves,
        audiences,
        roster: p.roster,
        support: p.support,
        site: p.site,
        comms_policy: CommsPolicy {
            max_lateness: max_lateness.unwrap_or(fallback.comms_policy.max_lateness),
            rate_per_second,
            connections,
        },
        smtp: p.smtp,
        theme_dir,
        rehearsals: Vec::new(),
        hypercare: None,
        live: Vec::new(),
        live_log: false,
        references_unknown: false,
        ..fallback
    })
}

/// A stand-in used when project.yaml is broken, so the other files can still be checked.
pub fn placeholder(root: &Path) -> Project {
    let zone = Tz::UTC;
    Project {
        root: root.to_path_buf(),
        name: String::new(),
        system: String::new(),
        version: "0".into(),
        status: Default::default(),
        zone,
        // Far from both ends of the years tminus schedules, so an offset from this stand-in
        // T-0 (at most 100 years) is never reported out of range as well.
        go_live: zone
            .with_ymd_and_hms(5000, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_else(|| zone.from_utc_datetime(&crate::time::EARLIEST.naive_utc())),
        strategy: None,
        description: None,
        locale: "en".into(),
        waves: Vec::new(),
        audiences: BTreeMap::new(),
        roster: Vec::new(),
        support: Default::default(),
        site: Default::default(),
        comms_policy: CommsPolicy {
            max_lateness: Duration::hours(DEFAULT_MAX_LATENESS_HOURS),
            rate_per_second: DEFAULT_RATE_PER_SECOND,
            connections: DEFAULT_CONNECTIONS,
        },
        smtp: None,
        cutover: Cutover::default(),
        runbooks: Vec::new(),
        checklists: Vec::new(),
        guides: Vec::new(),
        sessions: Vec::new(),
        messages: Vec::new(),
        pages: Vec::new(),
        theme_dir: None,
        rehearsals: Vec::new(),
        hypercare: None,
        live: Vec::new(),
        live_log: false,
        references_unknown: true,
    }
}

/// A T-0 must be an absolute local time: there is nothing to be relative to.
fn absolute(c: &mut Checker, path: &str, text: &str, zone: Tz) -> Option<chrono::DateTime<Tz>> {
    match parse_time_spec(text) {
        Ok(TimeSpec::Absolute(local)) => c.in_range(path, text, local_to_instant(local, zone)),
        Ok(_) => {
            c.error(
                path,
                format!("a go-live must be an absolute local time, not the offset `{text}`"),
                "write it as `2027-03-29T18:00` (local time in the zone in force)",
            );
            None
        }
        Err(e) => {
            c.error(path, e.message, e.hint);
            None
        }
    }
}

fn check_smtp(c: &mut Checker, smtp: &crate::model::project::SmtpFile) {
    if let Some(from) = &smtp.from {
        if from.parse::<lettre::message::Mailbox>().is_err() {
            c.error(
                "smtp.from",
                format!("`{from}` is not a valid sender"),
                "write `Name <address@example.com>` or a bare address",
            );
        }
    }
    if let Some(reply_to) = &smtp.reply_to {
        if reply_to.parse::<lettre::message::Mailbox>().is_err() {
            c.error(
                "smtp.reply_to",
                format!("`{reply_to}` is not a valid address"),
                "write `Name <address@example.com>` or a bare address",
            );
        }
    }
    if smtp.security == Some(SmtpSecurity::None) {
        let host = smtp.host.as_deref().unwrap_or("");
        if !is_loopback(host) {
            c.error(
                "smtp.security",
                format!("`security: none` sends mail and passwords unencrypted; it is only allowed for a loopback host, not `{host}`"),
                "use `starttls` (port 587) or `tls` (port 465)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "127.0.0.1", "127.3.2.1", "::1", "[::1]"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["smtp.contoso.example", "10.0.0.1", ""] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn locales() {
        assert!(is_valid_locale("en") && is_valid_locale("fr-CA"));
        assert!(!is_valid_locale("EN") && !is_valid_locale("f") && !is_valid_locale("fr_"));
    }
}
