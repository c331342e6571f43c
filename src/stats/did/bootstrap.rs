//! The wild cluster restricted bootstrap (WCR-11) p-value of the two-way fixed effects β.
//!
//! Follows the Python package `wildboottest` 0.3.2 (`WildboottestCL`, `bootstrap_type='11'`,
//! `impose_null=True`), which follows Roodman, MacKinnon, Nielsen and Webb (2019, "Fast and
//! wild"): with `A = X'X`, `a = A⁻¹e_β`, the restricted coefficients
//! `β̃ = b - a·b_β/a_β`, the clusters' restricted scores `s_g = X_g'y_g - X_g'X_g β̃`,
//! `C_g = a's_g` and `H_gh = (X_g'X_g a)'A⁻¹s_h`, a replication with weights `v` has
//! numerator `Σ_g C_g v_g` and squared CR1 error `ssc·Σ_g (C_g v_g - Σ_h H_gh v_h)²`.
//! Every ingredient comes from the cells (see the engine), so after an O(G²K) set-up each
//! replication costs O(G²), whatever the number of people.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::engine::{chol_solve, dot, unit};
use super::{DidError, Panel, checked_se, twfe_model};

/// Relative tolerance within which a bootstrap |t*| counts as a tie with |t|. The sign
/// vectors all +1 and all -1 reproduce the sample exactly (|t*| = |t| in exact arithmetic);
/// rounding alone would decide whether they count. Ties never count (the p-value is the
/// share of |t*| strictly beyond |t|, as `wildboottest`'s `mean(|t| < |t*|)`).
const TIE_TOLERANCE: f64 = 1e-9;

/// Webb's six-point weights: ±√(1/2), ±1, ±√(3/2), each with probability 1/6.
const WEBB: [f64; 6] = [
    -1.224_744_871_391_589, // -√1.5
    -1.0,
    -std::f64::consts::FRAC_1_SQRT_2,
    std::f64::consts::FRAC_1_SQRT_2,
    1.0,
    1.224_744_871_391_589,
];

/// Below this many clusters, Webb's weights are the default (MacKinnon and Webb): Rademacher
/// weights allow only 2^G distinct replications.
pub const WEBB_BELOW_CLUSTERS: usize = 12;

/// The distribution of the wild bootstrap's cluster weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BootstrapWeights {
    /// ±1 with probability 1/2.
    Rademacher,
    /// Webb's six-point distribution.
    Webb,
}

/// Options of [`wild_bootstrap`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WildBootstrapOptions {
    /// Replications B. Default 9999. With Rademacher weights and `2^G < B` every one of the
    /// 2^G sign vectors is used once instead (`wildboottest`'s rule), so the p-value is
    /// exact and the seed plays no part.
    pub replications: usize,
    /// Seed of the ChaCha8 generator. Default 1.
    pub seed: u64,
    /// Weights; `None` (the default) chooses Webb's below [`WEBB_BELOW_CLUSTERS`] clusters
    /// and Rademacher otherwise.
    pub weights: Option<BootstrapWeights>,
}

impl Default for WildBootstrapOptions {
    fn default() -> Self {
        WildBootstrapOptions {
            replications: 9999,
            seed: 1,
            weights: None,
        }
    }
}

impl WildBootstrapOptions {
    /// Options with `replications`, `seed` and weights chosen by the number of clusters.
    pub fn new(replications: usize, seed: u64) -> Self {
        WildBootstrapOptions {
            replications,
            seed,
            weights: None,
        }
    }

    /// The same options with the weights fixed.
    pub fn with_weights(mut self, weights: BootstrapWeights) -> Self {
        self.weights = Some(weights);
        self
    }
}

/// The wild cluster restricted bootstrap p-value of β.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WildBootstrap {
    /// Two-sided p-value: the share of replications with |t*| > |t|.
    pub p_value: f64,
    /// Replications used (2^G under full enumeration).
    pub replications: usize,
    /// Whether all 2^G Rademacher sign vectors were enumerated.
    pub full_enumeration: bool,
    /// The weights used.
    pub weights: BootstrapWeights,
    /// The seed (unused under full enumeration).
    pub seed: u64,
    /// The CR1 t statistic of β that the replications are compared with.
    pub t_statistic: f64,
    /// Clusters G.
    pub clusters: usize,
}

/// Wild cluster restricted bootstrap (null β = 0 imposed, WCR-11) p-value of the two-way
/// fixed effects β, bootstrapping its CR1 t statistic.
///
/// Deterministic: random weights come from `ChaCha8Rng::seed_from_u64(seed)`, one weight
/// per cluster per replication in cluster order. Matches `wildboottest.wildboottest(model,
/// B, cluster=area, param='D', impose_null=True, bootstrap_type='11')` exactly under full
/// enumeration, and within simulation error otherwise (tests/reference/did.py).
pub fn wild_bootstrap(
    panel: &Panel,
    options: &WildBootstrapOptions,
) -> Result<WildBootstrap, DidError> {
    run(panel, options, false).map(|(w, _)| w)
}

