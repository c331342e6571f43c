//! No input makes loading panic: random, malformed tables give a result or an error.

use crate::common;

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
                let _ = <reoffending::Rates as reoffending::Analysis>::compute(&e, &Default::default());
            }
        });
        prop_assert!(outcome.is_ok(), "panicked on\n{cohort}\n---\n{offences}");
    }
}

mod parquet {
    //! The same for Parquet: random Arrow schemas (every integer width, decimals, floats,
    //! booleans, dates at the extremes, timestamps with and without zones, nulls), for the
    //! cohort and for the offences table (Parquet or CSV). Every input: no panic, and rows
    //! read = rows used + rows excluded. `PROPTEST_CASES` sets the number of cases.
    use super::common::files;
    use polars_core::prelude::*;
    use polars_io::prelude::*;
    use proptest::prelude::*;
    use reoffending::{Evaluation, Inputs, LoadOptions, Rules, TableKind};

    #[derive(Debug, Clone, Copy)]
    enum Kind {
        Text,
        I8,
        I16,
        I32,
        I64,
        U8,
        U16,
        U32,
        U64,
        F64,
        Dec0,
        Dec2,
        Bool,
        Date,
        Stamp(TimeUnit, Option<&'static str>),
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            3 => Just(Kind::Text),
            1 => Just(Kind::I8),
            1 => Just(Kind::I16),
            1 => Just(Kind::I32),
            1 => Just(Kind::I64),
            1 => Just(Kind::U8),
            1 => Just(Kind::U16),
            1 => Just(Kind::U32),
            1 => Just(Kind::U64),
            1 => Just(Kind::F64),
            1 => Just(Kind::Dec0),
            1 => Just(Kind::Dec2),
            1 => Just(Kind::Bool),
            3 => Just(Kind::Date),
            1 => Just(Kind::Stamp(TimeUnit::Nanoseconds, None)),
            1 => Just(Kind::Stamp(TimeUnit::Microseconds, Some("Europe/London"))),
            1 => Just(Kind::Stamp(TimeUnit::Milliseconds, Some("UTC"))),
            1 => Just(Kind::Stamp(TimeUnit::Microseconds, Some("+05:30"))),
            1 => Just(Kind::Stamp(TimeUnit::Microseconds, Some("Not/AZone"))),
        ]
    }

    /// A cell: a number (days near 2021, small counts, extremes) and a text.
    fn cell() -> impl Strategy<Value = (Option<i64>, Option<String>)> {
        let num = prop_oneof![
            1 => Just(None),
            4 => (18_500i64..19_600).prop_map(Some),
            2 => (-3i64..20).prop_map(Some),
            1 => Just(Some(i64::from(i32::MAX))),
            1 => Just(Some(i64::from(i32::MIN))),
            1 => Just(Some(i64::MAX)),
            1 => Just(Some(i64::MIN + 1)),
            1 => Just(Some(4_000_000_000)),
        ];
        let text = prop_oneof![
            1 => Just(None),
            3 => prop::sample::select(vec!["A", "B", "C", "divert", "comparison", "2021-03-04", "", "é😀", "=1+1"])
                .prop_map(|s| Some(s.to_string())),
        ];
        (num, text)
    }

