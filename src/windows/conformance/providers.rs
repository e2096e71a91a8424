//! The providers of `IBitsTokenOptions`: the real BITS, and the model's COM object.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;

use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_AUTH_CREDENTIALS, BG_AUTH_SCHEME, BG_AUTH_TARGET, BG_JOB_PROXY_USAGE_NO_PROXY,
    BG_JOB_PROXY_USAGE_OVERRIDE, BG_JOB_STATE, BG_JOB_STATE_ACKNOWLEDGED, BG_JOB_STATE_CANCELLED,
    BG_JOB_STATE_CONNECTING, BG_JOB_STATE_ERROR, BG_JOB_STATE_QUEUED, BG_JOB_STATE_SUSPENDED,
    BG_JOB_STATE_TRANSFERRED, BG_JOB_STATE_TRANSFERRING, BG_JOB_STATE_TRANSIENT_ERROR,
    BG_JOB_TYPE_DOWNLOAD, BITS_JOB_PROPERTY_ID_COST_FLAGS, BITS_JOB_PROPERTY_VALUE,
    BackgroundCopyManager, IBackgroundCopyJob, IBackgroundCopyJob2, IBackgroundCopyJob5,
    IBackgroundCopyManager, IBitsTokenOptions,
};
use windows::Win32::System::Com::{CLSCTX_LOCAL_SERVER, CoCreateInstance};
use windows::core::{GUID, HRESULT, HSTRING, Interface, PCWSTR, w};

use crate::calibration::Answer;
use crate::hresult::HResult;
use crate::job::Job;
use crate::net::{AuthScheme, AuthTarget, Credential};
use crate::profile::Profile;
use crate::state::JobState;
use crate::windows::{ComJob, WindowsToken};

/// A source of `IBitsTokenOptions` interfaces: the real BITS, or the model's COM object.
pub trait Provider {
    /// The provider's name in the report.
    fn name(&self) -> String;
    /// Creates a job owned by the token the current thread presents (the runner
    /// impersonates the owner around this call); with `url`, a download of that file,
    /// connecting directly (`BG_JOB_PROXY_USAGE_NO_PROXY`) or, with `proxy` (`host:port`),
    /// through that proxy only (`BG_JOB_PROXY_USAGE_OVERRIDE`).
    fn create_job(
        &self,
        url: Option<&str>,
        proxy: Option<&str>,
    ) -> Result<Box<dyn ProviderJob>, HResult>;
}

/// A job of a provider. Dropping it cancels a real BITS job.
pub trait ProviderJob {
    /// `QueryInterface(IID_IBitsTokenOptions)` on the thread's current token.
    fn query_interface(&self) -> Result<IBitsTokenOptions, HResult>;
    /// `IBackgroundCopyJob::Cancel`.
    fn cancel(&self) -> HResult;
    /// `IBackgroundCopyJob::TakeOwnership` on the thread's current token.
    fn take_ownership(&self) -> HResult;
    /// `IBackgroundCopyJob::Resume`.
    fn resume(&self) -> HResult;
    /// `IBackgroundCopyJob2::SetCredentials(target, scheme, NULL, NULL)` on the thread's
    /// current token: implicit credentials allowed (R-3 (i)).
    fn set_implicit_credentials(&self, target: AuthTarget, scheme: AuthScheme) -> HResult;
    /// Waits until the transfer ends (at most a minute): the job's error (`S_OK` without
    /// one) and its state, as [`calibration::answers`](crate::calibration::answers) gives
    /// a transfer step.
    fn wait_for_transfer(&self) -> Answer;
}

/// `BITS_COST_STATE_TRANSFER_ALWAYS` (bits5_0.h): every cost state, and ignore congestion.
/// Wine's BITS tests note that jobs stall on metered machines without it.
const TRANSFER_ALWAYS: u32 = 0x8000_00FF;

/// The real BITS of this machine (`BackgroundCopyManager`). The caller must have
/// initialized COM with impersonate level and dynamic cloaking, so that BITS sees the
/// tokens the runner impersonates.
#[derive(Debug)]
pub struct RealBits {
    manager: IBackgroundCopyManager,
}

impl RealBits {
    /// Connects to BITS.
    pub fn connect() -> Result<RealBits, HResult> {
        // SAFETY: COM is initialized by the caller (documented); the CLSID is a constant.
        let manager =
            unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) }
                .map_err(HResult::from)?;
        Ok(RealBits { manager })
    }
}

