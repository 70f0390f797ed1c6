//! JSON Web Key Sets (RFC 7517) holding the provider's signing keys.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{
    RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
};
use serde_json::{Map, Value};

use crate::json::{parse_object, JsonError};
use crate::token::Alg;
use crate::{FederationError, MAX_DOCUMENT_LEN};

/// The most keys a key set may list, usable or not.
///
/// Providers publish a handful (the current key and the next or previous one
/// during rotation). A token without a `kid` is tried against every key of its
/// type, so the bound also bounds that work.
pub const MAX_KEYS: usize = 100;

/// Smallest and largest RSA modulus accepted, in bits. 2048 is the floor every
/// current guideline sets; 8192 is the most `ring` verifies.
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// Bytes of a P-256 coordinate.
const P256_COORDINATE_LEN: usize = 32;

/// The keys of a provider that can verify an RS256 or ES256 signature.
///
/// Parsing keeps only what this crate can use safely and skips the rest
/// silently, since a provider may publish encryption keys or keys for other
/// algorithms next to its signing keys, and one odd key must not take the
/// whole provider down. Kept keys are RSA keys of 2048 to 8192 bits and EC
/// keys on P-256; a key is skipped when its `use` is not `sig`, its `key_ops`
/// lack `verify`, its `alg` is present but is not the one algorithm its type
/// allows here, or its material does not decode. Key material is public, so
/// `Debug` shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

#[derive(Clone, PartialEq, Eq)]
struct Jwk {
    kid: Option<String>,
    material: KeyMaterial,
}

#[derive(Clone, PartialEq, Eq)]
enum KeyMaterial {
    /// Big-endian modulus and exponent, without leading zero bytes.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed SEC1 point `0x04 || x || y`.
    EcP256 { point: Vec<u8> },
}

impl KeySet {
    /// Parses a JWKS document (`{"keys":[...]}`).
    ///
    /// # Errors
    ///
    /// [`FederationError::TooLarge`] past [`MAX_DOCUMENT_LEN`] bytes or
    /// [`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH) levels,
    /// [`FederationError::TooManyKeys`] past [`MAX_KEYS`] entries,
    /// [`FederationError::Malformed`] when it is not a JSON object, and
    /// [`FederationError::MissingField`] when `keys` is not an array. Keys
    /// that cannot be used are skipped, not errors, so the set may be empty.
    pub fn parse(bytes: &[u8]) -> Result<Self, FederationError> {
        if bytes.len() > MAX_DOCUMENT_LEN {
            return Err(FederationError::TooLarge);
        }
        let document = parse_object(bytes).map_err(|error| match error {
            JsonError::TooDeep => FederationError::TooLarge,
            JsonError::NotAnObject => FederationError::Malformed("not a JSON object"),
        })?;
        let Some(Value::Array(entries)) = document.get("keys") else {
            return Err(FederationError::MissingField("keys"));
        };
        if entries.len() > MAX_KEYS {
            return Err(FederationError::TooManyKeys);
        }
        let keys = entries
            .iter()
            .filter_map(|entry| match entry {
                Value::Object(jwk) => parse_jwk(jwk),
                _ => None,
            })
            .collect();
        Ok(Self { keys })
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key in the document was usable: every token will then fail
    /// with [`TokenError::UnknownKey`](crate::TokenError::UnknownKey).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a usable key has this `kid`.
    ///
    /// A cache can use it to refetch the key set when a token names a key it
    /// has not seen, which is how providers roll keys over.
    pub fn contains_key_id(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid.as_deref() == Some(kid))
    }

    /// Whether a key of this set verifies `signature` over `message` for
    /// `alg`, and whether any key was eligible at all.
    ///
    /// With a `kid`, only keys with that `kid` are eligible; without one,
    /// every key. Either way the key's type must be the one `alg` requires,
    /// so an RSA key never checks an ES256 signature or the reverse.
    pub(crate) fn verify(
        &self,
        alg: Alg,
        kid: Option<&str>,
        message: &[u8],
        signature: &[u8],
    ) -> Verification {
        let mut eligible = false;
        for key in &self.keys {
            if kid.is_some() && key.kid.as_deref() != kid {
                continue;
            }
            let verified = match (&key.material, alg) {
                (KeyMaterial::Rsa { n, e }, Alg::Rs256) => RsaPublicKeyComponents { n, e }
                    .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                    .is_ok(),
                (KeyMaterial::EcP256 { point }, Alg::Es256) => {
                    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                        .verify(message, signature)
                        .is_ok()
                }
                _ => continue,
            };
            if verified {
                return Verification::Verified;
            }
            eligible = true;
        }
        if eligible {
            Verification::BadSignature
        } else {
            Verification::NoKey
        }
    }
}

