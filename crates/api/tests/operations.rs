//! The operation table as a whole, through the HTTP server: every operation
//! of AWS's IAM and STS models answers (served, or `NotImplemented`, never a
//! server failure); each served operation is in the table once and named
//! nowhere else in hand-written code; input is validated from the model with
//! AWS's wording; and the JSON encoding serves the same operations with the
//! same authentication and authorization.

use iam_api::edge::registry::IMPLEMENTED;
use iam_event_store::testing::TestDatabase;
use iam_wire::Service;
use serde_json::{json, Value};

mod support;
use support::*;

fn body(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

#[test]
fn each_served_operation_is_in_the_table_once_and_in_the_model() {
    let mut seen = std::collections::HashSet::new();
    for spec in IMPLEMENTED {
        assert!(
            seen.insert((spec.service, spec.name)),
            "{} is in the table twice",
            spec.name
        );
        assert!(spec.service.operation(spec.name).is_some(), "{}", spec.name);
    }
    let aws = IMPLEMENTED
        .iter()
        .filter(|s| s.service != Service::Iamd)
        .count();
    assert_eq!(
        aws, 173,
        "130 IAM operations and 8 of STS, 8 of them AWS Organizations features answered \
         as for an account in no organization; docs/coverage.md lists them (regenerate it \
         with IAMD_UPDATE_COVERAGE=1 when this changes)"
    );
    // iamd's own API serves every operation of its model.
    for op in Service::Iamd.operations() {
        assert!(
            IMPLEMENTED
                .iter()
                .any(|s| s.service == Service::Iamd && s.name == op.name),
            "{}",
            op.name
        );
    }
}

/// The table is the one hand-written place an operation is named: no
/// source file of the server spells a served operation's name as a string.
#[test]
fn no_hand_written_source_spells_an_operation_name() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root];
    let mut offenders = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests may name operations: they are data, not dispatch.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for spec in IMPLEMENTED {
            if code.contains(&format!("\"{}\"", spec.name)) {
                offenders.push(format!("{}: \"{}\"", path.display(), spec.name));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[tokio::test]
async fn every_operation_of_the_models_answers_and_none_fails() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mut served = 0;
    let mut not_implemented = 0;
    for service in [Service::Iam, Service::Sts] {
        for op in service.operations() {
            let form = form(&[("Action", op.name), ("Version", service.version())]);
            let reply = send_raw(app.addr, root.signed(&form, service.name(), &[])).await;
            assert!(
                reply.status < 500 || reply.status == 501,
                "{}: {}",
                op.name,
                reply.body
            );
            let implemented = IMPLEMENTED
                .iter()
                .any(|s| s.service == service && s.name == op.name);
            if implemented {
                served += 1;
                assert_ne!(
                    reply.error_code().as_deref(),
                    Some("NotImplemented"),
                    "{}",
                    op.name
                );
            } else {
                not_implemented += 1;
                assert_eq!(reply.status, 501, "{}: {}", op.name, reply.body);
                assert_eq!(reply.error_code().as_deref(), Some("NotImplemented"));
                assert!(reply.body.contains(op.name), "{}", reply.body);
            }
        }
    }
    assert_eq!(
        served,
        IMPLEMENTED
            .iter()
            .filter(|s| s.service != Service::Iamd)
            .count()
    );
    assert_eq!(served + not_implemented, 181 + 12);
    // A name in neither model is AWS's InvalidAction.
    let reply = root.call("CreateUsers", &[]).await;
    assert_eq!(reply.error_code().as_deref(), Some("InvalidAction"));
    app.stop().await;
}

#[tokio::test]
async fn input_is_validated_from_the_model_in_aws_words() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();

    let reply = root.call("CreateUser", &[("UserName", "a b")]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.tag("Message").as_deref(),
        Some(
            "1 validation error detected: Value &apos;a b&apos; at &apos;userName&apos; failed to \
             satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )
    );
    // Every violation, in one answer.
    let reply = root
        .call(
            "ListUsers",
            &[("MaxItems", "0"), ("PathPrefix", "no-slash")],
        )
        .await;
    let message = reply.tag("Message").unwrap();
    assert!(
        message.starts_with("2 validation errors detected: "),
        "{message}"
    );
    assert!(message.contains("Member must have value greater than or equal to 1"));
    assert!(message.contains("&apos;pathPrefix&apos;"));
    // A missing required member, an enum outside its set, a nested member.
    let reply = root.call("AttachUserPolicy", &[("UserName", "u")]).await;
    assert!(reply.body.contains(
        "Value null at &apos;policyArn&apos; failed to satisfy constraint: Member must not be null"
    ));
    let reply = root
        .call(
            "UpdateAccessKey",
            &[("AccessKeyId", "AKIAEXAMPLEEXAMPLE12"), ("Status", "On")],
        )
        .await;
    assert!(reply
        .body
        .contains("Member must satisfy enum value set: [Active, Inactive, Expired]"));
    let reply = root
        .call(
            "CreateUser",
            &[
                ("UserName", "u"),
                ("Tags.member.1.Key", ""),
                ("Tags.member.1.Value", "v"),
            ],
        )
        .await;
    assert!(
        reply.body.contains("&apos;tags.1.member.key&apos;"),
        "{}",
        reply.body
    );
    app.stop().await;
}

/// AWS's output shapes, as SDKs parse them: an operation with an (empty)
/// output writes its result element; lists of users and roles leave out
/// what AWS documents they leave out.
#[tokio::test]
async fn outputs_follow_the_model() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    root.ok(
        "CreatePolicy",
        &[
            ("PolicyName", "bound"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
        ],
    )
    .await;
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/bound");
    for (create, name_param, name) in [
        ("CreateUser", "UserName", "tagged"),
        ("CreateRole", "RoleName", "tagged-role"),
    ] {
        let mut params = vec![
            (name_param, name),
            ("PermissionsBoundary", boundary.as_str()),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ];
        if create == "CreateRole" {
            params.push(("AssumeRolePolicyDocument", trust));
        }
        root.ok(create, &params).await;
    }
    let users = root.ok("ListUsers", &[]).await;
    assert!(users.body.contains("<UserName>tagged</UserName>"));
    assert!(!users.body.contains("<Tags>"), "{}", users.body);
    assert!(
        !users.body.contains("<PermissionsBoundary>"),
        "{}",
        users.body
    );
    let user = root.ok("GetUser", &[("UserName", "tagged")]).await;
    assert!(user.body.contains("<Tags>") && user.body.contains("<PermissionsBoundary>"));
    let roles = root.ok("ListRoles", &[]).await;
    assert!(roles.body.contains("<RoleName>tagged-role</RoleName>"));
    assert!(!roles.body.contains("<Tags>"), "{}", roles.body);
    assert!(
        !roles.body.contains("<PermissionsBoundary>"),
        "{}",
        roles.body
    );
    let role = root.ok("GetRole", &[("RoleName", "tagged-role")]).await;
    assert!(role.body.contains("<Tags>") && role.body.contains("<PermissionsBoundary>"));

    let update = root
        .ok(
            "UpdateRole",
            &[("RoleName", "tagged-role"), ("Description", "d")],
        )
        .await;
    assert!(
        update
            .body
            .contains("<UpdateRoleResult></UpdateRoleResult>"),
        "{}",
        update.body
    );
    let delete = root
        .ok("DeleteUserPermissionsBoundary", &[("UserName", "tagged")])
        .await;
    assert!(!delete.body.contains("Result"), "{}", delete.body);
    app.stop().await;
}

#[tokio::test]
async fn the_json_encoding_serves_the_same_operations() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();

    let created = root
        .json(
            "iam",
            "CreateUser",
            &json!({"UserName": "jay", "Path": "/eng/", "Tags": [{"Key": "team", "Value": "blue"}]}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.header("content-type"), Some("application/json"));
    let user = &body(&created)["User"];
    assert_eq!(user["UserName"], "jay");
    assert_eq!(user["Path"], "/eng/");
    assert_eq!(user["Arn"], format!("arn:aws:iam::{ACCOUNT}:user/eng/jay"));
    assert_eq!(user["Tags"], json!([{"Key": "team", "Value": "blue"}]));
    assert!(user["CreateDate"].as_str().unwrap().ends_with('Z'));
    assert!(created.header(iam_api::app::POSITION_HEADER).is_some());

    // What JSON wrote, Query reads, and the other way round.
    let got = root.ok("GetUser", &[("UserName", "jay")]).await;
    assert_eq!(got.tag("Path").as_deref(), Some("/eng/"));
    let listed = root
        .json("iam", "ListUsers", &json!({"MaxItems": 10}))
        .await;
    let listed = body(&listed);
    assert_eq!(listed["Users"][0]["UserName"], "jay");
    assert_eq!(listed["IsTruncated"], false);

    // An operation without input takes an empty body; STS is served too.
    let summary = body(&root.json("iam", "GetAccountSummary", &json!({})).await);
    assert_eq!(summary["SummaryMap"]["Users"], 1);
    let me = body(&root.json("sts", "GetCallerIdentity", &json!({})).await);
    assert_eq!(me["Account"], ACCOUNT);

    // Errors: the same codes and statuses, as JSON.
    let missing = root
        .json("iam", "GetUser", &json!({"UserName": "nobody"}))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(body(&missing)["error"]["code"], "NoSuchEntity");
    let invalid = root
        .json("iam", "CreateUser", &json!({"UserName": 7}))
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(body(&invalid)["error"]["code"], "ValidationError");
    let unknown = root.json("iam", "CreateUsers", &json!({})).await;
    assert_eq!(body(&unknown)["error"]["code"], "InvalidAction");
    let not_served = root.json("iam", "ListDelegationRequests", &json!({})).await;
    assert_eq!(not_served.status, 501);
    let request = root.signed_post(
        "/iam/CreateUser",
        "application/json",
        "{not json",
        "iam",
        &[],
    );
    let garbage = send_raw(app.addr, request).await;
    assert_eq!(garbage.status, 400);
    assert_eq!(body(&garbage)["error"]["code"], "SerializationException");

    // The same authentication: a signature scoped to STS does not sign IAM,
    // and an unsigned request is refused before anything is read.
    let request = root.signed_post("/iam/ListUsers", "application/json", "{}", "sts", &[]);
    let wrong_scope = send_raw(app.addr, request).await;
    assert_eq!(wrong_scope.status, 403, "{}", wrong_scope.body);
    let unsigned = send_raw(
        app.addr,
        format!(
            "POST /iam/ListUsers HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{{}}",
            app.addr
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    assert!(unsigned.body.starts_with("{\"error\""), "{}", unsigned.body);

    // The same authorization: a user allowed only GetUser on themself.
    let self_only = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::{ACCOUNT}:user/kay"}}]}}"#
    );
    let kay = user_with_policy(&root, "kay", &self_only).await;
    let own = kay.json("iam", "GetUser", &json!({})).await;
    assert_eq!(body(&own)["User"]["UserName"], "kay");
    let other = kay
        .json("iam", "GetUser", &json!({"UserName": "jay"}))
        .await;
    assert_eq!(other.status, 403);
    assert_eq!(body(&other)["error"]["code"], "AccessDenied");
    let create = kay
        .json("iam", "CreateUser", &json!({"UserName": "mallory"}))
        .await;
    assert_eq!(create.status, 403);
    let absent = root
        .json("iam", "GetUser", &json!({"UserName": "mallory"}))
        .await;
    assert_eq!(absent.status, 404, "the refused create wrote nothing");
    app.stop().await;
}

/// A malformed policy is answered in AWS's words (which clients and
/// scripts match on); iamd's precise reason goes to the log.
#[tokio::test]
async fn malformed_policies_are_answered_in_aws_words() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "p")]).await;
    let statement = |body: &str| {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",{body}}}]}}"#)
    };
    let cases = [
        ("{not json".to_owned(), "Syntax errors in policy."),
        (
            statement(r#""Action":"GetUser","Resource":"*""#),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc",
        ),
        (
            statement(r#""Action":"iam:Get:User","Resource":"*""#),
            "Actions/Condition can contain only one colon.",
        ),
        (
            statement(r#""Principal":"*","Action":"iam:GetUser","Resource":"*""#),
            "Policy document should not specify a principal.",
        ),
        (
            statement(r#""Action":"iam:GetUser""#),
            "Policy statement must contain resources.",
        ),
        (
            r#"{"Version":"2011-01-01","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
                .to_owned(),
            "Policy document must be version 2012-10-17 or greater.",
        ),
    ];
    for (document, message) in cases {
        let reply = root
            .call(
                "PutUserPolicy",
                &[
                    ("UserName", "p"),
                    ("PolicyName", "x"),
                    ("PolicyDocument", &document),
                ],
            )
            .await;
        assert_eq!(
            reply.error_code().as_deref(),
            Some("MalformedPolicyDocument"),
            "{document}: {}",
            reply.body
        );
        assert_eq!(reply.status, 400);
        let got = reply
            .tag("Message")
            .unwrap_or_default()
            .replace("&apos;", "'");
        assert_eq!(got, message, "{document}");
    }
    app.stop().await;
}

/// The simulator is authorized on the stored entity, as every call is: a
/// deny on `user/Admin` holds against `user/admin` and `user/ADMIN`, and a
/// caller may not learn another's policies through it.
#[tokio::test]
async fn the_simulator_is_authorized_on_the_stored_entity() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "Admin")]).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"iam:SimulatePrincipalPolicy","Resource":"*"}},
            {{"Effect":"Deny","Action":"iam:SimulatePrincipalPolicy","Resource":"arn:aws:iam::{ACCOUNT}:user/Admin"}}]}}"#
    );
    let probe = user_with_policy(&root, "probe", &policy).await;
    for spelling in ["Admin", "admin", "ADMIN"] {
        let arn = format!("arn:aws:iam::{ACCOUNT}:user/{spelling}");
        let reply = probe
            .call(
                "SimulatePrincipalPolicy",
                &[
                    ("PolicySourceArn", &arn),
                    ("ActionNames.member.1", "s3:GetObject"),
                ],
            )
            .await;
        assert_eq!(
            reply.error_code().as_deref(),
            Some("AccessDenied"),
            "{spelling}: {}",
            reply.body
        );
    }
    let own = format!("arn:aws:iam::{ACCOUNT}:user/probe");
    let reply = probe
        .call(
            "SimulatePrincipalPolicy",
            &[
                ("PolicySourceArn", &own),
                ("ActionNames.member.1", "iam:SimulatePrincipalPolicy"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.tag("EvalDecision").as_deref(), Some("allowed"));
    app.stop().await;
}

/// The members of each `<tag>` list of a reply, in document order.
fn lists(reply: &Reply, tag: &str) -> Vec<Vec<String>> {
    reply
        .all(tag)
        .iter()
        .map(|inner| {
            inner
                .split("<member>")
                .skip(1)
                .map(|m| m.split("</member>").next().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

/// The simulator lists, per action and resource, the condition keys of the
/// statements in scope that the request left without a value (not those
/// iamd fills itself, nor those of statements about other actions,
/// resources or principals), and places each matched statement in its
/// document's text: lines and columns of the positions just after its
/// braces, as AWS reports them.
#[tokio::test]
async fn the_simulator_lists_missing_context_keys_and_statement_positions() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let identity = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Reads",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::b/*",
      "Condition": {
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"},
        "StringEqualsIfExists": {"aws:userid": "AIDA{not}[this]\"one\""},
        "StringEquals": {"aws:username": "SimulatedUser"}
      }
    },
    {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*", "Condition": {"StringEquals": {"s3:prefix": "p"}}}
  ]
}"#;
    let boundary = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:RequestTag/team":"true"}}}}"#;
    let resource = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/SimulatedUser"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{{"StringLike":{{"s3:ExistingObjectTag/team":"*"}}}}}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::444455556666:root"}},"Action":"s3:*","Resource":"*","Condition":{{"StringEquals":{{"aws:SourceVpc":"vpc-1"}}}}}}]}}"#
    );
    let reply = root
        .call(
            "SimulateCustomPolicy",
            &[
                ("PolicyInputList.member.1", identity),
                ("PermissionsBoundaryPolicyInputList.member.1", boundary),
                ("ResourcePolicy", &resource),
                ("ActionNames.member.1", "s3:GetObject"),
                ("ActionNames.member.2", "s3:DeleteObject"),
                ("ResourceArns.member.1", "arn:aws:s3:::b/k"),
                ("ContextEntries.member.1.ContextKeyName", "aws:SourceIp"),
                ("ContextEntries.member.1.ContextKeyType", "ip"),
                (
                    "ContextEntries.member.1.ContextKeyValues.member.1",
                    "10.1.2.3",
                ),
                (
                    "ContextEntries.member.2.ContextKeyName",
                    "aws:multifactorauthpresent",
                ),
                ("ContextEntries.member.2.ContextKeyType", "boolean"),
                ("ContextEntries.member.2.ContextKeyValues.member.1", "false"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.all("EvalDecision"),
        ["allowed", "explicitDeny"],
        "{}",
        reply.body
    );
    // Each result's list, then its resource-specific result's.
    let get = vec![
        "aws:RequestTag/team".to_owned(),
        "aws:userid".to_owned(),
        "s3:ExistingObjectTag/team".to_owned(),
    ];
    let delete = vec!["aws:RequestTag/team".to_owned()];
    assert_eq!(
        lists(&reply, "MissingContextValues"),
        [get.clone(), get, delete.clone(), delete],
        "{}",
        reply.body
    );
    assert_eq!(
        reply.all("EvalResourceDecision"),
        ["allowed", "explicitDeny"]
    );
    let at = |line: u32, column: u32| format!("<Line>{line}</Line><Column>{column}</Column>");
    // The allowing statement spans lines 4 to 15 and the denying one line
    // 16; each appears in its result and in its resource-specific result.
    assert_eq!(
        reply.all("StartPosition"),
        [at(4, 6), at(4, 6), at(16, 6), at(16, 6)],
        "{}",
        reply.body
    );
    assert_eq!(
        reply.all("EndPosition"),
        [at(15, 6), at(15, 6), at(16, 153), at(16, 153)]
    );
    assert_eq!(
        reply.all("SourcePolicyId"),
        ["PolicyInputList.1"; 4],
        "the boundary and the resource policy's unmet statement are not listed"
    );

    // Without resources, a result is about `*` alone: no resource-specific
    // results; statements about named resources are out of scope.
    let reply = root
        .call(
            "SimulateCustomPolicy",
            &[
                ("PolicyInputList.member.1", identity),
                ("ActionNames.member.1", "s3:GetObject"),
                ("ActionNames.member.2", "s3:DeleteObject"),
                ("ActionNames.member.3", "ec2:RunInstances"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.all("EvalDecision"),
        ["implicitDeny", "implicitDeny", "implicitDeny"]
    );
    assert_eq!(
        lists(&reply, "MissingContextValues"),
        [
            vec![],
            vec!["aws:MultiFactorAuthPresent".to_owned()],
            vec![]
        ],
        "{}",
        reply.body
    );
    assert!(
        reply.all("ResourceSpecificResults").is_empty(),
        "{}",
        reply.body
    );
    app.stop().await;
}

/// How the server answers an operation of AWS's models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coverage {
    Implemented,
    /// Served, answering AWS's error for an account in no organization.
    NotInOrganization,
    NotImplemented,
}

impl Coverage {
    fn label(self) -> &'static str {
        match self {
            Coverage::Implemented => "implemented",
            Coverage::NotInOrganization => "AWS's not-in-organization error",
            Coverage::NotImplemented => "not implemented",
        }
    }

    /// The answer's class: `NotImplemented` (501), AWS's error for an
    /// account in no organization (`OrganizationNotFoundException`, or an
    /// error that says so), or anything else an implemented operation says.
    fn of(reply: &Reply) -> Coverage {
        let says_no_organization = reply
            .plain_message()
            .is_some_and(|m| m.contains("no organization is associated with your account"));
        match reply.error_code().as_deref() {
            Some("NotImplemented") if reply.status == 501 => Coverage::NotImplemented,
            Some("OrganizationNotFoundException") => Coverage::NotInOrganization,
            Some(_) if says_no_organization => Coverage::NotInOrganization,
            _ => Coverage::Implemented,
        }
    }
}

/// Valid input for the operations whose required parameters an empty
/// request lacks, so that the probe reaches their handler instead of input
/// validation.
const PROBES: &[(&str, &[(&str, &str)])] = &[
    (
        "GenerateOrganizationsAccessReport",
        &[("EntityPath", "o-a1b2c3d4e5/r-f6g7h8i9j0example")],
    ),
    (
        "GetOrganizationsAccessReport",
        &[("JobId", "examplea-1234-b567-cde8-f90a12345678")],
    ),
    (
        "AssumeRoot",
        &[
            ("TargetPrincipal", "210987654321"),
            (
                "TaskPolicyArn.arn",
                "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
            ),
        ],
    ),
];

const COVERAGE_BEGIN: &str = "<!-- coverage:begin -->";
const COVERAGE_END: &str = "<!-- coverage:end -->";
const SUMMARY_BEGIN: &str = "<!-- coverage:summary -->";
const SUMMARY_END: &str = "<!-- /coverage:summary -->";

/// The hand-written reasons and notes of the table in `text`, by service
/// heading (`IAM`, `STS`) and operation.
fn coverage_reasons(text: &str) -> std::collections::HashMap<(String, String), String> {
    let mut reasons = std::collections::HashMap::new();
    let mut service = String::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            service = heading.trim().to_owned();
            continue;
        }
        let Some(row) = line.trim().strip_prefix('|') else {
            continue;
        };
        let cells: Vec<&str> = row
            .trim_end_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if let [operation, _, reason] = cells[..] {
            if !reason.is_empty() && operation != "Operation" && !operation.starts_with("---") {
                reasons.insert((service.clone(), operation.to_owned()), reason.to_owned());
            }
        }
    }
    reasons
}

