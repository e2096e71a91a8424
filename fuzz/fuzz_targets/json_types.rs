//! The serialized forms (feature `serde`): deserializing arbitrary bytes as JSON never
//! panics, and whatever deserializes re-serializes to JSON that deserializes to an equal
//! value and serializes identically again. Every input is tried as every type, both
//! straight from the bytes and through `serde_json::Value` (another deserializer).
#![no_main]

use std::fmt::Debug;

use bits_helper_token::scenario::Scenario;
use bits_helper_token::{Access, net::AuthScheme, net::AuthTarget, net::Challenges, net::Credentials, token::Group, token::GroupAttributes, HResult, Identity, net::IeSettings, token::IntegrityLevel, Job, job::JobError, JobState, job::JobType, profile::Knobs, net::NetworkEnvironment, decide::Principal, Profile, net::ProxyUsage, decide::Reason, profile::Release, job::Remote, RuleId, Sid, token::TokenInfo, TokenUsage};
use libfuzzer_sys::fuzz_target;
use serde::{Serialize, de::DeserializeOwned};

fuzz_target!(|data: &[u8]| {
    let value = serde_json::from_slice::<serde_json::Value>(data).ok();
    check::<Sid>(data, value.as_ref());
    check::<HResult>(data, value.as_ref());
    check::<TokenUsage>(data, value.as_ref());
    check::<Profile>(data, value.as_ref());
    check::<TokenInfo>(data, value.as_ref());
    check::<Knobs>(data, value.as_ref());
    check::<Release>(data, value.as_ref());
    check::<Identity>(data, value.as_ref());
    check::<Group>(data, value.as_ref());
    check::<GroupAttributes>(data, value.as_ref());
    check::<JobState>(data, value.as_ref());
    check::<JobType>(data, value.as_ref());
    check::<Remote>(data, value.as_ref());
    check::<IntegrityLevel>(data, value.as_ref());
    check::<RuleId>(data, value.as_ref());
    check::<Reason>(data, value.as_ref());
    check::<Access>(data, value.as_ref());
    check::<Principal>(data, value.as_ref());
    check::<AuthTarget>(data, value.as_ref());
    check::<AuthScheme>(data, value.as_ref());
    check::<ProxyUsage>(data, value.as_ref());
    check::<Credentials>(data, value.as_ref());
    check::<Challenges>(data, value.as_ref());
    check::<IeSettings>(data, value.as_ref());
    check::<NetworkEnvironment>(data, value.as_ref());
    check::<JobError>(data, value.as_ref());
    check::<Job>(data, value.as_ref());
    check::<Scenario>(data, value.as_ref());
});

fn check<T>(data: &[u8], value: Option<&serde_json::Value>)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    if let Ok(v) = serde_json::from_slice::<T>(data) {
        round_trip(&v);
    }
    if let Some(value) = value
        && let Ok(v) = serde_json::from_value::<T>(value.clone())
    {
        round_trip(&v);
    }
}

fn round_trip<T>(v: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let name = std::any::type_name::<T>();
    let text =
        serde_json::to_string(v).unwrap_or_else(|e| panic!("{name} {v:?} does not serialize: {e}"));
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("{name} {v:?} serializes as {text}, which does not deserialize: {e}")
    });
    assert_eq!(&back, v, "{name}: {text}");
    let again = serde_json::to_string(&back).unwrap();
    assert_eq!(again, text, "{name}: serialization is not stable");
    // The `Value` serializer agrees with the text serializer.
    let as_value = serde_json::to_value(v).unwrap_or_else(|e| panic!("{name} {v:?} to Value: {e}"));
    let from_value: T = serde_json::from_value(as_value.clone())
        .unwrap_or_else(|e| panic!("{name} {v:?} as Value {as_value} does not deserialize: {e}"));
    assert_eq!(&from_value, v, "{name}: Value round trip");
}
