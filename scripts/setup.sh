#!/usr/bin/env bash
# Installs what a fresh Debian machine with Rust needs beyond cargo:
#   - build tools for the C parts of dependencies (zstd),
#   - a throwaway Python virtual environment (.venv-reference) with the reference
#     implementations the tests' expected values come from (scipy, statsmodels, lifelines)
#     and the benchmark's comparison engine (duckdb, pyarrow).
# The tests themselves need only cargo: reference values are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq build-essential pkg-config python3-venv time >/dev/null
fi
python3 -m venv .venv-reference
.venv-reference/bin/pip install -q --upgrade pip
.venv-reference/bin/pip install -q scipy statsmodels lifelines duckdb pyarrow pandas
echo "ready: reference tools in .venv-reference (e.g. .venv-reference/bin/python tests/reference/proportions.py)"
