//! An independent reference for the helper-token rules, written straight from
//! `../shared/SPEC.md` as **tables**, to hold the model to it.
//!
//! It shares no code with the model. From the crate it takes only plain data: `Sid` (built
//! with `Sid::new` from the numbers of T-3), `HResult` (built with `HResult::from_u32` from
//! the numbers of T-6), `TokenInfo`/`Group` (read field by field: T-5 is recomputed here
//! from the raw attribute bits of T-4), the vocabulary enums (`Release`, the Q-knob enums,
//! `JobState`, `JobType`, `Remote`, `Access`, `AuthTarget`, `AuthScheme`, `Credential`,
//! `ProxyUsage`, `UseLmCompat`, `ImpersonationLevel`, `LogonType`, `NetworkState`,
//! `StartTo`), `Profile`'s public fields and the `Scenario`/`Step`/`JobSpec` data (a
//! `Credentials` or `Challenges` value of the scenario is read with its plain `get`/`asks`
//! accessors, cell by cell).
//! It never calls a decision function, `Job`, `route`, `transfer_plan`, `Scenario::run`,
//! `Token::has_admin_enabled`, `Identity::of`, nor the crate's helper predicates
//! (`is_done`, `is_http`, `uses_proxy`, `has_owner_rules`, `unknown_bits`, `applies_to`,
//! `Credentials::has_implicit`, …): every such fact has a row in a table below.
//!
//! Where the SPEC is silent, the reference follows a choice the crate *documents*
//! (`docs/rules.md`, rustdoc of `route`, `job`, `scenario`, `Knobs`); each such place is
//! marked **Documented choice** with the reason. Everything else is the SPEC's own text.

#![allow(dead_code)]

use bits_helper_token::decide::StartTo;
use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::{
    Access, HResult, JobState, Profile, Sid, job::JobType, job::Remote, net::AuthScheme,
    net::AuthTarget, net::Credential, net::IeSettings, net::NetworkState, net::ProxyUsage,
    net::UseLmCompat, profile::AccessCheck, profile::AdminBypass, profile::DoneJobs,
    profile::IdentifyOnSetToken, profile::IntegrityReads, profile::LegacySetToken,
    profile::Release, profile::ServiceProxyCredentials, profile::TakeOwnership,
    profile::TokenCheck, profile::UnknownFlags, token::ImpersonationLevel, token::IntegrityLevel,
    token::LogonType, token::TokenInfo,
};
use std::collections::BTreeMap;

// =======================================================================================
// T: facts
// =======================================================================================

/// T-1: `BG_TOKEN_LOCAL_FILE`.
pub const LOCAL_FILE: u32 = 0x0001;
/// T-1: `BG_TOKEN_NETWORK`.
pub const NETWORK: u32 = 0x0002;
/// T-1: the only known bits; any other bit is unknown (Q-1).
pub const KNOWN_FLAGS: u32 = LOCAL_FILE | NETWORK;

/// T-4: `SE_GROUP_ENABLED`.
const SE_GROUP_ENABLED: u32 = 0x4;
/// T-4: `SE_GROUP_USE_FOR_DENY_ONLY`.
const SE_GROUP_USE_FOR_DENY_ONLY: u32 = 0x10;

/// T-6, by number.
pub mod hr {
    use bits_helper_token::HResult;
    pub const S_OK: HResult = HResult::from_u32(0x0000_0000);
    pub const S_FALSE: HResult = HResult::from_u32(0x0000_0001);
    pub const BG_S_PARTIAL_COMPLETE: HResult = HResult::from_u32(0x0020_0017);
    pub const E_NOTIMPL: HResult = HResult::from_u32(0x8000_4001);
    pub const E_NOINTERFACE: HResult = HResult::from_u32(0x8000_4002);
    pub const E_ACCESSDENIED: HResult = HResult::from_u32(0x8007_0005);
    pub const E_INVALIDARG: HResult = HResult::from_u32(0x8007_0057);
    pub const CO_E_FAILEDTOIMPERSONATE: HResult = HResult::from_u32(0x8001_0123);
    pub const BG_E_INVALID_STATE: HResult = HResult::from_u32(0x8020_0002);
    pub const BG_E_EMPTY: HResult = HResult::from_u32(0x8020_0003);
    pub const BG_E_NETWORK_DISCONNECTED: HResult = HResult::from_u32(0x8020_0010);
    pub const BG_E_TOO_MANY_FILES: HResult = HResult::from_u32(0x8020_001C);
    /// `HRESULT_FROM_WIN32(ERROR_NOT_LOGGED_ON)`, Win32 1245.
    pub const ERROR_NOT_LOGGED_ON: HResult = HResult::from_u32((1245 & 0xFFFF) | 0x8007_0000);
    /// `HRESULT_FROM_WIN32(ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED)`, Win32 12044.
    pub const CERT_NEEDED: HResult = HResult::from_u32((12044 & 0xFFFF) | 0x8007_0000);
    pub const BG_E_TOKEN_REQUIRED: HResult = HResult::from_u32(0x8020_0056);
    pub const BG_E_HTTP_ERROR_401: HResult = HResult::from_u32(0x8019_0191);
    pub const BG_E_HTTP_ERROR_407: HResult = HResult::from_u32(0x8019_0197);
    /// `HRESULT_FROM_WIN32(12186)`.
    pub const CERT_NO_ACCESS_PRIVATE_KEY: HResult =
        HResult::from_u32((12186 & 0xFFFF) | 0x8007_0000);
}

/// T-3: a SID in the NT authority (5).
fn nt(subs: &[u32]) -> Sid {
    Sid::new(5, subs).expect("T-3 SIDs are valid")
}
/// T-3: LocalSystem `S-1-5-18`.
pub fn local_system() -> Sid {
    nt(&[18])
}
/// T-3: LocalService `S-1-5-19`.
pub fn local_service() -> Sid {
    nt(&[19])
}
/// T-3: NetworkService `S-1-5-20`.
pub fn network_service() -> Sid {
    nt(&[20])
}
/// T-3: BUILTIN\Administrators `S-1-5-32-544`.
pub fn administrators() -> Sid {
    nt(&[32, 0x220])
}

/// T-5: one of the token's groups is `S-1-5-32-544` with `SE_GROUP_ENABLED` set and
/// `SE_GROUP_USE_FOR_DENY_ONLY` clear. The user SID never counts.
pub fn has_admin_enabled(token: &TokenInfo) -> bool {
    let admins = administrators();
    token.groups.iter().any(|g| {
        let bits = g.attributes.bits();
        g.sid == admins && bits & SE_GROUP_ENABLED != 0 && bits & SE_GROUP_USE_FOR_DENY_ONLY == 0
    })
}

/// T-4: `SE_GROUP_INTEGRITY`.
const SE_GROUP_INTEGRITY: u32 = 0x20;

/// T-8: the mandatory levels, by rid (levels compare by their rid).
#[rustfmt::skip]
const LEVELS: [(IntegrityLevel, u32); 7] = [
    (IntegrityLevel::Untrusted,  0x0000),
    (IntegrityLevel::Low,        0x1000),
    (IntegrityLevel::Medium,     0x2000),
    (IntegrityLevel::MediumPlus, 0x2100),
    (IntegrityLevel::High,       0x3000),
    (IntegrityLevel::System,     0x4000),
    (IntegrityLevel::Protected,  0x5000),
];

/// T-8: the rid of a named level.
pub fn level_rid(level: IntegrityLevel) -> u32 {
    LEVELS
        .iter()
        .find(|(l, _)| *l == level)
        .unwrap_or_else(|| panic!("no row for {level:?}"))
        .1
}

/// Documented choice (`IntegrityLevel::from_rid`): a label rid between two named levels
/// counts as the named level below it.
fn named_rid(rid: u32) -> u32 {
    LEVELS
        .iter()
        .rev()
        .find(|(_, r)| *r <= rid)
        .map_or(0, |(_, r)| *r)
}

/// T-8: the label among the groups — `S-1-16-<rid>` with `SE_GROUP_INTEGRITY`.
fn label(token: &TokenInfo) -> Option<u32> {
    token.groups.iter().find_map(|g| {
        let subs = g.sid.sub_authorities();
        (g.sid.authority() == 16
            && subs.len() == 1
            && g.attributes.bits() & SE_GROUP_INTEGRITY != 0)
            .then(|| named_rid(subs[0]))
    })
}

/// T-3: the three service accounts.
pub fn is_service_account(sid: Sid) -> bool {
    sid == local_system() || sid == local_service() || sid == network_service()
}

/// T-8's inference: System for the service accounts, High with the administrators SID
/// enabled, Medium otherwise.
fn inferred_rid(sid: Sid, admin: bool) -> u32 {
    if is_service_account(sid) {
        0x4000
    } else if admin {
        0x3000
    } else {
        0x2000
    }
}

/// What the rules read of a token: its user SID, T-5, T-9 and T-8 (what QueryInterface
/// remembers, A-1; what the job keeps of its owner and of a helper token).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Who {
    pub sid: Sid,
    pub admin: bool,
    /// T-9.
    pub elevated: bool,
    /// T-8, as a rid.
    pub integrity: u32,
    /// T-11: the token lists restricting SIDs.
    pub restricted: bool,
}

impl Who {
    /// The user, T-5, and T-9/T-8 as the token states them, else inferred.
    pub fn of(token: &TokenInfo) -> Who {
        let admin = has_admin_enabled(token);
        Who {
            sid: token.user,
            admin,
            // T-9: stated, else elevated exactly when T-5 holds.
            elevated: token.elevated.unwrap_or(admin),
            // T-8: stated, else the label among the groups, else inferred.
            integrity: token
                .integrity
                .map(level_rid)
                .or_else(|| label(token))
                .unwrap_or_else(|| inferred_rid(token.user, admin)),
            // T-11: restricted when it lists restricting SIDs (deny-only groups are not).
            restricted: !token.restricting_sids.is_empty(),
        }
    }

    /// A plain identity with T-8's and T-9's inferences.
    pub fn plain(sid: Sid, admin: bool) -> Who {
        Who {
            sid,
            admin,
            elevated: admin,
            integrity: inferred_rid(sid, admin),
            restricted: false,
        }
    }
}

/// T-10: the impersonation levels, (level, `RPC_C_IMP_LEVEL_*` value, the server may act as
/// the client). A-9: ANONYMOUS refuses every call; IDENTIFY suffices except where the call
/// impersonates (SetHelperToken; SetProperty by the SPEC's reading).
#[rustfmt::skip]
const T10: [(ImpersonationLevel, u32, bool); 4] = [
    (ImpersonationLevel::Anonymous,   1, false),
    (ImpersonationLevel::Identify,    2, false),
    (ImpersonationLevel::Impersonate, 3, true),
    (ImpersonationLevel::Delegate,    4, true),
];

/// T-10: the model's default level is IMPERSONATE.
pub const DEFAULT_LEVEL: ImpersonationLevel = ImpersonationLevel::Impersonate;

fn level_row(level: ImpersonationLevel) -> (ImpersonationLevel, u32, bool) {
    *T10.iter()
        .find(|r| r.0 == level)
        .unwrap_or_else(|| panic!("no row for level {level:?}"))
}

/// T-10 / A-9: ANONYMOUS.
pub fn is_anonymous(level: ImpersonationLevel) -> bool {
    level_row(level).1 == 1
}

/// T-10 / A-9: IMPERSONATE or DELEGATE.
pub fn can_impersonate(level: ImpersonationLevel) -> bool {
    level_row(level).2
}

/// L-11: which logon types count as "logged on", per release (a bit set of the release
/// classes below). `service` counts only for the service accounts, which are always logged
/// on anyway; RunAs (secondary), batch and other network logons never count;
/// Remote PowerShell from 1607.
#[rustfmt::skip]
const L11: [(LogonType, u32); 6] = [
    (LogonType::Interactive,      PRE_BITS4 | LEGACY | W1607 | W1809),
    (LogonType::RemotePowershell, W1607 | W1809),
    (LogonType::Secondary,        0),
    (LogonType::Batch,            0),
    (LogonType::Network,          0),
    (LogonType::Service,          0),
];

/// L-11: the logon type a token states, or its default (`service` for the service
/// accounts, else `interactive`).
pub fn logon_of(token: &TokenInfo) -> LogonType {
    token.logon.unwrap_or(if is_service_account(token.user) {
        LogonType::Service
    } else {
        LogonType::Interactive
    })
}

/// L-11: whether a token's logon makes its user logged on under this release.
pub fn logon_counts(release: Release, token: &TokenInfo) -> bool {
    if is_service_account(token.user) {
        return true;
    }
    let logon = logon_of(token);
    L11.iter()
        .find(|r| r.0 == logon)
        .unwrap_or_else(|| panic!("no row for logon {logon:?}"))
        .1
        & release_class(release)
        != 0
}

/// A-11 (SPEC v3): the job access gate's class of a caller on a job of this owner — (a)
/// "the call changes the job and the caller's integrity level is below the job's"; the
/// reads QueryInterface, `GetHelperTokenFlags` and `GetHelperTokenSid` meet (a) "only under
/// Q-10" (`integrity_reads: refuse`); then (b) an elevated owner and a caller that is not
/// elevated, "on reads and changes".
fn gate_class(caller: Who, owner: Who, call: GateCall) -> u32 {
    let lower = caller.integrity < owner.integrity;
    match call {
        GateCall::Change if lower => return GATE_INTEGRITY,
        GateCall::Read { integrity_refuses } if lower && integrity_refuses => {
            return GATE_INTEGRITY_READ;
        }
        _ => {}
    }
    if owner.elevated && !caller.elevated {
        GATE_ELEVATION
    } else {
        GATE_PASSES
    }
}

