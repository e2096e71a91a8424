//! Job vocabulary: states (SPEC T-7), job types and remote protocols.
#![forbid(unsafe_code)]

use crate::names::names;

/// `BG_JOB_STATE` (T-7). A new job is [`Suspended`](JobState::Suspended).
///
/// Serialized as the lower-case name (`"transient_error"`); [`JobState::value`] gives the
/// numeric value Windows uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
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

names! { JobState, "job state";
    Queued => "queued", Connecting => "connecting", Transferring => "transferring",
    Suspended => "suspended", Error => "error", TransientError => "transient_error",
    Transferred => "transferred", Acknowledged => "acknowledged", Cancelled => "cancelled",
}

impl JobState {
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
}

/// `BG_JOB_TYPE` (T-7).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[allow(clippy::exhaustive_enums)] // fixed by BITS (T-7)
pub enum JobType {
    /// `BG_JOB_TYPE_DOWNLOAD` (the default).
    #[default]
    Download,
    /// `BG_JOB_TYPE_UPLOAD`.
    Upload,
    /// `BG_JOB_TYPE_UPLOAD_REPLY`.
    UploadReply,
}

names! { JobType, "job type"; Download => "download", Upload => "upload", UploadReply => "upload_reply" }

/// The protocol of a job's remote files.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
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

names! { Remote, "remote protocol"; Http => "http", Https => "https", Smb => "smb" }

impl Remote {
    /// Whether the job talks HTTP (with or without TLS).
    pub const fn is_http(self) -> bool {
        matches!(self, Remote::Http | Remote::Https)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t7_values_and_done() {
        let values: [u32; 9] = core::array::from_fn(|i| JobState::ALL[i].value());
        assert_eq!(values, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(JobState::default(), JobState::Suspended);
        assert_eq!(JobState::from_value(4), Some(JobState::Error));
        assert_eq!(JobState::from_value(9), None);
        let done: [bool; 9] = core::array::from_fn(|i| JobState::ALL[i].is_done());
        assert_eq!(
            done,
            [false, false, false, false, false, false, false, true, true]
        );
        for &s in JobState::ALL {
            assert_eq!(s.name().parse::<JobState>(), Ok(s));
        }
    }
}
