//! The server side of an NTLM handshake, bare (`NTLM`) or inside SPNEGO (`Negotiate`), as
//! much as the local server needs to learn **who answered** its challenge:
//! it sends a challenge ([MS-NLMP] `CHALLENGE_MESSAGE`) and reads the domain and user
//! names of the client's `AUTHENTICATE_MESSAGE`. It verifies nothing — the server records
//! the account the client presents and lets it in; no password is involved.
//!
//! Inside SPNEGO (RFC 4178) the NTLM messages are found by their signature, `NTLMSSP\0`:
//! a client's first token (`NegTokenInit`) carries the `NEGOTIATE_MESSAGE` as its
//! optimistic token, its next (`NegTokenResp`) the `AUTHENTICATE_MESSAGE`; a first token
//! without NTLM (Kerberos, NegoEx) is answered by choosing NTLM, which the client then
//! starts. The server's tokens are `NegTokenResp`s.

use alloc::string::String;
use alloc::vec::Vec;

use crate::net::AuthScheme;

/// The NTLM signature that starts every message.
const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// `1.3.6.1.4.1.311.2.2.10`, NTLM's mechanism OID, DER-encoded.
const NTLM_OID: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0A];
/// The name the challenge gives as its target, domain and computer.
const TARGET: &str = "BITSCONF";
/// The server's challenge: fixed, since nothing is verified.
const SERVER_CHALLENGE: [u8; 8] = [0x42, 0x49, 0x54, 0x53, 0x43, 0x4F, 0x4E, 0x46];

// [MS-NLMP] 2.2.2.5 NEGOTIATE flags.
const UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const SIGN: u32 = 0x0000_0010;
const SEAL: u32 = 0x0000_0020;
const NTLM: u32 = 0x0000_0200;
const ALWAYS_SIGN: u32 = 0x0000_8000;
const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
const TARGET_INFO: u32 = 0x0080_0000;
const VERSION: u32 = 0x0200_0000;
const KEY_128: u32 = 0x2000_0000;
const KEY_EXCH: u32 = 0x4000_0000;
const KEY_56: u32 = 0x8000_0000;
/// The client's wishes the server grants as asked.
const ECHOED: u32 = SIGN | SEAL | EXTENDED_SESSION_SECURITY | KEY_128 | KEY_EXCH | KEY_56;

/// The account an `AUTHENTICATE_MESSAGE` presents, as the client wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Presented {
    /// The domain (a computer name for a local account); may be empty.
    pub domain: String,
    /// The user; empty for an anonymous answer, `NAME$` for a computer account.
    pub user: String,
}

/// What the server does with one token from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// Challenge again, with this token (the `CHALLENGE_MESSAGE`, or SPNEGO asking for NTLM).
    Continue(Vec<u8>),
    /// The client presented this account; the token, if any, completes SPNEGO.
    Done(Presented, Option<Vec<u8>>),
    /// Not a message the handshake expects at this point.
    Refuse,
}

/// The server's answer to `token`, received under `scheme` (`NTLM` or `Negotiate`).
pub fn reply(scheme: AuthScheme, token: &[u8]) -> Reply {
    let spnego = scheme == AuthScheme::Negotiate;
    let Some(message) = find(token, SIGNATURE).map(|at| &token[at..]) else {
        // A first SPNEGO token that offers something else first: choose NTLM (RFC 4178
        // 4.2.2), and the client sends its NEGOTIATE_MESSAGE next.
        return if spnego && token.first() == Some(&0x60) {
            Reply::Continue(neg_token_resp(ACCEPT_INCOMPLETE, true, None))
        } else {
            Reply::Refuse
        };
    };
    match message_type(message) {
        Some(1) => {
            let challenge = challenge(u32_at(message, 12).unwrap_or(0));
            Reply::Continue(if spnego {
                neg_token_resp(ACCEPT_INCOMPLETE, true, Some(&challenge))
            } else {
                challenge
            })
        }
        Some(3) => match authenticated(message) {
            Some(who) => Reply::Done(
                who,
                spnego.then(|| neg_token_resp(ACCEPT_COMPLETED, false, None)),
            ),
            None => Reply::Refuse,
        },
        _ => Reply::Refuse,
    }
}

fn message_type(message: &[u8]) -> Option<u32> {
    message.starts_with(SIGNATURE).then_some(())?;
    u32_at(message, 8)
}

