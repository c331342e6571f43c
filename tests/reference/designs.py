"""Reference values for the adjusted designs (src/stats/designs), computed independently
of the Rust code with statsmodels, numpy and scipy.

Three cases:
(a) Rossi recidivism data (tests/fixtures/rossi.csv, from lifelines' load_rossi()):
    treatment `fin`, outcome `arrest`, covariates age, race, wexp, mar, paro, prio.
    Propensity by statsmodels Logit; ipw / overlap / entropy balancing with the HC1 SE of
    statsmodels WLS(y ~ 1 + treated, weights=w).fit(cov_type='HC1'); entropy balancing by
    scipy.optimize.minimize (BFGS) of the dual on *standardised* terms, polished by
    scipy.optimize.root (MINPACK hybr) on its first-order conditions
    (a different parametrisation and solver from the Rust Newton iteration); doubly robust
    with a statsmodels Logit outcome model among controls; a matched sample built here by
    greedy nearest-block matching with tie blocks (weights 1/m) and a caliper, scored by
    weighted means (Wald SE) and statsmodels WLS clustered by subclass.
(b) a generated case (seeded) with strong confounding and a known effect: every person's
    risk without the pilot is p0(x) = 0.15 + 0.5 expit(...), with it p0(x) - 0.10, so the
    risk difference is -0.10 for everyone (ATT = ATO = -0.10); potential outcomes share
    one uniform draw. The naive difference is far from -0.10; the adjusted designs are not.
    The frequency outcome (reoffences) is y (1 + Poisson(exp(0.2 + 0.3 x1))); its sample
    ATT is computed from the potential outcomes. Doubly robust for counts: Poisson GLM.
(c) a generated matched sample with discrete covariates (many ties): every pair is a pilot
    person (weight 1) with every member of the nearest block of identical controls
    (weight 1/m), one row per member and pair (as `--matched-out` writes).

Writes the fixtures (b), (c) and the Rossi matched rows under tests/fixtures/, and
designs.json beside this script. Run: /work/venv/bin/python tests/reference/designs.py
"""
import json
import os
import platform

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm
from scipy import optimize
from scipy.special import expit

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "fixtures")
Z = 1.959963984540054  # normal 97.5% quantile


# ---------------------------------------------------------------------------- helpers

def ess(w):
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / (w ** 2).sum())


def smd_denominators(X, t):
    """sqrt of the mean of the two groups' sample variances (n - 1), before weighting."""
    v1 = X[t].var(axis=0, ddof=1) if t.sum() > 1 else np.zeros(X.shape[1])
    v0 = X[~t].var(axis=0, ddof=1) if (~t).sum() > 1 else np.zeros(X.shape[1])
    return np.sqrt((v1 + v0) / 2)


def balance(X, t, w, den):
    """Weighted means per group and SMD with the pre-weighting denominator."""
    m1 = np.average(X[t], axis=0, weights=w[t])
    m0 = np.average(X[~t], axis=0, weights=w[~t])
    smd = np.where(den > 0, (m1 - m0) / np.where(den > 0, den, 1), np.nan)
    return m1, m0, smd


def row(design, estimand, est, se, ess1, ess0, smd):
    finite = smd[np.isfinite(smd)]
    return {
        "design": design,
        "estimand": estimand,
        "estimate": float(est),
        "se": float(se),
        "ci_low": float(est - Z * se),
        "ci_high": float(est + Z * se),
        "p_value": float(scipy.stats.norm.sf(abs(est / se)) * 2),
        "ess_treated": float(ess1),
        "ess_control": float(ess0),
        "max_abs_smd": float(np.abs(finite).max()) if finite.size else None,
    }


