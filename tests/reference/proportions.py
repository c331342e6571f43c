"""Reference values for one-proportion intervals and the exact binomial test.

Produced with statsmodels `proportion_confint` and scipy `binomtest`; the Rust tests in
tests/it/stats_proportion.rs compare against proportions.json.

    python3 tests/reference/proportions.py   # (in the venv made by scripts/setup.sh)
"""
import json
import os

import scipy
import statsmodels
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

cases = [
    (0, 1), (1, 1), (0, 10), (10, 10), (1, 10), (3, 10), (20, 100), (12, 100),
    (27, 100), (80, 400), (55, 300), (1, 1000), (999, 1000), (250, 1234),
    (4567, 20000), (123456, 600000), (5, 7), (2, 60), (60, 60), (17, 61),
]
methods = {"wilson": "wilson", "exact": "beta", "wald": "normal",
           "jeffreys": "jeffreys", "agresti-coull": "agresti_coull"}
out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
       "intervals": [], "binomial_tests": []}
for x, n in cases:
    for conf in (0.95, 0.9):
        for name, sm in methods.items():
            lo, hi = proportion_confint(x, n, alpha=1 - conf, method=sm)
            out["intervals"].append({"x": x, "n": n, "confidence": conf, "method": name,
                                     "low": float(lo), "high": float(hi)})
for x, n in cases:
    for p0 in (0.2, 0.5, 0.05, 0.273):
        r2 = binomtest(x, n, p0, alternative="two-sided").pvalue
        rl = binomtest(x, n, p0, alternative="less").pvalue
        rg = binomtest(x, n, p0, alternative="greater").pvalue
        out["binomial_tests"].append({"x": x, "n": n, "p0": p0, "two_sided": float(r2),
                                      "less": float(rl), "greater": float(rg)})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "proportions.json"), "w") as f:
    json.dump(out, f, indent=1)
