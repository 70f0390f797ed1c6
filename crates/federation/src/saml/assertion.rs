//! Verifying a SAML response and reading its assertion.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use uppsala::{Document, NodeId};

use super::attributes::{AwsAttributes, RolePair};
use super::metadata::SamlMetadata;
use super::xml::{self, SAML, SAMLP};
use super::{
    signature, SamlError, AWS_SIGNIN_SAML_URL, AWS_SP_ENTITY_ID, DEFAULT_CLOCK_SKEW,
    MAX_RESPONSE_LEN, MIN_RESPONSE_LEN, NAME_ID_FORMAT_PERSISTENT, NAME_ID_FORMAT_TRANSIENT,
    NAME_ID_FORMAT_UNSPECIFIED,
};

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What the service expects of a response meant for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// Accepted `Audience` values. Every `AudienceRestriction` of the
    /// assertion must name one of them, and there must be at least one.
    pub audiences: Vec<String>,
    /// Accepted `Recipient` values of the bearer subject confirmation, which
    /// the response's `Destination`, when present, must also be: the URLs the
    /// service receives SAML responses at.
    pub recipients: Vec<String>,
    /// How far the IdP's clock may be from `now`: every `NotBefore` is moved
    /// earlier and every `NotOnOrAfter` later by this much.
    pub clock_skew: Duration,
}

impl Expectations {
    /// What AWS accepts for an account that signs in through the global
    /// endpoint and the regional endpoints of `regions` (e.g. `us-east-2`):
    /// `https://signin.aws.amazon.com/saml` and
    /// `https://<region>.signin.aws.amazon.com/saml` as audiences and
    /// recipients, `urn:amazon:webservices` (and
    /// `urn:amazon:webservices:<region>`) as audiences too, and a five-minute
    /// clock skew.
    pub fn aws(regions: &[&str]) -> Self {
        let regional: Vec<String> = regions
            .iter()
            .map(|region| format!("https://{region}.signin.aws.amazon.com/saml"))
            .collect();
        let recipients: Vec<String> = std::iter::once(AWS_SIGNIN_SAML_URL.to_owned())
            .chain(regional)
            .collect();
        let audiences = recipients
            .iter()
            .cloned()
            .chain(std::iter::once(AWS_SP_ENTITY_ID.to_owned()))
            .chain(
                regions
                    .iter()
                    .map(|region| format!("{AWS_SP_ENTITY_ID}:{region}")),
            )
            .collect();
        Self {
            audiences,
            recipients,
            clock_skew: DEFAULT_CLOCK_SKEW,
        }
    }
}

/// An assertion whose signature, issuer, validity period, audience,
/// recipient and AWS attributes have been checked.
///
/// Whether [`VerifiedAssertion::roles`] contains the role and provider the
/// caller asked for, and what the role's trust policy says, is the caller's
/// to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    assertion_id: String,
    issuer: String,
    issue_instant: DateTime<Utc>,
    subject: String,
    subject_format: Option<String>,
    audience: String,
    recipient: String,
    not_on_or_after: DateTime<Utc>,
    session_not_on_or_after: Option<DateTime<Utc>>,
    one_time_use: bool,
    roles: Vec<RolePair>,
    role_session_name: String,
    session_duration: Option<u32>,
    principal_tags: Vec<(String, String)>,
    transitive_tag_keys: Vec<String>,
    source_identity: Option<String>,
    attributes: BTreeMap<String, Vec<String>>,
}

impl VerifiedAssertion {
    /// The assertion's `ID`: the key for a replay cache, which needs to
    /// remember it until [`VerifiedAssertion::not_on_or_after`] plus the
    /// clock skew.
    pub fn assertion_id(&self) -> &str {
        &self.assertion_id
    }

    /// The assertion's `Issuer`, equal to the metadata's entity ID:
    /// `saml:iss`, and the first input of [`name_qualifier`](super::name_qualifier).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The assertion's `IssueInstant`.
    pub fn issue_instant(&self) -> DateTime<Utc> {
        self.issue_instant
    }

    /// The subject's `NameID`: `saml:sub`, and the response's `Subject`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The `NameID`'s `Format` attribute as sent, if any.
    pub fn subject_format(&self) -> Option<&str> {
        self.subject_format.as_deref()
    }

