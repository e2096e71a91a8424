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

/// Why one line of the oracle's input was answered `{"error": …}`: the line's number and
/// what was wrong. Its `Display` is the message the binary writes, `line N, column C: invalid
/// scenario: …` for a line that is not a scenario, `line N: …` for one the model refuses.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LineError {
    line: usize,
    kind: LineErrorKind,
}

/// What was wrong with a line: see [`LineError`].
#[derive(Clone, PartialEq, Eq, Debug)]
enum LineErrorKind {
    /// Not UTF-8.
    NotUtf8,
    /// Not a scenario: the JSON, or a value in it (a field, a name, a SID…).
    Json(JsonError),
    /// A scenario the model refuses before it runs (an unknown token, a job it cannot reach).
    Refused(super::ScenarioError),
    /// The transcript could not be written (never expected).
    Output(JsonError),
}

impl LineError {
    /// The input line's number, as given to [`answer_line`].
    pub const fn line(&self) -> usize {
        self.line
    }

    /// For a line that is not a scenario: the column where reading stopped (from 1, in
    /// characters).
    pub const fn column(&self) -> Option<usize> {
        match &self.kind {
            LineErrorKind::Json(e) => Some(e.column()),
            _ => None,
        }
    }

    /// For a scenario the model refuses: the step (from 1), or `None` when the job is at
    /// fault.
    pub const fn step(&self) -> Option<usize> {
        match &self.kind {
            LineErrorKind::Refused(e) => e.step,
            _ => None,
        }
    }

    /// The binary's answer line: `{"error": "<this error's message>"}`.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({ "error": self.to_string() }).to_string()
    }
}

impl core::fmt::Display for LineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let line = self.line;
        match &self.kind {
            LineErrorKind::NotUtf8 => write!(f, "line {line}: not valid UTF-8"),
            LineErrorKind::Json(e) => {
                write!(
                    f,
                    "line {line}, column {}: invalid scenario: {e}",
                    e.column()
                )
            }
            LineErrorKind::Refused(e) => write!(f, "line {line}: {e}"),
            LineErrorKind::Output(e) => write!(f, "line {line}: cannot write the transcript: {e}"),
        }
    }
}

impl core::error::Error for LineError {}

/// The oracle's answer to its input line `number` (from 1): `Ok` with the transcript's JSON
/// line, or the [`LineError`] whose [`LineError::to_json_line`] is the `{"error": …}` answer.
/// This is the one function that answers a line: the `bits-helper-token-oracle` binary and
/// the Python package call it. A UTF-8 byte-order mark at the start is skipped. Never
/// panics.
///
/// ```
/// use bits_helper_token::scenario::answer_line;
/// let line = br#"{"tokens": {"svc": {"user": "S-1-5-20"}}, "job": {"owner": "svc"}, "steps": [{"op": "resume"}]}"#;
/// assert!(answer_line(1, line)?.starts_with(r#"{"results":[{"hresult":"0x00000000","name":"S_OK","rule":"L-9"}]"#));
/// let e = answer_line(7, br#"{"tokens": {}, "job": {"owner": "bob"}, "steps": []}"#).unwrap_err();
/// assert_eq!(e.to_string(), r#"line 7: job.owner: unknown token "bob" (not in "tokens")"#);
/// assert_eq!(e.to_json_line(), r#"{"error":"line 7: job.owner: unknown token \"bob\" (not in \"tokens\")"}"#);
/// # Ok::<(), bits_helper_token::scenario::LineError>(())
/// ```
pub fn answer_line(number: usize, line: &[u8]) -> Result<String, LineError> {
    let fail = |kind| LineError { line: number, kind };
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let text = core::str::from_utf8(line).map_err(|_| fail(LineErrorKind::NotUtf8))?;
    let scenario = Scenario::from_json_line(text).map_err(|e| fail(LineErrorKind::Json(e)))?;
    answer_scenario(number, &scenario)
}

/// The second half of [`answer_line`], for a scenario already read (the Python package
/// reads one straight from Python objects with the same `Deserialize`): runs it and writes
/// the transcript's JSON line, or the [`LineError`] of a scenario the model refuses
/// (`line N: step S: …`).
pub fn answer_scenario(number: usize, scenario: &Scenario) -> Result<String, LineError> {
    let fail = |kind| LineError { line: number, kind };
    let transcript = scenario
        .run()
        .map_err(|e| fail(LineErrorKind::Refused(e)))?;
    transcript
        .to_json_line()
        .map_err(|e| fail(LineErrorKind::Output(e)))
}

/// The version of the oracle's JSON-lines contract (docs/oracle.md): 3, which follows SPEC
/// version 3.
pub const CONTRACT: u32 = 3;

/// The JSON Schema (draft 2020-12) of an input line: `schema/scenario.schema.json`.
pub const SCENARIO_SCHEMA: &str = include_str!("../../schema/scenario.schema.json");

/// The JSON Schema (draft 2020-12) of an answer line: `schema/answer.schema.json`.
pub const ANSWER_SCHEMA: &str = include_str!("../../schema/answer.schema.json");

/// Both schemas with the contract's version, as one JSON object (what
/// `bits-helper-token-oracle --schema` prints): `{"contract": 3, "scenario": {…}, "answer":
/// {…}}`.
///
/// ```
/// let all: serde_json::Value = serde_json::from_str(&bits_helper_token::scenario::schemas_json()).unwrap();
/// assert_eq!(all["contract"], 3);
/// assert_eq!(all["scenario"]["type"], "object");
/// ```
pub fn schemas_json() -> String {
    alloc::format!(
        "{{\"contract\": {CONTRACT}, \"scenario\": {}, \"answer\": {}}}",
        SCENARIO_SCHEMA.trim(),
        ANSWER_SCHEMA.trim()
    )
}