struct RealJob {
    job: IBackgroundCopyJob,
}

impl Drop for RealJob {
    fn drop(&mut self) {
        // Every job the runner creates is cancelled, on every path.
        // SAFETY: a live job interface we own.
        let _ = unsafe { self.job.Cancel() };
    }
}

impl Provider for RealBits {
    fn name(&self) -> String {
        "BITS".to_string()
    }

    fn create_job(
        &self,
        url: Option<&str>,
        proxy: Option<&str>,
    ) -> Result<Box<dyn ProviderJob>, HResult> {
        let mut id = GUID::zeroed();
        let mut job: Option<IBackgroundCopyJob> = None;
        // SAFETY: a live manager; `id` and `job` are live out-parameters.
        unsafe {
            self.manager.CreateJob(
                w!("bits-helper-token conformance"),
                BG_JOB_TYPE_DOWNLOAD,
                &mut id,
                &mut job,
            )
        }
        .map_err(HResult::from)?;
        let job = RealJob {
            job: job.ok_or(HResult::E_FAIL)?,
        };
        // Every job transfers whatever the network costs; a BITS before 5.0 has no cost
        // policy and needs none.
        if let Ok(job5) = job.job.cast::<IBackgroundCopyJob5>() {
            let value = BITS_JOB_PROPERTY_VALUE {
                Dword: TRANSFER_ALWAYS,
            };
            // SAFETY: a live job interface; the value is the union's `Dword` member, the
            // one BITS reads for the cost flags.
            unsafe { job5.SetProperty(BITS_JOB_PROPERTY_ID_COST_FLAGS, value) }
                .map_err(HResult::from)?;
        }
        if let Some(url) = url {
            let local =
                std::env::temp_dir().join(format!("bits-helper-token-{}.bin", id.to_u128()));
            let (remote, local) = (HSTRING::from(url), HSTRING::from(local.as_os_str()));
            let proxy = proxy.map(HSTRING::from);
            let (usage, list) = match &proxy {
                Some(list) => (BG_JOB_PROXY_USAGE_OVERRIDE, PCWSTR(list.as_ptr())),
                None => (BG_JOB_PROXY_USAGE_NO_PROXY, PCWSTR::null()),
            };
            // SAFETY: a live job interface; the proxy list is null or a NUL-terminated
            // string (`proxy`) that outlives the call; no bypass list.
            unsafe { job.job.SetProxySettings(usage, list, PCWSTR::null()) }
                .map_err(HResult::from)?;
            // SAFETY: a live job interface; two NUL-terminated strings that outlive the call.
            unsafe { job.job.AddFile(&remote, &local) }.map_err(HResult::from)?;
        }
        Ok(Box::new(job))
    }
}

impl ProviderJob for RealJob {
    fn query_interface(&self) -> Result<IBitsTokenOptions, HResult> {
        self.job.cast().map_err(HResult::from)
    }

    fn cancel(&self) -> HResult {
        // SAFETY: a live job interface we own.
        HResult::from(unsafe { self.job.Cancel() }.map_or_else(|e| e.code(), |()| HRESULT(0)))
    }

    fn take_ownership(&self) -> HResult {
        HResult::from(
            // SAFETY: a live job interface we own.
            unsafe { self.job.TakeOwnership() }.map_or_else(|e| e.code(), |()| HRESULT(0)),
        )
    }

    fn resume(&self) -> HResult {
        // SAFETY: a live job interface we own.
        HResult::from(unsafe { self.job.Resume() }.map_or_else(|e| e.code(), |()| HRESULT(0)))
    }

    fn set_implicit_credentials(&self, target: AuthTarget, scheme: AuthScheme) -> HResult {
        let job2 = match self.job.cast::<IBackgroundCopyJob2>() {
            Ok(job2) => job2,
            Err(e) => return HResult::from(e),
        };
        // User name and password NULL (the union zeroed): implicit credentials.
        let credentials = BG_AUTH_CREDENTIALS {
            Target: BG_AUTH_TARGET(target.value() as i32),
            Scheme: BG_AUTH_SCHEME(scheme.value() as i32),
            Credentials: Default::default(),
        };
        // SAFETY: a live job interface; `credentials` is a live, fully initialized
        // structure whose two string pointers are null, as SetCredentials allows.
        HResult::from(
            unsafe { job2.SetCredentials(&credentials) }.map_or_else(|e| e.code(), |()| HRESULT(0)),
        )
    }