    fn series(name: &str, kind: Kind, cells: &[(Option<i64>, Option<String>)]) -> Series {
        let ints: Vec<Option<i64>> = cells.iter().map(|c| c.0).collect();
        let s = Series::new(name.into(), ints);
        let cast = |s: &Series, dt: DataType| {
            s.cast(&dt)
                .unwrap_or_else(|_| Series::full_null(name.into(), cells.len(), &dt))
        };
        match kind {
            Kind::Text => Series::new(
                name.into(),
                cells.iter().map(|c| c.1.clone()).collect::<Vec<_>>(),
            ),
            Kind::I8 => cast(&s, DataType::Int8),
            Kind::I16 => cast(&s, DataType::Int16),
            Kind::I32 => cast(&s, DataType::Int32),
            Kind::I64 => s,
            Kind::U8 => cast(&s, DataType::UInt8),
            Kind::U16 => cast(&s, DataType::UInt16),
            Kind::U32 => cast(&s, DataType::UInt32),
            Kind::U64 => cast(&s, DataType::UInt64),
            Kind::F64 => Series::new(
                name.into(),
                cells
                    .iter()
                    .map(|c| {
                        c.0.map(|v| {
                            if v == i64::MAX {
                                f64::NAN
                            } else if v == i64::MIN + 1 {
                                f64::INFINITY
                            } else {
                                v as f64 + 0.5 * (v % 2) as f64
                            }
                        })
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Dec0 => cast(&s, DataType::Decimal(18, 0)),
            Kind::Dec2 => cast(&s, DataType::Decimal(20, 2)),
            Kind::Bool => Series::new(
                name.into(),
                cells
                    .iter()
                    .map(|c| c.0.map(|v| v % 2 == 0))
                    .collect::<Vec<_>>(),
            ),
            Kind::Date => cast(&cast(&s, DataType::Int32), DataType::Date),
            Kind::Stamp(unit, tz) => {
                let per_day: i64 = match unit {
                    TimeUnit::Milliseconds => 86_400_000,
                    TimeUnit::Microseconds => 86_400_000_000,
                    TimeUnit::Nanoseconds => 86_400_000_000_000,
                };
                // Local midnight in summer is the evening before in UTC.
                let v: Vec<Option<i64>> = cells
                    .iter()
                    .map(|c| {
                        c.0.and_then(|d| d.checked_mul(per_day)?.checked_sub(per_day / 24))
                    })
                    .collect();
                let zone = tz.and_then(|z| TimeZone::opt_try_new(Some(z)).ok().flatten());
                cast(&Series::new(name.into(), v), DataType::Datetime(unit, zone))
            }
        }
    }

    /// A column's cells: each an integer or a text (or neither: missing).
    type Cells = Vec<(Option<i64>, Option<String>)>;

    fn table(
        names: &'static [&'static str],
    ) -> impl Strategy<Value = Vec<(&'static str, Kind, Cells)>> {
        (
            0usize..8,
            prop::collection::vec(kind(), names.len()),
            prop::collection::vec(any::<bool>(), names.len()),
        )
            .prop_flat_map(move |(rows, kinds, keep)| {
                let cols: Vec<_> = names
                    .iter()
                    .zip(kinds)
                    .zip(keep)
                    // The first three columns are required: keep them (mostly).
                    .enumerate()
                    .filter(|(i, (_, k))| *i < 3 || *k)
                    .map(|(_, ((n, kind), _))| (*n, kind))
                    .collect();
                let cols_len = cols.len();
                (
                    Just(cols),
                    prop::collection::vec(prop::collection::vec(cell(), rows), cols_len),
                )
            })
            .prop_map(|(cols, cells)| {
                cols.into_iter()
                    .zip(cells)
                    .map(|((n, k), c)| (n, k, c))
                    .collect()
            })
    }

    fn write_parquet(path: &std::path::Path, cols: &[(&str, Kind, Cells)]) {
        let columns: Vec<Column> = cols
            .iter()
            .map(|(n, k, c)| series(n, *k, c).into())
            .collect();
        let mut df = DataFrame::new_infer_height(columns).unwrap();
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .finish(&mut df)
            .unwrap();
    }

    fn write_csv(path: &std::path::Path, cols: &[(&str, Kind, Cells)]) {
        let mut s = cols.iter().map(|c| c.0).collect::<Vec<_>>().join(",");
        s.push('\n');
        let rows = cols.first().map_or(0, |c| c.2.len());
        for r in 0..rows {
            let line: Vec<String> = cols
                .iter()
                .map(|(_, k, c)| match k {
                    Kind::Text => c[r].1.clone().unwrap_or_default(),
                    _ => c[r]
                        .0
                        .map(|d| i32::try_from(d).map_or(d.to_string(), reoffending::format_day))
                        .unwrap_or_default(),
                })
                .collect();
            s.push_str(&line.join(","));
            s.push('\n');
        }
        std::fs::write(path, s).unwrap();
    }

    const COHORT: &[&str] = &[
        "person_id",
        "cohort",
        "index_date",
        "sex",
        "age_at_index",
        "prior_offences",
        "score",
    ];
    const OFFENCES: &[&str] = &[
        "person_id",
        "offence_date",
        "disposal_date",
        "offence_type",
        "disposal",
    ];

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

        #[test]
        fn random_parquet_schemas_never_panic(
            cohort in table(COHORT),
            offences in table(OFFENCES),
            offences_csv in any::<bool>(),
        ) {
            let f = files("", "");
            let c = f.dir.path().join("cohort.parquet");
            let o = if offences_csv { f.dir.path().join("offences.csv") } else { f.dir.path().join("offences.parquet") };
            write_parquet(&c, &cohort);
            if offences_csv { write_csv(&o, &offences) } else { write_parquet(&o, &offences) }
            let inputs = Inputs { cohort: c, offences: o, load: LoadOptions::default() };
            let outcome = std::panic::catch_unwind(|| {
                if let Ok(e) = Evaluation::load(&inputs, Rules::default()) {
                    let q = &e.quality;
                    assert_eq!(q.rows_read.cohort, q.rows_used.cohort + q.excluded_total(TableKind::Cohort));
                    assert_eq!(q.rows_read.offences, q.rows_used.offences + q.excluded_total(TableKind::Offences));
                    let _ = <reoffending::Rates as reoffending::Analysis>::compute(&e, &Default::default());
                }
            });
            prop_assert!(outcome.is_ok(), "panicked on\n{cohort:?}\n---\n{offences:?}");
        }
    }
}

mod extracts {
    //! The same for the extract readers: random typed cells in a workbook (text, numbers,
    //! booleans, dates, blanks; the table starting at a random row and column) read through a
    //! mapping, with a second workbook as a further cohort file, offences split over a
    //! `.csv.zst` and a `.csv.gz` and recoded (values without a label kept), and random bytes
    //! under each new file name, and the workbook cut short. Every input: no panic; loads
    //! that succeed add up.
    use std::io::Write;

