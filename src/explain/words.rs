//! The words the sentences share: accounts, flags, the accesses as verb phrases.
#![forbid(unsafe_code)]

use crate::access::Access;
use crate::decide::route::ImplicitAllowed;
use crate::decide::{Event, Operation};
use crate::facts::JobFacts;
use crate::sid::Sid;
use crate::usage::TokenUsage;
use core::fmt;

/// A SID, or a dash where the inputs did not give it.
pub(super) struct MaybeSid(pub(super) Option<Sid>);

impl fmt::Display for MaybeSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(sid) => Account(sid).fmt(f),
            None => f.write_str("(unknown)"),
        }
    }
}

/// What ended the helper token's session, in words.
pub(super) struct Ended(pub(super) Operation);

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Operation::Event(Event::HelperSessionEnded) => "the helper token's session ended",
            Operation::Event(Event::ServiceStop) => "the BITS service stopped",
            _ => "the owner logged off",
        })
    }
}

/// Why R-3 allowed implicit credentials, in words.
pub(super) struct Allowed<'a>(pub(super) Option<ImplicitAllowed>, pub(super) &'a JobFacts);

/// A SID, with the name of a well-known account: `S-1-5-20 (NetworkService)`.
pub(super) struct Account(pub(super) Sid);

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.service_account_name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => self.0.fmt(f),
        }
    }
}

/// Usage flags as `bits4_0.h` names them: `BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK`.
pub(super) struct Flags(pub(super) TokenUsage);

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (name, flag) in [
            ("BG_TOKEN_LOCAL_FILE", TokenUsage::LOCAL_FILE),
            ("BG_TOKEN_NETWORK", TokenUsage::NETWORK),
        ] {
            if self.0.contains(flag) {
                write!(f, "{sep}{name}")?;
                sep = " | ";
            }
        }
        if self.0.has_unknown_bits() {
            write!(f, "{sep}0x{:X}", self.0.unknown_bits())?;
        } else if sep.is_empty() {
            f.write_str("0")?;
        }
        Ok(())
    }
}

impl fmt::Display for Allowed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ImplicitAllowed::StoredCredentials) => {
                f.write_str("USE_STORED_CREDENTIALS is set for the proxy")
            }
            Some(ImplicitAllowed::SetCredentials) => {
                f.write_str("SetCredentials(NULL, NULL) was called for this target")
            }
            Some(ImplicitAllowed::ProxyCredentials) => f.write_str(
                "implicit proxy credentials also serve the server, which has no explicit credentials",
            ),
            Some(ImplicitAllowed::UseLmCompatAlways) => f.write_str("UseLMCompat is 0"),
            Some(ImplicitAllowed::LmCompatibilityLevel) => write!(
                f,
                "UseLMCompat is 1 and LMCompatibilityLevel is {}",
                self.1.environment.lm_compatibility_level
            ),
            None => f.write_str("nothing"),
        }
    }
}

/// What BITS does when it makes the access, as a verb phrase ("opens the upload's local
/// file").
pub(super) struct Doing(pub(super) Access);

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
            Access::WholeChallenge(t) => write!(f, "answers the {t}'s challenge"),
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

/// The verb phrase of [`Doing`] in the bare infinitive, after "never".
pub(super) struct NeverDoes(pub(super) Access);

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
            Access::WholeChallenge(t) => write!(f, "answers a {t}'s challenge"),
            Access::ServerChallenge(s) => write!(f, "answers a server's {} challenge", s.label()),
            Access::ClientCertificateKey => {
                f.write_str("reaches the client certificate's private key")
            }
            Access::Other => f.write_str("makes other accesses"),
        }
    }
}

/// The schemes a target's challenge offers, strongest first: `Negotiate, Basic`.
pub(super) struct Offered(
    pub(super) crate::challenge::Challenges,
    pub(super) crate::net::AuthTarget,
);

impl fmt::Display for Offered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for scheme in crate::decide::route::X3_PREFERENCE {
            if self.0.asks(self.1, scheme) {
                write!(f, "{sep}{}", scheme.label())?;
                sep = ", ";
            }
        }
        Ok(())
    }
}
