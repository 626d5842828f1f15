//! `content/comms/*.md` front matter: one communication template and its schedule.

use serde::Deserialize;

use super::scalar;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageFrontMatter {
    /// Defaults to the file name without locale and extension.
    #[serde(default)]
    pub id: Option<String>,
    /// A template, like the body.
    pub subject: String,
    /// When to send: a T-offset or an absolute local time.
    #[serde(deserialize_with = "scalar")]
    pub send: String,
    /// `wave` (each wave's own audience) or a named audience.
    pub audience: String,
    /// One message set per wave, each at its wave's offset.
    #[serde(default)]
    pub per_wave: bool,
}
