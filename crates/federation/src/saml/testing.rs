//! Test helpers: a SAML identity provider that generates its own key and
//! certificate, publishes metadata and signs responses, plus the tampering a
//! test of the verifier needs.
//!
//! Available with the `testing` feature (and in this crate's own tests). The
//! key lives only in memory and is new for every [`TestIdp`]; nothing here
//! belongs in a build that serves requests. Responses are signed by
//! bergshamra, the same library that verifies them, following the XML-DSig
//! standard (enveloped signature, exclusive c14n, RSA-SHA256) as an IdP
//! would, so the verifier is never bent to fit the signer.
//!
//! ```
//! use iam_federation::saml::testing::{TestIdp, TEST_PROVIDER_ARN, TEST_ROLE_ARN};
//! use iam_federation::saml::{verify_response, Expectations};
//!
//! let idp = TestIdp::new("https://idp.example.com/saml");
//! let now = chrono::Utc::now();
//! let response = idp.response(now).name_id("alice", None).build();
//! let verified = verify_response(&response, &idp.metadata(), &Expectations::aws(&[]), now).unwrap();
//! assert_eq!(verified.subject(), "alice");
//! assert!(verified.has_role(TEST_ROLE_ARN, TEST_PROVIDER_ARN));
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bergshamra_dsig::DsigContext;
use bergshamra_keys::{Key, KeysManager};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::RsaPrivateKey;
use sha2::Sha256;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::UtcTime;
use x509_cert::der::Encode;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use super::{
    SamlMetadata, AWS_SIGNIN_SAML_URL, NAME_ID_FORMAT_PERSISTENT, ROLE_ATTRIBUTE,
    ROLE_SESSION_NAME_ATTRIBUTE,
};

/// The role [`TestIdp::response`] lets the user assume.
pub const TEST_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/SamlRole";
/// The SAML provider [`TestIdp::response`] names with [`TEST_ROLE_ARN`].
pub const TEST_PROVIDER_ARN: &str = "arn:aws:iam::123456789012:saml-provider/TestIdp";

/// Signature and digest algorithms of XML-DSig, for
/// [`ResponseBuilder::algorithms`].
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// See [`RSA_SHA256`]. Refused by the verifier.
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
/// See [`RSA_SHA256`].
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// See [`RSA_SHA256`]. Refused by the verifier.
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

const RSA_BITS: usize = 2048;

/// A SAML identity provider for tests, with one RSA-2048 key and a
/// self-signed certificate for it.
///
/// Construction generates the key, which takes a noticeable fraction of a
/// second: share one IdP between tests where possible.
#[derive(Clone)]
pub struct TestIdp {
    entity_id: String,
    key: Key,
    certificate: Vec<u8>,
}

impl TestIdp {
    /// An IdP whose entity ID (and assertions' `Issuer`) is `entity_id`.
    ///
    /// # Panics
    ///
    /// When the operating system's random number generator fails.
    pub fn new(entity_id: impl Into<String>) -> Self {
        let private = RsaPrivateKey::new(&mut OsRng, RSA_BITS).expect("generate an RSA key");
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .expect("encode the RSA key");
        let key = bergshamra_keys::loader::load_rsa_private_pem(pem.as_bytes())
            .expect("load the RSA key into bergshamra");
        let certificate = self_signed_certificate(&private);
        Self {
            entity_id: entity_id.into(),
            key,
            certificate,
        }
    }

    /// The entity ID given to [`TestIdp::new`].
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The DER of the IdP's self-signed certificate.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// The IdP's metadata document, publishing its certificate for signing.
    pub fn metadata_xml(&self) -> String {
        metadata_xml(&self.entity_id, &[&self.certificate])
    }

    /// [`TestIdp::metadata_xml`], parsed.
    ///
    /// # Panics
    ///
    /// Never, unless the metadata is broken.
    pub fn metadata(&self) -> SamlMetadata {
        SamlMetadata::parse(&self.metadata_xml()).expect("the test IdP's metadata parses")
    }

