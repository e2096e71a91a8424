//! Scenario strategies: the named tokens, whole [`Scenario`]s ([`scenario`]), their start
//! ([`scenario_header`]) and single valid steps for stateful tests ([`step`]).

use super::{challenges, pool, raw_flags};
use crate::access::Access;
use crate::challenge::IeSettings;
use crate::decide::StartTo;
use crate::net::{AuthScheme, AuthTarget, Credential, NetworkEnvironment, ProxyUsage};
use crate::profile::{Knobs, Release};
use crate::scenario::{HandleName, JobSpec, Scenario, Session, Step};
use crate::scenario::{JobProperty, PropertyTarget};
use crate::sid::Sid;
use crate::state::{JobType, Remote};
use crate::token::{ImpersonationLevel, IntegrityLevel, LogonType, Token, TokenInfo};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

/// The named tokens every generated scenario has: `system`, `local_service`,
/// `network_service`, `alice`, `bob` (standard users), `alice_low` (Alice at Low
/// integrity, T-8), `alice_restricted` (Alice with a restricting SID, T-11), `admin`
/// (elevated), `admin_filtered` (the same user, UAC-filtered, T-5, T-9) and `admin_runas`
/// (another administrator from a "Run as" logon, which does not count as logged on, L-11).
pub fn named_tokens() -> BTreeMap<String, TokenInfo> {
    let [_, _, _, alice, bob, admin] = pool();
    let mut tokens = BTreeMap::new();
    tokens.insert("system".to_string(), TokenInfo::local_system());
    tokens.insert("local_service".to_string(), TokenInfo::local_service());
    tokens.insert("network_service".to_string(), TokenInfo::network_service());
    tokens.insert("alice".to_string(), TokenInfo::standard_user(alice));
    tokens.insert("bob".to_string(), TokenInfo::standard_user(bob));
    tokens.insert(
        "alice_low".to_string(),
        TokenInfo::standard_user(alice).with_integrity(IntegrityLevel::Low),
    );
    tokens.insert(
        "admin".to_string(),
        TokenInfo::elevated_administrator(admin),
    );
    tokens.insert(
        "admin_filtered".to_string(),
        TokenInfo::filtered_administrator(admin),
    );
    tokens.insert(
        "alice_restricted".to_string(),
        TokenInfo::standard_user(alice).with_restricting_sids(alloc::vec![Sid::RESTRICTED]),
    );
    let runas = Sid::new(5, &[21, 1, 2, 3, 501]).unwrap_or(Sid::EVERYONE);
    tokens.insert(
        "admin_runas".to_string(),
        TokenInfo::elevated_administrator(runas).with_logon(LogonType::Secondary),
    );
    tokens
}

/// How generated scenarios are steered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ScenarioParams {
    /// The releases to draw from (empty: all).
    pub releases: Vec<Release>,
    /// Whether the knobs are random (otherwise the SPEC defaults).
    pub random_knobs: bool,
    /// The most steps in one scenario (at least 1).
    pub max_steps: usize,
    /// Whether `SetHelperTokenFlags` may get unknown bits.
    pub unknown_flags: bool,
    /// Whether lifecycle events (logoff, resume, transfer, cancel, complete, take
    /// ownership) are generated.
    pub events: bool,
    /// Whether network settings and `route` questions are generated.
    pub network: bool,
    /// Whether two random extra tokens (`t0`, `t1`, any Administrators state) join the
    /// named ones.
    pub random_tokens: bool,
    /// The ops to generate, by their oracle names (`"set_helper_token_flags"`,
    /// `"take_ownership"`, …); `None`: every op `events` and `network` allow. A system
    /// under test that implements only some operations is tested on those.
    pub ops: Option<Vec<&'static str>>,
    /// The named tokens to use (a subset of [`named_tokens`]; the random ones come on top
    /// with `random_tokens`); `None`: all of them.
    pub tokens: Option<Vec<String>>,
    /// Fixed knobs (ignores `random_knobs`); `None`: the SPEC defaults or random ones.
    pub knobs: Option<Knobs>,
}

impl ScenarioParams {
    /// Whether the op named `op` may be generated.
    pub fn allows(&self, op: &str) -> bool {
        self.ops.as_ref().is_none_or(|ops| ops.contains(&op))
    }
}

impl Default for ScenarioParams {
    fn default() -> ScenarioParams {
        ScenarioParams {
            releases: Vec::new(),
            random_knobs: false,
            max_steps: 24,
            unknown_flags: true,
            events: true,
            network: true,
            random_tokens: true,
            ops: None,
            tokens: None,
            knobs: None,
        }
    }
}

