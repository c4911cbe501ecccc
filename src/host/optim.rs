//! A small L-BFGS minimizer: see [`minimize`].

use crate::error::{Error, Result, require};
use crate::view::check_finite_slice;
use std::collections::VecDeque;
use std::vec;
use std::vec::Vec;

/// Settings of [`minimize`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsOptions {
    /// Number of past steps kept for the inverse-Hessian approximation (>= 1).
    pub memory: usize,
    /// Cap on iterations (accepted steps).
    pub max_iterations: usize,
    /// Cap on objective evaluations in all (the first one included, >= 1).
    pub max_evaluations: usize,
    /// Cap on evaluations within one line search (>= 1).
    pub max_line_search_evaluations: usize,
    /// Converged when `max_i |g_i| <= gradient_tolerance`.
    pub gradient_tolerance: f64,
    /// Converged when a step decreases the value by at most
    /// `value_tolerance * max(|f|, 1)`.
    pub value_tolerance: f64,
    /// Armijo constant `c1` of the sufficient-decrease condition
    /// `f(x + a d) <= f(x) + c1 a g^T d`, in `(0, c2)`.
    pub sufficient_decrease: f64,
    /// Curvature constant `c2` of the strong Wolfe condition
    /// `|g(x + a d)^T d| <= c2 |g^T d|`, in `(c1, 1)`.
    pub curvature: f64,
}

impl Default for LbfgsOptions {
    /// Memory 10, 200 iterations, 2000 evaluations (20 per line search),
    /// gradient tolerance `1e-6`, value tolerance `1e-12`, `c1 = 1e-4`,
    /// `c2 = 0.9`.
    fn default() -> Self {
        Self {
            memory: 10,
            max_iterations: 200,
            max_evaluations: 2000,
            max_line_search_evaluations: 20,
            gradient_tolerance: 1e-6,
            value_tolerance: 1e-12,
            sufficient_decrease: 1e-4,
            curvature: 0.9,
        }
    }
}

impl LbfgsOptions {
    /// Fails with [`Error::InvalidParameter`] for an option out of its domain.
    fn validate(&self) -> Result<()> {
        require(self.memory >= 1, "memory", "must be at least 1")?;
        require(
            self.max_evaluations >= 1,
            "max_evaluations",
            "must be at least 1",
        )?;
        require(
            self.max_line_search_evaluations >= 1,
            "max_line_search_evaluations",
            "must be at least 1",
        )?;
        require(
            self.gradient_tolerance >= 0.0 && self.gradient_tolerance.is_finite(),
            "gradient_tolerance",
            "must be finite and non-negative",
        )?;
        require(
            self.value_tolerance >= 0.0 && self.value_tolerance.is_finite(),
            "value_tolerance",
            "must be finite and non-negative",
        )?;
        require(
            0.0 < self.sufficient_decrease
                && self.sufficient_decrease < self.curvature
                && self.curvature < 1.0,
            "sufficient_decrease, curvature",
            "must satisfy 0 < c1 < c2 < 1",
        )
    }
}

/// Why [`minimize`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LbfgsStatus {
    /// The gradient is below [`LbfgsOptions::gradient_tolerance`].
    GradientConverged,
    /// A step decreased the value by less than
    /// [`LbfgsOptions::value_tolerance`] (relative).
    ValueConverged,
    /// [`LbfgsOptions::max_iterations`] reached: not converged.
    IterationCap,
    /// [`LbfgsOptions::max_evaluations`] reached: not converged.
    EvaluationCap,
    /// No step along the search direction (nor along the steepest descent
    /// direction) decreased the value enough within the line-search cap:
    /// not converged, typically a non-smooth or noisy objective, or one at a
    /// minimum to rounding level with a gradient above the tolerance.
    LineSearchFailed,
}

