"""Runs benches/rates.sql in DuckDB on a cohort and offences file (CSV or Parquet).

    python benches/duckdb_rates.py COHORT OFFENCES [--threads N] [--json OUT]
"""
import argparse
import json
import os
import time

import duckdb

ap = argparse.ArgumentParser()
ap.add_argument("cohort")
ap.add_argument("offences")
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--json")
a = ap.parse_args()


def source(path, date_cols):
    if path.endswith(".parquet"):
        return f"read_parquet('{path}')"
    types = ", ".join(f"'{c}': 'DATE'" for c in date_cols)
    return f"read_csv('{path}', header=true, types={{{types}}})"


sql = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rates.sql")).read()
sql = sql.replace("{cohort}", source(a.cohort, ["index_date"]))
sql = sql.replace("{offences}", source(a.offences, ["offence_date", "disposal_date"]))
con = duckdb.connect()
con.execute(f"SET threads={a.threads}")
t = time.perf_counter()
rows = con.execute(sql).fetchall()
elapsed = time.perf_counter() - t
cols = [d[0] for d in con.description]
print(f"duckdb {duckdb.__version__}: {len(rows)} groups in {elapsed:.2f} s")
if a.json:
    with open(a.json, "w") as f:
        json.dump([dict(zip(cols, r)) for r in rows], f, default=str, indent=1)
