//! Knob settings from reports: for each release, the settings under which the model
//! reproduces every observed answer.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::ops::ControlFlow;

use super::{Answer, Report, answers, replay};
use crate::profile::{
    AccessCheck, AdminBypass, DoneJobs, FailureCode, IdentifyOnSetToken, IntegrityReads, Knobs,
    LegacySetToken, Profile, Release, ServiceProxyCredentials, TakeOwnership, TokenCheck,
    UnknownFlags,
};
use crate::scenario as oracle;

/// One knob of SPEC §6 with named settings, as calibration varies it (Q-5, any failure
/// code, is varied over the codes the reports show; Q-4 is not a setting).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Knob {
    /// The SPEC id (`Q-1`).
    pub id: &'static str,
    /// Its field in the oracle's `knobs` object.
    pub field: &'static str,
    /// How many settings it has.
    pub settings: usize,
    /// The setting `knobs` has, as an index.
    pub get: fn(&Knobs) -> usize,
    /// Sets the setting with this index.
    pub set: fn(&mut Knobs, usize),
    /// The setting's name.
    pub name: fn(usize) -> &'static str,
}

impl fmt::Debug for Knob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.field)
    }
}

macro_rules! knob {
    ($id:literal, $field:ident, $ty:ty) => {
        Knob {
            id: $id,
            field: stringify!($field),
            settings: <$ty>::ALL.len(),
            get: |k| <$ty>::ALL.iter().position(|&v| v == k.$field).unwrap_or(0),
            set: |k, i| {
                if let Some(&v) = <$ty>::ALL.get(i) {
                    k.$field = v;
                }
            },
            name: |i| <$ty>::ALL.get(i).map_or("?", |v| v.name()),
        }
    };
}

/// The knobs with named settings, in SPEC order.
pub const KNOBS: &[Knob] = &[
    knob!("Q-1", unknown_flags, UnknownFlags),
    knob!("Q-2", admin_bypass, AdminBypass),
    knob!("Q-3", done_jobs, DoneJobs),
    knob!("Q-6", take_ownership, TakeOwnership),
    knob!("Q-7", legacy_set_token, LegacySetToken),
    knob!("Q-8", token_check, TokenCheck),
    knob!("Q-9", access_check, AccessCheck),
    knob!("Q-10", integrity_reads, IntegrityReads),
    knob!("Q-11", identify_on_set_token, IdentifyOnSetToken),
    knob!("Q-12", service_proxy_credentials, ServiceProxyCredentials),
];

/// A report that cannot be calibrated: which scenario, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scenario {scenario}: {reason}")]
#[non_exhaustive]
pub struct CalibrateError {
    /// The scenario's name.
    pub scenario: String,
    /// What is wrong with it.
    pub reason: String,
}

impl CalibrateError {
    pub(super) fn new(scenario: &str, reason: String) -> CalibrateError {
        CalibrateError {
            scenario: scenario.to_string(),
            reason,
        }
    }
}

/// One step's answer as a provider gave it, against the model's under the inferred
/// settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Observation {
    /// The scenario's name.
    pub scenario: String,
    /// The step's index (from 0) and what it did.
    pub step: usize,
    /// What the step did.
    pub call: String,
    /// The provider's answer.
    pub real: Answer,
    /// The model's answer under the inferred settings.
    pub model: Answer,
}

/// What calibration found for one knob.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The SPEC id (`Q-5` included).
    pub id: &'static str,
    /// Its field in the oracle's `knobs` object.
    pub field: &'static str,
    /// The inferred setting.
    pub setting: String,
    /// Every setting as good as the inferred one: one when the reports tell the settings
    /// apart, more when they do not (the inferred one is then the closest to SPEC's
    /// defaults).
    pub candidates: Vec<String>,
    /// The scenarios whose answers change when this knob alone takes another setting.
    pub told_by: Vec<String>,
}

impl Finding {
    /// Whether the reports tell this knob's settings apart.
    pub fn measured(&self) -> bool {
        self.candidates.len() == 1
    }
}

/// What the reports of one release imply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Calibration {
    /// The release (from the reports' builds, A-3).
    pub release: Release,
    /// The builds the reports name.
    pub builds: Vec<Option<u32>>,
    /// The scenarios played.
    pub scenarios: usize,
    /// The steps observed.
    pub observations: usize,
    /// The inferred settings: every observation reproduced if any setting does, else the
    /// fewest observations unexplained; then the fewest knobs away from SPEC's defaults.
    pub knobs: Knobs,
    /// Each knob, Q-5 included.
    pub findings: Vec<Finding>,
    /// The observations the inferred settings do not reproduce: none when some setting
    /// explains every one; otherwise each is a SPEC finding.
    pub unexplained: Vec<Observation>,
}

impl Calibration {
    /// The release and the inferred knobs, as the oracle's `"release"` and `"knobs"`.
    pub fn profile(&self) -> Profile {
        Profile::new(self.release).with_knobs(self.knobs)
    }
}