/// A step before handles are fixed up: handle slots are small numbers.
#[derive(Clone, Debug)]
enum RawStep {
    Query { who: String, slot: u64 },
    Step(Step),
}

/// The tokens generation leans on, where the rules are interesting: the job's owner and
/// the administrators (ownership, the vetoes A-6 and A-7, the gate A-11, TakeOwnership).
fn focus(header: &Scenario) -> Vec<String> {
    let mut focus: Vec<String> = alloc::vec![header.job.owner.clone()];
    focus.extend(
        header
            .tokens
            .iter()
            .filter(|(name, t)| t.has_admin_enabled() && **name != header.job.owner)
            .map(|(name, _)| name.clone()),
    );
    focus
}

/// A token name: a third of the time the owner (`focus[0]`), a third one of the
/// administrators (the rest of `focus`), else any of `names`.
fn leaning(names: Vec<String>, focus: Vec<String>) -> BoxedStrategy<String> {
    let owner = focus.first().cloned().unwrap_or_else(|| names[0].clone());
    let admins = if focus.len() > 1 {
        focus[1..].to_vec()
    } else {
        names.clone()
    };
    prop_oneof![
        1 => Just(owner),
        1 => proptest::sample::select(admins),
        1 => proptest::sample::select(names),
    ]
    .boxed()
}

/// The caller of a handle's implicit `query_interface`: by position, in turn the owner
/// (`focus[0]`), an administrator (the rest of `focus`) and any of `names`
/// (deterministic, so shrinking works).
fn implicit_caller(names: &[String], focus: &[String], i: usize) -> String {
    match (i % 3, focus.len()) {
        (0, 1..) => focus[0].clone(),
        (1, 2..) => focus[1 + (i / 3) % (focus.len() - 1)].clone(),
        _ => names[i % names.len()].clone(),
    }
}

/// A step's impersonation level: mostly none (the default), now and then another (A-9).
fn level() -> BoxedStrategy<Option<ImpersonationLevel>> {
    proptest::option::weighted(0.15, any::<ImpersonationLevel>()).boxed()
}

/// A job-method step's caller: mostly none (the owner), now and then a named token (A-12).
fn method_caller(names: Vec<String>) -> BoxedStrategy<Option<String>> {
    proptest::option::weighted(0.25, proptest::sample::select(names)).boxed()
}

