#![allow(clippy::type_complexity)]
//! A hostile review, through the HTTP server, of SAML federation
//! (`sts:AssumeRoleWithSAML`, served to unsigned requests, and the SAML
//! providers whose metadata it trusts), of signing and server certificates
//! and of service-specific credentials.
//!
//! Every test is an attack and asserts the safe answer. Tests named
//! `attack_...` failed when they were written: the attack worked. The others
//! document a line that held.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use iam_event_store::testing::TestDatabase;
use iam_federation::saml::testing::{decode, encode, tamper, wrap, TestIdp, Wrapping};
use iam_federation::saml::{
    PRINCIPAL_TAG_ATTRIBUTE_PREFIX, ROLE_ATTRIBUTE, SESSION_DURATION_ATTRIBUTE,
    SOURCE_IDENTITY_ATTRIBUTE, TRANSITIVE_TAG_KEYS_ATTRIBUTE,
};

mod support;
use support::*;

const STS_VERSION: &str = "2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const ENTITY_ID: &str = "https://idp.example.com/saml";
const OTHER_ENTITY_ID: &str = "https://other-idp.example.com/saml";
/// `saml:edupersonaffiliation`.
const AFFILIATION: &str = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1";
const READ_USERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"}]}"#;

const RSA_CERT: &str = include_str!("data/x509/rsa-cert.pem");
const RSA_PKCS8: &str = include_str!("data/x509/rsa-pkcs8.pem");
const RSA_PKCS1: &str = include_str!("data/x509/rsa-pkcs1.pem");
const EC_CERT: &str = include_str!("data/x509/ec-cert.pem");
const EC_PKCS8: &str = include_str!("data/x509/ec-pkcs8.pem");

// ---------------------------------------------------------------------------
// Identity providers and requests

/// The account's identity provider. Key generation is slow: one per binary.
fn idp() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| TestIdp::new(ENTITY_ID))
}

/// A second identity provider, which the account may register too.
fn other_idp() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| TestIdp::new(OTHER_ENTITY_ID))
}

/// An attacker's IdP claiming the account's IdP's entity id.
fn impostor() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| TestIdp::new(ENTITY_ID))
}

fn provider_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:saml-provider/{name}")
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

async fn create_provider(root: &Client, name: &str, idp: &TestIdp) -> String {
    root.ok(
        "CreateSAMLProvider",
        &[
            ("Name", name),
            ("SAMLMetadataDocument", &idp.metadata_xml()),
        ],
    )
    .await;
    provider_arn(name)
}

/// A trust policy allowing `actions` to the federated `principals` (JSON
/// values: `"*"` or `{"Federated":[...]}`), with `condition`.
fn trust(principal: &str, actions: &[&str], condition: &str) -> String {
    let actions: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":[{}]{condition}}}]}}"#,
        actions.join(",")
    )
}

fn federated(provider_arns: &[&str]) -> String {
    let arns: Vec<String> = provider_arns.iter().map(|a| format!("\"{a}\"")).collect();
    format!(r#"{{"Federated":[{}]}}"#, arns.join(","))
}

/// A response of `idp` for now, whose `Role` attribute is `pairs` (role ARN,
/// provider ARN).
fn response<'a>(
    idp: &'a TestIdp,
    pairs: &[(&str, &str)],
) -> iam_federation::saml::testing::ResponseBuilder<'a> {
    let values: Vec<String> = pairs.iter().map(|(r, p)| format!("{r},{p}")).collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    idp.response(Utc::now())
        .without_attribute(ROLE_ATTRIBUTE)
        .attribute(ROLE_ATTRIBUTE, &values)
}

/// An unsigned `AssumeRoleWithSAML`, as the SDKs send it.
async fn assume(
    app: &TestApp,
    role: &str,
    provider: &str,
    assertion: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut params = vec![
        ("Action", "AssumeRoleWithSAML"),
        ("Version", STS_VERSION),
        ("RoleArn", role),
        ("PrincipalArn", provider),
        ("SAMLAssertion", assertion),
    ];
    params.extend_from_slice(extra);
    let body = form(&params);
    let text = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-type: {FORM}\r\ncontent-length: {}\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    send_raw(app.addr, text.into_bytes()).await
}

