//! One options model: the evaluation file's tables read straight into the library's option
//! structs, each with its defaults defined once and one `check()` naming the key.

use reoffending::Config;
use reoffending::matching::MatchOptions;
use reoffending::survival::SurvivalOptions;

fn config(text: &str) -> Result<Config, reoffending::Error> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.toml");
    std::fs::write(&p, text).unwrap();
    Config::from_file(&p)
}

#[test]
fn match_table_reads_into_the_library_options_with_their_defaults() {
    let c = config("[match]\ncovariates = [\"sex\"]\n").unwrap();
    let m = c.match_options().unwrap().unwrap();
    assert_eq!(
        m,
        MatchOptions {
            covariates: vec!["sex".into()],
            ..Default::default()
        }
    );
    assert_eq!(m.caliper, Some(0.2));
    // 0 is no caliper; references are `column=level`.
    let c = config(
        "[compare]\ntreatment = \"pilot\"\n\n[match]\ncovariates = [\"sex\"]\ncaliper = 0\nreferences = [\"sex=F\"]\nratio = 2\n",
    )
    .unwrap();
    let m = c.match_options().unwrap().unwrap();
    assert_eq!(m.caliper, None);
    assert_eq!(m.references, [("sex".to_string(), "F".to_string())]);
    assert_eq!((m.ratio, m.treatment.as_str()), (2, "pilot"));
    assert_eq!(reoffending::matching::caliper_sd(0.0), None);
    assert_eq!(reoffending::matching::caliper_sd(0.1), Some(0.1));
}

#[test]
fn match_options_check_names_the_key_and_the_file_names_the_table() {
    let ok = MatchOptions {
        covariates: vec!["sex".into()],
        ..Default::default()
    };
    assert_eq!(ok.check(), Ok(()));
    for (bad, key) in [
        (
            MatchOptions {
                covariates: vec![],
                ..ok.clone()
            },
            "covariates",
        ),
        (
            MatchOptions {
                caliper: Some(-0.5),
                ..ok.clone()
            },
            "caliper",
        ),
        (
            MatchOptions {
                caliper: Some(f64::NAN),
                ..ok.clone()
            },
            "caliper",
        ),
        (
            MatchOptions {
                ratio: 0,
                ..ok.clone()
            },
            "ratio",
        ),
        (
            MatchOptions {
                max_levels: 0,
                ..ok.clone()
            },
            "max_levels",
        ),
        (
            MatchOptions {
                control: "divert".into(),
                ..ok.clone()
            },
            "control",
        ),
    ] {
        let e = bad.check().unwrap_err();
        assert_eq!(e.key, key, "{e}");
        // The library's own words: no command-line flag.
        assert!(!e.message.contains("--"), "{e}");
    }
    for (text, key) in [
        (
            "[match]\ncovariates = [\"sex\"]\ncaliper = -0.5\n",
            "[match] caliper = -0.5",
        ),
        (
            "[match]\ncovariates = [\"sex\"]\nratio = 0\n",
            "[match] ratio = 0",
        ),
        ("[match]\ncaliper = 0.1\n", "[match] covariates"),
        (
            "[match]\ncovariates = [\"sex\"]\nreferences = [\"sex\"]\n",
            "column=level",
        ),
        ("[survival]\ntimes = [91, -3]\n", "[survival] times = -3"),
        ("[survival]\nties = \"breslow\"\n", "ties"),
    ] {
        let e = config(text).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains("e.toml"), "{text}: {e}");
    }
}

#[test]
fn survival_table_reads_into_the_library_options_with_their_defaults() {
    let c = config("[survival]\nby = [\"sex\"]\n").unwrap();
    assert_eq!(
        c.survival_options(),
        SurvivalOptions {
            by: vec!["sex".into()],
            ..Default::default()
        }
    );
    // An empty list of days keeps the default days; the level is the comparisons'.
    let c =
        config("[compare]\nconfidence = 0.9\n\n[survival]\ntimes = []\nmax_levels = 5\n").unwrap();
    let s = c.survival_options();
    assert_eq!(s.times, SurvivalOptions::default().times);
    assert_eq!((s.max_levels, s.confidence), (5, 0.9));
    let bad = SurvivalOptions {
        confidence: 95.0,
        ..Default::default()
    };
    assert_eq!(bad.check().unwrap_err().key, "confidence");
}

#[test]
fn rules_table_reads_into_the_library_rules_with_their_defaults() {
    let c = config("[rules]\nwaiting_days = 90\n").unwrap();
    assert_eq!(
        c.rules(),
        reoffending::Rules {
            waiting_days: 90,
            ..Default::default()
        }
    );
    assert_eq!(config("").unwrap().rules(), reoffending::Rules::default());
    let e = config("[rules]\nfollow_up = 365\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("follow_up") && e.contains("e.toml"), "{e}");
}

#[test]
fn rates_table_reads_into_the_library_options_with_their_defaults() {
    let c = config("[rates]\nby = [\"sex\"]\nci = \"exact\"\n\n[compare]\nbaseline_rate = 0.3\n")
        .unwrap();
    let r = c.rate_options().unwrap();
    assert_eq!(
        r,
        reoffending::RateOptions {
            by: vec!["sex".into()],
            ci: reoffending::CiMethod::Exact,
            baseline_rate: Some(0.3),
            ..Default::default()
        }
    );
    assert_eq!(c.confidence(), 0.95);
    for (text, key) in [
        ("[rates]\nconfidence = 95\n", "[rates] confidence = 95"),
        (
            "[rates]\nbaseline_rate = 1.5\n",
            "[rates] baseline_rate = 1.5",
        ),
        ("[rates]\nci = \"bogus\"\n", "agresti-coull"),
    ] {
        let e = config(text).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains("e.toml"), "{text}: {e}");
    }
}

#[test]
fn monitor_table_reads_into_the_library_options() {
    let c =
        config("[compare]\nconfidence = 0.9\n\n[monitor]\nprojection_reference = \"comparison\"\n")
            .unwrap();
    let m = c.monitor_options();
    assert_eq!(m.reference.as_deref(), Some("comparison"));
    assert_eq!(m.confidence, 0.9);
    assert_eq!(config("").unwrap().monitor_options(), Default::default());
    let e = config("[monitor]\nconfidence = 0.9\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("confidence") && e.contains("e.toml"), "{e}");
}
