//! The decisions: one pure function per `IBitsTokenOptions` method (SPEC §2, §3, X-1).
//!
//! Every function takes the [`Profile`], the caller [`Identity`] remembered when the
//! interface was obtained (A-1, never the thread token at call time), the [`JobFacts`] and
//! the call's arguments, and returns a [`Decision`]: the `HRESULT` the method returns, the
//! [`Rule`] that decided (with the facts that made it decide), the [`Effect`] on the job,
//! the [`Value`] a getter returns, and — for `SetHelperTokenFlags` — the transfer-time
//! failure the accepted flags will certainly cause (X-1).
//!
//! They do no I/O, never allocate and never panic. The checks run in the order of A-10:
//! interface availability (A-2) → access (A-4…A-6, A-8, Q-2, Q-7) → job state (Q-3) →
//! argument validation (Q-1) → impersonation (A-9) → veto on the new token (A-7) →
//! effect. A refused call has [`Effect::None`].
#![forbid(unsafe_code)]
// Decisions are plain values on the stack (a `Sid` is 68 bytes inline, so a `Decision`
// is a few hundred): returning them by value is the allocation-free design, not a mistake.
#![allow(clippy::result_large_err)]

use crate::hresult::HResult;
use crate::profile::{AdminBypass, DoneJobs, LegacySetToken, Profile, Release, UnknownFlags};
use crate::sid::Sid;
use crate::state::{JobState, Remote};
use crate::token::Identity;
use crate::usage::TokenUsage;
use core::fmt;

/// The five methods of `IBitsTokenOptions`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // the interface has exactly these five methods
pub enum Method {
    /// `SetHelperTokenFlags(UsageFlags)`.
    SetHelperTokenFlags,
    /// `GetHelperTokenFlags(&UsageFlags)`.
    GetHelperTokenFlags,
    /// `SetHelperToken()`.
    SetHelperToken,
    /// `ClearHelperToken()`.
    ClearHelperToken,
    /// `GetHelperTokenSid(&pSid)`.
    GetHelperTokenSid,
}

impl Method {
    /// All five methods, in the order of the interface.
    pub const ALL: [Method; 5] = [
        Method::SetHelperTokenFlags,
        Method::GetHelperTokenFlags,
        Method::SetHelperToken,
        Method::ClearHelperToken,
        Method::GetHelperTokenSid,
    ];

