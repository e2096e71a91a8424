//! `SetHelperTokenFlags`: every rule of SPEC §2 that applies to it, on every release
//! profile, and its properties over generated inputs (A-5, Q-1, A-10, T-5, A-6, X-1).

use crate::common;
use bits_helper_token::{decide::*, job::*, profile::*, token::*, *};
use common::*;

const LATEST: Profile = Profile::new(Release::Win10_1809);
const P1607: Profile = Profile::new(Release::Win10_1607);
const LEGACY: Profile = Profile::new(Release::Legacy);
const PRE: Profile = Profile::new(Release::PreBits4);
const RELAXED: [Profile; 2] = [P1607, LATEST];

/// The sentence of `SetHelperTokenFlags(flags)` by `caller` on a job with these facts.
fn explained_set_flags(
    profile: &Profile,
    caller: &TokenInfo,
    facts: JobFacts,
    flags: u32,
) -> String {
    let mut job = Job::with_facts(*profile, facts);
    let handle = job.query_interface(caller).expect("the handle");
    handle
        .set_helper_token_flags(&mut job, flags)
        .unwrap()
        .to_string()
}

fn job_of(owner: Identity) -> JobFacts {
    JobFacts::new(owner)
}

#[test]
fn a5_networkservice_sets_network_on_its_own_job() {
    for p in RELAXED {
        let job = job_of(Identity::NETWORK_SERVICE);
        let d = set_helper_token_flags(&p, Identity::NETWORK_SERVICE, &job, 0x2);
        assert_eq!(d.hresult(), HResult::S_OK);
        assert_eq!(d.rule().reason, Reason::OwnerCaller);
        assert_eq!(d.effect(), Effect::StoreFlags(TokenUsage::NETWORK));
        assert_eq!(d.stored_flags(), Some(TokenUsage::NETWORK));
        assert_eq!(d.transfer_failure(), None);
    }
}

#[test]
fn a5_another_user_is_refused_with_both_sids() {
    for p in RELAXED {
        let d = set_helper_token_flags(&p, id(&bob()), &job_of(id(&alice())), 0x1);
        assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
        assert_eq!(d.rule().reason, Reason::NotJobOwner);
        assert_eq!(d.rule_id(), RuleId::A5);
        assert_eq!(d.effect(), Effect::Unchanged);
    }
}

#[test]
fn a5_a_filtered_administrator_is_not_an_administrator() {
    // T-5: the UAC-filtered admin on someone else's job gets no bypass.
    let d = set_helper_token_flags(&LATEST, id(&filtered_admin()), &job_of(id(&alice())), 0x1);
    assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
    assert_eq!(d.rule_id(), RuleId::A5);
}

#[test]
fn a6_stored_administrator_token_vetoes_a_non_administrator() {
    for p in RELAXED {
        let job = job_of(id(&alice())).with_helper(Some(id(&admin())));
        let d = set_helper_token_flags(&p, id(&alice()), &job, 0x1);
        assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
        assert_eq!(d.rule().reason, Reason::StoredTokenIsAdministrator);
        assert_eq!(d.effect(), Effect::Unchanged);
        // Clearing to 0 is vetoed too: the veto is about who, not which flags.
        assert!(!set_helper_token_flags(&p, id(&alice()), &job, 0).is_allowed());
    }
}

#[test]
fn a6_a_uac_filtered_helper_token_does_not_veto() {
    // T-5: Administrators deny-only is not "enabled".
    let job = job_of(id(&alice())).with_helper(Some(id(&filtered_admin())));
    let d = set_helper_token_flags(&LATEST, id(&alice()), &job, 0x3);
    assert_eq!(d.hresult(), HResult::S_OK);
    assert_eq!(d.stored_flags(), Some(TokenUsage::all()));
}

#[test]
fn a6_no_stored_token_means_no_veto() {
    let d = set_helper_token_flags(&LATEST, id(&alice()), &job_of(id(&alice())), 0x3);
    assert!(d.is_allowed());
}

