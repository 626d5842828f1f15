//! A fuzz test of the loader: the example project's files (`content/` at the repository
//! root), mutated the way broken editors, bad merges and hostile writers mutate them —
//! byte flips, truncation, control characters, deep nesting, huge values, anchors and
//! aliases, random YAML tokens, a BOM, CRLF line ends, invalid UTF-8 — are loaded in
//! process with `tminus::load::load`. Each case must not panic, must finish within
//! [`CASE_LIMIT`], and every error that names a file under `content/` must give its line
//! and column.
//!
//! `TMINUS_FUZZ_CASES` sets the number of cases (default 64, a few seconds in a debug
//! build); `TMINUS_FUZZ_SEED` fixes the random seed (default: a new one each run, printed
//! on failure with the smallest failing input).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

/// A case slower than this is a hang (an ordinary load takes milliseconds).
const CASE_LIMIT: Duration = Duration::from_secs(20);

/// One change to a file's bytes; positions are taken modulo the file's length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipByte { at: usize, bit: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Bom,
    Crlf,
}

/// Bytes worth inserting: control characters, tokens that mean something to YAML or to
/// the front matter, deep nesting, huge values, anchors and alias bombs, invalid UTF-8.
fn insertion() -> impl Strategy<Value = Vec<u8>> {
    let tokens = prop::sample::select(vec![
        ":",
        ": ",
        "- ",
        "-",
        "? ",
        "&a ",
        "*a",
        "&b [*a, *a, *a, *a]",
        "!!str ",
        "!!binary ",
        "!custom ",
        "---\n",
        "...\n",
        "{",
        "}",
        "[",
        "]",
        "|",
        ">-",
        "\"",
        "'",
        "#",
        "\t",
        "\n",
        "\n  ",
        "\n    - ",
        "%YAML 1.2\n",
        "~",
        "null",
        "T+999999d",
        "0207-02-15T18:00",
        "9999-12-31T23:59",
        "T-0",
        "javascript:alert(1)",
        "{{",
        "}}",
        "{% for %}",
        "{% macro m() %}{{ self::m() }}{% endmacro m %}",
        "<<: *a",
        "\u{85}",
        "\u{2028}",
        "\u{feff}",
    ]);
    prop_oneof![
        4 => tokens.prop_map(|t| t.as_bytes().to_vec()),
        2 => prop::collection::vec(0u8..32, 1..4),
        1 => prop::collection::vec(prop::sample::select(vec![0x80u8, 0xc3, 0xff, 0xfe, 0xed, 0xa0]), 1..3),
        1 => (1usize..200_000).prop_map(|n| "[".repeat(n).into_bytes()),
        1 => (1usize..2_000).prop_map(|n| "- ".repeat(n).into_bytes()),
        1 => (1usize..200_000).prop_map(|n| "x".repeat(n).into_bytes()),
        1 => Just(alias_bomb()),
        2 => prop::collection::vec(any::<u8>(), 1..16),
    ]
}

/// Nine levels of ten aliases each: 10^9 values once expanded.
fn alias_bomb() -> Vec<u8> {
    let mut text = String::from("\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let items = vec![format!("*l{}", i - 1); 10].join(", ");
        text.push_str(&format!("l{i}: &l{i} [{items}]\n"));
    }
    text.into_bytes()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipByte { at, bit }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        6 => (any::<usize>(), insertion()).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => Just(Mutation::Bom),
        1 => Just(Mutation::Crlf),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |n: usize| {
        if bytes.is_empty() {
            0
        } else {
            n % (bytes.len() + 1)
        }
    };
    match m {
        Mutation::FlipByte { at: n, bit } if !bytes.is_empty() => {
            let i = n % bytes.len();
            bytes[i] ^= 1 << bit;
        }
        Mutation::FlipByte { .. } => {}
        Mutation::Truncate { at: n } => {
            let i = at(*n);
            bytes.truncate(i);
        }
        Mutation::Insert { at: n, bytes: new } => {
            let i = at(*n);
            bytes.splice(i..i, new.iter().copied());
        }
        Mutation::Bom => bytes.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
        Mutation::Crlf => {
            let text = String::from_utf8_lossy(bytes).replace('\n', "\r\n");
            *bytes = text.into_bytes();
        }
    }
}

/// The example project's files under `content/`, relative to the project root.
fn example_files() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(root.join("content"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn cases() -> u32 {
    std::env::var("TMINUS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Loads the project at `root` on its own thread: a panic or a run past [`CASE_LIMIT`]
/// is a failure; otherwise the errors that name a content file without a position.
fn load_checked(root: &Path) -> Result<Vec<String>, String> {
    let (tx, rx) = mpsc::channel();
    let root = root.to_path_buf();
    let worker = std::thread::spawn(move || {
        let result = tminus::load::load(&root);
        let _ = tx.send(result.err());
    });
    match rx.recv_timeout(CASE_LIMIT) {
        Ok(None) => Ok(Vec::new()),
        Ok(Some(diags)) => Ok(diags
            .iter()
            .filter(|d| d.file.as_ref().is_some_and(|f| f.starts_with("content")))
            .filter(|d| d.position.is_none())
            .map(|d| d.to_string())
            .collect()),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let panic = worker.join().err().map(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            });
            Err(format!(
                "the loader panicked: {}",
                panic.unwrap_or_default()
            ))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("the loader ran for more than {CASE_LIMIT:?}"))
        }
    }
}

#[test]
fn the_loader_survives_mutated_example_files() {
    let files = example_files();
    assert!(files.len() > 10, "the example project is there");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("project");
    for (rel, bytes) in &files {
        std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(rel), bytes).unwrap();
    }
    let mut config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    if let Some(seed) = std::env::var("TMINUS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.rng_seed = RngSeed::Fixed(seed);
    }
    let mut runner = TestRunner::new(config);
    let strategy = (0..files.len(), prop::collection::vec(mutation(), 1..4));
    let outcome = runner.run(&strategy, |(index, mutations)| {
        let (rel, original) = &files[index];
        let mut bytes = original.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        std::fs::write(root.join(rel), &bytes).unwrap();
        let result = load_checked(&root);
        std::fs::write(root.join(rel), original).unwrap();
        match result {
            Ok(unlocated) if unlocated.is_empty() => Ok(()),
            Ok(unlocated) => Err(TestCaseError::fail(format!(
                "{}: errors without line:col:\n{}",
                rel.display(),
                unlocated.join("\n")
            ))),
            Err(problem) => Err(TestCaseError::fail(format!("{}: {problem}", rel.display()))),
        }
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
