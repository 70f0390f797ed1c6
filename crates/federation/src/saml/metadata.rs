//! The identity provider's SAML metadata document.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use uppsala::{Document, NodeId};

use super::xml::{self, DSIG, MD};
use super::{SamlError, MAX_METADATA_LEN, MAX_SIGNING_CERTIFICATES, MIN_METADATA_LEN};

/// What the service needs from an IdP's metadata (SAML metadata 2.0): who the
/// IdP is and which certificates sign its responses.
///
/// This is the document `CreateSAMLProvider` stores. Its endpoints, name ID
/// formats and any signature of its own are ignored: the account
/// administrator who uploaded it is what makes it trusted, as at AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlMetadata {
    entity_id: String,
    signing_certificates: Vec<Vec<u8>>,
    valid_until: Option<DateTime<Utc>>,
}

impl SamlMetadata {
    /// Parses a metadata document whose root is an `md:EntityDescriptor`
    /// holding an `md:IDPSSODescriptor`.
    ///
    /// The signing certificates are the `ds:X509Certificate`s in the
    /// `KeyInfo` of every `KeyDescriptor` of the IDP descriptors whose `use`
    /// is `signing` or absent (absent means both uses, SAML metadata 2.4.1.1).
    /// Each must be an X.509 certificate whose key this crate can verify
    /// signatures with; duplicates are kept once.
    ///
    /// # Errors
    ///
    /// [`SamlError::MetadataSize`] outside [`MIN_METADATA_LEN`]..=
    /// [`MAX_METADATA_LEN`] characters, [`SamlError::DtdForbidden`] for any
    /// DTD or entity declaration, [`SamlError::NotXml`],
    /// [`SamlError::MalformedMetadata`] for a document of another shape (no
    /// `entityID`, no IDP descriptor, an unreadable `validUntil`),
    /// [`SamlError::InvalidCertificate`], [`SamlError::TooManyCertificates`]
    /// past [`MAX_SIGNING_CERTIFICATES`], and
    /// [`SamlError::NoSigningCertificate`].
    pub fn parse(text: &str) -> Result<Self, SamlError> {
        // Characters, as AWS counts them; a byte length outside the bounds
        // multiplied by the widest UTF-8 character cannot be inside them.
        if text.len() < MIN_METADATA_LEN || text.len() > 4 * MAX_METADATA_LEN {
            return Err(SamlError::MetadataSize);
        }
        let characters = text.chars().count();
        if !(MIN_METADATA_LEN..=MAX_METADATA_LEN).contains(&characters) {
            return Err(SamlError::MetadataSize);
        }

        let doc = xml::parse(text)?;
        let root = doc
            .document_element()
            .ok_or(SamlError::MalformedMetadata("no root element"))?;
        if !xml::is(&doc, root, MD, "EntityDescriptor") {
            return Err(SamlError::MalformedMetadata(
                "the root element is not an md:EntityDescriptor",
            ));
        }
        let entity_id = xml::attribute(&doc, root, "entityID")
            .map(xml::trim)
            .filter(|id| !id.is_empty())
            .ok_or(SamlError::MalformedMetadata("no entityID"))?
            .to_owned();

        let descriptors: Vec<NodeId> = xml::children(&doc, root, MD, "IDPSSODescriptor").collect();
        if descriptors.is_empty() {
            return Err(SamlError::MalformedMetadata("no md:IDPSSODescriptor"));
        }

        let mut valid_until = valid_until_of(&doc, root)?;
        let mut signing_certificates: Vec<Vec<u8>> = Vec::new();
        for &descriptor in &descriptors {
            valid_until = earliest(valid_until, valid_until_of(&doc, descriptor)?);
            for key in xml::children(&doc, descriptor, MD, "KeyDescriptor") {
                if !matches!(
                    xml::attribute(&doc, key, "use").map(xml::trim),
                    None | Some("signing")
                ) {
                    continue;
                }
                for certificate in xml::descendants(&doc, key, DSIG, "X509Certificate") {
                    let der = certificate_der(&doc, certificate)?;
                    if !signing_certificates.contains(&der) {
                        if signing_certificates.len() == MAX_SIGNING_CERTIFICATES {
                            return Err(SamlError::TooManyCertificates);
                        }
                        signing_certificates.push(der);
                    }
                }
            }
        }
        if signing_certificates.is_empty() {
            return Err(SamlError::NoSigningCertificate);
        }

        Ok(Self {
            entity_id,
            signing_certificates,
            valid_until,
        })
    }

    /// The IdP's `entityID`: the `Issuer` its assertions must carry, and
    /// `saml:iss`.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The DER of each signing certificate, in document order. A response
    /// signed by any of them verifies, which is what lets an IdP roll its key
    /// over by publishing the new certificate next to the old one.
    ///
    /// Certificates are keys, nothing more: their validity dates, issuer and
    /// extensions are not checked, as IdP certificates are usually
    /// self-signed and long expired without anyone minding.
    pub fn signing_certificates(&self) -> &[Vec<u8>] {
        &self.signing_certificates
    }

    /// The earliest `validUntil` of the `EntityDescriptor` and its IDP
    /// descriptors, if any has one. [`verify_response`](super::verify_response)
    /// does not look at it; AWS shows it as the provider's `ValidUntil`.
    pub fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.valid_until
    }
}

/// The `validUntil` of `node`, if it has one.
fn valid_until_of(doc: &Document<'_>, node: NodeId) -> Result<Option<DateTime<Utc>>, SamlError> {
    xml::attribute(doc, node, "validUntil")
        .map(|value| {
            xml::instant(value).ok_or(SamlError::MalformedMetadata("validUntil is not a dateTime"))
        })
        .transpose()
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Decodes an `X509Certificate` element and checks that bergshamra can load
/// a key from it, so that a certificate that could never verify anything is
/// refused when the provider is created rather than at every sign-in.
fn certificate_der(doc: &Document<'_>, node: NodeId) -> Result<Vec<u8>, SamlError> {
    let text = xml::text(doc, node).ok_or(SamlError::InvalidCertificate)?;
    // Metadata usually wraps the base64 over several lines.
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(compact)
        .map_err(|_| SamlError::InvalidCertificate)?;
    bergshamra_keys::loader::load_x509_cert_der(&der).map_err(|_| SamlError::InvalidCertificate)?;
    Ok(der)
}
