//! Small dense linear algebra for the regression fitters (p is at most a few hundred).

// Index loops over rows and columns follow the matrix formulas they compute (X'WX,
// information matrices), where iterators would hide which index is which.
#![allow(clippy::needless_range_loop)]

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` if singular.
pub(crate) fn solve(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let mut x = solve_each(a, &[b])?;
    x.pop()
}

/// Solves `a x = b` for each `b` of `bs` by one Gauss-Jordan elimination with partial
/// pivoting (the right-hand sides as extra columns); `None` if singular. Each solution is
/// bit for bit what [`solve`] alone gives it: the pivots and multipliers depend on `a` only,
/// and each right-hand side column goes through the same operations in the same order.
fn solve_each(a: &[Vec<f64>], bs: &[&[f64]]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let k = bs.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend(bs.iter().map(|b| b[i]));
            r
        })
        .collect();
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |s, v| s.max(v.abs()))
        .max(1e-300);
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[piv][col].abs() <= 1e-12 * scale {
            return None;
        }
        m.swap(col, piv);
        let (above, rest) = m.split_at_mut(col);
        let (pivot, below) = rest.split_first_mut()?;
        for row in above.iter_mut().chain(below.iter_mut()) {
            let f = row[col] / pivot[col];
            if f != 0.0 {
                for c in col..n + k {
                    row[c] -= f * pivot[c];
                }
            }
        }
    }
    Some(
        (0..k)
            .map(|j| (0..n).map(|i| m[i][n + j] / m[i][i]).collect())
            .collect(),
    )
}

/// Inverts a symmetric positive-definite matrix; `None` if singular. One elimination for
/// all the columns of the identity (a column at a time took p times as long: 200 terms, a
/// second and a half).
pub(crate) fn invert(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let identity: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..n).map(|i| f64::from(u8::from(i == j))).collect())
        .collect();
    let columns: Vec<&[f64]> = identity.iter().map(Vec::as_slice).collect();
    let cols = solve_each(a, &columns)?;
    Some(
        (0..n)
            .map(|i| (0..n).map(|j| cols[j][i]).collect())
            .collect(),
    )
}
