//! Sentences that explain decisions, routes and transfer plans. An explanation is made
//! from what was decided and the facts it was decided on, captured together where the
//! decision was made ([`Explained`]): the [`Job`](crate::Job) and
//! [`TokenOptions`](crate::TokenOptions) methods return one, and [`route`] and
//! [`transfer_plan`] decide and capture in one call. No public path pairs a decision with
//! other facts, and nothing here decides: every fact in a sentence is read from the
//! captured facts or from the decision. Every [`Reason`] has its sentence in each match
//! (no catch-all arm), so a new reason does not compile without one.
#![forbid(unsafe_code)]

use crate::access::Access;
use crate::decide::route::{ImplicitAllowed, Principal, Route};
use crate::decide::transfer::TransferPlan;
use crate::decide::{Decision, Event, Impersonation, Operation};
use crate::facts::{Effect, JobFacts};
use crate::net::{AuthTarget, UseLmCompat};
use crate::profile::{Profile, TakeOwnership};
use crate::rule::Reason;
use crate::sid::Sid;
use crate::token::Identity;
use crate::usage::TokenUsage;
use core::fmt;

/// What was decided — a [`Decision`], a [`Route`] or a [`TransferPlan`] — with the facts it
/// was decided on, captured where it was decided. It dereferences to what was decided; its
/// `Display` is the sentence, which can only speak of those facts.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
/// let owner = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let stranger = Identity::new("S-1-5-21-1-2-3-1002".parse()?, false);
/// let profile = Profile::default().with_knobs(profile::Knobs::default()
///     .with_access_check(profile::AccessCheck::PerCall));
/// let mut job = Job::new(profile, &owner);
/// let handle = job.query_interface(&stranger).expect("per_call: QueryInterface passes");
/// let d = handle.set_helper_token_flags(&mut job, 0x1)?;
/// assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
/// assert_eq!(d.to_string(),
///     "SetHelperTokenFlags returns 0x80070005 (E_ACCESSDENIED): A-5: the caller S-1-5-21-1-2-3-1002 is not an administrator and does not own the job (owner S-1-5-21-1-2-3-1001)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Explained<T> {
    made: T,
    on: Context,
}

/// The facts a decision was made on: the profile, the job before the call, and whichever of
/// the caller, the flags argument and the impersonated token the call had.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Context {
    pub(crate) profile: Profile,
    pub(crate) job: JobFacts,
    pub(crate) caller: Option<Identity>,
    pub(crate) flags: Option<u32>,
    pub(crate) impersonation: Option<Impersonation>,
}

impl Context {
    /// The profile and the job before the call; the call's arguments are added with the
    /// builders below.
    pub(crate) const fn new(profile: Profile, job: JobFacts) -> Context {
        Context {
            profile,
            job,
            caller: None,
            flags: None,
            impersonation: None,
        }
    }

    pub(crate) const fn caller(self, caller: Identity) -> Context {
        Context {
            caller: Some(caller),
            ..self
        }
    }

    pub(crate) const fn flags(self, flags: u32) -> Context {
        Context {
            flags: Some(flags),
            ..self
        }
    }

    pub(crate) const fn impersonation(self, impersonation: Impersonation) -> Context {
        Context {
            impersonation: Some(impersonation),
            ..self
        }
    }

    /// `made`, decided on these facts.
    pub(crate) const fn explains<T>(self, made: T) -> Explained<T> {
        Explained { made, on: self }
    }
}

impl<T> Explained<T> {
    /// What was decided.
    pub const fn get(&self) -> &T {
        &self.made
    }

    /// What was decided, without its facts.
    pub fn into_inner(self) -> T {
        self.made
    }

    /// The job as it was when the decision was made (before any effect was applied).
    pub const fn facts(&self) -> &JobFacts {
        &self.on.job
    }

    /// The profile the decision was made under.
    pub const fn profile(&self) -> &Profile {
        &self.on.profile
    }

    /// The caller the decision judged, if the call had one.
    pub const fn caller(&self) -> Option<Identity> {
        self.on.caller
    }
}

impl<T> core::ops::Deref for Explained<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.made
    }
}

/// Routes `access` for a transfer of `job` ([`crate::route()`]) and keeps the facts, so
/// the route can be explained.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
/// let job = JobFacts::new(Identity::NETWORK_SERVICE);
/// let r = explain::route(&Profile::default(), &job, Access::ServerChallenge(net::AuthScheme::Ntlm));
/// assert_eq!(r.principal, decide::Principal::NotApplicable);
/// assert_eq!(r.to_string(),
///     "server_challenge_ntlm: not applicable (R-2: the server does not challenge with NTLM, so BITS never answers it)");
/// ```
pub fn route(profile: &Profile, job: &JobFacts, access: Access) -> Explained<Route> {
    Context::new(*profile, *job).explains(crate::decide::route::route(profile, job, access))
}

