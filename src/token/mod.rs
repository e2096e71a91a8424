//! Tokens and identities: group attributes (SPEC T-4), "has the administrators SID
//! enabled" (T-5), integrity levels (T-8), elevation (T-9), the [`Token`]
//! traits, and plain-data identities.
#![forbid(unsafe_code)]

use crate::names::names;
use crate::sid::Sid;

pub use crate::caller::{ImpersonationLevel, LogonType};

/// A token's mandatory integrity level (T-8): the rid of its `S-1-16-<rid>` label.
/// Levels compare by their rid.
///
/// ```
/// use bits_helper_token::token::IntegrityLevel;
/// assert!(IntegrityLevel::High < IntegrityLevel::System);
/// assert_eq!(IntegrityLevel::MediumPlus.rid(), 0x2100);
/// assert_eq!(IntegrityLevel::from_rid(0x3000), IntegrityLevel::High);
/// assert_eq!("medium_plus".parse(), Ok(IntegrityLevel::MediumPlus));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[allow(clippy::exhaustive_enums)] // the mandatory levels Windows defines (winnt.h)
pub enum IntegrityLevel {
    /// `SECURITY_MANDATORY_UNTRUSTED_RID` (`0`).
    Untrusted,
    /// `SECURITY_MANDATORY_LOW_RID` (`0x1000`).
    Low,
    /// `SECURITY_MANDATORY_MEDIUM_RID` (`0x2000`).
    Medium,
    /// `SECURITY_MANDATORY_MEDIUM_PLUS_RID` (`0x2100`).
    MediumPlus,
    /// `SECURITY_MANDATORY_HIGH_RID` (`0x3000`): an elevated administrator's window.
    High,
    /// `SECURITY_MANDATORY_SYSTEM_RID` (`0x4000`): the service accounts.
    System,
    /// `SECURITY_MANDATORY_PROTECTED_PROCESS_RID` (`0x5000`).
    Protected,
}

names! { IntegrityLevel, "integrity level";
    Untrusted => "untrusted", Low => "low", Medium => "medium", MediumPlus => "medium_plus",
    High => "high", System => "system", Protected => "protected",
}

impl IntegrityLevel {
    /// The rid of the level's label `S-1-16-<rid>`.
    pub const fn rid(self) -> u32 {
        match self {
            IntegrityLevel::Untrusted => 0,
            IntegrityLevel::Low => 0x1000,
            IntegrityLevel::Medium => 0x2000,
            IntegrityLevel::MediumPlus => 0x2100,
            IntegrityLevel::High => 0x3000,
            IntegrityLevel::System => 0x4000,
            IntegrityLevel::Protected => 0x5000,
        }
    }

    /// The level of a label rid. Levels compare by rid, so a rid between two named levels
    /// is the lower one (reading: a label the system does not name grants no more than
    /// the named level below it).
    pub const fn from_rid(rid: u32) -> IntegrityLevel {
        match rid {
            0..0x1000 => IntegrityLevel::Untrusted,
            0x1000..0x2000 => IntegrityLevel::Low,
            0x2000..0x2100 => IntegrityLevel::Medium,
            0x2100..0x3000 => IntegrityLevel::MediumPlus,
            0x3000..0x4000 => IntegrityLevel::High,
            0x4000..0x5000 => IntegrityLevel::System,
            _ => IntegrityLevel::Protected,
        }
    }

    /// The label SID `S-1-16-<rid>`.
    pub const fn sid(self) -> Sid {
        match Sid::new(16, &[self.rid()]) {
            Ok(sid) => sid,
            Err(_) => Sid::EVERYONE, // unreachable: one sub-authority, authority 16
        }
    }

    /// T-8's inference for a token that states no label: System for the service accounts,
    /// High with the administrators SID enabled, Medium otherwise.
    pub const fn inferred(user: &Sid, admin: bool) -> IntegrityLevel {
        if user.is_service_account() {
            IntegrityLevel::System
        } else if admin {
            IntegrityLevel::High
        } else {
            IntegrityLevel::Medium
        }
    }
}

