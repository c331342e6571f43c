#!/usr/bin/env python3
"""Back-test of the monitoring projections on the committed sample (standard library only).

For each month-end extract date from mid-2021 to the end of 2022 it runs
`reoffending monitor` on data-samples/ as if the extract had been taken then, once with the
default reference (earlier quarters of the same group) and once with the comparison group's
curve (`--projection-reference comparison`), and compares every projection with the rate the
same quarter eventually showed at the real extract date (2023-03-31, the quarters whose
people all have the full follow-up). Errors are grouped by how far the quarter had been
followed when the projection was made (days 91-181, 182-272, 273-364).

    cargo build --release && python3 benches/monitor_backtest.py
"""
import calendar
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "reoffending"
CONFIG = ROOT / "data-samples" / "evaluation.toml"


def monitor(extract, reference=None):
    cmd = [str(BIN), "monitor", "--config", str(CONFIG), "--format", "json"]
    if extract:
        cmd += ["--extract-date", extract]
    if reference:
        cmd += ["--projection-reference", reference]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["groups"]


def main():
    eventual = {
        (g["cohort"], g["period"]): g["observed_rate"]
        for g in monitor(None)
        if g["observed_rate"] is not None
    }
    dates = []
    for year in (2021, 2022):
        for month in range(1, 13):
            if (year, month) >= (2021, 6):
                dates.append(f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}")
    errors = {}
    for extract in dates:
        for method, ref in (("same group, earlier quarters", None), ("comparison group", "comparison")):
            for g in monitor(extract, ref):
                key = (g["cohort"], g["period"])
                if g["projected_12m"] is None or key not in eventual:
                    continue
                reach = int(re.search(r"survival to day (\d+)", g["projection_basis"]).group(1))
                band = next(b for b in (273, 182, 91) if reach >= b)
                errors.setdefault((g["cohort"], method, band), []).append(
                    g["projected_12m"] - eventual[key]
                )
    print("| group | reference | projected at day | projections | mean error (points) | mean absolute error (points) |")
    print("|---|---|---|---|---|---|")
    for (cohort, method, band), e in sorted(errors.items()):
        print(
            f"| {cohort} | {method} | {band}-{min(band + 90, 364)} | {len(e)} | "
            f"{100 * statistics.fmean(e):+.1f} | {100 * statistics.fmean(abs(x) for x in e):.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
