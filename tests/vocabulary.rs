//! The vocabulary types: `HResult` (T-6), `TokenUsage` (T-1), job states and protocols
//! (T-7), releases (A-2, A-3), tokens and identities (T-4, T-5), and the name tables every
//! vocabulary enum shares.

use bits_helper_token::{decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*, *};

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------------------
// HResult (T-6)
// ---------------------------------------------------------------------------------------

#[test]
fn t6_raw_values_round_trip_through_i32_and_u32() {
    let hr = HResult::E_ACCESSDENIED;
    assert_eq!(hr.as_i32(), 0x8007_0005u32 as i32);
    assert_eq!(hr.as_u32(), 0x8007_0005);
    assert_eq!(HResult::new(5).as_i32(), 5);
    assert_eq!(i32::from(hr), 0x8007_0005u32 as i32);
    assert_eq!(i32::from(HResult::S_FALSE), 1);
    assert_eq!(HResult::from(0x8007_0057u32 as i32), HResult::E_INVALIDARG);
    assert_eq!(HResult::from(1), HResult::S_FALSE);
    assert_eq!(HResult::from_u32(0x8020_0056), HResult::BG_E_TOKEN_REQUIRED);
}

#[test]
fn t6_compares_with_plain_integers_both_ways() {
    let hr = HResult::E_ACCESSDENIED;
    let raw = 0x8007_0005u32 as i32;
    assert!(hr == raw);
    assert!(hr != raw + 1);
    assert!(raw == hr);
    assert!(raw + 1 != hr);
    assert!(hr == 0x8007_0005u32);
    assert!(hr != 0x8007_0006u32);
    assert!(0x8007_0005u32 == hr);
    assert!(0x8007_0006u32 != hr);
}

#[test]
fn t6_success_and_failure_split_at_zero() {
    // SUCCEEDED(hr) is hr >= 0; FAILED(hr) is hr < 0: S_OK (0) is a success, not a failure.
    assert!(HResult::S_OK.is_success());
    assert!(!HResult::S_OK.is_failure());
    assert!(HResult::S_FALSE.is_success());
    assert!(!HResult::S_FALSE.is_failure());
    assert!(HResult::E_FAIL.is_failure());
    assert!(!HResult::E_FAIL.is_success());
}

#[test]
fn t6_facility_and_code() {
    assert_eq!(HResult::E_ACCESSDENIED.facility(), 7);
    assert_eq!(HResult::E_ACCESSDENIED.code(), 5);
    assert_eq!(HResult::CO_E_FAILEDTOIMPERSONATE.facility(), 1);
    assert_eq!(HResult::CO_E_FAILEDTOIMPERSONATE.code(), 0x0123);
    assert_eq!(HResult::from_u32(0xFFFF_FFFF).facility(), 0x1FFF);
    assert_eq!(HResult::from_u32(0xFFFF_FFFF).code(), 0xFFFF);
}

#[test]
fn t6_from_win32() {
    assert_eq!(HResult::from_win32(12186), 0x8007_2F9Au32);
    assert_eq!(HResult::from_win32(0x1_2F9A), 0x8007_2F9Au32);
    // Non-positive values (as signed) pass through unchanged.
    assert_eq!(HResult::from_win32(0), HResult::S_OK);
    assert_eq!(HResult::from_win32(0x8000_4005), HResult::E_FAIL);
}

#[test]
fn t6_names_and_text() {
    assert_eq!(HResult::E_ACCESSDENIED.name(), Some("E_ACCESSDENIED"));
    assert_eq!(HResult::from_u32(0x1234).name(), None);
    assert!(HResult::known().any(|(hr, n)| hr == HResult::S_OK && n == "S_OK"));
    assert_eq!(
        format!("{:?}", HResult::E_ACCESSDENIED),
        "HResult(0x80070005 (E_ACCESSDENIED))"
    );
    assert_eq!(format!("{:?}", HResult::from_u32(7)), "HResult(0x00000007)");
}

