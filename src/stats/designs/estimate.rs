//! The estimates and standard errors of the weighting designs (two passes over the
//! outcome and weight vectors; the terms are not read), and the row every design ends in.

use super::{DesignError, DesignKind, DesignRow};

/// A difference treated minus control with its variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Difference {
    pub estimate: f64,
    pub variance: f64,
}

/// Kish's effective sample size `(Σw)²/Σw²` of the weights selected by `pick`.
pub(crate) fn ess(n: usize, pick: impl Fn(usize) -> bool, w: impl Fn(usize) -> f64) -> f64 {
    let (mut s, mut s2) = (0.0, 0.0);
    for i in (0..n).filter(|&i| pick(i)) {
        let wi = w(i);
        s += wi;
        s2 += wi * wi;
    }
    if s2 > 0.0 { s * s / s2 } else { 0.0 }
}

/// The difference of Hajek (weight-normalised) means, treated minus control, with the
/// sandwich variance of the treatment coefficient of weighted least squares of `y` on an
/// intercept and treatment, `Σ_g Σ_{i∈g} w_i²(y_i - m_g)² / (Σ_{i∈g} w_i)²`, times
/// `n/(n-2)` when `hc1` (statsmodels `WLS(...).fit(cov_type='HC1')`; `n` counts every
/// person, as statsmodels' `nobs` does).
pub(crate) fn hajek(
    treated: &[bool],
    y: impl Fn(usize) -> f64,
    w: impl Fn(usize) -> f64,
    hc1: bool,
) -> Difference {
    let n = treated.len();
    let (mut sw, mut swy) = ([0.0f64; 2], [0.0f64; 2]);
    for (i, &t) in treated.iter().enumerate() {
        let g = usize::from(t);
        let wi = w(i);
        sw[g] += wi;
        swy[g] += wi * y(i);
    }
    let m = [swy[0] / sw[0], swy[1] / sw[1]];
    let mut ss = [0.0f64; 2];
    for (i, &t) in treated.iter().enumerate() {
        let g = usize::from(t);
        let d = w(i) * (y(i) - m[g]);
        ss[g] += d * d;
    }
    let mut variance = ss[1] / (sw[1] * sw[1]) + ss[0] / (sw[0] * sw[0]);
    if hc1 {
        variance *= n as f64 / (n as f64 - 2.0);
    }
    Difference {
        estimate: m[1] - m[0],
        variance,
    }
}

/// Everything a design row needs besides the estimate.
pub(crate) struct RowParts {
    pub ess_treated: f64,
    pub ess_control: f64,
    pub max_abs_smd: Option<f64>,
}

/// The row: normal interval `estimate ± z·se` and two-sided normal p.
pub(crate) fn finish(
    design: DesignKind,
    d: Difference,
    z: f64,
    parts: &RowParts,
) -> Result<DesignRow, DesignError> {
    let se = d.variance.max(0.0).sqrt();
    if !(d.estimate.is_finite() && se.is_finite()) {
        // The inputs were checked, so this needs weights that overflow; say so plainly.
        return Err(DesignError::NoVariation { design });
    }
    let p_value = if se > 0.0 {
        statrs::function::erf::erfc((d.estimate / se).abs() / std::f64::consts::SQRT_2)
    } else if d.estimate == 0.0 {
        1.0
    } else {
        return Err(DesignError::NoVariation { design });
    };
    Ok(DesignRow {
        design,
        estimand: design.estimand(),
        estimate: d.estimate,
        se,
        ci_low: d.estimate - z * se,
        ci_high: d.estimate + z * se,
        p_value,
        ess_treated: parts.ess_treated,
        ess_control: parts.ess_control,
        max_abs_smd: parts.max_abs_smd,
    })
}
