//! Fair kernel ridge regression on real data with a continuous protected
//! attribute: the diabetes data of Efron et al. (2004), 442 patients,
//! target `progression` (disease progression after one year), protected
//! attribute `age` (shipped in examples/data/, see its README).
//!
//! ```text
//! cargo run --release --example fair_regression             # about 10 s on 2 cores
//! cargo run --release --example fair_regression -- --help
//! ```
//!
//! The protocol follows the paper (../shared/seeds/001_e8c83b458f0a0d00.txt,
//! section 4): 5-fold cross-validation with a seeded shuffle; in each fold
//!
//! 1. the inputs are standardized with the training part's statistics and
//!    an RBF kernel is built on them (lengthscale: median heuristic on the
//!    training part). `age` is one of the inputs by default: the transform
//!    has to remove it from the kernel, directly and through its proxies
//!    (`--exclude-protected` drops it and leaves only the proxies);
//! 2. the kernel-ridge `mu` is chosen by an inner 5-fold cross-validation
//!    of the plain kernel (k = 0, exact) among 1e-3 .. 10, by MAE, and kept
//!    for every fair setting of that fold (the paper tunes its base methods
//!    on the non-fair model first); the intercept is the training mean;
//! 3. the training kernel is transformed by the fair null-space projection
//!    (protected attribute: `age` centred and scaled on the training part)
//!    for every lambda in (1e-3, 1e-2, 1e-1, 1, 10) and every number of
//!    iterations k in (0, 1, 2, 4, 8, 16), in exact mode and in Nystroem
//!    mode with m = 10%, 25% and 50% of the training points (greedy
//!    landmarks); the test points' kernel rows are transformed by the same
//!    fit;
//! 4. kernel ridge regression on the transformed kernel predicts the test
//!    part, scored by MAE and R^2 (accuracy) and by |Pearson|, HSIC, HGR
//!    and GDP between the predictions and `age` (fairness; definitions in
//!    `gramkit::host`, module `metrics`).
//!
//! Prints the means over the folds as Markdown tables, with two references:
//! predicting the training mean, and the fairness measures of the plain
//! predictions against randomly permuted ages (what the measures give for
//! no dependence at about 88 test points). Draws the accuracy/fairness
//! trade-off (MAE against |Pearson| and against HGR, one curve per mode,
//! one panel per lambda, points labelled by k) into
//! `OUT/fair_regression.svg` (`--out OUT`, default `out/`).

mod common;

use gramkit::host::metrics::{gdp_kde, hgr_kde, hsic_rbf, mean_absolute_error, pearson, r_squared};
use gramkit::host::{
    CsvTable, FairKernel, Header, KernelRidge, Matrix, Standardizer, complement, k_fold,
    median_heuristic_lengthscale, rbf_gram, rbf_kernel, select, select_ridge_cv,
};
use plotters::prelude::*;
use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

type BoxResult<T> = Result<T, Box<dyn StdError>>;

/// The data shipped with the crate (see examples/data/README.md).
const DIABETES: &str = include_str!("data/diabetes.csv");
const TARGET: &str = "progression";
const PROTECTED: &str = "age";
const FOLDS: usize = 5;
const LAMBDAS: [f64; 5] = [1e-3, 1e-2, 1e-1, 1.0, 10.0];
const ITERATIONS: [usize; 6] = [0, 1, 2, 4, 8, 16];
/// Nystroem landmarks as a percentage of the training points.
const NYSTROM_PERCENT: [usize; 3] = [10, 25, 50];
/// Candidates for the kernel-ridge `mu`.
const MU_GRID: [f64; 5] = [1e-3, 1e-2, 1e-1, 1.0, 10.0];

const USAGE: &str = "\
usage: fair_regression [options]

Fair kernel ridge regression on the diabetes data (442 patients, target
`progression`, protected attribute `age`): 5-fold cross-validation of the
fair null-space projection for k in (0, 1, 2, 4, 8, 16) iterations and
lambda in (1e-3, 1e-2, 1e-1, 1, 10), exact and Nystroem (m = 10%, 25%, 50%
of the training points). Prints Markdown tables of MAE, R^2, |Pearson|,
HSIC, HGR and GDP; draws the trade-off into OUT/fair_regression.svg.

