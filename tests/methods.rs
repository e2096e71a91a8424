//! The four other methods as pure decisions: `GetHelperTokenFlags`, `SetHelperToken`,
//! `ClearHelperToken`, `GetHelperTokenSid` (A-2, A-4, A-5, A-7, A-8, A-9, A-10, Q-2, Q-3,
//! L-2, L-3, L-4).

use crate::common;
use bits_helper_token::{decide::*, job::*, profile::*, token::*, *};
use common::*;

const LATEST: Profile = Profile::new(Release::Win10_1809);
const P1607: Profile = Profile::new(Release::Win10_1607);
const LEGACY: Profile = Profile::new(Release::Legacy);
const PRE: Profile = Profile::new(Release::PreBits4);

fn getters_and_clear(p: &Profile, caller: Identity, job: &JobFacts) -> [Decision; 3] {
    [
        get_helper_token_flags(p, caller, job),
        clear_helper_token(p, caller, job),
        get_helper_token_sid(p, caller, job),
    ]
}

#[test]
fn a8_getters_and_clear_follow_the_owner_rule_without_veto() {
    let job = JobFacts::new(id(&alice()))
        .with_helper(Some(id(&admin())))
        .with_flags(TokenUsage::NETWORK);
    for p in [P1607, LATEST] {
        // The owner: allowed, even though the stored token is an administrator (no veto, A-8).
        let [flags, clear, sid] = getters_and_clear(&p, id(&alice()), &job);
        assert_eq!(flags.value(), Some(Value::Flags(TokenUsage::NETWORK)));
        assert_eq!(clear.effect(), Effect::ClearHelper);
        assert_eq!(sid.value(), Some(Value::HelperSid(Some(admin().user))));
        for d in [flags, clear, sid] {
            assert_eq!(d.hresult(), HResult::S_OK);
            assert_eq!(d.rule().reason, Reason::OwnerCaller);
        }
        // Another user: A-5, E_ACCESSDENIED, no value, no effect.
        for d in getters_and_clear(&p, id(&bob()), &job) {
            assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
            assert_eq!(d.rule().id, RuleId::A5);
            assert_eq!((d.effect(), d.value()), (Effect::Unchanged, None));
        }
        // An administrator: Q-2.
        for d in getters_and_clear(&p, id(&admin()), &job) {
            assert_eq!(d.rule().id, RuleId::Q2);
        }
    }
}

#[test]
fn a4_legacy_getters_need_an_administrator() {
    let job = JobFacts::new(id(&alice()));
    for d in getters_and_clear(&LEGACY, id(&alice()), &job) {
        assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
        assert_eq!(d.rule().reason, Reason::LegacyCallerNotAdministrator);
    }
    for d in getters_and_clear(&LEGACY, id(&admin()), &job) {
        assert_eq!(d.rule().reason, Reason::LegacyAdministrator);
    }
}

#[test]
fn a2_every_method_fails_without_the_interface() {
    let job = JobFacts::new(Identity::LOCAL_SYSTEM);
    let caller = Identity::LOCAL_SYSTEM;
    let all = [
        set_helper_token_flags(&PRE, caller, &job, 1),
        set_helper_token(&PRE, caller, &job, Impersonation::Allowed(caller)),
        get_helper_token_flags(&PRE, caller, &job),
        clear_helper_token(&PRE, caller, &job),
        get_helper_token_sid(&PRE, caller, &job),
    ];
    for d in all {
        assert_eq!(d.hresult(), HResult::E_NOINTERFACE);
        assert_eq!(d.rule().id, RuleId::A2);
    }
}

#[test]
fn l4_get_helper_token_sid_returns_null_without_a_token() {
    let d = get_helper_token_sid(&LATEST, id(&alice()), &JobFacts::new(id(&alice())));
    assert_eq!(d.hresult(), HResult::S_OK);
    assert_eq!(d.value(), Some(Value::HelperSid(None)));
}

