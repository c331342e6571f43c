"""Reference values for the cost-benefit model, computed by hand from its definition.

Writes a small evaluation (tests/fixtures/costs/: cohort, offences with offence types, unit
costs, the sample's GDP deflator, and two evaluation files, one per effect basis) with a
multi-year horizon, persistence, optimism bias and a proven-to-actual ratio, then computes:
- the comparison the costs rest on (scipy Welch interval for reoffences per person;
  statsmodels Newcombe interval for the rate difference), the comparison group's offence
  mix and reoffences per reoffender, counted here from the rows;
- the model: for years y = 0..H-1, avoided crime = people x avoided per person x
  proven-to-actual x value per reoffence x persistence^y x 1.035^-y; savings items in year
  0; costs x (1 + optimism bias); net, benefit-cost ratio, break-even rate reduction,
  payback year and avoided reoffences;
- the Monte Carlo interval with numpy (normal effect, triangular unit costs): 400
  replicate runs of the model's draw count give the mean and spread of the 2.5% and 97.5%
  percentiles and of P(net > 0), so the test can check the tool's seeded run within its
  Monte Carlo error.
Writes costs.json beside this file; tests/it/costs_reference.rs reads it.
Run: .venv-reference/bin/python tests/reference/costs.py
"""
import datetime as dt
import json
import math
import os
import shutil

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

here = os.path.dirname(os.path.abspath(__file__))
fix = os.path.join(here, "..", "fixtures", "costs")
os.makedirs(fix, exist_ok=True)
rng = np.random.default_rng(77)

# The data: 150 diverted, 300 comparison people, all with full follow-up by the extract.
types = {"robbery": (11320, 2015, 8490, 14150), "theft_from_vehicle": (870, 2015, 652, 1088),
         "drug_possession": (0, 2015, 0, 0)}
n_t, n_c = 150, 300
cohort, offences = [], []
counts, kinds = [], []
for i in range(n_t + n_c):
    label = "divert" if i < n_t else "comparison"
    idx = dt.date(2021, 1, 1) + dt.timedelta(days=int(rng.integers(0, 200)))
    cohort.append((f"C{i:03d}", label, idx))
    lam = 0.45 if label == "divert" else 0.7
    k = int(rng.poisson(lam))
    mine = []
    for _ in range(k):
        t = rng.choice(list(types), p=[0.2, 0.5, 0.3])
        o = idx + dt.timedelta(days=int(rng.integers(1, 366)))
        d = o + dt.timedelta(days=int(rng.integers(0, 120)))
        offences.append((f"C{i:03d}", o, d, t))
        mine.append(t)
    counts.append(k)
    kinds.append(mine)
with open(os.path.join(fix, "cohort.csv"), "w") as fh:
    fh.write("person_id,cohort,index_date\n")
    for p, c, d in cohort:
        fh.write(f"{p},{c},{d}\n")
with open(os.path.join(fix, "offences.csv"), "w") as fh:
    fh.write("person_id,offence_date,disposal_date,offence_type\n")
    for p, o, d, t in offences:
        fh.write(f"{p},{o},{d},{t}\n")
with open(os.path.join(fix, "unit_costs.csv"), "w") as fh:
    fh.write("offence_type,value,unit,price_year,source,low,high,category\n")
    for t, (v, y, lo, hi) in types.items():
        fh.write(f"{t},{v},GBP per offence,{y},test figure,{lo},{hi},economic and social\n")
shutil.copy(os.path.join(here, "..", "..", "data-samples", "gdp_deflator.csv"), os.path.join(fix, "gdp_deflator.csv"))
deflator = {}
with open(os.path.join(fix, "gdp_deflator.csv")) as fh:
    next(fh)
    for line in fh:
        y, idx = line.split(",")[:2]
        deflator[int(y)] = float(idx)

CFG = dict(price_year=2023, horizon=3, persistence=0.5, optimism_bias=0.2, p2a=2.0, draws=10000, seed=11)
items = [  # name, kind, quantity, unit, low, high, price year
    ("Officer time", "saving", 4.0, 40.0, 30.0, 55.0, 2023),
    ("Course", "cost", 1.0, 250.0, 150.0, 400.0, 2021),
]
for basis in ["frequency", "rate"]:
    with open(os.path.join(fix, f"evaluation_{basis}.toml"), "w") as fh:
        fh.write(f"""[data]
cohort = "cohort.csv"
offences = "offences.csv"
extract_date = "2023-06-30"

[compare]
treatment = "divert"
control = "comparison"

[costs]
price_year = {CFG['price_year']}
unit_costs = "unit_costs.csv"
deflator = "gdp_deflator.csv"
effect = "{basis}"
proven_to_actual = {CFG['p2a']}
horizon_years = {CFG['horizon']}
persistence = {CFG['persistence']}
optimism_bias = {CFG['optimism_bias']}
draws = {CFG['draws']}
seed = {CFG['seed']}
""")
        for name, kind, q, u, lo, hi, y in items:
            fh.write(f"""
[[costs.items]]
name = "{name}"
kind = "{kind}"
quantity = {q}
unit_cost = {u}
low = {lo}
high = {hi}
price_year = {y}
source = "test figure"
""")

