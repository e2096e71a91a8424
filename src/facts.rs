//! What every rule reads of a job — one type, [`JobFacts`] — and the [`Effect`]s a
//! decision asks to apply to it.
//!
//! Data flows one way: facts → a pure decision ([`crate::decide`], [`crate::route()`],
//! [`crate::transfer_plan()`]) → an [`Effect`] → [`JobFacts::apply`]. `apply` decides
//! nothing: it writes what the effect says.
#![forbid(unsafe_code)]

use crate::challenge::{Challenges, IeSettings};
use crate::hresult::HResult;
use crate::net::{Credentials, NetworkEnvironment, ProxyUsage};
use crate::profile::TakeOwnership;
use crate::rule::{Reason, Rule, rule};
use crate::state::{JobState, JobType, Remote};
use crate::token::{Identity, ImpersonationLevel};
use crate::usage::TokenUsage;

/// The error of a job in ERROR: its code and the rule that put it there (L-5, L-6, X-1).
///
/// Serialized (feature `serde`) as `{"hresult": "0x80200056", "rule": "L-6", "reason":
/// "helper_token_missing"}`; a deserialized error must be one the model can produce.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct JobError {
    /// The job's error code.
    pub hresult: HResult,
    /// Why.
    pub rule: Rule,
}

impl JobError {
    /// The error of this reason, if the model ever produces one: L-5's and L-6's
    /// `BG_E_TOKEN_REQUIRED`, X-1's `0x80072F9A`, X-3's `BG_E_HTTP_ERROR_401` / `407`,
    /// X-4's `0x80072F0C`, L-13's `BG_E_NETWORK_DISCONNECTED`.
    pub const fn of(reason: Reason) -> Option<JobError> {
        let (hresult, rule) = match reason {
            Reason::TokenRequiredAfterLogoff => (
                HResult::BG_E_TOKEN_REQUIRED,
                rule!(TokenRequiredAfterLogoff),
            ),
            Reason::HelperTokenMissing => (HResult::BG_E_TOKEN_REQUIRED, rule!(HelperTokenMissing)),
            Reason::ClientCertificateWithNetwork => (
                HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
                rule!(ClientCertificateWithNetwork),
            ),
            Reason::ServerChallengeUnanswered => (
                HResult::BG_E_HTTP_ERROR_401,
                rule!(ServerChallengeUnanswered),
            ),
            Reason::ProxyChallengeUnanswered => (
                HResult::BG_E_HTTP_ERROR_407,
                rule!(ProxyChallengeUnanswered),
            ),
            Reason::ClientCertificateNeeded => (
                HResult::ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED,
                rule!(ClientCertificateNeeded),
            ),
            Reason::NetworkLost => (HResult::BG_E_NETWORK_DISCONNECTED, rule!(NetworkLost)),
            _ => return None,
        };
        Some(JobError { hresult, rule })
    }
}

/// Who calls a job method (A-12: judged at call time) or `TakeOwnership`: the caller's
/// identity, the impersonation level its proxy sets (T-10, A-9), and whether its user is
/// logged on (L-11, read by `AddFile`, L-15, and by `TakeOwnership`, L-7).
///
/// ```
/// use bits_helper_token::{Identity, JobFacts, job::Caller, token::ImpersonationLevel};
/// let job = JobFacts::new(Identity::NETWORK_SERVICE);
/// // No caller named: the owner as the job remembers it.
/// let owner = Caller::owner_of(&job);
/// assert_eq!(owner.identity, Identity::NETWORK_SERVICE);
/// assert_eq!(owner.level, ImpersonationLevel::Impersonate);
/// let anonymous = Caller::new(Identity::LOCAL_SYSTEM).with_level(ImpersonationLevel::Anonymous);
/// assert!(anonymous.logged_on);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(clippy::exhaustive_structs)] // by design exactly the facts a call brings
pub struct Caller {
    /// The caller's token, as the rules read it.
    pub identity: Identity,
    /// The client proxy's impersonation level for this call (T-10).
    pub level: ImpersonationLevel,
    /// Whether the caller's user is logged on (L-11).
    pub logged_on: bool,
}

