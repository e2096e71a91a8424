//! The conformance runner's report: its stable JSON form, read back by calibration.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Answer, CalibrateError, Scenario, answers, explained_by};
use crate::profile::Release;
use crate::scenario as oracle;

/// The report format's version: [`Report::from_json`] refuses any other.
pub const REPORT_VERSION: u32 = 1;

/// What a conformance run found: for each scenario played, the oracle scenario it was
/// (roles cast as tokens, the model's release and knobs) and every step with the
/// provider's answer and the model's; each scenario not played, with the reason.
///
/// Serialized as one JSON object, `{"version": 1, "provider": …, "build": 20348,
/// "release": "1809", "scenarios": […], "skipped": […]}`; read back as strictly as the
/// oracle reads a scenario.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
#[non_exhaustive]
pub struct Report {
    /// [`REPORT_VERSION`]; reading refuses any other.
    #[serde(deserialize_with = "version")]
    pub version: u32,
    /// The provider: `BITS`, the model's COM object, the model.
    pub provider: String,
    /// The Windows build the report was made on (`CurrentBuildNumber`), when known.
    pub build: Option<u32>,
    /// The release the model answered for (A-3, from the build); calibration groups
    /// reports by it.
    pub release: Release,
    /// The scenarios played.
    pub scenarios: Vec<Played>,
    /// The scenarios not played, with the reason.
    pub skipped: Vec<Skipped>,
}

crate::names::strict_object!(Report, "a conformance report");

/// One scenario played.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
#[non_exhaustive]
pub struct Played {
    /// The scenario's name ([`SCENARIOS`](super::SCENARIOS)).
    pub name: String,
    /// The scenario as the oracle reads it: the cast tokens, the job, the steps, and the
    /// release and knobs the model answered under. Calibration replays it under other
    /// settings.
    pub scenario: oracle::Scenario,
    /// One row per step, in order.
    pub steps: Vec<Row>,
}

crate::names::strict_object!(Played, "a played scenario");

/// One compared step.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
#[non_exhaustive]
pub struct Row {
    /// What the step did, as the runner calls it.
    pub call: String,
    /// The provider's answer.
    pub real: Answer,
    /// The model's answer.
    pub model: Answer,
    /// The SPEC id of the rule that decided the model's answer (`-`: not called).
    pub rule: String,
    /// When they disagree: the settings under which the model would give the provider's
    /// answer at this step (`Q-n=value`, `release=…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explained_by: Vec<String>,
}

crate::names::strict_object!(Row, "a report row");

impl Row {
    /// Whether the provider answered as the model.
    pub fn agrees(&self) -> bool {
        self.real == self.model
    }
}

/// A scenario not played.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
#[non_exhaustive]
pub struct Skipped {
    /// The scenario's name.
    pub name: String,
    /// Why: a role not cast, no interface, no local server…
    pub reason: String,
}

crate::names::strict_object!(Skipped, "a skipped scenario");

impl Skipped {
    /// A skipped scenario.
    pub fn new(name: &str, reason: String) -> Skipped {
        Skipped {
            name: name.to_string(),
            reason,
        }
    }
}

impl Played {
    /// The provider's answers `real` to `scenario` (cast as `oracle`), each compared with
    /// the model's; where they disagree, the settings that would explain the provider's.
    /// Refused when the answers are not one per step.
    pub fn compare(
        scenario: &Scenario,
        oracle: oracle::Scenario,
        real: Vec<Answer>,
    ) -> Result<Played, CalibrateError> {
        if real.len() != scenario.steps.len() {
            return Err(CalibrateError::new(
                scenario.name,
                alloc::format!("{} answers for {} steps", real.len(), scenario.steps.len()),
            ));
        }
        let model = answers(&oracle);
        let steps = scenario
            .steps
            .iter()
            .zip(real)
            .enumerate()
            .map(|(i, (step, real))| {
                let (model, rule) = model
                    .get(i)
                    .cloned()
                    .unwrap_or((Answer::bare(crate::hresult::HResult::E_FAIL), "-"));
                let explained_by = if real == model {
                    Vec::new()
                } else {
                    explained_by(&oracle, i, &real)
                };
                Row {
                    call: step.to_string(),
                    real,
                    model,
                    rule: rule.to_string(),
                    explained_by,
                }
            })
            .collect();
        Ok(Played {
            name: scenario.name.to_string(),
            scenario: oracle,
            steps,
        })
    }
}

impl Report {
    /// An empty report.
    pub fn new(provider: String, build: Option<u32>, release: Release) -> Report {
        Report {
            version: REPORT_VERSION,
            provider,
            build,
            release,
            scenarios: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Adds a played scenario.
    pub fn push(&mut self, played: Played) {
        self.scenarios.push(played);
    }

    /// Every compared step, with its scenario's name.
    pub fn rows(&self) -> impl Iterator<Item = (&str, usize, &Row)> {
        self.scenarios.iter().flat_map(|p| {
            p.steps
                .iter()
                .enumerate()
                .map(move |(i, r)| (p.name.as_str(), i, r))
        })
    }

    /// The steps where the provider and the model disagree.
    pub fn disagreements(&self) -> impl Iterator<Item = (&str, usize, &Row)> {
        self.rows().filter(|(_, _, r)| !r.agrees())
    }

    /// `N scenarios run, D disagreements, M skipped`.
    pub fn summary(&self) -> String {
        alloc::format!(
            "{} scenarios run, {} disagreements, {} skipped",
            self.scenarios.len(),
            self.disagreements().count(),
            self.skipped.len()
        )
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String, oracle::JsonError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// A report from its JSON, strictly (no unknown or duplicate fields, no array forms);
    /// a report of another [`REPORT_VERSION`] is refused.
    pub fn from_json(text: &str) -> Result<Report, oracle::JsonError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Ok(serde_json::from_str(text)?)
    }
}

/// The report's version, refused unless it is [`REPORT_VERSION`].
fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = <u32 as serde::Deserialize>::deserialize(d)?;
    if v == REPORT_VERSION {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(alloc::format!(
            "report version {v} (this crate reads version {REPORT_VERSION})"
        )))
    }
}
