//! The five `IBitsTokenOptions` methods (SPEC §2, L-1…L-4, X-1).
//!
//! The checks run in the order of A-10: interface availability → an anonymous
//! client → job access gate → a restricted caller on a change → owner
//! rule (A-4…) → job state → argument validation →
//! impersonation (A-9 at identify, Q-11) → veto on the new token → effect. A refused
//! call has [`Effect::Unchanged`].
//!
//! The caller is the identity remembered at QueryInterface with the call's own
//! impersonation level: anything that converts into a [`Caller`] — an [`Identity`] is a
//! caller at the `Impersonate` level.
#![forbid(unsafe_code)]

use crate::rule::rule;

use super::{Decision, Impersonation, Method, Operation, Value};
use crate::decide::jobs::{not_anonymous, not_restricted};
use crate::decide::transfer::client_certificate_failure;
use crate::facts::{Caller, Effect, JobFacts};
use crate::hresult::HResult;
use crate::profile::{
    AdminBypass, DoneJobs, IdentifyOnSetToken, IntegrityReads, LegacySetToken, Profile,
    UnknownFlags,
};
use crate::rule::Rule;
use crate::token::Identity;
use crate::usage::TokenUsage;

/// A refusal: the code and the reason.
type Refusal = (HResult, Rule);

/// whether the release has `IBitsTokenOptions` at all.
pub(crate) const fn interface(profile: &Profile) -> Result<(), Refusal> {
    if profile.release.has_token_options() {
        Ok(())
    } else {
        Err((HResult::E_NOINTERFACE, rule!(InterfaceUnavailable)))
    }
}

/// A-11, the job access gate: whoever calls — owner or administrator — is refused with
/// `E_ACCESSDENIED` (a) when the call changes the job and the caller's integrity level is
/// below the job's, and (b) when the job was created or taken by an elevated token and the
/// caller is not elevated, on reads and changes. A read (`changes` false: QueryInterface,
/// `GetHelperTokenFlags`, `GetHelperTokenSid`) passes (a) unless Q-10 says `refuse`, and
/// then Q-10 is the rule that refused. Administrators do not bypass the gate.
pub(crate) fn gate(
    profile: &Profile,
    caller: &Identity,
    job: &JobFacts,
    changes: bool,
) -> Result<(), Refusal> {
    if caller.integrity < job.owner.integrity {
        if changes {
            return Err((HResult::E_ACCESSDENIED, rule!(CallerIntegrityTooLow)));
        }
        if profile.knobs.integrity_reads == IntegrityReads::Refuse {
            return Err((HResult::E_ACCESSDENIED, rule!(CallerIntegrityTooLowToRead)));
        }
    }
    if job.owner.elevated && !caller.elevated {
        return Err((HResult::E_ACCESSDENIED, rule!(CallerNotElevated)));
    }
    Ok(())
}

/// The owner rule (A-4… ): the granting reason, or the refusal.
/// The A-6 veto belongs here by A-10's order ("owner rule … A-6").
pub(crate) fn access(
    profile: &Profile,
    method: Method,
    caller: &Identity,
    job: &JobFacts,
) -> Result<Rule, Refusal> {
    let knobs = &profile.knobs;
    // the documented E_ACCESSDENIED for A-4 on SetHelperToken; the knob for A-4 on the
    // other four methods, and for on all five.
    let denial = knobs.denial.get();
    // before 1607, administrators only; SetHelperToken also needs an elevated owner.
    if !profile.release.has_owner_rules() {
        let (caller_must, owner_must) = match (method, knobs.legacy_set_token) {
            (Method::SetHelperToken, LegacySetToken::CallerAndOwner) => (true, true),
            (Method::SetHelperToken, LegacySetToken::OwnerOnly) => (false, true),
            _ => (true, false),
        };
        let legacy_denial = match method {
            Method::SetHelperToken => HResult::E_ACCESSDENIED,
            _ => denial,
        };
        if caller_must && !caller.admin {
            return Err((legacy_denial, rule!(LegacyCallerNotAdministrator)));
        }
        if owner_must && !job.owner.elevated {
            return Err((legacy_denial, rule!(LegacyOwnerNotElevated)));
        }
        return Ok(if caller_must {
            rule!(LegacyAdministrator)
        } else {
            rule!(LegacyOwnerElevated)
        });
    }
    // an administrator skips the owner rule unless the knob says otherwise.
    let skips_owner_rule = caller.admin && knobs.admin_bypass != AdminBypass::NoBypass;
    // A-5 / A-8 (Q-5 code): a non-administrator acts only on its own job.
    if !skips_owner_rule && caller.sid != job.owner.sid {
        return Err((denial, rule!(NotJobOwner)));
    }
    // A-6 (Q-5 code): the stored token's veto on SetHelperTokenFlags.
    if method == Method::SetHelperTokenFlags
        && !skips_vetoes(profile, caller)
        && job.helper.is_some_and(|h| h.admin)
    {
        return Err((denial, rule!(StoredTokenIsAdministrator)));
    }
    Ok(if skips_owner_rule {
        rule!(AdministratorCaller)
    } else {
        rule!(OwnerCaller)
    })
}