#[track_caller]
fn ok200(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[track_caller]
fn denied(reply: &Reply) {
    refused(reply, 403, "AccessDenied");
}

/// The account, its IdP registered as `TestIdp` and a role `SamlRole`
/// trusting it with `trust_policy`.
async fn saml_setup(trust_policy: &str) -> (TestDatabase, TestApp, Client, String, String) {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let provider = create_provider(&root, "TestIdp", idp()).await;
    let role = role(&root, "SamlRole", trust_policy, READ_USERS).await;
    (db, app, root, provider, role)
}

fn plain_trust() -> String {
    trust(
        &federated(&[&provider_arn("TestIdp")]),
        &["sts:AssumeRoleWithSAML"],
        "",
    )
}

// ---------------------------------------------------------------------------
// AssumeRoleWithSAML: who signs, which provider, which role

/// A response signed by an attacker's key under the registered IdP's entity
/// id, unsigned, or wrapped around a genuine signed one: refused, even by a
/// role that trusts everyone.
#[tokio::test]
async fn only_the_registered_idps_signature_counts_even_for_a_role_trusting_everyone() {
    let everyone = trust(r#""*""#, &["sts:AssumeRoleWithSAML"], "");
    let (_db, app, _root, provider, role) = saml_setup(&everyone).await;
    let genuine = response(idp(), &[(&role, &provider)]).build();
    ok200(&assume(&app, &role, &provider, &genuine, &[]).await);

    let forged = response(impostor(), &[(&role, &provider)]).build();
    refused(
        &assume(&app, &role, &provider, &forged, &[]).await,
        400,
        "InvalidIdentityToken",
    );
    let unsigned = response(impostor(), &[(&role, &provider)])
        .sign_assertion(false)
        .build();
    refused(
        &assume(&app, &role, &provider, &unsigned, &[]).await,
        400,
        "InvalidIdentityToken",
    );
    // The genuine response names alice; the forged one, admin.
    let forged_admin = response(impostor(), &[(&role, &provider)])
        .name_id("admin@example.com", None)
        .sign_assertion(false)
        .build();
    for how in [
        Wrapping::ForgedFirst,
        Wrapping::ForgedLast,
        Wrapping::GenuineInExtensions,
        Wrapping::GenuineInForgedAdvice,
        Wrapping::SignaturesCopied,
    ] {
        let wrapped = wrap(&genuine, &forged_admin, how);
        let reply = assume(&app, &role, &provider, &wrapped, &[]).await;
        assert!(
            reply.status == 400 && !reply.body.contains("admin@example.com"),
            "{how:?}: {}",
            reply.body
        );
    }
    // Signed by the IdP, but for another service provider or endpoint.
    for other in [
        response(idp(), &[(&role, &provider)]).audiences(&["https://app.example.com/saml"]),
        response(idp(), &[(&role, &provider)]).recipient("https://app.example.com/acs"),
        response(idp(), &[(&role, &provider)]).destination(Some("https://app.example.com/acs")),
        response(idp(), &[(&role, &provider)])
            .confirmation_method("urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"),
    ] {
        refused(
            &assume(&app, &role, &provider, &other.build(), &[]).await,
            400,
            "InvalidIdentityToken",
        );
    }
    // A signed attribute edited afterwards.
    let edited = tamper(&genuine, "alice@example.com", "admin@example.com");
    refused(
        &assume(&app, &role, &provider, &edited, &[]).await,
        400,
        "InvalidIdentityToken",
    );
    app.stop().await;
}

/// Two providers of the account, A and B. B's IdP cannot reach a role
/// through A (the pair must name the provider the request names, and B's
/// signature does not verify against A's metadata), nor a role that trusts
/// only A, nor a role paired with B whose trust names A.
#[tokio::test]
async fn a_provider_reaches_only_the_roles_that_pair_with_it_and_trust_it() {
    let (_db, app, root, a, role) = saml_setup(&plain_trust()).await;
    let b = create_provider(&root, "OtherIdp", other_idp()).await;

    // B's IdP lists the pair (role, A), and the request names B.
    let listed_a = response(other_idp(), &[(&role, &a)]).build();
    denied(&assume(&app, &role, &b, &listed_a, &[]).await);
    // ... or names A: B's signature is not A's.
    refused(
        &assume(&app, &role, &a, &listed_a, &[]).await,
        400,
        "InvalidIdentityToken",
    );
    // B's IdP pairs the role with B: the role trusts only A.
    let listed_b = response(other_idp(), &[(&role, &b)]).build();
    denied(&assume(&app, &role, &b, &listed_b, &[]).await);
    // A's IdP pairs the role with B, and the request names A.
    let a_lists_b = response(idp(), &[(&role, &b)]).build();
    denied(&assume(&app, &role, &a, &a_lists_b, &[]).await);
    // A role that trusts B, but A's IdP lists it with A.
    let trusts_b = role_with_trust(
        &root,
        "TrustsB",
        &trust(&federated(&[&b]), &["sts:AssumeRoleWithSAML"], ""),
    )
    .await;
    let a_lists_a = response(idp(), &[(&trusts_b, &a)]).build();
    denied(&assume(&app, &trusts_b, &a, &a_lists_a, &[]).await);
    // A provider in another account, and ARNs spelled otherwise.
    let foreign = "arn:aws:iam::999999999999:saml-provider/TestIdp";
    let foreign_pair = response(idp(), &[(&role, foreign)]).build();
    refused(
        &assume(&app, &role, foreign, &foreign_pair, &[]).await,
        400,
        "InvalidIdentityToken",
    );
    let lower = provider_arn("testidp");
    let pair = response(idp(), &[(&role, &lower)]).build();
    let reply = assume(&app, &role, &lower, &pair, &[]).await;
    assert!(reply.status == 400 || reply.status == 403, "{}", reply.body);
    app.stop().await;
}

async fn role_with_trust(root: &Client, name: &str, trust_policy: &str) -> String {
    role(root, name, trust_policy, READ_USERS).await
}

/// A role of another account, a role named with another path, and a role
/// that does not exist, each paired with the provider by the IdP: refused.
/// Among many pairs, only the one requested counts.
#[tokio::test]
async fn roles_of_other_accounts_paths_or_no_one_are_refused() {
    let (_db, app, root, provider, role) = saml_setup(&plain_trust()).await;
    let foreign = "arn:aws:iam::999999999999:role/SamlRole";
    let pathed = format!("arn:aws:iam::{ACCOUNT}:role/admin/SamlRole");
    let ghost = role_arn("Ghost");
    let mut pairs: Vec<(String, String)> = (0..300)
        .map(|i| (role_arn(&format!("Role{i}")), provider.clone()))
        .collect();
    pairs.push((foreign.to_owned(), provider.clone()));
    pairs.push((pathed.clone(), provider.clone()));
    pairs.push((ghost.clone(), provider.clone()));
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(r, p)| (r.as_str(), p.as_str()))
        .collect();
    let many = response(idp(), &pairs).build();
    for target in [foreign, pathed.as_str(), ghost.as_str(), role.as_str()] {
        denied(&assume(&app, target, &provider, &many, &[]).await);
    }
    // A role with a path, trusting the provider, named without it.
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "Pathed"),
            ("Path", "/team/"),
            ("AssumeRolePolicyDocument", &plain_trust()),
        ],
    )
    .await;
    let unpathed = role_arn("Pathed");
    let pair = response(idp(), &[(&unpathed, &provider)]).build();
    denied(&assume(&app, &unpathed, &provider, &pair, &[]).await);
    app.stop().await;
}

/// Session tags and transitive tag keys from `PrincipalTag:` attributes
/// need `sts:TagSession`; a source identity needs `sts:SetSourceIdentity`;
/// tags are checked as `AssumeRole`'s are.
#[tokio::test]
async fn tags_and_source_identity_need_their_own_permissions() {
    let (_db, app, root, provider, role) = saml_setup(&plain_trust()).await;
    let tag = format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}team");
    let tagged = response(idp(), &[(&role, &provider)])
        .attribute(&tag, &["admins"])
        .build();
    denied(&assume(&app, &role, &provider, &tagged, &[]).await);
    let transitive_only = response(idp(), &[(&role, &provider)])
        .attribute(TRANSITIVE_TAG_KEYS_ATTRIBUTE, &["team"])
        .build();
    let reply = assume(&app, &role, &provider, &transitive_only, &[]).await;
    assert!(reply.status == 400 || reply.status == 403, "{}", reply.body);
    let sourced = response(idp(), &[(&role, &provider)])
        .attribute(SOURCE_IDENTITY_ATTRIBUTE, &["admin"])
        .build();
    denied(&assume(&app, &role, &provider, &sourced, &[]).await);

    // TagSession allowed only for team=dev: admins stays out.
    let tagging = role_with_trust(
        &root,
        "Tagging",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRoleWithSAML"}},{{"Effect":"Allow","Principal":{},"Action":"sts:TagSession","Condition":{{"StringEquals":{{"aws:RequestTag/team":"dev"}}}}}}]}}"#,
            federated(&[&provider]),
            federated(&[&provider]),
        ),
    )
    .await;
    let admins = response(idp(), &[(&tagging, &provider)])
        .attribute(&tag, &["admins"])
        .build();
    denied(&assume(&app, &tagging, &provider, &admins, &[]).await);
    // A second tag, spelled in another case, does not sneak past.
    let twice = response(idp(), &[(&tagging, &provider)])
        .attribute(&tag, &["dev"])
        .attribute(
            &format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}TEAM"),
            &["admins"],
        )
        .build();
    let reply = assume(&app, &tagging, &provider, &twice, &[]).await;
    assert!(reply.status == 400 || reply.status == 403, "{}", reply.body);
    // AWS's own tag prefix.
    let reserved = response(idp(), &[(&tagging, &provider)])
        .attribute(&tag, &["dev"])
        .attribute(
            &format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}aws:PrincipalTag"),
            &["x"],
        )
        .build();
    let reply = assume(&app, &tagging, &provider, &reserved, &[]).await;
    assert!(reply.status == 400 || reply.status == 403, "{}", reply.body);
    // team=dev: allowed.
    let dev = response(idp(), &[(&tagging, &provider)])
        .attribute(&tag, &["dev"])
        .build();
    ok200(&assume(&app, &tagging, &provider, &dev, &[]).await);
    app.stop().await;
}

