#!/usr/bin/env bash
# Does memory grow with people or with offence rows? The same people with normal and about
# four times longer criminal histories, `rates --by cohort,sex,age_band` and the whole
# `report` of the sample's evaluation file, by default (offences no analysis reads dropped as
# read) and with every offence kept (`--keep-all-offences`, `keep_all_offences = true`).
#
#   benches/memory_growth.sh                 # 1 M people, 3 runs of each
#   RUNS=1 benches/memory_growth.sh 200000   # another size, one run
#   BIN=/tmp/reoffending-before benches/memory_growth.sh   # another build (its flags must exist)
#
# Data: `generate --persons N --seed 7 --pilot-share 0.05 --forces 24 --format parquet
# --history H` for H = 1 and 4, once, into bench-data/mem-<N>-h<H>/ (`--forces 24` gives the
# `force` column the sample's [did] section reads). Each run is under GNU time
# (`/usr/bin/time -v`); printed per command and mode: the median peak memory (maximum
# resident set size) and wall time at each history length, and their growth (the issue's
# target: 3.9 times the offence rows at most 1.5 times the peak memory, by default).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${RUNS:-3}
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): run scripts/setup.sh"; exit 1; }
if [ -n "${BIN:-}" ]; then bin=$(realpath "$BIN"); else cargo build --release --quiet; bin=$PWD/target/release/reoffending; fi
log=$(mktemp)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for h in 1 4; do
  dir=$PWD/bench-data/mem-$n-h$h
  [ -f "$dir/offences.parquet" ] || $bin generate --persons "$n" --seed 7 --pilot-share 0.05 \
    --forces 24 --format parquet --history "$h" --out "$dir" > /dev/null
  for mode in default all; do
    extra=""; [ $mode = all ] && extra="keep_all_offences = true"
    sed -e "s|^cohort = .*|cohort = \"$dir/cohort.parquet\"|" \
        -e "s|^offences = .*|offences = \"$dir/offences.parquet\"\n$extra|" \
        -e "s|^unit_costs = .*|unit_costs = \"$PWD/data-samples/unit_costs.csv\"|" \
        -e "s|^deflator = .*|deflator = \"$PWD/data-samples/gdp_deflator.csv\"|" \
        data-samples/evaluation.toml > "$dir/evaluation-$mode.toml"
  done
done
for r in $(seq "$runs"); do
  for h in 1 4; do
    dir=$PWD/bench-data/mem-$n-h$h
    for mode in default all; do
      flag=""; [ $mode = all ] && flag="--keep-all-offences"
      /usr/bin/time -a -o "$log" -f "rates $mode $h %e %M" \
        "$bin" rates --cohort "$dir/cohort.parquet" --offences "$dir/offences.parquet" \
        --by cohort,sex,age_band --format json -o "$dir/rates-$mode.json" $flag
      /usr/bin/time -a -o "$log" -f "report $mode $h %e %M" \
        "$bin" report "$dir/evaluation-$mode.toml" --out "$dir/report-$mode" > /dev/null 2>&1
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$log" "$n" "$PWD/bench-data/mem-$n-h1" "$PWD/bench-data/mem-$n-h4" <<'PY'
import json, statistics, sys
log, n, d1, d4 = sys.argv[1:]
runs = {}
for line in open(log):
    cmd, mode, h, t, m = line.split()
    runs.setdefault((cmd, mode, h), []).append((float(t), int(m) / 1e6))
rows = {h: json.load(open(f"{d}/rates-default.json"))["input"]["rows_read"]["offences"] for h, d in (("1", d1), ("4", d4))}
# Every figure the same whichever rows are kept.
for d in (d1, d4):
    a, b = (json.load(open(f"{d}/rates-{m}.json")) for m in ("default", "all"))
    assert a == b, f"{d}: rates differ"
    a, b = (open(f"{d}/report-{m}/report.md").read() for m in ("default", "all"))
    assert a == b, f"{d}: report.md differs"
print(f"{n} people; offence rows {rows['1']} and {rows['4']} ({rows['4'] / rows['1']:.2f}x); "
      f"rates and report.md identical in both modes")
for cmd in ("rates", "report"):
    for mode in ("default", "all"):
        med = {h: (statistics.median(t for t, _ in runs[(cmd, mode, h)]),
                   statistics.median(m for _, m in runs[(cmd, mode, h)])) for h in ("1", "4")}
        (t1, m1), (t4, m4) = med["1"], med["4"]
        print(f"{cmd:7} {mode:8} history 1: {t1:6.2f} s {m1:5.2f} GB | history 4: {t4:6.2f} s {m4:5.2f} GB | "
              f"growth {t4 / t1:.2f}x time, {m4 / m1:.2f}x memory (median of {len(runs[(cmd, mode, '1')])})")
PY
