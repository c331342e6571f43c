"""Reference values for Kaplan-Meier, log-rank and Cox models.

lifelines: KaplanMeierFitter (log(-log) intervals, median, RMST), logrank_test,
multivariate_logrank_test, CoxPHFitter (Efron ties), concordance_index;
statsmodels: survdiff (stratified log-rank), PHReg (Breslow ties).
Writes survival.json beside this file; tests/it/stats_survival.rs reads it.
"""
import json
import os
import warnings

import lifelines
import numpy as np
import pandas as pd
import statsmodels
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import median_survival_times, restricted_mean_survival_time
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import survdiff

warnings.simplefilter("ignore")
rng = np.random.default_rng(42)
n = 240
group = rng.integers(0, 3, n)            # three groups
x1 = rng.normal(0, 1, n)
x2 = rng.integers(0, 2, n)
stratum = rng.integers(0, 2, n)
hazard = 0.02 * np.exp(0.5 * x1 - 0.4 * x2 + 0.3 * (group == 1) + 0.6 * (group == 2))
t_event = rng.exponential(1 / hazard)
t_cens = rng.uniform(5, 60, n)            # censoring before the end of follow-up
time = np.ceil(np.minimum(np.minimum(t_event, t_cens), 40)).astype(int)   # heavy ties
event = (t_event <= np.minimum(t_cens, 40)).astype(int)
df = pd.DataFrame({"time": time, "event": event, "group": group, "x1": x1, "x2": x2, "stratum": stratum})

out = {"versions": {"lifelines": lifelines.__version__, "statsmodels": statsmodels.__version__},
       "data": df.to_dict(orient="list"), "km": [], "times": [7, 14, 30, 40]}
for g in [0, 1, 2, None]:
    d = df if g is None else df[df.group == g]
    kmf = KaplanMeierFitter().fit(d.time, d.event)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    et = kmf.event_table
    rows = []
    for t in sf.index:
        if t == 0:
            continue
        rows.append({"time": float(t), "at_risk": int(et.loc[t, "at_risk"]), "events": int(et.loc[t, "observed"]),
                     "censored": int(et.loc[t, "censored"]), "survival": float(sf.loc[t]),
                     "ci_low": float(ci.loc[t].iloc[0]), "ci_high": float(ci.loc[t].iloc[1])})
    med = kmf.median_survival_time_
    mci = median_survival_times(kmf.confidence_interval_)
    out["km"].append({
        "group": g, "table": rows,
        "median": None if np.isinf(med) else float(med),
        "median_ci": [None if np.isinf(v) else float(v) for v in mci.iloc[0].values],
        "rmst_30": float(restricted_mean_survival_time(kmf, t=30)),
        "at": [{"time": t, "survival": float(kmf.survival_function_at_times(t).iloc[0])} for t in out["times"]],
    })
a, b = df[df.group == 0], df[df.group == 2]
r = logrank_test(a.time, b.time, a.event, b.event)
out["logrank_two"] = {"statistic": float(r.test_statistic), "p_value": float(r.p_value)}
r = multivariate_logrank_test(df.time, df.group, df.event)
out["logrank_three"] = {"statistic": float(r.test_statistic), "p_value": float(r.p_value)}
stat, p = survdiff(df.time, df.event, df.group, strata=df.stratum)
out["logrank_stratified"] = {"statistic": float(stat), "p_value": float(p)}

X = df[["x1", "x2"]].copy()
X["group=1"] = (df.group == 1).astype(float)
X["group=2"] = (df.group == 2).astype(float)
cph = CoxPHFitter().fit(pd.concat([X, df[["time", "event"]]], axis=1), "time", "event")
out["cox_efron"] = {"names": list(X.columns), "coef": cph.params_.tolist(),
                    "se": cph.standard_errors_.tolist(), "log_likelihood": float(cph.log_likelihood_),
                    "concordance": float(cph.concordance_index_), "p": cph.summary["p"].tolist()}
m = PHReg(df.time.values, X.values, status=df.event.values, ties="breslow").fit()
out["cox_breslow"] = {"coef": m.params.tolist(), "se": m.bse.tolist(), "log_likelihood": float(m.llf)}
m = PHReg(df.time.values, X.values, status=df.event.values, ties="efron").fit()
out["cox_efron_statsmodels"] = {"coef": m.params.tolist(), "se": m.bse.tolist(), "log_likelihood": float(m.llf)}

# Other confidence levels: lifelines' log(-log) intervals at 90% and 99%.
out["km_levels"] = []
for conf in [0.90, 0.99]:
    kmf = KaplanMeierFitter(alpha=1 - conf).fit(df.time, df.event)
    ci = kmf.confidence_interval_
    out["km_levels"].append({"confidence": conf,
                             "ci_low": [float(ci.loc[t].iloc[0]) for t in ci.index if t > 0],
                             "ci_high": [float(ci.loc[t].iloc[1]) for t in ci.index if t > 0]})

# "log" and "plain" intervals (R survfit conf.type = "log" / "plain") from statsmodels'
# Greenwood standard error of S: log: exp(log S -/+ z se/S), upper clipped at 1; plain:
# S -/+ z se clipped to [0, 1].
from scipy.stats import norm
from statsmodels.duration.survfunc import SurvfuncRight
sf = SurvfuncRight(df.time.values, df.event.values)
out["km_transforms"] = []
for conf in [0.95, 0.90]:
    z = norm.ppf(1 - (1 - conf) / 2)
    S, se = sf.surv_prob, sf.surv_prob_se
    with np.errstate(divide="ignore", invalid="ignore"):
        log_low = np.where(S > 0, np.exp(np.log(S) - z * se / S), 0.0)
        log_high = np.where(S > 0, np.minimum(np.exp(np.log(S) + z * se / S), 1.0), 0.0)
    out["km_transforms"].append({
        "confidence": conf, "time": sf.surv_times.tolist(), "survival": S.tolist(),
        "log": [log_low.tolist(), log_high.tolist()],
        "plain": [np.clip(S - z * se, 0, 1).tolist(), np.clip(S + z * se, 0, 1).tolist()]})

# Cox inference: Wald p-values and hazard-ratio intervals from statsmodels PHReg (Efron)
# at 95% and 90%, and lifelines' at 95%.
m = PHReg(df.time.values, X.values, status=df.event.values, ties="efron").fit()
out["cox_inference"] = {"p": m.pvalues.tolist(),
                        "hr_ci_95": np.exp(m.conf_int(alpha=0.05)).tolist(),
                        "hr_ci_90": np.exp(m.conf_int(alpha=0.10)).tolist(),
                        "lifelines_hr_ci_95": [[float(a), float(b)] for a, b in zip(
                            cph.summary["exp(coef) lower 95%"], cph.summary["exp(coef) upper 95%"])]}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "survival.json"), "w") as fh:
    json.dump(out, fh, indent=1)
