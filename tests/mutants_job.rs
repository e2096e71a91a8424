//! Mutation testing (issue 7, item 2): the stateful job model's texts (L-5…L-7, T-7).
//! Each test pins a documented behaviour that a surviving `cargo mutants` mutant showed no
//! other test pinned.

use bits_helper_token::*;

const EVENTS: [(Event, &str); 6] = [
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
fn t7_l5_event_outcomes_read_as_a_sentence_citing_the_rule() {
    let user = TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse().unwrap());
    let mut job = Job::new(Profile::default(), &user);
    assert_eq!(
        job.resume().to_string(),
        "resume returns 0x00000000 (S_OK): T-7: the job went from suspended to queued"
    );
    assert_eq!(
        job.resume().to_string(),
        "resume returns 0x00000001 (S_FALSE): T-7: nothing to do for a job in state queued"
    );
    let h = job.query_interface(&user).unwrap();
    h.set_helper_token_flags(&mut job, 0x1);
    assert_eq!(
        job.logoff_owner().to_string(),
        "logoff_owner returns 0x00000000 (S_OK): L-5: the owner logged off and BITS discarded \
         the helper token; the unfinished job still uses it for LOCAL_FILE, so it goes to ERROR \
         (recover: set a new token, or set the flags to 0, then resume)"
    );
    assert_eq!(
        job.cancel().to_string(),
        "cancel returns 0x00000000 (S_OK): T-7: the job went from error to cancelled"
    );
    assert_eq!(
        job.complete().to_string(),
        "complete returns 0x80200002 (BG_E_INVALID_STATE): T-7: the job is cancelled; BITS \
         refuses every operation on it"
    );
}
