//! The machine's network environment: `UseLMCompat`, `LMCompatibilityLevel`, Kerberos
//! (R-3, R-6) and whether the network is connected (L-13).
#![forbid(unsafe_code)]

use core::fmt;

/// A registry value outside its valid range. Refused, never clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{name} is {value}; valid values are 0 to {max}")]
#[non_exhaustive]
pub struct InvalidRegistryValue {
    /// The value's name (`"UseLMCompat"`, `"LMCompatibilityLevel"`).
    pub name: &'static str,
    /// The value given.
    pub value: u32,
    /// The largest valid value.
    pub max: u32,
}

/// The BITS `UseLMCompat` registry value (`HKLM\Software\Microsoft\Windows\CurrentVersion\BITS`),
/// which widens when BITS sends implicit credentials (R-3).
///
/// ```
/// use bits_helper_token::net::UseLmCompat;
/// assert_eq!(UseLmCompat::default(), UseLmCompat::AfterSetCredentials);
/// assert_eq!(UseLmCompat::from_value(0), Ok(UseLmCompat::Always));
/// assert_eq!(UseLmCompat::from_value(3).unwrap_err().to_string(), "UseLMCompat is 3; valid values are 0 to 2");
/// ```
///
/// Serialized as its number (`0`, `1`, `2`); other numbers are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u32", into = "u32"))]
#[allow(clippy::exhaustive_enums)] // the documented values are exactly 0, 1 and 2
pub enum UseLmCompat {
    /// `0`: implicit credentials are sent whenever an NTLM or Negotiate challenge comes.
    Always,
    /// `1`: they are sent when the system's `LMCompatibilityLevel` is 2 or more.
    WhenLmCompatibilityLevel2,
    /// `2` (the default): they are sent only after `SetCredentials(NULL, NULL)`.
    #[default]
    AfterSetCredentials,
}

impl UseLmCompat {
    /// The three values, in numeric order.
    pub const ALL: [UseLmCompat; 3] = [
        UseLmCompat::Always,
        UseLmCompat::WhenLmCompatibilityLevel2,
        UseLmCompat::AfterSetCredentials,
    ];

    /// The registry value.
    pub const fn value(self) -> u32 {
        match self {
            UseLmCompat::Always => 0,
            UseLmCompat::WhenLmCompatibilityLevel2 => 1,
            UseLmCompat::AfterSetCredentials => 2,
        }
    }

    /// The setting for this registry value; anything but 0, 1 and 2 is refused.
    pub const fn from_value(value: u32) -> Result<UseLmCompat, InvalidRegistryValue> {
        match value {
            0 => Ok(UseLmCompat::Always),
            1 => Ok(UseLmCompat::WhenLmCompatibilityLevel2),
            2 => Ok(UseLmCompat::AfterSetCredentials),
            _ => Err(InvalidRegistryValue {
                name: "UseLMCompat",
                value,
                max: 2,
            }),
        }
    }
}

impl TryFrom<u32> for UseLmCompat {
    type Error = InvalidRegistryValue;
    fn try_from(value: u32) -> Result<UseLmCompat, InvalidRegistryValue> {
        UseLmCompat::from_value(value)
    }
}

impl From<UseLmCompat> for u32 {
    fn from(v: UseLmCompat) -> u32 {
        v.value()
    }
}

/// The system's `LMCompatibilityLevel` (`HKLM\System\CurrentControlSet\Control\Lsa`),
/// 0 to 5. Read by R-3 when `UseLMCompat` is 1.
///
/// ```
/// use bits_helper_token::net::LmCompatibilityLevel;
/// assert_eq!(LmCompatibilityLevel::default().value(), 3); // Windows 7 and later
/// assert!(LmCompatibilityLevel::new(6).is_err());
/// ```
///
/// Serialized as its number; numbers above 5 are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u32", into = "u32"))]
#[allow(clippy::exhaustive_structs)] // the field is private
pub struct LmCompatibilityLevel(u8);

impl LmCompatibilityLevel {
    /// The largest valid level.
    pub const MAX: u32 = 5;

    /// The level Windows uses when the value is absent, from Windows Vista / 7 on: 3.
    pub const DEFAULT: LmCompatibilityLevel = LmCompatibilityLevel(3);

    /// The level; anything above 5 is refused.
    pub const fn new(value: u32) -> Result<LmCompatibilityLevel, InvalidRegistryValue> {
        if value <= Self::MAX {
            Ok(LmCompatibilityLevel(value as u8))
        } else {
            Err(InvalidRegistryValue {
                name: "LMCompatibilityLevel",
                value,
                max: Self::MAX,
            })
        }
    }

    /// The registry value.
    pub const fn value(self) -> u32 {
        self.0 as u32
    }
}

impl Default for LmCompatibilityLevel {
    fn default() -> LmCompatibilityLevel {
        LmCompatibilityLevel::DEFAULT
    }
}