impl fmt::Display for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let builds: Vec<String> = self
            .builds
            .iter()
            .map(|b| b.map_or_else(|| "unknown".to_string(), |b| b.to_string()))
            .collect();
        writeln!(
            f,
            "release {} (build {}): {} scenarios, {} observations",
            self.release,
            builds.join(", "),
            self.scenarios,
            self.observations
        )?;
        for k in &self.findings {
            let how = if k.measured() {
                format!("measured by {}", k.told_by.join(", "))
            } else if k.told_by.is_empty() {
                format!(
                    "not measured (no scenario played tells {} apart)",
                    k.candidates.join(", ")
                )
            } else {
                format!("not told apart: any of {}", k.candidates.join(", "))
            };
            writeln!(f, "  {:<5} {:<26} = {:<22} {how}", k.id, k.field, k.setting)?;
        }
        if self.unexplained.is_empty() {
            writeln!(f, "  every observation reproduced")
        } else {
            writeln!(
                f,
                "  {} observations no setting explains (SPEC findings):",
                self.unexplained.len()
            )?;
            for o in &self.unexplained {
                writeln!(
                    f,
                    "    {} step {} ({}): Windows {}, model {}",
                    o.scenario, o.step, o.call, o.real, o.model
                )?;
            }
            Ok(())
        }
    }
}

/// One scenario's observations, ready to replay.
struct Case<'a> {
    name: &'a str,
    scenario: oracle::Scenario,
    calls: Vec<&'a str>,
    real: Vec<&'a Answer>,
}