# The comparison the costs rest on.
a = np.array(counts[:n_t], float)
b = np.array(counts[n_t:], float)
welch = stats.ttest_ind(a, b, equal_var=False)
ci = welch.confidence_interval(0.95)
x1, x2 = int((a > 0).sum()), int((b > 0).sum())
rd_lo, rd_hi = confint_proportions_2indep(x1, n_t, x2, n_c, method="newcomb", compare="diff")
rd = x1 / n_t - x2 / n_c
z = stats.norm.ppf(0.975)
mix = {}
for ks in kinds[n_t:]:
    for t in ks:
        mix[t] = mix.get(t, 0) + 1
total = sum(mix.values())
rpr = total / x2
f = lambda y: deflator[CFG["price_year"]] / deflator[y]
type_rows = [(mix[t] / total, types[t][0] * f(types[t][1]), types[t][2] * f(types[t][1]),
              types[t][3] * f(types[t][1])) for t in sorted(mix)]
value = sum(s * v for s, v, _, _ in type_rows)


def model(avoided, value, units):
    gross, cost, yearly = 0.0, 0.0, []
    for y in range(CFG["horizon"]):
        crime = n_t * avoided * CFG["p2a"] * value * CFG["persistence"] ** y / 1.035 ** y
        gross += crime
        yearly.append(crime)
    for (name, kind, q, _, _, _, py), u in zip(items, units):
        v = n_t * q * u * f(py)
        if kind == "saving":
            gross += v
            yearly[0] += v
        else:
            cost += v * (1 + CFG["optimism_bias"])
    yearly[0] -= cost
    return gross, cost, yearly


out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__, "numpy": np.__version__},
       "people": n_t, "value_per_reoffence": value, "reoffences_per_reoffender": rpr, "bases": []}
units = [u for _, _, _, u, _, _, _ in items]
for basis in ["frequency", "rate"]:
    if basis == "frequency":
        avoided, se = -(a.mean() - b.mean()), (ci.high - ci.low) / (2 * z)
    else:
        avoided, se = -rd * rpr, (rd_hi - rd_lo) / (2 * z) * rpr
    gross, cost, yearly = model(avoided, value, units)
    net = gross - cost
    base = model(0.0, value, units)
    one = model(rpr, value, units)
    slope = (one[0] - one[1]) - (base[0] - base[1])
    cum, payback = 0.0, None
    for y, v in enumerate(yearly):
        cum += v
        if cum > 0 and payback is None:
            payback = y
    # Monte Carlo, independently: numpy's generator, replicated to measure its error.
    reps = []
    sim = np.random.default_rng(2026)
    for _ in range(400):
        N = CFG["draws"]
        eff = sim.normal(avoided, se, N)
        val = sum(s * sim.triangular(l, m, h, N) if h > l else s * m * np.ones(N) for s, m, l, h in type_rows)
        us = [sim.triangular(lo, u, hi, N) for _, _, _, u, lo, hi, _ in items]
        nets = np.empty(N)
        for y in range(CFG["horizon"]):
            nets_y = n_t * eff * CFG["p2a"] * val * CFG["persistence"] ** y / 1.035 ** y
            nets = nets_y if y == 0 else nets + nets_y
        for (name, kind, q, _, _, _, py), u in zip(items, us):
            v = n_t * q * u * f(py)
            nets = nets + v if kind == "saving" else nets - v * (1 + CFG["optimism_bias"])
        reps.append((np.percentile(nets, 2.5), np.percentile(nets, 97.5), float((nets > 0).mean())))
    reps = np.array(reps)
    out["bases"].append({
        "effect": basis, "avoided_per_person": avoided, "avoided_se": se,
        "avoided_reoffences": n_t * avoided * CFG["p2a"] * sum(CFG["persistence"] ** y for y in range(CFG["horizon"])),
        "gross_savings": gross, "programme_cost": cost, "net_savings": net,
        "benefit_cost_ratio": gross / cost, "break_even_rate_reduction": -(base[0] - base[1]) / slope if slope > 0 else None,
        "payback_year": payback,
        "mc_ci_low": [float(reps[:, 0].mean()), float(reps[:, 0].std(ddof=1))],
        "mc_ci_high": [float(reps[:, 1].mean()), float(reps[:, 1].std(ddof=1))],
        "mc_probability_net_positive": [float(reps[:, 2].mean()), float(reps[:, 2].std(ddof=1))],
    })

with open(os.path.join(here, "costs.json"), "w") as fh:
    json.dump(out, fh, indent=1)
