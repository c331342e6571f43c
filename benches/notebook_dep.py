"""Times a notebook's first `:dep` of the library in the evcxr kernel, without and with the
binary's crates (issue 30 item 7): `default-features = false` (what the notebooks use) against
the default features (clap, mimalloc and what only the command line needs).

Each case runs in a fresh kernel with evcxr's dependency cache off (an empty config folder,
so a machine's `:cache` setting does not hide the build) and a fresh build folder; the two
cases alternate `--rounds` times. Run from the project's root:

    .venv-reference/bin/python benches/notebook_dep.py [--rounds 1]

Prints one line per run and the median of each case.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import nbformat
from nbclient import NotebookClient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CASES = {
    "default-features = false": f':dep reoffending = {{ path = "{ROOT}", default-features = false }}',
    "default features (cli)": f':dep reoffending = {{ path = "{ROOT}" }}',
}


def run(dep):
    with tempfile.TemporaryDirectory() as config, tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, XDG_CONFIG_HOME=config, EVCXR_TMPDIR=tmp)
        os.makedirs(os.path.join(config, "evcxr"))
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(dep), nbformat.v4.new_code_cell("1 + 1")]
        client = NotebookClient(nb, timeout=7200, kernel_name="rust")
        start = time.monotonic()
        client.execute(env=env)
        elapsed = time.monotonic() - start
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            raise SystemExit(f"{dep}: {errors[0].get('evalue')}")
        return elapsed


parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=1)
args = parser.parse_args()
times = {k: [] for k in CASES}
for r in range(args.rounds):
    for name, dep in CASES.items():
        t = run(dep)
        load = os.getloadavg()[0]
        times[name].append(t)
        print(f"round {r + 1}: {name}: {t:.0f} s (load average {load:.1f})", flush=True)
for name, ts in times.items():
    print(f"median {name}: {statistics.median(ts):.0f} s")
