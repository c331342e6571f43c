"""Reference for src/stats/staggered.rs: Callaway and Sant'Anna (2021) by the Python
`csdid` package (port of R `did`), defaults except analytic standard errors
(bstrap=False) and pointwise intervals (cband=False): never-treated controls,
base_period="varying", est_method="dr" (without covariates identical to "reg": the simple
2x2 DiD of group means), aggregations "simple" and "dynamic". The static two-way fixed
effects estimate is statsmodels OLS with area and period dummies, errors clustered by area.

Run: /work/venv/bin/python tests/reference/staggered.py  (from the crate root)
writes tests/reference/staggered.json
"""
import json
import os
import sys
import warnings
from importlib.metadata import version

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from csdid.att_gt import ATTgt

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(seed, never, cohorts, periods, slope, noise):
    """Areas 0.. never-treated first, then cohorts {launch: count}; periods 1..periods.
    Effect in period t of an area launched at g: -(1 + slope*(t - g)) for t >= g."""
    rng = np.random.default_rng(seed)
    launches = [0] * never
    for g, count in cohorts.items():
        launches += [g] * count
    n = len(launches)
    alpha = rng.normal(20, 3, n)
    gamma = np.cumsum(rng.normal(0.3, 0.5, periods))
    rows = []
    for i, g in enumerate(launches):
        for t in range(1, periods + 1):
            effect = -(1.0 + slope * (t - g)) if g > 0 and t >= g else 0.0
            y = alpha[i] + gamma[t - 1] + effect + rng.normal(0, noise)
            rows.append({"area": i, "period": t, "launch": g, "y": y, "effect": effect})
    return pd.DataFrame(rows)


def twfe(df):
    d = df.assign(d=((df.launch > 0) & (df.period >= df.launch)).astype(float))
    m = smf.ols("y ~ d + C(area) + C(period)", data=d).fit(
        cov_type="cluster", cov_kwds={"groups": d["area"]})
    return {"estimate": float(m.params["d"]), "se": float(m.bse["d"]),
            "clusters": int(d.area.nunique())}


def cs(df, est_method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = ATTgt(yname="y", tname="period", idname="area", gname="launch", data=df,
                  control_group="nevertreated", cband=False)
        a.fit(est_method=est_method, base_period="varying", bstrap=False)
        r = a.results
        cells = [{"group": int(g), "period": int(t), "att": float(att), "se": float(se)}
                 for g, t, att, se in zip(r["group"], r["year"], r["att"], r["se"])]
        a.aggte(typec="simple", bstrap=False, cband=False)
        simple = a.atte
        a.aggte(typec="dynamic", bstrap=False, cband=False)
        dyn = a.atte
    return cells, simple, dyn


def main():
    cases = []
    specs = [("growing", 11, 8, {3: 8, 6: 7, 9: 7}, 12, 1.0, 0.4),
             ("constant", 5, 12, {4: 6, 8: 6}, 10, 0.0, 1.0)]
    for name, seed, never, cohorts, periods, slope, noise in specs:
        df = generate(seed, never, cohorts, periods, slope, noise)
        cells, simple, dyn = cs(df, "dr")
        cells_reg, _, _ = cs(df, "reg")
        for a, b in zip(cells, cells_reg):
            assert abs(a["att"] - b["att"]) < 1e-10 and abs(a["se"] - b["se"]) < 1e-10
        post = df[(df.launch > 0) & (df.period >= df.launch)]
        # Truth of the "simple" aggregate: every post cell, weighted by cohort size.
        true_simple = float(post.effect.mean())
        wide = df.pivot(index="area", columns="period", values="y")
        case = {
            "name": name,
            "y": wide.to_numpy().tolist(),
            "launch": [int(g) if g > 0 else None for g in df.groupby("area").launch.first()],
            "periods": [int(p) for p in wide.columns],
            "true_simple": true_simple,
            "true_by_time": {str(e): -(1.0 + slope * e) for e in range(periods)},
            "group_time": cells,
            "simple": {"att": float(simple["overall_att"]), "se": float(simple["overall_se"])},
            "dynamic": {"att": float(dyn["overall_att"]), "se": float(dyn["overall_se"]),
                        "event_times": [int(e) for e in dyn["egt"]],
                        "att_e": [float(x) for x in dyn["att_egt"]],
                        "se_e": [float(x) for x in np.ravel(dyn["se_egt"])]},
            "twfe": twfe(df),
        }
        print(name, "simple", case["simple"], "truth", true_simple, "twfe", case["twfe"])
        cases.append(case)
    out = {"source": "csdid ATTgt(control_group='nevertreated', cband=False).fit(est_method='dr', "
                     "base_period='varying', bstrap=False); aggte simple and dynamic with "
                     "bstrap=False; TWFE statsmodels OLS cluster by area",
           "versions": {p: version(p) for p in ["csdid", "drdid", "numpy", "pandas", "statsmodels"]},
           "python": sys.version.split()[0], "cases": cases}
    with open(os.path.join(HERE, "staggered.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
