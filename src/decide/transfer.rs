//! A whole transfer: the accesses it makes, in order, each routed by
//! [`route()`](crate::route()), and how it ends (SPEC §5: X-1, and X-2 through L-6).
#![forbid(unsafe_code)]

use crate::access::Access;
use crate::decide::route::{Principal, Route, route, transfer_makes};
use crate::facts::{JobError, JobFacts};
use crate::net::AuthTarget;
use crate::profile::{Profile, TokenCheck};
use crate::rule::{Reason, Rule, RuleId};
use crate::state::JobState;
use crate::usage::TokenUsage;

/// How a transfer ends, as far as this crate models it (X-1, X-2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TransferOutcome {
    /// The job reaches TRANSFERRED.
    Transferred,
    /// The job goes to ERROR with this error.
    Error(JobError),
}

impl TransferOutcome {
    /// The state the job ends in: TRANSFERRED or ERROR.
    pub const fn state(&self) -> JobState {
        match self {
            TransferOutcome::Transferred => JobState::Transferred,
            TransferOutcome::Error(_) => JobState::Error,
        }
    }

    /// The error, if the job fails.
    pub const fn failure(&self) -> Option<JobError> {
        match *self {
            TransferOutcome::Transferred => None,
            TransferOutcome::Error(f) => Some(f),
        }
    }
}

/// The most accesses one transfer makes: an upload-reply job over HTTPS through a
/// `PRECONFIG` proxy that discovers, with a client certificate, challenged by both the proxy
/// and the server — its local file, the IE settings, WPAD, the proxy's challenge, the
/// certificate's key, the server's challenge, the reply file's creation and rename.
pub const PLAN_CAPACITY: usize = 8;

const EMPTY: Route = Route {
    scheme: None,
    access: Access::Other,
    principal: Principal::NotApplicable,
    rule: Rule::new(RuleId::R0, Reason::NotApplicable),
    implicit: None,
};

/// The accesses a whole transfer of a job makes, in order, each with its [`Route`], and
/// the job's [`TransferOutcome`]. Fixed capacity, inline, no heap.
#[derive(Clone, Copy)]
pub struct TransferPlan {
    steps: [Route; PLAN_CAPACITY],
    len: u8,
    failing: Option<u8>,
    outcome: TransferOutcome,
}

impl TransferPlan {
    /// The steps, in order.
    pub fn steps(&self) -> &[Route] {
        self.steps.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The steps, in order.
    pub fn iter(&self) -> core::slice::Iter<'_, Route> {
        self.steps().iter()
    }

    /// How the transfer ends.
    pub const fn outcome(&self) -> TransferOutcome {
        self.outcome
    }

    /// The route of this access, if the transfer makes it.
    pub fn step(&self, access: Access) -> Option<&Route> {
        self.iter().find(|r| r.access == access)
    }

    /// The step where the transfer fails: the first access routed to a missing helper
    /// token (L-6 when Q-8 is lazy), the first challenge nothing answers (X-3), or the
    /// client certificate's key (X-1). `None` when the transfer succeeds, and when an eager
    /// L-6 (Q-8's default) fails it before any access.
    pub fn failing_step(&self) -> Option<&Route> {
        self.failing.and_then(|i| self.steps().get(usize::from(i)))
    }

    fn push(&mut self, route: Route) {
        if let Some(slot) = self.steps.get_mut(usize::from(self.len)) {
            *slot = route;
            self.len += 1;
        }
    }
}

impl PartialEq for TransferPlan {
    fn eq(&self, other: &TransferPlan) -> bool {
        self.steps() == other.steps()
            && self.failing == other.failing
            && self.outcome == other.outcome
    }
}

impl Eq for TransferPlan {}

impl core::fmt::Debug for TransferPlan {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TransferPlan")
            .field("steps", &self.steps())
            .field("outcome", &self.outcome)
            .finish()
    }
}

