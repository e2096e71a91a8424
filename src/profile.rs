//! The Windows release being modelled (SPEC A-2, A-3) and the knobs of SPEC §6 (Q-1…Q-9;
//! Q-4, the precedence, is fixed by the decision functions, not a knob).
#![forbid(unsafe_code)]

use crate::hresult::HResult;
use crate::names::names;

/// The Windows release whose BITS is modelled (A-2, A-3). Ordered oldest first.
///
/// Serialized as `"pre_bits4"`, `"legacy"`, `"win10_1607"`, `"win10_1809"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[non_exhaustive]
pub enum Release {
    /// Before BITS 4.0 (before Windows 7): `IBitsTokenOptions` does not exist and
    /// QueryInterface returns `E_NOINTERFACE` (A-2). Wine and ReactOS behave this way.
    PreBits4,
    /// Windows 7 up to Windows 10 1511: every method needs an administrator (A-4).
    Legacy,
    /// Windows 10 1607: owners may use the methods on their own jobs (A-5…A-7).
    Win10_1607,
    /// Windows 10 1809 and later: the rules of 1607 plus R-7.
    #[default]
    Win10_1809,
}

names! { Release, "release";
    PreBits4 => "pre_bits4", Legacy => "legacy", Win10_1607 => "win10_1607",
    Win10_1809 => "win10_1809",
}

impl Release {
    /// The newest release modelled; later Windows versions behave like it (A-3).
    pub const LATEST: Release = Release::Win10_1809;

    /// Whether `IBitsTokenOptions` exists (A-2).
    pub const fn has_token_options(self) -> bool {
        !matches!(self, Release::PreBits4)
    }

    /// Whether the relaxed owner rules of Windows 10 1607 apply (A-5…A-7), rather than
    /// the administrator-only rule A-4.
    pub const fn has_owner_rules(self) -> bool {
        matches!(self, Release::Win10_1607 | Release::Win10_1809)
    }

    /// Whether reading the IE proxy settings runs as the helper when NETWORK is set (R-7).
    pub const fn preconfig_proxy_as_helper(self) -> bool {
        matches!(self, Release::Win10_1809)
    }
}

/// Q-1: what `SetHelperTokenFlags` does with bits other than `LOCAL_FILE | NETWORK`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum UnknownFlags {
    /// Refuse with `E_INVALIDARG`, store nothing.
    InvalidArg,
    /// Refuse with `E_NOTIMPL`, store nothing: BITS's documented answer to a value its
    /// enumeration does not define (the SPEC default).
    #[default]
    NotImpl,
    /// Accept and store only the known bits.
    Mask,
}

names! { UnknownFlags, "Q-1 setting"; InvalidArg => "invalid_arg", NotImpl => "not_impl", Mask => "mask" }

/// Q-2: what an administrator caller (T-5, as remembered at QueryInterface) skips on
/// Windows 10 1607 and later.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum AdminBypass {
    /// The owner rule (A-5) and both vetoes (A-6, A-7): the SPEC default.
    #[default]
    OwnerRuleAndVetoes,
    /// Only the owner rule; the vetoes still apply to administrators.
    OwnerRuleOnly,
    /// Nothing: administrators are judged like everyone else.
    NoBypass,
}

names! { AdminBypass, "Q-2 setting"; OwnerRuleAndVetoes => "owner_rule_and_vetoes", OwnerRuleOnly => "owner_rule_only", NoBypass => "none" }

/// Q-3: whether the mutating methods still work on a done (ACKNOWLEDGED or CANCELLED) job.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum DoneJobs {
    /// `SetHelperTokenFlags`, `SetHelperToken` and `ClearHelperToken` return
    /// `BG_E_INVALID_STATE`; the getters still answer (the SPEC default).
    #[default]
    InvalidState,
    /// Done jobs are treated like any other.
    Allow,
}

names! { DoneJobs, "Q-3 setting"; InvalidState => "invalid_state", Allow => "allow" }

/// Q-6: what `TakeOwnership` does to the helper token and its flags (L-7).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum TakeOwnership {
    /// Drop the helper token and keep the flags, as logoff and `ClearHelperToken` do (the
    /// SPEC default): the new owner sets its own token, or L-6 fails the job.
    #[default]
    DropToken,
    /// Keep both.
    Keep,
    /// Drop the helper token and reset the flags to `0`.
    Clear,
}

