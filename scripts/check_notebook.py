"""Executes a notebook with nbclient and checks its outputs (see check-notebook.sh)."""
import sys

import nbformat
from nbclient import NotebookClient

source, executed = sys.argv[1], sys.argv[2]
nb = nbformat.read(source, as_version=4)
# The first cell compiles the library in the kernel: allow it time.
client = NotebookClient(nb, timeout=3600, kernel_name="rust", resources={"metadata": {"path": "notebooks"}})
client.execute()
nbformat.write(nb, executed)

problems, html, svg = [], 0, 0
for i, cell in enumerate(nb.cells):
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            problems.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
        if kind == "stream" and out.get("name") == "stderr" and "panicked" in out.get("text", ""):
            problems.append(f"cell {i}: panic: {out['text'][:300]}")
        data = out.get("data", {})
        html += "text/html" in data
        svg += "image/svg+xml" in data
if html == 0:
    problems.append("no HTML table in the outputs")
if svg == 0:
    problems.append("no SVG chart in the outputs")
print(f"{len(nb.cells)} cells, {html} HTML outputs, {svg} SVG outputs; executed copy: {executed}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
