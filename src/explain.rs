//! Sentences that explain decisions and routes, built on demand from a decision's rule and
//! the inputs it was made on. Nothing here decides: every fact in a sentence is read from
//! the inputs or from the decision.
#![forbid(unsafe_code)]

use crate::access::Access;
use crate::decide::{Decision, Impersonation};
use crate::facts::{Effect, JobFacts};
use crate::net::{AuthTarget, UseLmCompat};
use crate::plan::transfer_plan;
use crate::profile::{Profile, TakeOwnership};
use crate::route::{ImplicitAllowed, Principal, Route, implicit_allowed};
use crate::rule::Reason;
use crate::sid::Sid;
use crate::token::Identity;
use crate::usage::TokenUsage;
use core::fmt;

/// The inputs a decision was made on: the profile, the job as it was before the call, and
/// whichever of the caller, the flags argument and the impersonated token the call had.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Inputs<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// The job before the call.
    pub job: &'a JobFacts,
    /// The caller remembered at QueryInterface (or TakeOwnership's caller).
    pub caller: Option<Identity>,
    /// `SetHelperTokenFlags`'s argument.
    pub flags: Option<u32>,
    /// `SetHelperToken`'s impersonation.
    pub impersonation: Option<Impersonation>,
}

impl<'a> Inputs<'a> {
    /// The profile and the job; add the call's arguments with the other methods.
    pub const fn new(profile: &'a Profile, job: &'a JobFacts) -> Inputs<'a> {
        Inputs {
            profile,
            job,
            caller: None,
            flags: None,
            impersonation: None,
        }
    }

    /// With the caller.
    pub const fn caller(self, caller: Identity) -> Inputs<'a> {
        Inputs {
            caller: Some(caller),
            ..self
        }
    }

    /// With `SetHelperTokenFlags`'s argument.
    pub const fn flags(self, flags: u32) -> Inputs<'a> {
        Inputs {
            flags: Some(flags),
            ..self
        }
    }

    /// With `SetHelperToken`'s impersonation.
    pub const fn impersonation(self, impersonation: Impersonation) -> Inputs<'a> {
        Inputs {
            impersonation: Some(impersonation),
            ..self
        }
    }
}

/// A SID, or a dash where the inputs did not give it.
struct MaybeSid(Option<Sid>);

impl fmt::Display for MaybeSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(sid) => sid.fmt(f),
            None => f.write_str("(unknown)"),
        }
    }
}

/// The sentence of a [`Decision`]: [`Decision::explain`].
#[derive(Clone, Copy)]
pub struct Explanation<'a> {
    decision: &'a Decision,
    inputs: &'a Inputs<'a>,
}

