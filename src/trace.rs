//! Phase timings on standard error, for large runs: set `REOFFENDING_TRACE=1`.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("REOFFENDING_TRACE").is_some_and(|v| v != "0"))
}

/// Times a phase; prints `phase: seconds` when it ends, if tracing is on.
pub(crate) struct Phase {
    name: &'static str,
    start: Instant,
}

impl Phase {
    pub(crate) fn start(name: &'static str) -> Phase {
        Phase {
            name,
            start: Instant::now(),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if enabled() {
            eprintln!(
                "[trace] {:<28} {:>8.3} s",
                self.name,
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}