/// The result of [`minimize`]: the best point found, whether or not it
/// converged.
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsReport {
    /// The final point (the lowest value accepted).
    pub x: Vec<f64>,
    /// The objective at `x`.
    pub value: f64,
    /// The gradient at `x`.
    pub gradient: Vec<f64>,
    /// Accepted steps.
    pub iterations: usize,
    /// Objective evaluations, the first one included.
    pub evaluations: usize,
    /// Why it stopped.
    pub status: LbfgsStatus,
}

impl LbfgsReport {
    /// Whether it stopped on a tolerance (not on a cap or a failed search).
    pub fn converged(&self) -> bool {
        matches!(
            self.status,
            LbfgsStatus::GradientConverged | LbfgsStatus::ValueConverged
        )
    }

    /// The report if it converged.
    ///
    /// # Errors
    /// [`Error::NoConvergence`] with the number of iterations otherwise.
    pub fn into_converged(self) -> Result<Self> {
        if self.converged() {
            Ok(self)
        } else {
            Err(Error::NoConvergence {
                iterations: self.iterations,
            })
        }
    }
}

/// Minimizes `f` from `x0` by L-BFGS: a small minimizer for smooth
/// objectives with gradients, used to fit kernel hyperparameters.
///
/// `f(x, g)` returns the objective at `x` and writes its gradient into `g`
/// (of the length of `x0`). A non-finite value or gradient at a trial point
/// makes the line search backtrack. Cost per iteration: `O(memory n)` plus
/// the evaluations of the line search (usually one).
///
/// Stopping without convergence (a cap, a failed line search) is not an
/// error: the report's [`status`](LbfgsReport::status) says so and its
/// point is the best one found ([`LbfgsReport::into_converged`] turns it
/// into [`Error::NoConvergence`]).
///
/// The search direction comes from the two-loop recursion over the last
/// `memory` steps; the step length from a line search that brackets and
/// then zooms (safeguarded cubic interpolation) until the strong Wolfe
/// conditions hold, within a cap on evaluations. A trial point whose value
/// or gradient is not finite counts as "too far" and the search backtracks
/// from it. Every loop is bounded: by the iteration cap, the evaluation cap
/// and the line-search cap, so the minimizer always returns.
///
/// ```
/// use gramkit::host::{LbfgsOptions, minimize};
/// // f(x) = (x0 - 1)^2 + 10 (x1 + 2)^2
/// let report = minimize(
///     |x, g| {
///         g[0] = 2.0 * (x[0] - 1.0);
///         g[1] = 20.0 * (x[1] + 2.0);
///         (x[0] - 1.0).powi(2) + 10.0 * (x[1] + 2.0).powi(2)
///     },
///     &[0.0, 0.0],
///     &LbfgsOptions::default(),
/// )?;
/// assert!(report.converged());
/// assert!((report.x[0] - 1.0).abs() < 1e-6 && (report.x[1] + 2.0).abs() < 1e-6);
/// # Ok::<(), gramkit::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for invalid options or an objective whose
/// value or gradient is not finite at `x0`; [`Error::NonFinite`] for a
/// non-finite `x0`.
pub fn minimize<F>(f: F, x0: &[f64], options: &LbfgsOptions) -> Result<LbfgsReport>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    options.validate()?;
    check_finite_slice(x0, "x0")?;
    let mut objective = Objective {
        f,
        evaluations: 0,
        max: options.max_evaluations,
    };
    let mut state = State::start(&mut objective, x0)?;
    let status = state.run(&mut objective, options);
    Ok(LbfgsReport {
        x: state.x,
        value: state.value,
        gradient: state.gradient,
        iterations: state.iterations,
        evaluations: objective.evaluations,
        status,
    })
}

/// The objective with an evaluation counter and cap.
struct Objective<F> {
    f: F,
    evaluations: usize,
    max: usize,
}