    /// The method's name as in `bits4_0.h`.
    pub const fn name(self) -> &'static str {
        match self {
            Method::SetHelperTokenFlags => "SetHelperTokenFlags",
            Method::GetHelperTokenFlags => "GetHelperTokenFlags",
            Method::SetHelperToken => "SetHelperToken",
            Method::ClearHelperToken => "ClearHelperToken",
            Method::GetHelperTokenSid => "GetHelperTokenSid",
        }
    }

    /// Whether the method changes the job (the three Q-3 applies to).
    pub const fn is_mutating(self) -> bool {
        matches!(
            self,
            Method::SetHelperTokenFlags | Method::SetHelperToken | Method::ClearHelperToken
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the decisions read of a job. `Copy`, so embedders with their own job store can
/// build one per call for free.
///
/// ```
/// use bits_helper_token::{Identity, JobFacts, JobState, Remote, TokenUsage};
/// let job = JobFacts::new(Identity::NETWORK_SERVICE);
/// assert_eq!(job.state, JobState::Suspended); // a fresh job (T-7)
/// assert_eq!(job.flags, TokenUsage::empty()); // a fresh job has 0 (T-1)
/// assert_eq!(job.remote, Remote::Https);
/// assert!(job.helper.is_none() && !job.client_certificate);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct JobFacts {
    /// The job's owner: its SID and whether it is elevated.
    pub owner: Identity,
    /// The job's state (T-7).
    pub state: JobState,
    /// The usage flags stored on the job.
    pub flags: TokenUsage,
    /// The helper token stored on the job, if any.
    pub helper: Option<Identity>,
    /// Whether a client certificate is set (X-1).
    pub client_certificate: bool,
    /// The protocol of the remote files (X-1 needs HTTP).
    pub remote: Remote,
}

impl JobFacts {
    /// A fresh job of this owner: SUSPENDED, flags `0`, no helper token, no client
    /// certificate, HTTPS.
    pub const fn new(owner: Identity) -> JobFacts {
        JobFacts {
            owner,
            state: JobState::Suspended,
            flags: TokenUsage::empty(),
            helper: None,
            client_certificate: false,
            remote: Remote::Https,
        }
    }

    /// The same job in another state.
    pub const fn with_state(self, state: JobState) -> JobFacts {
        JobFacts { state, ..self }
    }

    /// The same job with these stored flags.
    pub const fn with_flags(self, flags: TokenUsage) -> JobFacts {
        JobFacts { flags, ..self }
    }

    /// The same job with this stored helper token (or none).
    pub const fn with_helper(self, helper: Option<Identity>) -> JobFacts {
        JobFacts { helper, ..self }
    }

    /// The same job with or without a client certificate.
    pub const fn with_client_certificate(self, client_certificate: bool) -> JobFacts {
        JobFacts {
            client_certificate,
            ..self
        }
    }

    /// The same job over another protocol.
    pub const fn with_remote(self, remote: Remote) -> JobFacts {
        JobFacts { remote, ..self }
    }
}

/// What `SetHelperToken` obtains when it impersonates its COM client (A-9).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(clippy::exhaustive_enums)] // either BITS can impersonate the client or it cannot
pub enum Impersonation {
    /// The client allows impersonation; this is the token it is impersonating at call time.
    Allowed(Identity),
    /// The client's COM security does not allow impersonate-level access.
    Denied,
}

impl Impersonation {
    /// The client allows impersonation and is impersonating `token`.
    pub fn of<T: crate::token::Token + ?Sized>(token: &T) -> Impersonation {
        Impersonation::Allowed(Identity::of(token))
    }
}

/// The rule that decided, with the facts behind it. [`Rule::id`] is the SPEC id;
/// [`Display`](fmt::Display) is a plain-English sentence that cites it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Rule {
    /// A-2: the release has no `IBitsTokenOptions`.
    InterfaceUnavailable {
        /// The release modelled.
        release: Release,
    },
    /// A-4: before 1607 the caller must be an administrator, and is not.
    LegacyCallerNotAdministrator {
        /// The remembered caller.
        caller: Sid,
    },
    /// A-4 (second sentence, Q-7): before 1607 only an elevated owner's job may get a
    /// helper token, and this owner is not elevated.
    LegacyOwnerNotElevated {
        /// The job's owner.
        owner: Sid,
    },
    /// A-4: before 1607, allowed because the caller is an administrator.
    LegacyAdministrator {
        /// The remembered caller.
        caller: Sid,
    },
    /// Q-7 (knob `OwnerOnly`): before 1607, `SetHelperToken` allowed because the owner is
    /// elevated.
    LegacyOwnerElevated {
        /// The job's owner.
        owner: Sid,
    },
    /// A-5: a non-administrator caller on a job it does not own.
    NotJobOwner {
        /// The remembered caller.
        caller: Sid,
        /// The job's owner.
        owner: Sid,
    },
    /// A-5: allowed because the caller owns the job (and, for the setters, no veto
    /// applies).
    OwnerCaller {
        /// The remembered caller, the job's owner.
        caller: Sid,
    },
    /// Q-2: allowed because the caller is an administrator, who skips the owner rule
    /// (and, by default, the vetoes).
    AdministratorCaller {
        /// The remembered caller.
        caller: Sid,
    },
    /// A-6: the stored helper token has the administrators SID enabled, and the caller may
    /// not change its flags.
    StoredTokenIsAdministrator {
        /// The stored helper token's user.
        token: Sid,
    },
    /// A-7: the token being set has the administrators SID enabled, and the caller may not
    /// set it.
    NewTokenIsAdministrator {
        /// The new token's user.
        token: Sid,
    },
    /// Q-3: the job is done (ACKNOWLEDGED or CANCELLED).
    JobDone {
        /// The job's state.
        state: JobState,
    },
    /// Q-1: the flags carry unknown bits and are refused.
    UnknownFlags {
        /// The unknown bits.
        unknown: u32,
    },
    /// Q-1 (knob `Mask`): the unknown bits were dropped and the rest stored.
    UnknownFlagsMasked {
        /// The unknown bits that were dropped.
        unknown: u32,
    },
    /// A-9: the client does not allow impersonation.
    CannotImpersonate,
    /// L-6 (X-2): the transfer needs an access that the flags route to the helper token,
    /// and no helper token is stored.
    HelperTokenMissing {
        /// The flag that routes the access to the helper (`LOCAL_FILE` or `NETWORK`).
        usage: TokenUsage,
    },
    /// L-5: the owner logged off and BITS discarded the helper token; the job is finished
    /// or its flags are `0`, so nothing else happens.
    TokenDiscarded,
    /// L-5: the owner logged off, BITS discarded the helper token, and the unfinished job
    /// whose flags are not `0` went to ERROR with `BG_E_TOKEN_REQUIRED`.
    TokenRequiredAfterLogoff {
        /// The job's flags.
        flags: TokenUsage,
    },
    /// T-7: the job moved from one state to another (resume, transfer, cancel, complete).
    StateChanged {
        /// The state before.
        from: JobState,
        /// The state after.
        to: JobState,
    },
    /// T-7: nothing to do in this state (a transfer of a job that is not queued, a resume of
    /// a job that is already running or transferred).
    NothingToDo {
        /// The job's state.
        state: JobState,
    },
    /// T-7: the job is ACKNOWLEDGED or CANCELLED; BITS refuses every operation on it.
    JobFinished {
        /// The job's state.
        state: JobState,
    },
    /// L-7: `TakeOwnership` requires an administrator, and the caller is not.
    TakeOwnershipNeedsAdministrator {
        /// The caller.
        caller: Sid,
    },
    /// L-7, Q-6: an administrator took ownership; credentials and the client certificate
    /// were removed, and the helper token and flags kept or cleared as Q-6 says.
    OwnershipTaken {
        /// The new owner.
        owner: Sid,
        /// Whether the helper token and flags were kept (Q-6).
        helper_kept: bool,
    },
    /// X-1: a client certificate, an owner other than LocalSystem and NETWORK: the HTTP
    /// transfer will fail because the owner's private key is out of the helper's reach.
    ClientCertificateWithNetwork {
        /// The job's owner.
        owner: Sid,
    },
}

