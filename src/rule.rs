//! Rule ids and reasons: what a decision carries instead of copies of its inputs.
//!
//! A [`RuleId`] is a SPEC id (`"A-5"`) as a type: it displays and serializes as the id,
//! so a typo is a compile error, not a comparison that is silently false. A [`Reason`]
//! names the branch of the rule that decided ("the caller does not own the job"); the
//! sentence that explains a decision with its facts is built on demand by
//! [`crate::explain`].
#![forbid(unsafe_code)]

use crate::names::names;

/// A rule of the SPEC, by id (`SPEC.md`, shown in rustdoc as [`crate::spec`]).
///
/// ```
/// use bits_helper_token::RuleId;
/// assert_eq!(RuleId::A5.to_string(), "A-5");
/// assert_eq!("Q-9".parse::<RuleId>(), Ok(RuleId::Q9));
/// assert!("A-55".parse::<RuleId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is its SPEC id, documented in SPEC.md
pub enum RuleId {
    T1,
    T2,
    T3,
    T4,
    T5,
    T6,
    T7,
    T8,
    T9,
    T10,
    T11,
    A1,
    A2,
    A3,
    A4,
    A5,
    A6,
    A7,
    A8,
    A9,
    A10,
    A11,
    A12,
    A13,
    A14,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    R0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    X1,
    X2,
    X3,
    X4,
    X5,
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q6,
    Q7,
    Q8,
    Q9,
    Q10,
    Q11,
    Q12,
}

names! { RuleId, "SPEC rule id";
    T1 => "T-1", T2 => "T-2", T3 => "T-3", T4 => "T-4", T5 => "T-5", T6 => "T-6",
    T7 => "T-7", T8 => "T-8", T9 => "T-9", T10 => "T-10", T11 => "T-11",
    A1 => "A-1", A2 => "A-2", A3 => "A-3", A4 => "A-4", A5 => "A-5", A6 => "A-6",
    A7 => "A-7", A8 => "A-8", A9 => "A-9", A10 => "A-10", A11 => "A-11", A12 => "A-12",
    A13 => "A-13", A14 => "A-14",
    L1 => "L-1", L2 => "L-2", L3 => "L-3", L4 => "L-4", L5 => "L-5", L6 => "L-6",
    L7 => "L-7", L8 => "L-8", L9 => "L-9", L10 => "L-10", L11 => "L-11", L12 => "L-12",
    L13 => "L-13", L14 => "L-14", L15 => "L-15",
    R0 => "R-0", R1 => "R-1", R2 => "R-2", R3 => "R-3", R4 => "R-4", R5 => "R-5",
    R6 => "R-6", R7 => "R-7",
    X1 => "X-1", X2 => "X-2", X3 => "X-3", X4 => "X-4", X5 => "X-5",
    Q1 => "Q-1", Q2 => "Q-2", Q3 => "Q-3", Q4 => "Q-4", Q5 => "Q-5", Q6 => "Q-6",
    Q7 => "Q-7", Q8 => "Q-8", Q9 => "Q-9", Q10 => "Q-10", Q11 => "Q-11", Q12 => "Q-12",
}

