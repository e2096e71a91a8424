//! The lifecycle events (`src/decide/lifecycle.rs`): logoff, resume, transfer, cancel,
//! complete, take ownership: what deciding one costs.
//!
//! **No baseline.** Each event is a few comparisons (`resume` is one), where the methods'
//! baseline (`benches/methods.rs`) already shows what the model's generality costs over a
//! hand-written check; a ratio over a nanosecond or two tells a reader nothing more, and a
//! hand-written copy of every event would be a second home for its rules. The numbers here
//! are the absolute costs. Before measuring, each bench checks that the path it names is
//! the one taken; the whole `Decision` escapes the measured closure.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench lifecycle -- --warm-up-time 1 --measurement-time 2
//! ```

use bits_helper_token::{decide::*, *};
use criterion::{Criterion, black_box, criterion_group, criterion_main};

type Answer = (HResult, RuleId);

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

/// The decision's answer; the whole decision escapes, so none of it is optimized away.
fn answer(d: Decision) -> Answer {
    let d = black_box(&d);
    (d.hresult(), d.rule_id())
}

/// The model (as `NAME/model`), after checking it takes the path named.
fn alone<M: Fn() -> Answer>(c: &mut Criterion, name: &str, expected: Answer, model: M) {
    assert_eq!(model(), expected, "{name}: not the path named");
    let mut g = c.benchmark_group(name);
    g.bench_function("model", |b| b.iter(&model));
    g.finish();
}

fn lifecycle(c: &mut Criterion) {
    let latest = Profile::default();
    let alice = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1001"), false);
    let bob = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1002"), false);
    let admin = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-500"), true);
    let job = JobFacts::new(alice);
    let flying = job
        .with_state(JobState::Queued)
        .with_flags(TokenUsage::LOCAL_FILE);
    let holding = flying.with_helper(Some(bob));
    let transferred = holding.with_state(JobState::Transferred);
    let ok = HResult::S_OK;

    alone(c, "logoff_owner", (ok, RuleId::L5), || {
        answer(logoff_owner(black_box(&holding)))
    });
    alone(c, "resume", (ok, RuleId::L9), || {
        answer(resume(black_box(&job)))
    });
    alone(c, "transfer/download_with_helper", (ok, RuleId::T7), || {
        answer(transfer(black_box(&latest), black_box(&holding)))
    });
    alone(c, "cancel", (ok, RuleId::T7), || {
        answer(cancel(black_box(&flying)))
    });
    alone(c, "complete", (ok, RuleId::L10), || {
        answer(complete(black_box(&transferred)))
    });
    alone(c, "take_ownership", (ok, RuleId::Q6), || {
        answer(take_ownership(
            black_box(&latest),
            black_box(admin),
            black_box(&job),
        ))
    });
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