impl Caller {
    /// A caller at the model's default level (`Impersonate`, T-10) whose user is logged on.
    pub const fn new(identity: Identity) -> Caller {
        Caller {
            identity,
            level: ImpersonationLevel::Impersonate,
            logged_on: true,
        }
    }

    /// The caller a job method has when none is named: the owner as the job remembers it
    /// (its SID, administrator status, recorded elevation and integrity level, not
    /// restricted) with the owner's logged-on state. Such a caller always passes A-11,
    /// A-13 and A-14.
    pub const fn owner_of(job: &JobFacts) -> Caller {
        Caller {
            identity: job.owner.with_restricted(false),
            level: ImpersonationLevel::Impersonate,
            logged_on: job.owner_logged_on,
        }
    }

    /// The same caller at another impersonation level.
    pub const fn with_level(self, level: ImpersonationLevel) -> Caller {
        Caller { level, ..self }
    }

    /// The same caller, its user logged on or not (L-11).
    pub const fn with_logged_on(self, logged_on: bool) -> Caller {
        Caller { logged_on, ..self }
    }
}

impl From<Identity> for Caller {
    fn from(identity: Identity) -> Caller {
        Caller::new(identity)
    }
}

impl JobError {
    /// The error of a job in ERROR with this code, if a rule produces it (L-5 and L-6's
    /// `BG_E_TOKEN_REQUIRED`, read as L-6's; X-1; X-3's 401 and 407; X-4): for a job
    /// described as it is now (contract 3, §1.5b).
    pub const fn in_error(hresult: HResult) -> Option<JobError> {
        let reason = match hresult.as_u32() {
            0x8020_0056 => Reason::HelperTokenMissing,
            0x8007_2F9A => Reason::ClientCertificateWithNetwork,
            0x8019_0191 => Reason::ServerChallengeUnanswered,
            0x8019_0197 => Reason::ProxyChallengeUnanswered,
            0x8007_2F0C => Reason::ClientCertificateNeeded,
            _ => return None,
        };
        JobError::of(reason)
    }

    /// The error of a job in TRANSIENT_ERROR: any failure code (a transient error of any
    /// cause; L-13's is `BG_E_NETWORK_DISCONNECTED`). `None` for a success code.
    pub const fn transient(hresult: HResult) -> Option<JobError> {
        if hresult.is_failure() {
            Some(JobError {
                hresult,
                rule: rule!(NetworkLost),
            })
        } else {
            None
        }
    }
}

impl core::fmt::Display for JobError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.hresult, self.rule)
    }
}

/// What the rules read of a job: its owner, state and error, the helper-token settings,
/// and the transfer's settings. `Copy`, so embedders with their own job store can build
/// one per call.
///
/// ```
/// use bits_helper_token::{Identity, JobFacts, JobState, job::Remote, TokenUsage};
/// let job = JobFacts::new(Identity::NETWORK_SERVICE);
/// assert_eq!(job.state, JobState::Suspended); // a fresh job (T-7)
/// assert_eq!(job.flags, TokenUsage::empty()); // a fresh job has 0 (T-1)
/// assert_eq!(job.remote, Remote::Https);
/// assert!(job.helper.is_none() && !job.client_certificate);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct JobFacts {
    /// The job's owner: its SID and whether it is elevated.
    pub owner: Identity,
    /// The job's state (T-7).
    pub state: JobState,
    /// The job's error, in ERROR or TRANSIENT_ERROR.
    pub error: Option<JobError>,
    /// The usage flags stored on the job.
    pub flags: TokenUsage,
    /// The helper token stored on the job, if any.
    pub helper: Option<Identity>,
    /// Whether a client certificate is set (R-4, X-1).
    pub client_certificate: bool,
    /// The protocol of the remote files.
    pub remote: Remote,
    /// Download, upload or upload-reply.
    pub job_type: JobType,
    /// What `SetCredentials` stored (R-3, R-5).
    pub credentials: Credentials,
    /// How the proxy is found (R-7).
    pub proxy: ProxyUsage,
    /// `UseLMCompat` and `LMCompatibilityLevel` (R-3).
    pub environment: NetworkEnvironment,
    /// Whether the owner is logged on (L-8); the service accounts always are.
    pub owner_logged_on: bool,
    /// The schemes the server and the proxy challenge with (X-3); none by default.
    pub challenges: Challenges,
    /// What `PRECONFIG` finds in the IE proxy settings (R-7, X-3).
    pub ie_settings: IeSettings,
    /// Whether the job holds its file (T-7, L-9, L-15): the model's job holds none or one.
    pub has_file: bool,
    /// Whether the HTTPS server asks for a client certificate (X-4).
    pub server_requests_certificate: bool,
    /// `BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS` for the proxy (R-3 (iv)).
    pub use_stored_credentials: bool,
}