#[test]
fn t6_parse_positions_and_prefixes() {
    use ParseHResultError::*;
    // The position of a bad digit is 2 + its index after `0x`.
    assert_eq!("0xg".parse::<HResult>(), Err(BadHex { at: 2 }));
    assert_eq!("0x1g".parse::<HResult>(), Err(BadHex { at: 3 }));
    assert_eq!("0x123g".parse::<HResult>(), Err(BadHex { at: 5 }));
    // 8 digits is the maximum, and they are read in order.
    assert_eq!(
        "0x12345678".parse::<HResult>(),
        Ok(HResult::from_u32(0x1234_5678))
    );
    assert_eq!("0xA".parse::<HResult>(), Ok(HResult::from_u32(10)));
    // Only `0x` / `0X` start a number; anything else is a name.
    assert_eq!("1x5".parse::<HResult>(), Err(UnknownName));
    assert_eq!("0y5".parse::<HResult>(), Err(UnknownName));
    assert_eq!("00".parse::<HResult>(), Err(UnknownName));
    assert_eq!("0".parse::<HResult>(), Err(UnknownName));
    assert_eq!("x".parse::<HResult>(), Err(UnknownName));
}

#[test]
fn t6_serde_errors_say_what_is_expected() {
    let e = serde_json::from_str::<HResult>("5")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(r#"an HRESULT as "0x80070005" or a name such as "E_ACCESSDENIED""#),
        "{e}"
    );
    let e = serde_json::from_str::<HResult>(r#""0x""#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected 1 to 8 hexadecimal digits"), "{e}");
}

// ---------------------------------------------------------------------------------------
// TokenUsage (T-1)
// ---------------------------------------------------------------------------------------

#[test]
fn t1_unknown_bits() {
    assert_eq!(TokenUsage::from_bits_retain(0x6).unknown_bits(), 0x4);
    assert_eq!(TokenUsage::from_bits_retain(0x3).unknown_bits(), 0);
    assert_eq!(TokenUsage::from_bits_retain(u32::MAX).unknown_bits(), !0x3);
    assert!(TokenUsage::from_bits_retain(0x4).has_unknown_bits());
    assert!(!TokenUsage::all().has_unknown_bits());
    assert!(!TokenUsage::empty().has_unknown_bits());
}

#[test]
fn t1_text_is_strict_about_hex_parts() {
    use ParseUsageError::*;
    // 1 to 8 hex digits, nothing else: no sign, no ninth digit even if it is a zero.
    assert_eq!("0x+1".parse::<TokenUsage>(), Err(UnknownName { at: 0 }));
    assert_eq!(
        "0x000000001".parse::<TokenUsage>(),
        Err(UnknownName { at: 0 })
    );
    assert_eq!(
        "0x00000001".parse::<TokenUsage>(),
        Ok(TokenUsage::LOCAL_FILE)
    );
    assert_eq!(
        "0xFFFFFFFF".parse::<TokenUsage>().map(|u| u.bits()),
        Ok(u32::MAX)
    );
    assert_eq!("0".parse::<TokenUsage>(), Ok(TokenUsage::empty()));
    assert_eq!("0 | NETWORK".parse::<TokenUsage>(), Ok(TokenUsage::NETWORK));
    // Offsets of later parts, with and without leading spaces.
    assert_eq!(
        "NETWORK|bad".parse::<TokenUsage>(),
        Err(UnknownName { at: 8 })
    );
    assert_eq!(
        "NETWORK|  bad".parse::<TokenUsage>(),
        Err(UnknownName { at: 10 })
    );
    assert_eq!(
        "LOCAL_FILE | NETWORK |".parse::<TokenUsage>(),
        Err(EmptyPart { at: 22 })
    );
    assert_eq!("bad".parse::<TokenUsage>(), Err(UnknownName { at: 0 }));
    assert_eq!("   ".parse::<TokenUsage>(), Err(EmptyPart { at: 3 }));
}

#[test]
fn t1_debug_shows_the_display_form() {
    assert_eq!(
        format!("{:?}", TokenUsage::all()),
        "TokenUsage(LOCAL_FILE | NETWORK)"
    );
    assert_eq!(format!("{:?}", TokenUsage::empty()), "TokenUsage(0)");
}

// ---------------------------------------------------------------------------------------
// Job vocabulary (T-7) and releases (A-2, A-3)
// ---------------------------------------------------------------------------------------

#[test]
fn t7_states_values_names_and_finished() {
    for (i, s) in JobState::ALL.iter().copied().enumerate() {
        assert_eq!(s.value(), i as u32);
        assert_eq!(JobState::from_value(i as u32), Some(s));
        assert_eq!(s.to_string(), s.name());
        assert_eq!(s.name().parse::<JobState>(), Ok(s));
    }
    assert_eq!(JobState::from_value(9), None);
    assert_eq!(JobState::from_value(u32::MAX), None);
    assert_eq!(JobState::Transferred.name(), "transferred");
    assert_eq!(JobState::TransientError.to_string(), "transient_error");
    let finished: Vec<bool> = JobState::ALL.iter().map(|s| s.is_finished()).collect();
    assert_eq!(
        finished,
        [false, false, false, false, false, false, true, true, true]
    );
    assert_eq!("nope".parse::<JobState>().unwrap_err().what(), "job state");
}

#[test]
fn t7_job_types_and_remotes() {
    let names: Vec<String> = JobType::ALL.iter().map(|t| t.to_string()).collect();
    assert_eq!(names, ["download", "upload", "upload_reply"]);
    for &t in JobType::ALL {
        assert_eq!(t.name().parse::<JobType>(), Ok(t));
    }
    assert_eq!(
        "Download".parse::<JobType>().unwrap_err().what(),
        "job type"
    );
    let names: Vec<String> = Remote::ALL.iter().map(|r| r.to_string()).collect();
    assert_eq!(names, ["http", "https", "smb"]);
    for &r in Remote::ALL {
        assert_eq!(r.name().parse::<Remote>(), Ok(r));
    }
    assert_eq!(
        "ftp".parse::<Remote>().unwrap_err().what(),
        "remote protocol"
    );
    let http: Vec<bool> = Remote::ALL.iter().map(|r| r.is_http()).collect();
    assert_eq!(http, [true, true, false]);
}

#[test]
fn a2_a3_releases() {
    let names: Vec<String> = Release::ALL.iter().map(|r| r.to_string()).collect();
    assert_eq!(names, ["pre_bits4", "legacy", "win10_1607", "win10_1809"]);
    for &r in Release::ALL {
        assert_eq!(r.name().parse::<Release>(), Ok(r));
    }
    let table: Vec<(bool, bool, bool)> = Release::ALL
        .iter()
        .map(|r| {
            (
                r.has_token_options(),
                r.has_owner_rules(),
                r.preconfig_proxy_as_helper(),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            (false, false, false),
            (true, false, false),
            (true, true, false),
            (true, true, true)
        ]
    );
    assert!("legacy ".parse::<Release>().is_err());
}

#[test]
fn q5_failure_codes_convert() {
    let code = FailureCode::try_from(HResult::E_FAIL).unwrap();
    assert_eq!(code.get(), HResult::E_FAIL);
    assert_eq!(HResult::from(code), HResult::E_FAIL);
    assert_eq!(
        FailureCode::try_from(HResult::S_FALSE),
        Err(NotAFailure(HResult::S_FALSE))
    );
    assert_eq!(FailureCode::ACCESS_DENIED.get(), HResult::E_ACCESSDENIED);
}

#[test]
fn a3_profile_with_knobs_keeps_the_release_and_sets_the_knobs() {
    let mut knobs = Knobs::DEFAULT;
    knobs.unknown_flags = UnknownFlags::Mask;
    let p = Profile::new(Release::Legacy).with_knobs(knobs);
    assert_eq!(p.release, Release::Legacy);
    assert_eq!(p.knobs, knobs);
    assert_eq!(Profile::new(Release::Legacy).knobs, Knobs::DEFAULT);
}

/// Each `Knobs::with_*` gives the knobs it was called on with its own knob (Q-1 … Q-12) set
/// to the value given and every other knob kept: the same as assigning that one field.
/// It starts both from the defaults and from knobs with every knob away from its default,
/// so a setter that drops its value or resets another knob is seen either way.
#[test]
fn q_each_knob_setter_sets_its_own_knob_and_keeps_the_others() {
    let mut far = Knobs::DEFAULT;
    far.unknown_flags = UnknownFlags::Mask;
    far.admin_bypass = AdminBypass::NoBypass;
    far.done_jobs = DoneJobs::Allow;
    far.denial = FailureCode::new(HResult::E_FAIL).unwrap();
    far.take_ownership = TakeOwnership::Clear;
    far.legacy_set_token = LegacySetToken::OwnerOnly;
    far.token_check = TokenCheck::Lazy;
    far.access_check = AccessCheck::PerCall;
    far.integrity_reads = IntegrityReads::Refuse;
    far.identify_on_set_token = IdentifyOnSetToken::AccessDenied;
    far.service_proxy_credentials = ServiceProxyCredentials::None;

    let denials = [
        FailureCode::ACCESS_DENIED,
        FailureCode::new(HResult::E_FAIL).unwrap(),
        FailureCode::new(HResult::E_INVALIDARG).unwrap(),
    ];
    let mut checked = 0;
    macro_rules! setter {
        ($with:ident, $field:ident, $values:expr) => {
            assert_ne!(
                far.$field,
                Knobs::DEFAULT.$field,
                "far.{}",
                stringify!($field)
            );
            for start in [Knobs::DEFAULT, far] {
                for &value in $values {
                    let mut expected = start;
                    expected.$field = value;
                    assert_eq!(
                        start.$with(value),
                        expected,
                        "{}({:?}) on {:?}",
                        stringify!($with),
                        value,
                        start
                    );
                    checked += 1;
                }
            }
        };
    }
    setter!(with_unknown_flags, unknown_flags, UnknownFlags::ALL);
    setter!(with_admin_bypass, admin_bypass, AdminBypass::ALL);
    setter!(with_done_jobs, done_jobs, DoneJobs::ALL);
    setter!(with_denial, denial, &denials);
    setter!(with_take_ownership, take_ownership, TakeOwnership::ALL);
    setter!(with_legacy_set_token, legacy_set_token, LegacySetToken::ALL);
    setter!(with_token_check, token_check, TokenCheck::ALL);
    setter!(with_access_check, access_check, AccessCheck::ALL);
    setter!(with_integrity_reads, integrity_reads, IntegrityReads::ALL);
    setter!(
        with_identify_on_set_token,
        identify_on_set_token,
        IdentifyOnSetToken::ALL
    );
    setter!(
        with_service_proxy_credentials,
        service_proxy_credentials,
        ServiceProxyCredentials::ALL
    );
    // 2 starts × the values of each knob: 3 + 3 + 2 + 3 + 3 + 3 + 2 + 2 + 2 + 2 + 2.
    assert_eq!(checked, 2 * 27);
}

// ---------------------------------------------------------------------------------------
// Tokens and identities (T-4, T-5)
// ---------------------------------------------------------------------------------------

#[test]
fn t5_a_reference_to_a_token_is_the_same_token() {
    let admin = TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-500"));
    let user = TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"));
    for t in [&admin, &user] {
        let r: &TokenInfo = t;
        assert_eq!(<&TokenInfo as Token>::user(&r), t.user);
        assert_eq!(<&TokenInfo as Token>::groups(&r), &t.groups[..]);
        assert_eq!(
            <&TokenInfo as Token>::has_admin_enabled(&r),
            t.has_admin_enabled()
        );
        assert_eq!(Identity::of(&r), Identity::of(t));
    }
    assert!(<&TokenInfo as Token>::has_admin_enabled(&&admin));
    assert!(!<&TokenInfo as Token>::has_admin_enabled(&&user));
}

/// T-8, T-9, T-11, L-11: a reference to a token says what the token says of its
/// elevation, integrity level, restriction and logon, and the identity and logon the model
/// reads through it are the token's. Each token below differs from the trait's defaults in
/// one of them, so a reference that answered with a default would be seen.
#[test]
fn t11_l11_a_reference_says_what_its_token_says() {
    let u = sid("S-1-5-21-1-2-3-1001");
    let tokens = [
        TokenInfo::standard_user(u).with_restricting_sids(vec![sid("S-1-5-12")]),
        TokenInfo::standard_user(u).with_logon(LogonType::Network),
        TokenInfo::standard_user(u).with_logon(LogonType::Batch),
        TokenInfo::local_service().with_logon(LogonType::Interactive),
        TokenInfo::standard_user(u)
            .with_elevated(true)
            .with_integrity(IntegrityLevel::High),
    ];
    let mut restricted = 0;
    let mut logons = 0;
    for t in &tokens {
        let r: &TokenInfo = t;
        assert_eq!(<&TokenInfo as Token>::restricted(&r), t.restricted());
        assert_eq!(<&TokenInfo as Token>::logon(&r), t.logon());
        assert_eq!(
            <&TokenInfo as Token>::logon_or_default(&r),
            t.logon_or_default()
        );
        assert_eq!(<&TokenInfo as Token>::elevated(&r), t.elevated());
        assert_eq!(<&TokenInfo as Token>::integrity(&r), t.integrity());
        assert_eq!(Identity::of(&r), Identity::of(t));
        restricted += usize::from(t.restricted());
        logons += usize::from(t.logon().is_some());
    }
    // What the references had to pass on: one restricted token, three stated logons (two
    // that a user's default would not give, and a service account's that its default would
    // not give).
    assert_eq!((restricted, logons), (1, 3));
    assert_eq!(tokens[1].logon_or_default(), LogonType::Network);
    assert_eq!(tokens[3].logon_or_default(), LogonType::Interactive);
    assert!(Identity::of(&&tokens[0]).restricted);
}

/// T-11, L-11: a token that says only its user and groups is not restricted (deny-only
/// groups are not restricting SIDs) and states no logon, whose default is `Service` for the
/// three service accounts and `Interactive` for anyone else.
#[test]
fn t11_l11_a_token_that_says_nothing_more_is_unrestricted_with_the_default_logon() {
    let user = sid("S-1-5-21-1-2-3-500");
    let deny_only = vec![Group::new(
        Sid::BUILTIN_ADMINISTRATORS,
        GroupAttributes::USE_FOR_DENY_ONLY,
    )];
    let minimal = Minimal(user, deny_only);
    assert!(!minimal.restricted());
    assert!(!Identity::of(&minimal).restricted);
    assert_eq!(minimal.logon(), None);
    assert_eq!(minimal.logon_or_default(), LogonType::Interactive);
    for service in ["S-1-5-18", "S-1-5-19", "S-1-5-20"] {
        let token = Minimal(sid(service), vec![]);
        assert_eq!(token.logon(), None, "{service}");
        assert_eq!(token.logon_or_default(), LogonType::Service, "{service}");
    }
}

#[test]
fn t5_job_owner_identity() {
    let a = sid("S-1-5-21-1-2-3-500");
    // T-9: what a job remembers of the token that created it.
    let owner = Job::new(Profile::default(), &TokenInfo::elevated_administrator(a)).owner();
    assert_eq!(owner, Identity::new(a, true));
    let owner = Job::new(Profile::default(), &TokenInfo::filtered_administrator(a)).owner();
    assert_eq!(owner, Identity::new(a, false));
    // T-11: a restricted identity, as a token, is restricted, so `Identity::of` keeps it.
    let restricted = Identity::new(a, false).with_restricted(true);
    assert!(restricted.restricted());
    assert!(!Identity::new(a, false).restricted());
    for id in [
        Identity::new(a, true),
        Identity::NETWORK_SERVICE,
        restricted,
    ] {
        assert_eq!(Identity::of(&id), id);
    }
    // An Identity as a token: the Administrators group exactly when `admin` is set.
    assert!(Identity::new(a, false).groups().is_empty());
    assert_eq!(Identity::new(a, true).groups().len(), 1);
    assert_eq!(
        Identity::new(a, true).groups()[0].sid,
        Sid::BUILTIN_ADMINISTRATORS
    );
    assert_eq!(Identity::new(a, true).user(), a);
    // A job remembers its owner as given.
    let job = Job::new(Profile::default(), &Identity::new(a, true));
    assert_eq!(job.owner(), Identity::new(a, true));
    let job = Job::new(Profile::default(), &Identity::NETWORK_SERVICE);
    assert_eq!(job.owner(), Identity::NETWORK_SERVICE);
}

#[test]
fn t4_t5_enabled_for_allow() {
    let table = [
        (0x4, true),
        (0x7, true),
        (0xF, true),
        (0x0, false),
        (0x3, false),
        (0x10, false),
        (0x14, false),
        (0x1F, false),
    ];
    for (bits, expected) in table {
        assert_eq!(
            GroupAttributes::from_bits_retain(bits).is_enabled_for_allow(),
            expected,
            "{bits:#x}"
        );
    }
    // Only the Administrators SID counts; the same attributes on another group do not.
    let user = sid("S-1-5-21-1-2-3-1001");
    let with = |g: Sid, attrs: u32| {
        TokenInfo::new(
            user,
            vec![Group::new(g, GroupAttributes::from_bits_retain(attrs))],
        )
        .has_admin_enabled()
    };
    assert!(with(Sid::BUILTIN_ADMINISTRATORS, 0x4));
    assert!(!with(Sid::BUILTIN_USERS, 0xF));
    assert!(!with(Sid::BUILTIN_ADMINISTRATORS, 0x14));
    assert!(!with(Sid::BUILTIN_ADMINISTRATORS, 0x3));
}

#[test]
fn t3_token_constructors() {
    let u = sid("S-1-5-21-1-2-3-1001");
    let groups = |t: &TokenInfo| t.groups.iter().map(|g| g.sid).collect::<Vec<_>>();
    assert_eq!(
        groups(&TokenInfo::standard_user(u)),
        [
            Sid::EVERYONE,
            Sid::BUILTIN_USERS,
            Sid::INTERACTIVE,
            Sid::AUTHENTICATED_USERS
        ]
    );
    assert_eq!(TokenInfo::standard_user(u).user, u);
    assert_eq!(TokenInfo::local_service().user, Sid::LOCAL_SERVICE);
    assert_eq!(TokenInfo::network_service().user, Sid::NETWORK_SERVICE);
    assert!(
        TokenInfo::local_service()
            .groups
            .iter()
            .any(|g| g.sid == Sid::SERVICE)
    );
    assert!(!TokenInfo::local_service().has_admin_enabled());
    assert_eq!(TokenInfo::local_system().user, Sid::LOCAL_SYSTEM);
    assert_eq!(TokenInfo::local_system().identity(), Identity::LOCAL_SYSTEM);
    assert_eq!(
        TokenInfo::filtered_administrator(u).identity(),
        Identity::new(u, false)
    );
}

/// T-8: each level's label rid, and the level of every rid, at both edges of each range;
/// a rid between two named levels is the lower one.
#[test]
fn t8_integrity_rids_and_their_levels() {
    use IntegrityLevel::*;
    let table = [
        (Untrusted, 0x0000, 0x0FFF),
        (Low, 0x1000, 0x1FFF),
        (Medium, 0x2000, 0x20FF),
        (MediumPlus, 0x2100, 0x2FFF),
        (High, 0x3000, 0x3FFF),
        (System, 0x4000, 0x4FFF),
        (Protected, 0x5000, u32::MAX),
    ];
    for (level, first, last) in table {
        assert_eq!(level.rid(), first, "{level}");
        assert_eq!(level.sid(), Sid::new(16, &[first]).unwrap(), "{level}");
        for rid in [first, first + 1, last / 2 + first / 2, last] {
            assert_eq!(IntegrityLevel::from_rid(rid), level, "{rid:#x}");
        }
    }
}

/// A token that says only its user and groups: the trait's defaults speak for the rest.
struct Minimal(Sid, Vec<Group>);

impl Token for Minimal {
    fn user(&self) -> Sid {
        self.0
    }
    fn groups(&self) -> &[Group] {
        &self.1
    }
}

/// T-8: a token's label is the `S-1-16-<rid>` group with `SE_GROUP_INTEGRITY`, nothing
/// less: not another authority, not two sub-authorities, not without the attribute.
#[test]
fn t8_the_label_is_the_one_integrity_group() {
    let user = sid("S-1-5-21-1-2-3-1001");
    let label = GroupAttributes::INTEGRITY | GroupAttributes::INTEGRITY_ENABLED;
    let with = |g: &str, attributes: GroupAttributes| {
        let groups = vec![Group::new(sid(g), attributes)];
        let stated = TokenInfo::new(user, groups.clone()).integrity();
        assert_eq!(Minimal(user, groups).integrity(), stated, "{g}");
        stated
    };
    assert_eq!(with("S-1-16-4096", label), Some(IntegrityLevel::Low));
    assert_eq!(
        with("S-1-16-12288", GroupAttributes::INTEGRITY),
        Some(IntegrityLevel::High)
    );
    assert_eq!(with("S-1-16-4096", GroupAttributes::DEFAULT_ENABLED), None);
    assert_eq!(with("S-1-16-4096-1", label), None);
    assert_eq!(with("S-1-5-4096", label), None);
    assert_eq!(with("S-1-5-32-544", label), None);
    // The label decides the identity's level; without one, T-8 infers it.
    let low = vec![Group::new(sid("S-1-16-4096"), label)];
    assert_eq!(
        Identity::of(&Minimal(user, low)).integrity,
        IntegrityLevel::Low
    );
    assert_eq!(
        Identity::of(&Minimal(user, vec![])).integrity,
        IntegrityLevel::Medium
    );
}

/// T-9: a token that does not say whether it is elevated is elevated exactly when it has
/// the Administrators group enabled.
#[test]
fn t9_elevation_unsaid_is_inferred() {
    let user = sid("S-1-5-21-1-2-3-500");
    let admins = vec![Group::new(
        Sid::BUILTIN_ADMINISTRATORS,
        GroupAttributes::DEFAULT_ENABLED,
    )];
    assert_eq!(Minimal(user, admins.clone()).elevated(), None);
    assert_eq!(Minimal(user, vec![]).elevated(), None);
    assert!(Identity::of(&Minimal(user, admins)).elevated);
    assert!(!Identity::of(&Minimal(user, vec![])).elevated);
}

/// T-8, T-9: what a token states wins over the inference, through a reference too, and an
/// identity states both.
#[test]
fn t8_t9_stated_elevation_and_integrity_win() {
    let u = sid("S-1-5-21-1-2-3-500");
    let said = [
        TokenInfo::elevated_administrator(u)
            .with_elevated(false)
            .with_integrity(IntegrityLevel::Medium),
        TokenInfo::standard_user(u)
            .with_elevated(true)
            .with_integrity(IntegrityLevel::Low),
    ];
    for t in &said {
        let r: &TokenInfo = t;
        assert_eq!(<&TokenInfo as Token>::elevated(&r), t.elevated);
        assert_eq!(<&TokenInfo as Token>::integrity(&r), t.integrity);
        let id = Identity::of(&r);
        assert_eq!(Some(id.elevated), t.elevated);
        assert_eq!(Some(id.integrity), t.integrity);
        assert_ne!(id.elevated, t.has_admin_enabled());
    }
    for id in [
        Identity::new(u, false).with_elevated(true),
        Identity::new(u, true).with_elevated(false),
    ] {
        let id = id.with_integrity(IntegrityLevel::Low);
        assert_eq!(id.elevated(), Some(id.elevated));
        assert_eq!(id.integrity(), Some(IntegrityLevel::Low));
        assert_eq!(Identity::of(&id), id);
    }
}

/// T-3, T-8: the three service accounts are `S-1-5-18`, `-19`, `-20` exactly; the same
/// last sub-authority under another authority or after more sub-authorities is not one.
#[test]
fn t3_t8_service_accounts_are_exact() {
    let level = |s: &str| IntegrityLevel::inferred(&sid(s), false);
    for s in ["S-1-5-18", "S-1-5-19", "S-1-5-20"] {
        assert_eq!(level(s), IntegrityLevel::System, "{s}");
    }
    for s in [
        "S-1-5-17",
        "S-1-5-21",
        "S-1-16-18",
        "S-1-1-19",
        "S-1-5-32-18",
        "S-1-5-21-1-2-3-20",
    ] {
        assert_eq!(level(s), IntegrityLevel::Medium, "{s}");
    }
    assert_eq!(
        IntegrityLevel::inferred(&sid("S-1-5-21-1-2-3-500"), true),
        IntegrityLevel::High
    );
}

// ---------------------------------------------------------------------------------------
// The name tables
// ---------------------------------------------------------------------------------------

/// Every name enum: each value's name parses back to it, through `FromStr` and serde, and
/// a wrong name is refused with an error that lists the valid ones.
#[test]
fn every_name_table_round_trips_and_lists_its_names_on_error() {
    fn check<T>(all: &[T])
    where
        T: Copy
            + PartialEq
            + core::fmt::Debug
            + core::fmt::Display
            + core::str::FromStr<Err = ParseNameError>,
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        assert!(!all.is_empty());
        for &v in all {
            let name = v.to_string();
            assert_eq!(name.parse::<T>(), Ok(v));
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(name));
            assert_eq!(
                serde_json::from_value::<T>(serde_json::json!(name)).unwrap(),
                v
            );
        }
        let e = "no such name".parse::<T>().unwrap_err();
        let first = all[0].to_string();
        assert!(e.expected().contains(&format!("\"{first}\"")), "{e}");
        assert!(e.to_string().starts_with("not a known "), "{e}");
        let e = serde_json::from_value::<T>(serde_json::json!("no such name")).unwrap_err();
        assert!(e.to_string().contains(&first), "{e}");
    }
    check(JobState::ALL);
    check(JobType::ALL);
    check(Remote::ALL);
    check(Release::ALL);
    check(UnknownFlags::ALL);
    check(AdminBypass::ALL);
    check(DoneJobs::ALL);
    check(TakeOwnership::ALL);
    check(LegacySetToken::ALL);
    check(ServiceProxyCredentials::ALL);
    check(IntegrityReads::ALL);
    check(IdentifyOnSetToken::ALL);
    check(AuthTarget::ALL);
    check(AuthScheme::ALL);
    check(ProxyUsage::ALL);
    check(Access::ALL);
    check(Method::ALL);
    check(Event::ALL);
    check(Principal::ALL);
    check(RuleId::ALL);
    check(Reason::ALL);
    check(ImpersonationLevel::ALL);
    check(LogonType::ALL);
    check(NetworkState::ALL);
    check(StartTo::ALL);
    check(JobMethod::ALL);
    check(AccessCheck::ALL);
    // The names are unique within each table.
    let names: std::collections::BTreeSet<_> = Access::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), Access::ALL.len());
    // SPEC v3: T-1…T-11, A-1…A-14, L-1…L-15, R-0…R-7, X-1…X-5, Q-1…Q-12.
    assert_eq!(RuleId::ALL.len(), 11 + 14 + 15 + 8 + 5 + 12);
    // Every RuleId opens a rule of SPEC.md (and, by the count above, every rule is one).
    let spec = include_str!("../SPEC.md");
    for id in RuleId::ALL {
        let opens = |after: &str| spec.contains(&format!("- **{id}{after}"));
        assert!(opens(" ") || opens("**"), "{id} is not a rule of SPEC.md");
    }
}

/// T-10: the impersonation levels carry RPC's numbers (`RPC_C_IMP_LEVEL_ANONYMOUS` 1,
/// `IDENTIFY` 2, `IMPERSONATE` 3, `DELEGATE` 4, `rpcdce.h`), each read back to its level;
/// `DEFAULT` (0) and anything above 4 name no level.
#[test]
fn t10_impersonation_levels_carry_rpcs_numbers() {
    use bits_helper_token::token::ImpersonationLevel as L;
    for (level, value) in [
        (L::Anonymous, 1),
        (L::Identify, 2),
        (L::Impersonate, 3),
        (L::Delegate, 4),
    ] {
        assert_eq!(level.value(), value, "{level:?}");
        assert_eq!(L::from_value(value), Some(level), "{value}");
    }
    for value in [0, 5, u32::MAX] {
        assert_eq!(L::from_value(value), None, "{value}");
    }
}