impl fmt::Display for LmCompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<u32> for LmCompatibilityLevel {
    type Error = InvalidRegistryValue;
    fn try_from(value: u32) -> Result<LmCompatibilityLevel, InvalidRegistryValue> {
        LmCompatibilityLevel::new(value)
    }
}

impl From<LmCompatibilityLevel> for u32 {
    fn from(v: LmCompatibilityLevel) -> u32 {
        v.value()
    }
}

/// The machine settings R-3 reads: `UseLMCompat` and `LMCompatibilityLevel`.
///
/// ```
/// use bits_helper_token::{net::NetworkEnvironment, net::UseLmCompat};
/// let env = NetworkEnvironment::new(1, 2)?;
/// assert_eq!(env.use_lm_compat, UseLmCompat::WhenLmCompatibilityLevel2);
/// assert_eq!(env.lm_compatibility_level.value(), 2);
/// assert!(NetworkEnvironment::new(2, 9).is_err());
/// assert_eq!(NetworkEnvironment::default(), NetworkEnvironment::new(2, 3)?);
/// # Ok::<(), bits_helper_token::error::InvalidRegistryValue>(())
/// ```
///
/// Serialized as `{"use_lm_compat": 2, "lm_compatibility_level": 3}`; missing fields take
/// their default, unknown fields are refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(remote = "Self", default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct NetworkEnvironment {
    /// The BITS `UseLMCompat` value (default 2).
    pub use_lm_compat: UseLmCompat,
    /// The system's `LMCompatibilityLevel` (default 3).
    pub lm_compatibility_level: LmCompatibilityLevel,
    /// Whether Kerberos is available in the domain (R-6; default yes): the computer
    /// account answers a challenge only through Negotiate with Kerberos.
    pub kerberos: bool,
    /// Whether the machine has a network connection (L-13; default connected).
    pub network: NetworkState,
}

/// Whether the machine has a network connection (L-13).
///
/// ```
/// use bits_helper_token::net::NetworkState;
/// assert_eq!("disconnected".parse(), Ok(NetworkState::Disconnected));
/// assert!(NetworkState::Connected.is_connected());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[allow(clippy::exhaustive_enums)] // connected or not
pub enum NetworkState {
    /// A network connection is up.
    #[default]
    Connected,
    /// No network connection.
    Disconnected,
}

crate::names::names! { NetworkState, "network state";
    Connected => "connected", Disconnected => "disconnected",
}

impl NetworkState {
    /// Whether a connection is up.
    pub const fn is_connected(self) -> bool {
        matches!(self, NetworkState::Connected)
    }
}

#[cfg(feature = "serde")]
crate::names::strict_object!(NetworkEnvironment, "a network environment");

/// [`NetworkEnvironment::DEFAULT`].
impl Default for NetworkEnvironment {
    fn default() -> NetworkEnvironment {
        NetworkEnvironment::DEFAULT
    }
}

impl NetworkEnvironment {
    /// `UseLMCompat` 2 and `LMCompatibilityLevel` 3, Kerberos available: a machine where
    /// nobody set either, in a domain.
    pub const DEFAULT: NetworkEnvironment = NetworkEnvironment {
        use_lm_compat: UseLmCompat::AfterSetCredentials,
        lm_compatibility_level: LmCompatibilityLevel::DEFAULT,
        kerberos: true,
        network: NetworkState::Connected,
    };

    /// The environment with these raw registry values; invalid ones are refused.
    pub const fn new(
        use_lm_compat: u32,
        lm_compatibility_level: u32,
    ) -> Result<NetworkEnvironment, InvalidRegistryValue> {
        let use_lm_compat = match UseLmCompat::from_value(use_lm_compat) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        let lm_compatibility_level = match LmCompatibilityLevel::new(lm_compatibility_level) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        Ok(NetworkEnvironment {
            use_lm_compat,
            lm_compatibility_level,
            kerberos: true,
            network: NetworkState::Connected,
        })
    }

    /// The same environment with Kerberos available in the domain or not (R-6).
    pub const fn with_kerberos(self, kerberos: bool) -> NetworkEnvironment {
        NetworkEnvironment { kerberos, ..self }
    }

    /// The same environment with the network connected or not (L-13).
    pub const fn with_network(self, network: NetworkState) -> NetworkEnvironment {
        NetworkEnvironment { network, ..self }
    }

    /// The same environment with another `UseLMCompat`.
    pub const fn with_use_lm_compat(self, use_lm_compat: UseLmCompat) -> NetworkEnvironment {
        NetworkEnvironment {
            use_lm_compat,
            ..self
        }
    }

    /// The same environment with another `LMCompatibilityLevel`.
    pub const fn with_lm_compatibility_level(
        self,
        lm_compatibility_level: LmCompatibilityLevel,
    ) -> NetworkEnvironment {
        NetworkEnvironment {
            lm_compatibility_level,
            ..self
        }
    }
}
