//! Reading `GetTokenInformation` buffers: aligned storage, bounds-checked parsing, and
//! SIDs copied out through their binary form (T-2).
//!
//! The variable-length classes (`TokenUser`, `TokenGroups`) return a structure that holds
//! pointers into the same buffer. We never dereference those pointers: each is turned into
//! an offset inside the bytes we own and the SID is sliced out with bounds checks, so a
//! malformed answer becomes a [`TokenError`], not undefined behaviour.

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

use windows::Win32::Foundation::{ERROR_BAD_LENGTH, ERROR_INSUFFICIENT_BUFFER, HANDLE};
use windows::Win32::Security::{
    GetTokenInformation, SID_AND_ATTRIBUTES, TOKEN_GROUPS, TOKEN_INFORMATION_CLASS, TOKEN_USER,
};

use super::TokenError;
use crate::sid::Sid;
use crate::token::{Group, GroupAttributes};

/// A `GetTokenInformation` answer: bytes in an 8-aligned buffer (a `Vec<u64>`), as the
/// structures inside (pointers, `u32`s) require.
pub(crate) struct InfoBuffer {
    words: Vec<u64>,
    /// Bytes Windows wrote (`ReturnLength`), at most `words.len() * 8`.
    len: usize,
    /// Information class name, for errors.
    what: &'static str,
}

/// How many times a growing answer is re-queried before giving up.
const ATTEMPTS: usize = 4;

impl InfoBuffer {
    /// Queries one variable-length information class of `token`.
    pub(crate) fn query(
        token: HANDLE,
        class: TOKEN_INFORMATION_CLASS,
        what: &'static str,
    ) -> Result<InfoBuffer, TokenError> {
        let mut needed = 0u32;
        // SAFETY: a null buffer with length 0 is the documented way to ask for the size;
        // the call writes only `needed`, a live local.
        let probe = unsafe { GetTokenInformation(token, class, None, 0, &mut needed) };
        match probe {
            // Nothing to return (never seen for the classes we read).
            Ok(()) => needed = 0,
            Err(e) if is_too_small(&e) => {}
            Err(e) => return Err(TokenError::win32("GetTokenInformation", &e)),
        }
        for _ in 0..ATTEMPTS {
            let words = usize::try_from(needed)
                .unwrap_or(usize::MAX)
                .div_ceil(8)
                .max(1);
            let capacity = words
                .checked_mul(8)
                .and_then(|bytes| u32::try_from(bytes).ok())
                .ok_or(TokenError::Malformed {
                    what,
                    detail: "size does not fit in a DWORD",
                })?;
            let mut buf = vec![0u64; words];
            let mut returned = 0u32;
            // SAFETY: `buf` is a live, writable, 8-aligned allocation of exactly `capacity`
            // bytes, which is the length we pass, so the call cannot write outside it;
            // `returned` is a live local.
            let answer = unsafe {
                GetTokenInformation(
                    token,
                    class,
                    Some(buf.as_mut_ptr().cast()),
                    capacity,
                    &mut returned,
                )
            };
            match answer {
                Ok(()) => {
                    // `capacity` is `words * 8`, so `len` stays inside `buf` (see `bytes`).
                    let len = returned.min(capacity) as usize;
                    return Ok(InfoBuffer {
                        words: buf,
                        len,
                        what,
                    });
                }
                // The token changed between the calls: ask again with the new size.
                Err(e) if is_too_small(&e) => needed = returned.max(capacity.saturating_add(8)),
                Err(e) => return Err(TokenError::win32("GetTokenInformation", &e)),
            }
        }
        Err(TokenError::Malformed {
            what,
            detail: "the required size kept growing",
        })
    }

