//! The scenarios the runner plays: each written to reach some rules, and each `Q-` knob's
//! settings told apart by one of them (the README's knob table).

use super::scenarios::{Role, Scenario, Setup, Step};
use crate::net::{AuthScheme, AuthTarget};

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
    // Who answers a challenge: the local server challenges once per
    // connection and records the account that answered; `Presented` reads it.
    Scenario {
        name: "server-challenge-without-credentials",
        rules: &["R-3", "X-3"],
        setup: SERVER_NTLM,
        owner: Role::Current,
        steps: &[Step::Resume, Step::Transfer, WHO_SERVER],
    },
    Scenario {
        name: "server-challenge-implicit-owner",
        rules: &["R-0", "R-2", "R-3", "X-3"],
        setup: SERVER_NTLM,
        owner: Role::Current,
        steps: &[
            Step::SetImplicitCredentials {
                target: AuthTarget::Server,
                scheme: AuthScheme::Ntlm,
            },
            Step::Resume,
            Step::Transfer,
            WHO_SERVER,
        ],
    },
    Scenario {
        name: "negotiate-entry-answers-ntlm",
        rules: &["R-3", "X-3"],
        setup: SERVER_NTLM,
        owner: Role::Current,
        steps: &[
            Step::SetImplicitCredentials {
                target: AuthTarget::Server,
                scheme: AuthScheme::Negotiate,
            },
            Step::Resume,
            Step::Transfer,
            WHO_SERVER,
        ],
    },
    Scenario {
        name: "ntlm-entry-answers-negotiate",
        rules: &["R-3", "X-3"],
        setup: Setup::Challenged {
            target: AuthTarget::Server,
            offers: AuthScheme::Negotiate,
        },
        owner: Role::Current,
        steps: &[
            Step::SetImplicitCredentials {
                target: AuthTarget::Server,
                scheme: AuthScheme::Ntlm,
            },
            Step::Resume,
            Step::Transfer,
            WHO_SERVER,
        ],
    },
    Scenario {
        name: "network-helper-answers-the-server",
        rules: &["R-2", "X-3"],
        setup: SERVER_NTLM,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            // NETWORK alone: the temporary file stays the owner's.
            SetFlags {
                handle: 0,
                flags: 0x2,
            },
            SetToken {
                handle: 0,
                helper: Role::Other,
            },
            Step::SetImplicitCredentials {
                target: AuthTarget::Server,
                scheme: AuthScheme::Ntlm,
            },
            Step::Resume,
            Step::Transfer,
            WHO_SERVER,
        ],
    },
    Scenario {
        name: "network-flag-without-a-helper-at-a-challenge",
        rules: &["R-2", "L-6", "X-3", "Q-8"],
        setup: SERVER_NTLM,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x2,
            },
            Step::SetImplicitCredentials {
                target: AuthTarget::Server,
                scheme: AuthScheme::Ntlm,
            },
            Step::Resume,
            Step::Transfer,
            WHO_SERVER,
        ],
    },
    Scenario {
        name: "proxy-challenge-without-credentials",
        rules: &["R-3", "X-3"],
        setup: PROXY_NTLM,
        owner: Role::Current,
        steps: &[Step::Resume, Step::Transfer, WHO_PROXY],
    },
    Scenario {
        name: "network-helper-answers-the-proxy",
        rules: &["R-2", "R-3", "X-3"],
        setup: PROXY_NTLM,
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x2,
            },
            SetToken {
                handle: 0,
                helper: Role::Other,
            },
            Step::SetImplicitCredentials {
                target: AuthTarget::Proxy,
                scheme: AuthScheme::Ntlm,
            },
            Step::Resume,
            Step::Transfer,
            WHO_PROXY,
        ],
    },
    Scenario {
        name: "system-job-answers-a-server",
        rules: &["R-6", "X-3"],
        setup: SERVER_NTLM,
        owner: Role::System,
        steps: &[
            Step::SetImplicitCredentials {
                target: AuthTarget::Server,
                scheme: AuthScheme::Negotiate,
            },
            Step::Resume,
            Step::Transfer,
            WHO_SERVER,
        ],
    },
];

/// The local server challenging with NTLM.
const SERVER_NTLM: Setup = Setup::Challenged {
    target: AuthTarget::Server,
    offers: AuthScheme::Ntlm,
};

/// The local server as the job's proxy, challenging with NTLM.
const PROXY_NTLM: Setup = Setup::Challenged {
    target: AuthTarget::Proxy,
    offers: AuthScheme::Ntlm,
};

const WHO_SERVER: Step = Step::Presented {
    target: AuthTarget::Server,
};

const WHO_PROXY: Step = Step::Presented {
    target: AuthTarget::Proxy,
};