/// What A-11 sees of a call: a change, or one of the three reads with Q-10's setting.
#[derive(Clone, Copy)]
enum GateCall {
    Change,
    Read { integrity_refuses: bool },
}

impl GateCall {
    fn read(profile: &Profile) -> GateCall {
        GateCall::Read {
            integrity_refuses: profile.knobs.integrity_reads == IntegrityReads::Refuse,
        }
    }
}

/// T-7, one row per state, with the lifecycle columns the rules and the crate's
/// documented event choices read.
struct StateRow {
    state: JobState,
    /// T-7: `BG_JOB_STATE` value.
    value: u32,
    /// T-7 / Q-3: ACKNOWLEDGED or CANCELLED.
    done: bool,
    /// L-5: TRANSFERRED, ACKNOWLEDGED or CANCELLED.
    finished: bool,
    /// L-9: SUSPENDED, ERROR and TRANSIENT_ERROR are queued again; QUEUED, CONNECTING,
    /// TRANSFERRING and TRANSFERRED answer `S_OK` and nothing changes.
    resume_queues: bool,
    /// **Documented choice** (`Job::transfer`): a transfer runs from QUEUED, CONNECTING,
    /// TRANSFERRING and TRANSIENT_ERROR; any other job answers `S_FALSE`.
    transfer_runs: bool,
}

#[rustfmt::skip]
const STATES: [StateRow; 9] = [
    //                                     value  done   finished resume_queues transfer_runs
    StateRow { state: JobState::Queued,         value: 0, done: false, finished: false, resume_queues: false, transfer_runs: true  },
    StateRow { state: JobState::Connecting,     value: 1, done: false, finished: false, resume_queues: false, transfer_runs: true  },
    StateRow { state: JobState::Transferring,   value: 2, done: false, finished: false, resume_queues: false, transfer_runs: true  },
    StateRow { state: JobState::Suspended,      value: 3, done: false, finished: false, resume_queues: true,  transfer_runs: false },
    StateRow { state: JobState::Error,          value: 4, done: false, finished: false, resume_queues: true,  transfer_runs: false },
    StateRow { state: JobState::TransientError, value: 5, done: false, finished: false, resume_queues: true,  transfer_runs: true  },
    StateRow { state: JobState::Transferred,    value: 6, done: false, finished: true,  resume_queues: false, transfer_runs: false },
    StateRow { state: JobState::Acknowledged,   value: 7, done: true,  finished: true,  resume_queues: false, transfer_runs: false },
    StateRow { state: JobState::Cancelled,      value: 8, done: true,  finished: true,  resume_queues: false, transfer_runs: false },
];

fn state_row(state: JobState) -> &'static StateRow {
    STATES
        .iter()
        .find(|r| r.state == state)
        .expect("T-7 lists every state")
}

/// T-7: the numeric value of a state.
pub fn state_value(state: JobState) -> u32 {
    state_row(state).value
}

/// Every state of T-7.
pub fn all_states() -> [JobState; 9] {
    STATES.map(|r| r.state)
}

// =======================================================================================
// A, Q: the five methods, as one decision table
// =======================================================================================

/// The methods of `IBitsTokenOptions` (column `method`, a bit each).
pub const SET_FLAGS: u32 = 1 << 0;
pub const GET_FLAGS: u32 = 1 << 1;
pub const SET_TOKEN: u32 = 1 << 2;
pub const CLEAR: u32 = 1 << 3;
pub const GET_SID: u32 = 1 << 4;
/// Q-3: the three mutating methods.
const MUTATING: u32 = SET_FLAGS | SET_TOKEN | CLEAR;
/// Every method but `SetHelperToken` (whose refusals always use `E_ACCESSDENIED`, Q-5).
const NOT_SET_TOKEN: u32 = SET_FLAGS | GET_FLAGS | CLEAR | GET_SID;

// Column `release` (A-2, A-3).
const PRE_BITS4: u32 = 1 << 0;
const LEGACY: u32 = 1 << 1;
const W1607: u32 = 1 << 2;
const W1809: u32 = 1 << 3;
/// A-3: 1809 has the A-rules of 1607.
const OWNER_RULES: u32 = W1607 | W1809;

// Boolean columns.
const YES: u32 = 1 << 0;
const NO: u32 = 1 << 1;

// Column `bypass` (Q-2).
const SKIP_ALL: u32 = 1 << 0;
const SKIP_OWNER_RULE: u32 = 1 << 1;
const SKIP_NOTHING: u32 = 1 << 2;

// Column `gate` (A-11).
const GATE_PASSES: u32 = 1 << 0;
const GATE_INTEGRITY: u32 = 1 << 1;
const GATE_ELEVATION: u32 = 1 << 2;
const GATE_INTEGRITY_READ: u32 = 1 << 3;

// Column `legacy_set` (Q-7).
const CALLER_AND_OWNER: u32 = 1 << 0;
const CALLER_ONLY: u32 = 1 << 1;
const OWNER_ONLY: u32 = 1 << 2;

// Column `stored` (the helper token on the job, A-6).
const NO_TOKEN: u32 = 1 << 0;
const ADMIN_TOKEN: u32 = 1 << 1;
const USER_TOKEN: u32 = 1 << 2;

// Column `new_token` (SetHelperToken's impersonated token, A-7, A-9).
const NEW_ADMIN: u32 = 1 << 0;
const NEW_USER: u32 = 1 << 1;
const CANNOT_IMPERSONATE: u32 = 1 << 2;
const NOT_SETTING_TOKEN: u32 = 1 << 3;
/// A-9 under Q-11 `access_denied`: the same client, refused with `E_ACCESSDENIED`.
const CANNOT_IMPERSONATE_Q11: u32 = 1 << 4;

// Column `level` (A-9, T-10).
const ANON: u32 = 1 << 0;
const IDENT: u32 = 1 << 1;
const IMPERS: u32 = 1 << 2;

// Column `restricted` (A-14) uses YES/NO.

// Column `state` (Q-3).
const DONE: u32 = 1 << 0;
const NOT_DONE: u32 = 1 << 1;

// Column `done_knob` (Q-3).
const REFUSE_DONE: u32 = 1 << 0;
const ALLOW_DONE: u32 = 1 << 1;

// Column `flags` (SetHelperTokenFlags' argument, T-1, Q-1).
const KNOWN_BITS: u32 = 1 << 0;
const UNKNOWN_BITS: u32 = 1 << 1;
const NOT_SETTING_FLAGS: u32 = 1 << 2;

// Column `unknown_knob` (Q-1).
const INVALIDARG: u32 = 1 << 0;
const NOTIMPL: u32 = 1 << 1;
const MASK: u32 = 1 << 2;

const ANY: u32 = u32::MAX;

/// The code a refusal returns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Code {
    Fixed(HResult),
    /// Q-5: the knob's code (default `E_ACCESSDENIED`).
    Denial,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    /// The call fails with this code; the rule that refused.
    Refuse(Code, &'static str),
    /// The call succeeds; the rule that granted it (or Q-1 when bits were masked).
    Grant(&'static str),
}

/// One row: every column is a set of classes (`ANY` = don't care). The first row whose
/// every column holds the call's class decides.
#[derive(Clone, Copy)]
struct Row {
    method: u32,
    release: u32,
    level: u32,
    restricted: u32,
    gate: u32,
    caller_admin: u32,
    caller_owns: u32,
    owner_elevated: u32,
    bypass: u32,
    legacy_set: u32,
    stored: u32,
    new_token: u32,
    state: u32,
    done_knob: u32,
    flags: u32,
    unknown_knob: u32,
    verdict: Verdict,
}

const ROW: Row = Row {
    method: ANY,
    release: ANY,
    level: ANY,
    restricted: ANY,
    gate: ANY,
    caller_admin: ANY,
    caller_owns: ANY,
    owner_elevated: ANY,
    bypass: ANY,
    legacy_set: ANY,
    stored: ANY,
    new_token: ANY,
    state: ANY,
    done_knob: ANY,
    flags: ANY,
    unknown_knob: ANY,
    verdict: Verdict::Grant("unset"),
};

const fn refuse(hr: HResult, rule: &'static str) -> Verdict {
    Verdict::Refuse(Code::Fixed(hr), rule)
}
const fn deny(rule: &'static str) -> Verdict {
    Verdict::Refuse(Code::Denial, rule)
}

/// The decision table of the five methods, in the precedence of A-10 (Q-4):
/// availability (A-2) → ANONYMOUS (A-9) → gate (A-11) → restricted (A-14) → owner rule
/// (A-4…A-6, A-8) → job state (Q-3) → arguments (Q-1) → IDENTIFY (A-9) → veto on the new
/// token (A-7) → effect (the granting rule).
#[rustfmt::skip]
const DECISIONS: &[Row] = &[
    // ---- A-2: no interface before BITS 4.0.
    Row { release: PRE_BITS4, verdict: refuse(hr::E_NOINTERFACE, "A-2"), ..ROW },

    // ---- A-9: at ANONYMOUS BITS refuses every call with E_ACCESSDENIED.
    Row { level: ANON, verdict: refuse(hr::E_ACCESSDENIED, "A-9"), ..ROW },

    // ---- A-11: the job access gate, in front of the owner rule (A-10), for every caller:
    // (a) integrity below the job's, (b) an elevated owner and a caller not elevated.
    // Documented (E_ACCESSDENIED); administrators do not bypass it.
    Row { gate: GATE_INTEGRITY | GATE_ELEVATION, verdict: refuse(hr::E_ACCESSDENIED, "A-11"), ..ROW },
    // Q-10 `refuse`: (a) on a read as well; the knob's non-default setting decided it.
    Row { gate: GATE_INTEGRITY_READ, verdict: refuse(hr::E_ACCESSDENIED, "Q-10"), ..ROW },

    // ---- A-14: a restricted caller "cannot create or modify jobs": every call that
    // changes the job refuses it with Q-5's code; the reads pass.
    Row { method: MUTATING, restricted: YES, verdict: deny("A-14"), ..ROW },

    // ---- A-4: before 1607 every method needs an administrator caller. Q-5: the knob's
    // code for the four methods other than SetHelperToken; E_ACCESSDENIED (documented) for
    // SetHelperToken.
    Row { release: LEGACY, method: NOT_SET_TOKEN, caller_admin: NO,
          verdict: deny("A-4"), ..ROW },
    // A-4 second sentence with Q-7: SetHelperToken also needs an elevated owner (T-9);
    // the knob chooses which of the two parties is checked. Caller first (A-4's order).
    Row { release: LEGACY, method: SET_TOKEN, legacy_set: CALLER_AND_OWNER | CALLER_ONLY,
          caller_admin: NO, verdict: refuse(hr::E_ACCESSDENIED, "A-4"), ..ROW },
    Row { release: LEGACY, method: SET_TOKEN, legacy_set: CALLER_AND_OWNER | OWNER_ONLY,
          owner_elevated: NO, verdict: refuse(hr::E_ACCESSDENIED, "A-4"), ..ROW },

    // ---- A-5 / A-8: from 1607 a caller that does not skip the owner rule (Q-2) acts only
    // on its own job. Q-5: the knob's code, for all five methods.
    Row { release: OWNER_RULES, caller_owns: NO, caller_admin: NO,
          verdict: deny("A-5"), ..ROW },
    Row { release: OWNER_RULES, caller_owns: NO, caller_admin: YES,
          bypass: SKIP_NOTHING, verdict: deny("A-5"), ..ROW },

    // ---- A-6: the stored administrator token vetoes SetHelperTokenFlags for callers that
    // do not skip the vetoes (Q-2). Q-5 code. Part of "access" in A-10.
    Row { release: OWNER_RULES, method: SET_FLAGS, stored: ADMIN_TOKEN, caller_admin: NO,
          verdict: deny("A-6"), ..ROW },
    Row { release: OWNER_RULES, method: SET_FLAGS, stored: ADMIN_TOKEN, caller_admin: YES,
          bypass: SKIP_OWNER_RULE | SKIP_NOTHING, verdict: deny("A-6"), ..ROW },

    // ---- Q-3: the mutating methods refuse done jobs (unless the knob allows them).
    Row { method: MUTATING, state: DONE, done_knob: REFUSE_DONE,
          verdict: refuse(hr::BG_E_INVALID_STATE, "Q-3"), ..ROW },

    // ---- Q-1: unknown bits in SetHelperTokenFlags' argument.
    Row { method: SET_FLAGS, flags: UNKNOWN_BITS, unknown_knob: INVALIDARG,
          verdict: refuse(hr::E_INVALIDARG, "Q-1"), ..ROW },
    Row { method: SET_FLAGS, flags: UNKNOWN_BITS, unknown_knob: NOTIMPL,
          verdict: refuse(hr::E_NOTIMPL, "Q-1"), ..ROW },

    // ---- A-9: SetHelperToken cannot impersonate its client.
    Row { method: SET_TOKEN, new_token: CANNOT_IMPERSONATE,
          verdict: refuse(hr::CO_E_FAILEDTOIMPERSONATE, "A-9"), ..ROW },
    // Q-11 `access_denied`: "E_ACCESSDENIED, as the helper-token example page says".
    Row { method: SET_TOKEN, new_token: CANNOT_IMPERSONATE_Q11,
          verdict: refuse(hr::E_ACCESSDENIED, "Q-11"), ..ROW },

    // ---- A-7: from 1607, an administrator token being set is vetoed for callers that do
    // not skip the vetoes (Q-2). A-7 states E_ACCESSDENIED.
    Row { release: OWNER_RULES, method: SET_TOKEN, new_token: NEW_ADMIN, caller_admin: NO,
          verdict: refuse(hr::E_ACCESSDENIED, "A-7"), ..ROW },
    Row { release: OWNER_RULES, method: SET_TOKEN, new_token: NEW_ADMIN, caller_admin: YES,
          bypass: SKIP_OWNER_RULE | SKIP_NOTHING, verdict: refuse(hr::E_ACCESSDENIED, "A-7"), ..ROW },

    // ---- Accepted. The rule reported is the one that let the call through.
    // Q-1 knob `Mask`: the unknown bits are dropped; Q-1 is what decided the stored value.
    Row { method: SET_FLAGS, flags: UNKNOWN_BITS, unknown_knob: MASK,
          verdict: Verdict::Grant("Q-1"), ..ROW },
    // Documented choice (`Rule::LegacyOwnerElevated`): with Q-7 = OwnerOnly the legacy
    // SetHelperToken is let through by Q-7 (the owner), not by A-4 (the caller).
    Row { release: LEGACY, method: SET_TOKEN, legacy_set: OWNER_ONLY,
          verdict: Verdict::Grant("Q-7"), ..ROW },
    Row { release: LEGACY, verdict: Verdict::Grant("A-4"), ..ROW },
    // Documented choice (`docs/rules.md`, rows 10/11 of the `SetHelperTokenFlags` table): an
    // administrator who skips the owner rule is let through by Q-2 even when it also owns the job.
    Row { release: OWNER_RULES, caller_admin: YES, bypass: SKIP_ALL | SKIP_OWNER_RULE,
          verdict: Verdict::Grant("Q-2"), ..ROW },
    Row { release: OWNER_RULES, caller_owns: YES, verdict: Verdict::Grant("A-5"), ..ROW },
];

/// What the methods do when accepted (L-1…L-4): one row per method.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Does {
    /// L-1: store the (known bits of the) argument.
    StoreFlags,
    /// GetHelperTokenFlags: return the stored flags.
    ReturnFlags,
    /// L-2: store the impersonated token.
    StoreToken,
    /// L-3: drop the token, keep the flags.
    DropToken,
    /// L-4: return the stored token's user SID, or NULL.
    ReturnSid,
}

