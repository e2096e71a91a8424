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

mod ntlm;
mod providers;
mod roles;
mod serve;

pub use ntlm::Presented;
pub use providers::{ModelObject, Provider, ProviderJob, RealBits};
pub use roles::{Cast, OTHER_USER_VARIABLES, Role};
pub use serve::FileServer;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use windows::Win32::Foundation::ERROR_SUCCESS;
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_TOKEN, IBitsTokenOptions,
};
use windows::Win32::Security::{LookupAccountNameW, PSID, SID_NAME_USE};
use windows::Win32::System::Com::CoTaskMemFree;
use windows::Win32::System::Registry::{HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW};
use windows::core::{HSTRING, PCWSTR, PWSTR, w};

use crate::calibration::{
    self, Answer, CalibrateError, Played, Report, Scenario, Setup, Skipped, Step,
};
use crate::decide::Principal;
use crate::hresult::HResult;
use crate::profile::{Profile, Release};
use crate::sid::Sid;
use crate::windows::WindowsSid;

/// Plays `scenarios` against `provider`, the model answering under `profile` with the
/// identities `cast` gives; `build` is the machine's (for the report). A scenario that
/// transfers is played only when `serve` is set: each then gets its own local server
/// ([`FileServer`]), challenging as its setup says.
pub fn run(
    provider: &dyn Provider,
    profile: Profile,
    build: Option<u32>,
    cast: &Cast,
    serve: bool,
    scenarios: &[Scenario],
) -> Result<Report, CalibrateError> {
    let mut report = Report::new(provider.name(), build, profile.release);
    let mut unavailable = false;
    for scenario in scenarios {
        if unavailable {
            report.skipped.push(Skipped::new(
                scenario.name,
                "the provider has no IBitsTokenOptions (E_NOINTERFACE, A-2)".to_string(),
            ));
            continue;
        }
        let oracle = match scenario.oracle(profile, cast) {
            Ok(oracle) => oracle,
            Err(why) => {
                report.skipped.push(Skipped::new(scenario.name, why));
                continue;
            }
        };
        let server = match (scenario.setup, serve) {
            (Setup::Empty, _) => None,
            (_, false) => {
                report.skipped.push(Skipped::new(
                    scenario.name,
                    "it transfers, and no local file server runs".to_string(),
                ));
                continue;
            }
            (setup, true) => match server_for(setup) {
                Ok(server) => Some(server),
                Err(e) => {
                    let why = format!("cannot start the local file server: {e}");
                    report.skipped.push(Skipped::new(scenario.name, why));
                    continue;
                }
            },
        };
        match play(provider, cast, scenario, server.as_ref()) {
            Ok(real) => {
                unavailable = real.iter().zip(scenario.steps).any(|(answer, step)| {
                    matches!(step, Step::QueryInterface { .. })
                        && answer.hresult == HResult::E_NOINTERFACE
                });
                report.push(Played::compare(scenario, oracle, real)?);
            }
            Err(why) => report.skipped.push(Skipped::new(scenario.name, why)),
        }
    }
    Ok(report)
}

/// The local server a transfer scenario's setup asks for.
fn server_for(setup: Setup) -> std::io::Result<FileServer> {
    match setup {
        Setup::Challenged { target, offers } => FileServer::challenging(target, offers),
        _ => FileServer::start(),
    }
}

fn ok() -> Answer {
    Answer::bare(HResult::S_OK)
}