names! { TakeOwnership, "Q-6 setting"; DropToken => "drop_token", Keep => "keep", Clear => "clear" }

/// Q-8: when L-6 strikes a job with non-zero flags and no helper token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum TokenCheck {
    /// At the start of every transfer, before any access (the SPEC default).
    #[default]
    Eager,
    /// Only at the first access the flags route to the missing helper.
    Lazy,
}

names! { TokenCheck, "Q-8 setting"; Eager => "eager", Lazy => "lazy" }

/// Q-9: where the access check refuses a caller (A-1, A-11).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum AccessCheck {
    /// At QueryInterface itself (the SPEC v3 default: the check "must be performed inside"
    /// QueryInterface): a caller that A-9, A-11 as a read, A-4 or A-5 would refuse gets
    /// `E_ACCESSDENIED` from QueryInterface and no handle; each method judges again.
    #[default]
    QueryInterface,
    /// Only at each method call (SPEC v2's default): QueryInterface refuses only on A-2
    /// and A-9, the methods judge the rest.
    PerCall,
}

names! { AccessCheck, "Q-9 setting"; QueryInterface => "query_interface", PerCall => "per_call" }

/// Q-7: which party must be an administrator for `SetHelperToken` before Windows 10
/// 1607 (A-4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum LegacySetToken {
    /// The caller must be an administrator and the job's owner elevated (the SPEC default).
    #[default]
    CallerAndOwner,
    /// Only the caller must be an administrator.
    CallerOnly,
    /// Only the job's owner must be elevated.
    OwnerOnly,
}

names! { LegacySetToken, "Q-7 setting"; CallerAndOwner => "caller_and_owner", CallerOnly => "caller_only", OwnerOnly => "owner_only" }

/// Q-10: whether A-11 (a), the integrity level, also refuses the three reads
/// (QueryInterface, `GetHelperTokenFlags`, `GetHelperTokenSid`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum IntegrityReads {
    /// Reads pass A-11 (a): Windows' default mandatory policy forbids only write-up (the
    /// SPEC default).
    #[default]
    Pass,
    /// Reads are refused too (SPEC version 2's behaviour).
    Refuse,
}

names! { IntegrityReads, "Q-10 setting"; Pass => "pass", Refuse => "refuse" }

/// Q-11: the code `SetHelperToken` refuses with when it cannot impersonate its client (A-9:
/// an identification-level client).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum IdentifyOnSetToken {
    /// `CO_E_FAILEDTOIMPERSONATE`, the reference page's code (the SPEC default).
    #[default]
    FailedToImpersonate,
    /// `E_ACCESSDENIED`, as the helper-token example page says.
    AccessDenied,
}

names! { IdentifyOnSetToken, "Q-11 setting"; FailedToImpersonate => "failed_to_impersonate", AccessDenied => "access_denied" }

/// Q-12: whether LocalSystem and NetworkService answer a proxy's challenge as the computer
/// (R-6).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum ServiceProxyCredentials {
    /// R-6 applies to proxy challenges too ("Service Accounts and BITS"): the SPEC default.
    #[default]
    Computer,
    /// They answer no proxy challenge implicitly ("Authentication": these accounts "do not
    /// have usable NTLM or Kerberos credentials").
    None,
}

names! { ServiceProxyCredentials, "Q-12 setting"; Computer => "computer", None => "none" }

/// A failure `HRESULT`: the type of the Q-5 knob, so a refusal can never be configured
/// to look like success.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "HResult", into = "HResult"))]
#[allow(clippy::exhaustive_structs)] // the field is private
pub struct FailureCode(HResult);

/// The `HRESULT` given for a [`FailureCode`] is a success code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is a success code; a refusal needs a failure HRESULT")]
#[allow(clippy::exhaustive_structs)] // exactly the refused code
pub struct NotAFailure(pub HResult);

impl FailureCode {
    /// `E_ACCESSDENIED`.
    pub const ACCESS_DENIED: FailureCode = FailureCode(HResult::E_ACCESSDENIED);

