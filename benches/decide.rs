//! Criterion benches: every decision function, `route`, `transfer_plan`, and `Sid`
//! parse / display / from_bytes — each next to a **baseline**, a minimal hand-written check
//! of the same inputs that returns only the bare answer (no rule, no facts, no typed
//! errors), so the model's overhead reads as a ratio.
//!
//! ```sh
//! cargo bench --bench decide                 # full run
//! scripts/bench-table                        # the README table from the last run
//! ```

use bits_helper_token::*;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::fmt::Write;

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

// ---- baselines: the bare logic, written by hand -----------------------------------------

/// The raw facts a hand-written check would use.
#[derive(Clone, Copy)]
struct Raw {
    release: u8, // 0 pre, 1 legacy, 2+ 1607
    caller: u64, // a user id
    caller_admin: bool,
    owner: u64,
    stored_admin: Option<bool>,
    done: bool,
}

fn raw_access(r: Raw, veto: bool) -> i32 {
    if r.release == 0 {
        return 0x8000_4002u32 as i32;
    }
    if r.release == 1 {
        return if r.caller_admin {
            0
        } else {
            0x8007_0005u32 as i32
        };
    }
    if !r.caller_admin && (r.caller != r.owner || (veto && r.stored_admin == Some(true))) {
        return 0x8007_0005u32 as i32;
    }
    0
}

fn baseline_set_flags(r: Raw, flags: u32) -> i32 {
    let hr = raw_access(r, true);
    if hr != 0 {
        hr
    } else if r.done {
        0x8020_0002u32 as i32
    } else if flags & !3 != 0 {
        0x8007_0057u32 as i32
    } else {
        0
    }
}

fn baseline_getter(r: Raw) -> i32 {
    raw_access(r, false)
}

fn baseline_set_token(r: Raw, new_admin: bool) -> i32 {
    let hr = baseline_set_flags(
        Raw {
            stored_admin: None,
            ..r
        },
        0,
    );
    if hr == 0 && r.release >= 2 && new_admin && !r.caller_admin {
        0x8007_0005u32 as i32
    } else {
        hr
    }
}

/// Which identity (0 owner, 1 helper, 2 token required) for an access routed by `flag`.
fn baseline_route(flags: u32, flag: u32, helper: bool) -> u8 {
    if flags & flag == 0 {
        0
    } else if helper {
        1
    } else {
        2
    }
}

fn baseline_parse(s: &str) -> Option<(u64, [u32; 15], usize)> {
    let rest = s.strip_prefix("S-1-")?;
    let mut parts = rest.split('-');
    let authority: u64 = parts.next()?.parse().ok()?;
    let mut subs = [0u32; 15];
    let mut n = 0;
    for p in parts {
        *subs.get_mut(n)? = p.parse().ok()?;
        n += 1;
    }
    (n > 0).then_some((authority, subs, n))
}