impl Rule {
    /// The SPEC id of the rule (`"A-5"`).
    pub const fn id(&self) -> &'static str {
        match self {
            Rule::InterfaceUnavailable { .. } => "A-2",
            Rule::LegacyCallerNotAdministrator { .. }
            | Rule::LegacyOwnerNotElevated { .. }
            | Rule::LegacyAdministrator { .. } => "A-4",
            Rule::LegacyOwnerElevated { .. } => "Q-7",
            Rule::NotJobOwner { .. } | Rule::OwnerCaller { .. } => "A-5",
            Rule::AdministratorCaller { .. } => "Q-2",
            Rule::StoredTokenIsAdministrator { .. } => "A-6",
            Rule::NewTokenIsAdministrator { .. } => "A-7",
            Rule::JobDone { .. } => "Q-3",
            Rule::UnknownFlags { .. } | Rule::UnknownFlagsMasked { .. } => "Q-1",
            Rule::CannotImpersonate => "A-9",
            Rule::ClientCertificateWithNetwork { .. } => "X-1",
            Rule::HelperTokenMissing { .. } => "L-6",
            Rule::TokenDiscarded | Rule::TokenRequiredAfterLogoff { .. } => "L-5",
            Rule::StateChanged { .. } | Rule::NothingToDo { .. } | Rule::JobFinished { .. } => {
                "T-7"
            }
            Rule::TakeOwnershipNeedsAdministrator { .. } => "L-7",
            Rule::OwnershipTaken { .. } => "Q-6",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id();
        match self {
            Rule::InterfaceUnavailable { release } => write!(
                f,
                "{id}: IBitsTokenOptions does not exist on {release} (BITS before 4.0), so QueryInterface fails"
            ),
            Rule::LegacyCallerNotAdministrator { caller } => write!(
                f,
                "{id}: before Windows 10 1607 the caller must be an administrator, and {caller} is not"
            ),
            Rule::LegacyOwnerNotElevated { owner } => write!(
                f,
                "{id}: before Windows 10 1607 only a job owned by an elevated administrator may get a helper token, and the owner {owner} is not elevated"
            ),
            Rule::LegacyAdministrator { caller } => {
                write!(f, "{id}: the caller {caller} is an administrator")
            }
            Rule::LegacyOwnerElevated { owner } => write!(
                f,
                "{id}: the job's owner {owner} is elevated, which is all this knob requires before 1607"
            ),
            Rule::NotJobOwner { caller, owner } => write!(
                f,
                "{id}: the caller {caller} is not an administrator and does not own the job (owner {owner})"
            ),
            Rule::OwnerCaller { caller } => write!(f, "{id}: the caller {caller} owns the job"),
            Rule::AdministratorCaller { caller } => write!(
                f,
                "{id}: the caller {caller} is an administrator, so the owner rule does not bind it"
            ),
            Rule::StoredTokenIsAdministrator { token } => write!(
                f,
                "{id}: the helper token stored on the job ({token}) has the Administrators group enabled, so only an administrator may change its flags"
            ),
            Rule::NewTokenIsAdministrator { token } => write!(
                f,
                "{id}: the token being set ({token}) has the Administrators group enabled, so only an administrator may set it"
            ),
            Rule::JobDone { state } => {
                write!(
                    f,
                    "{id}: the job is {state}, so it can no longer be changed"
                )
            }
            Rule::UnknownFlags { unknown } => write!(
                f,
                "{id}: the flags carry unknown bits 0x{unknown:X} (only LOCAL_FILE 0x1 and NETWORK 0x2 exist)"
            ),
            Rule::UnknownFlagsMasked { unknown } => write!(
                f,
                "{id}: the unknown bits 0x{unknown:X} were masked off and the rest stored"
            ),
            Rule::CannotImpersonate => write!(
                f,
                "{id}: the client's COM security does not allow impersonation, so BITS cannot take its token"
            ),
            Rule::TokenDiscarded => write!(
                f,
                "{id}: the owner logged off and BITS discarded the helper token; the job is finished or its flags are 0, so it is unaffected"
            ),
            Rule::TokenRequiredAfterLogoff { flags } => write!(
                f,
                "{id}: the owner logged off and BITS discarded the helper token; the unfinished job still uses it for {flags}, so it goes to ERROR (recover: set a new token, or set the flags to 0, then resume)"
            ),
            Rule::StateChanged { from, to } => write!(f, "{id}: the job went from {from} to {to}"),
            Rule::NothingToDo { state } => {
                write!(f, "{id}: nothing to do for a job in state {state}")
            }
            Rule::JobFinished { state } => {
                write!(
                    f,
                    "{id}: the job is {state}; BITS refuses every operation on it"
                )
            }
            Rule::TakeOwnershipNeedsAdministrator { caller } => write!(
                f,
                "{id}: TakeOwnership requires an administrator, and the caller {caller} is not"
            ),
            Rule::OwnershipTaken { owner, helper_kept } => write!(
                f,
                "{id}: {owner} took ownership; credentials and the client certificate were removed (L-7), the helper token and flags were {}",
                if *helper_kept { "kept" } else { "cleared" }
            ),
            Rule::HelperTokenMissing { usage } => write!(
                f,
                "{id}: the flags route an access of this transfer to the helper token ({usage}), and no helper token is stored"
            ),
            Rule::ClientCertificateWithNetwork { owner } => write!(
                f,
                "{id}: the job has a client certificate, its owner {owner} is not LocalSystem and NETWORK is set, so its HTTP transfer fails: the private key is reached as the owner, the connection as the helper"
            ),
        }
    }
}

