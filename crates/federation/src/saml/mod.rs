//! SAML 2.0 for `sts:AssumeRoleWithSAML`: IdP metadata and signed responses.
//!
//! `AssumeRoleWithSAML` trades a SAML authentication response, which the
//! user's browser carried from the identity provider to AWS's sign-in page,
//! for temporary credentials. The response is XML signed by the provider;
//! before any of its attributes reach the role's trust policy, the service
//! must prove the provider signed the very assertion it reads, that the
//! assertion is meant for this service and for now, and that the provider is
//! the one the account registered with `CreateSAMLProvider`.
//!
//! * [`SamlMetadata::parse`]: the provider's metadata document, as uploaded to
//!   `CreateSAMLProvider`: its entity ID and signing certificates.
//! * [`verify_response`]: the response's signature, issuer, validity period,
//!   audience, recipient and status, giving a [`VerifiedAssertion`] whose
//!   subject and attributes feed the session and the `saml:` condition keys.
//! * [`name_qualifier`]: the `saml:namequalifier` condition key.
//!
//! As for OpenID Connect, nothing here does I/O, reads a clock or keeps state:
//! the caller stores the metadata, passes the current time, checks that the
//! requested role and provider are among [`VerifiedAssertion::roles`], and, if
//! it wants replay protection, remembers [`VerifiedAssertion::assertion_id`]
//! until [`VerifiedAssertion::not_on_or_after`].
//!
//! XML signatures are verified by `bergshamra`, a pure Rust XML-DSig
//! implementation tested against xmlsec's interoperability suite; this module
//! never canonicalises XML itself. What it adds is the SAML profile of
//! XML-DSig (SAML core section 5), enforced before `bergshamra` sees the
//! document: a signature may only be the child of the `Response` or of its one
//! `Assertion`, must reference its parent by ID, and may only use exclusive
//! canonicalisation, the enveloped-signature transform and SHA-2. Keys come
//! only from the metadata, never from the response's `KeyInfo`. The assertion
//! whose attributes are read is the node the verified signature resolved to
//! (or a child of the signed `Response`), which is what defeats XML signature
//! wrapping. Documents with a DTD are refused before parsing.

mod assertion;
mod attributes;
mod metadata;
mod signature;
mod xml;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

pub use assertion::{verify_response, Expectations, VerifiedAssertion};
pub use attributes::RolePair;
pub use metadata::SamlMetadata;

/// The longest `SAMLAssertion` accepted, in characters of base64: the limit
/// AWS documents for `AssumeRoleWithSAML`.
pub const MAX_RESPONSE_LEN: usize = 100_000;

/// The shortest `SAMLAssertion` AWS accepts, in characters.
pub const MIN_RESPONSE_LEN: usize = 4;

/// The shortest metadata document `CreateSAMLProvider` accepts, in characters.
pub const MIN_METADATA_LEN: usize = 1_000;

/// The longest metadata document `CreateSAMLProvider` accepts, in characters.
pub const MAX_METADATA_LEN: usize = 10_000_000;

/// The most signing certificates kept from one metadata document.
///
/// Every certificate is tried against every signature (that is what makes
/// certificate rollover work), so the bound keeps a metadata document from
/// making each `AssumeRoleWithSAML` call try thousands of keys. Real IdPs
/// publish one, or two during a rollover.
pub const MAX_SIGNING_CERTIFICATES: usize = 20;

/// The clock skew AWS tolerates between the IdP and itself when checking an
/// assertion's validity period.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// AWS's sign-in endpoint for SAML: the `Recipient` (and usually the
/// `Audience`) IdPs configured for AWS put in their assertions.
pub const AWS_SIGNIN_SAML_URL: &str = "https://signin.aws.amazon.com/saml";

/// AWS's SAML service provider entity ID, which IdPs set up from AWS's SP
/// metadata (AD FS among them) send as the `Audience`.
pub const AWS_SP_ENTITY_ID: &str = "urn:amazon:webservices";

/// The attribute listing `role ARN,provider ARN` pairs the user may assume.
pub const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";

/// The attribute naming the session (`AssumedRoleUser`'s last ARN part).
pub const ROLE_SESSION_NAME_ATTRIBUTE: &str =
    "https://aws.amazon.com/SAML/Attributes/RoleSessionName";

