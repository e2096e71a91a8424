//! Smoke tests of the `proptest` feature: every `Arbitrary` impl and strategy produces
//! values that hold the invariant it promises.

use bits_helper_token::scenario::{HandleName, Scenario, Session, Step};
use bits_helper_token::support::proptest::*;
use bits_helper_token::{decide::*, job::*, net::*, profile::*, sid::*, token::*, *};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeSet;

fn check<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner.run(&strategy, test).unwrap();
}

#[test]
fn sids_pool_collides_and_random_round_trips() {
    check(sid_pool(), |s| {
        prop_assert!(pool().contains(&s));
        Ok(())
    });
    check(any_sid(), |s| {
        prop_assert_eq!(Sid::from_bytes(&s.to_bytes()), Ok(s));
        prop_assert_eq!(s.to_string().parse::<Sid>(), Ok(s));
        Ok(())
    });
    check(any::<Sid>(), |s| {
        prop_assert!(!s.sub_authorities().is_empty());
        Ok(())
    });
}

#[test]
fn tokens_carry_the_requested_administrators_state() {
    for (admin, expected) in [
        (AdminGroup::Enabled, true),
        (AdminGroup::DenyOnly, false),
        (AdminGroup::Disabled, false),
        (AdminGroup::Absent, false),
    ] {
        check(token(Just(admin)), move |t| {
            prop_assert_eq!(t.has_admin_enabled(), expected);
            let has_group = t
                .groups
                .iter()
                .any(|g| g.sid == Sid::BUILTIN_ADMINISTRATORS);
            prop_assert_eq!(has_group, admin != AdminGroup::Absent);
            Ok(())
        });
    }
    check(any::<TokenInfo>(), |t| {
        prop_assert!(pool().contains(&t.user));
        Ok(())
    });
    check(any::<Identity>(), |i| {
        prop_assert_eq!(Identity::of(&i), i);
        Ok(())
    });
}

#[test]
fn flags_with_and_without_unknown_bits() {
    check(raw_flags(false), |f| {
        prop_assert!(f < 4);
        Ok(())
    });
    let mut seen_unknown = false;
    let mut runner = TestRunner::deterministic();
    for _ in 0..200 {
        let f = raw_flags(true).new_tree(&mut runner).unwrap().current();
        seen_unknown |= f & !3 != 0;
    }
    assert!(
        seen_unknown,
        "raw_flags(true) never produced an unknown bit"
    );
    check(any::<TokenUsage>(), |u| {
        prop_assert_eq!(u.to_string().parse::<TokenUsage>(), Ok(u));
        Ok(())
    });
}

#[test]
fn profiles_knobs_and_vocabulary() {
    check(profile(&[Release::Legacy], true), |p| {
        prop_assert_eq!(p.release, Release::Legacy);
        prop_assert_eq!(p.knobs, Knobs::DEFAULT);
        Ok(())
    });
    check(any::<Knobs>(), |k| {
        prop_assert!(k.denial.get().is_failure());
        Ok(())
    });
    check(any::<Profile>(), |p| {
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), p);
        Ok(())
    });
    check(
        (
            any::<JobState>(),
            any::<JobType>(),
            any::<Remote>(),
            any::<HResult>(),
            any::<GroupAttributes>(),
        ),
        |(s, t, r, h, g)| {
            prop_assert_eq!(s.name().parse::<JobState>(), Ok(s));
            prop_assert_eq!(t.name().parse::<JobType>(), Ok(t));
            prop_assert_eq!(r.name().parse::<Remote>(), Ok(r));
            prop_assert_eq!(format!("0x{:08X}", h.as_u32()).parse::<HResult>(), Ok(h));
            prop_assert_eq!(GroupAttributes::from_bits_retain(g.bits()), g);
            Ok(())
        },
    );
}

#[test]
fn jobs_and_job_facts() {
    check(any::<JobFacts>(), |j| {
        prop_assert_eq!(j.flags.unknown_bits(), 0);
        Ok(())
    });
    check(any::<Job>(), |j| {
        prop_assert_eq!(j.state(), JobState::Suspended);
        let json = serde_json::to_string(&j).unwrap();
        prop_assert_eq!(serde_json::from_str::<Job>(&json).unwrap(), j);
        Ok(())
    });
}