/// Which branch of a rule decided. Fieldless: the facts behind it are the decision's
/// inputs, and [`explain`](crate::explain) puts them back into a sentence on demand.
///
/// Serialized as its snake_case name (`"not_job_owner"`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum Reason {
    /// A-2: the release has no `IBitsTokenOptions`.
    InterfaceUnavailable,
    /// A-1: the interface exists; the handle remembers the caller.
    InterfaceObtained,
    /// A-11 (a): the caller's integrity level is below the job's.
    CallerIntegrityTooLow,
    /// A-11 (b): the job was created or taken by an elevated token and the caller is not
    /// elevated.
    CallerNotElevated,
    /// Q-10 (`refuse`): A-11 (a) on a read: the caller's integrity level is below the job's.
    CallerIntegrityTooLowToRead,
    /// A-4: before 1607 the caller must be an administrator, and is not.
    LegacyCallerNotAdministrator,
    /// A-4 (second sentence, Q-7): before 1607 only an elevated owner's job may get a
    /// helper token, and this owner is not elevated.
    LegacyOwnerNotElevated,
    /// A-4: before 1607, allowed because the caller is an administrator.
    LegacyAdministrator,
    /// Q-7 (knob `owner_only`): before 1607, `SetHelperToken` allowed because the owner
    /// is elevated.
    LegacyOwnerElevated,
    /// A-5: a non-administrator caller on a job it does not own.
    NotJobOwner,
    /// A-5: allowed because the caller owns the job.
    OwnerCaller,
    /// Q-2: allowed because the caller is an administrator, who skips the owner rule.
    AdministratorCaller,
    /// A-6: the stored helper token has the administrators SID enabled.
    StoredTokenIsAdministrator,
    /// A-7: the token being set has the administrators SID enabled.
    NewTokenIsAdministrator,
    /// Q-3: the job is done (ACKNOWLEDGED or CANCELLED).
    JobDone,
    /// Q-1: the flags carry unknown bits and are refused.
    UnknownFlags,
    /// Q-1 (knob `mask`): the unknown bits were dropped and the rest stored.
    UnknownFlagsMasked,
    /// A-9: the client does not allow impersonation.
    CannotImpersonate,
    /// Q-11 (`access_denied`): the client does not allow impersonation, refused with
    /// `E_ACCESSDENIED`.
    CannotImpersonateAccessDenied,
    /// L-6: an access the flags route to the helper token, and no helper token is stored.
    HelperTokenMissing,
    /// L-5: the helper token was discarded; nothing else happens to this job.
    TokenDiscarded,
    /// L-5: the helper token was discarded and the unfinished job with non-zero flags
    /// went to ERROR with `BG_E_TOKEN_REQUIRED`.
    TokenRequiredAfterLogoff,
    /// L-5: the service accounts never log off; nothing happens.
    ServiceAccountStaysLoggedOn,
    /// L-5: the job held no helper token; the discard leaves it untouched.
    NoTokenToDiscard,
    /// L-8: the owner logged off; a running job went back to QUEUED, or nothing changed.
    OwnerLoggedOff,
    /// L-8: the owner logged on; its queued jobs may transfer again.
    OwnerLoggedOn,
    /// L-8: the owner is logged off, so the job does not transfer.
    OwnerNotLoggedOn,
    /// L-9: Resume on a job already queued, running or transferred: nothing changes.
    AlreadyResumed,
    /// L-9: Resume queued the job again.
    Resumed,
    /// L-10: Complete acknowledged a transferred job.
    Completed,
    /// L-10: Complete on a download not transferred: partial completion.
    PartiallyCompleted,
    /// L-10: Complete on an upload or upload-reply not transferred.
    UploadNotTransferred,
    /// L-10: Complete needs the helper token to rename the files, and none is stored.
    CompleteNeedsHelperToken,
    /// T-7: the job moved from one state to another.
    StateChanged,
    /// T-7: nothing to do in this state.
    NothingToDo,
    /// T-7: the job is ACKNOWLEDGED or CANCELLED; BITS refuses every operation on it.
    JobFinished,
    /// L-7: `TakeOwnership` requires an administrator, and the caller is not.
    TakeOwnershipNeedsAdministrator,
    /// L-7, Q-6: the caller took ownership.
    OwnershipTaken,
    /// X-3: the server's challenge goes unanswered (`BG_E_HTTP_ERROR_401`).
    ServerChallengeUnanswered,
    /// X-3: the proxy's challenge goes unanswered (`BG_E_HTTP_ERROR_407`).
    ProxyChallengeUnanswered,
    /// R-6: LocalSystem and NetworkService present the computer only when a Negotiate entry
    /// allows implicit credentials and Kerberos is available; without both they present no
    /// usable credentials.
    ComputerOnlyThroughNegotiate,
    /// Q-12 (`none`): LocalSystem and NetworkService answer no proxy challenge implicitly.
    ServiceNoProxyCredentials,
    /// X-1: a client certificate, an owner other than LocalSystem and NETWORK.
    ClientCertificateWithNetwork,
    /// R-1, R-2, R-7: the flag is set and the helper token is stored.
    FlagSet,
    /// R-1, R-2, R-7: the flag is clear, so the owner.
    FlagClear,
    /// R-2 with R-3: the helper token's implicit credentials answer the challenge.
    ImplicitAsHelper,
    /// R-2 with R-3: the owner's implicit credentials answer the challenge.
    ImplicitAsOwner,
    /// R-6: a service-account owner on the network, no helper in play.
    ServiceOwnerOnNetwork,
    /// R-7: before 1809 the IE proxy settings are read as the owner.
    PreconfigAsOwner,
    /// R-4: the client certificate's private key is the owner's.
    ClientCertificateKey,
    /// R-5: explicit credentials are sent as given.
    ExplicitCredentials,
    /// R-3: implicit credentials are not allowed for this target.
    ImplicitNotAllowed,
    /// R-3: the scheme has no implicit credentials and no explicit ones are set.
    NoImplicitForScheme,
    /// R-0: an access no flag names, made as the owner.
    OwnerAccess,
    /// The job never makes this access (the id is the rule that names the access).
    NotApplicable,
    /// X-4: the HTTPS server asks for a client certificate and the job has none.
    ClientCertificateNeeded,
    /// L-13: the network was lost; the job is in TRANSIENT_ERROR.
    NetworkLost,
    /// L-13: the network was restored; a TRANSIENT_ERROR job is QUEUED again.
    NetworkRestored,
    /// L-13: the network state did not change anything for this job.
    NetworkUnchanged,
    /// L-13: no transfer starts while the network is disconnected.
    NetworkDisconnected,
    /// L-14: the transfer started (CONNECTING or TRANSFERRING).
    TransferStarted,
    /// L-12: the job was suspended.
    Suspended,
    /// L-12: the job is already suspended, in ERROR or TRANSFERRED: nothing changes.
    NothingToSuspend,
    /// L-9: Resume on a job without files (`BG_E_EMPTY`).
    NoFiles,
    /// L-15: the caller's user is not logged on (`ERROR_NOT_LOGGED_ON`).
    CallerNotLoggedOn,
    /// L-15: an upload job already holds its file (`BG_E_TOO_MANY_FILES`).
    UploadHoldsItsFile,
    /// L-15: the file was added.
    FileAdded,
    /// T-7: an upload-reply job cannot take an SMB file (`E_INVALIDARG`).
    UploadReplyOverSmb,
    /// A-9: the client's proxy allows only anonymous impersonation; every call is refused.
    AnonymousClient,
    /// A-9: `SetProperty` needs the impersonate level, and the client allows only identify.
    PropertyNeedsImpersonation,
    /// A-14: a restricted token may not change a job.
    RestrictedCaller,
    /// A-13: the caller neither owns the job nor is an administrator.
    NotOwnerOrAdministrator,
    /// A-13: only the job's owner may call this method.
    OwnerOnly,
    /// A-13: allowed, the caller owns the job.
    JobOwnerCalls,
    /// A-13: allowed, the caller is an administrator.
    AdministratorCalls,
    /// R-3 (iv): `USE_STORED_CREDENTIALS` was set for the proxy.
    StoredCredentialsSet,
    /// A job setting (credentials, proxy usage, client certificate) was stored.
    SettingStored,
    /// `RemoveCredentials` / `RemoveClientCertificate` with nothing to remove (`S_FALSE`).
    NothingToRemove,
}

