//! SAML verification end to end, against responses a [`TestIdp`] signed.

use std::sync::OnceLock;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

use super::testing::{
    decode, encode, metadata_xml, tamper, wrap, ResponseBuilder, TestIdp, Wrapping, RSA_SHA1,
    RSA_SHA256, SHA1, SHA256, TEST_PROVIDER_ARN, TEST_ROLE_ARN,
};
use super::*;

const ENTITY_ID: &str = "https://idp.example.com/saml";

/// One IdP for the whole test binary: RSA key generation is the slow part.
fn idp() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| TestIdp::new(ENTITY_ID))
}

/// A second IdP claiming the same entity ID, with a key of its own.
fn impostor() -> &'static TestIdp {
    static IMPOSTOR: OnceLock<TestIdp> = OnceLock::new();
    IMPOSTOR.get_or_init(|| TestIdp::new(ENTITY_ID))
}

fn metadata() -> &'static SamlMetadata {
    static METADATA: OnceLock<SamlMetadata> = OnceLock::new();
    METADATA.get_or_init(|| idp().metadata())
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).unwrap()
}

fn response() -> ResponseBuilder<'static> {
    idp().response(now())
}

fn expected() -> Expectations {
    Expectations::aws(&["us-east-2"])
}

fn check(response: &str) -> Result<VerifiedAssertion, SamlError> {
    check_at(response, now())
}

fn check_at(response: &str, at: DateTime<Utc>) -> Result<VerifiedAssertion, SamlError> {
    verify_response(response, metadata(), &expected(), at)
}

fn default_role() -> RolePair {
    RolePair {
        role_arn: TEST_ROLE_ARN.to_owned(),
        provider_arn: TEST_PROVIDER_ARN.to_owned(),
    }
}

// --- Valid responses ---

#[test]
fn a_response_with_a_signed_assertion_verifies() {
    let verified = check(&response().ids("_response", "_assertion").build()).unwrap();
    assert_eq!(verified.assertion_id(), "_assertion");
    assert_eq!(verified.issuer(), ENTITY_ID);
    assert_eq!(verified.issue_instant(), now());
    assert_eq!(verified.subject(), "alice@example.com");
    assert_eq!(verified.subject_format(), Some(NAME_ID_FORMAT_PERSISTENT));
    assert_eq!(verified.subject_type(), "persistent");
    assert_eq!(verified.audience(), AWS_SIGNIN_SAML_URL);
    assert_eq!(verified.recipient(), AWS_SIGNIN_SAML_URL);
    assert_eq!(verified.not_on_or_after(), now() + TimeDelta::minutes(5));
    assert_eq!(
        verified.session_not_on_or_after(),
        Some(now() + TimeDelta::hours(1))
    );
    assert!(!verified.one_time_use());
    assert_eq!(verified.roles(), [default_role()]);
    assert!(verified.has_role(TEST_ROLE_ARN, TEST_PROVIDER_ARN));
    assert!(!verified.has_role(TEST_PROVIDER_ARN, TEST_ROLE_ARN));
    assert_eq!(verified.role_session_name(), "alice");
    assert_eq!(verified.session_duration(), None);
    assert!(verified.principal_tags().is_empty());
    assert!(verified.transitive_tag_keys().is_empty());
    assert_eq!(verified.source_identity(), None);
    assert!(verified.attributes().is_empty());
}

#[test]
fn a_signed_response_verifies() {
    let verified = check(&response().sign_assertion(false).sign_response(true).build()).unwrap();
    assert_eq!(verified.subject(), "alice@example.com");
    assert_eq!(verified.roles(), [default_role()]);
}

#[test]
fn a_signed_response_with_a_signed_assertion_verifies() {
    let verified = check(&response().sign_response(true).build()).unwrap();
    assert_eq!(verified.subject(), "alice@example.com");
}

#[test]
fn line_wrapped_base64_verifies() {
    let response = response().build();
    let wrapped: Vec<&str> = response
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    assert!(check(&wrapped.join("\r\n")).is_ok());
}

#[test]
fn any_certificate_of_the_metadata_verifies() {
    let rollover = SamlMetadata::parse(&metadata_xml(
        ENTITY_ID,
        &[impostor().certificate(), idp().certificate()],
    ))
    .unwrap();
    assert_eq!(rollover.signing_certificates().len(), 2);
    for signer in [idp(), impostor()] {
        let response = signer.response(now()).sign_response(true).build();
        assert!(verify_response(&response, &rollover, &expected(), now()).is_ok());
    }
}

// --- AWS attributes ---

