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

// ---- [compare], [report], [data]: read into the library's own options ----

use reoffending::compare::{Against, CompareSettings, DEFAULT_CONTROL, DEFAULT_TREATMENT, Period};
use reoffending::config::{DEFAULT_MIN_CELL, DataOptions, Paths, ReportOptions};

/// A tiny pair of tables (two people, no offences) for the command line's checks.
fn tiny() -> crate::common::Files {
    crate::common::files(
        "person_id,cohort,index_date,sex\nA,divert,2021-01-01,F\nB,comparison,2021-01-01,M\n",
        "person_id,offence_date,disposal_date\n",
    )
}

#[test]
fn compare_table_reads_into_the_library_settings_with_their_defaults() {
    let c = config("").unwrap();
    assert_eq!(c.compare, CompareSettings::default());
    assert_eq!(c.compare.treatment, DEFAULT_TREATMENT);
    // No cohort named: the one comparison is with the default control, and there is no benchmark.
    assert_eq!(c.compare.against(), Against::Group(DEFAULT_CONTROL.into()));
    assert_eq!(c.compare.benchmark(), None);
    assert_eq!(
        c.compare_options().unwrap(),
        reoffending::CompareOptions::default()
    );
    let c = config(
        "[rates]\nconfidence = 0.9\n\n[compare]\ntreatment = \"pilot\"\ncontrol = \"pool\"\nbaseline_rate = 0.2\nbaseline_name = \"TV\"\nperiod = \"Pilot\"\n",
    )
    .unwrap();
    assert_eq!(c.compare.period, Period::Pilot);
    // Both named: the comparison cohort first, the benchmark beside it.
    let o = c.compare_options().unwrap();
    assert_eq!(o.against, Against::Group("pool".into()));
    assert_eq!((o.treatment.as_str(), o.confidence), ("pilot", 0.9));
    assert_eq!(
        c.compare.benchmark(),
        Some(Against::Baseline {
            rate: 0.2,
            name: Some("TV".into()),
            source: None
        })
    );
    // A benchmark alone is what the comparison compares with; `[compare] confidence` wins.
    let c =
        config("[rates]\nconfidence = 0.9\n\n[compare]\nbaseline_rate = 0.2\nconfidence = 0.8\n")
            .unwrap();
    let o = c.compare_options().unwrap();
    assert!(matches!(o.against, Against::Baseline { rate, .. } if rate == 0.2));
    assert_eq!(o.confidence, 0.8);
}

