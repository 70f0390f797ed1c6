//! Which services take service-specific credentials, and in which form.
//!
//! AWS issues them for four services. CodeCommit (Git over HTTPS) and
//! Amazon Keyspaces (Cassandra drivers) take a user name and password;
//! Bedrock and CloudWatch Logs take an API key, whose public part AWS calls
//! the alias and whose secret may expire (`CredentialAgeDays`). Any other
//! service is AWS's `NotSupportedService`.

/// The form a service's credentials take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialForm {
    /// A generated user name (`jane-at-123456789012`) and password.
    UserNameAndPassword,
    /// An API key: an alias and a secret, optionally expiring.
    ApiKey,
}

/// The services AWS issues service-specific credentials for.
const SERVICES: &[(&str, CredentialForm)] = &[
    (
        "codecommit.amazonaws.com",
        CredentialForm::UserNameAndPassword,
    ),
    (
        "cassandra.amazonaws.com",
        CredentialForm::UserNameAndPassword,
    ),
    ("bedrock.amazonaws.com", CredentialForm::ApiKey),
    ("logs.amazonaws.com", CredentialForm::ApiKey),
];

/// The form of `service_name`'s credentials, or `None` when AWS issues
/// none for it.
pub fn credential_form(service_name: &str) -> Option<CredentialForm> {
    SERVICES
        .iter()
        .find(|(name, _)| *name == service_name)
        .map(|(_, form)| *form)
}

/// AWS's `NotSupportedService` for a service without such credentials.
pub fn not_supported(service_name: &str) -> crate::DomainError {
    crate::DomainError::NotSupportedService(format!(
        "Service {} does not support service-specific credentials.",
        crate::names::shown(service_name)
    ))
}

/// The longest `CredentialAgeDays` AWS accepts for an API key (100 years).
pub const MAX_CREDENTIAL_AGE_DAYS: i64 = 36_600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_services_and_no_other() {
        assert_eq!(
            credential_form("codecommit.amazonaws.com"),
            Some(CredentialForm::UserNameAndPassword)
        );
        assert_eq!(
            credential_form("bedrock.amazonaws.com"),
            Some(CredentialForm::ApiKey)
        );
        assert_eq!(credential_form("s3.amazonaws.com"), None);
        assert_eq!(credential_form("CODECOMMIT.amazonaws.com"), None);
    }
}