#[test]
fn aws_attributes_are_read() {
    let response = response()
        .attribute(SESSION_DURATION_ATTRIBUTE, &["3600"])
        .attribute(
            &format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}Department"),
            &["Engineering"],
        )
        .attribute(
            &format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}CostCenter"),
            &[""],
        )
        .attribute(TRANSITIVE_TAG_KEYS_ATTRIBUTE, &["Department", "CostCenter"])
        .attribute(SOURCE_IDENTITY_ATTRIBUTE, &["alice@example.com"])
        .attribute("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", &["alice@example.com"])
        .attribute("groups", &["admins"])
        .attribute("groups", &["  devs\n"])
        .build();
    let verified = check(&response).unwrap();
    assert_eq!(verified.session_duration(), Some(3600));
    assert_eq!(
        verified.principal_tags(),
        [
            ("CostCenter".to_owned(), String::new()),
            ("Department".to_owned(), "Engineering".to_owned()),
        ]
    );
    assert_eq!(verified.transitive_tag_keys(), ["Department", "CostCenter"]);
    assert_eq!(verified.source_identity(), Some("alice@example.com"));
    let attributes = verified.attributes();
    assert_eq!(
        attributes.len(),
        2,
        "only the non-AWS attributes: {attributes:?}"
    );
    assert_eq!(
        attributes["urn:oid:1.3.6.1.4.1.5923.1.1.1.6"],
        ["alice@example.com"]
    );
    assert_eq!(attributes["groups"], ["admins", "devs"]);
}

#[test]
fn role_pairs_are_read_in_either_order() {
    let response = response()
        .without_attribute(ROLE_ATTRIBUTE)
        .attribute(
            ROLE_ATTRIBUTE,
            &[
                &format!("{TEST_ROLE_ARN},{TEST_PROVIDER_ARN}"),
                " arn:aws:iam::210987654321:saml-provider/Other , arn:aws:iam::210987654321:role/path/Admin ",
            ],
        )
        .build();
    let verified = check(&response).unwrap();
    assert_eq!(
        verified.roles(),
        [
            default_role(),
            RolePair {
                role_arn: "arn:aws:iam::210987654321:role/path/Admin".to_owned(),
                provider_arn: "arn:aws:iam::210987654321:saml-provider/Other".to_owned(),
            },
        ]
    );
    assert!(verified.has_role(
        "arn:aws:iam::210987654321:role/path/Admin",
        "arn:aws:iam::210987654321:saml-provider/Other"
    ));
}

#[test]
fn the_role_attribute_is_required() {
    let without = response().without_attribute(ROLE_ATTRIBUTE).build();
    assert_eq!(
        check(&without).unwrap_err(),
        SamlError::MissingAttribute("Role")
    );
    let empty = response()
        .without_attribute(ROLE_ATTRIBUTE)
        .attribute(ROLE_ATTRIBUTE, &[])
        .build();
    assert_eq!(
        check(&empty).unwrap_err(),
        SamlError::MissingAttribute("Role")
    );
}

#[test]
fn role_values_must_pair_a_role_with_a_saml_provider() {
    for value in [
        TEST_ROLE_ARN.to_owned(),
        format!("{TEST_ROLE_ARN},{TEST_ROLE_ARN}"),
        format!("{TEST_PROVIDER_ARN},{TEST_PROVIDER_ARN}"),
        format!("{TEST_ROLE_ARN},{TEST_PROVIDER_ARN},{TEST_ROLE_ARN}"),
        format!("arn:aws:s3:::bucket,{TEST_PROVIDER_ARN}"),
        format!("arn:aws:iam::12345:role/Short,{TEST_PROVIDER_ARN}"),
        format!("arn:aws:iam:us-east-1:123456789012:role/Regional,{TEST_PROVIDER_ARN}"),
        format!("arn:aws:iam::123456789012:role/,{TEST_PROVIDER_ARN}"),
        format!("arn:aws:iam::123456789012:user/Bob,{TEST_PROVIDER_ARN}"),
        format!("arn::iam::123456789012:role/NoPartition,{TEST_PROVIDER_ARN}"),
        String::new(),
    ] {
        let response = response()
            .without_attribute(ROLE_ATTRIBUTE)
            .attribute(ROLE_ATTRIBUTE, &[&value])
            .build();
        assert_eq!(
            check(&response).unwrap_err(),
            SamlError::InvalidAttribute("Role"),
            "{value}"
        );
    }
}

#[test]
fn the_role_session_name_is_required_and_checked() {
    let without = response()
        .without_attribute(ROLE_SESSION_NAME_ATTRIBUTE)
        .build();
    assert_eq!(
        check(&without).unwrap_err(),
        SamlError::MissingAttribute("RoleSessionName")
    );
    let name = |values: &[&str]| {
        let response = response()
            .without_attribute(ROLE_SESSION_NAME_ATTRIBUTE)
            .attribute(ROLE_SESSION_NAME_ATTRIBUTE, values)
            .build();
        check(&response).map(|verified| verified.role_session_name().to_owned())
    };
    assert_eq!(name(&["a_b+=,.@-9"]).unwrap(), "a_b+=,.@-9");
    assert_eq!(name(&[&"x".repeat(64)]).unwrap(), "x".repeat(64));
    for bad in [
        &["a"][..],
        &[&"x".repeat(65)],
        &["bad name"],
        &["é-accent"],
        &["alice", "bob"],
        &[],
    ] {
        assert_eq!(
            name(bad).unwrap_err(),
            SamlError::InvalidAttribute("RoleSessionName"),
            "{bad:?}"
        );
    }
}

