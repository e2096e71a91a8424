//! Calibration: real Windows measures the model (feature `json`).
//!
//! The conformance runner (`windows::conformance`, `cargo run --example conformance`)
//! plays the [`SCENARIOS`] against a provider — the real BITS, the model's COM object —
//! with tokens cast for each [`Role`], and writes a [`Report`]: every step with the
//! provider's answer and the model's. This module is the pure half of that work, the same
//! on every platform:
//!
//! - the scenarios, each as an oracle [`Scenario`](crate::scenario::Scenario) once its
//!   roles are cast ([`Scenario::oracle`]);
//! - the model's answers to an oracle scenario ([`answers`]) and the settings under which
//!   it would have given another answer at a step ([`explained_by`]);
//! - the report's stable JSON form ([`Report`]);
//! - [`calibrate`]: for each release the reports come from, the knob settings under
//!   which the model reproduces every observed answer, or the observations no setting
//!   explains (`bits-helper-token-calibrate REPORT...` prints them).
//!
//! A provider backed by the model ([`play_model`]) plays the scenarios that no COM
//! interface reaches on this machine (transfers), so that calibration is tested on every
//! platform: a report the model makes under some knob settings calibrates back to them.
//!
//! ```
//! use bits_helper_token::calibration::{self, ModelCast, SCENARIOS};
//! use bits_helper_token::profile::{Knobs, Profile, Release, UnknownFlags};
//!
//! // A "Windows" that masks unknown flag bits (Q-1), measured by the model's scenarios.
//! let mut knobs = Knobs::DEFAULT;
//! knobs.unknown_flags = UnknownFlags::Mask;
//! let windows = Profile::new(Release::LATEST).with_knobs(knobs);
//! let report = calibration::play_model(windows, Profile::new(Release::LATEST), &ModelCast::new(), SCENARIOS)?;
//! assert!(report.disagreements().count() > 0);
//! let found = calibration::calibrate(&[report])?;
//! assert_eq!(found[0].profile(), windows);
//! assert!(found[0].unexplained.is_empty());
//! # Ok::<(), calibration::CalibrateError>(())
//! ```
#![forbid(unsafe_code)]

mod infer;
mod report;
mod scenarios;
mod table;

pub use infer::{CalibrateError, Calibration, Finding, KNOBS, Knob, Observation, calibrate};
pub use report::{Played, REPORT_VERSION, Report, Row, Skipped};
pub use scenarios::{Role, Scenario, Setup, Step};
pub use table::SCENARIOS;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::ops::ControlFlow;

use crate::challenge::Challenges;
use crate::decide::route::Principal;
use crate::hresult::HResult;
use crate::net::{AuthTarget, ProxyUsage};
use crate::profile::{FailureCode, Profile, Release};
use crate::scenario::{self as oracle, JobSpec, ScenarioErrorKind, Session, StepValue};
use crate::sid::Sid;
use crate::state::Remote;
use crate::token::{IntegrityLevel, TokenInfo};

/// What a provider or the model answered at one step: `{"hresult": "0x…", "value": "…"}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
#[allow(clippy::exhaustive_structs)] // an HRESULT and a value are the whole answer
pub struct Answer {
    /// The `HRESULT`.
    pub hresult: HResult,
    /// The value a getter gave (`0x…` flags, a SID, `NULL`), the job's state after a
    /// transfer, who answered a challenge, `not called: no handle` for a step through a refused `QueryInterface`;
    /// empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

impl Answer {
    /// An answer with no value.
    pub const fn bare(hresult: HResult) -> Answer {
        Answer {
            hresult,
            value: String::new(),
        }
    }

    /// `S_OK` with a value: what an observation step saw.
    pub const fn ok(value: String) -> Answer {
        Answer {
            hresult: HResult::S_OK,
            value,
        }
    }

    /// A step through a handle whose `QueryInterface` failed: not called.
    pub fn no_handle() -> Answer {
        Answer {
            hresult: HResult::S_FALSE,
            value: NO_HANDLE.to_string(),
        }
    }
}

crate::names::strict_object!(Answer, "an answer");

const NO_HANDLE: &str = "not called: no handle";

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}", self.hresult)
        } else {
            write!(f, "{} {}", self.hresult, self.value)
        }
    }
}