impl<'a> Explanation<'a> {
    pub(crate) const fn decision(decision: &'a Decision, inputs: &'a Inputs<'a>) -> Self {
        Explanation { decision, inputs }
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inputs { profile, job, .. } = *self.inputs;
        let rule = self.decision.rule();
        let id = rule.id;
        let caller = MaybeSid(self.inputs.caller.map(|c| c.sid));
        let owner = job.owner.sid;
        let unknown = TokenUsage::from_bits_retain(self.inputs.flags.unwrap_or(0)).unknown_bits();
        write!(
            f,
            "{} returns {}: ",
            self.decision.operation(),
            self.decision.hresult()
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
                "{id}: the caller {caller} runs at integrity level {}, below the job's {} (owner {owner}); no one, administrator or owner, may act on it from there",
                self.inputs
                    .caller
                    .map_or(crate::token::IntegrityLevel::Untrusted, |c| c.integrity),
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
                let token = match self.inputs.impersonation {
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
                "{id}: the flags carry unknown bits 0x{unknown:X} (only LOCAL_FILE 0x1 and NETWORK 0x2 exist)"
            ),
            Reason::UnknownFlagsMasked => write!(
                f,
                "{id}: the unknown bits 0x{unknown:X} were masked off and the rest stored"
            ),
            Reason::CannotImpersonate => write!(
                f,
                "{id}: the client's COM security does not allow impersonation, so BITS cannot take its token"
            ),
            Reason::TokenDiscarded => write!(
                f,
                "{id}: {} and BITS discarded the helper token; the job is finished or its flags are 0, so it is unaffected",
                Ended(self.decision.operation())
            ),
            Reason::TokenRequiredAfterLogoff => write!(
                f,
                "{id}: {} and BITS discarded the helper token; the unfinished job still uses it for {}, so it goes to ERROR (recover: set a new token, or set the flags to 0, then resume)",
                Ended(self.decision.operation()),
                job.flags
            ),
            Reason::ServiceAccountStaysLoggedOn => write!(
                f,
                "{id}: the owner {owner} is a service account, always logged on: its logoff never happens, and the helper token stays"
            ),
            Reason::NoTokenToDiscard => write!(
                f,
                "{id}: the job holds no helper token, so {} leaves it untouched",
                Ended(self.decision.operation())
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
                "{id}: LOCAL_FILE routes renaming the files to the helper token, and none is stored: the job stays transferred"
            ),
            Reason::NothingToRemove => write!(f, "{id}: there is nothing to remove"),
            Reason::ServerChallengeUnanswered | Reason::ProxyChallengeUnanswered => {
                let plan = transfer_plan(profile, job);
                let step = plan.failing_step().map(|r| r.access);
                write!(
                    f,
                    "{id}: the {} challenges{}, and nothing answers: no explicit credentials for it, and implicit ones not allowed (R-3) or not usable (R-6)",
                    if rule.reason == Reason::ServerChallengeUnanswered {
                        "server"
                    } else {
                        "proxy"
                    },
                    match step.and_then(|a| a.as_challenge()) {
                        Some((_, s)) => match s {
                            crate::net::AuthScheme::Basic => " with Basic",
                            crate::net::AuthScheme::Digest => " with Digest",
                            crate::net::AuthScheme::Ntlm => " with NTLM",
                            crate::net::AuthScheme::Negotiate => " with Negotiate",
                            crate::net::AuthScheme::Passport => " with Passport",
                        },
                        None => "",
                    }
                )
            }
            Reason::StateChanged => match self.decision.effect() {
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
                "{id}: {caller} took ownership; credentials and the client certificate were removed (L-7), {}",
                match profile.knobs.take_ownership {
                    TakeOwnership::DropToken => "the helper token was dropped and the flags kept",
                    TakeOwnership::Keep => "the helper token and flags were kept",
                    TakeOwnership::Clear => "the helper token and flags were cleared",
                }
            ),
            Reason::HelperTokenMissing => {
                let plan = transfer_plan(profile, job);
                let usage = plan
                    .failing_step()
                    .and_then(|r| r.access.flag())
                    .unwrap_or(job.flags);
                write!(
                    f,
                    "{id}: the flags route an access of this transfer to the helper token ({usage}), and no helper token is stored"
                )
            }
            Reason::ClientCertificateWithNetwork => write!(
                f,
                "{id}: the job has a client certificate, its owner {owner} is not LocalSystem and NETWORK is set, so its HTTPS transfer fails: the private key is reached as the owner, the connection as the helper"
            ),
            other => write!(f, "{id}: {other}"),
        }?;
        if let Some(failure) = self.decision.transfer_failure() {
            write!(
                f,
                "; the transfer will fail with {}: {}",
                failure.hresult, failure.rule.id
            )?;
        }
        Ok(())
    }
}

/// The sentence of a [`Route`]: [`Route::explain`].
#[derive(Clone, Copy)]
pub struct RouteExplanation<'a> {
    route: &'a Route,
    profile: &'a Profile,
    job: &'a JobFacts,
}