/// Plans a whole transfer of `job` ([`crate::transfer_plan()`]) and keeps the facts, so the
/// plan can be explained: one line per access, then the outcome.
pub fn transfer_plan(profile: &Profile, job: &JobFacts) -> Explained<TransferPlan> {
    Context::new(*profile, *job).explains(crate::decide::transfer::transfer_plan(profile, job))
}

/// A SID, or a dash where the inputs did not give it.
struct MaybeSid(Option<Sid>);

impl fmt::Display for MaybeSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(sid) => Account(sid).fmt(f),
            None => f.write_str("(unknown)"),
        }
    }
}

/// The sentence: what the call returns, the rule and the facts that decided.
impl fmt::Display for Explained<Decision> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decision = &self.made;
        let Context { profile, job, .. } = &self.on;
        let rule = decision.rule();
        let id = rule.id;
        let caller = MaybeSid(self.on.caller.map(|c| c.sid));
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
                "{id}: the caller {caller} runs at integrity level {}, below the job's {} (owner {owner}); no one, administrator or owner, may act on it from there",
                self.on
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
                let step = decision.failed_at();
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
                "{id}: {caller} took ownership; credentials and the client certificate were removed (L-7), {}",
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
            // Reasons of routes and settings: their id and name say it all.
            Reason::SettingStored
            | Reason::FlagSet
            | Reason::FlagClear
            | Reason::ImplicitAsHelper
            | Reason::ImplicitAsOwner
            | Reason::ServiceOwnerOnNetwork
            | Reason::ComputerOnlyThroughNegotiate
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

/// `access: who (rule: why)`.
impl fmt::Display for Explained<Route> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Route {
            access,
            principal,
            rule,
            implicit,
        } = self.made;
        let Context { profile, job, .. } = &self.on;
        let owner = Account(job.owner.sid);
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
            Reason::ServiceOwnerOnNetwork | Reason::ComputerOnlyThroughNegotiate => {
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
            Reason::NotApplicable => match challenge {
                // X-3: a challenge nobody sends is not answered by anyone.
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
            | Reason::ServerChallengeUnanswered
            | Reason::ProxyChallengeUnanswered
            | Reason::ClientCertificateWithNetwork
            | Reason::SettingStored
            | Reason::NothingToRemove => write!(f, "{id}: {}", rule.reason),
        }?;
        f.write_str(")")
    }
}

/// One line per step, then `=> TRANSFERRED` or `=> ERROR: …`.
impl fmt::Display for Explained<TransferPlan> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.made.iter().enumerate() {
            writeln!(f, "{}. {}", n + 1, self.on.explains(*step))?;
        }
        match self.made.outcome().failure() {
            None => f.write_str("=> TRANSFERRED"),
            Some(e) => {
                let d = Decision::new(
                    Operation::Event(Event::Transfer),
                    e.hresult,
                    e.rule,
                    Effect::Fail(e),
                )
                .failing_at(self.made.failing_step().map(|r| r.access));
                write!(f, "=> ERROR: {}", self.on.explains(d))
            }
        }
    }
}

/// What ended the helper token's session, in words.
struct Ended(Operation);

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Operation::Event(Event::HelperSessionEnded) => "the helper token's session ended",
            Operation::Event(Event::ServiceStop) => "the BITS service stopped",
            _ => "the owner logged off",
        })
    }
}

/// Why R-3 allowed implicit credentials, in words.
struct Allowed<'a>(Option<ImplicitAllowed>, &'a JobFacts);

/// A SID, with the name of a well-known account: `S-1-5-20 (NetworkService)`.
struct Account(Sid);

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.service_account_name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => self.0.fmt(f),
        }
    }
}

/// Usage flags as `bits4_0.h` names them: `BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK`.
struct Flags(TokenUsage);

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (name, flag) in [
            ("BG_TOKEN_LOCAL_FILE", TokenUsage::LOCAL_FILE),
            ("BG_TOKEN_NETWORK", TokenUsage::NETWORK),
        ] {
            if self.0.contains(flag) {
                write!(f, "{sep}{name}")?;
                sep = " | ";
            }
        }
        if self.0.has_unknown_bits() {
            write!(f, "{sep}0x{:X}", self.0.unknown_bits())?;
        } else if sep.is_empty() {
            f.write_str("0")?;
        }
        Ok(())
    }
}

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