def wls_hc1(y, t, w):
    X = sm.add_constant(t.astype(float))
    fit = sm.WLS(y, X, weights=w).fit(cov_type="HC1")
    # Closed form (Hajek difference, sandwich with n/(n-2)): must equal statsmodels.
    n = len(y)
    m1 = np.average(y[t], weights=w[t])
    m0 = np.average(y[~t], weights=w[~t])
    v = (np.sum(w[t] ** 2 * (y[t] - m1) ** 2) / w[t].sum() ** 2
         + np.sum(w[~t] ** 2 * (y[~t] - m0) ** 2) / w[~t].sum() ** 2) * n / (n - 2)
    assert abs(fit.params[1] - (m1 - m0)) < 1e-12, (fit.params[1], m1 - m0)
    assert abs(fit.bse[1] - np.sqrt(v)) < 1e-12, (fit.bse[1], np.sqrt(v))
    return float(fit.params[1]), float(fit.bse[1])


def entropy_balance(X, t):
    """Control weights exp(l'z) / sum, z the standardised terms centred at the treated means,
    by minimising the dual log-sum-exp with scipy (BFGS), then solving its first-order
    conditions with MINPACK (scipy.optimize.root, hybr)."""
    target = X[t].mean(axis=0)
    scale = X[~t].std(axis=0)
    scale[scale == 0] = 1
    Zc = (X[~t] - target) / scale

    def f(l):
        a = Zc @ l
        m = a.max()
        return m + np.log(np.exp(a - m).sum())

    def grad(l):
        a = Zc @ l
        p = np.exp(a - a.max())
        p /= p.sum()
        return Zc.T @ p

    def hess(l):
        a = Zc @ l
        p = np.exp(a - a.max())
        p /= p.sum()
        g = Zc.T @ p
        return (Zc * p[:, None]).T @ Zc - np.outer(g, g)

    r1 = optimize.minimize(f, np.zeros(X.shape[1]), jac=grad, method="BFGS",
                           options={"gtol": 1e-12, "maxiter": 10000})
    # Polish: the first-order conditions (zero gradient) by MINPACK's hybrid Powell method.
    r2 = optimize.root(grad, r1.x, jac=hess, method="hybr", options={"xtol": 1e-15})
    a = Zc @ r2.x
    p = np.exp(a - a.max())
    w0 = p / p.sum() * (~t).sum()  # mean 1 among controls
    imbalance = np.abs(np.average(X[~t], axis=0, weights=w0) - target).max()
    assert imbalance < 1e-8, imbalance
    w = np.ones(len(t))
    w[~t] = w0
    return w, float(imbalance), {"bfgs_message": str(r1.message), "bfgs_iterations": int(r1.nit),
                                 "root_message": str(r2.message)}


def dr_att(y, t, X, e, family):
    Xc = sm.add_constant(X[~t], has_constant="add")
    if family == "logistic":
        m = sm.Logit(y[~t], Xc).fit(disp=0, tol=1e-12, maxiter=200)
    else:
        m = sm.GLM(y[~t], Xc, family=sm.families.Poisson()).fit(tol=1e-13, maxiter=200)
    m0 = m.predict(sm.add_constant(X, has_constant="add"))
    r = y - m0
    w = e / (1 - e)
    a = r[t].mean()
    b = np.sum(w[~t] * r[~t]) / w[~t].sum()
    n1 = t.sum()
    var = np.sum((r[t] - a) ** 2) / n1 ** 2 + np.sum(w[~t] ** 2 * (r[~t] - b) ** 2) / w[~t].sum() ** 2
    return float(a - b), float(np.sqrt(var)), [float(c) for c in m.params]


