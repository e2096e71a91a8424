//! The steps and the scenarios the runner plays.

use alloc::vec::Vec;
use core::fmt;

use super::Role;

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
    /// `None` when a role it names is not cast.
    pub(super) fn oracle_step(self, cast: &super::Cast) -> Option<crate::scenario::Step> {
        use crate::scenario::Step as Oracle;
        Some(match self {
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
                can_impersonate: Some(cast.token(helper).ok()?.allows_impersonation()),
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
        })
    }

    pub(super) fn handle(self) -> usize {
        match self {
            Step::QueryInterface { handle, .. }
            | Step::SetFlags { handle, .. }
            | Step::GetFlags { handle }
            | Step::SetToken { handle, .. }
            | Step::Clear { handle }
            | Step::GetSid { handle } => handle,
            Step::Cancel | Step::TakeOwnership { .. } => 0,
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
        owner: Role::Current,
        steps: &[Qi {
            caller: Role::Current,
            handle: 0,
        }],
    },
    Scenario {
        name: "owner-flags-and-token",
        rules: &["A-1", "A-5", "A-8", "L-1", "L-2", "L-3", "L-4"],
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
];