/// `text` as lines of at most 76 characters (a longer word stands alone),
/// each ending in a newline, as README.md is written.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 76 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// `text` with what lies between `begin` and `end` replaced by `inner`.
fn replace_between(text: &str, begin: &str, end: &str, inner: &str, file: &str) -> String {
    let start = text
        .find(begin)
        .unwrap_or_else(|| panic!("{file} has no {begin}"))
        + begin.len();
    let stop = text[start..]
        .find(end)
        .unwrap_or_else(|| panic!("{file} has no {end}"))
        + start;
    format!("{}\n{inner}{}", &text[..start], &text[stop..])
}

/// Asks the server for every operation of AWS's IAM and STS models and
/// classifies each answer; the table of docs/coverage.md and the summary in
/// README.md must say the same. `IAMD_UPDATE_COVERAGE=1` rewrites both from
/// the server's answers, keeping the reasons written in the table.
#[tokio::test]
async fn the_coverage_table_is_what_the_server_answers() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let mut rows = Vec::new();
    for service in [Service::Iam, Service::Sts] {
        for op in service.operations() {
            let mut params = vec![("Action", op.name), ("Version", service.version())];
            if let Some((_, probe)) = PROBES.iter().find(|(name, _)| *name == op.name) {
                params.extend_from_slice(probe);
            }
            let reply = send_raw(app.addr, root.signed(&form(&params), service.name(), &[])).await;
            let coverage = Coverage::of(&reply);
            let registered = IMPLEMENTED
                .iter()
                .any(|s| s.service == service && s.name == op.name);
            assert_eq!(
                registered,
                coverage != Coverage::NotImplemented,
                "{}: {}",
                op.name,
                reply.body
            );
            rows.push((service, op.name, coverage));
        }
    }
    app.stop().await;

    let heading = |s: Service| s.name().to_uppercase();
    let count = |service: Option<Service>, c: Option<Coverage>| {
        rows.iter()
            .filter(|(s, _, k)| service.is_none_or(|x| x == *s) && c.is_none_or(|x| x == *k))
            .count()
    };
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace")
        .to_owned();
    let docs_path = workspace.join("docs").join("coverage.md");
    let readme_path = workspace.join("README.md");
    let docs = std::fs::read_to_string(&docs_path).unwrap_or_default();
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let reasons = coverage_reasons(&docs);

    use std::fmt::Write;
    let mut table = String::from(
        "| Service | Operations | Implemented | AWS's not-in-organization error | Not implemented |\n\
         |---|---:|---:|---:|---:|\n",
    );
    for (label, service) in [
        ("IAM", Some(Service::Iam)),
        ("STS", Some(Service::Sts)),
        ("Total", None),
    ] {
        writeln!(
            table,
            "| {label} | {} | {} | {} | {} |",
            count(service, None),
            count(service, Some(Coverage::Implemented)),
            count(service, Some(Coverage::NotInOrganization)),
            count(service, Some(Coverage::NotImplemented)),
        )
        .unwrap();
    }
    let mut unexplained = Vec::new();
    for service in [Service::Iam, Service::Sts] {
        write!(
            table,
            "\n### {}\n\n| Operation | Status | Reason / note |\n|---|---|---|\n",
            heading(service)
        )
        .unwrap();
        for (_, name, coverage) in rows.iter().filter(|(s, _, _)| *s == service) {
            let reason = match coverage {
                Coverage::Implemented => "",
                _ => reasons
                    .get(&(heading(service), (*name).to_owned()))
                    .map(String::as_str)
                    .unwrap_or_default(),
            };
            if *coverage == Coverage::NotImplemented && reason.is_empty() {
                unexplained.push(*name);
            }
            writeln!(table, "| {name} | {} | {reason} |", coverage.label()).unwrap();
        }
    }
    let summary = wrap(&format!(
        "Of the {} operations of AWS's IAM and STS models, iamd implements {}, answers {} \
         with AWS's error for an account that is in no organization (an iamd account is a \
         standalone account), and answers the other {} with `NotImplemented` (HTTP 501). \
         [docs/coverage.md](docs/coverage.md) lists every operation with its status and, \
         for those not implemented, the reason.",
        count(None, None),
        count(None, Some(Coverage::Implemented)),
        count(None, Some(Coverage::NotInOrganization)),
        count(None, Some(Coverage::NotImplemented)),
    ));
    println!("{table}\n{summary}");

    let docs_now = replace_between(
        &docs,
        COVERAGE_BEGIN,
        COVERAGE_END,
        &table,
        "docs/coverage.md",
    );
    let readme_now = replace_between(&readme, SUMMARY_BEGIN, SUMMARY_END, &summary, "README.md");
    if std::env::var("IAMD_UPDATE_COVERAGE").is_ok_and(|v| v == "1") {
        std::fs::write(&docs_path, &docs_now).expect("writing docs/coverage.md");
        std::fs::write(&readme_path, &readme_now).expect("writing README.md");
    } else {
        assert!(
            docs == docs_now && readme == readme_now,
            "docs/coverage.md or README.md does not match what the server answers (the table \
             is printed above); run `IAMD_UPDATE_COVERAGE=1 cargo test -p iam-api --test \
             operations the_coverage_table` to regenerate them, then review the diff"
        );
    }
    assert!(
        unexplained.is_empty(),
        "operations not implemented without a reason in docs/coverage.md: {unexplained:?}"
    );
}