/// The change a decision makes to the job. A refused call has [`Effect::None`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Effect {
    /// Nothing changes.
    None,
    /// Store these usage flags (L-1); the helper token is untouched.
    StoreFlags(TokenUsage),
    /// Store this helper token, replacing any previous one (L-2); flags are untouched.
    StoreHelper(Identity),
    /// Drop the helper token and keep the flags (L-3).
    ClearHelper,
}

/// What a getter returns besides its `HRESULT`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Value {
    /// The method returns nothing (a setter, or a refused getter).
    None,
    /// `GetHelperTokenFlags`: the stored flags.
    Flags(TokenUsage),
    /// `GetHelperTokenSid`: the stored token's user SID, or `None` for a NULL string when
    /// no token is stored (L-4).
    HelperSid(Option<Sid>),
}

/// A failure a job will meet when it transfers (X-1, X-2): the job's error code and the
/// rule behind it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct TransferFailure {
    /// The job error the transfer ends with.
    pub hresult: HResult,
    /// Why.
    pub rule: Rule,
}

impl fmt::Display for TransferFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the transfer will fail with {}: {}",
            self.hresult, self.rule
        )
    }
}

/// The outcome of one method call: a value, never a panic (Cedar's `Response` is the
/// model).
///
/// ```
/// use bits_helper_token::*;
///
/// let job = JobFacts::new(Identity::NETWORK_SERVICE);
/// let d = set_helper_token_flags(&Profile::default(), Identity::NETWORK_SERVICE, &job, 0x2);
/// assert_eq!(d.hresult, HResult::S_OK);
/// assert_eq!(d.rule.id(), "A-5");
/// assert_eq!(d.effect, Effect::StoreFlags(TokenUsage::NETWORK));
/// assert!(d.transfer_failure.is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct Decision {
    /// The method called.
    pub method: Method,
    /// What the method returns.
    pub hresult: HResult,
    /// The rule that decided: on success the one that granted access (or Q-1 when bits
    /// were masked); on refusal the one that refused.
    pub rule: Rule,
    /// The change to apply to the job.
    pub effect: Effect,
    /// What a getter returns.
    pub value: Value,
    /// For an accepted `SetHelperTokenFlags`: the failure the job will certainly meet
    /// when it transfers (X-1). The method itself still succeeds.
    pub transfer_failure: Option<TransferFailure>,
}