    /// The bytes Windows wrote.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the pointer comes from a live `Vec<u64>` borrowed for the returned
        // lifetime; `u64` has no padding and every byte pattern is a valid `u8`; alignment
        // 1 is always satisfied; `len <= words.len() * 8` (checked in `query`), so the slice
        // stays inside the allocation.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.len) }
    }

    /// Address of the first byte, to turn the pointers inside into offsets.
    fn base(&self) -> usize {
        self.words.as_ptr() as usize
    }

    fn malformed(&self, detail: &'static str) -> TokenError {
        TokenError::Malformed {
            what: self.what,
            detail,
        }
    }

    /// Reads a `SID_AND_ATTRIBUTES` at byte offset `at`: the SID it points to (copied) and
    /// the attributes.
    fn sid_and_attributes(&self, at: usize, index: Option<usize>) -> Result<Group, TokenError> {
        let bytes = self.bytes();
        let ptr = read_usize(bytes, at + offset_of!(SID_AND_ATTRIBUTES, Sid))
            .ok_or_else(|| self.malformed("SID_AND_ATTRIBUTES runs past the end"))?;
        let attributes = read_u32(bytes, at + offset_of!(SID_AND_ATTRIBUTES, Attributes))
            .ok_or_else(|| self.malformed("SID_AND_ATTRIBUTES runs past the end"))?;
        let sid = self.sid_at(ptr, index)?;
        Ok(Group::new(
            sid,
            GroupAttributes::from_bits_retain(attributes),
        ))
    }

    /// Copies the SID that `ptr` (a pointer into this buffer) designates.
    fn sid_at(&self, ptr: usize, index: Option<usize>) -> Result<Sid, TokenError> {
        let bytes = self.bytes();
        let start = ptr
            .checked_sub(self.base())
            .filter(|&offset| offset < bytes.len())
            .ok_or_else(|| self.malformed("a SID pointer points outside the buffer"))?;
        let rest = &bytes[start..];
        // Binary form (T-2): byte 1 is the sub-authority count, length 8 + 4 * count.
        // A bad count or revision is left for `Sid::from_bytes` to name.
        let len = rest
            .get(1)
            .map_or(rest.len(), |&count| 8 + 4 * usize::from(count));
        Sid::from_bytes(&rest[..len.min(rest.len())]).map_err(|source| TokenError::BadSid {
            what: self.what,
            index,
            source,
        })
    }

    /// Parses a `TOKEN_USER` answer: the user SID.
    pub(crate) fn token_user(&self) -> Result<Sid, TokenError> {
        Ok(self
            .sid_and_attributes(offset_of!(TOKEN_USER, User), None)?
            .sid)
    }

    /// Parses a `TOKEN_GROUPS` answer: every group with its attributes (T-4), in order.
    pub(crate) fn token_groups(&self) -> Result<Vec<Group>, TokenError> {
        let bytes = self.bytes();
        let count = read_u32(bytes, offset_of!(TOKEN_GROUPS, GroupCount))
            .ok_or_else(|| self.malformed("no GroupCount"))?;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let first = offset_of!(TOKEN_GROUPS, Groups);
        let stride = size_of::<SID_AND_ATTRIBUTES>();
        let fits = count
            .checked_mul(stride)
            .and_then(|n| n.checked_add(first))
            .is_some_and(|end| end <= bytes.len());
        if !fits {
            return Err(self.malformed("GroupCount runs past the end"));
        }
        (0..count)
            .map(|i| self.sid_and_attributes(first + i * stride, Some(i)))
            .collect()
    }
}

/// `GetTokenInformation` says the buffer is too small with either of these.
fn is_too_small(error: &windows::core::Error) -> bool {
    let code = error.code();
    code == ERROR_INSUFFICIENT_BUFFER.to_hresult() || code == ERROR_BAD_LENGTH.to_hresult()
}

fn read_usize(bytes: &[u8], at: usize) -> Option<usize> {
    let end = at.checked_add(size_of::<usize>())?;
    Some(usize::from_ne_bytes(bytes.get(at..end)?.try_into().ok()?))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    Some(u32::from_ne_bytes(bytes.get(at..end)?.try_into().ok()?))
}