#[test]
fn optional_aws_attributes_are_checked() {
    let with = |name: &str, values: &[&str]| check(&response().attribute(name, values).build());
    assert_eq!(
        with(SESSION_DURATION_ATTRIBUTE, &["900"])
            .unwrap()
            .session_duration(),
        Some(900)
    );
    assert_eq!(
        with(SESSION_DURATION_ATTRIBUTE, &["43200"])
            .unwrap()
            .session_duration(),
        Some(43200)
    );
    for bad in [&["899"][..], &["43201"], &["-1"], &["1h"], &["900", "900"]] {
        assert_eq!(
            with(SESSION_DURATION_ATTRIBUTE, bad).unwrap_err(),
            SamlError::InvalidAttribute("SessionDuration"),
            "{bad:?}"
        );
    }
    for bad in [&["x"][..], &["has space"], &["a", "b"]] {
        assert_eq!(
            with(SOURCE_IDENTITY_ATTRIBUTE, bad).unwrap_err(),
            SamlError::InvalidAttribute("SourceIdentity")
        );
    }
    let tag = format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}Team");
    for bad in [&[][..], &["a", "b"]] {
        assert_eq!(
            with(&tag, bad).unwrap_err(),
            SamlError::InvalidAttribute("PrincipalTag")
        );
    }
    assert_eq!(
        with(PRINCIPAL_TAG_ATTRIBUTE_PREFIX, &["no key"]).unwrap_err(),
        SamlError::InvalidAttribute("PrincipalTag")
    );
    assert_eq!(
        with(TRANSITIVE_TAG_KEYS_ATTRIBUTE, &["Team", ""]).unwrap_err(),
        SamlError::InvalidAttribute("TransitiveTagKeys")
    );
}

#[test]
fn the_subject_type_follows_the_name_id_format() {
    let subject_type = |format: Option<&str>| {
        let verified = check(&response().name_id("u-1", format).build()).unwrap();
        assert_eq!(verified.subject(), "u-1");
        assert_eq!(verified.subject_format(), format);
        verified.subject_type().to_owned()
    };
    assert_eq!(subject_type(Some(NAME_ID_FORMAT_PERSISTENT)), "persistent");
    assert_eq!(subject_type(Some(NAME_ID_FORMAT_TRANSIENT)), "transient");
    let email = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    assert_eq!(subject_type(Some(email)), email);
    assert_eq!(subject_type(None), NAME_ID_FORMAT_UNSPECIFIED);
}

#[test]
fn an_empty_name_id_is_refused() {
    assert_eq!(
        check(&response().name_id(" ", None).build()).unwrap_err(),
        SamlError::MissingElement("NameID")
    );
}

#[test]
fn the_name_qualifier_is_computed_as_aws_documents_it() {
    // base64(sha1("https://example.com/saml" + "123456789012" + "/MySAMLIdP")),
    // computed independently.
    assert_eq!(
        name_qualifier("https://example.com/saml", "123456789012", "MySAMLIdP"),
        "1uAJanUnBc2XeUkHURMht+xam2c="
    );
}

// --- Signatures ---

#[test]
fn unsigned_responses_are_refused() {
    let unsigned = response().sign_assertion(false).build();
    assert_eq!(check(&unsigned).unwrap_err(), SamlError::Unsigned);
}

#[test]
fn signatures_by_another_key_are_refused() {
    for builder in [
        impostor().response(now()),
        impostor()
            .response(now())
            .sign_assertion(false)
            .sign_response(true),
        impostor().response(now()).sign_response(true),
    ] {
        assert_eq!(
            check(&builder.build()).unwrap_err(),
            SamlError::BadSignature
        );
    }
}