impl Decision {
    const fn refuse(method: Method, hresult: HResult, rule: Rule) -> Decision {
        Decision {
            method,
            hresult,
            rule,
            effect: Effect::None,
            value: Value::None,
            transfer_failure: None,
        }
    }

    const fn allow(method: Method, rule: Rule, effect: Effect, value: Value) -> Decision {
        Decision {
            method,
            hresult: HResult::S_OK,
            rule,
            effect,
            value,
            transfer_failure: None,
        }
    }

    /// Whether the method succeeds.
    pub const fn is_allowed(&self) -> bool {
        self.hresult.is_success()
    }

    /// The flags stored by an accepted `SetHelperTokenFlags`.
    pub const fn stored_flags(&self) -> Option<TokenUsage> {
        match self.effect {
            Effect::StoreFlags(flags) => Some(flags),
            _ => None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} returns {}: {}", self.method, self.hresult, self.rule)?;
        if let Some(failure) = &self.transfer_failure {
            write!(f, "; {failure}")?;
        }
        Ok(())
    }
}

/// A refusal: the code and the rule.
type Refusal = (HResult, Rule);

/// Availability and access (A-2, A-4…A-6, A-8, Q-2, Q-5, Q-7): the granting rule, or the
/// refusal. The A-6 veto belongs here by A-10's order ("access … A-6").
fn access(
    profile: &Profile,
    method: Method,
    caller: Identity,
    job: &JobFacts,
) -> Result<Rule, Refusal> {
    let release = profile.release;
    let knobs = &profile.knobs;
    // A-2: no interface before BITS 4.0.
    if !release.has_token_options() {
        return Err((
            HResult::E_NOINTERFACE,
            Rule::InterfaceUnavailable { release },
        ));
    }
    // A-4: before 1607, administrators only; SetHelperToken also needs an elevated owner (Q-7).
    if !release.has_owner_rules() {
        let (caller_must, owner_must) = match (method, knobs.legacy_set_token) {
            (Method::SetHelperToken, LegacySetToken::CallerAndOwner) => (true, true),
            (Method::SetHelperToken, LegacySetToken::OwnerOnly) => (false, true),
            _ => (true, false),
        };
        if caller_must && !caller.admin {
            let rule = Rule::LegacyCallerNotAdministrator { caller: caller.sid };
            return Err((HResult::E_ACCESSDENIED, rule));
        }
        if owner_must && !job.owner.admin {
            let rule = Rule::LegacyOwnerNotElevated {
                owner: job.owner.sid,
            };
            return Err((HResult::E_ACCESSDENIED, rule));
        }
        return Ok(if caller_must {
            Rule::LegacyAdministrator { caller: caller.sid }
        } else {
            Rule::LegacyOwnerElevated {
                owner: job.owner.sid,
            }
        });
    }
    // Q-5: the documented code for SetHelperToken; the knob for the other four methods.
    let denial = match method {
        Method::SetHelperToken => HResult::E_ACCESSDENIED,
        _ => knobs.denial.get(),
    };
    // Q-2: an administrator skips the owner rule unless the knob says otherwise.
    let skips_owner_rule = caller.admin && knobs.admin_bypass != AdminBypass::None;
    // A-5 / A-8 (Q-5 code): a non-administrator acts only on its own job.
    if !skips_owner_rule && caller.sid != job.owner.sid {
        let rule = Rule::NotJobOwner {
            caller: caller.sid,
            owner: job.owner.sid,
        };
        return Err((denial, rule));
    }
    // A-6 (Q-5 code): the stored token's veto on SetHelperTokenFlags.
    if method == Method::SetHelperTokenFlags && !skips_vetoes(profile, caller) {
        if let Some(stored) = job.helper.filter(|h| h.admin) {
            return Err((
                denial,
                Rule::StoredTokenIsAdministrator { token: stored.sid },
            ));
        }
    }
    Ok(if skips_owner_rule {
        Rule::AdministratorCaller { caller: caller.sid }
    } else {
        Rule::OwnerCaller { caller: caller.sid }
    })
}

