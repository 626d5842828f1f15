//! Reading one line of the send ledger, as fast as the ledger's size asks (a 600,000-line
//! ledger is 145 MB of JSON, read by every `comms status`, `comms send` and `build`).
//!
//! A line is read into [`Line`], borrowing its strings from the line where they hold no
//! escapes, rather than into [`Record`] (whose `#[serde(flatten)]` key buffers every field
//! before sorting them out). What it accepts and how it reads it is exactly what [`Record`]
//! accepts and reads, a property test below holds the two together: a line that does not
//! read as a [`Record`] (a torn last line after a crash) is skipped either way.
//!
//! [`Record`]: super::Record

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{address_key, Entry, Event, KeyFields};
#[cfg(test)]
use super::{DeliveryKey, Record};

/// Reads `line` and hands it to `apply`; false (and nothing applied) when it is no record.
pub(super) fn read(line: &[u8], apply: impl FnOnce(Entry<'_>)) -> bool {
    let Ok(r) = serde_json::from_slice::<Line>(line) else {
        return false;
    };
    // Older ledgers lower-cased only ASCII: normalise as keys are now.
    let to = normalised(&r.to);
    apply(Entry {
        event: r.event,
        at: r.at,
        key: KeyFields {
            id: &r.id,
            wave: r.wave.as_deref(),
            to: &to,
            occurrence: r.occurrence.as_deref(),
        },
        message_id: &r.message_id,
        reply: r.reply.as_deref(),
        permanent: r.permanent,
    });
    true
}

/// One ledger line as read: the fields a state needs, and those it does not typed as
/// [`Record`](super::Record) has them, so that a line is accepted or skipped exactly as it
/// would be.
#[derive(Deserialize)]
struct Line<'a> {
    event: Event,
    #[serde(deserialize_with = "instant")]
    at: DateTime<Utc>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    wave: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to: Cow<'a, str>,
    #[serde(borrow, default)]
    occurrence: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    locale: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message_id: Cow<'a, str>,
    #[serde(default, deserialize_with = "optional_instant")]
    #[allow(dead_code)]
    send_at: Option<DateTime<Utc>>,
    #[serde(borrow, default)]
    reply: Option<Cow<'a, str>>,
    #[serde(default)]
    permanent: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    pid: u32,
}

/// An RFC 3339 instant as chrono's own `Deserialize` reads it (which accepts a little more
/// than RFC 3339, e.g. a space for the `T`), by the strict parser first: it is several times
/// faster, and every instant tminus writes is strict RFC 3339.
fn instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = <Cow<'de, str>>::deserialize(d)?;
    match DateTime::parse_from_rfc3339(&text) {
        Ok(t) => Ok(t.with_timezone(&Utc)),
        Err(_) => text
            .parse::<DateTime<Utc>>()
            .map_err(serde::de::Error::custom),
    }
}

fn optional_instant<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct Instant(#[serde(deserialize_with = "instant")] DateTime<Utc>);
    Ok(Option::<Instant>::deserialize(d)?.map(|Instant(t)| t))
}

