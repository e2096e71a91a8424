//! The stateful model: the sample flow of A-1, the lifecycle (L-1…L-7, Q-3, Q-6), saved
//! state, and properties over random call sequences.

use crate::common;
use bits_helper_token::{decide::*, error::*, explain::Explained, job::*, profile::*, token::*, *};
use common::*;

/// Microsoft's sample flow (A-1): the owner obtains the interface, impersonates the helper
/// user, sets the token and then LOCAL_FILE while still impersonating. It must succeed:
/// the identity was taken at QueryInterface.
#[test]
fn a1_sample_flow_succeeds_while_impersonating() {
    let owner = alice();
    let helper = bob();
    let mut job = Job::new(Profile::default(), &owner);

    let opts = job.query_interface(&owner).expect("interface available");
    assert_eq!(opts.caller(), id(&owner));
    // The thread now impersonates the helper: SetHelperToken takes *that* token (L-2)...
    let d = opts
        .set_helper_token(&mut job, Impersonation::of(&helper))
        .unwrap();
    assert_eq!(d.hresult(), HResult::S_OK);
    assert_eq!(job.helper_token(), Some(id(&helper)));
    // ...and SetHelperTokenFlags is still judged as the owner (A-1), not as the helper.
    let d = opts.set_helper_token_flags(&mut job, 0x1).unwrap();
    assert_eq!(d.hresult(), HResult::S_OK);
    assert_eq!(d.rule().reason, Reason::OwnerCaller);
    assert_eq!(job.flags(), TokenUsage::LOCAL_FILE);

    // Had the helper asked for the interface itself, it would be refused (A-5) — at
    // QueryInterface under Q-9's default.
    let refused = job.query_interface(&helper).unwrap_err();
    assert_eq!(refused.decision().rule_id(), RuleId::A5);
    assert_eq!(refused.decision().hresult(), HResult::E_ACCESSDENIED);
    assert_eq!(job.flags(), TokenUsage::LOCAL_FILE);

    // The job transfers with the helper token.
    job.resume();
    assert_eq!(job.state(), JobState::Queued);
    let t = job.transfer();
    assert_eq!(
        (t.hresult(), job.state()),
        (HResult::S_OK, JobState::Transferred)
    );
    job.complete();
    assert_eq!(job.state(), JobState::Acknowledged);
}

#[test]
fn a1_the_remembered_identity_decides_not_the_current_one() {
    // Q-9 `per_call`: QueryInterface hands out the handle and the methods judge it.
    let per_call =
        Profile::default().with_knobs(Knobs::default().with_access_check(AccessCheck::PerCall));
    // Obtained as a standard user; later the thread is elevated: still not an admin.
    let mut job = Job::new(per_call, &alice());
    let as_bob = job.query_interface(&bob()).unwrap();
    assert!(
        !as_bob
            .set_helper_token_flags(&mut job, 1)
            .unwrap()
            .is_allowed()
    );
    // Obtained as the administrator: allowed, whatever is impersonated later.
    let as_admin = job.query_interface(&admin()).unwrap();
    assert!(
        as_admin
            .set_helper_token(&mut job, Impersonation::of(&TokenInfo::local_system()))
            .unwrap()
            .is_allowed()
    );
    assert_eq!(job.helper_token(), Some(Identity::LOCAL_SYSTEM));
}

#[test]
fn a2_query_interface_fails_before_bits4() {
    let job = Job::new(Profile::new(Release::PreBits4), &TokenInfo::local_system());
    let err = job.query_interface(&TokenInfo::local_system()).unwrap_err();
    assert_eq!(err.decision().hresult(), HResult::E_NOINTERFACE);
    assert_eq!(err.decision().rule_id(), RuleId::A2);
    assert_eq!(
        err.to_string(),
        "query_interface returns 0x80004002 (E_NOINTERFACE): A-2 (interface_unavailable) on pre_bits4"
    );
}

