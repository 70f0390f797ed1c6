//! The `otpauth://` key URI that authenticator apps import from a QR code.

use crate::Seed;

/// The `otpauth://totp/` URI for `seed`, in the form AWS's
/// `CreateVirtualMFADevice` encodes in its QR code:
/// `otpauth://totp/{issuer}:{account_label}?secret={BASE32}&issuer={issuer}`.
///
/// The issuer appears twice on purpose: apps that predate the `issuer`
/// parameter read the label's prefix, newer apps read the parameter, and both
/// show it above the account so the user can tell services apart. AWS passes
/// `Amazon Web Services` and a label of `{deviceName}@{accountId}`.
///
/// The algorithm, digit count and period are left out, as AWS leaves them
/// out, because their defaults (SHA1, 6, 30) are what this crate implements.
///
/// Issuer and label are percent-encoded: every byte of their UTF-8 text except
/// RFC 3986 unreserved characters and `@` becomes `%XX`, so a `:` in either
/// cannot be mistaken for the separator and `&` or `#` cannot end the query
/// early.
pub fn otpauth_uri(issuer: &str, account_label: &str, seed: &Seed) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{label}?secret={secret}&issuer={issuer}",
        label = percent_encode(account_label),
        secret = seed.to_base32(),
    )
}

/// Percent-encodes every byte of the UTF-8 text except RFC 3986 unreserved
/// characters and `@`.
///
/// `@` is left as is because AWS labels are `{deviceName}@{accountId}` and AWS
/// writes them that way; RFC 3986 allows `@` literally in both a path and a
/// query. Everything else, spaces included, becomes `%XX` (never `+`, which
/// some apps would read as a literal plus).
fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_seed() -> Seed {
        Seed::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn matches_the_aws_shape() {
        assert_eq!(
            otpauth_uri("Amazon Web Services", "alice@123456789012", &rfc_seed()),
            "otpauth://totp/Amazon%20Web%20Services:alice@123456789012\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Amazon%20Web%20Services"
        );
    }

    #[test]
    fn plain_issuer() {
        assert_eq!(
            otpauth_uri("iamd", "my-device_1.x~@000000000000", &rfc_seed()),
            "otpauth://totp/iamd:my-device_1.x~@000000000000\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=iamd"
        );
    }

    #[test]
    fn encodes_separators_and_non_ascii() {
        assert_eq!(
            otpauth_uri("a:b&c", "x+y=z,/?#%é", &rfc_seed()),
            "otpauth://totp/a%3Ab%26c:x%2By%3Dz%2C%2F%3F%23%25%C3%A9\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=a%3Ab%26c"
        );
    }
}