#[test]
fn q3_getters_answer_on_done_jobs_and_clear_does_not() {
    for state in [JobState::Acknowledged, JobState::Cancelled] {
        let job = JobFacts::new(id(&alice()))
            .with_state(state)
            .with_flags(TokenUsage::LOCAL_FILE);
        let [flags, clear, sid] = getters_and_clear(&LATEST, id(&alice()), &job);
        assert_eq!(flags.value(), Some(Value::Flags(TokenUsage::LOCAL_FILE)));
        assert!(sid.is_allowed());
        assert_eq!(clear.hresult(), HResult::BG_E_INVALID_STATE);
        assert_eq!(clear.rule().reason, Reason::JobDone);
        let st = set_helper_token(&LATEST, id(&alice()), &job, Impersonation::of(&bob()));
        assert_eq!(st.hresult(), HResult::BG_E_INVALID_STATE);
    }
}

#[test]
fn l2_set_helper_token_stores_the_impersonated_token() {
    let job = JobFacts::new(id(&alice())).with_flags(TokenUsage::LOCAL_FILE);
    let d = set_helper_token(&LATEST, id(&alice()), &job, Impersonation::of(&bob()));
    assert_eq!(d.hresult(), HResult::S_OK);
    assert_eq!(d.rule().reason, Reason::OwnerCaller);
    assert_eq!(d.effect(), Effect::StoreHelper(id(&bob())));
}

#[test]
fn explanations_name_the_caller_and_the_token_being_set() {
    // The sentence is built from the facts the decision was made on, captured by the job.
    let mut job = Job::with_facts(LATEST, JobFacts::new(id(&alice())));
    // the refused QueryInterface (Q-9 at QueryInterface) names the caller and owner.
    let at_qi = LATEST.with_knobs(Knobs::default().with_access_check(AccessCheck::QueryInterface));
    let strict = Job::with_facts(at_qi, JobFacts::new(id(&alice())));
    let refused = strict.query_interface(&bob()).unwrap_err();
    assert_eq!(
        refused.decision().to_string(),
        format!(
            "query_interface returns 0x80070005 (E_ACCESSDENIED): A-5: the caller {} is not \
             an administrator and does not own the job (owner {})",
            bob().user,
            alice().user
        )
    );
    // the sentence names the administrator token being set.
    let handle = job.query_interface(&alice()).unwrap();
    let d = handle
        .set_helper_token(&mut job, Impersonation::of(&admin()))
        .unwrap();
    assert_eq!(d.rule().reason, Reason::NewTokenIsAdministrator);
    let text = d.to_string();
    assert!(
        text.contains(&format!("the token being set ({})", admin().user)),
        "{text}"
    );
}

#[test]
fn a7_a_non_administrator_may_not_set_an_administrator_token() {
    let job = JobFacts::new(id(&alice()));
    for p in [P1607, LATEST] {
        let d = set_helper_token(&p, id(&alice()), &job, Impersonation::of(&admin()));
        assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
        assert_eq!(d.rule().reason, Reason::NewTokenIsAdministrator);
        assert_eq!(d.effect(), Effect::Unchanged);
        // A UAC-filtered administrator token is fine (T-5).
        let d = set_helper_token(&p, id(&alice()), &job, Impersonation::of(&filtered_admin()));
        assert!(d.is_allowed());
        // An administrator caller may set an administrator token.
        let d = set_helper_token(
            &p,
            id(&admin()),
            &job,
            Impersonation::of(&TokenInfo::local_system()),
        );
        assert_eq!(d.rule().id, RuleId::Q2);
        assert_eq!(d.effect(), Effect::StoreHelper(Identity::LOCAL_SYSTEM));
    }
    // Q-2 knob: with OwnerRuleOnly the A-7 veto binds administrators too.
    let mut p = LATEST;
    p.knobs.admin_bypass = AdminBypass::OwnerRuleOnly;
    let d = set_helper_token(
        &p,
        id(&admin()),
        &job,
        Impersonation::of(&TokenInfo::local_system()),
    );
    assert_eq!(d.rule().id, RuleId::A7);
    // Q-5 (SPEC v2): the knob's code for A-5 on all five methods, SetHelperToken too; A-7
    // keeps its documented E_ACCESSDENIED.
    let mut p = LATEST;
    p.knobs.denial = FailureCode::new(HResult::E_FAIL).unwrap();
    assert_eq!(
        set_helper_token(&p, id(&bob()), &job, Impersonation::of(&bob())).hresult(),
        HResult::E_FAIL
    );
    let own = JobFacts::new(id(&alice()));
    let d = set_helper_token(&p, id(&alice()), &own, Impersonation::of(&admin()));
    assert_eq!(
        (d.hresult(), d.rule_id()),
        (HResult::E_ACCESSDENIED, RuleId::A7)
    );
    assert_eq!(
        get_helper_token_flags(&p, id(&bob()), &job).hresult(),
        HResult::E_FAIL
    );
}

