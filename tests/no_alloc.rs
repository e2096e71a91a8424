//! The decisions, routes and plans allocate nothing: a counting global allocator watches
//! every method and lifecycle decision, every route and every transfer plan.

mod common;
use bits_helper_token::{decide::*, job::*, net::*, profile::*, token::*, *};
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

/// Every profile that differs from the default in one knob, and every release.
fn one_knob_profiles() -> Vec<Profile> {
    let mut out: Vec<Profile> = Release::ALL.iter().copied().map(Profile::new).collect();
    let with = |f: &dyn Fn(&mut Knobs)| {
        let mut p = Profile::default();
        f(&mut p.knobs);
        p
    };
    for &v in UnknownFlags::ALL {
        out.push(with(&|k| k.unknown_flags = v));
    }
    for &v in AdminBypass::ALL {
        out.push(with(&|k| k.admin_bypass = v));
    }
    for &v in DoneJobs::ALL {
        out.push(with(&|k| k.done_jobs = v));
    }
    for &v in TakeOwnership::ALL {
        out.push(with(&|k| k.take_ownership = v));
    }
    for &v in LegacySetToken::ALL {
        out.push(with(&|k| k.legacy_set_token = v));
    }
    for &v in TokenCheck::ALL {
        out.push(with(&|k| k.token_check = v));
    }
    for &v in AccessCheck::ALL {
        out.push(with(&|k| k.access_check = v));
    }
    out.push(with(&|k| {
        k.denial = FailureCode::new(HResult::E_FAIL).expect("a failure")
    }));
    // The legacy release under the other legacy knob too (Q-7 binds only there).
    let mut legacy = Profile::new(Release::Legacy);
    legacy.knobs.legacy_set_token = *LegacySetToken::ALL.last().unwrap();
    out.push(legacy);
    out
}

