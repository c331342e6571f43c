#!/usr/bin/env bash
# National-scale benchmark: `reoffending rates --by cohort,sex,age_band` beside DuckDB
# running the same rules in SQL (benches/rates.sql), on generated Parquet and CSV.
#
#   scripts/setup.sh            # once: DuckDB in .venv-reference
#   benches/scale.sh            # 1 million and 10 million people
#   benches/scale.sh 1000000    # one size
#
# Data are generated once into bench-data/ (about 4 GB at 10 million people). Prints wall
# time and peak memory (maximum resident set size) of each run, and checks that both
# engines give the same counts.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000000 10000000}")
py=.venv-reference/bin/python
[ -x "$py" ] || { echo "run scripts/setup.sh first (DuckDB)"; exit 1; }
cargo build --release --quiet
bin=target/release/reoffending
for n in ${sizes[@]}; do
  dir=bench-data/$n
  for fmt in parquet csv; do
    [ -f "$dir/offences.$fmt" ] || $bin generate --persons "$n" --seed 1 --out "$dir" --format "$fmt"
  done
  for fmt in parquet csv; do
    c=$dir/cohort.$fmt; o=$dir/offences.$fmt
    /usr/bin/time -f "reoffending $n $fmt: %e s, peak %M KB" \
      $bin rates --cohort "$c" --offences "$o" --by cohort,sex,age_band --format json -o /tmp/ours.json
    /usr/bin/time -f "duckdb      $n $fmt: %e s, peak %M KB" \
      $py benches/duckdb_rates.py "$c" "$o" --json /tmp/duckdb.json >/dev/null
    $py - <<'PY'
import json
ours = json.load(open("/tmp/ours.json"))["groups"]
duck = json.load(open("/tmp/duckdb.json"))
key = lambda g: (g["cohort"], g["sex"], g["age_band"])
d = {key(g): g for g in duck}
bad = [g for g in ours if key(g) not in d or d[key(g)]["eligible"] != g["eligible"]
       or d[key(g)]["reoffenders"] != g["reoffenders"] or int(d[key(g)]["reoffences"]) != g["reoffences"]]
print(f"  {len(ours)} groups, {len(bad)} differ from DuckDB")
PY
  done
done