#[test]
fn l1_l2_l3_flags_and_token_are_independent() {
    let mut job = Job::new(Profile::default(), &alice());
    let h = job.query_interface(&alice()).unwrap();
    // L-1: flags without a token.
    assert!(
        h.set_helper_token_flags(&mut job, 0x2)
            .unwrap()
            .is_allowed()
    );
    assert_eq!(
        (job.flags(), job.helper_token()),
        (TokenUsage::NETWORK, None)
    );
    // L-2: the token leaves the flags alone, and replaces a previous token.
    h.set_helper_token(&mut job, Impersonation::of(&bob()))
        .unwrap();
    h.set_helper_token(&mut job, Impersonation::of(&filtered_admin()))
        .unwrap();
    assert_eq!(job.helper_token(), Some(id(&filtered_admin())));
    assert_eq!(job.flags(), TokenUsage::NETWORK);
    // L-4
    assert_eq!(
        h.get_helper_token_sid(&job).unwrap().value(),
        Some(Value::HelperSid(Some(filtered_admin().user)))
    );
    // L-3: clear keeps the flags.
    assert!(h.clear_helper_token(&mut job).unwrap().is_allowed());
    assert_eq!(
        (job.flags(), job.helper_token()),
        (TokenUsage::NETWORK, None)
    );
    assert_eq!(
        h.get_helper_token_sid(&job).unwrap().value(),
        Some(Value::HelperSid(None))
    );
    assert_eq!(
        h.get_helper_token_flags(&job).unwrap().value(),
        Some(Value::Flags(TokenUsage::NETWORK))
    );
}

fn sample_job_in_flight() -> (Job, TokenOptions) {
    let mut job = Job::new(Profile::default(), &alice());
    let h = job.query_interface(&alice()).unwrap();
    h.set_helper_token(&mut job, Impersonation::of(&bob()))
        .unwrap();
    h.set_helper_token_flags(&mut job, 0x1).unwrap();
    job.resume();
    (job, h)
}

#[test]
fn l5_logoff_puts_an_unfinished_job_with_flags_in_error() {
    let (mut job, _) = sample_job_in_flight();
    let e = job.logoff_owner();
    assert_eq!(e.rule().reason, Reason::TokenRequiredAfterLogoff);
    assert_eq!(e.rule().id, RuleId::L5);
    assert_eq!(job.state(), JobState::Error);
    assert_eq!(job.helper_token(), None);
    let err = job.error().unwrap();
    assert_eq!(err.hresult, HResult::BG_E_TOKEN_REQUIRED);
    assert_eq!(err.to_string(), format!("{} ({})", err.hresult, err.rule));
    assert!(err.to_string().starts_with("0x"), "{err}");
    assert!(err.to_string().contains("L-5"), "{err}");
}

#[test]
fn l5_recovery_by_a_new_token_and_resume() {
    let (mut job, h) = sample_job_in_flight();
    job.logoff_owner();
    assert!(
        h.set_helper_token(&mut job, Impersonation::of(&bob()))
            .unwrap()
            .is_allowed()
    );
    job.resume();
    assert_eq!(job.state(), JobState::Queued);
    assert_eq!(job.error(), None);
    // L-8: nothing transfers while the owner is logged off...
    let t = job.transfer();
    assert_eq!((t.hresult(), t.rule_id()), (HResult::S_FALSE, RuleId::L8));
    assert_eq!(job.state(), JobState::Queued);
    // ...and the job resumes by itself at the next logon.
    assert_eq!(job.logon_owner().rule_id(), RuleId::L8);
    job.transfer();
    assert_eq!(job.state(), JobState::Transferred);
}

#[test]
fn l5_recovery_by_flags_zero_and_resume() {
    let (mut job, h) = sample_job_in_flight();
    job.logoff_owner();
    assert!(h.set_helper_token_flags(&mut job, 0).unwrap().is_allowed());
    job.resume();
    job.logon_owner();
    let t = job.transfer();
    assert_eq!(
        (t.hresult(), job.state()),
        (HResult::S_OK, JobState::Transferred)
    );
}

#[test]
fn l5_logoff_spares_finished_jobs_and_jobs_without_flags() {
    let (mut job, _) = sample_job_in_flight();
    job.transfer();
    let e = job.logoff_owner();
    assert_eq!(
        (e.rule().reason, job.state()),
        (Reason::TokenDiscarded, JobState::Transferred)
    );
    assert_eq!(job.helper_token(), None);

    let mut job = Job::new(Profile::default(), &alice());
    let h = job.query_interface(&alice()).unwrap();
    h.set_helper_token(&mut job, Impersonation::of(&bob()))
        .unwrap();
    let e = job.logoff_owner();
    assert_eq!(
        (e.rule().reason, job.state()),
        (Reason::TokenDiscarded, JobState::Suspended)
    );
    assert_eq!(job.helper_token(), None);
}

