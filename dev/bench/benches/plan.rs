//! `transfer_plan` (`src/decide/transfer.rs`): every access of a transfer in order, each
//! routed, and the outcome (L-6, X-1, X-2, X-3): what planning one transfer costs.
//!
//! **Baseline**: `baseline_plan` (`benches/baseline/mod.rs`, shared with `route.rs` and
//! `lifecycle.rs`), a hand-written plan over the *same inputs* (the same `Profile` and
//! `JobFacts`): the same accesses in the same order, each routed by `baseline_route`, and
//! the outcome (Q-8 eager L-6, else the first failing step: L-6, X-3, X-1), with the
//! default knobs hard-coded: no reasons, no knob lookups, steps as (access, principal,
//! rule id). The ratio is the model's overhead for being general and explainable. The job
//! is a download where every rule has something to say: a service owner, every flag, a
//! helper, implicit proxy credentials, WPAD, Negotiate challenges from both the proxy and
//! the server. Before measuring, the bench checks the plan's length, that it succeeds, and
//! that the baseline has the same steps and outcome. Each side's whole plan escapes the
//! measured closure, and each returns its length and outcome as it made them (not read
//! back through the escaped reference), as the decision and route benches do.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench plan -- --warm-up-time 1 --measurement-time 2
//! ```

mod baseline;

use baseline::baseline_plan;
use bits_helper_token::{net::*, *};
use criterion::{Criterion, black_box, criterion_group, criterion_main};

fn plan(c: &mut Criterion) {
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

    let p = transfer_plan(&latest, &job);
    assert_eq!(p.iter().count(), 5, "transfer_plan: the steps\n{p:?}");
    assert!(
        p.outcome().failure().is_none(),
        "transfer_plan: the outcome\n{p:?}"
    );
    let (steps, n, failure) = baseline_plan(&latest, &job);
    let same: Vec<_> = p
        .iter()
        .map(|r| (r.access, r.principal, r.rule.id))
        .collect();
    assert_eq!(same, steps[..n], "transfer_plan: the baseline's steps");
    assert_eq!(
        p.outcome().failure().map(|f| (f.hresult, f.rule.id)),
        failure,
        "transfer_plan: the baseline's outcome"
    );
    let mut g = c.benchmark_group("transfer_plan/proxy_download");
    g.bench_function("model", |b| {
        b.iter(|| {
            let p = transfer_plan(black_box(&latest), black_box(&job));
            black_box(&p);
            (p.steps().len(), p.outcome().failure().map(|f| f.hresult))
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            let plan = baseline_plan(black_box(&latest), black_box(&job));
            black_box(&plan);
            let (_, n, failure) = plan;
            (n, failure.map(|(hresult, _)| hresult))
        })
    });
    g.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
