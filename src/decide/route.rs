//! Which identity BITS uses for each access a transfer makes (SPEC §4, R-0…R-7, and L-6
//! where a flag routes an access to a missing helper token).
//!
//! [`route()`] answers "as whom does BITS make this [`Access`]?" with a [`Route`]: the
//! [`Principal`] and the [`Rule`] that decided. Pure: no I/O, no allocation, no panic.
//!
//! # Readings of the SPEC
//!
//! - **Not applicable.** An access the job never makes (see
//!   [`transfer_makes`]) routes to [`Principal::NotApplicable`],
//!   with the id of the rule that names the access.
//! - **R-6** applies to the accesses that authenticate to a remote party with the owner's
//!   *implicit network identity*: the SMB remote file and an implicit-credential answer to
//!   an NTLM or Negotiate challenge — whether the token is the owner's or the helper's.
//!   LocalSystem and NetworkService appear as the computer account, LocalService as
//!   anonymous (which answers no challenge). To a challenge the computer answers only
//!   through a Negotiate entry that allows implicit credentials, with Kerberos in the
//!   domain (an input, default yes) — whatever scheme the challenge offers; otherwise
//!   [`Principal::NoCredentials`] and the challenge goes unanswered (X-3). Behind a proxy,
//!   Q-12 `none` withholds it. Proxy discovery and local files are not network
//!   authentication.
//! - **R-3.** Implicit credentials exist only for NTLM and Negotiate. `SetCredentials(NULL,
//!   NULL)` for NTLM *or* Negotiate allows both schemes of that target. `UseLMCompat` only
//!   ever *adds* permission. Implicit proxy credentials serve the server unless explicit
//!   server credentials exist for *any* scheme.
//! - **R-5.** Explicit credentials answer only the challenge of their own target and
//!   scheme.
//! - **R-7.** WPAD runs for `AUTODETECT`, and for `PRECONFIG` whose IE settings ask for
//!   auto-detection or a PAC URL; the IE settings are read only for `PRECONFIG`.
#![forbid(unsafe_code)]

use crate::rule::rule;

use crate::access::Access;
use crate::facts::{JobError, JobFacts};
use crate::names::names;
use crate::net::{AuthScheme, AuthTarget, Credential, ProxyUsage, UseLmCompat};
use crate::profile::{Profile, ServiceProxyCredentials};
use crate::rule::{Reason, Rule};
use crate::sid::Sid;
use crate::state::{JobType, Remote};
use crate::usage::TokenUsage;

/// Whose identity BITS presents for an access — or why none is presented.
///
/// Fieldless: the SID of [`Owner`](Principal::Owner) or [`Helper`](Principal::Helper) is
/// the job's ([`Principal::sid`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Principal {
    /// The job owner's token.
    Owner,
    /// The helper token (R-1, R-2, R-7).
    Helper,
    /// The computer account: a LocalSystem or NetworkService owner on the network (R-6).
    Computer,
    /// Anonymous: a LocalService owner on the network (R-6).
    Anonymous,
    /// The explicit credentials set for this target and scheme; no token (R-5).
    ExplicitCredentials,
    /// Nobody: no implicit credentials are sent and no explicit ones exist (R-3).
    NoCredentials,
    /// The job never makes this access.
    NotApplicable,
    /// The access needs the helper token and none is stored (L-6): the job fails.
    MissingHelper,
    /// A whole challenge no offered scheme answers (X-3): the job fails with 401 or 407.
    Unanswered,
}

names! { Principal, "principal";
    Owner => "owner", Helper => "helper", Computer => "computer", Anonymous => "anonymous",
    ExplicitCredentials => "explicit_credentials", NoCredentials => "no_implicit_credentials",
    NotApplicable => "not_applicable", MissingHelper => "token_required",
    Unanswered => "unanswered",
}

impl Principal {
    /// The SID presented, for the owner and the helper: the job's owner or stored helper.
    pub fn sid(self, job: &JobFacts) -> Option<Sid> {
        match self {
            Principal::Owner => Some(job.owner.sid),
            Principal::Helper => job.helper.map(|h| h.sid),
            _ => None,
        }
    }
}