const EFFECTS: [(u32, Does); 5] = [
    (SET_FLAGS, Does::StoreFlags),
    (GET_FLAGS, Does::ReturnFlags),
    (SET_TOKEN, Does::StoreToken),
    (CLEAR, Does::DropToken),
    (GET_SID, Does::ReturnSid),
];

/// X-1, as a table: (client certificate, remote is HTTP(S), NETWORK among the flags,
/// owner is LocalSystem) → the transfer fails with `0x80072F9A`. One failing row; every
/// other combination transfers as far as X-1 is concerned.
const X1: [(bool, bool, bool, bool); 1] = [(true, true, true, false)];

/// The protocol classes (X-1 "over HTTP(S)", R-2 "SMB").
#[rustfmt::skip]
const REMOTES: [(Remote, bool /* HTTP(S) */, bool /* SMB */); 3] = [
    (Remote::Http,  true,  false),
    (Remote::Https, true,  false),
    (Remote::Smb,   false, true),
];

fn remote_is_http(remote: Remote) -> bool {
    REMOTES
        .iter()
        .find(|r| r.0 == remote)
        .expect("every protocol has a row")
        .1
}

fn remote_is_smb(remote: Remote) -> bool {
    REMOTES
        .iter()
        .find(|r| r.0 == remote)
        .expect("every protocol has a row")
        .2
}

/// X-1 for a job with these facts and these flags: HTTPS only (the TLS handshake).
pub fn x1_fails(certificate: bool, remote: Remote, flags: u32, owner: Sid) -> bool {
    let key = (
        certificate,
        remote == Remote::Https,
        flags & NETWORK != 0,
        owner == local_system(),
    );
    X1.contains(&key)
}

/// The facts of a job the five methods read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Facts {
    pub owner: Who,
    pub state: JobState,
    pub flags: u32,
    pub helper: Option<Who>,
    pub certificate: bool,
    pub remote: Remote,
}

/// One call of a method with its argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Call {
    SetFlags(u32),
    GetFlags,
    /// `Some(token)`: the client allows impersonation and impersonates `token`;
    /// `None`: it does not (A-9).
    SetToken(Option<Who>),
    Clear,
    GetSid,
}

/// The change an accepted call makes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Effect {
    None,
    StoreFlags(u32),
    StoreHelper(Who),
    ClearHelper,
}

/// What a getter returns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Value {
    None,
    Flags(u32),
    HelperSid(Option<Sid>),
}

/// The reference's answer to one call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Decision {
    pub hresult: HResult,
    pub rule: &'static str,
    pub effect: Effect,
    pub value: Value,
    /// X-1 for an accepted SetHelperTokenFlags: the job error and the rule.
    pub transfer_failure: Option<(HResult, &'static str)>,
    /// The index of the row of [`DECISIONS`] that decided (to prove every row reachable).
    pub row: usize,
}

/// How many rows the decision table has.
pub fn decision_rows() -> usize {
    DECISIONS.len()
}

fn release_class(release: Release) -> u32 {
    match release {
        Release::PreBits4 => PRE_BITS4,
        Release::Legacy => LEGACY,
        Release::Win10_1607 => W1607,
        Release::Win10_1809 => W1809,
        other => panic!("the reference has no row for release {other:?}"),
    }
}

fn yes_no(b: bool) -> u32 {
    if b { YES } else { NO }
}

/// One method call at the default level (IMPERSONATE, T-10).
pub fn decide(profile: &Profile, caller: Who, job: &Facts, call: Call) -> Decision {
    decide_at(profile, caller, DEFAULT_LEVEL, job, call)
}

/// One method call at this impersonation level (the call's own, A-12), decided by the
/// first matching row of [`DECISIONS`]. `Call::SetToken(None)` is a client that does not
/// allow impersonation: the same class as IDENTIFY (contract: `can_impersonate: false`).
pub fn decide_at(
    profile: &Profile,
    caller: Who,
    level: ImpersonationLevel,
    job: &Facts,
    call: Call,
) -> Decision {
    let knobs = &profile.knobs;
    // A-9: SetHelperToken at IDENTIFY cannot impersonate its client.
    let call = match call {
        Call::SetToken(Some(_)) if !is_anonymous(level) && !can_impersonate(level) => {
            Call::SetToken(None)
        }
        other => other,
    };
    let (method, new_token, flags) = match call {
        Call::SetFlags(f) => (
            SET_FLAGS,
            NOT_SETTING_TOKEN,
            if f & !KNOWN_FLAGS != 0 {
                UNKNOWN_BITS
            } else {
                KNOWN_BITS
            },
        ),
        Call::GetFlags => (GET_FLAGS, NOT_SETTING_TOKEN, NOT_SETTING_FLAGS),
        Call::SetToken(None) => (
            SET_TOKEN,
            match knobs.identify_on_set_token {
                IdentifyOnSetToken::FailedToImpersonate => CANNOT_IMPERSONATE,
                IdentifyOnSetToken::AccessDenied => CANNOT_IMPERSONATE_Q11,
                other => panic!("no column for Q-11 {other:?}"),
            },
            NOT_SETTING_FLAGS,
        ),
        Call::SetToken(Some(t)) => (
            SET_TOKEN,
            if t.admin { NEW_ADMIN } else { NEW_USER },
            NOT_SETTING_FLAGS,
        ),
        Call::Clear => (CLEAR, NOT_SETTING_TOKEN, NOT_SETTING_FLAGS),
        Call::GetSid => (GET_SID, NOT_SETTING_TOKEN, NOT_SETTING_FLAGS),
    };
    let key = Row {
        method,
        release: release_class(profile.release),
        level: if is_anonymous(level) {
            ANON
        } else if can_impersonate(level) {
            IMPERS
        } else {
            IDENT
        },
        restricted: yes_no(caller.restricted),
        gate: gate_class(
            caller,
            job.owner,
            if matches!(call, Call::GetFlags | Call::GetSid) {
                GateCall::read(profile)
            } else {
                GateCall::Change
            },
        ),
        caller_admin: yes_no(caller.admin),
        // A-5: "whose owner SID equals the remembered caller SID".
        caller_owns: yes_no(caller.sid == job.owner.sid),
        // T-9: the owner's elevation remembered by the job.
        owner_elevated: yes_no(job.owner.elevated),
        bypass: match knobs.admin_bypass {
            AdminBypass::OwnerRuleAndVetoes => SKIP_ALL,
            AdminBypass::OwnerRuleOnly => SKIP_OWNER_RULE,
            AdminBypass::NoBypass => SKIP_NOTHING,
            other => panic!("no column for Q-2 {other:?}"),
        },
        legacy_set: match knobs.legacy_set_token {
            LegacySetToken::CallerAndOwner => CALLER_AND_OWNER,
            LegacySetToken::CallerOnly => CALLER_ONLY,
            LegacySetToken::OwnerOnly => OWNER_ONLY,
            other => panic!("no column for Q-7 {other:?}"),
        },
        stored: match job.helper {
            None => NO_TOKEN,
            Some(h) if h.admin => ADMIN_TOKEN,
            Some(_) => USER_TOKEN,
        },
        new_token,
        state: if state_row(job.state).done {
            DONE
        } else {
            NOT_DONE
        },
        done_knob: match knobs.done_jobs {
            DoneJobs::InvalidState => REFUSE_DONE,
            DoneJobs::Allow => ALLOW_DONE,
            other => panic!("no column for Q-3 {other:?}"),
        },
        flags,
        unknown_knob: match knobs.unknown_flags {
            UnknownFlags::InvalidArg => INVALIDARG,
            UnknownFlags::NotImpl => NOTIMPL,
            UnknownFlags::Mask => MASK,
            other => panic!("no column for Q-1 {other:?}"),
        },
        verdict: ROW.verdict,
    };
    let (index, row) = DECISIONS
        .iter()
        .enumerate()
        .find(|(_, r)| {
            r.method & key.method != 0
                && r.release & key.release != 0
                && r.level & key.level != 0
                && r.restricted & key.restricted != 0
                && r.gate & key.gate != 0
                && r.caller_admin & key.caller_admin != 0
                && r.caller_owns & key.caller_owns != 0
                && r.owner_elevated & key.owner_elevated != 0
                && r.bypass & key.bypass != 0
                && r.legacy_set & key.legacy_set != 0
                && r.stored & key.stored != 0
                && r.new_token & key.new_token != 0
                && r.state & key.state != 0
                && r.done_knob & key.done_knob != 0
                && r.flags & key.flags != 0
                && r.unknown_knob & key.unknown_knob != 0
        })
        .unwrap_or_else(|| panic!("the decision table has a hole: {call:?} on {job:?}"));
    let rule = match row.verdict {
        Verdict::Refuse(code, rule) => {
            let hresult = match code {
                Code::Fixed(hr) => hr,
                Code::Denial => knobs.denial.get(),
            };
            return Decision {
                hresult,
                rule,
                effect: Effect::None,
                value: Value::None,
                transfer_failure: None,
                row: index,
            };
        }
        Verdict::Grant(rule) => rule,
    };
    let does = EFFECTS
        .iter()
        .find(|(m, _)| *m == method)
        .expect("every method has an effect")
        .1;
    let mut d = Decision {
        hresult: hr::S_OK,
        rule,
        effect: Effect::None,
        value: Value::None,
        transfer_failure: None,
        row: index,
    };
    match (does, call) {
        (Does::StoreFlags, Call::SetFlags(f)) => {
            let stored = f & KNOWN_FLAGS; // Q-1 Mask keeps the known bits; else f is known
            d.effect = Effect::StoreFlags(stored);
            // X-1: SetHelperTokenFlags succeeds, and reports the certain transfer failure.
            if x1_fails(job.certificate, job.remote, stored, job.owner.sid) {
                d.transfer_failure = Some((hr::CERT_NO_ACCESS_PRIVATE_KEY, "X-1"));
            }
        }
        (Does::ReturnFlags, _) => d.value = Value::Flags(job.flags),
        (Does::StoreToken, Call::SetToken(Some(t))) => d.effect = Effect::StoreHelper(t),
        (Does::DropToken, _) => d.effect = Effect::ClearHelper,
        (Does::ReturnSid, _) => d.value = Value::HelperSid(job.helper.map(|h| h.sid)),
        other => panic!("effect table and call disagree: {other:?}"),
    }
    d
}

/// A-2 for QueryInterface: (release, interface exists).
const QUERY_INTERFACE: [(Release, bool); 4] = [
    (Release::PreBits4, false),
    (Release::Legacy, true),
    (Release::Win10_1607, true),
    (Release::Win10_1809, true),
];

/// `QueryInterface(IID_IBitsTokenOptions)` by `caller` on a job of `owner`: `S_OK` and A-1
/// (the handle remembers the caller), or `E_NOINTERFACE` and A-2. Q-9 "at QueryInterface":
/// a caller that A-11, A-4 or A-5 would refuse gets `E_ACCESSDENIED` and no handle (A-4
/// and A-5 as the owner rule reads for every method: caller administrator, or owner).
pub fn query_interface(profile: &Profile, caller: Who, owner: Who) -> (HResult, &'static str) {
    query_interface_at(profile, caller, DEFAULT_LEVEL, owner)
}

