//! Messages tied to the night (SPEC §4): `gate`, `on` and `repeat` end to end on the
//! `night-comms` fixture — a cutover from Saturday 27 March 2027, 22:00 GMT, across the
//! Europe/London spring-forward change (01:00 GMT → 02:00 BST) — with the real binary:
//! located errors, the occurrences in `comms list`, and (`comms_night_send.rs`) sends
//! against the real SMTP test server.

mod common;

use common::*;

fn list_json(root: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["comms", "list", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(root, &all)).expect("json")
}

/// Every 15 minutes from T-0 (22:00 GMT) to T+6h (05:00 BST = 04:00 UTC): elapsed time,
/// so 6 real hours, 25 occurrences, four an hour in UTC with no gap; the local times skip
/// from 00:45 GMT to 02:00 BST.
#[test]
fn a_repeat_every_15m_across_spring_forward_is_25_occurrences_of_elapsed_time() {
    let (_g, root) = copy_project(&fixture("night-comms"));
    let items = list_json(&root, &[]);
    let status: Vec<&serde_json::Value> = items.iter().filter(|i| i["id"] == "status").collect();
    assert_eq!(status.len(), 25);
    let times: Vec<&str> = status
        .iter()
        .map(|i| i["send_at"].as_str().unwrap())
        .collect();
    assert_eq!(times[0], "2027-03-27T22:00:00+00:00");
    assert_eq!(times[11], "2027-03-28T00:45:00+00:00");
    assert_eq!(times[12], "2027-03-28T02:00:00+01:00"); // 01:00 UTC
    assert_eq!(times[24], "2027-03-28T05:00:00+01:00"); // 04:00 UTC = T+6h
    for (n, i) in status.iter().enumerate() {
        assert_eq!(i["occurrence"], n + 1);
        assert_eq!(i["occurrences"], 25);
        assert!(i.get("gate").is_none() && i.get("state").is_none(), "{i}");
    }
    // The gated messages say what they wait on; the others do not carry the keys.
    let live = items.iter().find(|i| i["id"] == "live").unwrap();
    assert_eq!(live["gate"], "go-no-go");
    assert_eq!(live["on"], "go");
    assert_eq!(live["send_at"], "2027-03-28T04:00:00+01:00");
    let rollback = items.iter().find(|i| i["id"] == "rollback").unwrap();
    assert_eq!(rollback["on"], "no-go");
    // Before its send time a gated message is scheduled; after it, with no decision, held.
    let before = list_json(&root, &["--now", "2027-03-28T02:59:00Z"]);
    let after = list_json(&root, &["--now", "2027-03-28T03:00:00Z"]);
    let state = |items: &[serde_json::Value], id: &str| {
        items.iter().find(|i| i["id"] == id).unwrap()["state"].clone()
    };
    assert_eq!(state(&before, "live"), "scheduled");
    assert_eq!(state(&after, "live"), "held");
    assert_eq!(state(&after, "rollback"), "held");
    let table = ok(&root, &["comms", "list", "--now", "2027-03-28T03:00:00Z"]);
    assert!(table.contains("status #13/25"), "{table}");
    assert!(table.contains("[held: on go of go-no-go]"), "{table}");
}