    use proptest::prelude::*;
    use reoffending::data::{Extract, Recode, Unmapped};
    use reoffending::{Evaluation, Inputs, LoadOptions, Rules, TableKind};

    #[derive(Debug, Clone)]
    enum Cell {
        Blank,
        Text(String),
        Number(f64),
        Bool(bool),
        Date(u16, u8, u8),
    }

    fn cell() -> impl Strategy<Value = Cell> {
        prop_oneof![
            Just(Cell::Blank),
            "[a-zA-Z0-9 /é-]{0,8}".prop_map(Cell::Text),
            Just(Cell::Text("2021-03-04".into())),
            Just(Cell::Text("A1".into())),
            Just(Cell::Text("divert".into())),
            prop::num::f64::ANY.prop_map(Cell::Number),
            (0i64..100).prop_map(|x| Cell::Number(x as f64)),
            any::<bool>().prop_map(Cell::Bool),
            (1900u16..2100, 1u8..13, 1u8..29).prop_map(|(y, m, d)| Cell::Date(y, m, d)),
        ]
    }

    /// The rows under a header, its first cell at (`at.0`, `at.1`) from A1.
    fn write_book(path: &std::path::Path, rows: &[Vec<Cell>], at: (u32, u16)) {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        let s = book.add_worksheet().set_name("Referrals").unwrap();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        for (j, h) in ["URN", "Scheme", "Referred", "Age"].iter().enumerate() {
            s.write_string(at.0, at.1 + j as u16, *h).unwrap();
        }
        for (i, r) in rows.iter().enumerate() {
            for (j, c) in r.iter().enumerate().take(4) {
                let (i, j) = (at.0 + i as u32 + 1, at.1 + j as u16);
                match c {
                    Cell::Blank => {}
                    Cell::Text(t) => {
                        s.write_string(i, j, t).unwrap();
                    }
                    Cell::Number(x) if x.is_finite() => {
                        s.write_number(i, j, *x).unwrap();
                    }
                    Cell::Number(_) => {}
                    Cell::Bool(b) => {
                        s.write_boolean(i, j, *b).unwrap();
                    }
                    Cell::Date(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        s.write_datetime_with_format(i, j, &dt, &date).unwrap();
                    }
                }
            }
        }
        book.save(path).unwrap();
    }