impl<F: FnMut(&[f64], &mut [f64]) -> f64> Objective<F> {
    /// `f(x)` with its gradient in `g`; `None` once the cap is reached.
    /// A non-finite value or gradient is returned as `+inf`.
    fn eval(&mut self, x: &[f64], g: &mut [f64]) -> Option<f64> {
        if self.evaluations >= self.max {
            return None;
        }
        self.evaluations += 1;
        let v = (self.f)(x, g);
        if v.is_finite() && g.iter().all(|gi| gi.is_finite()) {
            Some(v)
        } else {
            Some(f64::INFINITY)
        }
    }

    fn exhausted(&self) -> bool {
        self.evaluations >= self.max
    }
}

/// One stored step `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k`, `rho = 1 / s^T y`.
struct Pair {
    s: Vec<f64>,
    y: Vec<f64>,
    rho: f64,
}

/// The iterate, its value and gradient, and the L-BFGS memory.
struct State {
    x: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
    iterations: usize,
    memory: VecDeque<Pair>,
    direction: Vec<f64>,
    /// The two-loop recursion's coefficients, one per stored pair.
    alphas: Vec<f64>,
    trial: Point,
    best: Point,
}

/// A point with its value and gradient (line-search buffers).
struct Point {
    x: Vec<f64>,
    g: Vec<f64>,
    value: f64,
}

impl Point {
    fn new(n: usize) -> Self {
        Self {
            x: vec![0.0; n],
            g: vec![0.0; n],
            value: f64::INFINITY,
        }
    }
}

impl State {
    /// Evaluates `x0`; fails unless value and gradient are finite there.
    fn start<F: FnMut(&[f64], &mut [f64]) -> f64>(
        objective: &mut Objective<F>,
        x0: &[f64],
    ) -> Result<Self> {
        let n = x0.len();
        let mut gradient = vec![0.0; n];
        let value = objective.eval(x0, &mut gradient).unwrap_or(f64::INFINITY);
        require(
            value.is_finite(),
            "x0",
            "the objective and its gradient must be finite at the starting point",
        )?;
        Ok(Self {
            x: x0.to_vec(),
            value,
            gradient,
            iterations: 0,
            memory: VecDeque::new(),
            direction: vec![0.0; n],
            alphas: Vec::new(),
            trial: Point::new(n),
            best: Point::new(n),
        })
    }