fn baseline_from_bytes(b: &[u8]) -> Option<(u64, [u32; 15], usize)> {
    let n = usize::from(*b.get(1)?);
    if b.len() != 8 + 4 * n || b[0] != 1 || n == 0 || n > 15 {
        return None;
    }
    let authority = b[2..8].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let mut subs = [0u32; 15];
    for (i, c) in b[8..].chunks_exact(4).enumerate() {
        subs[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Some((authority, subs, n))
}

// ---- benches ---------------------------------------------------------------------------

fn decisions(c: &mut Criterion) {
    let latest = Profile::default();
    let legacy = Profile::new(Release::Legacy);
    let alice = Identity::new(sid("S-1-5-21-1-2-3-1001"), false);
    let bob = Identity::new(sid("S-1-5-21-1-2-3-1002"), false);
    let admin = Identity::new(sid("S-1-5-21-1-2-3-500"), true);
    let job = JobFacts::new(alice);
    let vetoed = job.with_helper(Some(admin));
    let cert = JobFacts::new(Identity::NETWORK_SERVICE).with_client_certificate(true);
    let raw = Raw {
        release: 3,
        caller: 1001,
        caller_admin: false,
        owner: 1001,
        stored_admin: None,
        done: false,
    };

    // Every path of SetHelperTokenFlags, with the baseline of the same inputs.
    let paths: [(&str, &Profile, Identity, JobFacts, u32, Raw); 8] = [
        ("allowed_owner_A-5", &latest, alice, job, 0x3, raw),
        (
            "refused_not_owner_A-5",
            &latest,
            bob,
            job,
            0x1,
            Raw {
                caller: 1002,
                ..raw
            },
        ),
        (
            "refused_veto_A-6",
            &latest,
            alice,
            vetoed,
            0x1,
            Raw {
                stored_admin: Some(true),
                ..raw
            },
        ),
        (
            "allowed_admin_Q-2",
            &latest,
            admin,
            vetoed,
            0x2,
            Raw {
                caller: 500,
                caller_admin: true,
                stored_admin: Some(true),
                ..raw
            },
        ),
        (
            "refused_legacy_A-4",
            &legacy,
            alice,
            job,
            0x1,
            Raw { release: 1, ..raw },
        ),
        ("refused_unknown_bits_Q-1", &latest, alice, job, 0x6, raw),
        (
            "refused_done_Q-3",
            &latest,
            alice,
            job.with_state(JobState::Cancelled),
            0x1,
            Raw { done: true, ..raw },
        ),
        (
            "allowed_with_failure_X-1",
            &latest,
            Identity::NETWORK_SERVICE,
            cert,
            0x2,
            Raw {
                caller: 20,
                owner: 20,
                ..raw
            },
        ),
    ];
    for (name, profile, caller, job, flags, r) in paths {
        let mut g = c.benchmark_group(format!("set_helper_token_flags/{name}"));
        g.bench_function("model", |b| {
            b.iter(|| {
                set_helper_token_flags(
                    black_box(profile),
                    black_box(caller),
                    black_box(&job),
                    black_box(flags),
                )
            })
        });
        g.bench_function("baseline", |b| {
            b.iter(|| baseline_set_flags(black_box(r), black_box(flags)))
        });
        g.finish();
    }

    let mut g = c.benchmark_group("get_helper_token_flags");
    g.bench_function("model", |b| {
        b.iter(|| get_helper_token_flags(black_box(&latest), black_box(alice), black_box(&job)))
    });
    g.bench_function("baseline", |b| b.iter(|| baseline_getter(black_box(raw))));
    g.finish();

    let mut g = c.benchmark_group("get_helper_token_sid");
    g.bench_function("model", |b| {
        b.iter(|| get_helper_token_sid(black_box(&latest), black_box(alice), black_box(&vetoed)))
    });
    g.bench_function("baseline", |b| b.iter(|| baseline_getter(black_box(raw))));
    g.finish();

    let mut g = c.benchmark_group("clear_helper_token");
    g.bench_function("model", |b| {
        b.iter(|| clear_helper_token(black_box(&latest), black_box(alice), black_box(&vetoed)))
    });
    g.bench_function("baseline", |b| b.iter(|| baseline_getter(black_box(raw))));
    g.finish();

    let mut g = c.benchmark_group("set_helper_token/refused_new_admin_A-7");
    g.bench_function("model", |b| {
        b.iter(|| {
            set_helper_token(
                black_box(&latest),
                black_box(alice),
                black_box(&job),
                black_box(Impersonation::Allowed(admin)),
            )
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_set_token(black_box(raw), black_box(true)))
    });
    g.finish();
}

fn routing(c: &mut Criterion) {
    let latest = Profile::default();
    let helper = Identity::new(sid("S-1-5-21-1-2-3-1002"), false);
    let facts = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_flags(TokenUsage::all())
        .with_helper(Some(helper));
    let creds = Credentials::NONE
        .set(
            AuthTarget::Proxy,
            AuthScheme::Negotiate,
            Credential::Implicit,
        )
        .unwrap_or(Credentials::NONE);
    let job = TransferJob::new(facts)
        .with_credentials(creds)
        .with_proxy(ProxyUsage::Autodetect);

    let mut g = c.benchmark_group("route/download_temp_file_create");
    g.bench_function("model", |b| {
        b.iter(|| {
            route(
                black_box(&latest),
                black_box(&job),
                black_box(Access::DownloadTempFileCreate),
            )
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_route(black_box(3), black_box(1), black_box(true)))
    });
    g.finish();

    let mut g = c.benchmark_group("route/server_challenge_negotiate");
    g.bench_function("model", |b| {
        b.iter(|| {
            route(
                black_box(&latest),
                black_box(&job),
                black_box(Access::ServerChallenge(AuthScheme::Negotiate)),
            )
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_route(black_box(3), black_box(2), black_box(true)))
    });
    g.finish();

    let mut g = c.benchmark_group("transfer_plan/proxy_download");
    g.bench_function("model", |b| {
        b.iter(|| transfer_plan(black_box(&latest), black_box(&job)))
    });
    // The baseline routes the same five accesses by flag alone.
    g.bench_function("baseline", |b| {
        b.iter(|| {
            let f = black_box(3u32);
            [
                baseline_route(f, 2, true),
                baseline_route(f, 2, true),
                baseline_route(f, 2, true),
                baseline_route(f, 1, true),
                baseline_route(f, 1, true),
            ]
        })
    });
    g.finish();
}

fn sids(c: &mut Criterion) {
    let long = "S-1-5-21-1004336348-1177238915-682003330-1001";
    let parsed = sid(long);
    let bytes = parsed.to_bytes();

    let mut g = c.benchmark_group("sid/parse_domain_user");
    g.bench_function("model", |b| b.iter(|| black_box(long).parse::<Sid>()));
    g.bench_function("baseline", |b| b.iter(|| baseline_parse(black_box(long))));
    g.finish();

    let mut g = c.benchmark_group("sid/parse_short");
    g.bench_function("model", |b| b.iter(|| black_box("S-1-5-18").parse::<Sid>()));
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_parse(black_box("S-1-5-18")))
    });
    g.finish();

    let mut g = c.benchmark_group("sid/display_domain_user");
    let mut out = String::with_capacity(64);
    g.bench_function("model", |b| {
        b.iter(|| {
            out.clear();
            write!(out, "{}", black_box(&parsed)).unwrap();
            out.len()
        })
    });
    let (authority, subs, n) = baseline_parse(long).unwrap();
    g.bench_function("baseline", |b| {
        b.iter(|| {
            out.clear();
            write!(out, "S-1-{}", black_box(authority)).unwrap();
            for s in &black_box(subs)[..n] {
                write!(out, "-{s}").unwrap();
            }
            out.len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("sid/from_bytes_domain_user");
    g.bench_function("model", |b| {
        b.iter(|| Sid::from_bytes(black_box(&bytes[..])))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_from_bytes(black_box(&bytes[..])))
    });
    g.finish();
}

criterion_group!(benches, decisions, routing, sids);
criterion_main!(benches);
