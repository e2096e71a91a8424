//! The accesses BITS makes for a job (SPEC §4) and the flag that can route each to the
//! helper token: R-1 lists the local files, R-2 the SMB file and the implicit-credential
//! challenges, R-7 proxy discovery.
#![forbid(unsafe_code)]

use crate::names::names;
use crate::net::{AuthScheme, AuthTarget};
use crate::rule::RuleId;
use crate::usage::TokenUsage;

/// One access BITS makes while transferring a job (SPEC §4).
///
/// Each has a stable snake_case [`name`](Access::name) (its serialized form and the
/// oracle's `"access"`): `upload_local_file`, `download_temp_file_create`,
/// `download_temp_file_rename`, `reply_file_create`, `reply_file_rename`,
/// `smb_remote_file`, `proxy_auto_detect`, `proxy_ie_settings`,
/// `proxy_challenge_<scheme>`, `server_challenge_<scheme>` (scheme `basic`, `digest`,
/// `ntlm`, `negotiate`, `passport`), `proxy_challenge`, `server_challenge` (the whole
/// challenge, X-3), `client_certificate_key`, `other`.
///
/// ```
/// use bits_helper_token::{Access, net::AuthScheme, RuleId};
/// let a: Access = "server_challenge_negotiate".parse()?;
/// assert_eq!(a, Access::ServerChallenge(AuthScheme::Negotiate));
/// assert_eq!(Access::ReplyFileRename.name(), "reply_file_rename");
/// assert_eq!(Access::ALL.len(), 22);
/// assert_eq!(Access::UploadLocalFile.rule_id(), RuleId::R1);
/// # Ok::<(), bits_helper_token::error::ParseNameError>(())
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
    /// Answering a target's whole challenge (X-3): the set of schemes it offers, answered
    /// with the strongest answerable one.
    WholeChallenge(AuthTarget),
    /// Reaching the client certificate's private key (R-4).
    ClientCertificateKey,
    /// Anything else BITS does for the job: always as the owner (§4).
    Other,
}

impl Access {
    /// The challenge of this target in this scheme.
    pub const fn challenge(target: AuthTarget, scheme: AuthScheme) -> Access {
        match target {
            AuthTarget::Server => Access::ServerChallenge(scheme),
            AuthTarget::Proxy => Access::ProxyChallenge(scheme),
        }
    }

    /// The target of a challenge, per scheme or whole.
    pub const fn challenge_target(self) -> Option<AuthTarget> {
        match self {
            Access::ServerChallenge(_) | Access::WholeChallenge(AuthTarget::Server) => {
                Some(AuthTarget::Server)
            }
            Access::ProxyChallenge(_) | Access::WholeChallenge(AuthTarget::Proxy) => {
                Some(AuthTarget::Proxy)
            }
            _ => None,
        }
    }

    /// The target and scheme of a per-scheme challenge.
    pub const fn as_challenge(self) -> Option<(AuthTarget, AuthScheme)> {
        match self {
            Access::ServerChallenge(s) => Some((AuthTarget::Server, s)),
            Access::ProxyChallenge(s) => Some((AuthTarget::Proxy, s)),
            _ => None,
        }
    }

    /// The id of the SPEC rule that names this access: `R-1` (local files), `R-2` (SMB and
    /// challenges), `R-7` (proxy discovery), `R-4` (client certificate), `R-0` (the rest).
    #[inline]
    pub const fn rule_id(self) -> RuleId {
        match self {
            Access::UploadLocalFile
            | Access::DownloadTempFileCreate
            | Access::DownloadTempFileRename
            | Access::ReplyFileCreate
            | Access::ReplyFileRename => RuleId::R1,
            Access::SmbRemoteFile | Access::ProxyChallenge(_) | Access::ServerChallenge(_) => {
                RuleId::R2
            }
            Access::ProxyAutoDetect | Access::ProxyIeSettings => RuleId::R7,
            Access::WholeChallenge(_) => RuleId::X3,
            Access::ClientCertificateKey => RuleId::R4,
            Access::Other => RuleId::R0,
        }
    }

    /// The flag that can route this access to the helper token: `LOCAL_FILE` for the
    /// local files (R-1), `NETWORK` for the SMB file, proxy discovery and NTLM/Negotiate
    /// challenges (R-2, R-7); none for the rest (R-4, R-5, §4).
    #[inline]
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
            Access::WholeChallenge(_) | Access::ClientCertificateKey | Access::Other => None,
        }
    }
}

names! { Access, "access";
    UploadLocalFile => "upload_local_file",
    DownloadTempFileCreate => "download_temp_file_create",
    DownloadTempFileRename => "download_temp_file_rename",
    ReplyFileCreate => "reply_file_create",
    ReplyFileRename => "reply_file_rename",
    SmbRemoteFile => "smb_remote_file",
    ProxyAutoDetect => "proxy_auto_detect",
    ProxyIeSettings => "proxy_ie_settings",
    ProxyChallenge(AuthScheme::Basic) => "proxy_challenge_basic",
    ProxyChallenge(AuthScheme::Digest) => "proxy_challenge_digest",
    ProxyChallenge(AuthScheme::Ntlm) => "proxy_challenge_ntlm",
    ProxyChallenge(AuthScheme::Negotiate) => "proxy_challenge_negotiate",
    ProxyChallenge(AuthScheme::Passport) => "proxy_challenge_passport",
    ServerChallenge(AuthScheme::Basic) => "server_challenge_basic",
    ServerChallenge(AuthScheme::Digest) => "server_challenge_digest",
    ServerChallenge(AuthScheme::Ntlm) => "server_challenge_ntlm",
    ServerChallenge(AuthScheme::Negotiate) => "server_challenge_negotiate",
    ServerChallenge(AuthScheme::Passport) => "server_challenge_passport",
    WholeChallenge(AuthTarget::Proxy) => "proxy_challenge",
    WholeChallenge(AuthTarget::Server) => "server_challenge",
    ClientCertificateKey => "client_certificate_key",
    Other => "other",
}
