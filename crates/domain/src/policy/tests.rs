//! Parser and validator tests: each error says where and what.

use super::*;

fn err(json: &str) -> String {
    PolicyDocument::parse(json).unwrap_err().to_string()
}

fn stmt(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#)
}

const OK: &str = r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#;

#[test]
fn error_messages_name_the_location() {
    let cases: &[(&str, &str)] = &[
        (
            &format!(
                r#"{{"Statement":[{OK},{OK},{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"StringEqual":{{"a":"b"}}}}}}]}}"#
            ),
            r#"Statement[2].Condition: unknown operator "StringEqual""#,
        ),
        (r#"{"Statement":[],"Foo":1}"#, r#"unknown element "Foo""#),
        (
            r#"{"Version":"2012-10-17"}"#,
            r#"missing required element "Statement""#,
        ),
        (
            r#"{"Version":"2012","Statement":[]}"#,
            r#"Version: unsupported version "2012"; use "2012-10-17""#,
        ),
        (
            &stmt(r#"{"Effect":"Allow","Resource":"*"}"#),
            r#"Statement[0]: missing required element "Action" or "NotAction""#,
        ),
        (
            &stmt(r#"{"Effect":"Allow","Action":"s3:*","NotAction":"s3:*","Resource":"*"}"#),
            r#"Statement[0]: only one of "Action" and "NotAction" may be given"#,
        ),
        (
            &stmt(r#"{"Effect":"Permit","Action":"s3:*","Resource":"*"}"#),
            r#"Statement[0].Effect: must be "Allow" or "Deny", not "Permit""#,
        ),
        (
            &stmt(r#"{"Effect":"Allow","Action":["s3:*","bad"],"Resource":"*"}"#),
            r#"Statement[0].Action[1]: action "bad" must be "*" or "service:action""#,
        ),
        (
            &stmt(r#"{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}"#),
            r#"Statement[0].Resource: resource "bucket" must be "*" or an ARN"#,
        ),
        (
            &stmt(
                r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":["1","x"]}}}"#,
            ),
            r#"Statement[0].Condition.NumericLessThan.s3:max-keys[1]: invalid number "x" for operator NumericLessThan"#,
        ),
        (
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            r#"Statement[1].Sid: duplicate Sid "A""#,
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}"#,
            r#"Statement[0]: duplicate element "Effect""#,
        ),
        (
            &stmt(r#"{"Effect":"Allow","Principal":{"IAM":"x"},"Action":"*","Resource":"*"}"#),
            r#"Statement[0].Principal: unknown principal type "IAM""#,
        ),
        ("[]", "policy must be a JSON object, not an array"),
    ];
    for (json, want) in cases {
        assert_eq!(&err(json), want, "for {json}");
    }
    let e = PolicyDocument::parse("{").unwrap_err();
    assert!(e.message().starts_with("invalid JSON"), "{e}");
    assert_eq!(e.code(), "MalformedPolicyDocument");
}

#[test]
fn validate_for_kinds() {
    let with_principal =
        stmt(r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}"#);
    let without = stmt(OK);
    let trust = stmt(
        r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
    );
    for kind in [
        PolicyKind::Identity,
        PolicyKind::PermissionsBoundary,
        PolicyKind::Session,
    ] {
        assert!(PolicyDocument::parse_for(&without, kind).is_ok());
        let e = PolicyDocument::parse_for(&with_principal, kind).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Statement[0]: Principal is not allowed in"),
            "{e}"
        );
    }
    assert!(PolicyDocument::parse_for(&with_principal, PolicyKind::Resource).is_ok());
    assert_eq!(
        PolicyDocument::parse_for(&without, PolicyKind::Resource)
            .unwrap_err()
            .to_string(),
        r#"Statement[0]: missing required element "Principal" in a resource policy"#
    );
    assert!(PolicyDocument::parse_for(&trust, PolicyKind::Trust).is_ok());
    assert!(PolicyDocument::parse_for(&with_principal, PolicyKind::Trust).is_err());
    assert!(PolicyDocument::parse_for(&without, PolicyKind::ControlPolicy).is_ok());
    assert!(PolicyDocument::parse_for(&with_principal, PolicyKind::ControlPolicy).is_ok());
}

#[test]
fn serializes_back_to_equivalent_json() {
    let text = r#"{
      "Version": "2012-10-17", "Id": "x",
      "Statement": [
        {"Sid": "A", "Effect": "Deny", "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/a"]},
         "NotAction": "iam:*", "NotResource": ["arn:aws:s3:::b/*"],
         "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]},
                       "NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": false}}},
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": "*"}
      ]}"#;
    let doc = PolicyDocument::parse(text).unwrap();
    let json = serde_json::to_value(&doc).unwrap();
    let original: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(json, original);
    assert_eq!(
        PolicyDocument::parse(&serde_json::to_string(&doc).unwrap()).unwrap(),
        doc
    );
    // A single statement object stays an object.
    let single = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let v = serde_json::to_value(PolicyDocument::parse(single).unwrap()).unwrap();
    assert!(v["Statement"].is_object());
}

#[test]
fn variables_only_in_2012() {
    let d = PolicyDocument::parse(&stmt(OK)).unwrap();
    assert!(d.variables_enabled());
    let d = PolicyDocument::parse(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
    )
    .unwrap();
    assert!(!d.variables_enabled());
}

/// Where an editor puts the cursor for each kind of error.
#[test]
fn errors_locate_themselves_in_the_text() {
    let at = |text: &str| {
        PolicyDocument::parse_for(text, PolicyKind::Identity)
            .unwrap_err()
            .locate(text)
            .map(|p| (p.line, p.column))
    };
    // A syntax error: where the JSON parser stopped, columns in characters.
    assert_eq!(
        at("{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"é\" \"Statement\": []\n}"),
        Some((3, 13))
    );
    // Input that ends early stays on its last line.
    assert_eq!(at("{\n  \"Statement\": ["), Some((2, 16)));
    // An error inside the second statement: that statement's `{`.
    let text = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[\n  {OK},\n    {{\"Effect\":\"Allow\",\"Action\":\"s3\",\"Resource\":\"*\"}}\n]}}"
    );
    assert_eq!(at(&text), Some((3, 5)));
    // A single statement object: the object itself.
    let text = "{\"Version\":\"2012-10-17\",\n \"Statement\": {\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}";
    assert_eq!(at(text), Some((2, 15)));
    // A document-level error has no place.
    assert_eq!(at("[]"), None);
    assert_eq!(
        at("{\"Version\":\"2012-10-17\",\"Statement\":[],\"Other\":1}"),
        None
    );
}
