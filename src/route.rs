//! Which identity BITS uses for each access a transfer makes (SPEC §4, R-1…R-7), and the
//! failures a whole transfer meets (SPEC §5, X-1 and X-2 through L-6).
//!
//! The inputs are a [`TransferJob`] — the [`JobFacts`] the decisions read (owner, flags,
//! stored helper token, client certificate, remote protocol) plus what routing needs
//! besides: the [`JobType`], the [`Credentials`] set with `SetCredentials`, the
//! [`ProxyUsage`] and the [`NetworkEnvironment`] (the `UseLMCompat` and
//! `LMCompatibilityLevel` registry values) — and the [`Profile`] (only its release matters
//! here, for R-7).
//!
//! [`route`] answers "as whom does BITS make this [`Access`]?" with a [`Route`]: the
//! identity [`Used`] and the [`RouteRule`] that decided, with its SPEC id and facts.
//! [`transfer_plan`] lists the accesses a whole transfer makes, in order, each with its
//! route, and the job's final [`Outcome`].
//!
//! Everything here is pure: no I/O, no allocation, no panic, `core` only.
//!
//! # Readings of the SPEC
//!
//! Where the SPEC is silent this module makes one documented choice:
//!
//! - **Not applicable.** An access the job never makes (the reply file of a download job,
//!   the SMB remote file of an HTTP job, a proxy challenge with `NO_PROXY`, the client
//!   certificate's key without a certificate, …) routes to [`Used::NotApplicable`], with
//!   the id of the rule that names the access. An upload-reply job is an upload job: it
//!   opens its local file too (R-1).
//! - **R-6** applies to the accesses that authenticate to a remote party with the owner's
//!   *implicit network identity*: the SMB remote file and an implicit-credential answer to
//!   an NTLM or Negotiate challenge, when no helper token is in play for that access (the
//!   NETWORK flag is clear; a stored but unused helper token changes nothing). With NETWORK
//!   set and no helper token stored, L-6 decides instead: the job fails. LocalSystem and
//!   NetworkService owners appear as the computer account, LocalService as anonymous.
//!   Proxy discovery and local files are not network authentication: R-6 does not apply.
//! - **R-3.** Implicit credentials exist only for NTLM and Negotiate (Basic and Digest need
//!   a user name — `SetCredentials` refuses NULL for them with `E_INVALIDARG` — and
//!   Passport supports explicit credentials only). `SetCredentials(NULL, NULL)` for
//!   NTLM *or* Negotiate allows implicit credentials for both schemes of that target (BITS
//!   lets Snego pick between them). `UseLMCompat` only ever *adds* permission: `0` always,
//!   `1` when `LMCompatibilityLevel >= 2`, `2` never by itself; a call to
//!   `SetCredentials(NULL, NULL)` allows them whatever the registry says. Implicit proxy
//!   credentials serve the server unless explicit server credentials exist for *any*
//!   scheme (the documentation says "explicit server credentials", without a scheme).
//! - **R-5.** Explicit credentials answer only the challenge of their own target and
//!   scheme (`SetCredentials` is called once per pair). They do not apply to SMB.
//! - **R-7.** WPAD runs only for `AUTODETECT`, reading the IE settings only for
//!   `PRECONFIG`; whether the IE settings themselves turn on automatic detection is not
//!   modelled. Both are made as the owner when NETWORK is clear (never R-6).
//! - **Facts as given.** The job's flags and helper token are read as they are; on
//!   `pre_bits4`, where the decisions never store flags (A-2), a job has flags `0`.
//! - **"The owner's other accesses"** (§4's opening sentence) have no id of their own:
//!   [`RouteRule::id`] reports them as `"§4"`.
#![forbid(unsafe_code)]

use crate::decide::{JobFacts, Rule, TransferFailure, client_certificate_failure};
use crate::hresult::HResult;
use crate::profile::{Profile, Release};
use crate::sid::Sid;
use crate::state::{JobState, JobType, ParseNameError, Remote};
use crate::usage::TokenUsage;
use core::fmt;
use core::str::FromStr;

// ---------------------------------------------------------------------------------------
// Authentication vocabulary
// ---------------------------------------------------------------------------------------

/// `BG_AUTH_TARGET`: whom a set of credentials answers.
///
/// ```
/// use bits_helper_token::AuthTarget;
/// assert_eq!(AuthTarget::Proxy.value(), 2); // BG_AUTH_TARGET_PROXY
/// assert_eq!("server".parse::<AuthTarget>(), Ok(AuthTarget::Server));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // BG_AUTH_TARGET has exactly these two values
pub enum AuthTarget {
    /// `BG_AUTH_TARGET_SERVER` (1).
    Server,
    /// `BG_AUTH_TARGET_PROXY` (2).
    Proxy,
}

impl AuthTarget {
    /// Both targets, in `BG_AUTH_TARGET` order.
    pub const ALL: [AuthTarget; 2] = [AuthTarget::Server, AuthTarget::Proxy];

    /// The `BG_AUTH_TARGET` value.
    pub const fn value(self) -> u32 {
        match self {
            AuthTarget::Server => 1,
            AuthTarget::Proxy => 2,
        }
    }

    /// The target with this `BG_AUTH_TARGET` value.
    pub const fn from_value(value: u32) -> Option<AuthTarget> {
        match value {
            1 => Some(AuthTarget::Server),
            2 => Some(AuthTarget::Proxy),
            _ => None,
        }
    }

    /// The lower-case name (`"proxy"`).
    pub const fn name(self) -> &'static str {
        match self {
            AuthTarget::Server => "server",
            AuthTarget::Proxy => "proxy",
        }
    }
}

impl fmt::Display for AuthTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AuthTarget {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<AuthTarget, ParseNameError> {
        AuthTarget::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or(ParseNameError {
                what: "authentication target",
            })
    }
}

/// `BG_AUTH_SCHEME`: the HTTP authentication schemes BITS answers.
///
/// Only NTLM and Negotiate have *implicit* credentials (the logon identity, R-2, R-3).
///
/// ```
/// use bits_helper_token::AuthScheme;
/// assert_eq!(AuthScheme::Negotiate.value(), 4); // BG_AUTH_SCHEME_NEGOTIATE
/// assert!(AuthScheme::Ntlm.has_implicit_credentials());
/// assert!(!AuthScheme::Passport.has_implicit_credentials());
/// assert_eq!("digest".parse::<AuthScheme>(), Ok(AuthScheme::Digest));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // BG_AUTH_SCHEME has exactly these five values
pub enum AuthScheme {
    /// `BG_AUTH_SCHEME_BASIC` (1).
    Basic,
    /// `BG_AUTH_SCHEME_DIGEST` (2).
    Digest,
    /// `BG_AUTH_SCHEME_NTLM` (3).
    Ntlm,
    /// `BG_AUTH_SCHEME_NEGOTIATE` (4): Kerberos or NTLM, chosen by Snego.
    Negotiate,
    /// `BG_AUTH_SCHEME_PASSPORT` (5): explicit credentials only.
    Passport,
}

impl AuthScheme {
    /// Every scheme, in `BG_AUTH_SCHEME` order.
    pub const ALL: [AuthScheme; 5] = [
        AuthScheme::Basic,
        AuthScheme::Digest,
        AuthScheme::Ntlm,
        AuthScheme::Negotiate,
        AuthScheme::Passport,
    ];

    /// The `BG_AUTH_SCHEME` value.
    pub const fn value(self) -> u32 {
        self.index() as u32 + 1
    }

    /// The scheme with this `BG_AUTH_SCHEME` value.
    pub const fn from_value(value: u32) -> Option<AuthScheme> {
        match value {
            1 => Some(AuthScheme::Basic),
            2 => Some(AuthScheme::Digest),
            3 => Some(AuthScheme::Ntlm),
            4 => Some(AuthScheme::Negotiate),
            5 => Some(AuthScheme::Passport),
            _ => None,
        }
    }

    /// The lower-case name (`"negotiate"`).
    pub const fn name(self) -> &'static str {
        match self {
            AuthScheme::Basic => "basic",
            AuthScheme::Digest => "digest",
            AuthScheme::Ntlm => "ntlm",
            AuthScheme::Negotiate => "negotiate",
            AuthScheme::Passport => "passport",
        }
    }

    /// Whether the scheme can be answered with the implicit (logon) credentials of a
    /// token: NTLM and Negotiate (R-2, R-3).
    pub const fn has_implicit_credentials(self) -> bool {
        matches!(self, AuthScheme::Ntlm | AuthScheme::Negotiate)
    }

    /// Whether `SetCredentials` accepts a NULL user name and password for this scheme:
    /// every scheme but Basic and Digest (they return `E_INVALIDARG`).
    pub const fn accepts_null_credentials(self) -> bool {
        !matches!(self, AuthScheme::Basic | AuthScheme::Digest)
    }

    const fn index(self) -> usize {
        match self {
            AuthScheme::Basic => 0,
            AuthScheme::Digest => 1,
            AuthScheme::Ntlm => 2,
            AuthScheme::Negotiate => 3,
            AuthScheme::Passport => 4,
        }
    }

    /// How the scheme is written in prose.
    const fn label(self) -> &'static str {
        match self {
            AuthScheme::Basic => "Basic",
            AuthScheme::Digest => "Digest",
            AuthScheme::Ntlm => "NTLM",
            AuthScheme::Negotiate => "Negotiate",
            AuthScheme::Passport => "Passport",
        }
    }
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AuthScheme {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<AuthScheme, ParseNameError> {
        AuthScheme::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or(ParseNameError {
                what: "authentication scheme",
            })
    }
}