#[test]
fn q2_an_administrator_acts_on_any_job_and_is_not_vetoed() {
    for p in RELAXED {
        let job = job_of(id(&alice())).with_helper(Some(Identity::LOCAL_SYSTEM));
        let d = set_helper_token_flags(&p, id(&admin()), &job, 0x2);
        assert_eq!(d.hresult(), HResult::S_OK);
        assert_eq!(d.rule().reason, Reason::AdministratorCaller);
        assert_eq!(d.rule_id(), RuleId::Q2);
    }
}

#[test]
fn q2_knob_owner_rule_only_keeps_the_veto_for_administrators() {
    let mut p = LATEST;
    p.knobs.admin_bypass = AdminBypass::OwnerRuleOnly;
    let job = job_of(id(&alice())).with_helper(Some(Identity::LOCAL_SYSTEM));
    let d = set_helper_token_flags(&p, id(&admin()), &job, 0x2);
    assert_eq!(d.rule().reason, Reason::StoredTokenIsAdministrator);
    // ...but the owner rule is still skipped.
    let d = set_helper_token_flags(&p, id(&admin()), &job_of(id(&alice())), 0x2);
    assert_eq!(d.rule_id(), RuleId::Q2);
}

#[test]
fn q2_knob_none_judges_administrators_like_everyone() {
    let mut p = LATEST;
    p.knobs.admin_bypass = AdminBypass::NoBypass;
    let d = set_helper_token_flags(&p, id(&admin()), &job_of(id(&alice())), 0x2);
    assert_eq!(d.rule().reason, Reason::NotJobOwner);
    let d = set_helper_token_flags(&p, id(&admin()), &job_of(id(&admin())), 0x2);
    assert_eq!(d.rule().reason, Reason::OwnerCaller);
}

#[test]
fn q5_denial_code_knob() {
    let mut p = LATEST;
    p.knobs.denial = FailureCode::new(HResult::BG_E_INVALID_STATE).unwrap();
    let d = set_helper_token_flags(&p, id(&bob()), &job_of(id(&alice())), 0x1);
    assert_eq!(d.hresult(), HResult::BG_E_INVALID_STATE);
    assert_eq!(d.rule_id(), RuleId::A5);
    let job = job_of(id(&alice())).with_helper(Some(id(&admin())));
    assert_eq!(
        set_helper_token_flags(&p, id(&alice()), &job, 1).hresult(),
        HResult::BG_E_INVALID_STATE
    );
}

#[test]
fn a4_legacy_requires_an_administrator_caller() {
    let own = set_helper_token_flags(
        &LEGACY,
        Identity::NETWORK_SERVICE,
        &job_of(Identity::NETWORK_SERVICE),
        0x2,
    );
    assert_eq!(own.hresult(), HResult::E_ACCESSDENIED);
    assert_eq!(own.rule().reason, Reason::LegacyCallerNotAdministrator);
    assert_eq!(own.rule_id(), RuleId::A4);
    // The filtered administrator is refused too (T-5).
    let f = set_helper_token_flags(
        &LEGACY,
        id(&filtered_admin()),
        &job_of(id(&filtered_admin())),
        0x2,
    );
    assert_eq!(f.rule_id(), RuleId::A4);
    // An administrator may, on any job, whatever token is stored (no veto before 1607).
    let job = job_of(id(&alice())).with_helper(Some(Identity::LOCAL_SYSTEM));
    let a = set_helper_token_flags(&LEGACY, id(&admin()), &job, 0x2);
    assert_eq!(a.hresult(), HResult::S_OK);
    assert_eq!(a.rule().reason, Reason::LegacyAdministrator);
}

#[test]
fn a2_no_interface_before_bits4() {
    let d = set_helper_token_flags(
        &PRE,
        Identity::LOCAL_SYSTEM,
        &job_of(Identity::LOCAL_SYSTEM),
        0x1,
    );
    assert_eq!(d.hresult(), HResult::E_NOINTERFACE);
    assert_eq!(d.rule().reason, Reason::InterfaceUnavailable);
}

