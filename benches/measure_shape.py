"""Writes an extract of the second shape the counting benchmark runs on, independent of the
project's generator: most people in the measure, their index dates spread evenly over the ten
years before the extract date (2015-07-01 to 2025-06-30, extract 2025-06-30), and the offences
in offence-date order (each person's rows scattered through the file), as police extracts
arrive.

    python benches/measure_shape.py PEOPLE OUT_DIR [--seed S]

Writes OUT_DIR/cohort.{parquet,csv} (person_id, cohort, index_date, sex, age_at_index) and
OUT_DIR/offences.{parquet,csv} (person_id, offence_date, disposal_date, offence_type,
disposal), with DuckDB (the benchmark's reference engine, already installed for it). Per
person: on average 3 offences in the five years before the index date, and for the 40% who
reoffend 1 to 6 offences between the index date and the extract date; disposals 0 to 400 days
after the offence, never after the extract date. About 1% of rows are exact duplicates and 1%
belong to no one in the cohort, so the full rules' duplicate and linking steps have work to do.
About 4.5 offence rows per person.
"""
import argparse
import os

import duckdb

ap = argparse.ArgumentParser()
ap.add_argument("people", type=int)
ap.add_argument("out")
ap.add_argument("--seed", type=float, default=0.37)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
con = duckdb.connect()
# One thread: with a seed, DuckDB's random() is repeatable only on one thread.
con.execute("SET threads=1")
con.execute(f"SELECT setseed({a.seed})")
n = a.people
con.execute(
    f"""
CREATE TABLE cohort AS
SELECT printf('P%09d', i) AS person_id,
       CASE WHEN random() < 0.2 THEN 'divert' ELSE 'comparison' END AS cohort,
       DATE '2015-07-01' + CAST(floor(random() * 3652) AS INTEGER) AS index_date,
       CASE WHEN random() < 0.8 THEN 'M' ELSE 'F' END AS sex,
       10 + CAST(floor(random() * random() * 60) AS INTEGER) AS age_at_index
FROM range({n}) t(i)
"""
)
con.execute(
    """
CREATE TABLE people AS
SELECT person_id, index_date,
       CAST(floor(random() * 7) AS INTEGER) AS n_prior,
       CASE WHEN random() < 0.4 THEN 1 + CAST(floor(random() * 6) AS INTEGER) ELSE 0 END AS n_after
FROM cohort
"""
)
con.execute(
    """
CREATE TABLE base AS
WITH prior AS (
    SELECT p.person_id,
           p.index_date - 1 - CAST(floor(random() * 1826) AS INTEGER) AS offence_date
    FROM people p, range(7) r(k) WHERE r.k < p.n_prior
), after AS (
    SELECT p.person_id,
           p.index_date + 1 + CAST(floor(random() * greatest(DATE '2025-06-30' - p.index_date, 1)) AS INTEGER) AS offence_date
    FROM people p, range(6) r(k) WHERE r.k < p.n_after
), strangers AS (
    SELECT printf('X%09d', i) AS person_id,
           DATE '2010-07-01' + CAST(floor(random() * 5478) AS INTEGER) AS offence_date
    FROM range(CAST(0.01 * 4.7 * (SELECT count(*) FROM people) AS BIGINT)) t(i)
)
SELECT person_id, offence_date,
       least(offence_date + CAST(floor(random() * random() * 400) AS INTEGER), DATE '2025-06-30') AS disposal_date,
       ['theft', 'drugs', 'violence', 'criminal_damage', 'public_order', 'burglary', 'fraud', 'motoring'][1 + CAST(floor(random() * 8) AS INTEGER)] AS offence_type,
       ['caution', 'conviction', 'conviction', 'custody'][1 + CAST(floor(random() * 4) AS INTEGER)] AS disposal
FROM (SELECT * FROM prior UNION ALL SELECT * FROM after UNION ALL SELECT * FROM strangers)
WHERE offence_date <= DATE '2025-06-30'
"""
)
con.execute(
    """
CREATE TABLE offences AS
SELECT * FROM (
    SELECT * FROM base
    UNION ALL
    SELECT * FROM base USING SAMPLE 1 PERCENT (bernoulli, 7)
) ORDER BY offence_date
"""
)
for t in ["cohort", "offences"]:
    con.execute(f"COPY {t} TO '{a.out}/{t}.parquet' (FORMAT parquet)")
    con.execute(f"COPY {t} TO '{a.out}/{t}.csv' (HEADER, DELIMITER ',')")
rows = con.execute("SELECT count(*) FROM offences").fetchone()[0]
print(f"{n} people, {rows} offence rows -> {a.out}")
