//! The live mode (Windows, feature `windows`): this machine's jobs, read through BITS
//! without changing any, as the doctor's input lines. What BITS does not answer is written
//! in `"unknown"` with why, and the model is given a stand-in value for it that the
//! diagnosis marks (its `depends_on_unknown`).

use bits_helper_token::doctor::{Fact, Input};
use bits_helper_token::scenario::Scenario;
use bits_helper_token::token::TokenInfo;
use bits_helper_token::windows::WindowsToken;
use bits_helper_token::windows::conformance::detect_release;
use bits_helper_token::windows::jobs::{
    self, BitsJobs, JobReading, Logon, RPC_X_BAD_STUB_DATA, describe,
};
use bits_helper_token::{HResult, Identity, TokenUsage, profile::Release};
use std::collections::BTreeMap;

/// The jobs the caller may see (every user's when it is an administrator), each as an
/// input line whose caller is the process's token.
pub fn read_jobs() -> Result<Vec<Input>, String> {
    let _ = jobs::initialize_com();
    let token = WindowsToken::caller().map_err(|e| format!("the caller's token: {e}"))?;
    let caller = token.snapshot();
    let admin = Identity::of(&token).admin;
    let bits = BitsJobs::connect().map_err(|e| format!("BITS: {}", describe(e)))?;
    let readings = match bits.read(admin) {
        Ok(r) => r,
        // Not allowed every user's jobs after all: the caller's own.
        Err(_) if admin => bits
            .read(false)
            .map_err(|e| format!("EnumJobs: {}", describe(e)))?,
        Err(e) => return Err(format!("EnumJobs: {}", describe(e))),
    };
    let (build, release) = detect_release();
    Ok(readings
        .iter()
        .map(|r| input_of(r, &caller, release, build))
        .collect())
}

/// What BITS answered, or `None` with `fact` marked unknown: the call and how it failed.
fn known<T>(
    unknown: &mut BTreeMap<Fact, String>,
    fact: Fact,
    call: &str,
    read: Result<T, HResult>,
) -> Option<T> {
    read.map_err(|e| unknown.insert(fact, format!("{call}: {}", describe(e))))
        .ok()
}

