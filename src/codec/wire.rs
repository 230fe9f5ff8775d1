//! Primitive MQTT data types (MQTT 5.0 §1.5): a bounds-checked reader over a
//! packet body and the matching writers. Every read that would run past the
//! end of the body returns [`DecodeError::Truncated`]; nothing here can panic.

use super::error::{DecodeError, EncodeError};
use super::varint;

/// A cursor over the bytes of one packet body (or one property block).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// True when every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless every byte was read.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&byte, rest) = self.buf.split_first().ok_or(DecodeError::Truncated)?;
        self.buf = rest;
        Ok(byte)
    }

    /// Two byte integer, big-endian.
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let bytes = self.bytes(2)?;
        Ok(match *bytes {
            [hi, lo] => u16::from_be_bytes([hi, lo]),
            _ => return Err(DecodeError::Truncated),
        })
    }

    /// Four byte integer, big-endian.
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let bytes = self.bytes(4)?;
        Ok(match *bytes {
            [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
            _ => return Err(DecodeError::Truncated),
        })
    }

    /// Variable byte integer; `strict` rejects non-shortest encodings.
    pub(crate) fn varint(&mut self, strict: bool) -> Result<u32, DecodeError> {
        // One byte (below 128) is the common case, e.g. a property length,
        // and always in its shortest form.
        if let Some((&b, rest)) = self.buf.split_first() {
            if b < 0x80 {
                self.buf = rest;
                return Ok(u32::from(b));
            }
        }
        let (value, len) = varint::read_complete(self.buf, strict)?;
        self.bytes(len)?;
        Ok(value)
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// A reader over the next `n` bytes, which this reader skips.
    pub(crate) fn take(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        self.bytes(n).map(Reader::new)
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Binary data: two byte length, then that many bytes.
    pub(crate) fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// UTF-8 encoded string: valid UTF-8 without U+0000.
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        self.str_scanned().map(|(s, _)| s)
    }

    /// Like [`Reader::str`], and also tells whether the string contains a
    /// wildcard (`+` or `#`), found by the same scan of the bytes.
    #[inline]
    pub(crate) fn str_scanned(&mut self) -> Result<(&'a str, bool), DecodeError> {
        let bytes = self.binary()?;
        let scan = Scan::of(bytes);
        if scan.nul {
            return Err(DecodeError::NullCharacter);
        }
        let s = if scan.ascii {
            // SAFETY: every byte is below 0x80 (the scan checked each one,
            // a word at a time in `is_plain` or one by one), and a sequence
            // of ASCII bytes is valid UTF-8. Topics are almost always ASCII;
            // validating them again was about a seventh of the work of
            // receiving a message.
            unsafe { std::str::from_utf8_unchecked(bytes) }
        } else {
            std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?
        };
        Ok((s, scan.wildcard))
    }

    /// A UTF-8 encoded string, owned.
    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        self.str().map(str::to_owned)
    }
}

/// What a scan of a string's bytes found. UTF-8 multi-byte sequences
/// never contain bytes below 0x80, so the answers are exact for any input.
struct Scan {
    /// A 0x00 byte (U+0000).
    nul: bool,
    /// A `+` or `#` byte.
    wildcard: bool,
    /// Every byte is below 0x80 (so the bytes are valid UTF-8).
    ascii: bool,
}

impl Scan {
    /// Plain strings (nearly every topic) are recognised eight bytes at a
    /// time; the others, and strings shorter than a word, are scanned byte
    /// by byte for each answer.
    // Natively inlined into the string readers, the byte by byte scan
    // and the word scan not; in the wasm (built for size) all in one.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn of(bytes: &[u8]) -> Scan {
        if is_plain(bytes) {
            Scan {
                nul: false,
                wildcard: false,
                ascii: true,
            }
        } else {
            Scan::bytewise(bytes)
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline(never))]
    fn bytewise(bytes: &[u8]) -> Scan {
        Scan {
            nul: bytes.contains(&0),
            wildcard: bytes.iter().any(|&b| b == b'+' || b == b'#'),
            ascii: bytes.is_ascii(),
        }
    }
}

