"""Reference values for the matched comparison, computed independently of the Rust code.

A small cohort with two continuous covariates (so no two propensity scores tie) is
written to tests/fixtures/matched_{cohort,offences}.csv. This script then does what the
matched comparison promises, from its specification:
- propensity model: statsmodels Logit of pilot membership on age_at_index and score;
- caliper: 0.2 x sqrt(mean of the two groups' sample variances of the logit);
- greedy nearest neighbour on the logit, pilot people taken from the highest score down,
  each taking its k nearest controls within the caliper (unused ones, without replacement);
  a control's weight is the sum over its matches of 1/k;
- balance: weighted means after matching, SMD over the pre-matching pooled SD;
- outcomes: the 12-month measure (offence in (index, index+365], disposed by index+547);
- 1:1 comparison: rates, risk difference, Newcombe interval (statsmodels
  confint_proportions_2indep), z test, chi-square (scipy), Fisher (scipy);
- ratio 2 and replacement: the exact weighted control rate, the Kish effective size, and
  the difference in weighted means with a robust (HC0 sandwich) standard error from a
  statsmodels WLS regression of the outcome on group membership (MatchIt's guidance), with
  its normal interval and z test, for the rate and for reoffences per person.
Writes matched.json beside this file; tests/it/matched_reference.rs reads it.
Run: .venv-reference/bin/python tests/reference/matched.py
"""
import datetime as dt
import json
import os

import numpy as np
import scipy
import statsmodels
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "fixtures")
rng = np.random.default_rng(2611)
n = 420
age = np.round(rng.uniform(16, 60, n), 2)
score = np.round(rng.normal(0, 1, n), 4)
p_treat = 1 / (1 + np.exp(-(-0.6 - 0.03 * (age - 35) + 0.8 * score)))
treated = rng.uniform(size=n) < p_treat
p_re = 1 / (1 + np.exp(-(-1.0 - 0.02 * (age - 35) + 0.5 * score - 0.3 * treated)))
reoffended = rng.uniform(size=n) < p_re
extra = rng.poisson(0.7, n) * reoffended
base = dt.date(2021, 1, 1)
index = [base + dt.timedelta(days=int(d)) for d in rng.integers(0, 300, n)]

with open(os.path.join(fixtures, "matched_cohort.csv"), "w") as fh:
    fh.write("person_id,cohort,index_date,age_at_index,score\n")
    for i in range(n):
        fh.write(f"M{i:04d},{'divert' if treated[i] else 'comparison'},{index[i]},{age[i]},{score[i]}\n")
counts = np.zeros(n, dtype=int)
with open(os.path.join(fixtures, "matched_offences.csv"), "w") as fh:
    fh.write("person_id,offence_date,disposal_date\n")
    for i in range(n):
        if reoffended[i]:
            for j in range(1 + int(extra[i])):
                o = index[i] + dt.timedelta(days=int(rng.integers(1, 366)))
                d = o + dt.timedelta(days=int(rng.integers(0, 150)))
                fh.write(f"M{i:04d},{o},{d}\n")
                counts[i] += 1
        # An offence long before the index date: never a reoffence.
        fh.write(f"M{i:04d},{index[i] - dt.timedelta(days=400)},{index[i] - dt.timedelta(days=380)}\n")

X = sm.add_constant(np.column_stack([age, score]))
fit = sm.Logit(treated.astype(float), X).fit(disp=0, tol=1e-12, maxiter=100)
logit = X @ fit.params
t_idx, c_idx = np.where(treated)[0], np.where(~treated)[0]
pooled = np.sqrt((np.var(logit[t_idx], ddof=1) + np.var(logit[c_idx], ddof=1)) / 2)
caliper = 0.2 * pooled


def match(ratio, replace):
    weights = np.zeros(n)
    used = np.zeros(n, dtype=bool)
    pairs = []
    order = t_idx[np.argsort(-logit[t_idx], kind="stable")]
    for t in order:
        avail = [c for c in c_idx if replace or not used[c]]
        avail.sort(key=lambda c: abs(logit[c] - logit[t]))
        chosen = [c for c in avail[:ratio] if abs(logit[c] - logit[t]) <= caliper]
        if not chosen:
            continue
        weights[t] = 1.0
        for c in chosen:
            weights[c] += 1.0 / len(chosen)
            used[c] = True
            pairs.append((t, c))
    return weights, pairs