names! { Reason, "reason";
    InterfaceUnavailable => "interface_unavailable",
    InterfaceObtained => "interface_obtained",
    CallerIntegrityTooLow => "caller_integrity_too_low",
    CallerNotElevated => "caller_not_elevated",
    CallerIntegrityTooLowToRead => "caller_integrity_too_low_to_read",
    LegacyCallerNotAdministrator => "legacy_caller_not_administrator",
    LegacyOwnerNotElevated => "legacy_owner_not_elevated",
    LegacyAdministrator => "legacy_administrator",
    LegacyOwnerElevated => "legacy_owner_elevated",
    NotJobOwner => "not_job_owner",
    OwnerCaller => "owner_caller",
    AdministratorCaller => "administrator_caller",
    StoredTokenIsAdministrator => "stored_token_is_administrator",
    NewTokenIsAdministrator => "new_token_is_administrator",
    JobDone => "job_done",
    UnknownFlags => "unknown_flags",
    UnknownFlagsMasked => "unknown_flags_masked",
    CannotImpersonate => "cannot_impersonate",
    CannotImpersonateAccessDenied => "cannot_impersonate_access_denied",
    HelperTokenMissing => "helper_token_missing",
    ServiceAccountStaysLoggedOn => "service_account_stays_logged_on",
    NoTokenToDiscard => "no_token_to_discard",
    OwnerLoggedOff => "owner_logged_off",
    OwnerLoggedOn => "owner_logged_on",
    OwnerNotLoggedOn => "owner_not_logged_on",
    AlreadyResumed => "already_resumed",
    Resumed => "resumed",
    Completed => "completed",
    PartiallyCompleted => "partially_completed",
    UploadNotTransferred => "upload_not_transferred",
    CompleteNeedsHelperToken => "complete_needs_helper_token",
    TokenDiscarded => "token_discarded",
    TokenRequiredAfterLogoff => "token_required_after_logoff",
    StateChanged => "state_changed",
    NothingToDo => "nothing_to_do",
    JobFinished => "job_finished",
    TakeOwnershipNeedsAdministrator => "take_ownership_needs_administrator",
    OwnershipTaken => "ownership_taken",
    ClientCertificateWithNetwork => "client_certificate_with_network",
    ServerChallengeUnanswered => "server_challenge_unanswered",
    ProxyChallengeUnanswered => "proxy_challenge_unanswered",
    ComputerOnlyThroughNegotiate => "computer_only_through_negotiate",
    ServiceNoProxyCredentials => "service_no_proxy_credentials",
    FlagSet => "flag_set",
    FlagClear => "flag_clear",
    ImplicitAsHelper => "implicit_as_helper",
    ImplicitAsOwner => "implicit_as_owner",
    ServiceOwnerOnNetwork => "service_owner_on_network",
    PreconfigAsOwner => "preconfig_as_owner",
    ClientCertificateKey => "client_certificate_key",
    ExplicitCredentials => "explicit_credentials",
    ImplicitNotAllowed => "implicit_not_allowed",
    NoImplicitForScheme => "no_implicit_for_scheme",
    OwnerAccess => "owner_access",
    NotApplicable => "not_applicable",
    ClientCertificateNeeded => "client_certificate_needed",
    NetworkLost => "network_lost",
    NetworkRestored => "network_restored",
    NetworkUnchanged => "network_unchanged",
    NetworkDisconnected => "network_disconnected",
    TransferStarted => "transfer_started",
    Suspended => "suspended",
    NothingToSuspend => "nothing_to_suspend",
    NoFiles => "no_files",
    CallerNotLoggedOn => "caller_not_logged_on",
    UploadHoldsItsFile => "upload_holds_its_file",
    FileAdded => "file_added",
    UploadReplyOverSmb => "upload_reply_over_smb",
    AnonymousClient => "anonymous_client",
    PropertyNeedsImpersonation => "property_needs_impersonation",
    RestrictedCaller => "restricted_caller",
    NotOwnerOrAdministrator => "not_owner_or_administrator",
    OwnerOnly => "owner_only",
    JobOwnerCalls => "job_owner_calls",
    AdministratorCalls => "administrator_calls",
    StoredCredentialsSet => "stored_credentials_set",
    SettingStored => "setting_stored",
    NothingToRemove => "nothing_to_remove",
}

