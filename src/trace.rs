//! Phase timings on standard error, for large runs: set `REOFFENDING_TRACE=1`.
//!
//! Every step of `report` is named with its time: loading, each analysis, the disclosure gate
//! and each output. A phase is timed by a scoped [`Phase`] (printed when it ends), by
//! [`timed`] around a call, or, for work repeated many times (one PNG per chart), by a
//! [`Total`] that adds up its pieces and prints once.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub(crate) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("REOFFENDING_TRACE").is_some_and(|v| v != "0"))
}

fn print(name: &str, d: Duration) {
    if enabled() {
        emit(format!("[trace] {:<44} {:>8.3} s", name, d.as_secs_f64()));
    }
}

thread_local! {
    /// This thread's trace lines held back by [`grouped`], if any.
    static HELD: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Prints one trace line, or holds it back while this thread runs a [`grouped`] task.
fn emit(line: String) {
    let line = HELD.with(|held| match held.borrow_mut().as_mut() {
        Some(lines) => {
            lines.push(line);
            None
        }
        None => Some(line),
    });
    if let Some(line) = line {
        eprintln!("{line}");
    }
}

/// Prints a line of its own (a count, not a time) as part of the trace, if tracing is on.
pub(crate) fn note(text: std::fmt::Arguments<'_>) {
    if enabled() {
        emit(format!("[trace] {text}"));
    }
}

/// Runs `f` with the trace lines it prints on this thread held back, then prints them
/// together: a task run beside another (`rayon::join`) then reads as one block instead of
/// its lines interleaved with the other task's.
pub(crate) fn grouped<T>(f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let outer = HELD.with(|held| held.replace(Some(Vec::new())));
    let v = f();
    let lines = HELD.with(|held| held.replace(outer));
    for line in lines.unwrap_or_default() {
        emit(line);
    }
    v
}

/// Times a phase; prints `phase: seconds` when it ends, if tracing is on.
pub(crate) struct Phase {
    name: Cow<'static, str>,
    start: Instant,
}

impl Phase {
    pub(crate) fn start(name: impl Into<Cow<'static, str>>) -> Phase {
        Phase {
            name: name.into(),
            start: Instant::now(),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        print(&self.name, self.start.elapsed());
    }
}

/// Runs `f` as the phase `name`.
pub(crate) fn timed<T>(name: impl Into<Cow<'static, str>>, f: impl FnOnce() -> T) -> T {
    let _t = Phase::start(name);
    f()
}

/// The time of a phase done in pieces, printed once when it is dropped (if any piece ran).
pub(crate) struct Total {
    name: &'static str,
    sum: Duration,
    pieces: usize,
}

impl Total {
    pub(crate) fn new(name: &'static str) -> Total {
        Total {
            name,
            sum: Duration::ZERO,
            pieces: 0,
        }
    }

    /// Runs `f` as one piece of the phase.
    pub(crate) fn add<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let v = f();
        self.sum += start.elapsed();
        self.pieces += 1;
        v
    }

    /// Adds the time from `start` to now as one piece of the phase (for a piece that is not
    /// one call).
    pub(crate) fn add_since(&mut self, start: Instant) {
        self.sum += start.elapsed();
        self.pieces += 1;
    }
}

impl Drop for Total {
    fn drop(&mut self) {
        if self.pieces > 0 {
            print(&format!("{} ({})", self.name, self.pieces), self.sum);
        }
    }
}