    /// `saml:sub_type` and the response's `SubjectType`: `persistent` or
    /// `transient` for those two formats, the format URI for any other, and
    /// the `unspecified` format URI when the NameID has no `Format` (its
    /// SAML default).
    pub fn subject_type(&self) -> &str {
        match self.subject_format.as_deref() {
            Some(NAME_ID_FORMAT_PERSISTENT) => "persistent",
            Some(NAME_ID_FORMAT_TRANSIENT) => "transient",
            Some(format) => format,
            None => NAME_ID_FORMAT_UNSPECIFIED,
        }
    }

    /// The expected audience the first `AudienceRestriction` named (the
    /// response's `Audience`).
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The expected recipient the bearer subject confirmation named. This,
    /// not the audience, is `saml:aud`: AWS documents that key as coming
    /// from the `Recipient`.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// When the assertion stops being acceptable: the earlier of the
    /// `NotOnOrAfter` of `Conditions` (if any) and of the subject
    /// confirmation. Not the end of the session.
    pub fn not_on_or_after(&self) -> DateTime<Utc> {
        self.not_on_or_after
    }

    /// The earliest `SessionNotOnOrAfter` of the `AuthnStatement`s, if any:
    /// AWS ends the credentials at this time or after the requested duration,
    /// whichever is sooner.
    pub fn session_not_on_or_after(&self) -> Option<DateTime<Utc>> {
        self.session_not_on_or_after
    }

    /// Whether `Conditions` holds `OneTimeUse`: the IdP asks that the
    /// assertion be accepted once only, which only a replay cache can honour.
    pub fn one_time_use(&self) -> bool {
        self.one_time_use
    }

    /// The `Role` attribute's pairs, in the order sent; never empty.
    pub fn roles(&self) -> &[RolePair] {
        &self.roles
    }

    /// Whether `role_arn` and `provider_arn` are one of
    /// [`VerifiedAssertion::roles`], compared exactly.
    pub fn has_role(&self, role_arn: &str, provider_arn: &str) -> bool {
        self.roles
            .iter()
            .any(|pair| pair.role_arn == role_arn && pair.provider_arn == provider_arn)
    }

    /// The `RoleSessionName` attribute: 2 to 64 characters of
    /// `[A-Za-z0-9_+=,.@-]`.
    pub fn role_session_name(&self) -> &str {
        &self.role_session_name
    }

    /// The `SessionDuration` attribute, in seconds (900 to 43200), if sent.
    pub fn session_duration(&self) -> Option<u32> {
        self.session_duration
    }

    /// The `PrincipalTag:<key>` attributes as `(key, value)`, sorted by key.
    /// AWS's tag rules (count, lengths, characters, case-insensitive
    /// uniqueness, the `aws:` prefix) are the caller's to apply.
    pub fn principal_tags(&self) -> &[(String, String)] {
        &self.principal_tags
    }

    /// The `TransitiveTagKeys` attribute's values.
    pub fn transitive_tag_keys(&self) -> &[String] {
        &self.transitive_tag_keys
    }

    /// The `SourceIdentity` attribute (2 to 64 characters of
    /// `[A-Za-z0-9_+=,.@-]`), if sent.
    pub fn source_identity(&self) -> Option<&str> {
        self.source_identity.as_deref()
    }

    /// Every other attribute, by `Name`, with the values of all `Attribute`s
    /// of that name in order: the source of the attribute-based `saml:`
    /// condition keys (`saml:edupersonprincipalname` is the attribute
    /// `urn:oid:1.3.6.1.4.1.5923.1.1.1.6`, and so on).
    pub fn attributes(&self) -> &BTreeMap<String, Vec<String>> {
        &self.attributes
    }
}