/// The `CHALLENGE_MESSAGE` for a client that asked for `client_flags`: Unicode, the target
/// names in `TargetInfo`, a version, no timestamp (so the client sends no MIC).
fn challenge(client_flags: u32) -> Vec<u8> {
    const HEADER: usize = 56;
    let name = utf16le(TARGET);
    let mut info = Vec::new();
    // MsvAvNbDomainName (2), MsvAvNbComputerName (1), then MsvAvEOL (0).
    for id in [2u16, 1] {
        info.extend_from_slice(&id.to_le_bytes());
        info.extend_from_slice(&(name.len() as u16).to_le_bytes());
        info.extend_from_slice(&name);
    }
    info.extend_from_slice(&[0, 0, 0, 0]);
    let flags = UNICODE
        | REQUEST_TARGET
        | NTLM
        | ALWAYS_SIGN
        | TARGET_TYPE_SERVER
        | TARGET_INFO
        | VERSION
        | (client_flags & ECHOED);
    let mut m = Vec::with_capacity(HEADER + name.len() + info.len());
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&2u32.to_le_bytes());
    push_field(&mut m, name.len(), HEADER);
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&SERVER_CHALLENGE);
    m.extend_from_slice(&[0; 8]);
    push_field(&mut m, info.len(), HEADER + name.len());
    // Version: 6.1 build 7601, NTLM revision 15.
    m.extend_from_slice(&[6, 1, 0xB1, 0x1D, 0, 0, 0, 15]);
    m.extend_from_slice(&name);
    m.extend_from_slice(&info);
    m
}

/// The names an `AUTHENTICATE_MESSAGE` presents; `None` when a field lies outside it.
fn authenticated(message: &[u8]) -> Option<Presented> {
    let flags = u32_at(message, 60)?;
    let text = |at: usize| -> Option<String> {
        let len = usize::from(u16::from_le_bytes([
            *message.get(at)?,
            *message.get(at + 1)?,
        ]));
        let offset = usize::try_from(u32_at(message, at + 4)?).ok()?;
        let bytes = message.get(offset..offset.checked_add(len)?)?;
        Some(if flags & UNICODE != 0 {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            bytes.iter().map(|&b| char::from(b)).collect()
        })
    };
    Some(Presented {
        domain: text(28)?,
        user: text(36)?,
    })
}