    /// A failure code; refuses success codes.
    pub const fn new(hr: HResult) -> Result<FailureCode, NotAFailure> {
        if hr.is_failure() {
            Ok(FailureCode(hr))
        } else {
            Err(NotAFailure(hr))
        }
    }

    /// The `HRESULT`.
    pub const fn get(self) -> HResult {
        self.0
    }
}

impl TryFrom<HResult> for FailureCode {
    type Error = NotAFailure;
    fn try_from(hr: HResult) -> Result<FailureCode, NotAFailure> {
        FailureCode::new(hr)
    }
}

impl From<FailureCode> for HResult {
    fn from(code: FailureCode) -> HResult {
        code.0
    }
}

/// The open points of SPEC §6, one knob each, every one defaulting to the SPEC's choice.
///
/// Q-4 (precedence) is not a knob: the order of A-10 is fixed by the decision functions.
///
/// New knobs may be added as the SPEC grows, so build one from [`Knobs::DEFAULT`] and
/// change fields:
///
/// ```
/// use bits_helper_token::{profile::Knobs, profile::UnknownFlags};
/// let mut knobs = Knobs::DEFAULT;
/// knobs.unknown_flags = UnknownFlags::InvalidArg;
/// assert_ne!(knobs, Knobs::default());
/// ```
///
/// Serialized as an object with one snake_case field per knob; missing fields take
/// their default, unknown fields are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(remote = "Self", default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct Knobs {
    /// Q-1: unknown flag bits.
    pub unknown_flags: UnknownFlags,
    /// Q-2: what an administrator caller skips.
    pub admin_bypass: AdminBypass,
    /// Q-3: mutating methods on done jobs.
    pub done_jobs: DoneJobs,
    /// Q-5: the code for the undocumented refusals — A-4 on the four methods other than
    /// `SetHelperToken`, A-5 on all five, A-6, A-8 (default `E_ACCESSDENIED`). A-4 and A-7
    /// on `SetHelperToken`, A-11 and L-7 always refuse with `E_ACCESSDENIED`.
    pub denial: FailureCode,
    /// Q-6: `TakeOwnership` and the helper token.
    pub take_ownership: TakeOwnership,
    /// Q-7: who must be an administrator for a legacy `SetHelperToken`.
    pub legacy_set_token: LegacySetToken,
    /// Q-8: when L-6 strikes.
    pub token_check: TokenCheck,
    /// Q-9: where the access check refuses.
    pub access_check: AccessCheck,
    /// Q-10: A-11 (a) on the three reads.
    pub integrity_reads: IntegrityReads,
    /// Q-11: `SetHelperToken`'s code when it cannot impersonate its client (A-9).
    pub identify_on_set_token: IdentifyOnSetToken,
    /// Q-12: service accounts behind an authenticating proxy.
    pub service_proxy_credentials: ServiceProxyCredentials,
}

#[cfg(feature = "serde")]
crate::names::strict_object!(Knobs, "knobs");

impl Knobs {
    /// Every knob at its SPEC default.
    pub const DEFAULT: Knobs = Knobs {
        unknown_flags: UnknownFlags::NotImpl,
        admin_bypass: AdminBypass::OwnerRuleAndVetoes,
        done_jobs: DoneJobs::InvalidState,
        denial: FailureCode::ACCESS_DENIED,
        take_ownership: TakeOwnership::DropToken,
        legacy_set_token: LegacySetToken::CallerAndOwner,
        token_check: TokenCheck::Eager,
        access_check: AccessCheck::QueryInterface,
        integrity_reads: IntegrityReads::Pass,
        identify_on_set_token: IdentifyOnSetToken::FailedToImpersonate,
        service_proxy_credentials: ServiceProxyCredentials::Computer,
    };

    /// The same knobs with Q-1 (`unknown_flags`) set.
    pub const fn with_unknown_flags(self, unknown_flags: UnknownFlags) -> Knobs {
        Knobs {
            unknown_flags,
            ..self
        }
    }

    /// The same knobs with Q-2 (`admin_bypass`) set.
    pub const fn with_admin_bypass(self, admin_bypass: AdminBypass) -> Knobs {
        Knobs {
            admin_bypass,
            ..self
        }
    }

    /// The same knobs with Q-3 (`done_jobs`) set.
    pub const fn with_done_jobs(self, done_jobs: DoneJobs) -> Knobs {
        Knobs { done_jobs, ..self }
    }

