//! `transfer_plan` (`src/plan.rs`): every access of a transfer in order, each routed, and
//! the outcome (L-6, X-1, X-2, X-3): what planning one transfer costs.
//!
//! **No baseline.** A like-for-like baseline would route every access by hand and judge
//! the outcome by hand: a second home for R-1 to R-7, L-6, X-1 and X-3, to keep in step
//! with every spec change. The methods' baseline (`benches/methods.rs`) shows what the
//! model's generality costs; the number here is the absolute cost of a whole plan, for a
//! download where every rule has something to say: a service owner, every flag, a helper,
//! implicit proxy credentials, WPAD, Negotiate challenges from both the proxy and the
//! server. Before measuring, the bench checks the plan's length and that it succeeds.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench plan -- --warm-up-time 1 --measurement-time 2
//! ```

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
    let mut g = c.benchmark_group("transfer_plan/proxy_download");
    g.bench_function("model", |b| {
        b.iter(|| transfer_plan(black_box(&latest), black_box(&job)))
    });
    g.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