bitflags::bitflags! {
    /// `SID_AND_ATTRIBUTES.Attributes` of a token group (SPEC T-4).
    ///
    /// Bits this crate does not name are kept (`from_bits_retain`): real tokens carry
    /// them and they do not affect the rules.
    ///
    /// Serialized (feature `serde`) as the raw number, unknown bits included; read from the
    /// number or, in JSON, from a list of the flags' names, each at most once:
    /// `["mandatory", "enabled_by_default", "enabled", "owner"]` is `0xF`. The names are
    /// `mandatory`, `enabled_by_default`, `enabled`, `owner`, `deny_only`
    /// (`SE_GROUP_USE_FOR_DENY_ONLY`), `integrity`, `integrity_enabled`, `resource` and
    /// `logon_id`.
    ///
    /// ```
    /// # #[cfg(feature = "serde")] {
    /// use bits_helper_token::token::GroupAttributes;
    /// let named: GroupAttributes = serde_json::from_str(r#"["enabled", "deny_only"]"#).unwrap();
    /// assert_eq!(named, GroupAttributes::ENABLED | GroupAttributes::USE_FOR_DENY_ONLY);
    /// assert_eq!(serde_json::to_string(&named).unwrap(), "20"); // written as the number
    /// let twice = serde_json::from_str::<GroupAttributes>(r#"["owner", "owner"]"#);
    /// assert!(twice.unwrap_err().to_string().starts_with(r#"group attribute "owner" is named twice"#));
    /// # }
    /// ```
    #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
    pub struct GroupAttributes: u32 {
        /// `SE_GROUP_MANDATORY` (`0x1`).
        const MANDATORY = 0x0000_0001;
        /// `SE_GROUP_ENABLED_BY_DEFAULT` (`0x2`).
        const ENABLED_BY_DEFAULT = 0x0000_0002;
        /// `SE_GROUP_ENABLED` (`0x4`).
        const ENABLED = 0x0000_0004;
        /// `SE_GROUP_OWNER` (`0x8`).
        const OWNER = 0x0000_0008;
        /// `SE_GROUP_USE_FOR_DENY_ONLY` (`0x10`): the group only ever denies access.
        const USE_FOR_DENY_ONLY = 0x0000_0010;
        /// `SE_GROUP_INTEGRITY` (`0x20`).
        const INTEGRITY = 0x0000_0020;
        /// `SE_GROUP_INTEGRITY_ENABLED` (`0x40`).
        const INTEGRITY_ENABLED = 0x0000_0040;
        /// `SE_GROUP_RESOURCE` (`0x20000000`).
        const RESOURCE = 0x2000_0000;
        /// `SE_GROUP_LOGON_ID` (`0xC0000000`).
        const LOGON_ID = 0xC000_0000;
    }
}

#[cfg(feature = "serde")]
mod attribute_names;

impl GroupAttributes {
    /// The usual attributes of a group in a normal token: mandatory, enabled by default,
    /// enabled (`0x7`).
    pub const DEFAULT_ENABLED: GroupAttributes = GroupAttributes::MANDATORY
        .union(GroupAttributes::ENABLED_BY_DEFAULT)
        .union(GroupAttributes::ENABLED);

    /// Whether the group counts for access checks the way `CheckTokenMembership` counts
    /// "member": `SE_GROUP_ENABLED` set and `SE_GROUP_USE_FOR_DENY_ONLY` clear (T-5).
    ///
    /// ```
    /// use bits_helper_token::token::GroupAttributes;
    /// assert!(GroupAttributes::from_bits_retain(0xF).is_enabled_for_allow());
    /// assert!(!GroupAttributes::from_bits_retain(0x10).is_enabled_for_allow()); // UAC-filtered
    /// assert!(!GroupAttributes::from_bits_retain(0x19).is_enabled_for_allow()); // restricted
    /// assert!(!GroupAttributes::from_bits_retain(0x3).is_enabled_for_allow()); // not enabled
    /// ```
    pub const fn is_enabled_for_allow(self) -> bool {
        self.contains(GroupAttributes::ENABLED)
            && !self.contains(GroupAttributes::USE_FOR_DENY_ONLY)
    }
}

/// One group of a token: a SID and its attributes (T-4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(remote = "Self", deny_unknown_fields))]
#[allow(clippy::exhaustive_structs)] // SID_AND_ATTRIBUTES: exactly these two
pub struct Group {
    /// The group's SID.
    pub sid: Sid,
    /// Its attributes.
    pub attributes: GroupAttributes,
}

#[cfg(feature = "serde")]
crate::names::strict_object!(Group, "a group");

impl Group {
    /// A group with the given SID and attributes.
    pub const fn new(sid: Sid, attributes: GroupAttributes) -> Group {
        Group { sid, attributes }
    }
}

/// What the rules need to know of an access token: its user and its groups.
///
/// Implemented by the plain-data [`TokenInfo`] and, with the `windows` feature, by a real
/// Windows token. Implement it for your own token type to feed the model.
pub trait Token {
    /// The token's user SID (`TokenUser`).
    fn user(&self) -> Sid;

