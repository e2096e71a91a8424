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

struct JobSummary<'a>(&'a crate::job::Job);

/// `{"state": "error", "error": "0x80200056", "flags": 2, "helper_token": SID or null,
/// "owner": SID, "owner_elevated": BOOL, "owner_integrity": LEVEL}`.
impl Serialize for JobSummary<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let job = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("state", &job.state())?;
        map.serialize_entry("error", &job.error().map(|e| e.hresult))?;
        map.serialize_entry("flags", &job.flags())?;
        map.serialize_entry("helper_token", &job.helper_token().map(|h| h.sid))?;
        map.serialize_entry("owner", &job.owner().sid)?;
        map.serialize_entry("owner_elevated", &job.owner().elevated)?;
        map.serialize_entry("owner_integrity", &job.owner().integrity)?;
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
        map.serialize_entry("job", &JobSummary(&self.job))?;
        map.end()
    }
}
