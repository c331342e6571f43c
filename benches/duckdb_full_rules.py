"""Runs benches/duckdb_full_rules.sql (a verbatim copy of shared/bench/duckdb_full_rules.sql,
the reference engine for the speed targets) in DuckDB, aggregated by cohort, sex and age band
as `reoffending rates --by cohort,sex,age_band` reports them.

    python benches/duckdb_full_rules.py COHORT OFFENCES EXTRACT_DATE [--json OUT]
"""
import argparse
import json
import os

import duckdb

ap = argparse.ArgumentParser()
ap.add_argument("cohort")
ap.add_argument("offences")
ap.add_argument("extract")
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--json")
a = ap.parse_args()


def source(path, date_cols):
    if path.endswith(".parquet"):
        return f"read_parquet('{path}')"
    types = ", ".join(f"'{c}': 'DATE'" for c in date_cols)
    return f"read_csv('{path}', header=true, types={{{types}}})"


here = os.path.dirname(os.path.abspath(__file__))
per_person = open(os.path.join(here, "duckdb_full_rules.sql")).read().strip().rstrip(";")
per_person = (
    per_person.replace("{cohort}", source(a.cohort, ["index_date"]))
    .replace("{offences}", source(a.offences, ["offence_date", "disposal_date"]))
    .replace("{extract}", a.extract)
)
sql = f"""
SELECT cohort, sex,
       CASE WHEN age IS NULL THEN NULL
            WHEN age < 10 THEN '<10' WHEN age <= 17 THEN '10-17'
            WHEN age <= 20 THEN '18-20' WHEN age <= 24 THEN '21-24'
            WHEN age <= 29 THEN '25-29' WHEN age <= 39 THEN '30-39'
            WHEN age <= 49 THEN '40-49' ELSE '50+' END AS age_band,
       count(*) AS eligible,
       count(*) FILTER (WHERE reoffended) AS reoffenders,
       sum(reoffences) AS reoffences
FROM ({per_person}) GROUP BY ALL ORDER BY ALL
"""
con = duckdb.connect()
con.execute(f"SET threads={a.threads}")
rows = con.execute(sql).fetchall()
cols = [d[0] for d in con.description]
if a.json:
    with open(a.json, "w") as f:
        json.dump([dict(zip(cols, r)) for r in rows], f, default=str, indent=1)