    /// The token's groups with their attributes (`TokenGroups`).
    fn groups(&self) -> &[Group];

    /// Whether the token "has the administrators SID enabled" (SPEC T-5): one of its
    /// groups is `S-1-5-32-544` with `SE_GROUP_ENABLED` set and
    /// `SE_GROUP_USE_FOR_DENY_ONLY` clear. The user SID does not count, and a
    /// UAC-filtered administrator (Administrators deny-only) is not an administrator.
    fn has_admin_enabled(&self) -> bool {
        self.groups()
            .iter()
            .any(|g| g.sid == Sid::BUILTIN_ADMINISTRATORS && g.attributes.is_enabled_for_allow())
    }

    /// The token's mandatory integrity level (T-8), if it states one: by default the group
    /// `S-1-16-<rid>` with `SE_GROUP_INTEGRITY` set. `None`: T-8's inference applies.
    fn integrity(&self) -> Option<IntegrityLevel> {
        label_of(self.groups())
    }

    /// Whether the token is elevated (T-9, `TokenElevation`), if it says. `None`: T-9's
    /// inference applies (elevated exactly when it has the administrators SID enabled).
    fn elevated(&self) -> Option<bool> {
        None
    }

    /// Whether the token contains restricting SIDs (T-11, `IsTokenRestricted`). Deny-only
    /// groups (UAC filtering) are not restricting SIDs.
    fn restricted(&self) -> bool {
        false
    }

    /// The kind of logon the token comes from (L-11), if it says. `None`: `Service` for the
    /// three service accounts, else `Interactive` ([`Token::logon_or_default`]).
    fn logon(&self) -> Option<LogonType> {
        None
    }

    /// [`Token::logon`], or L-11's default: `Service` for the service accounts, else
    /// `Interactive`.
    fn logon_or_default(&self) -> LogonType {
        self.logon().unwrap_or(if self.user().is_service_account() {
            LogonType::Service
        } else {
            LogonType::Interactive
        })
    }
}

impl<T: Token + ?Sized> Token for &T {
    fn user(&self) -> Sid {
        (**self).user()
    }
    fn groups(&self) -> &[Group] {
        (**self).groups()
    }
    fn has_admin_enabled(&self) -> bool {
        (**self).has_admin_enabled()
    }
    fn integrity(&self) -> Option<IntegrityLevel> {
        (**self).integrity()
    }
    fn elevated(&self) -> Option<bool> {
        (**self).elevated()
    }
    fn restricted(&self) -> bool {
        (**self).restricted()
    }
    fn logon(&self) -> Option<LogonType> {
        (**self).logon()
    }
}

/// The facts the rules read from any token: its user SID, whether it has the
/// administrators SID enabled (T-5), whether it is elevated (T-9), its integrity level
/// (T-8) and whether it is restricted (T-11).
///
/// It is what a `QueryInterface` for `IBitsTokenOptions` remembers of its caller (A-1),
/// what the model keeps of a job's owner (T-9), and of a stored helper token.
///
/// ```
/// # #[cfg(feature = "alloc")] {
/// use bits_helper_token::{Identity, Sid, token::TokenInfo};
///
/// let admin = TokenInfo::elevated_administrator("S-1-5-21-1-2-3-500".parse()?);
/// let who = Identity::of(&admin);
/// assert!(who.admin);
/// assert_eq!(who.sid.to_string(), "S-1-5-21-1-2-3-500");
///
/// // A UAC-filtered administrator is not an administrator for these rules (T-5).
/// let filtered = TokenInfo::filtered_administrator(who.sid);
/// assert!(!Identity::of(&filtered).admin);
/// # }
/// # Ok::<(), bits_helper_token::error::ParseSidError>(())
/// ```
///
/// Serialized (feature `serde`) as `{"sid", "admin", "elevated", "integrity",
/// "restricted"}`; a missing `elevated` or `integrity` takes T-9's or T-8's inference, a
/// missing `restricted` is `false` (and is left out when `false`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(from = "serde_repr::IdentityRepr", into = "serde_repr::IdentityRepr")
)]
#[allow(clippy::exhaustive_structs)] // by design exactly the facts the rules read
pub struct Identity {
    /// The user SID.
    pub sid: Sid,
    /// Whether the administrators SID is enabled (T-5).
    pub admin: bool,
    /// Whether the token is elevated (T-9).
    pub elevated: bool,
    /// The token's integrity level (T-8).
    pub integrity: IntegrityLevel,
    /// Whether the token contains restricting SIDs (T-11): it may not change jobs (A-14).
    pub restricted: bool,
}

