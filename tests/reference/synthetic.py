"""Reference for src/stats/synthetic.rs: a line-by-line numpy port of the R package
`synthdid` 0.0.9 (github.com/synth-inference/synthdid, commit 70c1ce3, files R/solver.R,
R/synthdid.R, R/utils.R, R/vcov.R): synthdid_estimate, sc_estimate, did_estimate,
synthdid_effect_curve and placebo_se (Algorithm 4).

The port is checked against the published Proposition 99 values (SDID -15.60383,
SC -19.61966, DiD -27.34911) before anything is written. The placebo standard errors are
computed on explicit permutations of the controls (drawn here with numpy and written
to the JSON) so that the Rust code can be fed the same pseudo-treated subsets.

Run: /work/venv/bin/python tests/reference/synthetic.py  (from the crate root)
writes tests/reference/synthetic.json
"""
import csv
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# ---- R/solver.R -------------------------------------------------------------------------
def fw_step(A, x, b, eta):
    Ax = A @ x
    half_grad = (Ax - b) @ A + eta * x
    i = int(np.argmin(half_grad))  # which.min: first minimum
    d_x = -x.copy()
    d_x[i] = 1 - x[i]
    if np.all(d_x == 0):
        return x
    d_err = A[:, i] - Ax
    step = -(half_grad @ d_x) / (np.sum(d_err ** 2) + eta * np.sum(d_x ** 2))
    constrained = min(1.0, max(0.0, step))
    return x + constrained * d_x


def sc_weight_fw(Y, zeta, intercept=True, lam=None, min_decrease=1e-3, max_iter=1000):
    T0 = Y.shape[1] - 1
    N0 = Y.shape[0]
    if lam is None:
        lam = np.full(T0, 1.0 / T0)
    lam = np.array(lam, dtype=float)
    if intercept:
        Y = Y - Y.mean(axis=0)
    t = 0
    vals = []
    A = Y[:, :T0]
    b = Y[:, T0]
    eta = N0 * zeta ** 2
    while t < max_iter and (t < 2 or vals[t - 2] - vals[t - 1] > min_decrease ** 2):
        t += 1
        lam = fw_step(A, lam, b, eta)
        err = Y @ np.concatenate([lam, [-1.0]])
        vals.append(zeta ** 2 * np.sum(lam ** 2) + np.sum(err ** 2) / N0)
    return lam, vals


# ---- R/utils.R, R/synthdid.R ---------------------------------------------------------------
def collapsed_form(Y, N0, T0):
    top = np.hstack([Y[:N0, :T0], Y[:N0, T0:].mean(axis=1, keepdims=True)])
    bottom = np.hstack([Y[N0:, :T0].mean(axis=0), [Y[N0:, T0:].mean()]])
    return np.vstack([top, bottom])


def sparsify_function(v):
    v = v.copy()
    v[v <= v.max() / 4] = 0
    return v / v.sum()


def noise_level_of(Y, N0, T0):
    return np.std(np.diff(Y[:N0, :T0], axis=1), ddof=1)


def synthdid_estimate(Y, N0, T0, omega=None, lam=None, update_omega=None, update_lambda=None,
                      zeta_omega=None, zeta_lambda=None, eta_omega=None, eta_lambda=1e-6,
                      omega_intercept=True, lambda_intercept=True, min_decrease=None,
                      max_iter=10000, max_iter_pre_sparsify=100):
    N1 = Y.shape[0] - N0
    T1 = Y.shape[1] - T0
    noise = noise_level_of(Y, N0, T0)
    if eta_omega is None:
        eta_omega = (N1 * T1) ** 0.25
    if zeta_omega is None:
        zeta_omega = eta_omega * noise
    if zeta_lambda is None:
        zeta_lambda = eta_lambda * noise
    if min_decrease is None:
        min_decrease = 1e-5 * noise
    if update_omega is None:
        update_omega = omega is None
    if update_lambda is None:
        update_lambda = lam is None
    Yc = collapsed_form(Y, N0, T0)
    if update_lambda:
        l, _ = sc_weight_fw(Yc[:N0, :], zeta_lambda, lambda_intercept, lam, min_decrease, max_iter_pre_sparsify)
        l, _ = sc_weight_fw(Yc[:N0, :], zeta_lambda, lambda_intercept, sparsify_function(l), min_decrease, max_iter)
        lam = l
    if update_omega:
        o, _ = sc_weight_fw(Yc[:, :T0].T, zeta_omega, omega_intercept, omega, min_decrease, max_iter_pre_sparsify)
        o, _ = sc_weight_fw(Yc[:, :T0].T, zeta_omega, omega_intercept, sparsify_function(o), min_decrease, max_iter)
        omega = o
    estimate = np.concatenate([-omega, np.full(N1, 1.0 / N1)]) @ Y @ np.concatenate([-lam, np.full(T1, 1.0 / T1)])
    opts = dict(zeta_omega=zeta_omega, zeta_lambda=zeta_lambda, omega_intercept=omega_intercept,
                lambda_intercept=lambda_intercept, update_omega=update_omega,
                update_lambda=update_lambda, min_decrease=min_decrease, max_iter=max_iter)
    return dict(estimate=float(estimate), omega=omega, lam=lam, Y=Y, N0=N0, T0=T0, opts=opts,
                noise_level=noise)


def sc_estimate(Y, N0, T0):
    return synthdid_estimate(Y, N0, T0, eta_omega=1e-6, lam=np.zeros(T0), omega_intercept=False)


def did_estimate(Y, N0, T0):
    return synthdid_estimate(Y, N0, T0, lam=np.full(T0, 1.0 / T0), omega=np.full(N0, 1.0 / N0))


