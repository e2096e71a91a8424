//! The sentence of a route: as whom BITS makes one access, and why.
#![forbid(unsafe_code)]

use super::words::*;
use super::{Context, Explained};
use crate::access::Access;
use crate::decide::route::{Principal, Route};
use crate::net::{AuthTarget, UseLmCompat};
use crate::rule::Reason;
use crate::usage::TokenUsage;
use core::fmt;

/// `access: who (rule: why)`.
impl fmt::Display for Explained<Route> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Route {
            access: asked,
            principal,
            rule,
            implicit,
            scheme: chosen,
        } = self.made;
        // A whole challenge answered in one scheme is explained as that scheme's challenge.
        let access = match (asked, chosen) {
            (Access::WholeChallenge(t), Some(s)) => Access::challenge(t, s),
            _ => asked,
        };
        let Context { profile, job, .. } = &self.on;
        let owner = Account(job.owner.sid);
        let helper = MaybeSid(job.helper.map(|h| h.sid));
        let id = rule.id;
        let challenge = access.as_challenge();
        let (target, scheme) = match challenge {
            Some((t, s)) => (t, s.label()),
            None => (AuthTarget::Server, ""),
        };
        write!(f, "{asked}: ")?;
        if let (Access::WholeChallenge(t), Some(s)) = (asked, chosen) {
            write!(
                f,
                "BITS answers in {}, the strongest scheme the {t} offers that can be answered (X-3), as ",
                s.label()
            )?;
        }
        match principal {
            Principal::Owner => write!(f, "the owner {owner}")?,
            Principal::Helper => write!(f, "the helper token {helper}")?,
            Principal::Computer => f.write_str("the computer account")?,
            Principal::Anonymous => f.write_str("anonymous")?,
            Principal::ExplicitCredentials => {
                write!(f, "the explicit {scheme} credentials set for the {target}")?
            }
            Principal::NoCredentials => f.write_str("no credentials")?,
            Principal::NotApplicable => f.write_str("not applicable")?,
            Principal::MissingHelper => {
                f.write_str("no identity: the helper token is missing (BG_E_TOKEN_REQUIRED)")?
            }
            Principal::Unanswered => f.write_str("nobody")?,
        }
        f.write_str(" (")?;
        let usage = Flags(access.flag().unwrap_or(TokenUsage::empty()));
        let doing = Doing(access);
        match rule.reason {
            Reason::FlagSet => write!(
                f,
                "{id}: {usage} is set, so BITS {doing} as the helper token {helper}"
            ),
            Reason::FlagClear => write!(
                f,
                "{id}: {usage} is not set, so BITS {doing} as the owner {owner}"
            ),
            Reason::ImplicitAsHelper => write!(
                f,
                "{id}: BG_TOKEN_NETWORK is set, so BITS {doing} with the implicit credentials of the helper token {helper} (R-3 allows them: {})",
                Allowed(implicit, job)
            ),
            Reason::ImplicitAsOwner => write!(
                f,
                "{id}: BG_TOKEN_NETWORK is not set, so BITS {doing} with the implicit credentials of the owner {owner} (R-3 allows them: {})",
                Allowed(implicit, job)
            ),
            Reason::ServiceOwnerOnNetwork
            | Reason::ComputerOnlyThroughNegotiate
            | Reason::ServiceNoProxyCredentials => {
                // Whose token: the helper's when the access's flag is set, else the owner's.
                let helper_in_play = access.flag().is_some_and(|u| job.flags.contains(u));
                let (whose, sid) = match job.helper {
                    Some(h) if helper_in_play => ("helper token", h.sid),
                    _ => ("owner", job.owner.sid),
                };
                let account = sid.service_account_name().unwrap_or("a service account");
                match (rule.reason, principal) {
                    (Reason::ComputerOnlyThroughNegotiate, _) => write!(
                        f,
                        "{id}: the {whose} {sid} is {account}, which appears on the network as the computer; the computer answers only through a Negotiate entry that allows implicit credentials (SetCredentials({target}, Negotiate, NULL, NULL)) with Kerberos in the domain ({}): BITS {doing} with no usable credentials",
                        if job.environment.kerberos {
                            "available"
                        } else {
                            "not available"
                        }
                    ),
                    (Reason::ServiceNoProxyCredentials, _) => write!(
                        f,
                        "{id}: the {whose} {sid} is {account}, and with service_proxy_credentials none these accounts answer no proxy challenge implicitly: BITS {doing} with no usable credentials"
                    ),
                    (_, Principal::Anonymous) => write!(
                        f,
                        "{id}: the {whose} {sid} is {account}, so BITS {doing} anonymously"
                    ),
                    _ => write!(
                        f,
                        "{id}: the {whose} {sid} is {account}, so BITS {doing} as the computer account"
                    ),
                }
            }
            Reason::PreconfigAsOwner => write!(
                f,
                "{id}: before Windows 10 1809 (here {}) BITS reads the IE proxy settings as the owner {owner}, even with BG_TOKEN_NETWORK set",
                profile.release
            ),
            Reason::ClientCertificateKey => write!(
                f,
                "{id}: BITS always reaches the client certificate's private key as the owner {owner}, whatever the flags"
            ),
            Reason::ExplicitCredentials => write!(
                f,
                "{id}: explicit {scheme} credentials are set for the {target}; they are sent as given, no token is involved"
            ),
            Reason::ImplicitNotAllowed => {
                write!(
                    f,
                    "{id}: implicit credentials are not allowed for the {target} (no SetCredentials(NULL, NULL) for it"
                )?;
                if matches!(target, AuthTarget::Server)
                    && job.credentials.has_implicit(AuthTarget::Proxy)
                {
                    f.write_str(
                        "; the implicit proxy credentials do not serve it because explicit server credentials exist",
                    )?;
                }
                let env = job.environment;
                write!(f, "; UseLMCompat is {}", env.use_lm_compat.value())?;
                if env.use_lm_compat == UseLmCompat::WhenLmCompatibilityLevel2 {
                    write!(
                        f,
                        " and LMCompatibilityLevel is {}",
                        env.lm_compatibility_level
                    )?;
                }
                write!(f, "), so none answer its {scheme} challenge")
            }
            Reason::NoImplicitForScheme => write!(
                f,
                "{id}: {scheme} has no implicit credentials and no explicit ones are set for the {target}, so nothing answers its challenge"
            ),
            Reason::HelperTokenMissing => write!(
                f,
                "{id}: {usage} routes the access where BITS {doing} to the helper token, and no helper token is stored: the job goes to ERROR with BG_E_TOKEN_REQUIRED"
            ),
            Reason::OwnerAccess => write!(
                f,
                "{id}: no flag names this access, so BITS {} as the owner {owner}",
                Doing(Access::Other)
            ),
            Reason::ServerChallengeUnanswered | Reason::ProxyChallengeUnanswered => {
                let t = asked.challenge_target().unwrap_or(AuthTarget::Server);
                write!(
                    f,
                    "{id}: the {t} offers {}, and no offered scheme can be answered: no explicit credentials for it, and implicit ones not allowed (R-3) or not usable (R-6); the transfer fails with {}",
                    Offered(job.challenges, t),
                    match t {
                        AuthTarget::Server => "BG_E_HTTP_ERROR_401",
                        AuthTarget::Proxy => "BG_E_HTTP_ERROR_407",
                    }
                )
            }
            Reason::NotApplicable if matches!(asked, Access::WholeChallenge(_)) => {
                let t = asked.challenge_target().unwrap_or(AuthTarget::Server);
                if !job.remote.is_http() {
                    write!(f, "{id}: an SMB transfer meets no HTTP challenge")
                } else if matches!(t, AuthTarget::Proxy) && !job.through_proxy() {
                    write!(
                        f,
                        "{id}: the transfer goes through no proxy (proxy usage {}), so no proxy challenges",
                        job.proxy
                    )
                } else {
                    write!(f, "{id}: the {t} does not challenge")
                }
            }
            Reason::NotApplicable => match challenge {
                // a challenge nobody sends is not answered by anyone.
                Some(_) if !job.remote.is_http() => write!(
                    f,
                    "{id}: an SMB transfer meets no HTTP challenge, so BITS never answers one"
                ),
                Some((AuthTarget::Proxy, _)) if !job.through_proxy() => write!(
                    f,
                    "{id}: the transfer goes through no proxy (proxy usage {}), so no proxy challenges",
                    job.proxy
                ),
                Some(_) => write!(
                    f,
                    "{id}: the {target} does not challenge with {scheme}, so BITS never answers it"
                ),
                None => write!(
                    f,
                    "{id}: a {} job over {} with proxy usage {} and {} client certificate never {}",
                    job.job_type,
                    job.remote,
                    job.proxy,
                    if job.client_certificate { "a" } else { "no" },
                    NeverDoes(access)
                ),
            },
            // Reasons of calls and events, never of a route.
            Reason::InterfaceUnavailable
            | Reason::InterfaceObtained
            | Reason::CallerIntegrityTooLow
            | Reason::CallerNotElevated
            | Reason::CallerIntegrityTooLowToRead
            | Reason::CannotImpersonateAccessDenied
            | Reason::LegacyCallerNotAdministrator
            | Reason::LegacyOwnerNotElevated
            | Reason::LegacyAdministrator
            | Reason::LegacyOwnerElevated
            | Reason::NotJobOwner
            | Reason::OwnerCaller
            | Reason::AdministratorCaller
            | Reason::StoredTokenIsAdministrator
            | Reason::NewTokenIsAdministrator
            | Reason::JobDone
            | Reason::UnknownFlags
            | Reason::UnknownFlagsMasked
            | Reason::CannotImpersonate
            | Reason::TokenDiscarded
            | Reason::TokenRequiredAfterLogoff
            | Reason::ServiceAccountStaysLoggedOn
            | Reason::NoTokenToDiscard
            | Reason::OwnerLoggedOff
            | Reason::OwnerLoggedOn
            | Reason::OwnerNotLoggedOn
            | Reason::AlreadyResumed
            | Reason::Resumed
            | Reason::Completed
            | Reason::PartiallyCompleted
            | Reason::UploadNotTransferred
            | Reason::CompleteNeedsHelperToken
            | Reason::StateChanged
            | Reason::NothingToDo
            | Reason::JobFinished
            | Reason::TakeOwnershipNeedsAdministrator
            | Reason::OwnershipTaken
            | Reason::ClientCertificateWithNetwork
            | Reason::SettingStored
            | Reason::NothingToRemove
            | Reason::ClientCertificateNeeded
            | Reason::NetworkLost
            | Reason::NetworkRestored
            | Reason::NetworkUnchanged
            | Reason::NetworkDisconnected
            | Reason::TransferStarted
            | Reason::Suspended
            | Reason::NothingToSuspend
            | Reason::NoFiles
            | Reason::CallerNotLoggedOn
            | Reason::UploadHoldsItsFile
            | Reason::FileAdded
            | Reason::UploadReplyOverSmb
            | Reason::AnonymousClient
            | Reason::PropertyNeedsImpersonation
            | Reason::RestrictedCaller
            | Reason::NotOwnerOrAdministrator
            | Reason::OwnerOnly
            | Reason::JobOwnerCalls
            | Reason::AdministratorCalls
            | Reason::StoredCredentialsSet => write!(f, "{id}: {}", rule.reason),
        }?;
        f.write_str(")")
    }
}
