#!/usr/bin/env bash
# National-scale benchmark: `reoffending rates --by cohort,sex,age_band` beside DuckDB
# running the full rules in SQL (benches/duckdb_full_rules.sql, a copy of
# shared/bench/duckdb_full_rules.sql), on the same generated Parquet and CSV files.
#
#   scripts/setup.sh              # once: DuckDB in .venv-reference, GNU time
#   benches/scale.sh              # 1 million and 10 million people
#   benches/scale.sh 1000000      # one size
#   RUNS=5 ORDER=person benches/scale.sh 1000000
#   HISTORY=4 benches/scale.sh 1000000   # growth: longer histories
#   SHAPES="generator measure" benches/scale.sh 1000000   # parity table: both shapes (issue 37)
#   PY=/tmp/duckvenv/bin/python BIN=/tmp/reoffending-before benches/scale.sh 1000000
#
# The offences are written in offence-date order by default, as real extracts arrive
# (ORDER=person keeps each person's rows together). Data are generated once into
# bench-data/<size>-<order>/. Runs alternate between the engines; the median wall time and
# peak memory (maximum resident set size) of each are printed, and the counts of every
# group are checked to agree. HISTORY=k generates histories k times as long (about 3.5x
# the offence rows at 4; bench-data/<size>-<order>-history<k>/); FLAGS are added to our
# command line (e.g. --keep-all-offences); FORMATS=parquet runs one format only.
# SHAPES picks the extracts: `generator` (the default: the project's generator, extract date
# 2023-03-31) and `measure` (benches/measure_shape.py, written with DuckDB independently of
# the generator: index dates spread over the ten years before the extract date 2025-06-30,
# so most people are in the measure; offences in offence-date order; bench-data/<size>-measure/).
# PY is the Python with DuckDB (default .venv-reference/bin/python), BIN another build of ours.
# Each line ends with the load average before the pair of runs and after it, so a busy
# machine shows.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000000 10000000}")
runs=${RUNS:-3}
order=${ORDER:-offence-date}
history=${HISTORY:-1}
flags=${FLAGS:-}
formats=${FORMATS:-parquet csv}
shapes=${SHAPES:-generator}
py=${PY:-.venv-reference/bin/python}
[ -x "$py" ] || { echo "run scripts/setup.sh first (DuckDB), or give PY"; exit 1; }
if [ -n "${BIN:-}" ]; then bin=$BIN; else cargo build --release --quiet; bin=target/release/reoffending; fi
log=$(mktemp)
for n in ${sizes[@]}; do
 for shape in $shapes; do
  if [ "$shape" = measure ]; then
    extract=2025-06-30
    dir=bench-data/$n-measure
    [ -f "$dir/offences.csv" ] || $py benches/measure_shape.py "$n" "$dir"
    shown=measure
  else
    extract=2023-03-31
    dir=bench-data/$n-$order
    [ "$history" = 1 ] || dir=$dir-history$history
    for fmt in $formats; do
      [ -f "$dir/offences.$fmt" ] || $bin generate --persons "$n" --seed 1 --out "$dir" --format "$fmt" --order "$order" --history "$history"
    done
    shown="generator, $order order"
  fi
  for fmt in $formats; do
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    c=$dir/cohort.$fmt; o=$dir/offences.$fmt
    : > "$log"
    for r in $(seq "$runs"); do
      /usr/bin/time -a -o "$log" -f "ours %e %M" \
        $bin rates --cohort "$c" --offences "$o" --extract-date $extract --by cohort,sex,age_band --format json -o /tmp/ours.json $flags
      /usr/bin/time -a -o "$log" -f "duckdb %e %M" \
        $py benches/duckdb_full_rules.py "$c" "$o" $extract --json /tmp/duckdb.json
    done
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    $py - "$log" "$n" "$fmt" "$shown" "$load_before" "$load_after" <<'PY'
import json, statistics, sys
log, n, fmt, order, load_before, load_after = sys.argv[1:]
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
every = lambda k: " ".join(f"{t:.2f}" for t, _ in runs[k])
print(f"{n} people ({rows} offence rows), {fmt}, {order}, median of {len(runs['ours'])}: "
      f"reoffending {ot:.2f} s {om:.2f} GB | DuckDB full rules {dt:.2f} s {dm:.2f} GB | "
      f"ratio {ot / dt:.2f} | {len(ours)} groups, {len(bad) + len(missing)} differ | "
      f"runs: ours {every('ours')}, DuckDB {every('duckdb')} | load {load_before} -> {load_after}")
PY
  done
 done
done