def match_blocks(X, t, logit, caliper_sd):
    """Greedy nearest-block matching: controls with identical terms form a block of
    capacity m (its size); pilot people, highest score first, draw the nearest block with
    capacity left within the caliper; a pair is the pilot person (weight 1) and every member
    of the block (weight 1/m). Returns row-level (person, weight, subclass) arrays."""
    blocks = {}
    for i in np.flatnonzero(~t):
        blocks.setdefault(tuple(X[i]), []).append(int(i))
    keys = sorted(blocks)
    members = [blocks[k] for k in keys]
    blogit = np.array([logit[m[0]] for m in members])
    draws = np.zeros(len(keys), int)
    sizes = np.array([len(m) for m in members])
    pooled = np.sqrt((logit[t].var(ddof=1) + logit[~t].var(ddof=1)) / 2)
    caliper = np.inf if caliper_sd is None else caliper_sd * pooled
    order = sorted(np.flatnonzero(t), key=lambda i: (-logit[i], i))
    person, weight, subclass = [], [], []
    s = 0
    for i in order:
        d = np.abs(blogit - logit[i])
        d[draws >= sizes] = np.inf
        b = int(np.argmin(d))
        if not np.isfinite(d[b]) or d[b] > caliper:
            continue
        draws[b] += 1
        s += 1
        person.append(int(i)); weight.append(1.0); subclass.append(s)
        for c in members[b]:
            person.append(c); weight.append(1.0 / sizes[b]); subclass.append(s)
    return np.array(person), np.array(weight), np.array(subclass)


def matched_designs(X, t, y, person, weight, subclass, den, ycol="y"):
    """`matched` (weighted means, Wald with n_g = sum of weights) and `matched_regression`
    (WLS on intercept, treated, terms; CR1 clustered by subclass) on row-level data."""
    tr = t[person]
    yr = y[person]
    Xr = X[person]
    m1 = np.average(yr[tr], weights=weight[tr])
    m0 = np.average(yr[~tr], weights=weight[~tr])
    v1 = np.average((yr[tr] - m1) ** 2, weights=weight[tr])
    v0 = np.average((yr[~tr] - m0) ** 2, weights=weight[~tr])
    n1, n0 = weight[tr].sum(), weight[~tr].sum()
    se = np.sqrt(v1 / n1 + v0 / n0)
    # Person-level weights (a person may appear in several rows) for the ESS.
    pw = pd.Series(weight).groupby(person).sum()
    pt = t[pw.index.values]
    ess1, ess0 = ess(pw.values[pt]), ess(pw.values[~pt])
    bm1, bm0, smd = balance(Xr, tr, weight, den)
    matched = row("matched", "ATT", m1 - m0, se, ess1, ess0, smd)
    D = np.column_stack([np.ones(len(person)), tr.astype(float), Xr])
    fit = sm.WLS(yr, D, weights=weight).fit(cov_type="cluster", cov_kwds={"groups": subclass})
    # The CR1 factor by hand, to be sure of what statsmodels did.
    N, K, G = len(yr), D.shape[1], len(np.unique(subclass))
    bread = np.linalg.inv(D.T @ (weight[:, None] * D))
    res = yr - D @ fit.params
    scores = pd.DataFrame(D * (weight * res)[:, None]).groupby(subclass).sum().values
    V = bread @ scores.T @ scores @ bread * G / (G - 1) * (N - 1) / (N - K)
    assert abs(np.sqrt(V[1, 1]) - fit.bse[1]) < 1e-12 * max(1, fit.bse[1])
    reg = row("matched_regression", "ATT", fit.params[1], fit.bse[1], ess1, ess0, smd)
    info = {"rows": int(N), "clusters": int(G), "treated_rows": int(tr.sum()),
            "coefficients": [float(c) for c in fit.params],
            "balance": {"mean_treated": bm1.tolist(), "mean_control": bm0.tolist(),
                        "smd": [None if not np.isfinite(s) else float(s) for s in smd]}}
    return matched, reg, info