/// QueryInterface at this level (A-10: A-2 → A-9 → what Q-9 has it judge). ANONYMOUS is
/// refused (A-9: "QueryInterface included"); IDENTIFY suffices. A restricted caller passes:
/// QueryInterface is a read (A-14: "reads pass").
pub fn query_interface_at(
    profile: &Profile,
    caller: Who,
    level: ImpersonationLevel,
    owner: Who,
) -> (HResult, &'static str) {
    let release = profile.release;
    let exists = QUERY_INTERFACE
        .iter()
        .find(|(r, _)| *r == release)
        .unwrap_or_else(|| panic!("no row for {release:?}"))
        .1;
    if !exists {
        return (hr::E_NOINTERFACE, "A-2");
    }
    if is_anonymous(level) {
        return (hr::E_ACCESSDENIED, "A-9");
    }
    if profile.knobs.access_check == AccessCheck::QueryInterface {
        // QueryInterface is a read (A-11, Q-10).
        match gate_class(caller, owner, GateCall::read(profile)) {
            GATE_PASSES => {}
            GATE_INTEGRITY_READ => return (hr::E_ACCESSDENIED, "Q-10"),
            _ => return (hr::E_ACCESSDENIED, "A-11"),
        }
        let skips = caller.admin && profile.knobs.admin_bypass != AdminBypass::NoBypass;
        match release_class(release) {
            LEGACY if !caller.admin => return (hr::E_ACCESSDENIED, "A-4"),
            W1607 | W1809 if !skips && caller.sid != owner.sid => {
                return (hr::E_ACCESSDENIED, "A-5");
            }
            _ => {}
        }
    }
    (hr::S_OK, "A-1")
}

// =======================================================================================
// R: routing, and whole transfers (X)
// =======================================================================================

/// `BG_AUTH_SCHEME`, with the two facts R-2/R-3 and `SetCredentials` need.
#[rustfmt::skip]
const SCHEMES: [(AuthScheme, /* implicit (logon) credentials, R-2 */ bool, /* SetCredentials takes NULL, NULL */ bool); 5] = [
    // R-2 names only NTLM/Kerberos (Negotiate) implicit credentials.
    (AuthScheme::Basic,     false, false),
    (AuthScheme::Digest,    false, false),
    (AuthScheme::Ntlm,      true,  true),
    (AuthScheme::Negotiate, true,  true),
    // Documented choice (`route` module, R-3): Passport takes NULL credentials but has no
    // implicit ones; Basic and Digest refuse NULL with E_INVALIDARG.
    (AuthScheme::Passport,  false, true),
];

fn scheme_index(scheme: AuthScheme) -> usize {
    SCHEMES
        .iter()
        .position(|s| s.0 == scheme)
        .unwrap_or_else(|| panic!("no row for {scheme:?}"))
}

pub fn all_schemes() -> [AuthScheme; 5] {
    SCHEMES.map(|s| s.0)
}

const TARGETS: [AuthTarget; 2] = [AuthTarget::Server, AuthTarget::Proxy];

fn target_index(target: AuthTarget) -> usize {
    TARGETS
        .iter()
        .position(|t| *t == target)
        .unwrap_or_else(|| panic!("no row for {target:?}"))
}

/// What `SetCredentials` stored, per target × scheme.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Creds([[Option<Credential>; 5]; 2]);

impl Creds {
    pub fn get(&self, target: AuthTarget, scheme: AuthScheme) -> Option<Credential> {
        self.0[target_index(target)][scheme_index(scheme)]
    }

    /// `SetCredentials`: `Err` when it refuses a NULL user name for the scheme.
    pub fn set(
        &mut self,
        target: AuthTarget,
        scheme: AuthScheme,
        credential: Credential,
    ) -> Result<(), HResult> {
        if credential == Credential::Implicit && !SCHEMES[scheme_index(scheme)].2 {
            return Err(hr::E_INVALIDARG);
        }
        self.0[target_index(target)][scheme_index(scheme)] = Some(credential);
        Ok(())
    }

    pub fn remove(&mut self, target: AuthTarget, scheme: AuthScheme) {
        self.0[target_index(target)][scheme_index(scheme)] = None;
    }

    /// R-3: `SetCredentials(NULL, NULL)` for this target, for a scheme that has implicit
    /// credentials. Documented choice: NTLM *or* Negotiate allows both.
    fn null_set(&self, target: AuthTarget) -> bool {
        SCHEMES
            .iter()
            .any(|s| s.1 && self.get(target, s.0) == Some(Credential::Implicit))
    }

    /// R-3: "explicit server credentials" — documented choice: for any scheme.
    fn explicit_any(&self, target: AuthTarget) -> bool {
        SCHEMES
            .iter()
            .any(|s| self.get(target, s.0) == Some(Credential::Explicit))
    }

    /// The schemes set for a target (explicit or NULL), in `BG_AUTH_SCHEME` order.
    fn set_schemes(&self, target: AuthTarget) -> Vec<AuthScheme> {
        SCHEMES
            .iter()
            .map(|s| s.0)
            .filter(|&s| self.get(target, s).is_some())
            .collect()
    }
}

/// R-3's registry rows: (`UseLMCompat`, the least `LMCompatibilityLevel` that lets
/// implicit credentials go without `SetCredentials`; `None`: never by itself).
const USE_LM_COMPAT: [(UseLmCompat, Option<u32>); 3] = [
    (UseLmCompat::Always, Some(0)),
    (UseLmCompat::WhenLmCompatibilityLevel2, Some(2)),
    (UseLmCompat::AfterSetCredentials, None),
];

/// R-7: whether reading the IE proxy settings runs as the helper when NETWORK is set.
const IE_SETTINGS_AS_HELPER: [(Release, bool); 4] = [
    (Release::PreBits4, false),
    (Release::Legacy, false),
    (Release::Win10_1607, false),
    (Release::Win10_1809, true),
];

/// `BG_JOB_PROXY_USAGE`: (usage, a proxy may stand in between, discovery access).
#[rustfmt::skip]
const PROXIES: [(ProxyUsage, bool, Option<Access>); 4] = [
    // Documented choice (`route` module): PRECONFIG and AUTODETECT discovery find a proxy.
    (ProxyUsage::Preconfig,  true,  Some(Access::ProxyIeSettings)),
    (ProxyUsage::NoProxy,    false, None),
    (ProxyUsage::Override,   true,  None),
    (ProxyUsage::Autodetect, true,  Some(Access::ProxyAutoDetect)),
];

/// R-7: IE settings that ask for auto-detection or a PAC URL.
fn ie_discovers(ie: IeSettings) -> bool {
    matches!(ie, IeSettings::Autodetect | IeSettings::Pac)
}

/// X-3: a proxy stands in between always with OVERRIDE; with AUTODETECT, and PRECONFIG
/// whose IE settings ask for discovery, discovery is assumed to find one; PRECONFIG with
/// direct settings and NO_PROXY use none.
fn through_proxy(job: &TransferFacts) -> bool {
    match job.proxy {
        ProxyUsage::Preconfig => ie_discovers(job.ie),
        other => proxy_row(other).1,
    }
}

fn proxy_row(usage: ProxyUsage) -> &'static (ProxyUsage, bool, Option<Access>) {
    PROXIES
        .iter()
        .find(|p| p.0 == usage)
        .unwrap_or_else(|| panic!("no row for {usage:?}"))
}

/// R-6: service owners on the network without a helper token.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum OnNetwork {
    Computer,
    Anonymous,
}

/// R-6 as a table: (owner RID in the NT authority, how it appears on the network).
const R6: [(u32, OnNetwork); 3] = [
    (18, OnNetwork::Computer),  // LocalSystem
    (20, OnNetwork::Computer),  // NetworkService
    (19, OnNetwork::Anonymous), // LocalService
];

/// What routing reads of a job.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TransferFacts {
    pub owner: Sid,
    pub flags: u32,
    pub helper: Option<Sid>,
    pub certificate: bool,
    pub remote: Remote,
    pub job_type: JobType,
    pub creds: Creds,
    pub proxy: ProxyUsage,
    pub use_lm_compat: UseLmCompat,
    pub lm_compatibility_level: u32,
    /// X-3: the set of schemes each target's one challenge offers.
    pub challenges: Vec<(AuthTarget, AuthScheme)>,
    /// R-3 (iv): `BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS` for the proxy.
    pub use_stored_credentials: bool,
    /// X-4: the HTTPS server asks for a client certificate.
    pub server_requests_certificate: bool,
    /// R-7, X-3: what PRECONFIG finds in the IE settings.
    pub ie: IeSettings,
    /// Q-8: L-6 at the start of the transfer (eager) or at the first access (lazy).
    pub eager: bool,
    /// R-6: Kerberos is available in the domain (an input; SPEC v3 default yes).
    pub kerberos: bool,
    /// Q-12: `computer` (true, the default) or `none` (false).
    pub service_proxy_computer: bool,
}

/// As whom an access is made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Used {
    Owner(Sid),
    Helper(Sid),
    Computer,
    Anonymous,
    Explicit(AuthTarget, AuthScheme),
    NoImplicitCredentials,
    NotApplicable,
    /// L-6: the flag routes the access to a helper token that is not stored.
    TokenRequired(u32),
    /// X-3: a whole challenge no offered scheme answers.
    Unanswered,
}

/// When a transfer makes an access.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum When {
    UploadOrReply,
    Download,
    UploadReply,
    Smb,
    /// HTTP(S) and this proxy usage.
    HttpProxy(ProxyUsage),
    /// R-7: WPAD for AUTODETECT, and for PRECONFIG whose IE settings ask for discovery.
    Wpad,
    /// X-3: the target challenges with the scheme (the proxy only when one is in between).
    Challenged(AuthTarget, AuthScheme),
    /// X-1: the TLS handshake of an HTTPS job with a certificate.
    HttpsWithCertificate,
    /// X-3: the target's whole challenge, when it offers any scheme and the transfer meets
    /// it (the proxy only when one is in between; never over SMB).
    Whole(AuthTarget),
    Always,
}

/// What an access is, for routing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// R-1: follows LOCAL_FILE.
    LocalFile,
    /// R-2: follows NETWORK; R-6 when it does not.
    SmbFile,
    /// R-7: WPAD, follows NETWORK on every release.
    Wpad,
    /// R-7: the IE settings, follow NETWORK from 1809.
    IeSettings,
    /// R-2, R-3, R-5, R-6.
    Challenge(AuthTarget, AuthScheme),
    /// R-4.
    CertificateKey,
    /// X-3: a whole challenge.
    Whole(AuthTarget),
    /// R-0: the owner's other accesses.
    Other,
}

/// One row per access: what it is, the rule that names it (documented choice: the id a
/// not-applicable access reports), and when a transfer makes it.
fn access_row(access: Access) -> (Kind, &'static str, When) {
    use Access::*;
    match access {
        // R-1. Documented choice: an upload-reply job opens its local file too.
        UploadLocalFile => (Kind::LocalFile, "R-1", When::UploadOrReply),
        DownloadTempFileCreate => (Kind::LocalFile, "R-1", When::Download),
        DownloadTempFileRename => (Kind::LocalFile, "R-1", When::Download),
        ReplyFileCreate => (Kind::LocalFile, "R-1", When::UploadReply),
        ReplyFileRename => (Kind::LocalFile, "R-1", When::UploadReply),
        // R-2.
        SmbRemoteFile => (Kind::SmbFile, "R-2", When::Smb),
        // R-7. Documented choice: WPAD only for AUTODETECT, the IE settings only for PRECONFIG.
        ProxyAutoDetect => (Kind::Wpad, "R-7", When::Wpad),
        ProxyIeSettings => (
            Kind::IeSettings,
            "R-7",
            When::HttpProxy(ProxyUsage::Preconfig),
        ),
        ProxyChallenge(s) => (
            Kind::Challenge(AuthTarget::Proxy, s),
            "R-2",
            When::Challenged(AuthTarget::Proxy, s),
        ),
        ServerChallenge(s) => (
            Kind::Challenge(AuthTarget::Server, s),
            "R-2",
            When::Challenged(AuthTarget::Server, s),
        ),
        // R-4.
        ClientCertificateKey => (Kind::CertificateKey, "R-4", When::HttpsWithCertificate),
        // X-3 (contract §2.3): not applicable "when the target does not challenge, or the
        // transfer meets no such challenge", rule X-3.
        WholeChallenge(t) => (Kind::Whole(t), "X-3", When::Whole(t)),
        // R-0 (SPEC v2): everything not listed under a flag uses the owner.
        Other => (Kind::Other, "R-0", When::Always),
        other => panic!("the reference has no row for access {other:?}"),
    }
}

/// Every access the reference knows (20: 8 plain, 2 × 5 challenges, certificate, other).
pub fn all_accesses() -> Vec<Access> {
    let mut all = vec![
        Access::UploadLocalFile,
        Access::DownloadTempFileCreate,
        Access::DownloadTempFileRename,
        Access::ReplyFileCreate,
        Access::ReplyFileRename,
        Access::SmbRemoteFile,
        Access::ProxyAutoDetect,
        Access::ProxyIeSettings,
    ];
    all.extend(all_schemes().map(Access::ProxyChallenge));
    all.extend(all_schemes().map(Access::ServerChallenge));
    all.extend([Access::ClientCertificateKey, Access::Other]);
    all.extend(TARGETS.map(Access::WholeChallenge));
    all
}