/// Only the signed assertion feeds the trust policy's keys: attributes in
/// the unsigned parts of a response whose assertion alone is signed, and
/// attributes whose names mimic condition keys, count for nothing.
#[tokio::test]
async fn condition_keys_cannot_be_spoofed() {
    let condition = r#","Condition":{"StringEquals":{"saml:sub":"admin@example.com","saml:iss":"https://idp.example.com/saml"}}"#;
    let staff_trust = trust(
        &federated(&[&provider_arn("TestIdp")]),
        &["sts:AssumeRoleWithSAML"],
        condition,
    );
    let (_db, app, root, provider, role) = saml_setup(&staff_trust).await;
    // Attributes named after the keys, signed by the IdP (a user's own
    // profile fields, say).
    let named_like_keys = response(idp(), &[(&role, &provider)])
        .attribute("saml:sub", &["admin@example.com"])
        .attribute("sub", &["admin@example.com"])
        .attribute("aws:RequestTag/x", &["y"])
        .build();
    denied(&assume(&app, &role, &provider, &named_like_keys, &[]).await);
    // The genuine subject passes.
    let admin = response(idp(), &[(&role, &provider)])
        .name_id("admin@example.com", None)
        .build();
    ok200(&assume(&app, &role, &provider, &admin, &[]).await);

    // Staff only; the signed assertion says student, the unsigned
    // response around it says staff.
    let staff_only = role_with_trust(
        &root,
        "StaffOnly",
        &trust(
            &federated(&[&provider]),
            &["sts:AssumeRoleWithSAML"],
            r#","Condition":{"ForAnyValue:StringEquals":{"saml:edupersonaffiliation":"staff"}}"#,
        ),
    )
    .await;
    let student = response(idp(), &[(&staff_only, &provider)])
        .attribute(AFFILIATION, &["student"])
        .build();
    denied(&assume(&app, &staff_only, &provider, &student, &[]).await);
    let xml = decode(&student);
    let extension = format!(
        "<samlp:Extensions><saml:AttributeStatement><saml:Attribute Name=\"{AFFILIATION}\"><saml:AttributeValue>staff</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></samlp:Extensions><samlp:Status>"
    );
    let smuggled = encode(&xml.replacen("<samlp:Status>", &extension, 1));
    denied(&assume(&app, &staff_only, &provider, &smuggled, &[]).await);
    app.stop().await;
}

/// XXE and entity expansion: refused before parsing, and nothing fetched.
#[tokio::test]
async fn dtds_and_entities_are_refused() {
    let (_db, app, _root, provider, role) = saml_setup(&plain_trust()).await;
    let genuine = decode(&response(idp(), &[(&role, &provider)]).build());
    let body = genuine.split_once("?>").map(|(_, b)| b).unwrap();
    for dtd in [
        "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
        "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
        "<!doctype r SYSTEM \"http://127.0.0.1:1/x.dtd\">",
    ] {
        let xml = format!("<?xml version=\"1.0\"?>{dtd}{body}");
        let reply = assume(&app, &role, &provider, &encode(&xml), &[]).await;
        refused(&reply, 400, "InvalidIdentityToken");
        assert!(!reply.body.contains("root:"), "{}", reply.body);
    }
    app.stop().await;
}

/// An unsigned caller chooses the XML the server parses before any
/// signature is checked: 100,000 characters of base64. Thousands of
/// attributes on one element made the parser compare each with every
/// other (a quarter of a second of CPU per request, in release builds), and
/// the same XML in a SAML provider's metadata (a megabyte) minutes; deep
/// nesting must not recurse.
#[tokio::test]
async fn attack_thousands_of_attributes_on_one_element_cost_quadratic_cpu() {
    let (_db, app, root, provider, role) = saml_setup(&plain_trust()).await;
    let names = short_names();
    let attributes: String = names
        .iter()
        .take(10_300)
        .map(|n| format!(" {n}=''"))
        .collect();
    let genuine = decode(&response(idp(), &[(&role, &provider)]).build());
    let heavy = encode(&genuine.replacen(
        "<saml:Subject>",
        &format!("<x{attributes}/><saml:Subject>"),
        1,
    ));
    assert!(heavy.len() <= 100_000, "{}", heavy.len());
    let started = Instant::now();
    for _ in 0..20 {
        refused(
            &assume(&app, &role, &provider, &heavy, &[]).await,
            400,
            "InvalidIdentityToken",
        );
    }
    let spent = started.elapsed();
    assert!(
        spent < Duration::from_secs(3),
        "20 unsigned requests took {spent:?}"
    );

    // Deep nesting: refused, not a stack overflow.
    let deep = encode(&genuine.replacen(
        "<saml:Subject>",
        &format!(
            "{}{}<saml:Subject>",
            "<e>".repeat(8_000),
            "</e>".repeat(8_000)
        ),
        1,
    ));
    refused(
        &assume(&app, &role, &provider, &deep, &[]).await,
        400,
        "InvalidIdentityToken",
    );

    // The same in metadata, up to the request body limit.
    let metadata = idp().metadata_xml();
    let many: String = names
        .iter()
        .take(70_000)
        .map(|n| format!(" {n}=''"))
        .collect();
    let heavy_metadata = metadata.replacen(
        "<md:NameIDFormat>",
        &format!("<md:Extensions><x{many}/></md:Extensions><md:NameIDFormat>"),
        1,
    );
    let started = Instant::now();
    let reply = tokio::time::timeout(
        Duration::from_secs(20),
        root.call(
            "CreateSAMLProvider",
            &[("Name", "Heavy"), ("SAMLMetadataDocument", &heavy_metadata)],
        ),
    )
    .await
    .expect("CreateSAMLProvider answers within 20 seconds");
    refused(&reply, 400, "InvalidInput");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The server still answers.
    ok200(
        &assume(
            &app,
            &role,
            &provider,
            &response(idp(), &[(&role, &provider)]).build(),
            &[],
        )
        .await,
    );
    app.stop().await;
}