fn push_field(m: &mut Vec<u8>, len: usize, offset: usize) {
    let len = len as u16;
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(&(offset as u32).to_le_bytes());
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `NegState` values of a `NegTokenResp`.
const ACCEPT_COMPLETED: u8 = 0;
const ACCEPT_INCOMPLETE: u8 = 1;

/// A `NegTokenResp`: `[1] SEQUENCE { [0] negState, [1] supportedMech?, [2] responseToken? }`.
fn neg_token_resp(state: u8, mech: bool, token: Option<&[u8]>) -> Vec<u8> {
    let mut fields = tlv(0xA0, &tlv(0x0A, &[state]));
    if mech {
        fields.extend(tlv(0xA1, &tlv(0x06, NTLM_OID)));
    }
    if let Some(token) = token {
        fields.extend(tlv(0xA2, &tlv(0x04, token)));
    }
    tlv(0xA1, &tlv(0x30, &fields))
}

/// One DER tag-length-value (definite lengths up to 65,535 bytes).
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    out.push(tag);
    match value.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// A client's messages, for the tests of the handshake and of the server.
#[cfg(test)]
pub(super) mod client {
    use super::*;

    /// A NEGOTIATE_MESSAGE as Windows sends it (flags only, no names).
    pub fn negotiate() -> Vec<u8> {
        let mut m = SIGNATURE.to_vec();
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&(UNICODE | NTLM | SIGN | KEY_128 | REQUEST_TARGET).to_le_bytes());
        m.extend_from_slice(&[0; 16]);
        m
    }

    /// An AUTHENTICATE_MESSAGE for `domain\user`, Unicode.
    pub fn authenticate(domain: &str, user: &str) -> Vec<u8> {
        let (domain, user, host) = (utf16le(domain), utf16le(user), utf16le("HOST"));
        let mut m = SIGNATURE.to_vec();
        m.extend_from_slice(&3u32.to_le_bytes());
        let mut offset = 72;
        for len in [0, 0, domain.len(), user.len(), host.len(), 0] {
            push_field(&mut m, len, offset);
            offset += len;
        }
        m.extend_from_slice(&(UNICODE | NTLM).to_le_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend(domain);
        m.extend(user);
        m.extend(host);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::client::{authenticate, negotiate};
    use super::*;

    #[test]
    fn an_ntlm_negotiate_gets_a_challenge_that_echoes_the_clients_wishes() {
        let Reply::Continue(c) = reply(AuthScheme::Ntlm, &negotiate()) else {
            panic!("no challenge")
        };
        assert_eq!(message_type(&c), Some(2));
        let flags = u32_at(&c, 20).unwrap();
        assert_eq!(flags & (SIGN | KEY_128 | UNICODE), SIGN | KEY_128 | UNICODE);
        assert_eq!(flags & SEAL, 0, "not asked for, not granted");
        assert_eq!(&c[24..32], &SERVER_CHALLENGE);
        // The target name field points at "BITSCONF" in UTF-16.
        let (len, off) = (usize::from(c[12]), u32_at(&c, 16).unwrap() as usize);
        assert_eq!(&c[off..off + len], utf16le(TARGET).as_slice());
        // The target info ends with MsvAvEOL at the message's end.
        let (len, off) = (usize::from(c[40]), u32_at(&c, 44).unwrap() as usize);
        assert_eq!(off + len, c.len());
        assert_eq!(&c[c.len() - 4..], &[0, 0, 0, 0]);
    }

    #[test]
    fn an_authenticate_message_names_the_account() {
        let r = reply(AuthScheme::Ntlm, &authenticate("RUNNER", "bitsuser"));
        let who = Presented {
            domain: "RUNNER".into(),
            user: "bitsuser".into(),
        };
        assert_eq!(r, Reply::Done(who, None));
        let Reply::Done(anonymous, _) = reply(AuthScheme::Ntlm, &authenticate("", "")) else {
            panic!("anonymous refused")
        };
        assert!(anonymous.user.is_empty());
    }

    #[test]
    fn negotiate_wraps_the_same_messages_in_spnego() {
        // NegTokenInit { mechTypes [NTLM], mechToken NEGOTIATE_MESSAGE }.
        let mut init = tlv(0xA0, &tlv(0x30, &tlv(0x06, NTLM_OID)));
        init.extend(tlv(0xA2, &tlv(0x04, &negotiate())));
        let mut first = tlv(0x06, &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x02]);
        first.extend(tlv(0xA0, &tlv(0x30, &init)));
        let first = tlv(0x60, &first);
        let Reply::Continue(resp) = reply(AuthScheme::Negotiate, &first) else {
            panic!("no challenge")
        };
        assert_eq!(resp[0], 0xA1, "a NegTokenResp");
        let at = find(&resp, SIGNATURE).expect("the challenge inside");
        assert_eq!(message_type(&resp[at..]), Some(2));
        assert!(
            find(&resp, NTLM_OID).is_some(),
            "NTLM named as the mechanism"
        );
        // NegTokenResp { responseToken AUTHENTICATE_MESSAGE, mechListMIC } after it.
        let mut next = tlv(0xA2, &tlv(0x04, &authenticate("RUNNER", "bitsuser")));
        next.extend(tlv(0xA3, &tlv(0x04, &[0xAA; 16])));
        let next = tlv(0xA1, &tlv(0x30, &next));
        let Reply::Done(who, Some(done)) = reply(AuthScheme::Negotiate, &next) else {
            panic!("not done")
        };
        assert_eq!(who.user, "bitsuser");
        assert_eq!(done, [0xA1, 0x07, 0x30, 0x05, 0xA0, 0x03, 0x0A, 0x01, 0x00]);
    }

    #[test]
    fn spnego_without_ntlm_is_asked_for_ntlm_and_garbage_is_refused() {
        let kerberos_first = tlv(0x60, &tlv(0x06, &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x02]));
        let Reply::Continue(resp) = reply(AuthScheme::Negotiate, &kerberos_first) else {
            panic!("not asked for NTLM")
        };
        assert!(find(&resp, NTLM_OID).is_some());
        assert!(find(&resp, SIGNATURE).is_none());
        assert_eq!(reply(AuthScheme::Ntlm, b"not ntlm"), Reply::Refuse);
        assert_eq!(reply(AuthScheme::Ntlm, &negotiate()[..10]), Reply::Refuse);
        // A field pointing past the message's end.
        let mut bad = authenticate("D", "U");
        bad[40] = 0xFF;
        assert_eq!(reply(AuthScheme::Ntlm, &bad), Reply::Refuse);
    }
}
