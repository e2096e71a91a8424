//! Strategies and `Arbitrary` impls for downstream property tests (feature `proptest`).
//!
//! Downstream crates cannot implement `proptest::arbitrary::Arbitrary` for this crate's
//! types themselves (the orphan rule), so they live here. Every public input type has an
//! `Arbitrary` impl; the functions give steerable strategies:
//!
//! * SIDs from a small [`sid_pool`] (so owners, callers and helpers collide, which is where
//!   the rules are interesting) or fully random ([`any_sid`]);
//! * tokens whose Administrators group is enabled, deny-only or absent ([`token`] with an
//!   [`AdminGroup`]);
//! * raw flags with or without unknown bits ([`raw_flags`]);
//! * profiles over every release and knob ([`profile`]);
//! * job facts ([`job_facts`]) and jobs ([`job`]).
//!
//! ```
//! use bits_helper_token::support::proptest::{token, AdminGroup};
//! use bits_helper_token::Token;
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//!
//! // In a test: `proptest! { #[test] fn f(t in token(Just(AdminGroup::DenyOnly))) { … } }`.
//! let mut runner = TestRunner::default();
//! runner
//!     .run(&token(Just(AdminGroup::DenyOnly)), |t| {
//!         prop_assert!(!t.has_admin_enabled()); // T-5: deny-only is never an administrator
//!         Ok(())
//!     })
//!     .unwrap();
//! ```

use crate::challenge::{Challenges, IeSettings};
use crate::facts::JobFacts;
use crate::hresult::HResult;
use crate::job::Job;
use crate::profile::{
    AccessCheck, AdminBypass, DoneJobs, FailureCode, Knobs, LegacySetToken, Profile, Release,
    TakeOwnership, TokenCheck, UnknownFlags,
};
use crate::sid::{MAX_AUTHORITY, Sid};
use crate::state::{JobState, JobType, Remote};
use crate::token::{Group, GroupAttributes, Identity, IntegrityLevel, TokenInfo};
use crate::usage::TokenUsage;
use alloc::vec::Vec;
use proptest::prelude::*;

/// The SIDs of [`sid_pool`]: the three service accounts and three domain users
/// `S-1-5-21-1-2-3-{1001,1002,500}`.
pub fn pool() -> [Sid; 6] {
    let user = |rid| Sid::new(5, &[21, 1, 2, 3, rid]).unwrap_or(Sid::EVERYONE);
    [
        Sid::LOCAL_SYSTEM,
        Sid::LOCAL_SERVICE,
        Sid::NETWORK_SERVICE,
        user(1001),
        user(1002),
        user(500),
    ]
}

/// A SID from the small [`pool`], so that generated callers, owners and helper tokens
/// often coincide.
pub fn sid_pool() -> impl Strategy<Value = Sid> {
    proptest::sample::select(pool().to_vec())
}

/// Any valid SID: a random 48-bit authority and 1 to 15 random sub-authorities.
pub fn any_sid() -> impl Strategy<Value = Sid> {
    (
        0..=MAX_AUTHORITY,
        proptest::collection::vec(any::<u32>(), 1..=15),
    )
        .prop_map(|(authority, subs)| Sid::new(authority, &subs).unwrap_or(Sid::EVERYONE))
}

impl Arbitrary for Sid {
    type Parameters = ();
    type Strategy = BoxedStrategy<Sid>;
    /// Half from the pool, half fully random.
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![sid_pool(), any_sid()].boxed()
    }
}

/// How a generated token carries the Administrators group (T-5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum AdminGroup {
    /// Present and enabled (`0xF`): an administrator.
    Enabled,
    /// Present, deny-only (`0x10` as UAC filters it, or `0x19` as `CreateRestrictedToken`
    /// makes it): not an administrator.
    DenyOnly,
    /// Present but not enabled (`0x3`): not an administrator.
    Disabled,
    /// Absent.
    Absent,
}

impl AdminGroup {
    /// Every variant.
    pub const ALL: [AdminGroup; 4] = [
        AdminGroup::Enabled,
        AdminGroup::DenyOnly,
        AdminGroup::Disabled,
        AdminGroup::Absent,
    ];
}