/// What one `SetCredentials` call stored for a target and scheme.
///
/// The user name and password themselves are not modelled: routing depends only on
/// whether the user name was NULL, and a `Copy` value that ends up in logs and
/// serialized forms should not carry secrets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // the user name is NULL or it is not
pub enum Credential {
    /// A user name and password: sent as given (R-5).
    Explicit,
    /// NULL user name and password: allows the implicit credentials of the token BITS
    /// acts as (R-3).
    Implicit,
}

/// `SetCredentials` refuses a NULL user name and password for Basic and Digest
/// (`E_INVALIDARG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "SetCredentials refuses a NULL user name and password for the {scheme} scheme (E_INVALIDARG): only NTLM, Negotiate and Passport accept them"
)]
#[non_exhaustive]
pub struct NullCredentialsError {
    /// The scheme (Basic or Digest).
    pub scheme: AuthScheme,
}

impl NullCredentialsError {
    /// The `HRESULT` `SetCredentials` returns: `E_INVALIDARG`.
    pub const fn hresult(&self) -> HResult {
        HResult::E_INVALIDARG
    }
}

/// The credentials set on a job with `IBackgroundCopyJob2::SetCredentials`, one slot per
/// target × scheme (R-3, R-5). Fixed size, `Copy`, no heap.
///
/// ```
/// use bits_helper_token::{AuthScheme, AuthTarget, Credential, Credentials};
///
/// // SetCredentials(proxy, Negotiate, NULL, NULL) and explicit Basic for the server.
/// let creds = Credentials::NONE
///     .set(AuthTarget::Proxy, AuthScheme::Negotiate, Credential::Implicit)?
///     .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)?;
/// assert!(creds.has_implicit(AuthTarget::Proxy));
/// assert!(creds.has_explicit(AuthTarget::Server));
/// assert_eq!(creds.get(AuthTarget::Server, AuthScheme::Ntlm), None);
///
/// // Basic and Digest need a user name.
/// let refused = Credentials::NONE.set(AuthTarget::Server, AuthScheme::Digest, Credential::Implicit);
/// assert_eq!(refused.unwrap_err().scheme, AuthScheme::Digest);
/// # Ok::<(), bits_helper_token::NullCredentialsError>(())
/// ```
///
/// **Serialized form** (feature `serde`): an object per target with one field per scheme
/// that is set, `{"server": {"basic": "explicit"}, "proxy": {"negotiate": "implicit"}}`;
/// missing targets and schemes are unset, unknown fields are refused, and so is an
/// `"implicit"` Basic or Digest entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[allow(clippy::exhaustive_structs)] // the fields are private
pub struct Credentials {
    server: [Option<Credential>; 5],
    proxy: [Option<Credential>; 5],
}

impl Credentials {
    /// No credentials: the state of a new job.
    pub const NONE: Credentials = Credentials {
        server: [None; 5],
        proxy: [None; 5],
    };

    const fn slots(&self, target: AuthTarget) -> &[Option<Credential>; 5] {
        match target {
            AuthTarget::Server => &self.server,
            AuthTarget::Proxy => &self.proxy,
        }
    }

    /// What is set for this target and scheme.
    pub const fn get(&self, target: AuthTarget, scheme: AuthScheme) -> Option<Credential> {
        self.slots(target)[scheme.index()]
    }

    /// `SetCredentials(target, scheme, …)`: these credentials replace any previous ones
    /// for the pair. Refuses implicit Basic and Digest, as `SetCredentials` does.
    pub const fn set(
        self,
        target: AuthTarget,
        scheme: AuthScheme,
        credential: Credential,
    ) -> Result<Credentials, NullCredentialsError> {
        if matches!(credential, Credential::Implicit) && !scheme.accepts_null_credentials() {
            return Err(NullCredentialsError { scheme });
        }
        Ok(self.put(target, scheme, Some(credential)))
    }

    /// `RemoveCredentials(target, scheme)`.
    pub const fn remove(self, target: AuthTarget, scheme: AuthScheme) -> Credentials {
        self.put(target, scheme, None)
    }

    const fn put(
        mut self,
        target: AuthTarget,
        scheme: AuthScheme,
        value: Option<Credential>,
    ) -> Credentials {
        match target {
            AuthTarget::Server => self.server[scheme.index()] = value,
            AuthTarget::Proxy => self.proxy[scheme.index()] = value,
        }
        self
    }

