//! The `reoffending` binary. Exit codes: 0 success, 2 bad input or usage, 1 anything else.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