/// Attribute names of one to three letters, all different.
fn short_names() -> Vec<String> {
    let letters: Vec<char> = ('a'..='z').chain('A'..='Z').collect();
    let mut names: Vec<String> = letters.iter().map(|c| c.to_string()).collect();
    for a in &letters {
        for b in &letters {
            names.push(format!("{a}{b}"));
        }
    }
    for a in &letters {
        for b in &letters {
            for c in &letters {
                names.push(format!("{a}{b}{c}"));
            }
        }
    }
    names
}

/// The parsed metadata is cached: after an update to another IdP's
/// metadata, and after a delete and a create under the same name, the old
/// IdP's responses must stop working at once.
#[tokio::test]
async fn replaced_metadata_is_never_served_from_the_cache() {
    let (_db, app, root, provider, role) = saml_setup(&plain_trust()).await;
    let first = response(idp(), &[(&role, &provider)]);
    ok200(&assume(&app, &role, &provider, &first.build(), &[]).await);
    let second = response(other_idp(), &[(&role, &provider)]);
    let second_idp_metadata = other_idp().metadata_xml();

    root.ok(
        "UpdateSAMLProvider",
        &[
            ("SAMLProviderArn", &provider),
            ("SAMLMetadataDocument", &second_idp_metadata),
        ],
    )
    .await;
    refused(
        &assume(&app, &role, &provider, &first.build(), &[]).await,
        400,
        "InvalidIdentityToken",
    );
    ok200(&assume(&app, &role, &provider, &second.build(), &[]).await);

    root.ok("DeleteSAMLProvider", &[("SAMLProviderArn", &provider)])
        .await;
    refused(
        &assume(&app, &role, &provider, &second.build(), &[]).await,
        400,
        "InvalidIdentityToken",
    );
    create_provider(&root, "TestIdp", idp()).await;
    refused(
        &assume(&app, &role, &provider, &second.build(), &[]).await,
        400,
        "InvalidIdentityToken",
    );
    ok200(&assume(&app, &role, &provider, &first.build(), &[]).await);
    app.stop().await;
}

fn expiration(reply: &Reply) -> DateTime<Utc> {
    reply
        .tag("Expiration")
        .and_then(|e| DateTime::parse_from_rfc3339(&e).ok())
        .map(|e| e.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("an Expiration: {}", reply.body))
}

/// The session never outlasts the role's MaxSessionDuration, the
/// assertion's SessionDuration or its SessionNotOnOrAfter.
#[tokio::test]
async fn sessions_never_outlast_the_role_or_the_assertion() {
    let (_db, app, root, provider, role) = saml_setup(&plain_trust()).await;
    let plain = response(idp(), &[(&role, &provider)]).build();
    refused(
        &assume(
            &app,
            &role,
            &provider,
            &plain,
            &[("DurationSeconds", "7200")],
        )
        .await,
        400,
        "ValidationError",
    );
    root.ok(
        "UpdateRole",
        &[("RoleName", "SamlRole"), ("MaxSessionDuration", "43200")],
    )
    .await;
    let now = Utc::now();
    let short = response(idp(), &[(&role, &provider)])
        .attribute(SESSION_DURATION_ATTRIBUTE, &["900"])
        .build();
    let reply = assume(
        &app,
        &role,
        &provider,
        &short,
        &[("DurationSeconds", "43200")],
    )
    .await;
    ok200(&reply);
    assert!(expiration(&reply) <= now + TimeDelta::seconds(960));
    let session_end = response(idp(), &[(&role, &provider)])
        .session_not_on_or_after(Some(now + TimeDelta::minutes(20)))
        .build();
    let reply = assume(
        &app,
        &role,
        &provider,
        &session_end,
        &[("DurationSeconds", "43200")],
    )
    .await;
    ok200(&reply);
    assert!(expiration(&reply) <= now + TimeDelta::minutes(21));
    let ended = response(idp(), &[(&role, &provider)])
        .session_not_on_or_after(Some(now - TimeDelta::minutes(1)))
        .build();
    let reply = assume(&app, &role, &provider, &ended, &[]).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    // A SessionDuration longer than AWS allows is refused, not honoured.
    let long = response(idp(), &[(&role, &provider)])
        .attribute(SESSION_DURATION_ATTRIBUTE, &["864000"])
        .build();
    refused(
        &assume(&app, &role, &provider, &long, &[]).await,
        400,
        "InvalidIdentityToken",
    );
    // An expired assertion.
    let old = idp()
        .response(now - TimeDelta::hours(2))
        .without_attribute(ROLE_ATTRIBUTE)
        .attribute(ROLE_ATTRIBUTE, &[&format!("{role},{provider}")])
        .build();
    refused(
        &assume(&app, &role, &provider, &old, &[]).await,
        400,
        "ExpiredTokenException",
    );
    app.stop().await;
}

