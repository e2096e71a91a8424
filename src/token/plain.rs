//! [`TokenInfo`]: a plain-data token (feature `alloc`).
#![forbid(unsafe_code)]

use super::{ADMINS_ENABLED, Group, GroupAttributes, Identity, IntegrityLevel, LogonType, Token};
use crate::sid::Sid;
use alloc::vec;
use alloc::vec::Vec;

/// A plain-data access token: a user SID and its groups (feature `alloc`).
///
/// The constructors build the identities the rules care about, with the groups a real
/// Windows token of that kind carries (the ones that matter here: Administrators,
/// Users, Everyone, Authenticated Users, and the logon-type groups).
///
/// ```
/// use bits_helper_token::{token::GroupAttributes, Sid, Token, token::TokenInfo};
///
/// let system = TokenInfo::local_system();
/// assert!(system.has_admin_enabled());
/// assert!(!TokenInfo::network_service().has_admin_enabled());
///
/// // Hand-made: the user SID alone never makes an administrator (T-5).
/// let odd = TokenInfo::new(Sid::BUILTIN_ADMINISTRATORS, vec![]);
/// assert!(!odd.has_admin_enabled());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(remote = "Self", deny_unknown_fields))]
#[non_exhaustive]
pub struct TokenInfo {
    /// The user SID.
    pub user: Sid,
    /// The groups, in token order (each a JSON object). A group `S-1-16-<rid>` with
    /// `SE_GROUP_INTEGRITY` is the token's integrity label (T-8).
    #[cfg_attr(feature = "serde", serde(default, deserialize_with = "groups"))]
    pub groups: Vec<Group>,
    /// The token's elevation, when stated (`TokenElevation`, T-9); else inferred.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub elevated: Option<bool>,
    /// The token's integrity level, when stated; it overrides a label among the
    /// groups. Else the label, else T-8's inference.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub integrity: Option<IntegrityLevel>,
    /// The kind of logon the token comes from (L-11), when stated; else `service` for the
    /// service accounts and `interactive` for everyone else.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub logon: Option<LogonType>,
    /// The restricting SIDs (T-11): the token is restricted when there is one. A SID
    /// named twice is refused.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Vec::is_empty",
            deserialize_with = "restricting_sids"
        )
    )]
    pub restricting_sids: Vec<Sid>,
}

#[cfg(feature = "serde")]
crate::names::strict_object!(TokenInfo, "a token");

#[cfg(feature = "serde")]
fn restricting_sids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Sid>, D::Error> {
    use serde::Deserialize;
    let sids = Vec::<Sid>::deserialize(d)?;
    for (i, sid) in sids.iter().enumerate() {
        if sids[..i].contains(sid) {
            return Err(serde::de::Error::custom(alloc::format!(
                "restricting SID {sid} is named twice"
            )));
        }
    }
    Ok(sids)
}

#[cfg(feature = "serde")]
fn groups<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Group>, D::Error> {
    crate::strict::objects(d, "group")
}

const fn enabled(sid: Sid) -> Group {
    Group::new(sid, GroupAttributes::DEFAULT_ENABLED)
}

/// Administrators as a UAC-filtered token carries it: deny-only (`0x10`).
const ADMINS_DENY_ONLY: Group = Group::new(
    Sid::BUILTIN_ADMINISTRATORS,
    GroupAttributes::USE_FOR_DENY_ONLY,
);

impl TokenInfo {
    /// A token with the given user and groups.
    pub fn new(user: Sid, groups: Vec<Group>) -> TokenInfo {
        TokenInfo {
            user,
            groups,
            elevated: None,
            integrity: None,
            logon: None,
            restricting_sids: Vec::new(),
        }
    }

    /// The same token from another kind of logon (L-11).
    pub fn with_logon(mut self, logon: LogonType) -> TokenInfo {
        self.logon = Some(logon);
        self
    }

    /// The same token with these restricting SIDs (T-11): `CreateRestrictedToken`'s
    /// `SidsToRestrict`.
    pub fn with_restricting_sids(mut self, sids: Vec<Sid>) -> TokenInfo {
        self.restricting_sids = sids;
        self
    }

    /// The same token stating its elevation (T-9).
    pub fn with_elevated(mut self, elevated: bool) -> TokenInfo {
        self.elevated = Some(elevated);
        self
    }

    /// The same token stating its integrity level (T-8).
    pub fn with_integrity(mut self, integrity: IntegrityLevel) -> TokenInfo {
        self.integrity = Some(integrity);
        self
    }

    /// LocalSystem (`S-1-5-18`): Administrators enabled.
    pub fn local_system() -> TokenInfo {
        TokenInfo::new(
            Sid::LOCAL_SYSTEM,
            vec![
                ADMINS_ENABLED,
                enabled(Sid::EVERYONE),
                enabled(Sid::AUTHENTICATED_USERS),
            ],
        )
    }

    /// LocalService (`S-1-5-19`): a service account without Administrators.
    pub fn local_service() -> TokenInfo {
        TokenInfo::service(Sid::LOCAL_SERVICE)
    }

    /// NetworkService (`S-1-5-20`): a service account without Administrators.
    pub fn network_service() -> TokenInfo {
        TokenInfo::service(Sid::NETWORK_SERVICE)
    }

    fn service(user: Sid) -> TokenInfo {
        TokenInfo::new(
            user,
            vec![
                enabled(Sid::EVERYONE),
                enabled(Sid::BUILTIN_USERS),
                enabled(Sid::SERVICE),
                enabled(Sid::AUTHENTICATED_USERS),
            ],
        )
    }

    /// A standard interactive user: Users, Everyone, no Administrators group.
    pub fn standard_user(user: Sid) -> TokenInfo {
        TokenInfo::new(user, TokenInfo::interactive_groups(None))
    }

    /// An elevated administrator: Administrators enabled (`0xF`).
    pub fn elevated_administrator(user: Sid) -> TokenInfo {
        TokenInfo::new(user, TokenInfo::interactive_groups(Some(ADMINS_ENABLED)))
    }

    /// A UAC-filtered administrator: Administrators present but deny-only (`0x10`),
    /// so *not* an administrator for these rules (T-5).
    pub fn filtered_administrator(user: Sid) -> TokenInfo {
        TokenInfo::new(user, TokenInfo::interactive_groups(Some(ADMINS_DENY_ONLY)))
    }

    fn interactive_groups(admins: Option<Group>) -> Vec<Group> {
        let mut groups = vec![enabled(Sid::EVERYONE)];
        groups.extend(admins);
        groups.extend([
            enabled(Sid::BUILTIN_USERS),
            enabled(Sid::INTERACTIVE),
            enabled(Sid::AUTHENTICATED_USERS),
        ]);
        groups
    }

    /// The [`Identity`] of this token.
    pub fn identity(&self) -> Identity {
        Identity::of(self)
    }
}

impl Token for TokenInfo {
    fn user(&self) -> Sid {
        self.user
    }
    fn groups(&self) -> &[Group] {
        &self.groups
    }
    fn integrity(&self) -> Option<IntegrityLevel> {
        self.integrity.or_else(|| super::label_of(&self.groups))
    }
    fn elevated(&self) -> Option<bool> {
        self.elevated
    }
    fn restricted(&self) -> bool {
        !self.restricting_sids.is_empty()
    }
    fn logon(&self) -> Option<LogonType> {
        self.logon
    }
}