    /// Whether explicit credentials are set for this target, for any scheme (R-3, R-5).
    pub const fn has_explicit(&self, target: AuthTarget) -> bool {
        let slots = self.slots(target);
        let mut i = 0;
        while i < slots.len() {
            if matches!(slots[i], Some(Credential::Explicit)) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether `SetCredentials(NULL, NULL)` was called for this target with NTLM or
    /// Negotiate, the schemes with implicit credentials (R-3). An implicit Passport entry
    /// does not count: Passport supports explicit credentials only.
    pub const fn has_implicit(&self, target: AuthTarget) -> bool {
        matches!(
            self.get(target, AuthScheme::Ntlm),
            Some(Credential::Implicit)
        ) || matches!(
            self.get(target, AuthScheme::Negotiate),
            Some(Credential::Implicit)
        )
    }

    /// Whether any credentials are set for this target.
    pub const fn any(&self, target: AuthTarget) -> bool {
        let slots = self.slots(target);
        let mut i = 0;
        while i < slots.len() {
            if slots[i].is_some() {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether nothing is set.
    pub const fn is_empty(&self) -> bool {
        !self.any(AuthTarget::Server) && !self.any(AuthTarget::Proxy)
    }

    /// Every entry that is set, server first, schemes in `BG_AUTH_SCHEME` order.
    pub fn iter(&self) -> impl Iterator<Item = (AuthTarget, AuthScheme, Credential)> + '_ {
        AuthTarget::ALL.into_iter().flat_map(move |target| {
            AuthScheme::ALL
                .into_iter()
                .filter_map(move |scheme| self.get(target, scheme).map(|c| (target, scheme, c)))
        })
    }
}

#[cfg(feature = "serde")]
mod credentials_serde {
    use super::{AuthScheme, AuthTarget, Credential, Credentials};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize, Default)]
    #[serde(default, deny_unknown_fields)]
    struct TargetRepr {
        #[serde(skip_serializing_if = "Option::is_none")]
        basic: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ntlm: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        negotiate: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        passport: Option<Credential>,
    }

    #[derive(Serialize, Deserialize, Default)]
    #[serde(default, deny_unknown_fields)]
    struct CredentialsRepr {
        server: TargetRepr,
        proxy: TargetRepr,
    }

    impl TargetRepr {
        fn of(c: &Credentials, t: AuthTarget) -> TargetRepr {
            TargetRepr {
                basic: c.get(t, AuthScheme::Basic),
                digest: c.get(t, AuthScheme::Digest),
                ntlm: c.get(t, AuthScheme::Ntlm),
                negotiate: c.get(t, AuthScheme::Negotiate),
                passport: c.get(t, AuthScheme::Passport),
            }
        }

        fn entries(&self) -> [(AuthScheme, Option<Credential>); 5] {
            [
                (AuthScheme::Basic, self.basic),
                (AuthScheme::Digest, self.digest),
                (AuthScheme::Ntlm, self.ntlm),
                (AuthScheme::Negotiate, self.negotiate),
                (AuthScheme::Passport, self.passport),
            ]
        }
    }

    impl Serialize for Credentials {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            CredentialsRepr {
                server: TargetRepr::of(self, AuthTarget::Server),
                proxy: TargetRepr::of(self, AuthTarget::Proxy),
            }
            .serialize(serializer)
        }
    }

    /// Refuses what `SetCredentials` refuses (implicit Basic or Digest).
    impl<'de> Deserialize<'de> for Credentials {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Credentials, D::Error> {
            let repr = CredentialsRepr::deserialize(deserializer)?;
            let mut creds = Credentials::NONE;
            for (target, slots) in [
                (AuthTarget::Server, &repr.server),
                (AuthTarget::Proxy, &repr.proxy),
            ] {
                for (scheme, value) in slots.entries() {
                    if let Some(c) = value {
                        creds = creds
                            .set(target, scheme, c)
                            .map_err(serde::de::Error::custom)?;
                    }
                }
            }
            Ok(creds)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Proxy usage and the registry
// ---------------------------------------------------------------------------------------

/// `BG_JOB_PROXY_USAGE`: how the job finds its proxy (`SetProxySettings`).
///
/// ```
/// use bits_helper_token::ProxyUsage;
/// assert_eq!(ProxyUsage::default(), ProxyUsage::Preconfig);
/// assert_eq!(ProxyUsage::Autodetect.value(), 3);
/// assert!(!ProxyUsage::NoProxy.uses_proxy());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // BG_JOB_PROXY_USAGE has exactly these four values
pub enum ProxyUsage {
    /// `BG_JOB_PROXY_USAGE_PRECONFIG` (0, the default): the IE proxy settings.
    #[default]
    Preconfig,
    /// `BG_JOB_PROXY_USAGE_NO_PROXY` (1): connect directly.
    NoProxy,
    /// `BG_JOB_PROXY_USAGE_OVERRIDE` (2): the application's proxy list.
    Override,
    /// `BG_JOB_PROXY_USAGE_AUTODETECT` (3): WPAD.
    Autodetect,
}

impl ProxyUsage {
    /// Every proxy usage, in `BG_JOB_PROXY_USAGE` order.
    pub const ALL: [ProxyUsage; 4] = [
        ProxyUsage::Preconfig,
        ProxyUsage::NoProxy,
        ProxyUsage::Override,
        ProxyUsage::Autodetect,
    ];

    /// The `BG_JOB_PROXY_USAGE` value.
    pub const fn value(self) -> u32 {
        match self {
            ProxyUsage::Preconfig => 0,
            ProxyUsage::NoProxy => 1,
            ProxyUsage::Override => 2,
            ProxyUsage::Autodetect => 3,
        }
    }

    /// The proxy usage with this `BG_JOB_PROXY_USAGE` value.
    pub const fn from_value(value: u32) -> Option<ProxyUsage> {
        match value {
            0 => Some(ProxyUsage::Preconfig),
            1 => Some(ProxyUsage::NoProxy),
            2 => Some(ProxyUsage::Override),
            3 => Some(ProxyUsage::Autodetect),
            _ => None,
        }
    }

    /// Whether a proxy may stand between BITS and the server (everything but
    /// `NO_PROXY`). The model assumes discovery finds one.
    pub const fn uses_proxy(self) -> bool {
        !matches!(self, ProxyUsage::NoProxy)
    }

    /// The lower-case name (`"no_proxy"`).
    pub const fn name(self) -> &'static str {
        match self {
            ProxyUsage::Preconfig => "preconfig",
            ProxyUsage::NoProxy => "no_proxy",
            ProxyUsage::Override => "override",
            ProxyUsage::Autodetect => "autodetect",
        }
    }
}

impl fmt::Display for ProxyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProxyUsage {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<ProxyUsage, ParseNameError> {
        ProxyUsage::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or(ParseNameError {
                what: "proxy usage",
            })
    }
}

/// A registry value outside its valid range. Refused, never clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{name} is {value}; valid values are 0 to {max}")]
#[non_exhaustive]
pub struct InvalidRegistryValue {
    /// The value's name (`"UseLMCompat"`, `"LMCompatibilityLevel"`).
    pub name: &'static str,
    /// The value given.
    pub value: u32,
    /// The largest valid value.
    pub max: u32,
}

/// The BITS `UseLMCompat` registry value (`HKLM\Software\Microsoft\Windows\CurrentVersion\BITS`),
/// which widens when BITS sends implicit credentials (R-3).
///
/// ```
/// use bits_helper_token::UseLmCompat;
/// assert_eq!(UseLmCompat::default(), UseLmCompat::AfterSetCredentials);
/// assert_eq!(UseLmCompat::from_value(0), Ok(UseLmCompat::Always));
/// assert_eq!(UseLmCompat::from_value(3).unwrap_err().to_string(), "UseLMCompat is 3; valid values are 0 to 2");
/// ```
///
/// Serialized as its number (`0`, `1`, `2`); other numbers are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u32", into = "u32"))]
#[allow(clippy::exhaustive_enums)] // the documented values are exactly 0, 1 and 2
pub enum UseLmCompat {
    /// `0`: implicit credentials are sent whenever an NTLM or Negotiate challenge comes.
    Always,
    /// `1`: they are sent when the system's `LMCompatibilityLevel` is 2 or more.
    WhenLmCompatibilityLevel2,
    /// `2` (the default): they are sent only after `SetCredentials(NULL, NULL)`.
    #[default]
    AfterSetCredentials,
}

impl UseLmCompat {
    /// The three values, in numeric order.
    pub const ALL: [UseLmCompat; 3] = [
        UseLmCompat::Always,
        UseLmCompat::WhenLmCompatibilityLevel2,
        UseLmCompat::AfterSetCredentials,
    ];

    /// The registry value.
    pub const fn value(self) -> u32 {
        match self {
            UseLmCompat::Always => 0,
            UseLmCompat::WhenLmCompatibilityLevel2 => 1,
            UseLmCompat::AfterSetCredentials => 2,
        }
    }

    /// The setting for this registry value; anything but 0, 1 and 2 is refused.
    pub const fn from_value(value: u32) -> Result<UseLmCompat, InvalidRegistryValue> {
        match value {
            0 => Ok(UseLmCompat::Always),
            1 => Ok(UseLmCompat::WhenLmCompatibilityLevel2),
            2 => Ok(UseLmCompat::AfterSetCredentials),
            _ => Err(InvalidRegistryValue {
                name: "UseLMCompat",
                value,
                max: 2,
            }),
        }
    }
}

impl TryFrom<u32> for UseLmCompat {
    type Error = InvalidRegistryValue;
    fn try_from(value: u32) -> Result<UseLmCompat, InvalidRegistryValue> {
        UseLmCompat::from_value(value)
    }
}

impl From<UseLmCompat> for u32 {
    fn from(v: UseLmCompat) -> u32 {
        v.value()
    }
}

/// The system's `LMCompatibilityLevel` (`HKLM\System\CurrentControlSet\Control\Lsa`),
/// 0 to 5. Read by R-3 when `UseLMCompat` is 1.
///
/// ```
/// use bits_helper_token::LmCompatibilityLevel;
/// assert_eq!(LmCompatibilityLevel::default().value(), 3); // Windows 7 and later
/// assert!(LmCompatibilityLevel::new(6).is_err());
/// ```
///
/// Serialized as its number; numbers above 5 are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u32", into = "u32"))]
#[allow(clippy::exhaustive_structs)] // the field is private
pub struct LmCompatibilityLevel(u8);

impl LmCompatibilityLevel {
    /// The largest valid level.
    pub const MAX: u32 = 5;

    /// The level Windows uses when the value is absent, from Windows Vista / 7 on: 3.
    pub const DEFAULT: LmCompatibilityLevel = LmCompatibilityLevel(3);

    /// The level; anything above 5 is refused.
    pub const fn new(value: u32) -> Result<LmCompatibilityLevel, InvalidRegistryValue> {
        if value <= Self::MAX {
            Ok(LmCompatibilityLevel(value as u8))
        } else {
            Err(InvalidRegistryValue {
                name: "LMCompatibilityLevel",
                value,
                max: Self::MAX,
            })
        }
    }

    /// The registry value.
    pub const fn value(self) -> u32 {
        self.0 as u32
    }
}

impl Default for LmCompatibilityLevel {
    fn default() -> LmCompatibilityLevel {
        LmCompatibilityLevel::DEFAULT
    }
}

impl fmt::Display for LmCompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<u32> for LmCompatibilityLevel {
    type Error = InvalidRegistryValue;
    fn try_from(value: u32) -> Result<LmCompatibilityLevel, InvalidRegistryValue> {
        LmCompatibilityLevel::new(value)
    }
}

impl From<LmCompatibilityLevel> for u32 {
    fn from(v: LmCompatibilityLevel) -> u32 {
        v.value()
    }
}

/// The machine settings R-3 reads: `UseLMCompat` and `LMCompatibilityLevel`.
///
/// ```
/// use bits_helper_token::{NetworkEnvironment, UseLmCompat};
/// let env = NetworkEnvironment::new(1, 2)?;
/// assert_eq!(env.use_lm_compat, UseLmCompat::WhenLmCompatibilityLevel2);
/// assert_eq!(env.lm_compatibility_level.value(), 2);
/// assert!(NetworkEnvironment::new(2, 9).is_err());
/// assert_eq!(NetworkEnvironment::default(), NetworkEnvironment::new(2, 3)?);
/// # Ok::<(), bits_helper_token::InvalidRegistryValue>(())
/// ```
///
/// Serialized as `{"use_lm_compat": 2, "lm_compatibility_level": 3}`; missing fields take
/// their default, unknown fields are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct NetworkEnvironment {
    /// The BITS `UseLMCompat` value (default 2).
    pub use_lm_compat: UseLmCompat,
    /// The system's `LMCompatibilityLevel` (default 3).
    pub lm_compatibility_level: LmCompatibilityLevel,
}

impl NetworkEnvironment {
    /// `UseLMCompat` 2 and `LMCompatibilityLevel` 3: a machine where nobody set either.
    pub const DEFAULT: NetworkEnvironment = NetworkEnvironment {
        use_lm_compat: UseLmCompat::AfterSetCredentials,
        lm_compatibility_level: LmCompatibilityLevel::DEFAULT,
    };

    /// The environment with these raw registry values; invalid ones are refused.
    pub const fn new(
        use_lm_compat: u32,
        lm_compatibility_level: u32,
    ) -> Result<NetworkEnvironment, InvalidRegistryValue> {
        let use_lm_compat = match UseLmCompat::from_value(use_lm_compat) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        let lm_compatibility_level = match LmCompatibilityLevel::new(lm_compatibility_level) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        Ok(NetworkEnvironment {
            use_lm_compat,
            lm_compatibility_level,
        })
    }

    /// The same environment with another `UseLMCompat`.
    pub const fn with_use_lm_compat(self, use_lm_compat: UseLmCompat) -> NetworkEnvironment {
        NetworkEnvironment {
            use_lm_compat,
            ..self
        }
    }

    /// The same environment with another `LMCompatibilityLevel`.
    pub const fn with_lm_compatibility_level(
        self,
        lm_compatibility_level: LmCompatibilityLevel,
    ) -> NetworkEnvironment {
        NetworkEnvironment {
            lm_compatibility_level,
            ..self
        }
    }

    /// Whether the registry alone allows implicit credentials (R-3), and why.
    pub const fn allows_implicit(&self) -> Option<ImplicitAllowed> {
        match self.use_lm_compat {
            UseLmCompat::Always => Some(ImplicitAllowed::UseLmCompatAlways),
            UseLmCompat::WhenLmCompatibilityLevel2 if self.lm_compatibility_level.0 >= 2 => {
                Some(ImplicitAllowed::LmCompatibilityLevel {
                    level: self.lm_compatibility_level,
                })
            }
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The job
// ---------------------------------------------------------------------------------------

/// What routing reads of a job: the decision facts and the transfer's settings. `Copy`.
///
/// ```
/// use bits_helper_token::*;
/// let job = TransferJob::new(JobFacts::new(Identity::NETWORK_SERVICE));
/// assert_eq!(job.job_type, JobType::Download);
/// assert_eq!(job.facts.remote, Remote::Https);
/// assert!(job.credentials.is_empty());
/// assert_eq!(job.proxy, ProxyUsage::Preconfig);
/// assert_eq!(job.environment, NetworkEnvironment::DEFAULT);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct TransferJob {
    /// Owner, flags, stored helper token, client certificate, remote protocol.
    pub facts: JobFacts,
    /// Download, upload or upload-reply.
    pub job_type: JobType,
    /// What `SetCredentials` stored.
    pub credentials: Credentials,
    /// How the proxy is found.
    pub proxy: ProxyUsage,
    /// `UseLMCompat` and `LMCompatibilityLevel`.
    pub environment: NetworkEnvironment,
}

impl TransferJob {
    /// The job with these facts and the SPEC's defaults for the rest: a download, no
    /// credentials, `PRECONFIG` proxy, `UseLMCompat` 2 (`LMCompatibilityLevel` 3). The
    /// remote protocol is the facts' (HTTPS for [`JobFacts::new`]).
    pub const fn new(facts: JobFacts) -> TransferJob {
        TransferJob {
            facts,
            job_type: JobType::Download,
            credentials: Credentials::NONE,
            proxy: ProxyUsage::Preconfig,
            environment: NetworkEnvironment::DEFAULT,
        }
    }

    /// The same job with other facts.
    pub const fn with_facts(self, facts: JobFacts) -> TransferJob {
        TransferJob { facts, ..self }
    }

    /// The same job with another type.
    pub const fn with_job_type(self, job_type: JobType) -> TransferJob {
        TransferJob { job_type, ..self }
    }

    /// The same job with other credentials.
    pub const fn with_credentials(self, credentials: Credentials) -> TransferJob {
        TransferJob {
            credentials,
            ..self
        }
    }

    /// The same job with another proxy usage.
    pub const fn with_proxy(self, proxy: ProxyUsage) -> TransferJob {
        TransferJob { proxy, ..self }
    }

    /// The same job in another environment.
    pub const fn with_environment(self, environment: NetworkEnvironment) -> TransferJob {
        TransferJob {
            environment,
            ..self
        }
    }

    /// R-3: whether implicit credentials may answer this target's NTLM or Negotiate
    /// challenge, and why. In order: `SetCredentials(NULL, NULL)` for the target, implicit
    /// proxy credentials serving a server with no explicit credentials, the registry.
    pub const fn implicit_allowed(&self, target: AuthTarget) -> Option<ImplicitAllowed> {
        let c = &self.credentials;
        if c.has_implicit(target) {
            return Some(ImplicitAllowed::SetCredentials);
        }
        if matches!(target, AuthTarget::Server)
            && c.has_implicit(AuthTarget::Proxy)
            && !c.has_explicit(AuthTarget::Server)
        {
            return Some(ImplicitAllowed::ProxyCredentials);
        }
        self.environment.allows_implicit()
    }
}

impl From<JobFacts> for TransferJob {
    fn from(facts: JobFacts) -> TransferJob {
        TransferJob::new(facts)
    }
}

// ---------------------------------------------------------------------------------------
// Accesses
// ---------------------------------------------------------------------------------------

/// One access BITS makes while transferring a job (SPEC §4).
///
/// Each has a stable snake_case [`name`](Access::name) (its serialized form and the
/// oracle's `"access"`): `upload_local_file`, `download_temp_file_create`,
/// `download_temp_file_rename`, `reply_file_create`, `reply_file_rename`,
/// `smb_remote_file`, `proxy_auto_detect`, `proxy_ie_settings`,
/// `proxy_challenge_<scheme>`, `server_challenge_<scheme>` (scheme `basic`, `digest`,
/// `ntlm`, `negotiate`, `passport`), `client_certificate_key`, `other`.
///
/// ```
/// use bits_helper_token::{Access, AuthScheme};
/// let a: Access = "server_challenge_negotiate".parse()?;
/// assert_eq!(a, Access::ServerChallenge(AuthScheme::Negotiate));
/// assert_eq!(Access::ReplyFileRename.name(), "reply_file_rename");
/// assert_eq!(Access::ALL.len(), 20);
/// assert_eq!(Access::UploadLocalFile.rule_id(), "R-1");
/// # Ok::<(), bits_helper_token::ParseNameError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum Access {
    /// Opening the local file of an upload (or upload-reply) job (R-1).
    UploadLocalFile,
    /// Creating the temporary file of a download job (R-1).
    DownloadTempFileCreate,
    /// Renaming a download's temporary file to its final name (R-1).
    DownloadTempFileRename,
    /// Creating the reply file of an upload-reply job (R-1).
    ReplyFileCreate,
    /// Renaming the reply file to its final name (R-1).
    ReplyFileRename,
    /// Opening the remote file of an SMB job (R-2).
    SmbRemoteFile,
    /// Proxy auto-detection, WPAD (`AUTODETECT`, R-7).
    ProxyAutoDetect,
    /// Reading the IE proxy settings (`PRECONFIG`, R-7).
    ProxyIeSettings,
    /// Answering the proxy's challenge in this scheme (R-2, R-3, R-5).
    ProxyChallenge(AuthScheme),
    /// Answering the server's challenge in this scheme (R-2, R-3, R-5).
    ServerChallenge(AuthScheme),
    /// Reaching the client certificate's private key (R-4).
    ClientCertificateKey,
    /// Anything else BITS does for the job: always as the owner (§4).
    Other,
}

/// Every access, in the order of [`Access::ALL`].
const ALL_ACCESSES: [Access; 20] = [
    Access::UploadLocalFile,
    Access::DownloadTempFileCreate,
    Access::DownloadTempFileRename,
    Access::ReplyFileCreate,
    Access::ReplyFileRename,
    Access::SmbRemoteFile,
    Access::ProxyAutoDetect,
    Access::ProxyIeSettings,
    Access::ProxyChallenge(AuthScheme::Basic),
    Access::ProxyChallenge(AuthScheme::Digest),
    Access::ProxyChallenge(AuthScheme::Ntlm),
    Access::ProxyChallenge(AuthScheme::Negotiate),
    Access::ProxyChallenge(AuthScheme::Passport),
    Access::ServerChallenge(AuthScheme::Basic),
    Access::ServerChallenge(AuthScheme::Digest),
    Access::ServerChallenge(AuthScheme::Ntlm),
    Access::ServerChallenge(AuthScheme::Negotiate),
    Access::ServerChallenge(AuthScheme::Passport),
    Access::ClientCertificateKey,
    Access::Other,
];

impl Access {
    /// Every access: local files, SMB, proxy discovery, proxy then server challenges per
    /// scheme, the client certificate's key, and the rest. A slice, so it can grow.
    pub const ALL: &'static [Access] = &ALL_ACCESSES;

    /// The challenge of this target in this scheme.
    pub const fn challenge(target: AuthTarget, scheme: AuthScheme) -> Access {
        match target {
            AuthTarget::Server => Access::ServerChallenge(scheme),
            AuthTarget::Proxy => Access::ProxyChallenge(scheme),
        }
    }

    /// The target and scheme of a challenge.
    pub const fn as_challenge(self) -> Option<(AuthTarget, AuthScheme)> {
        match self {
            Access::ServerChallenge(s) => Some((AuthTarget::Server, s)),
            Access::ProxyChallenge(s) => Some((AuthTarget::Proxy, s)),
            _ => None,
        }
    }

    /// The stable snake_case name (`"server_challenge_negotiate"`).
    pub const fn name(self) -> &'static str {
        use AuthScheme::*;
        match self {
            Access::UploadLocalFile => "upload_local_file",
            Access::DownloadTempFileCreate => "download_temp_file_create",
            Access::DownloadTempFileRename => "download_temp_file_rename",
            Access::ReplyFileCreate => "reply_file_create",
            Access::ReplyFileRename => "reply_file_rename",
            Access::SmbRemoteFile => "smb_remote_file",
            Access::ProxyAutoDetect => "proxy_auto_detect",
            Access::ProxyIeSettings => "proxy_ie_settings",
            Access::ProxyChallenge(Basic) => "proxy_challenge_basic",
            Access::ProxyChallenge(Digest) => "proxy_challenge_digest",
            Access::ProxyChallenge(Ntlm) => "proxy_challenge_ntlm",
            Access::ProxyChallenge(Negotiate) => "proxy_challenge_negotiate",
            Access::ProxyChallenge(Passport) => "proxy_challenge_passport",
            Access::ServerChallenge(Basic) => "server_challenge_basic",
            Access::ServerChallenge(Digest) => "server_challenge_digest",
            Access::ServerChallenge(Ntlm) => "server_challenge_ntlm",
            Access::ServerChallenge(Negotiate) => "server_challenge_negotiate",
            Access::ServerChallenge(Passport) => "server_challenge_passport",
            Access::ClientCertificateKey => "client_certificate_key",
            Access::Other => "other",
        }
    }

    /// The id of the SPEC rule that names this access: `R-1` (local files), `R-2` (SMB and
    /// challenges), `R-7` (proxy discovery), `R-4` (client certificate), `§4` (the rest).
    pub const fn rule_id(self) -> &'static str {
        match self {
            Access::UploadLocalFile
            | Access::DownloadTempFileCreate
            | Access::DownloadTempFileRename
            | Access::ReplyFileCreate
            | Access::ReplyFileRename => "R-1",
            Access::SmbRemoteFile | Access::ProxyChallenge(_) | Access::ServerChallenge(_) => "R-2",
            Access::ProxyAutoDetect | Access::ProxyIeSettings => "R-7",
            Access::ClientCertificateKey => "R-4",
            Access::Other => "§4",
        }
    }

    /// The flag that can route this access to the helper token: `LOCAL_FILE` for the
    /// local files (R-1), `NETWORK` for the SMB file, proxy discovery and NTLM/Negotiate
    /// challenges (R-2, R-7); none for the rest (R-4, R-5, §4).
    pub const fn flag(self) -> Option<TokenUsage> {
        match self {
            Access::UploadLocalFile
            | Access::DownloadTempFileCreate
            | Access::DownloadTempFileRename
            | Access::ReplyFileCreate
            | Access::ReplyFileRename => Some(TokenUsage::LOCAL_FILE),
            Access::SmbRemoteFile | Access::ProxyAutoDetect | Access::ProxyIeSettings => {
                Some(TokenUsage::NETWORK)
            }
            Access::ProxyChallenge(s) | Access::ServerChallenge(s) => {
                if s.has_implicit_credentials() {
                    Some(TokenUsage::NETWORK)
                } else {
                    None
                }
            }
            Access::ClientCertificateKey | Access::Other => None,
        }
    }

    /// Whether a transfer of this job makes this access at all: local files by job type
    /// (an upload-reply job also opens its local file), the SMB file for SMB jobs, proxy
    /// discovery by proxy usage (HTTP only), proxy challenges unless `NO_PROXY`, server
    /// challenges over HTTP(S), the certificate's key when one is set.
    pub const fn applies_to(self, job: &TransferJob) -> bool {
        let http = job.facts.remote.is_http();
        match self {
            Access::UploadLocalFile => {
                matches!(job.job_type, JobType::Upload | JobType::UploadReply)
            }
            Access::DownloadTempFileCreate | Access::DownloadTempFileRename => {
                matches!(job.job_type, JobType::Download)
            }
            Access::ReplyFileCreate | Access::ReplyFileRename => {
                matches!(job.job_type, JobType::UploadReply)
            }
            Access::SmbRemoteFile => matches!(job.facts.remote, Remote::Smb),
            Access::ProxyAutoDetect => http && matches!(job.proxy, ProxyUsage::Autodetect),
            Access::ProxyIeSettings => http && matches!(job.proxy, ProxyUsage::Preconfig),
            Access::ProxyChallenge(_) => http && job.proxy.uses_proxy(),
            Access::ServerChallenge(_) => http,
            Access::ClientCertificateKey => http && job.facts.client_certificate,
            Access::Other => true,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Access {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Access, ParseNameError> {
        Access::ALL
            .iter()
            .copied()
            .find(|a| a.name() == s)
            .ok_or(ParseNameError { what: "access" })
    }
}

/// What BITS does when it makes the access, as a verb phrase ("opens the upload's local
/// file"), for the sentences of [`RouteRule`].
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

#[cfg(feature = "serde")]
mod access_serde {
    use super::Access;
    use core::fmt;
    use serde::de::{self, Deserialize, Deserializer, Visitor};
    use serde::ser::{Serialize, Serializer};

    /// Serialized as its [`name`](Access::name).
    impl Serialize for Access {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(self.name())
        }
    }

    struct AccessVisitor;

    impl Visitor<'_> for AccessVisitor {
        type Value = Access;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an access name such as \"server_challenge_negotiate\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Access, E> {
            // `invalid_value` quotes the offending name; the expectation says what is allowed.
            v.parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    impl<'de> Deserialize<'de> for Access {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Access, D::Error> {
            deserializer.deserialize_str(AccessVisitor)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

/// Why R-3 allows implicit credentials for a target.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ImplicitAllowed {
    /// `SetCredentials(NULL, NULL)` with NTLM or Negotiate for this target.
    SetCredentials,
    /// Implicit proxy credentials serve the server, which has no explicit credentials.
    ProxyCredentials,
    /// `UseLMCompat` is 0.
    UseLmCompatAlways,
    /// `UseLMCompat` is 1 and `LMCompatibilityLevel` is 2 or more.
    LmCompatibilityLevel {
        /// The level.
        level: LmCompatibilityLevel,
    },
}

impl fmt::Display for ImplicitAllowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImplicitAllowed::SetCredentials => {
                f.write_str("SetCredentials(NULL, NULL) was called for this target")
            }
            ImplicitAllowed::ProxyCredentials => f.write_str(
                "implicit proxy credentials also serve the server, which has no explicit credentials",
            ),
            ImplicitAllowed::UseLmCompatAlways => f.write_str("UseLMCompat is 0"),
            ImplicitAllowed::LmCompatibilityLevel { level } => {
                write!(f, "UseLMCompat is 1 and LMCompatibilityLevel is {level}")
            }
        }
    }
}

/// The identity BITS uses for an access — or why none is used.
///
/// ```
/// use bits_helper_token::*;
/// assert_eq!(Used::Computer.name(), "computer");
/// let missing = Used::TokenRequired { usage: TokenUsage::NETWORK };
/// assert_eq!(missing.failure().map(|f| f.hresult), Some(HResult::BG_E_TOKEN_REQUIRED));
/// assert!(Used::Helper { sid: Sid::LOCAL_SERVICE }.is_helper());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Used {
    /// The job owner's token.
    Owner {
        /// The owner.
        sid: Sid,
    },
    /// The helper token (R-1, R-2, R-7).
    Helper {
        /// The helper token's user.
        sid: Sid,
    },
    /// The computer account: a LocalSystem or NetworkService owner on the network (R-6).
    Computer,
    /// Anonymous: a LocalService owner on the network (R-6).
    Anonymous,
    /// The explicit credentials set for this target and scheme; no token (R-5).
    ExplicitCredentials {
        /// The target.
        target: AuthTarget,
        /// The scheme.
        scheme: AuthScheme,
    },
    /// Nobody: no implicit credentials are sent, and no explicit ones exist for this
    /// challenge (R-3).
    NoImplicitCredentials,
    /// The job never makes this access.
    NotApplicable,
    /// The access needs the helper token and none is stored: the job fails with
    /// `BG_E_TOKEN_REQUIRED` (L-6).
    TokenRequired {
        /// The flag that routes the access to the helper.
        usage: TokenUsage,
    },
}

impl Used {
    /// A stable snake_case name: `owner`, `helper`, `computer`, `anonymous`,
    /// `explicit_credentials`, `no_implicit_credentials`, `not_applicable`,
    /// `token_required`.
    pub const fn name(&self) -> &'static str {
        match self {
            Used::Owner { .. } => "owner",
            Used::Helper { .. } => "helper",
            Used::Computer => "computer",
            Used::Anonymous => "anonymous",
            Used::ExplicitCredentials { .. } => "explicit_credentials",
            Used::NoImplicitCredentials => "no_implicit_credentials",
            Used::NotApplicable => "not_applicable",
            Used::TokenRequired { .. } => "token_required",
        }
    }