/// [`wild_bootstrap`], also returning every |t*| when `keep` is set (for the tests).
fn run(
    panel: &Panel,
    options: &WildBootstrapOptions,
    keep: bool,
) -> Result<(WildBootstrap, Vec<f64>), DidError> {
    if options.replications == 0 {
        return Err(DidError::Replications);
    }
    let model = twfe_model(panel)?;
    let fit = model.fit()?;
    let g = model.clusters();
    let kk = model.columns();
    let se = checked_se(&model, fit.vcov[0][0])?;
    let t = fit.b[0] / se;
    let a = chol_solve(&fit.chol, &unit(kk, 0));
    // a[0] = e_β'A⁻¹e_β > 0 as A is positive definite (the factorisation succeeded).
    let shift = fit.b[0] / a[0];
    let restricted: Vec<f64> = fit.b.iter().zip(&a).map(|(b, a)| b - a * shift).collect();
    let scores = model.scores(&restricted);
    let c: Vec<f64> = scores.iter().map(|s| dot(&a, s)).collect();
    let d: Vec<Vec<f64>> = scores.iter().map(|s| chol_solve(&fit.chol, s)).collect();
    let h: Vec<Vec<f64>> = model
        .xtx_each_mul(&a)
        .iter()
        .map(|u| d.iter().map(|dh| dot(u, dh)).collect())
        .collect();

    let weights = options.weights.unwrap_or(if g < WEBB_BELOW_CLUSTERS {
        BootstrapWeights::Webb
    } else {
        BootstrapWeights::Rademacher
    });
    let full_enumeration = weights == BootstrapWeights::Rademacher
        && g < 63
        && (1u64 << g) < options.replications as u64;
    let threshold = t.abs() * (1.0 + TIE_TOLERANCE);
    let mut v = vec![0.0; g];
    let mut z = vec![0.0; g];
    let mut exceed = 0usize;
    let mut kept = Vec::new();
    let mut replicate = |v: &[f64]| {
        let numer = dot(&c, v);
        for (gi, zg) in z.iter_mut().enumerate() {
            *zg = c[gi] * v[gi] - dot(&h[gi], v);
        }
        let t_star = numer / (fit.ssc * dot(&z, &z)).sqrt();
        // A NaN (0/0) never exceeds, as in wildboottest.
        if t_star.abs() > threshold {
            exceed += 1;
        }
        if keep {
            kept.push(t_star.abs());
        }
    };
    let replications = if full_enumeration {
        let total = 1usize << g;
        for mask in 0..total {
            for (gi, vg) in v.iter_mut().enumerate() {
                *vg = if mask >> gi & 1 == 1 { 1.0 } else { -1.0 };
            }
            replicate(&v);
        }
        total
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        for _ in 0..options.replications {
            for vg in v.iter_mut() {
                *vg = match weights {
                    BootstrapWeights::Rademacher => {
                        if rng.random::<bool>() {
                            1.0
                        } else {
                            -1.0
                        }
                    }
                    BootstrapWeights::Webb => WEBB[rng.random_range(0..WEBB.len())],
                };
            }
            replicate(&v);
        }
        options.replications
    };
    let result = WildBootstrap {
        p_value: exceed as f64 / replications as f64,
        replications,
        full_enumeration,
        weights,
        seed: options.seed,
        t_statistic: t,
        clusters: g,
    };
    Ok((result, kept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::did::{AreaCovariates, Cell};
    use serde_json::Value;

    /// The enumerated cases of tests/reference/did.py, as panels.
    fn enumerated_cases() -> Vec<(Panel, Value)> {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/did.json");
        let r: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let mut out = Vec::new();
        for case in r["cases"].as_array().unwrap() {
            for (key, y) in [("binary", "yb"), ("frequency", "yf")] {
                if !case[key]["wild"]["full_enumeration"].as_bool().unwrap() {
                    continue;
                }
                let mut launches = vec![None; case["areas"].as_u64().unwrap() as usize];
                for l in case["launches"].as_array().unwrap() {
                    launches[l["area"].as_u64().unwrap() as usize] = l["launch"].as_i64();
                }
                let cells = case["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| Cell {
                        area: c["area"].as_u64().unwrap() as usize,
                        period: c["period"].as_i64().unwrap(),
                        people: c["people"].as_f64().unwrap(),
                        sum_y: c[y]["sum_y"].as_f64().unwrap(),
                        sum_y2: c[y]["sum_y2"].as_f64().unwrap(),
                        sum_x: c["sum_x"]
                            .as_array()
                            .map(|v| v.iter().map(|x| x.as_f64().unwrap()).collect())
                            .unwrap_or_default(),
                    })
                    .collect();
                let covs: Vec<AreaCovariates> = case["area_covariates"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|c| AreaCovariates {
                                xx: c["xx"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .flat_map(|r| r.as_array().unwrap().iter())
                                    .map(|x| x.as_f64().unwrap())
                                    .collect(),
                                xy: c[format!("xy_{y}").as_str()]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|x| x.as_f64().unwrap())
                                    .collect(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let panel = Panel::with_covariates(cells, launches, covs).unwrap();
                out.push((panel, case[key]["wild"].clone()));
            }
        }
        out
    }

    #[test]
    fn every_enumerated_bootstrap_t_agrees_with_wildboottest() {
        // tests/reference/did.py: WildboottestCL's own t_boot under full enumeration,
        // sorted; every 32nd order statistic and the sum of all 2^G values.
        let cases = enumerated_cases();
        assert_eq!(cases.len(), 4);
        for (panel, want) in cases {
            let (got, mut t) = run(&panel, &WildBootstrapOptions::default(), true).unwrap();
            assert!(got.full_enumeration);
            assert_eq!(
                got.replications,
                want["replications"].as_u64().unwrap() as usize
            );
            t.sort_by(f64::total_cmp);
            for o in want["abs_t_boot_order_statistics"].as_array().unwrap() {
                let (i, v) = (
                    o["index"].as_u64().unwrap() as usize,
                    o["value"].as_f64().unwrap(),
                );
                assert!(
                    (t[i] - v).abs() <= 1e-8 * v.abs().max(1.0),
                    "|t*|[{i}]: {} vs {v}",
                    t[i]
                );
            }
            let sum: f64 = t.iter().sum();
            let want_sum = want["abs_t_boot_sum"].as_f64().unwrap();
            assert!(
                (sum - want_sum).abs() <= 1e-9 * want_sum,
                "{sum} vs {want_sum}"
            );
        }
    }
}
