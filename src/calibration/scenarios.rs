//! The roles, steps and scenarios the conformance runner plays and calibration reads.

use alloc::vec::Vec;
use core::fmt;

/// A part a scenario casts onto a token: on Windows a real token the runner makes
/// (`windows::conformance::Cast`), elsewhere a plain token ([`ModelCast`](super::ModelCast)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Role {
    /// The runner's own token (the process token): on hosted runners an elevated
    /// administrator.
    Current,
    /// The same user with Administrators deny-only: not an administrator (T-5).
    Filtered,
    /// The filtered user at Low integrity (T-8; A-11).
    Low,
    /// The runner's token at identification level: readable, not usable.
    Identify,
    /// A second local account, a standard user (A-5: another user's job).
    Other,
    /// LocalSystem, when the runner itself runs as SYSTEM.
    System,
}

impl Role {
    /// Every role, in table order.
    pub const ALL: &'static [Role] = &[
        Role::Current,
        Role::Filtered,
        Role::Low,
        Role::Identify,
        Role::Other,
        Role::System,
    ];

    /// The role's name in tables and reports, and its token's name in the oracle
    /// scenario.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Current => "current",
            Role::Filtered => "filtered",
            Role::Low => "low",
            Role::Identify => "identify",
            Role::Other => "other",
            Role::System => "system",
        }
    }

    /// The role's place in [`Role::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The job a scenario starts from: what the runner sets up before the first step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Setup {
    /// A download job with no file: all the interface's own rules need.
    #[default]
    Empty,
    /// A download job with one file from a local HTTP server that asks for no
    /// authentication, connecting directly (`BG_JOB_PROXY_USAGE_NO_PROXY`).
    HttpDownload,
}

impl Setup {
    /// Whether the job transfers, so that the provider must serve a file.
    pub const fn transfers(self) -> bool {
        !matches!(self, Setup::Empty)
    }
}

/// One step of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// `QueryInterface(IID_IBitsTokenOptions)` while impersonating `caller`, kept as `handle`.
    QueryInterface {
        /// Who asks.
        caller: Role,
        /// Where the interface is kept.
        handle: usize,
    },
    /// `SetHelperTokenFlags(flags)` on `handle`.
    SetFlags {
        /// The handle.
        handle: usize,
        /// The flags, unknown bits included.
        flags: u32,
    },
    /// `GetHelperTokenFlags` on `handle`.
    GetFlags {
        /// The handle.
        handle: usize,
    },
    /// `SetHelperToken` on `handle` while impersonating `helper`.
    SetToken {
        /// The handle.
        handle: usize,
        /// Whose token is set.
        helper: Role,
    },
    /// `ClearHelperToken` on `handle`.
    Clear {
        /// The handle.
        handle: usize,
    },
    /// `GetHelperTokenSid` on `handle`.
    GetSid {
        /// The handle.
        handle: usize,
    },
    /// `IBackgroundCopyJob::Cancel` by the runner (T-7; Q-3 for the calls after it).
    Cancel,
    /// `IBackgroundCopyJob::TakeOwnership` while impersonating `by` (L-7; Q-6 for the
    /// helper token).
    TakeOwnership {
        /// Who takes the job.
        by: Role,
    },
    /// `IBackgroundCopyJob::Resume` by the runner (L-9).
    Resume,
    /// Wait until the transfer the last `Resume` queued ends: the answer is the job's
    /// error (`S_OK` when none) and its state (X-5; Q-8).
    Transfer,
}

impl Step {
    fn roles(self) -> Option<Role> {
        match self {
            Step::QueryInterface { caller, .. } => Some(caller),
            Step::SetToken { helper, .. } => Some(helper),
            Step::TakeOwnership { by } => Some(by),
            _ => None,
        }
    }