#[test]
fn a9_no_impersonation_no_token() {
    let job = JobFacts::new(id(&alice()));
    let d = set_helper_token(&LATEST, id(&alice()), &job, Impersonation::Denied);
    assert_eq!(d.hresult(), HResult::CO_E_FAILEDTOIMPERSONATE);
    assert_eq!(d.rule().reason, Reason::CannotImpersonate);
    assert_eq!(d.effect(), Effect::Unchanged);
}

/// … → impersonation → veto on the new token.
#[test]
fn a10_q4_set_helper_token_precedence() {
    // access → state → impersonation → A-7 veto
    let done = JobFacts::new(id(&alice())).with_state(JobState::Cancelled);
    let admin_tok = Impersonation::of(&admin());
    assert_eq!(
        set_helper_token(&LATEST, id(&bob()), &done, Impersonation::Denied).rule_id(),
        RuleId::A5
    );
    assert_eq!(
        set_helper_token(&LATEST, id(&alice()), &done, Impersonation::Denied).rule_id(),
        RuleId::Q3
    );
    let live = done.with_state(JobState::Error);
    assert_eq!(
        set_helper_token(&LATEST, id(&alice()), &live, Impersonation::Denied).rule_id(),
        RuleId::A9
    );
    assert_eq!(
        set_helper_token(&LATEST, id(&alice()), &live, admin_tok).rule_id(),
        RuleId::A7
    );
}

#[test]
fn a4_q7_legacy_set_helper_token_needs_caller_and_owner() {
    let admin_job = JobFacts::new(id(&admin()));
    let user_job = JobFacts::new(id(&alice()));
    let tok = Impersonation::of(&bob());
    // Default: both.
    assert_eq!(
        set_helper_token(&LEGACY, id(&admin()), &admin_job, tok).rule_id(),
        RuleId::A4
    );
    assert!(set_helper_token(&LEGACY, id(&admin()), &admin_job, tok).is_allowed());
    let d = set_helper_token(&LEGACY, id(&admin()), &user_job, tok);
    assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
    assert_eq!(d.rule().reason, Reason::LegacyOwnerNotElevated);
    // The caller is checked first (on a job the access gate lets Alice reach: her own).
    let d = set_helper_token(&LEGACY, id(&alice()), &user_job, tok);
    assert_eq!(d.rule().reason, Reason::LegacyCallerNotAdministrator);
    // On the elevated administrator's job, the access gate refuses Alice first.
    let d = set_helper_token(&LEGACY, id(&alice()), &admin_job, tok);
    assert_eq!(d.rule().reason, Reason::CallerIntegrityTooLow);
    // No A-7 veto before 1607: an administrator may set an administrator token.
    assert!(
        set_helper_token(
            &LEGACY,
            id(&admin()),
            &admin_job,
            Impersonation::of(&admin())
        )
        .is_allowed()
    );
    // Q-7 knobs.
    let mut caller_only = LEGACY;
    caller_only.knobs.legacy_set_token = LegacySetToken::CallerOnly;
    assert!(set_helper_token(&caller_only, id(&admin()), &user_job, tok).is_allowed());
    let mut owner_only = LEGACY;
    owner_only.knobs.legacy_set_token = LegacySetToken::OwnerOnly;
    // With A-11 in front, Q-7's setting shows only for a caller that reaches an elevated
    // owner's job without the administrators SID: a plain-data token stating elevation
    // and a High label.
    let elevated_user = id(&alice())
        .with_elevated(true)
        .with_integrity(IntegrityLevel::High);
    let d = set_helper_token(&owner_only, elevated_user, &admin_job, tok);
    assert_eq!(d.rule().reason, Reason::LegacyOwnerElevated);
    assert_eq!(d.rule().id, RuleId::Q7);
    assert!(!set_helper_token(&owner_only, id(&admin()), &user_job, tok).is_allowed());
    // Q-7 is only about SetHelperToken: the other methods still need an admin caller.
    assert_eq!(
        get_helper_token_flags(&owner_only, elevated_user, &admin_job).rule_id(),
        RuleId::A4
    );
}
