#!/usr/bin/env bash
# The whole evaluation at scale: `reoffending report` (matching, effect, survival with Cox,
# monitoring, costs with Monte Carlo, did, the disclosure gate, charts, PNG, the workbook)
# on people from the project's generator, with the sample's evaluation file pointed at them.
#
#   benches/report_scale.sh                  # 1 million and 10 million people
#   benches/report_scale.sh 1000000          # one size
#   RUNS=1 benches/report_scale.sh 10000000  # one run (10 M: about 4 GB and minutes)
#   BIN=/tmp/reoffending-before benches/report_scale.sh 1000000   # another build, same data
#
# Data: `generate --persons N --seed 7 --pilot-share 0.05 --forces 24 --format parquet`, once,
# into bench-data/report-<N>/. `--forces 24` gives the cohort the `force` column the sample's
# [did] section reads (without it `report` stops: no column `force`); everything else of
# data-samples/evaluation.toml is kept, with the cohort, offences, unit costs and deflator
# paths made absolute. Each run is `report` with REOFFENDING_TRACE=1 under GNU time
# (`/usr/bin/time -v`); printed: wall time and peak memory (maximum resident set size) of
# each run and their medians, and each traced phase's median time (indented phases are
# parts of the phase below them).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000000 10000000}")
runs=${RUNS:-3}
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): run scripts/setup.sh"; exit 1; }
if [ -n "${BIN:-}" ]; then bin=$(realpath "$BIN"); else cargo build --release --quiet; bin=$PWD/target/release/reoffending; fi
for n in ${sizes[@]}; do
  dir=$PWD/bench-data/report-$n
  [ -f "$dir/offences.parquet" ] || $bin generate --persons "$n" --seed 7 --pilot-share 0.05 \
    --forces 24 --format parquet --out "$dir" > /dev/null
  sed -e "s|^cohort = .*|cohort = \"$dir/cohort.parquet\"|" \
      -e "s|^offences = .*|offences = \"$dir/offences.parquet\"|" \
      -e "s|^unit_costs = .*|unit_costs = \"$PWD/data-samples/unit_costs.csv\"|" \
      -e "s|^deflator = .*|deflator = \"$PWD/data-samples/gdp_deflator.csv\"|" \
      data-samples/evaluation.toml > "$dir/evaluation.toml"
  logs=()
  for r in $(seq "$runs"); do
    log=$dir/run$r.log
    REOFFENDING_TRACE=1 /usr/bin/time -v -o "$log.time" \
      "$bin" report "$dir/evaluation.toml" --out "$dir/report" > /dev/null 2> "$log"
    cat "$log.time" >> "$log"
    logs+=("$log")
  done
  python3 - "$n" "${logs[@]}" <<'PY'
import re, statistics, sys
n, logs = sys.argv[1], sys.argv[2:]
walls, rss, users, phases, order = [], [], [], {}, []
for path in logs:
    seen = {}
    for line in open(path):
        m = re.match(r"\[trace\] (\s*)(.*?)\s+([0-9.]+) s$", line.rstrip("\n"))
        if m:
            key = (m.group(1), m.group(2))
            k = seen.get(key, 0)
            seen[key] = k + 1
            key = key + (k,)
            if key not in phases:
                phases[key] = []
                order.append(key)
            phases[key].append(float(m.group(3)))
        elif "Elapsed (wall clock)" in line:
            t = line.split(": ", 1)[1].strip().split(":")
            walls.append(sum(float(x) * 60 ** i for i, x in enumerate(reversed(t))))
        elif "Maximum resident set size" in line:
            rss.append(int(line.split(":")[1]) / 1e6)
        elif "User time" in line:
            users.append(float(line.split(":")[1]))
print(f"{n} people, {len(logs)} run(s): wall " + ", ".join(f"{w:.2f}" for w in walls)
      + f" s (median {statistics.median(walls):.2f} s); peak memory "
      + ", ".join(f"{m:.2f}" for m in rss) + f" GB (median {statistics.median(rss):.2f} GB); "
      + f"user time median {statistics.median(users):.1f} s")
print("phase (median s):")
for key in order:
    indent, name, k = key
    label = name if k == 0 else f"{name} [{k + 1}]"
    print(f"  {indent}{label:<{50 - len(indent)}} {statistics.median(phases[key]):8.3f}")
PY
done