/// Every day at 17:30 across the change keeps 17:30 local: 17:30 GMT on Friday and
/// Saturday, then 17:30 BST (16:30 UTC) on Sunday and Monday.
#[test]
fn a_daily_repeat_keeps_the_wall_clock_across_the_change() {
    let (_g, root) = copy_project(&fixture("night-comms"));
    std::fs::write(
        root.join("content/comms/daily.md"),
        "---\nsubject: Daily report\nsend: T-1d 17:30\nrepeat: { every: 1d, until: T+2d 18:00 }\naudience: team\n---\nDay.\n",
    )
    .unwrap();
    let items = list_json(&root, &[]);
    let daily: Vec<&str> = items
        .iter()
        .filter(|i| i["id"] == "daily")
        .map(|i| i["send_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        daily,
        [
            "2027-03-26T17:30:00+00:00",
            "2027-03-27T17:30:00+00:00",
            "2027-03-28T17:30:00+01:00",
            "2027-03-29T17:30:00+01:00",
        ]
    );
}

/// Every malformed key is reported at once, each at its file:line:col, with exit 1.
#[test]
fn bad_gate_on_and_repeat_keys_are_located_errors() {
    let (_g, root) = copy_project(&fixture("night-comms"));
    let comms = root.join("content/comms");
    let write = |name: &str, front: &str| {
        std::fs::write(
            comms.join(name),
            format!("---\nsubject: S\nsend: T+1h\naudience: team\n{front}---\nBody.\n"),
        )
        .unwrap()
    };
    write("a.md", "gate: go-no-goo\n");
    write("b.md", "gate: verify\n");
    write("c.md", "on: no-go\n");
    write("d.md", "gate: go-no-go\non: maybe\n");
    write("e.md", "repeat: { every: 1d2h, until: T+2d }\n");
    write("f.md", "repeat: { every: 15m, until: T-1h }\n");
    write("g.md", "repeat: { every: 1m, until: T+30d }\n");
    write("h.md", "repeat: { every: 0m, until: T+2h }\n");
    write("i.md", "gate: { main: go-no-go }\n");
    write("j.md", "repeat: { every: 15m }\n");
    let out = tminus(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for needle in [
        "content/comms/a.md:5:7: unknown gate `go-no-goo`",
        "did you mean `go-no-go`?",
        "content/comms/b.md:5:7: `gate: verify` is a task task, not a go-no-go",
        "content/comms/c.md:5:5: `on` without a `gate`",
        "content/comms/d.md:6:5: `on: maybe` is not an outcome",
        "content/comms/e.md:5:18: `1d2h` mixes days or weeks with hours or minutes",
        "content/comms/f.md:5:30: `until: T-1h`",
        "is before the first occurrence",
        "content/comms/g.md:5:18: this repeat makes more than 10000 occurrences",
        "content/comms/h.md:5:18: `0m` is zero",
        "content/comms/i.md:5:1: a gate per wave needs `per_wave: true`",
        "content/comms/i.md:5:9: unknown wave `main`",
        "content/comms/j.md:5:",
        "missing required key `until`",
    ] {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
    // `build` fails the same way and writes nothing.
    let build = tminus(&root, &["build"]);
    assert_eq!(build.status.code(), Some(1));
    assert!(!root.join("output").exists());
}

/// The site: a gated message's page says what it waits on, as of `build --now`; the
/// status update's page previews its first 24 occurrences and lists the 25th.
#[test]
fn the_message_pages_say_what_a_message_waits_on_and_list_the_occurrences() {
    let (_g, root) = copy_project(&fixture("night-comms"));
    ok(&root, &["build", "--now", "2027-03-28T02:30:00Z"]);
    let page = |id: &str| read(&root.join(format!("output/v1.0/comms/{id}/index.html")));
    assert!(
        page("live").contains("Waits on the decision at “Go/no-go”"),
        "{}",
        page("live")
    );
    ok(
        &root,
        &["build", "--now", "2027-03-28T03:10:00Z", "--force"],
    );
    assert!(page("live").contains("Held: past its send time"));
    std::fs::write(
        root.join("content/live.yaml"),
        "- decision: go-no-go\n  outcome: NO-GO\n  at: 2027-03-28 04:05\n  by: sponsor\n",
    )
    .unwrap();
    ok(
        &root,
        &["build", "--now", "2027-03-28T03:10:00Z", "--force"],
    );
    let live = page("live");
    assert!(
        live.contains(
            "Cancelled: “Go/no-go” decided NO-GO by sponsor at Sun 28 Mar 2027, 04:05 BST"
        ),
        "{live}"
    );
    assert!(page("rollback").contains("Released: “Go/no-go” decided NO-GO"));
    let plan: serde_json::Value =
        serde_json::from_str(&read(&root.join("output/v1.0/plan.json"))).unwrap();
    let state = |id: &str| {
        plan["comms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state("live"), "cancelled");
    assert_eq!(state("rollback"), "scheduled");
    let index = read(&root.join("output/v1.0/comms/index.html"));
    assert!(
        index.contains("occurrence 25 of 25"),
        "the comms index lists each"
    );
    let status = page("status");
    assert_eq!(status.matches("<iframe").count(), 24);
    assert!(status.contains("1 more delivery"), "{status}");
    assert!(status.contains("25 of 25"));
}