/// Verifies a base64 SAML response (`AssumeRoleWithSAML`'s `SAMLAssertion`)
/// from the IdP described by `metadata`, at time `now`.
///
/// In order: the size and base64; a `samlp:Response` of SAML 2.0 with no
/// DTD; a `Success` status if there is a status; no encrypted content;
/// exactly one `Assertion`, a child of the `Response`; the signatures (see
/// the [module documentation](super)); the response's `Issuer`, if any, and
/// the assertion's `Issuer` equal to the metadata's entity ID; the response's
/// `Destination`, if any, an expected recipient; the assertion's
/// `IssueInstant` and `Conditions` times, within the clock skew; its
/// audience restrictions; a bearer subject confirmation for an expected
/// recipient, not expired; the `NameID`; and the AWS attributes.
///
/// When only the assertion is signed, the response around it (its `Status`,
/// `Issuer` and `Destination`) is not covered by any signature: those checks
/// then only refuse honest mistakes, and nothing is read from there.
///
/// # Errors
///
/// The first check that fails, as a [`SamlError`].
pub fn verify_response(
    saml_response: &str,
    metadata: &SamlMetadata,
    expected: &Expectations,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, SamlError> {
    let text = decode(saml_response)?;
    let doc = xml::parse(&text)?;
    let response = doc
        .document_element()
        .ok_or(SamlError::Malformed("no root element"))?;
    if !xml::is(&doc, response, SAMLP, "Response") {
        return Err(SamlError::Malformed(
            "the root element is not a samlp:Response",
        ));
    }
    if xml::attribute(&doc, response, "Version") != Some("2.0") {
        return Err(SamlError::Malformed("not a SAML 2.0 response"));
    }
    // Unauthenticated, but a refusal either way: an IdP reporting a failure
    // often sends neither an assertion nor a signature.
    if let Some(status) = xml::child(&doc, response, SAMLP, "Status") {
        let code = xml::child(&doc, status, SAMLP, "StatusCode")
            .and_then(|code| xml::attribute(&doc, code, "Value"))
            .map(xml::trim);
        if code != Some(STATUS_SUCCESS) {
            return Err(SamlError::StatusNotSuccess);
        }
    }
    for encrypted in ["EncryptedAssertion", "EncryptedID", "EncryptedAttribute"] {
        if !xml::descendants(&doc, response, SAML, encrypted).is_empty() {
            return Err(SamlError::EncryptedAssertion);
        }
    }
    let assertion = match xml::descendants(&doc, response, SAML, "Assertion").as_slice() {
        [assertion] if doc.parent(*assertion) == Some(response) => *assertion,
        _ => return Err(SamlError::AssertionCount),
    };

    signature::verify(
        &doc,
        &text,
        response,
        assertion,
        metadata.signing_certificates(),
    )?;
    // Everything read from the assertion from here on was signed by the IdP.
    read(&doc, response, assertion, metadata, expected, now)
}

/// The response's text: at most [`MAX_RESPONSE_LEN`] characters of base64,
/// line breaks and other ASCII whitespace allowed (IdPs wrap it), decoding to
/// UTF-8.
fn decode(saml_response: &str) -> Result<String, SamlError> {
    // Characters, as AWS counts them; valid base64 is ASCII anyway.
    if saml_response.len() > 4 * MAX_RESPONSE_LEN
        || saml_response.chars().count() > MAX_RESPONSE_LEN
    {
        return Err(SamlError::TooLarge);
    }
    if saml_response.chars().count() < MIN_RESPONSE_LEN {
        return Err(SamlError::NotBase64);
    }
    let compact: Vec<u8> = saml_response
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD.decode(compact).map_err(|_| SamlError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| SamlError::NotUtf8)?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(without_bom) => without_bom.to_owned(),
        None => text,
    })
}

