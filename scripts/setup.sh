#!/usr/bin/env bash
# Installs what a fresh Debian machine with Rust needs beyond cargo. The two README
# commands need only cargo and a C compiler; this script adds:
#   - build tools (C compiler for zstd), librsvg2-bin (to view the SVG charts as PNG),
#     GNU time (peak memory in benches/scale.sh);
#   - .venv-reference: a throwaway Python environment with the reference implementations
#     the tests' expected values come from (scipy, statsmodels, lifelines) and the
#     benchmark's comparison engine (DuckDB, pyarrow);
#   - with --notebook: Jupyter and the evcxr Rust kernel (cargo install, ~10 minutes).
# Reference values are committed, so the tests themselves need none of this.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq build-essential pkg-config python3-venv time librsvg2-bin >/dev/null
fi
python3 -m venv .venv-reference
.venv-reference/bin/pip install -q --upgrade pip
.venv-reference/bin/pip install -q scipy statsmodels lifelines duckdb pyarrow pandas
if [ "${1:-}" = "--notebook" ]; then
  .venv-reference/bin/pip install -q jupyterlab
  cargo install --locked evcxr_jupyter
  PATH="$PWD/.venv-reference/bin:$PATH" evcxr_jupyter --install
  echo "notebook: .venv-reference/bin/jupyter lab, then choose the Rust kernel"
fi
echo "ready: reference tools in .venv-reference (regenerate references: .venv-reference/bin/python tests/reference/<name>.py)"