/// The outcome of [`KeySet::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verification {
    Verified,
    BadSignature,
    NoKey,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kty, bits) = match &self.material {
            KeyMaterial::Rsa { n, .. } => ("RSA", bit_length(n)),
            KeyMaterial::EcP256 { .. } => ("EC P-256", 256),
        };
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("kty", &kty)
            .field("bits", &bits)
            .finish()
    }
}

/// One key of the set, or `None` when it is unusable or not for signatures.
fn parse_jwk(jwk: &Map<String, Value>) -> Option<Jwk> {
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return None,
    };
    match jwk.get("use") {
        None => {}
        Some(Value::String(usage)) if usage == "sig" => {}
        Some(_) => return None,
    }
    match jwk.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => {}
        Some(_) => return None,
    }
    let alg = match jwk.get("alg") {
        None => None,
        Some(Value::String(alg)) => Some(alg.as_str()),
        Some(_) => return None,
    };
    let material = match string(jwk, "kty")? {
        "RSA" if alg.is_none_or(|alg| alg == Alg::Rs256.as_str()) => rsa_key(jwk)?,
        "EC" if alg.is_none_or(|alg| alg == Alg::Es256.as_str()) => p256_key(jwk)?,
        _ => return None,
    };
    Some(Jwk { kid, material })
}

fn rsa_key(jwk: &Map<String, Value>) -> Option<KeyMaterial> {
    let n = strip_leading_zeros(decode_member(jwk, "n")?);
    let e = strip_leading_zeros(decode_member(jwk, "e")?);
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bit_length(&n)) {
        return None;
    }
    // ring accepts odd exponents from 3 up to 2^33 - 1; refusing the rest
    // here keeps an unusable key out of the set instead of failing later.
    let exponent = e.iter().try_fold(0u64, |acc, &byte| {
        (e.len() <= 5).then(|| (acc << 8) | u64::from(byte))
    })?;
    if exponent < 3 || exponent % 2 == 0 || exponent >= 1 << 33 {
        return None;
    }
    Some(KeyMaterial::Rsa { n, e })
}

fn p256_key(jwk: &Map<String, Value>) -> Option<KeyMaterial> {
    if string(jwk, "crv")? != "P-256" {
        return None;
    }
    let x = decode_member(jwk, "x")?;
    let y = decode_member(jwk, "y")?;
    // RFC 7518 section 6.2.1.2: coordinates are always the full field size.
    if x.len() != P256_COORDINATE_LEN || y.len() != P256_COORDINATE_LEN {
        return None;
    }
    let mut point = Vec::with_capacity(1 + 2 * P256_COORDINATE_LEN);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Some(KeyMaterial::EcP256 { point })
}

fn string<'a>(jwk: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    jwk.get(name)?.as_str()
}