    /// The step as the oracle writes it: roles are token names, handles numbers; a
    /// token that cannot impersonate (identification level) sets no token.
    pub fn oracle_step(self, cast: &dyn super::Casting) -> crate::scenario::Step {
        use crate::scenario::Step as Oracle;
        match self {
            Step::QueryInterface { caller, handle } => {
                Oracle::query_interface(caller.name(), handle as u64)
            }
            Step::SetFlags { handle, flags } => Oracle::SetHelperTokenFlags {
                handle: (handle as u64).into(),
                flags,
                level: None,
            },
            Step::GetFlags { handle } => Oracle::GetHelperTokenFlags {
                handle: (handle as u64).into(),
                level: None,
            },
            Step::SetToken { handle, helper } => Oracle::SetHelperToken {
                handle: (handle as u64).into(),
                impersonating: helper.name().into(),
                can_impersonate: Some(cast.can_impersonate(helper)),
                level: None,
            },
            Step::Clear { handle } => Oracle::ClearHelperToken {
                handle: (handle as u64).into(),
                level: None,
            },
            Step::GetSid { handle } => Oracle::GetHelperTokenSid {
                handle: (handle as u64).into(),
                level: None,
            },
            Step::Cancel => Oracle::cancel(),
            Step::TakeOwnership { by } => Oracle::take_ownership(by.name()),
            Step::Resume => Oracle::Resume {
                caller: None,
                level: None,
            },
            Step::Transfer => Oracle::Transfer {},
        }
    }

    /// The handle the step goes through (0 for the job's own methods).
    pub fn handle(self) -> usize {
        match self {
            Step::QueryInterface { handle, .. }
            | Step::SetFlags { handle, .. }
            | Step::GetFlags { handle }
            | Step::SetToken { handle, .. }
            | Step::Clear { handle }
            | Step::GetSid { handle } => handle,
            Step::Cancel | Step::TakeOwnership { .. } | Step::Resume | Step::Transfer => 0,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Step::QueryInterface { caller, handle } => {
                write!(f, "QueryInterface as {caller} -> h{handle}")
            }
            Step::SetFlags { handle, flags } => {
                write!(f, "h{handle}.SetHelperTokenFlags({flags:#x})")
            }
            Step::GetFlags { handle } => write!(f, "h{handle}.GetHelperTokenFlags"),
            Step::SetToken { handle, helper } => {
                write!(f, "h{handle}.SetHelperToken as {helper}")
            }
            Step::Clear { handle } => write!(f, "h{handle}.ClearHelperToken"),
            Step::GetSid { handle } => write!(f, "h{handle}.GetHelperTokenSid"),
            Step::Cancel => f.write_str("job.Cancel"),
            Step::TakeOwnership { by } => write!(f, "job.TakeOwnership as {by}"),
            Step::Resume => f.write_str("job.Resume"),
            Step::Transfer => f.write_str("wait for the transfer"),
        }
    }
}

/// A scenario: the job's owner, the steps, and the rules it reaches.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::exhaustive_structs)] // users write their own scenarios
pub struct Scenario {
    /// Its name in tables and reports.
    pub name: &'static str,
    /// The SPEC rules it is written to reach (for the reader; the model names the rule of
    /// every answer).
    pub rules: &'static [&'static str],
    /// Who creates the job.
    pub owner: Role,
    /// The job the runner sets up before the first step.
    pub setup: Setup,
    /// The calls, in order.
    pub steps: &'static [Step],
}

