"""Reference values for area-wide difference-in-differences (src/stats/did.rs).

Person-level panels are simulated (seeded numpy), then fitted on the people, never on cells:

- Two-way fixed effects: statsmodels OLS `y ~ D + C(area) + C(period)` (plus covariates in
  one case) with cov_type='cluster', groups = area, use_correction=True, df_correction=True,
  use_t=True: CR1 `G/(G-1)·(N-1)/(N-K)` with K the number of columns of the design, t with
  G-1 df (statsmodels sets `df_resid_inference = n_groups - 1`). Interval `conf_int(0.05)`.
- Event study: `y ~ rel_* + C(area) + C(period)`, one indicator per period relative to
  launch (relative period -1 left out), same covariance; pre-trend test
  `f_test(pre-launch indicators = 0)`: F = W / q with the cluster covariance, denominator
  df `df_resid_inference` = G - 1 (statsmodels base/model.py, wald_test with use_f=True).
- Wild cluster restricted bootstrap: `wildboottest.wildboottest(model, B=9999,
  cluster=area, param='D', weights_type=..., impose_null=True, bootstrap_type='11')`:
  two-tailed p = mean(|t| < |t*|) over the replications (strict), full enumeration of the
  2^G Rademacher sign vectors when 2^G < B (wildboottest 0.3.2 `get_weights`). The
  enumerated case also records the bootstrap t's computed by the WildboottestCL class itself
  (same steps as the wrapper) and how many of them tie |t| to 1e-9 (the sign vectors +1 and
  -1 reproduce the sample exactly, so |t*| = |t| mathematically for those two).
- Placebo in space: treated areas dropped; each comparison area in turn treated from the
  (earliest) launch period; statsmodels OLS refitted per placebo;
  p = (1 + #{|placebo| >= |actual|}) / (1 + G_c).

Writes did.json beside this file (cells only: the Rust tests aggregate nothing).
Run: /work/venv/bin/python tests/reference/did.py
"""
import json
import os
import platform
import warnings

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.formula.api as smf
import wildboottest as wbt_pkg
from wildboottest.wildboottest import WildboottestCL, wildboottest

try:
    from importlib.metadata import version
except ImportError:  # pragma: no cover
    version = None

warnings.filterwarnings("ignore")
B = 9999
SEED = 20240611


def simulate(rng, n_areas, n_periods, launches, effect, mean_n, drop=(), covariates=False):
    """One person per row: area, period, binary y, count y, optional covariates."""
    rows = []
    base = rng.normal(0.30, 0.06, n_areas)
    size = rng.integers(int(mean_n * 0.5), int(mean_n * 1.5), n_areas)
    trend = rng.normal(0.0, 0.015, n_periods).cumsum()
    for a in range(n_areas):
        for t in range(n_periods):
            if (a, t) in drop:
                continue
            n = int(rng.poisson(size[a]))
            if n == 0:
                continue
            d = 1.0 if (a in launches and t >= launches[a]) else 0.0
            p = base[a] + trend[t] + 0.0008 * a * t / n_periods + effect * d
            age = rng.normal(30, 8, n)
            prior = rng.poisson(1.5, n).astype(float)
            if covariates:
                p = p + 0.004 * (age - 30) + 0.03 * (prior - 1.5)
            p = np.clip(p, 0.02, 0.95)
            yb = (rng.random(n) < p).astype(float)
            yf = rng.poisson(p * 2.2, n).astype(float)
            rows.append(pd.DataFrame({"area": a, "period": t, "D": d, "yb": yb, "yf": yf,
                                      "age": age, "prior": prior}))
    return pd.concat(rows, ignore_index=True)


def cells_of(df, outcomes, covs):
    out = []
    for (a, t), g in df.groupby(["area", "period"], sort=True):
        c = {"area": int(a), "period": int(t), "people": float(len(g))}
        for o in outcomes:
            c[o] = {"sum_y": float(g[o].sum()), "sum_y2": float((g[o] ** 2).sum())}
        if covs:
            c["sum_x"] = [float(g[x].sum()) for x in covs]
        out.append(c)
    return out