/// A user allowed every SAML provider operation on one provider reaches no
/// other, creates none, and lists none without `iam:ListSAMLProviders`.
#[tokio::test]
async fn provider_operations_are_authorized_on_each_provider() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mine = create_provider(&root, "Mine", idp()).await;
    let theirs = create_provider(&root, "Theirs", other_idp()).await;
    let user = user_with_policy(
        &root,
        "alice",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:*SAMLProvider*","Resource":"{mine}"}}]}}"#
        ),
    )
    .await;
    ok200(
        &user
            .call("GetSAMLProvider", &[("SAMLProviderArn", &mine)])
            .await,
    );
    let metadata = other_idp().metadata_xml();
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("GetSAMLProvider", vec![("SAMLProviderArn", &theirs)]),
        (
            "UpdateSAMLProvider",
            vec![
                ("SAMLProviderArn", &theirs),
                ("SAMLMetadataDocument", &metadata),
            ],
        ),
        ("DeleteSAMLProvider", vec![("SAMLProviderArn", &theirs)]),
        (
            "TagSAMLProvider",
            vec![
                ("SAMLProviderArn", &theirs),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "v"),
            ],
        ),
        (
            "UntagSAMLProvider",
            vec![("SAMLProviderArn", &theirs), ("TagKeys.member.1", "k")],
        ),
        ("ListSAMLProviderTags", vec![("SAMLProviderArn", &theirs)]),
        (
            "CreateSAMLProvider",
            vec![("Name", "New"), ("SAMLMetadataDocument", &metadata)],
        ),
        ("ListSAMLProviders", vec![]),
    ];
    for (action, params) in &calls {
        let reply = user.call(action, params).await;
        assert_eq!(reply.status, 403, "{action}: {}", reply.body);
        assert!(
            !reply.body.contains(OTHER_ENTITY_ID),
            "{action}: {}",
            reply.body
        );
    }
    // Its own provider cannot be pointed at metadata that does not parse,
    // nor its ARN respelled to reach the other.
    let respelled = format!("{mine}/../Theirs");
    let reply = user
        .call("DeleteSAMLProvider", &[("SAMLProviderArn", &respelled)])
        .await;
    assert!(reply.status >= 400, "{}", reply.body);
    ok200(
        &root
            .call("GetSAMLProvider", &[("SAMLProviderArn", &theirs)])
            .await,
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Certificates

/// PEM of a DER certificate.
fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// A user allowed every signing certificate operation on their own user
/// reaches neither another user's certificates nor the root user's, by
/// naming the other user or by naming the other's certificate id.
#[tokio::test]
async fn signing_certificates_of_others_and_of_root_are_out_of_reach() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    let alice = user_with_policy(
        &root,
        "alice",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:*SigningCertificate*","Resource":"arn:aws:iam::{ACCOUNT}:user/alice"}}]}}"#
        ),
    )
    .await;
    let roots = root
        .ok("UploadSigningCertificate", &[("CertificateBody", RSA_CERT)])
        .await
        .tag("CertificateId")
        .unwrap();
    let bobs = root
        .ok(
            "UploadSigningCertificate",
            &[("UserName", "bob"), ("CertificateBody", EC_CERT)],
        )
        .await
        .tag("CertificateId")
        .unwrap();
    for (name, id) in [("bob", bobs.as_str())] {
        for (action, extra) in [
            ("ListSigningCertificates", vec![]),
            (
                "UpdateSigningCertificate",
                vec![("CertificateId", id), ("Status", "Inactive")],
            ),
            ("DeleteSigningCertificate", vec![("CertificateId", id)]),
            (
                "UploadSigningCertificate",
                vec![("CertificateBody", RSA_CERT)],
            ),
        ] {
            let mut params = vec![("UserName", name)];
            params.extend(extra);
            denied(&alice.call(action, &params).await);
        }
    }
    // Someone else's certificate id, under alice's own name (or none).
    for id in [&roots, &bobs] {
        for params in [
            vec![("CertificateId", id.as_str()), ("Status", "Inactive")],
            vec![
                ("UserName", "alice"),
                ("CertificateId", id.as_str()),
                ("Status", "Inactive"),
            ],
        ] {
            refused(
                &alice.call("UpdateSigningCertificate", &params).await,
                404,
                "NoSuchEntity",
            );
        }
        refused(
            &alice
                .call("DeleteSigningCertificate", &[("CertificateId", id)])
                .await,
            404,
            "NoSuchEntity",
        );
    }
    let listed = alice.ok("ListSigningCertificates", &[]).await;
    assert!(listed.all("CertificateId").is_empty(), "{}", listed.body);
    // Both still there, both active.
    let mine = root.ok("ListSigningCertificates", &[]).await;
    assert_eq!(mine.all("CertificateId"), [roots]);
    assert_eq!(mine.tag("Status").as_deref(), Some("Active"));
    let theirs = root
        .ok("ListSigningCertificates", &[("UserName", "bob")])
        .await;
    assert_eq!(theirs.all("CertificateId"), [bobs]);
    assert_eq!(theirs.tag("Status").as_deref(), Some("Active"));
    app.stop().await;
}

