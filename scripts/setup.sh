#!/usr/bin/env bash
# Installs what a fresh Debian machine with Rust needs beyond cargo. The two README
# commands need only cargo and a C compiler; this script adds:
#   - build tools (C compiler for zstd), librsvg2-bin (to view the SVG charts as PNG),
#     GNU time (peak memory in benches/scale.sh);
#   - .venv-reference: a throwaway Python environment with the reference implementations
#     the tests' expected values come from (scipy, statsmodels, lifelines) and the
#     benchmark's comparison engine (DuckDB, pyarrow);
#   - rustfmt and clippy (rustup components);
#   - with --notebook: Jupyter, nbclient and the evcxr Rust kernel (cargo install), evcxr's
#     build cache switched on, and one run of scripts/check-notebook.sh to warm that cache
#     (it compiles the library and polars inside the kernel once; see docs/notebook.md for times).
# Reference values are committed, so the tests themselves need none of this.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq build-essential pkg-config python3-venv time librsvg2-bin >/dev/null
fi
# rustfmt and clippy (the test run checks formatting, lints and documentation), when rustup manages
# the toolchain.
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null
fi
python3 -m venv .venv-reference
.venv-reference/bin/pip install -q --upgrade pip
.venv-reference/bin/pip install -q -r scripts/requirements-reference.txt
.venv-reference/bin/pip install -q --no-deps -r scripts/requirements-staggered.txt
python3 -m venv .venv-reference-survival
.venv-reference-survival/bin/pip install -q -r scripts/requirements-survival.txt
if [ "${1:-}" = "--notebook" ]; then
  .venv-reference/bin/pip install -q -r scripts/requirements-notebook.txt
  command -v evcxr_jupyter >/dev/null 2>&1 || cargo install --locked evcxr_jupyter
  PATH="$PWD/.venv-reference/bin:$PATH" evcxr_jupyter --install
  # evcxr's build cache keeps compiled crates between sessions: the analyst's own first
  # `:dep reoffending` then takes seconds instead of a polars compile.
  conf="${XDG_CONFIG_HOME:-$HOME/.config}/evcxr"
  mkdir -p "$conf"
  grep -qs '^:cache' "$conf/init.evcxr" || echo ':cache 8000' >> "$conf/init.evcxr"
  scripts/check-notebook.sh
  echo "notebook: .venv-reference/bin/jupyter lab notebooks/, then choose the Rust kernel"
fi
echo "ready: reference tools in .venv-reference (regenerate references: .venv-reference/bin/python tests/reference/<name>.py)"
