"""Reference values for two-group comparisons, Welch's test, power and p-value adjustment.

statsmodels: confint_proportions_2indep, proportions_ztest, normal_sample_size_one_tail
(+ the standard deviations of samplesize_proportions_2indep_onetail), multipletests;
scipy: chi2_contingency, fisher_exact, ttest_ind(equal_var=False).
Writes compare.json beside this file; tests/it/stats_compare.rs reads it.
"""
import json
import math
import os
import warnings

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import normal_sample_size_one_tail
from statsmodels.stats.proportion import (_std_2prop_power, confint_proportions_2indep,
                                          proportions_ztest)

warnings.simplefilter("ignore")


def num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def attempt(f):
    try:
        return f()
    except Exception:
        return None


tables = [(30, 150, 60, 200), (200, 1000, 260, 1000), (0, 50, 10, 60), (50, 50, 40, 60),
          (3, 7, 1, 9), (1, 2, 0, 3), (120, 600, 2400, 9000), (5, 61, 9, 70), (17, 61, 17, 61),
          (20000, 100000, 26000, 100000), (12, 100, 20, 100), (0, 10, 3, 10), (10, 10, 7, 10),
          (45, 300, 52, 310), (7, 80, 0, 75)]
out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
       "tables": [], "welch": [], "power_one": [], "power_two": [], "adjust": []}
for x1, n1, x2, n2 in tables:
    r = {"x1": x1, "n1": n1, "x2": x2, "n2": n2}
    for name, compare, method in [("rd_newcombe", "diff", "newcomb"), ("rd_wald", "diff", "wald"),
                                  ("rr_log", "ratio", "log"), ("or_woolf", "odds-ratio", "logit")]:
        ci = attempt(lambda: confint_proportions_2indep(x1, n1, x2, n2, method=method, compare=compare))
        r[name] = [num(ci[0]), num(ci[1])] if ci is not None else None
    z = attempt(lambda: proportions_ztest([x1, x2], [n1, n2]))
    r["z_pooled"] = [num(z[0]), num(z[1])] if z is not None else None
    t = [[x1, n1 - x1], [x2, n2 - x2]]
    for name, corr in [("chi_square", False), ("chi_square_yates", True)]:
        c = attempt(lambda: stats.chi2_contingency(t, correction=corr))
        r[name] = [num(c[0]), num(c[1])] if c is not None else None
    f = stats.fisher_exact(t)
    r["fisher_p"] = num(f[1])
    out["tables"].append(r)

rng = np.random.default_rng(20261127)
for n1, n2, m1, m2 in [(30, 40, 0.5, 0.7), (200, 180, 1.2, 1.0), (5, 9, 0.2, 0.9), (1000, 3000, 0.55, 0.61)]:
    a = rng.poisson(m1, n1).astype(float)
    b = rng.poisson(m2, n2).astype(float)
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(0.95)
    out["welch"].append({"a": a.tolist(), "b": b.tolist(), "statistic": num(res.statistic),
                         "p_value": num(res.pvalue), "df": num(res.df),
                         "ci_low": num(ci.low), "ci_high": num(ci.high)})

for p0, p1, alpha, power in [(0.2, 0.15, 0.05, 0.8), (0.2, 0.25, 0.05, 0.9), (0.3, 0.2, 0.01, 0.8),
                             (0.05, 0.02, 0.05, 0.8), (0.5, 0.45, 0.1, 0.95)]:
    n = normal_sample_size_one_tail(p1 - p0, power, alpha / 2, std_null=math.sqrt(p0 * (1 - p0)),
                                    std_alternative=math.sqrt(p1 * (1 - p1)))
    out["power_one"].append({"p0": p0, "p1": p1, "alpha": alpha, "power": power, "n": float(n)})

for p1, p2, alpha, power, ratio in [(0.15, 0.2, 0.05, 0.8, 1.0), (0.25, 0.2, 0.05, 0.9, 1.0),
                                    (0.2, 0.28, 0.05, 0.8, 4.0), (0.1, 0.12, 0.01, 0.8, 0.5),
                                    (0.4, 0.3, 0.05, 0.8, 2.5)]:
    _, sn, sa = _std_2prop_power(p1 - p2, p2, ratio=ratio, alpha=alpha / 2)
    n = normal_sample_size_one_tail(p1 - p2, power, alpha / 2, std_null=sn, std_alternative=sa)
    out["power_two"].append({"p1": p1, "p2": p2, "alpha": alpha, "power": power, "ratio": ratio,
                             "n1": float(n)})

for ps in [[0.01, 0.04, 0.03, 0.2], [0.001, 0.5, 0.049, 0.051, 0.02], [0.3], [0.04, 0.04, 0.04]]:
    out["adjust"].append({"p": ps, "holm": multipletests(ps, method="holm")[1].tolist(),
                          "bh": multipletests(ps, method="fdr_bh")[1].tolist()})

# Other confidence levels: the same intervals at 90% and 99%, and Welch's.
out["levels"] = []
for x1, n1, x2, n2 in [(30, 150, 60, 200), (5, 61, 9, 70), (45, 300, 52, 310), (0, 50, 10, 60)]:
    for conf in [0.90, 0.99]:
        r = {"x1": x1, "n1": n1, "x2": x2, "n2": n2, "confidence": conf}
        for name, compare, method in [("rd_newcombe", "diff", "newcomb"), ("rd_wald", "diff", "wald"),
                                      ("rr_log", "ratio", "log"), ("or_woolf", "odds-ratio", "logit")]:
            ci = attempt(lambda: confint_proportions_2indep(x1, n1, x2, n2, method=method, compare=compare,
                                                             alpha=1 - conf))
            r[name] = [num(ci[0]), num(ci[1])] if ci is not None else None
        out["levels"].append(r)
for w in out["welch"]:
    res = stats.ttest_ind(w["a"], w["b"], equal_var=False)
    for conf in [0.90, 0.99]:
        ci = res.confidence_interval(conf)
        w[f"ci_{int(conf * 100)}"] = [num(ci.low), num(ci.high)]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare.json"), "w") as fh:
    json.dump(out, fh, indent=1)