impl JobFacts {
    /// A fresh job of this owner: SUSPENDED, a download over HTTPS holding its file,
    /// flags `0`, no helper token, no client certificate, no credentials, `PRECONFIG`,
    /// `UseLMCompat` 2, the network connected.
    pub const fn new(owner: Identity) -> JobFacts {
        JobFacts {
            owner,
            state: JobState::Suspended,
            error: None,
            flags: TokenUsage::empty(),
            helper: None,
            client_certificate: false,
            remote: Remote::Https,
            job_type: JobType::Download,
            credentials: Credentials::NONE,
            proxy: ProxyUsage::Preconfig,
            environment: NetworkEnvironment::DEFAULT,
            owner_logged_on: true,
            challenges: Challenges::NONE,
            ie_settings: IeSettings::Direct,
            has_file: true,
            server_requests_certificate: false,
            use_stored_credentials: false,
        }
    }

    /// The same job holding its file or not (T-7, L-15).
    pub const fn with_file(self, has_file: bool) -> JobFacts {
        JobFacts { has_file, ..self }
    }

    /// The same job whose HTTPS server asks for a client certificate or not (X-4).
    pub const fn with_server_requests_certificate(self, asks: bool) -> JobFacts {
        JobFacts {
            server_requests_certificate: asks,
            ..self
        }
    }

    /// The same job with `USE_STORED_CREDENTIALS` for the proxy set or not (R-3 (iv)).
    pub const fn with_use_stored_credentials(self, use_stored_credentials: bool) -> JobFacts {
        JobFacts {
            use_stored_credentials,
            ..self
        }
    }

    /// The same job with another owner (its other facts unchanged).
    pub const fn with_owner(self, owner: Identity) -> JobFacts {
        JobFacts { owner, ..self }
    }

    /// The same job with this error (a job in ERROR has one; no other job does).
    pub const fn with_error(self, error: Option<JobError>) -> JobFacts {
        JobFacts { error, ..self }
    }

    /// The same job with its owner logged on or not (L-8); the service accounts always are.
    pub const fn with_owner_logged_on(self, owner_logged_on: bool) -> JobFacts {
        JobFacts {
            owner_logged_on,
            ..self
        }
    }

    /// The same job in another state (its error unchanged: see [`JobFacts::with_error`]).
    pub const fn with_state(self, state: JobState) -> JobFacts {
        JobFacts { state, ..self }
    }

    /// The same job with these stored flags.
    pub const fn with_flags(self, flags: TokenUsage) -> JobFacts {
        JobFacts { flags, ..self }
    }

    /// The same job with this stored helper token (or none).
    pub const fn with_helper(self, helper: Option<Identity>) -> JobFacts {
        JobFacts { helper, ..self }
    }

    /// The same job with or without a client certificate.
    pub const fn with_client_certificate(self, client_certificate: bool) -> JobFacts {
        JobFacts {
            client_certificate,
            ..self
        }
    }