options:
  --out DIR              where to write fair_regression.svg (default out/)
  --data FILE            a CSV file with a header holding the columns
                         `progression` and `age` (default: the shipped
                         examples/data/diabetes.csv)
  --seed S               seed of the fold shuffle (default 2004)
  --exclude-protected    do not use `age` as an input feature
  --help                 this text";

/// Command-line settings.
struct Args {
    out: PathBuf,
    data: Option<PathBuf>,
    seed: u64,
    exclude_protected: bool,
}

/// How the transform sees the kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Exact,
    /// Nystroem with this percentage of the training points as landmarks.
    Nystrom(usize),
}

impl Mode {
    fn all() -> Vec<Mode> {
        let mut v = vec![Mode::Exact];
        v.extend(NYSTROM_PERCENT.iter().map(|&p| Mode::Nystrom(p)));
        v
    }
    fn name(self) -> String {
        match self {
            Mode::Exact => "exact".into(),
            Mode::Nystrom(p) => format!("Nystroem {p}%"),
        }
    }
    fn builder(self, lambda: f64, k: usize, n: usize) -> FairKernel<f64> {
        let b = FairKernel::new(lambda, k);
        match self {
            Mode::Exact => b,
            Mode::Nystrom(p) => b.nystrom((n * p).div_ceil(100).max(1)),
        }
    }
}

/// One setting of the sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Setting {
    mode: Mode,
    lambda: f64,
    k: usize,
}

/// The scores of one setting on one fold.
#[derive(Clone, Copy, Debug, Default)]
struct Scores {
    mae: f64,
    r2: f64,
    pearson: f64,
    hsic: f64,
    hgr: f64,
    gdp: f64,
    applied: f64,
}

impl Scores {
    const FIELDS: usize = 7;
    fn to_array(self) -> [f64; Self::FIELDS] {
        [
            self.mae,
            self.r2,
            self.pearson,
            self.hsic,
            self.hgr,
            self.gdp,
            self.applied,
        ]
    }
    fn from_array(a: [f64; Self::FIELDS]) -> Self {
        Scores {
            mae: a[0],
            r2: a[1],
            pearson: a[2],
            hsic: a[3],
            hgr: a[4],
            gdp: a[5],
            applied: a[6],
        }
    }
}

/// Mean and standard deviation over the folds of one setting.
#[derive(Clone, Copy, Debug)]
struct Summary {
    setting: Setting,
    mean: Scores,
    sd: Scores,
}

/// The data: features, target, protected attribute.
struct Data {
    x: Matrix<f64>,
    y: Vec<f64>,
    age: Vec<f64>,
    features: Vec<String>,
}

fn main() -> ExitCode {
    common::cli_main(USAGE, parse_args, run)
}

/// Parses the flags; `None` for `--help`.
fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        out: PathBuf::from("out"),
        data: None,
        seed: 2004,
        exclude_protected: false,
    };
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--out" => args.out = PathBuf::from(value("--out")?),
            "--data" => args.data = Some(PathBuf::from(value("--data")?)),
            "--seed" => {
                let v = value("--seed")?;
                args.seed = v
                    .parse()
                    .map_err(|_| format!("--seed needs a whole number, got `{v}`"))?;
            }
            "--exclude-protected" => args.exclude_protected = true,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(Some(args))
}