    /// A builder for a response AWS would accept at `now`: issued now, for
    /// [`AWS_SIGNIN_SAML_URL`] as audience, recipient and destination, valid
    /// for five minutes, the session for an hour, for the persistent NameID
    /// `alice@example.com`, letting her assume [`TEST_ROLE_ARN`] through
    /// [`TEST_PROVIDER_ARN`] as session `alice`, with the assertion signed.
    pub fn response(&self, now: DateTime<Utc>) -> ResponseBuilder<'_> {
        ResponseBuilder {
            idp: self,
            response_id: random_id(),
            assertion_id: random_id(),
            response_issuer: Some(self.entity_id.clone()),
            issuer: self.entity_id.clone(),
            destination: Some(AWS_SIGNIN_SAML_URL.to_owned()),
            status: STATUS_SUCCESS.to_owned(),
            issue_instant: now,
            name_id: "alice@example.com".to_owned(),
            name_id_format: Some(NAME_ID_FORMAT_PERSISTENT.to_owned()),
            recipient: AWS_SIGNIN_SAML_URL.to_owned(),
            subject_not_on_or_after: now + TimeDelta::minutes(5),
            not_before: Some(now),
            not_on_or_after: Some(now + TimeDelta::minutes(5)),
            audiences: vec![AWS_SIGNIN_SAML_URL.to_owned()],
            extra_conditions: String::new(),
            confirmation_method: BEARER.to_owned(),
            session_not_on_or_after: Some(now + TimeDelta::hours(1)),
            attributes: vec![
                (
                    ROLE_ATTRIBUTE.to_owned(),
                    vec![format!("{TEST_ROLE_ARN},{TEST_PROVIDER_ARN}")],
                ),
                (
                    ROLE_SESSION_NAME_ATTRIBUTE.to_owned(),
                    vec!["alice".to_owned()],
                ),
            ],
            sign_assertion: true,
            sign_response: false,
            signature_method: RSA_SHA256.to_owned(),
            digest_method: SHA256.to_owned(),
        }
    }

    /// Signs the first `ds:Signature` template of `xml` (empty
    /// `DigestValue` and `SignatureValue`) with the IdP's key.
    fn sign(&self, xml: &str) -> String {
        let mut keys = KeysManager::new();
        keys.add_key(self.key.clone());
        bergshamra_dsig::sign::sign(&DsigContext::new(keys), xml).expect("sign the test response")
    }
}

impl fmt::Debug for TestIdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIdp")
            .field("entity_id", &self.entity_id)
            .finish_non_exhaustive()
    }
}

/// A metadata document for `entity_id` with one signing `KeyDescriptor` per
/// certificate (DER): for certificate rollover, or an IdP claiming another's
/// entity ID.
pub fn metadata_xml(entity_id: &str, certificates: &[&[u8]]) -> String {
    let keys: String = certificates
        .iter()
        .map(|der| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n",
                wrapped_base64(der)
            )
        })
        .collect();
    let entity = escape(entity_id);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{entity}\">\n\
<md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n\
{keys}\
<md:NameIDFormat>{NAME_ID_FORMAT_PERSISTENT}</md:NameIDFormat>\n\
<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{entity}/sso\"/>\n\
<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{entity}/sso\"/>\n\
</md:IDPSSODescriptor>\n\
</md:EntityDescriptor>\n"
    )
}

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// A SAML response under construction; see [`TestIdp::response`] for the
/// defaults. Every setter replaces what was there.
#[derive(Debug, Clone)]
pub struct ResponseBuilder<'a> {
    idp: &'a TestIdp,
    response_id: String,
    assertion_id: String,
    response_issuer: Option<String>,
    issuer: String,
    destination: Option<String>,
    status: String,
    issue_instant: DateTime<Utc>,
    name_id: String,
    name_id_format: Option<String>,
    recipient: String,
    subject_not_on_or_after: DateTime<Utc>,
    not_before: Option<DateTime<Utc>>,
    not_on_or_after: Option<DateTime<Utc>>,
    audiences: Vec<String>,
    extra_conditions: String,
    confirmation_method: String,
    session_not_on_or_after: Option<DateTime<Utc>>,
    attributes: Vec<(String, Vec<String>)>,
    sign_assertion: bool,
    sign_response: bool,
    signature_method: String,
    digest_method: String,
}

