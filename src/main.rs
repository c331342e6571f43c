//! The `reoffending` binary. Exit codes: 0 success, 2 bad input or usage, 1 anything else.

// As in the library: `!(a <= b)` also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod cli;

// mimalloc rather than the system allocator, for the binary only (the library leaves the
// choice to its users). Loading streams the offences in batches: every batch allocates and
// frees tens of megabytes of decoded columns and per-range buffers. glibc's allocator hands
// much of that back to the system and takes it again, fresh pages the kernel must zero
// (page clearing was a tenth of the run's CPU time at 10 million people); mimalloc reuses it.
// Measured at 10 million people, Parquet, offences in date order, same hour: 18-21 s against
// 23 s, and 3.0 GB peak memory against 3.6 GB (README, "Speed at scale").
//
// Built without asking the kernel for transparent huge pages for its memory (the `no_thp`
// feature; only the link table, read at random, asks for them, in src/data/link.rs). A
// 2 MiB page is zeroed whole on first touch, and after another program has freed memory in
// small pieces the kernel must first compact memory to find one. Measured at 10 million
// people, Parquet, each run right after a DuckDB run as in the benchmark (median of 4):
// 6.38 s and 2.25 GB against 8.52 s and 2.42 GB (system time 1.6 s against 5.4 s); at
// 1 million no slower, and 50-65 MB less memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
