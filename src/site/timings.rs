//! How long each phase of a build took, for `tminus build --timings` and the benchmarks.
//!
//! Phases are recorded in the order they finish, with the process's peak memory so far
//! (Linux); two phases that run at the same time (the search index is built while pages
//! are written) each report their own wall time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The phases of one build, with their wall time.
#[derive(Debug, Default)]
pub struct Timings {
    phases: Mutex<Vec<Phase>>,
}

/// One phase: its name, wall time, and the peak resident memory of the process when it
/// ended (bytes; `None` where the system does not tell).
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub name: &'static str,
    pub took: Duration,
    pub peak_rss: Option<u64>,
}

impl Timings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f`, recording its wall time as phase `name`.
    pub fn time<T>(&self, name: &'static str, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let value = f();
        self.record(name, started.elapsed());
        value
    }

    fn record(&self, name: &'static str, took: Duration) {
        let phase = Phase {
            name,
            took,
            peak_rss: peak_rss(),
        };
        self.phases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(phase);
    }

    /// The recorded phases, in the order they finished.
    pub fn phases(&self) -> Vec<Phase> {
        self.phases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The peak resident set size of this process so far (`VmHWM`), on Linux.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_kept_in_finishing_order_with_their_values() {
        let t = Timings::new();
        let a = t.time("first", || 1);
        let b = t.time("second", || {
            std::thread::sleep(Duration::from_millis(2));
            2
        });
        assert_eq!((a, b), (1, 2));
        let phases = t.phases();
        assert_eq!(
            phases.iter().map(|p| p.name).collect::<Vec<_>>(),
            ["first", "second"]
        );
        assert!(phases[1].took >= Duration::from_millis(2));
        if cfg!(target_os = "linux") {
            assert!(phases[1].peak_rss.unwrap() >= phases[0].peak_rss.unwrap());
        }
    }
}