    /// The same knobs with Q-5 (`denial`) set.
    pub const fn with_denial(self, denial: FailureCode) -> Knobs {
        Knobs { denial, ..self }
    }

    /// The same knobs with Q-6 (`take_ownership`) set.
    pub const fn with_take_ownership(self, take_ownership: TakeOwnership) -> Knobs {
        Knobs {
            take_ownership,
            ..self
        }
    }

    /// The same knobs with Q-7 (`legacy_set_token`) set.
    pub const fn with_legacy_set_token(self, legacy_set_token: LegacySetToken) -> Knobs {
        Knobs {
            legacy_set_token,
            ..self
        }
    }

    /// The same knobs with Q-8 (`token_check`) set.
    pub const fn with_token_check(self, token_check: TokenCheck) -> Knobs {
        Knobs {
            token_check,
            ..self
        }
    }

    /// The same knobs with Q-9 (`access_check`) set.
    pub const fn with_access_check(self, access_check: AccessCheck) -> Knobs {
        Knobs {
            access_check,
            ..self
        }
    }

    /// The same knobs with Q-10 (`integrity_reads`) set.
    pub const fn with_integrity_reads(self, integrity_reads: IntegrityReads) -> Knobs {
        Knobs {
            integrity_reads,
            ..self
        }
    }

    /// The same knobs with Q-11 (`identify_on_set_token`) set.
    pub const fn with_identify_on_set_token(
        self,
        identify_on_set_token: IdentifyOnSetToken,
    ) -> Knobs {
        Knobs {
            identify_on_set_token,
            ..self
        }
    }

    /// The same knobs with Q-12 (`service_proxy_credentials`) set.
    pub const fn with_service_proxy_credentials(
        self,
        service_proxy_credentials: ServiceProxyCredentials,
    ) -> Knobs {
        Knobs {
            service_proxy_credentials,
            ..self
        }
    }
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs::DEFAULT
    }
}

/// What the model is asked to behave like: a [`Release`] and the [`Knobs`].
///
/// ```
/// use bits_helper_token::{Profile, profile::Release};
/// let p = Profile::new(Release::Legacy);
/// assert_eq!(p.release, Release::Legacy);
/// assert_eq!(Profile::default(), Profile::new(Release::LATEST));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(remote = "Self", default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct Profile {
    /// The Windows release.
    pub release: Release,
    /// The Q-knobs.
    pub knobs: Knobs,
}

#[cfg(feature = "serde")]
crate::names::strict_object!(Profile, "a profile");

impl Profile {
    /// The given release with every knob at its SPEC default.
    pub const fn new(release: Release) -> Profile {
        Profile {
            release,
            knobs: Knobs::DEFAULT,
        }
    }

    /// The same profile with other knobs.
    pub const fn with_knobs(self, knobs: Knobs) -> Profile {
        Profile { knobs, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a3_releases_are_ordered_and_named() {
        assert!(Release::PreBits4 < Release::Legacy);
        assert!(Release::Win10_1607 < Release::Win10_1809);
        for &r in Release::ALL {
            assert_eq!(r.name().parse::<Release>(), Ok(r));
        }
        let err = "Win10_1809".parse::<Release>().unwrap_err();
        assert_eq!(err.what(), "release");
        assert!(!Release::PreBits4.has_token_options());
        assert!(!Release::Legacy.has_owner_rules());
        assert!(
            Release::Win10_1607.has_owner_rules()
                && !Release::Win10_1607.preconfig_proxy_as_helper()
        );
        assert!(Release::Win10_1809.preconfig_proxy_as_helper());
    }

    #[test]
    fn q5_failure_code_refuses_success() {
        assert_eq!(
            FailureCode::new(HResult::S_OK),
            Err(NotAFailure(HResult::S_OK))
        );
        assert_eq!(
            FailureCode::new(HResult::new(1)),
            Err(NotAFailure(HResult::new(1)))
        );
        assert_eq!(
            FailureCode::new(HResult::E_FAIL).map(FailureCode::get),
            Ok(HResult::E_FAIL)
        );
        assert_eq!(Knobs::default().denial.get(), HResult::E_ACCESSDENIED);
    }
}