fn made(when: When, job: &TransferFacts) -> bool {
    let http = remote_is_http(job.remote);
    match when {
        When::UploadOrReply => matches!(job.job_type, JobType::Upload | JobType::UploadReply),
        When::Download => job.job_type == JobType::Download,
        When::UploadReply => job.job_type == JobType::UploadReply,
        When::Smb => remote_is_smb(job.remote),
        When::HttpProxy(usage) => http && job.proxy == usage,
        When::Wpad => {
            http && (job.proxy == ProxyUsage::Autodetect
                || (job.proxy == ProxyUsage::Preconfig && ie_discovers(job.ie)))
        }
        When::Challenged(target, scheme) => {
            http && job.challenges.contains(&(target, scheme))
                && (target == AuthTarget::Server || through_proxy(job))
        }
        When::HttpsWithCertificate => job.remote == Remote::Https && job.certificate,
        When::Whole(target) => all_schemes()
            .into_iter()
            .any(|s| made(When::Challenged(target, s), job)),
        When::Always => true,
    }
}

/// Who makes an access the flags may route to the helper (R-1, R-2, R-7 with L-6).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ByFlag {
    Helper,
    Missing,
    Owner,
}

/// (flag set, helper token stored) → who.
const BY_FLAG: [(bool, bool, ByFlag); 4] = [
    (true, true, ByFlag::Helper),
    (true, false, ByFlag::Missing), // L-6
    (false, true, ByFlag::Owner),   // a stored but unused token changes nothing
    (false, false, ByFlag::Owner),
];

/// Routes by `flag`: the helper (rule `id`), L-6, or the owner — through R-6 when the
/// access authenticates on the network with the owner's implicit identity.
fn by_flag(
    job: &TransferFacts,
    flag: u32,
    id: &'static str,
    network: bool,
) -> (Used, &'static str) {
    let key = (job.flags & flag != 0, job.helper.is_some());
    let who = BY_FLAG
        .iter()
        .find(|r| (r.0, r.1) == key)
        .expect("four rows")
        .2;
    match who {
        // R-6 (SPEC v2): a service token on the network, as owner *or* helper.
        ByFlag::Helper if network => on_network(job, job.helper.expect("stored"), true, id, None),
        ByFlag::Helper => (Used::Helper(job.helper.expect("stored")), id),
        ByFlag::Missing => (Used::TokenRequired(flag), "L-6"),
        ByFlag::Owner if network => on_network(job, job.owner, false, id, None),
        ByFlag::Owner => (Used::Owner(job.owner), id),
    }
}

/// R-6 (SPEC v3): LocalSystem and NetworkService appear as the computer, LocalService as
/// anonymous; any other token as itself (under `id`). On the network share (`challenge`
/// `None`) that is all. To a challenge of `target` the computer answers only when "a
/// Negotiate entry allows implicit credentials (R-3 (i), or (ii) for the server) and
/// Kerberos is available in the domain"; "the entry's scheme decides, not the
/// challenge's". Q-12 `none`: "LocalSystem and NetworkService answer no proxy challenge
/// implicitly" (the knob names the result only when it decided it).
fn on_network(
    job: &TransferFacts,
    sid: Sid,
    helper: bool,
    id: &'static str,
    challenge: Option<AuthTarget>,
) -> (Used, &'static str) {
    for (rid, seen) in R6 {
        if sid == nt(&[rid]) {
            return match (seen, challenge) {
                (OnNetwork::Anonymous, _) => (Used::Anonymous, "R-6"),
                (OnNetwork::Computer, None) => (Used::Computer, "R-6"),
                (OnNetwork::Computer, Some(target)) => {
                    if !(negotiate_entry(job, target) && job.kerberos) {
                        (Used::NoImplicitCredentials, "R-6")
                    } else if target == AuthTarget::Proxy && !job.service_proxy_computer {
                        (Used::NoImplicitCredentials, "Q-12")
                    } else {
                        (Used::Computer, "R-6")
                    }
                }
            };
        }
    }
    if helper {
        (Used::Helper(sid), id)
    } else {
        (Used::Owner(sid), id)
    }
}

/// R-3 (i) and (ii) for a Negotiate entry: `SetCredentials(target, Negotiate, NULL, NULL)`,
/// or for the server the proxy's, when the server has no explicit credentials.
fn negotiate_entry(job: &TransferFacts, target: AuthTarget) -> bool {
    let implicit = |t| job.creds.get(t, AuthScheme::Negotiate) == Some(Credential::Implicit);
    implicit(target)
        || (target == AuthTarget::Server
            && implicit(AuthTarget::Proxy)
            && !job.creds.explicit_any(AuthTarget::Server))
}

/// R-3: whether implicit credentials may answer this target's challenge.
fn implicit_allowed(job: &TransferFacts, target: AuthTarget) -> bool {
    // "The application allows them by calling SetCredentials with NULL user name and
    // password for that target".
    if job.creds.null_set(target) {
        return true;
    }
    // "implicit proxy credentials also serve the server unless explicit server credentials
    // exist".
    if target == AuthTarget::Server
        && job.creds.null_set(AuthTarget::Proxy)
        && !job.creds.explicit_any(AuthTarget::Server)
    {
        return true;
    }
    // R-3 (iv): USE_STORED_CREDENTIALS sends default credentials to the proxy; "not to
    // the server (reading)" — so not through (ii) either.
    if target == AuthTarget::Proxy && job.use_stored_credentials {
        return true;
    }
    // `UseLMCompat`: 0 always, 1 when LMCompatibilityLevel ≥ 2, 2 only after SetCredentials.
    let least = USE_LM_COMPAT
        .iter()
        .find(|r| r.0 == job.use_lm_compat)
        .unwrap_or_else(|| panic!("no row for {:?}", job.use_lm_compat))
        .1;
    least.is_some_and(|least| job.lm_compatibility_level >= least)
}

/// As whom BITS makes `access` for a transfer of `job` (SPEC §4), and the rule id.
pub fn route(release: Release, job: &TransferFacts, access: Access) -> (Used, &'static str) {
    let (used, rule, _) = route_full(release, job, access);
    (used, rule)
}

/// X-3: the preference among offered schemes, strongest first: Negotiate > NTLM >
/// Passport > Digest > Basic (the server's order is ignored).
const PREFERENCE: [AuthScheme; 5] = [
    AuthScheme::Negotiate,
    AuthScheme::Ntlm,
    AuthScheme::Passport,
    AuthScheme::Digest,
    AuthScheme::Basic,
];

/// X-3: whether a scheme's own route answers: explicit credentials (R-5), or an implicit
/// identity that can present them (the owner, the helper, the computer, R-2/R-6); one
/// routed to the helper counts even with no helper stored (it then fails with L-6).
/// Nobody, and anonymous (R-6: "Anonymous never answers a challenge"), do not.
fn answers(used: Used) -> bool {
    matches!(
        used,
        Used::Explicit(..)
            | Used::Owner(_)
            | Used::Helper(_)
            | Used::Computer
            | Used::TokenRequired(_)
    )
}

/// [`route`], with the scheme of a whole challenge: the strongest answerable scheme it
/// offers (and that scheme's route and rule), `Unanswered` with X-3 when none is.
pub fn route_full(
    release: Release,
    job: &TransferFacts,
    access: Access,
) -> (Used, &'static str, Option<AuthScheme>) {
    let (kind, names, when) = access_row(access);
    if let Kind::Whole(target) = kind {
        if !made(when, job) {
            return (Used::NotApplicable, names, None);
        }
        for scheme in PREFERENCE {
            if !job.challenges.contains(&(target, scheme)) {
                continue;
            }
            let (used, rule) = route(release, job, Access::challenge(target, scheme));
            if answers(used) {
                return (used, rule, Some(scheme));
            }
        }
        return (Used::Unanswered, "X-3", None);
    }
    let (used, rule) = route_one(release, job, access, kind, names, when);
    (used, rule, None)
}

fn route_one(
    release: Release,
    job: &TransferFacts,
    _access: Access,
    kind: Kind,
    names: &'static str,
    when: When,
) -> (Used, &'static str) {
    // Documented choice: an access the job never makes is not applicable, under the id of
    // the rule that names it.
    if !made(when, job) {
        return (Used::NotApplicable, names);
    }
    match kind {
        // R-4: the private key is always the owner's, whatever the flags.
        Kind::CertificateKey => (Used::Owner(job.owner), "R-4"),
        // R-1. Local files are not network authentication: no R-6.
        Kind::LocalFile => by_flag(job, LOCAL_FILE, "R-1", false),
        // R-2; R-6 when no helper is in play.
        Kind::SmbFile => by_flag(job, NETWORK, "R-2", true),
        // R-7; discovery is not authentication: no R-6.
        Kind::Wpad => by_flag(job, NETWORK, "R-7", false),
        Kind::IeSettings => {
            let as_helper = IE_SETTINGS_AS_HELPER
                .iter()
                .find(|r| r.0 == release)
                .unwrap_or_else(|| panic!("no row for {release:?}"))
                .1;
            if as_helper {
                by_flag(job, NETWORK, "R-7", false)
            } else {
                (Used::Owner(job.owner), "R-7")
            }
        }
        Kind::Challenge(target, scheme) => {
            // R-5: explicit credentials of this target and scheme are sent as given.
            // Documented choice: they answer only their own target and scheme.
            if job.creds.get(target, scheme) == Some(Credential::Explicit) {
                return (Used::Explicit(target, scheme), "R-5");
            }
            // R-2/R-3: only NTLM and Negotiate have implicit credentials …
            if !SCHEMES[scheme_index(scheme)].1 {
                return (Used::NoImplicitCredentials, "R-3");
            }
            // … sent only when allowed, "whatever the flags".
            if !implicit_allowed(job, target) {
                return (Used::NoImplicitCredentials, "R-3");
            }
            // R-2: NETWORK → the helper's implicit credentials; else the owner's; either
            // seen through R-6 (with its Negotiate-only computer identity).
            match by_flag(job, NETWORK, "R-2", false) {
                (Used::Helper(h), id) => on_network(job, h, true, id, Some(target)),
                (Used::Owner(o), id) => on_network(job, o, false, id, Some(target)),
                other => other,
            }
        }
        Kind::Other => (Used::Owner(job.owner), "R-0"),
        Kind::Whole(_) => unreachable!("whole challenges are routed by route_full"),
    }
}