#[test]
fn a_valid_response_signature_does_not_excuse_a_bad_assertion_signature() {
    // The impostor signs the assertion; the real IdP then signs the response
    // around it (which it would never do, but the verifier must not care).
    let inner = impostor().response(now()).ids("_r", "_a").xml();
    let assertion_start = inner.find("<saml:Assertion ").unwrap();
    let assertion_end = inner.rfind("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let impostor_assertion = &inner[assertion_start..assertion_end];
    let outer = decode(&response().ids("_r", "_a").sign_response(true).build());
    let ours_start = outer.find("<saml:Assertion ").unwrap();
    let ours_end = outer.rfind("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let mixed = format!(
        "{}{impostor_assertion}{}",
        &outer[..ours_start],
        &outer[ours_end..]
    );
    assert_eq!(check(&encode(&mixed)).unwrap_err(), SamlError::BadSignature);
}

#[test]
fn changes_after_signing_are_detected() {
    let signed_assertion = response().build();
    for (from, to) in [
        (">alice<", ">admin<"),
        ("role/SamlRole", "role/Admin"),
        (">alice@example.com<", ">bob@example.com<"),
        (
            "<saml:Audience>https://signin.aws.amazon.com/saml<",
            "<saml:Audience>https://us-east-2.signin.aws.amazon.com/saml<",
        ),
        (
            "<saml:AttributeStatement",
            "<saml:AttributeStatement Extra=\"1\"",
        ),
    ] {
        assert_eq!(
            check(&tamper(&signed_assertion, from, to)).unwrap_err(),
            SamlError::BadSignature,
            "{from}"
        );
    }
    let signed_response = response().sign_assertion(false).sign_response(true).build();
    for (from, to) in [
        (">alice<", ">admin<"),
        ("Destination=\"https://signin.aws.amazon.com/saml\"", ""),
    ] {
        assert_eq!(
            check(&tamper(&signed_response, from, to)).unwrap_err(),
            SamlError::BadSignature,
            "{from}"
        );
    }
}

#[test]
fn a_forged_signature_value_is_refused() {
    let xml = decode(&response().build());
    let start = xml.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let forged = format!("{}AAAA{}", &xml[..start], &xml[start + 4..]);
    assert_eq!(
        check(&encode(&forged)).unwrap_err(),
        SamlError::BadSignature
    );
}

#[test]
fn comments_cannot_truncate_a_signed_value() {
    // The IdP vouches for `alice@example.com.evil.com`; exclusive c14n drops
    // comments, so the signature still verifies after the comment is added.
    // Reading only the first text node would yield `alice@example.com`.
    let response = response()
        .name_id("alice@example.com.evil.com", None)
        .build();
    let injected = tamper(
        &response,
        "alice@example.com.evil.com",
        "alice@example.com<!---->.evil.com",
    );
    assert_eq!(
        check(&injected).unwrap().subject(),
        "alice@example.com.evil.com"
    );
}

#[test]
fn signature_wrapping_is_refused() {
    let genuine = response().ids("_genuine_r", "_genuine_a").build();
    let forged = response()
        .ids("_forged_r", "_forged_a")
        .sign_assertion(false)
        .without_attribute(ROLE_SESSION_NAME_ATTRIBUTE)
        .attribute(ROLE_SESSION_NAME_ATTRIBUTE, &["mallory"])
        .name_id("admin@example.com", None)
        .build();
    for how in [
        Wrapping::ForgedFirst,
        Wrapping::ForgedLast,
        Wrapping::GenuineInExtensions,
        Wrapping::GenuineInForgedAdvice,
    ] {
        assert_eq!(
            check(&wrap(&genuine, &forged, how)).unwrap_err(),
            SamlError::AssertionCount,
            "{how:?}"
        );
    }

    let genuine_response = response()
        .ids("_genuine_r", "_genuine_a")
        .sign_assertion(false)
        .sign_response(true)
        .build();
    assert_eq!(
        check(&wrap(
            &genuine_response,
            &forged,
            Wrapping::GenuineResponseInExtensions
        ))
        .unwrap_err(),
        SamlError::AssertionCount
    );

    // The genuine signatures on a forged response with the genuine IDs: the
    // references resolve, the digests do not match.
    let same_ids = response()
        .ids("_genuine_r", "_genuine_a")
        .sign_assertion(false)
        .name_id("admin@example.com", None)
        .build();
    for genuine in [
        &genuine,
        &genuine_response,
        &response()
            .ids("_genuine_r", "_genuine_a")
            .sign_response(true)
            .build(),
    ] {
        assert_eq!(
            check(&wrap(genuine, &same_ids, Wrapping::SignaturesCopied)).unwrap_err(),
            SamlError::BadSignature
        );
    }
}

#[test]
fn signatures_must_sit_on_the_response_or_the_assertion_and_cover_their_parent() {
    // The assertion's signature moved into the response's Extensions.
    let xml = decode(&response().build());
    let start = xml.find("<ds:Signature ").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature = &xml[start..end];
    let without = format!("{}{}", &xml[..start], &xml[end..]);
    let status = without.find("<samlp:Status>").unwrap();
    let moved = format!(
        "{}<samlp:Extensions>{signature}</samlp:Extensions>{}",
        &without[..status],
        &without[status..]
    );
    assert_eq!(
        check(&encode(&moved)).unwrap_err(),
        SamlError::UnexpectedSignature
    );

    // The response's signature (referencing the response) moved into the
    // assertion: it would still verify, as the response is its ancestor, but
    // the SAML profile wants a signature to reference its own parent.
    let xml = decode(&response().sign_assertion(false).sign_response(true).build());
    let start = xml.find("<ds:Signature ").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature = xml[start..end].to_owned();
    let mut moved = format!("{}{}", &xml[..start], &xml[end..]);
    let assertion = moved.find("<saml:Assertion ").unwrap();
    let at =
        assertion + moved[assertion..].find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    moved.insert_str(at, &signature);
    assert_eq!(
        check(&encode(&moved)).unwrap_err(),
        SamlError::UnexpectedSignature
    );

    // Two signatures on the assertion.
    let xml = decode(&response().build());
    let start = xml.find("<ds:Signature ").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let doubled = format!("{}{}{}", &xml[..end], &xml[start..end], &xml[end..]);
    assert_eq!(
        check(&encode(&doubled)).unwrap_err(),
        SamlError::UnexpectedSignature
    );
}

#[test]
fn sha1_signatures_are_refused() {
    for (method, digest) in [(RSA_SHA1, SHA1), (RSA_SHA1, SHA256), (RSA_SHA256, SHA1)] {
        let response = response().algorithms(method, digest).build();
        assert_eq!(
            check(&response).unwrap_err(),
            SamlError::UnsupportedAlgorithm,
            "{method} {digest}"
        );
    }
}

#[test]
fn other_transforms_are_refused() {
    let xml = decode(&response().build());
    let xpath = xml.replacen(
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>1</ds:XPath></ds:Transform>",
        1,
    );
    assert_ne!(xml, xpath);
    assert_eq!(
        check(&encode(&xpath)).unwrap_err(),
        SamlError::UnsupportedAlgorithm
    );
    let inclusive = xml.replacen(
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
        1,
    );
    assert_eq!(
        check(&encode(&inclusive)).unwrap_err(),
        SamlError::UnsupportedAlgorithm
    );
}

// --- Response shape ---

#[test]
fn failed_statuses_are_refused() {
    let failed = response()
        .status("urn:oasis:names:tc:SAML:2.0:status:Responder")
        .build();
    let error = check(&failed).unwrap_err();
    assert_eq!(error, SamlError::StatusNotSuccess);
    assert_eq!(error.aws_error_code(), "IDPRejectedClaim");
}

#[test]
fn encrypted_assertions_are_refused() {
    let xml = decode(&response().build());
    let start = xml.find("<saml:Assertion ").unwrap();
    let end = xml.rfind("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let encrypted = format!(
        "{}<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml:EncryptedAssertion>{}",
        &xml[..start],
        &xml[end..]
    );
    assert_eq!(
        check(&encode(&encrypted)).unwrap_err(),
        SamlError::EncryptedAssertion
    );
}

#[test]
fn responses_of_other_shapes_are_refused() {
    let cases = [
        ("<foo/>", SamlError::Malformed("the root element is not a samlp:Response")),
        (
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" Version=\"1.1\"/>",
            SamlError::Malformed("not a SAML 2.0 response"),
        ),
        (
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" Version=\"2.0\"/>",
            SamlError::AssertionCount,
        ),
        ("hello", SamlError::NotXml),
        ("<a><b></a>", SamlError::NotXml),
    ];
    for (xml, error) in cases {
        assert_eq!(check(&encode(xml)).unwrap_err(), error, "{xml}");
    }
}

#[test]
fn garbage_and_oversized_input_is_refused() {
    assert_eq!(check("not base64!").unwrap_err(), SamlError::NotBase64);
    assert_eq!(check("QUJD").unwrap_err(), SamlError::NotXml); // "ABC"
    assert_eq!(check("abc").unwrap_err(), SamlError::NotBase64);
    assert_eq!(check("").unwrap_err(), SamlError::NotBase64);
    assert_eq!(
        check(&STANDARD.encode([0xff, 0xfe, 0x00])).unwrap_err(),
        SamlError::NotUtf8
    );
    assert_eq!(
        check(&"A".repeat(MAX_RESPONSE_LEN + 1)).unwrap_err(),
        SamlError::TooLarge
    );
    assert_eq!(
        check(&"é".repeat(MAX_RESPONSE_LEN + 1)).unwrap_err(),
        SamlError::TooLarge
    );
    // At the limit the length is fine and the content (NUL bytes) is what is
    // wrong.
    assert_eq!(
        check(&"A".repeat(MAX_RESPONSE_LEN)).unwrap_err(),
        SamlError::NotXml
    );
}

#[test]
fn dtds_and_entities_are_refused() {
    let xml = decode(&response().build());
    let body = xml.find("<samlp:Response").unwrap();
    let laughs = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>";
    let xxe = "<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>";
    for declaration in [
        laughs,
        xxe,
        "<!doctype samlp:Response>",
        "<!-- <!ENTITY x \"y\"> -->",
    ] {
        let with = format!("{}{declaration}{}", &xml[..body], &xml[body..]);
        assert_eq!(
            check(&encode(&with)).unwrap_err(),
            SamlError::DtdForbidden,
            "{declaration}"
        );
    }
    let metadata = idp().metadata_xml();
    let body = metadata.find("<md:EntityDescriptor").unwrap();
    let with = format!("{}{laughs}{}", &metadata[..body], &metadata[body..]);
    assert_eq!(
        SamlMetadata::parse(&with).unwrap_err(),
        SamlError::DtdForbidden
    );
}

// --- Issuer, times, audience, recipient ---

#[test]
fn a_wrong_issuer_is_refused() {
    let wrong = response().issuer("https://evil.example.com/saml").build();
    assert_eq!(check(&wrong).unwrap_err(), SamlError::WrongIssuer);
    let wrong_response_issuer = response()
        .response_issuer(Some("https://evil.example.com/saml"))
        .build();
    assert_eq!(
        check(&wrong_response_issuer).unwrap_err(),
        SamlError::WrongIssuer
    );
    assert!(check(&response().response_issuer(None).build()).is_ok());

    // The same response against metadata naming another entity.
    let other = SamlMetadata::parse(&metadata_xml(
        "https://other.example.com",
        &[idp().certificate()],
    ))
    .unwrap();
    assert_eq!(
        verify_response(&response().build(), &other, &expected(), now()).unwrap_err(),
        SamlError::WrongIssuer
    );
}

#[test]
fn expired_assertions_are_refused() {
    let response = response().build();
    let skew = TimeDelta::from_std(DEFAULT_CLOCK_SKEW).unwrap();
    let end = now() + TimeDelta::minutes(5);
    assert!(check_at(&response, end + skew - TimeDelta::seconds(1)).is_ok());
    let error = check_at(&response, end + skew).unwrap_err();
    assert_eq!(error, SamlError::Expired);
    assert_eq!(error.aws_error_code(), "ExpiredTokenException");

    // The subject confirmation expiring first is enough, as is Conditions
    // expiring first.
    let early = now() - TimeDelta::minutes(10);
    let subject_expired = self::response().subject_not_on_or_after(early).build();
    assert_eq!(check(&subject_expired).unwrap_err(), SamlError::Expired);
    let conditions_expired = self::response().not_on_or_after(Some(early)).build();
    assert_eq!(check(&conditions_expired).unwrap_err(), SamlError::Expired);

    // Without Conditions' NotOnOrAfter the subject confirmation's bounds the
    // assertion.
    let open = self::response()
        .not_on_or_after(None)
        .subject_not_on_or_after(now() + TimeDelta::minutes(2))
        .build();
    assert_eq!(
        check(&open).unwrap().not_on_or_after(),
        now() + TimeDelta::minutes(2)
    );
}

#[test]
fn a_zero_skew_is_exact() {
    let strict = Expectations {
        clock_skew: Duration::ZERO,
        ..expected()
    };
    let response = response().build();
    let end = now() + TimeDelta::minutes(5);
    assert!(verify_response(&response, metadata(), &strict, end - TimeDelta::seconds(1)).is_ok());
    assert_eq!(
        verify_response(&response, metadata(), &strict, end).unwrap_err(),
        SamlError::Expired
    );
    assert_eq!(
        verify_response(
            &response,
            metadata(),
            &strict,
            now() - TimeDelta::seconds(1)
        )
        .unwrap_err(),
        SamlError::NotYetValid
    );
}

#[test]
fn assertions_not_yet_valid_are_refused() {
    let response = response().build();
    let skew = TimeDelta::from_std(DEFAULT_CLOCK_SKEW).unwrap();
    assert!(check_at(&response, now() - skew).is_ok());
    assert_eq!(
        check_at(&response, now() - skew - TimeDelta::seconds(1)).unwrap_err(),
        SamlError::NotYetValid
    );
    let later = now() + TimeDelta::minutes(10);
    let not_before = self::response()
        .not_before(Some(later))
        .not_on_or_after(Some(later + TimeDelta::minutes(5)))
        .subject_not_on_or_after(later + TimeDelta::minutes(5))
        .build();
    assert_eq!(check(&not_before).unwrap_err(), SamlError::NotYetValid);
    let issued_later = self::response()
        .issue_instant(later)
        .not_before(None)
        .build();
    assert_eq!(check(&issued_later).unwrap_err(), SamlError::NotYetValid);
}

#[test]
fn a_wrong_audience_is_refused() {
    for audiences in [&["https://evil.example.com/saml"][..], &[]] {
        let response = response().audiences(audiences).build();
        assert_eq!(
            check(&response).unwrap_err(),
            SamlError::WrongAudience,
            "{audiences:?}"
        );
    }
    for (audiences, matched) in [
        (&[AWS_SP_ENTITY_ID][..], AWS_SP_ENTITY_ID),
        (
            &["https://us-east-2.signin.aws.amazon.com/saml"],
            "https://us-east-2.signin.aws.amazon.com/saml",
        ),
        (
            &["https://evil.example.com", AWS_SIGNIN_SAML_URL],
            AWS_SIGNIN_SAML_URL,
        ),
    ] {
        let response = response().audiences(audiences).build();
        assert_eq!(check(&response).unwrap().audience(), matched);
    }
    // Every AudienceRestriction must be met.
    let two = response()
        .extra_condition("<saml:AudienceRestriction><saml:Audience>https://evil.example.com</saml:Audience></saml:AudienceRestriction>")
        .build();
    assert_eq!(check(&two).unwrap_err(), SamlError::WrongAudience);
}

#[test]
fn conditions_are_understood_or_refused() {
    let once = response().extra_condition("<saml:OneTimeUse/>").build();
    assert!(check(&once).unwrap().one_time_use());
    let proxy = response()
        .extra_condition("<saml:ProxyRestriction Count=\"0\"/>")
        .build();
    assert!(check(&proxy).is_ok());
    let custom = response()
        .extra_condition("<saml:Condition xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"x:Custom\"/>")
        .build();
    assert_eq!(check(&custom).unwrap_err(), SamlError::UnsupportedCondition);
}

#[test]
fn a_wrong_recipient_is_refused() {
    let wrong = response()
        .recipient("https://evil.example.com/saml")
        .build();
    assert_eq!(check(&wrong).unwrap_err(), SamlError::WrongRecipient);
    let regional = response()
        .recipient("https://us-east-2.signin.aws.amazon.com/saml")
        .destination(Some("https://us-east-2.signin.aws.amazon.com/saml"))
        .build();
    assert_eq!(
        check(&regional).unwrap().recipient(),
        "https://us-east-2.signin.aws.amazon.com/saml"
    );
    let elsewhere = response()
        .destination(Some("https://evil.example.com/saml"))
        .build();
    assert_eq!(check(&elsewhere).unwrap_err(), SamlError::WrongDestination);
    assert!(check(&response().destination(None).build()).is_ok());
    let vouched = response()
        .confirmation_method("urn:oasis:names:tc:SAML:2.0:cm:sender-vouches")
        .build();
    assert_eq!(
        check(&vouched).unwrap_err(),
        SamlError::NoBearerConfirmation
    );
}

#[test]
fn expectations_for_aws_list_the_global_and_regional_endpoints() {
    let aws = Expectations::aws(&["eu-west-1"]);
    assert_eq!(
        aws.recipients,
        [
            AWS_SIGNIN_SAML_URL,
            "https://eu-west-1.signin.aws.amazon.com/saml"
        ]
    );
    assert_eq!(
        aws.audiences,
        [
            AWS_SIGNIN_SAML_URL,
            "https://eu-west-1.signin.aws.amazon.com/saml",
            AWS_SP_ENTITY_ID,
            "urn:amazon:webservices:eu-west-1",
        ]
    );
    assert_eq!(aws.clock_skew, DEFAULT_CLOCK_SKEW);
}

#[test]
fn errors_map_to_aws_codes_and_say_nothing_of_the_input() {
    assert_eq!(
        SamlError::BadSignature.aws_error_code(),
        "InvalidIdentityToken"
    );
    assert_eq!(
        SamlError::WrongAudience.aws_error_code(),
        "InvalidIdentityToken"
    );
    assert_eq!(
        SamlError::MissingAttribute("RoleSessionName").to_string(),
        "the SAML assertion has no RoleSessionName attribute"
    );
}

#[test]
fn saml_times_are_read() {
    use super::xml::instant;
    let at = |s: &str| instant(s).map(|t| t.timestamp_millis());
    assert_eq!(at("2025-06-15T15:06:40Z"), Some(1_750_000_000_000));
    assert_eq!(at("2025-06-15T15:06:40.123Z"), Some(1_750_000_000_123));
    assert_eq!(at("2025-06-15T17:06:40+02:00"), Some(1_750_000_000_000));
    assert_eq!(at(" 2025-06-15T15:06:40 "), Some(1_750_000_000_000));
    assert_eq!(at("2025-06-15T15:06:40.5"), Some(1_750_000_000_500));
    assert_eq!(at("2025-06-15"), None);
    assert_eq!(at("tomorrow"), None);
}

// --- Metadata ---

#[test]
fn metadata_is_read() {
    let metadata = metadata();
    assert_eq!(metadata.entity_id(), ENTITY_ID);
    assert_eq!(
        metadata.signing_certificates(),
        [idp().certificate().to_vec()]
    );
    assert_eq!(metadata.valid_until(), None);
}

/// `xml` with a comment after the root element long enough to keep it above
/// [`MIN_METADATA_LEN`] whatever was taken out.
fn padded(xml: &str) -> String {
    format!("{xml}<!-- {} -->", "padding ".repeat(MIN_METADATA_LEN / 8))
}

/// `idp()`'s metadata with `from` replaced by `to`.
fn edited_metadata(from: &str, to: &str) -> String {
    let xml = idp().metadata_xml();
    assert!(xml.contains(from), "{from}");
    xml.replacen(from, to, 1)
}

#[test]
fn metadata_keeps_signing_certificates_only() {
    let both = edited_metadata("use=\"signing\"", "");
    assert_eq!(
        SamlMetadata::parse(&both)
            .unwrap()
            .signing_certificates()
            .len(),
        1
    );
    let encryption = edited_metadata("use=\"signing\"", "use=\"encryption\"");
    assert_eq!(
        SamlMetadata::parse(&encryption).unwrap_err(),
        SamlError::NoSigningCertificate
    );
    let start = idp().metadata_xml().find("<md:KeyDescriptor").unwrap();
    let end =
        idp().metadata_xml().find("</md:KeyDescriptor>").unwrap() + "</md:KeyDescriptor>".len();
    let key = &idp().metadata_xml()[start..end];
    let none = padded(&edited_metadata(key, ""));
    assert_eq!(
        SamlMetadata::parse(&none).unwrap_err(),
        SamlError::NoSigningCertificate
    );

    let duplicated = metadata_xml(ENTITY_ID, &[idp().certificate(), idp().certificate()]);
    assert_eq!(
        SamlMetadata::parse(&duplicated)
            .unwrap()
            .signing_certificates()
            .len(),
        1
    );
}

#[test]
fn metadata_valid_until_is_the_earliest() {
    let xml = edited_metadata(
        "<md:EntityDescriptor ",
        "<md:EntityDescriptor validUntil=\"2030-01-01T00:00:00Z\" ",
    )
    .replacen(
        "<md:IDPSSODescriptor ",
        "<md:IDPSSODescriptor validUntil=\"2029-06-01T12:00:00.000Z\" ",
        1,
    );
    assert_eq!(
        SamlMetadata::parse(&xml).unwrap().valid_until(),
        Some(
            DateTime::parse_from_rfc3339("2029-06-01T12:00:00Z")
                .unwrap()
                .into()
        )
    );
    let bad = edited_metadata(
        "<md:EntityDescriptor ",
        "<md:EntityDescriptor validUntil=\"soon\" ",
    );
    assert!(matches!(
        SamlMetadata::parse(&bad),
        Err(SamlError::MalformedMetadata(_))
    ));
}

#[test]
fn metadata_of_other_shapes_is_refused() {
    let sp = edited_metadata("md:IDPSSODescriptor ", "md:SPSSODescriptor ").replacen(
        "</md:IDPSSODescriptor>",
        "</md:SPSSODescriptor>",
        1,
    );
    assert_eq!(
        SamlMetadata::parse(&sp).unwrap_err(),
        SamlError::MalformedMetadata("no md:IDPSSODescriptor")
    );
    let no_id = edited_metadata(&format!("entityID=\"{ENTITY_ID}\""), "");
    assert_eq!(
        SamlMetadata::parse(&no_id).unwrap_err(),
        SamlError::MalformedMetadata("no entityID")
    );
    let other_root = format!("<root>{}</root>", "x".repeat(MIN_METADATA_LEN));
    assert_eq!(
        SamlMetadata::parse(&other_root).unwrap_err(),
        SamlError::MalformedMetadata("the root element is not an md:EntityDescriptor")
    );
    let not_xml = "<".repeat(MIN_METADATA_LEN);
    assert_eq!(
        SamlMetadata::parse(&not_xml).unwrap_err(),
        SamlError::NotXml
    );
}

#[test]
fn metadata_certificates_must_be_valid() {
    let encoded = STANDARD.encode(idp().certificate());
    let first_line = &encoded[..64];
    let garbage = edited_metadata(first_line, "not base64 at all!");
    assert_eq!(
        SamlMetadata::parse(&garbage).unwrap_err(),
        SamlError::InvalidCertificate
    );
    let not_a_certificate = padded(&metadata_xml(
        ENTITY_ID,
        &[b"definitely not DER".as_slice()],
    ));
    assert_eq!(
        SamlMetadata::parse(&not_a_certificate).unwrap_err(),
        SamlError::InvalidCertificate
    );
}

#[test]
fn metadata_size_is_bounded() {
    assert_eq!(
        SamlMetadata::parse("").unwrap_err(),
        SamlError::MetadataSize
    );
    assert_eq!(
        SamlMetadata::parse(&" ".repeat(MIN_METADATA_LEN - 1)).unwrap_err(),
        SamlError::MetadataSize
    );
    // Characters, not bytes: 999 two-byte characters are too few.
    assert_eq!(
        SamlMetadata::parse(&"é".repeat(MIN_METADATA_LEN - 1)).unwrap_err(),
        SamlError::MetadataSize
    );
    let padded = format!("{}{}", idp().metadata_xml(), " ".repeat(MAX_METADATA_LEN));
    assert_eq!(
        SamlMetadata::parse(&padded).unwrap_err(),
        SamlError::MetadataSize
    );
}

#[test]
fn metadata_certificates_are_bounded() {
    let certificate = idp().certificate();
    let many: Vec<Vec<u8>> = (0..=MAX_SIGNING_CERTIFICATES)
        .map(|n| {
            // Distinct certificates that still load: copies of the real one
            // with another last signature byte (signatures are not checked).
            let mut der = certificate.to_vec();
            let last = der.len() - 1;
            der[last] = der[last].wrapping_add(u8::try_from(n).unwrap());
            der
        })
        .collect();
    let refs: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
    assert_eq!(
        SamlMetadata::parse(&metadata_xml(ENTITY_ID, &refs)).unwrap_err(),
        SamlError::TooManyCertificates
    );
    assert!(
        SamlMetadata::parse(&metadata_xml(ENTITY_ID, &refs[..MAX_SIGNING_CERTIFICATES])).is_ok()
    );
}

// --- Robustness ---

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        prop_assert!(check(&input).is_err());
        let _ = SamlMetadata::parse(&input);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(check(&STANDARD.encode(&bytes)).is_err());
        let text = String::from_utf8_lossy(&bytes);
        let _ = SamlMetadata::parse(&format!("{text}{}", " ".repeat(MIN_METADATA_LEN)));
    }

    #[test]
    fn damaged_responses_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = decode(genuine()).into_bytes();
        for (index, byte) in edits {
            let at = index.index(bytes.len());
            bytes[at] = byte;
        }
        let _ = check(&STANDARD.encode(&bytes));
    }

    #[test]
    fn damaged_metadata_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = idp().metadata_xml().into_bytes();
        for (index, byte) in edits {
            let at = index.index(bytes.len());
            bytes[at] = byte;
        }
        let _ = SamlMetadata::parse(&String::from_utf8_lossy(&bytes));
    }
}

/// One response for the damage tests, with both signatures and every kind
/// of attribute.
fn genuine() -> &'static str {
    static GENUINE: OnceLock<String> = OnceLock::new();
    GENUINE.get_or_init(|| {
        response()
            .sign_response(true)
            .attribute(SESSION_DURATION_ATTRIBUTE, &["3600"])
            .attribute(&format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}Team"), &["a"])
            .build()
    })
}
