//! `Scenario::run` (`src/scenario/`): validation, name resolution and replay, as scenarios
//! grow: N distinct handles; G groups in one token and G `set_helper_token` steps
//! impersonating it. Each scenario is built in Rust (no JSON parsing), outside the measured
//! closure, and run once and checked first.
//!
//! **No baseline**: what a reader needs here is the growth, linear, read across the sizes.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench scenario
//! ```

use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::{token::*, *};
use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use std::time::Duration;

fn scenarios(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let all_ok = |s: &Scenario, steps: usize| {
        let t = s.run().expect("the scenario runs");
        assert_eq!(t.results.len(), steps);
        assert!(t.results.iter().all(|r| r.hresult == HResult::S_OK));
    };
    for n in [10_000u64, 40_000, 160_000, 320_000] {
        let mut s = Scenario::new("svc");
        s.tokens.insert("svc".into(), TokenInfo::network_service());
        for h in 0..n {
            s.steps.push(Step::query_interface("svc", h));
        }
        all_ok(&s, s.steps.len());
        g.bench_with_input(BenchmarkId::new("handles", n), &s, |b, s| {
            b.iter(|| s.run())
        });
    }
    for n in [5_000u32, 10_000, 20_000, 40_000] {
        let mut s = Scenario::new("svc");
        s.tokens.insert("svc".into(), TokenInfo::network_service());
        let groups = (0..n)
            .map(|i| {
                Group::new(
                    Sid::new(5, &[21, 9, 9, 9, i]).unwrap(),
                    GroupAttributes::DEFAULT_ENABLED,
                )
            })
            .collect();
        s.tokens.insert(
            "wide".into(),
            TokenInfo::new("S-1-5-21-9-9-9-1001".parse().unwrap(), groups),
        );
        s.steps.push(Step::query_interface("svc", 0));
        for _ in 0..n {
            s.steps.push(Step::SetHelperToken {
                handle: HandleName::Number(0),
                impersonating: "wide".into(),
                can_impersonate: None,
                level: None,
            });
        }
        all_ok(&s, s.steps.len());
        g.bench_with_input(BenchmarkId::new("groups_x_steps", n), &s, |b, s| {
            b.iter(|| s.run())
        });
    }
    g.finish();
}

criterion_group!(benches, scenarios);
criterion_main!(benches);
