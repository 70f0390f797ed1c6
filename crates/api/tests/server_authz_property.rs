//! Property: every admin call the server performs is one the evaluator
//! allows with the context AWS defines for that action.
//!
//! Users with random policies (actions, resources in random case,
//! conditions on the IAM condition keys) make random admin calls, with
//! random extra parameters that AWS does not read for the action, through
//! the real HTTP server. An oracle written here, independently of the
//! server's `authz` module, derives each call's resources and context from
//! the stored state and AWS's definitions (the Service Authorization
//! Reference for IAM) and asks the evaluator. A call the server performed
//! (or refused for a reason that comes after authorization) must be one the
//! oracle allows; a call the server refused as AccessDenied must be one the
//! oracle denies. Seeds are fixed so a failure reproduces; `IAMD_PROPERTY_SEED`
//! runs another.

use chrono::Utc;
use iam_domain::policy::PolicyDocument;
use iam_domain::AccountState;
use iam_evaluator::{Authorizer, CompiledPolicy, Context, Outcome, PolicySet, Principal, Request};
use iam_event_store::testing::TestDatabase;

mod support;
use support::*;

/// xorshift64*: small, deterministic, good enough to pick test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const A: &str = "arn:aws:iam::123456789012";
const STAR: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

const ACTIONS: &[&str] = &[
    "iam:*",
    "iam:Put*",
    "iam:*User*",
    "iam:*Policy*",
    "iam:Tag*",
    "iam:Create*",
    "iam:Get*",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:CreateUser",
    "iam:TagUser",
    "iam:UpdateUser",
    "iam:CreatePolicyVersion",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachGroupPolicy",
];

fn resources() -> Vec<String> {
    [
        "*",
        "user/*",
        "user/team/Alice",
        "user/team/alice",
        "user/Alice",
        "user/bob",
        "user/${aws:username}",
        "user/team/*",
        "policy/Guard",
        "policy/guard",
        "policy/*",
        "role/Deployer",
        "role/deployer",
        "group/Admins",
    ]
    .iter()
    .map(|r| {
        if *r == "*" {
            "*".to_owned()
        } else {
            format!("{A}:{r}")
        }
    })
    .collect()
}

