//! Job vocabulary: states (SPEC T-7), job types and remote protocols.
#![forbid(unsafe_code)]

use core::fmt;
use core::str::FromStr;

/// `BG_JOB_STATE` (T-7). A new job is [`Suspended`](JobState::Suspended).
///
/// Serialized as the lower-case name (`"transient_error"`); [`JobState::value`] gives the
/// numeric value Windows uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // fixed by BITS (T-7)
pub enum JobState {
    /// `BG_JOB_STATE_QUEUED` (0).
    Queued,
    /// `BG_JOB_STATE_CONNECTING` (1).
    Connecting,
    /// `BG_JOB_STATE_TRANSFERRING` (2).
    Transferring,
    /// `BG_JOB_STATE_SUSPENDED` (3): the state of a new job.
    #[default]
    Suspended,
    /// `BG_JOB_STATE_ERROR` (4).
    Error,
    /// `BG_JOB_STATE_TRANSIENT_ERROR` (5).
    TransientError,
    /// `BG_JOB_STATE_TRANSFERRED` (6).
    Transferred,
    /// `BG_JOB_STATE_ACKNOWLEDGED` (7): done.
    Acknowledged,
    /// `BG_JOB_STATE_CANCELLED` (8): done.
    Cancelled,
}

impl JobState {
    /// Every state, in numeric order.
    pub const ALL: [JobState; 9] = [
        JobState::Queued,
        JobState::Connecting,
        JobState::Transferring,
        JobState::Suspended,
        JobState::Error,
        JobState::TransientError,
        JobState::Transferred,
        JobState::Acknowledged,
        JobState::Cancelled,
    ];

    /// The `BG_JOB_STATE` value (T-7).
    pub const fn value(self) -> u32 {
        self as u32
    }

    /// The state with this `BG_JOB_STATE` value.
    pub const fn from_value(value: u32) -> Option<JobState> {
        if (value as usize) < JobState::ALL.len() {
            Some(JobState::ALL[value as usize])
        } else {
            None
        }
    }

    /// Done: ACKNOWLEDGED or CANCELLED (T-7, Q-3).
    pub const fn is_done(self) -> bool {
        matches!(self, JobState::Acknowledged | JobState::Cancelled)
    }

    /// Finished for L-5: TRANSFERRED, ACKNOWLEDGED or CANCELLED.
    pub const fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Transferred | JobState::Acknowledged | JobState::Cancelled
        )
    }

    /// The lower-case name used in serialized forms (`"transient_error"`).
    pub const fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Connecting => "connecting",
            JobState::Transferring => "transferring",
            JobState::Suspended => "suspended",
            JobState::Error => "error",
            JobState::TransientError => "transient_error",
            JobState::Transferred => "transferred",
            JobState::Acknowledged => "acknowledged",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`JobState`], [`JobType`] or [`Remote`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} name")]
#[non_exhaustive]
pub struct ParseNameError {
    /// Which vocabulary was expected (`"job state"`, …).
    pub what: &'static str,
}

impl FromStr for JobState {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<JobState, ParseNameError> {
        JobState::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or(ParseNameError { what: "job state" })
    }
}

/// `BG_JOB_TYPE` (T-7).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // fixed by BITS (T-7)
pub enum JobType {
    /// A download job (the default).
    #[default]
    Download,
    /// An upload job.
    Upload,
    /// An upload-reply job.
    UploadReply,
}

impl JobType {
    /// Every job type.
    pub const ALL: [JobType; 3] = [JobType::Download, JobType::Upload, JobType::UploadReply];

    /// The lower-case name (`"upload_reply"`).
    pub const fn name(self) -> &'static str {
        match self {
            JobType::Download => "download",
            JobType::Upload => "upload",
            JobType::UploadReply => "upload_reply",
        }
    }
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for JobType {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<JobType, ParseNameError> {
        JobType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or(ParseNameError { what: "job type" })
    }
}

/// The protocol of a job's remote files.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Remote {
    /// `http://`.
    Http,
    /// `https://` (the default).
    #[default]
    Https,
    /// A UNC path, `\\server\share\…` (SMB).
    Smb,
}

impl Remote {
    /// Every protocol.
    pub const ALL: [Remote; 3] = [Remote::Http, Remote::Https, Remote::Smb];

    /// Whether the job talks HTTP (with or without TLS).
    pub const fn is_http(self) -> bool {
        matches!(self, Remote::Http | Remote::Https)
    }

    /// The lower-case name (`"https"`).
    pub const fn name(self) -> &'static str {
        match self {
            Remote::Http => "http",
            Remote::Https => "https",
            Remote::Smb => "smb",
        }
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Remote {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Remote, ParseNameError> {
        Remote::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or(ParseNameError {
                what: "remote protocol",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t7_values_and_done() {
        let values: [u32; 9] = JobState::ALL.map(JobState::value);
        assert_eq!(values, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(JobState::default(), JobState::Suspended);
        assert_eq!(JobState::from_value(4), Some(JobState::Error));
        assert_eq!(JobState::from_value(9), None);
        let done: [bool; 9] = JobState::ALL.map(JobState::is_done);
        assert_eq!(
            done,
            [false, false, false, false, false, false, false, true, true]
        );
        for s in JobState::ALL {
            assert_eq!(s.name().parse::<JobState>(), Ok(s));
        }
    }
}