    fn wait_for_transfer(&self) -> Answer {
        let mut state = BG_JOB_STATE_QUEUED;
        for _ in 0..600 {
            // SAFETY: a live job interface we own.
            state = match unsafe { self.job.GetState() } {
                Ok(s) => s,
                Err(e) => return Answer::bare(HResult::from(e)),
            };
            if matches!(
                state,
                BG_JOB_STATE_TRANSFERRED | BG_JOB_STATE_ERROR | BG_JOB_STATE_TRANSIENT_ERROR
            ) {
                break;
            }
            std::thread::sleep(core::time::Duration::from_millis(100));
        }
        let mut code = HRESULT(0);
        if matches!(state, BG_JOB_STATE_ERROR | BG_JOB_STATE_TRANSIENT_ERROR) {
            // SAFETY: a live job interface; `GetError` gives an error object in these
            // states, whose out-parameters are two live locals.
            if let Ok(error) = unsafe { self.job.GetError() } {
                let mut context = Default::default();
                // SAFETY: as above.
                let _ = unsafe { error.GetError(&mut context, &mut code) };
            }
        }
        Answer {
            hresult: HResult::from(code),
            value: state_of(state)
                .map_or_else(|| format!("state {}", state.0), |s| s.name().to_string()),
        }
    }
}

/// The model's name for a `BG_JOB_STATE`.
fn state_of(state: BG_JOB_STATE) -> Option<JobState> {
    Some(match state {
        BG_JOB_STATE_QUEUED => JobState::Queued,
        BG_JOB_STATE_CONNECTING => JobState::Connecting,
        BG_JOB_STATE_TRANSFERRING => JobState::Transferring,
        BG_JOB_STATE_SUSPENDED => JobState::Suspended,
        BG_JOB_STATE_ERROR => JobState::Error,
        BG_JOB_STATE_TRANSIENT_ERROR => JobState::TransientError,
        BG_JOB_STATE_TRANSFERRED => JobState::Transferred,
        BG_JOB_STATE_ACKNOWLEDGED => JobState::Acknowledged,
        BG_JOB_STATE_CANCELLED => JobState::Cancelled,
        _ => return None,
    })
}

/// The model's own COM object ([`ComJob`]) under `profile`: against the runner's model it
/// must agree everywhere; under another profile it is a provider with known differences.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::exhaustive_structs)] // built by the user: the profile is the whole provider
pub struct ModelObject {
    /// The release and knobs the object answers by.
    pub profile: Profile,
}

struct ModelJob(Arc<ComJob>);

impl Provider for ModelObject {
    fn name(&self) -> String {
        format!("the model's COM object ({})", self.profile.release)
    }

    /// The model's COM object answers the interface and the job methods; it does not
    /// transfer files, so a job with `url` is refused (`E_NOTIMPL`).
    fn create_job(
        &self,
        url: Option<&str>,
        _proxy: Option<&str>,
    ) -> Result<Box<dyn ProviderJob>, HResult> {
        if url.is_some() {
            return Err(HResult::E_NOTIMPL);
        }
        let owner = WindowsToken::caller().map_err(|e| e.code().unwrap_or(HResult::E_FAIL))?;
        Ok(Box::new(ModelJob(ComJob::new(Job::new(
            self.profile,
            &owner,
        )))))
    }
}

impl ProviderJob for ModelJob {
    fn query_interface(&self) -> Result<IBitsTokenOptions, HResult> {
        self.0.query_interface().map_err(|e| e.hresult())
    }

    fn cancel(&self) -> HResult {
        self.0.update(|job| job.cancel()).hresult()
    }

    /// In process, the caller is the thread's token (its impersonation token, else the
    /// process token), as `ComJob::query_interface` reads it outside a COM call.
    fn take_ownership(&self) -> HResult {
        match WindowsToken::caller() {
            Ok(caller) => self.0.update(|job| job.take_ownership(&caller)).hresult(),
            Err(e) => e.code().unwrap_or(HResult::E_FAIL),
        }
    }

    fn resume(&self) -> HResult {
        self.0.update(|job| job.resume()).hresult()
    }

    fn set_implicit_credentials(&self, target: AuthTarget, scheme: AuthScheme) -> HResult {
        self.0
            .update(|job| job.set_credentials(target, scheme, Credential::Implicit))
            .hresult()
    }

    fn wait_for_transfer(&self) -> Answer {
        Answer::bare(HResult::E_NOTIMPL)
    }
}
