//! Live probe: asks the real BITS what the model predicts, and counts agreement.
//!
//! ```text
//! cargo run --example probe --features windows            # on Windows
//! scripts/test-windows                                     # runs it under Wine too
//! ```
//!
//! It creates a BITS download job, queries `IBitsTokenOptions` from it (A-1: the handle
//! remembers who we are now), and runs a short script of calls with real tokens — each
//! line prints the real `HRESULT` next to the model's for this Windows release (A-3).
//! Where the BITS in use has no `IBitsTokenOptions` (before Windows 7, and Wine and
//! ReactOS today: `E_NOINTERFACE`, A-2), it says so plainly and exits cleanly.
//!
//! Disagreements are findings, not failures: the probe exits 0 once it has run. It exits
//! non-zero only when it could not run at all (no token, no COM).

#[cfg(not(all(windows, feature = "windows")))]
fn main() {
    println!(
        "probe: needs Windows and the `windows` feature \
         (cargo run --example probe --features windows, or scripts/test-windows under Wine)"
    );
}

#[cfg(all(windows, feature = "windows"))]
fn main() -> std::process::ExitCode {
    match live::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("probe: could not run: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(all(windows, feature = "windows"))]
#[allow(unsafe_code)]
mod live {
    use std::error::Error;

    use bits_helper_token::windows::WindowsToken;
    use bits_helper_token::{
        Decision, HResult, Identity, Impersonation, JobFacts, Profile, Release, Sid, TokenUsage,
        Value, cancel, clear_helper_token, get_helper_token_flags, get_helper_token_sid,
        query_interface, set_helper_token, set_helper_token_flags,
    };
    use windows::Win32::Foundation::{ERROR_SUCCESS, RPC_E_TOO_LATE};
    use windows::Win32::Networking::BackgroundIntelligentTransferService::{
        BG_JOB_TYPE_DOWNLOAD, BG_TOKEN, BackgroundCopyManager, IBackgroundCopyJob,
        IBackgroundCopyManager, IBitsTokenOptions,
    };
    use windows::Win32::System::Com::{
        CLSCTX_LOCAL_SERVER, COINIT_MULTITHREADED, CoCreateInstance, CoInitializeEx,
        CoInitializeSecurity, CoTaskMemFree, EOAC_DYNAMIC_CLOAKING, RPC_C_AUTHN_LEVEL_DEFAULT,
        RPC_C_IMP_LEVEL_IMPERSONATE,
    };
    use windows::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
    use windows::Win32::System::Registry::{HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW};
    use windows::core::{GUID, Interface, s, w};

    type Result<T> = std::result::Result<T, Box<dyn Error>>;

    /// The running comparison: the model's job facts and the agreement count.
    struct Probe {
        profile: Profile,
        caller: Identity,
        job: JobFacts,
        agree: usize,
        total: usize,
    }

    impl Probe {
        /// Prints one call: real result next to the model's, and applies the model's
        /// effect to its job facts.
        fn compare(&mut self, call: &str, real: HResult, real_value: &str, model: Decision) {
            let model_value = match model.value() {
                Some(Value::Flags(f)) => format!("{:#x}", f.bits()),
                Some(Value::HelperSid(Some(sid))) => sid.to_string(),
                Some(Value::HelperSid(None)) => "NULL".into(),
                _ => String::new(),
            };
            let same = real == model.hresult() && real_value == model_value;
            self.total += 1;
            self.agree += usize::from(same);
            println!(
                "{} {call:<34} real {real} {real_value:<20} model {} {model_value:<20} [{}]",
                if same { "  agree   " } else { "  DIFFER  " },
                model.hresult(),
                model.rule_id()
            );
            // The model's own effect, applied as the library applies it (never re-implemented).
            self.job.apply(&model.effect());
        }
    }

    pub fn run() -> Result<()> {
        let caller = WindowsToken::caller()?;
        let who = Identity::of(&caller);
        let build = windows_build();
        let release = release_for(build);
        let wine = wine_version();
        println!("probe: bits-helper-token live probe");
        println!(
            "  system  : build {}{}; model release {release} (A-3)",
            build.map_or("unknown".into(), |b| b.to_string()),
            wine.as_ref()
                .map_or(String::new(), |v| format!(", Wine {v}")),
        );
        println!(
            "  caller  : {} administrator={} (T-5) elevated={}",
            who.sid,
            who.admin,
            caller.is_elevated()
        );

        // SAFETY: first COM call on this thread; no reserved pointer.
        let init = unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) };
        init.ok()?;
        // Impersonate level and dynamic cloaking: BITS must see our thread token when we
        // impersonate (A-9, L-2).
        // SAFETY: all pointers are None; called once, before any marshalling.
        let security = unsafe {
            CoInitializeSecurity(
                None,
                -1,
                None,
                None,
                RPC_C_AUTHN_LEVEL_DEFAULT,
                RPC_C_IMP_LEVEL_IMPERSONATE,
                None,
                EOAC_DYNAMIC_CLOAKING,
                None,
            )
        };
        match security {
            Ok(()) => {}
            Err(e) if e.code() == RPC_E_TOO_LATE => {}
            Err(e) => println!(
                "  note    : CoInitializeSecurity failed: {}",
                HResult::from(e)
            ),
        }

        // SAFETY: COM is initialised on this thread; the CLSID is a valid constant.
        let manager: IBackgroundCopyManager = match unsafe {
            CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER)
        } {
            Ok(m) => m,
            Err(e) => {
                println!(
                    "probe: BITS is unavailable here (CoCreateInstance(BackgroundCopyManager) = {}); \
                         nothing to compare.",
                    HResult::from(e)
                );
                return Ok(());
            }
        };
        let mut id = GUID::zeroed();
        let mut job: Option<IBackgroundCopyJob> = None;
        // SAFETY: `id` and `job` are live out-parameters.
        unsafe {
            manager.CreateJob(
                w!("bits-helper-token probe"),
                BG_JOB_TYPE_DOWNLOAD,
                &mut id,
                &mut job,
            )
        }?;
        let job = job.ok_or("CreateJob returned no job")?;
        println!("  job     : {id:?} created, owner = caller, SUSPENDED (T-7)");

        let mut probe = Probe {
            profile: Profile::new(release),
            caller: who,
            job: JobFacts::new(who),
            agree: 0,
            total: 0,
        };

        // A-1: the identity is taken here.
        let options = match job.cast::<IBitsTokenOptions>() {
            Ok(options) => {
                let model = query_interface(&probe.profile, who, &probe.job);
                probe.compare(
                    "QueryInterface(IBitsTokenOptions)",
                    HResult::S_OK,
                    "",
                    model,
                );
                options
            }
            Err(e) => {
                let real = HResult::from(e);
                // What the model says of a BITS without the interface (A-2).
                let unavailable = Profile::new(Release::PreBits4);
                let model = query_interface(&unavailable, who, &probe.job);
                println!(
                    "  QueryInterface(IBitsTokenOptions) real {real}, model for a BITS without \
                     the interface {} [{}]: {}",
                    model.hresult(),
                    model.rule_id(),
                    if real == model.hresult() {
                        "agree"
                    } else {
                        "DIFFER"
                    }
                );
                println!(
                    "probe: IBitsTokenOptions is unavailable here (QueryInterface = {real}{}), \
                     as SPEC A-2 says of BITS before Windows 7, Wine and ReactOS. \
                     Nothing more to compare.",
                    wine.as_ref()
                        .map_or(String::new(), |v| format!(", Wine {v}"))
                );
                // SAFETY: a live job we own.
                let _ = unsafe { job.Cancel() };
                return Ok(());
            }
        };

        script(&mut probe, &options, &caller)?;
        // Q-3: a cancelled job (T-7: the model's cancel decision, applied like any other).
        // SAFETY: a live job we own.
        let real = hr(unsafe { job.Cancel() });
        let model = cancel(&probe.job);
        probe.compare("Cancel", real, "", model);
        // SAFETY: a live interface pointer.
        let real = hr(unsafe { options.SetHelperTokenFlags(BG_TOKEN(0)) });
        let model = set_helper_token_flags(&probe.profile, probe.caller, &probe.job, 0);
        probe.compare("SetHelperTokenFlags(0) cancelled", real, "", model);

        println!(
            "probe: {} of {} calls agree with the model ({release}).",
            probe.agree, probe.total
        );
        Ok(())
    }

    /// The calls, in an order that exercises L-1…L-4 and Q-1.
    fn script(p: &mut Probe, options: &IBitsTokenOptions, caller: &WindowsToken) -> Result<()> {
        let get_flags = |p: &mut Probe, label: &str| {
            // SAFETY: a live interface pointer.
            let (real, value) = match unsafe { options.GetHelperTokenFlags() } {
                Ok(flags) => (
                    HResult::S_OK,
                    format!("{:#x}", TokenUsage::from(flags).bits()),
                ),
                Err(e) => (HResult::from(e), String::new()),
            };
            let model = get_helper_token_flags(&p.profile, p.caller, &p.job);
            p.compare(label, real, &value, model);
        };
        let set_flags = |p: &mut Probe, flags: u32| {
            // SAFETY: a live interface pointer.
            let real = hr(unsafe { options.SetHelperTokenFlags(BG_TOKEN(flags)) });
            let model = set_helper_token_flags(&p.profile, p.caller, &p.job, flags);
            p.compare(&format!("SetHelperTokenFlags({flags:#x})"), real, "", model);
        };
        let get_sid = |p: &mut Probe| {
            // SAFETY: a live interface pointer; the string is ours to free.
            let (real, value) = match unsafe { options.GetHelperTokenSid() } {
                Ok(text) if text.is_null() => (HResult::S_OK, "NULL".to_string()),
                Ok(text) => {
                    // SAFETY: a NUL-terminated string BITS allocated with CoTaskMemAlloc.
                    let s = unsafe { text.to_string() }.unwrap_or_default();
                    // SAFETY: freed once, as documented for GetHelperTokenSid.
                    unsafe { CoTaskMemFree(Some(text.0 as *const _)) };
                    (HResult::S_OK, canonical(&s))
                }
                Err(e) => (HResult::from(e), String::new()),
            };
            let model = get_helper_token_sid(&p.profile, p.caller, &p.job);
            p.compare("GetHelperTokenSid", real, &value, model);
        };

        get_flags(p, "GetHelperTokenFlags (fresh)");
        set_flags(p, TokenUsage::LOCAL_FILE.bits());
        get_flags(p, "GetHelperTokenFlags");
        set_flags(p, 0x4); // an unknown bit (Q-1)
        get_flags(p, "GetHelperTokenFlags");
        get_sid(p);

        // SetHelperToken while impersonating a helper: the caller with Administrators
        // deny-only, i.e. not an administrator (T-5, A-7).
        let helper = caller.with_deny_only(&[Sid::BUILTIN_ADMINISTRATORS])?;
        {
            let guard = helper.impersonate()?;
            // SAFETY: a live interface pointer.
            let real = hr(unsafe { options.SetHelperToken() });
            guard.revert()?;
            let model = set_helper_token(
                &p.profile,
                p.caller,
                &p.job,
                Impersonation::Allowed(Identity::of(&helper)),
            );
            p.compare("SetHelperToken (helper, not admin)", real, "", model);
        }
        get_sid(p);
        set_flags(p, (TokenUsage::LOCAL_FILE | TokenUsage::NETWORK).bits());
        get_flags(p, "GetHelperTokenFlags");
        // SAFETY: a live interface pointer.
        let real = hr(unsafe { options.ClearHelperToken() });
        let model = clear_helper_token(&p.profile, p.caller, &p.job);
        p.compare("ClearHelperToken", real, "", model);
        get_sid(p);
        get_flags(p, "GetHelperTokenFlags (kept, L-3)");
        Ok(())
    }

    fn hr(result: windows::core::Result<()>) -> HResult {
        match result {
            Ok(()) => HResult::S_OK,
            Err(e) => HResult::from(e),
        }
    }

    /// BITS's SID string in our canonical form, when it parses strictly (T-2).
    fn canonical(text: &str) -> String {
        text.parse::<Sid>()
            .map_or_else(|_| text.to_string(), |sid| sid.to_string())
    }

    /// `CurrentBuildNumber` from the registry (`GetVersionEx` lies without a manifest).
    fn windows_build() -> Option<u32> {
        let mut buf = [0u16; 32];
        let mut size = u32::try_from(std::mem::size_of_val(&buf)).ok()?;
        // SAFETY: `buf` is writable for `size` bytes; `size` is a live in/out parameter.
        let status = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                w!(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"),
                w!("CurrentBuildNumber"),
                RRF_RT_REG_SZ,
                None,
                Some(buf.as_mut_ptr().cast()),
                Some(&mut size),
            )
        };
        if status != ERROR_SUCCESS {
            return None;
        }
        let text = String::from_utf16_lossy(&buf);
        text.trim_end_matches('\0').trim().parse().ok()
    }

    /// The modelled release for a Windows build number (A-3).
    fn release_for(build: Option<u32>) -> Release {
        match build {
            Some(b) if b < 7600 => Release::PreBits4,
            Some(b) if b < 14393 => Release::Legacy,
            Some(b) if b < 17763 => Release::Win10_1607,
            _ => Release::LATEST,
        }
    }

    /// Wine's version, when running under Wine (`wine_get_version` in ntdll).
    fn wine_version() -> Option<String> {
        // SAFETY: plain lookups; the export, if present, has the C signature
        // `const char *wine_get_version(void)` and returns a static NUL-terminated string.
        unsafe {
            let ntdll = GetModuleHandleW(w!("ntdll.dll")).ok()?;
            let f = GetProcAddress(ntdll, s!("wine_get_version"))?;
            let f: extern "C" fn() -> *const std::ffi::c_char = std::mem::transmute(f);
            Some(std::ffi::CStr::from_ptr(f()).to_string_lossy().into_owned())
        }
    }
}