/// One job as an input line.
fn input_of(r: &JobReading, caller: &TokenInfo, release: Release, build: Option<u32>) -> Input {
    let mut unknown: BTreeMap<Fact, String> = BTreeMap::new();
    let mut notes: Vec<String> = Vec::new();
    let mut s = Scenario::new("owner");
    s.release = release;
    s.tokens.insert("caller".into(), caller.clone());
    let owner_sid = match r.owner {
        Ok(sid) => Some(sid),
        Err(e) => {
            unknown.insert(
                Fact::Owner,
                format!("GetOwner: {} (stand-in: the caller's SID)", describe(e)),
            );
            None
        }
    };
    let owner = match owner_sid {
        Some(sid) if sid == caller.user => caller.clone(),
        Some(sid) => TokenInfo::new(sid, Vec::new()),
        None => TokenInfo::new(caller.user, Vec::new()),
    };
    s.tokens.insert("owner".into(), owner);
    s.job.owner_elevated = known(
        &mut unknown,
        Fact::OwnerElevated,
        "GetOwnerElevationState",
        r.owner_elevated,
    );
    s.job.owner_integrity = known(
        &mut unknown,
        Fact::OwnerIntegrity,
        "GetOwnerIntegrityLevel",
        r.owner_integrity,
    );
    match owner_sid {
        Some(sid) if sid.is_service_account() => {} // always logged on (L-11)
        Some(sid) => match jobs::logon_of(&sid) {
            Ok(Logon::Interactive) => s.job.owner_logged_on = Some(true),
            Ok(Logon::NotInteractive | Logon::None) => s.job.owner_logged_on = Some(false),
            Ok(_) => {
                unknown.insert(
                    Fact::OwnerLoggedOn,
                    "LSA: an Interactive session (the console or a RunAs) or a session that \
                     could not be read"
                        .into(),
                );
            }
            Err(e) => {
                unknown.insert(
                    Fact::OwnerLoggedOn,
                    format!("LsaEnumerateLogonSessions: {}", describe(e)),
                );
            }
        },
        None => {
            unknown.insert(Fact::OwnerLoggedOn, "the owner is unknown".into());
        }
    }
    match r.state {
        Ok(state) => s.job.state = state,
        Err(e) => notes.push(format!("GetState: {} (shown as suspended)", describe(e))),
    }
    match r.error {
        Ok(Some((code, context))) => {
            s.job.error = Some(code);
            notes.push(format!("error context {context}"));
        }
        Ok(None) => {}
        Err(e) => notes.push(format!("GetError: {}", describe(e))),
    }
    if let Some(t) = known(&mut unknown, Fact::Type, "GetType", r.job_type) {
        s.job.job_type = t;
    }
    match &r.remotes {
        Ok(remotes) if remotes.is_empty() => {
            s.job.has_file = false;
            unknown.insert(Fact::Remote, "the job holds no file".into());
        }
        Ok(remotes) => match remotes[0] {
            Some(remote) => s.job.remote = remote,
            None => {
                unknown.insert(
                    Fact::Remote,
                    "a remote name that is not http, https or SMB".into(),
                );
            }
        },
        Err(e) => {
            unknown.insert(
                Fact::Remote,
                format!("EnumFiles/GetRemoteName: {}", describe(*e)),
            );
        }
    }
    if let Some(p) = known(&mut unknown, Fact::Proxy, "GetProxySettings", r.proxy) {
        s.job.proxy = p;
    }
    match r.client_certificate {
        Ok(present) => s.job.client_certificate = present,
        Err(e) if e == RPC_X_BAD_STUB_DATA => {
            unknown.insert(
                Fact::ClientCertificate,
                format!(
                    "GetClientCertificate: {}: no certificate, or no permission to it",
                    describe(e)
                ),
            );
        }
        Err(e) => {
            unknown.insert(
                Fact::ClientCertificate,
                format!("GetClientCertificate: {}", describe(e)),
            );
        }
    }
    if let Some(b) = known(
        &mut unknown,
        Fact::UseStoredCredentials,
        "GetProperty(USE_STORED_CREDENTIALS)",
        r.use_stored_credentials,
    ) {
        s.job.use_stored_credentials = b && release != Release::PreBits4;
    }
    if let Ok(cost) = r.cost_flags {
        notes.push(format!("cost flags {cost:#010x}"));
    }
    match r.token_options {
        Ok((flags, helper)) => {
            s.job.flags = (flags & TokenUsage::all()).bits();
            if let Some(sid) = helper {
                s.tokens
                    .insert("helper".into(), TokenInfo::new(sid, Vec::new()));
                s.job.helper_token = Some("helper".into());
            }
        }
        Err(e) => {
            let why = format!("IBitsTokenOptions: {}", describe(e));
            unknown.insert(Fact::Flags, why.clone());
            unknown.insert(Fact::HelperToken, why);
            if e == HResult::E_NOINTERFACE && release != Release::PreBits4 {
                let build = build.map_or_else(|| "unknown".to_string(), |b| b.to_string());
                unknown.insert(
                    Fact::Release,
                    format!(
                        "QueryInterface(IBitsTokenOptions) answers E_NOINTERFACE on build \
                         {build}: this BITS is older than 4.0 or not Windows'"
                    ),
                );
            }
        }
    }
    unknown.insert(
        Fact::Credentials,
        "BITS has no getter for a job's credentials".into(),
    );
    unknown.insert(
        Fact::Challenges,
        "what the server and the proxy challenge with is seen only during a transfer".into(),
    );
    let mut input = Input::new(s, "caller");
    let mut label = format!("{} {:?}", r.id, r.name());
    if !notes.is_empty() {
        label.push_str(&format!(" ({})", notes.join("; ")));
    }
    input.label = Some(label);
    input.unknown = unknown;
    input
}