impl Identity {
    /// An identity from its SID and T-5, with T-8's and T-9's inferences: elevated exactly
    /// when the administrators SID is enabled; System for the service accounts, High for
    /// an administrator, Medium otherwise.
    pub const fn new(sid: Sid, admin: bool) -> Identity {
        Identity {
            sid,
            admin,
            elevated: admin,
            integrity: IntegrityLevel::inferred(&sid, admin),
            restricted: false,
        }
    }

    /// The same identity, restricted or not (T-11).
    pub const fn with_restricted(self, restricted: bool) -> Identity {
        Identity { restricted, ..self }
    }

    /// The same identity with another elevation (T-9).
    pub const fn with_elevated(self, elevated: bool) -> Identity {
        Identity { elevated, ..self }
    }

    /// The same identity at another integrity level (T-8).
    pub const fn with_integrity(self, integrity: IntegrityLevel) -> Identity {
        Identity { integrity, ..self }
    }

    /// The identity of a token: its user SID, [`Token::has_admin_enabled`], its
    /// elevation and integrity level as it states them, else as T-8 and T-9 infer them,
    /// and [`Token::restricted`].
    pub fn of<T: Token + ?Sized>(token: &T) -> Identity {
        let inferred = Identity::new(token.user(), token.has_admin_enabled());
        Identity {
            elevated: token.elevated().unwrap_or(inferred.elevated),
            integrity: token.integrity().unwrap_or(inferred.integrity),
            restricted: token.restricted(),
            ..inferred
        }
    }

    /// LocalSystem: `S-1-5-18`, administrators SID enabled.
    pub const LOCAL_SYSTEM: Identity = Identity::new(Sid::LOCAL_SYSTEM, true);
    /// LocalService: `S-1-5-19`, not an administrator.
    pub const LOCAL_SERVICE: Identity = Identity::new(Sid::LOCAL_SERVICE, false);
    /// NetworkService: `S-1-5-20`, not an administrator.
    pub const NETWORK_SERVICE: Identity = Identity::new(Sid::NETWORK_SERVICE, false);
}

#[cfg(feature = "serde")]
mod serde_repr {
    use super::{Identity, IntegrityLevel};
    use crate::sid::Sid;

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(remote = "Self", deny_unknown_fields)]
    pub(super) struct IdentityRepr {
        sid: Sid,
        admin: bool,
        #[serde(default)]
        elevated: Option<bool>,
        #[serde(default)]
        integrity: Option<IntegrityLevel>,
        #[serde(default, skip_serializing_if = "core::ops::Not::not")]
        restricted: bool,
    }

    crate::names::strict_object!(IdentityRepr, "an identity");

    /// A serialized identity is a token that states what it states: [`Identity::of`] infers
    /// the rest (T-8, T-9), the one home of that inference.
    impl super::Token for IdentityRepr {
        fn user(&self) -> Sid {
            self.sid
        }
        fn groups(&self) -> &[super::Group] {
            &[]
        }
        fn has_admin_enabled(&self) -> bool {
            self.admin
        }
        fn integrity(&self) -> Option<IntegrityLevel> {
            self.integrity
        }
        fn elevated(&self) -> Option<bool> {
            self.elevated
        }
        fn restricted(&self) -> bool {
            self.restricted
        }
    }

    impl From<IdentityRepr> for Identity {
        fn from(r: IdentityRepr) -> Identity {
            Identity::of(&r)
        }
    }

    impl From<Identity> for IdentityRepr {
        fn from(i: Identity) -> IdentityRepr {
            IdentityRepr {
                sid: i.sid,
                admin: i.admin,
                elevated: Some(i.elevated),
                integrity: Some(i.integrity),
                restricted: i.restricted,
            }
        }
    }
}

/// T-8: the integrity label among these groups: `S-1-16-<rid>` with `SE_GROUP_INTEGRITY`.
pub(crate) fn label_of(groups: &[Group]) -> Option<IntegrityLevel> {
    groups.iter().find_map(|g| {
        let label = g.sid.authority() == 16 && g.sid.sub_authorities().len() == 1;
        (label && g.attributes.contains(GroupAttributes::INTEGRITY))
            .then(|| IntegrityLevel::from_rid(g.sid.rid()))
    })
}

/// Administrators as an elevated token carries it: mandatory, enabled by default,
/// enabled, owner (`0xF`) — as an [`Identity`] with `admin` presents it, and as
/// [`TokenInfo::elevated_administrator`] lists it.
const ADMINS_ENABLED: Group = Group::new(
    Sid::BUILTIN_ADMINISTRATORS,
    GroupAttributes::DEFAULT_ENABLED.union(GroupAttributes::OWNER),
);

