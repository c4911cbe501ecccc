//! Numeric CSV files: a reader whose errors name the file, the line and the
//! problem, and a writer with full (round-trip) precision.
//!
//! The format is deliberately small: fields separated by commas, one row
//! per line, optional header line (column names), blank lines and lines
//! starting with `#` skipped, `\n` or `\r\n` line ends, an optional UTF-8
//! byte-order mark, surrounding spaces and one pair of surrounding double
//! quotes around a field ignored. Every data row must have the same number
//! of fields and every field must be a finite number.

use super::matrix::Matrix;
use crate::real::Real;
use crate::view::MatRef;
use core::fmt;
use std::borrow::ToOwned;
use std::format;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

/// Whether the first non-blank, non-comment line of a CSV file holds column
/// names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// The first line holds column names.
    Present,
    /// Every line is data.
    Absent,
}

/// What is wrong in a CSV file (see [`CsvError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CsvProblem {
    /// The file could not be read or written (the system's message).
    Io(String),
    /// The file holds no data row.
    NoData,
    /// Field `field` (1-based) is empty, e.g. two commas in a row or a
    /// trailing comma.
    EmptyField {
        /// 1-based field number.
        field: usize,
    },
    /// Field `field` is not a number.
    NotANumber {
        /// 1-based field number.
        field: usize,
        /// The field's text.
        text: String,
    },
    /// Field `field` is NaN or infinite, or out of range for the scalar
    /// type (e.g. `1e300` in `f32`).
    NonFinite {
        /// 1-based field number.
        field: usize,
        /// The field's text.
        text: String,
    },
    /// A row with a different number of fields than the first row (or the
    /// header).
    Ragged {
        /// Fields of the first row (or header).
        expected: usize,
        /// Fields of this row.
        got: usize,
        /// The line that set `expected`.
        first_line: usize,
    },
    /// A column name asked for is not in the header.
    MissingColumn(String),
    /// The table does not have the shape the caller needs (the message
    /// says which).
    Shape(String),
}

/// An error reading or checking a CSV file: the file (as given), the
/// 1-based line when the problem is on one line, and the problem.
///
/// Its `Display` is a complete message, e.g.
/// ``kernel.csv: line 3: field 2 (`abc`) is not a number``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// The file's name as given by the caller.
    pub file: String,
    /// 1-based line of the problem, if it is on one line.
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: CsvProblem,
}

impl CsvError {
    /// An error about `file` (at `line`, if any).
    pub fn new(file: &str, line: Option<usize>, problem: CsvProblem) -> Self {
        Self {
            file: file.to_owned(),
            line,
            problem,
        }
    }
}

impl fmt::Display for CsvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvProblem::Io(msg) => write!(f, "{msg}"),
            CsvProblem::NoData => write!(f, "no data rows"),
            CsvProblem::EmptyField { field } => write!(f, "field {field} is empty"),
            CsvProblem::NotANumber { field, text } => {
                write!(f, "field {field} (`{text}`) is not a number")
            }
            CsvProblem::NonFinite { field, text } => {
                write!(f, "field {field} (`{text}`) is not a finite number")
            }
            CsvProblem::Ragged {
                expected,
                got,
                first_line,
            } => write!(
                f,
                "{got} fields, but line {first_line} has {expected} (rows must all have the same number of fields)"
            ),
            CsvProblem::MissingColumn(name) => write!(f, "no column named `{name}` in the header"),
            CsvProblem::Shape(msg) => write!(f, "{msg}"),
        }
    }
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}: line {line}: {}", self.file, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

impl std::error::Error for CsvError {}

/// A numeric table read from CSV: the values, the column names when the
/// file had a header, and the line each row came from (for messages).
///
/// The format: fields separated by commas, one row per line, an optional
/// header line of column names ([`Header`]), blank lines and lines
/// starting with `#` skipped, `\n` or `\r\n` line ends, an optional UTF-8
/// byte-order mark; spaces around a field and one pair of double quotes
/// around it are ignored. Every data row must have the same number of
/// fields and every field must be a finite number. Errors ([`CsvError`])
/// name the file, the line and the problem.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable<T> {
    file: String,
    header: Option<Vec<String>>,
    values: Matrix<T>,
    lines: Vec<usize>,
}

