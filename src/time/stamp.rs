//! Instants written as text: RFC 3339 with the zone's offset (pages, emails, `comms
//! status`) and in UTC (the send ledger, `plan.json`).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// RFC 3339 with the zone's offset and no fractional seconds: `2027-03-29T18:00:00+01:00`.
pub fn rfc3339<Tz: TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.fixed_offset().to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// RFC 3339 in UTC with seconds, as in the ledger: `2027-03-29T17:00:00Z`.
pub fn utc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