#[test]
fn q1_unknown_bits_refused_by_default_and_by_knob() {
    // SPEC v2: the default is E_NOTIMPL, BITS's documented answer to an undefined value.
    let job = job_of(id(&alice()));
    let d = set_helper_token_flags(&LATEST, id(&alice()), &job, 0x4);
    assert_eq!(d.hresult(), HResult::E_NOTIMPL);
    let d = set_helper_token_flags(&LATEST, id(&alice()), &job, 0x6);
    assert_eq!(d.hresult(), HResult::E_NOTIMPL);
    assert_eq!(d.rule().reason, Reason::UnknownFlags);
    assert_eq!(d.effect(), Effect::Unchanged);
    assert_eq!(
        explained_set_flags(&LATEST, &alice(), job, 0x6),
        "SetHelperTokenFlags returns 0x80004001 (E_NOTIMPL): Q-1: the flags carry unknown bits 0x4 (only BG_TOKEN_LOCAL_FILE 0x1 and BG_TOKEN_NETWORK 0x2 exist)"
    );

    let mut p = LATEST;
    p.knobs.unknown_flags = UnknownFlags::InvalidArg;
    assert_eq!(
        set_helper_token_flags(&p, id(&alice()), &job, 0x8000_0000).hresult(),
        HResult::E_INVALIDARG
    );

    p.knobs.unknown_flags = UnknownFlags::Mask;
    let d = set_helper_token_flags(&p, id(&alice()), &job, 0xFFFF_FFFF);
    assert_eq!(d.hresult(), HResult::S_OK);
    assert_eq!(d.rule().reason, Reason::UnknownFlagsMasked);
    assert_eq!(d.stored_flags(), Some(TokenUsage::all()));
}

#[test]
fn q3_done_jobs_refuse_with_invalid_state() {
    for state in [JobState::Acknowledged, JobState::Cancelled] {
        let job = job_of(id(&alice())).with_state(state);
        let d = set_helper_token_flags(&LATEST, id(&alice()), &job, 0x1);
        assert_eq!(d.hresult(), HResult::BG_E_INVALID_STATE);
        assert_eq!(d.rule().reason, Reason::JobDone);
        let mut p = LATEST;
        p.knobs.done_jobs = DoneJobs::Allow;
        assert!(set_helper_token_flags(&p, id(&alice()), &job, 0x1).is_allowed());
    }
    for state in JobState::ALL.iter().copied().filter(|s| !s.is_done()) {
        let job = job_of(id(&alice())).with_state(state);
        assert!(
            set_helper_token_flags(&LATEST, id(&alice()), &job, 0x1).is_allowed(),
            "{state}"
        );
    }
}

/// the precedence we chose — availability, access, state, arguments.
#[test]
fn a10_q4_precedence_access_then_state_then_arguments() {
    // Every check fails at once: availability wins, then access, then state, then arguments.
    let stranger_done = job_of(id(&alice()))
        .with_state(JobState::Cancelled)
        .with_helper(Some(id(&admin())));
    assert_eq!(
        set_helper_token_flags(&PRE, id(&bob()), &stranger_done, 0x4).rule_id(),
        RuleId::A2
    );
    assert_eq!(
        set_helper_token_flags(&LATEST, id(&bob()), &stranger_done, 0x4).rule_id(),
        RuleId::A5
    );
    assert_eq!(
        set_helper_token_flags(&LEGACY, id(&bob()), &stranger_done, 0x4).rule_id(),
        RuleId::A4
    );
    // The A-6 veto is an access check: it comes before the job state.
    assert_eq!(
        set_helper_token_flags(&LATEST, id(&alice()), &stranger_done, 0x4).rule_id(),
        RuleId::A6
    );
    let own_done = stranger_done.with_helper(None);
    assert_eq!(
        set_helper_token_flags(&LATEST, id(&alice()), &own_done, 0x4).rule_id(),
        RuleId::Q3
    );
    let own = own_done.with_state(JobState::Suspended);
    assert_eq!(
        set_helper_token_flags(&LATEST, id(&alice()), &own, 0x4).rule_id(),
        RuleId::Q1
    );
}

