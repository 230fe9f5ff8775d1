//! Variable byte integers (MQTT 5.0 §1.5.5, MQTT 3.1.1 §2.2.3): seven bits
//! per byte, least significant group first, at most four bytes.

use super::error::DecodeError;

/// Reads a variable byte integer from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` ends before the last byte of the integer,
/// `Ok(Some((value, len)))` with the number of bytes it took, and
/// [`DecodeError::MalformedVarInt`] when the fourth byte still has its
/// continuation bit set. Does not judge minimality: see [`is_minimal`].
pub(crate) fn read(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value: u32 = 0;
    for (i, &byte) in buf.iter().take(4).enumerate() {
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= 4 {
        Err(DecodeError::MalformedVarInt)
    } else {
        Ok(None)
    }
}

/// Reads a variable byte integer that must be complete and, when `strict`
/// (MQTT 5, [MQTT-1.5.5-1]), in its shortest form. Returns the value and the
/// number of bytes read; a buffer ending inside it is [`DecodeError::Truncated`].
pub(crate) fn read_complete(buf: &[u8], strict: bool) -> Result<(u32, usize), DecodeError> {
    match read(buf)? {
        Some((value, len)) => {
            if strict && !is_minimal(value, len) {
                Err(DecodeError::NonMinimalVarInt)
            } else {
                Ok((value, len))
            }
        }
        None => Err(DecodeError::Truncated),
    }
}

/// True when `len` bytes is the shortest encoding of `value`.
pub(crate) fn is_minimal(value: u32, len: usize) -> bool {
    len == encoded_len(value)
}

/// Number of bytes the shortest encoding of `value` takes (1 to 4; values
/// above [`super::MAX_VARINT`] are reported as 4 and must be rejected by the
/// caller).
pub(crate) fn encoded_len(value: u32) -> usize {
    match value {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        _ => 4,
    }
}

/// Appends the shortest encoding of `value`, which must be at most
/// [`super::MAX_VARINT`] (callers check this before writing).
pub(crate) fn write(mut value: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::MAX_VARINT;

    #[test]
    fn boundaries_round_trip() {
        for (value, bytes) in [
            (0u32, &[0x00][..]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (MAX_VARINT, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            write(value, &mut out);
            assert_eq!(out, bytes);
            assert_eq!(encoded_len(value), bytes.len());
            assert_eq!(read(bytes), Ok(Some((value, bytes.len()))));
            assert_eq!(read_complete(bytes, true), Ok((value, bytes.len())));
        }
    }

    #[test]
    fn incomplete_malformed_and_non_minimal() {
        assert_eq!(read(&[]), Ok(None));
        assert_eq!(read(&[0x80, 0x80, 0x80]), Ok(None));
        assert_eq!(
            read(&[0x80, 0x80, 0x80, 0x80]),
            Err(DecodeError::MalformedVarInt)
        );
        assert_eq!(read_complete(&[0x80], true), Err(DecodeError::Truncated));
        assert_eq!(
            read_complete(&[0x80, 0x00], true),
            Err(DecodeError::NonMinimalVarInt)
        );
        assert_eq!(read_complete(&[0x80, 0x00], false), Ok((0, 2)));
    }
}
