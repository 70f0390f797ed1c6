//! Seeds, RFC 4226 HOTP codes, the RFC 6238 time step and code verification.

use std::fmt;
use std::ops::RangeInclusive;

use hmac::digest::Key;
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// HMAC-SHA1 is what RFC 6238 defaults to and what every authenticator app
/// assumes when an `otpauth://` URI names no algorithm, as AWS's do not.
type HmacSha1 = Hmac<Sha1>;

/// Digits in a code. AWS virtual MFA codes are 6 digits.
pub const CODE_DIGITS: usize = 6;

/// Seconds per TOTP time step (RFC 6238's `X`). AWS uses the default, 30.
pub const TIME_STEP_SECONDS: i64 = 30;

/// `10^CODE_DIGITS`: codes are the truncated HMAC modulo this.
const CODE_MODULUS: u32 = 1_000_000;

/// The secret shared between the service and the user's authenticator app.
///
/// `Debug` prints only the length: a seed must never reach a log, since anyone
/// holding it can produce every future code.
#[derive(Clone)]
pub struct Seed(Vec<u8>);

impl Seed {
    /// Bytes in a generated seed. AWS virtual MFA seeds are 20 bytes (160
    /// bits, the HMAC-SHA1 output size RFC 4226 recommends), shown to the user
    /// as 32 Base32 characters.
    pub const LEN: usize = 20;

    /// Draws a new seed of [`Seed::LEN`] bytes from the operating system's
    /// random number generator.
    ///
    /// # Errors
    ///
    /// [`RngError`] when the operating system cannot supply randomness; the
    /// caller should fail the request rather than fall back to a weaker source.
    pub fn generate() -> Result<Self, RngError> {
        let mut bytes = vec![0; Self::LEN];
        getrandom::getrandom(&mut bytes).map_err(RngError)?;
        Ok(Self(bytes))
    }

    /// Wraps existing seed bytes, e.g. a seed read back from storage.
    ///
    /// The length is not checked: HMAC accepts keys of any length, and a
    /// stored seed must keep producing the codes it always produced.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The raw seed, the key for [`code_at`] and [`verify`].
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The seed in upper-case, unpadded RFC 4648 Base32: the form an
    /// authenticator app accepts typed in by hand, and the `secret` of an
    /// `otpauth://` URI. AWS returns it as `Base32StringSeed`.
    pub fn to_base32(&self) -> String {
        crate::base32_encode(&self.0)
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seed")
            .field("len", &self.0.len())
            .finish_non_exhaustive()
    }
}

/// The operating system's random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RngError(getrandom::Error);

/// Why a code was refused.
///
/// The two cases are kept apart because AWS answers them differently: a code
/// that is not 6 digits fails request validation, while a well-formed code
/// that does not match is an authentication failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The code is not exactly 6 ASCII digits.
    #[error("an MFA code must be exactly 6 digits")]
    Malformed,
    /// The code is well formed but matches no time step in the window.
    #[error("the MFA code is not valid")]
    Wrong,
}

/// The RFC 6238 time step containing `unix_seconds`: `floor(t / 30)`.
///
/// Times before the Unix epoch map to step 0 rather than wrapping, since no
/// real clock reports them and a wrapped counter would match nothing anyway.
pub fn counter_at(unix_seconds: i64) -> u64 {
    // Non-negative after the clamp, so the conversion cannot fail.
    u64::try_from(unix_seconds.max(0) / TIME_STEP_SECONDS).unwrap_or(0)
}

/// The RFC 4226 HOTP value of `seed` at `counter`, as a number below 10^6.
///
/// Format it with `{:06}` to show it: leading zeros are part of the code.
pub fn code_at(seed: &[u8], counter: u64) -> u32 {
    code_with(&keyed(seed), counter)
}