/// How a whole transfer ends.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Plan {
    /// The accesses in X-5's order; a challenge is one step per target
    /// (`Access::WholeChallenge`), with the chosen scheme.
    pub steps: Vec<(Access, Used, &'static str, Option<AuthScheme>)>,
    /// `None`: TRANSFERRED; else the job error and its rule.
    pub failure: Option<(HResult, &'static str)>,
    /// The access where it fails (`None` for an eager L-6 and for X-4, which no access
    /// names: the TLS handshake without a certificate).
    pub failing: Option<Access>,
}

/// X-5: where in a transfer each access comes, as a table (lower first): an upload's local
/// file; proxy discovery; the proxy's challenge; over HTTPS the TLS handshake (X-1 at the
/// certificate's key, X-4); the server's challenge; the SMB file; the temporary or reply
/// file, created and renamed.
/// Documented choice (v2's order, `transfer_plan`): the IE settings before WPAD.
fn x5_position(access: Access) -> u32 {
    use Access::*;
    match access {
        UploadLocalFile => 0,
        ProxyIeSettings => 1,
        ProxyAutoDetect => 2,
        WholeChallenge(AuthTarget::Proxy) => 3,
        ClientCertificateKey => 4,
        WholeChallenge(AuthTarget::Server) => 5,
        SmbRemoteFile => 6,
        DownloadTempFileCreate | ReplyFileCreate => 7,
        DownloadTempFileRename | ReplyFileRename => 8,
        other => panic!("a transfer never makes {other:?} as a step"),
    }
}

/// The accesses a whole transfer makes, in X-5's order, and the outcome. Q-8 eager:
/// non-zero flags and no helper token fail the job with L-6 before any access. Otherwise
/// the first failing access decides: L-6 at an access routed to a missing helper (a whole
/// challenge whose chosen scheme is routed there too), X-3 at a challenge no offered scheme
/// answers (401/407), X-1 at the certificate's key (L-6 instead without a helper token),
/// X-4 at the handshake of an HTTPS job without a certificate whose server asks for one.
pub fn transfer(release: Release, job: &TransferFacts) -> Plan {
    let mut accesses: Vec<Access> = [
        Access::UploadLocalFile,
        Access::ProxyIeSettings,
        Access::ProxyAutoDetect,
        Access::WholeChallenge(AuthTarget::Proxy),
        Access::ClientCertificateKey,
        Access::WholeChallenge(AuthTarget::Server),
        Access::SmbRemoteFile,
        Access::DownloadTempFileCreate,
        Access::DownloadTempFileRename,
        Access::ReplyFileCreate,
        Access::ReplyFileRename,
    ]
    .into_iter()
    .filter(|&a| made(access_row(a).2, job))
    .collect();
    accesses.sort_by_key(|&a| x5_position(a));
    let steps: Vec<(Access, Used, &'static str, Option<AuthScheme>)> = accesses
        .into_iter()
        .map(|a| {
            let (used, rule, scheme) = route_full(release, job, a);
            (a, used, rule, scheme)
        })
        .collect();
    // Q-8 eager: L-6 before any access.
    if job.eager && job.flags != 0 && job.helper.is_none() {
        return Plan {
            steps,
            failure: Some((hr::BG_E_TOKEN_REQUIRED, "L-6")),
            failing: None,
        };
    }
    let x1 = x1_fails(job.certificate, job.remote, job.flags, job.owner);
    // X-4: HTTPS, no client certificate, and the server asks for one (HTTP and SMB never).
    let x4 = job.remote == Remote::Https && !job.certificate && job.server_requests_certificate;
    let fails = |step: &(Access, Used, &'static str, Option<AuthScheme>)| {
        match step {
            (_, Used::TokenRequired(_), _, _) => Some((hr::BG_E_TOKEN_REQUIRED, "L-6")),
            // The helper makes the TLS connection: without one, L-6 (either Q-8 setting).
            (Access::ClientCertificateKey, _, _, _) if x1 && job.helper.is_none() => {
                Some((hr::BG_E_TOKEN_REQUIRED, "L-6"))
            }
            (Access::ClientCertificateKey, _, _, _) if x1 => {
                Some((hr::CERT_NO_ACCESS_PRIVATE_KEY, "X-1"))
            }
            (Access::WholeChallenge(AuthTarget::Server), Used::Unanswered, _, _) => {
                Some((hr::BG_E_HTTP_ERROR_401, "X-3"))
            }
            (Access::WholeChallenge(AuthTarget::Proxy), Used::Unanswered, _, _) => {
                Some((hr::BG_E_HTTP_ERROR_407, "X-3"))
            }
            _ => None,
        }
    };
    for step in &steps {
        // X-4 at the handshake: after the proxy's challenge, before the server's.
        if x4 && x5_position(step.0) > x5_position(Access::ClientCertificateKey) {
            return Plan {
                failure: Some((hr::CERT_NEEDED, "X-4")),
                failing: None,
                steps,
            };
        }
        if let Some(f) = fails(step) {
            let failing = Some(step.0);
            return Plan {
                failure: Some(f),
                failing,
                steps,
            };
        }
    }
    if x4 {
        return Plan {
            failure: Some((hr::CERT_NEEDED, "X-4")),
            failing: None,
            steps,
        };
    }
    Plan {
        steps,
        failure: None,
        failing: None,
    }
}

// =======================================================================================
// L: the job and its lifecycle, the job methods (A-12…A-14), and a scenario runner
// =======================================================================================

/// The job methods of A-13 (`IBackgroundCopyJob`, `…Job2`, `…Job5`, `…JobHttpOptions`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobMethod {
    Resume,
    Suspend,
    Cancel,
    Complete,
    AddFile,
    SetCredentials,
    RemoveCredentials,
    SetProxySettings,
    /// `SetClientCertificateByID/ByName`.
    SetClientCertificate,
    RemoveClientCertificate,
    /// `IBackgroundCopyJob5::SetProperty(USE_STORED_CREDENTIALS)`.
    SetProperty,
}

/// A-13 as a table: (method, owner only, needs `IBackgroundCopyJob5` (A-2), needs
/// IMPERSONATE (A-9)). Owner only (readings): SetCredentials, RemoveCredentials ("in the
/// context of the job's owner"), SetClientCertificateByID/ByName ("only the job owner can
/// specify the client certificate"). Every one of them changes the job (A-13).
#[rustfmt::skip]
const JOB_METHODS: [(JobMethod, bool, bool, bool); 11] = [
    (JobMethod::Resume,                  false, false, false),
    (JobMethod::Suspend,                 false, false, false),
    (JobMethod::Cancel,                  false, false, false),
    (JobMethod::Complete,                false, false, false),
    (JobMethod::AddFile,                 false, false, false),
    (JobMethod::SetCredentials,          true,  false, false),
    (JobMethod::RemoveCredentials,       true,  false, false),
    (JobMethod::SetProxySettings,        false, false, false),
    (JobMethod::SetClientCertificate,    true,  false, false),
    (JobMethod::RemoveClientCertificate, false, false, false),
    // A-2: BITS 5.0; the model offers it from Legacy on. A-9: IMPERSONATE (readings).
    (JobMethod::SetProperty,             false, true,  true),
];

/// A job-method call with its arguments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobCall {
    Resume,
    Suspend,
    Cancel,
    Complete,
    AddFile,
    SetCredentials(AuthTarget, AuthScheme, Credential),
    RemoveCredentials(AuthTarget, AuthScheme),
    SetProxyUsage(ProxyUsage),
    SetClientCertificate(bool),
    UseStoredCredentials,
}

impl JobCall {
    pub fn method(self) -> JobMethod {
        match self {
            JobCall::Resume => JobMethod::Resume,
            JobCall::Suspend => JobMethod::Suspend,
            JobCall::Cancel => JobMethod::Cancel,
            JobCall::Complete => JobMethod::Complete,
            JobCall::AddFile => JobMethod::AddFile,
            JobCall::SetCredentials(..) => JobMethod::SetCredentials,
            JobCall::RemoveCredentials(..) => JobMethod::RemoveCredentials,
            JobCall::SetProxyUsage(_) => JobMethod::SetProxySettings,
            JobCall::SetClientCertificate(true) => JobMethod::SetClientCertificate,
            JobCall::SetClientCertificate(false) => JobMethod::RemoveClientCertificate,
            JobCall::UseStoredCredentials => JobMethod::SetProperty,
        }
    }
}

/// The caller of a job method or of TakeOwnership, judged at call time (A-12): its token
/// as the rules read it, the call's level (T-10) and whether its user is logged on (L-11).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct JobCaller {
    pub who: Who,
    pub level: ImpersonationLevel,
    pub logged_on: bool,
}

/// The outcome of an `add_file` the model cannot hold: a second file on a download
/// (L-15; the scenario is invalid at that step).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SecondFile;

/// L-12 as a table: (state, Suspend moves it to SUSPENDED clearing its error). SUSPENDED,
/// ERROR, TRANSFERRED: `S_OK`, no change; done jobs are refused before (T-7).
#[rustfmt::skip]
const L12: [(JobState, bool); 7] = [
    (JobState::Queued,         true),
    (JobState::Connecting,     true),
    (JobState::Transferring,   true),
    (JobState::TransientError, true),
    (JobState::Suspended,      false),
    (JobState::Error,          false),
    (JobState::Transferred,    false),
];

/// L-13 as a table: (state, moves to TRANSIENT_ERROR when the network is lost).
#[rustfmt::skip]
const L13_LOST: [(JobState, bool); 9] = [
    (JobState::Queued,         true),
    (JobState::Connecting,     true),  // reading
    (JobState::Transferring,   true),
    (JobState::Suspended,      false),
    (JobState::Error,          false),
    (JobState::TransientError, false),
    (JobState::Transferred,    false),
    (JobState::Acknowledged,   false),
    (JobState::Cancelled,      false),
];

/// L-14 / contract `start_transfer`: (from state, may start). CONNECTING may only move on to
/// TRANSFERRING.
#[rustfmt::skip]
const L14_FROM: [(JobState, bool); 3] = [
    (JobState::Queued,         true),
    (JobState::TransientError, true),
    (JobState::Connecting,     true),
];

/// The errors a job in ERROR can hold (§1.5b: "an error no rule produces in that state" is
/// refused), and the rule that produces each. Documented choice: BG_E_TOKEN_REQUIRED is
/// read as L-6's (L-5 produces the same code).
fn error_rule(code: HResult) -> Option<&'static str> {
    [
        (hr::BG_E_TOKEN_REQUIRED, "L-6"),
        (hr::CERT_NO_ACCESS_PRIVATE_KEY, "X-1"),
        (hr::BG_E_HTTP_ERROR_401, "X-3"),
        (hr::BG_E_HTTP_ERROR_407, "X-3"),
        (hr::CERT_NEEDED, "X-4"),
    ]
    .into_iter()
    .find(|(c, _)| *c == code)
    .map(|(_, r)| r)
}

/// The reference's job.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Job {
    pub profile: Profile,
    pub owner: Who,
    /// L-11: one logged-on state per user SID (the service accounts always are).
    pub sessions: BTreeMap<Sid, bool>,
    pub job_type: JobType,
    pub remote: Remote,
    pub state: JobState,
    pub error: Option<(HResult, &'static str)>,
    pub flags: u32,
    pub helper: Option<Who>,
    pub certificate: bool,
    pub creds: Creds,
    pub proxy: ProxyUsage,
    pub use_lm_compat: UseLmCompat,
    pub lm_compatibility_level: u32,
    /// R-6: Kerberos is available in the domain.
    pub kerberos: bool,
    pub challenges: Vec<(AuthTarget, AuthScheme)>,
    pub ie: IeSettings,
    /// T-7, L-9, L-15: the job holds its one file.
    pub has_file: bool,
    /// L-13: the network is connected.
    pub network: bool,
    /// X-4.
    pub server_requests_certificate: bool,
    /// R-3 (iv).
    pub use_stored_credentials: bool,
}

/// What an event or a step answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Answer {
    pub hresult: HResult,
    pub rule: &'static str,
    pub value: Option<StepValue>,
    /// Contract §1.7: a step through a handle whose QueryInterface was refused.
    pub skipped: bool,
    /// Contract §2.1: X-1's predicted failure on an accepted SetHelperTokenFlags.
    pub transfer_failure: Option<(HResult, &'static str)>,
}

/// A getter's or a route question's value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StepValue {
    Flags(u32),
    Sid(Option<Sid>),
    /// Who answers, and for a whole challenge the scheme chosen (X-3).
    Route(Used, Option<AuthScheme>),
}

fn answer(hresult: HResult, rule: &'static str) -> Answer {
    Answer {
        hresult,
        rule,
        value: None,
        skipped: false,
        transfer_failure: None,
    }
}

impl Job {
    /// T-7 / T-1: a fresh job is SUSPENDED with flags 0, no helper token, holding its file;
    /// the crate's documented defaults for the rest (no credentials, network connected).
    /// The owner's user is logged on.
    pub fn new(profile: Profile, owner: Who) -> Job {
        let mut sessions = BTreeMap::new();
        sessions.insert(owner.sid, true);
        Job {
            profile,
            owner,
            sessions,
            job_type: JobType::Download,
            remote: Remote::Https,
            state: JobState::Suspended,
            error: None,
            flags: 0,
            helper: None,
            certificate: false,
            creds: Creds::default(),
            proxy: ProxyUsage::Preconfig,
            use_lm_compat: UseLmCompat::AfterSetCredentials,
            lm_compatibility_level: 3,
            kerberos: true,
            challenges: Vec::new(),
            ie: IeSettings::Direct,
            has_file: true,
            network: true,
            server_requests_certificate: false,
            use_stored_credentials: false,
        }
    }

    /// L-11: whether this user is logged on (the service accounts always are; a user the
    /// job never heard of is not).
    pub fn logged_on(&self, sid: Sid) -> bool {
        is_service_account(sid) || self.sessions.get(&sid).copied().unwrap_or(false)
    }

    pub fn set_logged_on(&mut self, sid: Sid, on: bool) {
        self.sessions.insert(sid, on);
    }

    /// L-8, L-11: the current owner's user.
    pub fn owner_logged_on(&self) -> bool {
        self.logged_on(self.owner.sid)
    }

    /// Contract §1.6: an absent caller is the owner as the job remembers it — its SID,
    /// administrator status, recorded elevation and integrity level, not restricted, and
    /// the owner user's logged-on state.
    pub fn owner_caller(&self, level: ImpersonationLevel) -> JobCaller {
        JobCaller {
            who: Who {
                restricted: false,
                ..self.owner
            },
            level,
            logged_on: self.owner_logged_on(),
        }
    }

    /// A named caller at call time (A-12).
    pub fn caller_of(&self, token: &TokenInfo, level: ImpersonationLevel) -> JobCaller {
        JobCaller {
            who: Who::of(token),
            level,
            logged_on: self.logged_on(token.user),
        }
    }

    pub fn facts(&self) -> Facts {
        Facts {
            owner: self.owner,
            state: self.state,
            flags: self.flags,
            helper: self.helper,
            certificate: self.certificate,
            remote: self.remote,
        }
    }

    pub fn transfer_facts(&self) -> TransferFacts {
        TransferFacts {
            owner: self.owner.sid,
            flags: self.flags,
            helper: self.helper.map(|h| h.sid),
            certificate: self.certificate,
            remote: self.remote,
            job_type: self.job_type,
            creds: self.creds,
            proxy: self.proxy,
            use_lm_compat: self.use_lm_compat,
            lm_compatibility_level: self.lm_compatibility_level,
            challenges: self.challenges.clone(),
            use_stored_credentials: self.use_stored_credentials,
            server_requests_certificate: self.server_requests_certificate,
            ie: self.ie,
            eager: self.profile.knobs.token_check == TokenCheck::Eager,
            kerberos: self.kerberos,
            service_proxy_computer: self.profile.knobs.service_proxy_credentials
                == ServiceProxyCredentials::Computer,
        }
    }

    /// A method call through a handle that remembers `caller` (A-1), at the call's level,
    /// applied.
    pub fn call(&mut self, caller: Who, level: ImpersonationLevel, call: Call) -> Decision {
        let d = decide_at(&self.profile, caller, level, &self.facts(), call);
        match d.effect {
            Effect::None => {}
            Effect::StoreFlags(f) => self.flags = f,
            Effect::StoreHelper(t) => self.helper = Some(t),
            Effect::ClearHelper => self.helper = None,
        }
        d
    }