def weighting_designs(X, t, y, e, den, family, ebal_w=None):
    """ipw, overlap, entropy balancing (HC1 WLS) and doubly robust; returns rows and extras."""
    out, extra = [], {}
    w_ipw = np.where(t, 1.0, e / (1 - e))
    w_ato = np.where(t, 1 - e, e)
    est, se = wls_hc1(y, t, w_ipw)
    b = balance(X, t, w_ipw, den)
    out.append(row("ipw", "ATT", est, se, t.sum(), ess(w_ipw[~t]), b[2]))
    extra["ipw_balance"] = {"mean_treated": b[0].tolist(), "mean_control": b[1].tolist(),
                            "smd": b[2].tolist()}
    est, se = wls_hc1(y, t, w_ato)
    b = balance(X, t, w_ato, den)
    out.append(row("overlap", "ATO", est, se, ess(w_ato[t]), ess(w_ato[~t]), b[2]))
    extra["overlap_balance"] = {"mean_treated": b[0].tolist(), "mean_control": b[1].tolist(),
                                "smd": b[2].tolist()}
    if ebal_w is None:
        ebal_w, imbalance, info = entropy_balance(X, t)
        extra["ebal"] = {"max_imbalance": imbalance, **info,
                         "weights_first_controls": ebal_w[~t][:10].tolist()}
    extra["ebal_w"] = ebal_w
    est, se = wls_hc1(y, t, ebal_w)
    b = balance(X, t, ebal_w, den)
    out.append(row("entropy_balancing", "ATT", est, se, t.sum(), ess(ebal_w[~t]), b[2]))
    est, se, coef = dr_att(y, t, X, e, family)
    b = balance(X, t, w_ipw, den)
    out.append(row("doubly_robust", "ATT", est, se, t.sum(), ess(w_ipw[~t]), b[2]))
    extra["outcome_model"] = {"family": family, "coefficients": coef}
    return out, extra


def propensity(X, t):
    fit = sm.Logit(t.astype(float), sm.add_constant(X)).fit(disp=0, tol=1e-12, maxiter=200)
    return fit, np.asarray(fit.predict(sm.add_constant(X)))


def naive(y, t):
    m1, m0 = y[t].mean(), y[~t].mean()
    se = np.sqrt(y[t].var() / t.sum() + y[~t].var() / (~t).sum())
    return {"estimate": float(m1 - m0), "se": float(se)}


out = {
    "versions": {"python": platform.python_version(), "numpy": np.__version__,
                 "scipy": scipy.__version__, "statsmodels": statsmodels.__version__,
                 "pandas": pd.__version__},
    "confidence": 0.95,
    "data_sources": {
        "rossi": "tests/fixtures/rossi.csv: Rossi, Berk and Lenihan (1980), copied unchanged from "
                 "lifelines 0.30.3 lifelines/datasets/rossi.csv (load_rossi()); R carData::Rossi",
        "generated": "tests/fixtures/designs_generated.csv, written by this script (seed 20240611)",
        "matched_case": "tests/fixtures/designs_matched_{people,rows}.csv, written by this script "
                        "(seed 77)",
    },
    "notes": "HC1 = statsmodels WLS(y, [1, treated], weights=w).fit(cov_type='HC1'); "
             "matched_regression = WLS(y, [1, treated, terms], weights=w).fit(cov_type='cluster', "
             "groups=subclass) (CR1: G/(G-1)(N-1)/(N-K)); matched Wald SE sqrt(sum_g v_g/n_g), "
             "v_g the weighted variance with denominator sum w, n_g = sum of the group's weights; "
             "doubly robust outcome model statsmodels Logit (binary) / GLM Poisson (counts) among "
             "controls; entropy balancing by scipy minimize (BFGS) polished by scipy root (hybr) of the dual on "
             "standardised terms; SMD denominators from the unweighted groups (n - 1).",
}

# ------------------------------------------------------------------------- (a) Rossi
rossi = pd.read_csv(os.path.join(fixtures, "rossi.csv"))
terms = ["age", "race", "wexp", "mar", "paro", "prio"]
X = rossi[terms].to_numpy(float)
t = rossi["fin"].to_numpy() == 1
y = rossi["arrest"].to_numpy(float)
den = smd_denominators(X, t)
pfit, e = propensity(X, t)
rows, extra = weighting_designs(X, t, y, e, den, "logistic")
person, weight, subclass = match_blocks(X, t, np.log(e / (1 - e)), 0.2)
with open(os.path.join(fixtures, "rossi_matched_rows.csv"), "w") as fh:
    fh.write("person,weight,subclass\n")
    for p, w, s in zip(person, weight, subclass):
        fh.write(f"{p},{float(w)!r},{s}\n")
