//! Greedy nearest-neighbour matching on a score that does not depend on identifiers or row
//! order.
//!
//! People with the same score are exchangeable: which of them a greedy matching picks is an
//! accident of how ties are broken, and breaking them by a hash of the pseudonym made the
//! estimate move when the pseudonyms did. Here ties never reach an identifier:
//!
//! - **Tied controls form a block** (the same score within an exact-matching stratum) whose
//!   capacity is its size. A pilot person who draws `u` places from a block of `m` people
//!   gives each member `u / m` of the draw: the average over every way of breaking the tie
//!   (DOMAIN "Ties do not depend on the pseudonyms"; Sekhon's `Matching` with `ties = TRUE`).
//! - **Tied pilot people form one matched set.** They are taken together (same score, so the
//!   same search); if capacity or the caliper runs out part-way, the `a'` of `a` that found
//!   controls are shared as weight `a' / a` each, again the average over tie-breaks.
//! - Two different blocks at exactly the same distance: the lower score is taken first (a
//!   rule on the data, not on identifiers).
//!
//! A matched set (subclass, MatchIt's `subclass`) is a group of tied pilot people with every
//! control block they drew; with continuous covariates it is one pilot person and their
//! controls, as in MatchIt.

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

/// One row's share of one matched set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member {
    /// The row (index into the scores given to [`nearest_neighbour`]).
    pub row: usize,
    /// The matched set, numbered from 0 in the order sets were formed.
    pub subclass: u32,
    /// The row's weight within this set: for pilot people `a'/a` (1 unless tied pilot
    /// people ran out of controls), for controls the sum over draws of `u / (m k)`.
    pub weight: f64,
}

/// The result: a weight per row (0 = unused) and the matched sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Matches {
    /// Treated rows: the share of their tie group that found controls (1 when matched
    /// alone). Control rows: the sum over the draws that reached them of `u / (m k)`, where
    /// `k` is the number of controls the pilot person got, `u` the places drawn from the
    /// control's block and `m` the block's size.
    pub weights: Vec<f64>,
    /// Every row of every matched set, ordered by set and then row; a control reused by
    /// several sets appears once in each.
    pub members: Vec<Member>,
    /// Number of matched sets.
    pub subclasses: u32,
}

/// Matches each treated row to its nearest control rows with the same exact key (`u64::MAX`
/// leaves a row out; an empty `exact` is every row's key 0, no exact matching).
///
/// Treated people are taken from the highest score down (MatchIt's `m.order = "largest"`).
/// The result depends only on the scores, the groups and the exact keys: renaming people or
/// reordering rows permutes the rows and nothing else.
///
/// ```
/// use reoffending::matching::{MatchSpec, nearest_neighbour};
/// // Two controls tie at 0.5: the pilot person at 0.5 shares its one match between them.
/// let m = nearest_neighbour(
///     &[0.5, 0.5, 0.5, 0.9],
///     &[true, false, false, false],
///     &[0; 4],
///     &MatchSpec { ratio: 1, replace: false, caliper: None },
/// );
/// assert_eq!(m.weights, vec![1.0, 0.5, 0.5, 0.0]);
/// assert_eq!(m.subclasses, 1);
/// ```
pub fn nearest_neighbour(
    score: &[f64],
    treated: &[bool],
    exact: &[u64],
    spec: &MatchSpec,
) -> Matches {
    nearest_neighbour_in_order(score, treated, exact, spec, MatchOrder::Largest)
}