def area_covariate_stats(df, outcomes, covs):
    out = []
    for a, g in df.groupby("area", sort=True):
        X = g[covs].to_numpy()
        d = {"area": int(a), "xx": (X.T @ X).tolist()}
        for o in outcomes:
            d["xy_" + o] = (X.T @ g[o].to_numpy()).tolist()
        out.append(d)
    return out


def fit_cluster(formula, df):
    return smf.ols(formula, data=df).fit(
        cov_type="cluster",
        cov_kwds={"groups": df["area"].to_numpy(), "use_correction": True, "df_correction": True},
        use_t=True,
    )


def term(res, name):
    ci = res.conf_int(alpha=0.05).loc[name]
    return {"estimate": float(res.params[name]), "se": float(res.bse[name]),
            "t": float(res.tvalues[name]), "p_value": float(res.pvalues[name]),
            "ci_low": float(ci[0]), "ci_high": float(ci[1])}


def rel_name(r):
    return f"rel_m{-r}" if r < 0 else f"rel_p{r}"


def event_study(df, launches, rhs_extra):
    df = df.copy()
    rel = np.full(len(df), np.nan)
    for a, L in launches.items():
        m = df["area"].to_numpy() == a
        rel[m] = df["period"].to_numpy()[m] - L
    present = sorted({int(r) for r in rel[~np.isnan(rel)]} - {-1})
    for r in present:
        df[rel_name(r)] = (rel == r).astype(float)
    formula = "y ~ " + " + ".join(rel_name(r) for r in present) + " + C(area) + C(period)" + rhs_extra
    res = fit_cluster(formula, df)
    common = len(set(launches.values())) == 1
    L0 = next(iter(launches.values()))
    coefs = []
    for r in present:
        t = term(res, rel_name(r))
        t["relative_period"] = r
        t["period"] = (L0 + r) if common else None
        coefs.append(t)
    pre = [rel_name(r) for r in present if r < -1]
    pre_trend = None
    if pre:
        ft = res.f_test(", ".join(f"{p} = 0" for p in pre))
        pre_trend = {"statistic": float(np.squeeze(ft.fvalue)), "df_num": float(ft.df_num),
                     "df_den": float(ft.df_denom), "p_value": float(np.squeeze(ft.pvalue))}
    return {"k": int(res.model.exog.shape[1]), "coefficients": coefs, "pre_trend": pre_trend}


def wild(df, rhs_extra, weights_type, seed):
    model = smf.ols("y ~ D + C(area) + C(period)" + rhs_extra, data=df)
    cl = df["area"].to_numpy()
    G = len(np.unique(cl))
    res = wildboottest(model, B=B, cluster=cl, param="D", weights_type=weights_type,
                       impose_null=True, bootstrap_type="11", seed=seed, parallel=False,
                       show=False)
    out = {"weights": weights_type, "seed": seed, "B": B, "clusters": G,
           "full_enumeration": bool(weights_type == "rademacher" and 2 ** G < B),
           "t_stat": float(np.squeeze(res["statistic"].iloc[0])),
           "p_value": float(res["p-value"].iloc[0])}
    if out["full_enumeration"]:
        # The same steps as the wrapper, keeping the bootstrap t's.
        R = np.zeros(len(model.data.xnames))
        R[model.data.xnames.index("D")] = 1
        boot = WildboottestCL(X=model.exog, Y=model.endog, cluster=cl, R=R, B=B, seed=seed,
                              parallel=False)
        boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
        boot.get_weights(weights_type="rademacher")
        boot.get_numer()
        boot.get_denom()
        boot.get_tboot()
        boot.get_vcov()
        boot.get_tstat()
        boot.get_pvalue(pval_type="two-tailed")
        t = abs(float(np.squeeze(boot.t_stat)))
        tb = np.abs(boot.t_boot)
        out["replications"] = int(boot.B)
        out["class_p_value"] = float(boot.pvalue)
        out["near_ties"] = int(np.sum(np.abs(tb - t) <= 1e-9 * t))
        out["p_strict_ties_excluded"] = float(np.mean(tb > t * (1 + 1e-9)))
        # Every 32nd order statistic of |t*| (index 0, 32, ...) and the largest, so the
        # whole bootstrap distribution is checked, not only the share beyond |t|.
        srt = np.sort(tb)
        idx = list(range(0, len(srt), 32)) + [len(srt) - 1]
        out["abs_t_boot_order_statistics"] = [{"index": int(i), "value": float(srt[i])} for i in idx]
        out["abs_t_boot_sum"] = float(tb.sum())
    return out


