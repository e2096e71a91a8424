//! Every public type is `Send + Sync` (and the plain-data ones `Unpin`): cheap to check,
//! costly to lose.

use bits_helper_token::*;

fn assert_auto<T: Send + Sync + Unpin>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_auto::<Sid>();
    assert_auto::<SidBytes>();
    assert_auto::<ParseSidError>();
    assert_auto::<SidBytesError>();
    assert_auto::<InvalidSid>();
    assert_auto::<HResult>();
    assert_auto::<ParseHResultError>();
    assert_auto::<TokenUsage>();
    assert_auto::<ParseUsageError>();
    assert_auto::<GroupAttributes>();
    assert_auto::<Group>();
    assert_auto::<Identity>();
    assert_auto::<TokenInfo>();
    assert_auto::<Profile>();
    assert_auto::<Release>();
    assert_auto::<Knobs>();
    assert_auto::<FailureCode>();
    assert_auto::<NotAFailure>();
    assert_auto::<ParseReleaseError>();
    assert_auto::<UnknownFlags>();
    assert_auto::<AdminBypass>();
    assert_auto::<DoneJobs>();
    assert_auto::<TakeOwnership>();
    assert_auto::<LegacySetToken>();
    assert_auto::<JobState>();
    assert_auto::<JobType>();
    assert_auto::<Remote>();
    assert_auto::<ParseNameError>();
    assert_auto::<JobFacts>();
    assert_auto::<Method>();
    assert_auto::<Impersonation>();
    assert_auto::<Rule>();
    assert_auto::<Effect>();
    assert_auto::<Value>();
    assert_auto::<Decision>();
    assert_auto::<TransferFailure>();
    assert_auto::<Job>();
    assert_auto::<TokenOptions>();
    assert_auto::<Event>();
    assert_auto::<EventOutcome>();
    assert_auto::<QueryInterfaceError>();
    assert_auto::<InvalidJob>();
}
