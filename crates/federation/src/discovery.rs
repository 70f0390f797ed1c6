//! The OpenID Connect discovery document.

use serde_json::{Map, Value};

use crate::json::{parse_object, JsonError};
use crate::{FederationError, MAX_DOCUMENT_LEN};

/// What the service needs from a provider's
/// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
///
/// The rest of the document (endpoints, supported scopes and algorithms) is
/// about signing users in, which IAM never does; it only verifies tokens.
///
/// OpenID Connect Discovery requires the document's `issuer` to equal the URL
/// it was fetched from (less the well-known suffix). This crate does not know
/// that URL, so the caller should compare [`Discovery::issuer`] with the
/// provider it registered before trusting [`Discovery::jwks_uri`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Discovery {
    /// Parses a discovery document.
    ///
    /// # Errors
    ///
    /// [`FederationError::TooLarge`] past [`MAX_DOCUMENT_LEN`] bytes or
    /// [`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH) levels,
    /// [`FederationError::Malformed`] when it is not a JSON object, and
    /// [`FederationError::MissingField`] when `issuer` or `jwks_uri` is absent,
    /// empty or not a string.
    pub fn parse(bytes: &[u8]) -> Result<Self, FederationError> {
        if bytes.len() > MAX_DOCUMENT_LEN {
            return Err(FederationError::TooLarge);
        }
        let document = parse_object(bytes).map_err(|error| match error {
            JsonError::TooDeep => FederationError::TooLarge,
            JsonError::NotAnObject => FederationError::Malformed("not a JSON object"),
        })?;
        Ok(Self {
            issuer: required_string(&document, "issuer")?,
            jwks_uri: required_string(&document, "jwks_uri")?,
        })
    }

    /// The issuer identifier: what the `iss` claim of the provider's tokens
    /// must equal exactly.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where the provider publishes its signing keys, for [`KeySet::parse`](crate::KeySet::parse).
    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }
}

fn required_string(
    document: &Map<String, Value>,
    name: &'static str,
) -> Result<String, FederationError> {
    match document.get(name) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        _ => Err(FederationError::MissingField(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_issuer_and_jwks_uri() {
        let discovery = Discovery::parse(
            br#"{"issuer":"https://token.actions.githubusercontent.com",
                "jwks_uri":"https://token.actions.githubusercontent.com/.well-known/jwks",
                "response_types_supported":["id_token"]}"#,
        )
        .unwrap();
        assert_eq!(
            discovery.issuer(),
            "https://token.actions.githubusercontent.com"
        );
        assert_eq!(
            discovery.jwks_uri(),
            "https://token.actions.githubusercontent.com/.well-known/jwks"
        );
    }

    #[test]
    fn refuses_missing_or_mistyped_fields() {
        assert_eq!(
            Discovery::parse(br#"{"jwks_uri":"https://x/jwks"}"#),
            Err(FederationError::MissingField("issuer"))
        );
        assert_eq!(
            Discovery::parse(br#"{"issuer":"https://x","jwks_uri":7}"#),
            Err(FederationError::MissingField("jwks_uri"))
        );
        assert_eq!(
            Discovery::parse(br#"{"issuer":"","jwks_uri":"https://x/jwks"}"#),
            Err(FederationError::MissingField("issuer"))
        );
    }

    #[test]
    fn refuses_non_objects_and_oversized_documents() {
        assert!(matches!(
            Discovery::parse(b"not json"),
            Err(FederationError::Malformed(_))
        ));
        assert!(matches!(
            Discovery::parse(b"[]"),
            Err(FederationError::Malformed(_))
        ));
        let padded = format!(
            r#"{{"issuer":"https://x","jwks_uri":"https://x/jwks","pad":"{}"}}"#,
            "a".repeat(MAX_DOCUMENT_LEN)
        );
        assert_eq!(
            Discovery::parse(padded.as_bytes()),
            Err(FederationError::TooLarge)
        );
    }
}