#[test]
fn x1_client_certificate_with_network_predicts_the_failure() {
    let job = job_of(Identity::NETWORK_SERVICE).with_client_certificate(true);
    let d = set_helper_token_flags(&LATEST, Identity::NETWORK_SERVICE, &job, 0x2);
    // The method succeeds; the transfer will fail.
    assert_eq!(d.hresult(), HResult::S_OK);
    let failure = d.transfer_failure().expect("X-1 applies");
    assert_eq!(failure.hresult, 0x8007_2F9Au32);
    assert_eq!(failure.rule.reason, Reason::ClientCertificateWithNetwork);
    assert_eq!(failure.rule.id, RuleId::X1);
    // LocalService owners are affected too; LocalSystem owners are not.
    let ls = job_of(Identity::LOCAL_SERVICE).with_client_certificate(true);
    assert!(
        set_helper_token_flags(&LATEST, Identity::LOCAL_SERVICE, &ls, 0x3)
            .transfer_failure()
            .is_some()
    );
    let sys = job_of(Identity::LOCAL_SYSTEM).with_client_certificate(true);
    assert_eq!(
        set_helper_token_flags(&LATEST, Identity::LOCAL_SYSTEM, &sys, 0x3).transfer_failure(),
        None
    );
    // Without NETWORK, without a certificate, or over SMB: no failure.
    assert_eq!(
        set_helper_token_flags(&LATEST, Identity::NETWORK_SERVICE, &job, 0x1).transfer_failure(),
        None
    );
    let no_cert = job_of(Identity::NETWORK_SERVICE);
    assert_eq!(
        set_helper_token_flags(&LATEST, Identity::NETWORK_SERVICE, &no_cert, 0x2)
            .transfer_failure(),
        None
    );
    let smb = job.with_remote(Remote::Smb);
    assert_eq!(
        set_helper_token_flags(&LATEST, Identity::NETWORK_SERVICE, &smb, 0x2).transfer_failure(),
        None
    );
    // Plain HTTP has no TLS handshake, so no certificate is presented (X-1, reading).
    let http = job.with_remote(Remote::Http);
    assert_eq!(
        set_helper_token_flags(&LATEST, Identity::NETWORK_SERVICE, &http, 0x2).transfer_failure(),
        None
    );
    // A refused call predicts nothing.
    assert_eq!(
        set_helper_token_flags(&LATEST, id(&bob()), &job, 0x2).transfer_failure(),
        None
    );
}

#[test]
fn decision_display_reads_as_a_sentence() {
    let job = job_of(id(&alice())).with_helper(Some(id(&admin())));
    let _d = set_helper_token_flags(&LATEST, id(&alice()), &job, 0x1);
    assert_eq!(
        explained_set_flags(&LATEST, &alice(), job, 0x1),
        "SetHelperTokenFlags returns 0x80070005 (E_ACCESSDENIED): A-6: the helper token stored on the job (S-1-5-21-1-2-3-500) has the Administrators group enabled, so only an administrator may change its flags"
    );
}

// ---- properties ------------------------------------------------------------------------

