//! Adjusting p-values for several comparisons (as statsmodels `multipletests`).

use serde::Serialize;

use super::errors::ArgumentError;

/// How p-values of several subgroup comparisons are adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Adjustment {
    /// Holm's step-down method (controls the family-wise error rate). Default.
    #[default]
    Holm,
    /// Benjamini-Hochberg (controls the false discovery rate).
    BenjaminiHochberg,
    /// No adjustment.
    None,
}

impl std::str::FromStr for Adjustment {
    type Err = ArgumentError;
    fn from_str(s: &str) -> std::result::Result<Self, ArgumentError> {
        match s {
            "holm" => Ok(Adjustment::Holm),
            "bh" | "fdr_bh" | "benjamini-hochberg" => Ok(Adjustment::BenjaminiHochberg),
            "none" => Ok(Adjustment::None),
            _ => Err(ArgumentError::new(
                "adjust",
                format!("`{s}`: expected holm, bh or none"),
            )),
        }
    }
}

/// Adjusted p-values, in the order given.
///
/// ```
/// use reoffending::stats::{adjust, Adjustment};
/// let p = adjust(&[0.01, 0.04, 0.03], Adjustment::Holm);
/// assert_eq!(p, vec![0.03, 0.06, 0.06]);
/// ```
pub fn adjust(p: &[f64], method: Adjustment) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; m];
    match method {
        Adjustment::None => out.copy_from_slice(p),
        Adjustment::Holm => {
            let mut running = 0.0f64;
            for (k, &i) in order.iter().enumerate() {
                running = running.max(((m - k) as f64 * p[i]).min(1.0));
                out[i] = running;
            }
        }
        Adjustment::BenjaminiHochberg => {
            let mut running = 1.0f64;
            for (k, &i) in order.iter().enumerate().rev() {
                running = running.min((m as f64 / (k + 1) as f64 * p[i]).min(1.0));
                out[i] = running;
            }
        }
    }
    out
}
