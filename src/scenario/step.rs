//! The steps of a scenario: calls on a handle, job-method calls with their optional caller
//! and level, events, and routing questions.
#![forbid(unsafe_code)]

use super::HandleName;
use crate::access::Access;
use crate::decide::StartTo;
use crate::names::names;
use crate::net::{AuthScheme, AuthTarget, Credential, ProxyUsage};
use crate::token::ImpersonationLevel;
use alloc::string::String;

/// One step of a scenario: a method on a handle, a job method, a job event, a routing
/// question. Serialized with an `"op"` field naming it; any other field a step does not
/// define is refused (the events are empty struct variants for that reason:
/// `Step::Transfer {}`).
///
/// **Callers and levels** (contract 3). `level` is the client proxy's impersonation level
/// for the call (A-9, T-10; default `impersonate`). The five handle steps are judged by the
/// identity their handle remembered at `query_interface`. A job-method step (`resume`,
/// `suspend`, `cancel`, `complete`, `add_file`, `set_credentials`, `remove_credentials`,
/// `set_proxy_usage`, `set_client_certificate`, `set_job_property`) is judged by its
/// `caller` at call time; without one, by the owner as the job remembers it, who
/// always passes.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        remote = "Self",
        tag = "op",
        rename_all = "snake_case",
        deny_unknown_fields
    )
)]
#[non_exhaustive]
pub enum Step {
    /// `QueryInterface` as `caller`'s token; the handle remembers it.
    QueryInterface {
        /// The token whose identity the handle remembers.
        caller: String,
        /// The new handle's name.
        handle: HandleName,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `SetHelperTokenFlags(flags)`.
    SetHelperTokenFlags {
        /// The handle.
        handle: HandleName,
        /// The raw `DWORD`.
        flags: u32,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `GetHelperTokenFlags`.
    GetHelperTokenFlags {
        /// The handle.
        handle: HandleName,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `SetHelperToken` while impersonating a token.
    SetHelperToken {
        /// The handle.
        handle: HandleName,
        /// The token the caller impersonates at call time.
        impersonating: String,
        /// Contract 2's form of the level: `true` is `impersonate`, `false` `identify`.
        /// Giving both this and `level` is refused.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        can_impersonate: Option<bool>,
        /// The impersonation level: `identify` fails with Q-11's code.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `ClearHelperToken`.
    ClearHelperToken {
        /// The handle.
        handle: HandleName,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `GetHelperTokenSid`.
    GetHelperTokenSid {
        /// The handle.
        handle: HandleName,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// The owner logs off (L-5, L-8).
    LogoffOwner {},
    /// The owner logs on (L-8).
    LogonOwner {},
    /// The session the helper token was taken in ends (L-5).
    HelperSessionEnded {},
    /// The BITS service stops (L-5).
    ServiceStop {},
    /// `Resume` (L-9).
    Resume {
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `Suspend` (L-12).
    Suspend {
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// A whole transfer run.
    Transfer {},
    /// `Cancel` (T-7).
    Cancel {
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `Complete` (L-10).
    Complete {
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `AddFile` (L-15).
    AddFile {
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `TakeOwnership` as `caller`'s token (L-7).
    TakeOwnership {
        /// The caller's token.
        caller: String,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// As whom BITS makes this access now (R-1… ).
    Route {
        /// The access, by its name (`"server_challenge_negotiate"`, `"server_challenge"`).
        access: Access,
    },
    /// `SetCredentials(target, scheme, …)`: explicit (a user name) or implicit (NULL,
    /// NULL), R-3, R-5. Owner only.
    SetCredentials {
        /// Server or proxy.
        target: AuthTarget,
        /// The scheme.
        scheme: AuthScheme,
        /// Explicit or implicit.
        credential: Credential,
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `RemoveCredentials(target, scheme)`. Owner only.
    RemoveCredentials {
        /// Server or proxy.
        target: AuthTarget,
        /// The scheme.
        scheme: AuthScheme,
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `SetProxySettings` (the usage only, R-7).
    SetProxyUsage {
        /// The proxy usage.
        usage: ProxyUsage,
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `SetClientCertificateBy…` (`true`, owner only) or `RemoveClientCertificate`
    /// (`false`), R-4, X-1, X-4.
    SetClientCertificate {
        /// Whether a certificate is set.
        present: bool,
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// `IBackgroundCopyJob5::SetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)`, target
    /// proxy (R-3 (iv)).
    SetJobProperty {
        /// The property: `"use_stored_credentials"`.
        property: JobProperty,
        /// The target: `"proxy"`.
        target: PropertyTarget,
        /// The caller's token; the owner when absent.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        caller: Option<String>,
        /// The impersonation level.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        level: Option<ImpersonationLevel>,
    },
    /// A transfer starts (L-14): CONNECTING or TRANSFERRING (the default).
    StartTransfer {
        /// The state it starts in.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        to: Option<StartTo>,
    },
    /// The network is lost (L-13).
    NetworkLost {},
    /// The network returns (L-13).
    NetworkRestored {},
}

#[cfg(feature = "serde")]
crate::names::strict_object!(Step, "a step");

/// The job property a `set_job_property` step sets: only `USE_STORED_CREDENTIALS` is
/// modelled (R-3 (iv)).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum JobProperty {
    /// `BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS`.
    UseStoredCredentials,
}

names! { JobProperty, "job property"; UseStoredCredentials => "use_stored_credentials" }

/// The target of `USE_STORED_CREDENTIALS`: the proxy only (R-3 (iv)).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum PropertyTarget {
    /// `BG_AUTH_TARGET_PROXY`.
    Proxy,
}

names! { PropertyTarget, "job property target"; Proxy => "proxy" }

impl Step {
    /// The handle the step goes through: the five `IBitsTokenOptions` methods.
    /// `query_interface` names the handle it defines, and goes through none.
    pub fn handle(&self) -> Option<&HandleName> {
        match self {
            Step::SetHelperTokenFlags { handle, .. }
            | Step::GetHelperTokenFlags { handle, .. }
            | Step::SetHelperToken { handle, .. }
            | Step::ClearHelperToken { handle, .. }
            | Step::GetHelperTokenSid { handle, .. } => Some(handle),
            _ => None,
        }
    }

    /// [`Step::handle`], to rename it.
    pub fn handle_mut(&mut self) -> Option<&mut HandleName> {
        match self {
            Step::SetHelperTokenFlags { handle, .. }
            | Step::GetHelperTokenFlags { handle, .. }
            | Step::SetHelperToken { handle, .. }
            | Step::ClearHelperToken { handle, .. }
            | Step::GetHelperTokenSid { handle, .. } => Some(handle),
            _ => None,
        }
    }

    /// The token the step names as its caller: `query_interface` and `take_ownership`
    /// always, a job-method step when it names one.
    pub fn caller(&self) -> Option<&str> {
        match self {
            Step::QueryInterface { caller, .. } | Step::TakeOwnership { caller, .. } => {
                Some(caller)
            }
            Step::Resume { caller, .. }
            | Step::Suspend { caller, .. }
            | Step::Cancel { caller, .. }
            | Step::Complete { caller, .. }
            | Step::AddFile { caller, .. }
            | Step::SetCredentials { caller, .. }
            | Step::RemoveCredentials { caller, .. }
            | Step::SetProxyUsage { caller, .. }
            | Step::SetClientCertificate { caller, .. }
            | Step::SetJobProperty { caller, .. } => caller.as_deref(),
            _ => None,
        }
    }

    /// The tokens the step names: its caller, and the token `set_helper_token`
    /// impersonates.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        let impersonating = match self {
            Step::SetHelperToken { impersonating, .. } => Some(impersonating.as_str()),
            _ => None,
        };
        self.caller().into_iter().chain(impersonating)
    }

    /// The impersonation level the step states (`can_impersonate` read as contract 2 does),
    /// if any; `Err` when it gives both `level` and `can_impersonate`.
    pub fn level(&self) -> Result<Option<ImpersonationLevel>, super::ScenarioErrorKind> {
        Ok(match self {
            Step::SetHelperToken {
                can_impersonate,
                level,
                ..
            } => match (can_impersonate, level) {
                (Some(_), Some(_)) => return Err(super::ScenarioErrorKind::LevelTwice),
                (Some(true), None) => Some(ImpersonationLevel::Impersonate),
                (Some(false), None) => Some(ImpersonationLevel::Identify),
                (None, level) => *level,
            },
            Step::QueryInterface { level, .. }
            | Step::SetHelperTokenFlags { level, .. }
            | Step::GetHelperTokenFlags { level, .. }
            | Step::ClearHelperToken { level, .. }
            | Step::GetHelperTokenSid { level, .. }
            | Step::TakeOwnership { level, .. }
            | Step::Resume { level, .. }
            | Step::Suspend { level, .. }
            | Step::Cancel { level, .. }
            | Step::Complete { level, .. }
            | Step::AddFile { level, .. }
            | Step::SetCredentials { level, .. }
            | Step::RemoveCredentials { level, .. }
            | Step::SetProxyUsage { level, .. }
            | Step::SetClientCertificate { level, .. }
            | Step::SetJobProperty { level, .. } => *level,
            _ => None,
        })
    }

    /// The step's `"op"` name.
    pub const fn op(&self) -> &'static str {
        match self {
            Step::QueryInterface { .. } => "query_interface",
            Step::SetHelperTokenFlags { .. } => "set_helper_token_flags",
            Step::GetHelperTokenFlags { .. } => "get_helper_token_flags",
            Step::SetHelperToken { .. } => "set_helper_token",
            Step::ClearHelperToken { .. } => "clear_helper_token",
            Step::GetHelperTokenSid { .. } => "get_helper_token_sid",
            Step::LogoffOwner {} => "logoff_owner",
            Step::LogonOwner {} => "logon_owner",
            Step::HelperSessionEnded {} => "helper_session_ended",
            Step::ServiceStop {} => "service_stop",
            Step::Resume { .. } => "resume",
            Step::Suspend { .. } => "suspend",
            Step::Transfer {} => "transfer",
            Step::Cancel { .. } => "cancel",
            Step::Complete { .. } => "complete",
            Step::AddFile { .. } => "add_file",
            Step::TakeOwnership { .. } => "take_ownership",
            Step::Route { .. } => "route",
            Step::SetCredentials { .. } => "set_credentials",
            Step::RemoveCredentials { .. } => "remove_credentials",
            Step::SetProxyUsage { .. } => "set_proxy_usage",
            Step::SetClientCertificate { .. } => "set_client_certificate",
            Step::SetJobProperty { .. } => "set_job_property",
            Step::StartTransfer { .. } => "start_transfer",
            Step::NetworkLost {} => "network_lost",
            Step::NetworkRestored {} => "network_restored",
        }
    }

    /// `resume` by the owner.
    pub const fn resume() -> Step {
        Step::Resume {
            caller: None,
            level: None,
        }
    }

    /// `cancel` by the owner.
    pub const fn cancel() -> Step {
        Step::Cancel {
            caller: None,
            level: None,
        }
    }

    /// `complete` by the owner.
    pub const fn complete() -> Step {
        Step::Complete {
            caller: None,
            level: None,
        }
    }

    /// `suspend` by the owner.
    pub const fn suspend() -> Step {
        Step::Suspend {
            caller: None,
            level: None,
        }
    }

    /// `add_file` by the owner.
    pub const fn add_file() -> Step {
        Step::AddFile {
            caller: None,
            level: None,
        }
    }

    /// `query_interface` by `caller`, defining `handle`, at the default level.
    pub fn query_interface(caller: &str, handle: impl Into<HandleName>) -> Step {
        Step::QueryInterface {
            caller: caller.into(),
            handle: handle.into(),
            level: None,
        }
    }

    /// `take_ownership` by `caller` at the default level.
    pub fn take_ownership(caller: &str) -> Step {
        Step::TakeOwnership {
            caller: caller.into(),
            level: None,
        }
    }
}