impl ResponseBuilder<'_> {
    /// The `ID`s of the response and of the assertion (random by default).
    pub fn ids(mut self, response_id: &str, assertion_id: &str) -> Self {
        response_id.clone_into(&mut self.response_id);
        assertion_id.clone_into(&mut self.assertion_id);
        self
    }

    /// The assertion's `Issuer` (the IdP's entity ID by default).
    pub fn issuer(mut self, issuer: &str) -> Self {
        issuer.clone_into(&mut self.issuer);
        self
    }

    /// The response's `Issuer`, or none.
    pub fn response_issuer(mut self, issuer: Option<&str>) -> Self {
        self.response_issuer = issuer.map(str::to_owned);
        self
    }

    /// The response's `Destination`, or none.
    pub fn destination(mut self, destination: Option<&str>) -> Self {
        self.destination = destination.map(str::to_owned);
        self
    }

    /// The response's `StatusCode` value.
    pub fn status(mut self, status: &str) -> Self {
        status.clone_into(&mut self.status);
        self
    }

    /// The response's and the assertion's `IssueInstant`.
    pub fn issue_instant(mut self, instant: DateTime<Utc>) -> Self {
        self.issue_instant = instant;
        self
    }

    /// The subject's `NameID` and its `Format` (none for no attribute).
    pub fn name_id(mut self, value: &str, format: Option<&str>) -> Self {
        value.clone_into(&mut self.name_id);
        self.name_id_format = format.map(str::to_owned);
        self
    }

    /// The bearer subject confirmation's `Recipient`.
    pub fn recipient(mut self, recipient: &str) -> Self {
        recipient.clone_into(&mut self.recipient);
        self
    }

    /// The bearer subject confirmation's `NotOnOrAfter`.
    pub fn subject_not_on_or_after(mut self, end: DateTime<Utc>) -> Self {
        self.subject_not_on_or_after = end;
        self
    }

    /// The subject confirmation's `Method` (bearer by default).
    pub fn confirmation_method(mut self, method: &str) -> Self {
        method.clone_into(&mut self.confirmation_method);
        self
    }

    /// `Conditions`' `NotBefore`, or none.
    pub fn not_before(mut self, start: Option<DateTime<Utc>>) -> Self {
        self.not_before = start;
        self
    }

    /// `Conditions`' `NotOnOrAfter`, or none.
    pub fn not_on_or_after(mut self, end: Option<DateTime<Utc>>) -> Self {
        self.not_on_or_after = end;
        self
    }

    /// The `Audience`s of the one `AudienceRestriction`; none for no
    /// restriction at all.
    pub fn audiences(mut self, audiences: &[&str]) -> Self {
        self.audiences = audiences
            .iter()
            .map(|&audience| audience.to_owned())
            .collect();
        self
    }

    /// Raw XML added to `Conditions` after the audience restriction, e.g.
    /// `<saml:OneTimeUse/>`.
    pub fn extra_condition(mut self, xml: &str) -> Self {
        self.extra_conditions.push_str(xml);
        self
    }

    /// The `AuthnStatement`'s `SessionNotOnOrAfter`, or none.
    pub fn session_not_on_or_after(mut self, end: Option<DateTime<Utc>>) -> Self {
        self.session_not_on_or_after = end;
        self
    }

    /// Adds an `Attribute` named `name` with `values` (after any attribute
    /// already there, even of the same name).
    pub fn attribute(mut self, name: &str, values: &[&str]) -> Self {
        self.attributes.push((
            name.to_owned(),
            values.iter().map(|&value| value.to_owned()).collect(),
        ));
        self
    }

    /// Removes every `Attribute` named `name`.
    pub fn without_attribute(mut self, name: &str) -> Self {
        self.attributes.retain(|(existing, _)| existing != name);
        self
    }

    /// Whether the assertion is signed (yes by default).
    pub fn sign_assertion(mut self, sign: bool) -> Self {
        self.sign_assertion = sign;
        self
    }

    /// Whether the response is signed (no by default). With both, the
    /// assertion is signed first and the response's signature covers it.
    pub fn sign_response(mut self, sign: bool) -> Self {
        self.sign_response = sign;
        self
    }

    /// The `SignatureMethod` and `DigestMethod` URIs of both signatures.
    pub fn algorithms(mut self, signature_method: &str, digest_method: &str) -> Self {
        signature_method.clone_into(&mut self.signature_method);
        digest_method.clone_into(&mut self.digest_method);
        self
    }

    /// The signed response's XML.
    pub fn xml(&self) -> String {
        let assertion_signature = if self.sign_assertion {
            self.signature_template(&self.assertion_id)
        } else {
            String::new()
        };
        let mut xml = self.response_xml(&self.assertion_xml(&assertion_signature), "");
        if self.sign_assertion {
            xml = self.idp.sign(&xml);
        }
        if self.sign_response {
            let assertion = &xml[element_span(&xml, "<saml:Assertion ", "</saml:Assertion>")];
            let template = self.signature_template(&self.response_id);
            xml = self.idp.sign(&self.response_xml(assertion, &template));
        }
        xml
    }

    /// The signed response, base64-encoded as `AssumeRoleWithSAML` takes it.
    pub fn build(&self) -> String {
        encode(&self.xml())
    }

    fn response_xml(&self, assertion: &str, signature: &str) -> String {
        let destination = self
            .destination
            .as_deref()
            .map(|destination| format!(" Destination=\"{}\"", escape(destination)))
            .unwrap_or_default();
        let issuer = self
            .response_issuer
            .as_deref()
            .map(|issuer| format!("<saml:Issuer>{}</saml:Issuer>", escape(issuer)))
            .unwrap_or_default();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{instant}\"{destination}>\
{issuer}{signature}\
<samlp:Status><samlp:StatusCode Value=\"{status}\"/></samlp:Status>\
{assertion}\
</samlp:Response>",
            id = escape(&self.response_id),
            instant = instant(self.issue_instant),
            status = escape(&self.status),
        )
    }

    fn assertion_xml(&self, signature: &str) -> String {
        let format = self
            .name_id_format
            .as_deref()
            .map(|format| format!(" Format=\"{}\"", escape(format)))
            .unwrap_or_default();
        let mut times = String::new();
        if let Some(start) = self.not_before {
            times.push_str(&format!(" NotBefore=\"{}\"", instant(start)));
        }
        if let Some(end) = self.not_on_or_after {
            times.push_str(&format!(" NotOnOrAfter=\"{}\"", instant(end)));
        }
        let audiences = if self.audiences.is_empty() {
            String::new()
        } else {
            let audiences: String = self
                .audiences
                .iter()
                .map(|audience| format!("<saml:Audience>{}</saml:Audience>", escape(audience)))
                .collect();
            format!("<saml:AudienceRestriction>{audiences}</saml:AudienceRestriction>")
        };
        let session_end = self
            .session_not_on_or_after
            .map(|end| format!(" SessionNotOnOrAfter=\"{}\"", instant(end)))
            .unwrap_or_default();
        let attributes: String = self
            .attributes
            .iter()
            .map(|(name, values)| {
                let values: String = values
                    .iter()
                    .map(|value| {
                        format!(
                            "<saml:AttributeValue xsi:type=\"xs:string\">{}</saml:AttributeValue>",
                            escape(value)
                        )
                    })
                    .collect();
                format!(
                    "<saml:Attribute Name=\"{}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">{values}</saml:Attribute>",
                    escape(name)
                )
            })
            .collect();
        let attribute_statement = if attributes.is_empty() {
            String::new()
        } else {
            format!(
                "<saml:AttributeStatement xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">{attributes}</saml:AttributeStatement>"
            )
        };
        format!(
            "<saml:Assertion ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{issued}\">\
<saml:Issuer>{issuer}</saml:Issuer>{signature}\
<saml:Subject>\
<saml:NameID{format}>{name_id}</saml:NameID>\
<saml:SubjectConfirmation Method=\"{method}\">\
<saml:SubjectConfirmationData Recipient=\"{recipient}\" NotOnOrAfter=\"{subject_end}\"/>\
</saml:SubjectConfirmation>\
</saml:Subject>\
<saml:Conditions{times}>{audiences}{extra_conditions}</saml:Conditions>\
<saml:AuthnStatement AuthnInstant=\"{issued}\" SessionIndex=\"{id}\"{session_end}>\
<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>\
</saml:AuthnStatement>\
{attribute_statement}\
</saml:Assertion>",
            id = escape(&self.assertion_id),
            issued = instant(self.issue_instant),
            issuer = escape(&self.issuer),
            name_id = escape(&self.name_id),
            recipient = escape(&self.recipient),
            subject_end = instant(self.subject_not_on_or_after),
            method = escape(&self.confirmation_method),
            extra_conditions = self.extra_conditions,
        )
    }

    /// An enveloped signature template referencing `id`, with the IdP's
    /// certificate in `KeyInfo` as IdPs send it (the verifier ignores it).
    fn signature_template(&self, id: &str) -> String {
        format!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\
<ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
<ds:SignatureMethod Algorithm=\"{method}\"/>\
<ds:Reference URI=\"#{id}\">\
<ds:Transforms>\
<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\
<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
</ds:Transforms>\
<ds:DigestMethod Algorithm=\"{digest}\"/>\
<ds:DigestValue></ds:DigestValue>\
</ds:Reference>\
</ds:SignedInfo>\
<ds:SignatureValue></ds:SignatureValue>\
<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
</ds:Signature>",
            method = escape(&self.signature_method),
            digest = escape(&self.digest_method),
            id = escape(id),
            certificate = STANDARD.encode(&self.idp.certificate),
        )
    }
}