/// Q-2: whether the caller skips the vetoes A-6 and A-7 (only on 1607 and later).
fn skips_vetoes(profile: &Profile, caller: Identity) -> bool {
    caller.admin && profile.knobs.admin_bypass == AdminBypass::OwnerRuleAndVetoes
}

/// Q-3: a mutating method on a done job.
fn job_state(profile: &Profile, job: &JobFacts) -> Result<(), Refusal> {
    if job.state.is_done() && profile.knobs.done_jobs == DoneJobs::InvalidState {
        return Err((
            HResult::BG_E_INVALID_STATE,
            Rule::JobDone { state: job.state },
        ));
    }
    Ok(())
}

/// X-1: the failure a transfer of this job will meet with these flags, if certain.
///
/// A job with a client certificate, an owner other than LocalSystem and NETWORK set fails
/// its HTTP(S) transfer with `ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY`, whatever
/// order the certificate and the flags were set in.
pub const fn client_certificate_failure(
    job: &JobFacts,
    flags: TokenUsage,
) -> Option<TransferFailure> {
    let owner = job.owner.sid;
    if job.client_certificate
        && flags.contains(TokenUsage::NETWORK)
        && job.remote.is_http()
        && !is_local_system(&owner)
    {
        Some(TransferFailure {
            hresult: HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
            rule: Rule::ClientCertificateWithNetwork { owner },
        })
    } else {
        None
    }
}

