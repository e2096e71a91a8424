//! Inputs of a transfer that no BITS setting controls: which authentication schemes the
//! server and the proxy ask for (X-3) and what the IE proxy settings say (R-7, X-3).
#![forbid(unsafe_code)]

use crate::names::names;
use crate::net::{AuthScheme, AuthTarget};

/// The schemes the server and the proxy challenge with (X-3). None by default: a server
/// that does not challenge needs no credentials.
///
/// Serialized (feature `serde`) as `{"server": ["negotiate"], "proxy": ["ntlm", "basic"]}`,
/// each a list of scheme names; a scheme named twice or an unknown name is refused.
///
/// ```
/// use bits_helper_token::{net::AuthScheme, net::AuthTarget, net::Challenges};
/// let c = Challenges::NONE.with(AuthTarget::Server, AuthScheme::Negotiate);
/// assert!(c.asks(AuthTarget::Server, AuthScheme::Negotiate));
/// assert!(!c.asks(AuthTarget::Proxy, AuthScheme::Negotiate));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[allow(clippy::exhaustive_structs)] // the fields are private
pub struct Challenges {
    server: u8,
    proxy: u8,
}

const fn bit(scheme: AuthScheme) -> u8 {
    1 << (scheme.value() - 1)
}

impl Challenges {
    /// Nobody challenges.
    pub const NONE: Challenges = Challenges {
        server: 0,
        proxy: 0,
    };

    /// The same challenges, and `target` also asks for `scheme`.
    pub const fn with(self, target: AuthTarget, scheme: AuthScheme) -> Challenges {
        match target {
            AuthTarget::Server => Challenges {
                server: self.server | bit(scheme),
                ..self
            },
            AuthTarget::Proxy => Challenges {
                proxy: self.proxy | bit(scheme),
                ..self
            },
        }
    }

    /// Whether `target` challenges with `scheme`.
    pub const fn asks(&self, target: AuthTarget, scheme: AuthScheme) -> bool {
        let set = match target {
            AuthTarget::Server => self.server,
            AuthTarget::Proxy => self.proxy,
        };
        set & bit(scheme) != 0
    }

    /// Whether `target` challenges at all (offers at least one scheme).
    pub const fn offers_any(&self, target: AuthTarget) -> bool {
        match target {
            AuthTarget::Server => self.server != 0,
            AuthTarget::Proxy => self.proxy != 0,
        }
    }

    /// Whether nobody challenges.
    pub const fn is_empty(&self) -> bool {
        self.server == 0 && self.proxy == 0
    }
}

/// What `PRECONFIG` finds in the IE proxy settings (R-7, X-3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[allow(clippy::exhaustive_enums)] // the three ways IE finds a proxy
pub enum IeSettings {
    /// A direct connection (or a fixed proxy list): no discovery (the default).
    #[default]
    Direct,
    /// "Automatically detect settings": WPAD.
    Autodetect,
    /// "Use automatic configuration script": a PAC URL.
    Pac,
}

names! { IeSettings, "IE proxy setting"; Direct => "direct", Autodetect => "autodetect", Pac => "pac" }

impl IeSettings {
    /// Whether the settings ask for discovery (auto-detection or a PAC script), R-7.
    pub const fn discovers(self) -> bool {
        !matches!(self, IeSettings::Direct)
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::Challenges;
    use crate::net::{AuthScheme, AuthTarget};
    use serde::ser::SerializeStruct;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    struct List(u8);

    impl Serialize for List {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = serializer.serialize_seq(None)?;
            for &s in AuthScheme::ALL {
                if self.0 & super::bit(s) != 0 {
                    seq.serialize_element(&s)?;
                }
            }
            seq.end()
        }
    }

    impl Serialize for Challenges {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut s = serializer.serialize_struct("Challenges", 2)?;
            s.serialize_field("server", &List(self.server))?;
            s.serialize_field("proxy", &List(self.proxy))?;
            s.end()
        }
    }

    #[derive(Deserialize)]
    #[serde(remote = "Self", deny_unknown_fields)]
    struct Repr {
        #[serde(default)]
        server: alloc_free::Schemes,
        #[serde(default)]
        proxy: alloc_free::Schemes,
    }

    crate::names::strict_object!(deserialize Repr, "challenges");

    /// A list of scheme names without an allocation: at most the five schemes.
    mod alloc_free {
        use crate::net::AuthScheme;
        use core::fmt;
        use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};

        #[derive(Default)]
        pub(super) struct Schemes(pub(super) u8);

        impl<'de> Deserialize<'de> for Schemes {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Schemes, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Schemes;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a list of authentication scheme names")
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Schemes, A::Error> {
                        let mut set = 0u8;
                        while let Some(s) = seq.next_element::<AuthScheme>()? {
                            let b = super::super::bit(s);
                            if set & b != 0 {
                                return Err(A::Error::custom(format_args!(
                                    "scheme \"{s}\" is named twice"
                                )));
                            }
                            set |= b;
                        }
                        Ok(Schemes(set))
                    }
                }
                d.deserialize_seq(V)
            }
        }
    }

    impl<'de> Deserialize<'de> for Challenges {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Challenges, D::Error> {
            let r = <Repr as Deserialize>::deserialize(d)?;
            let mut c = Challenges::NONE;
            for &t in AuthTarget::ALL {
                let set = match t {
                    AuthTarget::Server => r.server.0,
                    AuthTarget::Proxy => r.proxy.0,
                };
                for &s in AuthScheme::ALL {
                    if set & super::bit(s) != 0 {
                        c = c.with(t, s);
                    }
                }
            }
            Ok(c)
        }
    }
}