#[test]
fn l6_transfer_without_the_token_fails_with_token_required() {
    let mut job = Job::new(Profile::default(), &alice());
    let h = job.query_interface(&alice()).unwrap();
    h.set_helper_token_flags(&mut job, 0x1).unwrap();
    job.resume();
    let t = job.transfer();
    assert_eq!(t.hresult(), HResult::BG_E_TOKEN_REQUIRED);
    assert_eq!(t.rule().id, RuleId::L6);
    assert_eq!(job.state(), JobState::Error);
    assert_eq!(job.error().map(|e| e.rule.id), Some(RuleId::L6));
}

#[test]
fn x1_transfer_with_certificate_and_network_fails() {
    let mut job = Job::new(Profile::default(), &TokenInfo::network_service());
    let h = job.query_interface(&TokenInfo::network_service()).unwrap();
    job.set_client_certificate(true);
    h.set_helper_token(&mut job, Impersonation::of(&bob()))
        .unwrap();
    let d = h.set_helper_token_flags(&mut job, 0x2).unwrap();
    assert!(d.is_allowed() && d.transfer_failure().is_some());
    job.resume();
    let t = job.transfer();
    assert_eq!(
        t.hresult(),
        HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY
    );
    assert_eq!(t.rule().id, RuleId::X1);
    assert_eq!(job.state(), JobState::Error);
}

#[test]
fn q3_done_jobs_refuse_changes_but_answer_getters() {
    let (mut job, h) = sample_job_in_flight();
    job.cancel();
    let before = job.clone();
    assert_eq!(
        h.set_helper_token_flags(&mut job, 0).unwrap().hresult(),
        HResult::BG_E_INVALID_STATE
    );
    assert_eq!(
        h.clear_helper_token(&mut job).unwrap().rule().id,
        RuleId::Q3
    );
    assert_eq!(
        h.set_helper_token(&mut job, Impersonation::of(&bob()))
            .unwrap()
            .rule_id(),
        RuleId::Q3
    );
    assert_eq!(
        h.get_helper_token_flags(&job).unwrap().value(),
        Some(Value::Flags(TokenUsage::LOCAL_FILE))
    );
    for e in [
        job.resume(),
        job.transfer(),
        job.cancel(),
        job.complete(),
        job.take_ownership(&admin()),
    ] {
        assert_eq!(e.hresult(), HResult::BG_E_INVALID_STATE);
        assert_eq!(e.rule().reason, Reason::JobFinished);
    }
    assert_eq!(job, before);
}

#[test]
fn t7_complete_and_cancel() {
    let (mut job, _) = sample_job_in_flight();
    let c = job.complete();
    assert_eq!(
        (c.hresult(), job.state()),
        (HResult::BG_S_PARTIAL_COMPLETE, JobState::Acknowledged)
    );
    let (mut job, _) = sample_job_in_flight();
    job.transfer();
    assert_eq!(job.complete().hresult(), HResult::S_OK);
    let (mut job, _) = sample_job_in_flight();
    let c = job.cancel();
    assert_eq!(
        (c.hresult(), job.state()),
        (HResult::S_OK, JobState::Cancelled)
    );
    // Nothing to do: S_FALSE, state unchanged.
    let mut job = Job::new(Profile::default(), &alice());
    let t = job.transfer();
    assert_eq!(
        (t.hresult(), job.state(), t.rule().id),
        (HResult::S_FALSE, JobState::Suspended, RuleId::T7)
    );
    job.resume();
    // L-9: Resume on a queued job answers S_OK and changes nothing.
    let r = job.resume();
    assert_eq!(
        (r.hresult(), r.rule_id(), job.state()),
        (HResult::S_OK, RuleId::L9, JobState::Queued)
    );
}

