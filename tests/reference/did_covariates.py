"""Reference for `did --covariates`: two-way fixed effects with person-level covariates,
fitted person by person with statsmodels, against the tool's sufficient-statistics fit.

Writes a small extract (tests/fixtures/did_covariates/{cohort,offences}.csv) whose outcomes
need no rules engine: everyone is indexed between 2019 and 2021, the extract date is
2023-12-31 (everyone has the full 12 months and the 6-month waiting period), and each
reoffender has one or two proven offences 30 and 100 days after the index date (disposed
of 30 days later). So the 12-month binary outcome is "has an offence row" and the frequency
outcome the number of rows. Eight areas; area A0 launches on 2020-07-01 (cohort `divert`
from then on). Covariates: sex, age_at_index (missing for a few: those people are left out),
prior_offences, ethnicity (missing for some: its own level, "not recorded").

OLS of y on treated + C(area) + C(period) + covariates, cluster-robust by area
(statsmodels' default CR1: G/(G-1) * (N-1)/(N-K)), t with G-1 df.

Run: .venv-reference/bin/python tests/reference/did_covariates.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.formula.api as smf
from scipy import stats

root = pathlib.Path(__file__).resolve().parents[2]
fixture = root / "tests" / "fixtures" / "did_covariates"
fixture.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(20261207)
rows, offences = [], []
areas = [f"A{i}" for i in range(8)]
launch = pd.Timestamp("2020-07-01")
start = pd.Timestamp("2019-01-01")
pid = 0
for a_i, area in enumerate(areas):
    for _ in range(160):
        pid += 1
        index = start + pd.Timedelta(days=int(rng.integers(0, 3 * 365)))
        treated = area == "A0" and index >= launch
        sex = "F" if rng.random() < 0.2 else "M"
        age = int(rng.integers(18, 60))
        prior = int(rng.poisson(2.0))
        eth = rng.choice(["Asian", "Black", "White", "Mixed", ""], p=[0.15, 0.1, 0.6, 0.05, 0.1])
        age_text = "" if rng.random() < 0.03 else str(age)
        logit = -1.0 + 0.1 * a_i - 0.02 * (age - 30) + 0.25 * prior + (0.3 if sex == "M" else 0.0) - (0.5 if treated else 0.0)
        y = rng.random() < 1 / (1 + np.exp(-logit))
        n_off = 0
        if y:
            n_off = 2 if rng.random() < 0.4 else 1
        rows.append(dict(person_id=f"P{pid:05d}", cohort="divert" if treated else "comparison",
                         index_date=index.strftime("%Y-%m-%d"), sex=sex, age_at_index=age_text,
                         ethnicity=eth, area=area, prior_offences=prior))
        for k, days in enumerate([30, 100][:n_off]):
            d = index + pd.Timedelta(days=days)
            offences.append(dict(person_id=f"P{pid:05d}", offence_date=d.strftime("%Y-%m-%d"),
                                 disposal_date=(d + pd.Timedelta(days=30)).strftime("%Y-%m-%d")))
cohort = pd.DataFrame(rows)
cohort.to_csv(fixture / "cohort.csv", index=False)
pd.DataFrame(offences).to_csv(fixture / "offences.csv", index=False)

# The analysis data: outcomes from the offence rows, the quarter of the index date.
counts = pd.DataFrame(offences).groupby("person_id").size()
df = cohort.copy()
df["reoffences"] = df["person_id"].map(counts).fillna(0).astype(int)
df["y"] = (df["reoffences"] > 0).astype(float)
idx = pd.to_datetime(df["index_date"])
df["period"] = idx.dt.year.astype(str) + "Q" + idx.dt.quarter.astype(str)
df["treated"] = ((df["area"] == "A0") & (idx >= launch)).astype(float)
df["ethnicity"] = df["ethnicity"].replace("", np.nan).fillna("not recorded")
df["age_at_index"] = pd.to_numeric(df["age_at_index"].replace("", np.nan))
df = df.dropna(subset=["age_at_index"])

out = {"people": int(len(df)), "left_out_missing_age": int(len(cohort) - len(df)),
       "versions": {"statsmodels": statsmodels.__version__, "pandas": pd.__version__,
                    "numpy": np.__version__, "scipy": scipy.__version__}}
G = df["area"].nunique()
for name, outcome in [("binary", "y"), ("frequency", "reoffences")]:
    fit = smf.ols(f"{outcome} ~ treated + C(area) + C(period) + C(sex) + age_at_index + prior_offences + C(ethnicity)",
                  data=df).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(df["area"])[0]})
    b, se = fit.params["treated"], fit.bse["treated"]
    t = stats.t.ppf(0.975, G - 1)
    out[name] = {"estimate": b, "se": se, "ci_low": b - t * se, "ci_high": b + t * se,
                 "p_value": 2 * stats.t.sf(abs(b / se), G - 1)}
(root / "tests" / "reference" / "did_covariates.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