    /// The same job over another protocol.
    pub const fn with_remote(self, remote: Remote) -> JobFacts {
        JobFacts { remote, ..self }
    }

    /// The same job with another type.
    pub const fn with_job_type(self, job_type: JobType) -> JobFacts {
        JobFacts { job_type, ..self }
    }

    /// The same job with other credentials.
    pub const fn with_credentials(self, credentials: Credentials) -> JobFacts {
        JobFacts {
            credentials,
            ..self
        }
    }

    /// The same job with another proxy usage.
    pub const fn with_proxy(self, proxy: ProxyUsage) -> JobFacts {
        JobFacts { proxy, ..self }
    }

    /// The same job facing these challenges (X-3).
    pub const fn with_challenges(self, challenges: Challenges) -> JobFacts {
        JobFacts { challenges, ..self }
    }

    /// The same job with these IE proxy settings (R-7).
    pub const fn with_ie_settings(self, ie_settings: IeSettings) -> JobFacts {
        JobFacts {
            ie_settings,
            ..self
        }
    }

    /// Whether such a job can exist (T-7): SMB serves downloads and uploads, never an
    /// upload-reply job (adding the file fails with `E_INVALIDARG`).
    pub const fn can_exist(&self) -> bool {
        !matches!(
            (self.job_type, self.remote),
            (JobType::UploadReply, Remote::Smb)
        )
    }

    /// Whether a transfer of this job goes through a proxy (X-3): always with `OVERRIDE`;
    /// with `AUTODETECT`, and `PRECONFIG` whose IE settings ask for discovery, the model
    /// assumes discovery finds one; `PRECONFIG` with direct settings and `NO_PROXY` use
    /// none.
    #[inline]
    pub const fn through_proxy(&self) -> bool {
        match self.proxy {
            ProxyUsage::Override | ProxyUsage::Autodetect => true,
            ProxyUsage::Preconfig => self.ie_settings.discovers(),
            ProxyUsage::NoProxy => false,
        }
    }

    /// The same job in another network environment.
    pub const fn with_environment(self, environment: NetworkEnvironment) -> JobFacts {
        JobFacts {
            environment,
            ..self
        }
    }

    /// Applies a decision's effect. Decides nothing: every branch writes what the effect
    /// says.
    ///
    /// ```
    /// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
    /// let mut job = JobFacts::new(Identity::NETWORK_SERVICE);
    /// let d = set_helper_token_flags(&Profile::default(), Identity::NETWORK_SERVICE, &job, 2);
    /// job.apply(&d.effect());
    /// assert_eq!(job.flags, TokenUsage::NETWORK);
    /// ```
    pub fn apply(&mut self, effect: &Effect) {
        match *effect {
            Effect::Unchanged => {}
            Effect::StoreFlags(flags) => self.flags = flags,
            Effect::StoreHelper(token) => self.helper = Some(token),
            Effect::ClearHelper => self.helper = None,
            Effect::DiscardHelper { error } => {
                self.helper = None;
                if let Some(error) = error {
                    self.state = JobState::Error;
                    self.error = Some(error);
                }
            }
            Effect::Enter(state) => {
                self.state = state;
                self.error = None;
            }
            Effect::Fail(error) => {
                self.state = JobState::Error;
                self.error = Some(error);
            }
            Effect::NewOwner {
                owner,
                helper,
                logged_on,
                requeue,
            } => {
                self.owner = owner;
                self.owner_logged_on = logged_on;
                if requeue {
                    self.state = JobState::Queued;
                }
                self.credentials = Credentials::NONE;
                self.client_certificate = false;
                match helper {
                    TakeOwnership::Keep => {}
                    TakeOwnership::DropToken => self.helper = None,
                    TakeOwnership::Clear => {
                        self.helper = None;
                        self.flags = TokenUsage::empty();
                    }
                }
            }
            Effect::OwnerLoggedOff { error, requeue } => {
                self.helper = None;
                self.owner_logged_on = false;
                if let Some(error) = error {
                    self.state = JobState::Error;
                    self.error = Some(error);
                } else if requeue {
                    self.state = JobState::Queued;
                }
            }
            Effect::OwnerLoggedOn => self.owner_logged_on = true,
            Effect::SetCredentials(credentials) => self.credentials = credentials,
            Effect::SetProxy(proxy) => self.proxy = proxy,
            Effect::SetClientCertificate(present) => self.client_certificate = present,
            Effect::AddFile => self.has_file = true,
            Effect::SetUseStoredCredentials(on) => self.use_stored_credentials = on,
            Effect::Suspend => {
                self.state = JobState::Suspended;
                self.error = None;
            }
            Effect::Network { state, moves_to } => {
                self.environment.network = state;
                if let Some((to, error)) = moves_to {
                    self.state = to;
                    self.error = error;
                }
            }
        }
    }
}

