//! The conformance runner: role-based scenarios played against an `IBitsTokenOptions`
//! provider — the real BITS, or [`ComJob`](crate::windows::ComJob) — with real tokens, every step
//! compared with the model fed the identities Windows reports for those tokens.
//!
//! Roles are cast onto tokens this machine can produce ([`Cast::from_machine`]); a scenario
//! whose roles cannot be cast is reported as skipped with the reason, never dropped. The
//! runner decides nothing: the model answers every step, the provider answers it too, and
//! the runner only compares. For a disagreement it also replays the model with each knob
//! of SPEC §6 set to each of its other values, and names the settings under which the model
//! would have given the provider's answer.

extern crate alloc;
extern crate std;

mod providers;
mod roles;
mod scenarios;

pub use providers::{ModelObject, Provider, ProviderJob, RealBits};
pub use roles::{Cast, OTHER_USER_VARIABLES, Role};
pub use scenarios::{SCENARIOS, Scenario, Step};

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use windows::Win32::Foundation::ERROR_SUCCESS;
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_TOKEN, IBitsTokenOptions,
};
use windows::Win32::System::Com::CoTaskMemFree;
use windows::Win32::System::Registry::{HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW};
use windows::core::w;

use crate::hresult::HResult;
use crate::profile::{
    AccessCheck, AdminBypass, DoneJobs, IdentifyOnSetToken, IntegrityReads, LegacySetToken,
    Profile, Release, ServiceProxyCredentials, TakeOwnership, TokenCheck, UnknownFlags,
};
use crate::scenario::{ScenarioErrorKind, Session, StepValue};
use crate::sid::Sid;

/// What a provider or the model answered at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::exhaustive_structs)] // an HRESULT and a value are the whole answer
pub struct Answer {
    /// The `HRESULT`.
    pub hresult: HResult,
    /// The value a getter gave (`0x…` flags, a SID, `NULL`), empty otherwise.
    pub value: String,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}", self.hresult)
        } else {
            write!(f, "{} {}", self.hresult, self.value)
        }
    }
}

/// One compared step.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Row {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The step's index and text.
    pub step: usize,
    /// What the step did.
    pub call: String,
    /// The provider's answer.
    pub real: Answer,
    /// The model's answer, with the rule that decided.
    pub model: Answer,
    /// The rule the model names.
    pub rule: &'static str,
    /// Knob settings under which the model would give the provider's answer at this step
    /// (`Q-n=value`), when they disagree.
    pub explained_by: Vec<String>,
}

impl Row {
    /// Whether the provider answered as the model.
    pub fn agrees(&self) -> bool {
        self.real == self.model
    }
}

/// What a run found.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The provider's name.
    pub provider: String,
    /// The release the model used (A-3, from the OS build).
    pub release: Release,
    /// Every compared step.
    pub rows: Vec<Row>,
    /// Scenarios run.
    pub run: usize,
    /// Scenarios skipped, with the reason.
    pub skipped: Vec<(&'static str, String)>,
}

impl Report {
    /// The steps where the provider and the model disagree.
    pub fn disagreements(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.agrees())
    }

    /// `N scenarios run, D disagreements, M skipped`.
    pub fn summary(&self) -> String {
        format!(
            "{} scenarios run, {} disagreements, {} skipped",
            self.run,
            self.disagreements().count(),
            self.skipped.len()
        )
    }
}

/// Plays `scenarios` against `provider`, the model answering under `profile` with the
/// identities `cast` gives.
pub fn run(
    provider: &dyn Provider,
    profile: Profile,
    cast: &Cast,
    scenarios: &[Scenario],
) -> Report {
    let mut report = Report {
        provider: provider.name(),
        release: profile.release,
        rows: Vec::new(),
        run: 0,
        skipped: Vec::new(),
    };
    let mut unavailable = false;
    for scenario in scenarios {
        if unavailable {
            report.skipped.push((
                scenario.name,
                "the provider has no IBitsTokenOptions (E_NOINTERFACE, A-2)".to_string(),
            ));
            continue;
        }
        if let Some((role, why)) = scenario
            .roles()
            .into_iter()
            .find_map(|r| cast.token(r).err().map(|why| (r, why)))
        {
            report
                .skipped
                .push((scenario.name, format!("role {role} not cast: {why}")));
            continue;
        }
        match play(provider, profile, cast, scenario) {
            Ok(rows) => {
                report.run += 1;
                unavailable = rows.iter().zip(scenario.steps).any(|(row, step)| {
                    matches!(step, Step::QueryInterface { .. })
                        && row.real.hresult == HResult::E_NOINTERFACE
                });
                report.rows.extend(rows);
            }
            Err(why) => report.skipped.push((scenario.name, why)),
        }
    }
    report
}

