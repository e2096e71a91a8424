//! The roles a scenario casts, and casting them onto this machine's tokens.

use alloc::format;
use alloc::string::{String, ToString};

use crate::calibration::Casting;
pub use crate::calibration::Role;
use crate::token::TokenInfo;

use windows::Win32::Foundation::HANDLE;
use windows::Win32::Security::{LOGON32_LOGON_INTERACTIVE, LOGON32_PROVIDER_DEFAULT, LogonUserW};
use windows::core::{HSTRING, PCWSTR};

use crate::hresult::HResult;
use crate::sid::Sid;
use crate::token::IntegrityLevel;
use crate::windows::{ImpersonationLevel, TokenError, TokenKind, WindowsToken};

/// The roles cast onto this machine's tokens, and why the others could not be.
#[derive(Debug)]
pub struct Cast {
    tokens: [Option<WindowsToken>; 6],
    reasons: [Option<String>; 6],
}

/// The environment variables naming the second account ([`Role::Other`]).
pub const OTHER_USER_VARIABLES: [&str; 3] = [
    "BITS_CONFORMANCE_USER",
    "BITS_CONFORMANCE_PASSWORD",
    "BITS_CONFORMANCE_DOMAIN",
];

impl Cast {
    /// Casts every role this machine can produce: the process token, a filtered copy, a
    /// Low-integrity copy (only if Windows really lowers it), an identification-level copy,
    /// the account named by [`OTHER_USER_VARIABLES`] (user and password; domain optional,
    /// `.` by default), and LocalSystem when the process runs as SYSTEM.
    pub fn from_machine() -> Result<Cast, TokenError> {
        let mut cast = Cast {
            tokens: Default::default(),
            reasons: Default::default(),
        };
        let current = WindowsToken::process()?;
        match current.with_deny_only(&[Sid::BUILTIN_ADMINISTRATORS]) {
            Ok(filtered) => {
                match filtered.with_integrity(IntegrityLevel::Low) {
                    Ok(low) if low.integrity_level() == IntegrityLevel::Low => {
                        cast.put(Role::Low, low);
                    }
                    Ok(low) => cast.refuse(
                        Role::Low,
                        format!(
                            "this system does not lower a token's integrity level (the copy reads back {})",
                            low.integrity_level()
                        ),
                    ),
                    Err(e) => cast.refuse(Role::Low, format!("cannot lower a token: {e}")),
                }
                cast.put(Role::Filtered, filtered);
            }
            Err(e) => {
                cast.refuse(Role::Filtered, format!("cannot filter a token: {e}"));
                cast.refuse(Role::Low, "no filtered token to lower".to_string());
            }
        }
        match current.duplicate_at(ImpersonationLevel::Identification) {
            Ok(t) => cast.put(Role::Identify, t),
            Err(e) => cast.refuse(
                Role::Identify,
                format!("cannot copy at identification level: {e}"),
            ),
        }
        match other_account() {
            Ok(t) => cast.put(Role::Other, t),
            Err(reason) => cast.refuse(Role::Other, reason),
        }
        if current.identity().sid == Sid::LOCAL_SYSTEM {
            match current.duplicate(TokenKind::Primary) {
                Ok(t) => cast.put(Role::System, t),
                Err(e) => cast.refuse(Role::System, format!("cannot copy our token: {e}")),
            }
        } else {
            cast.refuse(
                Role::System,
                "the runner does not run as LocalSystem".to_string(),
            );
        }
        cast.put(Role::Current, current);
        Ok(cast)
    }

    fn put(&mut self, role: Role, token: WindowsToken) {
        self.tokens[role.index()] = Some(token);
        self.reasons[role.index()] = None;
    }

    fn refuse(&mut self, role: Role, reason: String) {
        self.tokens[role.index()] = None;
        self.reasons[role.index()] = Some(reason);
    }

    /// The token cast for `role`, or why there is none.
    pub fn windows_token(&self, role: Role) -> Result<&WindowsToken, &str> {
        match &self.tokens[role.index()] {
            Some(t) => Ok(t),
            None => Err(self.reasons[role.index()].as_deref().unwrap_or("not cast")),
        }
    }
}

impl Casting for Cast {
    /// The snapshot of the role's Windows token (what the model reads of it).
    fn token(&self, role: Role) -> Result<TokenInfo, String> {
        self.windows_token(role)
            .map(WindowsToken::snapshot)
            .map_err(ToString::to_string)
    }

    fn can_impersonate(&self, role: Role) -> bool {
        self.windows_token(role)
            .is_ok_and(WindowsToken::allows_impersonation)
    }
}

/// `LogonUserW` for the account the environment names.
fn other_account() -> Result<WindowsToken, String> {
    let [user_var, password_var, domain_var] = OTHER_USER_VARIABLES;
    let user = std::env::var(user_var).map_err(|_| format!("{user_var} is not set"))?;
    let password = std::env::var(password_var).map_err(|_| format!("{password_var} is not set"))?;
    let domain = std::env::var(domain_var).unwrap_or_else(|_| ".".to_string());
    let (user, password, domain) = (
        HSTRING::from(user.as_str()),
        HSTRING::from(password.as_str()),
        HSTRING::from(domain.as_str()),
    );
    let mut raw = HANDLE::default();
    // SAFETY: three NUL-terminated strings that outlive the call; `raw` is a live local
    // the call writes the new token handle to.
    unsafe {
        LogonUserW(
            PCWSTR(user.as_ptr()),
            PCWSTR(domain.as_ptr()),
            PCWSTR(password.as_ptr()),
            LOGON32_LOGON_INTERACTIVE,
            LOGON32_PROVIDER_DEFAULT,
            &mut raw,
        )
    }
    .map_err(|e| format!("LogonUserW failed: {}", HResult::from(e)))?;
    // SAFETY: `raw` was just returned by a successful `LogonUserW`: a valid handle nothing
    // else owns.
    let handle = unsafe { std::os::windows::io::FromRawHandle::from_raw_handle(raw.0) };
    WindowsToken::from_handle(handle).map_err(|e| format!("cannot read its token: {e}"))
}