def effect_curve(est):
    Y, N0, T0 = est["Y"], est["N0"], est["T0"]
    N1 = Y.shape[0] - N0
    tau_sc = np.concatenate([-est["omega"], np.full(N1, 1.0 / N1)]) @ Y
    return tau_sc[T0:] - tau_sc[:T0] @ est["lam"]


# ---- R/vcov.R ---------------------------------------------------------------------------
def sum_normalize(x):
    s = x.sum()
    return x / s if s != 0 else np.full(len(x), 1.0 / len(x))


def placebo_estimates(est, perms):
    """theta(ind) of placebo_se for each permutation `ind` (0-based) of the controls."""
    Y, N0 = est["Y"], est["N0"]
    N1 = Y.shape[0] - N0
    out = []
    for ind in perms:
        n0 = len(ind) - N1
        omega0 = sum_normalize(est["omega"][ind[:n0]])
        o = est["opts"]
        r = synthdid_estimate(Y[ind, :], n0, est["T0"], omega=omega0, lam=est["lam"].copy(),
                              update_omega=o["update_omega"], update_lambda=o["update_lambda"],
                              zeta_omega=o["zeta_omega"], zeta_lambda=o["zeta_lambda"],
                              omega_intercept=o["omega_intercept"],
                              lambda_intercept=o["lambda_intercept"],
                              min_decrease=o["min_decrease"], max_iter=o["max_iter"])
        out.append(r["estimate"])
    return np.array(out)


def placebo_se(estimates):
    r = len(estimates)
    return float(np.sqrt((r - 1) / r) * np.std(estimates, ddof=1))


# ---- cases ------------------------------------------------------------------------------
def read_panel(path):
    rows = []
    with open(path) as f:
        lines = [l for l in f if not l.startswith("#")]
    for r in csv.DictReader(lines):
        rows.append((r["area"], int(r["period"]), float(r["outcome"]), int(r["treated"])))
    return rows


def panel_matrix(rows):
    """Rows ordered as synthdid's panel.matrices: controls then treated, each by name."""
    areas = sorted({r[0] for r in rows})
    periods = sorted({r[1] for r in rows})
    treated = {r[0] for r in rows if r[3] == 1}
    first = min(r[1] for r in rows if r[3] == 1)
    order = [a for a in areas if a not in treated] + [a for a in areas if a in treated]
    idx = {a: i for i, a in enumerate(order)}
    pidx = {p: j for j, p in enumerate(periods)}
    Y = np.full((len(order), len(periods)), np.nan)
    for a, p, y, _ in rows:
        Y[idx[a], pidx[p]] = y
    return Y, len(order) - len(treated), pidx[first], order, periods


def run_case(name, Y, N0, T0, perms, areas=None, periods=None):
    ests = {"sdid": synthdid_estimate(Y, N0, T0), "sc": sc_estimate(Y, N0, T0),
            "did": did_estimate(Y, N0, T0)}
    out = {"name": name, "n0": N0, "t0": T0, "y": Y.tolist(), "areas": areas,
           "periods": periods, "placebo_permutations": [list(map(int, p)) for p in perms],
           "noise_level": float(ests["sdid"]["noise_level"])}
    for k, e in ests.items():
        pl = placebo_estimates(e, perms)
        out[k] = {"estimate": e["estimate"], "omega": e["omega"].tolist(),
                  "lambda": e["lam"].tolist(), "effect_curve": effect_curve(e).tolist(),
                  "zeta_omega": e["opts"]["zeta_omega"], "zeta_lambda": e["opts"]["zeta_lambda"],
                  "placebo_estimates": pl.tolist(), "placebo_se": placebo_se(pl)}
    return out


def generated(seed, n0, n1, t0, t1, effect):
    """Factor-model panel: unit effects, time effects, two latent factors, noise."""
    rng = np.random.default_rng(seed)
    n, t = n0 + n1, t0 + t1
    alpha = rng.normal(0, 2, n)
    gamma = np.cumsum(rng.normal(0, 1, t))
    load = rng.normal(0, 1, (n, 2))
    load[n0:] += 0.5
    fac = rng.normal(0, 1, (2, t)).cumsum(axis=1) * 0.5
    Y = 10 + alpha[:, None] + gamma[None, :] + load @ fac + rng.normal(0, 0.7, (n, t))
    Y[n0:, t0:] += effect
    return Y


def main():
    rows = read_panel(os.path.join(ROOT, "tests", "fixtures", "prop99.csv"))
    Y, N0, T0, order, periods = panel_matrix(rows)
    rng = np.random.default_rng(20240601)
    perms = [rng.permutation(N0) for _ in range(40)]
    cases = [run_case("prop99", Y, N0, T0, perms, order, periods)]
    published = {"sdid": -15.60383, "sc": -19.61966, "did": -27.34911}
    for k, v in published.items():
        got = cases[0][k]["estimate"]
        print(f"prop99 {k}: {got:.8f} (published {v})")
        if abs(got - v) > 1e-5:
            sys.exit(f"port disagrees with the published {k} value")
    for seed, (n0, n1, t0, t1, eff) in enumerate([(20, 1, 15, 5, -3.0), (30, 3, 20, 8, 2.0),
                                                    (12, 2, 8, 4, 0.0)], start=1):
        Yg = generated(seed, n0, n1, t0, t1, eff)
        perms = [rng.permutation(n0) for _ in range(30)]
        cases.append(run_case(f"generated_{seed}", Yg, n0, t0, perms))
        print(cases[-1]["name"], {k: cases[-1][k]["estimate"] for k in published})
    out = {"source": "line-by-line numpy port of R synthdid 0.0.9 (commit 70c1ce3)",
           "numpy": np.__version__, "python": sys.version.split()[0], "cases": cases}
    with open(os.path.join(HERE, "synthetic.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