#[test]
fn l7_take_ownership_needs_an_administrator() {
    let (mut job, _) = sample_job_in_flight();
    job.set_client_certificate(true);
    let before = job.clone();
    let e = job.take_ownership(&filtered_admin());
    assert_eq!(e.hresult(), HResult::E_ACCESSDENIED);
    assert_eq!(e.rule().reason, Reason::TakeOwnershipNeedsAdministrator);
    assert_eq!(job, before);
    // Both halves are needed: an administrator whose token is not elevated, and an
    // elevated token without the Administrators group, are refused alike.
    let a = id(&admin()).sid;
    for half in [
        Identity::new(a, true).with_elevated(false),
        Identity::new(a, false).with_elevated(true),
    ] {
        let e = job.take_ownership(&half);
        assert_eq!(e.hresult(), HResult::E_ACCESSDENIED, "{half:?}");
        assert_eq!(
            e.rule().reason,
            Reason::TakeOwnershipNeedsAdministrator,
            "{half:?}"
        );
        assert_eq!(job, before);
    }

    let e = job.take_ownership(&admin());
    assert_eq!(e.hresult(), HResult::S_OK);
    assert_eq!(job.owner(), id(&admin()));
    assert!(!job.client_certificate());
    // Q-6 default (SPEC v2): the helper token is dropped, the flags kept.
    assert_eq!(e.rule().reason, Reason::OwnershipTaken);
    assert_eq!(e.rule().id, RuleId::Q6);
    assert_eq!(job.helper_token(), None);
    assert_eq!(job.flags(), TokenUsage::LOCAL_FILE);
    // L-7, T-9: the job now remembers the new owner's elevation and integrity level, so
    // the old owner (Medium, not elevated) cannot reach it at all (A-11).
    assert_eq!(
        (job.owner().elevated, job.owner().integrity),
        (true, IntegrityLevel::High)
    );
    let old = job.query_interface(&alice()).unwrap_err();
    assert_eq!(old.decision().rule_id(), RuleId::A11);
}

#[test]
fn q6_take_ownership_knob_clears_the_helper() {
    let mut p = Profile::default();
    p.knobs.take_ownership = TakeOwnership::Clear;
    let mut job = Job::new(p, &alice());
    let h = job.query_interface(&alice()).unwrap();
    h.set_helper_token(&mut job, Impersonation::of(&bob()))
        .unwrap();
    h.set_helper_token_flags(&mut job, 0x3).unwrap();
    let e = job.take_ownership(&admin());
    assert_eq!(e.rule().reason, Reason::OwnershipTaken);
    assert_eq!(
        (job.helper_token(), job.flags()),
        (None, TokenUsage::empty())
    );
}

