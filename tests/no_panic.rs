//! No input makes loading panic: random, malformed tables give a result or an error.

mod common;

use common::*;
use proptest::prelude::*;
use reoffending::{Evaluation, Inputs, LoadOptions, Rules};

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("2021-01-01".to_string()),
        Just("2021-02-30".to_string()),
        Just("31/12/2021".to_string()),
        Just("divert".to_string()),
        Just("\"quoted, comma\"".to_string()),
        Just("\"unterminated".to_string()),
        Just("é€😀".to_string()),
        Just("NaN".to_string()),
        Just("-1".to_string()),
        "[a-z0-9 ]{0,6}",
    ]
}

fn table(header: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::collection::vec(field(), 0..6), 0..12).prop_map(move |rows| {
        let mut s = format!("{header}\n");
        for r in rows {
            s.push_str(&r.join(","));
            s.push('\n');
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn malformed_tables_never_panic(
        cohort in table("person_id,cohort,index_date,age_at_index"),
        offences in table("person_id,offence_date,disposal_date,offence_type"),
    ) {
        let f = files(&cohort, &offences);
        let inputs = Inputs { cohort: f.cohort.clone(), offences: f.offences.clone(), load: LoadOptions::default() };
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(e) = Evaluation::load(&inputs, Rules::default()) {
                let q = &e.quality;
                // Attrition adds up whatever the input.
                assert_eq!(q.rows_read.cohort, q.rows_used.cohort + q.excluded_total(reoffending::TableKind::Cohort));
                assert_eq!(q.rows_read.offences, q.rows_used.offences + q.excluded_total(reoffending::TableKind::Offences));
                let _ = reoffending::Rates::compute(&e.data.people, &e.outcomes, &Default::default());
            }
        });
        prop_assert!(outcome.is_ok(), "panicked on\n{cohort}\n---\n{offences}");
    }
}