    /// Whether the helper token is used.
    pub const fn is_helper(&self) -> bool {
        matches!(self, Used::Helper { .. })
    }

    /// The failure the access causes: `BG_E_TOKEN_REQUIRED` when the helper token it
    /// needs is missing (L-6, X-2).
    pub const fn failure(&self) -> Option<TransferFailure> {
        match *self {
            Used::TokenRequired { usage } => Some(TransferFailure {
                hresult: HResult::BG_E_TOKEN_REQUIRED,
                rule: Rule::HelperTokenMissing { usage },
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Used {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Used::Owner { sid } => write!(f, "the owner {sid}"),
            Used::Helper { sid } => write!(f, "the helper token {sid}"),
            Used::Computer => f.write_str("the computer account"),
            Used::Anonymous => f.write_str("anonymous"),
            Used::ExplicitCredentials { target, scheme } => write!(
                f,
                "the explicit {} credentials set for the {target}",
                scheme.label()
            ),
            Used::NoImplicitCredentials => f.write_str("no credentials"),
            Used::NotApplicable => f.write_str("not applicable"),
            Used::TokenRequired { .. } => {
                f.write_str("no identity: the helper token is missing (BG_E_TOKEN_REQUIRED)")
            }
        }
    }
}

/// The rule that decided a route, with the facts behind it. [`RouteRule::id`] is the SPEC
/// id; [`Display`](fmt::Display) is a plain-English sentence that cites it.
///
/// ```
/// use bits_helper_token::*;
/// let job = TransferJob::new(JobFacts::new(Identity::NETWORK_SERVICE));
/// let r = route(&Profile::default(), &job, Access::ClientCertificateKey);
/// assert_eq!(r.rule.id(), "R-4");
/// assert_eq!(r.rule.to_string(), "R-4: a download job over https with proxy usage preconfig and no client certificate never reaches the client certificate's private key");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum RouteRule {
    /// R-1, R-2, R-7: the flag is set and the helper token is stored, so the access is
    /// made as the helper.
    FlagSet {
        /// The access.
        access: Access,
        /// The flag that routes it.
        usage: TokenUsage,
        /// The helper token's user.
        helper: Sid,
    },
    /// R-1, R-2, R-7: the flag is clear, so the access is made as the owner.
    FlagClear {
        /// The access.
        access: Access,
        /// The flag that would route it to the helper.
        usage: TokenUsage,
        /// The owner.
        owner: Sid,
    },
    /// R-2 (with R-3): NETWORK is set and implicit credentials are allowed, so the helper
    /// token's implicit credentials answer the challenge.
    ImplicitAsHelper {
        /// The target.
        target: AuthTarget,
        /// The scheme (NTLM or Negotiate).
        scheme: AuthScheme,
        /// Why R-3 allows implicit credentials.
        allowed: ImplicitAllowed,
        /// The helper token's user.
        helper: Sid,
    },
    /// R-2 (with R-3): NETWORK is clear and implicit credentials are allowed, so the
    /// owner's implicit credentials answer the challenge.
    ImplicitAsOwner {
        /// The target.
        target: AuthTarget,
        /// The scheme (NTLM or Negotiate).
        scheme: AuthScheme,
        /// Why R-3 allows implicit credentials.
        allowed: ImplicitAllowed,
        /// The owner.
        owner: Sid,
    },
    /// R-6: a service-account owner authenticates on the network as the computer
    /// (LocalSystem, NetworkService) or anonymously (LocalService), no helper being in
    /// play for this access.
    ServiceOwnerOnNetwork {
        /// The access.
        access: Access,
        /// The owner.
        owner: Sid,
    },
    /// R-7: before Windows 10 1809 the IE proxy settings are read as the owner, even with
    /// NETWORK set.
    PreconfigAsOwner {
        /// The release modelled.
        release: Release,
        /// The owner.
        owner: Sid,
    },
    /// R-4: the client certificate's private key is always reached as the owner.
    ClientCertificateKey {
        /// The owner.
        owner: Sid,
    },
    /// R-5: explicit credentials are set for this target and scheme and sent as given.
    ExplicitCredentials {
        /// The target.
        target: AuthTarget,
        /// The scheme.
        scheme: AuthScheme,
    },
    /// R-3: implicit credentials are not allowed for this target, so none are sent.
    ImplicitNotAllowed {
        /// The target.
        target: AuthTarget,
        /// The scheme (NTLM or Negotiate).
        scheme: AuthScheme,
        /// Whether implicit proxy credentials exist but do not serve the server because
        /// explicit server credentials exist.
        proxy_credentials_blocked: bool,
        /// The registry values that did not allow them either.
        environment: NetworkEnvironment,
    },
    /// R-3: the scheme has no implicit credentials (Basic, Digest, Passport) and no
    /// explicit ones are set, so nothing answers the challenge.
    NoImplicitForScheme {
        /// The target.
        target: AuthTarget,
        /// The scheme.
        scheme: AuthScheme,
    },
    /// L-6: the flag routes the access to the helper token and none is stored.
    HelperTokenMissing {
        /// The access.
        access: Access,
        /// The flag.
        usage: TokenUsage,
    },
    /// §4: an access no flag names, made as the owner.
    OwnerAccess {
        /// The owner.
        owner: Sid,
    },
    /// The job never makes this access (its id is the rule that names the access).
    NotApplicable {
        /// The access.
        access: Access,
        /// The job type.
        job_type: JobType,
        /// The remote protocol.
        remote: Remote,
        /// The proxy usage.
        proxy: ProxyUsage,
        /// Whether a client certificate is set.
        client_certificate: bool,
    },
}

impl RouteRule {
    /// The SPEC id of the rule (`"R-2"`); `"§4"` for the owner's other accesses, which
    /// the SPEC does not number.
    pub const fn id(&self) -> &'static str {
        match self {
            RouteRule::FlagSet { access, .. }
            | RouteRule::FlagClear { access, .. }
            | RouteRule::NotApplicable { access, .. } => access.rule_id(),
            RouteRule::ImplicitAsHelper { .. } | RouteRule::ImplicitAsOwner { .. } => "R-2",
            RouteRule::ImplicitNotAllowed { .. } | RouteRule::NoImplicitForScheme { .. } => "R-3",
            RouteRule::ClientCertificateKey { .. } => "R-4",
            RouteRule::ExplicitCredentials { .. } => "R-5",
            RouteRule::ServiceOwnerOnNetwork { .. } => "R-6",
            RouteRule::PreconfigAsOwner { .. } => "R-7",
            RouteRule::HelperTokenMissing { .. } => "L-6",
            RouteRule::OwnerAccess { .. } => "§4",
        }
    }
}

impl fmt::Display for RouteRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id();
        match *self {
            RouteRule::FlagSet {
                access,
                usage,
                helper,
            } => write!(
                f,
                "{id}: {usage} is set, so BITS {} as the helper token {helper}",
                Doing(access)
            ),
            RouteRule::FlagClear {
                access,
                usage,
                owner,
            } => write!(
                f,
                "{id}: {usage} is not set, so BITS {} as the owner {owner}",
                Doing(access)
            ),
            RouteRule::ImplicitAsHelper {
                target,
                scheme,
                allowed,
                helper,
            } => write!(
                f,
                "{id}: NETWORK is set, so BITS {} with the implicit credentials of the helper token {helper} (R-3 allows them: {allowed})",
                Doing(Access::challenge(target, scheme))
            ),
            RouteRule::ImplicitAsOwner {
                target,
                scheme,
                allowed,
                owner,
            } => write!(
                f,
                "{id}: NETWORK is not set, so BITS {} with the implicit credentials of the owner {owner} (R-3 allows them: {allowed})",
                Doing(Access::challenge(target, scheme))
            ),
            RouteRule::ServiceOwnerOnNetwork { access, owner } => {
                let (account, appears) = if owner == Sid::LOCAL_SERVICE {
                    ("LocalService", "anonymously")
                } else if owner == Sid::LOCAL_SYSTEM {
                    ("LocalSystem", "as the computer account")
                } else if owner == Sid::NETWORK_SERVICE {
                    ("NetworkService", "as the computer account")
                } else {
                    ("a service account", "as the computer account")
                };
                write!(
                    f,
                    "{id}: the owner {owner} is {account} and no helper token is in play, so BITS {} {appears}",
                    Doing(access)
                )
            }
            RouteRule::PreconfigAsOwner { release, owner } => write!(
                f,
                "{id}: before Windows 10 1809 (here {release}) BITS reads the IE proxy settings as the owner {owner}, even with NETWORK set"
            ),
            RouteRule::ClientCertificateKey { owner } => write!(
                f,
                "{id}: BITS always reaches the client certificate's private key as the owner {owner}, whatever the flags"
            ),
            RouteRule::ExplicitCredentials { target, scheme } => write!(
                f,
                "{id}: explicit {} credentials are set for the {target}; they are sent as given, no token is involved",
                scheme.label()
            ),
            RouteRule::ImplicitNotAllowed {
                target,
                scheme,
                proxy_credentials_blocked,
                environment,
            } => {
                write!(
                    f,
                    "{id}: implicit credentials are not allowed for the {target} (no SetCredentials(NULL, NULL) for it"
                )?;
                if proxy_credentials_blocked {
                    f.write_str(
                        "; the implicit proxy credentials do not serve it because explicit server credentials exist",
                    )?;
                }
                write!(f, "; UseLMCompat is {}", environment.use_lm_compat.value())?;
                if environment.use_lm_compat == UseLmCompat::WhenLmCompatibilityLevel2 {
                    write!(
                        f,
                        " and LMCompatibilityLevel is {}",
                        environment.lm_compatibility_level
                    )?;
                }
                write!(f, "), so none answer its {} challenge", scheme.label())
            }
            RouteRule::NoImplicitForScheme { target, scheme } => write!(
                f,
                "{id}: {} has no implicit credentials and no explicit ones are set for the {target}, so nothing answers its challenge",
                scheme.label()
            ),
            RouteRule::HelperTokenMissing { access, usage } => write!(
                f,
                "{id}: {usage} routes the access where BITS {} to the helper token, and no helper token is stored: the job goes to ERROR with BG_E_TOKEN_REQUIRED",
                Doing(access)
            ),
            RouteRule::OwnerAccess { owner } => write!(
                f,
                "{id}: no flag names this access, so BITS {} as the owner {owner}",
                Doing(Access::Other)
            ),
            RouteRule::NotApplicable {
                access,
                job_type,
                remote,
                proxy,
                client_certificate,
            } => write!(
                f,
                "{id}: a {job_type} job over {remote} with proxy usage {proxy} and {} client certificate never {}",
                if client_certificate { "a" } else { "no" },
                NeverDoes(access)
            ),
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

/// As whom BITS makes one access: the [`Access`], the identity [`Used`], and the
/// [`RouteRule`] that decided.
///
/// ```
/// use bits_helper_token::*;
/// let helper = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let facts = JobFacts::new(Identity::NETWORK_SERVICE)
///     .with_flags(TokenUsage::LOCAL_FILE)
///     .with_helper(Some(helper));
/// let r = route(&Profile::default(), &TransferJob::new(facts), Access::DownloadTempFileCreate);
/// assert_eq!(r.identity, Used::Helper { sid: helper.sid });
/// assert_eq!(r.rule.id(), "R-1");
/// assert_eq!(
///     r.to_string(),
///     "download_temp_file_create: the helper token S-1-5-21-1-2-3-1001 (R-1: LOCAL_FILE is set, so BITS creates the download's temporary file as the helper token S-1-5-21-1-2-3-1001)"
/// );
/// # Ok::<(), ParseSidError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct Route {
    /// The access.
    pub access: Access,
    /// The identity BITS uses for it.
    pub identity: Used,
    /// The rule that decided, with its facts.
    pub rule: RouteRule,
}

impl Route {
    /// The failure this access causes, if any (L-6): `BG_E_TOKEN_REQUIRED`.
    pub const fn failure(&self) -> Option<TransferFailure> {
        self.identity.failure()
    }