mrow, rrow, minfo = matched_designs(X, t, y, person, weight, subclass, den)
ebal = extra.pop("ebal")
ebal_w = extra.pop("ebal_w")
# Overlap weights balance the propensity model's terms exactly (logistic score equations).
ob = extra["overlap_balance"]
assert max(abs(a - b) for a, b in zip(ob["mean_treated"], ob["mean_control"])) < 1e-9
out["rossi"] = {
    "n": int(len(y)), "treated": int(t.sum()), "terms": terms,
    "propensity": {"coefficients": [float(c) for c in pfit.params],
                   "log_likelihood": float(pfit.llf)},
    "propensity_scores": e.tolist(),
    "smd_denominators": den.tolist(),
    "designs": [mrow, rrow] + rows,
    "matched": minfo,
    "entropy_balancing": ebal,
    **extra,
}

# -------------------------------------------------------------- (b) generated, known ATT
rng = np.random.default_rng(20240611)
n = 6000
x1 = np.round(rng.normal(0, 1, n), 6)
x2 = np.round(rng.normal(0, 1, n), 6)
x3 = (rng.uniform(size=n) < 0.4).astype(float)
tau = -0.10
e_true = expit(-2.0 + 1.0 * x1 + 0.8 * x2 + 0.7 * x3)
tg = rng.uniform(size=n) < e_true
p0 = 0.15 + 0.5 * expit(-0.3 + 0.9 * x1 + 0.7 * x2 + 0.5 * x3)
u = rng.uniform(size=n)
y0 = (u < p0).astype(float)
y1 = (u < p0 + tau).astype(float)
extra_counts = rng.poisson(np.exp(0.2 + 0.3 * x1))
c0 = y0 * (1 + extra_counts)
c1 = y1 * (1 + extra_counts)
yg = np.where(tg, y1, y0)
cg = np.where(tg, c1, c0)
with open(os.path.join(fixtures, "designs_generated.csv"), "w") as fh:
    fh.write("treated,reoffended,reoffences,x1,x2,x3\n")
    for i in range(n):
        fh.write(f"{int(tg[i])},{int(yg[i])},{int(cg[i])},{x1[i]:.6f},{x2[i]:.6f},{int(x3[i])}\n")
g = pd.read_csv(os.path.join(fixtures, "designs_generated.csv"))
Xg = g[["x1", "x2", "x3"]].to_numpy(float)
tg = g["treated"].to_numpy() == 1
yg = g["reoffended"].to_numpy(float)
cg = g["reoffences"].to_numpy(float)
deng = smd_denominators(Xg, tg)
_, eg = propensity(Xg, tg)
rows_b, extra_b = weighting_designs(Xg, tg, yg, eg, deng, "logistic")
rows_c, extra_c = weighting_designs(Xg, tg, cg, eg, deng, "poisson", ebal_w=extra_b["ebal_w"])
nb = naive(yg, tg)
nc = naive(cg, tg)
# Recovery: every adjusted design within 2.5 SE of the truth; the naive one is not.
for r in rows_b:
    assert abs(r["estimate"] - tau) < 2.5 * r["se"], r
assert abs(nb["estimate"] - tau) > 4 * nb["se"], nb
sample_att_counts = float(np.mean(c1[tg] - c0[tg]))
for r in rows_c:
    if r["estimand"] == "ATT":
        assert abs(r["estimate"] - sample_att_counts) < 2.5 * r["se"], (r, sample_att_counts)
assert abs(nc["estimate"] - sample_att_counts) > 4 * nc["se"], nc
out["generated"] = {
    "n": n, "treated": int(tg.sum()), "seed": 20240611,
    "true_risk_difference": tau,
    "sample_att": float(np.mean(y1[tg] - y0[tg])),
    "sample_att_reoffences": sample_att_counts,
    "naive": nb, "naive_reoffences": nc,
    "designs": rows_b, "frequency_designs": rows_c,
    "entropy_balancing": extra_b["ebal"],
    "outcome_model": extra_b["outcome_model"],
    "frequency_outcome_model": extra_c["outcome_model"],
}

