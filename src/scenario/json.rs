//! The oracle's output: a transcript as JSON.
#![forbid(unsafe_code)]

use super::{StepResult, StepValue, Transcript};
use crate::access::Access;
use crate::decide::route::Principal;
use alloc::string::String;
use alloc::vec::Vec;
use serde::ser::{Serialize, SerializeMap, Serializer};

impl Serialize for StepValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            StepValue::Flags(flags) => flags.serialize(serializer),
            StepValue::Sid(sid) => sid.serialize(serializer),
            StepValue::Route {
                principal,
                sid,
                access,
                scheme,
            } => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("identity", principal)?;
                if let Some(sid) = sid {
                    map.serialize_entry("sid", sid)?;
                }
                // A whole challenge names the scheme chosen, whoever answers it; a
                // per-scheme challenge names it with explicit credentials (contract 2).
                let whole = matches!(access, Access::WholeChallenge(_));
                let shown = match (access, scheme) {
                    (Access::WholeChallenge(t), Some(s)) => Access::challenge(*t, *s),
                    _ => *access,
                };
                match (principal, shown.as_challenge()) {
                    (Principal::ExplicitCredentials, Some((target, _))) => {
                        map.serialize_entry("target", &target)?;
                    }
                    (Principal::MissingHelper, _) => {
                        if let Some(usage) = shown.flag() {
                            map.serialize_entry("usage", &usage)?;
                        }
                    }
                    _ => {}
                }
                let named = whole || *principal == Principal::ExplicitCredentials;
                if let (true, Some(scheme)) = (named, scheme) {
                    map.serialize_entry("scheme", scheme)?;
                }
                map.end()
            }
        }
    }
}

/// `{"hresult": "0x80070005", "name": "E_ACCESSDENIED", "rule": "A-5", "value": …}`;
/// `name` is omitted for an unnamed code, `value` when the step returns none.
impl Serialize for StepResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Explained(self, None).serialize(serializer)
    }
}

/// X-1's predicted failure: `{"hresult", "name", "rule"}`.
struct Failure<'a>(&'a crate::facts::JobError);

impl Serialize for Failure<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("hresult", &self.0.hresult)?;
        if let Some(name) = self.0.hresult.name() {
            map.serialize_entry("name", name)?;
        }
        map.serialize_entry("rule", &self.0.rule.id)?;
        map.end()
    }
}

/// A result with its explanation, when the scenario asked for explanations.
pub(crate) struct Explained<'a>(pub(crate) &'a StepResult, pub(crate) Option<&'a str>);

impl Serialize for Explained<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Explained(this, explanation) = *self;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("hresult", &this.hresult)?;
        if let Some(name) = this.hresult.name() {
            map.serialize_entry("name", name)?;
        }
        map.serialize_entry("rule", &this.rule)?;
        if let Some(value) = &this.value {
            map.serialize_entry("value", value)?;
        }
        if this.skipped {
            map.serialize_entry("skipped", &true)?;
        }
        if let Some(failure) = &this.transfer_failure {
            map.serialize_entry("transfer_failure", &Failure(failure))?;
        }
        if let Some(explanation) = explanation {
            map.serialize_entry("explanation", explanation)?;
        }
        map.end()
    }
}

/// The oracle's output line: `{"results": […], "job": {…}}`; each result carries an
/// `"explanation"` when the scenario asked for them (`"explain": true`).
impl Serialize for Transcript {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        let results: Vec<Explained<'_>> = self
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| Explained(r, self.explanations.get(i).map(String::as_str)))
            .collect();
        map.serialize_entry("results", &results)?;
        map.serialize_entry("job", &super::JobSnapshot::of(&self.job))?;
        map.end()
    }
}