impl Reason {
    /// The SPEC rule this reason belongs to, where it does not depend on the access
    /// (the routing reasons [`FlagSet`](Reason::FlagSet), [`FlagClear`](Reason::FlagClear)
    /// and [`NotApplicable`](Reason::NotApplicable) take the access's rule, and
    /// [`SettingStored`](Reason::SettingStored) the setting's: `None`).
    pub const fn fixed_id(self) -> Option<RuleId> {
        use Reason::*;
        Some(match self {
            InterfaceUnavailable => RuleId::A2,
            InterfaceObtained => RuleId::A1,
            CallerIntegrityTooLow | CallerNotElevated => RuleId::A11,
            CallerIntegrityTooLowToRead => RuleId::Q10,
            LegacyCallerNotAdministrator | LegacyOwnerNotElevated | LegacyAdministrator => {
                RuleId::A4
            }
            LegacyOwnerElevated => RuleId::Q7,
            NotJobOwner | OwnerCaller => RuleId::A5,
            AdministratorCaller => RuleId::Q2,
            StoredTokenIsAdministrator => RuleId::A6,
            NewTokenIsAdministrator => RuleId::A7,
            JobDone => RuleId::Q3,
            UnknownFlags | UnknownFlagsMasked => RuleId::Q1,
            CannotImpersonate => RuleId::A9,
            CannotImpersonateAccessDenied => RuleId::Q11,
            HelperTokenMissing => RuleId::L6,
            TokenDiscarded
            | TokenRequiredAfterLogoff
            | ServiceAccountStaysLoggedOn
            | NoTokenToDiscard => RuleId::L5,
            OwnerLoggedOff | OwnerLoggedOn | OwnerNotLoggedOn => RuleId::L8,
            AlreadyResumed | Resumed => RuleId::L9,
            Completed | PartiallyCompleted | UploadNotTransferred | CompleteNeedsHelperToken => {
                RuleId::L10
            }
            StateChanged | NothingToDo | JobFinished => RuleId::T7,
            TakeOwnershipNeedsAdministrator => RuleId::L7,
            OwnershipTaken => RuleId::Q6,
            ClientCertificateWithNetwork => RuleId::X1,
            ServerChallengeUnanswered | ProxyChallengeUnanswered => RuleId::X3,
            ComputerOnlyThroughNegotiate => RuleId::R6,
            ServiceNoProxyCredentials => RuleId::Q12,
            ImplicitAsHelper | ImplicitAsOwner => RuleId::R2,
            ServiceOwnerOnNetwork => RuleId::R6,
            PreconfigAsOwner => RuleId::R7,
            ClientCertificateKey => RuleId::R4,
            ExplicitCredentials => RuleId::R5,
            ImplicitNotAllowed | NoImplicitForScheme => RuleId::R3,
            OwnerAccess => RuleId::R0,
            ClientCertificateNeeded => RuleId::X4,
            NetworkLost | NetworkRestored | NetworkUnchanged | NetworkDisconnected => RuleId::L13,
            TransferStarted => RuleId::L14,
            Suspended | NothingToSuspend => RuleId::L12,
            NoFiles => RuleId::L9,
            CallerNotLoggedOn | UploadHoldsItsFile | FileAdded => RuleId::L15,
            UploadReplyOverSmb => RuleId::T7,
            AnonymousClient | PropertyNeedsImpersonation => RuleId::A9,
            RestrictedCaller => RuleId::A14,
            NotOwnerOrAdministrator | OwnerOnly | JobOwnerCalls | AdministratorCalls => RuleId::A13,
            StoredCredentialsSet => RuleId::R3,
            FlagSet | FlagClear | NotApplicable | SettingStored | NothingToRemove => return None,
        })
    }
}

