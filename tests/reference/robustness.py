"""Reference values for the robustness checks (issue: how robust is the finding?).

- Rosenbaum bounds for 1:1 matched pairs with a binary outcome: the upper bound on the
  one-sided p-value is P(Binomial(D, Gamma / (1 + Gamma)) >= T), computed with
  scipy.stats.binom.sf(T - 1, D, Gamma / (1 + Gamma)); the Gamma at which it reaches
  alpha by scipy.optimize.brentq on the same function.
- E-values (VanderWeele and Ding 2017), written out from the formula independently of
  the Rust code: E = RR + sqrt(RR (RR - 1)), RR inverted below 1; the interval limit
  closest to 1, and 1 when the interval includes 1.

Writes robustness.json beside this file; tests/it/robustness.rs reads it.
Run: .venv-reference/bin/python tests/reference/robustness.py
"""
import json
import math
import os

import scipy
from scipy.optimize import brentq
from scipy.stats import binom

ALPHA = 0.05
CASES = [  # (treated_only, control_only): discordant pairs
    (10, 25), (25, 10), (3, 4), (0, 12), (40, 60), (120, 170), (7, 30), (1, 1), (50, 50),
    (0, 0), (200, 263),
]

def p_upper(d, t, g):
    if t == 0:
        return 1.0
    return float(binom.sf(t - 1, d, g / (1 + g)))

rosen = []
for a, b in CASES:
    d = a + b
    t = max(a, b)
    gammas = [1 + k / 10 for k in range(21)]
    ps = [p_upper(d, t, g) for g in gammas]
    if d == 0:
        g_alpha = None
    elif p_upper(d, t, 1.0) >= ALPHA:
        g_alpha = 1.0
    else:
        g_alpha = brentq(lambda g: p_upper(d, t, g) - ALPHA, 1.0, 1e6, xtol=1e-12)
    rosen.append({"treated_only": a, "control_only": b, "gammas": gammas, "p_upper": ps,
                  "gamma_at_alpha": g_alpha})

def e_of(rr):
    r = 1 / rr if rr < 1 else rr
    return r + math.sqrt(r * (r - 1))

E_CASES = [  # (rr, low, high)
    (3.9, 1.8, 8.7), (0.62, 0.45, 0.85), (0.8, 0.6, 1.1), (1.3, 0.9, 1.9), (1.0, 0.7, 1.4),
    (2.5, 1.2, 5.0), (0.25, 0.1, 0.6), (1.05, 1.01, 1.09),
]
evalues = []
for rr, lo, hi in E_CASES:
    if lo <= 1 <= hi:
        lim = 1.0
    elif rr > 1:
        lim = e_of(lo)
    else:
        lim = e_of(hi)
    evalues.append({"rr": rr, "low": lo, "high": hi, "estimate": e_of(rr), "interval_limit": lim})

out = {"scipy": scipy.__version__, "alpha": ALPHA, "rosenbaum": rosen, "e_values": evalues}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "robustness.json"), "w") as fh:
    json.dump(out, fh, indent=1)
