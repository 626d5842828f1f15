//! Audiences as people really have them, end to end with the real binary: CSV files as
//! HR tools export them, the same address twice, a line break inside a quoted name, and a
//! recipient whose locale changes after the message went out. Sending goes to the Rust
//! test server (`common/fault_smtp.rs`) on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::fault_smtp::{Fault, FaultServer};
use common::*;

const NOW: &str = "2027-03-15T12:00:00Z"; // the main wave's T-14d 09:00 Paris was 4h ago

fn project(csv: &str) -> (tempfile::TempDir, PathBuf) {
    with_audience(csv, "rate_per_second: 1000")
}

fn send(root: &Path, port: u16, args: &[&str]) -> Output {
    comms_send(root, port, &[&["--now", NOW], args].concat())
        .env("TMINUS_SMTP_TIMEOUT_SECS", "5")
        .output()
        .expect("run tminus")
}

fn no_panic(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{what} panicked: {err}");
}

#[test]
fn a_line_break_in_a_quoted_name_is_an_error_at_its_line_not_a_panic() {
    // Found: `check` said ok and `comms send` panicked in the To header builder before
    // sending anything (0 of 300, every run); with the bad row first, check, build,
    // comms list and comms status panicked too.
    let mut csv = String::from("email,name\n");
    for i in 1..=300 {
        csv.push_str(&format!("user{i}@example.com,User {i}\n"));
    }
    csv.push_str("b@example.com,\"A\nB\"\n");
    let (_tmp, root) = project(&csv);
    let server = FaultServer::start(|_| Fault::None);
    let o = tminus(&root, &["check"]);
    no_panic(&o, "check");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains(
            "content/audiences/everyone.csv:302:17: a control character (a line break) in this cell"
        ),
        "{}",
        stderr(&o)
    );
    let o = send(&root, server.port, &[]);
    no_panic(&o, "comms send");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("everyone.csv:302:17"), "{}", stderr(&o));
    assert!(server.stored().is_empty());

    // The bad row first.
    let (_tmp, root) = project("email,name\nb@example.com,\"A\nB\"\na@example.com,Alice\n");
    for args in [
        &["check"][..],
        &["build"],
        &["comms", "list"],
        &["comms", "status"],
        &["comms", "preview", "get-ready", "--wave", "main"],
    ] {
        let o = tminus(&root, args);
        no_panic(&o, &args.join(" "));
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&o).contains("everyone.csv:2:17: a control character"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn an_hr_export_is_read_as_written_and_duplicates_get_one_email() {
    // A UTF-8 BOM, CRLF, quoted fields with commas and quotes, columns in another order
    // with upper-case names, a duplicate row, a case-twin address, empty lines at the end.
    let csv = std::fs::read_to_string(fixture("audiences/hr-export.csv")).unwrap();
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("\r\n"),
        "the fixture is as exported"
    );
    let (_tmp, root) = project(&csv);
    // The same address twice in `to:` as well, differing in case.
    edit(
        &root.join("content/project.yaml"),
        "to: [ana@example.com]",
        "to: [ana@example.com, Ana@Example.COM]",
    );
    let o = tminus(&root, &["check"]);
    assert!(
        o.status.success(),
        "duplicates are a warning: {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("warning: content/audiences/everyone.csv:5:13: duplicate recipient `bo@example.com`: already in this audience (line 2)"),
        "{err}"
    );
    assert!(
        err.contains("everyone.csv:7:12: duplicate recipient `eve@example.com`: already in this audience (line 6 as `EVE@Example.com`)"),
        "{err}"
    );
    assert!(
        err.contains("warning: content/project.yaml:") && err.contains("duplicate recipient `Ana@Example.COM`: already in this audience (`to` item 1 as `ana@example.com`)"),
        "{err}"
    );
    assert!(!err.contains("error"), "{err}");
    ok(&root, &["build"]);

    let list: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&root, &["comms", "list", "--format", "json"])).unwrap();
    let mut main: Vec<String> = list
        .iter()
        .filter(|m| m["wave"] == "main")
        .flat_map(|m| m["recipients"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    main.sort();
    assert_eq!(
        main,
        [
            "EVE@Example.com",
            "bo@example.com",
            "cy@example.com",
            "dee@example.com"
        ]
    );

    let server = FaultServer::start(|_| Fault::None);
    let o = send(&root, server.port, &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("sent 4, failed 0"), "{}", stdout(&o));
    let counts = server.counts();
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let parser = mail_parser::MessageParser::default();
    let names: Vec<String> = server
        .stored()
        .iter()
        .map(|m| {
            let msg = parser.parse(&m.data).unwrap();
            msg.to()
                .unwrap()
                .first()
                .unwrap()
                .name()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(names.contains(&"Berg, Bo".to_string()), "{names:?}");
    assert!(names.contains(&"Cy \"CC\" Chan".to_string()), "{names:?}");
}

#[test]
fn the_same_address_in_two_cases_is_mailed_once() {
    // Found: `ana@` and `ANA@` in one audience were two emails with one Message-ID.
    let (_tmp, root) =
        project("email,name\nana@example.com,Ana\nbo@example.com,Bo\nANA@example.com,Ana Again\n");
    let o = tminus(&root, &["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("everyone.csv:4:1: duplicate recipient `ANA@example.com`"),
        "{}",
        stderr(&o)
    );
    let server = FaultServer::start(|_| Fault::None);
    let o = send(&root, server.port, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("sent 2,"), "{}", stdout(&o));
    let ids: Vec<String> = server
        .stored()
        .iter()
        .map(|m| {
            let msg = mail_parser::MessageParser::default()
                .parse(&m.data)
                .unwrap();
            msg.message_id().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn a_changed_locale_or_a_new_translation_does_not_send_again() {
    // Found: after a message went out, changing a recipient's locale (or adding a
    // translation) sent it again in the new language.
    let (_tmp, root) = project(
        "email,name,locale\nbo@example.com,Bo,\ncy@example.com,Cy,\ndee@example.com,Dee,fr\n",
    );
    let server = FaultServer::start(|_| Fault::None);
    let o = send(&root, server.port, &[]);
    assert!(stdout(&o).contains("sent 3,"), "{}", stdout(&o));

    // Dee now reads English, Bo French, and Cy gets a new German translation.
    std::fs::write(
        root.join("content/audiences/everyone.csv"),
        "email,name,locale\nbo@example.com,Bo,fr\ncy@example.com,Cy,de\ndee@example.com,Dee,\n",
    )
    .unwrap();
    let fr = read(&root.join("content/comms/get-ready.fr.md"));
    std::fs::write(
        root.join("content/comms/get-ready.de.md"),
        fr.replace("arrive le", "startet am")
            .replace("Bonjour", "Hallo"),
    )
    .unwrap();
    let list = ok(&root, &["comms", "list", "--format", "json"]);
    assert!(list.contains("\"locale\": \"de\""), "{list}");
    let o = send(&root, server.port, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("sent 0,") && stdout(&o).contains("already sent 3"),
        "{}",
        stdout(&o)
    );
    assert_eq!(server.stored().len(), 3);
}

#[test]
fn a_ledger_written_with_locales_in_the_identity_is_honoured() {
    // A ledger as earlier versions wrote it: the locale in every record, the address lower
    // case. Bo's message went out in English; Bo now reads French.
    let (_tmp, root) = project("email,name,locale\nBo@Example.com,Bo,fr\ncy@example.com,Cy,\n");
    std::fs::create_dir_all(root.join(".tminus")).unwrap();
    std::fs::write(
        root.join(".tminus/sent.jsonl"),
        concat!(
            r#"{"event":"claim","at":"2027-03-15T08:00:01Z","id":"get-ready","wave":"main","locale":"en","to":"bo@example.com","message_id":"<1.get-ready@example.com>","send_at":"2027-03-15T08:00:00Z","pid":7}"#,
            "\n",
            r#"{"event":"sent","at":"2027-03-15T08:00:02Z","id":"get-ready","wave":"main","locale":"en","to":"bo@example.com","message_id":"<1.get-ready@example.com>","reply":"250 2.0.0 Ok: queued","pid":7}"#,
            "\n",
        ),
    )
    .unwrap();
    let server = FaultServer::start(|_| Fault::None);
    let o = send(&root, server.port, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("sent 1,") && stdout(&o).contains("already sent 1"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        server.counts().keys().collect::<Vec<_>>(),
        ["cy@example.com"]
    );
    let status = ok(
        &root,
        &["comms", "status", "--format", "json", "--now", NOW],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&status).unwrap();
    let bo = rows.iter().find(|r| r["to"] == "Bo@Example.com").unwrap();
    assert_eq!(bo["state"], "sent");
    assert_eq!(bo["locale"], "fr", "status shows the schedule's locale");
    assert_eq!(bo["message_id"], "<1.get-ready@example.com>");
}