/// The order in which greedy matching takes the pilot tie-groups (pilot people with the same
/// score within an exact-matching stratum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchOrder {
    /// From the highest score down (MatchIt's `m.order = "largest"`): the default.
    #[default]
    Largest,
    /// A random order drawn from `seed`: each tie-group's place is a hash of the seed, its
    /// score and its stratum, so the order depends on the seed and the data only, never on
    /// identifiers or row order. Used to see how much a greedy matching depends on its order.
    Random {
        /// The seed of the order.
        seed: u64,
    },
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// [`nearest_neighbour`] with the pilot tie-groups taken in `order`; with
/// [`MatchOrder::Largest`] it is [`nearest_neighbour`] exactly.
///
/// ```
/// use reoffending::matching::{MatchOrder, MatchSpec, nearest_neighbour, nearest_neighbour_in_order};
/// let (score, treated) = ([0.2, 0.6, 0.3, 0.5], [true, true, false, false]);
/// let spec = MatchSpec { ratio: 1, replace: false, caliper: None };
/// let a = nearest_neighbour(&score, &treated, &[0; 4], &spec);
/// let b = nearest_neighbour_in_order(&score, &treated, &[0; 4], &spec, MatchOrder::Largest);
/// assert_eq!(a, b);
/// // Any order matches everyone here; the pairs may differ.
/// let c = nearest_neighbour_in_order(&score, &treated, &[0; 4], &spec, MatchOrder::Random { seed: 3 });
/// assert_eq!(c.weights.iter().sum::<f64>(), 4.0);
/// ```
// Over 80 lines: greedy nearest-neighbour matching in MatchIt's order (within exact strata,
// caliper, ratio, replacement) over blocks of tied controls.
pub fn nearest_neighbour_in_order(
    score: &[f64],
    treated: &[bool],
    exact: &[u64],
    spec: &MatchSpec,
    order: MatchOrder,
) -> Matches {
    Matcher::new(score, treated, exact).run(spec, order)
}

/// One exact-matching stratum, prepared: pilot rows from the highest score down and their
/// tie groups, comparison rows in blocks of tied scores.
struct Stratum {
    key: u64,
    ts: Vec<usize>,
    groups: Vec<(usize, usize)>,
    blocks: Vec<Vec<usize>>,
    bscore: Vec<f64>,
}

/// Greedy matching prepared once (strata, sorted scores, tied blocks) to be run in several
/// orders: [`Matcher::run`] with a spec and an order is
/// [`nearest_neighbour_in_order`] without the sorting.
///
/// ```
/// use reoffending::matching::{MatchOrder, MatchSpec, Matcher, nearest_neighbour};
/// let (score, treated) = ([0.2, 0.6, 0.3, 0.5], [true, true, false, false]);
/// let spec = MatchSpec { ratio: 1, replace: false, caliper: None };
/// let matcher = Matcher::new(&score, &treated, &[0; 4]);
/// assert_eq!(matcher.run(&spec, MatchOrder::Largest), nearest_neighbour(&score, &treated, &[0; 4], &spec));
/// ```
pub struct Matcher<'a> {
    score: &'a [f64],
    strata: Vec<Stratum>,
}

