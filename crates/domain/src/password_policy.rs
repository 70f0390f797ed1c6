//! The account password policy (id_credentials_passwords_account-policy.md)
//! and the pure check the shell runs on a plaintext password *before* hashing
//! it, since `decide` only ever sees the hash.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// A custom account password policy. When none is set, [`PasswordPolicy::aws_default`] applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// Minimum length, 6..=128.
    pub minimum_password_length: u8,
    /// Require at least one of ``!@#$%^&*()_+-=[]{}|'``.
    pub require_symbols: bool,
    /// Require at least one digit.
    pub require_numbers: bool,
    /// Require at least one upper-case letter.
    pub require_uppercase_characters: bool,
    /// Require at least one lower-case letter.
    pub require_lowercase_characters: bool,
    /// Users may change their own password.
    pub allow_users_to_change_password: bool,
    /// Days a password is valid, 1..=1095; `None` = never expires.
    pub max_password_age: Option<u16>,
    /// Previous passwords that cannot be reused, 1..=24; `None` = no check.
    pub password_reuse_prevention: Option<u8>,
    /// An expired password can only be reset by an administrator.
    pub hard_expiry: bool,
}

const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

impl PasswordPolicy {
    /// The policy in force when the account has none: 8–128 characters, at
    /// least three of upper case, lower case, digits and symbols, no expiry.
    pub fn aws_default() -> Self {
        PasswordPolicy {
            minimum_password_length: 8,
            require_symbols: false,
            require_numbers: false,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            allow_users_to_change_password: true,
            max_password_age: None,
            password_reuse_prevention: None,
            hard_expiry: false,
        }
    }

    /// Checks the ranges AWS allows for a custom policy.
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(6..=128).contains(&self.minimum_password_length) {
            return Err(DomainError::validation(
                "MinimumPasswordLength must be between 6 and 128.",
            ));
        }
        if let Some(d) = self.max_password_age {
            if !(1..=1095).contains(&d) {
                return Err(DomainError::validation(
                    "MaxPasswordAge must be between 1 and 1095.",
                ));
            }
        }
        if let Some(n) = self.password_reuse_prevention {
            if !(1..=24).contains(&n) {
                return Err(DomainError::validation(
                    "PasswordReusePrevention must be between 1 and 24.",
                ));
            }
        }
        Ok(())
    }

    /// Checks a plaintext password against this policy. `is_default` selects
    /// the default policy's "three of four character classes" rule.
    fn check_with(&self, password: &str, is_default: bool) -> Result<(), DomainError> {
        let fail = |why: &str| {
            Err(DomainError::PasswordPolicyViolation(format!(
                "Password does not conform to the account password policy: {why}."
            )))
        };
        let n = password.chars().count();
        if n > 128 || !password.is_ascii() {
            return fail("it must be at most 128 Basic Latin characters");
        }
        if n < self.minimum_password_length as usize {
            return fail(&format!(
                "it must be at least {} characters",
                self.minimum_password_length
            ));
        }
        let upper = password.chars().any(|c| c.is_ascii_uppercase());
        let lower = password.chars().any(|c| c.is_ascii_lowercase());
        let digit = password.chars().any(|c| c.is_ascii_digit());
        let symbol = password.chars().any(|c| SYMBOLS.contains(c));
        if is_default {
            if [upper, lower, digit, symbol].iter().filter(|b| **b).count() < 3 {
                return fail("it must contain three of: upper case, lower case, digits, symbols");
            }
            return Ok(());
        }
        if self.require_uppercase_characters && !upper {
            return fail("it must contain an upper-case letter");
        }
        if self.require_lowercase_characters && !lower {
            return fail("it must contain a lower-case letter");
        }
        if self.require_numbers && !digit {
            return fail("it must contain a digit");
        }
        if self.require_symbols && !symbol {
            return fail("it must contain a symbol");
        }
        Ok(())
    }
}

/// Checks `password` against the account's policy, or AWS's default policy
/// when the account has none. The shell calls this before hashing.
pub fn check_password(policy: Option<&PasswordPolicy>, password: &str) -> Result<(), DomainError> {
    match policy {
        Some(p) => p.check_with(password, false),
        None => PasswordPolicy::aws_default().check_with(password, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy() {
        assert!(check_password(None, "Abcdefg1").is_ok());
        assert!(check_password(None, "abcdefg1!").is_ok());
        assert!(check_password(None, "abcdefgh1").is_err());
        assert!(check_password(None, "Ab1!").is_err());
        assert!(check_password(None, &format!("Ab1{}", "x".repeat(126))).is_err());
    }

    #[test]
    fn custom_policy() {
        let p = PasswordPolicy {
            minimum_password_length: 6,
            require_symbols: true,
            ..PasswordPolicy::aws_default()
        };
        assert!(p.validate().is_ok());
        assert!(check_password(Some(&p), "abcde!").is_ok());
        assert!(check_password(Some(&p), "abcdef").is_err());
        let bad = PasswordPolicy {
            minimum_password_length: 5,
            ..PasswordPolicy::aws_default()
        };
        assert!(bad.validate().is_err());
        let bad = PasswordPolicy {
            max_password_age: Some(1096),
            ..PasswordPolicy::aws_default()
        };
        assert!(bad.validate().is_err());
        let bad = PasswordPolicy {
            password_reuse_prevention: Some(25),
            ..PasswordPolicy::aws_default()
        };
        assert!(bad.validate().is_err());
    }
}