    /// The main loop; returns why it stopped.
    fn run<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &mut self,
        objective: &mut Objective<F>,
        opts: &LbfgsOptions,
    ) -> LbfgsStatus {
        while self.iterations < opts.max_iterations {
            if max_abs(&self.gradient) <= opts.gradient_tolerance {
                return LbfgsStatus::GradientConverged;
            }
            if objective.exhausted() {
                return LbfgsStatus::EvaluationCap;
            }
            let previous = self.value;
            if !self.step(objective, opts) {
                if !self.memory.is_empty() && !objective.exhausted() {
                    // the quasi-Newton model may be stale: retry steepest descent
                    self.memory.clear();
                    continue;
                }
                return if objective.exhausted() {
                    LbfgsStatus::EvaluationCap
                } else {
                    LbfgsStatus::LineSearchFailed
                };
            }
            self.iterations += 1;
            let scale = previous.abs().max(self.value.abs()).max(1.0);
            if previous - self.value <= opts.value_tolerance * scale {
                return LbfgsStatus::ValueConverged;
            }
        }
        if max_abs(&self.gradient) <= opts.gradient_tolerance {
            LbfgsStatus::GradientConverged
        } else {
            LbfgsStatus::IterationCap
        }
    }

    /// One iteration: direction, line search, memory update. `false` if the
    /// line search found no acceptable point.
    fn step<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &mut self,
        objective: &mut Objective<F>,
        opts: &LbfgsOptions,
    ) -> bool {
        self.compute_direction();
        let mut slope = dot(&self.gradient, &self.direction);
        if !(slope < 0.0) {
            self.memory.clear();
            self.compute_direction();
            slope = dot(&self.gradient, &self.direction);
        }
        let first_step = if self.memory.is_empty() {
            (1.0 / norm(&self.direction)).min(1.0)
        } else {
            1.0
        };
        let search = LineSearch {
            x: &self.x,
            d: &self.direction,
            value: self.value,
            slope,
            opts,
        };
        if !search.run(objective, first_step, &mut self.trial, &mut self.best) {
            return false;
        }
        self.accept(opts.memory);
        true
    }

    /// `direction <- -H g` by the two-loop recursion, with the initial
    /// inverse Hessian `(s^T y / y^T y) I` of the newest pair.
    fn compute_direction(&mut self) {
        let q = &mut self.direction;
        q.iter_mut().zip(&self.gradient).for_each(|(q, g)| *q = -g);
        self.alphas.clear();
        self.alphas.resize(self.memory.len(), 0.0);
        for (pair, a) in self.memory.iter().zip(self.alphas.iter_mut()).rev() {
            *a = pair.rho * dot(&pair.s, q);
            axpy(-*a, &pair.y, q);
        }
        if let Some(newest) = self.memory.back() {
            let gamma = dot(&newest.s, &newest.y) / dot(&newest.y, &newest.y);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for (pair, &a) in self.memory.iter().zip(self.alphas.iter()) {
            let b = pair.rho * dot(&pair.y, q);
            axpy(a - b, &pair.s, q);
        }
    }

    /// Moves to the accepted point (in `best`) and stores the step if its
    /// curvature `s^T y` is positive enough to keep `H` positive definite.
    fn accept(&mut self, memory: usize) {
        let recycled = if self.memory.len() >= memory {
            self.memory.pop_front()
        } else {
            None
        };
        let mut pair = recycled.unwrap_or(Pair {
            s: Vec::new(),
            y: Vec::new(),
            rho: 0.0,
        });
        pair.s.clear();
        pair.s
            .extend(self.best.x.iter().zip(&self.x).map(|(a, b)| a - b));
        pair.y.clear();
        pair.y
            .extend(self.best.g.iter().zip(&self.gradient).map(|(a, b)| a - b));
        let sy = dot(&pair.s, &pair.y);
        if sy > f64::EPSILON * dot(&pair.y, &pair.y) && sy.is_finite() {
            pair.rho = 1.0 / sy;
            self.memory.push_back(pair);
        }
        std::mem::swap(&mut self.x, &mut self.best.x);
        std::mem::swap(&mut self.gradient, &mut self.best.g);
        self.value = self.best.value;
    }
}

/// A trial step length with the value and directional derivative there.
#[derive(Clone, Copy, Debug)]
struct Trial {
    alpha: f64,
    value: f64,
    slope: f64,
}

/// The line search along `d` from `x` (value `value`, slope `g^T d < 0`).
struct LineSearch<'a> {
    x: &'a [f64],
    d: &'a [f64],
    value: f64,
    slope: f64,
    opts: &'a LbfgsOptions,
}

