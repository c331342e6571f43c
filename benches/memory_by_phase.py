"""Resident memory by phase of one `reoffending report` run (issue 37: where the peak is).

    python3 benches/memory_by_phase.py bench-data/report-10000000/evaluation.toml

Runs the release binary with REOFFENDING_TRACE=1, samples the process's VmRSS every 0.1 s,
and prints, for each top-level traced phase, the highest resident size seen while it ran
(a phase's line is printed when it ends), then the overall peak. Sampling every 0.1 s can
miss a shorter spike; GNU time's maximum resident set size is the exact peak.
"""
import subprocess
import sys
import threading
import time

config = sys.argv[1] if len(sys.argv) > 1 else "bench-data/report-10000000/evaluation.toml"
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/reoffending"
out = sys.argv[3] if len(sys.argv) > 3 else "/tmp/memory-by-phase"
t0 = time.monotonic()
p = subprocess.Popen(
    [binary, "report", config, "--out", out],
    env={"REOFFENDING_TRACE": "1", "PATH": "/usr/bin:/bin"},
    stdout=subprocess.DEVNULL,
    stderr=subprocess.PIPE,
    text=True,
)
rss = []


def poll():
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS"):
                        rss.append((time.monotonic() - t0, int(line.split()[1]) / 1e6))
        except OSError:
            pass
        time.sleep(0.1)


sampler = threading.Thread(target=poll)
sampler.start()
lines = [(time.monotonic() - t0, line.rstrip()) for line in p.stderr]
sampler.join()
previous = 0.0
for t, line in lines:
    if line.startswith("[trace] ") and not line.startswith("[trace]  "):
        peak = max([r for (s, r) in rss if previous <= s <= t] or [0.0])
        print(f"{t:6.1f} s  peak {peak:.2f} GB  {line[8:].strip()}")
        previous = t
print(f"overall peak {max(r for _, r in rss):.2f} GB, exit {p.returncode}")