impl<'a> RouteExplanation<'a> {
    pub(crate) const fn new(route: &'a Route, profile: &'a Profile, job: &'a JobFacts) -> Self {
        RouteExplanation {
            route,
            profile,
            job,
        }
    }
}

impl fmt::Display for RouteExplanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Route {
            access,
            principal,
            rule,
        } = *self.route;
        let job = self.job;
        let owner = job.owner.sid;
        let helper = MaybeSid(job.helper.map(|h| h.sid));
        let id = rule.id;
        let challenge = access.as_challenge();
        let (target, scheme) = match challenge {
            Some((t, s)) => (t, s.label()),
            None => (AuthTarget::Server, ""),
        };
        write!(f, "{access}: ")?;
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
        }
        f.write_str(" (")?;
        let usage = access.flag().unwrap_or(TokenUsage::empty());
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
                "{id}: NETWORK is set, so BITS {doing} with the implicit credentials of the helper token {helper} (R-3 allows them: {})",
                Allowed(implicit_allowed(job, target), job)
            ),
            Reason::ImplicitAsOwner => write!(
                f,
                "{id}: NETWORK is not set, so BITS {doing} with the implicit credentials of the owner {owner} (R-3 allows them: {})",
                Allowed(implicit_allowed(job, target), job)
            ),
            Reason::ServiceOwnerOnNetwork | Reason::ComputerOnlyThroughNegotiate => {
                // Whose token: the helper's when the access's flag is set, else the owner's.
                let helper_in_play = access.flag().is_some_and(|u| job.flags.contains(u));
                let (whose, sid) = match job.helper {
                    Some(h) if helper_in_play => ("helper token", h.sid),
                    _ => ("owner", owner),
                };
                let account = if sid == Sid::LOCAL_SYSTEM {
                    "LocalSystem"
                } else if sid == Sid::LOCAL_SERVICE {
                    "LocalService"
                } else if sid == Sid::NETWORK_SERVICE {
                    "NetworkService"
                } else {
                    "a service account"
                };
                match (rule.reason, principal) {
                    (Reason::ComputerOnlyThroughNegotiate, _) => write!(
                        f,
                        "{id}: the {whose} {sid} is {account}, which appears on the network as the computer, and the computer's identity is presented only through Negotiate: BITS {doing} with no usable credentials"
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
                "{id}: before Windows 10 1809 (here {}) BITS reads the IE proxy settings as the owner {owner}, even with NETWORK set",
                self.profile.release
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
            Reason::NotApplicable => write!(
                f,
                "{id}: a {} job over {} with proxy usage {} and {} client certificate never {}",
                job.job_type,
                job.remote,
                job.proxy,
                if job.client_certificate { "a" } else { "no" },
                NeverDoes(access)
            ),
            other => write!(f, "{id}: {other}"),
        }?;
        f.write_str(")")
    }
}

/// The lines of a [`TransferPlan`](crate::TransferPlan): [`TransferPlan::explain`](crate::TransferPlan::explain).
#[derive(Clone, Copy)]
pub struct PlanExplanation<'a> {
    plan: &'a crate::plan::TransferPlan,
    profile: &'a Profile,
    job: &'a JobFacts,
}

impl<'a> PlanExplanation<'a> {
    pub(crate) const fn new(
        plan: &'a crate::plan::TransferPlan,
        profile: &'a Profile,
        job: &'a JobFacts,
    ) -> Self {
        PlanExplanation { plan, profile, job }
    }
}

/// One line per step, then `=> TRANSFERRED` or `=> ERROR: …`.
impl fmt::Display for PlanExplanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.plan.iter().enumerate() {
            writeln!(f, "{}. {}", n + 1, step.explain(self.profile, self.job))?;
        }
        match self.plan.outcome().failure() {
            None => f.write_str("=> TRANSFERRED"),
            Some(e) => {
                let d = Decision::new(
                    crate::decide::Operation::Event(crate::decide::Event::Transfer),
                    e.hresult,
                    e.rule,
                    Effect::Fail(e),
                );
                let inputs = Inputs::new(self.profile, self.job);
                write!(f, "=> ERROR: {}", d.explain(&inputs))
            }
        }
    }
}

