//! The SAML profile of XML-DSig, checked here, and the cryptography, left to
//! bergshamra.

use bergshamra_dsig::{DsigContext, VerifyResult};
use bergshamra_keys::KeysManager;
use uppsala::{Document, NodeId};

use super::xml::{self, DSIG};
use super::SamlError;

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Signature algorithms accepted: RSA PKCS#1 v1.5 and ECDSA with SHA-2.
/// SHA-1 (`rsa-sha1`, the XML-DSig 1.0 default some old IdPs still use) is
/// refused: SHA-1 collisions are practical, and every current IdP can sign
/// with SHA-256.
const SIGNATURE_METHODS: [&str; 6] = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
];

/// Digest algorithms accepted: SHA-2 only, for the same reason.
const DIGEST_METHODS: [&str; 3] = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];

/// Verifies every signature of a response whose root is `response` and whose
/// only assertion is `assertion`, a child of `response`.
///
/// Succeeds when there is at least one signature and every signature in the
/// document (a) is a child of `response` or of `assertion`, at most one each,
/// (b) follows the SAML profile (SAML core 5.4): one reference, to its
/// parent's `ID`, with exclusive canonicalisation, the enveloped-signature
/// transform and SHA-2, and (c) verifies with one of `certificates`, its one
/// reference resolving to its parent. Either parent covers the assertion: a
/// `Response` signature covers all of the response.
///
/// Checking the profile first keeps bergshamra on the path it is built for:
/// it never sees a reference to a file, a URL, an XPath or XSLT transform, or
/// a key embedded in the document (it is also told to trust only the
/// metadata's keys). Refusing a response with one bad signature, even if
/// another verifies, means nothing in a response is ever read past a failed
/// check.
pub(crate) fn verify(
    doc: &Document<'_>,
    source: &str,
    response: NodeId,
    assertion: NodeId,
    certificates: &[Vec<u8>],
) -> Result<(), SamlError> {
    let signatures = xml::descendants(doc, response, DSIG, "Signature");
    if signatures.is_empty() {
        return Err(SamlError::Unsigned);
    }
    let mut parents = Vec::with_capacity(signatures.len());
    for &signature in &signatures {
        let parent = doc
            .parent(signature)
            .filter(|&parent| parent == response || parent == assertion)
            .ok_or(SamlError::UnexpectedSignature)?;
        if parents.contains(&parent) {
            return Err(SamlError::UnexpectedSignature);
        }
        parents.push(parent);
        check_profile(doc, signature, parent)?;
    }

    let mut keys = KeysManager::new();
    for certificate in certificates {
        let key = bergshamra_keys::loader::load_x509_cert_der(certificate)
            .map_err(|_| SamlError::InvalidCertificate)?;
        keys.add_key(key);
    }
    // `new` is bergshamra's hardened context: keys only from the manager,
    // references only to the signature's ancestors or siblings, every digest
    // checked. Certificates are keys, not a chain to validate (and
    // validating one would read the clock).
    let mut context = DsigContext::new(keys);
    context.verify_keys = false;
    context.skip_time_checks = true;

    let results =
        bergshamra_dsig::verify::verify_all_document_with_source(&context, doc, Some(source))
            .map_err(|_| SamlError::BadSignature)?;
    if results.len() != signatures.len() {
        return Err(SamlError::BadSignature);
    }
    for result in results {
        let VerifyResult::Valid {
            signature_node,
            references,
            ..
        } = result
        else {
            return Err(SamlError::BadSignature);
        };
        let parent = signatures
            .iter()
            .position(|&signature| signature == signature_node)
            .map(|index| parents[index])
            .ok_or(SamlError::BadSignature)?;
        // The profile check already made the one reference point at the
        // parent; this confirms bergshamra resolved it there and digested it.
        let [reference] = references.as_slice() else {
            return Err(SamlError::BadSignature);
        };
        if reference.resolved_node != Some(parent) || !reference.digest_verified {
            return Err(SamlError::BadSignature);
        }
    }
    Ok(())
}

/// Checks one `ds:Signature` whose parent is `parent` against the SAML
/// profile of XML-DSig.
fn check_profile(doc: &Document<'_>, signature: NodeId, parent: NodeId) -> Result<(), SamlError> {
    let mut signed_infos = xml::children(doc, signature, DSIG, "SignedInfo");
    let (Some(signed_info), None) = (signed_infos.next(), signed_infos.next()) else {
        return Err(SamlError::UnexpectedSignature);
    };
    let algorithm =
        |node: Option<NodeId>| node.and_then(|node| xml::attribute(doc, node, "Algorithm"));

    let canonicalization = algorithm(xml::child(doc, signed_info, DSIG, "CanonicalizationMethod"));
    if !matches!(canonicalization, Some(EXC_C14N | EXC_C14N_WITH_COMMENTS)) {
        return Err(SamlError::UnsupportedAlgorithm);
    }
    let method = algorithm(xml::child(doc, signed_info, DSIG, "SignatureMethod"));
    if !method.is_some_and(|method| SIGNATURE_METHODS.contains(&method)) {
        return Err(SamlError::UnsupportedAlgorithm);
    }

    let mut references = xml::children(doc, signed_info, DSIG, "Reference");
    let (Some(reference), None) = (references.next(), references.next()) else {
        return Err(SamlError::UnexpectedSignature);
    };
    let id = xml::attribute(doc, parent, "ID").filter(|id| !id.is_empty());
    let uri = xml::attribute(doc, reference, "URI");
    match (id, uri.and_then(|uri| uri.strip_prefix('#'))) {
        (Some(id), Some(target)) if id == target => {}
        _ => return Err(SamlError::UnexpectedSignature),
    }

    if let Some(transforms) = xml::child(doc, reference, DSIG, "Transforms") {
        for transform in doc.children_iter(transforms) {
            if doc.element(transform).is_none() {
                continue;
            }
            if !xml::is(doc, transform, DSIG, "Transform")
                || !matches!(
                    xml::attribute(doc, transform, "Algorithm"),
                    Some(ENVELOPED_SIGNATURE | EXC_C14N | EXC_C14N_WITH_COMMENTS)
                )
            {
                return Err(SamlError::UnsupportedAlgorithm);
            }
        }
    }
    let digest = algorithm(xml::child(doc, reference, DSIG, "DigestMethod"));
    if !digest.is_some_and(|digest| DIGEST_METHODS.contains(&digest)) {
        return Err(SamlError::UnsupportedAlgorithm);
    }
    Ok(())
}
