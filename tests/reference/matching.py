"""Reference values for the propensity model: statsmodels Logit on a generated dataset.

Writes matching.json beside this file; tests/it/matching.rs reads it.
"""
import json
import os

import numpy as np
import statsmodels
import statsmodels.api as sm

rng = np.random.default_rng(7)
n = 500
age = rng.integers(14, 60, n).astype(float)
prior = rng.poisson(3, n).astype(float)
male = rng.integers(0, 2, n).astype(float)
eth = rng.integers(0, 3, n)          # three levels: indicators for levels 1 and 2
e1, e2 = (eth == 1).astype(float), (eth == 2).astype(float)
eta = 0.8 - 0.03 * age - 0.2 * prior + 0.3 * male + 0.5 * e1 - 0.4 * e2
y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
X = sm.add_constant(np.column_stack([age, prior, male, e1, e2]))
fit = sm.Logit(y, X).fit(disp=0, tol=1e-12, maxiter=100)
out = {"version": statsmodels.__version__,
       "y": y.tolist(), "age": age.tolist(), "prior": prior.tolist(), "male": male.tolist(),
       "e1": e1.tolist(), "e2": e2.tolist(),
       "coef": fit.params.tolist(), "se": fit.bse.tolist(), "log_likelihood": float(fit.llf)}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "matching.json"), "w") as fh:
    json.dump(out, fh, indent=1)
