//! The CSV reader and writer, and the `fair_kernel` tool end to end
//! through `run_fair_kernel_tool` (the example binary is a thin wrapper).
mod fair_support;

use fair_support::{attributes, max_diff, points, rbf, temp_dir};
use gramkit::host::{
    CsvError, CsvProblem, CsvTable, FairKernel, FairToolError, Header, Matrix, format_csv,
    run_fair_kernel_tool, write_csv,
};
use std::path::{Path, PathBuf};

fn parse(text: &str) -> Result<CsvTable<f64>, CsvError> {
    CsvTable::parse(text, "k.csv", Header::Absent)
}

fn problem_of(text: &str) -> (Option<usize>, CsvProblem, String) {
    let e = parse(text).unwrap_err();
    assert_eq!(e.file, "k.csv");
    (e.line, e.problem.clone(), e.to_string())
}

#[test]
fn csv_reads_numbers_comments_crlf_bom_and_quotes() {
    let t = parse("\u{feff}# a comment\n1, 2.5 ,-3e-1\r\n\n\"4\",5,6\n").unwrap();
    assert_eq!((t.nrows(), t.ncols()), (2, 3));
    assert_eq!(t.values().as_slice(), &[1.0, 2.5, -0.3, 4.0, 5.0, 6.0]);
    assert_eq!(
        (t.line_of(0), t.line_of(1), t.line_of(2)),
        (Some(2), Some(4), None)
    );
    assert!(t.header().is_none());
    let h = CsvTable::<f64>::parse("a,b\n1,2\n3,4\n", "h.csv", Header::Present).unwrap();
    assert_eq!(h.header().unwrap(), &["a".to_string(), "b".to_string()]);
    assert_eq!(h.column("b").unwrap(), vec![2.0, 4.0]);
    assert_eq!(h.column_index("a").unwrap(), 0);
    let e = h.column("c").unwrap_err();
    assert_eq!(e.to_string(), "h.csv: no column named `c` in the header");
    let f32_table = CsvTable::<f32>::parse("1.5,2\n", "s.csv", Header::Absent).unwrap();
    assert_eq!(f32_table.values().as_slice(), &[1.5f32, 2.0]);
}

#[test]
fn csv_errors_name_the_file_the_line_and_the_problem() {
    let (line, problem, msg) = problem_of("1,2\n3,x\n");
    assert_eq!(line, Some(2));
    assert_eq!(
        problem,
        CsvProblem::NotANumber {
            field: 2,
            text: "x".into()
        }
    );
    assert_eq!(msg, "k.csv: line 2: field 2 (`x`) is not a number");

    let (line, problem, msg) = problem_of("1,2,3\n4,5\n");
    assert_eq!(line, Some(2));
    assert_eq!(
        problem,
        CsvProblem::Ragged {
            expected: 3,
            got: 2,
            first_line: 1
        }
    );
    assert_eq!(
        msg,
        "k.csv: line 2: 2 fields, but line 1 has 3 (rows must all have the same number of fields)"
    );

    let (line, problem, _) = problem_of("1,2\n# comment\n3,,4\n");
    assert_eq!(
        (line, problem),
        (Some(3), CsvProblem::EmptyField { field: 2 })
    );
    let (line, problem, _) = problem_of("1,2,\n");
    assert_eq!(
        (line, problem),
        (Some(1), CsvProblem::EmptyField { field: 3 })
    );

    for bad in ["nan", "inf", "-inf", "NaN"] {
        let (line, problem, msg) = problem_of(&format!("1,2\n3,{bad}\n"));
        assert_eq!(line, Some(2));
        assert_eq!(
            problem,
            CsvProblem::NonFinite {
                field: 2,
                text: bad.into()
            }
        );
        assert!(msg.ends_with("is not a finite number"), "{msg}");
    }
    let e = CsvTable::<f32>::parse("1e300\n", "s.csv", Header::Absent).unwrap_err();
    assert!(matches!(e.problem, CsvProblem::NonFinite { field: 1, .. }));

    let (line, problem, msg) = problem_of("\n# only a comment\n");
    assert_eq!((line, problem), (None, CsvProblem::NoData));
    assert_eq!(msg, "k.csv: no data rows");

    let h = CsvTable::<f64>::parse("a,b\n1,2,3\n", "h.csv", Header::Present).unwrap_err();
    assert_eq!(h.line, Some(2));
    assert!(matches!(
        h.problem,
        CsvProblem::Ragged {
            expected: 2,
            got: 3,
            first_line: 1
        }
    ));

    let missing = CsvTable::<f64>::read("/nonexistent/dir/k.csv", Header::Absent).unwrap_err();
    assert_eq!(missing.file, "/nonexistent/dir/k.csv");
    assert!(
        missing
            .to_string()
            .starts_with("/nonexistent/dir/k.csv: cannot read: "),
        "{missing}"
    );
}