/// A user allowed server certificates under `/public/` only can neither
/// upload elsewhere, move or rename one out of `/public/`, nor read, list,
/// tag or delete one elsewhere.
#[tokio::test]
async fn server_certificates_stay_under_the_path_the_caller_may_use() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let user = user_with_policy(
        &root,
        "alice",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:*ServerCertificate*","Resource":"arn:aws:iam::{ACCOUNT}:server-certificate/public/*"}}]}}"#
        ),
    )
    .await;
    let upload = |name: &'static str, path: &'static str| {
        vec![
            ("ServerCertificateName", name),
            ("Path", path),
            ("CertificateBody", RSA_CERT),
            ("PrivateKey", RSA_PKCS8),
        ]
    };
    user.ok("UploadServerCertificate", &upload("web", "/public/"))
        .await;
    denied(
        &user
            .call("UploadServerCertificate", &upload("admin", "/admin/"))
            .await,
    );
    denied(
        &user
            .call("UploadServerCertificate", &upload("rooted", "/"))
            .await,
    );
    root.ok("UploadServerCertificate", &upload("admin", "/admin/"))
        .await;
    // Moves and renames out of /public/.
    denied(
        &user
            .call(
                "UpdateServerCertificate",
                &[("ServerCertificateName", "web"), ("NewPath", "/admin/")],
            )
            .await,
    );
    denied(
        &user
            .call(
                "UpdateServerCertificate",
                &[("ServerCertificateName", "web"), ("NewPath", "/")],
            )
            .await,
    );
    // Onto the other certificate's name: refused either way.
    let reply = user
        .call(
            "UpdateServerCertificate",
            &[
                ("ServerCertificateName", "web"),
                ("NewServerCertificateName", "admin"),
            ],
        )
        .await;
    assert!(reply.status == 403 || reply.status == 409, "{}", reply.body);
    // Pulling the other one in.
    denied(
        &user
            .call(
                "UpdateServerCertificate",
                &[("ServerCertificateName", "admin"), ("NewPath", "/public/")],
            )
            .await,
    );
    for (action, extra) in [
        ("GetServerCertificate", vec![]),
        ("DeleteServerCertificate", vec![]),
        ("ListServerCertificateTags", vec![]),
        (
            "TagServerCertificate",
            vec![("Tags.member.1.Key", "k"), ("Tags.member.1.Value", "v")],
        ),
        ("UntagServerCertificate", vec![("TagKeys.member.1", "k")]),
    ] {
        let mut params = vec![("ServerCertificateName", "admin")];
        params.extend(extra);
        denied(&user.call(action, &params).await);
    }
    denied(&user.call("ListServerCertificates", &[]).await);
    denied(
        &user
            .call("ListServerCertificates", &[("PathPrefix", "/")])
            .await,
    );
    let listed = user
        .ok("ListServerCertificates", &[("PathPrefix", "/public/")])
        .await;
    assert_eq!(listed.all("ServerCertificateName"), ["web"]);
    // A rename within /public/ is fine; the certificate stays there.
    user.ok(
        "UpdateServerCertificate",
        &[
            ("ServerCertificateName", "web"),
            ("NewServerCertificateName", "www"),
        ],
    )
    .await;
    let got = root
        .ok("GetServerCertificate", &[("ServerCertificateName", "www")])
        .await;
    assert_eq!(got.tag("Path").as_deref(), Some("/public/"));
    let got = root
        .ok(
            "GetServerCertificate",
            &[("ServerCertificateName", "admin")],
        )
        .await;
    assert_eq!(got.tag("Path").as_deref(), Some("/admin/"));
    app.stop().await;
}

/// Pieces of a secret as it could appear anywhere: its text, a long run of
/// it, and its bytes in hex and as a JSON array.
fn needles(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let array: Vec<String> = bytes.iter().take(12).map(|b| b.to_string()).collect();
    let mut found = vec![
        secret.to_owned(),
        hex::encode(&bytes[..bytes.len().min(24)]),
        format!("[{}", array.join(",")),
    ];
    // Every 40-character run of a PEM's base64 lines.
    for line in secret.lines().filter(|l| !l.starts_with("-----")) {
        if line.len() >= 40 {
            found.push(line[..40].to_owned());
        }
    }
    found
}

/// Everything the database holds: every event (payload, metadata), the
/// head and the snapshots, as text.
async fn database_text(db: &TestDatabase) -> String {
    let mut all = String::new();
    let store = iam_event_store::open(db.url()).await.unwrap();
    for e in store
        .read_all(iam_event_store::Position(0), 100_000)
        .await
        .unwrap()
    {
        all.push_str(&e.payload.to_string());
        all.push_str(&e.metadata.to_string());
    }
    if db.url().starts_with("postgres") {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        for table in ["events", "event_log_head", "snapshots"] {
            let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
                .fetch_all(&pool)
                .await
                .unwrap_or_default();
            for (row,) in rows {
                all.push_str(&row);
            }
        }
    }
    all
}

/// A server certificate's private key and a service-specific credential's
/// password: never in a response after the one that created the password,
/// never in an error message, never in the log or the database.
#[tokio::test]
async fn secrets_never_leave_the_server() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "jane")]).await;
    let mut answers = Vec::new();
    answers.push(
        root.ok(
            "UploadServerCertificate",
            &[
                ("ServerCertificateName", "web"),
                ("CertificateBody", RSA_CERT),
                ("PrivateKey", RSA_PKCS1),
                ("CertificateChain", EC_CERT),
            ],
        )
        .await,
    );
    // A key that does not match, one too long, one with a character the
    // model refuses: the errors quote none of them.
    for key in [
        EC_PKCS8.to_owned(),
        format!("{RSA_PKCS8}{}", "A".repeat(20_000)),
        format!("{RSA_PKCS8}\u{1F600}"),
    ] {
        let reply = root
            .call(
                "UploadServerCertificate",
                &[
                    ("ServerCertificateName", "other"),
                    ("CertificateBody", RSA_CERT),
                    ("PrivateKey", &key),
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        answers.push(reply);
    }
    answers.push(
        root.ok("GetServerCertificate", &[("ServerCertificateName", "web")])
            .await,
    );
    answers.push(root.ok("ListServerCertificates", &[]).await);
    answers.push(
        root.ok(
            "UpdateServerCertificate",
            &[("ServerCertificateName", "web"), ("NewPath", "/moved/")],
        )
        .await,
    );
    let created = root
        .ok(
            "CreateServiceSpecificCredential",
            &[
                ("UserName", "jane"),
                ("ServiceName", "codecommit.amazonaws.com"),
            ],
        )
        .await;
    let password = created.tag("ServicePassword").expect("a password");
    let id = created.tag("ServiceSpecificCredentialId").unwrap();
    let reset = root
        .ok(
            "ResetServiceSpecificCredential",
            &[("UserName", "jane"), ("ServiceSpecificCredentialId", &id)],
        )
        .await;
    let new_password = reset.tag("ServicePassword").expect("a new password");
    assert_ne!(password, new_password);
    let key = root
        .ok(
            "CreateServiceSpecificCredential",
            &[
                ("UserName", "jane"),
                ("ServiceName", "bedrock.amazonaws.com"),
            ],
        )
        .await;
    let api_key = key.tag("ServiceCredentialSecret").expect("an API key");
    answers.push(
        root.ok("ListServiceSpecificCredentials", &[("UserName", "jane")])
            .await,
    );
    answers.push(
        root.ok("ListServiceSpecificCredentials", &[("AllUsers", "true")])
            .await,
    );
    answers.push(root.ok("GenerateCredentialReport", &[]).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    answers.push(root.call("GetCredentialReport", &[]).await);
    answers.push(root.ok("GetAccountSummary", &[]).await);

    let stored = database_text(&db).await;
    let key_needles = needles(RSA_PKCS1);
    for reply in &answers {
        for needle in key_needles
            .iter()
            .chain(&needles(&password))
            .chain(&needles(&new_password))
            .chain(&needles(&api_key))
        {
            assert!(
                !reply.body.contains(needle.as_str()),
                "{needle} in {}",
                reply.body
            );
        }
    }
    for secret in [
        RSA_PKCS1,
        EC_PKCS8,
        RSA_PKCS8,
        &password,
        &new_password,
        &api_key,
    ] {
        for needle in needles(secret) {
            assert!(!stored.contains(&needle), "{needle} is in the database");
        }
    }
    app.stop().await;
}

/// Malformed certificates, chains and keys: refused with a 400, never a
/// panic or a 500, and the server keeps answering.
#[tokio::test]
async fn malformed_certificates_and_keys_are_refused_cleanly() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let body = |pem: &str| {
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
    };
    let wrap_pem =
        |label: &str, b64: &str| format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n");
    let cert_b64 = body(RSA_CERT);
    let der = base64::engine::general_purpose::STANDARD
        .decode(&cert_b64)
        .unwrap();
    let truncated = base64::engine::general_purpose::STANDARD.encode(&der[..der.len() / 2]);
    let mut flipped = der.clone();
    flipped[4] ^= 0xff;
    let flipped = base64::engine::general_purpose::STANDARD.encode(&flipped);
    let bad_certs = vec![
        String::new(),
        " ".into(),
        "-----BEGIN CERTIFICATE-----".into(),
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----".into(),
        wrap_pem("CERTIFICATE", &truncated),
        wrap_pem("CERTIFICATE", &flipped),
        wrap_pem("CERTIFICATE", "////"),
        wrap_pem("CERTIFICATE", &"A".repeat(16_000)),
        wrap_pem("PRIVATE KEY", &body(RSA_PKCS8)),
        format!("{RSA_CERT}{RSA_CERT}"),
        RSA_CERT.replace("-----END CERTIFICATE-----", ""),
        format!("junk{RSA_CERT}"),
        format!(
            "-----BEGIN CERTIFICATE-----\n{cert_b64}\n-----END CERTIFICATE-----\n-----END CERTIFICATE-----"
        ),
    ];
    let mut n = 0;
    for cert in &bad_certs {
        n += 1;
        let name = format!("bad{n}");
        // Two certificates are a chain, not a certificate.
        let chain = if cert.matches("-----BEGIN CERTIFICATE-----").count() == 2 {
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"
        } else {
            cert.as_str()
        };
        for reply in [
            root.call("UploadSigningCertificate", &[("CertificateBody", cert)])
                .await,
            root.call(
                "UploadServerCertificate",
                &[
                    ("ServerCertificateName", &name),
                    ("CertificateBody", cert),
                    ("PrivateKey", RSA_PKCS8),
                ],
            )
            .await,
            root.call(
                "UploadServerCertificate",
                &[
                    ("ServerCertificateName", &name),
                    ("CertificateBody", RSA_CERT),
                    ("PrivateKey", RSA_PKCS8),
                    ("CertificateChain", chain),
                ],
            )
            .await,
        ] {
            assert_eq!(reply.status, 400, "{cert:?}: {}", reply.body);
        }
    }
    let key_b64 = body(RSA_PKCS8);
    let key_der = base64::engine::general_purpose::STANDARD
        .decode(&key_b64)
        .unwrap();
    let half_key = base64::engine::general_purpose::STANDARD.encode(&key_der[..key_der.len() / 2]);
    let bad_keys = vec![
        String::new(),
        "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----".into(),
        wrap_pem("PRIVATE KEY", &half_key),
        wrap_pem("RSA PRIVATE KEY", &key_b64),
        wrap_pem("RSA PRIVATE KEY", &half_key),
        wrap_pem("EC PRIVATE KEY", &body(EC_PKCS8)),
        wrap_pem("ENCRYPTED PRIVATE KEY", &key_b64),
        wrap_pem("PRIVATE KEY", &"AAAA".repeat(100)),
        wrap_pem("PRIVATE KEY", "MAA="),
        format!("{RSA_PKCS8}{RSA_PKCS8}"),
        RSA_CERT.to_owned(),
        EC_PKCS8.to_owned(),
        RSA_PKCS8.replace("-----END PRIVATE KEY-----", ""),
    ];
    let big: Vec<u8> = std::iter::once(0xc3)
        .chain(std::iter::repeat_n(0x5a, 511))
        .chain([0x01])
        .collect();
    let half: Vec<u8> = std::iter::once(0xc3)
        .chain(std::iter::repeat_n(0x77, 254))
        .chain([0x01])
        .collect();
    let mut bad_keys = bad_keys;
    for (n, e, d, p, q) in [
        (&[0u8][..], &[0u8][..], &[0u8][..], &[0u8][..], &[0u8][..]),
        (&[1], &[1], &[1], &[1], &[1]),
        (&[15], &[3], &[3], &[0], &[5]),
        (&[15], &[3], &[3], &[1], &[15]),
        (&[16], &[3], &[3], &[2], &[8]),
        (&[15], &[0xff; 9][..], &[3], &[3], &[5]),
        (&big[..], &[1, 0, 1], &big[..], &half[..], &half[..]),
        (&big[..], &[1, 0, 1], &[0], &big[..], &[1]),
    ] {
        bad_keys.push(crafted_rsa_key(n, e, d, p, q));
    }
    for key in &bad_keys {
        n += 1;
        let reply = root
            .call(
                "UploadServerCertificate",
                &[
                    ("ServerCertificateName", &format!("bad{n}")),
                    ("CertificateBody", RSA_CERT),
                    ("PrivateKey", key),
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{key:?}: {}", reply.body);
    }
    // Still serving, nothing stored.
    let listed = root.ok("ListServerCertificates", &[]).await;
    assert!(
        listed.all("ServerCertificateName").is_empty(),
        "{}",
        listed.body
    );
    root.ok(
        "UploadServerCertificate",
        &[
            ("ServerCertificateName", "good"),
            ("CertificateBody", EC_CERT),
            ("PrivateKey", EC_PKCS8),
        ],
    )
    .await;
    app.stop().await;
}

/// A PKCS#1 RSA private key PEM with the components given (big-endian)
/// and CRT values copied from them: no key at all, only its shape.
fn crafted_rsa_key(n: &[u8], e: &[u8], d: &[u8], p: &[u8], q: &[u8]) -> String {
    use rsa::pkcs1::der::Encode;
    use rsa::pkcs1::UintRef;
    let uint = |b| UintRef::new(b).unwrap();
    let key = rsa::pkcs1::RsaPrivateKey {
        modulus: uint(n),
        public_exponent: uint(e),
        private_exponent: uint(d),
        prime1: uint(p),
        prime2: uint(q),
        exponent1: uint(d),
        exponent2: uint(d),
        coefficient: uint(p),
        other_prime_infos: None,
    };
    let der = key.to_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN RSA PRIVATE KEY-----\n{b64}\n-----END RSA PRIVATE KEY-----\n")
}

/// A user keeps its signing certificates and service-specific credentials
/// until they are deleted: DeleteUser refuses, and a user of the same name
/// created later inherits nothing.
#[tokio::test]
async fn delete_user_refuses_while_certificates_or_credentials_remain() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "jane")]).await;
    let cert = root
        .ok(
            "UploadSigningCertificate",
            &[("UserName", "jane"), ("CertificateBody", RSA_CERT)],
        )
        .await
        .tag("CertificateId")
        .unwrap();
    refused(
        &root.call("DeleteUser", &[("UserName", "jane")]).await,
        409,
        "DeleteConflict",
    );
    root.ok(
        "DeleteSigningCertificate",
        &[("UserName", "jane"), ("CertificateId", &cert)],
    )
    .await;
    let id = root
        .ok(
            "CreateServiceSpecificCredential",
            &[
                ("UserName", "jane"),
                ("ServiceName", "cassandra.amazonaws.com"),
            ],
        )
        .await
        .tag("ServiceSpecificCredentialId")
        .unwrap();
    refused(
        &root.call("DeleteUser", &[("UserName", "jane")]).await,
        409,
        "DeleteConflict",
    );
    // Renamed, the user keeps them; the old name has none.
    root.ok(
        "UpdateUser",
        &[("UserName", "jane"), ("NewUserName", "janet")],
    )
    .await;
    root.ok("CreateUser", &[("UserName", "jane")]).await;
    let listed = root
        .ok("ListServiceSpecificCredentials", &[("UserName", "jane")])
        .await;
    assert!(
        listed.all("ServiceSpecificCredentialId").is_empty(),
        "{}",
        listed.body
    );
    refused(
        &root
            .call(
                "ResetServiceSpecificCredential",
                &[("UserName", "jane"), ("ServiceSpecificCredentialId", &id)],
            )
            .await,
        404,
        "NoSuchEntity",
    );
    root.ok("DeleteUser", &[("UserName", "jane")]).await;
    refused(
        &root.call("DeleteUser", &[("UserName", "janet")]).await,
        409,
        "DeleteConflict",
    );
    root.ok(
        "DeleteServiceSpecificCredential",
        &[("UserName", "janet"), ("ServiceSpecificCredentialId", &id)],
    )
    .await;
    root.ok("DeleteUser", &[("UserName", "janet")]).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Service-specific credentials

/// A user allowed every service credential operation on their own user
/// reaches no other user's, by name, by id or through `AllUsers`.
#[tokio::test]
async fn service_credentials_of_other_users_are_out_of_reach() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    let alice = user_with_policy(
        &root,
        "alice",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:*ServiceSpecificCredential*","Resource":"arn:aws:iam::{ACCOUNT}:user/alice"}}]}}"#
        ),
    )
    .await;
    let bobs = root
        .ok(
            "CreateServiceSpecificCredential",
            &[
                ("UserName", "bob"),
                ("ServiceName", "codecommit.amazonaws.com"),
            ],
        )
        .await
        .tag("ServiceSpecificCredentialId")
        .unwrap();
    alice
        .ok(
            "CreateServiceSpecificCredential",
            &[
                ("UserName", "alice"),
                ("ServiceName", "codecommit.amazonaws.com"),
            ],
        )
        .await;
    denied(
        &alice
            .call(
                "CreateServiceSpecificCredential",
                &[
                    ("UserName", "bob"),
                    ("ServiceName", "codecommit.amazonaws.com"),
                ],
            )
            .await,
    );
    denied(
        &alice
            .call("ListServiceSpecificCredentials", &[("UserName", "bob")])
            .await,
    );
    denied(
        &alice
            .call("ListServiceSpecificCredentials", &[("AllUsers", "true")])
            .await,
    );
    for (action, extra) in [
        ("ResetServiceSpecificCredential", vec![]),
        (
            "UpdateServiceSpecificCredential",
            vec![("Status", "Inactive")],
        ),
        ("DeleteServiceSpecificCredential", vec![]),
    ] {
        let mut as_bob = vec![
            ("UserName", "bob"),
            ("ServiceSpecificCredentialId", bobs.as_str()),
        ];
        as_bob.extend(extra.clone());
        denied(&alice.call(action, &as_bob).await);
        // Bob's id under alice's own name, or under no name.
        let mut as_alice = vec![("ServiceSpecificCredentialId", bobs.as_str())];
        as_alice.extend(extra.clone());
        refused(&alice.call(action, &as_alice).await, 404, "NoSuchEntity");
        as_alice.push(("UserName", "alice"));
        let reply = alice.call(action, &as_alice).await;
        refused(&reply, 404, "NoSuchEntity");
        assert!(!reply.body.contains("ServicePassword"), "{}", reply.body);
    }
    let listed = alice.ok("ListServiceSpecificCredentials", &[]).await;
    assert_eq!(listed.all("UserName"), ["alice"]);
    let bob = root
        .ok("ListServiceSpecificCredentials", &[("UserName", "bob")])
        .await;
    assert_eq!(bob.all("ServiceSpecificCredentialId"), [bobs]);
    assert_eq!(bob.tag("Status").as_deref(), Some("Active"));
    app.stop().await;
}

/// Quotas are checked where the log is written, so concurrent requests
/// cannot exceed them: two signing certificates per user, two credentials
/// per user and service, twenty server certificates.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quotas_hold_against_concurrent_requests() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "jane")]).await;
    let certs = [
        RSA_CERT.to_owned(),
        EC_CERT.to_owned(),
        pem(idp().certificate()),
        pem(other_idp().certificate()),
        pem(impostor().certificate()),
    ];
    let uploads = certs.iter().map(|c| {
        let root = root.clone();
        let c = c.clone();
        tokio::spawn(async move {
            root.call(
                "UploadSigningCertificate",
                &[("UserName", "jane"), ("CertificateBody", &c)],
            )
            .await
        })
    });
    let replies = futures_join(uploads).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        2,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let creates = (0..6).map(|_| {
        let root = root.clone();
        tokio::spawn(async move {
            root.call(
                "CreateServiceSpecificCredential",
                &[("UserName", "jane"), ("ServiceName", "logs.amazonaws.com")],
            )
            .await
        })
    });
    let replies = futures_join(creates).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 2);
    let servers = (0..26).map(|i| {
        let root = root.clone();
        tokio::spawn(async move {
            root.call(
                "UploadServerCertificate",
                &[
                    ("ServerCertificateName", &format!("c{i}")),
                    ("CertificateBody", EC_CERT),
                    ("PrivateKey", EC_PKCS8),
                ],
            )
            .await
        })
    });
    let replies = futures_join(servers).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 20);
    app.stop().await;
}

async fn futures_join(handles: impl Iterator<Item = tokio::task::JoinHandle<Reply>>) -> Vec<Reply> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

/// A password credential's user name is what CodeCommit and Keyspaces log
/// in with: two credentials must never share one. The API computed it from
/// the state it read and the log accepted whatever it computed, so two
/// concurrent requests (the same user twice, or `jane`'s second and
/// `jane+1`'s first) were given the same name.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attack_concurrent_requests_share_a_service_user_name() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "jane")]).await;
    root.ok("CreateUser", &[("UserName", "jane+1")]).await;
    let create = |user: &'static str| {
        let root = root.clone();
        tokio::spawn(async move {
            root.call(
                "CreateServiceSpecificCredential",
                &[
                    ("UserName", user),
                    ("ServiceName", "codecommit.amazonaws.com"),
                ],
            )
            .await
        })
    };
    for round in 0..8 {
        let (a, b) = if round % 2 == 0 {
            (create("jane"), create("jane"))
        } else {
            root.ok(
                "CreateServiceSpecificCredential",
                &[
                    ("UserName", "jane"),
                    ("ServiceName", "codecommit.amazonaws.com"),
                ],
            )
            .await;
            (create("jane"), create("jane+1"))
        };
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let names: Vec<String> = [&a, &b]
            .iter()
            .filter(|r| r.status == 200)
            .filter_map(|r| r.tag("ServiceUserName"))
            .collect();
        for r in [&a, &b] {
            assert!(
                r.status == 200 || r.status == 409 || r.status == 400,
                "{}",
                r.body
            );
        }
        // Every credential of the account has a user name of its own.
        let all = root
            .ok("ListServiceSpecificCredentials", &[("AllUsers", "true")])
            .await;
        let mut listed = all.all("ServiceUserName");
        let count = listed.len();
        listed.sort();
        listed.dedup();
        assert_eq!(listed.len(), count, "round {round}: {names:?} {}", all.body);
        // Start again.
        for (user, id) in all
            .all("UserName")
            .into_iter()
            .zip(all.all("ServiceSpecificCredentialId"))
        {
            root.ok(
                "DeleteServiceSpecificCredential",
                &[("UserName", &user), ("ServiceSpecificCredentialId", &id)],
            )
            .await;
        }
    }
    app.stop().await;
}