/// The properties use the `proptest` crate, which comes with the crate's own `proptest`
/// feature (`cargo test --all-features`); a plain `cargo test` leaves them out.
#[cfg(feature = "proptest")]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn pool_sid() -> impl Strategy<Value = Sid> {
        prop_oneof![
            Just(Sid::LOCAL_SYSTEM),
            Just(Sid::LOCAL_SERVICE),
            Just(Sid::NETWORK_SERVICE),
            (1000u32..1003).prop_map(|rid| Sid::new(5, &[21, 1, 2, 3, rid]).unwrap()),
        ]
    }

    fn identity() -> impl Strategy<Value = Identity> {
        (pool_sid(), any::<bool>()).prop_map(|(sid, admin)| Identity::new(sid, admin))
    }

    fn profile() -> impl Strategy<Value = Profile> {
        (
            prop::sample::select(Release::ALL.to_vec()),
            prop::sample::select(vec![
                UnknownFlags::InvalidArg,
                UnknownFlags::NotImpl,
                UnknownFlags::Mask,
            ]),
            prop::sample::select(vec![
                AdminBypass::OwnerRuleAndVetoes,
                AdminBypass::OwnerRuleOnly,
                AdminBypass::NoBypass,
            ]),
            prop::sample::select(vec![DoneJobs::InvalidState, DoneJobs::Allow]),
        )
            .prop_map(|(r, u, a, d)| {
                let mut p = Profile::new(r);
                p.knobs.unknown_flags = u;
                p.knobs.admin_bypass = a;
                p.knobs.done_jobs = d;
                p
            })
    }

    fn job() -> impl Strategy<Value = JobFacts> {
        (
            identity(),
            prop::sample::select(JobState::ALL.to_vec()),
            0u32..4,
            prop::option::of(identity()),
            any::<bool>(),
            prop::sample::select(Remote::ALL.to_vec()),
        )
            .prop_map(|(owner, state, flags, helper, cert, remote)| {
                JobFacts::new(owner)
                    .with_state(state)
                    .with_flags(TokenUsage::from_bits_retain(flags))
                    .with_helper(helper)
                    .with_client_certificate(cert)
                    .with_remote(remote)
            })
    }

    fn flags() -> impl Strategy<Value = u32> {
        prop_oneof![0u32..4, any::<u32>()]
    }

    proptest! {
        #[test]
        fn prop_a5_non_administrator_never_succeeds_on_a_job_it_does_not_own(
            p in profile(), caller in identity(), job in job(), f in flags()
        ) {
            prop_assume!(!caller.admin && caller.sid != job.owner.sid);
            prop_assert!(!set_helper_token_flags(&p, caller, &job, f).is_allowed());
        }

        #[test]
        fn prop_q1_unknown_bits_are_never_stored(p in profile(), caller in identity(), job in job(), f in flags()) {
            let d = set_helper_token_flags(&p, caller, &job, f);
            if let Some(stored) = d.stored_flags() {
                prop_assert_eq!(stored.unknown_bits(), 0);
                prop_assert_eq!(stored.bits(), f & 0x3);
            }
        }

        #[test]
        fn prop_a10_a_refused_call_stores_nothing(p in profile(), caller in identity(), job in job(), f in flags()) {
            let d = set_helper_token_flags(&p, caller, &job, f);
            prop_assert_eq!(d.is_allowed(), d.effect() != Effect::Unchanged);
            if !d.is_allowed() {
                prop_assert_eq!(d.transfer_failure(), None);
                prop_assert!(d.hresult().is_failure());
            }
        }

        #[test]
        fn prop_t5_a_deny_only_administrators_group_never_vetoes(
            caller in identity(), job in job(), f in 0u32..4
        ) {
            // The stored helper is a UAC-filtered administrator: its identity is not admin.
            let filtered = TokenInfo::filtered_administrator(job.owner.sid);
            let job = job.with_helper(Some(Identity::of(&filtered))).with_state(JobState::Suspended);
            let d = set_helper_token_flags(&Profile::default(), caller, &job, f);
            prop_assert_ne!(d.rule_id(), RuleId::A6);
        }

        #[test]
        fn prop_a6_the_veto_never_blocks_an_administrator_by_default(p in any::<bool>(), job in job(), f in flags(), sid in pool_sid()) {
            let profile = Profile::new(if p { Release::Win10_1607 } else { Release::Win10_1809 });
            let d = set_helper_token_flags(&profile, Identity::new(sid, true), &job, f);
            prop_assert_ne!(d.rule_id(), RuleId::A6);
            prop_assert_ne!(d.rule_id(), RuleId::A5);
        }

        #[test]
        fn prop_x1_failure_exactly_when_certificate_network_https_and_not_system(
            p in profile(), caller in identity(), job in job(), f in flags()
        ) {
            let d = set_helper_token_flags(&p, caller, &job, f);
            let expected = d.stored_flags().is_some_and(|s| s.contains(TokenUsage::NETWORK))
                && job.client_certificate && job.remote == Remote::Https && job.owner.sid != Sid::LOCAL_SYSTEM;
            prop_assert_eq!(d.transfer_failure().is_some(), expected);
        }
    }
}

/// Decisions carry ids and outcomes, not copies of their inputs.
#[test]
fn decision_is_at_most_128_bytes() {
    let size = core::mem::size_of::<Decision>();
    println!("size_of::<Decision>() = {size}");
    assert!(size <= 128, "{size}");
}