#[test]
fn scenarios_are_valid_and_steerable() {
    // With random knobs too: Q-9 at QueryInterface refuses some handles, and the steps
    // through them are left out, so every generated scenario runs.
    let mut random = ScenarioParams::default();
    random.random_knobs = true;
    check(scenario(random), |s| {
        prop_assert!(s.run().is_ok(), "{:?}", s.run());
        Ok(())
    });
    check(any::<Scenario>(), |s| {
        prop_assert!(s.validate().is_ok(), "{:?}", s.validate());
        let t = s.run().unwrap();
        prop_assert_eq!(t.results.len(), s.steps.len());
        // The JSON form round-trips: what the harness prints, the oracle reads.
        let back: Scenario = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(back, s);
        Ok(())
    });
    let mut params = ScenarioParams::default();
    params.releases = vec![Release::Win10_1607];
    params.events = false;
    params.network = false;
    params.max_steps = 5;
    check(scenario(params), |s| {
        prop_assert_eq!(s.release, Release::Win10_1607);
        prop_assert_eq!(s.knobs, Knobs::DEFAULT);
        // At most 5 generated steps, plus the query_interface each may need.
        prop_assert!(s.steps.len() <= 10);
        for step in &s.steps {
            let method_or_qi = matches!(
                step,
                Step::QueryInterface { .. }
                    | Step::SetHelperTokenFlags { .. }
                    | Step::GetHelperTokenFlags { .. }
                    | Step::SetHelperToken { .. }
                    | Step::ClearHelperToken { .. }
                    | Step::GetHelperTokenSid { .. }
            );
            prop_assert!(method_or_qi, "{}", step.op());
        }
        Ok(())
    });
}

#[test]
fn network_inputs_and_impersonations_have_arbitrary_impls() {
    check(any::<Access>(), |a| {
        prop_assert!(Access::ALL.contains(&a));
        Ok(())
    });
    check(
        (
            any::<AuthTarget>(),
            any::<AuthScheme>(),
            any::<Credential>(),
        ),
        |(t, s, c)| {
            prop_assert!(AuthTarget::ALL.contains(&t) && AuthScheme::ALL.contains(&s));
            prop_assert!(matches!(c, Credential::Explicit | Credential::Implicit));
            Ok(())
        },
    );
    check(any::<ProxyUsage>(), |p| {
        prop_assert!(ProxyUsage::ALL.contains(&p));
        Ok(())
    });
    // SetCredentials refuses NULL Basic and Digest credentials: never generated.
    check(any::<Credentials>(), |c| {
        for target in AuthTarget::ALL {
            for &scheme in AuthScheme::ALL {
                if c.get(*target, scheme) == Some(Credential::Implicit) {
                    prop_assert!(scheme.accepts_null_credentials(), "{scheme:?}");
                }
            }
        }
        Ok(())
    });
    check(any::<NetworkEnvironment>(), |e| {
        prop_assert!(UseLmCompat::ALL.contains(&e.use_lm_compat));
        prop_assert!(e.lm_compatibility_level.value() <= 5);
        Ok(())
    });
    check(any::<Group>(), |g| {
        prop_assert!(!g.sid.sub_authorities().is_empty());
        Ok(())
    });
    // Every variant shows up: all levels, both impersonations, both credentials.
    let mut runner = TestRunner::deterministic();
    let mut levels = std::collections::BTreeSet::new();
    let (mut allowed, mut denied, mut challenged) = (0, 0, 0);
    for _ in 0..400 {
        let l = any::<LmCompatibilityLevel>()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        levels.insert(l.value());
        match any::<Impersonation>()
            .new_tree(&mut runner)
            .unwrap()
            .current()
        {
            Impersonation::Allowed(_) => allowed += 1,
            Impersonation::Denied => denied += 1,
        }
        if !any::<Challenges>()
            .new_tree(&mut runner)
            .unwrap()
            .current()
            .is_empty()
        {
            challenged += 1;
        }
    }
    assert_eq!(levels.len(), 6, "{levels:?}");
    assert!(allowed > denied && denied > 0, "{allowed} {denied}");
    assert!(challenged > 300, "{challenged}");
    // Job facts carry network settings about half the time.
    let mut with_network = 0;
    for _ in 0..400 {
        let f = any::<JobFacts>().new_tree(&mut runner).unwrap().current();
        if f.credentials != Credentials::NONE || f.challenges != Challenges::NONE {
            with_network += 1;
        }
    }
    assert!((100..350).contains(&with_network), "{with_network}");
}