    fn csv(rows: &[Vec<Cell>]) -> String {
        let mut s = String::from("URN,Committed,Outcome,Code\n");
        for r in rows {
            let f: Vec<String> = r
                .iter()
                .take(4)
                .map(|c| match c {
                    Cell::Blank => String::new(),
                    Cell::Text(t) => t.replace(',', " "),
                    Cell::Number(x) => x.to_string(),
                    Cell::Bool(b) => b.to_string(),
                    Cell::Date(y, m, d) => format!("{y}-{m:02}-{d:02}"),
                })
                .collect();
            s.push_str(&f.join(","));
            s.push('\n');
        }
        s
    }

    fn extract_load(dir: &std::path::Path) -> LoadOptions {
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        LoadOptions {
            cohort_extract: Extract {
                more_files: vec![dir.join("more.xlsx")],
                columns: pairs(&[
                    ("person_id", "URN"),
                    ("cohort", "Scheme"),
                    ("index_date", "Referred"),
                    ("age_at_index", "Age"),
                ]),
                recode: Vec::new(),
            },
            offences_extract: Extract {
                more_files: vec![dir.join("b.csv.gz")],
                columns: pairs(&[
                    ("person_id", "URN"),
                    ("offence_date", "Committed"),
                    ("disposal_date", "Outcome"),
                    ("disposal", "Code"),
                ]),
                recode: vec![Recode {
                    column: "disposal".into(),
                    labels: vec![("1".into(), "conviction".into())],
                    source: None,
                    unmapped: Unmapped::Keep,
                }],
            },
            ..LoadOptions::default()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn random_workbooks_and_compressed_files_never_panic(
            cohort in prop::collection::vec(prop::collection::vec(cell(), 0..5), 0..10),
            a in prop::collection::vec(prop::collection::vec(cell(), 0..5), 0..8),
            b in prop::collection::vec(prop::collection::vec(cell(), 0..5), 0..8),
            junk in prop::collection::vec(any::<u8>(), 0..64),
            at in (0u32..3, 0u16..3),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let book = dir.path().join("referrals.xlsx");
            write_book(&book, &cohort, at);
            write_book(&dir.path().join("more.xlsx"), &a, (0, 0));
            let whole = std::fs::read(&book).unwrap();
            let cut = whole.len() * usize::from(junk.first().copied().unwrap_or(0)) / 256;
            std::fs::write(dir.path().join("cut.xlsx"), &whole[..cut]).unwrap();
            std::fs::write(dir.path().join("a.csv.zst"), zstd::encode_all(csv(&a).as_bytes(), 1).unwrap()).unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(csv(&b).as_bytes()).unwrap();
            std::fs::write(dir.path().join("b.csv.gz"), gz.finish().unwrap()).unwrap();
            for name in ["junk.xlsx", "junk.ods", "junk.csv.zst", "junk.csv.gz"] {
                std::fs::write(dir.path().join(name), &junk).unwrap();
            }
            let load = extract_load(dir.path());
            let outcome = std::panic::catch_unwind(|| {
                let inputs = Inputs { cohort: book.clone(), offences: dir.path().join("a.csv.zst"), load: load.clone() };
                if let Ok(e) = Evaluation::load(&inputs, Rules::default()) {
                    let q = &e.quality;
                    assert_eq!(q.rows_read.cohort, q.rows_used.cohort + q.excluded_total(TableKind::Cohort));
                    assert_eq!(q.rows_read.offences, q.rows_used.offences + q.excluded_total(TableKind::Offences));
                }
                for name in ["junk.xlsx", "junk.ods", "junk.csv.zst", "junk.csv.gz", "cut.xlsx"] {
                    let inputs = Inputs { cohort: dir.path().join(name), offences: dir.path().join("a.csv.zst"), load: load.clone() };
                    assert!(Evaluation::load(&inputs, Rules::default()).is_err());
                }
                let _ = reoffending::data::inspect(&[book.clone(), dir.path().join("a.csv.zst"), dir.path().join("b.csv.gz")], 10);
            });
            prop_assert!(outcome.is_ok(), "panicked on {cohort:?} / {a:?} / {b:?}");
        }
    }
}
