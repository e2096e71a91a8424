//! The oracle's output: a transcript as JSON.
#![forbid(unsafe_code)]

use super::{StepResult, StepValue, Transcript};
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
            } => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("identity", principal)?;
                if let Some(sid) = sid {
                    map.serialize_entry("sid", sid)?;
                }
                match (principal, access.as_challenge()) {
                    (Principal::ExplicitCredentials, Some((target, scheme))) => {
                        map.serialize_entry("target", &target)?;
                        map.serialize_entry("scheme", &scheme)?;
                    }
                    (Principal::MissingHelper, _) => {
                        if let Some(usage) = access.flag() {
                            map.serialize_entry("usage", &usage)?;
                        }
                    }
                    _ => {}
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

/// A result with its explanation, when the scenario asked for explanations.
struct Explained<'a>(&'a StepResult, Option<&'a str>);

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