/// As whom BITS makes one access: the [`Access`], the [`Principal`] and the [`Rule`] that
/// decided.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
/// let helper = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let job = JobFacts::new(Identity::NETWORK_SERVICE)
///     .with_flags(TokenUsage::LOCAL_FILE)
///     .with_helper(Some(helper));
/// let r = route(&Profile::default(), &job, Access::DownloadTempFileCreate);
/// assert_eq!(r.principal, Principal::Helper);
/// assert_eq!(r.rule.id, RuleId::R1);
/// // The sentence comes with the facts it was routed on: `explain::route`.
/// assert_eq!(
///     explain::route(&Profile::default(), &job, Access::DownloadTempFileCreate).to_string(),
///     "download_temp_file_create: the helper token S-1-5-21-1-2-3-1001 (R-1: \
///      BG_TOKEN_LOCAL_FILE is set, so BITS creates the download's temporary file as the \
///      helper token S-1-5-21-1-2-3-1001)"
/// );
/// # Ok::<(), ParseSidError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
// Eight bytes, aligned: a plan's steps are then written and read one whole store each,
// never a load across two overlapping stores (which stalled the seven-byte steps).
#[repr(align(8))]
pub struct Route {
    /// The access.
    pub access: Access,
    /// Whose identity BITS uses for it.
    pub principal: Principal,
    /// The rule that decided.
    pub rule: Rule,
    /// For an implicit answer to a challenge (and the refusals of one): why R-3 allowed
    /// implicit credentials for the target, as the decision found it.
    pub implicit: Option<ImplicitAllowed>,
    /// The scheme of a challenge: the access's own, or for a whole challenge the one BITS
    /// chose (X-3); `None` for other accesses and an unanswered whole challenge.
    pub scheme: Option<AuthScheme>,
}

/// The short form: `reply_file_rename: helper (R-1 (flag_set))`.
/// [`explain::route`](crate::explain::route) gives the sentence with its facts.
impl core::fmt::Display for Route {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {} ({})", self.access, self.principal, self.rule)
    }
}

impl Route {
    /// The failure this access causes, if any (L-6): `BG_E_TOKEN_REQUIRED`.
    ///
    /// A challenge the job meets that nobody answers — no credentials (R-3, R-6) or only
    /// anonymous ones (R-6) — fails the transfer with `BG_E_HTTP_ERROR_401` for the server
    /// or `BG_E_HTTP_ERROR_407` for the proxy (X-3).
    pub const fn failure(&self) -> Option<JobError> {
        let unanswered = matches!(
            self.principal,
            Principal::NoCredentials | Principal::Anonymous | Principal::Unanswered
        );
        match (self.rule.reason, self.access.challenge_target()) {
            (Reason::HelperTokenMissing, _) => JobError::of(Reason::HelperTokenMissing),
            (_, Some(AuthTarget::Server)) if unanswered => {
                JobError::of(Reason::ServerChallengeUnanswered)
            }
            (_, Some(AuthTarget::Proxy)) if unanswered => {
                JobError::of(Reason::ProxyChallengeUnanswered)
            }
            _ => None,
        }
    }
}

/// Why R-3 allows implicit credentials for a target.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ImplicitAllowed {
    /// `SetCredentials(NULL, NULL)` with NTLM or Negotiate for this target.
    SetCredentials,
    /// Implicit proxy credentials serve the server, which has no explicit credentials.
    ProxyCredentials,
    /// `BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS` is set for the proxy (R-3 (iv)).
    StoredCredentials,
    /// `UseLMCompat` is 0.
    UseLmCompatAlways,
    /// `UseLMCompat` is 1 and `LMCompatibilityLevel` is 2 or more.
    LmCompatibilityLevel,
}

/// R-3: whether implicit credentials may answer this target's NTLM or Negotiate
/// challenge, and why. In order: `SetCredentials(NULL, NULL)` for the target (i),
/// implicit proxy credentials serving a server with no explicit credentials (ii),
/// `USE_STORED_CREDENTIALS` for the proxy (iv; never the server: reading), the registry
/// (iii).
#[inline]
pub const fn implicit_allowed(job: &JobFacts, target: AuthTarget) -> Option<ImplicitAllowed> {
    let c = &job.credentials;
    if c.has_implicit(target) {
        return Some(ImplicitAllowed::SetCredentials);
    }
    if matches!(target, AuthTarget::Server)
        && c.has_implicit(AuthTarget::Proxy)
        && !c.has_explicit(AuthTarget::Server)
    {
        return Some(ImplicitAllowed::ProxyCredentials);
    }
    if matches!(target, AuthTarget::Proxy) && job.use_stored_credentials {
        return Some(ImplicitAllowed::StoredCredentials);
    }
    let env = &job.environment;
    match env.use_lm_compat {
        UseLmCompat::Always => Some(ImplicitAllowed::UseLmCompatAlways),
        UseLmCompat::WhenLmCompatibilityLevel2 if env.lm_compatibility_level.value() >= 2 => {
            Some(ImplicitAllowed::LmCompatibilityLevel)
        }
        _ => None,
    }
}