/// `const` comparison with `S-1-5-18`.
const fn is_local_system(sid: &Sid) -> bool {
    sid.authority() == 5 && sid.binary_len() == 12 && sid.rid() == 18
}

/// Runs the common prefix of A-10 for `method`: availability, access and, for the
/// mutating methods, job state. Returns the granting rule.
fn precheck(
    profile: &Profile,
    method: Method,
    caller: Identity,
    job: &JobFacts,
) -> Result<Rule, Decision> {
    let refuse = |(hr, rule): Refusal| Decision::refuse(method, hr, rule);
    let grant = access(profile, method, caller, job).map_err(refuse)?;
    if method.is_mutating() {
        job_state(profile, job).map_err(refuse)?;
    }
    Ok(grant)
}

/// `IBitsTokenOptions::SetHelperTokenFlags(flags)`.
///
/// `flags` is the raw `DWORD`: unknown bits reach the decision (T-1) and are handled by
/// Q-1. On success the flags are stored (L-1) and, when X-1 makes it certain, the decision
/// reports the transfer-time failure they will cause.
///
/// | release | caller | refused when | code |
/// |---|---|---|---|
/// | `pre_bits4` | anyone | always (A-2) | `E_NOINTERFACE` |
/// | `legacy` | not an administrator | always (A-4) | `E_ACCESSDENIED` |
/// | 1607, 1809 | not an administrator | not the owner (A-5); stored token is an administrator (A-6) | Q-5 (`E_ACCESSDENIED`) |
/// | any with the interface | anyone allowed | job done (Q-3); unknown bits (Q-1) | `BG_E_INVALID_STATE`; `E_INVALIDARG` |
///
/// ```
/// use bits_helper_token::*;
///
/// let owner = TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse()?);
/// let stranger = TokenInfo::standard_user("S-1-5-21-1-2-3-1002".parse()?);
/// let job = JobFacts::new(Identity::of(&owner));
///
/// let d = set_helper_token_flags(&Profile::default(), Identity::of(&stranger), &job, 0x1);
/// assert_eq!(d.hresult, HResult::E_ACCESSDENIED);
/// assert_eq!(d.rule.to_string(),
///     "A-5: the caller S-1-5-21-1-2-3-1002 is not an administrator and does not own the job (owner S-1-5-21-1-2-3-1001)");
/// # Ok::<(), ParseSidError>(())
/// ```
pub fn set_helper_token_flags(
    profile: &Profile,
    caller: Identity,
    job: &JobFacts,
    flags: u32,
) -> Decision {
    let method = Method::SetHelperTokenFlags;
    let mut rule = match precheck(profile, method, caller, job) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    // Q-1: unknown bits (argument validation comes after access and state, A-10).
    let usage = TokenUsage::from_bits_retain(flags);
    let unknown = usage.unknown_bits();
    if unknown != 0 {
        match profile.knobs.unknown_flags {
            UnknownFlags::InvalidArg => {
                return Decision::refuse(
                    method,
                    HResult::E_INVALIDARG,
                    Rule::UnknownFlags { unknown },
                );
            }
            UnknownFlags::NotImpl => {
                return Decision::refuse(
                    method,
                    HResult::E_NOTIMPL,
                    Rule::UnknownFlags { unknown },
                );
            }
            UnknownFlags::Mask => rule = Rule::UnknownFlagsMasked { unknown },
        }
    }
    // L-1: store the known flags; X-1: predict the transfer failure they cause.
    let stored = usage.intersection(TokenUsage::all());
    Decision {
        transfer_failure: client_certificate_failure(job, stored),
        ..Decision::allow(method, rule, Effect::StoreFlags(stored), Value::None)
    }
}

