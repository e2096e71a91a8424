//! The decision functions allocate nothing (issue 2): a counting global allocator
//! watches every decision path, on every release profile.

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
        for state in JobState::ALL {
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
    let mut profiles: Vec<Profile> = Release::ALL.into_iter().map(Profile::new).collect();
    for unknown in [UnknownFlags::NotImpl, UnknownFlags::Mask] {
        let mut p = Profile::default();
        p.knobs.unknown_flags = unknown;
        profiles.push(p);
    }
    let mut seen_rules = std::collections::HashSet::new();
    let mut decisions = Vec::with_capacity(100_000);

    let admin_token = id(&admin());
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
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(false));
    assert!(
        decisions.len() < decisions.capacity(),
        "the result vector itself must not grow"
    );
    assert_eq!(after - before, 0, "decision functions allocated");

    // The loop really walked the paths: every rule id a decision can give was produced.
    for d in &decisions {
        seen_rules.insert(d.rule.id());
    }
    let mut ids: Vec<_> = seen_rules.into_iter().collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "A-2", "A-4", "A-5", "A-6", "A-7", "A-9", "Q-1", "Q-2", "Q-3"
        ]
    );
}
