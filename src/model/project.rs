//! `content/project.yaml`: the project, its T-0, waves, audiences, roster and settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{opt_scalar, scalar};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    pub project: String,
    #[serde(default)]
    pub system: Option<String>,
    /// The plan version: the site version built. Defaults to "1.0".
    #[serde(default, deserialize_with = "opt_scalar")]
    pub version: Option<String>,
    #[serde(default)]
    pub status: Status,
    pub timezone: String,
    /// T-0 of the whole project; may be left out when waves are given (then the last wave's).
    #[serde(default, deserialize_with = "opt_scalar")]
    pub go_live: Option<String>,
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// Extension: a short Markdown summary shown on the dashboard.
    #[serde(default)]
    pub description: Option<String>,
    /// Extension: the locale of the base comms templates (default `en`).
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub waves: Vec<WaveFile>,
    #[serde(default)]
    pub audiences: BTreeMap<String, AudienceFile>,
    #[serde(default)]
    pub roster: Vec<RosterEntry>,
    #[serde(default)]
    pub support: Support,
    #[serde(default)]
    pub site: SiteFile,
    #[serde(default)]
    pub comms: CommsPolicyFile,
    #[serde(default)]
    pub smtp: Option<SmtpFile>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Draft,
    Approved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    BigBang,
    Phased,
    Parallel,
    BlueGreen,
    Canary,
}

impl Strategy {
    pub fn label(self) -> &'static str {
        match self {
            Strategy::BigBang => "Big bang",
            Strategy::Phased => "Phased",
            Strategy::Parallel => "Parallel run",
            Strategy::BlueGreen => "Blue-green",
            Strategy::Canary => "Canary",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaveFile {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub go_live: String,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceFile {
    /// Addresses; one message per address (a distribution list is one address).
    #[serde(default)]
    pub to: Vec<String>,
    /// A CSV file, relative to `content/`: `email,name[,locale,timezone]`.
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    /// Extension: what this audience is, shown on the site.
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RosterEntry {
    pub role: String,
    /// Extension: how the role is written for people ("DBA", "Cutover lead"); else the id.
    #[serde(default)]
    pub title: Option<String>,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Support {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub phone: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Extension: when support is staffed, e.g. "Mon–Fri 07:00–19:00".
    #[serde(default)]
    pub hours: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteFile {
    #[serde(default)]
    pub title: Option<String>,
    /// "" (the default) makes every link relative.
    #[serde(default)]
    pub base_url: String,
    /// Extension: the folder under `themes/` whose files override the built-in theme.
    #[serde(default)]
    pub theme: Option<String>,
    /// Extension: how `output/latest/` is made (default: a hard-linked copy).
    #[serde(default)]
    pub latest: LatestMode,
}

/// How `output/latest/` follows the highest version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatestMode {
    /// A real folder of hard links to the version's files (a copy where links are not
    /// possible): survives any way of copying the output to a host.
    #[default]
    Copy,
    /// A relative symbolic link `latest -> v<version>`: nothing to write, for hosts that
    /// follow links (nginx, Apache with FollowSymLinks, rsync -a); what mike does.
    Symlink,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommsPolicyFile {
    #[serde(default, deserialize_with = "opt_scalar")]
    pub max_lateness: Option<String>,
    #[serde(default)]
    pub rate_per_second: Option<f64>,
    /// SMTP sessions used in parallel by `comms send` (1..=64).
    #[serde(default)]
    pub connections: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Option<SmtpSecurity>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}