impl Arbitrary for AdminGroup {
    type Parameters = ();
    type Strategy = BoxedStrategy<AdminGroup>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        proptest::sample::select(AdminGroup::ALL.to_vec()).boxed()
    }
}

/// A token of a pooled user whose Administrators group is as `admin` says, with a few
/// other groups (Everyone, Users, random extra attribute bits that do not matter).
pub fn token(admin: impl Strategy<Value = AdminGroup>) -> impl Strategy<Value = TokenInfo> {
    (sid_pool(), admin, any::<bool>(), 0u32..3).prop_map(|(user, admin, users_first, extra)| {
        let everyone = Group::new(Sid::EVERYONE, GroupAttributes::DEFAULT_ENABLED);
        let users = Group::new(Sid::BUILTIN_USERS, GroupAttributes::DEFAULT_ENABLED);
        let attrs = match admin {
            AdminGroup::Enabled => 0xF,
            AdminGroup::DenyOnly => [0x10, 0x19, 0x14][extra as usize],
            AdminGroup::Disabled => 0x3,
            AdminGroup::Absent => 0,
        };
        let mut groups = Vec::with_capacity(3);
        if users_first {
            groups.push(users);
        }
        groups.push(everyone);
        if admin != AdminGroup::Absent {
            groups.push(Group::new(
                Sid::BUILTIN_ADMINISTRATORS,
                GroupAttributes::from_bits_retain(attrs),
            ));
        }
        if !users_first {
            groups.push(users);
        }
        TokenInfo::new(user, groups)
    })
}

impl Arbitrary for TokenInfo {
    type Parameters = ();
    type Strategy = BoxedStrategy<TokenInfo>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        token(any::<AdminGroup>()).boxed()
    }
}

impl Arbitrary for Identity {
    type Parameters = ();
    type Strategy = BoxedStrategy<Identity>;
    /// A pooled SID, administrator or not.
    fn arbitrary_with((): ()) -> Self::Strategy {
        (sid_pool(), any::<bool>())
            .prop_map(|(sid, admin)| Identity::new(sid, admin))
            .boxed()
    }
}

/// Raw `SetHelperTokenFlags` arguments: known values `0..=3`, and (when `unknown`) values
/// with unknown bits too.
pub fn raw_flags(unknown: bool) -> BoxedStrategy<u32> {
    if unknown {
        prop_oneof![3 => 0u32..4, 1 => 4u32..16, 1 => any::<u32>()].boxed()
    } else {
        (0u32..4).boxed()
    }
}

impl Arbitrary for TokenUsage {
    type Parameters = ();
    type Strategy = BoxedStrategy<TokenUsage>;
    /// Any raw value, unknown bits included (as a caller may pass them, T-1).
    fn arbitrary_with((): ()) -> Self::Strategy {
        raw_flags(true)
            .prop_map(TokenUsage::from_bits_retain)
            .boxed()
    }
}

impl Arbitrary for GroupAttributes {
    type Parameters = ();
    type Strategy = BoxedStrategy<GroupAttributes>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        any::<u32>()
            .prop_map(GroupAttributes::from_bits_retain)
            .boxed()
    }
}

impl Arbitrary for HResult {
    type Parameters = ();
    type Strategy = BoxedStrategy<HResult>;
    /// A named code or any value.
    fn arbitrary_with((): ()) -> Self::Strategy {
        let named: Vec<HResult> = HResult::known().map(|(hr, _)| hr).collect();
        prop_oneof![
            proptest::sample::select(named),
            any::<i32>().prop_map(HResult::new)
        ]
        .boxed()
    }
}

macro_rules! arbitrary_from_all {
    ($($ty:ty => $all:expr;)*) => {$(
        impl Arbitrary for $ty {
            type Parameters = ();
            type Strategy = BoxedStrategy<$ty>;
            fn arbitrary_with((): ()) -> Self::Strategy {
                proptest::sample::select($all.to_vec()).boxed()
            }
        }
    )*};
}

