//! A whole transfer: the accesses it makes, in order, each routed by [`route()`], and how
//! it ends (SPEC §5: X-1, and X-2 through L-6).
#![forbid(unsafe_code)]

use crate::access::Access;
use crate::decide::methods::client_certificate_failure;
use crate::facts::{JobError, JobFacts};
use crate::net::{AuthScheme, AuthTarget, ProxyUsage};
use crate::profile::Profile;
use crate::route::{Principal, Route, route_made};
use crate::rule::{Reason, Rule, RuleId};
use crate::state::{JobState, JobType, Remote};

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

/// The most accesses one transfer makes: proxy discovery, five proxy challenges, the
/// client certificate's key, five server challenges, three local files.
pub const PLAN_CAPACITY: usize = 16;

const EMPTY: Route = Route {
    access: Access::Other,
    principal: Principal::NotApplicable,
    rule: Rule::new(RuleId::R0, Reason::NotApplicable),
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
    /// token (L-6), or the client certificate's key (X-1).
    pub fn failing_step(&self) -> Option<&Route> {
        self.failing.and_then(|i| self.steps().get(usize::from(i)))
    }

    /// One line per step with its explanation, then the outcome: the plan of `job` on
    /// `profile`, as it was computed.
    pub const fn explain<'a>(
        &'a self,
        profile: &'a Profile,
        job: &'a JobFacts,
    ) -> crate::explain::PlanExplanation<'a> {
        crate::explain::PlanExplanation::new(self, profile, job)
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

/// Whether a transfer of this job makes this access at all: local files by job type
/// (an upload-reply job also opens its local file), the SMB file for SMB jobs, proxy
/// discovery by proxy usage (HTTP only), proxy challenges unless `NO_PROXY`, server
/// challenges over HTTP(S), the certificate's key when one is set.
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
        Access::ProxyAutoDetect => http && matches!(job.proxy, ProxyUsage::Autodetect),
        Access::ProxyIeSettings => http && matches!(job.proxy, ProxyUsage::Preconfig),
        Access::ProxyChallenge(_) => http && job.proxy.uses_proxy(),
        Access::ServerChallenge(_) => http,
        Access::ClientCertificateKey => http && job.client_certificate,
        Access::Other => true,
    }
}

/// The schemes a target is modelled to challenge with: those the job set credentials for
/// (in `BG_AUTH_SCHEME` order), else Negotiate.
fn challenge_schemes(job: &JobFacts, target: AuthTarget) -> impl Iterator<Item = AuthScheme> {
    let creds = job.credentials;
    let none = !creds.any(target);
    AuthScheme::ALL.iter().copied().filter(move |&s| {
        creds.get(target, s).is_some() || (none && matches!(s, AuthScheme::Negotiate))
    })
}