/// The provider's answers to one scenario, one per step.
fn play(
    provider: &dyn Provider,
    cast: &Cast,
    scenario: &Scenario,
    server: Option<&FileServer>,
) -> Result<Vec<Answer>, String> {
    let token = |r: Role| {
        cast.windows_token(r)
            .map_err(|why| format!("role {r}: {why}"))
    };
    let owner = token(scenario.owner)?;
    let as_owner = |what: &str| {
        owner
            .impersonate()
            .map_err(|e| format!("cannot impersonate the owner for {what}: {e}"))
    };
    let job = {
        let guard = as_owner("CreateJob")?;
        let (url, proxy) = (
            server.map(FileServer::url),
            server.and_then(FileServer::proxy),
        );
        let job = provider.create_job(url.as_deref(), proxy.as_deref());
        drop(guard);
        job.map_err(|hr| format!("the provider could not create a job: {hr}"))?
    };
    let mut handles: Vec<Option<IBitsTokenOptions>> = Vec::new();
    let mut answers = Vec::new();
    for step in scenario.steps {
        let slot = step.handle();
        if handles.len() <= slot {
            handles.resize(slot + 1, None);
        }
        let real = match *step {
            Step::Cancel => Answer::bare(job.cancel()),
            Step::Resume => Answer::bare(job.resume()),
            Step::Transfer => job.wait_for_transfer(),
            Step::SetImplicitCredentials { target, scheme } => {
                let guard = as_owner("SetCredentials")?;
                let hr = job.set_implicit_credentials(target, scheme);
                drop(guard);
                Answer::bare(hr)
            }
            Step::Presented { .. } => {
                let server = server.ok_or("a scenario without a server asks who answered it")?;
                Answer::ok(account(server.presented()))
            }
            Step::TakeOwnership { by } => {
                let t = token(by)?;
                let guard = t
                    .impersonate()
                    .map_err(|e| format!("impersonate {by}: {e}"))?;
                let hr = job.take_ownership();
                drop(guard);
                Answer::bare(hr)
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
                        Answer::bare(hr)
                    }
                }
            }
            other => match &handles[slot] {
                None => Answer::no_handle(),
                Some(h) => call(h, other, cast)?,
            },
        };
        answers.push(real);
    }
    drop(handles);
    drop(job);
    Ok(answers)
}

/// Who answered a challenge, as [`Step::Presented`] reports it: `none`; `anonymous` for an
/// empty user name; `computer` for a computer account (`NAME$`); else the account's SID
/// (`LookupAccountNameW`), or `account DOMAIN\user` when this machine cannot name it.
/// The words are the model's ([`calibration::presented`](crate::calibration)).
fn account(presented: Option<Presented>) -> String {
    let Some(who) = presented else {
        return calibration::presented(Principal::Unanswered, None);
    };
    if who.user.is_empty() {
        return calibration::presented(Principal::Anonymous, None);
    }
    if who.user.ends_with('$') {
        return calibration::presented(Principal::Computer, None);
    }
    let name = if who.domain.is_empty() {
        who.user.clone()
    } else {
        format!("{}\\{}", who.domain, who.user)
    };
    lookup_sid(&name).map_or_else(
        || format!("account {name}"),
        |sid| calibration::presented(Principal::Owner, Some(sid)),
    )
}

/// The SID of the account `name` names on this machine.
fn lookup_sid(name: &str) -> Option<Sid> {
    let name = HSTRING::from(name);
    let mut sid = [0u8; crate::sid::MAX_BINARY_LEN];
    let mut sid_len = sid.len() as u32;
    let mut domain = [0u16; 256];
    let mut domain_len = domain.len() as u32;
    let mut kind = SID_NAME_USE::default();
    // SAFETY: `name` is NUL-terminated and outlives the call; `sid` and `domain` are
    // writable for the lengths passed with them (bytes, characters); every out-parameter
    // is a live local.
    unsafe {
        LookupAccountNameW(
            PCWSTR::null(),
            &name,
            Some(PSID(sid.as_mut_ptr().cast())),
            &mut sid_len,
            Some(PWSTR(domain.as_mut_ptr())),
            &mut domain_len,
            &mut kind,
        )
    }
    .ok()?;
    // SAFETY: LookupAccountNameW succeeded, so `sid` holds a valid SID of `sid_len` bytes,
    // which lives until this call returns.
    unsafe { WindowsSid::read(PSID(sid.as_mut_ptr().cast())) }.ok()
}

/// One method call through the provider's interface.
fn call(h: &IBitsTokenOptions, step: Step, cast: &Cast) -> Result<Answer, String> {
    let answer = |r: windows::core::Result<String>| match r {
        Ok(value) => Answer {
            hresult: HResult::S_OK,
            value,
        },
        Err(e) => Answer::bare(HResult::from(e)),
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
                .windows_token(helper)
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
        _ => Answer::bare(HResult::E_FAIL),
    })
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
