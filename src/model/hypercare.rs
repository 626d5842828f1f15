//! `content/hypercare.yaml` (SPEC §9): the hypercare period, its metrics with targets, the
//! daily figures (a CSV file or an inline list), the incidents CSV, the response and
//! resolution targets per severity, the exit criteria and optional notes per day.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::{one_or_many, opt_scalar, scalar};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HypercareFile {
    /// First day of hypercare: a T-offset or a local time (default `T+1d`).
    #[serde(default, deserialize_with = "opt_scalar")]
    pub start: Option<String>,
    /// Length in days (default 30).
    #[serde(default)]
    pub days: Option<u32>,
    /// Extension: the roster role leading hypercare (named on the daily report).
    #[serde(default)]
    pub lead: Option<String>,
    #[serde(default)]
    pub metrics: Vec<MetricFile>,
    #[serde(default)]
    pub daily: Option<DailySource>,
    #[serde(default)]
    pub incidents: Option<IncidentsSource>,
    /// Severity → targets, in the order written (P1 first).
    #[serde(default, deserialize_with = "ordered_map")]
    pub severities: Vec<(String, SeverityFile)>,
    #[serde(default)]
    pub exit: Vec<ExitFile>,
    /// Extension: what the daily report says beyond the figures, per day.
    #[serde(default)]
    pub notes: Vec<DayNotesFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricFile {
    pub id: String,
    pub label: String,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub unit: Option<String>,
    /// `>= 99`, `<= 1`, `> 90`, `< 500`, `= 0`.
    #[serde(deserialize_with = "scalar")]
    pub target: String,
    /// Extension: the daily report's section for this metric (default "System health").
    #[serde(default)]
    pub group: Option<String>,
}

/// `daily:` — a CSV path, or the rows inline (`{ date: …, <metric>: value }`).
#[derive(Debug, Clone)]
pub enum DailySource {
    File(String),
    Inline(Vec<BTreeMap<String, Cell>>),
}

impl<'de> Deserialize<'de> for DailySource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DailySource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CSV file (`hypercare/daily.csv`) or a list of days")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DailySource::File(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut rows = Vec::new();
                while let Some(row) = seq.next_element::<BTreeMap<String, Cell>>()? {
                    rows.push(row);
                }
                Ok(DailySource::Inline(rows))
            }
        }
        d.deserialize_any(V)
    }
}

/// A single value written as text or a number; empty (`~`) is "no data".
#[derive(Debug, Clone, PartialEq)]
pub struct Cell(pub Option<String>);

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Cell;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value (a number or a date)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Cell, E> {
                Ok(Cell(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
                Ok(Cell(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
                Ok(Cell(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
                Ok(Cell(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
                Ok(Cell(Some(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// `incidents:` — a CSV path, or `{ file, columns }` naming the export's own headers.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IncidentsSource {
    File(String),
    Mapped(IncidentsFile),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsFile {
    pub file: String,
    /// Our column (`id`, `title`, `severity`, `opened`, `responded`, `resolved`, `impact`,
    /// `resolution`) → the header the ticket tool writes.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

impl IncidentsSource {
    pub fn file(&self) -> &str {
        match self {
            IncidentsSource::File(f) => f,
            IncidentsSource::Mapped(m) => &m.file,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityFile {
    #[serde(deserialize_with = "scalar")]
    pub respond: String,
    #[serde(deserialize_with = "scalar")]
    pub resolve: String,
    /// Extension: "Critical", "High"…
    #[serde(default)]
    pub label: Option<String>,
}

/// One exit criterion: `{ metric, over }` or `{ incidents, over, max }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitFile {
    #[serde(default)]
    pub metric: Option<String>,
    /// One severity or a list (`[P1, P2]`).
    #[serde(default, deserialize_with = "opt_many")]
    pub incidents: Option<Vec<String>>,
    #[serde(deserialize_with = "scalar")]
    pub over: String,
    #[serde(default)]
    pub max: Option<u32>,
}

/// A map kept in the order it is written.
fn ordered_map<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, SeverityFile)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, SeverityFile)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of severities, e.g. `P1: { respond: 15m, resolve: 4h }`")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, SeverityFile>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

fn opt_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    one_or_many(d).map(Some)
}

/// The report's free text for one day (extension).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayNotesFile {
    /// The hypercare day (1 = the first).
    pub day: u32,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub priorities: Vec<String>,
    #[serde(default)]
    pub risks: Vec<String>,
    /// A roster role.
    #[serde(default)]
    pub prepared_by: Option<String>,
}
