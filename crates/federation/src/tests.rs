//! Verification end to end, against keys a [`TestIssuer`] generated.

use std::sync::OnceLock;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::testing::{assemble, replace_payload, TestIssuer};
use crate::*;

const ISSUER: &str = "https://oidc.example.com";
const AUDIENCE: &str = "sts.amazonaws.com";

/// One issuer for the whole test binary: RSA key generation is the slow part.
fn issuer() -> &'static TestIssuer {
    static ISSUER_KEYS: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER_KEYS.get_or_init(|| TestIssuer::new(ISSUER))
}

/// A second provider claiming the same issuer URL, with keys of its own.
fn impostor() -> &'static TestIssuer {
    static IMPOSTOR_KEYS: OnceLock<TestIssuer> = OnceLock::new();
    IMPOSTOR_KEYS.get_or_init(|| TestIssuer::new(ISSUER))
}

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| KeySet::parse(issuer().jwks_json().as_bytes()).unwrap())
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).unwrap()
}

fn claims() -> Value {
    issuer().claims("repo:octo/app:ref:refs/heads/main", AUDIENCE, now())
}

fn check(token: &str) -> Result<VerifiedToken, TokenError> {
    verify(token, keys(), ISSUER, now(), Duration::ZERO)
}

fn check_at(
    token: &str,
    at: DateTime<Utc>,
    leeway_seconds: u64,
) -> Result<VerifiedToken, TokenError> {
    verify(
        token,
        keys(),
        ISSUER,
        at,
        Duration::from_secs(leeway_seconds),
    )
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

const BOTH: [Alg; 2] = [Alg::Rs256, Alg::Es256];

#[test]
fn the_issuer_publishes_both_keys() {
    assert_eq!(keys().len(), 2);
    for alg in BOTH {
        assert!(keys().contains_key_id(issuer().key_id(alg)));
    }
    let discovery = Discovery::parse(
        issuer()
            .discovery_json("https://oidc.example.com/jwks")
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(discovery.issuer(), ISSUER);
    assert_eq!(discovery.jwks_uri(), "https://oidc.example.com/jwks");
}

#[test]
fn rs256_and_es256_tokens_verify() {
    for alg in BOTH {
        let token = issuer().sign(
            with(
                with(claims(), "azp", json!("client-1")),
                "custom",
                json!({"team": "a"}),
            ),
            alg,
        );
        let verified = check(&token).unwrap();
        assert_eq!(verified.algorithm(), alg);
        assert_eq!(verified.key_id(), Some(issuer().key_id(alg)));
        assert_eq!(verified.issuer(), ISSUER);
        assert_eq!(verified.subject(), "repo:octo/app:ref:refs/heads/main");
        assert_eq!(verified.audiences(), [AUDIENCE]);
        assert!(verified.has_audience(AUDIENCE));
        assert!(!verified.has_audience("sts.amazonaws.co"));
        assert_eq!(verified.authorized_party(), Some("client-1"));
        assert!(verified.amr().is_empty());
        assert_eq!(verified.issued_at(), Some(now()));
        assert_eq!(verified.not_before(), None);
        assert_eq!(verified.expires_at(), now() + TimeDelta::hours(1));
        assert_eq!(verified.claims()["custom"], json!({"team": "a"}));
        assert_eq!(verified.into_claims()["iss"], json!(ISSUER));
    }
}

#[test]
fn tokens_without_kid_are_tried_against_every_key_of_their_type() {
    for alg in BOTH {
        let header = json!({"alg": alg.as_str(), "typ": "JWT"});
        let token = issuer().sign_with_header(header.clone(), claims(), alg);
        assert_eq!(check(&token).unwrap().key_id(), None);
        let forged = impostor().sign_with_header(header, claims(), alg);
        assert_eq!(check(&forged).unwrap_err(), TokenError::BadSignature);
    }
}

#[test]
fn peek_reads_the_header_and_issuer_without_verifying() {
    let token = issuer().sign(claims(), Alg::Es256);
    let peeked = UnverifiedToken::peek(&token).unwrap();
    assert_eq!(peeked.issuer(), Some(ISSUER));
    assert_eq!(peeked.key_id(), Some(issuer().key_id(Alg::Es256)));
    assert_eq!(peeked.algorithm(), "ES256");

    let none = assemble(
        &json!({"alg": "none"}),
        &with(claims(), "iss", json!(7)),
        b"",
    );
    let peeked = UnverifiedToken::peek(&none).unwrap();
    assert_eq!(peeked.algorithm(), "none");
    assert_eq!(peeked.issuer(), None);
    assert_eq!(peeked.key_id(), None);
}

#[test]
fn tampered_payloads_are_refused() {
    for alg in BOTH {
        let token = issuer().sign(claims(), alg);
        let tampered = replace_payload(&token, &with(claims(), "sub", json!("admin")));
        assert_eq!(check(&tampered).unwrap_err(), TokenError::BadSignature);
    }
}

#[test]
fn tampered_signatures_are_refused() {
    for alg in BOTH {
        let token = issuer().sign(claims(), alg);
        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 0x01;
        let flipped = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(check(&flipped).unwrap_err(), TokenError::BadSignature);
        bytes.pop();
        let short = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(check(&short).unwrap_err(), TokenError::BadSignature);
        let empty = format!("{signing_input}.");
        assert_eq!(check(&empty).unwrap_err(), TokenError::BadSignature);
    }
}

#[test]
fn tokens_signed_by_another_key_are_refused() {
    for alg in BOTH {
        // Another provider's key, naming this provider's kid.
        let header = json!({"alg": alg.as_str(), "kid": issuer().key_id(alg)});
        let forged = impostor().sign_with_header(header, claims(), alg);
        assert_eq!(check(&forged).unwrap_err(), TokenError::BadSignature);
        // Another provider's key under its own kid.
        let foreign = impostor().sign(claims(), alg);
        assert_eq!(check(&foreign).unwrap_err(), TokenError::UnknownKey);
    }
}

#[test]
fn alg_none_is_refused() {
    for alg in ["none", "None", "NONE"] {
        let token = assemble(&json!({"alg": alg, "typ": "JWT"}), &claims(), b"");
        assert_eq!(
            check(&token).unwrap_err(),
            TokenError::UnsupportedAlgorithm(alg.to_owned())
        );
    }
    // A none token carrying a genuine signature of the same input.
    let genuine = issuer().sign_with_header(json!({"alg": "none"}), claims(), Alg::Rs256);
    assert_eq!(
        check(&genuine).unwrap_err(),
        TokenError::UnsupportedAlgorithm("none".to_owned())
    );
}

#[test]
fn hs256_keyed_with_the_public_key_is_refused() {
    let forged = issuer().forge_hs256(claims());
    assert_eq!(
        check(&forged).unwrap_err(),
        TokenError::UnsupportedAlgorithm("HS256".to_owned())
    );
}

#[test]
fn other_algorithms_are_refused() {
    for alg in [
        "PS256", "RS384", "RS512", "ES384", "ES512", "EdDSA", "HS384", "rs256", "",
    ] {
        let header = json!({"alg": alg, "kid": issuer().key_id(Alg::Rs256)});
        let token = issuer().sign_with_header(header, claims(), Alg::Rs256);
        assert_eq!(
            check(&token).unwrap_err(),
            TokenError::UnsupportedAlgorithm(alg.to_owned()),
            "{alg}"
        );
    }
}

#[test]
fn a_key_only_verifies_the_algorithm_of_its_type() {
    // ES256 naming the RSA key's kid, and RS256 naming the EC key's kid.
    let header = json!({"alg": "ES256", "kid": issuer().key_id(Alg::Rs256)});
    let token = issuer().sign_with_header(header, claims(), Alg::Es256);
    assert_eq!(check(&token).unwrap_err(), TokenError::UnknownKey);
    let header = json!({"alg": "RS256", "kid": issuer().key_id(Alg::Es256)});
    let token = issuer().sign_with_header(header, claims(), Alg::Rs256);
    assert_eq!(check(&token).unwrap_err(), TokenError::UnknownKey);

    // A key set with only the EC key has nothing for RS256.
    let ec_only = json!({"keys": [issuer().jwk(Alg::Es256)]}).to_string();
    let ec_only = KeySet::parse(ec_only.as_bytes()).unwrap();
    let token = issuer().sign(claims(), Alg::Rs256);
    let error = verify(&token, &ec_only, ISSUER, now(), Duration::ZERO).unwrap_err();
    assert_eq!(error, TokenError::UnknownKey);
}

#[test]
fn unknown_kids_are_refused() {
    let header = json!({"alg": "RS256", "kid": "rotated-away"});
    let token = issuer().sign_with_header(header, claims(), Alg::Rs256);
    assert_eq!(check(&token).unwrap_err(), TokenError::UnknownKey);
    assert!(!keys().contains_key_id("rotated-away"));
}

#[test]
fn keys_published_for_encryption_are_not_used() {
    let mut jwk = issuer().jwk(Alg::Rs256).clone();
    jwk["use"] = json!("enc");
    let set = KeySet::parse(json!({"keys": [jwk]}).to_string().as_bytes()).unwrap();
    assert!(set.is_empty());
    let token = issuer().sign(claims(), Alg::Rs256);
    let error = verify(&token, &set, ISSUER, now(), Duration::ZERO).unwrap_err();
    assert_eq!(error, TokenError::UnknownKey);
}

#[test]
fn the_issuer_must_match_exactly() {
    for iss in [
        "https://oidc.example.com/",
        "https://OIDC.example.com",
        "oidc.example.com",
    ] {
        let token = issuer().sign(with(claims(), "iss", json!(iss)), Alg::Es256);
        assert_eq!(check(&token).unwrap_err(), TokenError::WrongIssuer, "{iss}");
    }
    let token = issuer().sign(without(claims(), "iss"), Alg::Es256);
    assert_eq!(check(&token).unwrap_err(), TokenError::MissingClaim("iss"));
    let token = issuer().sign(with(claims(), "iss", json!([ISSUER])), Alg::Es256);
    assert_eq!(check(&token).unwrap_err(), TokenError::InvalidClaim("iss"));
}

#[test]
fn expired_tokens_are_refused() {
    let token = issuer().sign(claims(), Alg::Rs256);
    let exp = now() + TimeDelta::hours(1);
    assert!(check_at(&token, exp - TimeDelta::seconds(1), 0).is_ok());
    assert_eq!(check_at(&token, exp, 0).unwrap_err(), TokenError::Expired);
    assert_eq!(
        check_at(&token, exp + TimeDelta::days(400), 0).unwrap_err(),
        TokenError::Expired
    );
}

#[test]
fn tokens_before_nbf_are_refused() {
    let nbf = now() + TimeDelta::seconds(10);
    let token = issuer().sign(with(claims(), "nbf", json!(nbf.timestamp())), Alg::Es256);
    assert_eq!(check(&token).unwrap_err(), TokenError::NotYetValid);
    let verified = check_at(&token, nbf, 0).unwrap();
    assert_eq!(verified.not_before(), Some(nbf));
}

#[test]
fn leeway_widens_both_ends() {
    let exp = now() + TimeDelta::hours(1);
    let token = issuer().sign(claims(), Alg::Rs256);
    assert!(check_at(&token, exp + TimeDelta::seconds(59), 60).is_ok());
    assert_eq!(
        check_at(&token, exp + TimeDelta::seconds(60), 60).unwrap_err(),
        TokenError::Expired
    );

    let nbf = now() + TimeDelta::seconds(10);
    let token = issuer().sign(with(claims(), "nbf", json!(nbf.timestamp())), Alg::Rs256);
    assert!(check_at(&token, now(), 10).is_ok());
    assert_eq!(
        check_at(&token, now(), 9).unwrap_err(),
        TokenError::NotYetValid
    );

    // An absurd leeway saturates instead of overflowing.
    let much_later = exp + TimeDelta::days(400);
    assert!(verify(&token, keys(), ISSUER, much_later, Duration::MAX).is_ok());
    let end_of_time = DateTime::<Utc>::MAX_UTC;
    let error = verify(&token, keys(), ISSUER, end_of_time, Duration::MAX).unwrap_err();
    assert_eq!(error, TokenError::Expired);
}

#[test]
fn numeric_dates_may_be_fractional_but_must_be_numbers() {
    let exp = now().timestamp() as f64 + 0.5;
    let token = issuer().sign(with(claims(), "exp", json!(exp)), Alg::Es256);
    let verified = check(&token).unwrap();
    assert_eq!(verified.expires_at(), now() + TimeDelta::milliseconds(500));

    for (name, value) in [
        ("exp", json!("1750003600")),
        ("exp", json!(1e300)),
        ("exp", json!(u64::MAX)),
        ("nbf", json!(null)),
        ("iat", json!("yesterday")),
        ("iat", json!({"seconds": 1})),
    ] {
        let token = issuer().sign(with(claims(), name, value.clone()), Alg::Es256);
        assert_eq!(
            check(&token).unwrap_err(),
            TokenError::InvalidClaim(name),
            "{value}"
        );
    }
}

#[test]
fn aud_may_be_a_string_or_an_array() {
    let token = issuer().sign(with(claims(), "aud", json!("one")), Alg::Rs256);
    assert_eq!(check(&token).unwrap().audiences(), ["one"]);

    let token = issuer().sign(with(claims(), "aud", json!(["one", AUDIENCE])), Alg::Rs256);
    let verified = check(&token).unwrap();
    assert_eq!(verified.audiences(), ["one", AUDIENCE]);
    assert!(verified.has_audience(AUDIENCE));

    for aud in [json!([]), json!(["one", 2]), json!(7), json!(null)] {
        let token = issuer().sign(with(claims(), "aud", aud.clone()), Alg::Rs256);
        assert_eq!(
            check(&token).unwrap_err(),
            TokenError::InvalidClaim("aud"),
            "{aud}"
        );
    }
}

#[test]
fn amr_and_azp_are_read_when_present() {
    let token = issuer().sign(with(claims(), "amr", json!("pwd")), Alg::Es256);
    assert_eq!(check(&token).unwrap().amr(), ["pwd"]);
    let token = issuer().sign(with(claims(), "amr", json!(["pwd", "mfa"])), Alg::Es256);
    assert_eq!(check(&token).unwrap().amr(), ["pwd", "mfa"]);
    let token = issuer().sign(with(claims(), "amr", json!([1])), Alg::Es256);
    assert_eq!(check(&token).unwrap_err(), TokenError::InvalidClaim("amr"));
    let token = issuer().sign(with(claims(), "azp", json!(["a"])), Alg::Es256);
    assert_eq!(check(&token).unwrap_err(), TokenError::InvalidClaim("azp"));
}

#[test]
fn required_claims_must_be_present() {
    for name in ["sub", "aud", "exp"] {
        let token = issuer().sign(without(claims(), name), Alg::Es256);
        assert_eq!(check(&token).unwrap_err(), TokenError::MissingClaim(name));
    }
    for sub in [json!(""), json!(12), json!(null)] {
        let token = issuer().sign(with(claims(), "sub", sub.clone()), Alg::Es256);
        assert_eq!(
            check(&token).unwrap_err(),
            TokenError::InvalidClaim("sub"),
            "{sub}"
        );
    }
    // iat is optional.
    let token = issuer().sign(without(claims(), "iat"), Alg::Es256);
    assert_eq!(check(&token).unwrap().issued_at(), None);
}

#[test]
fn oversized_tokens_are_refused() {
    // Grow a claim until the token sits right at the limit, then past it.
    let sized = |padding: usize| {
        issuer().sign(
            with(claims(), "pad", json!("x".repeat(padding))),
            Alg::Es256,
        )
    };
    // Binary search for the largest padding that fits: the length grows
    // with the padding.
    let (mut fits, mut too_big) = (0, MAX_TOKEN_LEN);
    while too_big - fits > 1 {
        let middle = (fits + too_big) / 2;
        if sized(middle).len() <= MAX_TOKEN_LEN {
            fits = middle;
        } else {
            too_big = middle;
        }
    }
    let padding = fits;
    let largest = sized(padding);
    assert!(largest.len() > MAX_TOKEN_LEN - 4, "{}", largest.len());
    assert!(check(&largest).is_ok());
    let too_large = sized(padding + 1);
    assert!(too_large.len() > MAX_TOKEN_LEN);
    assert_eq!(check(&too_large).unwrap_err(), TokenError::TooLarge);
    assert_eq!(
        UnverifiedToken::peek(&too_large).unwrap_err(),
        TokenError::TooLarge
    );
}

#[test]
fn malformed_tokens_are_refused() {
    let token = issuer().sign(claims(), Alg::Es256);
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let b64 = |json: &str| URL_SAFE_NO_PAD.encode(json);
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40));
    for bad in [
        String::new(),
        "..".to_owned(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}."),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}=.{payload}.{signature}"),
        format!("{header}.{payload}.{signature}="),
        format!("{header}.{payload}==.{signature}"),
        format!("{header}.{payload}.{signature}!"),
        format!(" {token}"),
        format!("{token}\n"),
        format!(
            "{header}.{}.{signature}",
            payload.replace(|c: char| c.is_ascii_alphabetic(), "+")
        ),
        format!("{}.{payload}.{signature}", b64("not json")),
        format!("{}.{payload}.{signature}", b64(r#"["ES256"]"#)),
        format!("{}.{payload}.{signature}", b64(r#"{"alg":"ES256""#)),
        format!("{header}.{}.{signature}", b64("[1,2,3]")),
        format!("{header}.{}.{signature}", b64("\"claims\"")),
        format!("{header}.{}.{signature}", b64(&deep)),
        format!("{}.{payload}.{signature}", b64(r#"{"typ":"JWT"}"#)),
        format!("{}.{payload}.{signature}", b64(r#"{"alg":256}"#)),
        format!(
            "{}.{payload}.{signature}",
            b64(r#"{"alg":"ES256","kid":1}"#)
        ),
        format!(
            "{}.{payload}.{signature}",
            b64(r#"{"alg":"ES256","crit":["b64"],"b64":false}"#)
        ),
    ] {
        assert!(
            matches!(check(&bad), Err(TokenError::Malformed(_))),
            "{bad:?}: {:?}",
            check(&bad)
        );
        assert!(
            matches!(UnverifiedToken::peek(&bad), Err(TokenError::Malformed(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn error_messages_do_not_echo_the_token() {
    let alg = "ES256\n<script>alert(1)</script>";
    let token = issuer().sign_with_header(json!({"alg": alg}), claims(), Alg::Es256);
    let error = check(&token).unwrap_err();
    assert_eq!(
        error,
        TokenError::UnsupportedAlgorithm("ES256??script?al".to_owned())
    );
    for error in [
        error,
        TokenError::Malformed("header is not a base64url JSON object"),
        TokenError::TooLarge,
        TokenError::UnknownKey,
        TokenError::BadSignature,
        TokenError::WrongIssuer,
        TokenError::Expired,
        TokenError::NotYetValid,
        TokenError::MissingClaim("sub"),
        TokenError::InvalidClaim("aud"),
    ] {
        let message = error.to_string();
        assert!(message.len() < 80, "{message}");
        assert!(
            !message.contains(ISSUER) && !message.contains('.'),
            "{message}"
        );
    }
}

/// Arbitrary three-part tokens of base64url: enough structure to get past the
/// split and exercise the decoders and claim checks.
fn dotted() -> impl Strategy<Value = String> {
    let part =
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes));
    let json_part = prop_oneof![
        Just(r#"{"alg":"RS256"}"#.to_owned()),
        Just(r#"{"alg":"ES256","kid":"k"}"#.to_owned()),
        "\\{\"[a-z]{1,5}\":(\"[a-zA-Z0-9]{0,8}\"|[0-9]{1,12}|\\[\\]|null)\\}",
    ]
    .prop_map(|json| URL_SAFE_NO_PAD.encode(json));
    (
        prop_oneof![json_part.clone(), part.clone()],
        prop_oneof![json_part, part.clone()],
        part,
    )
        .prop_map(|(h, p, s)| format!("{h}.{p}.{s}"))
}

proptest! {
    #[test]
    fn peek_and_verify_never_panic_on_arbitrary_strings(token in any::<String>()) {
        let _ = UnverifiedToken::peek(&token);
        let _ = verify(&token, keys(), ISSUER, now(), Duration::from_secs(60));
    }

    #[test]
    fn peek_and_verify_never_panic_on_arbitrary_dotted_tokens(token in dotted()) {
        let _ = UnverifiedToken::peek(&token);
        prop_assert!(verify(&token, keys(), ISSUER, now(), Duration::from_secs(60)).is_err());
    }

    #[test]
    fn documents_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = KeySet::parse(&bytes);
        let _ = Discovery::parse(&bytes);
    }
}