#[test]
fn csv_shape_checks_point_at_lines() {
    let t = parse("1,2\n3,4\n5,6\n").unwrap();
    assert!(t.expect_rows(3, "(points)").is_ok());
    let e = t.expect_rows(2, "(points)").unwrap_err();
    assert_eq!(
        e.to_string(),
        "k.csv: line 3: 3 data rows, expected 2 (points)"
    );
    let e = t.expect_rows(4, "(points)").unwrap_err();
    assert_eq!(e.to_string(), "k.csv: 3 data rows, expected 4 (points)");
    let e = t.expect_cols(3, "(one per point)").unwrap_err();
    assert_eq!(
        e.to_string(),
        "k.csv: line 1: 2 fields per row, expected 3 (one per point)"
    );
}

#[test]
fn csv_round_trips_exactly() {
    let m = Matrix::from_fn(7, 5, |i, j| {
        ((i * 5 + j) as f64 * 0.731).sin() * 10f64.powi(i as i32 * 40 - 120)
            + if j == 0 { 0.1 } else { 0.0 }
    });
    let text = format_csv(m.view());
    let back = CsvTable::<f64>::parse(&text, "round", Header::Absent).unwrap();
    assert_eq!(back.values(), &m, "bit for bit");
    let dir = temp_dir("roundtrip");
    let path = dir.join("m.csv");
    write_csv(&path, m.view()).unwrap();
    assert_eq!(
        CsvTable::<f64>::read(&path, Header::Absent)
            .unwrap()
            .values(),
        &m
    );
    let e = write_csv(dir.join("no/such/dir/m.csv"), m.view()).unwrap_err();
    assert!(e.to_string().contains("cannot write"), "{e}");
}

/// Writes the inputs of a tool run into `dir`: K (n x n), A (n x p), the
/// test kernel (t x n) and its diagonal.
struct Files {
    dir: PathBuf,
    k: Matrix<f64>,
    a: Matrix<f64>,
    cross: Matrix<f64>,
}

fn files(name: &str, n: usize, t: usize, p: usize) -> Files {
    let dir = temp_dir(name);
    let pts = points(n + t, 5);
    let (train, test) = pts.split_at(n);
    let f = Files {
        k: rbf(train, train, 0.8),
        a: attributes(train, p),
        cross: rbf(test, train, 0.8),
        dir,
    };
    write_csv(f.path("K.csv"), f.k.view()).unwrap();
    write_csv(f.path("A.csv"), f.a.view()).unwrap();
    write_csv(f.path("Kt.csv"), f.cross.view()).unwrap();
    std::fs::write(f.path("kxx.csv"), "1\n".repeat(t)).unwrap();
    f
}

impl Files {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

fn run(
    args: &[&str],
) -> (
    Result<Option<gramkit::host::FairToolSummary>, FairToolError>,
    String,
) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    let r = run_fair_kernel_tool(&args, &mut out);
    (r, String::from_utf8(out).unwrap())
}

fn read(path: &Path) -> Matrix<f64> {
    CsvTable::<f64>::read(path, Header::Absent)
        .unwrap()
        .into_values()
}

#[test]
fn tool_writes_what_the_builder_computes() {
    let f = files("e2e", 30, 4, 1);
    let (kf, af, tf, df) = (
        f.arg("K.csv"),
        f.arg("A.csv"),
        f.arg("Kt.csv"),
        f.arg("kxx.csv"),
    );
    let (of, otf, odf) = (f.arg("Kk.csv"), f.arg("Kt_k.csv"), f.arg("kxx_k.csv"));
    let (r, stdout) = run(&[
        "--kernel",
        &kf,
        "--protected",
        &af,
        "--lambda",
        "1e-2",
        "--iterations",
        "3",
        "--out",
        &of,
        "--test-kernel",
        &tf,
        "--out-test",
        &otf,
        "--test-diag",
        &df,
        "--out-test-diag",
        &odf,
    ]);
    let summary = r.unwrap().unwrap();
    assert_eq!(
        (summary.n, summary.p, summary.new_points, summary.requested),
        (30, 1, Some(4), 3)
    );
    assert!(stdout.lines().any(|l| l == "iterations = 3"), "{stdout}");
    let fit = FairKernel::new(1e-2, 3).fit(&f.k, &f.a).unwrap();
    assert_eq!(
        &read(&f.path("Kk.csv")),
        fit.kernel().unwrap(),
        "full precision: bit for bit"
    );
    let (rows, diag) = fit.transform_rows_with_diag(&f.cross, &[1.0; 4]).unwrap();
    assert_eq!(read(&f.path("Kt_k.csv")), rows);
    assert_eq!(read(&f.path("kxx_k.csv")).into_vec(), diag);
}