impl<'a> Matcher<'a> {
    /// Sorts each exact-matching stratum (`u64::MAX` leaves a row out; an empty `exact` is
    /// every row's key 0) once.
    pub fn new(score: &'a [f64], treated: &[bool], exact: &[u64]) -> Matcher<'a> {
        let n = score.len();
        let key = |i: usize| if exact.is_empty() { 0 } else { exact[i] };
        let mut by_exact: std::collections::BTreeMap<u64, (Vec<usize>, Vec<usize>)> =
            Default::default();
        for (i, &t) in treated.iter().enumerate().take(n) {
            if key(i) == u64::MAX {
                continue;
            }
            let e = by_exact.entry(key(i)).or_default();
            if t { e.0.push(i) } else { e.1.push(i) }
        }
        let strata = by_exact
            .into_iter()
            .map(|(key, (mut ts, mut cs))| {
                // Row order within a score is kept only to list members in a fixed order; it
                // decides nothing.
                cs.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
                ts.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
                let mut blocks: Vec<Vec<usize>> = Vec::new();
                let mut bscore: Vec<f64> = Vec::new();
                for &c in &cs {
                    match (blocks.last_mut(), bscore.last()) {
                        (Some(b), Some(v)) if v.total_cmp(&score[c]).is_eq() => b.push(c),
                        _ => {
                            blocks.push(vec![c]);
                            bscore.push(score[c]);
                        }
                    }
                }
                // The tie groups (pilot people with one score), from the highest score down.
                let mut groups: Vec<(usize, usize)> = Vec::new();
                let mut start = 0;
                while start < ts.len() {
                    let s = score[ts[start]];
                    let end =
                        start + ts[start..].partition_point(|&t| score[t].total_cmp(&s).is_eq());
                    groups.push((start, end));
                    start = end;
                }
                Stratum {
                    key,
                    ts,
                    groups,
                    blocks,
                    bscore,
                }
            })
            .collect();
        Matcher { score, strata }
    }

    /// Matches with `spec`, taking the pilot tie groups in `order`.
    // Over 80 lines: greedy nearest-neighbour matching in MatchIt's order (within exact strata,
    // caliper, ratio, replacement) over blocks of tied controls.
    pub fn run(&self, spec: &MatchSpec, order: MatchOrder) -> Matches {
        self.run_inner(spec, order, true, Vec::new())
    }

    /// Each row's weight only ([`Matches::weights`]), without listing the matched sets:
    /// what a summary of the matched sample needs, at a fraction of the cost when tied
    /// blocks are large.
    pub fn weights(&self, spec: &MatchSpec, order: MatchOrder) -> Vec<f64> {
        self.weights_in(spec, order, Vec::new())
    }

    /// [`weights`](Self::weights) written into `buffer` (its contents replaced), so that
    /// repeated runs reuse one allocation instead of a new one per run.
    pub fn weights_in(&self, spec: &MatchSpec, order: MatchOrder, buffer: Vec<f64>) -> Vec<f64> {
        self.run_inner(spec, order, false, buffer).weights
    }

    /// The matching into `weights` (cleared first).
    fn run_inner(
        &self,
        spec: &MatchSpec,
        order: MatchOrder,
        sets: bool,
        mut weights: Vec<f64>,
    ) -> Matches {
        let score = self.score;
        let n = score.len();
        weights.clear();
        weights.resize(n, 0.0);
        let mut members: Vec<Member> = Vec::new();
        let mut subclass = 0u32;
        let ratio = spec.ratio.max(1) as f64;
        for st in &self.strata {
            let (ts, bscore, key) = (&st.ts, &st.bscore, st.key);
            let mut capacity: Vec<f64> = st.blocks.iter().map(|b| b.len() as f64).collect();
            let m = st.blocks.len();
            // Skip lists over exhausted blocks: next live block to the left / right.
            let mut left: Vec<usize> = (0..=m).collect(); // left[j+1] -> live index <= j, +1
            let mut right: Vec<usize> = (0..=m).collect(); // right[j] -> live index >= j
            let mut groups = st.groups.clone();
            if let MatchOrder::Random { seed } = order {
                // Distinct scores hash to distinct keys but for a 2^-64 chance; the score
                // breaks such a tie, so the order is a function of the seed and the data.
                let place = |g: &(usize, usize)| {
                    let s = score[ts[g.0]];
                    (mix(mix(seed ^ mix(key)) ^ s.to_bits()), s.to_bits())
                };
                groups.sort_by_cached_key(place);
            }
            for (start, end) in groups {
                let group = &ts[start..end];
                let s = score[group[0]];
                let pos = bscore.partition_point(|&v| v < s);
                // Each pilot person of the group draws in turn; identical searches, so the
                // draws do not depend on which of them goes first.
                let mut draws: Vec<(usize, f64)> = Vec::new(); // (block, share of one person)
                let mut found = 0usize;
                for _ in group {
                    let mut mine: Vec<(usize, f64)> = Vec::new();
                    let mut need = ratio;
                    let (mut l, mut r) = (pos, pos);
                    while need > 0.0 {
                        let (cand_l, cand_r) = if spec.replace {
                            ((l > 0).then(|| l - 1), (r < m).then_some(r))
                        } else {
                            let a = find(&mut left, pos);
                            let b = find(&mut right, pos);
                            ((a > 0).then(|| a - 1), (b < m).then_some(b))
                        };
                        let pick = match (cand_l, cand_r) {
                            (None, None) => break,
                            (Some(a), None) => a,
                            (None, Some(b)) => b,
                            (Some(a), Some(b)) => {
                                // Equal distances: the lower score, a rule on the data.
                                if (s - bscore[a]).abs() <= (bscore[b] - s).abs() {
                                    a
                                } else {
                                    b
                                }
                            }
                        };
                        if spec.caliper.is_some_and(|c| (bscore[pick] - s).abs() > c) {
                            break;
                        }
                        let take = need.min(capacity[pick]);
                        mine.push((pick, take));
                        need -= take;
                        if spec.replace {
                            if Some(pick) == cand_l { l -= 1 } else { r += 1 }
                        } else {
                            capacity[pick] -= take;
                            if capacity[pick] <= 0.0 {
                                left[pick + 1] = pick;
                                right[pick] = pick + 1;
                            }
                        }
                    }
                    let k: f64 = mine.iter().map(|d| d.1).sum();
                    if k > 0.0 {
                        found += 1;
                        draws.extend(mine.into_iter().map(|(b, u)| (b, u / k)));
                    }
                }
                if found == 0 {
                    continue;
                }
                // `found` of the group's `a` people have controls: each is matched with weight
                // found / a, and the controls' shares are as drawn.
                let share = found as f64 / group.len() as f64;
                for &t in group {
                    weights[t] += share;
                }
                let blocks = block_weights(&st.blocks, draws, &mut weights);
                if !sets {
                    subclass += 1;
                    continue;
                }
                // The set's rows in order, each once (a block drawn several times gives its
                // members the sum of the draws).
                let mut set: Vec<(usize, f64)> = group.iter().map(|&t| (t, share)).collect();
                for (b, w) in blocks {
                    set.extend(st.blocks[b].iter().map(|&c| (c, w)));
                }
                set.sort_by_key(|x| x.0);
                members.extend(set.into_iter().map(|(row, weight)| Member {
                    row,
                    subclass,
                    weight,
                }));
                subclass += 1;
            }
        }
        Matches {
            weights,
            members,
            subclasses: subclass,
        }
    }
}

/// Adds a matched set's draws `(block, share)` to the weights of the blocks' members, and
/// gives each block drawn its members' weight within the set: the sum of `share / size` over
/// its draws, in the order drawn.
///
/// Each draw gives every member of its block the same amount, and a control belongs to one
/// block only, so the members of a block have the same weight at every step: the sums are
/// made once per block (not once per member and draw, which took seconds when thousands of
/// pilot people tied and drew from blocks of thousands) and come out bit for bit as they
/// would member by member.
fn block_weights(
    blocks: &[Vec<usize>],
    mut draws: Vec<(usize, f64)>,
    weights: &mut [f64],
) -> Vec<(usize, f64)> {
    // By block, each block's draws in the order drawn (the sort is stable).
    draws.sort_by_key(|d| d.0);
    let mut out = Vec::new();
    for run in draws.chunk_by(|a, b| a.0 == b.0) {
        let b = run[0].0;
        let size = blocks[b].len() as f64;
        // The member's weight within this set, and the running total of one member.
        let mut within: Option<f64> = None;
        let add = |mut total: f64| {
            for &(_, u) in run {
                total += u / size;
            }
            total
        };
        for &(_, u) in run {
            let w = u / size;
            within = Some(within.map_or(w, |x| x + w));
        }
        // Members that share a running total (all of them, as argued above) share its new
        // value; one that did not would get its own.
        let mut last: Option<(u64, f64)> = None;
        for &c in &blocks[b] {
            let before = weights[c];
            let after = match last {
                Some((bits, after)) if bits == before.to_bits() => after,
                _ => add(before),
            };
            last = Some((before.to_bits(), after));
            weights[c] = after;
        }
        if let Some(w) = within {
            out.push((b, w));
        }
    }
    out
}

/// Root of `x` in a skip list, with path compression.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ratio: usize, replace: bool, caliper: Option<f64>) -> MatchSpec {
        MatchSpec {
            ratio,
            replace,
            caliper,
        }
    }

    #[test]
    fn one_to_one_without_replacement_uses_each_control_once() {
        let score = [0.5, 0.52, 0.9, 0.49, 0.51, 0.95, 0.1];
        let treated = [true, true, true, false, false, false, false];
        let m = nearest_neighbour(&score, &treated, &[0; 7], &spec(1, false, None));
        assert_eq!(m.weights, vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
        assert_eq!(m.subclasses, 3);
        // Sets are formed from the highest score down: 0.9 takes 0.95, 0.52 takes 0.51,
        // 0.5 takes 0.49.
        let set_of = |row| m.members.iter().find(|x| x.row == row).unwrap().subclass;
        assert_eq!(set_of(2), set_of(5));
        assert_eq!(set_of(1), set_of(4));
        assert_eq!(set_of(0), set_of(3));
    }

    #[test]
    fn caliper_discards_far_matches_and_replacement_reuses() {
        let score = [0.0, 0.05, 1.0, 0.02];
        let treated = [true, true, true, false];
        let m = nearest_neighbour(&score, &treated, &[0; 4], &spec(1, true, Some(0.1)));
        assert_eq!(m.weights, vec![1.0, 1.0, 0.0, 2.0]);
        let m = nearest_neighbour(&score, &treated, &[0; 4], &spec(1, false, Some(0.1)));
        assert_eq!(m.weights.iter().filter(|w| **w > 0.0).count(), 2);
    }

    #[test]
    fn tied_controls_share_the_draw_and_tied_pilots_share_the_shortage() {
        // Three controls tie at 0.3, one sits at 0.8; two pilot people tie at 0.3 and a
        // caliper of 0.1 keeps the 0.8 out of reach.
        let score = [0.3, 0.3, 0.3, 0.3, 0.3, 0.8];
        let treated = [true, true, false, false, false, false];
        let m = nearest_neighbour(&score, &treated, &[0; 6], &spec(1, false, Some(0.1)));
        let third = 2.0 / 3.0;
        assert_eq!(m.weights[..2], [1.0, 1.0]);
        for w in &m.weights[2..5] {
            assert!((w - third).abs() < 1e-15);
        }
        assert_eq!(m.weights[5], 0.0);
        assert_eq!(m.subclasses, 1);
        // Three pilot people, two controls in reach: each pilot person 2/3, each control 1.
        let score = [0.3, 0.3, 0.3, 0.3, 0.3, 0.8];
        let treated = [true, true, true, false, false, false];
        let m = nearest_neighbour(&score, &treated, &[0; 6], &spec(1, false, Some(0.1)));
        for w in &m.weights[..3] {
            assert!((w - third).abs() < 1e-15);
        }
        assert_eq!(m.weights[3..], [1.0, 1.0, 0.0]);
    }

    #[test]
    fn a_seeded_order_is_reproducible_and_the_default_is_largest_first() {
        let n = 300;
        let score: Vec<f64> = (0..n)
            .map(|i| f64::from((i * 7 % 23) as u8) / 10.0)
            .collect();
        let treated: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
        let sp = spec(1, false, Some(0.25));
        let a = nearest_neighbour(&score, &treated, &vec![0; n], &sp);
        let b = nearest_neighbour_in_order(&score, &treated, &vec![0; n], &sp, MatchOrder::Largest);
        assert_eq!(a, b);
        let r1 = nearest_neighbour_in_order(
            &score,
            &treated,
            &vec![0; n],
            &sp,
            MatchOrder::Random { seed: 9 },
        );
        let r2 = nearest_neighbour_in_order(
            &score,
            &treated,
            &vec![0; n],
            &sp,
            MatchOrder::Random { seed: 9 },
        );
        assert_eq!(r1, r2);
        // Each group finds controls in any order here, so the pilot weights agree.
        for i in (0..n).filter(|&i| treated[i]) {
            assert_eq!(r1.weights[i], a.weights[i]);
        }
    }

    #[test]
    fn relabelling_rows_permutes_the_result_and_nothing_else() {
        // Many ties: scores on a coarse grid.
        let n = 200;
        let score: Vec<f64> = (0..n)
            .map(|i| f64::from((i * 7 % 13) as u8) / 10.0)
            .collect();
        let treated: Vec<bool> = (0..n).map(|i| i % 5 == 0).collect();
        let perm: Vec<usize> = (0..n).map(|i| (i * 67 + 11) % n).collect(); // a bijection: 67 is prime to 200
        let s2: Vec<f64> = perm.iter().map(|&p| score[p]).collect();
        let t2: Vec<bool> = perm.iter().map(|&p| treated[p]).collect();
        for sp in [
            spec(1, false, Some(0.15)),
            spec(2, false, None),
            spec(3, true, Some(0.2)),
        ] {
            let a = nearest_neighbour(&score, &treated, &vec![0; n], &sp);
            let b = nearest_neighbour(&s2, &t2, &vec![0; n], &sp);
            for (k, &p) in perm.iter().enumerate() {
                assert!(
                    (a.weights[p] - b.weights[k]).abs() < 1e-12,
                    "{sp:?} row {p}"
                );
            }
            assert_eq!(a.subclasses, b.subclasses);
        }
    }
}