/// `address` as [`address_key`] has it, borrowed when it already is (the common case: the
/// ledger holds keys as they were written).
fn normalised(address: &str) -> Cow<'_, str> {
    let plain = address
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        && !address.starts_with(char::is_whitespace)
        && !address.ends_with(char::is_whitespace);
    if plain {
        Cow::Borrowed(address)
    } else {
        Cow::Owned(address_key(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a line reads as: event, instant, key, message id, reply, permanent.
    type Read = (
        Event,
        DateTime<Utc>,
        DeliveryKey,
        String,
        Option<String>,
        Option<bool>,
    );

    /// What a line reads as through [`Line`], in the terms of [`Record`].
    fn read_fast(line: &str) -> Option<Read> {
        let r = serde_json::from_str::<Line>(line).ok()?;
        let key = DeliveryKey {
            id: r.id.to_string(),
            wave: r.wave.map(|w| w.to_string()),
            to: normalised(&r.to).to_string(),
            occurrence: r.occurrence.map(|o| o.to_string()),
        };
        Some((
            r.event,
            r.at,
            key,
            r.message_id.to_string(),
            r.reply.map(|r| r.to_string()),
            r.permanent,
        ))
    }

    /// What the same line reads as through [`Record`] (as ledgers were read before [`Line`]).
    fn read_by_record(line: &str) -> Option<Read> {
        let mut r = serde_json::from_str::<Record>(line).ok()?;
        r.key.to = address_key(&r.key.to);
        Some((r.event, r.at, r.key, r.message_id, r.reply, r.permanent))
    }

    /// JSON values a ledger field may hold: of each field's own type (strings with escapes,
    /// addresses in any case, instants in every form chrono reads, and some it does not),
    /// and of the wrong type.
    fn a_value(field: &'static str) -> BoxedStrategy<String> {
        let json = |s: &str| serde_json::to_string(s).unwrap();
        let strings = prop_oneof![
            Just("ana@example.com".to_string()),
            Just("  Ana.Ö@Example.COM ".to_string()),
            Just("a\"b\u{e9}\n".to_string()),
            "[a-zA-Z0-9 .@éÖ:<>-]{0,8}",
        ]
        .prop_map(move |s| json(&s));
        let instants = prop_oneof![
            Just("2027-03-15T09:00:00Z"),
            Just("2027-03-15T09:00:00.123456789+01:00"),
            Just("2027-03-15 09:00:00Z"),
            Just("2027-03-15t09:00:00z"),
            Just("2027-03-15T09:00:00 +0100"),
            Just(" 2027-03-15T09:00:00UTC"),
            Just("2027-03-15T09:00:00"),
            Just("2027-02-30T09:00:00Z"),
            Just("2027-03-15T09:00Z"),
        ]
        .prop_map(json);
        let own: BoxedStrategy<String> = match field {
            "event" => prop_oneof![
                Just(json("claim")),
                Just(json("sent")),
                Just(json("failed")),
                Just(json("in_doubt")),
                Just(json("Sent")),
            ]
            .boxed(),
            "at" | "send_at" => instants.boxed(),
            "permanent" => prop_oneof![Just("true".to_string()), Just("false".to_string())].boxed(),
            "pid" => prop_oneof![
                Just("4242".to_string()),
                Just("-1".to_string()),
                Just("4294967296".to_string())
            ]
            .boxed(),
            _ => strings.boxed(),
        };
        let any = prop_oneof![
            Just("null".to_string()),
            Just("7".to_string()),
            Just("true".to_string()),
            Just("[]".to_string()),
            Just("{}".to_string()),
            Just(json("sent")),
            Just(json("2027-03-15T09:00:00Z")),
        ];
        prop_oneof![12 => own, 1 => any].boxed()
    }

    const FIELDS: [&str; 13] = [
        "event",
        "at",
        "id",
        "wave",
        "to",
        "occurrence",
        "locale",
        "message_id",
        "send_at",
        "reply",
        "permanent",
        "pid",
        "other",
    ];

    /// A ledger line: most often every required field, each once; sometimes fields left
    /// out, repeated or added; in any order; sometimes cut short.
    fn a_line() -> impl Strategy<Value = String> {
        let field =
            proptest::sample::select(&FIELDS[..]).prop_flat_map(|name| (Just(name), a_value(name)));
        let required = FIELDS[..8]
            .iter()
            .filter(|f| !matches!(**f, "occurrence" | "locale"))
            .map(|name| (Just(*name), a_value(name)))
            .collect::<Vec<_>>();
        (
            required,
            proptest::collection::vec(field, 0..3),
            proptest::collection::vec(any::<bool>(), 6),
            any::<bool>(),
            0usize..300,
        )
            .prop_map(|(required, extra, keep, shuffle, cut)| {
                let mut fields: Vec<(&str, String)> = required
                    .into_iter()
                    .zip(keep)
                    .filter(|(_, keep)| *keep || cut % 7 != 0)
                    .map(|(f, _)| f)
                    .collect();
                fields.extend(extra);
                if shuffle {
                    fields.reverse();
                }
                let line = format!(
                    "{{{}}}",
                    fields
                        .iter()
                        .map(|(name, value)| format!("\"{name}\":{value}"))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                if cut % 5 == 0 && cut < line.len() && line.is_char_boundary(cut) {
                    line[..cut].to_string()
                } else {
                    line
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The fast reader takes exactly the lines [`Record`] takes, and reads them the same.
        #[test]
        fn the_fast_reader_reads_each_line_as_a_record_would(line in a_line()) {
            prop_assert_eq!(read_fast(&line), read_by_record(&line), "line: {}", line);
        }
    }

    /// The lines [`a_line`] makes are both read and skipped, often enough for the property
    /// above to mean something.
    #[test]
    fn the_generated_lines_are_both_good_and_bad() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let lines: Vec<String> = (0..2000)
            .map(|_| a_line().new_tree(&mut runner).unwrap().current())
            .collect();
        let read = lines.iter().filter(|l| read_by_record(l).is_some()).count();
        assert!((200..1800).contains(&read), "{read} of 2000 lines read");
    }
}
