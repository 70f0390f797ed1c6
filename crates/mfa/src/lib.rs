//! Virtual MFA devices as AWS IAM implements them.
//!
//! An AWS virtual MFA device is an authenticator app holding a shared secret
//! (the *seed*) and producing RFC 6238 TOTP codes: HMAC-SHA1 over a counter that
//! advances every 30 seconds, truncated to 6 decimal digits. The service keeps
//! the same seed and checks each code the user types against it.
//!
//! This crate is the pure part of that:
//!
//! * [`Seed`]: 20 random bytes, the size AWS uses (32 Base32 characters when
//!   shown to the user), with [`base32_encode`] / [`base32_decode`].
//! * [`code_at`] / [`counter_at`]: RFC 4226 HOTP and the RFC 6238 time step.
//! * [`verify`]: one code against a window of time steps, for sign-in.
//! * [`verify_consecutive`]: two consecutive codes, for `EnableMFADevice` and
//!   `ResyncMFADevice`.
//! * [`otpauth_uri`] and [`qr_png`]: what `CreateVirtualMFADevice` hands back so
//!   that an authenticator app can import the seed.
//!
//! Nothing here reads a clock, stores anything or keeps state: callers pass the
//! Unix time in seconds, and they persist the counter that [`verify`] returns so
//! that a code is accepted only once.
//!
//! ```
//! use iam_mfa::{code_at, counter_at, otpauth_uri, qr_png, verify, verify_consecutive, Seed};
//!
//! // CreateVirtualMFADevice: a new seed, shown as Base32 and as a QR code.
//! let seed = Seed::generate()?;
//! let uri = otpauth_uri("iamd", "my-device@123456789012", &seed);
//! let png = qr_png(&uri)?;
//! # assert!(png.starts_with(b"\x89PNG"));
//!
//! // EnableMFADevice: two consecutive codes from the user's app.
//! let now = 1_700_000_000;
//! let code1 = format!("{:06}", code_at(seed.as_bytes(), counter_at(now) - 1));
//! let code2 = format!("{:06}", code_at(seed.as_bytes(), counter_at(now)));
//! let last_used = verify_consecutive(seed.as_bytes(), &code1, &code2, now, 1)?;
//!
//! // Sign-in 30 s later: one code, accepted only for a counter past the last one used.
//! let later = now + 30;
//! let code = format!("{:06}", code_at(seed.as_bytes(), counter_at(later)));
//! let counter = verify(seed.as_bytes(), &code, later, 1)?;
//! assert!(counter > last_used);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod base32;
mod qr;
mod totp;
mod uri;

pub use base32::{base32_decode, base32_encode};
pub use qr::{qr_png, QrError, QR_QUIET_ZONE_MODULES, QR_SCALE};
pub use totp::{
    code_at, counter_at, verify, verify_consecutive, CodeError, RngError, Seed, CODE_DIGITS,
    TIME_STEP_SECONDS,
};
pub use uri::otpauth_uri;
