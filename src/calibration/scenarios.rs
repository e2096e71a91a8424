//! The roles, steps and scenarios the conformance runner plays and calibration reads.

use alloc::vec::Vec;
use core::fmt;

use crate::access::Access;
use crate::net::{AuthScheme, AuthTarget, Credential};

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
    /// A download job with one file from the local server, which answers each new
    /// connection with one challenge offering one scheme, and records the account
    /// that answers it. Kerberos is never available against it: it has no service
    /// principal name, so Negotiate falls back to NTLM.
    Challenged {
        /// Who challenges: the server (401), or the proxy (407) — the job then goes
        /// through the local server as its proxy (`BG_JOB_PROXY_USAGE_OVERRIDE`).
        target: AuthTarget,
        /// The one scheme offered: NTLM or Negotiate.
        offers: AuthScheme,
    },
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
    /// `IBackgroundCopyJob2::SetCredentials(target, scheme, NULL, NULL)` as the owner:
    /// implicit credentials allowed for the target (R-3 (i); A-13).
    SetImplicitCredentials {
        /// Server or proxy.
        target: AuthTarget,
        /// NTLM or Negotiate.
        scheme: AuthScheme,
    },
    /// Who answered `target`'s challenge: the account the local server
    /// recorded — its SID, `computer`, `anonymous`, or `none` when nobody answered. The
    /// model answers with the identity its routing presents to the whole challenge now
    /// (`route` of `whole_challenge`); a scenario asks after a transfer that reaches the
    /// challenge or fails at it. Always `S_OK`: the step observes, it calls nothing.
    Presented {
        /// Server or proxy.
        target: AuthTarget,
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
            Step::SetImplicitCredentials { target, scheme } => Oracle::SetCredentials {
                target,
                scheme,
                credential: Credential::Implicit,
                caller: None,
                level: None,
            },
            Step::Presented { target } => Oracle::Route {
                access: Access::WholeChallenge(target),
            },
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
            Step::Cancel
            | Step::TakeOwnership { .. }
            | Step::Resume
            | Step::Transfer
            | Step::SetImplicitCredentials { .. }
            | Step::Presented { .. } => 0,
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
            Step::SetImplicitCredentials { target, scheme } => {
                write!(f, "job.SetCredentials({target}, {scheme}, NULL, NULL)")
            }
            Step::Presented { target } => write!(f, "who answered the {target}"),
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