/// The attribute capping the session's duration, in seconds.
pub const SESSION_DURATION_ATTRIBUTE: &str =
    "https://aws.amazon.com/SAML/Attributes/SessionDuration";

/// The prefix of session tag attributes; the tag key follows it.
pub const PRINCIPAL_TAG_ATTRIBUTE_PREFIX: &str =
    "https://aws.amazon.com/SAML/Attributes/PrincipalTag:";

/// The attribute listing which session tags are transitive.
pub const TRANSITIVE_TAG_KEYS_ATTRIBUTE: &str =
    "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys";

/// The attribute setting the session's source identity.
pub const SOURCE_IDENTITY_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";

/// The NameID formats AWS abbreviates in `saml:sub_type`.
pub const NAME_ID_FORMAT_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// See [`NAME_ID_FORMAT_PERSISTENT`].
pub const NAME_ID_FORMAT_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
/// The format a NameID without a `Format` attribute has (SAML core 8.3.1).
pub const NAME_ID_FORMAT_UNSPECIFIED: &str =
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// Why a metadata document or a SAML response was refused.
///
/// Messages are short, fixed and never quote the document, so they are safe
/// to return to the caller and to log. [`SamlError::aws_error_code`] gives the
/// error code AWS answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    // --- Both documents ---
    /// The document declares a DTD or entities. SAML never needs them, and
    /// they are how XXE and "billion laughs" attacks start, so they are
    /// refused before parsing rather than parsed safely.
    #[error("XML document type declarations are not allowed")]
    DtdForbidden,
    /// Not well-formed XML (or nested deeper, or with more attributes on one
    /// element, than any SAML document needs).
    #[error("the document is not well-formed XML")]
    NotXml,

    // --- Metadata (`CreateSAMLProvider`, `UpdateSAMLProvider`) ---
    /// Shorter than [`MIN_METADATA_LEN`] or longer than [`MAX_METADATA_LEN`]
    /// characters.
    #[error("the metadata document must be between 1000 and 10000000 characters long")]
    MetadataSize,
    /// Well-formed XML, but not an IdP's `md:EntityDescriptor`.
    #[error("the metadata document is not valid: {0}")]
    MalformedMetadata(&'static str),
    /// No `KeyDescriptor` of the `IDPSSODescriptor` is for signing and has an
    /// X.509 certificate: nothing could verify the IdP's responses.
    #[error("the metadata document has no signing certificate")]
    NoSigningCertificate,
    /// A signing `X509Certificate` is not base64 of an X.509 certificate with
    /// a key this service can use.
    #[error("a signing certificate in the metadata document is not valid")]
    InvalidCertificate,
    /// More than [`MAX_SIGNING_CERTIFICATES`] signing certificates.
    #[error("the metadata document has too many signing certificates")]
    TooManyCertificates,

    // --- Response: encoding and shape ---
    /// Longer than [`MAX_RESPONSE_LEN`] characters.
    #[error("the SAML response is too large")]
    TooLarge,
    /// Shorter than [`MIN_RESPONSE_LEN`] characters, or not base64.
    #[error("the SAML response is not valid base64")]
    NotBase64,
    /// The decoded response is not UTF-8 text.
    #[error("the SAML response is not UTF-8")]
    NotUtf8,
    /// Well-formed XML, but not a SAML 2.0 response of the expected shape.
    #[error("the SAML response is malformed: {0}")]
    Malformed(&'static str),
    /// The response's `StatusCode` is not `Success`: the IdP says it did not
    /// authenticate the user.
    #[error("the identity provider reported that authentication failed")]
    StatusNotSuccess,
    /// The response carries an `EncryptedAssertion` (or an `EncryptedID`),
    /// which needs a decryption key this service does not have.
    #[error("encrypted SAML assertions are not supported")]
    EncryptedAssertion,
    /// The response does not hold exactly one `Assertion`, as a child of the
    /// `Response`. Several assertions are how signature wrapping attacks
    /// smuggle an unsigned one past a verifier.
    #[error("the SAML response must contain exactly one assertion")]
    AssertionCount,

    // --- Response: signature ---
    /// Neither the response nor the assertion is signed.
    #[error("the SAML response is not signed")]
    Unsigned,
    /// A signature is somewhere the SAML profile does not allow, or does not
    /// reference exactly its parent element by ID.
    #[error("the SAML response has a signature that does not follow the SAML profile")]
    UnexpectedSignature,
    /// A signature uses a canonicalisation, transform, digest or signature
    /// algorithm other than exclusive c14n, enveloped-signature and SHA-2
    /// (SHA-1 included: it is refused).
    #[error("the SAML response's signature uses an unsupported algorithm")]
    UnsupportedAlgorithm,
    /// A signature does not verify with any of the metadata's certificates,
    /// or a digest does not match: the response was altered or signed by
    /// someone else.
    #[error("the SAML response's signature is not valid")]
    BadSignature,

    // --- Response: issuer, time, audience, recipient ---
    /// The assertion's (or the response's) `Issuer` is not the metadata's
    /// entity ID.
    #[error("the SAML assertion's issuer does not match the identity provider")]
    WrongIssuer,
    /// `NotBefore` (of `Conditions` or of the subject confirmation), or the
    /// assertion's `IssueInstant`, is later than now plus the clock skew.
    #[error("the SAML assertion is not valid yet")]
    NotYetValid,
    /// `NotOnOrAfter` (of `Conditions` or of the subject confirmation) is not
    /// after now minus the clock skew.
    #[error("the SAML assertion has expired")]
    Expired,
    /// No `AudienceRestriction`, or one that names none of the expected
    /// audiences.
    #[error("the SAML assertion is not meant for this service")]
    WrongAudience,
    /// `Conditions` holds a condition this service cannot evaluate; SAML says
    /// the assertion is then not valid.
    #[error("the SAML assertion has a condition that is not supported")]
    UnsupportedCondition,
    /// No bearer `SubjectConfirmation` with `SubjectConfirmationData`.
    #[error("the SAML assertion has no bearer subject confirmation")]
    NoBearerConfirmation,
    /// No bearer subject confirmation names an expected recipient.
    #[error("the SAML assertion was not issued for this endpoint")]
    WrongRecipient,
    /// The response's `Destination` is not an expected recipient.
    #[error("the SAML response was not sent to this endpoint")]
    WrongDestination,

    // --- Response: subject and attributes ---
    /// A required element is absent: `Issuer`, `Subject`, `NameID`, or the
    /// `NotOnOrAfter` of the subject confirmation.
    #[error("the SAML assertion has no {0}")]
    MissingElement(&'static str),
    /// A required attribute is absent: `Role` or `RoleSessionName`.
    #[error("the SAML assertion has no {0} attribute")]
    MissingAttribute(&'static str),
    /// An AWS attribute has a value AWS would refuse: a `Role` value that is
    /// not a role ARN and a SAML provider ARN, a `RoleSessionName` or
    /// `SourceIdentity` of the wrong length or characters, a
    /// `SessionDuration` outside 900..=43200, a `PrincipalTag` with other than
    /// one value.
    #[error("the SAML assertion's {0} attribute is not valid")]
    InvalidAttribute(&'static str),
}

impl SamlError {
    /// The error code AWS answers `AssumeRoleWithSAML` with for this error:
    /// `ExpiredTokenException` for [`SamlError::Expired`], `IDPRejectedClaim`
    /// for [`SamlError::StatusNotSuccess`], `InvalidIdentityToken` for
    /// everything else.
    ///
    /// Errors from [`SamlMetadata::parse`] are answered `InvalidInput` by
    /// `CreateSAMLProvider` and `UpdateSAMLProvider`, whatever this says.
    pub fn aws_error_code(&self) -> &'static str {
        match self {
            Self::Expired => "ExpiredTokenException",
            Self::StatusNotSuccess => "IDPRejectedClaim",
            _ => "InvalidIdentityToken",
        }
    }
}

/// The `saml:namequalifier` condition key: base64 of the SHA-1 of the IdP's
/// issuer, the account ID, `/` and the SAML provider's *name* (not its ARN),
/// as AWS documents it. With `saml:sub` it identifies a user across sessions.
pub fn name_qualifier(issuer: &str, account_id: &str, provider_name: &str) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(issuer.as_bytes());
    context.update(account_id.as_bytes());
    context.update(b"/");
    context.update(provider_name.as_bytes());
    STANDARD.encode(context.finish())
}