#[test]
fn the_single_step_strategy_always_gives_a_step_the_session_accepts() {
    use bits_helper_token::scenario::Session;
    let mut runner = TestRunner::deterministic();
    let mut ops = std::collections::BTreeSet::new();
    let mut callers = BTreeSet::new();
    for params in [ScenarioParams::default(), {
        let mut p = ScenarioParams::default();
        p.random_knobs = true;
        p.events = false;
        p
    }] {
        for _ in 0..40 {
            let header = scenario_header(params.clone())
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!(header.steps.is_empty());
            let mut session = Session::new(&header).unwrap();
            for i in 0..30 {
                let next = step(&params, &session)
                    .new_tree(&mut runner)
                    .unwrap()
                    .current();
                session
                    .check(&next)
                    .unwrap_or_else(|e| panic!("{next:?}: {e}"));
                session.step(&next).unwrap();
                assert_eq!(session.steps_taken(), i + 1);
                if !params.events {
                    assert!(
                        !matches!(next, Step::Resume { .. } | Step::Transfer {}),
                        "{next:?}"
                    );
                }
                ops.insert(next.op());
                if let Step::QueryInterface { caller, .. } = &next {
                    callers.insert(caller.clone());
                }
            }
        }
    }
    // Every op is generated, and every named token queries.
    assert_eq!(ops.len(), 26, "{ops:?}");
    let missing: Vec<String> = named_tokens()
        .into_keys()
        .filter(|name| !callers.contains(name))
        .collect();
    assert!(missing.is_empty(), "never a caller: {missing:?}");
}

