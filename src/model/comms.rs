//! `content/comms/*.md` front matter: one communication template and its schedule.

use std::collections::BTreeMap;

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
    /// The go-no-go task whose decision this message waits for, or one per wave.
    #[serde(default)]
    pub gate: Option<GateFile>,
    /// `go` (the default: GO or CONDITIONAL GO) or `no-go`.
    #[serde(default)]
    pub on: Option<String>,
    /// One occurrence at `send`, then one every `every` up to `until`.
    #[serde(default)]
    pub repeat: Option<RepeatFile>,
}

/// `gate: go-no-go-2` or `gate: { pilot: gng-pilot, main: gng-main }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum GateFile {
    One(String),
    PerWave(BTreeMap<String, String>),
}

/// `repeat: { every: 15m, until: T+12h }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatFile {
    #[serde(deserialize_with = "scalar")]
    pub every: String,
    #[serde(deserialize_with = "scalar")]
    pub until: String,
}
