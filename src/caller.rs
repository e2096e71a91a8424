//! What a call brings besides its token: the client proxy's impersonation level (T-10)
//! and the kind of logon the token comes from (L-11).
#![forbid(unsafe_code)]

use crate::names::names;

/// The impersonation level a COM client sets on its proxy (T-10, `RPC_C_IMP_LEVEL_*`).
/// BITS refuses every call at [`Anonymous`](ImpersonationLevel::Anonymous);
/// `SetHelperToken` needs [`Impersonate`](ImpersonationLevel::Impersonate) or more (A-9).
///
/// ```
/// use bits_helper_token::token::ImpersonationLevel;
/// assert_eq!(ImpersonationLevel::default(), ImpersonationLevel::Impersonate);
/// assert!(ImpersonationLevel::Identify < ImpersonationLevel::Impersonate);
/// assert_eq!(ImpersonationLevel::Delegate.value(), 4);
/// assert_eq!("identify".parse(), Ok(ImpersonationLevel::Identify));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[allow(clippy::exhaustive_enums)] // the four levels RPC defines
pub enum ImpersonationLevel {
    /// `RPC_C_IMP_LEVEL_ANONYMOUS` (1): the server cannot learn who calls.
    Anonymous,
    /// `RPC_C_IMP_LEVEL_IDENTIFY` (2), COM's default: the server may check the caller but
    /// not act as it.
    Identify,
    /// `RPC_C_IMP_LEVEL_IMPERSONATE` (3): the model's default, as Microsoft's samples set.
    #[default]
    Impersonate,
    /// `RPC_C_IMP_LEVEL_DELEGATE` (4).
    Delegate,
}

names! { ImpersonationLevel, "impersonation level";
    Anonymous => "anonymous", Identify => "identify", Impersonate => "impersonate",
    Delegate => "delegate",
}

impl ImpersonationLevel {
    /// The `RPC_C_IMP_LEVEL_*` value.
    pub const fn value(self) -> u32 {
        match self {
            ImpersonationLevel::Anonymous => 1,
            ImpersonationLevel::Identify => 2,
            ImpersonationLevel::Impersonate => 3,
            ImpersonationLevel::Delegate => 4,
        }
    }

    /// The level of an `RPC_C_IMP_LEVEL_*` value (`None` for `DEFAULT` (0) and unknown
    /// values).
    pub const fn from_value(value: u32) -> Option<ImpersonationLevel> {
        Some(match value {
            1 => ImpersonationLevel::Anonymous,
            2 => ImpersonationLevel::Identify,
            3 => ImpersonationLevel::Impersonate,
            4 => ImpersonationLevel::Delegate,
            _ => return None,
        })
    }

    /// Whether the server may act as the client (`Impersonate` or `Delegate`).
    pub const fn can_impersonate(self) -> bool {
        matches!(
            self,
            ImpersonationLevel::Impersonate | ImpersonationLevel::Delegate
        )
    }
}

/// The kind of logon a token comes from (L-11): whether its user counts as *logged on*
/// for BITS is [`crate::decide::lifecycle::counts_as_logged_on`]'s question.
///
/// ```
/// use bits_helper_token::token::LogonType;
/// assert_eq!("secondary".parse(), Ok(LogonType::Secondary));
/// assert_eq!(LogonType::RemotePowershell.name(), "remote_powershell");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum LogonType {
    /// An interactive logon: the Welcome screen, Remote Desktop, fast user switching.
    Interactive,
    /// A Remote PowerShell session (counts from 1607; not PowerShell Direct or the WinRM
    /// cmdlets).
    RemotePowershell,
    /// "Run as" and other secondary logons.
    Secondary,
    /// A batch logon: a scheduled task that runs whether or not the user is logged on, an
    /// agent's job.
    Batch,
    /// Another network logon (SSH, …).
    Network,
    /// A service logon (counts only for the service accounts).
    Service,
}

names! { LogonType, "logon type";
    Interactive => "interactive", RemotePowershell => "remote_powershell",
    Secondary => "secondary", Batch => "batch", Network => "network", Service => "service",
}