arbitrary_from_all! {
    Release => Release::ALL;
    JobState => JobState::ALL;
    JobType => JobType::ALL;
    Remote => Remote::ALL;
    UnknownFlags => UnknownFlags::ALL;
    AdminBypass => AdminBypass::ALL;
    DoneJobs => DoneJobs::ALL;
    TakeOwnership => TakeOwnership::ALL;
    LegacySetToken => LegacySetToken::ALL;
    AccessCheck => AccessCheck::ALL;
    TokenCheck => TokenCheck::ALL;
    IeSettings => IeSettings::ALL;
    IntegrityLevel => IntegrityLevel::ALL;
    Access => Access::ALL;
    AuthTarget => AuthTarget::ALL;
    AuthScheme => AuthScheme::ALL;
    Credential => [Credential::Explicit, Credential::Implicit];
    ProxyUsage => ProxyUsage::ALL;
    UseLmCompat => UseLmCompat::ALL;
}

impl Arbitrary for LmCompatibilityLevel {
    type Parameters = ();
    type Strategy = BoxedStrategy<LmCompatibilityLevel>;
    /// The six levels, 0 to 5.
    fn arbitrary_with((): ()) -> Self::Strategy {
        (0u32..=5)
            .prop_filter_map("0..=5 is a level", |l| LmCompatibilityLevel::new(l).ok())
            .boxed()
    }
}

impl Arbitrary for NetworkEnvironment {
    type Parameters = ();
    type Strategy = BoxedStrategy<NetworkEnvironment>;
    /// Any `UseLMCompat` and `LMCompatibilityLevel` (R-3).
    fn arbitrary_with((): ()) -> Self::Strategy {
        (any::<UseLmCompat>(), any::<LmCompatibilityLevel>())
            .prop_map(|(u, l)| {
                NetworkEnvironment::DEFAULT
                    .with_use_lm_compat(u)
                    .with_lm_compatibility_level(l)
            })
            .boxed()
    }
}

impl Arbitrary for Credentials {
    type Parameters = ();
    type Strategy = BoxedStrategy<Credentials>;
    /// Up to six `SetCredentials` calls from none; the ones `SetCredentials` refuses
    /// (implicit Basic or Digest) leave the credentials as they were.
    fn arbitrary_with((): ()) -> Self::Strategy {
        proptest::collection::vec(
            (
                any::<AuthTarget>(),
                any::<AuthScheme>(),
                any::<Credential>(),
            ),
            0..=6,
        )
        .prop_map(|calls| {
            calls
                .into_iter()
                .fold(Credentials::NONE, |c, (target, scheme, credential)| {
                    c.set(target, scheme, credential).unwrap_or(c)
                })
        })
        .boxed()
    }
}

/// Who challenges with what (X-3): any set of schemes for the server and for the proxy.
pub fn challenges() -> impl Strategy<Value = Challenges> {
    (0u8..32, 0u8..32).prop_map(|(server, proxy)| {
        let mut challenges = Challenges::NONE;
        for (i, &scheme) in AuthScheme::ALL.iter().enumerate() {
            if server & (1 << i) != 0 {
                challenges = challenges.with(AuthTarget::Server, scheme);
            }
            if proxy & (1 << i) != 0 {
                challenges = challenges.with(AuthTarget::Proxy, scheme);
            }
        }
        challenges
    })
}

impl Arbitrary for Challenges {
    type Parameters = ();
    type Strategy = BoxedStrategy<Challenges>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        challenges().boxed()
    }
}

impl Arbitrary for Impersonation {
    type Parameters = ();
    type Strategy = BoxedStrategy<Impersonation>;
    /// Nine times in ten the client allows impersonation (of any [`Identity`]).
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            9 => any::<Identity>().prop_map(Impersonation::Allowed),
            1 => Just(Impersonation::Denied),
        ]
        .boxed()
    }
}

impl Arbitrary for Group {
    type Parameters = ();
    type Strategy = BoxedStrategy<Group>;
    /// Any SID with any attributes.
    fn arbitrary_with((): ()) -> Self::Strategy {
        (any::<Sid>(), any::<GroupAttributes>())
            .prop_map(|(sid, attributes)| Group::new(sid, attributes))
            .boxed()
    }
}

