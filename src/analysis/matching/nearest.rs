//! Greedy nearest-neighbour matching on a score, deterministic whatever the row order.

/// How to match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchSpec {
    /// Controls per treated person.
    pub ratio: usize,
    /// Whether controls can be reused.
    pub replace: bool,
    /// Maximum score distance (none: unlimited).
    pub caliper: Option<f64>,
}

/// The result: a weight per row (0 = unused), and the pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Matches {
    /// Treated rows: 1 if matched. Control rows: the sum over their matches of 1/k, where k
    /// is the number of controls the treated person got.
    pub weights: Vec<f64>,
    /// (treated row, control row) pairs.
    pub pairs: Vec<(usize, usize)>,
}

/// Matches each treated row to its nearest control rows with the same exact key.
///
/// Treated people are taken from the highest score down (MatchIt's `m.order = "largest"`);
/// ties in score or distance are broken by `key` (a hash of the person identifier), so the
/// result does not depend on the order of the input rows.
// Over 80 lines: greedy nearest-neighbour matching in MatchIt's order (within exact strata,
// caliper, ratio, replacement).
pub fn nearest_neighbour(
    score: &[f64],
    treated: &[bool],
    exact: &[u64],
    key: &[u64],
    spec: &MatchSpec,
) -> Matches {
    let n = score.len();
    let mut weights = vec![0.0; n];
    let mut pairs = Vec::new();
    let mut by_exact: std::collections::BTreeMap<u64, (Vec<usize>, Vec<usize>)> =
        Default::default();
    for i in 0..n {
        if exact[i] == u64::MAX {
            continue;
        }
        let e = by_exact.entry(exact[i]).or_default();
        if treated[i] { e.0.push(i) } else { e.1.push(i) }
    }
    for (_, (mut ts, mut cs)) in by_exact {
        cs.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(key[a].cmp(&key[b])));
        ts.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(key[a].cmp(&key[b])));
        let cscore: Vec<f64> = cs.iter().map(|&c| score[c]).collect();
        // Skip lists over used controls: next unused to the left / right (path compressed).
        let m = cs.len();
        let mut left: Vec<usize> = (0..=m).collect(); // left[j+1] -> unused index <= j, +1
        let mut right: Vec<usize> = (0..=m).collect(); // right[j] -> unused index >= j
        fn find(p: &mut [usize], mut x: usize) -> usize {
            let mut root = x;
            while p[root] != root {
                root = p[root];
            }
            while p[x] != root {
                let next = p[x];
                p[x] = root;
                x = next;
            }
            root
        }
        for &t in &ts {
            let s = score[t];
            let pos = cscore.partition_point(|&v| v < s);
            let mut chosen = Vec::new();
            // Without replacement, used controls are skipped through the two chains; with
            // replacement, the search simply widens from `pos`.
            let (mut l, mut r) = (pos, pos);
            while chosen.len() < spec.ratio {
                let (cand_l, cand_r) = if spec.replace {
                    ((l > 0).then(|| l - 1), (r < m).then_some(r))
                } else {
                    let a = find(&mut left, pos); // the nearest unused index below pos is a - 1
                    let b = find(&mut right, pos);
                    ((a > 0).then(|| a - 1), (b < m).then_some(b))
                };
                let pick = match (cand_l, cand_r) {
                    (None, None) => break,
                    (Some(a), None) => a,
                    (None, Some(b)) => b,
                    (Some(a), Some(b)) => closer(s, a, b, &cscore, &cs, key),
                };
                if spec.caliper.is_some_and(|c| (cscore[pick] - s).abs() > c) {
                    break;
                }
                chosen.push(pick);
                if spec.replace {
                    if Some(pick) == cand_l { l -= 1 } else { r += 1 }
                } else {
                    // Mark used: the left chain skips to the one before, the right to the one after.
                    left[pick + 1] = pick;
                    right[pick] = pick + 1;
                }
            }
            if chosen.is_empty() {
                continue;
            }
            weights[t] = 1.0;
            let w = 1.0 / chosen.len() as f64;
            for j in chosen {
                weights[cs[j]] += w;
                pairs.push((t, cs[j]));
            }
        }
    }
    Matches { weights, pairs }
}

fn closer(s: f64, a: usize, b: usize, cscore: &[f64], cs: &[usize], key: &[u64]) -> usize {
    let (da, db) = ((s - cscore[a]).abs(), (cscore[b] - s).abs());
    if da < db || (da == db && key[cs[a]] <= key[cs[b]]) {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_one_without_replacement_uses_each_control_once() {
        let score = [0.5, 0.52, 0.9, 0.49, 0.51, 0.95, 0.1];
        let treated = [true, true, true, false, false, false, false];
        let spec = MatchSpec {
            ratio: 1,
            replace: false,
            caliper: None,
        };
        let m = nearest_neighbour(&score, &treated, &[0; 7], &[1, 2, 3, 4, 5, 6, 7], &spec);
        let mut pairs = m.pairs.clone();
        pairs.sort();
        assert_eq!(pairs, vec![(0, 3), (1, 4), (2, 5)]);
        assert_eq!(m.weights[6], 0.0);
    }

    #[test]
    fn caliper_discards_far_matches_and_replacement_reuses() {
        let score = [0.0, 0.05, 1.0, 0.02];
        let treated = [true, true, true, false];
        let spec = MatchSpec {
            ratio: 1,
            replace: true,
            caliper: Some(0.1),
        };
        let m = nearest_neighbour(&score, &treated, &[0; 4], &[1, 2, 3, 4], &spec);
        assert_eq!(m.weights, vec![1.0, 1.0, 0.0, 2.0]);
        let spec = MatchSpec {
            ratio: 1,
            replace: false,
            caliper: Some(0.1),
        };
        let m = nearest_neighbour(&score, &treated, &[0; 4], &[1, 2, 3, 4], &spec);
        assert_eq!(m.weights.iter().filter(|w| **w > 0.0).count(), 2);
    }
}