impl<'a> IntoIterator for &'a TransferPlan {
    type Item = &'a Route;
    type IntoIter = core::slice::Iter<'a, Route>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// X-1: the failure a transfer of this job will meet with these flags once it transfers
/// with a helper token, if certain.
///
/// A job with a client certificate, an owner other than LocalSystem and NETWORK set fails
/// its HTTPS transfer with `ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY`, whatever
/// order the certificate and the flags were set in: the certificate is used in the TLS
/// handshake, whose connection the helper makes. Plain HTTP has no TLS (reading).
#[inline]
pub const fn client_certificate_failure(job: &JobFacts, flags: TokenUsage) -> Option<JobError> {
    if job.client_certificate
        && flags.contains(TokenUsage::NETWORK)
        && matches!(job.remote, crate::state::Remote::Https)
        && !job.owner.sid.is_local_system()
    {
        JobError::of(Reason::ClientCertificateWithNetwork)
    } else {
        None
    }
}

/// X-4: a job without a client certificate whose HTTPS server asks for one fails the TLS
/// handshake with `ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED` (a server that requires one is
/// treated alike, reading). HTTP and SMB never meet it (reading).
#[inline]
pub const fn certificate_needed_failure(job: &JobFacts) -> Option<JobError> {
    if job.server_requests_certificate
        && !job.client_certificate
        && matches!(job.remote, crate::state::Remote::Https)
    {
        JobError::of(Reason::ClientCertificateNeeded)
    } else {
        None
    }
}

/// X-5: whether an access comes after the TLS handshake: the server's challenge, the SMB
/// file, the temporary and reply files.
const fn after_handshake(access: Access) -> bool {
    matches!(
        access,
        Access::WholeChallenge(AuthTarget::Server)
            | Access::ServerChallenge(_)
            | Access::SmbRemoteFile
            | Access::DownloadTempFileCreate
            | Access::DownloadTempFileRename
            | Access::ReplyFileCreate
            | Access::ReplyFileRename
    )
}

/// The accesses a whole transfer of `job` makes, in order, each routed by [`route()`](crate::route()), and
/// the job's final [`TransferOutcome`].
///
/// **Order** (X-5). An upload (or upload-reply) job first opens its local file. Over
/// HTTP(S): proxy discovery (`PRECONFIG`: the IE settings, then WPAD if they ask for
/// auto-detection or a PAC URL; `AUTODETECT`: WPAD), the proxy's challenge (when the
/// transfer goes through a proxy), over HTTPS the TLS handshake (the client certificate's
/// key, X-1; or a certificate the server asks for and the job lacks, X-4), the server's
/// challenge. Over SMB: the remote file. Then a download creates and renames its
/// temporary file; an upload-reply job creates and renames its reply file.
///
/// **Challenges.** The schemes the server and the proxy offer are an input,
/// [`JobFacts::challenges`] (X-3), none by default; each target's challenge is one step,
/// [`Access::WholeChallenge`], answered in the strongest answerable scheme.
///
/// **Outcome.** With Q-8 eager (the default), a job with non-zero flags and no helper
/// token goes to ERROR with `BG_E_TOKEN_REQUIRED` before any access (L-6, X-2; no failing
/// step). Otherwise the first failure in X-5's order decides: an access routed to the
/// missing helper (L-6, lazy), a challenge no offered scheme answers
/// (`BG_E_HTTP_ERROR_401` for the server, `407` for the proxy, X-3), the certificate's key
/// when [`client_certificate_failure`] predicts X-1 (`0x80072F9A`; L-6 when no helper
/// token is there to make the TLS connection, reading), a certificate the server asks for
/// (X-4, `0x80072F0C`; no failing step). Otherwise TRANSFERRED. The job's state is not
/// read.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
///
/// // X-1: a NetworkService job with a client certificate and NETWORK set, over HTTPS.
/// let helper = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let job = JobFacts::new(Identity::NETWORK_SERVICE)
///     .with_flags(TokenUsage::NETWORK)
///     .with_helper(Some(helper))
///     .with_client_certificate(true)
///     .with_challenges(Challenges::NONE.with(AuthTarget::Server, AuthScheme::Negotiate));
/// let plan = transfer_plan(&Profile::default(), &job);
/// let names: Vec<&str> = plan.iter().map(|r| r.access.name()).collect();
/// assert_eq!(names, [
///     "proxy_ie_settings", "client_certificate_key", "server_challenge",
///     "download_temp_file_create", "download_temp_file_rename",
/// ]);
/// assert_eq!(plan.outcome().failure().map(|f| f.hresult),
///            Some(HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY));
/// assert_eq!(plan.failing_step().map(|r| r.access), Some(Access::ClientCertificateKey));
///
/// // Without the helper token, L-6 comes first, before any access (Q-8 eager).
/// let plan = transfer_plan(&Profile::default(), &job.with_helper(None));
/// assert_eq!(plan.outcome().failure().map(|f| f.rule.id), Some(RuleId::L6));
/// assert_eq!(plan.failing_step(), None);
///
/// // X-3: the server asks for Basic and nothing answers it.
/// let basic = job.with_challenges(Challenges::NONE.with(AuthTarget::Server, AuthScheme::Basic))
///     .with_client_certificate(false);
/// let plan = transfer_plan(&Profile::default(), &basic);
/// assert_eq!(plan.outcome().failure().map(|f| f.hresult), Some(HResult::BG_E_HTTP_ERROR_401));
/// # Ok::<(), ParseSidError>(())
/// ```
pub fn transfer_plan(profile: &Profile, job: &JobFacts) -> TransferPlan {
    let mut plan = TransferPlan {
        steps: [EMPTY; PLAN_CAPACITY],
        len: 0,
        failing: None,
        outcome: TransferOutcome::Transferred,
    };
    // Only the accesses the job makes become steps (`route` would say "not applicable" of
    // the others; asking first keeps the plan from routing what it then drops).
    let mut add = |access: Access| {
        if transfer_makes(job, access) {
            plan.push(route(profile, job, access));
        }
    };
    add(Access::UploadLocalFile);
    add(Access::ProxyIeSettings);
    add(Access::ProxyAutoDetect);
    add(Access::WholeChallenge(AuthTarget::Proxy));
    add(Access::ClientCertificateKey);
    add(Access::WholeChallenge(AuthTarget::Server));
    add(Access::SmbRemoteFile);
    add(Access::DownloadTempFileCreate);
    add(Access::DownloadTempFileRename);
    add(Access::ReplyFileCreate);
    add(Access::ReplyFileRename);

    // L-6 with Q-8 eager: at the start of the transfer, before any access.
    if let Some(error) = eager_token_failure(profile, job) {
        plan.outcome = TransferOutcome::Error(error);
        return plan;
    }
    // Otherwise the first step that fails, in order: a missing helper (L-6, lazy), an
    // unanswered challenge (X-3), the certificate's key out of the helper's reach (X-1).
    // The helper makes X-1's TLS connection, so without one that step is L-6 (reading).
    let x1 = client_certificate_failure(job, job.flags).map(|x1| match job.helper {
        Some(_) => x1,
        None => JobError::of(Reason::HelperTokenMissing).unwrap_or(x1),
    });
    // X-4 fails the TLS handshake, which comes just before the first access after it.
    let x4 = certificate_needed_failure(job);
    let handshake = plan
        .iter()
        .position(|r| after_handshake(r.access))
        .unwrap_or(usize::from(plan.len));
    let failing = plan.iter().enumerate().find_map(|(i, r)| {
        if i == handshake
            && let Some(x4) = x4
        {
            return Some((None, x4));
        }
        let failure = match r.access {
            Access::ClientCertificateKey => x1,
            _ => r.failure(),
        };
        failure.map(|f| (Some(i), f))
    });
    match (failing, x4) {
        (Some((i, failure)), _) => {
            plan.outcome = TransferOutcome::Error(failure);
            plan.failing = i.and_then(|i| u8::try_from(i).ok());
        }
        // Nothing after the handshake, and the handshake fails (X-4).
        (None, Some(x4)) if handshake == usize::from(plan.len) => {
            plan.outcome = TransferOutcome::Error(x4);
        }
        _ => {}
    }
    plan
}

/// L-6 with Q-8 `eager`: a job with non-zero flags and no helper token fails with
/// `BG_E_TOKEN_REQUIRED` when its transfer starts (L-14), before any access. `None` under
/// `lazy`, or when the job has a helper token or no flags.
pub fn eager_token_failure(profile: &Profile, job: &JobFacts) -> Option<JobError> {
    if matches!(profile.knobs.token_check, TokenCheck::Eager)
        && !job.flags.is_empty()
        && job.helper.is_none()
    {
        JobError::of(Reason::HelperTokenMissing)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::{Challenges, IeSettings};
    use crate::decide::route::transfer_makes;
    use crate::net::{AuthScheme, Credential, Credentials, ProxyUsage};
    use crate::state::{JobType, Remote};
    use crate::token::Identity;

    /// Every combination of the facts that change which accesses a plan holds fits in
    /// [`PLAN_CAPACITY`], and one fills it: `push` never drops a step, and the plan holds
    /// no more room than a transfer uses.
    #[test]
    fn plan_capacity_is_the_longest_plan() {
        let mut all = Credentials::NONE;
        let mut challenges = Challenges::NONE;
        for &t in AuthTarget::ALL {
            for &s in AuthScheme::ALL {
                all = all.set(t, s, Credential::Explicit).unwrap();
                challenges = challenges.with(t, s);
            }
        }
        let mut longest = 0;
        for &remote in Remote::ALL {
            for &job_type in JobType::ALL {
                for (&proxy, &ie) in ProxyUsage::ALL
                    .iter()
                    .flat_map(|p| IeSettings::ALL.iter().map(move |ie| (p, ie)))
                {
                    for cert in [false, true] {
                        let job = JobFacts::new(Identity::LOCAL_SYSTEM)
                            .with_remote(remote)
                            .with_client_certificate(cert)
                            .with_job_type(job_type)
                            .with_proxy(proxy)
                            .with_ie_settings(ie)
                            .with_credentials(all)
                            .with_challenges(challenges);
                        let expected = Access::ALL
                            .iter()
                            // One whole challenge per target, not one step per scheme.
                            .filter(|&&a| {
                                transfer_makes(&job, a)
                                    && !matches!(
                                        a,
                                        Access::Other
                                            | Access::ProxyChallenge(_)
                                            | Access::ServerChallenge(_)
                                    )
                            })
                            .count();
                        let plan = transfer_plan(&Profile::default(), &job);
                        assert_eq!(plan.steps().len(), expected);
                        longest = longest.max(expected);
                    }
                }
            }
        }
        assert_eq!(longest, PLAN_CAPACITY);
    }
}