/// How [`wrap`] combines a genuine signed response with a forged one: the
/// XML signature wrapping attacks of Somorovsky et al. ("On Breaking SAML",
/// 2012) that apply to a verifier that finds the signed element by ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapping {
    /// The forged assertion inserted before the genuine signed one, both
    /// children of the genuine response.
    ForgedFirst,
    /// The forged assertion inserted after the genuine signed one.
    ForgedLast,
    /// The genuine assertion moved into the response's `samlp:Extensions`,
    /// the forged one in its place.
    GenuineInExtensions,
    /// The genuine assertion moved into the forged assertion's `saml:Advice`,
    /// the forged one in its place.
    GenuineInForgedAdvice,
    /// The whole genuine response (for a signed response) moved into the
    /// forged response's `samlp:Extensions`.
    GenuineResponseInExtensions,
    /// The genuine response's signatures copied into the forged response at
    /// the same places. Give the forged response the genuine one's IDs (see
    /// [`ResponseBuilder::ids`]) so the references resolve.
    SignaturesCopied,
}

/// Combines `genuine` (a base64 response signed by the IdP) with `forged` (a
/// base64 unsigned response with the attacker's assertion), both made by a
/// [`ResponseBuilder`], as `how` says.
///
/// # Panics
///
/// When either is not a response this module built.
pub fn wrap(genuine: &str, forged: &str, how: Wrapping) -> String {
    let genuine = decode(genuine);
    let forged = decode(forged);
    let genuine_span = element_span(&genuine, "<saml:Assertion ", "</saml:Assertion>");
    let forged_span = element_span(&forged, "<saml:Assertion ", "</saml:Assertion>");
    let genuine_assertion = &genuine[genuine_span.clone()];
    let forged_assertion = &forged[forged_span.clone()];
    let replace = |xml: &str, span: std::ops::Range<usize>, with: &str| {
        format!("{}{with}{}", &xml[..span.start], &xml[span.end..])
    };
    let extensions = |xml: &str, content: &str| {
        let status = xml
            .find("<samlp:Status>")
            .expect("a response with a Status");
        format!(
            "{}<samlp:Extensions>{content}</samlp:Extensions>{}",
            &xml[..status],
            &xml[status..]
        )
    };
    let wrapped = match how {
        Wrapping::ForgedFirst => replace(
            &genuine,
            genuine_span,
            &format!("{forged_assertion}{genuine_assertion}"),
        ),
        Wrapping::ForgedLast => replace(
            &genuine,
            genuine_span,
            &format!("{genuine_assertion}{forged_assertion}"),
        ),
        Wrapping::GenuineInExtensions => extensions(
            &replace(&genuine, genuine_span, forged_assertion),
            genuine_assertion,
        ),
        Wrapping::GenuineInForgedAdvice => {
            let end = forged_assertion.len() - "</saml:Assertion>".len();
            let forged_with_advice = format!(
                "{}<saml:Advice>{genuine_assertion}</saml:Advice></saml:Assertion>",
                &forged_assertion[..end]
            );
            replace(&genuine, genuine_span, &forged_with_advice)
        }
        Wrapping::GenuineResponseInExtensions => {
            let body = genuine
                .find("<samlp:Response ")
                .map(|start| &genuine[start..])
                .expect("a samlp:Response");
            extensions(&forged, body)
        }
        Wrapping::SignaturesCopied => {
            let mut xml = forged.clone();
            // The response's signature, if any, comes first in document
            // order and follows the response's Issuer; the assertion's
            // follows the assertion's Issuer.
            let signatures: Vec<&str> = signatures(&genuine);
            let response_signed = genuine.find("<ds:Signature") < genuine.find("<saml:Assertion ");
            let mut signatures = signatures.into_iter();
            if response_signed {
                let signature = signatures.next().unwrap_or_default();
                let at =
                    xml.find("</saml:Issuer>").expect("a response Issuer") + "</saml:Issuer>".len();
                xml.insert_str(at, signature);
            }
            if let Some(signature) = signatures.next() {
                let assertion = xml.find("<saml:Assertion ").expect("an assertion");
                let at = assertion
                    + xml[assertion..]
                        .find("</saml:Issuer>")
                        .expect("an assertion Issuer")
                    + "</saml:Issuer>".len();
                xml.insert_str(at, signature);
            }
            xml
        }
    };
    encode(&wrapped)
}