/// Who plays each [`Role`]: a token, and whether it can be impersonated (an
/// identification-level token cannot, A-9).
pub trait Casting {
    /// The role's token, or why this machine cannot cast it.
    fn token(&self, role: Role) -> Result<TokenInfo, String>;
    /// Whether the role's token allows impersonation (`SetHelperToken` stores it, A-9).
    fn can_impersonate(&self, role: Role) -> bool;
}

/// Plain tokens for every role, as a hosted Windows runner casts them: the current user an
/// elevated administrator (`S-1-5-21-1000-1000-1000-1001`), its filtered and Low copies, an
/// identification-level copy, a standard user (`…-1002`) as the other account, and
/// LocalSystem.
#[derive(Clone, Debug)]
pub struct ModelCast {
    tokens: [TokenInfo; 6],
}

impl ModelCast {
    /// The cast described above.
    pub fn new() -> ModelCast {
        let sid = |rid| Sid::new(5, &[21, 1000, 1000, 1000, rid]).unwrap_or(Sid::ANONYMOUS);
        let user = sid(1001);
        let filtered = TokenInfo::filtered_administrator(user);
        ModelCast {
            tokens: [
                TokenInfo::elevated_administrator(user),
                filtered.clone(),
                filtered.with_integrity(IntegrityLevel::Low),
                TokenInfo::elevated_administrator(user),
                TokenInfo::standard_user(sid(1002)),
                TokenInfo::local_system(),
            ],
        }
    }
}

impl Default for ModelCast {
    fn default() -> ModelCast {
        ModelCast::new()
    }
}

impl Casting for ModelCast {
    fn token(&self, role: Role) -> Result<TokenInfo, String> {
        Ok(self.tokens[role.index()].clone())
    }

    fn can_impersonate(&self, role: Role) -> bool {
        role != Role::Identify
    }
}

impl Scenario {
    /// The scenario as the oracle reads it, its roles cast by `cast`: each role a token
    /// named after it, the job [`Setup`] says, each step an oracle step, answered under
    /// `profile`. The reason when a role cannot be cast.
    pub fn oracle(&self, profile: Profile, cast: &dyn Casting) -> Result<oracle::Scenario, String> {
        let mut scenario = oracle::Scenario::new(self.owner.name());
        scenario.release = profile.release;
        scenario.knobs = profile.knobs;
        for role in self.roles() {
            let token = cast
                .token(role)
                .map_err(|why| format!("role {role} not cast: {why}"))?;
            scenario.tokens.insert(role.name().to_string(), token);
        }
        scenario.job = job_spec(self.owner, self.setup);
        if let Setup::Challenged { .. } = self.setup {
            // The local server has no service principal name: no Kerberos against it.
            scenario.environment = scenario.environment.with_kerberos(false);
        }
        scenario.steps = self.steps.iter().map(|s| s.oracle_step(cast)).collect();
        Ok(scenario)
    }
}

/// The job a [`Setup`] makes, as the oracle writes it.
fn job_spec(owner: Role, setup: Setup) -> JobSpec {
    let mut job = JobSpec::new(owner.name());
    match setup {
        Setup::Empty => job.has_file = false,
        Setup::HttpDownload => {
            job.remote = Remote::Http;
            job.proxy = ProxyUsage::NoProxy;
        }
        Setup::Challenged { target, offers } => {
            job.remote = Remote::Http;
            job.proxy = match target {
                AuthTarget::Server => ProxyUsage::NoProxy,
                AuthTarget::Proxy => ProxyUsage::Override,
            };
            job.challenges = Challenges::NONE.with(target, offers);
        }
    }
    job
}