/// As whom BITS makes `access` for a transfer of `job` on the release of `profile`
/// (SPEC §4).
///
/// In order: an access the job never makes is [`Principal::NotApplicable`]; the client
/// certificate's key is always the owner's (R-4); local files follow `LOCAL_FILE` (R-1);
/// the SMB file follows NETWORK (R-2); proxy discovery follows NETWORK and the release
/// (R-7); a challenge is answered with explicit credentials of its target and scheme if
/// set (R-5), else — NTLM and Negotiate only — with implicit credentials when R-3 allows
/// them, as the helper with NETWORK (R-2); everything else is the owner's (R-0). An access
/// the flags route to a missing helper token is [`Principal::MissingHelper`] (L-6). A
/// service-account owner on the network with no helper in play is the computer or
/// anonymous (R-6).
#[inline]
pub fn route(profile: &Profile, job: &JobFacts, access: Access) -> Route {
    let made = |(principal, rule): (Principal, Rule)| Route {
        access,
        principal,
        rule,
        implicit: None,
        scheme: None,
    };
    // The job never makes this access: not applicable (the access's own rule names it).
    if !transfer_makes(job, access) {
        return made((
            Principal::NotApplicable,
            Rule::new(access.rule_id(), Reason::NotApplicable),
        ));
    }
    match access {
        Access::WholeChallenge(target) => whole_challenge(profile, job, target),
        Access::ProxyChallenge(scheme) => {
            challenge(profile, job, access, AuthTarget::Proxy, scheme)
        }
        Access::ServerChallenge(scheme) => {
            challenge(profile, job, access, AuthTarget::Server, scheme)
        }
        _ => made(decide_made(profile, job, access)),
    }
}

/// Whether a transfer of this job makes this access at all: local files by job type
/// (an upload-reply job also opens its local file), the SMB file for SMB jobs, WPAD for
/// `AUTODETECT` and for `PRECONFIG` whose IE settings ask for discovery (R-7), the IE
/// settings for `PRECONFIG`, a challenge when the server — or the proxy the transfer goes
/// through — asks for that scheme (X-3), the certificate's key in the TLS handshake of an
/// HTTPS job with a certificate (X-1). HTTP accesses only over HTTP(S).
#[inline]
pub const fn transfer_makes(job: &JobFacts, access: Access) -> bool {
    let http = job.remote.is_http();
    match access {
        Access::UploadLocalFile => matches!(job.job_type, JobType::Upload | JobType::UploadReply),
        Access::DownloadTempFileCreate | Access::DownloadTempFileRename => {
            matches!(job.job_type, JobType::Download)
        }
        Access::ReplyFileCreate | Access::ReplyFileRename => {
            matches!(job.job_type, JobType::UploadReply)
        }
        Access::SmbRemoteFile => matches!(job.remote, Remote::Smb),
        Access::ProxyAutoDetect => {
            http && (matches!(job.proxy, ProxyUsage::Autodetect)
                || (matches!(job.proxy, ProxyUsage::Preconfig) && job.ie_settings.discovers()))
        }
        Access::ProxyIeSettings => http && matches!(job.proxy, ProxyUsage::Preconfig),
        Access::ProxyChallenge(s) => {
            http && job.through_proxy() && job.challenges.asks(AuthTarget::Proxy, s)
        }
        Access::ServerChallenge(s) => http && job.challenges.asks(AuthTarget::Server, s),
        Access::WholeChallenge(AuthTarget::Proxy) => {
            http && job.through_proxy() && job.challenges.offers_any(AuthTarget::Proxy)
        }
        Access::WholeChallenge(AuthTarget::Server) => {
            http && job.challenges.offers_any(AuthTarget::Server)
        }
        Access::ClientCertificateKey => {
            matches!(job.remote, Remote::Https) && job.client_certificate
        }
        Access::Other => true,
    }
}

