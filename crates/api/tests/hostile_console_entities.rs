//! Hostile review of the console's entity pages (2026-12-03): groups,
//! roles, managed and inline policies, tags, access keys, the policy
//! editor's validation (`/console/policies/validate`, `iamd:ValidatePolicy`)
//! and the places its findings point at (`PolicyError::locate`).
//!
//! Every test performs its attack over plain HTTP against the real server,
//! as a browser (or a hostile page driving one) would, and checks the
//! outcome through the IAM API itself. The first ones (`attack_…`)
//! succeeded before the fix that came with them; the rest are attacks that
//! were tried and hold, kept as regression tests.

use iam_api::console::session::COOKIE;
use iam_event_store::testing::TestDatabase;
use serde_json::{json, Value};

mod console_forms;
mod support;
use console_forms::*;
use support::*;

/// An IAM operation's JSON answer (status and body).
async fn iam(root: &Client, action: &str, input: Value) -> (u16, Value) {
    let reply = root.json("iam", action, &input).await;
    let v = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, v)
}

/// A path as a browser resolves it in a link or a form's action (WHATWG
/// URL): `.` and `..` segments, percent-encoded or not, are removed.
fn resolve(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().copied().enumerate() {
        let last = i + 1 == segments.len();
        match segment.to_ascii_lowercase().as_str() {
            ".." | ".%2e" | "%2e." | "%2e%2e" => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            "." | "%2e" => {
                if last {
                    out.push("");
                }
            }
            _ => out.push(segment),
        }
    }
    let path = format!("/{}", out.join("/"));
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    }
}