/// The model's answer to each step of `scenario` (under its own release and knobs), with
/// the SPEC id of the rule that decided (`-` for a step that was not called). Shorter
/// than the steps only when the scenario is not one the model can play (a step names
/// what the scenario does not define).
pub fn answers(scenario: &oracle::Scenario) -> Vec<(Answer, &'static str)> {
    let mut out = Vec::new();
    replay(scenario, |answer, rule| {
        out.push((answer, rule));
        ControlFlow::Continue(())
    });
    out
}

/// Plays `scenario` (under its own release and knobs) and hands each step's answer and
/// rule to `each`, in order, until `each` breaks or a step is one the model cannot play:
/// the one replay [`answers`], [`explained_by`] and [`calibrate`] go through, which stops
/// as soon as the caller has what it needs.
fn replay(
    scenario: &oracle::Scenario,
    mut each: impl FnMut(Answer, &'static str) -> ControlFlow<()>,
) {
    let Ok(mut session) = Session::new(scenario) else {
        return;
    };
    for step in &scenario.steps {
        let (answer, rule) = match session.step(step) {
            // A step through a handle whose QueryInterface was refused: a runner never
            // calls it (contract 3 answers it `skipped`).
            Ok(r) if r.skipped => (Answer::no_handle(), "-"),
            // Who answered a challenge: an observation, not a call (`Step::Presented`).
            Ok(r) if matches!(step, oracle::Step::Route { .. }) => match r.value {
                Some(StepValue::Route { principal, sid, .. }) => {
                    (Answer::ok(presented(principal, sid)), r.rule.name())
                }
                _ => return,
            },
            Ok(r) => {
                let value = match (step, r.value) {
                    (oracle::Step::Transfer {}, _) => session.job().state().name().to_string(),
                    (_, Some(StepValue::Flags(f))) => format!("{:#x}", f.bits()),
                    (_, Some(StepValue::Sid(Some(sid)))) => sid.to_string(),
                    (_, Some(StepValue::Sid(None))) => "NULL".to_string(),
                    _ => String::new(),
                };
                (
                    Answer {
                        hresult: r.hresult,
                        value,
                    },
                    r.rule.name(),
                )
            }
            // A step on a handle no QueryInterface gave is not called.
            Err(e) if matches!(e.kind, ScenarioErrorKind::UnknownHandle(_)) => {
                (Answer::no_handle(), "-")
            }
            Err(_) => return,
        };
        if each(answer, rule).is_break() {
            return;
        }
    }
}

/// Who a challenge sees, as the local server records it: the SID of the owner or the
/// helper, `computer`, `anonymous`, `explicit`, or `none` when nobody answers (R-3, L-6,
/// X-3, or no challenge).
pub(crate) fn presented(principal: Principal, sid: Option<Sid>) -> String {
    match (principal, sid) {
        (Principal::Owner | Principal::Helper, Some(sid)) => sid.to_string(),
        (Principal::Computer, _) => "computer".to_string(),
        (Principal::Anonymous, _) => "anonymous".to_string(),
        (Principal::ExplicitCredentials, _) => "explicit".to_string(),
        _ => "none".to_string(),
    }
}

/// The model's answer at step `at` of `scenario` under `profile` (the steps after it are
/// not played).
fn answer_at(scenario: &oracle::Scenario, profile: Profile, at: usize) -> Option<Answer> {
    let mut s = scenario.clone();
    s.release = profile.release;
    s.knobs = profile.knobs;
    let mut found = None;
    let mut i = 0;
    replay(&s, |answer, _| {
        if i == at {
            found = Some(answer);
            return ControlFlow::Break(());
        }
        i += 1;
        ControlFlow::Continue(())
    });
    found
}

/// The profiles one setting away from `profile`, by name: each knob of [`KNOBS`] changed
/// alone to each of its other settings (`Q-n=…`), then each other release with the same
/// knobs (`release=…`). Q-5, any failure code, is not enumerated.
pub fn variants(profile: Profile) -> Vec<(String, Profile)> {
    let mut out = Vec::new();
    for knob in KNOBS {
        for value in 0..knob.settings {
            if value != (knob.get)(&profile.knobs) {
                let mut k = profile.knobs;
                (knob.set)(&mut k, value);
                out.push((
                    format!("{}={}", knob.id, (knob.name)(value)),
                    profile.with_knobs(k),
                ));
            }
        }
    }
    for &r in Release::ALL {
        if r != profile.release {
            out.push((
                format!("release={r}"),
                Profile::new(r).with_knobs(profile.knobs),
            ));
        }
    }
    out
}

/// The settings under which the model gives `real` at step `at` of `scenario`: one of
/// [`variants`] of the scenario's own profile, or Q-5 set to `real`'s code when it is a
/// failure (`Q-5=…`).
pub fn explained_by(scenario: &oracle::Scenario, at: usize, real: &Answer) -> Vec<String> {
    let profile = Profile::new(scenario.release).with_knobs(scenario.knobs);
    let mut variants = variants(profile);
    if real.hresult.is_failure()
        && real.hresult != profile.knobs.denial.get()
        && let Ok(code) = FailureCode::new(real.hresult)
    {
        let mut k = profile.knobs;
        k.denial = code;
        variants.push((format!("Q-5={}", real.hresult), profile.with_knobs(k)));
    }
    variants
        .into_iter()
        .filter(|(_, variant)| answer_at(scenario, *variant, at).as_ref() == Some(real))
        .map(|(name, _)| name)
        .collect()
}

/// A provider backed by the model: the model under `provider` plays each scenario with
/// the roles `cast` gives, and the model under `model` answers it too — the report a
/// runner would write against a Windows that behaves as `provider` says. Scenarios whose
/// roles `cast` cannot cast are skipped with the reason.
pub fn play_model(
    provider: Profile,
    model: Profile,
    cast: &dyn Casting,
    scenarios: &[Scenario],
) -> Result<Report, CalibrateError> {
    let mut report = Report::new(
        format!("the model ({})", provider.release),
        None,
        model.release,
    );
    for scenario in scenarios {
        let played = scenario.oracle(provider, cast).and_then(|s| {
            let real = answers(&s);
            if real.len() == s.steps.len() {
                Ok(real.into_iter().map(|(a, _)| a).collect::<Vec<_>>())
            } else {
                Err(format!("the model cannot play step {}", real.len() + 1))
            }
        });
        match played {
            Ok(real) => {
                let oracle = scenario.oracle(model, cast).map_err(|why| {
                    CalibrateError::new(scenario.name, format!("the model's side: {why}"))
                })?;
                report.push(Played::compare(scenario, oracle, real)?);
            }
            Err(reason) => report.skipped.push(Skipped {
                name: scenario.name.to_string(),
                reason,
            }),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_casts_and_the_model_answers_every_step() {
        let cast = ModelCast::new();
        for scenario in SCENARIOS {
            let oracle = scenario
                .oracle(Profile::new(Release::LATEST), &cast)
                .unwrap();
            assert_eq!(
                answers(&oracle).len(),
                scenario.steps.len(),
                "{}",
                scenario.name
            );
        }
    }

    /// The words the runner's server and the model share for who answered a challenge:
    /// the owner's or the helper's SID, the computer, anonymous, explicit credentials, and
    /// `none` for everyone who presents nothing. (The challenge scenarios of one machine
    /// reach only SIDs and `none`; the Windows runner writes the others.)
    #[test]
    fn presented_names_every_principal() {
        let sid = crate::sid::Sid::NETWORK_SERVICE;
        for (principal, expected) in [
            (Principal::Owner, "S-1-5-20"),
            (Principal::Helper, "S-1-5-20"),
            (Principal::Computer, "computer"),
            (Principal::Anonymous, "anonymous"),
            (Principal::ExplicitCredentials, "explicit"),
            (Principal::NoCredentials, "none"),
            (Principal::NotApplicable, "none"),
            (Principal::MissingHelper, "none"),
            (Principal::Unanswered, "none"),
        ] {
            assert_eq!(presented(principal, Some(sid)), expected, "{principal:?}");
        }
        assert_eq!(presented(Principal::Owner, None), "none");
        assert_eq!(presented(Principal::Computer, None), "computer");
    }
}
