//! RFC 4648 Base32, the encoding authenticator apps use for seeds.
//!
//! Written out here rather than pulled in as a crate because it is a few lines
//! and the seed is the only thing that goes through it.

/// The RFC 4648 Base32 alphabet (not the "extended hex" one).
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes `bytes` as upper-case RFC 4648 Base32 without `=` padding.
///
/// Authenticator apps and `otpauth://` URIs expect the secret unpadded, and a
/// 20-byte seed encodes to exactly 32 characters, so padding would never
/// appear for AWS-sized seeds anyway.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits: u32 = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[usize::from((buffer >> bits) & 0x1f)]));
        }
        // Keep only the bits not yet emitted so the buffer never overflows.
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET[usize::from((buffer << (5 - bits)) & 0x1f)],
        ));
    }
    out
}

/// Decodes RFC 4648 Base32.
///
/// Lenient where people and apps differ harmlessly: letters may be in either
/// case and trailing `=` padding is ignored. Strict where leniency would
/// silently change the secret: it returns `None` for any character outside the
/// alphabet (including spaces and `=` before the end), for a length no encoder
/// produces (1, 3 or 6 characters past a multiple of 8, which would leave a
/// dangling character), and for non-zero leftover bits in the last character
/// (so each byte string has exactly one accepted spelling, up to case and
/// padding).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let data = text.trim_end_matches('=');
    if matches!(data.len() % 8, 1 | 3 | 6) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits: u32 = 0;
    for byte in data.bytes() {
        let value = match byte.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u16::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            // Truncation is the point: the low 8 bits above `bits` are the byte.
            out.push(((buffer >> bits) & 0xff) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    if buffer != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 section 10, with the padding stripped.
    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ];

    #[test]
    fn rfc4648_vectors_encode() {
        for (plain, encoded) in VECTORS {
            assert_eq!(base32_encode(plain.as_bytes()), *encoded, "{plain:?}");
        }
    }

    #[test]
    fn rfc4648_vectors_decode_with_and_without_padding() {
        let padded = [
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("foobar", "MZXW6YTBOI======"),
        ];
        for (plain, encoded) in VECTORS {
            assert_eq!(base32_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
        for (plain, encoded) in padded {
            assert_eq!(base32_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn decode_is_case_insensitive() {
        assert_eq!(base32_decode("mzxw6ytboi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base32_decode("MzXw6YtBoI").as_deref(), Some(&b"foobar"[..]));
    }

    #[test]
    fn decode_rejects_invalid_input() {
        for bad in [
            "MZXW6YTB0I", // '0' is not in the alphabet
            "MZXW6YTB1I", // nor is '1'
            "MZXW6 YQ",   // no spaces
            "MZ=XW6YQ",   // '=' only at the end
            "MZXW6YÍ",    // non-ASCII
            "M",          // 1 character past a multiple of 8
            "MZX",        // 3
            "MZXW6Y",     // 6
            "M3",         // valid length, but non-zero leftover bits
        ] {
            assert_eq!(base32_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn round_trip_all_lengths() {
        let bytes: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..64 {
            let slice = &bytes[..len];
            let encoded = base32_encode(slice);
            assert_eq!(base32_decode(&encoded).as_deref(), Some(slice), "len {len}");
            assert_eq!(
                base32_decode(&encoded.to_ascii_lowercase()).as_deref(),
                Some(slice)
            );
        }
    }
}
