//! The impersonation level of a Windows token in the model's terms (T-10), and back.

use super::ImpersonationLevel;
use crate::token;

/// The level in T-10's terms: a server's impersonation token for a COM client holds the
/// `SECURITY_IMPERSONATION_LEVEL` of the same name as the `RPC_C_IMP_LEVEL_*` the client
/// set (Anonymous, Identification, Impersonation, Delegation ↔ ANONYMOUS, IDENTIFY,
/// IMPERSONATE, DELEGATE: the same four levels with the same meaning).
impl From<ImpersonationLevel> for token::ImpersonationLevel {
    fn from(level: ImpersonationLevel) -> token::ImpersonationLevel {
        match level {
            ImpersonationLevel::Anonymous => token::ImpersonationLevel::Anonymous,
            ImpersonationLevel::Identification => token::ImpersonationLevel::Identify,
            ImpersonationLevel::Impersonation => token::ImpersonationLevel::Impersonate,
            ImpersonationLevel::Delegation => token::ImpersonationLevel::Delegate,
        }
    }
}

/// The `SECURITY_IMPERSONATION_LEVEL` of the same name (see the converse).
impl From<token::ImpersonationLevel> for ImpersonationLevel {
    fn from(level: token::ImpersonationLevel) -> ImpersonationLevel {
        match level {
            token::ImpersonationLevel::Anonymous => ImpersonationLevel::Anonymous,
            token::ImpersonationLevel::Identify => ImpersonationLevel::Identification,
            token::ImpersonationLevel::Impersonate => ImpersonationLevel::Impersonation,
            token::ImpersonationLevel::Delegate => ImpersonationLevel::Delegation,
        }
    }
}
