//! `route` (`src/decide/route.rs`): whose identity BITS uses for one access, and by which
//! rule.
//!
//! **Baseline**: `baseline_route` (`benches/baseline/mod.rs`, shared with `plan.rs` and
//! `lifecycle.rs`), a hand-written R-0…R-7 and L-6 over the *same inputs* (the same
//! `Profile`, `JobFacts` and `Access`) that returns the same principal and rule id, with
//! the default knobs hard-coded: no reason, no `ImplicitAllowed`, no knob lookups. The
//! ratio is the model's overhead for being general and explainable. The job is one where
//! every rule has something to say: a service owner, every flag, a helper, implicit proxy
//! credentials, WPAD, Negotiate challenges from both the proxy and the server. Before
//! measuring, each bench checks the route it names and that the baseline answers alike.
//! The whole `Route` escapes the measured closure, and both sides return their answer
//! (principal, rule id) as they made it, as the decision benches do.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench route -- --warm-up-time 1 --measurement-time 2
//! ```

#[allow(dead_code)] // the plan's baseline is measured in plan.rs and lifecycle.rs
mod baseline;

use baseline::baseline_route;
use bits_helper_token::{decide::*, net::*, *};
use criterion::{Criterion, black_box, criterion_group, criterion_main};

fn routing(c: &mut Criterion) {
    let latest = Profile::default();
    let helper = Identity::new(
        "S-1-5-21-1004336348-1177238915-682003330-1002"
            .parse()
            .unwrap(),
        false,
    );
    let creds = Credentials::NONE
        .set(
            AuthTarget::Proxy,
            AuthScheme::Negotiate,
            Credential::Implicit,
        )
        .unwrap_or(Credentials::NONE);
    let job = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_flags(TokenUsage::all())
        .with_helper(Some(helper))
        .with_credentials(creds)
        .with_proxy(ProxyUsage::Autodetect)
        .with_challenges(
            Challenges::NONE
                .with(AuthTarget::Proxy, AuthScheme::Negotiate)
                .with(AuthTarget::Server, AuthScheme::Negotiate),
        );
    for (access, expected) in [
        (
            Access::DownloadTempFileCreate,
            (Principal::Helper, RuleId::R1),
        ),
        (
            Access::ServerChallenge(AuthScheme::Negotiate),
            (Principal::Helper, RuleId::R2),
        ),
    ] {
        let r = route(&latest, &job, access);
        assert_eq!((r.principal, r.rule.id), expected, "route/{access}");
        assert_eq!(
            baseline_route(&latest, &job, access),
            expected,
            "route/{access}: the baseline must answer as the model"
        );
        let mut g = c.benchmark_group(format!("route/{access}"));
        g.bench_function("model", |b| {
            b.iter(|| {
                let r = route(black_box(&latest), black_box(&job), black_box(access));
                black_box(&r);
                (r.principal, r.rule.id)
            })
        });
        g.bench_function("baseline", |b| {
            b.iter(|| baseline_route(black_box(&latest), black_box(&job), black_box(access)))
        });
        g.finish();
    }
}

criterion_group!(benches, routing);
criterion_main!(benches);
