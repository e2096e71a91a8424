//! The job settings routing reads, set through `IBackgroundCopyJob2::SetCredentials` /
//! `RemoveCredentials`, `SetProxySettings` and `SetClientCertificate…`: each stores what
//! it is given (its rule is the one that reads the setting: ).
#![forbid(unsafe_code)]

use super::{Decision, Operation};
use crate::facts::{Effect, JobFacts};
use crate::hresult::HResult;
use crate::net::{AuthScheme, AuthTarget, Credential, ProxyUsage};
use crate::rule::{Reason, Rule, RuleId};

/// The operations on settings, for [`Decision::operation`].
const fn op() -> Operation {
    Operation::Event(super::Event::Setting)
}

const fn stored(id: RuleId, effect: Effect) -> Decision {
    Decision::new(
        op(),
        HResult::S_OK,
        Rule::new(id, Reason::SettingStored),
        effect,
    )
}

/// `SetCredentials(target, scheme, …)`: an explicit entry or `NULL, NULL`.
/// `NULL` credentials for Basic or Digest are refused with `E_INVALIDARG`, as the method
/// documents.
pub fn set_credentials(
    job: &JobFacts,
    target: AuthTarget,
    scheme: AuthScheme,
    credential: Credential,
) -> Decision {
    let id = match credential {
        Credential::Implicit => RuleId::R3,
        Credential::Explicit => RuleId::R5,
    };
    match job.credentials.set(target, scheme, credential) {
        Ok(creds) => stored(id, Effect::SetCredentials(creds)),
        Err(e) => Decision::new(
            op(),
            e.hresult(),
            Rule::new(id, Reason::SettingStored),
            Effect::Unchanged,
        ),
    }
}

/// `RemoveCredentials(target, scheme)`.
pub fn remove_credentials(job: &JobFacts, target: AuthTarget, scheme: AuthScheme) -> Decision {
    stored(
        RuleId::R5,
        Effect::SetCredentials(job.credentials.remove(target, scheme)),
    )
}

/// `SetProxySettings` (the usage only, R-7).
pub const fn set_proxy_usage(usage: ProxyUsage) -> Decision {
    stored(RuleId::R7, Effect::SetProxy(usage))
}

/// `SetClientCertificateBy…` (`true`) or `RemoveClientCertificate` (`false`), R-4.
pub const fn set_client_certificate(present: bool) -> Decision {
    stored(RuleId::R4, Effect::SetClientCertificate(present))
}