/// whether the caller skips the vetoes A-6 and A-7 (only on 1607 and later).
fn skips_vetoes(profile: &Profile, caller: &Identity) -> bool {
    caller.admin && profile.knobs.admin_bypass == AdminBypass::OwnerRuleAndVetoes
}

/// a mutating method on a done job.
fn job_state(profile: &Profile, job: &JobFacts) -> Result<(), Refusal> {
    if job.state.is_done() && profile.knobs.done_jobs == DoneJobs::InvalidState {
        return Err((HResult::BG_E_INVALID_STATE, rule!(JobDone)));
    }
    Ok(())
}

/// The common prefix of A-10 for `method`: availability, an anonymous client, the access
/// gate, a restricted caller and job state (mutating methods), the owner rule. Returns the
/// granting rule.
#[inline]
fn precheck(
    profile: &Profile,
    method: Method,
    caller: &Caller,
    job: &JobFacts,
) -> Result<Rule, Decision> {
    let refuse = |(hr, reason): Refusal| Decision::refuse(Operation::Method(method), hr, reason);
    interface(profile).map_err(refuse)?;
    not_anonymous(caller.level).map_err(refuse)?;
    gate(profile, &caller.identity, job, method.is_mutating()).map_err(refuse)?;
    if method.is_mutating() {
        not_restricted(profile, caller).map_err(refuse)?;
    }
    let grant = access(profile, method, &caller.identity, job).map_err(refuse)?;
    if method.is_mutating() {
        job_state(profile, job).map_err(refuse)?;
    }
    Ok(grant)
}

/// `IBitsTokenOptions::SetHelperTokenFlags(flags)`.
///
/// `flags` is the raw `DWORD`: unknown bits reach the decision (T-1) and are handled by
/// On success the flags are stored (L-1) and, when X-1 makes it certain, the decision
/// reports the transfer-time failure they will cause.
///
/// | release | caller | refused when | code |
/// |---|---|---|---|
/// | `pre_bits4` | anyone | always (A-2) | `E_NOINTERFACE` |
/// | `legacy` | not an administrator | always (A-4) | Q-5 (`E_ACCESSDENIED`) |
/// | any with the interface | anyone | integrity below the job's, or a non-elevated caller on an elevated owner's job (A-11) | `E_ACCESSDENIED` |
/// | 1607, 1809 | not an administrator | not the owner; stored token is an administrator (A-6) | Q-5 (`E_ACCESSDENIED`) |
/// | any with the interface | anyone allowed | job done; unknown bits (Q-1) | `BG_E_INVALID_STATE`; Q-1 |
#[inline]
pub fn set_helper_token_flags(
    profile: &Profile,
    caller: impl Into<Caller>,
    job: &JobFacts,
    flags: u32,
) -> Decision {
    let method = Method::SetHelperTokenFlags;
    let op = Operation::Method(method);
    let mut reason = match precheck(profile, method, &caller.into(), job) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    // unknown bits (argument validation comes after access and state, A-10).
    let usage = TokenUsage::from_bits_retain(flags);
    if usage.has_unknown_bits() {
        match profile.knobs.unknown_flags {
            UnknownFlags::InvalidArg => {
                return Decision::refuse(op, HResult::E_INVALIDARG, rule!(UnknownFlags));
            }
            UnknownFlags::NotImpl => {
                return Decision::refuse(op, HResult::E_NOTIMPL, rule!(UnknownFlags));
            }
            UnknownFlags::Mask => reason = rule!(UnknownFlagsMasked),
        }
    }
    // L-1: store the known flags; X-1: predict the transfer failure they cause.
    let stored = usage.intersection(TokenUsage::all());
    Decision::store_flags(op, reason, stored, client_certificate_failure(job, stored))
}