#[test]
fn tool_nystrom_mode_and_two_attributes() {
    let f = files("nystrom", 40, 3, 2);
    let (kf, af, tf) = (f.arg("K.csv"), f.arg("A.csv"), f.arg("Kt.csv"));
    let (of, otf) = (f.arg("Kk.csv"), f.arg("Kt_k.csv"));
    let (r, stdout) = run(&[
        "--kernel=".to_string() + &kf,
        "--protected".into(),
        af,
        "--lambda".into(),
        "0.1".into(),
        "--iterations".into(),
        "2".into(),
        "--nystrom".into(),
        "10".into(),
        "--out".into(),
        of,
        "--test-kernel".into(),
        tf,
        "--out-test".into(),
        otf,
    ]
    .iter()
    .map(String::as_str)
    .collect::<Vec<_>>());
    let summary = r.unwrap().unwrap();
    assert_eq!(summary.p, 2);
    assert!(stdout.contains(&format!("iterations = {}", summary.report.applied)));
    let fit = FairKernel::new(0.1, 2).nystrom(10).fit(&f.k, &f.a).unwrap();
    assert_eq!(&read(&f.path("Kk.csv")), fit.kernel().unwrap());
    assert!(
        max_diff(
            &read(&f.path("Kt_k.csv")),
            &fit.transform_rows(&f.cross).unwrap()
        ) == 0.0
    );
}

#[test]
fn tool_reports_early_stops() {
    let f = files("early", 8, 0, 1);
    let (kf, af, of) = (f.arg("K.csv"), f.arg("A.csv"), f.arg("Kk.csv"));
    let (r, stdout) = run(&[
        "--kernel",
        &kf,
        "--protected",
        &af,
        "--lambda",
        "1e-3",
        "--iterations",
        "50",
        "--out",
        &of,
    ]);
    let applied = r.unwrap().unwrap().report.applied;
    assert!(applied < 50);
    assert!(
        stdout.lines().next() == Some(&format!("iterations = {applied}")[..]),
        "{stdout}"
    );
    assert!(stdout.contains("note: stopped after"), "{stdout}");
}

/// Runs the tool with a bad input and returns its message.
fn bad_file(name: &str, file: &str, content: &str) -> String {
    let f = files(name, 6, 2, 1);
    std::fs::write(f.path(file), content).unwrap();
    let (r, _) = run(&[
        "--kernel",
        &f.arg("K.csv"),
        "--protected",
        &f.arg("A.csv"),
        "--lambda",
        "0.1",
        "--iterations",
        "2",
        "--out",
        &f.arg("Kk.csv"),
        "--test-kernel",
        &f.arg("Kt.csv"),
        "--out-test",
        &f.arg("o.csv"),
        "--test-diag",
        &f.arg("kxx.csv"),
        "--out-test-diag",
        &f.arg("od.csv"),
    ]);
    let e = r.unwrap_err();
    assert!(matches!(e, FairToolError::File(_)), "{e}");
    assert_eq!(e.exit_code(), 1);
    let msg = e.to_string();
    assert!(msg.contains(&f.arg(file)), "names the file: {msg}");
    msg
}

#[test]
fn tool_rejects_bad_files_with_clear_messages() {
    let k_row = |i: usize| {
        (0..6)
            .map(|j| if i == j { "1" } else { "0.5" })
            .collect::<Vec<_>>()
            .join(",")
    };
    let good_k: Vec<String> = (0..6).map(k_row).collect();
    let mut not_number = good_k.clone();
    not_number[3] = not_number[3].replacen("0.5", "abc", 1);
    let msg = bad_file("nan1", "K.csv", &not_number.join("\n"));
    assert!(
        msg.ends_with("line 4: field 1 (`abc`) is not a number"),
        "{msg}"
    );

    let mut ragged = good_k.clone();
    ragged[2] = "1,2".into();
    let msg = bad_file("ragged", "K.csv", &ragged.join("\n"));
    assert!(msg.contains("line 3: 2 fields, but line 1 has 6"), "{msg}");

    let msg = bad_file("square", "K.csv", &good_k[..5].join("\n"));
    assert!(
        msg.contains("the kernel must be square (n x n), but it has 5 rows of 6 fields"),
        "{msg}"
    );

    let mut asym = good_k.clone();
    asym[4] = "0.5,0.5,0.5,0.5,1,0.7".into();
    let msg = bad_file("asym", "K.csv", &asym.join("\n"));
    assert!(
        msg.contains(
            "line 6: the kernel is not symmetric: field 5 is 0.5, but line 5, field 6 is 0.7"
        ),
        "{msg}"
    );

    let msg = bad_file("inf", "A.csv", "1\n2\ninf\n4\n5\n6\n");
    assert!(
        msg.ends_with("line 3: field 1 (`inf`) is not a finite number"),
        "{msg}"
    );

    let msg = bad_file("count", "A.csv", "1\n2\n3\n4\n5\n6\n7\n");
    assert!(
        msg.contains("line 7: 7 data rows, expected 6 (one per training point"),
        "{msg}"
    );
    let msg = bad_file("count2", "A.csv", "1\n2\n3\n");
    assert!(msg.contains("3 data rows, expected 6"), "{msg}");

    let msg = bad_file("testcols", "Kt.csv", "0.1,0.2\n0.3,0.4\n");
    assert!(
        msg.contains("line 1: 2 fields per row, expected 6"),
        "{msg}"
    );

    let msg = bad_file("diag", "kxx.csv", "1\n1\n1\n");
    assert!(msg.contains("line 3: expected 2 values k(x, x)"), "{msg}");

    let msg = bad_file("empty", "A.csv", "");
    assert!(msg.ends_with(": no data rows"), "{msg}");
}