/// Checks one code against every time step within `window` steps of
/// `unix_seconds`, and returns the step it matched.
///
/// A window of 1 (the previous, current and next step) absorbs clock drift and
/// the seconds a person takes to type. Callers must store the returned counter
/// and refuse any later code whose counter is not greater, so that a code
/// seen over someone's shoulder cannot be replayed within its window.
///
/// Every step in the window is computed and compared in constant time whether
/// or not an earlier one matched, so the response time tells nothing about
/// which step (if any) matched. Should two steps share the code, the later one
/// is returned. The cost is linear in `window`.
///
/// # Errors
///
/// [`CodeError::Malformed`] unless `code` is exactly 6 ASCII digits;
/// [`CodeError::Wrong`] when no step in the window produces it.
pub fn verify(seed: &[u8], code: &str, unix_seconds: i64, window: u64) -> Result<u64, CodeError> {
    let given = parse_code(code)?;
    let mac = keyed(seed);
    let mut matched = Choice::from(0);
    let mut counter = 0u64;
    for candidate in steps_around(unix_seconds, window) {
        let hit = code_with(&mac, candidate).ct_eq(&given);
        counter.conditional_assign(&candidate, hit);
        matched |= hit;
    }
    if bool::from(matched) {
        Ok(counter)
    } else {
        Err(CodeError::Wrong)
    }
}

/// Checks two codes shown one after the other: `code1` at some step `c` within
/// `window` steps of `unix_seconds`, and `code2` at `c + 1`. Returns `c + 1`,
/// the last step used, which the caller stores as for [`verify`].
///
/// This is how AWS's `EnableMFADevice` and `ResyncMFADevice` prove the user's
/// app holds the seed and find where its clock is: one code could be a lucky
/// guess (1 in 10^6 per step), two consecutive ones are not. Because the second
/// code is often the current one, `c` is usually a step before now, so the
/// window must be at least 1; a resync, whose whole point is a drifted clock,
/// may warrant a much larger one.
///
/// Like [`verify`], it checks every step in the window in constant time and
/// returns the later match should there be two.
///
/// # Errors
///
/// [`CodeError::Malformed`] unless both codes are exactly 6 ASCII digits;
/// [`CodeError::Wrong`] when no step in the window produces the pair.
pub fn verify_consecutive(
    seed: &[u8],
    code1: &str,
    code2: &str,
    unix_seconds: i64,
    window: u64,
) -> Result<u64, CodeError> {
    let first = parse_code(code1)?;
    let second = parse_code(code2)?;
    let mac = keyed(seed);
    let mut matched = Choice::from(0);
    let mut last = 0u64;
    for candidate in steps_around(unix_seconds, window) {
        // Only the very last counter has no successor; that depends on the
        // window, not on the secret, so branching on it leaks nothing.
        let Some(next) = candidate.checked_add(1) else {
            continue;
        };
        let hit = code_with(&mac, candidate).ct_eq(&first) & code_with(&mac, next).ct_eq(&second);
        last.conditional_assign(&next, hit);
        matched |= hit;
    }
    if bool::from(matched) {
        Ok(last)
    } else {
        Err(CodeError::Wrong)
    }
}

/// The counters within `window` steps of the step containing `unix_seconds`,
/// clamped to the range of `u64` rather than wrapping.
fn steps_around(unix_seconds: i64, window: u64) -> RangeInclusive<u64> {
    let now = counter_at(unix_seconds);
    now.saturating_sub(window)..=now.saturating_add(window)
}

/// Parses a typed code into its value. The code is user input, not a secret,
/// so rejecting it early on its shape leaks nothing about the seed.
fn parse_code(code: &str) -> Result<u32, CodeError> {
    let digits = code.as_bytes();
    if digits.len() != CODE_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
        return Err(CodeError::Malformed);
    }
    Ok(digits
        .iter()
        .fold(0, |value, digit| value * 10 + u32::from(digit - b'0')))
}

/// An HMAC-SHA1 instance keyed with `seed`, to be cloned for each counter so
/// that checking a window hashes the key once.
///
/// The key is laid out as RFC 2104 prescribes (hashed if longer than a block,
/// then zero-padded to a block) so that construction cannot fail, whatever the
/// seed's length.
fn keyed(seed: &[u8]) -> HmacSha1 {
    let mut key = Key::<HmacSha1>::default();
    if seed.len() > key.len() {
        let digest = Sha1::digest(seed);
        key[..digest.len()].copy_from_slice(&digest);
    } else {
        key[..seed.len()].copy_from_slice(seed);
    }
    <HmacSha1 as hmac::digest::KeyInit>::new(&key)
}