/// True when `bytes` holds at least eight bytes and each is ASCII and none
/// is 0x00, `+` or `#`. Exact, eight bytes at a time (SWAR): in a word with
/// no byte 0x00 or above 0x7F, `x - 0x01..01` borrows nowhere and sets no
/// high bit, while the lowest byte that is 0x00 becomes 0xFF, so
/// `(x - 0x01..01) | x` has a high bit set exactly when some byte is 0x00
/// or above 0x7F. `+` (0x2B) and `#` (0x23) differ only in bit 3, and no
/// other byte becomes 0x2B when bit 3 is set, so they are the 0x00 bytes
/// of `(x | 0x08..08) ^ 0x2B..2B`, whose high bits are those of `x`.
// Out of line natively: inlined into the receive loop, its constants were
// reloaded after every call there (to memcpy) and cost more than the call.
#[cfg_attr(not(target_arch = "wasm32"), inline(never))]
fn is_plain(bytes: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    fn load(chunk: &[u8]) -> u64 {
        u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]))
    }
    let Some(last_start) = bytes.len().checked_sub(8) else {
        return false;
    };
    let mut flagged = 0u64;
    let mut add = |x: u64| {
        let w = (x | (LO * 0x08)) ^ (LO * u64::from(b'+'));
        flagged |= x.wrapping_sub(LO) | x | w.wrapping_sub(LO);
    };
    for chunk in bytes.chunks_exact(8) {
        add(load(chunk));
    }
    // The last eight bytes, overlapping the chunks: covers the remainder
    // without copying it (checking a byte twice changes nothing).
    add(load(bytes.get(last_start..).unwrap_or_default()));
    flagged & HI == 0
}

/// Encoded size of a UTF-8 string field; checks its length and U+0000.
pub(crate) fn str_len(s: &str) -> Result<usize, EncodeError> {
    if s.len() > usize::from(u16::MAX) {
        return Err(EncodeError::FieldTooLong);
    }
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::NullCharacter);
    }
    Ok(2 + s.len())
}

/// Encoded size of a binary data field; checks its length.
pub(crate) fn bin_len(b: &[u8]) -> Result<usize, EncodeError> {
    if b.len() > usize::from(u16::MAX) {
        return Err(EncodeError::FieldTooLong);
    }
    Ok(2 + b.len())
}

/// Appends a two byte integer.
pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends a four byte integer.
pub(crate) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends binary data; its length was checked by [`bin_len`].
pub(crate) fn put_bin(out: &mut Vec<u8>, b: &[u8]) {
    // Lengths are checked before writing; clamp rather than wrap regardless.
    let len = u16::try_from(b.len()).unwrap_or(u16::MAX);
    put_u16(out, len);
    out.extend_from_slice(b.get(..usize::from(len)).unwrap_or(b));
}

/// Appends a UTF-8 string; its length was checked by [`str_len`].
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bin(out, s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::is_plain;

    /// The definition `is_plain` must match, byte by byte.
    fn plain_bytewise(bytes: &[u8]) -> bool {
        bytes
            .iter()
            .all(|&b| b != 0 && b < 0x80 && b != b'+' && b != b'#')
    }

    #[test]
    fn plain_scans_are_exact_at_every_length_and_position() {
        let specials = [
            0x00, b'+', b'#', 0x80, 0xFF, 0x7F, 0x01, 0x2A, 0x2C, 0x22, 0x24,
        ];
        for len in 0..80 {
            let mut bytes = vec![b'a'; len];
            let expected = len >= 8;
            assert_eq!(is_plain(&bytes), expected, "len {len}");
            for at in 0..len {
                for &special in &specials {
                    bytes[at] = special;
                    let expected = len >= 8 && plain_bytewise(&bytes);
                    assert_eq!(is_plain(&bytes), expected, "{len} {at} {special}");
                }
                bytes[at] = b'a';
            }
        }
    }
}