/// What ended the helper token's session, in words.
struct Ended(crate::decide::Operation);

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::decide::{Event, Operation};
        f.write_str(match self.0 {
            Operation::Event(Event::HelperSessionEnded) => "the helper token's session ended",
            Operation::Event(Event::ServiceStop) => "the BITS service stopped",
            _ => "the owner logged off",
        })
    }
}

/// Why R-3 allowed implicit credentials, in words.
struct Allowed<'a>(Option<ImplicitAllowed>, &'a JobFacts);

impl fmt::Display for Allowed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ImplicitAllowed::SetCredentials) => {
                f.write_str("SetCredentials(NULL, NULL) was called for this target")
            }
            Some(ImplicitAllowed::ProxyCredentials) => f.write_str(
                "implicit proxy credentials also serve the server, which has no explicit credentials",
            ),
            Some(ImplicitAllowed::UseLmCompatAlways) => f.write_str("UseLMCompat is 0"),
            Some(ImplicitAllowed::LmCompatibilityLevel) => write!(
                f,
                "UseLMCompat is 1 and LMCompatibilityLevel is {}",
                self.1.environment.lm_compatibility_level
            ),
            None => f.write_str("nothing"),
        }
    }
}

/// What BITS does when it makes the access, as a verb phrase ("opens the upload's local
/// file").
struct Doing(Access);

impl fmt::Display for Doing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Access::UploadLocalFile => f.write_str("opens the upload's local file"),
            Access::DownloadTempFileCreate => f.write_str("creates the download's temporary file"),
            Access::DownloadTempFileRename => {
                f.write_str("renames the download's temporary file to its final name")
            }
            Access::ReplyFileCreate => f.write_str("creates the reply file"),
            Access::ReplyFileRename => f.write_str("renames the reply file to its final name"),
            Access::SmbRemoteFile => f.write_str("opens the remote file on the SMB share"),
            Access::ProxyAutoDetect => f.write_str("detects the proxy (WPAD)"),
            Access::ProxyIeSettings => f.write_str("reads the IE proxy settings (PRECONFIG)"),
            Access::ProxyChallenge(s) => write!(f, "answers the proxy's {} challenge", s.label()),
            Access::ServerChallenge(s) => {
                write!(f, "answers the server's {} challenge", s.label())
            }
            Access::ClientCertificateKey => {
                f.write_str("reaches the client certificate's private key")
            }
            Access::Other => f.write_str("makes any other access for the job"),
        }
    }
}

/// The verb phrase of [`Doing`] in the bare infinitive, after "never".
struct NeverDoes(Access);

impl fmt::Display for NeverDoes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Access::UploadLocalFile => f.write_str("opens an upload's local file"),
            Access::DownloadTempFileCreate => f.write_str("creates a download's temporary file"),
            Access::DownloadTempFileRename => f.write_str("renames a download's temporary file"),
            Access::ReplyFileCreate => f.write_str("creates a reply file"),
            Access::ReplyFileRename => f.write_str("renames a reply file"),
            Access::SmbRemoteFile => f.write_str("opens a remote file on an SMB share"),
            Access::ProxyAutoDetect => f.write_str("detects a proxy with WPAD"),
            Access::ProxyIeSettings => f.write_str("reads the IE proxy settings"),
            Access::ProxyChallenge(s) => write!(f, "answers a proxy's {} challenge", s.label()),
            Access::ServerChallenge(s) => write!(f, "answers a server's {} challenge", s.label()),
            Access::ClientCertificateKey => {
                f.write_str("reaches the client certificate's private key")
            }
            Access::Other => f.write_str("makes other accesses"),
        }
    }
}