fn random_condition(rng: &mut Rng) -> String {
    let b = format!("{A}:policy/B");
    let guard = format!("{A}:policy/Guard");
    match rng.below(9) {
        0 => format!(r#"{{"StringEquals":{{"iam:PermissionsBoundary":"{b}"}}}}"#),
        1 => format!(r#"{{"ArnEquals":{{"iam:PermissionsBoundary":"{b}"}}}}"#),
        2 => r#"{"Null":{"iam:PermissionsBoundary":"true"}}"#.to_owned(),
        3 => format!(r#"{{"ArnEquals":{{"iam:PolicyARN":"{guard}"}}}}"#),
        4 => format!(r#"{{"ArnLike":{{"iam:PolicyARN":"{A}:policy/G*"}}}}"#),
        5 => r#"{"StringEquals":{"aws:RequestTag/team":"red"}}"#.to_owned(),
        6 => r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}"#.to_owned(),
        7 => r#"{"StringEquals":{"iam:ResourceTag/team":"red"}}"#.to_owned(),
        _ => r#"{"StringEquals":{"aws:ResourceTag/team":"blue"}}"#.to_owned(),
    }
}

fn random_policy(rng: &mut Rng) -> String {
    let resources = resources();
    let statements: Vec<String> = (0..1 + rng.below(3))
        .map(|_| {
            let effect = if rng.chance(80) { "Allow" } else { "Deny" };
            let actions: Vec<String> = (0..1 + rng.below(3))
                .map(|_| format!("\"{}\"", rng.pick(ACTIONS)))
                .collect();
            let res: Vec<String> = (0..1 + rng.below(2))
                .map(|_| format!("\"{}\"", resources[rng.below(resources.len())]))
                .collect();
            let condition = if rng.chance(40) {
                format!(",\"Condition\":{}", random_condition(rng))
            } else {
                String::new()
            };
            format!(
                r#"{{"Effect":"{effect}","Action":[{}],"Resource":[{}]{condition}}}"#,
                actions.join(","),
                res.join(",")
            )
        })
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

type Params = Vec<(String, String)>;

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

fn random_call(rng: &mut Rng, actor: &str, fresh: usize) -> (&'static str, Params) {
    let users = ["Alice", "alice", "ALICE", "bob", "Bob", "ghost", actor];
    let user = rng.pick(&users).to_owned();
    let policies = ["Guard", "guard", "GUARD", "B", "b", "Missing"];
    let policy = format!("{A}:policy/{}", rng.pick(&policies));
    let roles = ["Deployer", "deployer"];
    let role = rng.pick(&roles).to_owned();
    let doc = if rng.chance(50) { STAR } else { S3 };
    let new_user = format!("n{fresh}");
    let (action, mut params): (&str, Params) = match rng.below(20) {
        0 | 1 => (
            "PutUserPolicy",
            vec![
                p("UserName", &user),
                p("PolicyName", "p"),
                p("PolicyDocument", doc),
            ],
        ),
        2 => (
            "DeleteUserPolicy",
            vec![p("UserName", &user), p("PolicyName", "p")],
        ),
        3 | 4 => (
            "AttachUserPolicy",
            vec![p("UserName", &user), p("PolicyArn", &policy)],
        ),
        5 => (
            "DetachUserPolicy",
            vec![p("UserName", &user), p("PolicyArn", &policy)],
        ),
        6 => (
            "PutUserPermissionsBoundary",
            vec![p("UserName", &user), p("PermissionsBoundary", &policy)],
        ),
        7 => ("DeleteUserPermissionsBoundary", vec![p("UserName", &user)]),
        8 | 9 => ("CreateUser", vec![p("UserName", &new_user)]),
        10 => (
            "TagUser",
            vec![
                p("UserName", &user),
                p("Tags.member.1.Key", "team"),
                p("Tags.member.1.Value", rng.pick(&["red", "blue"])),
            ],
        ),
        11 => (
            "UntagUser",
            vec![p("UserName", &user), p("TagKeys.member.1", "team")],
        ),
        12 => {
            // The actor keeps its name, so its key stays its own.
            let target = if user == actor { "bob" } else { user.as_str() };
            let mut params = vec![p("UserName", target)];
            if rng.chance(50) {
                params.push(p("NewPath", rng.pick(&["/team/", "/"])));
            } else {
                params.push(p("NewUserName", &new_user));
            }
            ("UpdateUser", params)
        }
        13 => ("GetUser", vec![p("UserName", &user)]),
        14 => (
            "CreatePolicyVersion",
            vec![
                p("PolicyArn", &policy),
                p("PolicyDocument", doc),
                p("SetAsDefault", "true"),
            ],
        ),
        15 => (
            "AttachRolePolicy",
            vec![p("RoleName", &role), p("PolicyArn", &policy)],
        ),
        16 => (
            "PutRolePolicy",
            vec![
                p("RoleName", &role),
                p("PolicyName", "p"),
                p("PolicyDocument", doc),
            ],
        ),
        17 => (
            "TagRole",
            vec![
                p("RoleName", &role),
                p("Tags.member.1.Key", "team"),
                p("Tags.member.1.Value", rng.pick(&["red", "blue"])),
            ],
        ),
        18 => (
            "AttachGroupPolicy",
            vec![
                p("GroupName", rng.pick(&["Admins", "admins"])),
                p("PolicyArn", &policy),
            ],
        ),
        _ => ("ListUsers", vec![]),
    };
    // Parameters the action may or may not read: each the attacker's try
    // at setting a key.
    let has = |params: &Params, k: &str| params.iter().any(|(n, _)| n == k);
    if rng.chance(40) && !has(&params, "PermissionsBoundary") {
        params.push(p(
            "PermissionsBoundary",
            &format!("{A}:policy/{}", rng.pick(&["B", "b", "Guard"])),
        ));
    }
    if rng.chance(30) && !has(&params, "PolicyArn") {
        params.push(p(
            "PolicyArn",
            &format!("{A}:policy/{}", rng.pick(&["Guard", "guard"])),
        ));
    }
    if rng.chance(30) && !has(&params, "Tags.member.1.Key") {
        params.push(p("Tags.member.1.Key", "team"));
        params.push(p("Tags.member.1.Value", rng.pick(&["red", "blue"])));
    }
    (action, params)
}

/// The oracle: resources and context of a call as AWS defines them,
/// derived from the stored state by code independent of the server's.
struct Oracle<'a> {
    state: &'a AccountState,
}

/// One authorization the call needs: action, resource, context.
struct Check {
    action: String,
    resource: String,
    context: Context,
}

fn get<'p>(params: &'p Params, k: &str) -> Option<&'p str> {
    params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

impl Oracle<'_> {
    fn user(&self, name: &str) -> (String, Vec<(String, String)>, Option<String>) {
        match self
            .state
            .users
            .values()
            .find(|u| u.name.as_str().eq_ignore_ascii_case(name))
        {
            Some(u) => (
                format!("{A}:user{}{}", u.path.as_str(), u.name.as_str()),
                u.tags
                    .values()
                    .map(|t| (t.key.as_str().to_owned(), t.value.as_str().to_owned()))
                    .collect(),
                u.permissions_boundary
                    .as_ref()
                    .map(|b| self.policy_arn(&b.to_string())),
            ),
            None => (format!("{A}:user/{name}"), vec![], None),
        }
    }

    fn role(&self, name: &str) -> (String, Vec<(String, String)>, Option<String>) {
        let r = self
            .state
            .roles
            .values()
            .find(|r| r.name.as_str().eq_ignore_ascii_case(name))
            .expect("the test's roles are never deleted");
        (
            format!("{A}:role{}{}", r.path.as_str(), r.name.as_str()),
            r.tags
                .values()
                .map(|t| (t.key.as_str().to_owned(), t.value.as_str().to_owned()))
                .collect(),
            r.permissions_boundary
                .as_ref()
                .map(|b| self.policy_arn(&b.to_string())),
        )
    }

    /// A policy ARN as the stored policy spells it, if there is one.
    fn policy_arn(&self, arn: &str) -> String {
        let (prefix, name) = arn.rsplit_once('/').unwrap();
        let path = prefix
            .split_once(":policy")
            .map(|(_, p)| format!("{p}/"))
            .unwrap();
        match self
            .state
            .policies
            .values()
            .find(|p| p.name.as_str().eq_ignore_ascii_case(name) && p.path.as_str() == path)
        {
            Some(p) => format!("{A}:policy{}{}", p.path.as_str(), p.name.as_str()),
            None => arn.to_owned(),
        }
    }

    fn policy_tags(&self, arn: &str) -> Vec<(String, String)> {
        let canonical = self.policy_arn(arn);
        self.state
            .policies
            .values()
            .find(|p| format!("{A}:policy{}{}", p.path.as_str(), p.name.as_str()) == canonical)
            .map(|p| {
                p.tags
                    .values()
                    .map(|t| (t.key.as_str().to_owned(), t.value.as_str().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The authorizations `action` with `params` needs.
    fn checks(&self, action: &str, params: &Params) -> Vec<Check> {
        let mut context = Context::new();
        let mut resource_tags = vec![];
        let mut stored_boundary = None;
        let resource = if action == "ListUsers" {
            format!("{A}:user/")
        } else if let Some(name) = get(params, "UserName") {
            let (arn, tags, boundary) = self.user(name);
            resource_tags = tags;
            stored_boundary = boundary;
            arn
        } else if let Some(name) = get(params, "RoleName") {
            let (arn, tags, boundary) = self.role(name);
            resource_tags = tags;
            stored_boundary = boundary;
            arn
        } else if let Some(name) = get(params, "GroupName") {
            let g = self
                .state
                .groups
                .values()
                .find(|g| g.name.as_str().eq_ignore_ascii_case(name))
                .unwrap();
            format!("{A}:group{}{}", g.path.as_str(), g.name.as_str())
        } else {
            let arn = get(params, "PolicyArn").unwrap();
            resource_tags = self.policy_tags(arn);
            self.policy_arn(arn)
        };
        // CreateUser names a user that does not exist yet.
        let resource = if action == "CreateUser" {
            resource_tags.clear();
            format!("{A}:user/{}", get(params, "UserName").unwrap())
        } else {
            resource
        };
        for (k, v) in &resource_tags {
            context.insert(&format!("aws:ResourceTag/{k}"), v.as_str());
            context.insert(&format!("iam:ResourceTag/{k}"), v.as_str());
        }
        // The Service Authorization Reference's keys for these actions.
        let request_tags = matches!(action, "CreateUser" | "TagUser" | "TagRole");
        let removed_tags = action == "UntagUser";
        let requested_boundary = matches!(action, "CreateUser" | "PutUserPermissionsBoundary");
        let stored = matches!(
            action,
            "PutUserPolicy"
                | "DeleteUserPolicy"
                | "AttachUserPolicy"
                | "DetachUserPolicy"
                | "DeleteUserPermissionsBoundary"
                | "AttachRolePolicy"
                | "PutRolePolicy"
        );
        let policy_arn_key = matches!(
            action,
            "AttachUserPolicy" | "DetachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy"
        );
        let tag = get(params, "Tags.member.1.Key").map(|k| {
            (
                k.to_owned(),
                get(params, "Tags.member.1.Value").unwrap_or("").to_owned(),
            )
        });
        if request_tags {
            if let Some((k, v)) = &tag {
                context.insert(&format!("aws:RequestTag/{k}"), v.as_str());
                context.insert_many("aws:TagKeys", vec![k.clone()]);
            }
        }
        if removed_tags {
            context.insert_many(
                "aws:TagKeys",
                vec![get(params, "TagKeys.member.1").unwrap().to_owned()],
            );
        }
        if requested_boundary {
            if let Some(b) = get(params, "PermissionsBoundary") {
                context.insert("iam:PermissionsBoundary", self.policy_arn(b));
            }
        }
        if stored {
            if let Some(b) = &stored_boundary {
                context.insert("iam:PermissionsBoundary", b.as_str());
            }
        }
        if policy_arn_key {
            context.insert(
                "iam:PolicyARN",
                self.policy_arn(get(params, "PolicyArn").unwrap()),
            );
        }
        let mut checks = vec![Check {
            action: format!("iam:{action}"),
            resource: resource.clone(),
            context: context.clone(),
        }];
        // Tags on create also need the tag action.
        if action == "CreateUser" && tag.is_some() {
            checks.push(Check {
                action: "iam:TagUser".into(),
                resource: resource.clone(),
                context: context.clone(),
            });
        }
        // A rename or move also needs the permission on the new ARN.
        if action == "UpdateUser" {
            let existing = self.state.users.values().find(|u| {
                u.name
                    .as_str()
                    .eq_ignore_ascii_case(get(params, "UserName").unwrap())
            });
            let path = get(params, "NewPath")
                .map(str::to_owned)
                .or(existing.map(|u| u.path.as_str().to_owned()))
                .unwrap_or_else(|| "/".into());
            let name = get(params, "NewUserName")
                .map(str::to_owned)
                .or(existing.map(|u| u.name.as_str().to_owned()))
                .unwrap_or_else(|| get(params, "UserName").unwrap().to_owned());
            let new = format!("{A}:user{path}{name}");
            if new != resource {
                checks.push(Check {
                    action: "iam:UpdateUser".into(),
                    resource: new,
                    context: Context::new(),
                });
            }
        }
        checks
    }

    /// The actor's policies as stored: inline, attached, boundary.
    fn authorizer(&self, actor: &str) -> Authorizer {
        let user = self
            .state
            .users
            .values()
            .find(|u| u.name.as_str() == actor)
            .unwrap();
        assert!(user.groups.is_empty(), "the actor is in no group");
        let compile = |text: &str| CompiledPolicy::compile(&PolicyDocument::parse(text).unwrap());
        let managed = |key: &iam_domain::names::NameKey| {
            let p = self.state.policies.get(key).unwrap();
            compile(&p.versions[&p.default_version].document)
        };
        let mut policies: Vec<CompiledPolicy> = user
            .inline_policies
            .values()
            .map(|p| compile(&p.document))
            .collect();
        policies.extend(user.attached_policies.iter().map(managed));
        let mut authorizer = Authorizer::new(PolicySet::new(policies));
        if let Some(b) = &user.permissions_boundary {
            let canonical = self.policy_arn(&b.to_string());
            let key = self
                .state
                .policies
                .iter()
                .find(|(_, p)| {
                    format!("{A}:policy{}{}", p.path.as_str(), p.name.as_str()) == canonical
                })
                .map(|(k, _)| k.clone())
                .expect("a boundary in use exists");
            authorizer = authorizer.with_permissions_boundary(managed(&key));
        }
        authorizer
    }

    fn allows(&self, actor: &str, action: &str, params: &Params) -> bool {
        let authorizer = self.authorizer(actor);
        self.checks(action, params).into_iter().all(|c| {
            let request = Request::new(
                Principal::parse(&format!("{A}:user/{actor}")),
                &c.action,
                &c.resource,
                None,
                c.context,
                Utc::now(),
            );
            authorizer.evaluate(&request).outcome == Outcome::Allow
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_the_server_performs_is_one_the_evaluator_allows() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let boundary = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","s3:*"],"Resource":"*"}]}"#;
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "Guard"), ("PolicyDocument", S3)],
    )
    .await;
    root.ok(
        "CreatePolicy",
        &[("PolicyName", "B"), ("PolicyDocument", boundary)],
    )
    .await;
    root.ok(
        "CreateUser",
        &[
            ("UserName", "Alice"),
            ("Path", "/team/"),
            ("PermissionsBoundary", &format!("{A}:policy/B")),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "red"),
        ],
    )
    .await;
    root.ok("CreateUser", &[("UserName", "bob")]).await;
    root.ok("CreateGroup", &[("GroupName", "Admins")]).await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    root.ok(
        "CreateRole",
        &[
            ("RoleName", "Deployer"),
            ("AssumeRolePolicyDocument", trust),
            ("PermissionsBoundary", &format!("{A}:policy/B")),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;

    let seed: u64 = std::env::var("IAMD_PROPERTY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1a3d_5eed);
    let mut rng = Rng(seed | 1);
    let account = app.state.account_id.clone();
    let (mut allowed, mut denied, mut performed, mut fresh) = (0, 0, 0, 0);
    for case in 0..60 {
        let actor = format!("actor{case}");
        let policy = random_policy(&mut rng);
        let client = user_with_policy(&root, &actor, &policy).await;
        for step in 0..25 {
            fresh += 1;
            let (action, params) = random_call(&mut rng, &actor, fresh);
            let view = app.state.projection.view(&account).unwrap();
            let oracle = Oracle { state: &view.state };
            let expected = oracle.allows(&actor, action, &params);
            let borrowed: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let reply = client.call(action, &borrowed).await;
            let code = reply.error_code();
            let judged = match code.as_deref() {
                // Refused before authorization: says nothing either way.
                Some("ValidationError") => None,
                Some("AccessDenied") => Some(false),
                None if reply.status == 200 => {
                    performed += 1;
                    Some(true)
                }
                // Refused by the domain, after authorization.
                Some(_) => Some(true),
                None => panic!("unexpected reply {}: {}", reply.status, reply.body),
            };
            if let Some(server_allowed) = judged {
                assert_eq!(
                    server_allowed, expected,
                    "seed {seed:#x}, case {case}, step {step}: {action} {params:?}\n\
                     policy {policy}\nreply {}",
                    reply.body
                );
                if expected {
                    allowed += 1;
                } else {
                    denied += 1;
                }
            }
        }
    }
    eprintln!("allowed {allowed}, denied {denied}, performed {performed}");
    // Both branches of the property must have run often.
    assert!(allowed >= 100, "only {allowed} allowed calls");
    assert!(denied >= 100, "only {denied} denied calls");
    assert!(performed >= 50, "only {performed} performed calls");
    app.stop().await;
}