impl Arbitrary for FailureCode {
    type Parameters = ();
    type Strategy = BoxedStrategy<FailureCode>;
    /// `E_ACCESSDENIED` mostly, sometimes another failure code.
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            3 => Just(FailureCode::ACCESS_DENIED),
            1 => (i32::MIN..0).prop_map(|raw| FailureCode::new(HResult::new(raw)).unwrap_or(FailureCode::ACCESS_DENIED)),
        ]
        .boxed()
    }
}

impl Arbitrary for Knobs {
    type Parameters = ();
    type Strategy = BoxedStrategy<Knobs>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        (
            any::<UnknownFlags>(),
            any::<AdminBypass>(),
            any::<DoneJobs>(),
            any::<FailureCode>(),
            any::<TakeOwnership>(),
            any::<LegacySetToken>(),
            (any::<AccessCheck>(), any::<TokenCheck>()),
        )
            .prop_map(|(u, a, d, f, t, l, (c, q8))| {
                let mut k = Knobs::DEFAULT;
                k.unknown_flags = u;
                k.admin_bypass = a;
                k.done_jobs = d;
                k.denial = f;
                k.take_ownership = t;
                k.legacy_set_token = l;
                k.access_check = c;
                k.token_check = q8;
                k
            })
            .boxed()
    }
}

/// A profile: the given releases, with every knob at its default (`default_knobs`) or
/// random.
pub fn profile(releases: &[Release], default_knobs: bool) -> BoxedStrategy<Profile> {
    let releases = if releases.is_empty() {
        Release::ALL.to_vec()
    } else {
        releases.to_vec()
    };
    let knobs = if default_knobs {
        Just(Knobs::DEFAULT).boxed()
    } else {
        any::<Knobs>()
    };
    (proptest::sample::select(releases), knobs)
        .prop_map(|(r, k)| Profile::new(r).with_knobs(k))
        .boxed()
}

impl Arbitrary for Profile {
    type Parameters = ();
    type Strategy = BoxedStrategy<Profile>;
    /// Any release; default knobs three times in four.
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![3 => profile(&[], true), 1 => profile(&[], false)].boxed()
    }
}

/// Job facts with a pooled owner, any state, stored flags (known bits only), maybe a
/// stored helper token, maybe a client certificate, any protocol; and, one time in two,
/// network settings (credentials, proxy usage, R-3 environment, challenges, IE settings).
pub fn job_facts() -> impl Strategy<Value = JobFacts> {
    (
        (
            any::<Identity>(),
            any::<JobState>(),
            0u32..4,
            proptest::option::of(any::<Identity>()),
            any::<bool>(),
            any::<Remote>(),
        ),
        proptest::option::of((
            any::<Credentials>(),
            any::<ProxyUsage>(),
            any::<NetworkEnvironment>(),
            any::<Challenges>(),
            any::<IeSettings>(),
        )),
    )
        .prop_map(|((owner, state, flags, helper, cert, remote), network)| {
            let mut facts = JobFacts::new(owner)
                .with_state(state)
                .with_flags(TokenUsage::from_bits_retain(flags))
                .with_helper(helper)
                .with_client_certificate(cert)
                .with_remote(remote);
            if let Some((credentials, proxy, environment, challenges, ie_settings)) = network {
                facts.credentials = credentials;
                facts.proxy = proxy;
                facts.environment = environment;
                facts.challenges = challenges;
                facts.ie_settings = ie_settings;
            }
            facts
        })
}

impl Arbitrary for JobFacts {
    type Parameters = ();
    type Strategy = BoxedStrategy<JobFacts>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        job_facts().boxed()
    }
}

/// A fresh job: any profile, a pooled owner (elevated or not), any type and protocol a job
/// can have (an upload-reply job cannot use SMB), maybe a client certificate.
pub fn job() -> impl Strategy<Value = Job> {
    (
        any::<Profile>(),
        any::<Identity>(),
        any::<JobType>(),
        any::<Remote>(),
        any::<bool>(),
    )
        .prop_filter(
            "an upload-reply job cannot use SMB",
            |(_, _, job_type, remote, _)| {
                JobFacts::new(Identity::LOCAL_SYSTEM)
                    .with_job_type(*job_type)
                    .with_remote(*remote)
                    .can_exist()
            },
        )
        .prop_map(|(profile, owner, job_type, remote, cert)| {
            let mut job = Job::with_owner(profile, owner)
                .with_job_type(job_type)
                .with_remote(remote);
            job.set_client_certificate(cert);
            job
        })
}