#[inline]
fn decide_made(profile: &Profile, job: &JobFacts, access: Access) -> (Principal, Rule) {
    match access {
        // R-4: the private key is always the owner's.
        Access::ClientCertificateKey => (Principal::Owner, rule!(ClientCertificateKey)),
        // R-7: the IE settings as the helper only from 1809; before, as the owner.
        Access::ProxyIeSettings
            if job.flags.contains(TokenUsage::NETWORK)
                && !profile.release.preconfig_proxy_as_helper() =>
        {
            (Principal::Owner, rule!(PreconfigAsOwner))
        }
        // R-1, R-2, R-7: the access follows its flag; R-0: no flag, the owner.
        _ => match access.flag() {
            Some(usage) => by_flag(profile, job, access, usage),
            None => (Principal::Owner, rule!(OwnerAccess)),
        },
    }
}

/// R-1, R-2, R-7 (and L-6): the helper when `usage` is set and a token is stored, L-6 when
/// none is; else the owner — seen on the network through R-6 for the SMB file.
#[inline]
fn by_flag(
    profile: &Profile,
    job: &JobFacts,
    access: Access,
    usage: TokenUsage,
) -> (Principal, Rule) {
    let id = access.rule_id();
    let network = matches!(access, Access::SmbRemoteFile);
    if job.flags.contains(usage) {
        let granted = Rule::new(id, Reason::FlagSet);
        return match (network, &job.helper) {
            (true, Some(helper)) => on_network(
                profile,
                job,
                &helper.sid,
                None,
                (Principal::Helper, granted),
            ),
            _ => as_helper(job, granted),
        };
    }
    let otherwise = Rule::new(id, Reason::FlagClear);
    if network {
        on_network(
            profile,
            job,
            &job.owner.sid,
            None,
            (Principal::Owner, otherwise),
        )
    } else {
        (Principal::Owner, otherwise)
    }
}

/// L-6: an access the flags route to the helper is made as the helper token under
/// `granted` — or, when no helper token is stored, by nobody: the job fails.
#[inline]
const fn as_helper(job: &JobFacts, granted: Rule) -> (Principal, Rule) {
    match job.helper {
        Some(_) => (Principal::Helper, granted),
        None => (Principal::MissingHelper, rule!(HelperTokenMissing)),
    }
}

/// R-6: the implicit network identity of a token — the owner's or the helper's. The
/// service accounts appear as the computer (LocalSystem, NetworkService) or anonymously
/// (LocalService); anyone else as itself (`otherwise`). On an SMB share (`challenge`
/// `None`) that is all. Answering a challenge of `target`, the computer is presented only
/// when a Negotiate entry allows implicit credentials ([`negotiate_entry`]) and Kerberos is
/// available in the domain — whatever the scheme the challenge offers (the entry decides,
/// so a Negotiate entry answers NTLM too, and an NTLM entry, the registry or stored
/// credentials alone give the computer nothing); else no usable credentials. Behind a
/// proxy, Q-12 `none` withholds the computer's answer.
#[inline]
fn on_network(
    profile: &Profile,
    job: &JobFacts,
    sid: &Sid,
    challenge: Option<AuthTarget>,
    otherwise: (Principal, Rule),
) -> (Principal, Rule) {
    if *sid == Sid::LOCAL_SERVICE {
        return (Principal::Anonymous, rule!(ServiceOwnerOnNetwork));
    }
    if *sid != Sid::LOCAL_SYSTEM && *sid != Sid::NETWORK_SERVICE {
        return otherwise;
    }
    let Some(target) = challenge else {
        return (Principal::Computer, rule!(ServiceOwnerOnNetwork));
    };
    if !(negotiate_entry(job, target) && job.environment.kerberos) {
        return (
            Principal::NoCredentials,
            rule!(ComputerOnlyThroughNegotiate),
        );
    }
    if matches!(target, AuthTarget::Proxy)
        && matches!(
            profile.knobs.service_proxy_credentials,
            ServiceProxyCredentials::None
        )
    {
        return (Principal::NoCredentials, rule!(ServiceNoProxyCredentials));
    }
    (Principal::Computer, rule!(ServiceOwnerOnNetwork))
}

