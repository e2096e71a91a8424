//! Criterion benches: the decision on each path, and `Sid` parse / display / from_bytes.
//!
//! Run with `cargo bench --bench decide`.

use bits_helper_token::*;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::fmt::Write;

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

fn decisions(c: &mut Criterion) {
    let latest = Profile::default();
    let legacy = Profile::new(Release::Legacy);
    let alice = Identity::new(sid("S-1-5-21-1-2-3-1001"), false);
    let bob = Identity::new(sid("S-1-5-21-1-2-3-1002"), false);
    let admin = Identity::new(sid("S-1-5-21-1-2-3-500"), true);
    let job = JobFacts::new(alice);
    let vetoed = job.with_helper(Some(admin));
    let cert = JobFacts::new(Identity::NETWORK_SERVICE).with_client_certificate(true);

    let mut g = c.benchmark_group("set_helper_token_flags");
    let paths: [(&str, &Profile, Identity, JobFacts, u32); 8] = [
        ("allowed_owner_A-5", &latest, alice, job, 0x3),
        ("refused_not_owner_A-5", &latest, bob, job, 0x1),
        ("refused_veto_A-6", &latest, alice, vetoed, 0x1),
        ("allowed_admin_Q-2", &latest, admin, vetoed, 0x2),
        ("refused_legacy_A-4", &legacy, alice, job, 0x1),
        ("refused_unknown_bits_Q-1", &latest, alice, job, 0x6),
        (
            "refused_done_Q-3",
            &latest,
            alice,
            job.with_state(JobState::Cancelled),
            0x1,
        ),
        (
            "allowed_with_failure_X-1",
            &latest,
            Identity::NETWORK_SERVICE,
            cert,
            0x2,
        ),
    ];
    for (name, profile, caller, job, flags) in paths {
        g.bench_function(name, |b| {
            b.iter(|| {
                set_helper_token_flags(
                    black_box(profile),
                    black_box(caller),
                    black_box(&job),
                    black_box(flags),
                )
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("other_methods");
    g.bench_function("get_helper_token_flags", |b| {
        b.iter(|| get_helper_token_flags(black_box(&latest), black_box(alice), black_box(&job)))
    });
    g.bench_function("set_helper_token_veto_A-7", |b| {
        b.iter(|| {
            set_helper_token(
                black_box(&latest),
                black_box(alice),
                black_box(&job),
                Impersonation::Allowed(admin),
            )
        })
    });
    g.bench_function("clear_helper_token", |b| {
        b.iter(|| clear_helper_token(black_box(&latest), black_box(alice), black_box(&vetoed)))
    });
    g.bench_function("get_helper_token_sid", |b| {
        b.iter(|| get_helper_token_sid(black_box(&latest), black_box(alice), black_box(&vetoed)))
    });
    g.finish();
}

fn sids(c: &mut Criterion) {
    let mut g = c.benchmark_group("sid");
    let long = "S-1-5-21-1004336348-1177238915-682003330-1001";
    let parsed = sid(long);
    let bytes = parsed.to_bytes();
    g.bench_function("parse_short", |b| {
        b.iter(|| black_box("S-1-5-18").parse::<Sid>())
    });
    g.bench_function("parse_domain_user", |b| {
        b.iter(|| black_box(long).parse::<Sid>())
    });
    g.bench_function("parse_error", |b| {
        b.iter(|| black_box("S-1-5-21-018").parse::<Sid>())
    });
    g.bench_function("display_domain_user", |b| {
        let mut out = String::with_capacity(64);
        b.iter(|| {
            out.clear();
            write!(out, "{}", black_box(&parsed)).unwrap();
            out.len()
        })
    });
    g.bench_function("from_bytes_domain_user", |b| {
        b.iter(|| Sid::from_bytes(black_box(&bytes[..])))
    });
    g.bench_function("to_bytes_domain_user", |b| {
        b.iter(|| black_box(&parsed).to_bytes())
    });
    g.finish();
}

criterion_group!(benches, decisions, sids);
criterion_main!(benches);