/// Replaces the first `from` in the XML of base64 `response` with `to`, and
/// encodes the result again: an attacker editing a signed response.
///
/// # Panics
///
/// When `from` does not occur.
pub fn tamper(response: &str, from: &str, to: &str) -> String {
    let xml = decode(response);
    assert!(xml.contains(from), "`{from}` is not in the response");
    encode(&xml.replacen(from, to, 1))
}

/// Base64 of `xml`, as `AssumeRoleWithSAML` takes it.
pub fn encode(xml: &str) -> String {
    STANDARD.encode(xml)
}

/// The XML of base64 `response`.
///
/// # Panics
///
/// When `response` is not base64 of UTF-8.
pub fn decode(response: &str) -> String {
    String::from_utf8(STANDARD.decode(response).expect("base64")).expect("UTF-8")
}

/// The byte range of the outermost element starting with `open` and ending
/// with the last `close`.
fn element_span(xml: &str, open: &str, close: &str) -> std::ops::Range<usize> {
    let start = xml.find(open).expect("the element is present");
    let end = xml.rfind(close).expect("the element is closed") + close.len();
    start..end
}

/// Every `ds:Signature` element of `xml`, in order.
fn signatures(xml: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<ds:Signature ") {
        let end = rest[start..]
            .find("</ds:Signature>")
            .expect("a closed signature")
            + start
            + "</ds:Signature>".len();
        found.push(&rest[start..end]);
        rest = &rest[end..];
    }
    found
}