#[test]
fn compare_settings_check_names_the_key_and_the_file_names_the_table() {
    for (bad, key) in [
        (
            CompareSettings {
                confidence: Some(95.0),
                ..Default::default()
            },
            "confidence",
        ),
        (
            CompareSettings {
                baseline_rate: Some(0.0),
                ..Default::default()
            },
            "baseline_rate",
        ),
        (
            CompareSettings {
                control: Some(DEFAULT_TREATMENT.into()),
                ..Default::default()
            },
            "control",
        ),
    ] {
        let e = bad.check().unwrap_err();
        assert_eq!(e.key, key, "{e}");
        assert!(!e.message.contains("--"), "{e}");
    }
    // "Treatment equals control" is one check: comparisons and matching say the same.
    let same = reoffending::compare::distinct_cohorts("divert", "divert").unwrap_err();
    let matching = MatchOptions {
        covariates: vec!["sex".into()],
        control: "divert".into(),
        ..Default::default()
    }
    .check()
    .unwrap_err();
    let comparison = reoffending::CompareOptions {
        against: Against::Group("divert".into()),
        ..Default::default()
    }
    .check()
    .unwrap_err();
    assert_eq!(matching, same);
    assert_eq!(comparison, same);
    for (text, key) in [
        ("[compare]\nconfidence = 95\n", "[compare] confidence = 95"),
        (
            "[compare]\nbaseline_rate = 1.5\n",
            "[compare] baseline_rate = 1.5",
        ),
        (
            "[compare]\ntreatment = \"a\"\ncontrol = \"a\"\n",
            "[compare] control = `a`",
        ),
        ("[compare]\nperiod = \"later\"\n", "not a period"),
        ("[compare]\ncaliper = 0.2\n", "unknown field"),
    ] {
        let e = config(text).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains("e.toml"), "{text}: {e}");
    }
    // The command line names its flags, the file's keys where the file set the value.
    let f = tiny();
    let (c, o) = (
        crate::common::path(&f.cohort),
        crate::common::path(&f.offences),
    );
    let data = ["--cohort", c.as_str(), "--offences", o.as_str()];
    let (code, _, err) = crate::common::run(
        &[
            &["compare", "--control", "comparison", "--period", "later"][..],
            &data,
        ]
        .concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--period") && err.contains("not a period"),
        "{err}"
    );
    let p = f.dir.path().join("e.toml");
    std::fs::write(&p, "[compare]\ntreatment = \"comparison\"\n").unwrap();
    let cfg = crate::common::path(&p);
    let (code, _, err) = crate::common::run(
        &[
            &["compare", "--config", &cfg, "--control", "comparison"][..],
            &data,
        ]
        .concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--control"), "{err}");
    let (code, _, err) = crate::common::run(
        &[
            &[
                "compare",
                "--config",
                &cfg,
                "--treatment",
                "divert",
                "--control",
                "divert",
            ][..],
            &data,
        ]
        .concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--control"), "{err}");
}

#[test]
fn compare_defaults_are_the_same_from_the_file_and_the_command_line() {
    let f = tiny();
    let (c, o) = (
        crate::common::path(&f.cohort),
        crate::common::path(&f.offences),
    );
    // Neither names the pilot cohort: both use DEFAULT_TREATMENT, and the level of CompareOptions.
    let v = crate::common::run_json(&[
        "compare",
        "--format",
        "json",
        "--control",
        "comparison",
        "--cohort",
        &c,
        "--offences",
        &o,
        "--extract-date",
        "2023-06-30",
    ]);
    let file = config("").unwrap().compare_options().unwrap();
    assert_eq!(v["parameters"]["treatment"], file.treatment.as_str(), "{v}");
    assert_eq!(v["parameters"]["confidence"], file.confidence, "{v}");
    assert_eq!(
        file.confidence,
        reoffending::CompareOptions::default().confidence
    );
}

#[test]
fn report_table_reads_into_the_report_options_with_their_defaults() {
    let c = config("").unwrap();
    assert_eq!(c.report, ReportOptions::default());
    assert_eq!(c.report.min_cell, DEFAULT_MIN_CELL);
    let c =
        config("[report]\ntitle = \"T\"\nmin_cell = 5\ndisclosure = \"off\"\nproducer = \"P\"\n")
            .unwrap();
    assert_eq!(
        c.report,
        ReportOptions {
            title: "T".into(),
            min_cell: 5,
            disclosure_control: false,
            producer: Some("P".into()),
            ..Default::default()
        }
    );
    // The older spelling of the switch.
    let c = config("[report]\ndisclosure_control_off = true\n").unwrap();
    assert!(!c.report.disclosure_control);
    // min_cell is checked once, on the options as the report uses them (a file may turn
    // disclosure control off and go below 3).
    assert_eq!(
        ReportOptions {
            min_cell: 2,
            ..Default::default()
        }
        .check()
        .unwrap_err()
        .key,
        "min_cell"
    );
    let c = config("[report]\nmin_cell = 0\ndisclosure = \"off\"\n").unwrap();
    assert_eq!(c.report.check(), Ok(()));
    for (text, key) in [
        (
            "[report]\ndisclosure = \"maybe\"\n",
            "[report] disclosure = \"maybe\"",
        ),
        (
            "[report]\ndisclosure = \"on\"\ndisclosure_control_off = true\n",
            "disclosure_control_off",
        ),
        ("[report]\nmincell = 3\n", "unknown field"),
    ] {
        let e = config(text).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains("e.toml"), "{text}: {e}");
    }
}

