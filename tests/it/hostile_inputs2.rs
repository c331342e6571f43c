//! Issue 36: about 820 hostile inputs, tried as an intruder and a careless user would. One
//! test (or a few) per numbered point of the issue; each failed before its fix.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A folder holding a small synthetic cohort and offences and an evaluation file with
/// `extra` appended (paths relative to the evaluation file).
fn evaluation_dir(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[
        "generate",
        "--persons",
        "400",
        "--seed",
        "7",
        "--out",
        &path(dir.path()),
    ]);
    assert_eq!(code, 0, "{err}");
    let cfg = dir.path().join("evaluation.toml");
    std::fs::write(
        &cfg,
        format!("[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\n\n[rates]\nby = [\"sex\"]\n\n[report]\nmin_cell = 3\n{extra}"),
    )
    .unwrap();
    (dir, cfg)
}

fn report_in(cwd: &Path, cfg: &str, out: &str) -> (i32, String) {
    let got = assert_cmd::Command::cargo_bin("reoffending")
        .unwrap()
        .current_dir(cwd)
        .args(["report", cfg, "--out", out])
        .output()
        .unwrap();
    (
        got.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&got.stderr).into_owned(),
    )
}

fn report(cfg: &Path, out: &Path) -> (i32, String) {
    report_in(Path::new("."), &path(cfg), &path(out))
}

fn append(p: &Path, line: &str) {
    let mut m = std::fs::read_to_string(p).unwrap();
    m.push_str(line);
    m.push('\n');
    std::fs::write(p, m).unwrap();
}

// ---- 1. The output folder's manifest only removes regular files inside the folder ----

#[test]
fn a_tampered_manifest_is_refused_and_nothing_outside_the_folder_is_removed() {
    let (dir, cfg) = evaluation_dir("");
    let out = dir.path().join("out");
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    assert_eq!(report(&cfg, &out).0, 0);
    let manifest = out.join(".reoffending-files");
    let clean = std::fs::read_to_string(&manifest).unwrap();
    // An absolute path, and the same through `..`.
    let rel_up = pathdiff(&victim, &out);
    for line in [path(&victim), rel_up, "tables/../../x".to_string()] {
        std::fs::write(&manifest, &clean).unwrap();
        append(&manifest, &line);
        let (code, err) = report(&cfg, &out);
        assert_eq!(code, 2, "{line}: {err}");
        assert!(err.contains(".reoffending-files"), "{err}");
        assert!(
            victim.exists(),
            "{line} removed the file outside the folder"
        );
        assert!(
            out.join("report.html").exists(),
            "nothing removed on refusal"
        );
    }
    // A link inside the folder to a folder outside it, and to a file outside it.
    std::fs::write(&manifest, &clean).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path(), out.join(".link")).unwrap();
        append(&manifest, ".link/victim.txt");
        let (code, err) = report(&cfg, &out);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("symbolic link"), "{err}");
        assert!(victim.exists());
        std::fs::write(&manifest, &clean).unwrap();
        let chart = first_chart_listed(&clean);
        std::fs::remove_file(out.join(&chart)).unwrap();
        std::os::unix::fs::symlink(&victim, out.join(&chart)).unwrap();
        let (code, err) = report(&cfg, &out);
        assert_eq!(code, 2, "{err}");
        assert!(victim.exists());
        std::fs::remove_file(out.join(&chart)).unwrap();
        // The manifest itself a link to the victim: it would be overwritten.
        std::fs::remove_file(&manifest).unwrap();
        std::os::unix::fs::symlink(&victim, &manifest).unwrap();
        let (code, err) = report(&cfg, &out);
        assert_eq!(code, 2, "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        std::fs::remove_file(&manifest).unwrap();
        std::fs::write(&manifest, &clean).unwrap();
    }
    // The untampered manifest still works.
    let (code, err) = report(&cfg, &out);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

fn first_chart_listed(manifest: &str) -> String {
    manifest
        .lines()
        .find(|l| l.starts_with("charts/"))
        .unwrap()
        .to_string()
}

/// `target` relative to `base` (both absolute, on one file system).
fn pathdiff(target: &Path, base: &Path) -> String {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); b.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

// ---- 4. Silent wrong answers ----