/// Every pure decision entry point — the five methods, QueryInterface and every
/// lifecycle event, the settings, routes, plans and their helpers — and the stateful `Job`
/// and `TokenOptions` paths allocate nothing, over every knob (Q-8 and Q-9 included),
/// callers and owners at every integrity level and elevation, and every network
/// setting. Nothing is stored while counting: each answer feeds a fixed-size tally of rule
/// ids, so the count of cases can be large.
#[test]
fn every_decision_entry_point_allocates_nothing_across_knobs_integrity_and_settings() {
    let low = |t: TokenInfo| id(&t.with_integrity(IntegrityLevel::Low));
    let people = [
        id(&alice()),
        id(&alice()).with_restricted(true),
        low(alice()),
        id(&bob()),
        id(&admin()),
        id(&filtered_admin()),
        Identity::LOCAL_SYSTEM,
        Identity::NETWORK_SERVICE,
        id(&alice()).with_integrity(IntegrityLevel::Untrusted),
    ];
    let owners = [
        id(&alice()),
        id(&admin()),
        id(&filtered_admin()),
        Identity::NETWORK_SERVICE,
        id(&alice()).with_integrity(IntegrityLevel::High),
    ];
    let mut every = Challenges::NONE;
    for &t in AuthTarget::ALL {
        for &scheme in AuthScheme::ALL {
            every = every.with(t, scheme);
        }
    }
    let credentials = Credentials::NONE
        .set(AuthTarget::Server, AuthScheme::Ntlm, Credential::Implicit)
        .and_then(|c| c.set(AuthTarget::Proxy, AuthScheme::Basic, Credential::Explicit))
        .expect("valid credentials");
    let challenged = |job: JobFacts| {
        job.with_challenges(every)
            .with_proxy(ProxyUsage::Override)
            .with_credentials(credentials)
    };
    let mut jobs = Vec::new();
    for owner in owners {
        for &state in JobState::ALL {
            for helper in [None, Some(id(&bob())), Some(id(&admin()))] {
                for flags in [
                    TokenUsage::empty(),
                    TokenUsage::LOCAL_FILE,
                    TokenUsage::all(),
                ] {
                    let job = JobFacts::new(owner)
                        .with_state(state)
                        .with_helper(helper)
                        .with_flags(flags);
                    // And the network: every challenge behind a proxy with credentials
                    // SMB, and a client certificate.
                    jobs.extend([
                        job,
                        challenged(job),
                        job.with_remote(Remote::Smb),
                        job.with_client_certificate(true),
                        // L-11…L-15, X-4, R-3 (iv): no file, logged off, offline, a server
                        // asking for a certificate, stored credentials.
                        job.with_file(false).with_owner_logged_on(false),
                        job.with_environment(
                            job.environment.with_network(NetworkState::Disconnected),
                        ),
                        challenged(job)
                            .with_server_requests_certificate(true)
                            .with_use_stored_credentials(true),
                    ]);
                }
            }
        }
    }
    let profiles = one_knob_profiles();
    let schemes: Vec<(AuthTarget, AuthScheme)> = AuthTarget::ALL
        .iter()
        .flat_map(|&t| AuthScheme::ALL.iter().map(move |&s| (t, s)))
        .collect();
    let mut seen = [0u64; 64];
    let mut tally = |rule: RuleId| {
        let i = RuleId::ALL.iter().position(|&r| r == rule).unwrap_or(63);
        seen[i] += 1;
    };
    let mut cases = 0u64;

    COUNTING.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for p in &profiles {
        for job in &jobs {
            for caller in people {
                for flags in [0, 2, 4] {
                    tally(set_helper_token_flags(p, caller, job, flags).rule().id);
                }
                tally(get_helper_token_flags(p, caller, job).rule().id);
                tally(clear_helper_token(p, caller, job).rule().id);
                tally(get_helper_token_sid(p, caller, job).rule().id);
                for imp in [Impersonation::Denied, Impersonation::Allowed(people[4])] {
                    tally(set_helper_token(p, caller, job, imp).rule().id);
                }
                tally(query_interface(p, caller, job).rule().id);
                tally(take_ownership(p, caller, job).rule().id);
                cases += 10;
                // The job methods, judged at call time, at every
                // level, logged on or not (L-11, L-15).
                for &level in ImpersonationLevel::ALL {
                    for logged_on in [true, false] {
                        let who = Caller::new(caller)
                            .with_level(level)
                            .with_logged_on(logged_on);
                        for call in [
                            JobCall::Resume,
                            JobCall::Suspend,
                            JobCall::Cancel,
                            JobCall::Complete,
                            JobCall::SetCredentials(
                                AuthTarget::Server,
                                AuthScheme::Ntlm,
                                Credential::Implicit,
                            ),
                            JobCall::RemoveCredentials(AuthTarget::Proxy, AuthScheme::Basic),
                            JobCall::SetProxyUsage(ProxyUsage::Override),
                            JobCall::SetClientCertificate(true),
                            JobCall::SetClientCertificate(false),
                            JobCall::UseStoredCredentials,
                        ] {
                            tally(jobs::call(p, &who, job, call).rule().id);
                        }
                        // The guard alone, for every method.
                        for &method in JobMethod::ALL {
                            match jobs::guard(p, &who, job, method) {
                                Ok(rule) => tally(rule.id),
                                Err(d) => tally(d.rule().id),
                            }
                        }
                        if let Ok(d) = add_file(p, &who, job) {
                            tally(d.rule().id);
                        }
                        tally(query_interface(p, who, job).rule().id);
                        tally(take_ownership(p, who, job).rule().id);
                        cases += 13 + JobMethod::ALL.len() as u64;
                    }
                }
            }
            for d in [
                logoff_owner(job),
                logon_owner(job),
                helper_session_ended(job),
                service_stop(job),
                resume(job),
                transfer(p, job),
                cancel(job),
                complete(job),
                suspend(job),
                start_transfer(p, job, StartTo::Transferring),
                start_transfer(p, job, StartTo::Connecting),
                network_lost(job),
                network_restored(job),
                jobs::use_stored_credentials(job),
            ] {
                tally(d.rule().id);
                if let Some(f) = d.transfer_failure() {
                    tally(f.rule.id);
                }
            }
            for &(target, scheme) in &schemes {
                for credential in [Credential::Explicit, Credential::Implicit] {
                    tally(
                        bits_helper_token::decide::settings::set_credentials(
                            job, target, scheme, credential,
                        )
                        .rule()
                        .id,
                    );
                }
                tally(
                    bits_helper_token::decide::settings::remove_credentials(job, target, scheme)
                        .rule()
                        .id,
                );
            }
            for &usage in ProxyUsage::ALL {
                tally(
                    bits_helper_token::decide::settings::set_proxy_usage(job, usage)
                        .rule()
                        .id,
                );
            }
            for present in [false, true] {
                tally(
                    bits_helper_token::decide::settings::set_client_certificate(job, present)
                        .rule()
                        .id,
                );
            }
            for target in [AuthTarget::Server, AuthTarget::Proxy] {
                std::hint::black_box(implicit_allowed(job, target));
            }
            std::hint::black_box(client_certificate_failure(job, job.flags));
            std::hint::black_box(certificate_needed_failure(job));
            std::hint::black_box(eager_token_failure(p, job));
            // L-11's logon rule, per release, for the owner and every logon type.
            for &release in Release::ALL {
                for &logon in LogonType::ALL {
                    std::hint::black_box(lifecycle::counts_as_logged_on(
                        release,
                        &job.owner.sid,
                        logon,
                    ));
                }
            }
            for &access in Access::ALL {
                std::hint::black_box(transfer_makes(job, access));
                tally(route(p, job, access).rule.id);
            }
            if let Some(f) = transfer_plan(p, job).outcome().failure() {
                tally(f.rule.id);
            }
            cases += 14
                + 3 * schemes.len() as u64
                + 6
                + Access::ALL.len() as u64
                + (Release::ALL.len() * LogonType::ALL.len()) as u64;
        }
    }
    // The stateful paths: a Job, its handle's five methods, its events.
    for p in &profiles[..4] {
        for owner in owners {
            for caller in people {
                let mut job = Job::new(*p, &owner);
                let Ok(opts) = job.query_interface(&caller) else {
                    continue;
                };
                let other = Job::new(*p, &owner);
                tally(
                    opts.set_helper_token(&mut job, Impersonation::Allowed(people[3]))
                        .expect("its own job")
                        .rule()
                        .id,
                );
                tally(
                    opts.set_helper_token_flags(&mut job, 2)
                        .expect("its own job")
                        .rule()
                        .id,
                );
                tally(
                    opts.get_helper_token_flags(&job)
                        .expect("its own job")
                        .rule()
                        .id,
                );
                tally(
                    opts.get_helper_token_sid(&job)
                        .expect("its own job")
                        .rule()
                        .id,
                );
                std::hint::black_box(opts.get_helper_token_sid(&other).is_err());
                tally(job.resume().rule().id);
                tally(job.start_transfer(StartTo::Connecting).rule().id);
                tally(job.network_lost().rule().id);
                tally(job.network_restored().rule().id);
                tally(job.suspend().rule().id);
                tally(job.resume().rule().id);
                tally(job.transfer().rule().id);
                tally(job.call(&Caller::new(caller), JobCall::Cancel).rule().id);
                tally(job.logoff_owner().rule().id);
                tally(job.take_ownership(&caller).rule().id);
                tally(
                    opts.clear_helper_token(&mut job)
                        .expect("its own job")
                        .rule()
                        .id,
                );
                cases += 11;
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(false));
    assert_eq!(after - before, 0, "a decision path allocated");
    println!("{cases} decisions, routes, settings and job calls without an allocation");
    assert!(cases > 5_000_000, "{cases}");
    // The paths were walked: each of these rules decided something.
    use RuleId::*;
    for rule in [
        T7, A1, A2, A4, A5, A6, A7, A9, A11, A13, A14, L5, L6, L7, L8, L9, L10, L12, L13, L14, L15,
        R0, R1, R2, R3, R4, R5, R6, R7, X1, X3, X4, Q1, Q2, Q3, Q6,
    ] {
        let i = RuleId::ALL.iter().position(|&r| r == rule).unwrap();
        assert!(seen[i] > 0, "no decision by {rule}");
    }
}