/// The checks and reading after the signatures verified.
fn read(
    doc: &Document<'_>,
    response: NodeId,
    assertion: NodeId,
    metadata: &SamlMetadata,
    expected: &Expectations,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, SamlError> {
    let skew = TimeDelta::from_std(expected.clock_skew).unwrap_or(TimeDelta::MAX);
    let window = Window { now, skew };

    // SAML profiles 4.1.4.2: a response's Issuer, if present, is the IdP's.
    if let Some(issuer) = xml::child(doc, response, SAML, "Issuer") {
        if xml::text(doc, issuer).as_deref() != Some(metadata.entity_id()) {
            return Err(SamlError::WrongIssuer);
        }
    }
    if let Some(destination) = xml::attribute(doc, response, "Destination") {
        if !contains(&expected.recipients, xml::trim(destination)) {
            return Err(SamlError::WrongDestination);
        }
    }

    if xml::attribute(doc, assertion, "Version") != Some("2.0") {
        return Err(SamlError::Malformed("not a SAML 2.0 assertion"));
    }
    let assertion_id = xml::attribute(doc, assertion, "ID")
        .filter(|id| !id.is_empty())
        .ok_or(SamlError::Malformed("the assertion has no ID"))?
        .to_owned();
    let issuer =
        xml::child(doc, assertion, SAML, "Issuer").ok_or(SamlError::MissingElement("Issuer"))?;
    let issuer = xml::text(doc, issuer).ok_or(SamlError::Malformed("the Issuer is not text"))?;
    if issuer != metadata.entity_id() {
        return Err(SamlError::WrongIssuer);
    }
    let issue_instant = time(doc, assertion, "IssueInstant")?
        .ok_or(SamlError::Malformed("the assertion has no IssueInstant"))?;
    window.not_before(issue_instant)?;

    let conditions = Conditions::read(doc, assertion, &window, expected)?;
    let subject = Subject::read(doc, assertion, &window, expected)?;

    let mut session_not_on_or_after: Option<DateTime<Utc>> = None;
    for statement in xml::children(doc, assertion, SAML, "AuthnStatement") {
        if let Some(end) = time(doc, statement, "SessionNotOnOrAfter")? {
            session_not_on_or_after =
                Some(session_not_on_or_after.map_or(end, |earliest| earliest.min(end)));
        }
    }

    let aws = AwsAttributes::split(attributes(doc, assertion)?)?;
    Ok(VerifiedAssertion {
        assertion_id,
        issuer,
        issue_instant,
        subject: subject.name_id,
        subject_format: subject.format,
        audience: conditions.audience,
        recipient: subject.recipient,
        not_on_or_after: conditions
            .not_on_or_after
            .map_or(subject.not_on_or_after, |end| {
                end.min(subject.not_on_or_after)
            }),
        session_not_on_or_after,
        one_time_use: conditions.one_time_use,
        roles: aws.roles,
        role_session_name: aws.role_session_name,
        session_duration: aws.session_duration,
        principal_tags: aws.principal_tags,
        transitive_tag_keys: aws.transitive_tag_keys,
        source_identity: aws.source_identity,
        attributes: aws.other,
    })
}

/// `now` and the clock skew, for checking validity periods.
struct Window {
    now: DateTime<Utc>,
    skew: TimeDelta,
}

impl Window {
    /// Refuses a time that has not come yet, even allowing for skew.
    fn not_before(&self, start: DateTime<Utc>) -> Result<(), SamlError> {
        let latest = self
            .now
            .checked_add_signed(self.skew)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if start > latest {
            return Err(SamlError::NotYetValid);
        }
        Ok(())
    }

    /// Refuses an end time that has passed, even allowing for skew.
    fn not_on_or_after(&self, end: DateTime<Utc>) -> Result<(), SamlError> {
        let end = end
            .checked_add_signed(self.skew)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if self.now >= end {
            return Err(SamlError::Expired);
        }
        Ok(())
    }
}

/// What the assertion's `Conditions` say, once checked.
struct Conditions {
    audience: String,
    not_on_or_after: Option<DateTime<Utc>>,
    one_time_use: bool,
}

impl Conditions {
    fn read(
        doc: &Document<'_>,
        assertion: NodeId,
        window: &Window,
        expected: &Expectations,
    ) -> Result<Self, SamlError> {
        // Without Conditions there is no audience restriction, which AWS
        // requires.
        let conditions =
            xml::child(doc, assertion, SAML, "Conditions").ok_or(SamlError::WrongAudience)?;
        if let Some(start) = time(doc, conditions, "NotBefore")? {
            window.not_before(start)?;
        }
        let not_on_or_after = time(doc, conditions, "NotOnOrAfter")?;
        if let Some(end) = not_on_or_after {
            window.not_on_or_after(end)?;
        }

        let mut audience = None;
        let mut one_time_use = false;
        for condition in doc.children_iter(conditions) {
            if doc.element(condition).is_none() {
                continue;
            }
            if xml::is(doc, condition, SAML, "AudienceRestriction") {
                // Each restriction must be met (SAML core 2.5.1.4); within
                // one, any audience will do.
                let matched = xml::children(doc, condition, SAML, "Audience")
                    .filter_map(|node| xml::text(doc, node))
                    .find(|value| contains(&expected.audiences, value))
                    .ok_or(SamlError::WrongAudience)?;
                audience.get_or_insert(matched);
            } else if xml::is(doc, condition, SAML, "OneTimeUse") {
                one_time_use = true;
            } else if !xml::is(doc, condition, SAML, "ProxyRestriction") {
                // ProxyRestriction limits what this service may assert to
                // others, which it never does; anything else (a custom
                // `Condition`) cannot be evaluated, which SAML core 2.5.1
                // says makes the assertion invalid.
                return Err(SamlError::UnsupportedCondition);
            }
        }
        Ok(Self {
            audience: audience.ok_or(SamlError::WrongAudience)?,
            not_on_or_after,
            one_time_use,
        })
    }
}

/// The assertion's subject, once checked.
struct Subject {
    name_id: String,
    format: Option<String>,
    recipient: String,
    not_on_or_after: DateTime<Utc>,
}

impl Subject {
    fn read(
        doc: &Document<'_>,
        assertion: NodeId,
        window: &Window,
        expected: &Expectations,
    ) -> Result<Self, SamlError> {
        let subject = xml::child(doc, assertion, SAML, "Subject")
            .ok_or(SamlError::MissingElement("Subject"))?;

        // SAML profiles 4.1.4.2: the bearer confirmation is what says where
        // and until when the assertion may be presented.
        let confirmations: Vec<NodeId> = xml::children(doc, subject, SAML, "SubjectConfirmation")
            .filter(|&node| xml::attribute(doc, node, "Method").map(xml::trim) == Some(BEARER))
            .filter_map(|node| xml::child(doc, node, SAML, "SubjectConfirmationData"))
            .collect();
        if confirmations.is_empty() {
            return Err(SamlError::NoBearerConfirmation);
        }
        let (data, recipient) = confirmations
            .iter()
            .find_map(|&data| {
                let recipient = xml::trim(xml::attribute(doc, data, "Recipient")?);
                contains(&expected.recipients, recipient).then(|| (data, recipient.to_owned()))
            })
            .ok_or(SamlError::WrongRecipient)?;
        if let Some(start) = time(doc, data, "NotBefore")? {
            window.not_before(start)?;
        }
        let not_on_or_after = time(doc, data, "NotOnOrAfter")?.ok_or(SamlError::MissingElement(
            "NotOnOrAfter in its subject confirmation",
        ))?;
        window.not_on_or_after(not_on_or_after)?;

        let name_id =
            xml::child(doc, subject, SAML, "NameID").ok_or(SamlError::MissingElement("NameID"))?;
        let format =
            xml::attribute(doc, name_id, "Format").map(|format| xml::trim(format).to_owned());
        let name_id = xml::text(doc, name_id)
            .filter(|value| !value.is_empty())
            .ok_or(SamlError::MissingElement("NameID"))?;

        Ok(Self {
            name_id,
            format,
            recipient,
            not_on_or_after,
        })
    }
}

/// Every `Attribute` of the assertion's attribute statements, by `Name`,
/// values of same-named attributes merged in order.
fn attributes(
    doc: &Document<'_>,
    assertion: NodeId,
) -> Result<BTreeMap<String, Vec<String>>, SamlError> {
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in xml::children(doc, assertion, SAML, "AttributeStatement") {
        for attribute in xml::children(doc, statement, SAML, "Attribute") {
            let name = xml::attribute(doc, attribute, "Name")
                .map(xml::trim)
                .filter(|name| !name.is_empty())
                .ok_or(SamlError::Malformed("an Attribute has no Name"))?;
            let values = attributes.entry(name.to_owned()).or_default();
            for value in xml::children(doc, attribute, SAML, "AttributeValue") {
                values.push(
                    xml::text(doc, value)
                        .ok_or(SamlError::Malformed("an AttributeValue is not text"))?,
                );
            }
        }
    }
    Ok(attributes)
}

/// The time in attribute `name` of `node`, if it has one.
fn time(
    doc: &Document<'_>,
    node: NodeId,
    name: &'static str,
) -> Result<Option<DateTime<Utc>>, SamlError> {
    xml::attribute(doc, node, name)
        .map(|value| {
            xml::instant(value).ok_or(SamlError::Malformed("a time is not an xs:dateTime"))
        })
        .transpose()
}

fn contains(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == value)
}
