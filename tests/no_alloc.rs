//! The decisions, routes and plans allocate nothing: a counting global allocator watches
//! every method and lifecycle decision, every route and every transfer plan.

mod common;
use bits_helper_token::*;
use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set only on the test's own thread while it measures: libtest's other threads
    /// allocate whenever they like, and must not be counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: delegates to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn decisions_allocate_nothing_on_any_path() {
    // Inputs are built (and may allocate) before counting starts.
    let people = [
        id(&alice()),
        id(&bob()),
        id(&admin()),
        id(&filtered_admin()),
        Identity::LOCAL_SYSTEM,
    ];
    let mut jobs = Vec::new();
    for owner in people {
        for &state in JobState::ALL {
            for helper in [None, Some(id(&admin())), Some(id(&bob()))] {
                for cert in [false, true] {
                    jobs.push(
                        JobFacts::new(owner)
                            .with_state(state)
                            .with_helper(helper)
                            .with_client_certificate(cert),
                    );
                }
            }
        }
    }
    let mut profiles: Vec<Profile> = Release::ALL.iter().copied().map(Profile::new).collect();
    for unknown in [UnknownFlags::NotImpl, UnknownFlags::Mask] {
        let mut p = Profile::default();
        p.knobs.unknown_flags = unknown;
        profiles.push(p);
    }
    let mut seen_rules = std::collections::HashSet::new();
    let mut decisions = Vec::with_capacity(200_000);

    let mut routes = Vec::with_capacity(1_000_000);
    let mut plans = Vec::with_capacity(20_000);
    let admin_token = id(&admin());
    let mut every = Challenges::NONE;
    for &t in AuthTarget::ALL {
        for &scheme in AuthScheme::ALL {
            every = every.with(t, scheme);
        }
    }
    let answers = Credentials::NONE
        .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
        .and_then(|c| {
            c.set(
                AuthTarget::Proxy,
                AuthScheme::Negotiate,
                Credential::Implicit,
            )
        })
        .expect("valid credentials");
    let challenged = |job: JobFacts| {
        job.with_challenges(every)
            .with_proxy(ProxyUsage::Override)
            .with_credentials(answers)
    };
    COUNTING.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for p in &profiles {
        for caller in people {
            for job in &jobs {
                for flags in [0, 1, 2, 3, 4, 0xFFFF_FFFF] {
                    decisions.push(set_helper_token_flags(p, caller, job, flags));
                }
                decisions.push(get_helper_token_flags(p, caller, job));
                decisions.push(clear_helper_token(p, caller, job));
                decisions.push(get_helper_token_sid(p, caller, job));
                for imp in [
                    Impersonation::Denied,
                    Impersonation::Allowed(admin_token),
                    Impersonation::Allowed(caller),
                ] {
                    decisions.push(set_helper_token(p, caller, job, imp));
                }
            }
        }
    }
    // The lifecycle decisions (QueryInterface and the events), on jobs with and without
    // flags, and every route and whole transfer plan of those jobs.
    for p in &profiles {
        for caller in people {
            for job in &jobs {
                decisions.push(query_interface(p, caller, job));
            }
        }
        for job in &jobs {
            for flags in [
                TokenUsage::empty(),
                TokenUsage::LOCAL_FILE,
                TokenUsage::all(),
            ] {
                let job = job.with_flags(flags);
                decisions.push(logoff_owner(&job));
                decisions.push(logon_owner(&job));
                decisions.push(helper_session_ended(&job));
                decisions.push(service_stop(&job));
                decisions.push(resume(&job));
                decisions.push(transfer(p, &job));
                decisions.push(cancel(&job));
                decisions.push(complete(&job));
                for caller in [people[0], people[2]] {
                    decisions.push(take_ownership(p, caller, &job));
                }
                // The network as well: every challenge, behind a proxy, with explicit and
                // implicit credentials; and over SMB.
                for job in [job, challenged(job), job.with_remote(Remote::Smb)] {
                    for &access in Access::ALL {
                        routes.push(route(p, &job, access));
                    }
                    plans.push(transfer_plan(p, &job));
                }
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(false));
    assert!(
        decisions.len() < decisions.capacity()
            && routes.len() < routes.capacity()
            && plans.len() < plans.capacity(),
        "the result vectors themselves must not grow"
    );
    assert_eq!(after - before, 0, "decision functions allocated");

    // The loop really walked the paths: every rule id a decision can give was produced.
    for d in &decisions {
        seen_rules.insert(d.rule().id);
        if let Some(failure) = d.transfer_failure() {
            seen_rules.insert(failure.rule.id);
        }
    }
    for plan in &plans {
        if let Some(failure) = plan.outcome().failure() {
            seen_rules.insert(failure.rule.id);
        }
    }
    for r in &routes {
        seen_rules.insert(r.rule.id);
    }
    let mut ids: Vec<_> = seen_rules.into_iter().collect();
    ids.sort();
    use RuleId::*;
    assert_eq!(
        ids,
        [
            T7, A1, A2, A4, A5, A6, A7, A9, A11, L5, L6, L7, L8, L9, L10, R0, R1, R2, R3, R4, R5,
            R6, R7, X1, X3, Q1, Q2, Q3, Q6
        ]
    );
    assert!(plans.iter().any(|p| p.outcome().failure().is_some()));
}
