#!/usr/bin/env bash
# What reading an extract as delivered costs beside plain CSV (issue 35: no more than
# twice): `reoffending rates --by cohort` on one generated extract written five ways,
#
#   csv       cohort.csv      offences.csv        (the reference)
#   xlsx      cohort.xlsx     offences.csv        (the cohort as a workbook)
#   csv.gz    cohort.csv.gz   offences.csv.gz
#   csv.zst   cohort.csv.zst  offences.csv.zst
#   xlsx+gz   cohort.xlsx     offences.csv.gz     (as a force would send it)
#
#   benches/extract_formats.sh              # 1 million people, 5 runs of each
#   RUNS=9 benches/extract_formats.sh 200000
#   BIN=/path/to/other/reoffending benches/extract_formats.sh   # time another build
#
# The extract is generated once into bench-data/formats-<n>/ (`reoffending generate --seed
# 1`); the workbook (dates as date cells, numbers as numbers, text as shared strings) and
# the compressed files are written by the ignored test `as_delivered::bench_files`. Runs
# go round the five cases in turn, so a busy machine slows each alike; per case it prints
# the median wall time, the median CPU time (user + system, steadier on a shared machine),
# the median peak memory, and both times as a multiple of plain CSV's, and it checks that
# every case gives the same groups and exclusions.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${RUNS:-5}
cargo build --release --quiet
bin=${BIN:-target/release/reoffending}
dir=bench-data/formats-$n
[ -f "$dir/offences.csv" ] || target/release/reoffending generate --persons "$n" --seed 1 --out "$dir"
[ -f "$dir/offences.csv.zst" ] ||
  BENCH_DIR="$dir" cargo test --release --quiet --test it as_delivered::bench_files -- --ignored >/dev/null
cases=("csv cohort.csv offences.csv" "xlsx cohort.xlsx offences.csv"
       "csv.gz cohort.csv.gz offences.csv.gz" "csv.zst cohort.csv.zst offences.csv.zst"
       "xlsx+gz cohort.xlsx offences.csv.gz")
out=$(mktemp -d)
log=$out/times
for r in $(seq "$runs"); do
  for c in "${cases[@]}"; do
    set -- $c
    /usr/bin/time -a -o "$log" -f "$1 %e %U %S %M" \
      "$bin" rates --cohort "$dir/$2" --offences "$dir/$3" --extract-date 2023-03-31 \
      --by cohort --format json -o "$out/$1.json" 2>>"$out/stderr"
  done
done
python3 - "$out" "$n" "$runs" <<'PY'
import json, statistics, sys
out, n, runs = sys.argv[1:]
order = ["csv", "xlsx", "csv.gz", "csv.zst", "xlsx+gz"]
t = {k: [] for k in order}
for line in open(f"{out}/times"):
    k, wall, user, sys_, rss = line.split()
    t[k].append((float(wall), float(user) + float(sys_), int(rss) / 1e6))
med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in t.items()}
figures = {}
for k in order:
    j = json.load(open(f"{out}/{k}.json"))
    figures[k] = json.dumps([j["groups"], j["input"]["rows_read"], j["input"]["rows_used"],
                             [(e["table"], e["reason"], e["rows"]) for e in j["input"]["exclusions"]]])
rows = json.load(open(f"{out}/csv.json"))["input"]["rows_read"]
print(f"{n} people ({rows['cohort']} cohort rows, {rows['offences']} offence rows), "
      f"rates --by cohort, median of {runs} runs:")
w0, c0, _ = med["csv"]
for k in order:
    w, c, m = med[k]
    same = "same figures" if figures[k] == figures["csv"] else "FIGURES DIFFER"
    print(f"  {k:8} wall {w:6.2f} s ({w / w0:.2f}x)  cpu {c:6.2f} s ({c / c0:.2f}x)  peak {m:.2f} GB  {same}")
PY
rm -r "$out"