fn run(args: &Args) -> BoxResult<()> {
    let data = load(args)?;
    let n = data.y.len();
    println!("diabetes data: {n} patients, target `{TARGET}`, protected attribute `{PROTECTED}`");
    println!(
        "inputs ({}): {}",
        data.features.len(),
        data.features.join(", ")
    );
    println!(
        "{FOLDS}-fold cross-validation (seed {}), RBF kernel on standardized inputs (median-heuristic lengthscale),\n\
         kernel ridge regression with mu chosen by inner 5-fold CV on the plain kernel; scores are means over the folds\n",
        args.seed
    );
    let start = Instant::now();
    let folds = k_fold(n, FOLDS, args.seed)?;
    let mut per_fold: Vec<Vec<(Setting, Scores)>> = Vec::new();
    let mut dummy = 0.0;
    let mut floor = Scores::default();
    for (f, test) in folds.iter().enumerate() {
        let seed = args.seed.wrapping_add(f as u64 + 1);
        let (scores, info) = run_fold(&data, test, seed)?;
        println!(
            "fold {}: {} train / {} test, lengthscale {:.3}, mu {} ({:.1} s)",
            f + 1,
            n - test.len(),
            test.len(),
            info.lengthscale,
            info.mu,
            start.elapsed().as_secs_f64()
        );
        dummy += info.dummy_mae / FOLDS as f64;
        let f = info.floor;
        floor.pearson += f.pearson / FOLDS as f64;
        floor.hsic += f.hsic / FOLDS as f64;
        floor.hgr += f.hgr / FOLDS as f64;
        floor.gdp += f.gdp / FOLDS as f64;
        per_fold.push(scores);
    }
    let summaries = summarize(&per_fold);
    print_tables(&summaries, dummy, &floor, n / FOLDS);
    let path = draw(&summaries, (dummy, &floor), &args.out)?;
    println!("\npicture: {}", path.display());
    println!("total time {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// Reads the CSV (shipped or `--data`) and splits it into inputs, target
/// and protected attribute.
fn load(args: &Args) -> BoxResult<Data> {
    let table = match &args.data {
        Some(path) => CsvTable::<f64>::read(path, Header::Present)?,
        None => CsvTable::parse(DIABETES, "examples/data/diabetes.csv", Header::Present)?,
    };
    let y = table.column(TARGET)?;
    let age = table.column(PROTECTED)?;
    let names = table.header().unwrap_or(&[]).to_vec();
    let keep: Vec<usize> = (0..table.ncols())
        .filter(|&j| names[j] != TARGET && !(args.exclude_protected && names[j] == PROTECTED))
        .collect();
    let rows: Vec<usize> = (0..table.nrows()).collect();
    Ok(Data {
        x: select(table.values(), &rows, &keep)?,
        y,
        age,
        features: keep.iter().map(|&j| names[j].clone()).collect(),
    })
}

/// What was chosen on one fold, and the MAE of predicting the training
/// mean.
struct FoldInfo {
    lengthscale: f64,
    mu: f64,
    dummy_mae: f64,
    /// The fairness measures of the plain predictions against a random
    /// permutation of the test ages.
    floor: Scores,
}

/// |Pearson|, HSIC and HGR of `pred` against a seeded random permutation
/// of `age`: what the measures give without any dependence at this sample
/// size (their finite-sample floor).
fn independence_floor(pred: &[f64], age: &[f64], seed: u64) -> BoxResult<Scores> {
    let mut shuffled = age.to_vec();
    let mut state = seed ^ 0x5DEE_CE66_D1CE_4E5B;
    for i in (1..shuffled.len()).rev() {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        shuffled.swap(i, (r % (i as u64 + 1)) as usize);
    }
    Ok(Scores {
        pearson: pearson(pred, &shuffled)?.abs(),
        hsic: hsic_rbf(pred, &shuffled)?,
        hgr: hgr_kde(pred, &shuffled)?,
        gdp: gdp_kde(pred, &shuffled)?,
        ..Scores::default()
    })
}

/// Every setting on one fold.
fn run_fold(
    data: &Data,
    test: &[usize],
    seed: u64,
) -> BoxResult<(Vec<(Setting, Scores)>, FoldInfo)> {
    let n = data.y.len();
    let train = complement(n, test);
    let all_cols: Vec<usize> = (0..data.x.ncols()).collect();
    let x_train = select(&data.x, &train, &all_cols)?;
    let x_test = select(&data.x, test, &all_cols)?;
    let scaler = Standardizer::fit(&x_train)?;
    let (x_train, x_test) = (scaler.apply(&x_train)?, scaler.apply(&x_test)?);
    let ls = median_heuristic_lengthscale(&x_train)?;
    let k_train = rbf_gram(&x_train, ls)?;
    let k_test = rbf_kernel(&x_test, &x_train, ls)?;
    let pick = |v: &[f64], idx: &[usize]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let (y_train, y_test) = (pick(&data.y, &train), pick(&data.y, test));
    let age_test = pick(&data.age, test);
    let protected = standardized_column(&pick(&data.age, &train));
    let mu = select_ridge_cv(&k_train, &y_train, &MU_GRID, 5, seed)?.mu;

    let mut out = Vec::new();
    let mut floor = Scores::default();
    for mode in Mode::all() {
        for &lambda in &LAMBDAS {
            for &k in &ITERATIONS {
                let fit = mode
                    .builder(lambda, k, train.len())
                    .fit(&k_train, &protected)?;
                let kk = fit
                    .kernel()
                    .ok_or("the transformed kernel was not formed")?;
                let model = KernelRidge::fit_centered(kk, &y_train, mu)?;
                let pred = model.predict(&fit.transform_rows(&k_test)?)?;
                let scores = Scores {
                    mae: mean_absolute_error(&pred, &y_test)?,
                    r2: r_squared(&pred, &y_test)?,
                    pearson: pearson(&pred, &age_test)?.abs(),
                    hsic: hsic_rbf(&pred, &age_test)?,
                    hgr: hgr_kde(&pred, &age_test)?,
                    gdp: gdp_kde(&pred, &age_test)?,
                    applied: fit.applied() as f64,
                };
                if mode == Mode::Exact && k == 0 {
                    floor = independence_floor(&pred, &age_test, seed)?;
                }
                out.push((Setting { mode, lambda, k }, scores));
            }
        }
    }
    let mean = y_train.iter().sum::<f64>() / y_train.len() as f64;
    let info = FoldInfo {
        lengthscale: ls,
        mu,
        dummy_mae: mean_absolute_error(&vec![mean; y_test.len()], &y_test)?,
        floor,
    };
    Ok((out, info))
}

/// The attribute as an `n x 1` matrix, centred and scaled to unit
/// standard deviation (centring matters: otherwise the first direction
/// removed is mostly the attribute's mean level).
fn standardized_column(v: &[f64]) -> Matrix<f64> {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let sd = if sd > 0.0 { sd } else { 1.0 };
    Matrix::from_fn(v.len(), 1, |i, _| (v[i] - m) / sd)
}

/// Mean and standard deviation over the folds of every setting.
fn summarize(per_fold: &[Vec<(Setting, Scores)>]) -> Vec<Summary> {
    let Some(first) = per_fold.first() else {
        return Vec::new();
    };
    let folds = per_fold.len() as f64;
    (0..first.len())
        .map(|s| {
            let values: Vec<[f64; Scores::FIELDS]> =
                per_fold.iter().map(|f| f[s].1.to_array()).collect();
            let mut mean = [0.0; Scores::FIELDS];
            let mut sd = [0.0; Scores::FIELDS];
            for q in 0..Scores::FIELDS {
                mean[q] = values.iter().map(|v| v[q]).sum::<f64>() / folds;
                let ss: f64 = values.iter().map(|v| (v[q] - mean[q]).powi(2)).sum();
                sd[q] = (ss / (folds - 1.0).max(1.0)).sqrt();
            }
            Summary {
                setting: first[s].0,
                mean: Scores::from_array(mean),
                sd: Scores::from_array(sd),
            }
        })
        .collect()
}

/// One Markdown table per lambda with the modes side by side (MAE,
/// |Pearson|, HGR), then every measure of the exact mode.
fn print_tables(summaries: &[Summary], dummy: f64, floor: &Scores, test_points: usize) {
    println!("\nReferences (means over the folds):");
    println!("- predicting the training mean: MAE {dummy:.1}, no dependence on age;");
    println!(
        "- the plain model's predictions against randomly permuted ages (no dependence; the measures' floor\n  at about {} test points): |Pearson| {:.3}, HSIC {:.2}e-3, HGR {:.3}, GDP {:.1}.",
        test_points,
        floor.pearson,
        1e3 * floor.hsic,
        floor.hgr,
        floor.gdp
    );
    println!("\nMAE, |Pearson(prediction, age)| and HGR(prediction, age), means over the folds:\n");
    for &lambda in &LAMBDAS {
        print_side_by_side(summaries, lambda);
    }
    println!(
        "All measures, exact mode (mean +- standard deviation over the folds; HSIC in units of 1e-3):\n"
    );
    println!("| lambda | k | applied | MAE | R^2 | abs Pearson | HSIC | HGR | GDP |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &lambda in &LAMBDAS {
        for &k in &ITERATIONS {
            let setting = Setting {
                mode: Mode::Exact,
                lambda,
                k,
            };
            let Some(s) = find(summaries, setting) else {
                continue;
            };
            let (m, d) = (s.mean, s.sd);
            println!(
                "| {lambda:e} | {k} | {} | {:.1} +- {:.1} | {:.3} | {:.3} +- {:.3} | {:.2} | {:.3} +- {:.3} | {:.1} |",
                count(m.applied),
                m.mae,
                d.mae,
                m.r2,
                m.pearson,
                d.pearson,
                1e3 * m.hsic,
                m.hgr,
                d.hgr,
                m.gdp
            );
        }
    }
}

/// The table of one lambda: a row per k, three columns per mode.
fn print_side_by_side(summaries: &[Summary], lambda: f64) {
    let modes = Mode::all();
    println!("lambda = {lambda:e}\n");
    let mut head = String::from("| k |");
    let mut rule = String::from("|---:|");
    for m in &modes {
        head.push_str(&format!(" {} MAE | abs r | HGR |", m.name()));
        rule.push_str("---:|---:|---:|");
    }
    println!("{head}\n{rule}");
    for &k in &ITERATIONS {
        let mut line = format!("| {k} |");
        for &mode in &modes {
            if let Some(s) = find(summaries, Setting { mode, lambda, k }) {
                let m = s.mean;
                line.push_str(&format!(
                    " {:.1} | {:.3} | {:.3} |",
                    m.mae, m.pearson, m.hgr
                ));
            }
        }
        println!("{line}");
    }
    println!();
}

/// A mean count: whole numbers without decimals.
fn count(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn find(summaries: &[Summary], setting: Setting) -> Option<&Summary> {
    summaries.iter().find(|s| s.setting == setting)
}

/// Colour of a mode's curve.
fn colour(mode: Mode) -> RGBColor {
    match mode {
        Mode::Exact => RGBColor(0, 0, 0),
        Mode::Nystrom(10) => RGBColor(213, 94, 0),
        Mode::Nystrom(25) => RGBColor(0, 114, 178),
        Mode::Nystrom(_) => RGBColor(0, 158, 115),
    }
}

/// A fairness measure on the x axis of the picture.
struct Measure {
    name: &'static str,
    get: fn(&Scores) -> f64,
}

/// The trade-off picture: one row per fairness measure (|Pearson|, HGR)
/// on the x axis, MAE on the y axis, one column per lambda, one curve per
/// mode through k = 0, 1, 2, 4, 8, 16 (points labelled by k).
fn draw(summaries: &[Summary], (dummy, floor): (f64, &Scores), out: &Path) -> BoxResult<PathBuf> {
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create the output directory {}: {e}", out.display()))?;
    let path = out.join("fair_regression.svg");
    let measures = [
        Measure {
            name: "|Pearson(prediction, age)|",
            get: |s| s.pearson,
        },
        Measure {
            name: "HGR(prediction, age)",
            get: |s| s.hgr,
        },
    ];
    let cols = LAMBDAS.len() as u32;
    {
        let root = SVGBackend::new(&path, (340 * cols, 2 * 330 + 40)).into_drawing_area();
        root.fill(&WHITE)?;
        let (title, body) = root.split_vertically(40);
        draw_title(&title)?;
        let mae = range(summaries.iter().map(|s| s.mean.mae));
        let areas = body.split_evenly((measures.len(), LAMBDAS.len()));
        for (row, measure) in measures.iter().enumerate() {
            let x = range(
                summaries
                    .iter()
                    .map(|s| (measure.get)(&s.mean))
                    .chain([(measure.get)(floor)]),
            );
            for (col, &lambda) in LAMBDAS.iter().enumerate() {
                let area = &areas[row * LAMBDAS.len() + col];
                let frame = ((0.0, x.1), (mae.0.min(dummy - 1.0), mae.1.max(dummy + 1.0)));
                let references = (dummy, (measure.get)(floor));
                draw_panel(area, summaries, measure, lambda, frame, references)?;
            }
        }
        root.present()?;
    }
    Ok(path)
}

/// The title and, to its right, the legend.
fn draw_title(area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> BoxResult<()> {
    area.draw_text(
        "Fair kernel ridge regression on diabetes (5-fold CV): MAE against dependence on age, points labelled by k",
        &("sans-serif", 17).into_text_style(area),
        (10, 12),
    )?;
    let mut entries: Vec<(String, RGBColor, u32)> = Mode::all()
        .into_iter()
        .map(|m| (m.name(), colour(m), 2))
        .collect();
    entries.push(("predict the mean".into(), RGBColor(150, 150, 150), 1));
    entries.push((
        "no dependence (permuted ages)".into(),
        RGBColor(190, 190, 190),
        3,
    ));
    let mut x = 900;
    for (label, c, width) in entries {
        area.draw(&PathElement::new(
            vec![(x, 20), (x + 22, 20)],
            c.stroke_width(width),
        ))?;
        area.draw_text(
            &label,
            &("sans-serif", 13).into_text_style(area),
            (x + 28, 13),
        )?;
        x += 40 + 7 * label.len() as i32;
    }
    Ok(())
}

/// `(min, max)` of the values, widened by 5% on each side.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let pad = 0.05 * (hi - lo).max(1e-12);
    (lo - pad, hi + pad)
}

/// One panel: every mode's curve for one lambda.
#[allow(clippy::too_many_arguments)]
fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    summaries: &[Summary],
    measure: &Measure,
    lambda: f64,
    (x, y): ((f64, f64), (f64, f64)),
    (dummy, floor): (f64, f64),
) -> BoxResult<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(format!("lambda = {lambda:e}"), ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    chart
        .configure_mesh()
        .x_desc(measure.name)
        .y_desc("MAE")
        .x_labels(5)
        .y_labels(6)
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .x_label_formatter(&|v| format!("{v:.2}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let grey = RGBColor(150, 150, 150);
    let mean_line = PathElement::new(vec![(x.0, dummy), (x.1, dummy)], grey.stroke_width(1));
    chart.draw_series(std::iter::once(mean_line))?;
    let light = RGBColor(190, 190, 190);
    let floor_line = PathElement::new(vec![(floor, y.0), (floor, y.1)], light.stroke_width(3));
    chart.draw_series(std::iter::once(floor_line))?;
    // exact last, so that it is drawn on top of the Nystroem 50% curve
    for mode in Mode::all().into_iter().rev() {
        let c = colour(mode);
        let points: Vec<(f64, f64, usize)> = ITERATIONS
            .iter()
            .filter_map(|&k| find(summaries, Setting { mode, lambda, k }))
            .map(|s| ((measure.get)(&s.mean), s.mean.mae, s.setting.k))
            .collect();
        let line: Vec<(f64, f64)> = points.iter().map(|&(a, b, _)| (a, b)).collect();
        chart.draw_series(std::iter::once(PathElement::new(line, c.stroke_width(2))))?;
        chart.draw_series(points.iter().map(|&(a, b, k)| {
            EmptyElement::at((a, b))
                + Circle::new((0, 0), 3, c.filled())
                + Text::new(
                    format!("{k}"),
                    (4, -12),
                    ("sans-serif", 11).into_font().color(&c),
                )
        }))?;
    }
    Ok(())
}