/// The accesses a whole transfer of `job` makes, in order, each routed by [`route()`](crate::route()), and
/// the job's final [`TransferOutcome`].
///
/// **Order.** An upload (or upload-reply) job first opens its local file. Over HTTP(S):
/// proxy discovery (`PRECONFIG`: the IE settings; `AUTODETECT`: WPAD), the proxy's
/// challenges (unless `NO_PROXY`), the client certificate's key (the TLS handshake), the
/// server's challenges. Over SMB: the remote file. Then a download creates and renames
/// its temporary file; an upload-reply job creates and renames its reply file.
///
/// **Challenges.** The model assumes each target challenges in every scheme the job set
/// credentials for it (in `BG_AUTH_SCHEME` order), and in Negotiate when it set none.
///
/// **Outcome.** L-6 first: if any step routes to a missing helper token, the job goes to
/// ERROR with `BG_E_TOKEN_REQUIRED` at the first such step. Otherwise, if
/// [`client_certificate_failure`] predicts X-1, ERROR with `0x80072F9A`. Otherwise
/// TRANSFERRED. The job's state is not read.
///
/// ```
/// use bits_helper_token::*;
///
/// // X-1: a NetworkService job with a client certificate and NETWORK set.
/// let helper = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let job = JobFacts::new(Identity::NETWORK_SERVICE)
///     .with_flags(TokenUsage::NETWORK)
///     .with_helper(Some(helper))
///     .with_client_certificate(true);
/// let plan = transfer_plan(&Profile::default(), &job);
/// let names: Vec<&str> = plan.iter().map(|r| r.access.name()).collect();
/// assert_eq!(names, [
///     "proxy_ie_settings", "proxy_challenge_negotiate", "client_certificate_key",
///     "server_challenge_negotiate", "download_temp_file_create", "download_temp_file_rename",
/// ]);
/// assert_eq!(plan.outcome().failure().map(|f| f.hresult),
///            Some(HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY));
/// assert_eq!(plan.failing_step().map(|r| r.access), Some(Access::ClientCertificateKey));
///
/// // Without the helper token, L-6 comes first.
/// let plan = transfer_plan(&Profile::default(), &job.with_helper(None));
/// assert_eq!(plan.outcome().failure().map(|f| f.rule.id), Some(RuleId::L6));
/// assert_eq!(plan.failing_step().map(|r| r.access), Some(Access::ProxyIeSettings));
/// # Ok::<(), ParseSidError>(())
/// ```
pub fn transfer_plan(profile: &Profile, job: &JobFacts) -> TransferPlan {
    let mut plan = TransferPlan {
        steps: [EMPTY; PLAN_CAPACITY],
        len: 0,
        failing: None,
        outcome: TransferOutcome::Transferred,
    };
    let mut add = |access: Access| {
        if transfer_makes(job, access) {
            plan.push(route_made(profile, job, access));
        }
    };
    add(Access::UploadLocalFile);
    add(Access::ProxyIeSettings);
    add(Access::ProxyAutoDetect);
    for scheme in challenge_schemes(job, AuthTarget::Proxy) {
        add(Access::ProxyChallenge(scheme));
    }
    add(Access::ClientCertificateKey);
    for scheme in challenge_schemes(job, AuthTarget::Server) {
        add(Access::ServerChallenge(scheme));
    }
    add(Access::SmbRemoteFile);
    add(Access::DownloadTempFileCreate);
    add(Access::DownloadTempFileRename);
    add(Access::ReplyFileCreate);
    add(Access::ReplyFileRename);

    // L-6 first (X-2), then X-1.
    let missing = plan.iter().position(|r| r.failure().is_some());
    let failure = match missing.and_then(|i| plan.steps().get(i)) {
        Some(step) => step.failure(),
        None => client_certificate_failure(job, job.flags),
    };
    if let Some(failure) = failure {
        plan.outcome = TransferOutcome::Error(failure);
        let at = missing.or_else(|| {
            plan.iter()
                .position(|r| r.access == Access::ClientCertificateKey)
        });
        plan.failing = at.and_then(|i| u8::try_from(i).ok());
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Credential, Credentials};
    use crate::token::Identity;

    /// Every combination of the facts that change which accesses a plan holds fits in
    /// [`PLAN_CAPACITY`]: `push` never drops a step.
    #[test]
    fn plan_capacity_is_enough() {
        let mut all = Credentials::NONE;
        for &t in AuthTarget::ALL {
            for &s in AuthScheme::ALL {
                all = all.set(t, s, Credential::Explicit).unwrap();
            }
        }
        let mut longest = 0;
        for &remote in Remote::ALL {
            for &job_type in JobType::ALL {
                for &proxy in ProxyUsage::ALL {
                    for cert in [false, true] {
                        let job = JobFacts::new(Identity::LOCAL_SYSTEM)
                            .with_remote(remote)
                            .with_client_certificate(cert)
                            .with_job_type(job_type)
                            .with_proxy(proxy)
                            .with_credentials(all);
                        let expected = Access::ALL
                            .iter()
                            .filter(|&&a| transfer_makes(&job, a) && a != Access::Other)
                            .count();
                        let plan = transfer_plan(&Profile::default(), &job);
                        assert_eq!(plan.steps().len(), expected);
                        longest = longest.max(expected);
                    }
                }
            }
        }
        assert!(longest <= PLAN_CAPACITY);
    }
}