impl Arbitrary for Job {
    type Parameters = ();
    type Strategy = BoxedStrategy<Job>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        job().boxed()
    }
}

// ---- scenarios -------------------------------------------------------------------------

use crate::access::Access;
use crate::decide::Impersonation;
use crate::net::{
    AuthScheme, AuthTarget, Credential, Credentials, LmCompatibilityLevel, NetworkEnvironment,
    ProxyUsage, UseLmCompat,
};
use crate::scenario::{HandleName, JobSpec, Scenario, Session, Step};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};

/// The named tokens every generated scenario has: `system`, `local_service`,
/// `network_service`, `alice`, `bob` (standard users), `alice_low` (Alice at Low
/// integrity, T-8), `admin` (elevated) and `admin_filtered` (the same user, UAC-filtered,
/// T-5, T-9).
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
        }
    }
}

/// A step before handles are fixed up: handle slots are small numbers.
#[derive(Clone, Debug)]
enum RawStep {
    Query { who: usize, slot: u64 },
    Step(Step),
}

fn step_strategy(p: &ScenarioParams, names: Vec<String>) -> BoxedStrategy<RawStep> {
    let who = proptest::sample::select(names);
    let slot = 1u64..4;
    let h = slot.clone().prop_map(HandleName::Number);
    let flags = raw_flags(p.unknown_flags);
    let mut arms: Vec<(u32, BoxedStrategy<RawStep>)> = alloc::vec![
        (
            3,
            (0usize..64, slot)
                .prop_map(|(who, slot)| RawStep::Query { who, slot })
                .boxed()
        ),
        (
            6,
            (h.clone(), flags)
                .prop_map(|(handle, flags)| RawStep::Step(Step::SetHelperTokenFlags {
                    handle,
                    flags
                }))
                .boxed()
        ),
        (
            2,
            h.clone()
                .prop_map(|handle| RawStep::Step(Step::GetHelperTokenFlags { handle }))
                .boxed()
        ),
        (
            5,
            (h.clone(), who.clone(), proptest::bool::weighted(0.9))
                .prop_map(|(handle, impersonating, can_impersonate)| {
                    RawStep::Step(Step::SetHelperToken {
                        handle,
                        impersonating,
                        can_impersonate,
                    })
                })
                .boxed(),
        ),
        (
            2,
            h.clone()
                .prop_map(|handle| RawStep::Step(Step::ClearHelperToken { handle }))
                .boxed()
        ),
        (
            2,
            h.prop_map(|handle| RawStep::Step(Step::GetHelperTokenSid { handle }))
                .boxed()
        ),
    ];
    if p.events {
        arms.push((
            5,
            prop_oneof![
                prop_oneof![
                    Just(Step::LogoffOwner {}),
                    Just(Step::LogonOwner {}),
                    Just(Step::HelperSessionEnded {}),
                    Just(Step::ServiceStop {}),
                ],
                Just(Step::Resume {}),
                Just(Step::Resume {}),
                Just(Step::Transfer {}),
                Just(Step::Transfer {}),
                Just(Step::Cancel {}),
                Just(Step::Complete {}),
                who.prop_map(|caller| Step::TakeOwnership { caller }),
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
        arms.push((
            4,
            prop_oneof![
                3 => access.prop_map(|access| Step::Route { access }),
                2 => (target.clone(), scheme.clone(), credential)
                    .prop_map(|(target, scheme, credential)| Step::SetCredentials { target, scheme, credential }),
                1 => (target, scheme).prop_map(|(target, scheme)| Step::RemoveCredentials { target, scheme }),
                1 => proptest::sample::select(ProxyUsage::ALL.to_vec()).prop_map(|usage| Step::SetProxyUsage { usage }),
                1 => any::<bool>().prop_map(|present| Step::SetClientCertificate { present }),
            ]
            .prop_map(RawStep::Step)
            .boxed(),
        ));
    }
    proptest::strategy::Union::new_weighted(arms).boxed()
}

/// Turns raw steps into a valid scenario: a handle used before it is defined gets a
/// `query_interface` just before its first use (as the token `names[first % len]`), and a
/// query for a defined slot defines a fresh one instead. Deterministic, so shrinking works.
fn fix_handles(raw: Vec<RawStep>, names: &[String]) -> Vec<Step> {
    let mut defined: Vec<u64> = Vec::new();
    let mut steps = Vec::with_capacity(raw.len() + 3);
    let pick = |i: usize| names[i % names.len()].clone();
    for r in raw {
        match r {
            RawStep::Query { who, slot } => {
                let mut slot = slot;
                while defined.contains(&slot) {
                    slot += 1;
                }
                defined.push(slot);
                steps.push(Step::QueryInterface {
                    caller: pick(who),
                    handle: HandleName::Number(slot),
                });
            }
            RawStep::Step(step) => {
                let used = match &step {
                    Step::SetHelperTokenFlags { handle, .. }
                    | Step::GetHelperTokenFlags { handle }
                    | Step::SetHelperToken { handle, .. }
                    | Step::ClearHelperToken { handle }
                    | Step::GetHelperTokenSid { handle } => Some(handle.clone()),
                    _ => None,
                };
                if let Some(HandleName::Number(slot)) = used {
                    if !defined.contains(&slot) {
                        defined.push(slot);
                        let caller = pick(slot as usize + steps.len());
                        steps.push(Step::QueryInterface {
                            caller,
                            handle: HandleName::Number(slot),
                        });
                    }
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
    let base = named_tokens();
    let extra = if params.random_tokens {
        proptest::collection::vec(any::<TokenInfo>(), 2).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    let profile = profile(&params.releases, !params.random_knobs);
    extra
        .prop_flat_map(move |extra| {
            let mut tokens = base.clone();
            for (i, t) in extra.into_iter().enumerate() {
                tokens.insert(alloc::format!("t{i}"), t);
            }
            let names: Vec<String> = tokens.keys().cloned().collect();
            let job = (
                proptest::sample::select(names),
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
            (
                Just(tokens),
                profile.clone(),
                any::<NetworkEnvironment>(),
                job,
            )
        })
        .prop_map(|(tokens, profile, environment, job)| {
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
            let steps = proptest::collection::vec(step_strategy(&params, names.clone()), 1..=max);
            (Just(header), Just(names), steps)
        })
        .prop_map(|(mut header, names, raw)| {
            header.steps = playable(&header, fix_handles(raw, &names));
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
    let query = {
        let names = names.clone();
        move |who: usize| Step::QueryInterface {
            caller: names[who % names.len()].clone(),
            handle: HandleName::Number(fresh),
        }
    };
    step_strategy(params, names.clone())
        .prop_map(move |raw| match raw {
            RawStep::Query { who, .. } => query(who),
            RawStep::Step(mut step) => {
                let Some(handle) = handle_mut(&mut step) else {
                    return step;
                };
                let HandleName::Number(slot) = *handle else {
                    return step;
                };
                if obtained.is_empty() {
                    return query(slot as usize);
                }
                *handle = obtained[slot as usize % obtained.len()].clone();
                step
            }
        })
        .boxed()
}

/// The handle a step goes through, to rewrite.
fn handle_mut(step: &mut Step) -> Option<&mut HandleName> {
    match step {
        Step::SetHelperTokenFlags { handle, .. }
        | Step::GetHelperTokenFlags { handle }
        | Step::SetHelperToken { handle, .. }
        | Step::ClearHelperToken { handle }
        | Step::GetHelperTokenSid { handle } => Some(handle),
        _ => None,
    }
}

impl Arbitrary for Scenario {
    type Parameters = ScenarioParams;
    type Strategy = BoxedStrategy<Scenario>;
    fn arbitrary_with(params: ScenarioParams) -> Self::Strategy {
        scenario(params)
    }
}
