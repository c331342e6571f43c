#!/usr/bin/env bash
# Executes notebooks/divert_evaluation.ipynb, then notebooks/chart_display_check.ipynb (an
# analyst's cells: `.unwrap()` first, the first `?` in a chart cell), headless in the evcxr
# kernel (installed by `scripts/setup.sh --notebook`) and fails if a cell errors, a panic
# reaches stderr, no HTML table or SVG chart appears in the outputs, or a cell whose value is
# a chart does not show it as an SVG image. Not part of .ci/run (it compiles the library
# inside the kernel). Prints how long the run took.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv-reference/bin/python
[ -x "$PY" ] || { echo "run scripts/setup.sh --notebook first" >&2; exit 2; }
export PATH="$HOME/.cargo/bin:$PWD/.venv-reference/bin:$PATH"
start=$(date +%s)
"$PY" scripts/check_notebook.py notebooks/divert_evaluation.ipynb "${1:-target/notebook-executed.ipynb}"
"$PY" scripts/check_notebook.py notebooks/chart_display_check.ipynb target/chart-display-check-executed.ipynb
echo "notebook executed and checked in $(( $(date +%s) - start )) s"