/// RFC 4226 section 5.3: HMAC the big-endian counter, then "dynamic
/// truncation" picks 31 bits at an offset given by the last nibble.
fn code_with(mac: &HmacSha1, counter: u64) -> u32 {
    let mut mac = mac.clone();
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    // SHA-1 output is 20 bytes and the offset is at most 15, so the four
    // bytes read are always in bounds.
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let bits = u32::from_be_bytes([
        hash[offset],
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]) & 0x7fff_ffff;
    bits % CODE_MODULUS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 4226 / RFC 6238 SHA-1 test key.
    const RFC_SEED: &[u8] = b"12345678901234567890";

    fn code(seed: &[u8], counter: u64) -> String {
        format!("{:06}", code_at(seed, counter))
    }

    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in (0u64..).zip(expected) {
            assert_eq!(code_at(RFC_SEED, counter), want, "counter {counter}");
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        // The RFC lists 8-digit values; a 6-digit code is their last 6 digits.
        let vectors: [(i64, u64, &str); 6] = [
            (59, 0x1, "94287082"),
            (1_111_111_109, 0x0235_23EC, "07081804"),
            (1_111_111_111, 0x0235_23ED, "14050471"),
            (1_234_567_890, 0x0273_EF07, "89005924"),
            (2_000_000_000, 0x03F9_40AA, "69279037"),
            (20_000_000_000, 0x27BC_86AA, "65353130"),
        ];
        for (time, counter, eight_digits) in vectors {
            assert_eq!(counter_at(time), counter, "time {time}");
            let six = &eight_digits[2..];
            assert_eq!(code(RFC_SEED, counter_at(time)), six, "time {time}");
            assert_eq!(verify(RFC_SEED, six, time, 0), Ok(counter));
        }
    }

    #[test]
    fn long_keys_are_hashed_like_hmac_does() {
        let long = [0xa5u8; 100];
        let mut reference = <HmacSha1 as Mac>::new_from_slice(&long).expect("any length");
        reference.update(&7u64.to_be_bytes());
        let hash = reference.finalize().into_bytes();
        let offset = usize::from(hash[19] & 0x0f);
        let bits = u32::from_be_bytes(hash[offset..offset + 4].try_into().expect("4 bytes"));
        assert_eq!(code_at(&long, 7), (bits & 0x7fff_ffff) % 1_000_000);
        // An empty key is valid HMAC too; it just must not panic.
        let _ = code_at(&[], 0);
    }

    #[test]
    fn counter_at_floors_and_clamps() {
        assert_eq!(counter_at(0), 0);
        assert_eq!(counter_at(29), 0);
        assert_eq!(counter_at(30), 1);
        assert_eq!(counter_at(-1), 0);
        assert_eq!(counter_at(i64::MIN), 0);
        assert_eq!(counter_at(i64::MAX), (i64::MAX / 30) as u64);
    }

    #[test]
    fn verify_accepts_window_edges_and_returns_the_counter() {
        let t = 1_111_111_109;
        let now = counter_at(t);
        for counter in [now - 2, now - 1, now, now + 1, now + 2] {
            assert_eq!(
                verify(RFC_SEED, &code(RFC_SEED, counter), t, 2),
                Ok(counter)
            );
        }
    }

    #[test]
    fn verify_refuses_outside_the_window() {
        let t = 1_111_111_109;
        let now = counter_at(t);
        for counter in [now - 3, now + 3, now + 100] {
            let c = code(RFC_SEED, counter);
            // Guard against a coincidental collision with a step inside.
            assert!((now - 2..=now + 2).all(|inside| code(RFC_SEED, inside) != c));
            assert_eq!(verify(RFC_SEED, &c, t, 2), Err(CodeError::Wrong));
        }
        // Window 0 accepts only the current step.
        assert_eq!(
            verify(RFC_SEED, &code(RFC_SEED, now + 1), t, 0),
            Err(CodeError::Wrong)
        );
        // Another seed's code is wrong.
        assert_eq!(
            verify(b"another seed", &code(RFC_SEED, now), t, 1),
            Err(CodeError::Wrong)
        );
    }

    #[test]
    fn verify_near_the_epoch_and_the_far_future_does_not_wrap() {
        assert_eq!(verify(RFC_SEED, "755224", 0, 5), Ok(0));
        assert_eq!(verify(RFC_SEED, "755224", -100, 1), Ok(0));
        let _ = verify(RFC_SEED, "000000", i64::MAX, 3);
        let _ = verify_consecutive(RFC_SEED, "000000", "000000", i64::MAX, 3);
    }

    #[test]
    fn verify_rejects_malformed_codes() {
        for bad in [
            "12345",
            "1234567",
            "12a456",
            "",
            " 12345",
            "123456 ",
            "+12345",
            "-12345",
            "١٢٣٤٥٦",       // Arabic-Indic digits
            "１２３４５６", // full-width digits
            "12345\u{0}",
        ] {
            assert_eq!(
                verify(RFC_SEED, bad, 59, 1),
                Err(CodeError::Malformed),
                "{bad:?}"
            );
            assert_eq!(
                verify_consecutive(RFC_SEED, bad, "287082", 59, 1),
                Err(CodeError::Malformed)
            );
            assert_eq!(
                verify_consecutive(RFC_SEED, "755224", bad, 59, 1),
                Err(CodeError::Malformed)
            );
        }
    }

    #[test]
    fn verify_consecutive_accepts_a_pair_and_returns_the_last_counter() {
        let t = 1_111_111_109;
        let now = counter_at(t);
        // The usual case: the second code is the current one.
        let (c1, c2) = (code(RFC_SEED, now - 1), code(RFC_SEED, now));
        assert_eq!(verify_consecutive(RFC_SEED, &c1, &c2, t, 1), Ok(now));
        // A drifted clock found by a wider window.
        let (c1, c2) = (code(RFC_SEED, now + 9), code(RFC_SEED, now + 10));
        assert_eq!(verify_consecutive(RFC_SEED, &c1, &c2, t, 10), Ok(now + 10));
        assert_eq!(
            verify_consecutive(RFC_SEED, &c1, &c2, t, 8),
            Err(CodeError::Wrong)
        );
    }

    #[test]
    fn verify_consecutive_refuses_repeats_reversals_and_gaps() {
        let t = 1_111_111_109;
        let now = counter_at(t);
        let (before, current, after) = (
            code(RFC_SEED, now - 1),
            code(RFC_SEED, now),
            code(RFC_SEED, now + 1),
        );
        assert_eq!(
            verify_consecutive(RFC_SEED, &current, &current, t, 5),
            Err(CodeError::Wrong)
        );
        assert_eq!(
            verify_consecutive(RFC_SEED, &current, &before, t, 5),
            Err(CodeError::Wrong)
        );
        assert_eq!(
            verify_consecutive(RFC_SEED, &before, &after, t, 5),
            Err(CodeError::Wrong)
        );
    }

    #[test]
    fn generated_seeds_are_20_random_bytes() {
        let a = Seed::generate().expect("OS randomness");
        let b = Seed::generate().expect("OS randomness");
        assert_eq!(a.as_bytes().len(), Seed::LEN);
        assert_eq!(a.to_base32().len(), 32);
        assert_ne!(a.as_bytes(), b.as_bytes());
        let restored = Seed::from_bytes(crate::base32_decode(&a.to_base32()).expect("valid"));
        assert_eq!(restored.as_bytes(), a.as_bytes());
    }

    #[test]
    fn seed_debug_is_redacted() {
        let seed = Seed::from_bytes(RFC_SEED.to_vec());
        let debug = format!("{seed:?}");
        assert_eq!(seed.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(!debug.contains(&seed.to_base32()), "{debug}");
        assert!(!debug.contains("49, 50"), "{debug}"); // the bytes as numbers
        assert!(!debug.contains("1234567890"), "{debug}");
        let generated = Seed::generate().expect("OS randomness");
        assert!(!format!("{generated:?}").contains(&generated.to_base32()));
        assert!(!format!("{generated:#?}").contains(&generated.to_base32()));
    }
}