/// `IBitsTokenOptions::GetHelperTokenFlags`: the stored flags, under the owner rule
/// (A-4/A-5, A-8) and no veto. Answers on done jobs (Q-3).
pub fn get_helper_token_flags(profile: &Profile, caller: Identity, job: &JobFacts) -> Decision {
    let method = Method::GetHelperTokenFlags;
    match precheck(profile, method, caller, job) {
        Ok(grant) => Decision::allow(method, grant, Effect::None, Value::Flags(job.flags)),
        Err(refused) => refused,
    }
}

/// `IBitsTokenOptions::SetHelperToken`: stores the token the caller is impersonating at
/// call time (L-2), replacing any previous one; flags are unchanged.
///
/// Access is judged on the remembered caller (A-1, A-4 with Q-7, A-5); then job state
/// (Q-3); then impersonation (A-9, `CO_E_FAILEDTOIMPERSONATE`); then, on 1607 and later,
/// the veto on the new token (A-7, `E_ACCESSDENIED`) unless the caller is an
/// administrator (Q-2).
pub fn set_helper_token(
    profile: &Profile,
    caller: Identity,
    job: &JobFacts,
    impersonation: Impersonation,
) -> Decision {
    let method = Method::SetHelperToken;
    let grant = match precheck(profile, method, caller, job) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    // A-9: BITS takes the token by impersonating the client.
    let Impersonation::Allowed(token) = impersonation else {
        return Decision::refuse(
            method,
            HResult::CO_E_FAILEDTOIMPERSONATE,
            Rule::CannotImpersonate,
        );
    };
    // A-7: a non-administrator may not set an administrator token (1607 and later).
    if profile.release.has_owner_rules() && token.admin && !skips_vetoes(profile, caller) {
        let rule = Rule::NewTokenIsAdministrator { token: token.sid };
        return Decision::refuse(method, HResult::E_ACCESSDENIED, rule);
    }
    Decision::allow(method, grant, Effect::StoreHelper(token), Value::None)
}

/// `IBitsTokenOptions::ClearHelperToken`: drops the token and keeps the flags (L-3),
/// under the owner rule (A-4/A-5, A-8) and no veto; refused on done jobs (Q-3).
pub fn clear_helper_token(profile: &Profile, caller: Identity, job: &JobFacts) -> Decision {
    let method = Method::ClearHelperToken;
    match precheck(profile, method, caller, job) {
        Ok(grant) => Decision::allow(method, grant, Effect::ClearHelper, Value::None),
        Err(refused) => refused,
    }
}

/// `IBitsTokenOptions::GetHelperTokenSid`: the stored token's user SID, or success with
/// no string when none is stored (L-4), under the owner rule (A-4/A-5, A-8) and no veto.
pub fn get_helper_token_sid(profile: &Profile, caller: Identity, job: &JobFacts) -> Decision {
    let method = Method::GetHelperTokenSid;
    match precheck(profile, method, caller, job) {
        Ok(grant) => {
            let sid = job.helper.map(|h| h.sid);
            Decision::allow(method, grant, Effect::None, Value::HelperSid(sid))
        }
        Err(refused) => refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x1_local_system_check_is_exact() {
        assert!(is_local_system(&Sid::LOCAL_SYSTEM));
        assert!(!is_local_system(&Sid::LOCAL_SERVICE));
        assert!(!is_local_system(&Sid::new(5, &[32, 18]).unwrap()));
        assert!(!is_local_system(&Sid::new(1, &[18]).unwrap()));
    }
}
