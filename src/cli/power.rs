//! `power`: a calculator, not an analysis of data.

use serde_json::json;

use super::args::PowerArgs;
use super::output::{Rendered, emit};
use reoffending::output::{plain_fields, records_to_csv};
use reoffending::present::Table;
use reoffending::{Error, Result};

/// `power`: people needed to detect a change, or the change detectable with n people.
// Over 80 lines: the two questions `power` answers (people needed, change detectable) with their
// tables.
pub fn power(a: PowerArgs) -> Result<()> {
    let PowerArgs {
        out,
        baseline_rate: baseline,
        target_rate: target,
        alpha,
        power,
        groups,
        n,
        ratio,
    } = a;
    use reoffending::stats::{
        ONE_SAMPLE_METHOD, TWO_SAMPLE_METHOD, detectable_one, detectable_two, sample_size_one,
        sample_size_two,
    };
    let method = if groups == 1 {
        ONE_SAMPLE_METHOD
    } else {
        TWO_SAMPLE_METHOD
    };
    let mut t = Table::new("Power", &["quantity", "value"], 1);
    let value = match (n, target) {
        (Some(n), _) => {
            let d = if groups == 1 {
                detectable_one(n as f64, baseline, alpha, power)?
            } else {
                detectable_two(n as f64, n as f64 * ratio, baseline, alpha, power)?
            };
            let f = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0));
            t.push(vec![
                Some("people in the pilot group".into()),
                Some(n.to_string()),
            ]);
            t.push(vec![
                Some("lowest rate detectable below the baseline".into()),
                f(d.min_detectable_rate_lower),
            ]);
            t.push(vec![
                Some("highest rate detectable above it".into()),
                f(d.min_detectable_rate_upper),
            ]);
            json!({
                "n": n, "groups": groups, "baseline_rate": baseline, "alpha": alpha, "power": power,
                "ratio": if groups == 2 { Some(ratio) } else { None },
                "min_detectable_rate_lower": d.min_detectable_rate_lower,
                "min_detectable_rate_upper": d.min_detectable_rate_upper,
                "method": method,
            })
        }
        (None, Some(p1)) => {
            let (n_total, n_per_group, exact) = if groups == 1 {
                let x = sample_size_one(baseline, p1, alpha, power)?;
                (x.ceil() as u64, None, x)
            } else {
                let x = sample_size_two(p1, baseline, alpha, power, ratio)?;
                let n1 = x.ceil() as u64;
                let n2 = (x * ratio).ceil() as u64;
                (n1 + n2, Some(n1), x)
            };
            t.push(vec![
                Some("people needed in all".into()),
                Some(n_total.to_string()),
            ]);
            if let Some(g) = n_per_group {
                t.push(vec![Some("in the pilot group".into()), Some(g.to_string())]);
                t.push(vec![
                    Some("in the comparison group".into()),
                    Some((n_total - g).to_string()),
                ]);
            }
            json!({
                "n": n_total, "n_per_group": n_per_group, "n_exact": exact, "groups": groups,
                "baseline_rate": baseline, "target_rate": p1, "alpha": alpha, "power": power,
                "ratio": if groups == 2 { Some(ratio) } else { None },
                "method": method,
            })
        }
        (None, None) => {
            return Err(Error::Option {
                option: "--target-rate".into(),
                message: "give --target-rate, or --n for the minimum detectable rate".into(),
            });
        }
    };
    t.notes.push(format!(
        "method: {method}; two-sided alpha {alpha}, power {power}"
    ));
    emit(
        &out,
        &Rendered {
            csv: records_to_csv(&[plain_fields(&value)]),
            json: value,
            tables: vec![t],
            header: None,
        },
    )
}