/// A base64url member of a key. Trailing `=` padding is tolerated here (not
/// in tokens): a few providers pad their key material, and the bytes mean the
/// same either way.
fn decode_member(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    let encoded = string(jwk, name)?.trim_end_matches('=');
    URL_SAFE_NO_PAD.decode(encoded).ok()
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// Bits in a big-endian number without leading zero bytes.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(&first) => bytes.len() * 8 - first.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A modulus of `bits` bits (its top bit set); not a real key, which the
    /// parser cannot tell and need not.
    fn modulus(bits: usize) -> String {
        let mut n = vec![0xA5; bits.div_ceil(8)];
        n[0] = 1 << ((bits - 1) % 8);
        b64(&n)
    }

    fn coordinate() -> String {
        b64(&[7; 32])
    }

    fn parse(keys: &str) -> KeySet {
        KeySet::parse(format!(r#"{{"keys":[{keys}]}}"#).as_bytes()).unwrap()
    }

    #[test]
    fn keeps_rsa_and_p256_signing_keys() {
        let set = parse(&format!(
            r#"{{"kty":"RSA","kid":"r","use":"sig","alg":"RS256","n":"{}","e":"AQAB"}},
               {{"kty":"EC","kid":"e","crv":"P-256","x":"{x}","y":"{x}","key_ops":["verify"]}}"#,
            modulus(2048),
            x = coordinate()
        ));
        assert_eq!(set.len(), 2);
        assert!(set.contains_key_id("r"));
        assert!(set.contains_key_id("e"));
        assert!(!set.contains_key_id("other"));
    }

    #[test]
    fn skips_weak_and_oversized_rsa_keys() {
        for bits in [1024, 2047, 8193] {
            let set = parse(&format!(
                r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#,
                modulus(bits)
            ));
            assert!(set.is_empty(), "{bits}-bit key kept");
        }
        // Leading zero bytes do not count towards the size.
        let mut padded = vec![0, 0];
        padded.extend(URL_SAFE_NO_PAD.decode(modulus(1024)).unwrap());
        let set = parse(&format!(
            r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#,
            b64(&padded)
        ));
        assert!(set.is_empty());
        assert_eq!(
            parse(&format!(
                r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#,
                modulus(4096)
            ))
            .len(),
            1
        );
    }

    #[test]
    fn skips_unusable_rsa_exponents() {
        for e in [
            b64(&[1]),
            b64(&[2]),
            b64(&[0x01, 0x00, 0x00]),
            b64(&[1; 6]),
            String::new(),
        ] {
            let set = parse(&format!(
                r#"{{"kty":"RSA","n":"{}","e":"{e}"}}"#,
                modulus(2048)
            ));
            assert!(set.is_empty(), "exponent {e} kept");
        }
    }

    #[test]
    fn skips_keys_not_for_signing() {
        let n = modulus(2048);
        for key in [
            format!(r#"{{"kty":"RSA","use":"enc","n":"{n}","e":"AQAB"}}"#),
            format!(r#"{{"kty":"RSA","use":7,"n":"{n}","e":"AQAB"}}"#),
            format!(r#"{{"kty":"RSA","key_ops":["encrypt"],"n":"{n}","e":"AQAB"}}"#),
            format!(r#"{{"kty":"RSA","alg":"RSA-OAEP","n":"{n}","e":"AQAB"}}"#),
            format!(r#"{{"kty":"RSA","alg":"PS256","n":"{n}","e":"AQAB"}}"#),
            format!(r#"{{"kty":"RSA","alg":"ES256","n":"{n}","e":"AQAB"}}"#),
            format!(r#"{{"kty":"RSA","kid":5,"n":"{n}","e":"AQAB"}}"#),
        ] {
            assert!(parse(&key).is_empty(), "kept {key}");
        }
    }

    #[test]
    fn skips_unknown_types_curves_and_bad_material() {
        let c = coordinate();
        for key in [
            format!(r#"{{"kty":"oct","k":"{c}"}}"#),
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
                .to_owned(),
            format!(r#"{{"kty":"EC","crv":"P-384","x":"{c}","y":"{c}"}}"#),
            format!(r#"{{"kty":"EC","crv":"P-256","alg":"RS256","x":"{c}","y":"{c}"}}"#),
            format!(
                r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{c}"}}"#,
                b64(&[7; 31])
            ),
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{c}"}}"#),
            r#"{"kty":"RSA","n":"not base64!","e":"AQAB"}"#.to_owned(),
            "42".to_owned(),
        ] {
            assert!(parse(&key).is_empty(), "kept {key}");
        }
    }

    #[test]
    fn tolerates_padded_key_material() {
        let set = parse(&format!(
            r#"{{"kty":"RSA","n":"{}==","e":"AQAB"}}"#,
            modulus(2048)
        ));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn bounds_the_document() {
        let key = r#"{"kty":"oct"}"#;
        let many = vec![key; MAX_KEYS + 1].join(",");
        assert_eq!(
            KeySet::parse(format!(r#"{{"keys":[{many}]}}"#).as_bytes()),
            Err(FederationError::TooManyKeys)
        );
        let enough = vec![key; MAX_KEYS].join(",");
        assert!(KeySet::parse(format!(r#"{{"keys":[{enough}]}}"#).as_bytes()).is_ok());
        let huge = vec![b' '; MAX_DOCUMENT_LEN + 1];
        assert_eq!(KeySet::parse(&huge), Err(FederationError::TooLarge));
    }

    #[test]
    fn refuses_documents_without_a_key_array() {
        assert_eq!(
            KeySet::parse(b"{}"),
            Err(FederationError::MissingField("keys"))
        );
        assert_eq!(
            KeySet::parse(br#"{"keys":{}}"#),
            Err(FederationError::MissingField("keys"))
        );
        assert!(matches!(
            KeySet::parse(b"{"),
            Err(FederationError::Malformed(_))
        ));
        assert!(KeySet::parse(br#"{"keys":[]}"#).unwrap().is_empty());
    }
}