/// Every value of `attribute` on a page (`action`, `href`), unescaped as
/// the browser reads it.
fn attributes(body: &str, attribute: &str) -> Vec<String> {
    let open = format!(r#" {attribute}=""#);
    body.match_indices(&open)
        .filter_map(|(at, _)| {
            let start = at + open.len();
            let end = body[start..].find('"')? + start;
            Some(body[start..end].replace("&amp;", "&"))
        })
        .collect()
}

/// ATTACK (cross-entity form actions through a policy path). A managed
/// policy's path may hold `..` segments (`/../../users/victim/`: printable
/// ASCII, as AWS allows), and the console wrote a policy's page as its ARN
/// split at the slashes, each part percent-encoded: `..` became `%2E%2E`,
/// which a browser resolves like `..`. So a user allowed nothing but
/// `iam:CreatePolicy` could name a policy `delete` under that path, and
/// its page's forms — "Delete this policy", "Make default" — posted, with
/// the administrator's CSRF token, to `/console/users/victim/delete`: the
/// administrator deleting the policy deleted the user. The list's link to
/// the policy led there too (a 405, the page out of reach). A link to a
/// policy that does not exist (`…policy%2F..%2F..%2Fusers%2Fvictim%2Fdelete`)
/// did the same with the page's delete form. Now an ARN with a `.` or `..`
/// segment is written as one segment, its slashes encoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_a_policy_path_of_dot_segments_points_the_policys_forms_at_another_entity() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "victim")]).await;
    let mallory = user_with_policy(&root, "mallory", &policy_text("iam:CreatePolicy")).await;
    let made = mallory
        .call(
            "CreatePolicy",
            &[
                ("PolicyName", "delete"),
                ("Path", "/../../users/victim/"),
                ("PolicyDocument", &policy_text("s3:GetObject")),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let arn = made.tag("Arn").unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:iam::{ACCOUNT}:policy/../../users/victim/delete")
    );
    let (jar, csrf) = admin(&app).await;

    // The administrator opens the policy's page (from a link the attacker
    // sent: slashes encoded, so the browser leaves them alone) and deletes
    // the policy with its own form, as a browser posts it.
    let page = get(&app, &format!("/console/policies/{}", enc(&arn)), &jar).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!(r#"<dd id="policy-arn">{arn}</dd>"#)),
        "{}",
        page.body
    );
    let button = page.body.find(r#"id="delete-policy""#).unwrap();
    let form = page.body[..button].rfind("<form").unwrap();
    let action = attributes(&page.body[form..button], "action").remove(0);
    let reply = post(
        &app,
        &resolve(&action),
        &jar,
        &with_csrf(&csrf, &[("change", "delete")]),
    )
    .await;
    let (status, _) = iam(&root, "GetUser", json!({"UserName": "victim"})).await;
    assert_eq!(
        status,
        200,
        "the policy's delete form ({action}) deleted the user: {:?}",
        reply.header("location")
    );
    assert_eq!(reply.status, 303, "{action}: {}", reply.body);
    assert_eq!(reply.header("location"), Some("/console/policies"));
    let (_, v) = iam(&root, "GetPolicy", json!({"PolicyArn": arn})).await;
    assert_eq!(v["error"]["code"], "NoSuchEntity", "{v}");

    // A link to a policy that does not exist: every form of its page posts
    // to the page itself (or signs out).
    let missing = format!("arn:aws:iam::{ACCOUNT}:policy/../../users/victim/delete");
    let page = get(&app, &format!("/console/policies/{}", enc(&missing)), &jar).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let actions = attributes(&page.body, "action");
    assert!(actions.len() > 1, "{}", page.body);
    for action in &actions {
        let to = resolve(action);
        assert!(
            to == "/console/sign-out" || to.starts_with("/console/policies/arn"),
            "a form posts to {to} ({action})"
        );
    }

    // The list's link leads to a policy's page.
    let made = mallory
        .call(
            "CreatePolicy",
            &[
                ("PolicyName", "delete"),
                ("Path", "/../../users/victim/"),
                ("PolicyDocument", &policy_text("s3:GetObject")),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let list = get(&app, "/console/policies", &jar).await;
    let link = attributes(&list.body, "href")
        .into_iter()
        .find(|h| h.starts_with("/console/policies/arn"))
        .expect("a link to the policy");
    let page = get(&app, &resolve(&link), &jar).await;
    assert_eq!(page.status, 200, "{link} → {}", resolve(&link));
    assert!(
        page.body
            .contains(&format!(r#"<dd id="policy-arn">{arn}</dd>"#)),
        "{link}: {}",
        page.body
    );
    let (status, _) = iam(&root, "GetUser", json!({"UserName": "victim"})).await;
    assert_eq!(status, 200);
    app.stop().await;
}

/// The validator's answer to `document` over the API.
async fn validated(root: &Client, document: &str) -> Value {
    let reply = root
        .v1(
            "POST",
            "/v1/policies/validate",
            "",
            Some(&json!({"document": document})),
        )
        .await;
    assert_eq!(reply.status, 200, "{document:?}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

fn place(v: &Value) -> (Option<i64>, Option<i64>) {
    let f = &v["findings"][0];
    (f["line"].as_i64(), f["column"].as_i64())
}

/// ATTACK (wrong places). Lines end at `\n`, `\r\n` or a lone `\r`, as
/// `statement_spans` counts them for an error inside a statement; a JSON
/// syntax error took serde_json's line, which ends at `\n` only, so in a
/// text whose lines end at `\r` (classic Mac, or any client's choice) the
/// same answer put a statement's error on line 4 and a syntax error on
/// line 1, column 70 — past the end of a line one character long. Now a
/// syntax error is placed by the text's own line ends too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_a_syntax_error_in_text_with_cr_line_ends_is_placed_on_the_wrong_line() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let lines = [
        "{",
        "  \"Version\": \"2012-10-17\",",
        "  \"Statement\": [",
        "    {\"Effect\": \"Allow\" \"Action\": \"s3:*\", \"Resource\": \"*\"}",
        "  ]",
        "}",
    ];
    let bad_action = lines.join("\n").replace(
        "\"Allow\" \"Action\": \"s3:*\"",
        "\"Allow\", \"Action\": \"s3\"",
    );
    for end in ["\n", "\r\n", "\r"] {
        // The missing comma: line 4, at the quote of "Action".
        let text = lines.join(end);
        let v = validated(&root, &text).await;
        assert_eq!(v["valid"], false);
        assert_eq!(
            v["findings"][0]["message"], "Syntax errors in policy.",
            "{v}"
        );
        assert_eq!(place(&v), (Some(4), Some(24)), "{end:?}: {v}");
        // An error inside the statement: the same line, at its `{`.
        let v = validated(&root, &bad_action.replace('\n', end)).await;
        assert_eq!(place(&v), (Some(4), Some(5)), "{end:?}: {v}");
        // Input that ends early: on its last line.
        let v = validated(&root, &lines[..3].join(end)).await;
        assert_eq!(place(&v), (Some(3), Some(16)), "{end:?}: {v}");
    }
    app.stop().await;
}

/// The validator as an oracle, a denial of service, or a panic: without a
/// session it answers nothing but "sign in"; from another site, with
/// another session's token or by GET it is refused; odd texts (multi-byte
/// characters, line ends of every kind, a line past the end, deep nesting,
/// thousands of statements, NULs, a form just under the limit and one over
/// it) get an answer whose place is inside the text, and the server lives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_is_no_oracle_and_survives_odd_and_huge_texts() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let (jar, csrf) = admin(&app).await;
    let (_, other) = admin(&app).await;
    let (addr, origin) = (app.addr, format!("http://{}", app.addr));
    let send = |cookies: String, site: &'static str, body: String| {
        let origin = origin.clone();
        async move {
            browse(
                addr,
                "POST",
                "/console/policies/validate",
                &cookies,
                &[
                    ("origin", &origin),
                    ("sec-fetch-site", site),
                    ("hx-request", "true"),
                ],
                Some(&body),
            )
            .await
        }
    };
    let broken = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3\",\"Resource\":\"*\"}]}";
    let body = |token: &str, document: &str| {
        with_csrf(
            token,
            &[("document", document), ("policy_type", "identity")],
        )
    };

    // No session (or a forged cookie): "sign in", no finding.
    for cookies in [String::new(), format!("{COOKIE}={}", "0".repeat(64))] {
        let reply = send(cookies, "same-origin", body(&csrf, broken)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body.contains("sign in again"), "{}", reply.body);
        assert!(
            !reply.body.contains("prefaced by a vendor"),
            "{}",
            reply.body
        );
    }
    // Another site, another session's token, no token, a GET.
    for (site, token) in [
        ("cross-site", csrf.as_str()),
        ("same-site", csrf.as_str()),
        ("same-origin", other.as_str()),
        ("same-origin", ""),
    ] {
        let reply = send(jar.header(), site, body(token, broken)).await;
        assert_eq!(reply.status, 403, "{site} {token}: {}", reply.body);
        assert!(
            !reply.body.contains("prefaced by a vendor"),
            "{}",
            reply.body
        );
    }
    let reply = get(
        &app,
        &format!(
            "/console/policies/validate?csrf={csrf}&document={}",
            enc(broken)
        ),
        &jar,
    )
    .await;
    assert_eq!(reply.status, 405, "{}", reply.body);

    // Odd texts, through the console and the API: an answer, a place
    // inside the text (lines as `statement_spans` counts them).
    let statement = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
    let many = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{}{{\"Effect\":\"Allow\",\"Action\":\"s3\",\"Resource\":\"*\"}}]}}",
        format!("{statement},\n").repeat(300)
    );
    let texts = [
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"é🦀\" \"x\"}]}".to_owned(),
        "é🦀\r\n\r\r\n".to_owned(),
        "{\r\n".to_owned(),
        "{\n\n\n".to_owned(),
        "\n".repeat(5_000) + "}",
        "🦀".repeat(3_000) + "\n{",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3\u{0}\",\"Resource\":\"*\"}]}".to_owned(),
        "{\"a\":\u{0}}".to_owned(),
        "[".repeat(15_000),
        "{\"a\":".repeat(3_000),
        format!("{{\"Version\":\"2012-10-17\",\"Statement\":{}", "[".repeat(15_000)),
        many,
        "{\"Statement\":[{\"Sid\":\"é\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Sid\":\"x\"}]}".to_owned(),
    ];
    for text in &texts {
        let shown = &text[..text.char_indices().nth(40).map_or(text.len(), |(i, _)| i)];
        let reply = send(jar.header(), "same-origin", body(&csrf, text)).await;
        assert_eq!(reply.status, 200, "{shown:?}: {}", reply.body);
        assert!(!reply.body.contains("Valid policy."), "{shown:?}");
        assert!(
            reply.body.contains("MalformedPolicyDocument"),
            "{shown:?}: {}",
            reply.body
        );
        let v = validated(&root, text).await;
        assert_eq!(v["valid"], false, "{shown:?}");
        if let (Some(line), Some(column)) = place(&v) {
            let lines: Vec<&str> = text
                .split("\r\n")
                .flat_map(|l| l.split(['\r', '\n']))
                .collect();
            assert!(
                line >= 1 && (line as usize) <= lines.len(),
                "{shown:?}: line {line} of {}",
                lines.len()
            );
            let length = lines[line as usize - 1].chars().count();
            assert!(
                column >= 1 && (column as usize) <= length + 1,
                "{shown:?}: line {line} column {column} of {length}"
            );
        }
    }
    // A form just past the console's limit is refused whole; the server
    // still answers.
    let huge = body(&csrf, &format!("{{\"Id\":\"{}\"}}", "a".repeat(70 * 1024)));
    let reply = send(jar.header(), "same-origin", huge).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    let reply = send(jar.header(), "same-origin", body(&csrf, broken)).await;
    assert!(reply.body.contains("line 1, column"), "{}", reply.body);
    app.stop().await;
}

/// The hostile ARNs and names of `/console/policies/{*arn}` and the
/// `{name}` segments: another account's policy, control characters, a
/// line break, `..`, encoded slashes, a very long ARN. Each gets a page
/// (or a refusal) with nothing unescaped and no header of its own, and a
/// form posted to it changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_arns_and_names_in_paths_show_refusals_and_change_nothing() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let made = root
        .call(
            "CreatePolicy",
            &[
                ("PolicyName", "readers"),
                ("PolicyDocument", &policy_text("s3:GetObject")),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let (jar, csrf) = admin(&app).await;
    let before = head(&db).await;
    let long = format!("arn:aws:iam::{ACCOUNT}:policy/{}", "a/".repeat(2_000));
    let arns = [
        "arn:aws:iam::999999999999:policy/readers".to_owned(),
        "arn:aws:iam::aws:policy/../../../users/alice".to_owned(),
        format!("arn:aws:iam::{ACCOUNT}:policy/readers\r\nSet-Cookie: {COOKIE}=x"),
        format!("arn:aws:iam::{ACCOUNT}:policy/\u{1}\u{7f}<svg/onload=alert(1)>"),
        format!("arn:aws:iam::{ACCOUNT}:policy/..\\..\\users\\alice"),
        long,
    ];
    for arn in &arns {
        let path = format!("/console/policies/{}", enc(arn));
        let page = get(&app, &path, &jar).await;
        assert!(page.status == 200 || page.status >= 400, "{arn:?}");
        assert!(!page.body.contains("<svg/onload"), "{arn:?}: {}", page.body);
        assert!(
            !set_cookies(&page).iter().any(|(_, v)| v == "x"),
            "{:?}",
            page.headers
        );
        if page.status == 200 {
            assert!(
                page.body.contains(r#"<div class="error" role="alert">"#),
                "{arn:?}: {}",
                page.body
            );
            assert!(!page.body.contains(r#"id="policy-arn""#), "{}", page.body);
        }
        for change in ["delete", "version", "default", "delete-version"] {
            let reply = post(
                &app,
                &path,
                &jar,
                &with_csrf(
                    &csrf,
                    &[
                        ("change", change),
                        ("version_id", "v1"),
                        ("document", &policy_text("iam:*")),
                    ],
                ),
            )
            .await;
            assert_ne!(reply.status, 303, "{arn:?} {change}: {:?}", reply.headers);
            assert!(!reply.body.contains("<svg/onload"), "{}", reply.body);
        }
    }
    // `{name}` segments: encoded slashes and dots, markup, line breaks.
    for name in [
        "..%2F..%2Fusers%2Falice",
        "alice%2F..%2F..%2Fpolicies",
        "%2E%2E%5Calice",
        "a%0D%0ASet-Cookie:%20x=1",
    ] {
        for kind in ["users", "groups", "roles"] {
            for change in ["delete", "attach", "tag", "inline", "delete-inline"] {
                let reply = post(
                    &app,
                    &format!("/console/{kind}/{name}/{change}"),
                    &jar,
                    &with_csrf(
                        &csrf,
                        &[
                            ("policy_arn", "arn:aws:iam::aws:policy/AdministratorAccess"),
                            ("tag_key", "k"),
                            ("policy_name", "p"),
                            ("document", &policy_text("iam:*")),
                        ],
                    ),
                )
                .await;
                assert_ne!(reply.status, 303, "{kind}/{name}/{change}: {}", reply.body);
                assert!(reply.header("location").is_none());
            }
        }
    }
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    let (status, v) = iam(&root, "GetUser", json!({"UserName": "alice"})).await;
    assert_eq!(status, 200, "{v}");
    assert!(get(&app, "/console/policies", &jar)
        .await
        .body
        .contains("readers"));
    app.stop().await;
}

/// A person allowed a few things reaches nothing else through the forms:
/// hidden fields naming another entity (`UserName`, `PolicyArn`) are not
/// passed on, the policy page's `change` field reaches only the operations
/// the person may call, and a change meant for another kind of page is no
/// change at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_act_on_the_entity_the_path_names_and_only_as_allowed() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    for user in ["alice", "bob"] {
        root.ok("CreateUser", &[("UserName", user)]).await;
    }
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    let mut arns = Vec::new();
    for name in ["readers", "other"] {
        let made = root
            .call(
                "CreatePolicy",
                &[
                    ("PolicyName", name),
                    ("PolicyDocument", &policy_text("s3:GetObject")),
                ],
            )
            .await;
        arns.push(made.tag("Arn").unwrap());
    }
    let (readers, other) = (&arns[0], &arns[1]);
    let allowed = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "iam:CreatePolicyVersion"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:TagUser", "Resource": format!("arn:aws:iam::{ACCOUNT}:user/alice")}
    ]});
    let helper = user_with_policy(&root, "helper", &allowed.to_string()).await;
    let (jar, csrf) = signed_in_with_keys(&app, &helper.key, &helper.secret).await;
    let readers_page = format!("/console/policies/{}", enc(readers));

    // Allowed, with hidden fields naming someone else.
    let reply = post(
        &app,
        "/console/users/alice/tag",
        &jar,
        &with_csrf(
            &csrf,
            &[
                ("tag_key", "team"),
                ("tag_value", "blue"),
                ("UserName", "bob"),
                ("user_name", "bob"),
                ("RoleName", "bob"),
            ],
        ),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let reply = post(
        &app,
        &readers_page,
        &jar,
        &with_csrf(
            &csrf,
            &[
                ("change", "version"),
                ("document", &policy_text("s3:PutObject")),
                ("PolicyArn", other),
                ("policy_arn", other),
            ],
        ),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);

    // Not allowed: another user, other operations by `change`, other
    // kinds' changes.
    for (path, fields, expect) in [
        (
            "/console/users/bob/tag",
            vec![("tag_key", "team"), ("tag_value", "red")],
            "AccessDenied",
        ),
        (
            "/console/users/alice/untag",
            vec![("tag_key", "team")],
            "AccessDenied",
        ),
        ("/console/users/alice/create-key", vec![], "AccessDenied"),
        (
            "/console/users/alice/attach",
            vec![("policy_arn", "arn:aws:iam::aws:policy/AdministratorAccess")],
            "AccessDenied",
        ),
        (
            "/console/groups/devs/add-member",
            vec![("user_name", "helper")],
            "AccessDenied",
        ),
        (
            readers_page.as_str(),
            vec![("change", "delete")],
            "AccessDenied",
        ),
        (
            readers_page.as_str(),
            vec![("change", "default"), ("version_id", "v1")],
            "AccessDenied",
        ),
        (
            readers_page.as_str(),
            vec![("change", "delete-version"), ("version_id", "v1")],
            "AccessDenied",
        ),
        (
            readers_page.as_str(),
            vec![("change", "attach")],
            "no such page",
        ),
        (readers_page.as_str(), vec![], "no such page"),
        (
            "/console/users/alice/add-member",
            vec![("user_name", "helper")],
            "no such page",
        ),
        ("/console/groups/devs/create-key", vec![], "no such page"),
        ("/console/roles/devs/trust-me", vec![], "no such page"),
    ] {
        let reply = post(&app, path, &jar, &with_csrf(&csrf, &fields)).await;
        assert_ne!(reply.status, 303, "{path} {fields:?}: {:?}", reply.headers);
        assert!(
            reply.body.contains(expect),
            "{path} {fields:?}: {} {}",
            reply.status,
            reply.body
        );
    }

    // The diff and the chain are the person's to ask too (iamd:*, which
    // the helper may not call), and nobody's without a session.
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let diff = format!("/console/diff?principal={}&from=1", enc(&alice));
    let page = get(&app, &diff, &jar).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("AccessDenied"), "{}", page.body);
    assert!(!page.body.contains(r#"id="diff-range""#), "{}", page.body);
    let chain = browse(
        app.addr,
        "GET",
        "/console/chain",
        &jar.header(),
        &[("hx-request", "true")],
        None,
    )
    .await;
    assert!(chain.body.contains("AccessDenied"), "{}", chain.body);
    assert!(!chain.body.contains("chain-ok"), "{}", chain.body);
    for path in [diff.as_str(), "/console/chain"] {
        let reply = browse(app.addr, "GET", path, "", &[("hx-request", "true")], None).await;
        assert_eq!(reply.status, 303, "{path}: {}", reply.body);
        assert_eq!(reply.header("location"), Some("/console/sign-in"));
    }

    // What the API says now.
    let tags = |user: &'static str| {
        let root = root.clone();
        async move {
            let (_, v) = iam(&root, "ListUserTags", json!({"UserName": user})).await;
            v["Tags"].clone()
        }
    };
    assert_eq!(
        tags("alice").await,
        json!([{"Key": "team", "Value": "blue"}])
    );
    assert_eq!(tags("bob").await, json!([]));
    let versions = |arn: String| {
        let root = root.clone();
        async move {
            let (_, v) = iam(&root, "ListPolicyVersions", json!({"PolicyArn": arn})).await;
            v["Versions"].as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(versions(readers.clone()).await, 2);
    assert_eq!(versions(other.clone()).await, 1);
    let (status, _) = iam(&root, "GetPolicy", json!({"PolicyArn": readers})).await;
    assert_eq!(status, 200);
    let (_, keys) = iam(&root, "ListAccessKeys", json!({"UserName": "alice"})).await;
    assert_eq!(keys["AccessKeyMetadata"], json!([]));
    let (_, group) = iam(&root, "GetGroup", json!({"GroupName": "devs"})).await;
    assert_eq!(group["Users"], json!([]));
    let (_, attached) = iam(
        &root,
        "ListAttachedUserPolicies",
        json!({"UserName": "alice"}),
    )
    .await;
    assert_eq!(attached["AttachedPolicies"], json!([]));
    app.stop().await;
}

/// A new access key's secret is on the POST's answer only: not in a
/// `Location`, not cached, not sent as a `Referer` to another origin, and
/// on no later page — the user's page, the audit trail and its exports,
/// the event pages of the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_keys_secret_is_on_no_later_page_or_export() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let (jar, csrf) = admin(&app).await;
    let before = head(&db).await;
    let reply = post(
        &app,
        "/console/users/alice/create-key",
        &jar,
        &with_csrf(&csrf, &[]),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let open = r#"id="new-key-secret"><code>"#;
    let at = reply.body.find(open).unwrap() + open.len();
    let secret = reply.body[at..at + reply.body[at..].find('<').unwrap()].to_owned();
    assert!(secret.len() >= 40, "{secret}");
    assert!(reply.header("location").is_none());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("referrer-policy"), Some("same-origin"));
    for (name, value) in &reply.headers {
        assert!(!value.contains(&secret), "{name}: {value}");
    }
    // Every link of the answer stays on the console.
    for href in attributes(&reply.body, "href") {
        assert!(!href.starts_with("//") && !href.contains(':'), "{href}");
        assert!(!href.contains(&secret));
    }
    let after = head(&db).await;
    let mut pages = vec![
        "/console/users/alice".to_owned(),
        "/console/audit".to_owned(),
        "/console/audit?format=json".to_owned(),
        "/console/audit?format=csv".to_owned(),
        "/console/".to_owned(),
        format!("/console/users/alice?as_of={after}"),
    ];
    pages.extend((before + 1..=after).map(|p| format!("/console/events/{p}")));
    for page in &pages {
        let reply = get(&app, page, &jar).await;
        assert_eq!(reply.status, 200, "{page}: {}", reply.body);
        assert!(!reply.body.contains(&secret), "{page}: {}", reply.body);
    }
    let events = root
        .v1("GET", "/v1/events", &format!("after={before}"), None)
        .await;
    assert!(events.body.contains("AccessKeyCreated"), "{}", events.body);
    assert!(!events.body.contains(&secret));
    app.stop().await;
}

/// The new forms' CSRF gaps: every changing route of this slice not in
/// `console_entities`' list (detach, remove-member, untag, update-key,
/// delete-key, a group's and a role's inline policy, a policy's default
/// and delete-version), with a valid token but sent from another site,
/// with another session's token, or as GET, PUT or DELETE: nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_form_refuses_other_sites_other_sessions_and_other_methods() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let read_only = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
    root.ok("CreateUser", &[("UserName", "alice")]).await;
    let key = root.ok("CreateAccessKey", &[("UserName", "alice")]).await;
    let key_id = key.tag("AccessKeyId").unwrap();
    root.ok("CreateGroup", &[("GroupName", "devs")]).await;
    root.ok(
        "AddUserToGroup",
        &[("GroupName", "devs"), ("UserName", "alice")],
    )
    .await;
    root.ok(
        "AttachGroupPolicy",
        &[("GroupName", "devs"), ("PolicyArn", read_only)],
    )
    .await;
    root.ok(
        "TagUser",
        &[
            ("UserName", "alice"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    .to_string();
    root.ok(
        "CreateRole",
        &[("RoleName", "app"), ("AssumeRolePolicyDocument", &trust)],
    )
    .await;
    let made = root
        .call(
            "CreatePolicy",
            &[
                ("PolicyName", "readers"),
                ("PolicyDocument", &policy_text("s3:GetObject")),
            ],
        )
        .await;
    let arn = made.tag("Arn").unwrap();
    root.ok(
        "CreatePolicyVersion",
        &[
            ("PolicyArn", &arn),
            ("PolicyDocument", &policy_text("s3:PutObject")),
        ],
    )
    .await;
    let policy_page = format!("/console/policies/{}", enc(&arn));
    let doc = policy_text("iam:*");
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/console/groups/devs/detach".into(),
            vec![("policy_arn", read_only)],
        ),
        (
            "/console/groups/devs/remove-member".into(),
            vec![("user_name", "alice")],
        ),
        (
            "/console/users/alice/untag".into(),
            vec![("tag_key", "team")],
        ),
        (
            "/console/users/alice/update-key".into(),
            vec![("access_key_id", key_id.as_str()), ("status", "Inactive")],
        ),
        (
            "/console/users/alice/delete-key".into(),
            vec![("access_key_id", key_id.as_str())],
        ),
        (
            "/console/groups/devs/inline".into(),
            vec![("policy_name", "p"), ("document", doc.as_str())],
        ),
        (
            "/console/roles/app/inline".into(),
            vec![("policy_name", "p"), ("document", doc.as_str())],
        ),
        (
            "/console/roles/app/attach".into(),
            vec![("policy_arn", read_only)],
        ),
        (
            policy_page.clone(),
            vec![("change", "default"), ("version_id", "v1")],
        ),
        (
            policy_page.clone(),
            vec![("change", "delete-version"), ("version_id", "v1")],
        ),
    ];
    let (jar, csrf) = admin(&app).await;
    let (_, other) = admin(&app).await;
    let before = head(&db).await;
    for (path, fields) in &forms {
        // From another site (a hidden form on evil.example), with the
        // session's real token (leaked, say).
        for site in ["cross-site", "same-site"] {
            let reply = browse(
                app.addr,
                "POST",
                path,
                &jar.header(),
                &[("origin", "http://evil.example"), ("sec-fetch-site", site)],
                Some(&with_csrf(&csrf, fields)),
            )
            .await;
            assert_eq!(reply.status, 403, "{site} {path}: {}", reply.body);
        }
        for token in [other.as_str(), "", &csrf[..63]] {
            let reply = post(&app, path, &jar, &with_csrf(token, fields)).await;
            assert_eq!(reply.status, 403, "{path} {token}: {}", reply.body);
        }
        for method in ["GET", "PUT", "DELETE", "PATCH"] {
            let body = with_csrf(&csrf, fields);
            let (target, body) = if method == "GET" {
                (format!("{path}?{body}"), None)
            } else {
                (path.clone(), Some(body.as_str()))
            };
            let reply = browse(app.addr, method, &target, &jar.header(), &[], body).await;
            assert_ne!(reply.status, 303, "{method} {target}: {}", reply.body);
            if method != "GET" {
                assert!(
                    reply.status == 405 || reply.status == 404,
                    "{method} {target}: {} {}",
                    reply.status,
                    reply.body
                );
            }
        }
    }
    assert_eq!(changes_since(&db, before).await, Vec::<String>::new());
    // The same forms from the console's own page still work (the first).
    let (path, fields) = &forms[0];
    let reply = post(&app, path, &jar, &with_csrf(&csrf, fields)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(changes_since(&db, before).await.len(), 1);
    app.stop().await;
}