def placebo(df, launches, rhs_extra, actual):
    comp = df[~df["area"].isin(list(launches))].copy()
    L = min(launches.values())
    ests = []
    for a in sorted(comp["area"].unique()):
        c = comp.copy()
        c["D"] = ((c["area"] == a) & (c["period"] >= L)).astype(float)
        r = smf.ols("y ~ D + C(area) + C(period)" + rhs_extra, data=c).fit()
        ests.append({"area": int(a), "estimate": float(r.params["D"])})
    n_ge = sum(abs(e["estimate"]) >= abs(actual) for e in ests)
    return {"launch": L, "estimates": ests, "p_value": (1 + n_ge) / (1 + len(ests)),
            "rank": 1 + n_ge, "min_p_value": 1 / (1 + len(ests))}


CASES = [
    # name, areas, periods, {treated area: launch}, effect, mean people per cell, dropped
    # cells, covariates, wild weights (None = the Rust default rule)
    dict(name="one_treated_g13", areas=13, periods=10, launches={0: 6}, effect=-0.05,
         mean_n=90, drop=(), covariates=False, weights="rademacher"),
    dict(name="three_treated_g20", areas=20, periods=12, launches={2: 7, 5: 7, 11: 7},
         effect=-0.04, mean_n=70, drop=(), covariates=False, weights="rademacher"),
    dict(name="unbalanced_staggered_g10", areas=10, periods=9, launches={1: 4, 3: 6},
         effect=-0.06, mean_n=80,
         drop=((0, 0), (0, 1), (4, 3), (5, 8), (6, 2), (7, 5), (1, 8), (3, 0), (8, 4)),
         covariates=False, weights="webb"),
    dict(name="covariates_g12", areas=12, periods=8, launches={4: 5}, effect=-0.05, mean_n=80,
         drop=((2, 3), (9, 0)), covariates=True, weights="rademacher"),
]

rng = np.random.default_rng(SEED)
out_cases = []
for case in CASES:
    df = simulate(rng, case["areas"], case["periods"], case["launches"], case["effect"],
                  case["mean_n"], drop=set(case["drop"]), covariates=case["covariates"])
    covs = ["age", "prior"] if case["covariates"] else []
    rhs_extra = "".join(" + " + c for c in covs)
    outcomes = ["yb", "yf"]
    rec = {"name": case["name"], "launches": [
        {"area": int(a), "launch": int(L)} for a, L in case["launches"].items()],
        "areas": case["areas"], "people": len(df), "covariates": covs,
        "cells": cells_of(df, outcomes, covs)}
    if covs:
        rec["area_covariates"] = area_covariate_stats(df, outcomes, covs)
    for o, label in (("yb", "binary"), ("yf", "frequency")):
        d = df.assign(y=df[o])
        res = fit_cluster("y ~ D + C(area) + C(period)" + rhs_extra, d)
        twfe = term(res, "D")
        twfe.update({"k": int(res.model.exog.shape[1]), "df": float(res.df_resid_inference),
                     "clusters": int(d["area"].nunique()), "nobs": int(res.nobs)})
        rec[label] = {
            "twfe": twfe,
            "event_study": event_study(d, case["launches"], rhs_extra),
            "wild": wild(d, rhs_extra, case["weights"], SEED + len(out_cases)),
            "placebo": placebo(d, case["launches"], rhs_extra, twfe["estimate"]),
        }
    out_cases.append(rec)
    print(case["name"], "done", rec["binary"]["twfe"]["estimate"], rec["binary"]["wild"]["p_value"])


def v(pkg):
    try:
        return version(pkg)
    except Exception:  # noqa: BLE001
        return None


out = {
    "generated_by": "tests/reference/did.py",
    "python": platform.python_version(),
    "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__,
    "statsmodels": statsmodels.__version__, "wildboottest": v("wildboottest"),
    "numba": v("numba"), "seed": SEED, "bootstrap_replications": B,
    "cases": out_cases,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "did.json"), "w") as fh:
    json.dump(out, fh, indent=1)
