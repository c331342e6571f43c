//! Quantiles and medians: the one place the crate computes them (the rates' median days to
//! first reoffence, a comparison's median days, the Monte Carlo percentiles of costs, the
//! covariate check's median and quartiles).
//!
//! The Kaplan-Meier median (`KaplanMeier::median`) is a different statistic (the first time
//! the curve reaches one half) and stays with the curve.

/// The `q`-quantile of values sorted ascending, by linear interpolation between order
/// statistics (numpy's default, R's type 7); `None` for no values. `q` is clamped to
/// `[0, 1]`.
///
/// ```
/// use reoffending::stats::quantile_sorted;
/// assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
/// assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.25), Some(1.75));
/// assert_eq!(quantile_sorted(&[], 0.5), None);
/// ```
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (pos - lo as f64))
}

/// The median of `values` (any order): the middle value, or the mean of the two middle
/// values of an even count; `None` for no values.
///
/// ```
/// use reoffending::stats::median;
/// assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median([4.0, 1.0, 3.0, 2.0]), Some(2.5));
/// assert_eq!(median(std::iter::empty()), None);
/// ```
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut s: Vec<f64> = values.into_iter().collect();
    s.sort_by(f64::total_cmp);
    quantile_sorted(&s, 0.5)
}

/// The weighted median of `(value, weight)` pairs: the value where the cumulative weight
/// reaches half (the mean of it and the next value where it reaches half exactly), so that
/// with unit weights it is [`median`]; `None` for no values.
///
/// ```
/// use reoffending::stats::weighted_median;
/// assert_eq!(weighted_median(&[(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)]), Some(2.5));
/// assert_eq!(weighted_median(&[(1.0, 3.0), (2.0, 1.0), (3.0, 1.0)]), Some(1.0));
/// ```
pub fn weighted_median(v: &[(f64, f64)]) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = s.iter().map(|x| x.1).sum();
    let half = total / 2.0;
    let mut acc = 0.0;
    for (k, (x, w)) in s.iter().enumerate() {
        acc += w;
        if (acc - half).abs() <= 1e-9 * total {
            return Some(s.get(k + 1).map_or(*x, |next| (x + next.0) / 2.0));
        }
        if acc > half {
            return Some(*x);
        }
    }
    s.last().map(|x| x.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weights_give_the_median() {
        for v in [
            vec![5.0],
            vec![2.0, 9.0],
            vec![7.0, 1.0, 4.0, 4.0, 10.0, 3.0],
        ] {
            let pairs: Vec<(f64, f64)> = v.iter().map(|x| (*x, 1.0)).collect();
            assert_eq!(weighted_median(&pairs), median(v.iter().copied()), "{v:?}");
        }
        assert_eq!(weighted_median(&[]), None);
    }

    #[test]
    fn quantiles_interpolate_and_clamp() {
        let s = [0.0, 10.0, 20.0];
        assert_eq!(quantile_sorted(&s, 0.0), Some(0.0));
        assert_eq!(quantile_sorted(&s, 0.75), Some(15.0));
        assert_eq!(quantile_sorted(&s, 1.5), Some(20.0));
        assert_eq!(quantile_sorted(&[4.0], 0.3), Some(4.0));
    }
}