# ------------------------------------------------------ (c) matched sample with ties
rng = np.random.default_rng(77)
n = 800
age_band = rng.integers(0, 5, n)
female = (rng.uniform(size=n) < 0.3).astype(int)
prior = np.minimum(rng.poisson(1.5, n), 5)
tc = rng.uniform(size=n) < expit(-2.2 + 0.35 * age_band - 0.5 * female + 0.4 * prior)
pr = expit(-1.2 + 0.2 * age_band - 0.3 * female + 0.45 * prior - 0.4 * tc)
yc = (rng.uniform(size=n) < pr).astype(int)
cc = yc * (1 + rng.poisson(0.8, n))
with open(os.path.join(fixtures, "designs_matched_people.csv"), "w") as fh:
    fh.write("treated,reoffended,reoffences,age_band,female,prior\n")
    for i in range(n):
        fh.write(f"{int(tc[i])},{yc[i]},{cc[i]},{age_band[i]},{female[i]},{prior[i]}\n")
mp = pd.read_csv(os.path.join(fixtures, "designs_matched_people.csv"))
Xm = np.column_stack([(mp["age_band"] == k).astype(float) for k in (1, 2, 3, 4)]
                     + [mp["female"].astype(float), mp["prior"].astype(float)])
mterms = ["age_band=1", "age_band=2", "age_band=3", "age_band=4", "female", "prior"]
tm = mp["treated"].to_numpy() == 1
ym = mp["reoffended"].to_numpy(float)
cm = mp["reoffences"].to_numpy(float)
denm = smd_denominators(Xm, tm)
_, em = propensity(Xm, tm)
person, weight, subclass = match_blocks(Xm, tm, np.log(em / (1 - em)), None)
assert (weight < 1).any()
with open(os.path.join(fixtures, "designs_matched_rows.csv"), "w") as fh:
    fh.write("person,weight,subclass\n")
    for p, w, s in zip(person, weight, subclass):
        fh.write(f"{p},{float(w)!r},{s}\n")
rows_m = pd.read_csv(os.path.join(fixtures, "designs_matched_rows.csv"))
person = rows_m["person"].to_numpy()
weight = rows_m["weight"].to_numpy(float)
subclass = rows_m["subclass"].to_numpy()
m_b, r_b, info_b = matched_designs(Xm, tm, ym, person, weight, subclass, denm)
m_c, r_c, info_c = matched_designs(Xm, tm, cm, person, weight, subclass, denm)


def clustered_difference(t, y, person, weight, subclass):
    """The matched comparison's headline: the difference of weighted means with its standard
    error clustered by matched set (matched_regression without covariates, CR1)."""
    tr = t[person].astype(float)
    D = np.column_stack([np.ones(len(person)), tr])
    fit = sm.WLS(y[person], D, weights=weight).fit(cov_type="cluster", cov_kwds={"groups": subclass})
    z = scipy.stats.norm.ppf(0.975)
    est, se = float(fit.params[1]), float(fit.bse[1])
    return {"estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
            "p_value": float(2 * scipy.stats.norm.sf(abs(est / se))),
            "clusters": int(len(np.unique(subclass))), "rows": int(len(person))}


out["matched_case"] = {
    "n": n, "treated": int(tm.sum()), "terms": mterms, "seed": 77,
    "clustered_difference": clustered_difference(tm, ym, person, weight, subclass),
    "frequency_clustered_difference": clustered_difference(tm, cm, person, weight, subclass),
    "designs": [m_b, r_b], "frequency_designs": [m_c, r_c],
    "matched": info_b, "frequency_matched": info_c,
    "tied_rows": int((weight < 1).sum()),
    "largest_block": int(round(1 / weight.min())),
}

with open(os.path.join(here, "designs.json"), "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print(json.dumps({k: out[k]["designs"] if isinstance(out[k], dict) and "designs" in out[k] else None
                  for k in ("rossi", "generated", "matched_case")}, indent=1)[:4000])