impl<T: Real> CsvTable<T> {
    /// Reads and parses the file at `path` ([`parse`](Self::parse)); errors
    /// name the file as `path` displays. `O(file size)`.
    ///
    /// # Errors
    /// [`CsvError`] with [`CsvProblem::Io`] when the file cannot be read
    /// (or is not UTF-8), else as [`parse`](Self::parse).
    pub fn read(path: impl AsRef<Path>, header: Header) -> Result<Self, CsvError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            let msg = format!("cannot read: {}", io_message(&e));
            CsvError::new(&name, None, CsvProblem::Io(msg))
        })?;
        Self::parse(&text, &name, header)
    }

    /// Parses CSV text; `file` names the source in error messages.
    /// `O(text length)`.
    ///
    /// ```
    /// use gramkit::host::{CsvTable, Header};
    /// let t = CsvTable::<f64>::parse("a,b\n1,2\n3,4.5\n", "inline", Header::Present)?;
    /// assert_eq!(t.column("b")?, vec![2.0, 4.5]);
    /// let e = CsvTable::<f64>::parse("1,2\n3,x\n", "k.csv", Header::Absent).unwrap_err();
    /// assert_eq!(e.to_string(), "k.csv: line 2: field 2 (`x`) is not a number");
    /// # Ok::<(), gramkit::host::CsvError>(())
    /// ```
    ///
    /// # Errors
    /// [`CsvError`] at the first bad line: an empty field, a field that is
    /// not a number or not finite, a row whose field count differs from the
    /// first row's (or the header's); [`CsvProblem::NoData`] when there is
    /// no data row.
    pub fn parse(text: &str, file: &str, header: Header) -> Result<Self, CsvError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut names: Option<Vec<String>> = None;
        let mut width: Option<(usize, usize)> = None;
        let mut data = Vec::new();
        let mut lines = Vec::new();
        let content = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        for (line, content) in content {
            if header == Header::Present && names.is_none() {
                let fields: Vec<String> = content.split(',').map(|f| unquote(f).into()).collect();
                width = Some((fields.len(), line));
                names = Some(fields);
                continue;
            }
            let at = |problem| CsvError::new(file, Some(line), problem);
            let before = data.len();
            parse_row(content, &mut data).map_err(at)?;
            let got = data.len() - before;
            match width {
                None => width = Some((got, line)),
                Some((expected, first_line)) if expected != got => {
                    return Err(at(CsvProblem::Ragged {
                        expected,
                        got,
                        first_line,
                    }));
                }
                Some(_) => {}
            }
            lines.push(line);
        }
        if lines.is_empty() {
            return Err(CsvError::new(file, None, CsvProblem::NoData));
        }
        let ncols = width.map_or(0, |w| w.0);
        let values = Matrix::from_row_major(lines.len(), ncols, data)
            .map_err(|e| CsvError::new(file, None, CsvProblem::Shape(e.to_string())))?;
        Ok(Self {
            file: file.to_owned(),
            header: names,
            values,
            lines,
        })
    }

    /// The file's name as given.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The column names, when the file had a header.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }
    /// The values (`rows x columns`).
    pub fn values(&self) -> &Matrix<T> {
        &self.values
    }
    /// Gives the values back.
    pub fn into_values(self) -> Matrix<T> {
        self.values
    }
    /// Number of data rows.
    pub fn nrows(&self) -> usize {
        self.values.nrows()
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.values.ncols()
    }
    /// The 1-based line of data row `row`, or `None` outside the table.
    pub fn line_of(&self, row: usize) -> Option<usize> {
        self.lines.get(row).copied()
    }

    /// The index of the column named `name` in the header.
    ///
    /// # Errors
    /// [`CsvProblem::MissingColumn`] (also when there is no header).
    pub fn column_index(&self, name: &str) -> Result<usize, CsvError> {
        self.header
            .as_deref()
            .and_then(|h| h.iter().position(|c| c == name))
            .ok_or_else(|| self.error(None, CsvProblem::MissingColumn(name.to_owned())))
    }

    /// The column named `name`, copied. `O(rows)`.
    ///
    /// # Errors
    /// As [`column_index`](Self::column_index).
    pub fn column(&self, name: &str) -> Result<Vec<T>, CsvError> {
        let j = self.column_index(name)?;
        let v = self.values.view();
        Ok((0..self.nrows()).map(|i| v.at(i, j)).collect())
    }

    /// Fails unless the table has `rows` data rows; `what` says what the
    /// rows are, e.g. `"rows (one per training point, as in the kernel)"`.
    /// The message gives the line of the first extra row, or the count.
    ///
    /// # Errors
    /// [`CsvProblem::Shape`].
    pub fn expect_rows(&self, rows: usize, what: &str) -> Result<(), CsvError> {
        let got = self.nrows();
        if got == rows {
            return Ok(());
        }
        let line = if got > rows { self.line_of(rows) } else { None };
        let msg = format!("{got} data rows, expected {rows} {what}");
        Err(self.error(line, CsvProblem::Shape(msg)))
    }

    /// Fails unless every row has `cols` fields; `what` as in
    /// [`expect_rows`](Self::expect_rows). The message points at the first
    /// data line.
    ///
    /// # Errors
    /// [`CsvProblem::Shape`].
    pub fn expect_cols(&self, cols: usize, what: &str) -> Result<(), CsvError> {
        let got = self.ncols();
        if got == cols {
            return Ok(());
        }
        let msg = format!("{got} fields per row, expected {cols} {what}");
        Err(self.error(self.line_of(0), CsvProblem::Shape(msg)))
    }

    /// An error about this table's file.
    pub fn error(&self, line: Option<usize>, problem: CsvProblem) -> CsvError {
        CsvError::new(&self.file, line, problem)
    }
}

