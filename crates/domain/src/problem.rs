//! Problems found in input, reported all at once so a user can fix a file in one pass.

use serde::Serialize;

/// One thing wrong with one row (or the whole file when `line` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line in the source file; the header is line 1.
    pub line: Option<usize>,
    /// The column (field name) at fault, when one is.
    pub column: Option<String>,
    /// A stable snake_case code, e.g. `bad_code`, `missing_parent`.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
}

impl Problem {
    pub fn at(line: usize, column: &str, code: &'static str, message: impl Into<String>) -> Self {
        Problem { line: Some(line), column: Some(column.to_string()), code, message: message.into() }
    }

    pub fn file(code: &'static str, message: impl Into<String>) -> Self {
        Problem { line: None, column: None, code, message: message.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.line, &self.column) {
            (Some(line), Some(col)) => write!(f, "line {line}, {col}: {} ({})", self.message, self.code),
            (Some(line), None) => write!(f, "line {line}: {} ({})", self.message, self.code),
            (None, Some(col)) => write!(f, "{col}: {} ({})", self.message, self.code),
            _ => write!(f, "{} ({})", self.message, self.code),
        }
    }
}

/// Every problem found in one input; an input with any problem is rejected whole.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.0.push(p);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// `Ok(value)` when nothing was found, else every problem.
    pub fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }
}

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} problem(s):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}
