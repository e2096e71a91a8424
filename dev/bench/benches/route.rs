//! `route` (`src/route.rs`): whose identity BITS uses for one access, and by which rule.
//!
//! **No baseline.** A like-for-like baseline would be a second, hand-written copy of R-1 to
//! R-7 and L-6: a second home for those rules, to keep in step with every spec change, for
//! a ratio nobody acts on (nobody writes the routing by hand). The methods' baseline
//! (`benches/methods.rs`) shows what the model's generality costs; the numbers here are the
//! absolute cost of one access, for a job where every rule has something to say: a service
//! owner, every flag, a helper, implicit proxy credentials, WPAD, Negotiate challenges from
//! both the proxy and the server. Before measuring, each bench checks the route it names.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench route -- --warm-up-time 1 --measurement-time 2
//! ```

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
        let mut g = c.benchmark_group(format!("route/{access}"));
        g.bench_function("model", |b| {
            b.iter(|| route(black_box(&latest), black_box(&job), black_box(access)))
        });
        g.finish();
    }
}

criterion_group!(benches, routing);
criterion_main!(benches);