    /// A placeholder for the unused slots of a [`TransferPlan`].
    const EMPTY: Route = Route {
        access: Access::Other,
        identity: Used::NotApplicable,
        rule: RouteRule::NotApplicable {
            access: Access::Other,
            job_type: JobType::Download,
            remote: Remote::Https,
            proxy: ProxyUsage::Preconfig,
            client_certificate: false,
        },
    };
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.access, self.identity, self.rule)
    }
}

/// As whom BITS makes `access` for a transfer of `job` on the release of `profile`
/// (SPEC §4).
///
/// In order: an access the job never makes is [`Used::NotApplicable`]; the client
/// certificate's key is always the owner's (R-4); local files follow `LOCAL_FILE` (R-1);
/// the SMB file follows NETWORK (R-2); proxy discovery follows NETWORK and the release
/// (R-7); a challenge is answered with explicit credentials of its target and scheme if
/// set (R-5), else — NTLM and Negotiate only — with implicit credentials when R-3 allows
/// them, as the helper with NETWORK (R-2); everything else is the owner's (§4). An access
/// the flags route to a missing helper token is [`Used::TokenRequired`] (L-6). A
/// service-account owner on the network with no helper in play is the computer or
/// anonymous (R-6). The module documentation lists the readings behind each choice.
///
/// Pure: no I/O, no allocation, no panic.
///
/// ```
/// use bits_helper_token::*;
///
/// // A NetworkService service with NETWORK set but no helper token stored.
/// let facts = JobFacts::new(Identity::NETWORK_SERVICE).with_flags(TokenUsage::NETWORK);
/// let job = TransferJob::new(facts).with_proxy(ProxyUsage::Autodetect);
/// let r = route(&Profile::default(), &job, Access::ProxyAutoDetect);
/// assert_eq!(r.identity, Used::TokenRequired { usage: TokenUsage::NETWORK });
/// assert_eq!(r.rule.id(), "L-6");
/// assert_eq!(r.failure().map(|f| f.hresult), Some(HResult::BG_E_TOKEN_REQUIRED));
///
/// // Without the flag it authenticates on the network as the computer (R-6) — once
/// // implicit credentials are allowed (R-3).
/// let creds = Credentials::NONE
///     .set(AuthTarget::Server, AuthScheme::Negotiate, Credential::Implicit)?;
/// let job = TransferJob::new(facts.with_flags(TokenUsage::empty())).with_credentials(creds);
/// let r = route(&Profile::default(), &job, Access::ServerChallenge(AuthScheme::Negotiate));
/// assert_eq!((r.identity, r.rule.id()), (Used::Computer, "R-6"));
/// # Ok::<(), NullCredentialsError>(())
/// ```
pub fn route(profile: &Profile, job: &TransferJob, access: Access) -> Route {
    let (identity, rule) = decide_route(profile.release, job, access);
    Route {
        access,
        identity,
        rule,
    }
}