/// The model's answers to a scenario under `profile` (the pure side; used again for each
/// knob setting when explaining a disagreement): the scenario as the oracle reads it —
/// each role a token (the snapshot of its Windows token), each step an oracle step —
/// replayed by [`Session`], the one engine every replay goes through.
fn model_answers(
    profile: Profile,
    cast: &Cast,
    scenario: &Scenario,
) -> Vec<(Answer, &'static str)> {
    let mut out = Vec::new();
    let mut oracle = crate::scenario::Scenario::new(scenario.owner.name());
    oracle.release = profile.release;
    oracle.knobs = profile.knobs;
    for role in scenario.roles() {
        let Ok(token) = cast.token(role) else {
            return out;
        };
        oracle.tokens.insert(role.name().into(), token.snapshot());
    }
    let Ok(mut session) = Session::new(&oracle) else {
        return out;
    };
    for step in scenario.steps {
        let Some(step) = step.oracle_step(cast) else {
            return out;
        };
        match session.step(&step) {
            // A step through a handle whose QueryInterface was refused: the runner never
            // calls it (contract 3 answers it `skipped`).
            Ok(r) if r.skipped => out.push((no_handle(), "-")),
            Ok(r) => out.push((
                Answer {
                    hresult: r.hresult,
                    value: match r.value {
                        Some(StepValue::Flags(f)) => format!("{:#x}", f.bits()),
                        Some(StepValue::Sid(Some(sid))) => sid.to_string(),
                        Some(StepValue::Sid(None)) => "NULL".to_string(),
                        _ => String::new(),
                    },
                },
                r.rule.name(),
            )),
            // A step on a handle no QueryInterface gave is not called.
            Err(e) if matches!(e.kind, ScenarioErrorKind::UnknownHandle(_)) => {
                out.push((no_handle(), "-"));
            }
            Err(_) => return out,
        }
    }
    out
}

fn ok() -> Answer {
    bare(HResult::S_OK)
}

fn bare(hresult: HResult) -> Answer {
    Answer {
        hresult,
        value: String::new(),
    }
}

/// A step on a handle whose `QueryInterface` failed: not called.
fn no_handle() -> Answer {
    Answer {
        hresult: HResult::S_FALSE,
        value: "not called: no handle".to_string(),
    }
}

/// The provider's side of one scenario, compared step by step.
fn play(
    provider: &dyn Provider,
    profile: Profile,
    cast: &Cast,
    scenario: &Scenario,
) -> Result<Vec<Row>, String> {
    let token = |r: Role| cast.token(r).map_err(|why| format!("role {r}: {why}"));
    let owner = token(scenario.owner)?;
    let job = {
        let guard = owner
            .impersonate()
            .map_err(|e| format!("cannot impersonate the owner: {e}"))?;
        let job = provider.create_job();
        drop(guard);
        job.map_err(|hr| format!("the provider could not create a job: {hr}"))?
    };
    let model = model_answers(profile, cast, scenario);
    let mut handles: Vec<Option<IBitsTokenOptions>> = Vec::new();
    let mut rows = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let slot = step.handle();
        if handles.len() <= slot {
            handles.resize(slot + 1, None);
        }
        let real = match *step {
            Step::Cancel => bare(job.cancel()),
            Step::TakeOwnership { by } => {
                let t = token(by)?;
                let guard = t
                    .impersonate()
                    .map_err(|e| format!("impersonate {by}: {e}"))?;
                let hr = job.take_ownership();
                drop(guard);
                bare(hr)
            }
            Step::QueryInterface { caller, .. } => {
                let t = token(caller)?;
                let guard = t
                    .impersonate()
                    .map_err(|e| format!("impersonate {caller}: {e}"))?;
                let got = job.query_interface();
                drop(guard);
                match got {
                    Ok(h) => {
                        handles[slot] = Some(h);
                        ok()
                    }
                    Err(hr) => {
                        handles[slot] = None;
                        bare(hr)
                    }
                }
            }
            other => match &handles[slot] {
                None => no_handle(),
                Some(h) => call(h, other, cast)?,
            },
        };
        let (model_answer, rule) = model
            .get(i)
            .cloned()
            .unwrap_or((bare(HResult::E_FAIL), "-"));
        let explained_by = if real == model_answer {
            Vec::new()
        } else {
            explain(profile, cast, scenario, i, &real)
        };
        rows.push(Row {
            scenario: scenario.name,
            step: i,
            call: step.to_string(),
            real,
            model: model_answer,
            rule,
            explained_by,
        });
    }
    drop(handles);
    drop(job);
    Ok(rows)
}