fn step_strategy(
    p: &ScenarioParams,
    names: Vec<String>,
    focus: Vec<String>,
) -> BoxedStrategy<RawStep> {
    let who = leaning(names.clone(), focus);
    let slot = 1u64..4;
    let h = slot.clone().prop_map(HandleName::Number);
    let flags = raw_flags(p.unknown_flags);
    let mut arms: Vec<(u32, BoxedStrategy<RawStep>)> = alloc::vec![
        (
            6,
            (who.clone(), slot)
                .prop_map(|(who, slot)| RawStep::Query { who, slot })
                .boxed()
        ),
        (
            6,
            (h.clone(), flags, level())
                .prop_map(
                    |(handle, flags, level)| RawStep::Step(Step::SetHelperTokenFlags {
                        handle,
                        flags,
                        level,
                    })
                )
                .boxed()
        ),
        (
            2,
            (h.clone(), level())
                .prop_map(|(handle, level)| RawStep::Step(Step::GetHelperTokenFlags {
                    handle,
                    level
                }))
                .boxed()
        ),
        (
            5,
            (
                h.clone(),
                who.clone(),
                prop_oneof![
                    8 => Just((None, None)),
                    1 => any::<bool>().prop_map(|b| (Some(b), None)),
                    1 => any::<ImpersonationLevel>().prop_map(|l| (None, Some(l))),
                ]
            )
                .prop_map(|(handle, impersonating, (can_impersonate, level))| {
                    RawStep::Step(Step::SetHelperToken {
                        handle,
                        impersonating,
                        can_impersonate,
                        level,
                    })
                })
                .boxed(),
        ),
        (
            2,
            (h.clone(), level())
                .prop_map(|(handle, level)| RawStep::Step(Step::ClearHelperToken { handle, level }))
                .boxed()
        ),
        (
            2,
            (h, level())
                .prop_map(|(handle, level)| RawStep::Step(Step::GetHelperTokenSid {
                    handle,
                    level
                }))
                .boxed()
        ),
    ];
    if p.events {
        let caller = || (method_caller(names.clone()), level());
        arms.push((
            6,
            prop_oneof![
                prop_oneof![
                    Just(Step::LogoffOwner {}),
                    Just(Step::LogonOwner {}),
                    Just(Step::HelperSessionEnded {}),
                    Just(Step::ServiceStop {}),
                ],
                caller().prop_map(|(caller, level)| Step::Resume { caller, level }),
                caller().prop_map(|(caller, level)| Step::Resume { caller, level }),
                caller().prop_map(|(caller, level)| Step::Suspend { caller, level }),
                caller().prop_map(|(caller, level)| Step::AddFile { caller, level }),
                Just(Step::Transfer {}),
                Just(Step::Transfer {}),
                proptest::option::of(any::<StartTo>()).prop_map(|to| Step::StartTransfer { to }),
                prop_oneof![Just(Step::NetworkLost {}), Just(Step::NetworkRestored {})],
                caller().prop_map(|(caller, level)| Step::Cancel { caller, level }),
                caller().prop_map(|(caller, level)| Step::Complete { caller, level }),
                (who, level()).prop_map(|(caller, level)| Step::TakeOwnership { caller, level }),
            ]
            .prop_map(RawStep::Step)
            .boxed(),
        ));
    }
    if p.network {
        let access = proptest::sample::select(Access::ALL.to_vec());
        let target = proptest::sample::select(AuthTarget::ALL.to_vec());
        let scheme = proptest::sample::select(AuthScheme::ALL.to_vec());
        let credential =
            proptest::sample::select(alloc::vec![Credential::Explicit, Credential::Implicit]);
        let caller = || (method_caller(names.clone()), level());
        arms.push((
            4,
            prop_oneof![
                3 => access.prop_map(|access| Step::Route { access }),
                2 => (target.clone(), scheme.clone(), credential, caller())
                    .prop_map(|(target, scheme, credential, (caller, level))| Step::SetCredentials {
                        target, scheme, credential, caller, level,
                    }),
                1 => (target, scheme, caller()).prop_map(|(target, scheme, (caller, level))| {
                    Step::RemoveCredentials { target, scheme, caller, level }
                }),
                1 => (proptest::sample::select(ProxyUsage::ALL.to_vec()), caller())
                    .prop_map(|(usage, (caller, level))| Step::SetProxyUsage { usage, caller, level }),
                1 => (any::<bool>(), caller())
                    .prop_map(|(present, (caller, level))| Step::SetClientCertificate { present, caller, level }),
                1 => caller().prop_map(|(caller, level)| Step::SetJobProperty {
                    property: JobProperty::UseStoredCredentials,
                    target: PropertyTarget::Proxy,
                    caller,
                    level,
                }),
            ]
            .prop_map(RawStep::Step)
            .boxed(),
        ));
    }
    let allowed = p.clone();
    proptest::strategy::Union::new_weighted(arms)
        .prop_filter("an op the parameters allow", move |raw| match raw {
            RawStep::Query { .. } => allowed.allows("query_interface"),
            RawStep::Step(step) => allowed.allows(step.op()),
        })
        .boxed()
}

/// Turns raw steps into a valid scenario: a handle used before it is defined gets a
/// `query_interface` just before its first use, and a query for a defined slot defines a
/// fresh one instead. The implicit query's caller is [`implicit_caller`] of `slot +
/// position` (`position`: the steps before it): the owner, an administrator or any token in
/// turn, so every token can be the one whose access check a handle gets (A-1, Q-9).
/// Deterministic, so shrinking works.
fn fix_handles(raw: Vec<RawStep>, names: &[String], focus: &[String]) -> Vec<Step> {
    let mut defined: Vec<u64> = Vec::new();
    let mut steps = Vec::with_capacity(raw.len() + 3);
    let pick = |i: usize| implicit_caller(names, focus, i);
    for r in raw {
        match r {
            RawStep::Query { who, slot } => {
                let mut slot = slot;
                while defined.contains(&slot) {
                    slot += 1;
                }
                defined.push(slot);
                steps.push(Step::query_interface(&who, slot));
            }
            RawStep::Step(mut step) => {
                if let Some(&mut HandleName::Number(slot)) = step.handle_mut()
                    && !defined.contains(&slot)
                {
                    defined.push(slot);
                    let caller = pick(slot as usize + steps.len());
                    steps.push(Step::query_interface(&caller, slot));
                }
                steps.push(step);
            }
        }
    }
    steps
}