    /// T-7: a done job refuses every change with `BG_E_INVALID_STATE`, whatever the Q-3
    /// knob (which is about the three methods only).
    fn refused_when_done(&self) -> Option<Answer> {
        state_row(self.state)
            .done
            .then(|| answer(hr::BG_E_INVALID_STATE, "T-7"))
    }

    /// A-10 for the job methods: (A-2 for SetProperty) → A-9 → A-11 (every job method
    /// changes the job: (a) and (b)) → A-14 (Q-5) → A-13 (Q-5). `None`: the caller passes.
    ///
    /// Documented choice: SetProperty's IDENTIFY refusal is A-9's step of A-10's job-method
    /// order ("→ A-9 →", one step), so before the gate.
    pub fn guard(&self, c: &JobCaller, method: JobMethod) -> Option<Answer> {
        let &(_, owner_only, job5, impersonates) = JOB_METHODS
            .iter()
            .find(|r| r.0 == method)
            .unwrap_or_else(|| panic!("no row for {method:?}"));
        let denial = self.profile.knobs.denial.get();
        if job5 && release_class(self.profile.release) == PRE_BITS4 {
            return Some(answer(hr::E_NOINTERFACE, "A-2"));
        }
        if is_anonymous(c.level) || (impersonates && !can_impersonate(c.level)) {
            return Some(answer(hr::E_ACCESSDENIED, "A-9"));
        }
        if gate_class(c.who, self.owner, GateCall::Change) != GATE_PASSES {
            return Some(answer(hr::E_ACCESSDENIED, "A-11"));
        }
        if c.who.restricted {
            return Some(answer(denial, "A-14"));
        }
        let owns = c.who.sid == self.owner.sid;
        if !owns && (owner_only || !c.who.admin) {
            return Some(answer(denial, "A-13"));
        }
        None
    }

    /// A job method by `c`: [`Job::guard`], the done-job check (T-7), the method's rules.
    pub fn job_call(&mut self, c: &JobCaller, call: JobCall) -> Result<Answer, SecondFile> {
        if let Some(refused) = self.guard(c, call.method()) {
            return Ok(refused);
        }
        if let Some(refused) = self.refused_when_done() {
            return Ok(refused);
        }
        Ok(match call {
            JobCall::Resume => self.resume(),
            JobCall::Suspend => self.suspend(),
            JobCall::Cancel => self.cancel(),
            JobCall::Complete => self.complete(),
            JobCall::AddFile => return self.add_file(c),
            JobCall::SetCredentials(target, scheme, credential) => {
                let rule = match credential {
                    Credential::Implicit => "R-3",
                    Credential::Explicit => "R-5",
                };
                match self.creds.set(target, scheme, credential) {
                    Ok(()) => answer(hr::S_OK, rule),
                    Err(code) => answer(code, rule),
                }
            }
            // RemoveCredentials: S_FALSE when nothing was set for the pair.
            JobCall::RemoveCredentials(target, scheme) => {
                if self.creds.get(target, scheme).is_none() {
                    answer(hr::S_FALSE, "R-5")
                } else {
                    self.creds.remove(target, scheme);
                    answer(hr::S_OK, "R-5")
                }
            }
            JobCall::SetProxyUsage(usage) => {
                self.proxy = usage;
                answer(hr::S_OK, "R-7")
            }
            // RemoveClientCertificate: S_FALSE when none is set.
            JobCall::SetClientCertificate(false) if !self.certificate => answer(hr::S_FALSE, "R-4"),
            JobCall::SetClientCertificate(present) => {
                self.certificate = present;
                answer(hr::S_OK, "R-4")
            }
            JobCall::UseStoredCredentials => {
                self.use_stored_credentials = true;
                answer(hr::S_OK, "R-3")
            }
        })
    }

    /// L-5: the owner logs off. BITS discards the token; an unfinished job with non-zero
    /// flags goes to ERROR with `BG_E_TOKEN_REQUIRED`. L-8: a CONNECTING or TRANSFERRING
    /// job that L-5 does not put in ERROR goes back to QUEUED. Never refused.
    pub fn logoff_owner(&mut self) -> Answer {
        // L-5, L-11: the service accounts never log off.
        if is_service_account(self.owner.sid) {
            return answer(hr::S_OK, "L-5");
        }
        let running = matches!(self.state, JobState::Connecting | JobState::Transferring);
        let held = self.helper.is_some();
        self.sessions.insert(self.owner.sid, false);
        if held {
            self.discard();
        }
        if running && self.state != JobState::Error {
            self.state = JobState::Queued;
        }
        answer(hr::S_OK, if held { "L-5" } else { "L-8" })
    }

    /// L-5: BITS discards the helper token; a job that held one, is not finished and has
    /// non-zero flags goes to ERROR with `BG_E_TOKEN_REQUIRED`.
    fn discard(&mut self) {
        if self.helper.take().is_some() && !state_row(self.state).finished && self.flags != 0 {
            self.state = JobState::Error;
            self.error = Some((hr::BG_E_TOKEN_REQUIRED, "L-5"));
        }
    }

    /// L-8: the owner logs on (its user, L-11).
    pub fn logon_owner(&mut self) -> Answer {
        self.sessions.insert(self.owner.sid, true);
        answer(hr::S_OK, "L-8")
    }

    /// L-5: the helper token's session ends, or the service stops: the token is
    /// discarded (a job without one is untouched).
    pub fn helper_session_ended(&mut self) -> Answer {
        self.discard();
        answer(hr::S_OK, "L-5")
    }

    /// L-9 (after the guard and T-7): no files → `BG_E_EMPTY`, no change; SUSPENDED, ERROR,
    /// TRANSIENT_ERROR → QUEUED, error cleared; the rest `S_OK`, no change.
    pub fn resume(&mut self) -> Answer {
        if let Some(refused) = self.refused_when_done() {
            return refused;
        }
        if !self.has_file {
            return answer(hr::BG_E_EMPTY, "L-9");
        }
        if state_row(self.state).resume_queues {
            self.state = JobState::Queued;
            self.error = None;
        }
        answer(hr::S_OK, "L-9")
    }

    /// L-12.
    pub fn suspend(&mut self) -> Answer {
        if let Some(refused) = self.refused_when_done() {
            return refused;
        }
        let state = self.state;
        let moves = L12
            .iter()
            .find(|r| r.0 == state)
            .unwrap_or_else(|| panic!("no L-12 row for {state:?}"))
            .1;
        if moves {
            self.state = JobState::Suspended;
            self.error = None;
        }
        answer(hr::S_OK, "L-12")
    }

    /// L-15 (after the guard): done → T-7; the caller's user not logged on → 0x800704DD;
    /// an upload or upload-reply holding its file → `BG_E_TOO_MANY_FILES`; an SMB file on
    /// an upload-reply → `E_INVALIDARG` (T-7); a download holding its file → outside the
    /// model; else the job holds its file.
    pub fn add_file(&mut self, c: &JobCaller) -> Result<Answer, SecondFile> {
        if let Some(refused) = self.refused_when_done() {
            return Ok(refused);
        }
        if !c.logged_on {
            return Ok(answer(hr::ERROR_NOT_LOGGED_ON, "L-15"));
        }
        let upload = matches!(self.job_type, JobType::Upload | JobType::UploadReply);
        if self.has_file && upload {
            return Ok(answer(hr::BG_E_TOO_MANY_FILES, "L-15"));
        }
        if self.job_type == JobType::UploadReply && remote_is_smb(self.remote) {
            return Ok(answer(hr::E_INVALIDARG, "T-7"));
        }
        if self.has_file {
            return Err(SecondFile);
        }
        self.has_file = true;
        Ok(answer(hr::S_OK, "L-15"))
    }

    /// L-13: the network is lost.
    pub fn network_lost(&mut self) -> Answer {
        self.network = false;
        let state = self.state;
        if L13_LOST.iter().any(|r| r.0 == state && r.1) {
            self.state = JobState::TransientError;
            self.error = Some((hr::BG_E_NETWORK_DISCONNECTED, "L-13"));
        }
        answer(hr::S_OK, "L-13")
    }

    /// L-13: the network returns; TRANSIENT_ERROR jobs, whatever their error, are QUEUED.
    pub fn network_restored(&mut self) -> Answer {
        self.network = true;
        if self.state == JobState::TransientError {
            self.state = JobState::Queued;
            self.error = None;
        }
        answer(hr::S_OK, "L-13")
    }

    /// L-14, in the contract's order of checks.
    pub fn start_transfer(&mut self, to: StartTo) -> Answer {
        if let Some(refused) = self.refused_when_done() {
            return refused;
        }
        let target = match to {
            StartTo::Connecting => JobState::Connecting,
            StartTo::Transferring => JobState::Transferring,
        };
        let state = self.state;
        let may = L14_FROM.iter().any(|r| r.0 == state && r.1);
        if !may || (state == JobState::Connecting && target == JobState::Connecting) {
            return answer(hr::S_FALSE, "T-7");
        }
        if !self.owner_logged_on() {
            return answer(hr::S_FALSE, "L-8");
        }
        if !self.network {
            return answer(hr::S_FALSE, "L-13");
        }
        if self.profile.knobs.token_check == TokenCheck::Eager
            && self.flags != 0
            && self.helper.is_none()
        {
            self.state = JobState::Error;
            self.error = Some((hr::BG_E_TOKEN_REQUIRED, "L-6"));
            return answer(hr::BG_E_TOKEN_REQUIRED, "L-6");
        }
        self.state = target;
        self.error = None;
        answer(hr::S_OK, "L-14")
    }

    /// Documented choice (`Job::transfer`): a whole run, ending as [`transfer`] plans; the
    /// job error is also the answer. L-8: not while the owner is logged off; L-13: not
    /// while the network is down (checked after, as the contract orders).
    pub fn transfer(&mut self) -> Answer {
        if let Some(refused) = self.refused_when_done() {
            return refused;
        }
        if !state_row(self.state).transfer_runs {
            return answer(hr::S_FALSE, "T-7");
        }
        if !self.owner_logged_on() {
            return answer(hr::S_FALSE, "L-8");
        }
        if !self.network {
            return answer(hr::S_FALSE, "L-13");
        }
        match transfer(self.profile.release, &self.transfer_facts()).failure {
            None => {
                self.state = JobState::Transferred;
                self.error = None;
                answer(hr::S_OK, "T-7")
            }
            Some((code, rule)) => {
                self.state = JobState::Error;
                self.error = Some((code, rule));
                answer(code, rule)
            }
        }
    }

    /// Documented choice (`Job::cancel`): any job not done becomes CANCELLED.
    pub fn cancel(&mut self) -> Answer {
        if let Some(refused) = self.refused_when_done() {
            return refused;
        }
        self.state = JobState::Cancelled;
        self.error = None;
        answer(hr::S_OK, "T-7")
    }

    /// L-10: TRANSFERRED → the files are renamed (as the helper with LOCAL_FILE, R-1;
    /// without a stored token `BG_E_TOKEN_REQUIRED` and the job stays TRANSFERRED), then
    /// ACKNOWLEDGED with `S_OK`; a download not transferred → ACKNOWLEDGED with
    /// `BG_S_PARTIAL_COMPLETE` (no helper needed); an upload or upload-reply not
    /// transferred → `BG_E_INVALID_STATE`, nothing changes.
    pub fn complete(&mut self) -> Answer {
        if let Some(refused) = self.refused_when_done() {
            return refused;
        }
        let renames = self.job_type != JobType::Upload;
        if self.state == JobState::Transferred {
            if renames && self.flags & LOCAL_FILE != 0 && self.helper.is_none() {
                return answer(hr::BG_E_TOKEN_REQUIRED, "L-10");
            }
            self.state = JobState::Acknowledged;
            self.error = None;
            return answer(hr::S_OK, "L-10");
        }
        if self.job_type == JobType::Download {
            self.state = JobState::Acknowledged;
            self.error = None;
            return answer(hr::BG_S_PARTIAL_COMPLETE, "L-10");
        }
        answer(hr::BG_E_INVALID_STATE, "L-10")
    }

    /// L-7 with A-10's order: A-9 (ANONYMOUS) → A-11 (a change) → A-14 (Q-5) → an elevated
    /// administrator (else `E_ACCESSDENIED`) → a job not done (else `BG_E_INVALID_STATE`).
    /// The caller becomes the owner (elevation and integrity recorded, T-9); credentials and
    /// the client certificate go (`USE_STORED_CREDENTIALS` stays: a job property, contract
    /// §2.2); the helper token and flags as Q-6 says; the job follows the new owner's logon
    /// state, a CONNECTING or TRANSFERRING job going back to QUEUED when it is not logged on.
    pub fn take_ownership(&mut self, c: &JobCaller) -> Answer {
        if is_anonymous(c.level) {
            return answer(hr::E_ACCESSDENIED, "A-9");
        }
        if gate_class(c.who, self.owner, GateCall::Change) != GATE_PASSES {
            return answer(hr::E_ACCESSDENIED, "A-11");
        }
        if c.who.restricted {
            return answer(self.profile.knobs.denial.get(), "A-14");
        }
        if !(c.who.admin && c.who.elevated) {
            return answer(hr::E_ACCESSDENIED, "L-7");
        }
        if let Some(refused) = self.refused_when_done() {
            return refused;
        }
        self.owner = c.who;
        self.creds = Creds::default();
        self.certificate = false;
        match self.profile.knobs.take_ownership {
            // Q-6 default: the token goes, the flags stay.
            TakeOwnership::DropToken => self.helper = None,
            TakeOwnership::Keep => {}
            TakeOwnership::Clear => {
                self.helper = None;
                self.flags = 0;
            }
            other => panic!("no row for Q-6 {other:?}"),
        }
        let running = matches!(self.state, JobState::Connecting | JobState::Transferring);
        if running && !self.owner_logged_on() {
            self.state = JobState::Queued;
        }
        answer(hr::S_OK, "Q-6")
    }