/// One method call through the provider's interface.
fn call(h: &IBitsTokenOptions, step: Step, cast: &Cast) -> Result<Answer, String> {
    let answer = |r: windows::core::Result<String>| match r {
        Ok(value) => Answer {
            hresult: HResult::S_OK,
            value,
        },
        Err(e) => bare(HResult::from(e)),
    };
    // Every call below is on a live interface pointer the provider gave.
    Ok(match step {
        Step::SetFlags { flags, .. } => answer(
            // SAFETY: a live interface pointer; a plain integer argument.
            unsafe { h.SetHelperTokenFlags(BG_TOKEN(flags)) }.map(|()| String::new()),
        ),
        Step::GetFlags { .. } => answer(
            // SAFETY: a live interface pointer.
            unsafe { h.GetHelperTokenFlags() }.map(|f| format!("{:#x}", f.0)),
        ),
        Step::SetToken { helper, .. } => {
            let t = cast
                .token(helper)
                .map_err(|why| format!("role {helper}: {why}"))?;
            let guard = t
                .impersonate()
                .map_err(|e| format!("impersonate {helper}: {e}"))?;
            // SAFETY: a live interface pointer.
            let r = unsafe { h.SetHelperToken() };
            drop(guard);
            answer(r.map(|()| String::new()))
        }
        Step::Clear { .. } => answer(
            // SAFETY: a live interface pointer.
            unsafe { h.ClearHelperToken() }.map(|()| String::new()),
        ),
        // SAFETY: a live interface pointer.
        Step::GetSid { .. } => answer(unsafe { h.GetHelperTokenSid() }.map(|text| {
            if text.is_null() {
                return "NULL".to_string();
            }
            // SAFETY: a non-null, NUL-terminated string the provider allocated with
            // CoTaskMemAlloc; read once, then freed once, as the method's contract says.
            let s = unsafe { text.to_string() }.unwrap_or_default();
            // SAFETY: as above; nothing reads `text` after this.
            unsafe { CoTaskMemFree(Some(text.0 as *const _)) };
            // BITS's text in the canonical form when it parses strictly (T-2).
            s.parse::<Sid>().map_or(s, |sid| sid.to_string())
        })),
        Step::QueryInterface { .. } | Step::Cancel | Step::TakeOwnership { .. } => {
            bare(HResult::E_FAIL)
        }
    })
}

/// The settings under which the model gives `real` at step `at`: another release
/// (`release=…`), or one knob changed from `profile`'s (`Q-n=…`).
fn explain(
    profile: Profile,
    cast: &Cast,
    scenario: &Scenario,
    at: usize,
    real: &Answer,
) -> Vec<String> {
    let mut variants: Vec<(String, Profile)> = Vec::new();
    for &release in Release::ALL {
        if release != profile.release {
            variants.push((
                format!("release={release}"),
                Profile::new(release).with_knobs(profile.knobs),
            ));
        }
    }
    let base = profile.knobs;
    macro_rules! vary {
        ($field:ident, $ty:ty, $q:literal) => {
            for &v in <$ty>::ALL {
                if v != base.$field {
                    let mut k = base;
                    k.$field = v;
                    variants.push((format!("{}={}", $q, v), profile.with_knobs(k)));
                }
            }
        };
    }
    vary!(unknown_flags, UnknownFlags, "Q-1");
    vary!(admin_bypass, AdminBypass, "Q-2");
    vary!(done_jobs, DoneJobs, "Q-3");
    vary!(take_ownership, TakeOwnership, "Q-6");
    vary!(legacy_set_token, LegacySetToken, "Q-7");
    vary!(token_check, TokenCheck, "Q-8");
    vary!(access_check, AccessCheck, "Q-9");
    vary!(integrity_reads, IntegrityReads, "Q-10");
    vary!(identify_on_set_token, IdentifyOnSetToken, "Q-11");
    vary!(service_proxy_credentials, ServiceProxyCredentials, "Q-12");
    if real.hresult.is_failure()
        && real.hresult != base.denial.get()
        && let Ok(code) = crate::profile::FailureCode::new(real.hresult)
    {
        let mut k = base;
        k.denial = code;
        variants.push((format!("Q-5={}", real.hresult), profile.with_knobs(k)));
    }
    variants
        .into_iter()
        .filter(|(_, variant)| {
            model_answers(*variant, cast, scenario)
                .get(at)
                .is_some_and(|(a, _)| a == real)
        })
        .map(|(name, _)| name)
        .collect()
}

/// The release the model uses for this machine (A-3), from `CurrentBuildNumber`
/// (`GetVersionEx` lies without a manifest): before 7600 no interface, before 14393 the
/// legacy rules, before 17763 those of 1607, then 1809's. `None` when the build is unknown.
pub fn detect_release() -> (Option<u32>, Release) {
    let build = windows_build();
    let release = match build {
        Some(b) if b < 7600 => Release::PreBits4,
        Some(b) if b < 14393 => Release::Legacy,
        Some(b) if b < 17763 => Release::Win10_1607,
        _ => Release::LATEST,
    };
    (build, release)
}

fn windows_build() -> Option<u32> {
    let mut buf = [0u16; 32];
    let mut size = u32::try_from(core::mem::size_of_val(&buf)).ok()?;
    // SAFETY: `buf` is writable for `size` bytes; `size` is a live in/out parameter.
    let status = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            w!(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"),
            w!("CurrentBuildNumber"),
            RRF_RT_REG_SZ,
            None,
            Some(buf.as_mut_ptr().cast()),
            Some(&mut size),
        )
    };
    if status != ERROR_SUCCESS {
        return None;
    }
    String::from_utf16_lossy(&buf)
        .trim_end_matches('\0')
        .trim()
        .parse()
        .ok()
}
