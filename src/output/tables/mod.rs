//! Every result as the tables a person reads: one file per result, each implementing
//! [`Tabular`](super::Tabular) (whose `Display` and `evcxr_display` come from one macro).

pub(crate) mod compare;
pub(crate) mod costs;
pub(crate) mod did;
pub(crate) mod effect;
pub(crate) mod matching;
pub(crate) mod monitor;
pub(crate) mod quality;
pub(crate) mod rates;
pub(crate) mod survival;

use serde_json::Value;

pub(crate) use super::tabular::array_records;
use super::tabular::{plain_fields, tabular_display};

tabular_display!(
    crate::measure::Rates,
    crate::compare::Comparison,
    crate::matching::MatchedComparison,
    crate::effect::Effects,
    crate::survival::SurvivalAnalysis,
    crate::monitor::Monitor,
    crate::costs::CostBenefit,
    crate::did::AreaDid,
    crate::data::DataQuality,
);

/// The array under `key` as records; when it is missing or empty, the result's plain fields
/// as one record.
pub(crate) fn records_or_plain(v: &Value, key: &str) -> Vec<Value> {
    match v.get(key) {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        _ => vec![plain_fields(v)],
    }
}

/// Survival groups as one record per Kaplan-Meier row, with the group's keys.
pub(crate) fn km_records(json: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for g in json
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Value::Object(m) = g else { continue };
        let keys: serde_json::Map<String, Value> = m
            .iter()
            .filter(|(_, v)| v.is_string() || v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for row in m
            .get("table")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut r = keys.clone();
            if let Value::Object(cells) = row {
                r.extend(cells.clone());
            }
            out.push(Value::Object(r));
        }
    }
    out
}