impl LineSearch<'_> {
    /// Finds a step satisfying the strong Wolfe conditions, or failing that
    /// the lowest point satisfying sufficient decrease, within the caps.
    /// The accepted point is left in `best`; `false` if there is none.
    fn run<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &self,
        objective: &mut Objective<F>,
        first_step: f64,
        trial: &mut Point,
        best: &mut Point,
    ) -> bool {
        best.value = f64::INFINITY;
        let mut budget = self.opts.max_line_search_evaluations;
        let start = Trial {
            alpha: 0.0,
            value: self.value,
            slope: self.slope,
        };
        let mut prev = start;
        let mut alpha = first_step;
        let mut first = true;
        // bracketing phase: expand until the interval holds a Wolfe point
        while let Some(t) = self.try_step(objective, alpha, &mut budget, trial, best) {
            if !self.sufficient(&t) || (!first && t.value >= prev.value) {
                return self.zoom(objective, prev, t, &mut budget, trial, best);
            }
            if self.curvature_ok(&t) {
                return true;
            }
            if t.slope >= 0.0 {
                return self.zoom(objective, t, prev, &mut budget, trial, best);
            }
            prev = t;
            alpha *= 2.0;
            first = false;
        }
        best.value.is_finite()
    }

    /// Narrows `[lo, hi]` (`lo` satisfies sufficient decrease and has the
    /// lower value; the interval holds a Wolfe point) until a point passes.
    fn zoom<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &self,
        objective: &mut Objective<F>,
        mut lo: Trial,
        mut hi: Trial,
        budget: &mut usize,
        trial: &mut Point,
        best: &mut Point,
    ) -> bool {
        loop {
            let width = (hi.alpha - lo.alpha).abs();
            if width <= f64::EPSILON * lo.alpha.abs().max(hi.alpha.abs()) {
                break;
            }
            let alpha = interpolate(&lo, &hi);
            let Some(t) = self.try_step(objective, alpha, budget, trial, best) else {
                break;
            };
            if !self.sufficient(&t) || t.value >= lo.value {
                hi = t;
            } else {
                if self.curvature_ok(&t) {
                    return true;
                }
                if t.slope * (hi.alpha - lo.alpha) >= 0.0 {
                    hi = lo;
                }
                lo = t;
            }
        }
        best.value.is_finite()
    }

    /// Evaluates `x + alpha d` into `trial`; records it in `best` if it
    /// satisfies sufficient decrease with the lowest value so far (so the
    /// accepted point is always in `best`). `None` when a cap is reached.
    fn try_step<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &self,
        objective: &mut Objective<F>,
        alpha: f64,
        budget: &mut usize,
        trial: &mut Point,
        best: &mut Point,
    ) -> Option<Trial> {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        for ((t, &x), &d) in trial.x.iter_mut().zip(self.x).zip(self.d) {
            *t = x + alpha * d;
        }
        let value = objective.eval(&trial.x, &mut trial.g)?;
        let t = Trial {
            alpha,
            value,
            slope: if value.is_finite() {
                dot(&trial.g, self.d)
            } else {
                f64::NAN
            },
        };
        if self.sufficient(&t) && t.value < best.value {
            best.x.copy_from_slice(&trial.x);
            best.g.copy_from_slice(&trial.g);
            best.value = t.value;
        }
        Some(t)
    }

    /// Armijo: `f(x + a d) <= f(x) + c1 a g^T d` (false for a non-finite value).
    fn sufficient(&self, t: &Trial) -> bool {
        t.value <= self.value + self.opts.sufficient_decrease * t.alpha * self.slope
    }

    /// Strong curvature: `|g(x + a d)^T d| <= c2 |g^T d|`.
    fn curvature_ok(&self, t: &Trial) -> bool {
        t.slope.abs() <= -self.opts.curvature * self.slope
    }
}

/// A step length strictly inside `[lo, hi]`: the minimizer of the cubic
/// through both ends' values and slopes when it exists and lies in the
/// middle 80 %, the bisection otherwise; a fifth of the way from `lo` when
/// `hi` is not finite (a step that overflowed is far too long).
fn interpolate(lo: &Trial, hi: &Trial) -> f64 {
    let (a, b) = (lo.alpha, hi.alpha);
    if !hi.value.is_finite() {
        return a + 0.2 * (b - a);
    }
    let d1 = lo.slope + hi.slope - 3.0 * (lo.value - hi.value) / (a - b);
    let disc = d1 * d1 - lo.slope * hi.slope;
    let cubic = if disc >= 0.0 {
        let d2 = (b - a).signum() * disc.sqrt();
        b - (b - a) * (hi.slope + d2 - d1) / (hi.slope - lo.slope + 2.0 * d2)
    } else {
        f64::NAN
    };
    let (left, right) = (a.min(b), a.max(b));
    let margin = 0.1 * (right - left);
    if cubic.is_finite() && cubic >= left + margin && cubic <= right - margin {
        cubic
    } else {
        0.5 * (a + b)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// `y <- y + a x`.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}