fn decide_route(release: Release, job: &TransferJob, access: Access) -> (Used, RouteRule) {
    let facts = &job.facts;
    let owner = facts.owner.sid;
    // The job never makes this access: not applicable (the access's own rule names it).
    if !access.applies_to(job) {
        let rule = RouteRule::NotApplicable {
            access,
            job_type: job.job_type,
            remote: facts.remote,
            proxy: job.proxy,
            client_certificate: facts.client_certificate,
        };
        return (Used::NotApplicable, rule);
    }
    match access {
        // R-1: local files follow LOCAL_FILE.
        Access::UploadLocalFile
        | Access::DownloadTempFileCreate
        | Access::DownloadTempFileRename
        | Access::ReplyFileCreate
        | Access::ReplyFileRename => by_flag(facts, access, TokenUsage::LOCAL_FILE, false),
        // R-2: the SMB remote file follows NETWORK; as the owner, R-6 may apply.
        Access::SmbRemoteFile => by_flag(facts, access, TokenUsage::NETWORK, true),
        // R-7: WPAD as the helper on every release when NETWORK is set.
        Access::ProxyAutoDetect => by_flag(facts, access, TokenUsage::NETWORK, false),
        // R-7: the IE settings as the helper only from 1809; before, as the owner.
        Access::ProxyIeSettings => {
            if facts.flags.contains(TokenUsage::NETWORK) && !release.preconfig_proxy_as_helper() {
                (
                    Used::Owner { sid: owner },
                    RouteRule::PreconfigAsOwner { release, owner },
                )
            } else {
                by_flag(facts, access, TokenUsage::NETWORK, false)
            }
        }
        Access::ProxyChallenge(scheme) => challenge(job, AuthTarget::Proxy, scheme),
        Access::ServerChallenge(scheme) => challenge(job, AuthTarget::Server, scheme),
        // R-4: the private key is always the owner's.
        Access::ClientCertificateKey => (
            Used::Owner { sid: owner },
            RouteRule::ClientCertificateKey { owner },
        ),
        // §4: everything no flag names.
        Access::Other => (Used::Owner { sid: owner }, RouteRule::OwnerAccess { owner }),
    }
}