fn self_signed_certificate(private: &RsaPrivateKey) -> Vec<u8> {
    let spki_der = private
        .to_public_key()
        .to_public_key_der()
        .expect("encode the public key");
    let spki =
        SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes()).expect("read the public key");
    // Fixed dates, to read no clock: certificates are not checked for expiry.
    let at = |seconds| {
        Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(seconds)).expect("a UTCTime"))
    };
    let validity = Validity {
        not_before: at(946_684_800),  // 2000-01-01T00:00:00Z
        not_after: at(2_524_607_999), // 2049-12-31T23:59:59Z
    };
    let signer = SigningKey::<Sha256>::new(private.clone());
    CertificateBuilder::new(
        Profile::Root,
        SerialNumber::from(1u32),
        validity,
        Name::from_str("CN=Test SAML IdP").expect("a distinguished name"),
        spki,
        &signer,
    )
    .expect("prepare the certificate")
    .build::<rsa::pkcs1v15::Signature>()
    .expect("sign the certificate")
    .to_der()
    .expect("encode the certificate")
}

/// A fresh `ID`: an XML name (so it starts with `_`) from 128 random bits.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).expect("random bytes");
    std::iter::once('_')
        .chain(bytes.iter().flat_map(|b| {
            [b >> 4, b & 0xf].map(|nibble| char::from_digit(u32::from(nibble), 16).unwrap_or('0'))
        }))
        .collect()
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Base64 wrapped at 64 columns, as metadata usually carries certificates.
fn wrapped_base64(der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    format!("\n{}\n", lines.join("\n"))
}

/// `value` escaped for XML text and double-quoted attributes.
fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
