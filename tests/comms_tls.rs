//! `comms send` over TLS against a real server: aiosmtpd (`common/smtp.rs`) with STARTTLS
//! required, or with implicit TLS, on 127.0.0.1, using a throw-away CA and a server
//! certificate for `localhost` and `127.0.0.1` made for each test with `rcgen`.
//!
//! Checked: STARTTLS and implicit TLS with `TMINUS_SMTP_CA_FILE` deliver; without the CA
//! the certificate is refused and nothing is recorded as sent; a server that does not offer
//! STARTTLS is refused (no plain-text fallback); credentials go only over TLS and never
//! reach the output or the ledger.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::smtp::{counts, Server};
use common::*;

const NOW: &str = "2027-03-15T12:00:00Z"; // the main wave's get-ready is due
const SECRET: &str = "pw-Tls-0nly-S3cret!";

/// A CA, and a server certificate it signed for `localhost` and `127.0.0.1` (PEM files).
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    std::fs::create_dir_all(dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "tminus test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let pki = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
    };
    std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

/// The minimal fixture with `n` recipients in the main wave and `security` in project.yaml.
fn project(n: usize, security: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = copy_project(&fixture("minimal"));
    let mut csv = String::from("email,name,locale,timezone\n");
    for i in 1..=n {
        csv.push_str(&format!("user{i}@example.com,User {i},,\n"));
    }
    std::fs::write(root.join("content/audiences/everyone.csv"), csv).unwrap();
    let yaml = root.join("content/project.yaml");
    edit(&yaml, "security: none", &format!("security: {security}"));
    let mut text = read(&yaml);
    text.push_str("comms: { max_lateness: 24h, rate_per_second: 500 }\n");
    std::fs::write(yaml, text).unwrap();
    (dir, root)
}

/// A server with TLS (`starttls` or `implicit`) and `extra` arguments.
fn tls_server(dir: &Path, pki: &Pki, mode: &str, extra: &[&str]) -> Option<Server> {
    let (cert, key) = (pki.cert.to_str().unwrap(), pki.key.to_str().unwrap());
    let mut args = vec!["--tls", mode, "--cert", cert, "--key", key];
    args.extend_from_slice(extra);
    common::smtp::start(dir, &args)
}

fn send(root: &Path, port: u16, ca: Option<&Path>, credentials: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tminus"));
    c.arg("--root")
        .arg(root)
        .args(["comms", "send", "--due", "--now", NOW])
        .env("TMINUS_SMTP_HOST", "127.0.0.1")
        .env("TMINUS_SMTP_PORT", port.to_string())
        .env("TMINUS_SMTP_RETRY_DELAY_MS", "20")
        .env("TMINUS_SMTP_TIMEOUT_SECS", "10")
        .env_remove("TMINUS_SMTP_CA_FILE")
        .env_remove("TMINUS_SMTP_USERNAME")
        .env_remove("TMINUS_SMTP_PASSWORD");
    if let Some(ca) = ca {
        c.env("TMINUS_SMTP_CA_FILE", ca);
    }
    if credentials {
        c.env("TMINUS_SMTP_USERNAME", "robot")
            .env("TMINUS_SMTP_PASSWORD", SECRET);
    }
    c.output().expect("run tminus")
}

fn ledger(root: &Path) -> String {
    std::fs::read_to_string(root.join(".tminus/sent.jsonl")).unwrap_or_default()
}

/// The events the server logged (`stored`, `auth`, …).
fn events(server: &Server, kind: &str) -> Vec<serde_json::Value> {
    server
        .log()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == kind)
        .collect()
}

/// Every delivery went out once, over TLS, and the ledger has its Message-ID.
fn assert_delivered_over_tls(server: &Server, root: &Path, n: usize) {
    let c = counts(&server.received());
    assert_eq!(c.keys().cloned().collect::<Vec<_>>(), users(n));
    assert!(c.values().all(|k| *k == 1), "{c:?}");
    let stored = events(server, "stored");
    assert!(stored.iter().all(|e| e["tls"] == true), "{stored:?}");
    let parser = mail_parser::MessageParser::default();
    for (_, bytes) in server.received() {
        let id = parser
            .parse(&bytes)
            .unwrap()
            .message_id()
            .unwrap()
            .to_string();
        assert!(
            ledger(root).contains(&format!("<{id}>")),
            "{id} not in the ledger"
        );
    }
}