/// A rule id and the reason: the pair every decision, route and job error carries.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(clippy::exhaustive_structs)] // by design exactly the id and the branch
pub struct Rule {
    /// The SPEC id.
    pub id: RuleId,
    /// The branch of the rule.
    pub reason: Reason,
}

impl Rule {
    /// The rule of a reason whose id is fixed. Only for [`rule!`], which evaluates it at
    /// compile time: a reason without a fixed id is a build error there, never a runtime
    /// answer with an invented id.
    #[doc(hidden)]
    pub(crate) const fn fixed(reason: Reason) -> Rule {
        match reason.fixed_id() {
            Some(id) => Rule { id, reason },
            None => panic!(
                "this reason takes its rule id from the access or the setting: use Rule::new"
            ),
        }
    }

    /// A rule with an explicit id (routing reasons, whose id is the access's rule).
    pub const fn new(id: RuleId, reason: Reason) -> Rule {
        Rule { id, reason }
    }
}

impl core::fmt::Display for Rule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.id, self.reason)
    }
}

/// `rule!(NotJobOwner)`: the [`Rule`] of a reason whose id is fixed, computed at compile
/// time (a reason whose id depends on the access does not compile here; use [`Rule::new`]).
macro_rules! rule {
    ($reason:ident) => {
        const { $crate::rule::Rule::fixed($crate::rule::Reason::$reason) }
    };
}
pub(crate) use rule;
