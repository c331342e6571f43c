//! Scale benchmarks of the models on synthetic arrays (`cargo bench --bench models`).
//!
//! Targets (2 cores): Kaplan-Meier and log-rank on 10 million people in seconds; Cox on
//! 1 million people with 10 covariates under a minute; propensity model and matching of
//! 100,000 pilot people against 1,000,000 candidates with 10 covariates under 30 seconds.
//! Set `MODELS_SCALE=0.1` for a quick run.

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reoffending::matching::{MatchSpec, nearest_neighbour};
use reoffending::stats::{KaplanMeier, KmInterval, Ties, cox, logistic, logrank};

fn main() {
    let scale: f64 = std::env::var("MODELS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let p = 10;

    // Kaplan-Meier and log-rank on 10 million people (days 1..365, heavy ties).
    let n = (10_000_000.0 * scale) as usize;
    let group: Vec<usize> = (0..n)
        .map(|_| usize::from(rng.random::<f64>() < 0.2))
        .collect();
    let time: Vec<f64> = (0..n).map(|_| rng.random_range(1..=365) as f64).collect();
    let event: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < 0.3).collect();
    let t = Instant::now();
    let km = KaplanMeier::fit(&time, &event, 0.95, KmInterval::LogLog).unwrap();
    println!(
        "kaplan-meier   n={n:>10}: {:>7.2} s ({} rows)",
        t.elapsed().as_secs_f64(),
        km.table.len()
    );
    let t = Instant::now();
    let lr = logrank(&time, &event, &group, None).unwrap();
    println!(
        "log-rank       n={n:>10}: {:>7.2} s (chi2 {:.2})",
        t.elapsed().as_secs_f64(),
        lr.statistic
    );

    // Cox on 1 million people with 10 covariates.
    let n = (1_000_000.0 * scale) as usize;
    let x: Vec<Vec<f64>> = (0..p)
        .map(|j| {
            (0..n)
                .map(|_| {
                    if j % 2 == 0 {
                        rng.random::<f64>()
                    } else {
                        f64::from(rng.random::<f64>() < 0.4)
                    }
                })
                .collect()
        })
        .collect();
    let eta: Vec<f64> = (0..n)
        .map(|i| (0..p).map(|j| 0.1 * (j as f64 - 4.5) * x[j][i]).sum())
        .collect();
    let time: Vec<f64> = eta
        .iter()
        .map(|e| {
            (-(rng.random::<f64>().ln()) / (0.002 * e.exp()))
                .ceil()
                .min(365.0)
        })
        .collect();
    let event: Vec<bool> = time.iter().map(|t| *t < 365.0).collect();
    let names: Vec<String> = (0..p).map(|j| format!("x{j}")).collect();
    let t = Instant::now();
    let fit = cox(&time, &event, &x, &names, Ties::Efron, 0.95).unwrap();
    println!(
        "cox (efron)    n={n:>10}, p={p}: {:>7.2} s ({} iterations)",
        t.elapsed().as_secs_f64(),
        fit.iterations
    );

    // Propensity model and matching: 100,000 pilot people, 1,000,000 candidates.
    let (nt, nc) = ((100_000.0 * scale) as usize, (1_000_000.0 * scale) as usize);
    let n = nt + nc;
    let treated: Vec<bool> = (0..n).map(|i| i < nt).collect();
    let x: Vec<Vec<f64>> = (0..p)
        .map(|j| {
            (0..n)
                .map(|i| rng.random::<f64>() + if i < nt { 0.05 * j as f64 } else { 0.0 })
                .collect()
        })
        .collect();
    let t = Instant::now();
    let fit = logistic(&treated, &x, &names).unwrap();
    let fit_s = t.elapsed().as_secs_f64();
    let logit: Vec<f64> = (0..n).map(|i| fit.linear_predictor(&x, i)).collect();
    let t2 = Instant::now();
    let m = nearest_neighbour(
        &logit,
        &treated,
        &vec![0; n],
        &MatchSpec {
            ratio: 1,
            replace: false,
            caliper: Some(0.05),
        },
    );
    println!(
        "propensity     n={n:>10}, p={p}: {:>7.2} s fit ({} iterations) + {:.2} s matching ({} matched sets)",
        fit_s,
        fit.iterations,
        t2.elapsed().as_secs_f64(),
        m.subclasses
    );
}