/// R-6 with R-3 (i) and (ii): whether a Negotiate entry allows implicit credentials for
/// `target` — `SetCredentials(target, Negotiate, NULL, NULL)`, or for the server the
/// proxy's Negotiate entry when the server has no explicit credentials.
#[inline]
fn negotiate_entry(job: &JobFacts, target: AuthTarget) -> bool {
    let c = &job.credentials;
    let implicit =
        |t: AuthTarget| matches!(c.get(t, AuthScheme::Negotiate), Some(Credential::Implicit));
    implicit(target)
        || (matches!(target, AuthTarget::Server)
            && implicit(AuthTarget::Proxy)
            && !c.has_explicit(AuthTarget::Server))
}

/// R-5, R-3, R-2 (with R-6 and L-6): who answers this target's challenge in this scheme.
#[inline]
fn challenge(
    profile: &Profile,
    job: &JobFacts,
    access: Access,
    target: AuthTarget,
    scheme: AuthScheme,
) -> Route {
    let made = |implicit: Option<ImplicitAllowed>, (principal, rule): (Principal, Rule)| Route {
        access,
        principal,
        rule,
        implicit,
        scheme: Some(scheme),
    };
    // R-5: explicit credentials for this target and scheme are sent as given.
    if matches!(
        job.credentials.get(target, scheme),
        Some(Credential::Explicit)
    ) {
        return made(
            None,
            (Principal::ExplicitCredentials, rule!(ExplicitCredentials)),
        );
    }
    // R-3: Basic, Digest and Passport have no implicit credentials.
    let Some(usage) = access.flag() else {
        return made(None, (Principal::NoCredentials, rule!(NoImplicitForScheme)));
    };
    // R-3: implicit credentials only when allowed.
    let allowed = implicit_allowed(job, target);
    if allowed.is_none() {
        return made(None, (Principal::NoCredentials, rule!(ImplicitNotAllowed)));
    }
    // R-2: NETWORK sends the helper's implicit credentials (L-6 when it is missing), seen
    // through R-6.
    if job.flags.contains(usage) {
        let granted = rule!(ImplicitAsHelper);
        return made(
            allowed,
            match &job.helper {
                Some(helper) => on_network(
                    profile,
                    job,
                    &helper.sid,
                    Some(target),
                    (Principal::Helper, granted),
                ),
                None => as_helper(job, granted),
            },
        );
    }
    // R-2 with NETWORK clear: the owner's implicit credentials, seen through R-6.
    let granted = rule!(ImplicitAsOwner);
    made(
        allowed,
        on_network(
            profile,
            job,
            &job.owner.sid,
            Some(target),
            (Principal::Owner, granted),
        ),
    )
}

/// X-3's preference among the schemes a challenge offers (reading: Snego and the order of
/// WinHTTP's authentication sample; the server's order is ignored).
pub const X3_PREFERENCE: [AuthScheme; 5] = [
    AuthScheme::Negotiate,
    AuthScheme::Ntlm,
    AuthScheme::Passport,
    AuthScheme::Digest,
    AuthScheme::Basic,
];

/// X-3: a target's whole challenge, a set of schemes, is answered when any offered scheme
/// is answerable — by explicit credentials (R-5), or for NTLM and Negotiate by implicit
/// credentials that R-3 allows and whose identity (R-2, R-6) can present them; one routed
/// to a missing helper counts, and fails with L-6. BITS uses the strongest answerable
/// scheme ([`X3_PREFERENCE`]), whose route this is (with `scheme` set). None answerable:
/// [`Principal::Unanswered`], `BG_E_HTTP_ERROR_401` (server) or `407` (proxy).
fn whole_challenge(profile: &Profile, job: &JobFacts, target: AuthTarget) -> Route {
    for scheme in X3_PREFERENCE {
        if !job.challenges.asks(target, scheme) {
            continue;
        }
        let one = challenge(
            profile,
            job,
            Access::challenge(target, scheme),
            target,
            scheme,
        );
        let answers = matches!(
            one.principal,
            Principal::ExplicitCredentials
                | Principal::Owner
                | Principal::Helper
                | Principal::Computer
                | Principal::MissingHelper
        );
        if answers {
            return Route {
                access: Access::WholeChallenge(target),
                ..one
            };
        }
    }
    Route {
        access: Access::WholeChallenge(target),
        principal: Principal::Unanswered,
        rule: match target {
            AuthTarget::Server => rule!(ServerChallengeUnanswered),
            AuthTarget::Proxy => rule!(ProxyChallengeUnanswered),
        },
        implicit: None,
        scheme: None,
    }
}
