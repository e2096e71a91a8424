//! The sentence of a decision of a call or an event.
#![forbid(unsafe_code)]

use super::words::*;
use super::{Context, Explained};
use crate::decide::{Decision, Impersonation};
use crate::facts::Effect;
use crate::profile::TakeOwnership;
use crate::rule::Reason;
use crate::usage::TokenUsage;
use core::fmt;

/// The sentence: what the call returns, the rule and the facts that decided.
impl fmt::Display for Explained<Decision> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decision = &self.made;
        let Context { profile, job, .. } = &self.on;
        let rule = decision.rule();
        let id = rule.id;
        let caller = MaybeSid(self.on.caller.map(|c| c.identity.sid));
        let owner = Account(job.owner.sid);
        let unknown = TokenUsage::from_bits_retain(self.on.flags.unwrap_or(0)).unknown_bits();
        write!(
            f,
            "{} returns {}: ",
            decision.operation(),
            decision.hresult()
        )?;
        match rule.reason {
            Reason::InterfaceUnavailable => write!(
                f,
                "{id}: IBitsTokenOptions does not exist on {} (BITS before 4.0), so QueryInterface fails",
                profile.release
            ),
            Reason::InterfaceObtained => write!(
                f,
                "{id}: QueryInterface succeeds and the handle remembers the caller {caller}"
            ),
            Reason::CallerIntegrityTooLow => write!(
                f,
                "{id}: the caller {caller} runs at integrity level {}, below the job's {} (owner {owner}); no one, administrator or owner, may change the job from there",
                self.on
                    .caller
                    .map_or(crate::token::IntegrityLevel::Untrusted, |c| c
                        .identity
                        .integrity),
                job.owner.integrity
            ),
            Reason::CallerIntegrityTooLowToRead => write!(
                f,
                "{id}: the caller {caller} runs at integrity level {}, below the job's {} (owner {owner}), and with integrity_reads refuse not even a read passes",
                self.on
                    .caller
                    .map_or(crate::token::IntegrityLevel::Untrusted, |c| c
                        .identity
                        .integrity),
                job.owner.integrity
            ),
            Reason::CallerNotElevated => write!(
                f,
                "{id}: the job was created or taken by an elevated token (owner {owner}) and the caller {caller} is not elevated"
            ),
            Reason::LegacyCallerNotAdministrator => write!(
                f,
                "{id}: before Windows 10 1607 the caller must be an administrator, and {caller} is not"
            ),
            Reason::LegacyOwnerNotElevated => write!(
                f,
                "{id}: before Windows 10 1607 only a job owned by an elevated administrator may get a helper token, and the owner {owner} is not elevated"
            ),
            Reason::LegacyAdministrator => {
                write!(f, "{id}: the caller {caller} is an administrator")
            }
            Reason::LegacyOwnerElevated => write!(
                f,
                "{id}: the job's owner {owner} is elevated, which is all this knob requires before 1607"
            ),
            Reason::NotJobOwner => write!(
                f,
                "{id}: the caller {caller} is not an administrator and does not own the job (owner {owner})"
            ),
            Reason::OwnerCaller => write!(f, "{id}: the caller {caller} owns the job"),
            Reason::AdministratorCaller => write!(
                f,
                "{id}: the caller {caller} is an administrator, so the owner rule does not bind it"
            ),
            Reason::StoredTokenIsAdministrator => write!(
                f,
                "{id}: the helper token stored on the job ({}) has the Administrators group enabled, so only an administrator may change its flags",
                MaybeSid(job.helper.map(|h| h.sid))
            ),
            Reason::NewTokenIsAdministrator => {
                let token = match self.on.impersonation {
                    Some(Impersonation::Allowed(t)) => Some(t.sid),
                    _ => None,
                };
                write!(
                    f,
                    "{id}: the token being set ({}) has the Administrators group enabled, so only an administrator may set it",
                    MaybeSid(token)
                )
            }
            Reason::JobDone => write!(
                f,
                "{id}: the job is {}, so it can no longer be changed",
                job.state
            ),
            Reason::UnknownFlags => write!(
                f,
                "{id}: the flags carry unknown bits 0x{unknown:X} (only BG_TOKEN_LOCAL_FILE 0x1 and BG_TOKEN_NETWORK 0x2 exist)"
            ),
            Reason::UnknownFlagsMasked => write!(
                f,
                "{id}: the unknown bits 0x{unknown:X} were masked off and the rest stored"
            ),
            Reason::CannotImpersonate => write!(
                f,
                "{id}: the client's COM security does not allow impersonation, so BITS cannot take its token"
            ),
            Reason::CannotImpersonateAccessDenied => write!(
                f,
                "{id}: the client's COM security does not allow impersonation, so BITS cannot take its token; with identify_on_set_token access_denied the refusal is E_ACCESSDENIED"
            ),
            Reason::TokenDiscarded => write!(
                f,
                "{id}: {} and BITS discarded the helper token; the job is finished or its flags are 0, so it is unaffected",
                Ended(decision.operation())
            ),
            Reason::TokenRequiredAfterLogoff => write!(
                f,
                "{id}: {} and BITS discarded the helper token; the unfinished job still uses it for {}, so it goes to ERROR (recover: set a new token, or set the flags to 0, then resume)",
                Ended(decision.operation()),
                Flags(job.flags)
            ),
            Reason::ServiceAccountStaysLoggedOn => write!(
                f,
                "{id}: the owner {owner} is a service account, always logged on: its logoff never happens, and the helper token stays"
            ),
            Reason::NoTokenToDiscard => write!(
                f,
                "{id}: the job holds no helper token, so {} leaves it untouched",
                Ended(decision.operation())
            ),
            Reason::OwnerLoggedOff => write!(
                f,
                "{id}: the owner {owner} logged off; the job holds no helper token; a running job goes back to QUEUED until the owner logs on"
            ),
            Reason::OwnerLoggedOn => {
                write!(
                    f,
                    "{id}: the owner {owner} is logged on; its jobs may transfer"
                )
            }
            Reason::OwnerNotLoggedOn => write!(
                f,
                "{id}: the owner {owner} is logged off, so the job does not transfer until the owner logs on"
            ),
            Reason::AlreadyResumed => write!(
                f,
                "{id}: the job is already {}; Resume changes nothing",
                job.state
            ),
            Reason::Resumed => write!(f, "{id}: the job went from {} to queued", job.state),
            Reason::Completed => write!(
                f,
                "{id}: the job was transferred; its files got their final names and it is acknowledged"
            ),
            Reason::PartiallyCompleted => write!(
                f,
                "{id}: the download is {}, not transferred: the fully transferred files are kept and the job is acknowledged",
                job.state
            ),
            Reason::UploadNotTransferred => write!(
                f,
                "{id}: an {} job that is {} cannot be completed",
                job.job_type, job.state
            ),
            Reason::CompleteNeedsHelperToken => write!(
                f,
                "{id}: BG_TOKEN_LOCAL_FILE routes renaming the files to the helper token, and none is stored: the job stays transferred"
            ),
            Reason::NothingToRemove => write!(f, "{id}: there is nothing to remove"),
            Reason::ServerChallengeUnanswered | Reason::ProxyChallengeUnanswered => {
                let target = if rule.reason == Reason::ServerChallengeUnanswered {
                    crate::net::AuthTarget::Server
                } else {
                    crate::net::AuthTarget::Proxy
                };
                write!(
                    f,
                    "{id}: the {target} challenges with {}, and no offered scheme can be answered: no explicit credentials for it, and implicit ones not allowed (R-3) or not usable (R-6)",
                    Offered(job.challenges, target)
                )
            }
            Reason::StateChanged => match decision.effect() {
                Effect::Enter(to) => write!(f, "{id}: the job went from {} to {to}", job.state),
                _ => write!(f, "{id}: the job changed state"),
            },
            Reason::NothingToDo => {
                write!(f, "{id}: nothing to do for a job in state {}", job.state)
            }
            Reason::JobFinished => write!(
                f,
                "{id}: the job is {}; BITS refuses every operation on it",
                job.state
            ),
            Reason::TakeOwnershipNeedsAdministrator => write!(
                f,
                "{id}: TakeOwnership requires an elevated administrator, and the caller {caller} is not"
            ),
            Reason::OwnershipTaken => write!(
                f,
                "{id}: {caller} took ownership; credentials and the client certificate were removed and the job follows the new owner's logon (L-7); {}",
                match profile.knobs.take_ownership {
                    TakeOwnership::DropToken => "the helper token was dropped and the flags kept",
                    TakeOwnership::Keep => "the helper token and flags were kept",
                    TakeOwnership::Clear => "the helper token and flags were cleared",
                }
            ),
            Reason::HelperTokenMissing => {
                let usage = decision
                    .failed_at()
                    .and_then(|a| a.flag())
                    .unwrap_or(job.flags);
                write!(
                    f,
                    "{id}: the flags route an access of this transfer to the helper token ({}), and no helper token is stored",
                    Flags(usage)
                )
            }
            Reason::ClientCertificateWithNetwork => write!(
                f,
                "{id}: the job has a client certificate, its owner {owner} is not LocalSystem and BG_TOKEN_NETWORK is set, so its HTTPS transfer fails: the private key is reached as the owner, the connection as the helper"
            ),
            Reason::ClientCertificateNeeded => write!(
                f,
                "{id}: the HTTPS server asks for a client certificate and the job has none (TakeOwnership removes it)"
            ),
            Reason::NetworkLost => write!(
                f,
                "{id}: the network was lost; the {} job waits in TRANSIENT_ERROR with BG_E_NETWORK_DISCONNECTED until it returns",
                job.state
            ),
            Reason::NetworkRestored => write!(
                f,
                "{id}: the network returned; the job in TRANSIENT_ERROR is queued again, its error cleared"
            ),
            Reason::NetworkUnchanged => write!(
                f,
                "{id}: the network changed; a job that is {} is not affected",
                job.state
            ),
            Reason::NetworkDisconnected => write!(
                f,
                "{id}: there is no network connection, so no transfer starts; the job waits until the network returns"
            ),
            Reason::TransferStarted => match decision.effect() {
                Effect::Enter(to) => write!(
                    f,
                    "{id}: the owner {owner} is logged on and the network is up, so the {} job started: it is {to}",
                    job.state
                ),
                _ => write!(f, "{id}: the transfer started"),
            },
            Reason::Suspended => write!(
                f,
                "{id}: the job went from {} to suspended{}",
                job.state,
                if job.error.is_some() {
                    ", its error cleared"
                } else {
                    ""
                }
            ),
            Reason::NothingToSuspend => write!(
                f,
                "{id}: a job that is {} is already suspended or stopped; Suspend changes nothing",
                job.state
            ),
            Reason::NoFiles => write!(
                f,
                "{id}: the job has no files, so there is nothing to resume (add a file first)"
            ),
            Reason::CallerNotLoggedOn => write!(
                f,
                "{id}: the caller {caller} is not logged on interactively (RunAs, a scheduled task, a service or a remote session that does not count, L-11), so BITS cannot add a file for it; fix: run as a user who is logged on at the console or over Remote Desktop, or have an administrator take ownership"
            ),
            Reason::UploadHoldsItsFile => write!(
                f,
                "{id}: an {} job holds exactly one file, and this one has it",
                job.job_type
            ),
            Reason::FileAdded => write!(f, "{id}: the job now holds its file"),
            Reason::UploadReplyOverSmb => {
                write!(f, "{id}: an upload-reply job cannot use an SMB remote name")
            }
            Reason::AnonymousClient => write!(
                f,
                "{id}: the client's proxy sets the anonymous impersonation level, so BITS cannot tell who calls and refuses every call; set the level to identify or more (CoSetProxyBlanket)"
            ),
            Reason::PropertyNeedsImpersonation => write!(
                f,
                "{id}: SetProperty needs the impersonate level, and the client's proxy allows only {}",
                self.on
                    .caller
                    .map_or(crate::token::ImpersonationLevel::Identify, |c| c.level)
            ),
            Reason::RestrictedCaller => write!(
                f,
                "{id}: the caller {caller} uses a restricted token (restricting SIDs), which may not change a job"
            ),
            Reason::NotOwnerOrAdministrator => write!(
                f,
                "{id}: the caller {caller} neither owns the job (owner {owner}) nor is an administrator"
            ),
            Reason::OwnerOnly => write!(
                f,
                "{id}: only the job's owner {owner} may call this, and the caller {caller} is not the owner (an administrator must take ownership first)"
            ),
            Reason::JobOwnerCalls => write!(f, "{id}: the caller {caller} owns the job"),
            Reason::AdministratorCalls => write!(
                f,
                "{id}: the caller {caller} is an administrator, who may change another user's job"
            ),
            Reason::StoredCredentialsSet => write!(
                f,
                "{id}: USE_STORED_CREDENTIALS is set for the proxy: BITS may send default credentials to it (the owner's, or the helper's under BG_TOKEN_NETWORK)"
            ),
            // Reasons of routes and settings: their id and name say it all.
            Reason::SettingStored
            | Reason::FlagSet
            | Reason::FlagClear
            | Reason::ImplicitAsHelper
            | Reason::ImplicitAsOwner
            | Reason::ServiceOwnerOnNetwork
            | Reason::ComputerOnlyThroughNegotiate
            | Reason::ServiceNoProxyCredentials
            | Reason::PreconfigAsOwner
            | Reason::ClientCertificateKey
            | Reason::ExplicitCredentials
            | Reason::ImplicitNotAllowed
            | Reason::NoImplicitForScheme
            | Reason::OwnerAccess
            | Reason::NotApplicable => write!(f, "{id}: {}", rule.reason),
        }?;
        if let Some(failure) = decision.transfer_failure() {
            write!(
                f,
                "; the transfer will fail with {}: {}",
                failure.hresult, failure.rule.id
            )?;
        }
        Ok(())
    }
}