impl Case<'_> {
    /// How many steps the model under `profile` answers otherwise, stopping once more
    /// than `limit` (the rest of the scenario is then not played).
    fn misses(&mut self, profile: Profile, limit: usize) -> usize {
        let Case { scenario, real, .. } = self;
        scenario.release = profile.release;
        scenario.knobs = profile.knobs;
        let (mut misses, mut played) = (0, 0);
        replay(scenario, |answer, _| {
            misses += usize::from(real.get(played) != Some(&&answer));
            played += 1;
            if misses > limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if misses <= limit {
            // Steps the model could not play are misses too.
            misses += real.len().saturating_sub(played);
        }
        misses
    }

    fn answers(&self, profile: Profile) -> Vec<Answer> {
        let mut s = self.scenario.clone();
        s.release = profile.release;
        s.knobs = profile.knobs;
        answers(&s).into_iter().map(|(a, _)| a).collect()
    }
}

/// Reads `reports` and, for each release they come from, infers the knob settings under
/// which the model reproduces every observed answer — or, when none does, those that leave
/// the fewest unexplained, and names them. Every setting of every knob is tried (Q-5 over
/// SPEC's default and each failure code observed); among equally good settings the one
/// with the fewest knobs away from SPEC's defaults wins, earlier knobs first.
///
/// Refused when a report's scenario is not one the model can play.
pub fn calibrate(reports: &[Report]) -> Result<Vec<Calibration>, CalibrateError> {
    let mut releases: Vec<Release> = reports.iter().map(|r| r.release).collect();
    releases.sort_by_key(|r| Release::ALL.iter().position(|x| x == r));
    releases.dedup();
    releases
        .into_iter()
        .map(|release| {
            let of_release: Vec<&Report> =
                reports.iter().filter(|r| r.release == release).collect();
            calibrate_release(release, &of_release)
        })
        .collect()
}

fn calibrate_release(release: Release, reports: &[&Report]) -> Result<Calibration, CalibrateError> {
    let mut cases = Vec::new();
    for played in reports.iter().flat_map(|r| &r.scenarios) {
        if oracle::Session::new(&played.scenario).is_err() {
            return Err(CalibrateError::new(
                &played.name,
                "the model cannot play its oracle scenario".to_string(),
            ));
        }
        if played.steps.len() != played.scenario.steps.len() {
            return Err(CalibrateError::new(
                &played.name,
                format!(
                    "{} rows for {} steps",
                    played.steps.len(),
                    played.scenario.steps.len()
                ),
            ));
        }
        cases.push(Case {
            name: &played.name,
            scenario: played.scenario.clone(),
            calls: played.steps.iter().map(|r| r.call.as_str()).collect(),
            real: played.steps.iter().map(|r| &r.real).collect(),
        });
    }
    let denials = denial_candidates(&cases);
    let base = Profile::new(release);

    // Every combination, in mixed radix over the knobs and then Q-5.
    let radix: Vec<usize> = KNOBS.iter().map(|k| k.settings).collect();
    let total = radix.iter().product::<usize>() * denials.len();
    let mut best: Option<(usize, usize)> = None; // (misses, knobs off default)
    let mut good: Vec<(Knobs, usize, usize)> = Vec::new();
    for n in 0..total {
        let knobs = combination(n, &radix, &denials);
        let off = off_default(&knobs);
        let limit = best.map_or(usize::MAX, |(m, _)| m);
        let mut misses = 0;
        for case in &mut cases {
            misses += case.misses(base.with_knobs(knobs), limit.saturating_sub(misses));
            if misses > limit {
                break;
            }
        }
        if misses > limit {
            continue;
        }
        if best.is_none_or(|b| (misses, off) < b) {
            best = Some((misses, off));
        }
        good.push((knobs, misses, off));
    }
    let (least, _) = best.unwrap_or((0, 0));
    good.retain(|&(_, m, _)| m == least);
    let chosen = good
        .iter()
        .min_by_key(|&&(_, _, off)| off)
        .map_or(Knobs::DEFAULT, |&(k, _, _)| k);
    let profile = base.with_knobs(chosen);
    // The model's answers under the inferred settings, once per scenario.
    let inferred: Vec<Vec<Answer>> = cases.iter().map(|c| c.answers(profile)).collect();

    let mut findings: Vec<Finding> = KNOBS
        .iter()
        .map(|knob| {
            let candidates: BTreeSet<usize> = good.iter().map(|(k, _, _)| (knob.get)(k)).collect();
            let told_by = told_by(
                &cases,
                &inferred,
                profile,
                |k, v| (knob.set)(k, v),
                knob.settings,
            );
            Finding {
                id: knob.id,
                field: knob.field,
                setting: (knob.name)((knob.get)(&chosen)).to_string(),
                candidates: candidates
                    .into_iter()
                    .map(|v| (knob.name)(v).to_string())
                    .collect(),
                told_by,
            }
        })
        .collect();
    let denial_names: BTreeSet<String> = good
        .iter()
        .map(|(k, _, _)| k.denial.get().to_string())
        .collect();
    findings.insert(
        3,
        Finding {
            id: "Q-5",
            field: "denial",
            setting: chosen.denial.get().to_string(),
            candidates: denial_names.into_iter().collect(),
            told_by: told_by(
                &cases,
                &inferred,
                profile,
                |k, v| k.denial = denials[v],
                denials.len(),
            ),
        },
    );

    let mut unexplained = Vec::new();
    for (case, model) in cases.iter().zip(&inferred) {
        for (i, real) in case.real.iter().enumerate() {
            let m = model
                .get(i)
                .cloned()
                .unwrap_or(Answer::bare(crate::hresult::HResult::E_FAIL));
            if &m != *real {
                unexplained.push(Observation {
                    scenario: case.name.to_string(),
                    step: i,
                    call: case.calls[i].to_string(),
                    real: (*real).clone(),
                    model: m,
                });
            }
        }
    }
    Ok(Calibration {
        release,
        builds: {
            let mut b: Vec<Option<u32>> = reports.iter().map(|r| r.build).collect();
            b.sort_unstable();
            b.dedup();
            b
        },
        scenarios: cases.len(),
        observations: cases.iter().map(|c| c.real.len()).sum(),
        knobs: chosen,
        findings,
        unexplained,
    })
}

/// Q-5's candidates: SPEC's default, then each failure code a report shows.
fn denial_candidates(cases: &[Case<'_>]) -> Vec<FailureCode> {
    let mut out = Vec::from([Knobs::DEFAULT.denial]);
    for case in cases {
        for real in &case.real {
            if let Ok(code) = FailureCode::new(real.hresult)
                && !out.contains(&code)
            {
                out.push(code);
            }
        }
    }
    out
}

/// The `n`th combination: knob `i` takes digit `i` of `n` in base `radix[i]`, Q-5 the rest.
fn combination(mut n: usize, radix: &[usize], denials: &[FailureCode]) -> Knobs {
    let mut knobs = Knobs::DEFAULT;
    for (knob, &r) in KNOBS.iter().zip(radix) {
        let default = (knob.get)(&Knobs::DEFAULT);
        // Digit 0 is the default setting, so that the first combination is SPEC's.
        (knob.set)(&mut knobs, (default + n % r) % r);
        n /= r;
    }
    knobs.denial = denials[n % denials.len()];
    knobs
}

/// How many knobs differ from SPEC's defaults.
fn off_default(knobs: &Knobs) -> usize {
    KNOBS
        .iter()
        .filter(|k| (k.get)(knobs) != (k.get)(&Knobs::DEFAULT))
        .count()
        + usize::from(knobs.denial != Knobs::DEFAULT.denial)
}

/// The scenarios whose answers under `profile` (`here`, one list per case) change when
/// one knob (set by `set`) takes any of its other `settings`.
fn told_by(
    cases: &[Case<'_>],
    here: &[Vec<Answer>],
    profile: Profile,
    set: impl Fn(&mut Knobs, usize),
    settings: usize,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (case, here) in cases.iter().zip(here) {
        let differs = (0..settings).any(|v| {
            let mut k = profile.knobs;
            set(&mut k, v);
            k != profile.knobs && case.answers(profile.with_knobs(k)) != *here
        });
        if differs && !names.iter().any(|n| n == case.name) {
            names.push(case.name.to_string());
        }
    }
    names
}