/// Draws `n` values of `strategy` with a deterministic runner.
fn draws<S: Strategy>(strategy: &S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn challenges_cover_every_set_and_shrink_to_none() {
    // the server and the proxy each challenge with any subset of the five schemes:
    // 1,024 sets, nearly all of them in 8,192 draws, the empty and the full one included.
    let every = AuthTarget::ALL.iter().fold(Challenges::NONE, |c, &t| {
        AuthScheme::ALL.iter().fold(c, |c, &s| c.with(t, s))
    });
    let seen: std::collections::HashSet<Challenges> =
        draws(&challenges(), 8192).into_iter().collect();
    assert!(seen.len() > 1000, "{} distinct sets", seen.len());
    assert!(seen.contains(&Challenges::NONE) && seen.contains(&every));
    // Shrinking goes to no challenge at all.
    let mut runner = TestRunner::deterministic();
    for _ in 0..16 {
        let mut tree = challenges().new_tree(&mut runner).unwrap();
        while tree.simplify() {}
        assert_eq!(tree.current(), Challenges::NONE);
    }
}

#[test]
fn generated_scenarios_cover_every_remote_and_every_caller() {
    // Every remote protocol, and every named token as a caller (randomly made tokens too).
    let scenarios = draws(&scenario(ScenarioParams::default()), 512);
    let remotes: BTreeSet<_> = scenarios.iter().map(|s| s.job.remote).collect();
    assert_eq!(remotes.len(), Remote::ALL.len(), "{remotes:?}");
    let callers: BTreeSet<&str> = scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .filter_map(|step| match step {
            Step::QueryInterface { caller, .. } => Some(caller.as_str()),
            _ => None,
        })
        .collect();
    let missing: Vec<String> = named_tokens()
        .into_keys()
        .filter(|name| !callers.contains(name.as_str()))
        .collect();
    assert!(missing.is_empty(), "never a caller: {missing:?}");
}

#[test]
fn scenarios_follow_the_ops_the_tokens_and_the_knobs_asked_for() {
    // `ops`: only those ops (and the query_interface a handle's first use needs).
    let mut params = ScenarioParams::default();
    params.ops = Some(vec!["set_helper_token_flags", "suspend"]);
    let scenarios = draws(&scenario(params), 256);
    let ops: BTreeSet<&str> = scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .map(|step| step.op())
        .collect();
    assert_eq!(
        ops,
        BTreeSet::from(["query_interface", "set_helper_token_flags", "suspend"])
    );
    // `tokens`: those named tokens (and no random ones without `random_tokens`).
    let mut params = ScenarioParams::default();
    params.tokens = Some(vec!["alice".to_string(), "admin".to_string()]);
    params.random_tokens = false;
    for s in draws(&scenario(params.clone()), 64) {
        assert_eq!(
            s.tokens.keys().map(String::as_str).collect::<Vec<_>>(),
            ["admin", "alice"]
        );
    }
    params.random_tokens = true;
    for s in draws(&scenario(params), 64) {
        assert_eq!(
            s.tokens.keys().map(String::as_str).collect::<Vec<_>>(),
            ["admin", "alice", "t0", "t1"]
        );
    }
    // `knobs`: those knobs, random or not.
    let knobs = Knobs::DEFAULT.with_access_check(AccessCheck::PerCall);
    let mut params = ScenarioParams::default();
    params.knobs = Some(knobs);
    params.random_knobs = true;
    assert!(
        draws(&scenario(params), 64)
            .iter()
            .all(|s| s.knobs == knobs)
    );
    // `random_knobs`: knobs away from the defaults, many of them.
    let mut params = ScenarioParams::default();
    params.random_knobs = true;
    let seen: BTreeSet<String> = draws(&scenario(params), 64)
        .iter()
        .map(|s| format!("{:?}", s.knobs))
        .collect();
    assert!(seen.len() > 32, "{} distinct knobs of 64", seen.len());
}

/// Whether a token is a standard user's: not restricted, no Administrators enabled, not a
/// service account (the owners generation favours).
fn standard(t: &TokenInfo) -> bool {
    !t.restricted() && !t.has_admin_enabled() && !t.user.is_service_account()
}

#[test]
fn half_the_generated_jobs_belong_to_standard_users_and_more() {
    // Half the owners are drawn from the standard users, half from every token that may
    // own a job: about 0.5 + 0.5 × their share of the owners, never a restricted one.
    let headers = draws(&scenario_header(ScenarioParams::default()), 512);
    let mut standard_owned = 0;
    for h in &headers {
        let owner = &h.tokens[&h.job.owner];
        assert!(!owner.restricted(), "{}", h.job.owner);
        standard_owned += usize::from(standard(owner));
    }
    let share = standard_owned as f64 / headers.len() as f64;
    assert!((0.6..0.85).contains(&share), "{share}");
}

#[test]
fn the_tokens_a_step_names_lean_on_the_owner_and_the_administrators() {
    // A third of the time the owner, a third an administrator (the focus), else any token:
    // the tokens that SetHelperToken impersonates and TakeOwnership calls as.
    let mut header = Scenario::new("alice");
    header.tokens = named_tokens();
    let admins: BTreeSet<&str> = (header.tokens.iter())
        .filter(|(name, t)| t.has_admin_enabled() && *name != "alice")
        .map(|(name, _)| name.as_str())
        .collect();
    let mut session = Session::new(&header).unwrap();
    session.step(&Step::query_interface("alice", 1)).unwrap();
    let (mut owner, mut admin, mut all) = (0, 0, 0);
    let params = ScenarioParams::default();
    for next in draws(&step(&params, &session), 3000) {
        let name = match next {
            Step::SetHelperToken { impersonating, .. } => impersonating,
            Step::TakeOwnership { caller, .. } => caller,
            _ => continue,
        };
        all += 1;
        owner += usize::from(name == "alice");
        admin += usize::from(admins.contains(name.as_str()));
    }
    let share = |n: usize| n as f64 / all as f64;
    // Expected: the owner 1/3 + 1/3 × 1/10, an administrator 1/3 + 1/3 × 3/10.
    assert!(all > 300, "{all}");
    assert!(
        (0.3..0.45).contains(&share(owner)),
        "owner {}",
        share(owner)
    );
    assert!(
        (0.35..0.5).contains(&share(admin)),
        "administrators {}",
        share(admin)
    );
}

#[test]
fn a_generated_call_goes_through_the_handle_obtained_last_or_one_by_its_slot() {
    // Handle slots are 1 to 3: odd ones go through the handle obtained last (a call
    // usually follows its QueryInterface), slot 2 through the one at 2 modulo the handles
    // obtained.
    let mut header = Scenario::new("alice");
    header.tokens = named_tokens();
    for n in 1..=5u64 {
        let mut session = Session::new(&header).unwrap();
        for h in 1..=n {
            session.step(&Step::query_interface("alice", h)).unwrap();
        }
        let mut used = std::collections::BTreeMap::new();
        for mut next in draws(&step(&ScenarioParams::default(), &session), 600) {
            if matches!(next, Step::QueryInterface { .. }) {
                continue;
            }
            if let Some(h) = next.handle_mut() {
                *used.entry(h.clone()).or_insert(0u32) += 1;
            }
        }
        let handle = |i: u64| HandleName::Number(i);
        let expected: BTreeSet<HandleName> = [handle(n), handle(1 + 2 % n)].into();
        assert_eq!(
            used.keys().cloned().collect::<BTreeSet<_>>(),
            expected,
            "{n} handles"
        );
        // Slots are drawn evenly: the last handle takes the odd two thirds.
        let last = used[&handle(n)] as f64 / used.values().sum::<u32>() as f64;
        if expected.len() == 2 {
            assert!((0.58..0.75).contains(&last), "{n} handles: {used:?}");
        }
    }
}

#[test]
fn implicit_queries_take_turns_among_the_administrators() {
    // A handle used before any query gets one whose caller goes by position: the owner,
    // an administrator, any token, in turn, the administrators taking turns among
    // themselves. With no explicit query_interface generated, every query is implicit;
    // counted on jobs of standard users, whose focus is every administrator.
    let mut params = ScenarioParams::default();
    params.ops = Some(vec![
        "set_helper_token_flags",
        "get_helper_token_flags",
        "get_helper_token_sid",
        "clear_helper_token",
    ]);
    params.random_tokens = false;
    params.events = false;
    params.network = false;
    let tokens = named_tokens();
    let admins: Vec<&String> = (tokens.iter())
        .filter(|(_, t)| t.has_admin_enabled())
        .map(|(name, _)| name)
        .collect();
    assert!(admins.len() >= 3, "{admins:?}");
    let mut calls: std::collections::BTreeMap<&str, u32> =
        admins.iter().map(|a| (a.as_str(), 0)).collect();
    let scenarios = draws(&scenario(params), 512);
    for s in scenarios
        .iter()
        .filter(|s| standard(&s.tokens[&s.job.owner]))
    {
        for step in &s.steps {
            if let Step::QueryInterface { caller, .. } = step
                && let Some(n) = calls.get_mut(caller.as_str())
            {
                *n += 1;
            }
        }
    }
    // Each administrator gets some, none two thirds.
    let total: u32 = calls.values().sum();
    let (least, most) = (calls.values().min().unwrap(), calls.values().max().unwrap());
    assert!(*least > 0 && most * 3 < total * 2, "{calls:?}");
}

#[test]
fn a_generated_job_states_its_owners_logon_now_and_then_never_a_service_logged_off() {
    // L-11: a tenth of the jobs state whether the owner is logged on interactively, either
    // way; a service account is always logged on, so its job never says it is not.
    let mut said = BTreeSet::new();
    for h in draws(&scenario_header(ScenarioParams::default()), 1024) {
        let service = h.tokens[&h.job.owner].user.is_service_account();
        if let Some(on) = h.job.owner_logged_on {
            assert!(on || !service, "{}: a service logged off", h.job.owner);
            said.insert((service, on));
        }
    }
    assert_eq!(
        said,
        BTreeSet::from([(false, false), (false, true), (true, true)])
    );
}

#[test]
fn the_single_step_strategy_gives_no_second_file_to_a_download() {
    // L-15: a second file on a download is outside the model, so an `add_file` that would
    // get that far is never generated; one that is refused first (a caller who is not the
    // owner, A-13, or not logged on, L-11) still is.
    let mut header = Scenario::new("alice");
    header.tokens = named_tokens();
    let session = Session::new(&header).unwrap();
    let owners_file = Step::AddFile {
        caller: None,
        level: None,
    };
    assert!(
        session.check(&owners_file).is_err(),
        "the job holds its file"
    );
    let mut params = ScenarioParams::default();
    params.network = false;
    params.ops = Some(vec!["add_file", "suspend"]);
    let mut add_file = 0;
    for next in draws(&step(&params, &session), 200) {
        session
            .check(&next)
            .unwrap_or_else(|e| panic!("{next:?}: {e}"));
        add_file += usize::from(matches!(next, Step::AddFile { .. }));
    }
    assert!(add_file > 20, "{add_file}");
}