/// The start of a scenario, steered by `params`, without steps: the release and knobs, the
/// network environment, the named tokens (and two random ones with
/// [`ScenarioParams::random_tokens`]), and a job of one of them. For stateful tests that
/// generate the steps one at a time ([`step`]).
pub fn scenario_header(params: ScenarioParams) -> BoxedStrategy<Scenario> {
    let mut base = named_tokens();
    if let Some(keep) = &params.tokens {
        base.retain(|name, _| keep.contains(name));
    }
    let extra = if params.random_tokens {
        proptest::collection::vec(any::<TokenInfo>(), 2).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    // Without a choice of releases, the ones with the owner rules and vetoes (1607, 1809)
    // come three times as often as `pre_bits4`, `legacy` twice.
    let releases = if params.releases.is_empty() {
        prop_oneof![
            1 => Just(Release::PreBits4),
            2 => Just(Release::Legacy),
            3 => Just(Release::Win10_1607),
            3 => Just(Release::Win10_1809),
        ]
        .boxed()
    } else {
        proptest::sample::select(params.releases.clone()).boxed()
    };
    let knobs = match params.knobs {
        Some(knobs) => Just(knobs).boxed(),
        None if params.random_knobs => any::<Knobs>(),
        None => Just(Knobs::DEFAULT).boxed(),
    };
    let profile = (releases, knobs)
        .prop_map(|(release, knobs)| crate::profile::Profile::new(release).with_knobs(knobs))
        .boxed();
    extra
        .prop_flat_map(move |extra| {
            let mut tokens = base.clone();
            for (i, t) in extra.into_iter().enumerate() {
                tokens.insert(alloc::format!("t{i}"), t);
            }
            // A-14: a restricted token cannot own a job.
            let owners: Vec<String> = tokens
                .iter()
                .filter(|(_, t)| !t.restricted())
                .map(|(name, _)| name.clone())
                .collect();
            // Half the jobs belong to standard users: where the owner rule, the vetoes,
            // TakeOwnership and logons matter most.
            let standard: Vec<String> = tokens
                .iter()
                .filter(|(_, t)| {
                    !t.restricted() && !t.has_admin_enabled() && !t.user.is_service_account()
                })
                .map(|(name, _)| name.clone())
                .collect();
            let owner = if standard.is_empty() {
                proptest::sample::select(owners).boxed()
            } else {
                prop_oneof![
                    1 => proptest::sample::select(standard),
                    1 => proptest::sample::select(owners),
                ]
                .boxed()
            };
            let job = (
                owner,
                (
                    proptest::option::weighted(0.1, any::<bool>()),
                    proptest::option::weighted(0.1, any::<IntegrityLevel>()),
                ),
                any::<JobType>(),
                any::<Remote>(),
                (
                    proptest::bool::weighted(0.2),
                    // X-3, R-7: who challenges with what, and the IE settings.
                    (challenges(), any::<IeSettings>()),
                ),
                proptest::sample::select(ProxyUsage::ALL.to_vec()),
            );
            // L-15, X-4, R-3 (iv), L-11: no file yet, a server asking for a certificate,
            // stored credentials, the owner's logon stated.
            let more = (
                proptest::bool::weighted(0.9),
                proptest::bool::weighted(0.2),
                proptest::bool::weighted(0.1),
                proptest::option::weighted(0.1, any::<bool>()),
            );
            (
                Just(tokens),
                profile.clone(),
                any::<NetworkEnvironment>(),
                job,
                more,
            )
        })
        .prop_map(|(tokens, profile, environment, job, more)| {
            let (
                owner,
                (owner_elevated, owner_integrity),
                job_type,
                remote,
                (client_certificate, (challenges, ie_settings)),
                proxy,
            ) = job;
            let mut spec = JobSpec::new(&owner);
            spec.owner_elevated = owner_elevated;
            spec.owner_integrity = owner_integrity;
            spec.job_type = job_type;
            // T-7: an upload-reply job over SMB cannot exist; generate jobs that can.
            spec.remote = if job_type == JobType::UploadReply && remote == Remote::Smb {
                Remote::Https
            } else {
                remote
            };
            spec.client_certificate = client_certificate;
            spec.proxy = proxy;
            spec.ie_settings = ie_settings;
            spec.challenges = challenges;
            let (has_file, asks_certificate, stored, logged_on) = more;
            spec.has_file = has_file;
            spec.server_requests_certificate = asks_certificate;
            // A-2: USE_STORED_CREDENTIALS needs IBackgroundCopyJob5.
            spec.use_stored_credentials = stored && profile.release.has_token_options();
            // L-11: a service account is always logged on.
            let service = tokens
                .get(&owner)
                .is_some_and(|t| t.user.is_service_account());
            spec.owner_logged_on = logged_on.filter(|&on| on || !service);
            let mut s = Scenario::new(&owner);
            s.release = profile.release;
            s.knobs = profile.knobs;
            s.environment = environment;
            s.tokens = tokens;
            s.job = spec;
            s
        })
        .boxed()
}

/// Whole scenarios, steered by `params`: a [`scenario_header`] and a sequence of calls and
/// events on its job. Every generated scenario runs ([`Scenario::run`] is `Ok`): a step
/// through a handle whose `query_interface` the access check refused (A-11 under Q-9) is
/// left out.
pub fn scenario(params: ScenarioParams) -> BoxedStrategy<Scenario> {
    let max = params.max_steps.max(1);
    scenario_header(params.clone())
        .prop_flat_map(move |header| {
            let names: Vec<String> = header.tokens.keys().cloned().collect();
            let focus = focus(&header);
            let strategy = step_strategy(&params, names.clone(), focus.clone());
            let steps = proptest::collection::vec(strategy, 1..=max);
            (Just(header), Just((names, focus)), steps)
        })
        .prop_map(|(mut header, (names, focus), raw)| {
            header.steps = playable(&header, fix_handles(raw, &names, &focus));
            header
        })
        .boxed()
}

/// The steps a session of `header` accepts, in order (the others are left out).
fn playable(header: &Scenario, steps: Vec<Step>) -> Vec<Step> {
    let Ok(mut session) = Session::new(header) else {
        return steps;
    };
    steps
        .into_iter()
        .filter(|step| session.step(step).is_ok())
        .collect()
}

/// One step that `session` can apply now ([`Session::check`] passes), steered by `params`
/// like the steps of [`scenario`]: a `query_interface` defines the next free handle number;
/// a method goes through a handle obtained so far (a `query_interface` instead, while there
/// is none); events and network steps as `params` allows.
///
/// ```
/// use bits_helper_token::scenario::Session;
/// use bits_helper_token::support::proptest::{scenario_header, step, ScenarioParams};
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let params = ScenarioParams::default();
/// let header = scenario_header(params.clone()).new_tree(&mut runner).unwrap().current();
/// let mut session = Session::new(&header).unwrap();
/// for _ in 0..50 {
///     let next = step(&params, &session).new_tree(&mut runner).unwrap().current();
///     session.step(&next).expect("a generated step is always valid");
/// }
/// assert_eq!(session.steps_taken(), 50);
/// ```
pub fn step(params: &ScenarioParams, session: &Session) -> BoxedStrategy<Step> {
    let names: Vec<String> = session.token_names().map(String::from).collect();
    let obtained: Vec<HandleName> = session
        .handles()
        .filter(|&(_, obtained)| obtained)
        .map(|(name, _)| name.clone())
        .collect();
    let mut fresh = 1u64;
    while session
        .handles()
        .any(|(name, _)| *name == HandleName::Number(fresh))
    {
        fresh += 1;
    }
    let focus = focus(session.header());
    let query = {
        let (names, focus) = (names.clone(), focus.clone());
        move |i: usize| Step::query_interface(&implicit_caller(&names, &focus, i), fresh)
    };
    // L-15: a second file on a download is outside the model: no `add_file` by a caller
    // who would get that far.
    let second_file: Vec<Option<String>> = core::iter::once(None)
        .chain(names.iter().cloned().map(Some))
        .filter(|caller| {
            let step = Step::AddFile {
                caller: caller.clone(),
                level: None,
            };
            session.check(&step).is_err()
        })
        .collect();
    step_strategy(params, names.clone(), focus)
        .prop_map(move |raw| match raw {
            RawStep::Query { who, .. } => Step::query_interface(&who, fresh),
            RawStep::Step(mut step) => {
                let Some(handle) = step.handle_mut() else {
                    return step;
                };
                let HandleName::Number(slot) = *handle else {
                    return step;
                };
                if obtained.is_empty() {
                    return query(slot as usize);
                }
                // Odd slots go through the handle obtained last (a call usually follows
                // its QueryInterface), even ones through any.
                *handle = match (slot % 2, obtained.last()) {
                    (1, Some(last)) => last.clone(),
                    _ => obtained[slot as usize % obtained.len()].clone(),
                };
                step
            }
        })
        .prop_filter(
            "not a second file on a download (L-15)",
            move |step| match step {
                Step::AddFile { caller, .. } => !second_file.contains(caller),
                _ => true,
            },
        )
        .boxed()
}

impl Arbitrary for Scenario {
    type Parameters = ScenarioParams;
    type Strategy = BoxedStrategy<Scenario>;
    fn arbitrary_with(params: ScenarioParams) -> Self::Strategy {
        scenario(params)
    }
}

#[cfg(test)]
mod tests;
