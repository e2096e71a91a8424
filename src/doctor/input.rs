//! The doctor's input line: the oracle's scenario with the job as it is now, plus who asks
//! (`"caller"`), the facts that could not be read (`"unknown"`) and a label.
#![forbid(unsafe_code)]

use crate::names::names;
use crate::net::NetworkEnvironment;
use crate::profile::{Knobs, Release};
use crate::scenario::{JobSpec, JsonError, Scenario, Step};
use crate::token::TokenInfo;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::de::{Deserializer, Error, MapAccess, Visitor};

/// A fact of the job that the doctor could not read (live mode: an interface BITS refused,
/// a method it did not implement) or that BITS never shows (the credentials, what the
/// server will challenge with). The input still gives the model a value for it (a stand-in);
/// the diagnosis names every answer that changes when the fact takes another value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum Fact {
    /// The BITS release (A-2, A-3).
    Release,
    /// The owner's user SID (`IBackgroundCopyJob::GetOwner`).
    Owner,
    /// Whether the owner's token was elevated (`GetOwnerElevationState`, T-9).
    OwnerElevated,
    /// The owner's integrity level (`GetOwnerIntegrityLevel`, T-8).
    OwnerIntegrity,
    /// Whether the owner's user is logged on interactively (L-11).
    OwnerLoggedOn,
    /// The job type (T-7).
    Type,
    /// The remote name's scheme (T-7).
    Remote,
    /// Whether a client certificate is set (R-4, X-1).
    ClientCertificate,
    /// The proxy usage (R-7).
    Proxy,
    /// What the server and the proxy challenge with (X-3).
    Challenges,
    /// The credentials set (R-3, R-5); BITS has no getter for them.
    Credentials,
    /// The helper-token usage flags (`IBitsTokenOptions::GetHelperTokenFlags`).
    Flags,
    /// The helper token (`IBitsTokenOptions::GetHelperTokenSid`).
    HelperToken,
    /// `BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS` (`IBackgroundCopyJob5`, R-3 (iv)).
    UseStoredCredentials,
}

names! { Fact, "fact";
    Release => "release", Owner => "owner", OwnerElevated => "owner_elevated",
    OwnerIntegrity => "owner_integrity", OwnerLoggedOn => "owner_logged_on", Type => "type",
    Remote => "remote", ClientCertificate => "client_certificate", Proxy => "proxy",
    Challenges => "challenges", Credentials => "credentials", Flags => "flags",
    HelperToken => "helper_token", UseStoredCredentials => "use_stored_credentials",
}

/// One line of the doctor's input: a [`Scenario`] whose job is the job as it is now (its
/// `steps`, when there are any, run first: the job after them is the one diagnosed), the
/// name of the token that asks (`caller`), the facts that are not known and why, and a
/// label (a job's GUID and display name).
///
/// ```
/// use bits_helper_token::doctor::Input;
/// let input = Input::from_json_line(
///     r#"{"tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001", "logon": "batch"}},
///         "job": {"owner": "alice", "state": "queued"}, "caller": "alice"}"#,
/// )?;
/// assert_eq!(input.caller, "alice");
/// assert!(input.scenario.steps.is_empty());
/// # Ok::<(), bits_helper_token::scenario::JsonError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Input {
    /// The release, knobs, environment, tokens, the job as it is now, and steps (if any).
    pub scenario: Scenario,
    /// The name of the token (in the scenario's `tokens`) that asks.
    pub caller: String,
    /// The facts that are not known, each with why (`"GetOwner: 0x80004001 (E_NOTIMPL)"`).
    pub unknown: BTreeMap<Fact, String>,
    /// A label for people: the job's GUID and display name.
    pub label: Option<String>,
}

/// The input line as serde reads it: the scenario's fields, strictly, and the doctor's.
#[derive(serde::Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
struct Wire {
    #[serde(default)]
    release: Release,
    #[serde(default, deserialize_with = "crate::strict::object")]
    knobs: Knobs,
    #[serde(default, deserialize_with = "crate::strict::object")]
    environment: NetworkEnvironment,
    #[serde(deserialize_with = "crate::token::shorthand::tokens")]
    tokens: BTreeMap<String, TokenInfo>,
    #[serde(deserialize_with = "crate::strict::object")]
    job: JobSpec,
    #[serde(default, deserialize_with = "steps")]
    steps: Vec<Step>,
    #[serde(default)]
    explain: bool,
    caller: String,
    #[serde(default, deserialize_with = "unknown")]
    unknown: BTreeMap<Fact, String>,
    #[serde(default)]
    label: Option<String>,
}

crate::names::strict_object!(deserialize Wire, "a doctor's input line");

fn steps<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Step>, D::Error> {
    crate::strict::objects(d, "step")
}

/// `{"owner": "why", …}`: a fact named twice is refused.
fn unknown<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Fact, String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<Fact, String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object of facts and why each is unknown")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(fact) = map.next_key::<Fact>()? {
                let why: String = map.next_value()?;
                if out.insert(fact, why).is_some() {
                    return Err(A::Error::custom(format!("unknown: {fact} is named twice")));
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

impl Input {
    /// A diagnosis request: `caller` (a token of `scenario`) asks about its job.
    pub fn new(scenario: Scenario, caller: &str) -> Input {
        Input {
            scenario,
            caller: caller.into(),
            unknown: BTreeMap::new(),
            label: None,
        }
    }

    /// One line of the doctor's input, as strictly as the oracle reads a scenario: a JSON
    /// object, no unknown or duplicate field, no unknown name; `steps` may be absent.
    pub fn from_json_line(text: &str) -> Result<Input, JsonError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if !text.trim_start().starts_with('{') {
            // Said as the oracle says it, with the position ("a scenario is a JSON object").
            Scenario::from_json_line(text)?;
        }
        let wire: Wire = serde_json::from_str(text)?;
        let mut scenario = Scenario::new(&wire.job.owner);
        scenario.release = wire.release;
        scenario.knobs = wire.knobs;
        scenario.environment = wire.environment;
        scenario.tokens = wire.tokens;
        scenario.job = wire.job;
        scenario.steps = wire.steps;
        scenario.explain = wire.explain;
        Ok(Input {
            scenario,
            caller: wire.caller,
            unknown: wire.unknown,
            label: wire.label,
        })
    }

    /// The input line (what the live mode's `--export` writes): the scenario's fields as
    /// the oracle writes them (without `steps` when there are none), then `caller`,
    /// `unknown` and `label`.
    pub fn to_json_line(&self) -> Result<String, JsonError> {
        let mut value = serde_json::to_value(&self.scenario)?;
        if let Some(map) = value.as_object_mut() {
            if self.scenario.steps.is_empty() {
                map.remove("steps");
            }
            map.insert("caller".to_string(), self.caller.clone().into());
            if !self.unknown.is_empty() {
                let unknown = self
                    .unknown
                    .iter()
                    .map(|(fact, why)| (fact.name().to_string(), why.clone().into()))
                    .collect();
                map.insert("unknown".to_string(), serde_json::Value::Object(unknown));
            }
            if let Some(label) = &self.label {
                map.insert("label".to_string(), label.clone().into());
            }
        }
        Ok(serde_json::to_string(&value)?)
    }
}