/// An evaluation file with `[costs]` holding `costs` (paths to the sample tables).
fn costs_config(dir: &Path, costs: &str, item: &str) -> PathBuf {
    let root = crate::common::sample_dir();
    let cfg = dir.join("e.toml");
    std::fs::write(
        &cfg,
        format!(
            "[data]\ncohort = {:?}\noffences = {:?}\n\n[costs]\nprice_year = 2023\nunit_costs = {:?}\n\
             deflator = {:?}\n{costs}\n\n[[costs.items]]\nname = \"Course\"\nkind = \"cost\"\nprice_year = 2023\n\
             source = \"x\"\n{item}\n",
            root.join("cohort.csv"),
            root.join("offences.csv"),
            root.join("unit_costs.csv"),
            root.join("gdp_deflator.csv"),
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn costs_refuse_non_finite_and_negative_values_and_low_above_high_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let ok_item = "unit_cost = 250.0\nlow = 150.0\nhigh = 400.0";
    for (costs, item, key) in [
        ("optimism_bias = nan", ok_item, "[costs] optimism_bias"),
        ("optimism_bias = inf", ok_item, "[costs] optimism_bias"),
        (
            "proven_to_actual = nan",
            ok_item,
            "[costs] proven_to_actual",
        ),
        (
            "proven_to_actual = -inf",
            ok_item,
            "[costs] proven_to_actual",
        ),
        ("horizon_years = 0", ok_item, "[costs] horizon_years"),
        ("persistence = nan", ok_item, "[costs] persistence"),
        ("", "unit_cost = nan", "[costs] items[1].unit_cost"),
        ("", "unit_cost = inf", "[costs] items[1].unit_cost"),
        ("", "unit_cost = -5.0", "[costs] items[1].unit_cost"),
        (
            "",
            "unit_cost = 5.0\nquantity = -4",
            "[costs] items[1].quantity",
        ),
        (
            "",
            "unit_cost = 5.0\nlow = 9.0\nhigh = 1.0",
            "[costs] items[1].low",
        ),
        ("", "unit_cost = 5.0\nhigh = 1.0", "[costs] items[1].high"),
        ("", "unit_cost = 5.0\nlow = nan", "[costs] items[1].low"),
    ] {
        let cfg = costs_config(dir.path(), costs, item);
        let (code, _, err) = run(&["costs", "--config", &path(&cfg)]);
        assert_eq!(code, 2, "{costs} {item}: {err}");
        assert!(err.contains(key), "{costs} {item}: {err}");
        assert!(!err.contains("--"), "{err}");
    }
    // The library refuses them too, in its own words.
    let mut c: reoffending::costs::CostConfig = toml::from_str(
        "price_year = 2023\nunit_costs = \"u.csv\"\ndeflator = \"d.csv\"\noptimism_bias = nan",
    )
    .unwrap();
    assert_eq!(c.check().unwrap_err().0, "optimism_bias");
    c.optimism_bias = 0.0;
    assert!(c.check().is_ok());
    // A unit-cost table or a deflator holding NaN, inf or a negative value.
    let u = dir.path().join("u.csv");
    std::fs::write(
        &u,
        "offence_type,value,unit,price_year,source,low,high\ntheft,NaN,GBP,2023,x,,\n",
    )
    .unwrap();
    let e = reoffending::costs::UnitCosts::from_csv(&u)
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 1") && e.contains("value"), "{e}");
    std::fs::write(
        &u,
        "offence_type,value,unit,price_year,source,low,high\ntheft,5,GBP,2023,x,-1,9\n",
    )
    .unwrap();
    let e = reoffending::costs::UnitCosts::from_csv(&u)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`low`"), "{e}");
    let d = dir.path().join("d.csv");
    std::fs::write(&d, "year,index,source\n2022,100,x\n2023,inf,x\n").unwrap();
    let e = reoffending::costs::Deflator::from_csv(&d)
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 2") && e.contains("index"), "{e}");
}

fn validate(f: &Files, extra: &[&str]) -> serde_json::Value {
    command_json(f, "validate", extra)
}

fn excluded(v: &serde_json::Value, table: &str, reason: &str) -> u64 {
    v["input"]["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["table"] == table && e["reason"] == reason)
        .map(|e| e["rows"].as_u64().unwrap())
        .sum()
}

#[test]
fn zoned_text_timestamps_read_in_their_zone_and_trailing_text_is_unparseable() {
    let f = files(
        "person_id,cohort,index_date\nA,divert,2021-01-10\nB,comparison,2021-01-12\nC,divert,2021-05-13 junk\n",
        "person_id,offence_date,disposal_date\nA,2021-03-01,2021-05-01\nB,2021-02-01,2022-06-30T23:00:00Z\n\
         A,2021-03-02 10:00,2021-05-01 nonsense\n",
    );
    let v = validate(&f, &[]);
    // Read as written (UTC): 30 June; in London: 1 July.
    assert_eq!(v["parameters"]["extract_date"], "2022-06-30", "{v}");
    let v_london = validate(&f, &["--timezone", "Europe/London"]);
    assert_eq!(v_london["parameters"]["extract_date"], "2022-07-01");
    assert_eq!(excluded(&v, "cohort", "unparseable_value"), 1, "{v}");
    assert_eq!(excluded(&v, "offences", "unparseable_value"), 1, "{v}");
    // A zone written as an offset: +01:00 at 23:30 on 30 June is 22:30 UTC, still 30 June.
    let g = files(
        "person_id,cohort,index_date\nA,divert,2021-01-10\n",
        "person_id,offence_date,disposal_date\nA,2021-02-01,2022-06-30T23:30:00+01:00\n",
    );
    assert_eq!(
        validate(&g, &[])["parameters"]["extract_date"],
        "2022-06-30"
    );
    assert_eq!(
        validate(&g, &["--timezone", "America/New_York"])["parameters"]["extract_date"],
        "2022-06-30"
    );
}

#[test]
fn float_identifiers_link_with_integer_and_text_identifiers() {
    // pandas writes an integer column with a missing value as float64: `1.0` in CSV.
    let text = files(
        "person_id,cohort,index_date\n1,divert,2021-01-10\n2,comparison,2021-01-12\n",
        "person_id,offence_date,disposal_date\n1.0,2021-03-01,2021-05-01\n2.0,2021-03-01,2021-06-01\n,2021-03-01,2021-05-01\n",
    );
    let v = validate(&text, &[]);
    assert_eq!(excluded(&v, "offences", "person_not_in_cohort"), 0, "{v}");
    assert_eq!(v["input"]["rows_used"]["offences"], 2, "{v}");
    // The same as Parquet: float64 identifiers with a null against integer and text ones.
    use polars_core::prelude::*;
    use polars_io::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, df: &mut DataFrame| {
        let p = dir.path().join(name);
        ParquetWriter::new(std::fs::File::create(&p).unwrap())
            .finish(df)
            .unwrap();
        path(&p)
    };
    let text_col = |name: &str, v: &[&str]| {
        Column::new(
            name.into(),
            v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    let mut off = DataFrame::new_infer_height(vec![
        Column::new("person_id".into(), [Some(1.0f64), Some(2.0), None]),
        text_col("offence_date", &["2021-03-01", "2021-03-01", "2021-03-01"]),
        text_col("disposal_date", &["2021-05-01", "2021-06-01", "2021-05-01"]),
    ])
    .unwrap();
    let offences = write("offences.parquet", &mut off);
    let mut cohort_int = DataFrame::new_infer_height(vec![
        Column::new("person_id".into(), [1i64, 2]),
        text_col("cohort", &["divert", "comparison"]),
        text_col("index_date", &["2021-01-10", "2021-01-12"]),
    ])
    .unwrap();
    let cohort = write("cohort.parquet", &mut cohort_int);
    for c in [cohort, path(&text.cohort)] {
        let v = run_json(&[
            "validate",
            "--format",
            "json",
            "--cohort",
            &c,
            "--offences",
            &offences,
        ]);
        assert_eq!(
            excluded(&v, "offences", "person_not_in_cohort"),
            0,
            "{c}: {v}"
        );
        assert_eq!(v["input"]["rows_used"]["offences"], 2, "{c}: {v}");
    }
    // A float that is not a whole number cannot be an identifier: named with its row.
    let mut bad = DataFrame::new_infer_height(vec![
        Column::new("person_id".into(), [Some(1.0f64), Some(2.5), None]),
        text_col("offence_date", &["2021-03-01", "2021-03-01", "2021-03-01"]),
        text_col("disposal_date", &["2021-05-01", "2021-06-01", "2021-05-01"]),
    ])
    .unwrap();
    let bad = write("bad.parquet", &mut bad);
    let (code, _, err) = run(&[
        "validate",
        "--cohort",
        &path(&text.cohort),
        "--offences",
        &bad,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("row 2") && err.contains("person_id"), "{err}");
}

#[test]
fn a_run_on_quote_is_an_error_naming_the_row_where_it_opened() {
    let cohort = "person_id,cohort,index_date\nA,divert,2021-01-10\nB,comparison,2021-01-12\nC,divert,2021-01-12\nD,comparison,2021-01-12\n";
    // Row 1's quote never closes: the rest of the file would be one value.
    let f = files(
        cohort,
        "person_id,offence_date,disposal_date,offence_type\nA,2021-03-01,2021-05-01,\"theft\n\
         B,2021-03-01,2021-05-01,theft\nC,2021-03-01,2021-05-01,theft\nD,2021-03-01,2021-05-01,theft\n",
    );
    let err = rates_error(&f);
    assert!(err.contains("row 1") && err.contains("quote"), "{err}");
    // Two stray quotes swallowing two whole records between them.
    let f = files(
        cohort,
        "person_id,offence_date,disposal_date,offence_type\nA,2021-03-01,2021-05-01,theft\n\
         B,2021-03-01,2021-05-01,\"theft\nC,2021-03-01,2021-05-01,theft\nD,2021-03-01,2021-05-01,theft\nA,2021-03-01,2021-05-01,the\"ft\n",
    );
    let err = rates_error(&f);
    assert!(err.contains("row 2"), "{err}");
    // The same in the cohort.
    let f = files(
        "person_id,cohort,index_date\nA,divert,\"2021-01-10\nB,comparison,2021-01-12\nC,divert,2021-01-12\n",
        "person_id,offence_date,disposal_date\n",
    );
    let err = rates_error(&f);
    assert!(err.contains("row 1") && err.contains("cohort.csv"), "{err}");
    // A quoted value holding a line break and commas is fine.
    let f = files(
        cohort,
        "person_id,offence_date,disposal_date,note\nA,2021-03-01,2021-05-01,\"two lines,\nsecond, line\"\n",
    );
    let v = validate(&f, &[]);
    assert_eq!(v["input"]["rows_read"]["offences"], 1, "{v}");
}

fn rates_error(f: &Files) -> String {
    let (code, _, err) = run(&[
        "rates",
        "--cohort",
        &path(&f.cohort),
        "--offences",
        &path(&f.offences),
    ]);
    assert_eq!(code, 2, "{err}");
    err
}

#[test]
fn cr_only_line_ends_are_refused_in_a_short_message() {
    let mut cohort = String::from("person_id,cohort,index_date\r");
    for i in 0..20_000 {
        cohort.push_str(&format!("P{i:06},divert,2021-01-10\r"));
    }
    let offences = "person_id,offence_date,disposal_date\rP000001,2021-03-01,2021-05-01\r";
    for (c, o, which) in [
        (
            cohort.as_str(),
            "person_id,offence_date,disposal_date\n",
            "cohort.csv",
        ),
        (
            "person_id,cohort,index_date\nA,divert,2021-01-10\n",
            offences,
            "offences.csv",
        ),
    ] {
        let f = files(c, o);
        let err = rates_error(&f);
        assert!(
            err.contains(which) && err.contains("carriage return"),
            "{err}"
        );
        assert!(err.len() < 600, "{} bytes: {}", err.len(), &err[..600]);
    }
}

// ---- 2. Plausibility exclusions the same whatever the command reads ----

#[test]
fn implausible_values_are_excluded_by_every_command_alike() {
    let (dir, cfg) = evaluation_dir(
        "\n[compare]\ntreatment = \"divert\"\ncontrol = \"comparison\"\n\n[survival]\nby = []\n",
    );
    // Row 3 is 200 years old, row 5 has -1 prior offences.
    let c = dir.path().join("cohort.csv");
    let text: String = std::fs::read_to_string(&c)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            if i == 3 {
                cells[4] = "200".into();
            }
            let prior = match i {
                0 => "prior_offences",
                5 => "-1",
                _ => "1",
            };
            cells.push(prior.into());
            cells.join(",") + "\n"
        })
        .collect();
    std::fs::write(&c, text).unwrap();
    let cfg_s = path(&cfg);
    let counts = |v: &serde_json::Value| {
        let input = if v["input"].is_object() {
            &v["input"]
        } else {
            &v["data_quality"]
        };
        (
            excluded_in(input, "cohort", "implausible_value"),
            input["rows_used"]["cohort"].as_u64(),
            first_rows(input, "implausible_value"),
        )
    };
    let want = (
        2,
        counts(&run_json(&[
            "validate", "--format", "json", "--config", &cfg_s,
        ]))
        .1,
        vec![3, 5],
    );
    let two = ["--treatment", "divert", "--control", "comparison"];
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("validate", vec![]),
        ("rates", vec![]),
        ("compare", two.to_vec()),
        ("survival", vec![]),
        ("match", [&two[..], &["--covariates", "sex"]].concat()),
        ("monitor", vec![]),
    ];
    for (command, extra) in runs {
        let mut args = vec![command, "--format", "json", "--config", &cfg_s];
        args.extend(extra);
        let v = run_json(&args);
        assert_eq!(counts(&v), want, "{command}");
    }
    let out = dir.path().join("out");
    let got = assert_cmd::Command::cargo_bin("reoffending")
        .unwrap()
        .args([
            "report",
            &cfg_s,
            "--disclosure-control",
            "off",
            "--out",
            &path(&out),
        ])
        .output()
        .unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let v: serde_json::Value = crate::common::report_json(&out);
    assert_eq!(counts(&v), want, "report");
}

fn excluded_in(input: &serde_json::Value, table: &str, reason: &str) -> u64 {
    input["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["table"] == table && e["reason"] == reason)
        .map(|e| e["rows"].as_u64().unwrap())
        .sum()
}

fn first_rows(input: &serde_json::Value, reason: &str) -> Vec<u64> {
    input["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["table"] == "cohort" && e["reason"] == reason)
        .flat_map(|e| {
            e["first_rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_u64().unwrap())
        })
        .collect()
}

// ---- 6. No control character or bidirectional override reaches a terminal or a report ----

const ESC_BEL: &str = "ev\u{1b}[31mil\u{7}";
const RLO: &str = "x\u{202e}gnp.exe";

fn raw_controls(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    bytes.contains(&0x1b) || bytes.contains(&0x07) || text.contains('\u{202e}')
}

#[test]
fn control_characters_and_bidi_overrides_never_reach_a_terminal_or_a_report() {
    let mut cohort = String::from("person_id,cohort,index_date,sex,area\n");
    let mut offences = String::from("person_id,offence_date,disposal_date\n");
    for i in 0..80 {
        let label = if i % 2 == 0 { "divert" } else { ESC_BEL };
        let sex = if i % 3 == 0 { RLO } else { ESC_BEL };
        cohort.push_str(&format!(
            "P{i},{label},2021-0{}-10,{sex},{ESC_BEL}\n",
            1 + i % 9
        ));
        if i % 3 == 0 {
            offences.push_str(&format!("P{i},2021-11-01,2021-12-01\n"));
        }
    }
    let f = files(&cohort, &offences);
    let (c, o) = (path(&f.cohort), path(&f.offences));
    let data = [
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &c,
        "--offences",
        &o,
    ];
    // The list of cohorts for an unknown --control, the levels for --reference.
    for args in [
        vec!["compare", "--treatment", "divert", "--control", "nobody"],
        vec![
            "match",
            "--treatment",
            "divert",
            "--control",
            ESC_BEL,
            "--covariates",
            "sex",
            "--reference",
            "sex=none",
        ],
        vec!["rates", "--by", "sex,area"],
    ] {
        let mut all = args.clone();
        all.extend_from_slice(&data);
        let out = assert_cmd::Command::cargo_bin("reoffending")
            .unwrap()
            .args(&all)
            .output()
            .unwrap();
        assert!(
            !raw_controls(&out.stderr),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !raw_controls(&out.stdout),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        if args[0] != "rates" {
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("\\u{1b}"),
                "escaped, not lost"
            );
        }
    }
    // A Parquet time zone name holding ESC.
    {
        use polars_core::prelude::*;
        use polars_io::prelude::*;
        let zone = TimeZone::opt_try_new(Some("Bad\u{1b}[2JZone"))
            .ok()
            .flatten();
        if zone.is_some() {
            let stamp = Series::new("index_date".into(), [1_600_000_000_000i64])
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, zone))
                .unwrap();
            let mut df = DataFrame::new_infer_height(vec![
                Column::new("person_id".into(), ["A"]),
                Column::new("cohort".into(), ["divert"]),
                stamp.into(),
            ])
            .unwrap();
            let p = f.dir.path().join("zoned.parquet");
            ParquetWriter::new(std::fs::File::create(&p).unwrap())
                .finish(&mut df)
                .unwrap();
            let out = assert_cmd::Command::cargo_bin("reoffending")
                .unwrap()
                .args(["rates", "--cohort", &path(&p), "--offences", &o])
                .output()
                .unwrap();
            // polars may keep or drop a zone it does not know; either way nothing raw.
            assert!(matches!(out.status.code(), Some(0 | 2)));
            assert!(
                !raw_controls(&out.stderr),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // Every file of the report.
    let cfg = f.dir.path().join("e.toml");
    std::fs::write(
        &cfg,
        format!(
            "[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\nextract_date = \"2023-06-30\"\n\n\
             [rates]\nby = [\"sex\", \"area\"]\n\n[compare]\ntreatment = \"divert\"\ncontrol = \"{}\"\n\n\
             [report]\ntitle = \"T{}\"\nmin_cell = 3\n",
            ESC_BEL.replace('\u{1b}', "\\u001b").replace('\u{7}', "\\u0007"),
            RLO.replace('\u{202e}', "\\u202e"),
        ),
    )
    .unwrap();
    let out = f.dir.path().join("out");
    let (code, err) = report(&cfg, &out);
    assert_eq!(code, 0, "{err}");
    assert!(!raw_controls(err.as_bytes()), "{err}");
    for file in walk(&out) {
        if file.extension().is_some_and(|e| e == "png" || e == "xlsx") {
            continue;
        }
        let bytes = std::fs::read(&file).unwrap();
        assert!(!raw_controls(&bytes), "{}", file.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

// ---- 7. The report is the same from whatever folder it is run ----

#[test]
fn the_report_is_byte_identical_from_two_working_folders_and_names_no_absolute_path() {
    let (dir, _) = evaluation_dir("");
    let root = path(dir.path());
    // From inside the folder with the file named bare, and from elsewhere with its absolute path.
    let (code, err) = report_in(dir.path(), "evaluation.toml", "a");
    assert_eq!(code, 0, "{err}");
    let elsewhere = tempfile::tempdir().unwrap();
    let cfg_abs = path(&dir.path().join("evaluation.toml"));
    let b = dir.path().join("b");
    let (code, err) = report_in(elsewhere.path(), &cfg_abs, &path(&b));
    assert_eq!(code, 0, "{err}");
    let (a_files, b_files) = (walk(&dir.path().join("a")), walk(&b));
    assert_eq!(a_files.len(), b_files.len());
    for (x, y) in a_files.iter().zip(&b_files) {
        let (bx, by) = (std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
        assert!(bx == by, "{} differs from {}", x.display(), y.display());
        assert!(
            !String::from_utf8_lossy(&bx).contains(&root),
            "{} names the folder {root}",
            x.display()
        );
    }
    let v: serde_json::Value = crate::common::report_json(&b);
    assert_eq!(v["data_quality"]["files"][0]["path"], "cohort.csv");
    assert_eq!(v["provenance"]["inputs"][1]["path"], "offences.csv");
}

// ---- 8. Messages about the evaluation file name its key ----

#[test]
fn messages_about_the_evaluation_file_name_its_key_not_a_flag() {
    let cases = [
        (
            "[rules]\nfollow_up_days = 0\n",
            "validate",
            "[rules] follow_up_days",
        ),
        ("[data.x]\n", "validate", "unknown field"),
        (
            "[compare]\ntreatment = \"divert\"\ncontrol = \"nobody\"\n",
            "compare",
            "[compare] control",
        ),
        (
            "[compare]\ntreatment = \"nobody\"\ncontrol = \"comparison\"\n",
            "compare",
            "[compare] treatment",
        ),
        ("[report]\nmin_cell = 2\n", "report", "[report] min_cell"),
    ];
    for (extra, command, key) in cases {
        let (dir, cfg) = evaluation_dir("");
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("[report]\nmin_cell = 3\n", "");
        std::fs::write(&cfg, format!("{text}{extra}")).unwrap();
        let cfg = path(&cfg);
        let out = path(&dir.path().join("out"));
        let args: Vec<&str> = if command == "report" {
            vec!["report", &cfg, "--out", &out]
        } else {
            vec![command, "--config", &cfg]
        };
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{extra}: {err}");
        assert!(err.contains(key), "{extra}: {err}");
        assert!(!err.contains("--"), "{extra}: names a flag: {err}");
    }
    // The same value given as a flag is named as the flag.
    let (_dir, cfg) = evaluation_dir("");
    let (code, _, err) = run(&["validate", "--config", &path(&cfg), "--follow-up-days", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--follow-up-days"), "{err}");
    // `extract_date` in the file.
    let (_dir, cfg) = evaluation_dir("");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "offences = \"offences.csv\"\n",
        "offences = \"offences.csv\"\nextract_date = \"2023-13-45\"\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = run(&["rates", "--config", &path(&cfg)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("[data] extract_date") && !err.contains("--"),
        "{err}"
    );
}

// ---- 3. No panic from any Parquet metadata ----

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A small deterministic generator (no seed file to keep).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % below.max(1)
    }
}

/// Copies of `bytes` with bits flipped and bytes overwritten in the footer (where the page
/// offsets and sizes are) and its length, or cut short. Not the pages themselves: a damaged
/// page header could abort the process before it was checked, so those copies are run in the
/// binary (`corrupted_parquet_page_headers_and_offsets_never_abort`).
fn corrupted(bytes: &[u8], seed: u64, cases: usize) -> Vec<Vec<u8>> {
    let n = bytes.len();
    let footer_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let footer = n - 8 - footer_len..n - 8;
    let mut rng = Lcg(seed);
    (0..cases)
        .map(|case| {
            let mut b = bytes.to_vec();
            let in_footer = |rng: &mut Lcg| footer.start + rng.next(footer.len());
            match case % 4 {
                // One bit of the footer: the issue's case.
                0 => {
                    let at = in_footer(&mut rng);
                    b[at] ^= 1 << rng.next(8);
                }
                // A few bytes of the footer set to large or random values.
                1 => {
                    for _ in 0..1 + rng.next(4) {
                        let at = in_footer(&mut rng);
                        b[at] = [0xff, 0x7f, 0x80, 0x00, rng.next(256) as u8][rng.next(5)];
                    }
                }
                // The footer's length (the trailer), or bits of the footer and trailer.
                2 => {
                    for _ in 0..1 + rng.next(3) {
                        let at = footer.start + rng.next(footer.len() + 4);
                        b[at] ^= 1 << rng.next(8);
                    }
                }
                // A truncated copy with its footer kept.
                _ => {
                    let cut = rng.next(footer.start.max(1));
                    b.drain(cut..cut + rng.next(footer.start - cut).min(64));
                }
            }
            b
        })
        .collect()
}

#[test]
fn corrupted_parquet_footers_and_page_offsets_give_errors_never_a_panic() {
    let cases: usize = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(300, |n: usize| n.max(300));
    let dir = tempfile::tempdir().unwrap();
    let cohort_csv = dir.path().join("cohort.csv");
    std::fs::write(
        &cohort_csv,
        "person_id,cohort,index_date\n101,divert,2021-01-05\n102,divert,2021-02-10\n\
         103,divert,2021-03-15\n104,comparison,2021-01-20\n105,comparison,2021-02-01\n",
    )
    .unwrap();
    let options = reoffending::LoadOptions {
        extract_date: reoffending::parse_iso("2023-06-30"),
        ..Default::default()
    };
    let offences_csv = fixture("zoned_offences.csv");
    let mut errors = 0;
    for (name, as_cohort) in [
        ("labels_dictionary.parquet", false),
        ("labels_plain.parquet", false),
        ("zoned_cohort.parquet", true),
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let mut copies = corrupted(&bytes, 36 + k_seed(name), cases);
        if name == "labels_dictionary.parquet" {
            // Single footer bits that crashed the dictionary decoder (polars' categorical
            // deserializer unwraps, or overflows a capacity) in a reader thread.
            for (at, bit) in [(9607, 6), (11150, 6), (12108, 0)] {
                let mut b = bytes.clone();
                b[at] ^= 1 << bit;
                copies.push(b);
            }
        }
        for (k, copy) in copies.into_iter().enumerate() {
            let p = dir.path().join(format!("c{k}.parquet"));
            std::fs::write(&p, &copy).unwrap();
            let (c, o) = if as_cohort {
                (p.clone(), offences_csv.clone())
            } else {
                (cohort_csv.clone(), p.clone())
            };
            if std::env::var("FUZZ_TRACE").is_ok() {
                eprintln!("{name} {k}");
                std::fs::copy(&p, "/tmp/last.parquet").unwrap();
            }
            let got = std::panic::catch_unwind(|| reoffending::Dataset::load(&c, &o, &options));
            match got {
                Err(_) => {
                    let keep = dir.path().join("panicked.parquet");
                    std::fs::copy(&p, &keep).unwrap();
                    panic!("{name} copy {k} panicked (kept at {})", keep.display());
                }
                Ok(Err(e)) => {
                    errors += 1;
                    assert!(e.is_input_error(), "{name} copy {k}: {e}");
                }
                Ok(Ok(_)) => {}
            }
        }
    }
    assert!(errors > cases / 2, "most copies are refused: {errors}");
}

fn k_seed(name: &str) -> u64 {
    name.bytes().map(u64::from).sum()
}

/// Where a Parquet file's page headers lie (every page of every column chunk), read as the
/// file's own footer and Thrift say.
fn page_headers(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
    let metadata =
        polars_parquet::parquet::read::read_metadata(&mut std::io::Cursor::new(bytes)).unwrap();
    let mut headers = Vec::new();
    for group in &metadata.row_groups {
        for chunk in group.parquet_columns() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset()) as usize;
            let end = start + chunk.compressed_size() as usize;
            let mut pos = start;
            while pos < end {
                let mut cursor = std::io::Cursor::new(&bytes[pos..end]);
                let header = polars_parquet_format::PageHeader::read_from_in_protocol(
                    &mut TCompactInputProtocol::new(&mut cursor, end - pos),
                )
                .unwrap();
                let len = cursor.position() as usize;
                headers.push(pos..pos + len);
                pos += len + header.compressed_page_size as usize;
            }
        }
    }
    headers
}

/// A Thrift compact integer (zigzag varint), as the footer stores offsets.
fn varint(v: i64) -> Vec<u8> {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// Copies of `bytes` with a page header damaged (a bit flipped, bytes set to large values), a
/// page offset in the footer moved (by a byte, or to another page's header or body) with the
/// footer otherwise intact, or a bit flipped near the start of a page's body.
fn corrupted_pages(bytes: &[u8], seed: u64, cases: usize) -> Vec<Vec<u8>> {
    let headers = page_headers(bytes);
    let n = bytes.len();
    let footer_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let footer = n - 8 - footer_len..n - 8;
    // Each page offset of the footer (data and dictionary pages), where its encoding lies.
    let metadata =
        polars_parquet::parquet::read::read_metadata(&mut std::io::Cursor::new(bytes)).unwrap();
    let mut offsets: Vec<(usize, i64)> = Vec::new();
    for chunk in metadata.row_groups.iter().flat_map(|g| g.parquet_columns()) {
        for v in [
            Some(chunk.data_page_offset()),
            chunk.dictionary_page_offset(),
        ]
        .into_iter()
        .flatten()
        {
            let code = varint(v);
            offsets.extend(
                (footer.start..footer.end - code.len())
                    .filter(|&at| bytes[at..at + code.len()] == code[..])
                    .map(|at| (at, v)),
            );
        }
    }
    // Places an offset may be moved to: page headers' starts, ends (a body) and middles.
    let targets: Vec<i64> = headers
        .iter()
        .flat_map(|h| [h.start, h.end, (h.start + h.end) / 2])
        .map(|x| x as i64)
        .collect();
    let mut rng = Lcg(seed);
    let mut copies = Vec::new();
    while copies.len() < cases {
        let mut b = bytes.to_vec();
        let h = &headers[rng.next(headers.len())];
        match copies.len() % 4 {
            0 => {
                let at = h.start + rng.next(h.len());
                b[at] ^= 1 << rng.next(8);
            }
            1 => {
                for _ in 0..1 + rng.next(3) {
                    let at = h.start + rng.next(h.len());
                    b[at] = [0xff, 0x7f, 0x80, 0x00, rng.next(256) as u8][rng.next(5)];
                }
            }
            // A bit of a page's body, near its start (levels, dictionary indices).
            2 => {
                let at = h.end + rng.next(64);
                if at >= footer.start {
                    continue;
                }
                b[at] ^= 1 << rng.next(8);
            }
            _ => {
                if offsets.is_empty() {
                    continue;
                }
                let (at, v) = offsets[rng.next(offsets.len())];
                let to = match rng.next(3) {
                    0 => v + 1,
                    1 => v - 1,
                    _ => targets[rng.next(targets.len())],
                };
                let (old, new) = (varint(v), varint(to));
                // Only an encoding of the same length keeps the rest of the footer readable.
                if to == v || new.len() != old.len() {
                    continue;
                }
                b[at..at + new.len()].copy_from_slice(&new);
            }
        }
        copies.push(b);
    }
    copies
}

/// Runs `validate` on damaged copies, each in its own process (an abort would kill the test's
/// own): exit 0 or 2, never a panic (101) or a signal (an abort on a failed allocation).
/// `PROPTEST_CASES` raises the 24 copies per fixture; `FUZZ_BIN` names another build of the
/// binary to try (an older one, to see the crashes).
#[test]
fn corrupted_parquet_page_headers_and_offsets_never_abort() {
    let cases: usize = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(24, |n: usize| n.max(24));
    let dir = tempfile::tempdir().unwrap();
    let cohort_csv = dir.path().join("cohort.csv");
    std::fs::write(
        &cohort_csv,
        "person_id,cohort,index_date\n101,divert,2021-01-05\n102,divert,2021-02-10\n\
         103,divert,2021-03-15\n104,comparison,2021-01-20\n105,comparison,2021-02-01\n",
    )
    .unwrap();
    let offences_csv = fixture("zoned_offences.csv");
    let mut runs = Vec::new();
    for (name, as_cohort) in [
        ("labels_dictionary.parquet", false),
        ("labels_plain.parquet", false),
        ("offences_pandas.parquet", false),
        ("cohort_pyarrow.parquet", true),
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let mut copies = corrupted_pages(&bytes, 36 + k_seed(name), cases);
        // Single bits that crashed the binary, found by runs of 12,000 and 6,000 copies: of a
        // page header's value count (made negative: polars asked for 2^61 bytes and aborted),
        // and of a page's body (a column decoded to fewer values than its row group holds,
        // then indexed past its end: a panic).
        let pinned: &[(usize, u8)] = match name {
            "labels_dictionary.parquet" => &[(3216, 0), (454, 7)],
            "labels_plain.parquet" => &[(329, 0)],
            "offences_pandas.parquet" => &[(57, 0), (473, 5)],
            _ => &[(358, 0), (512, 7)],
        };
        for &(at, bit) in pinned {
            let mut b = bytes.clone();
            b[at] ^= 1 << bit;
            copies.push(b);
        }
        for (k, copy) in copies.into_iter().enumerate() {
            let p = dir.path().join(format!("{k}_{name}"));
            std::fs::write(&p, &copy).unwrap();
            let (c, o) = if as_cohort {
                (p, offences_csv.clone())
            } else {
                (cohort_csv.clone(), p)
            };
            runs.push((format!("{name} copy {k}"), c, o));
        }
    }
    let bin = std::env::var_os("FUZZ_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("reoffending"));
    let refused = std::sync::atomic::AtomicUsize::new(0);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let crashed = std::sync::Mutex::new(Vec::new());
    // Two at a time: each run is a process start and a few milliseconds of reading.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((what, c, o)) = runs.get(k) else {
                        break;
                    };
                    let out = std::process::Command::new(&bin)
                        .args(["validate", "--extract-date", "2023-06-30", "--cohort"])
                        .arg(c)
                        .arg("--offences")
                        .arg(o)
                        .output()
                        .unwrap();
                    match out.status.code() {
                        Some(0) => {}
                        Some(2) => {
                            refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        _ => {
                            let damaged = if what.starts_with("cohort") { c } else { o };
                            let keep = std::env::temp_dir().join(format!("crashed_{k}.parquet"));
                            std::fs::copy(damaged, &keep).unwrap();
                            let err = String::from_utf8_lossy(&out.stderr);
                            crashed.lock().unwrap().push(format!(
                                "{what}: {} (kept at {}): {}",
                                out.status,
                                keep.display(),
                                err.lines().find(|l| !l.is_empty()).unwrap_or("")
                            ));
                        }
                    }
                }
            });
        }
    });
    let crashed = crashed.into_inner().unwrap();
    assert!(
        crashed.is_empty(),
        "{} of {} copies crashed:\n{}",
        crashed.len(),
        runs.len(),
        crashed.join("\n")
    );
    let refused = refused.into_inner();
    assert!(
        refused > runs.len() / 2,
        "most copies are refused: {refused} of {}",
        runs.len()
    );
}

#[test]
fn structural_csv_and_parquet_problems_name_the_row_or_column() {
    let cohort = "person_id,cohort,index_date\nA,divert,2021-01-10\nB,comparison,2021-01-12\n";
    // A ragged row: named, and no polars option suggested.
    let f = files(
        cohort,
        "person_id,offence_date,disposal_date\nA,2021-03-01,2021-05-01\nB,2021-03-01,2021-05-01,extra\n",
    );
    let err = rates_error(&f);
    assert!(err.contains("row 2") && err.contains("4 values"), "{err}");
    assert!(!err.contains("truncate_ragged_lines"), "{err}");
    // A stray quote that never closes: the row where it opened.
    let f = files(
        cohort,
        "person_id,offence_date,disposal_date\nA,2021-03-01,2021-0\"5-01\nB,2021-03-01,2021-05-01\n",
    );
    assert!(rates_error(&f).contains("row 1"));
    // A column name holding a double quote can be used.
    let f = files(
        "person_id,cohort,index_date,\"area \"\"x\"\"\"\nA,divert,2021-01-10,n\nB,comparison,2021-01-12,s\n",
        "person_id,offence_date,disposal_date\nA,2021-03-01,2021-05-01\n",
    );
    let v = command_json(&f, "rates", &["--by", "area \"x\""]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 2, "{v}");
    // A header followed by blank lines is an empty table (its blank rows missing values).
    let f = files(
        "person_id,cohort,index_date\n\n",
        "person_id,offence_date,disposal_date\n\n\n",
    );
    let v = validate(&f, &[]);
    assert_eq!(v["input"]["rows_used"]["cohort"], 0, "{v}");
    assert_eq!(excluded(&v, "cohort", "missing_value"), 1, "{v}");
    // Parquet struct and decimal256 columns name the column.
    for (name, column) in [
        ("struct_cohort.parquet", "address"),
        ("decimal256_cohort.parquet", "income"),
    ] {
        let (code, _, err) = run(&[
            "validate",
            "--cohort",
            &path(&fixture(name)),
            "--offences",
            &path(&f.offences),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("column `{column}`")), "{err}");
    }
    // A Parquet zone name with ESC and BEL: named, escaped.
    let (code, _, err) = run(&[
        "validate",
        "--cohort",
        &path(&fixture("esc_zone_cohort.parquet")),
        "--offences",
        &path(&f.offences),
    ]);
    assert_eq!(code, 2);
    assert!(
        !raw_controls(err.as_bytes()) && err.contains("\\u{1b}"),
        "{err}"
    );
}

// ---- 5. Covariates with too many levels are refused before any cost ----

/// A cohort of `n` people with a covariate `code` of `levels` levels, and a few offences.
fn levels_files(n: usize, levels: usize) -> Files {
    let mut cohort = String::from("person_id,cohort,index_date,sex,code\n");
    let mut offences = String::from("person_id,offence_date,disposal_date\n");
    for i in 0..n {
        let label = if i % 3 == 0 { "divert" } else { "comparison" };
        let sex = if i % 2 == 0 { "F" } else { "M" };
        cohort.push_str(&format!(
            "P{i},{label},2021-0{}-1{},{sex},L{}\n",
            1 + i % 9,
            i % 10,
            (i / 2) % levels
        ));
        if i % 4 == 0 {
            offences.push_str(&format!("P{i},2021-11-01,2021-12-01\n"));
        }
    }
    files(&cohort, &offences)
}

#[test]
fn covariates_with_more_levels_than_the_limit_are_refused_naming_the_column() {
    let many = levels_files(20_000, 10_000);
    let (c, o) = (path(&many.cohort), path(&many.offences));
    let data = [
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &c,
        "--offences",
        &o,
    ];
    for command in [
        vec![
            "match",
            "--treatment",
            "divert",
            "--control",
            "comparison",
            "--covariates",
            "sex,code",
        ],
        vec!["survival", "--covariates", "sex,code"],
    ] {
        let mut args = command.clone();
        args.extend_from_slice(&data);
        let t = std::time::Instant::now();
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{command:?}: {err}");
        assert!(
            err.contains("`code` has 10000 levels") && err.contains("200"),
            "{err}"
        );
        assert!(
            t.elapsed().as_secs() < 20,
            "{command:?} took {:?}",
            t.elapsed()
        );
    }
    // The limit is an option: 31 levels refused under 30, matched under 31 (the default of 200
    // is timed by `cargo bench --bench levels`).
    let some = levels_files(600, 31);
    let (c, o) = (path(&some.cohort), path(&some.offences));
    let args = [
        "match",
        "--treatment",
        "divert",
        "--control",
        "comparison",
        "--covariates",
        "sex,code",
        "--caliper",
        "0",
        "--format",
        "json",
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &c,
        "--offences",
        &o,
        "--max-levels",
    ];
    let (code, _, err) = run(&[&args[..], &["30"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`code` has 31 levels, more than the 30"),
        "{err}"
    );
    let (code, out, err) = run(&[&args[..], &["31"]].concat());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["sample"]["matched_treated"].as_u64().unwrap() > 0, "{v}");
}
