//! Error messages built by pushing onto a `String`, without `core::fmt`:
//! the messages reach JavaScript, and `format!`/`write!` with numbers or
//! `{:?}` pull the formatting machinery (integer padding, string escaping,
//! Unicode tables) into the shipped wasm. `Display` impls call these too, so
//! native callers see the same text.

/// Appends `n` in decimal.
pub(crate) fn push_dec(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Appends `0x` and `n` in lower-case hex with at least `min_digits` digits
/// (`{:#04x}` is `min_digits` 2, `{:#x}` is 1).
pub(crate) fn push_hex(out: &mut String, n: u32, min_digits: u32) {
    out.push_str("0x");
    let mut started = false;
    for shift in (0..8).rev() {
        let d = (n >> (shift * 4)) & 0xf;
        if d != 0 || shift < min_digits {
            started = true;
        }
        if started {
            out.push(char::from(b"0123456789abcdef"[d as usize]));
        }
    }
}

/// Appends `s` quoted and escaped as `{:?}` does for the characters a URL
/// or database name can hold (quotes, backslashes, control characters).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by src/js
pub(crate) fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str("\\u{");
                let mut hex = String::new();
                push_hex(&mut hex, c as u32, 1);
                // `get`, not indexing: a str index can panic, which links
                // in core's slice-error formatting (about 3 KB of wasm).
                out.push_str(hex.get(2..).unwrap_or_default());
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `parts` concatenated.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_core_fmt() {
        for n in [0u64, 1, 9, 10, 99, 100, 65_535, 268_435_455, u64::MAX] {
            let mut s = String::new();
            push_dec(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for n in [0u32, 1, 0xf, 0x10, 0xab, 0xff, 0x100, u32::MAX] {
            let (mut a, mut b) = (String::new(), String::new());
            push_hex(&mut a, n, 2);
            push_hex(&mut b, n, 1);
            assert_eq!(a, format!("{n:#04x}"));
            assert_eq!(b, format!("{n:#x}"));
        }
        for s in ["ws://a/b", "q\"\\\n\r\t\0\x01\x7f z", "ü€"] {
            let mut q = String::new();
            push_quoted(&mut q, s);
            assert_eq!(q, format!("{s:?}"));
        }
    }
}