/// A change a decision asks for; [`JobFacts::apply`] writes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Effect {
    /// Nothing changes (a refusal, a getter, an event with nothing to do).
    Unchanged,
    /// Store these usage flags (L-1); the helper token is untouched.
    StoreFlags(TokenUsage),
    /// Store this helper token, replacing any previous one (L-2); flags are untouched.
    StoreHelper(Identity),
    /// Drop the helper token and keep the flags (L-3).
    ClearHelper,
    /// BITS discards the helper token (L-5); with an error, the job goes to ERROR.
    DiscardHelper {
        /// The error the job goes to ERROR with, if it does.
        error: Option<JobError>,
    },
    /// The owner logs off (L-5, L-8): the helper token is discarded, the owner is logged
    /// off; with an error the job goes to ERROR, else a running job goes back to QUEUED
    /// when `requeue` says so.
    OwnerLoggedOff {
        /// The error the job goes to ERROR with, if it does (L-5).
        error: Option<JobError>,
        /// Whether the job goes back to QUEUED (L-8).
        requeue: bool,
    },
    /// The owner logs on (L-8).
    OwnerLoggedOn,
    /// The job enters this state and its error is cleared (T-7).
    Enter(JobState),
    /// The job goes to ERROR with this error (a transfer's failure).
    Fail(JobError),
    /// The job has a new owner (L-7): credentials and the client certificate are removed,
    /// and the helper token and flags treated as the Q-6 setting says; the job follows the
    /// new owner's logon state.
    NewOwner {
        /// The new owner.
        owner: Identity,
        /// What happens to the helper token and flags (Q-6).
        helper: TakeOwnership,
        /// Whether the new owner's user is logged on (L-7, L-11).
        logged_on: bool,
        /// Whether a running job goes back to QUEUED (its new owner is not logged on).
        requeue: bool,
    },
    /// `Suspend` (L-12): the job is SUSPENDED and its error cleared.
    Suspend,
    /// `AddFile` (L-15): the job holds its file.
    AddFile,
    /// `SetProperty(USE_STORED_CREDENTIALS)` for the proxy (R-3 (iv)).
    SetUseStoredCredentials(bool),
    /// The network is lost or restored (L-13): its new state, and the state and error the
    /// job moves to, if it moves (TRANSIENT_ERROR with `BG_E_NETWORK_DISCONNECTED`, or
    /// QUEUED with no error).
    Network {
        /// The network's new state.
        state: crate::net::NetworkState,
        /// The job's new state and error, if they change.
        moves_to: Option<(JobState, Option<JobError>)>,
    },
    /// `SetCredentials` / `RemoveCredentials`: the job's new credentials.
    SetCredentials(Credentials),
    /// `SetProxySettings`: the job's new proxy usage.
    SetProxy(ProxyUsage),
    /// `SetClientCertificateBy…` (`true`) or `RemoveClientCertificate` (`false`).
    SetClientCertificate(bool),
}