/// Sends 3 messages with `security:` set to `security` to a server speaking `mode`, with
/// the internal CA trusted, and checks every one went over TLS.
fn delivers_with_the_internal_ca(security: &str, mode: &str) {
    let (tmp, root) = project(3, security);
    let pki = pki(&tmp.path().join("pki"));
    let Some(server) = tls_server(&tmp.path().join("smtp"), &pki, mode, &[]) else {
        return;
    };
    let o = send(&root, server.port, Some(&pki.ca), false);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("sent 3, failed 0"), "{}", stdout(&o));
    assert_delivered_over_tls(&server, &root, 3);
}

#[test]
fn starttls_with_the_internal_ca_delivers_over_tls() {
    delivers_with_the_internal_ca("starttls", "starttls");
}

#[test]
fn implicit_tls_with_the_internal_ca_delivers() {
    delivers_with_the_internal_ca("tls", "implicit");
}

#[test]
fn without_the_ca_the_certificate_is_refused_and_nothing_is_recorded_as_sent() {
    for (security, mode) in [("starttls", "starttls"), ("tls", "implicit")] {
        let (tmp, root) = project(3, security);
        let pki = pki(&tmp.path().join("pki"));
        let Some(server) = tls_server(&tmp.path().join("smtp"), &pki, mode, &[]) else {
            return;
        };
        let o = send(&root, server.port, None, false);
        assert_eq!(o.status.code(), Some(1), "{mode}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains("certificate") && err.contains("UnknownIssuer"),
            "{mode}: {err}"
        );
        assert!(
            err.contains("3 due message(s) were not attempted"),
            "{mode}: {err}"
        );
        assert!(
            err.contains("hint: the server's certificate is not trusted"),
            "{mode}: {err}"
        );
        // A certificate does not get better by waiting: no retries.
        assert!(
            stdout(&o).contains("sent 0,") && stdout(&o).contains("(0 connections, 0 retries"),
            "{mode}: {}",
            stdout(&o)
        );
        assert!(server.received().is_empty(), "{mode}");
        assert!(
            !ledger(&root).contains("\"sent\"") && !ledger(&root).contains("\"claim\""),
            "{mode}: {}",
            ledger(&root)
        );
        // With the CA, the same run goes through: nothing was half done.
        let o = send(&root, server.port, Some(&pki.ca), false);
        assert!(
            stdout(&o).contains("sent 3, failed 0"),
            "{mode}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn a_server_without_starttls_is_refused_and_never_sees_the_credentials() {
    let (tmp, root) = project(2, "starttls");
    // A plain server that would take AUTH in the clear.
    let Some(server) = common::smtp::start(
        &tmp.path().join("smtp"),
        &["--user", "robot", "--password", SECRET],
    ) else {
        return;
    };
    let o = send(&root, server.port, None, true);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("does not offer STARTTLS; refusing to send in plain text"),
        "{}",
        stderr(&o)
    );
    assert!(server.received().is_empty());
    assert!(events(&server, "auth").is_empty(), "{}", server.log());
    assert!(!ledger(&root).contains("\"claim\""), "{}", ledger(&root));
    assert!(!(stdout(&o) + &stderr(&o)).contains(SECRET));
}

#[test]
fn credentials_go_only_over_tls_and_never_reach_output_or_ledger() {
    for (security, mode) in [("starttls", "starttls"), ("tls", "implicit")] {
        let (tmp, root) = project(2, security);
        let pki = pki(&tmp.path().join("pki"));
        let creds = ["--user", "robot", "--password", SECRET];
        let Some(server) = tls_server(&tmp.path().join("smtp"), &pki, mode, &creds) else {
            return;
        };
        let o = send(&root, server.port, Some(&pki.ca), true);
        assert!(o.status.success(), "{mode}: {}\n{}", stdout(&o), stderr(&o));
        let auth = events(&server, "auth");
        assert!(!auth.is_empty(), "{mode}: no AUTH");
        assert!(auth.iter().all(|e| e["tls"] == true), "{mode}: {auth:?}");
        let stored = events(&server, "stored");
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|e| e["auth"] == true && e["tls"] == true));
        assert!(!(stdout(&o) + &stderr(&o)).contains(SECRET), "{mode}");
        for entry in walkdir::WalkDir::new(root.join(".tminus"))
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
        {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "{mode}: the password is in {}",
                entry.path().display()
            );
        }
    }
}
