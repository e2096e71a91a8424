//! Every public type is `Send + Sync` (and the plain-data ones `Unpin`): cheap to check,
//! costly to lose.

use bits_helper_token::{decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*, *};

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
    assert_auto::<JobError>();
    assert_auto::<Job>();
    assert_auto::<TokenOptions>();
    assert_auto::<Event>();
    assert_auto::<Operation>();
    assert_auto::<bits_helper_token::explain::Explained<Decision>>();
    assert_auto::<bits_helper_token::explain::Explained<Route>>();
    assert_auto::<bits_helper_token::explain::Explained<TransferPlan>>();
    assert_auto::<QueryInterfaceError>();
    assert_auto::<InvalidJob>();
    // routing
    assert_auto::<Access>();
    assert_auto::<AuthScheme>();
    assert_auto::<AuthTarget>();
    assert_auto::<Credential>();
    assert_auto::<Credentials>();
    assert_auto::<ImplicitAllowed>();
    assert_auto::<InvalidRegistryValue>();
    assert_auto::<LmCompatibilityLevel>();
    assert_auto::<NetworkEnvironment>();
    assert_auto::<NullCredentialsError>();
    assert_auto::<TransferOutcome>();
    assert_auto::<ProxyUsage>();
    assert_auto::<Route>();
    assert_auto::<RuleId>();
    assert_auto::<Reason>();
    assert_auto::<Effect>();
    assert_auto::<TransferPlan>();
    assert_auto::<Principal>();
    assert_auto::<UseLmCompat>();
    // scenarios
    use bits_helper_token::scenario::*;
    assert_auto::<Scenario>();
    assert_auto::<Step>();
    assert_auto::<JobSpec>();
    assert_auto::<HandleName>();
    assert_auto::<Transcript>();
    assert_auto::<StepResult>();
    assert_auto::<StepValue>();
    assert_auto::<ScenarioError>();
    assert_auto::<ScenarioErrorKind>();
}

#[cfg(feature = "proptest")]
#[test]
fn support_types_are_send_and_sync() {
    use bits_helper_token::support::harness::*;
    use bits_helper_token::support::proptest::*;
    assert_auto::<AdminGroup>();
    assert_auto::<ScenarioParams>();
    assert_auto::<Observed>();
    assert_auto::<Compare>();
    assert_auto::<Differential>();
    assert_auto::<Report>();
    assert_auto::<Disagreement>();
}