/// Appends the numbers of one non-empty line to `out`.
fn parse_row<T: Real>(line: &str, out: &mut Vec<T>) -> Result<(), CsvProblem> {
    for (i, raw) in line.split(',').enumerate() {
        out.push(parse_field(unquote(raw), i + 1)?);
    }
    Ok(())
}

/// One field as a finite `T`.
fn parse_field<T: Real>(text: &str, field: usize) -> Result<T, CsvProblem> {
    if text.is_empty() {
        return Err(CsvProblem::EmptyField { field });
    }
    let v: f64 = text.parse().map_err(|_| CsvProblem::NotANumber {
        field,
        text: text.to_owned(),
    })?;
    let t = T::from_f64(v);
    if t.is_finite() {
        Ok(t)
    } else {
        Err(CsvProblem::NonFinite {
            field,
            text: text.to_owned(),
        })
    }
}

/// The field without surrounding spaces and one pair of double quotes.
fn unquote(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|g| g.strip_suffix('"'))
        .map_or(f, str::trim)
}

/// The text of an I/O error, without Rust's `(os error N)` suffix.
pub(crate) fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// A matrix as CSV text: comma-separated rows, each value in the shortest
/// form that reads back to the same number (Rust's `{:?}` for floats), so
/// nothing is lost. `O(rows cols)`.
///
/// ```
/// use gramkit::host::{format_csv, Matrix};
/// let m = Matrix::from_fn(2, 2, |i, j| 0.1 * (i + 2 * j) as f64);
/// assert_eq!(format_csv(m.view()), "0.0,0.2\n0.1,0.30000000000000004\n");
/// ```
pub fn format_csv<T: Real>(m: MatRef<'_, T>) -> String {
    let mut s = String::with_capacity(m.nrows() * m.ncols() * 24);
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            if j > 0 {
                s.push(',');
            }
            s.push_str(&format!("{:?}", m.at(i, j)));
        }
        s.push('\n');
    }
    s
}

/// Writes [`format_csv`] of `m` to `path`.
///
/// # Errors
/// [`CsvError`] with [`CsvProblem::Io`] naming the file.
pub fn write_csv<T: Real>(path: impl AsRef<Path>, m: MatRef<'_, T>) -> Result<(), CsvError> {
    let path = path.as_ref();
    std::fs::write(path, format_csv(m)).map_err(|e| {
        CsvError::new(
            &path.display().to_string(),
            None,
            CsvProblem::Io(format!("cannot write: {}", io_message(&e))),
        )
    })
}