#[test]
fn report_options_on_the_command_line_name_the_flag_and_the_default_is_defined_once() {
    let f = tiny();
    let p = f.dir.path().join("e.toml");
    std::fs::write(
        &p,
        format!(
            "[data]\ncohort = \"{}\"\noffences = \"{}\"\n\n[report]\nmin_cell = 2\n",
            crate::common::path(&f.cohort).replace('\\', "/"),
            crate::common::path(&f.offences).replace('\\', "/")
        ),
    )
    .unwrap();
    let (cfg, out) = (
        crate::common::path(&p),
        crate::common::path(&f.dir.path().join("out")),
    );
    let (code, _, err) = crate::common::run(&[
        "report",
        &cfg,
        "--out",
        &out,
        "--disclosure-control",
        "maybe",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--disclosure-control"), "{err}");
    let (code, _, err) = crate::common::run(&["report", &cfg, "--out", &out]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("[report] min_cell = 2") && !err.contains("--"),
        "{err}"
    );
    // `inspect --min-cell` and `[report] min_cell` share one default.
    let (_, help, _) = crate::common::run(&["inspect", "--help"]);
    assert!(
        help.contains(&format!("[default: {DEFAULT_MIN_CELL}]")),
        "{help}"
    );
    assert_eq!(ReportOptions::default().min_cell, DEFAULT_MIN_CELL);
}

#[test]
fn data_table_reads_into_the_data_options_with_their_defaults() {
    let c = config("").unwrap();
    assert_eq!(c.data, DataOptions::default());
    let load = reoffending::LoadOptions::default();
    assert_eq!((c.data.years, c.data.ages), (load.years, load.ages));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.toml");
    std::fs::write(
        &p,
        "[data]\ncohort = \"c.csv\"\noffences = [\"o1.csv\", \"o2.csv\"]\nyears = [1950, 2050]\n\
         [data.cohort_columns]\nperson_id = \"URN\"\n[data.recode.disposal]\n\"1\" = \"charge\"\n\
         [data.recode_unmapped]\ndisposal = \"keep\"\n",
    )
    .unwrap();
    let c = reoffending::Config::from_file(&p).unwrap();
    // Paths relative to the evaluation file are made relative to the working folder as it is read.
    assert_eq!(c.data.cohort, Some(Paths::One(dir.path().join("c.csv"))));
    assert_eq!(
        c.data.offences,
        Some(Paths::Many(vec![
            dir.path().join("o1.csv"),
            dir.path().join("o2.csv")
        ]))
    );
    assert_eq!(c.data.years, (1950, 2050));
    assert_eq!(c.data.cohort_columns["person_id"], "URN");
    assert_eq!(c.data.check(), Ok(()));
}

#[test]
fn data_options_check_names_the_key_and_the_file_names_the_table() {
    for (bad, key) in [
        (
            DataOptions {
                years: (2000, 1990),
                ..Default::default()
            },
            "years",
        ),
        (
            DataOptions {
                ages: (f64::NAN, 20.0),
                ..Default::default()
            },
            "ages",
        ),
        (
            DataOptions {
                extract_date: Some("2023-13-45".into()),
                ..Default::default()
            },
            "extract_date",
        ),
        (
            DataOptions {
                recode_unmapped: [("disposal".to_string(), "keep".to_string())].into(),
                ..Default::default()
            },
            "recode_unmapped",
        ),
    ] {
        let e = bad.check().unwrap_err();
        assert_eq!(e.key, key, "{e}");
        assert!(!e.message.contains("--"), "{e}");
    }
    for (text, key) in [
        (
            "[data]\nyears = [2000, 1990]\n",
            "[data] years = [2000, 1990]",
        ),
        ("[data]\nages = [50, 20]\n", "[data] ages = [50, 20]"),
        (
            "[data]\ntimezone = \"Mars/Olympus\"\n",
            "[data] timezone = \"Mars/Olympus\"",
        ),
        (
            "[data]\nextract_date = \"2023-13-45\"\n",
            "[data] extract_date = \"2023-13-45\"",
        ),
        (
            "[data]\n[data.recode_unmapped]\ndisposal = \"keep\"\n",
            "[data] recode_unmapped = disposal",
        ),
        (
            "[data]\n[data.recode.disposal]\n\"1\" = \"charge\"\n[data.recode_unmapped]\ndisposal = \"drop\"\n",
            "expected error or keep",
        ),
        ("[data]\ncohort_column = {}\n", "unknown field"),
    ] {
        let e = config(text).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains("e.toml"), "{text}: {e}");
    }
    // The command line names its flags.
    let f = tiny();
    let (c, o) = (
        crate::common::path(&f.cohort),
        crate::common::path(&f.offences),
    );
    for (extra, flag) in [
        (&["--timezone", "Mars/Olympus"][..], "--timezone"),
        // The order of a range is the library's one check too.
        (&["--years", "2100-1900"][..], "--years"),
        (&["--ages", "50-20"][..], "--ages"),
        (&["--extract-date", "2023-13-45"][..], "--extract-date"),
        (
            &["--recode-unmapped", "disposal=keep"][..],
            "--recode-unmapped",
        ),
    ] {
        let args = [
            &["validate", "--cohort", c.as_str(), "--offences", o.as_str()][..],
            extra,
        ]
        .concat();
        let (code, _, err) = crate::common::run(&args);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(flag), "{extra:?}: {err}");
    }
}

#[test]
fn data_defaults_are_the_same_from_the_file_and_the_command_line() {
    let f = tiny();
    let (c, o) = (
        crate::common::path(&f.cohort),
        crate::common::path(&f.offences),
    );
    let cli = crate::common::run_json(&[
        "validate",
        "--format",
        "json",
        "--cohort",
        &c,
        "--offences",
        &o,
    ]);
    let p = f.dir.path().join("e.toml");
    std::fs::write(
        &p,
        "[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\n",
    )
    .unwrap();
    let file = crate::common::run_json(&[
        "validate",
        "--format",
        "json",
        "--config",
        &crate::common::path(&p),
    ]);
    let d = DataOptions::default();
    for v in [&cli, &file] {
        assert_eq!(
            v["parameters"]["plausible_years"],
            serde_json::json!([d.years.0, d.years.1]),
            "{v}"
        );
        assert_eq!(
            v["parameters"]["plausible_ages"],
            serde_json::json!([d.ages.0, d.ages.1]),
            "{v}"
        );
    }
    assert_eq!(cli["parameters"], file["parameters"]);
    assert_eq!(cli["input"]["rows_read"], file["input"]["rows_read"]);
}

/// A difference-in-differences option the evaluation file set, wrong, is named by its key
/// (`report` has no `--area-column` flag to name).
#[test]
fn a_did_option_from_the_file_is_named_by_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = crate::common::sample_evaluation_text()
        .replace("area_column = \"force\"", "area_column = \"forcex\"");
    let cfg = dir.path().join("e.toml");
    std::fs::write(&cfg, text).unwrap();
    let out = crate::common::cmd()
        .arg("report")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid [did] area_column: no column `forcex`"),
        "{err}"
    );
    assert!(!err.contains("--area-column"), "{err}");
}