/// `IBitsTokenOptions::GetHelperTokenFlags`: the stored flags, under the owner rule
/// and no veto. Answers on done jobs.
#[inline]
pub fn get_helper_token_flags(
    profile: &Profile,
    caller: impl Into<Caller>,
    job: &JobFacts,
) -> Decision {
    let method = Method::GetHelperTokenFlags;
    match precheck(profile, method, &caller.into(), job) {
        Ok(grant) => Decision::answer(Operation::Method(method), grant, Value::Flags(job.flags)),
        Err(refused) => refused,
    }
}

/// `IBitsTokenOptions::SetHelperToken`: stores the token the caller is impersonating at
/// call time (L-2), replacing any previous one; flags are unchanged.
///
/// Access is judged on the remembered caller (A-1, A-4 with ); then job state
/// then impersonation (A-9, `CO_E_FAILEDTOIMPERSONATE`); then, on 1607 and later,
/// the veto on the new token (A-7, `E_ACCESSDENIED`) unless the caller is an
/// administrator.
#[inline]
pub fn set_helper_token(
    profile: &Profile,
    caller: impl Into<Caller>,
    job: &JobFacts,
    impersonation: Impersonation,
) -> Decision {
    let method = Method::SetHelperToken;
    let op = Operation::Method(method);
    let caller: Caller = caller.into();
    let grant = match precheck(profile, method, &caller, job) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    // BITS takes the token by impersonating the client, which needs the impersonate
    // level; Q-11: with which code it refuses a client that does not allow it.
    let token = match impersonation {
        Impersonation::Allowed(token) if caller.level.can_impersonate() => Some(token),
        _ => None,
    };
    let Some(token) = token else {
        return match profile.knobs.identify_on_set_token {
            IdentifyOnSetToken::FailedToImpersonate => Decision::refuse(
                op,
                HResult::CO_E_FAILEDTOIMPERSONATE,
                rule!(CannotImpersonate),
            ),
            IdentifyOnSetToken::AccessDenied => Decision::refuse(
                op,
                HResult::E_ACCESSDENIED,
                rule!(CannotImpersonateAccessDenied),
            ),
        };
    };
    // a non-administrator may not set an administrator token (1607 and later).
    if profile.release.has_owner_rules() && token.admin && !skips_vetoes(profile, &caller.identity)
    {
        return Decision::refuse(op, HResult::E_ACCESSDENIED, rule!(NewTokenIsAdministrator));
    }
    Decision::new(op, HResult::S_OK, grant, Effect::StoreHelper(token))
}

/// `IBitsTokenOptions::ClearHelperToken`: drops the token and keeps the flags (L-3),
/// under the owner rule and no veto; refused on done jobs.
#[inline]
pub fn clear_helper_token(
    profile: &Profile,
    caller: impl Into<Caller>,
    job: &JobFacts,
) -> Decision {
    let method = Method::ClearHelperToken;
    match precheck(profile, method, &caller.into(), job) {
        Ok(grant) => Decision::new(
            Operation::Method(method),
            HResult::S_OK,
            grant,
            Effect::ClearHelper,
        ),
        Err(refused) => refused,
    }
}

/// `IBitsTokenOptions::GetHelperTokenSid`: the stored token's user SID, or success with
/// no string when none is stored (L-4), under the owner rule and no veto.
#[inline]
pub fn get_helper_token_sid(
    profile: &Profile,
    caller: impl Into<Caller>,
    job: &JobFacts,
) -> Decision {
    let method = Method::GetHelperTokenSid;
    match precheck(profile, method, &caller.into(), job) {
        Ok(grant) => Decision::answer(
            Operation::Method(method),
            grant,
            Value::HelperSid(job.helper.map(|h| h.sid)),
        ),
        Err(refused) => refused,
    }
}