impl Scenario {
    /// Every role the scenario casts.
    pub fn roles(&self) -> Vec<Role> {
        let mut roles = Vec::from([self.owner]);
        for r in self.steps.iter().filter_map(|s| s.roles()) {
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        roles
    }
}

use Step::{
    Cancel, Clear, GetFlags, GetSid, QueryInterface as Qi, SetFlags, SetToken,
    TakeOwnership as Take,
};

/// The scenarios: every rule of SPEC §2 and §3 a set of roles can reach through the
/// interface (the lifecycle events of §3 that need a logoff or a transfer are not in reach
/// of a provider's interface, and are left to the pure tests).
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "interface-available",
        rules: &["A-2", "A-3"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[Qi {
            caller: Role::Current,
            handle: 0,
        }],
    },
    Scenario {
        name: "owner-flags-and-token",
        rules: &["A-1", "A-5", "A-8", "L-1", "L-2", "L-3", "L-4"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            GetFlags { handle: 0 },
            GetSid { handle: 0 },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            GetSid { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x3,
            },
            GetFlags { handle: 0 },
            Clear { handle: 0 },
            GetSid { handle: 0 },
            GetFlags { handle: 0 },
        ],
    },
    Scenario {
        name: "unknown-flag-bits",
        rules: &["T-1", "Q-1"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x4,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x8000_0001,
            },
            GetFlags { handle: 0 },
        ],
    },
    Scenario {
        name: "cancelled-job",
        rules: &["T-7", "Q-3"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            Cancel,
            SetFlags {
                handle: 0,
                flags: 0x0,
            },
            GetFlags { handle: 0 },
            SetToken {
                handle: 0,
                helper: Role::Current,
            },
            Clear { handle: 0 },
            GetSid { handle: 0 },
        ],
    },
    Scenario {
        name: "take-ownership",
        rules: &["L-7", "Q-6", "A-11"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            Take { by: Role::Filtered },
            GetSid { handle: 0 },
            Take { by: Role::Current },
            GetSid { handle: 0 },
            GetFlags { handle: 0 },
        ],
    },
    Scenario {
        name: "take-another-users-job",
        rules: &["L-7", "A-5", "Q-6"],
        setup: Setup::Empty,
        owner: Role::Other,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            Take { by: Role::Current },
            Qi {
                caller: Role::Current,
                handle: 1,
            },
            GetFlags { handle: 1 },
            GetSid { handle: 1 },
        ],
    },
    Scenario {
        name: "non-admin-owner-vetoes",
        rules: &["A-5", "A-6", "A-7"],
        setup: Setup::Empty,
        owner: Role::Filtered,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            Qi {
                caller: Role::Current,
                handle: 1,
            },
            SetToken {
                handle: 0,
                helper: Role::Current,
            },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            SetToken {
                handle: 1,
                helper: Role::Current,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            GetSid { handle: 0 },
            Clear { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
        ],
    },
    Scenario {
        name: "identity-taken-at-query-interface",
        rules: &["A-1", "A-7"],
        setup: Setup::Empty,
        owner: Role::Filtered,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            // Impersonating the administrator now changes nothing: the handle remembers.
            SetToken {
                handle: 0,
                helper: Role::Current,
            },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            SetFlags {
                handle: 0,
                flags: 0x2,
            },
        ],
    },
    Scenario {
        name: "identification-level-client",
        rules: &["A-9", "A-10"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetToken {
                handle: 0,
                helper: Role::Identify,
            },
            GetSid { handle: 0 },
        ],
    },
    Scenario {
        name: "low-integrity-caller",
        rules: &["A-11", "Q-9"],
        setup: Setup::Empty,
        owner: Role::Filtered,
        steps: &[
            Qi {
                caller: Role::Low,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            SetToken {
                handle: 0,
                helper: Role::Low,
            },
        ],
    },
    Scenario {
        name: "elevated-job-filtered-caller",
        rules: &["A-11", "Q-9"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
        ],
    },
    Scenario {
        name: "another-users-job",
        rules: &["A-4", "A-5", "A-8", "Q-2"],
        setup: Setup::Empty,
        owner: Role::Other,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            GetSid { handle: 0 },
            Qi {
                caller: Role::Current,
                handle: 1,
            },
            SetFlags {
                handle: 1,
                flags: 0x1,
            },
            GetFlags { handle: 1 },
        ],
    },
    Scenario {
        name: "system-job",
        rules: &["A-11", "A-5"],
        setup: Setup::Empty,
        owner: Role::System,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
        ],
    },
    Scenario {
        name: "helper-flags-without-a-token",
        rules: &["L-6", "L-14", "X-5", "Q-8"],
        setup: Setup::HttpDownload,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            // NETWORK alone: no access of a plain download routes to the helper.
            SetFlags {
                handle: 0,
                flags: 0x2,
            },
            Step::Resume,
            Step::Transfer,
        ],
    },
    Scenario {
        name: "legacy-admin-sets-token-on-users-job",
        rules: &["A-4", "Q-7"],
        setup: Setup::Empty,
        owner: Role::Filtered,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetToken {
                handle: 0,
                helper: Role::Current,
            },
            GetSid { handle: 0 },
        ],
    },
    Scenario {
        name: "legacy-user-sets-token-on-admins-job",
        rules: &["A-4", "Q-7", "Q-9"],
        setup: Setup::Empty,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            GetSid { handle: 0 },
        ],
    },
];
