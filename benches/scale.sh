#!/usr/bin/env bash
# National-scale benchmark: `reoffending rates --by cohort,sex,age_band` beside DuckDB
# running the full rules in SQL (benches/duckdb_full_rules.sql, a copy of
# shared/bench/duckdb_full_rules.sql), on the same generated Parquet and CSV files.
#
#   scripts/setup.sh              # once: DuckDB in .venv-reference, GNU time
#   benches/scale.sh              # 1 million and 10 million people
#   benches/scale.sh 1000000      # one size
#   RUNS=5 ORDER=person benches/scale.sh 1000000
#   HISTORY=4 FLAGS=--only-needed-offences benches/scale.sh 1000000   # growth: longer histories
#
# The offences are written in offence-date order by default, as real extracts arrive
# (ORDER=person keeps each person's rows together). Data are generated once into
# bench-data/<size>-<order>/. Runs alternate between the engines; the median wall time and
# peak memory (maximum resident set size) of each are printed, and the counts of every
# group are checked to agree. HISTORY=k generates histories k times as long (about 3.5x
# the offence rows at 4; bench-data/<size>-<order>-history<k>/); FLAGS are added to our
# command line (e.g. --only-needed-offences); FORMATS=parquet runs one format only.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000000 10000000}")
runs=${RUNS:-3}
order=${ORDER:-offence-date}
history=${HISTORY:-1}
flags=${FLAGS:-}
formats=${FORMATS:-parquet csv}
extract=2023-03-31
py=.venv-reference/bin/python
[ -x "$py" ] || { echo "run scripts/setup.sh first (DuckDB)"; exit 1; }
cargo build --release --quiet
bin=target/release/reoffending
log=$(mktemp)
for n in ${sizes[@]}; do
  dir=bench-data/$n-$order
  [ "$history" = 1 ] || dir=$dir-history$history
  for fmt in $formats; do
    [ -f "$dir/offences.$fmt" ] || $bin generate --persons "$n" --seed 1 --out "$dir" --format "$fmt" --order "$order" --history "$history"
  done
  for fmt in $formats; do
    c=$dir/cohort.$fmt; o=$dir/offences.$fmt
    : > "$log"
    for r in $(seq "$runs"); do
      /usr/bin/time -a -o "$log" -f "ours %e %M" \
        $bin rates --cohort "$c" --offences "$o" --extract-date $extract --by cohort,sex,age_band --format json -o /tmp/ours.json $flags
      /usr/bin/time -a -o "$log" -f "duckdb %e %M" \
        $py benches/duckdb_full_rules.py "$c" "$o" $extract --json /tmp/duckdb.json
    done
    $py - "$log" "$n" "$fmt" "$order" <<'PY'
import json, statistics, sys
log, n, fmt, order = sys.argv[1:]
runs = {"ours": [], "duckdb": []}
for line in open(log):
    parts = line.split()
    if len(parts) == 3 and parts[0] in runs:
        runs[parts[0]].append((float(parts[1]), int(parts[2])))
med = {k: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v) / 1e6) for k, v in runs.items()}
ours = json.load(open("/tmp/ours.json"))["groups"]
duck = json.load(open("/tmp/duckdb.json"))
key = lambda g: (g["cohort"], g["sex"], g["age_band"])
d = {key(g): g for g in duck}
bad = [g for g in ours if g["eligible"] > 0 and (key(g) not in d or d[key(g)]["eligible"] != g["eligible"]
       or d[key(g)]["reoffenders"] != g["reoffenders"] or int(d[key(g)]["reoffences"]) != g["reoffences"])]
missing = [k for k in d if k not in {key(g) for g in ours}]
(ot, om), (dt, dm) = med["ours"], med["duckdb"]
rows = json.load(open("/tmp/ours.json"))["input"]["rows_read"]["offences"]
print(f"{n} people ({rows} offence rows), {fmt}, offences in {order} order, median of {len(runs['ours'])}: "
      f"reoffending {ot:.2f} s {om:.2f} GB | DuckDB full rules {dt:.2f} s {dm:.2f} GB | "
      f"ratio {ot / dt:.2f} | {len(ours)} groups, {len(bad) + len(missing)} differ")
PY
  done
done