def balance(w):
    rows = []
    for name, x in [("age_at_index", age), ("score", score)]:
        sd = np.sqrt((np.var(x[t_idx], ddof=1) + np.var(x[c_idx], ddof=1)) / 2)
        mt = np.average(x[t_idx], weights=w[t_idx])
        mc = np.average(x[c_idx], weights=w[c_idx])
        rows.append({"covariate": name, "mean_treated_after": mt, "mean_control_after": mc,
                     "smd_before": (x[t_idx].mean() - x[c_idx].mean()) / sd, "smd_after": (mt - mc) / sd})
    return rows


out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
       "coef": fit.params.tolist(), "caliper_logit": caliper, "designs": []}
for name, ratio, replace in [("one_to_one", 1, False), ("ratio_2", 2, False), ("replacement", 1, True)]:
    w, pairs = match(ratio, replace)
    mt = [i for i in t_idx if w[i] > 0]
    mc = [i for i in c_idx if w[i] > 0]
    x1, n1 = int(sum(reoffended[mt])), len(mt)
    wc = w[mc]
    rate_c = float(np.sum(wc * reoffended[mc]) / np.sum(wc))
    ess = float(np.sum(wc) ** 2 / np.sum(wc ** 2))
    d = {"name": name, "ratio": ratio, "replace": replace,
         "matched_treated": n1, "matched_controls": len(mc), "unmatched_treated": len(t_idx) - n1,
         "treated_ids": [f"M{i:04d}" for i in mt],
         "control_weights": {f"M{i:04d}": float(w[i]) for i in mc},
         "treatment_rate": x1 / n1, "control_rate_weighted": rate_c, "effective_controls": ess,
         "treatment_per_person": float(np.mean(counts[mt])),
         "control_per_person_weighted": float(np.sum(wc * counts[mc]) / np.sum(wc)),
         "balance": balance(w)}
    # The matched comparison's interval and test: the difference of weighted means with its
    # standard error clustered by matched set (CR1), rows as MatchIt's match.data(): each
    # pilot person (weight 1) and each control of their set (weight 1/k), set = pilot person.
    k_of = {}
    for t, c in pairs:
        k_of[t] = k_of.get(t, 0) + 1
    rp = [t for t in mt] + [c for t, c in pairs]
    rw = [1.0] * len(mt) + [1.0 / k_of[t] for t, c in pairs]
    rs = [t for t in mt] + [t for t, c in pairs]
    yr = reoffended[rp].astype(float)
    Xr = sm.add_constant(treated[rp].astype(float))
    fitc = sm.WLS(yr, Xr, weights=np.array(rw)).fit(cov_type="cluster", cov_kwds={"groups": np.array(rs)})
    zc = stats.norm.ppf(0.975)
    dc, sec = float(fitc.params[1]), float(fitc.bse[1])
    d.update({"cluster_difference": dc, "cluster_se": sec,
              "cluster_ci": [dc - zc * sec, dc + zc * sec],
              "cluster_p": float(2 * stats.norm.sf(abs(dc / sec))), "clusters": len(mt),
              "cluster_rows": len(rp)})
    if ratio > 1 or replace:
        ids = mt + mc
        wts = np.concatenate([np.ones(len(mt)), wc])
        grp = np.concatenate([np.ones(len(mt)), np.zeros(len(mc))])
        X2 = sm.add_constant(grp)
        zq = stats.norm.ppf(0.975)
        for key, y in [("rate", reoffended[ids].astype(float)), ("per_person", counts[ids].astype(float))]:
            fit2 = sm.WLS(y, X2, weights=wts).fit(cov_type="HC0")
            diff, se = float(fit2.params[1]), float(fit2.bse[1])
            d[f"{key}_difference"] = diff
            d[f"{key}_ci"] = [diff - zq * se, diff + zq * se]
            d[f"{key}_p"] = float(2 * stats.norm.sf(abs(diff / se)))
    if ratio == 1 and not replace:
        x2, n2 = int(sum(reoffended[mc])), len(mc)
        lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        z, pz = proportions_ztest([x1, x2], [n1, n2])
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        chi2, pchi, _, _ = stats.chi2_contingency(table, correction=False)
        d.update({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "risk_difference": x1 / n1 - x2 / n2,
                  "rd_ci": [float(lo), float(hi)], "z_pooled": [float(z), float(pz)],
                  "chi_square": [float(chi2), float(pchi)],
                  "fisher_p": float(stats.fisher_exact(table)[1]),
                  "treated_only": sum(1 for t, c in pairs if reoffended[t] and not reoffended[c]),
                  "control_only": sum(1 for t, c in pairs if reoffended[c] and not reoffended[t])})
    out["designs"].append(d)

with open(os.path.join(here, "matched.json"), "w") as fh:
    json.dump(out, fh, indent=1)
