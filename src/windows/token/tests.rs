//! Unit tests of the token reader.

use super::logon::{BATCH, NETWORK, REMOTE_INTERACTIVE};
use super::*;
use alloc::string::ToString;

/// The table at [`WindowsToken::logon_source`], value by value.
#[test]
fn logon_types_that_decide_and_those_that_do_not() {
    use LogonType::{Batch, Interactive, Secondary, Service};
    let table: [(u32, Option<LogonType>); 14] = [
        (0, None),               // UndefinedLogonType
        (2, None),               // Interactive: Welcome screen or RunAs
        (3, None),               // Network: Remote PowerShell or not
        (4, Some(Batch)),        // Batch
        (5, Some(Service)),      // Service
        (6, None),               // Proxy
        (7, Some(Interactive)),  // Unlock
        (8, None),               // NetworkCleartext: Remote PowerShell or not
        (9, Some(Secondary)),    // NewCredentials: runas /netonly
        (10, Some(Interactive)), // RemoteInteractive
        (11, None),              // CachedInteractive: Welcome screen or RunAs
        (12, Some(Interactive)), // CachedRemoteInteractive
        (13, Some(Interactive)), // CachedUnlock
        (14, None),              // not a SECURITY_LOGON_TYPE
    ];
    for (value, expected) in table {
        assert_eq!(logon_of_lsa(value), expected, "SECURITY_LOGON_TYPE {value}");
    }
}

/// The fallback on the logon-type groups: only a group that one kind of logon alone
/// carries decides.
#[test]
fn logon_type_groups_that_decide_and_those_that_do_not() {
    let groups = |sids: &[Sid]| -> Vec<Group> {
        [Sid::EVERYONE, Sid::AUTHENTICATED_USERS]
            .iter()
            .chain(sids)
            .map(|&sid| Group::new(sid, crate::token::GroupAttributes::DEFAULT_ENABLED))
            .collect()
    };
    let cases: [(&[Sid], Option<LogonType>); 9] = [
        (&[], None),
        (&[Sid::INTERACTIVE], None),
        (&[NETWORK], None),
        (&[BATCH], Some(LogonType::Batch)),
        (&[Sid::SERVICE], Some(LogonType::Service)),
        (&[REMOTE_INTERACTIVE], Some(LogonType::Interactive)),
        (
            &[Sid::INTERACTIVE, REMOTE_INTERACTIVE],
            Some(LogonType::Interactive),
        ),
        (&[Sid::INTERACTIVE, BATCH], None),
        (&[REMOTE_INTERACTIVE, NETWORK], None),
    ];
    for (sids, expected) in cases {
        assert_eq!(logon_of_groups(&groups(sids)), expected, "{sids:?}");
    }
    assert_eq!(NETWORK.to_string(), "S-1-5-2");
    assert_eq!(BATCH.to_string(), "S-1-5-3");
    assert_eq!(REMOTE_INTERACTIVE.to_string(), "S-1-5-14");
}
