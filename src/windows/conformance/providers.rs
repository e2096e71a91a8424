//! The providers of `IBitsTokenOptions`: the real BITS, and the model's COM object.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;

use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_JOB_TYPE_DOWNLOAD, BackgroundCopyManager, IBackgroundCopyJob, IBackgroundCopyManager,
    IBitsTokenOptions,
};
use windows::Win32::System::Com::{CLSCTX_LOCAL_SERVER, CoCreateInstance};
use windows::core::{GUID, HRESULT, Interface, w};

use crate::hresult::HResult;
use crate::job::Job;
use crate::profile::Profile;
use crate::windows::{ComJob, WindowsToken};

/// A source of `IBitsTokenOptions` interfaces: the real BITS, or the model's COM object.
pub trait Provider {
    /// The provider's name in the report.
    fn name(&self) -> String;
    /// Creates a job owned by the token the current thread presents (the runner
    /// impersonates the owner around this call).
    fn create_job(&self) -> Result<Box<dyn ProviderJob>, HResult>;
}

/// A job of a provider. Dropping it cancels a real BITS job.
pub trait ProviderJob {
    /// `QueryInterface(IID_IBitsTokenOptions)` on the thread's current token.
    fn query_interface(&self) -> Result<IBitsTokenOptions, HResult>;
    /// `IBackgroundCopyJob::Cancel`.
    fn cancel(&self) -> HResult;
    /// `IBackgroundCopyJob::TakeOwnership` on the thread's current token.
    fn take_ownership(&self) -> HResult;
}

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

    fn create_job(&self) -> Result<Box<dyn ProviderJob>, HResult> {
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
        let job = job.ok_or(HResult::E_FAIL)?;
        Ok(Box::new(RealJob { job }))
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

    fn create_job(&self) -> Result<Box<dyn ProviderJob>, HResult> {
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
}
