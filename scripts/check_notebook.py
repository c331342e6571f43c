"""Executes a notebook with nbclient and checks its outputs (see check-notebook.sh).

Fails on a cell error, a panic on stderr, no HTML table or no SVG chart anywhere, and on any
cell whose value is a chart (its last line ends in `.chart()`, or names a chart bound in the
cell) that does not show as an SVG image: the chart's source printed as text is a failure.
"""
import re
import sys

import nbformat
from nbclient import NotebookClient

source, executed = sys.argv[1], sys.argv[2]
nb = nbformat.read(source, as_version=4)
# The first cell compiles the library in the kernel: allow it time.
# Every cell runs (allow_errors) so that each failing cell is reported with its message below,
# and the executed copy is written either way.
client = NotebookClient(
    nb, timeout=3600, kernel_name="rust", allow_errors=True, resources={"metadata": {"path": "notebooks"}}
)
client.execute()
nbformat.write(nb, executed)


def shows_a_chart(code):
    """True when the cell's value is a chart: `x.chart()`, `...?.chart()`, or a name bound
    to a chart earlier in the cell."""
    lines = [l.strip() for l in code.strip().splitlines() if l.strip()]
    if not lines:
        return False
    last = lines[-1]
    if last.endswith(".chart()"):
        return True
    bound = {m.group(1) for m in re.finditer(r"let\s+(\w+)\s*=\s*[^;]*\.chart\(\)\s*;", code)}
    return last in bound


problems, html, svg, chart_cells = [], 0, 0, 0
for i, cell in enumerate(nb.cells):
    cell_svg = False
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            trace = "\n".join(out.get("traceback", []))[:2000]
            problems.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}\n{trace}")
        if kind == "stream" and out.get("name") == "stderr" and "panicked" in out.get("text", ""):
            problems.append(f"cell {i}: panic: {out['text'][:300]}")
        data = out.get("data", {})
        html += "text/html" in data
        svg += "image/svg+xml" in data
        cell_svg = cell_svg or "image/svg+xml" in data
        text = data.get("text/plain", "") + (out.get("text", "") if kind == "stream" else "")
        if "<svg" in text:
            problems.append(f"cell {i}: a chart printed as text, not shown as an image")
    if cell.cell_type == "code" and shows_a_chart(cell.source):
        chart_cells += 1
        if not cell_svg:
            problems.append(f"cell {i}: its value is a chart but no SVG image was shown: {cell.source!r}")
if html == 0 and "divert_evaluation" in source:
    problems.append("no HTML table in the outputs")
if svg == 0:
    problems.append("no SVG chart in the outputs")
print(f"{len(nb.cells)} cells, {html} HTML outputs, {svg} SVG outputs, {chart_cells} chart cells; executed copy: {executed}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
