//! One line of the oracle's contract in the library (feature `json`): a scenario from its
//! JSON line, as strictly as the `bits-helper-token-oracle` binary reads it (the binary
//! calls these), and a transcript to its JSON line.
#![forbid(unsafe_code)]

use super::{JobSnapshot, Scenario, Transcript};
use alloc::string::{String, ToString};

/// A line that is not a scenario: serde_json's message, and where in the line it stopped.
///
/// ```
/// use bits_helper_token::scenario::Scenario;
/// let e = Scenario::from_json_line(r#"{"tokens": {}, "job": {"owner": "a"}, "steps": [], "steps": []}"#)
///     .unwrap_err();
/// assert_eq!((e.line(), e.column()), (1, 58));
/// assert_eq!(e.to_string(), "duplicate field `steps`");
/// ```
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{message}")]
pub struct JsonError {
    message: String,
    line: usize,
    column: usize,
}

impl JsonError {
    /// The line of the input where reading stopped (from 1; a JSON line has one).
    pub const fn line(&self) -> usize {
        self.line
    }

    /// The column where reading stopped (from 1), in characters of the line.
    pub const fn column(&self) -> usize {
        self.column
    }
}

impl From<serde_json::Error> for JsonError {
    /// serde_json's message without its own " at line L column C" (the position is kept in
    /// [`JsonError::line`] and [`JsonError::column`], and said once by whoever reports it).
    fn from(e: serde_json::Error) -> JsonError {
        let text = e.to_string();
        let suffix = alloc::format!(" at line {} column {}", e.line(), e.column());
        JsonError {
            message: text.strip_suffix(&suffix).unwrap_or(&text).to_string(),
            line: e.line(),
            column: e.column(),
        }
    }
}

impl Scenario {
    /// A scenario from one line of the oracle's input: a JSON object, strictly — no array
    /// forms, no duplicate or unknown fields, no unknown names (the same checks as every
    /// `Deserialize` of this crate; this is what the binary calls). A UTF-8 byte-order mark
    /// before the object is not part of it.
    ///
    /// ```
    /// use bits_helper_token::scenario::Scenario;
    /// let s = Scenario::from_json_line(
    ///     r#"{"tokens": {"svc": {"user": "S-1-5-20"}}, "job": {"owner": "svc"}, "steps": [{"op": "resume"}]}"#,
    /// )?;
    /// assert_eq!(s.steps.len(), 1);
    /// // The array form serde would take for a struct is refused.
    /// assert!(Scenario::from_json_line(r#"["latest", {}, {}, {}, {}, []]"#).is_err());
    /// # Ok::<(), bits_helper_token::scenario::JsonError>(())
    /// ```
    pub fn from_json_line(text: &str) -> Result<Scenario, JsonError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Said plainly before serde would: the line is not an object at all.
        let start = text.trim_start();
        if !start.starts_with('{') {
            let skipped = &text[..text.len() - start.len()];
            return Err(JsonError {
                message: "a scenario is a JSON object".to_string(),
                line: 1 + skipped.matches('\n').count(),
                column: 1 + skipped.rsplit('\n').next().map_or(0, |l| l.chars().count()),
            });
        }
        Ok(serde_json::from_str(text)?)
    }
}

impl Transcript {
    /// The oracle's output line for this transcript: `{"results": […], "job": {…}}`.
    pub fn to_json_line(&self) -> Result<String, JsonError> {
        Ok(serde_json::to_string(self)?)
    }
}

/// The oracle's `job` object: `{"state":"error","error":"0x80200056","flags":2,…}`.
impl core::fmt::Display for JobSnapshot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| core::fmt::Error)?)
    }
}