#[test]
fn tool_usage_errors() {
    let f = files("usage", 5, 1, 1);
    let (kf, af, of) = (f.arg("K.csv"), f.arg("A.csv"), f.arg("Kk.csv"));
    let base = [
        "--kernel",
        &kf,
        "--protected",
        &af,
        "--lambda",
        "0.1",
        "--iterations",
        "2",
        "--out",
        &of,
    ];
    let usage = |extra: &[&str], drop: Option<&str>| {
        let mut args: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < base.len() {
            if Some(base[i]) != drop {
                args.extend_from_slice(&base[i..i + 2]);
            }
            i += 2;
        }
        args.extend_from_slice(extra);
        let (r, _) = run(&args);
        let e = r.unwrap_err();
        assert!(matches!(e, FairToolError::Usage(_)), "{e}");
        assert_eq!(e.exit_code(), 2);
        e.to_string()
    };
    assert!(usage(&[], Some("--kernel")).starts_with("missing required option --kernel"));
    assert!(usage(&[], Some("--lambda")).contains("--lambda"));
    assert!(usage(&[], Some("--out")).contains("--out"));
    assert!(usage(&["--bogus", "1"], None).contains("unknown option --bogus"));
    assert!(usage(&["--lambda", "2"], None).contains("given twice"));
    assert!(
        usage(&["--nystrom", "6"], None)
            .contains("--nystrom 6 exceeds the number of training points n = 5")
    );
    assert!(usage(&["--nystrom", "0"], None).contains("--nystrom needs a whole number >= 1"));
    assert!(usage(&["--test-kernel", "x.csv"], None).contains("--test-kernel needs --out-test"));
    assert!(
        usage(&["--test-diag", "x.csv", "--out-test-diag", "y"], None)
            .contains("--test-diag needs --test-kernel")
    );
    assert!(usage(&["stray"], None).contains("unexpected argument `stray`"));
    assert!(usage(&["--out-test"], None).contains("--out-test needs a value"));
    let (r, _) = run(&["--lambda", "-1"]);
    assert!(
        r.unwrap_err()
            .to_string()
            .contains("--lambda must be positive and finite")
    );
    let (r, _) = run(&["--lambda", "abc"]);
    assert!(r.unwrap_err().to_string().contains("`abc` is not a number"));
    let (r, _) = run(&["--iterations", "-3"]);
    assert!(
        r.unwrap_err()
            .to_string()
            .contains("--iterations needs a whole number >= 0")
    );
    let (r, stdout) = run(&["--help"]);
    assert!(r.unwrap().is_none());
    assert!(stdout.starts_with("usage: fair_kernel"));
    assert!(stdout.contains("--test-diag FILE"));
}

#[test]
fn tool_reports_an_unwritable_output() {
    let f = files("unwritable", 4, 0, 1);
    std::fs::write(f.path("K.csv"), "1,0,0,0\n0,1,0,0\n0,0,1,0\n0,0,0,1\n").unwrap();
    let (kf, af, of) = (f.arg("K.csv"), f.arg("A.csv"), f.arg("no/such/dir/Kk.csv"));
    let (r, _) = run(&[
        "--kernel",
        &kf,
        "--protected",
        &af,
        "--lambda",
        "0.1",
        "--iterations",
        "1",
        "--out",
        &of,
    ]);
    let e = r.unwrap_err();
    assert!(e.to_string().contains("cannot write"), "{e}");
    assert!(e.to_string().contains("Kk.csv"), "{e}");
    assert_eq!(e.exit_code(), 1);
}
