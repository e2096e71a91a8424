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
//! * job facts ([`job_facts`]) and jobs ([`job`]);
//! * whole scenarios over the [`named_tokens`] ([`scenario`]), their start without steps
//!   ([`scenario_header`]) and one valid step at a time for stateful tests ([`step`]).
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

use crate::access::Access;
use crate::challenge::{Challenges, IeSettings};
use crate::decide::{Impersonation, StartTo};
use crate::facts::JobFacts;
use crate::hresult::HResult;
use crate::job::Job;
use crate::net::{
    AuthScheme, AuthTarget, Credential, Credentials, LmCompatibilityLevel, NetworkEnvironment,
    NetworkState, ProxyUsage, UseLmCompat,
};
use crate::profile::{
    AccessCheck, AdminBypass, DoneJobs, FailureCode, IdentifyOnSetToken, IntegrityReads, Knobs,
    LegacySetToken, Profile, Release, ServiceProxyCredentials, TakeOwnership, TokenCheck,
    UnknownFlags,
};
use crate::sid::{MAX_AUTHORITY, Sid};
use crate::state::{JobState, JobType, Remote};
use crate::token::{
    Group, GroupAttributes, Identity, ImpersonationLevel, IntegrityLevel, LogonType, TokenInfo,
};
use crate::usage::TokenUsage;
use alloc::vec::Vec;
use proptest::prelude::*;

mod scenario;
pub use scenario::{ScenarioParams, named_tokens, scenario, scenario_header, step};

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
    /// [`token`] with any Administrators state; now and then from a logon that does not
    /// count (L-11) or with a restricting SID (T-11).
    fn arbitrary_with((): ()) -> Self::Strategy {
        (
            token(any::<AdminGroup>()),
            proptest::option::weighted(0.2, any::<LogonType>()),
            proptest::bool::weighted(0.1),
        )
            .prop_map(|(token, logon, restricted)| {
                let token = match logon {
                    Some(logon) => token.with_logon(logon),
                    None => token,
                };
                if restricted {
                    token.with_restricting_sids(alloc::vec![Sid::EVERYONE])
                } else {
                    token
                }
            })
            .boxed()
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
    ServiceProxyCredentials => ServiceProxyCredentials::ALL;
    IntegrityReads => IntegrityReads::ALL;
    IdentifyOnSetToken => IdentifyOnSetToken::ALL;
    IeSettings => IeSettings::ALL;
    IntegrityLevel => IntegrityLevel::ALL;
    Access => Access::ALL;
    AuthTarget => AuthTarget::ALL;
    AuthScheme => AuthScheme::ALL;
    Credential => [Credential::Explicit, Credential::Implicit];
    ProxyUsage => ProxyUsage::ALL;
    UseLmCompat => UseLmCompat::ALL;
    LogonType => LogonType::ALL;
    ImpersonationLevel => ImpersonationLevel::ALL;
    NetworkState => NetworkState::ALL;
    StartTo => StartTo::ALL;
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
    /// Any `UseLMCompat` and `LMCompatibilityLevel` (R-3); Kerberos in the domain mostly,
    /// not always (R-6); the network connected mostly (L-13).
    fn arbitrary_with((): ()) -> Self::Strategy {
        (
            any::<UseLmCompat>(),
            any::<LmCompatibilityLevel>(),
            proptest::bool::weighted(0.8),
            proptest::bool::weighted(0.9),
        )
            .prop_map(|(u, l, kerberos, connected)| {
                NetworkEnvironment::DEFAULT
                    .with_use_lm_compat(u)
                    .with_lm_compatibility_level(l)
                    .with_kerberos(kerberos)
                    .with_network(if connected {
                        NetworkState::Connected
                    } else {
                        NetworkState::Disconnected
                    })
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
            (
                any::<AccessCheck>(),
                any::<TokenCheck>(),
                any::<ServiceProxyCredentials>(),
                any::<IntegrityReads>(),
                any::<IdentifyOnSetToken>(),
            ),
        )
            .prop_map(|(u, a, d, f, t, l, (c, q8, q12, q10, q11))| {
                let mut k = Knobs::DEFAULT;
                k.unknown_flags = u;
                k.admin_bypass = a;
                k.done_jobs = d;
                k.denial = f;
                k.take_ownership = t;
                k.legacy_set_token = l;
                k.access_check = c;
                k.token_check = q8;
                k.service_proxy_credentials = q12;
                k.integrity_reads = q10;
                k.identify_on_set_token = q11;
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
            let facts = JobFacts::new(owner)
                .with_job_type(job_type)
                .with_remote(remote)
                .with_client_certificate(cert);
            Job::with_facts(profile, facts)
        })
}

impl Arbitrary for Job {
    type Parameters = ();
    type Strategy = BoxedStrategy<Job>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        job().boxed()
    }
}