/// The groups of an [`Identity`] with `admin`.
const IDENTITY_ADMIN_GROUPS: [Group; 1] = [ADMINS_ENABLED];

/// An identity is the smallest token: its user, the Administrators group enabled exactly
/// when `admin` is set, and its stated elevation and integrity level. So
/// `Identity::of(&identity) == identity`.
impl Token for Identity {
    fn user(&self) -> Sid {
        self.sid
    }
    fn groups(&self) -> &[Group] {
        if self.admin {
            &IDENTITY_ADMIN_GROUPS
        } else {
            &[]
        }
    }
    fn integrity(&self) -> Option<IntegrityLevel> {
        Some(self.integrity)
    }
    fn elevated(&self) -> Option<bool> {
        Some(self.elevated)
    }
    fn restricted(&self) -> bool {
        self.restricted
    }
}

#[cfg(feature = "alloc")]
pub use plain::TokenInfo;

#[cfg(feature = "alloc")]
mod plain;

#[cfg(all(feature = "serde", feature = "alloc"))]
pub(crate) mod shorthand;

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec;

    fn with_admins(attrs: u32) -> TokenInfo {
        TokenInfo::new(
            Sid::LOCAL_SERVICE,
            vec![Group::new(
                Sid::BUILTIN_ADMINISTRATORS,
                GroupAttributes::from_bits_retain(attrs),
            )],
        )
    }

    #[test]
    fn t4_attribute_values() {
        assert_eq!(GroupAttributes::MANDATORY.bits(), 0x1);
        assert_eq!(GroupAttributes::ENABLED_BY_DEFAULT.bits(), 0x2);
        assert_eq!(GroupAttributes::ENABLED.bits(), 0x4);
        assert_eq!(GroupAttributes::OWNER.bits(), 0x8);
        assert_eq!(GroupAttributes::USE_FOR_DENY_ONLY.bits(), 0x10);
        assert_eq!(GroupAttributes::INTEGRITY.bits(), 0x20);
        assert_eq!(GroupAttributes::INTEGRITY_ENABLED.bits(), 0x40);
        assert_eq!(GroupAttributes::RESOURCE.bits(), 0x2000_0000);
        assert_eq!(GroupAttributes::LOGON_ID.bits(), 0xC000_0000);
    }

    #[test]
    fn t5_only_an_enabled_allow_group_counts() {
        assert!(with_admins(0x4).has_admin_enabled());
        assert!(with_admins(0xF).has_admin_enabled());
        assert!(!with_admins(0x0).has_admin_enabled());
        assert!(!with_admins(0x3).has_admin_enabled());
        assert!(!with_admins(0x10).has_admin_enabled());
        assert!(!with_admins(0x14).has_admin_enabled());
        assert!(!with_admins(0x19).has_admin_enabled());
        // Another group with the same attributes does not count.
        let users = TokenInfo::new(
            Sid::LOCAL_SERVICE,
            vec![Group::new(
                Sid::BUILTIN_USERS,
                GroupAttributes::from_bits_retain(0xF),
            )],
        );
        assert!(!users.has_admin_enabled());
    }

    #[test]
    fn identity_is_a_token_of_itself() {
        for id in [Identity::LOCAL_SYSTEM, Identity::NETWORK_SERVICE] {
            assert_eq!(Identity::of(&id), id);
        }
    }

    #[test]
    fn t5_user_sid_alone_does_not_count_and_local_system_counts_through_its_group() {
        assert!(!TokenInfo::new(Sid::BUILTIN_ADMINISTRATORS, vec![]).has_admin_enabled());
        assert!(!TokenInfo::new(Sid::LOCAL_SYSTEM, vec![]).has_admin_enabled());
        assert!(TokenInfo::local_system().has_admin_enabled());
    }

    #[test]
    fn t3_common_identities() {
        let user: Sid = "S-1-5-21-1-2-3-1001".parse().unwrap();
        assert_eq!(TokenInfo::local_system().identity(), Identity::LOCAL_SYSTEM);
        assert_eq!(
            TokenInfo::local_service().identity(),
            Identity::LOCAL_SERVICE
        );
        assert_eq!(
            TokenInfo::network_service().identity(),
            Identity::NETWORK_SERVICE
        );
        assert!(!TokenInfo::standard_user(user).has_admin_enabled());
        assert!(TokenInfo::elevated_administrator(user).has_admin_enabled());
        assert!(!TokenInfo::filtered_administrator(user).has_admin_enabled());
        assert!(TokenInfo::elevated_administrator(user).identity().elevated);
    }
}