/// R-1, R-2, R-7 (and L-6): the helper when `usage` is set and a token is stored, L-6 when
/// none is; else the owner — seen on the network through R-6 when `network_identity`.
fn by_flag(
    facts: &JobFacts,
    access: Access,
    usage: TokenUsage,
    network_identity: bool,
) -> (Used, RouteRule) {
    let owner = facts.owner.sid;
    if facts.flags.contains(usage) {
        return match facts.helper {
            Some(helper) => (
                Used::Helper { sid: helper.sid },
                RouteRule::FlagSet {
                    access,
                    usage,
                    helper: helper.sid,
                },
            ),
            None => missing_helper(access, usage),
        };
    }
    let otherwise = RouteRule::FlagClear {
        access,
        usage,
        owner,
    };
    if network_identity {
        owner_on_network(owner, access, otherwise)
    } else {
        (Used::Owner { sid: owner }, otherwise)
    }
}

/// L-6: the flag routes the access to a helper token that is not stored.
const fn missing_helper(access: Access, usage: TokenUsage) -> (Used, RouteRule) {
    (
        Used::TokenRequired { usage },
        RouteRule::HelperTokenMissing { access, usage },
    )
}

/// R-6: the owner's implicit network identity. Service accounts appear as the computer
/// (LocalSystem, NetworkService) or anonymously (LocalService); anyone else as itself,
/// under `otherwise`.
fn owner_on_network(owner: Sid, access: Access, otherwise: RouteRule) -> (Used, RouteRule) {
    let used = if owner == Sid::LOCAL_SYSTEM || owner == Sid::NETWORK_SERVICE {
        Used::Computer
    } else if owner == Sid::LOCAL_SERVICE {
        Used::Anonymous
    } else {
        return (Used::Owner { sid: owner }, otherwise);
    };
    (used, RouteRule::ServiceOwnerOnNetwork { access, owner })
}

/// R-5, R-3, R-2 (with R-6 and L-6): who answers this target's challenge in this scheme.
fn challenge(job: &TransferJob, target: AuthTarget, scheme: AuthScheme) -> (Used, RouteRule) {
    let facts = &job.facts;
    let access = Access::challenge(target, scheme);
    // R-5: explicit credentials for this target and scheme are sent as given.
    if job.credentials.get(target, scheme) == Some(Credential::Explicit) {
        return (
            Used::ExplicitCredentials { target, scheme },
            RouteRule::ExplicitCredentials { target, scheme },
        );
    }
    // R-3: Basic, Digest and Passport have no implicit credentials.
    if !scheme.has_implicit_credentials() {
        return (
            Used::NoImplicitCredentials,
            RouteRule::NoImplicitForScheme { target, scheme },
        );
    }
    // R-3: implicit credentials only when allowed.
    let Some(allowed) = job.implicit_allowed(target) else {
        let c = &job.credentials;
        let rule = RouteRule::ImplicitNotAllowed {
            target,
            scheme,
            proxy_credentials_blocked: matches!(target, AuthTarget::Server)
                && c.has_implicit(AuthTarget::Proxy),
            environment: job.environment,
        };
        return (Used::NoImplicitCredentials, rule);
    };
    // R-2: NETWORK sends the helper's implicit credentials (L-6 when it is missing).
    if facts.flags.contains(TokenUsage::NETWORK) {
        return match facts.helper {
            Some(helper) => (
                Used::Helper { sid: helper.sid },
                RouteRule::ImplicitAsHelper {
                    target,
                    scheme,
                    allowed,
                    helper: helper.sid,
                },
            ),
            None => missing_helper(access, TokenUsage::NETWORK),
        };
    }
    // R-2 with NETWORK clear: the owner's implicit credentials, seen through R-6.
    let owner = facts.owner.sid;
    let otherwise = RouteRule::ImplicitAsOwner {
        target,
        scheme,
        allowed,
        owner,
    };
    owner_on_network(owner, access, otherwise)
}