    /// A `route` question on the job as it is now. The `hresult` reports only routing
    /// failures: L-6, and challenges nobody answers (401/407).
    pub fn route(&self, access: Access) -> Answer {
        let (used, rule, scheme) = route_full(self.profile.release, &self.transfer_facts(), access);
        let target = match access {
            Access::ServerChallenge(_) | Access::WholeChallenge(AuthTarget::Server) => {
                Some(AuthTarget::Server)
            }
            Access::ProxyChallenge(_) | Access::WholeChallenge(AuthTarget::Proxy) => {
                Some(AuthTarget::Proxy)
            }
            _ => None,
        };
        let hresult = match (used, target) {
            (Used::TokenRequired(_), _) => hr::BG_E_TOKEN_REQUIRED,
            (
                Used::NoImplicitCredentials | Used::Anonymous | Used::Unanswered,
                Some(AuthTarget::Server),
            ) => hr::BG_E_HTTP_ERROR_401,
            (
                Used::NoImplicitCredentials | Used::Anonymous | Used::Unanswered,
                Some(AuthTarget::Proxy),
            ) => hr::BG_E_HTTP_ERROR_407,
            _ => hr::S_OK,
        };
        Answer {
            value: Some(StepValue::Route(used, scheme)),
            ..answer(hresult, rule)
        }
    }
}

/// What the reference's scenario run produced.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Transcript {
    pub results: Vec<Answer>,
    pub job: Job,
}

fn decision_answer(d: Decision) -> Answer {
    let value = match d.value {
        Value::None => None,
        Value::Flags(f) => Some(StepValue::Flags(f)),
        Value::HelperSid(s) => Some(StepValue::Sid(s)),
    };
    Answer {
        value,
        transfer_failure: d.transfer_failure,
        ..answer(d.hresult, d.rule)
    }
}

/// A handle: obtained (remembering its caller, A-1), or refused at QueryInterface (its
/// steps are answered with that refusal, `skipped`, contract §1.7).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Handle {
    Obtained(Who),
    Refused(HResult, &'static str),
}

/// Replays a scenario on the reference's job.
///
/// Documented choices (the `scenario` module's step docs): the owner is elevated as
/// `job.owner_elevated` says, else by T-5 of its token; a handle obtained where the
/// interface does not exist still names its caller, and its calls are refused by A-2; the
/// network-setting steps answer `S_OK` under the rule they feed (`set_credentials` R-3 when
/// NULL, R-5 when explicit — `E_INVALIDARG` for a NULL Basic/Digest —, `remove_credentials`
/// R-5, `set_proxy_usage` R-7, `set_client_certificate` R-4, `set_job_property` R-3).
/// `Err(step)`: the scenario is invalid at that step (1-based; 0 for the job itself).
pub fn run(s: &Scenario) -> Result<Transcript, usize> {
    let token = |name: &str| -> &TokenInfo {
        s.tokens
            .get(name)
            .unwrap_or_else(|| panic!("scenario names unknown token {name:?}"))
    };
    let spec = &s.job;
    let owner_token = token(&spec.owner);
    // A-14: a job owned by a restricted token cannot exist.
    if !owner_token.restricting_sids.is_empty() {
        return Err(0);
    }
    // T-9: the job remembers its owner's elevation and integrity level, as the scenario
    // states them or as the owner's token has them.
    let of_token = Who::of(owner_token);
    let owner = Who {
        elevated: spec.owner_elevated.unwrap_or(of_token.elevated),
        integrity: spec.owner_integrity.map_or(of_token.integrity, level_rid),
        ..of_token
    };
    let profile = Profile::new(s.release).with_knobs(s.knobs);
    let mut job = Job::new(profile, owner);
    job.job_type = spec.job_type;
    job.remote = spec.remote;
    job.certificate = spec.client_certificate;
    job.proxy = spec.proxy;
    // X-3, R-7: the challenges and IE settings the scenario describes.
    for t in TARGETS {
        for sc in all_schemes() {
            if spec.challenges.asks(t, sc) {
                job.challenges.push((t, sc));
            }
        }
    }
    job.ie = spec.ie_settings;
    job.has_file = spec.has_file;
    // T-7: SMB serves downloads and uploads, never upload-reply: no such job holds a file
    // (with `files: 0` it exists, and its AddFile fails).
    if spec.job_type == JobType::UploadReply && remote_is_smb(spec.remote) && spec.has_file {
        return Err(0);
    }
    job.use_lm_compat = s.environment.use_lm_compat;
    job.lm_compatibility_level = s.environment.lm_compatibility_level.value();
    job.kerberos = s.environment.kerberos;
    job.network = s.environment.network == NetworkState::Connected;
    job.server_requests_certificate = spec.server_requests_certificate;
    // A-2: USE_STORED_CREDENTIALS needs IBackgroundCopyJob5.
    if spec.use_stored_credentials && release_class(s.release) == PRE_BITS4 {
        return Err(0);
    }
    job.use_stored_credentials = spec.use_stored_credentials;
    // Contract §1.5b: the job as it is now.
    if spec.flags & !KNOWN_FLAGS != 0 {
        return Err(0);
    }
    job.flags = spec.flags;
    job.state = spec.state;
    job.error = match (spec.state, spec.error) {
        (JobState::Error, Some(code)) => Some((code, error_rule(code).ok_or(0usize)?)),
        // Documented choice: a transient error's rule is L-13's (the rule is not an output).
        (JobState::TransientError, Some(code)) if code.as_u32() & 0x8000_0000 != 0 => {
            Some((code, "L-13"))
        }
        (JobState::Error | JobState::TransientError, _) => return Err(0),
        (_, Some(_)) => return Err(0),
        (_, None) => None,
    };
    if !spec.has_file
        && !matches!(
            spec.state,
            JobState::Suspended | JobState::Cancelled | JobState::Acknowledged
        )
    {
        return Err(0);
    }
    job.helper = spec.helper_token.as_deref().map(|n| Who::of(token(n)));
    for t in TARGETS {
        for sc in all_schemes() {
            if let Some(c) = spec.credentials.get(t, sc) {
                job.creds.0[target_index(t)][scheme_index(sc)] = Some(c);
            }
        }
    }
    // L-11: at the start a user is logged on when it is a service account or one of its
    // tokens counts; `owner_logged_on` states the owner's.
    job.sessions.clear();
    for t in s.tokens.values() {
        let counts = logon_counts(s.release, t);
        *job.sessions.entry(t.user).or_insert(false) |= counts;
    }
    if let Some(on) = spec.owner_logged_on {
        if !on && is_service_account(owner.sid) {
            return Err(0);
        }
        job.sessions.insert(owner.sid, on);
    }

    let mut handles: BTreeMap<HandleName, Handle> = BTreeMap::new();
    let mut results = Vec::with_capacity(s.steps.len());
    for (i, step) in s.steps.iter().enumerate() {
        let invalid = i + 1;
        // The step's level (T-10): `can_impersonate` is contract 2's form of it.
        let level = match step {
            Step::SetHelperToken {
                can_impersonate,
                level,
                ..
            } => match (can_impersonate, level) {
                (Some(_), Some(_)) => return Err(invalid),
                (Some(true), None) => ImpersonationLevel::Impersonate,
                (Some(false), None) => ImpersonationLevel::Identify,
                (None, l) => l.unwrap_or(DEFAULT_LEVEL),
            },
            Step::QueryInterface { level, .. }
            | Step::SetHelperTokenFlags { level, .. }
            | Step::GetHelperTokenFlags { level, .. }
            | Step::ClearHelperToken { level, .. }
            | Step::GetHelperTokenSid { level, .. }
            | Step::TakeOwnership { level, .. }
            | Step::Resume { level, .. }
            | Step::Suspend { level, .. }
            | Step::Cancel { level, .. }
            | Step::Complete { level, .. }
            | Step::AddFile { level, .. }
            | Step::SetCredentials { level, .. }
            | Step::RemoveCredentials { level, .. }
            | Step::SetProxyUsage { level, .. }
            | Step::SetClientCertificate { level, .. }
            | Step::SetJobProperty { level, .. } => level.unwrap_or(DEFAULT_LEVEL),
            _ => DEFAULT_LEVEL,
        };
        // The five handle steps: through an obtained handle, or skipped (§1.7).
        let through = match step {
            Step::SetHelperTokenFlags { handle, .. }
            | Step::GetHelperTokenFlags { handle, .. }
            | Step::SetHelperToken { handle, .. }
            | Step::ClearHelperToken { handle, .. }
            | Step::GetHelperTokenSid { handle, .. } => Some(handle),
            _ => None,
        };
        let caller = match through {
            None => None,
            Some(h) => match handles.get(h) {
                None => return Err(invalid),
                Some(Handle::Refused(code, rule)) => {
                    results.push(Answer {
                        skipped: true,
                        ..answer(*code, rule)
                    });
                    continue;
                }
                Some(Handle::Obtained(who)) => Some(*who),
            },
        };
        // A job-method step's caller: named, or the owner as the job remembers it (A-12).
        let method_caller = |job: &Job, name: &Option<String>| match name {
            Some(n) => job.caller_of(token(n), level),
            None => job.owner_caller(level),
        };
        let a = match step {
            Step::QueryInterface { caller, handle, .. } => {
                if handles.contains_key(handle) {
                    return Err(invalid);
                }
                let who = Who::of(token(caller));
                let (hresult, rule) = query_interface_at(&profile, who, level, job.owner);
                // A-2 still names its caller, so one scenario runs on every release.
                let h = if hresult == hr::S_OK || rule == "A-2" {
                    Handle::Obtained(who)
                } else {
                    Handle::Refused(hresult, rule)
                };
                handles.insert(handle.clone(), h);
                answer(hresult, rule)
            }
            Step::SetHelperTokenFlags { flags, .. } => {
                decision_answer(job.call(caller.expect("a handle"), level, Call::SetFlags(*flags)))
            }
            Step::GetHelperTokenFlags { .. } => {
                decision_answer(job.call(caller.expect("a handle"), level, Call::GetFlags))
            }
            Step::SetHelperToken { impersonating, .. } => {
                let t = Who::of(token(impersonating));
                decision_answer(job.call(caller.expect("a handle"), level, Call::SetToken(Some(t))))
            }
            Step::ClearHelperToken { .. } => {
                decision_answer(job.call(caller.expect("a handle"), level, Call::Clear))
            }
            Step::GetHelperTokenSid { .. } => {
                decision_answer(job.call(caller.expect("a handle"), level, Call::GetSid))
            }
            Step::LogoffOwner {} => job.logoff_owner(),
            Step::LogonOwner {} => job.logon_owner(),
            Step::HelperSessionEnded {} | Step::ServiceStop {} => job.helper_session_ended(),
            Step::Transfer {} => job.transfer(),
            Step::StartTransfer { to } => job.start_transfer(to.unwrap_or(StartTo::Transferring)),
            Step::NetworkLost {} => job.network_lost(),
            Step::NetworkRestored {} => job.network_restored(),
            Step::TakeOwnership { caller, .. } => {
                let c = job.caller_of(token(caller), level);
                job.take_ownership(&c)
            }
            Step::Route { access } => job.route(*access),
            Step::Resume { caller, .. }
            | Step::Suspend { caller, .. }
            | Step::Cancel { caller, .. }
            | Step::Complete { caller, .. }
            | Step::AddFile { caller, .. }
            | Step::SetCredentials { caller, .. }
            | Step::RemoveCredentials { caller, .. }
            | Step::SetProxyUsage { caller, .. }
            | Step::SetClientCertificate { caller, .. }
            | Step::SetJobProperty { caller, .. } => {
                let c = method_caller(&job, caller);
                let call = match step {
                    Step::Resume { .. } => JobCall::Resume,
                    Step::Suspend { .. } => JobCall::Suspend,
                    Step::Cancel { .. } => JobCall::Cancel,
                    Step::Complete { .. } => JobCall::Complete,
                    Step::AddFile { .. } => JobCall::AddFile,
                    Step::SetCredentials {
                        target,
                        scheme,
                        credential,
                        ..
                    } => JobCall::SetCredentials(*target, *scheme, *credential),
                    Step::RemoveCredentials { target, scheme, .. } => {
                        JobCall::RemoveCredentials(*target, *scheme)
                    }
                    Step::SetProxyUsage { usage, .. } => JobCall::SetProxyUsage(*usage),
                    Step::SetClientCertificate { present, .. } => {
                        JobCall::SetClientCertificate(*present)
                    }
                    _ => JobCall::UseStoredCredentials,
                };
                job.job_call(&c, call).map_err(|SecondFile| invalid)?
            }
            other => panic!("the reference has no row for step {other:?}"),
        };
        results.push(a);
    }
    Ok(Transcript { results, job })
}