#[test]
fn a4_legacy_job_model() {
    // Alice's job: Alice is no administrator (A-4); an administrator may set flags, but
    // not a helper token, since the owner is not elevated (A-4 second sentence, Q-7).
    // Under Q-9's default the owner gets no handle at all (A-4 at QueryInterface)...
    let job = Job::new(Profile::new(Release::Legacy), &alice());
    let refused = job.query_interface(&alice()).unwrap_err();
    assert_eq!(refused.decision().rule_id(), RuleId::A4);
    // ...and with `per_call` each method refuses.
    let per_call = Profile::new(Release::Legacy)
        .with_knobs(Knobs::default().with_access_check(AccessCheck::PerCall));
    let mut job = Job::new(per_call, &alice());
    let user = job.query_interface(&alice()).unwrap();
    assert_eq!(
        user.set_helper_token_flags(&mut job, 1).unwrap().rule().id,
        RuleId::A4
    );
    let adm = job.query_interface(&admin()).unwrap();
    let d = adm
        .set_helper_token(&mut job, Impersonation::of(&admin()))
        .unwrap();
    assert_eq!(
        (d.hresult(), d.rule().reason),
        (HResult::E_ACCESSDENIED, Reason::LegacyOwnerNotElevated)
    );
    assert!(
        adm.set_helper_token_flags(&mut job, 1)
            .unwrap()
            .is_allowed()
    );
    // An elevated administrator's job: the administrator may set the token too.
    let mut job = Job::new(Profile::new(Release::Legacy), &admin());
    let adm = job.query_interface(&admin()).unwrap();
    assert!(
        adm.set_helper_token(&mut job, Impersonation::of(&admin()))
            .unwrap()
            .is_allowed()
    );
    assert!(
        adm.set_helper_token_flags(&mut job, 1)
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn a_handle_works_only_on_the_job_it_was_obtained_on() {
    // Bob's handle used on Alice's job: a typed error, and Alice's job is untouched, even
    // though Bob would be allowed on a job of his own (A-5).
    let mut alice_job = Job::new(Profile::default(), &alice());
    let mut bob_job = Job::new(Profile::default(), &bob());
    assert_ne!(alice_job.id(), bob_job.id());
    let bobs = bob_job.query_interface(&bob()).unwrap();
    assert_eq!(bobs.job(), bob_job.id());
    let before = alice_job.clone();
    let wrong = WrongJob {
        handle: bob_job.id(),
        job: alice_job.id(),
    };
    assert_eq!(bobs.set_helper_token_flags(&mut alice_job, 1), Err(wrong));
    assert_eq!(
        bobs.set_helper_token(&mut alice_job, Impersonation::of(&bob())),
        Err(wrong)
    );
    assert_eq!(bobs.clear_helper_token(&mut alice_job), Err(wrong));
    assert_eq!(bobs.get_helper_token_flags(&alice_job), Err(wrong));
    assert_eq!(bobs.get_helper_token_sid(&alice_job), Err(wrong));
    assert_eq!(alice_job, before);
    assert_eq!(
        wrong.to_string(),
        format!(
            "this IBitsTokenOptions handle belongs to job {}, not to job {}",
            bob_job.id().get(),
            alice_job.id().get()
        )
    );
    // On its own job it works; a clone is the same job (same id).
    assert!(
        bobs.set_helper_token_flags(&mut bob_job, 1)
            .unwrap()
            .is_allowed()
    );
    let mut copy = bob_job.clone();
    assert_eq!(copy.id(), bob_job.id());
    assert!(
        bobs.set_helper_token_flags(&mut copy, 2)
            .unwrap()
            .is_allowed()
    );
    // Equality is the job's state, not its id: the copy is equal until it changes.
    assert_eq!(copy.id(), bob_job.id());
    assert_ne!(copy, bob_job, "the copy's flags changed");
    let twin = Job::new(Profile::default(), &bob());
    assert_ne!(twin.id(), bob_job.id());
    assert_eq!(twin, Job::new(Profile::default(), &bob()));
    assert_ne!(twin, Job::new(Profile::default(), &alice()));
    // The hash follows equality: the id is left out, the state is hashed.
    let hash = |job: &Job| {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(job)
    };
    assert_eq!(hash(&twin), hash(&Job::new(Profile::default(), &bob())));
    assert_ne!(hash(&twin), hash(&Job::new(Profile::default(), &alice())));
    assert_ne!(hash(&copy), hash(&bob_job));
    // A store's own ids.
    let stored = Job::new(Profile::default(), &bob()).with_id(JobId::new(42));
    assert_eq!(stored.id().get(), 42);
    assert_eq!(
        stored.query_interface(&bob()).unwrap().job(),
        JobId::new(42)
    );
}

#[test]
fn serde_saves_and_resumes_a_scenario() {
    let (mut job, h) = sample_job_in_flight();
    job.logoff_owner();
    let text = serde_json::to_string(&job).unwrap();
    let back: Job = serde_json::from_str(&text).unwrap();
    assert_eq!(back, job);
    // The id is not serialized: a loaded job is a new job until the store restores its id.
    assert_ne!(back.id(), job.id());
    let mut stranger = back.clone();
    assert_eq!(
        h.set_helper_token_flags(&mut stranger, 0),
        Err(WrongJob {
            handle: job.id(),
            job: back.id()
        })
    );
    assert_eq!(stranger, back, "a refused call changes nothing");
    let mut back = back.with_id(job.id());
    // The resumed job behaves the same.
    h.set_helper_token_flags(&mut back, 0).unwrap();
    back.resume();
    back.logon_owner();
    back.transfer();
    assert_eq!(back.state(), JobState::Transferred);

    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["state"], "error");
    assert_eq!(v["error"]["hresult"], "0x80200056");
    assert_eq!(v["flags"], 1);
    assert_eq!(v["helper_token"], serde_json::Value::Null);
    assert_eq!(v["owner"]["sid"], "S-1-5-21-1-2-3-1001");

    // States the model cannot reach are refused.
    let mut bad = v.clone();
    bad["flags"] = 5.into();
    let e = serde_json::from_value::<Job>(bad).unwrap_err().to_string();
    assert!(e.contains("unknown bits 0x4"), "{e}");
    let mut bad = v.clone();
    bad["state"] = "queued".into();
    assert!(serde_json::from_value::<Job>(bad).is_err());
    let mut bad = v.clone();
    bad["colour"] = "blue".into();
    assert!(serde_json::from_value::<Job>(bad).is_err());
    // Only the owner is required.
    let minimal: Job =
        serde_json::from_str(r#"{"owner": {"sid": "S-1-5-20", "admin": false}}"#).unwrap();
    assert_eq!(
        minimal,
        Job::new(Profile::default(), &Identity::NETWORK_SERVICE)
    );
}

// ---- properties over random call sequences ---------------------------------------------

/// The properties use the `proptest` crate, which comes with the crate's own `proptest`
/// feature (`cargo test --all-features`); a plain `cargo test` leaves them out.
#[cfg(feature = "proptest")]
mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Query {
            who: usize,
        },
        SetFlags {
            h: usize,
            flags: u32,
        },
        GetFlags {
            h: usize,
        },
        SetToken {
            h: usize,
            token: usize,
            can_impersonate: bool,
        },
        Clear {
            h: usize,
        },
        GetSid {
            h: usize,
        },
        Logoff,
        Logon,
        SessionEnd,
        ServiceStop,
        Resume,
        Transfer,
        Cancel,
        Complete,
        TakeOwnership {
            who: usize,
        },
    }

    fn people() -> Vec<TokenInfo> {
        vec![
            alice(),
            bob(),
            admin(),
            filtered_admin(),
            TokenInfo::network_service(),
            TokenInfo::local_system(),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let n = people().len();
        prop_oneof![
            2 => (0..n).prop_map(|who| Op::Query { who }),
            4 => (0..4usize, prop_oneof![0u32..4, any::<u32>()]).prop_map(|(h, flags)| Op::SetFlags { h, flags }),
            1 => (0..4usize).prop_map(|h| Op::GetFlags { h }),
            4 => (0..4usize, 0..n, any::<bool>()).prop_map(|(h, token, can_impersonate)| Op::SetToken { h, token, can_impersonate }),
            2 => (0..4usize).prop_map(|h| Op::Clear { h }),
            1 => (0..4usize).prop_map(|h| Op::GetSid { h }),
            1 => Just(Op::Logoff),
            1 => Just(Op::Logon),
            1 => Just(Op::SessionEnd),
            1 => Just(Op::ServiceStop),
            1 => Just(Op::Resume),
            1 => Just(Op::Transfer),
            1 => Just(Op::Cancel),
            1 => Just(Op::Complete),
            1 => (0..n).prop_map(|who| Op::TakeOwnership { who }),
        ]
    }

    fn scenario() -> impl Strategy<Value = (Release, usize, Vec<Op>)> {
        (
            prop::sample::select(vec![
                Release::Legacy,
                Release::Win10_1607,
                Release::Win10_1809,
            ]),
            0..people().len(),
            prop::collection::vec(op(), 1..40),
        )
    }

    /// Runs a scenario, checking after every operation — each of the twelve — that the
    /// stateful job answered exactly what the pure decision function answers on the facts
    /// before the call, that it applied exactly that decision's effect (`Job` decides
    /// nothing), and the invariants of the rules.
    fn run(release: Release, owner: usize, ops: &[Op]) -> Result<(), TestCaseError> {
        let people = people();
        let profile = Profile::new(release);
        let mut job = Job::new(profile, &people[owner]);
        let mut handles: Vec<TokenOptions> = Vec::new();
        for op in ops {
            let before = job.clone();
            let facts = *before.facts();
            let handle = |h: &usize| handles.get(*h % handles.len().max(1)).copied();
            // (the caller, if the operation goes through a handle; the job's answer; the pure
            // decision on the facts before the call)
            let (caller, d, pure) = match op {
                Op::Query { who } => {
                    let caller = Identity::of(&people[*who]);
                    let pure = query_interface(&profile, caller, &facts);
                    match job.query_interface(&people[*who]) {
                        Ok(h) => {
                            prop_assert!(pure.is_allowed());
                            prop_assert_eq!(h.caller(), caller);
                            handles.push(h);
                        }
                        Err(e) => prop_assert_eq!(*e.decision().get(), pure),
                    }
                    (None, pure, pure)
                }
                Op::SetFlags { h, flags } => match handle(h) {
                    Some(o) => (
                        Some(o.caller()),
                        o.set_helper_token_flags(&mut job, *flags)
                            .unwrap()
                            .into_inner(),
                        set_helper_token_flags(&profile, o.caller(), &facts, *flags),
                    ),
                    None => continue,
                },
                Op::GetFlags { h } => match handle(h) {
                    Some(o) => (
                        Some(o.caller()),
                        o.get_helper_token_flags(&job).unwrap().into_inner(),
                        get_helper_token_flags(&profile, o.caller(), &facts),
                    ),
                    None => continue,
                },
                Op::SetToken {
                    h,
                    token,
                    can_impersonate,
                } => match handle(h) {
                    Some(o) => {
                        let imp = if *can_impersonate {
                            Impersonation::of(&people[*token])
                        } else {
                            Impersonation::Denied
                        };
                        (
                            Some(o.caller()),
                            o.set_helper_token(&mut job, imp).unwrap().into_inner(),
                            set_helper_token(&profile, o.caller(), &facts, imp),
                        )
                    }
                    None => continue,
                },
                Op::Clear { h } => match handle(h) {
                    Some(o) => {
                        let d = o.clear_helper_token(&mut job).unwrap().into_inner();
                        // L-3: flags survive ClearHelperToken, whatever it returns.
                        prop_assert_eq!(job.flags(), before.flags());
                        (
                            Some(o.caller()),
                            d,
                            clear_helper_token(&profile, o.caller(), &facts),
                        )
                    }
                    None => continue,
                },
                Op::GetSid { h } => match handle(h) {
                    Some(o) => (
                        Some(o.caller()),
                        o.get_helper_token_sid(&job).unwrap().into_inner(),
                        get_helper_token_sid(&profile, o.caller(), &facts),
                    ),
                    None => continue,
                },
                Op::Logoff => (None, job.logoff_owner().into_inner(), logoff_owner(&facts)),
                Op::Logon => (None, job.logon_owner().into_inner(), logon_owner(&facts)),
                Op::SessionEnd => (
                    None,
                    job.helper_session_ended().into_inner(),
                    helper_session_ended(&facts),
                ),
                Op::ServiceStop => (None, job.service_stop().into_inner(), service_stop(&facts)),
                Op::Resume => (None, job.resume().into_inner(), resume(&facts)),
                Op::Transfer => (
                    None,
                    job.transfer().into_inner(),
                    transfer(&profile, &facts),
                ),
                Op::Cancel => (None, job.cancel().into_inner(), cancel(&facts)),
                Op::Complete => (None, job.complete().into_inner(), complete(&facts)),
                Op::TakeOwnership { who } => {
                    let caller = Identity::of(&people[*who]);
                    (
                        None,
                        job.take_ownership(&people[*who]).into_inner(),
                        take_ownership(&profile, caller, &facts),
                    )
                }
            };
            // One home per rule: the job's answer is the pure decision's, and the job's new
            // facts are the old ones with the decision's effect applied.
            prop_assert_eq!(d, pure);
            let mut expected = facts;
            expected.apply(&d.effect());
            prop_assert_eq!(job.facts(), &expected);
            // A-10: a refused call changes no state (a transfer's failure is the job's error,
            // not a refusal).
            if !d.is_allowed() && !matches!(d.effect(), Effect::Fail(_)) {
                prop_assert_eq!(&job, &before, "refused {} changed the job", d.operation());
            }
            if let Some(caller) = caller {
                // A-5 / A-4: a non-administrator never succeeds on another user's job.
                if !caller.admin && caller.sid != before.owner().sid {
                    prop_assert!(
                        !d.is_allowed(),
                        "{} by {:?} succeeded on {:?}'s job",
                        d.operation(),
                        caller.sid,
                        before.owner().sid
                    );
                }
                // A-7: a call by a non-administrator never leaves an administrator token
                // stored that was not there before.
                if !caller.admin && job.helper_token() != before.helper_token() {
                    prop_assert!(!job.helper_token().is_some_and(|t| t.admin));
                }
            }
            // The flags never hold unknown bits (Q-1).
            prop_assert_eq!(job.flags().unknown_bits(), 0);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn prop_random_call_sequences_keep_the_invariants((release, owner, ops) in scenario()) {
            run(release, owner, &ops)?;
        }
    }
}

// ---- names and explanations of the events ---------------------------------------------

const EVENTS: [(Event, &str); 8] = [
    (Event::QueryInterface, "query_interface"),
    (Event::Setting, "setting"),
    (Event::LogoffOwner, "logoff_owner"),
    (Event::Resume, "resume"),
    (Event::Transfer, "transfer"),
    (Event::Cancel, "cancel"),
    (Event::Complete, "complete"),
    (Event::TakeOwnership, "take_ownership"),
];

#[test]
fn t7_event_names_are_their_snake_case_serialized_form() {
    for (event, name) in EVENTS {
        assert_eq!(event.name(), name);
        assert_eq!(event.to_string(), name);
        assert_eq!(serde_json::to_value(event).unwrap(), name);
    }
}

#[test]
fn t7_l5_event_decisions_explain_themselves_citing_the_rule() {
    let user = TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse().unwrap());
    let mut job = Job::new(Profile::default(), &user);
    // The sentence of a decision, from the job as it was before the event.
    let said = |job: &mut Job, event: fn(&mut Job) -> Explained<Decision>| event(job).to_string();
    assert_eq!(
        said(&mut job, Job::resume),
        "resume returns 0x00000000 (S_OK): L-9: the job went from suspended to queued"
    );
    assert_eq!(
        said(&mut job, Job::resume),
        "resume returns 0x00000000 (S_OK): L-9: the job is already queued; Resume changes nothing"
    );
    let h = job.query_interface(&user).unwrap();
    h.set_helper_token_flags(&mut job, 0x1).unwrap();
    // SPEC v2 L-5: flags but no token held: the logoff leaves the job alone (L-8).
    assert_eq!(
        said(&mut job, Job::logoff_owner),
        "logoff_owner returns 0x00000000 (S_OK): L-8: the owner S-1-5-21-1-2-3-1001 logged \
         off; the job holds no helper token; a running job goes back to QUEUED until the owner \
         logs on"
    );
    assert_eq!(job.state(), JobState::Queued);
    job.logon_owner();
    let helper = TokenInfo::standard_user("S-1-5-21-1-2-3-1002".parse().unwrap());
    h.set_helper_token(&mut job, Impersonation::of(&helper))
        .unwrap();
    assert_eq!(
        said(&mut job, Job::logoff_owner),
        "logoff_owner returns 0x00000000 (S_OK): L-5: the owner logged off and BITS discarded \
         the helper token; the unfinished job still uses it for BG_TOKEN_LOCAL_FILE, so it goes to ERROR \
         (recover: set a new token, or set the flags to 0, then resume)"
    );
    // The other two ends of the token's session (L-5), each named in its own words.
    for (event, ended) in [
        (
            Job::helper_session_ended as fn(&mut Job) -> Explained<Decision>,
            "helper_session_ended returns 0x00000000 (S_OK): L-5: the helper token's session ended",
        ),
        (
            Job::service_stop,
            "service_stop returns 0x00000000 (S_OK): L-5: the BITS service stopped",
        ),
    ] {
        let mut other = job.clone();
        other.resume();
        other.logon_owner();
        h.set_helper_token(&mut other, Impersonation::of(&helper))
            .unwrap();
        let text = said(&mut other, event);
        assert!(
            text.starts_with(ended) && text.contains("and BITS discarded the helper token"),
            "{text}"
        );
    }
    assert_eq!(
        said(&mut job, Job::cancel),
        "cancel returns 0x00000000 (S_OK): T-7: the job went from error to cancelled"
    );
    assert_eq!(
        said(&mut job, Job::complete),
        "complete returns 0x80200002 (BG_E_INVALID_STATE): T-7: the job is cancelled; BITS \
         refuses every operation on it"
    );
}