// ---------------------------------------------------------------------------------------
// Whole transfers
// ---------------------------------------------------------------------------------------

/// How a transfer ends, as far as this crate models it (X-1, X-2).
///
/// Only helper-token failures are modelled: a challenge nobody answers (R-3) or an
/// unreachable server is not predicted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Outcome {
    /// The job reaches TRANSFERRED.
    Transferred,
    /// The job goes to ERROR with this failure.
    Error(TransferFailure),
}

impl Outcome {
    /// The state the job ends in: TRANSFERRED or ERROR.
    pub const fn state(&self) -> JobState {
        match self {
            Outcome::Transferred => JobState::Transferred,
            Outcome::Error(_) => JobState::Error,
        }
    }

    /// The failure, if the job fails.
    pub const fn failure(&self) -> Option<TransferFailure> {
        match *self {
            Outcome::Transferred => None,
            Outcome::Error(f) => Some(f),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Transferred => f.write_str("TRANSFERRED"),
            Outcome::Error(failure) => write!(f, "ERROR: {failure}"),
        }
    }
}

/// The most accesses one transfer makes: proxy discovery, five proxy challenges, the
/// client certificate's key, five server challenges, three local files.
pub const PLAN_CAPACITY: usize = 16;

/// The accesses a whole transfer of a job makes, in order, each with its [`Route`], and
/// the job's final [`Outcome`]. Fixed capacity, inline, no heap.
///
/// See [`transfer_plan`] for the order and how challenges are modelled.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct TransferPlan {
    steps: [Route; PLAN_CAPACITY],
    len: usize,
    failing: Option<usize>,
    /// How the transfer ends.
    pub outcome: Outcome,
}

impl TransferPlan {
    /// The steps, in order.
    pub fn steps(&self) -> &[Route] {
        self.steps.get(..self.len).unwrap_or(&[])
    }

    /// The steps, in order.
    pub fn iter(&self) -> core::slice::Iter<'_, Route> {
        self.steps().iter()
    }

    /// The route of this access, if the transfer makes it.
    pub fn step(&self, access: Access) -> Option<&Route> {
        self.iter().find(|r| r.access == access)
    }

    /// The step where the transfer fails: the first access routed to a missing helper
    /// token (L-6), or the client certificate's key (X-1).
    pub fn failing_step(&self) -> Option<&Route> {
        self.failing.and_then(|i| self.steps().get(i))
    }

    fn push(&mut self, route: Route) {
        if let Some(slot) = self.steps.get_mut(self.len) {
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

impl fmt::Debug for TransferPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// One line per step, then the outcome.
impl fmt::Display for TransferPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.iter().enumerate() {
            writeln!(f, "{}. {step}", n + 1)?;
        }
        write!(f, "=> {}", self.outcome)
    }
}

/// Serialized as `{"steps": [route, …], "outcome": …}` (serialization only: a plan is an
/// output).
#[cfg(feature = "serde")]
impl serde::Serialize for TransferPlan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("TransferPlan", 2)?;
        s.serialize_field("steps", self.steps())?;
        s.serialize_field("outcome", &self.outcome)?;
        s.end()
    }
}

/// The schemes a target is modelled to challenge with: those the job set credentials for
/// (in `BG_AUTH_SCHEME` order), else Negotiate.
fn challenge_schemes(job: &TransferJob, target: AuthTarget) -> impl Iterator<Item = AuthScheme> {
    let creds = job.credentials;
    let none = !creds.any(target);
    AuthScheme::ALL.into_iter().filter(move |&s| {
        creds.get(target, s).is_some() || (none && matches!(s, AuthScheme::Negotiate))
    })
}

/// The accesses a whole transfer of `job` makes, in order, each routed by [`route`], and
/// the job's final [`Outcome`].
///
/// **Order.** An upload (or upload-reply) job first opens its local file. Over HTTP(S):
/// proxy discovery (`PRECONFIG`: the IE settings; `AUTODETECT`: WPAD; none for
/// `OVERRIDE` and `NO_PROXY`), the proxy's challenges (unless `NO_PROXY`), the client
/// certificate's key (the TLS handshake, when a certificate is set), the server's
/// challenges. Over SMB: the remote file. Then a download creates and renames its
/// temporary file; an upload-reply job creates and renames its reply file.
///
/// **Challenges.** Which schemes a server or proxy asks for is not known in advance. The
/// model assumes each target challenges in every scheme the job set credentials for it
/// (in `BG_AUTH_SCHEME` order), and in Negotiate when it set none; and that `PRECONFIG`
/// and `AUTODETECT` discovery find a proxy.
///
/// **Outcome.** If any step routes to a missing helper token, the job goes to ERROR with
/// `BG_E_TOKEN_REQUIRED` (L-6, X-2), reported at the first such step. Otherwise, if
/// [`client_certificate_failure`] predicts X-1, the job goes to ERROR with
/// `0x80072F9A`. Otherwise it is TRANSFERRED. L-6 comes first when both apply: BITS needs
/// the tokens the flags route to before it can make those accesses at all (as L-5 fails a
/// job whose token is gone), while X-1 happens inside a connection that the helper token
/// makes; and once a token is set, the job meets X-1. The job's state is not read: when a
/// transfer runs is the job model's business.
///
/// ```
/// use bits_helper_token::*;
///
/// // X-1: a NetworkService job with a client certificate and NETWORK set.
/// let helper = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let facts = JobFacts::new(Identity::NETWORK_SERVICE)
///     .with_flags(TokenUsage::NETWORK)
///     .with_helper(Some(helper))
///     .with_client_certificate(true);
/// let plan = transfer_plan(&Profile::default(), &TransferJob::new(facts));
/// let names: Vec<&str> = plan.iter().map(|r| r.access.name()).collect();
/// assert_eq!(names, [
///     "proxy_ie_settings", "proxy_challenge_negotiate", "client_certificate_key",
///     "server_challenge_negotiate", "download_temp_file_create", "download_temp_file_rename",
/// ]);
/// assert_eq!(plan.outcome.failure().map(|f| f.hresult),
///            Some(HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY));
/// assert_eq!(plan.failing_step().map(|r| r.access), Some(Access::ClientCertificateKey));
///
/// // Without the helper token, L-6 comes first.
/// let plan = transfer_plan(&Profile::default(), &TransferJob::new(facts.with_helper(None)));
/// assert_eq!(plan.outcome.failure().map(|f| f.rule.id()), Some("L-6"));
/// assert_eq!(plan.failing_step().map(|r| r.access), Some(Access::ProxyIeSettings));
/// # Ok::<(), ParseSidError>(())
/// ```
pub fn transfer_plan(profile: &Profile, job: &TransferJob) -> TransferPlan {
    let mut plan = TransferPlan {
        steps: [Route::EMPTY; PLAN_CAPACITY],
        len: 0,
        failing: None,
        outcome: Outcome::Transferred,
    };
    let mut add = |access: Access| {
        if access.applies_to(job) {
            plan.push(route(profile, job, access));
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

    // L-6 first (X-2), then X-1 — see above.
    let missing = plan.iter().position(|r| r.failure().is_some());
    let failure = match missing.and_then(|i| plan.steps().get(i)) {
        Some(step) => step.failure(),
        None => client_certificate_failure(&job.facts, job.facts.flags),
    };
    if let Some(failure) = failure {
        plan.outcome = Outcome::Error(failure);
        plan.failing = missing.or_else(|| {
            plan.iter()
                .position(|r| r.access == Access::ClientCertificateKey)
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Identity;

    /// Every combination of the facts that change which accesses a plan holds fits in
    /// [`PLAN_CAPACITY`]: `push` never drops a step.
    #[test]
    fn plan_capacity_is_enough() {
        let mut all = Credentials::NONE;
        for t in AuthTarget::ALL {
            for s in AuthScheme::ALL {
                all = all.set(t, s, Credential::Explicit).unwrap();
            }
        }
        let mut longest = 0;
        for remote in Remote::ALL {
            for job_type in JobType::ALL {
                for proxy in ProxyUsage::ALL {
                    for cert in [false, true] {
                        let facts = JobFacts::new(Identity::LOCAL_SYSTEM)
                            .with_remote(remote)
                            .with_client_certificate(cert);
                        let job = TransferJob::new(facts)
                            .with_job_type(job_type)
                            .with_proxy(proxy)
                            .with_credentials(all);
                        let expected = Access::ALL
                            .iter()
                            .filter(|a| a.applies_to(&job) && **a != Access::Other)
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

    #[test]
    fn names_round_trip() {
        for &a in Access::ALL {
            assert_eq!(a.name().parse::<Access>(), Ok(a));
        }
        for s in AuthScheme::ALL {
            assert_eq!(AuthScheme::from_value(s.value()), Some(s));
            assert_eq!(s.name().parse::<AuthScheme>(), Ok(s));
        }
        for p in ProxyUsage::ALL {
            assert_eq!(ProxyUsage::from_value(p.value()), Some(p));
        }
    }
}
