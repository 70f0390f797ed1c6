//! The console's entities: the lists of groups, roles and customer managed
//! policies with their create forms; the pages of groups, roles, policies
//! and inline policies; and every form that changes a user, group, role or
//! policy (attachments, memberships, inline policies, tags, access keys,
//! trust policies, policy versions, deletion).
//!
//! Each form is one IAM operation called as the signed-in person
//! ([`apply`]): on success the browser goes to the changed entity's page,
//! on a refusal the page is shown again with AWS's reason and what the
//! person typed (a policy text that fails validation is not lost). Pages
//! as of a past moment read through the API at that moment and show no
//! form (`entity_pages`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use serde_json::{json, Value};

use iam_wire::iam::ops as iam;
use iam_wire::{Operation, OperationSpec};

use super::entity_pages::{self as view, Draft, Listing};
use super::pages::Frame;
use super::{
    checked, csrf_refused, html, not_found, secured, to_sign_in, urlencode, Console, Fields, Peer,
    Signed,
};

type Form = HashMap<String, String>;
type Spec = &'static OperationSpec;

/// The identities whose pages share their forms.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    User,
    Group,
    Role,
}

/// The operations that change one kind of identity.
struct Ops {
    /// The console's path segment (`users`) and the page's noun.
    plural: &'static str,
    noun: &'static str,
    /// The input member naming the identity (`UserName`).
    key: &'static str,
    delete: Spec,
    attach: Spec,
    detach: Spec,
    get_inline: Spec,
    put_inline: Spec,
    delete_inline: Spec,
    /// Tag and untag (groups have no tags).
    tags: Option<(Spec, Spec)>,
}

const USER: Ops = Ops {
    plural: "users",
    noun: "user",
    key: "UserName",
    delete: iam::DeleteUser::SPEC,
    attach: iam::AttachUserPolicy::SPEC,
    detach: iam::DetachUserPolicy::SPEC,
    get_inline: iam::GetUserPolicy::SPEC,
    put_inline: iam::PutUserPolicy::SPEC,
    delete_inline: iam::DeleteUserPolicy::SPEC,
    tags: Some((iam::TagUser::SPEC, iam::UntagUser::SPEC)),
};

const GROUP: Ops = Ops {
    plural: "groups",
    noun: "group",
    key: "GroupName",
    delete: iam::DeleteGroup::SPEC,
    attach: iam::AttachGroupPolicy::SPEC,
    detach: iam::DetachGroupPolicy::SPEC,
    get_inline: iam::GetGroupPolicy::SPEC,
    put_inline: iam::PutGroupPolicy::SPEC,
    delete_inline: iam::DeleteGroupPolicy::SPEC,
    tags: None,
};

const ROLE: Ops = Ops {
    plural: "roles",
    noun: "role",
    key: "RoleName",
    delete: iam::DeleteRole::SPEC,
    attach: iam::AttachRolePolicy::SPEC,
    detach: iam::DetachRolePolicy::SPEC,
    get_inline: iam::GetRolePolicy::SPEC,
    put_inline: iam::PutRolePolicy::SPEC,
    delete_inline: iam::DeleteRolePolicy::SPEC,
    tags: Some((iam::TagRole::SPEC, iam::UntagRole::SPEC)),
};

impl Kind {
    const ALL: [Kind; 3] = [Kind::User, Kind::Group, Kind::Role];

    fn ops(self) -> &'static Ops {
        match self {
            Kind::User => &USER,
            Kind::Group => &GROUP,
            Kind::Role => &ROLE,
        }
    }

    /// The identity's page.
    fn page(self, name: &str) -> String {
        format!("/console/{}/{}", self.ops().plural, urlencode(name))
    }

    /// An input naming the identity, with `more` members.
    fn input(self, name: &str, more: Value) -> Value {
        let mut input = json!({});
        input[self.ops().key] = json!(name);
        with(input, more)
    }
}

/// What a page or form is about.
pub(super) enum Target {
    /// A user's, group's or role's page.
    Entity(Kind, String),
    /// A managed policy's page, by ARN.
    Policy(String),
    /// An inline policy: its owner and its name (empty: a new one).
    Inline(Kind, String, String),
    /// A list, with its create form.
    List(Listing),
}

impl Target {
    /// The page a change of this goes back to.
    fn home(&self) -> String {
        match self {
            Target::Entity(kind, name) => kind.page(name),
            Target::Policy(arn) => view::policy_path(arn),
            Target::Inline(kind, owner, policy) => {
                format!("{}/inline/{}", kind.page(owner), urlencode(policy))
            }
            Target::List(listing) => listing.base().to_owned(),
        }
    }

    /// The page, made of API calls as the signed-in person (`query`: a
    /// list's search and marker), with what a failed form left.
    async fn render(&self, s: &Signed<'_>, query: &Form, draft: Draft<'_>) -> Response {
        match self {
            Target::Entity(Kind::User, name) => super::render_user(s, name, draft.error).await,
            Target::Entity(Kind::Group, name) => render_group(s, name, draft).await,
            Target::Entity(Kind::Role, name) => render_role(s, name, draft).await,
            Target::Policy(arn) => render_policy(s, arn, draft).await,
            Target::Inline(kind, owner, policy) => {
                render_inline(s, *kind, (owner, policy), draft).await
            }
            Target::List(listing) => render_list(s, *listing, query, draft).await,
        }
    }
}

/// Where a form goes when its operation succeeds.
enum Then {
    /// The target's page.
    Home,
    To(String),
    /// The new policy's page (its ARN is in the answer).
    NewPolicy,
    /// The new access key, its secret shown once.
    NewKey,
}

/// What a form asks for: an IAM operation, its input, and where to go
/// when it succeeds.
struct Change {
    action: Spec,
    input: Value,
    then: Then,
}

fn redirect(to: &str) -> Response {
    secured(Redirect::to(to).into_response())
}

/// A page, or the sign-in page for a browser without a session.
async fn show(
    c: &Console,
    headers: &HeaderMap,
    peer: Peer,
    query: &Form,
    target: Target,
) -> Response {
    match c.signed(headers, peer, query) {
        Some(s) => target.render(&s, query, Draft::default()).await,
        None => to_sign_in(),
    }
}

/// A form that changes `target`: the session's, with its CSRF token, then
/// the operation as the signed-in person; on success the next page, on a
/// refusal the target's page with AWS's reason and the form as typed.
async fn apply(
    c: &Console,
    headers: &HeaderMap,
    peer: Peer,
    form: &Form,
    (target, change): (Target, Option<Change>),
) -> Response {
    let Some(s) = c.signed(headers, peer, &HashMap::new()) else {
        return to_sign_in();
    };
    if !checked(&s.session, form) {
        return csrf_refused();
    }
    let Some(Change {
        action,
        input,
        then,
    }) = change
    else {
        return not_found().await;
    };
    match s.api.aws(action, &input).await {
        Ok(answer) => match then {
            Then::Home => redirect(&target.home()),
            Then::To(path) => redirect(&path),
            Then::NewPolicy => redirect(&view::policy_path(
                answer["Policy"]["Arn"].as_str().unwrap_or_default(),
            )),
            Then::NewKey => {
                let head = s.api.head().await;
                html(view::new_key(
                    &Frame::of(&s, head, "New access key"),
                    &target.home(),
                    &answer,
                ))
            }
        },
        Err(e) => {
            let draft = Draft {
                error: Some(&e),
                form: Some(form),
            };
            target.render(&s, &HashMap::new(), draft).await
        }
    }
}

/// `input` with the members of `more` (an object) added.
fn with(mut input: Value, more: Value) -> Value {
    if let (Some(all), Value::Object(more)) = (input.as_object_mut(), more) {
        all.extend(more);
    }
    input
}

fn field(form: &Form, key: &str) -> Value {
    json!(form.get(key).map(String::as_str).unwrap_or_default())
}

/// A form of a user's, group's or role's page, by the last segment of its
/// action.
fn entity_change(kind: Kind, name: &str, change: &str, form: &Form) -> Option<Change> {
    let ops = kind.ops();
    let f = |key: &str| field(form, key);
    let (action, more, then) = match (change, kind) {
        ("delete", _) => (
            ops.delete,
            json!({}),
            Then::To(format!("/console/{}", ops.plural)),
        ),
        ("attach", _) => (
            ops.attach,
            json!({"PolicyArn": f("policy_arn")}),
            Then::Home,
        ),
        ("detach", _) => (
            ops.detach,
            json!({"PolicyArn": f("policy_arn")}),
            Then::Home,
        ),
        ("delete-inline", _) => (
            ops.delete_inline,
            json!({"PolicyName": f("policy_name")}),
            Then::Home,
        ),
        ("tag", _) => (
            ops.tags?.0,
            json!({"Tags": [{"Key": f("tag_key"), "Value": f("tag_value")}]}),
            Then::Home,
        ),
        ("untag", _) => (ops.tags?.1, json!({"TagKeys": [f("tag_key")]}), Then::Home),
        ("add-member", Kind::Group) => (
            iam::AddUserToGroup::SPEC,
            json!({"UserName": f("user_name")}),
            Then::Home,
        ),
        ("remove-member", Kind::Group) => (
            iam::RemoveUserFromGroup::SPEC,
            json!({"UserName": f("user_name")}),
            Then::Home,
        ),
        ("trust", Kind::Role) => (
            iam::UpdateAssumeRolePolicy::SPEC,
            json!({"PolicyDocument": f("document")}),
            Then::Home,
        ),
        ("create-key", Kind::User) => (iam::CreateAccessKey::SPEC, json!({}), Then::NewKey),
        ("update-key", Kind::User) => (
            iam::UpdateAccessKey::SPEC,
            json!({"AccessKeyId": f("access_key_id"), "Status": f("status")}),
            Then::Home,
        ),
        ("delete-key", Kind::User) => (
            iam::DeleteAccessKey::SPEC,
            json!({"AccessKeyId": f("access_key_id")}),
            Then::Home,
        ),
        _ => return None,
    };
    Some(Change {
        action,
        input: kind.input(name, more),
        then,
    })
}

/// A form of a managed policy's page, by its `change` field.
fn policy_change(arn: &str, form: &Form) -> Option<Change> {
    let f = |key: &str| field(form, key);
    let (action, more, then) = match form.get("change")?.as_str() {
        "delete" => (
            iam::DeletePolicy::SPEC,
            json!({}),
            Then::To(Listing::Policies.base().to_owned()),
        ),
        "version" => (
            iam::CreatePolicyVersion::SPEC,
            json!({"PolicyDocument": f("document"), "SetAsDefault": form.contains_key("set_as_default")}),
            Then::Home,
        ),
        "default" => (
            iam::SetDefaultPolicyVersion::SPEC,
            json!({"VersionId": f("version_id")}),
            Then::Home,
        ),
        "delete-version" => (
            iam::DeletePolicyVersion::SPEC,
            json!({"VersionId": f("version_id")}),
            Then::Home,
        ),
        _ => return None,
    };
    Some(Change {
        action,
        input: with(json!({"PolicyArn": arn}), more),
        then,
    })
}

/// A list's create form.
fn create(listing: Listing, form: &Form) -> Change {
    let f = |key: &str| field(form, key);
    let name = |key: &str| form.get(key).cloned().unwrap_or_default();
    match listing {
        Listing::Users => Change {
            action: iam::CreateUser::SPEC,
            input: json!({"UserName": f("user_name")}),
            then: Then::To(Kind::User.page(&name("user_name"))),
        },
        Listing::Groups => Change {
            action: iam::CreateGroup::SPEC,
            input: json!({"GroupName": f("group_name")}),
            then: Then::To(Kind::Group.page(&name("group_name"))),
        },
        Listing::Roles => Change {
            action: iam::CreateRole::SPEC,
            input: json!({"RoleName": f("role_name"), "AssumeRolePolicyDocument": f("document")}),
            then: Then::To(Kind::Role.page(&name("role_name"))),
        },
        Listing::Policies => Change {
            action: iam::CreatePolicy::SPEC,
            input: json!({"PolicyName": f("policy_name"), "PolicyDocument": f("document")}),
            then: Then::NewPolicy,
        },
    }
}

/// Saving an inline policy (`Put*Policy`); a failed new one shows the new
/// policy's form again.
fn put_inline(kind: Kind, owner: &str, form: &Form) -> (Target, Option<Change>) {
    let policy = form.get("policy_name").cloned().unwrap_or_default();
    let change = Change {
        action: kind.ops().put_inline,
        input: kind.input(
            owner,
            json!({"PolicyName": policy, "PolicyDocument": field(form, "document")}),
        ),
        then: Then::To(Target::Inline(kind, owner.to_owned(), policy.clone()).home()),
    };
    let shown = if form.contains_key("new") {
        String::new()
    } else {
        policy
    };
    (Target::Inline(kind, owner.to_owned(), shown), Some(change))
}

async fn render_list(s: &Signed<'_>, listing: Listing, query: &Form, draft: Draft<'_>) -> Response {
    let spec = match listing {
        Listing::Users => iam::ListUsers::SPEC,
        Listing::Groups => iam::ListGroups::SPEC,
        Listing::Roles => iam::ListRoles::SPEC,
        Listing::Policies => iam::ListPolicies::SPEC,
    };
    let mut input = json!({"MaxItems": 50});
    if listing == Listing::Policies {
        input["Scope"] = json!("Local");
    }
    if let Some(m) = query.get("marker").filter(|m| !m.is_empty()) {
        input["Marker"] = json!(m);
    }
    let listed = s.api.aws(spec, &input).await;
    let head = s.api.head().await;
    html(view::list(
        &Frame::of(s, head, listing.title()),
        listing,
        &listed,
        query.get("q").map(String::as_str).unwrap_or_default(),
        draft,
    ))
}

async fn render_group(s: &Signed<'_>, name: &str, draft: Draft<'_>) -> Response {
    let input = json!({"GroupName": name});
    let parts = view::GroupParts {
        group: s.api.aws(iam::GetGroup::SPEC, &input).await,
        attached: s
            .api
            .aws(iam::ListAttachedGroupPolicies::SPEC, &input)
            .await,
        inline: s.api.aws(iam::ListGroupPolicies::SPEC, &input).await,
    };
    let head = s.api.head().await;
    html(view::group(&Frame::of(s, head, name), name, parts, draft))
}

async fn render_role(s: &Signed<'_>, name: &str, draft: Draft<'_>) -> Response {
    let input = json!({"RoleName": name});
    let parts = view::RoleParts {
        role: s.api.aws(iam::GetRole::SPEC, &input).await,
        attached: s.api.aws(iam::ListAttachedRolePolicies::SPEC, &input).await,
        inline: s.api.aws(iam::ListRolePolicies::SPEC, &input).await,
        tags: s.api.aws(iam::ListRoleTags::SPEC, &input).await,
    };
    let head = s.api.head().await;
    html(view::role(&Frame::of(s, head, name), name, parts, draft))
}

async fn render_policy(s: &Signed<'_>, arn: &str, draft: Draft<'_>) -> Response {
    let input = json!({"PolicyArn": arn});
    let policy = s.api.aws(iam::GetPolicy::SPEC, &input).await;
    let version = match &policy {
        Ok(p) => Some(
            s.api
                .aws(
                    iam::GetPolicyVersion::SPEC,
                    &json!({"PolicyArn": arn, "VersionId": p["Policy"]["DefaultVersionId"]}),
                )
                .await,
        ),
        Err(_) => None,
    };
    let versions = s.api.aws(iam::ListPolicyVersions::SPEC, &input).await;
    let entities = s.api.aws(iam::ListEntitiesForPolicy::SPEC, &input).await;
    let head = s.api.head().await;
    let title = policy
        .as_ref()
        .ok()
        .and_then(|p| p["Policy"]["PolicyName"].as_str())
        .unwrap_or(arn)
        .to_owned();
    html(view::policy(
        &Frame::of(s, head, &title),
        arn,
        view::PolicyParts {
            policy,
            version,
            versions,
            entities,
        },
        draft,
    ))
}

async fn render_inline(
    s: &Signed<'_>,
    kind: Kind,
    (owner, policy): (&str, &str),
    draft: Draft<'_>,
) -> Response {
    let ops = kind.ops();
    let got = if policy.is_empty() {
        None
    } else {
        let input = kind.input(owner, json!({"PolicyName": policy}));
        Some(s.api.aws(ops.get_inline, &input).await)
    };
    let head = s.api.head().await;
    let title = if policy.is_empty() {
        format!("New inline policy of {owner}")
    } else {
        policy.to_owned()
    };
    let owner_page = kind.page(owner);
    html(view::inline(
        &Frame::of(s, head, &title),
        view::InlineOf {
            owner_page: &owner_page,
            noun: ops.noun,
            owner,
            policy,
        },
        got.as_ref(),
        draft,
    ))
}

type Shared = State<Arc<Console>>;
type Params = Query<HashMap<String, String>>;

/// A list page and its create form.
fn list_routes(listing: Listing) -> MethodRouter<Arc<Console>> {
    get(
        move |State(c): Shared, headers: HeaderMap, peer: Peer, Query(query): Params| async move {
            show(&c, &headers, peer, &query, Target::List(listing)).await
        },
    )
    .post(
        move |State(c): Shared, headers: HeaderMap, peer: Peer, Fields(form): Fields| async move {
            let change = create(listing, &form);
            apply(
                &c,
                &headers,
                peer,
                &form,
                (Target::List(listing), Some(change)),
            )
            .await
        },
    )
}

/// The console's entity routes (merged into `super::routes`).
pub(super) fn routes() -> Router<Arc<Console>> {
    let mut router = Router::new()
        .route("/console/policies/validate", post(super::editor::validate))
        .route(
            "/console/policies/{*arn}",
            get(
                |State(c): Shared,
                 headers: HeaderMap,
                 peer: Peer,
                 Path(arn): Path<String>,
                 Query(query): Params| async move {
                    show(&c, &headers, peer, &query, Target::Policy(arn)).await
                },
            )
            .post(
                |State(c): Shared,
                 headers: HeaderMap,
                 peer: Peer,
                 Path(arn): Path<String>,
                 Fields(form): Fields| async move {
                    let change = policy_change(&arn, &form);
                    apply(&c, &headers, peer, &form, (Target::Policy(arn), change)).await
                },
            ),
        );
    for listing in [
        Listing::Users,
        Listing::Groups,
        Listing::Roles,
        Listing::Policies,
    ] {
        router = router.route(listing.base(), list_routes(listing));
    }
    for kind in Kind::ALL {
        let base = format!("/console/{}/{{name}}", kind.ops().plural);
        if kind != Kind::User {
            router = router.route(
                &base,
                get(
                    move |State(c): Shared,
                          headers: HeaderMap,
                          peer: Peer,
                          Path(name): Path<String>,
                          Query(query): Params| async move {
                        show(&c, &headers, peer, &query, Target::Entity(kind, name)).await
                    },
                ),
            );
        }
        router = router
            .route(
                &format!("{base}/{{change}}"),
                post(
                    move |State(c): Shared,
                          headers: HeaderMap,
                          peer: Peer,
                          Path((name, change)): Path<(String, String)>,
                          Fields(form): Fields| async move {
                        let planned = entity_change(kind, &name, &change, &form);
                        apply(
                            &c,
                            &headers,
                            peer,
                            &form,
                            (Target::Entity(kind, name), planned),
                        )
                        .await
                    },
                ),
            )
            .route(
                &format!("{base}/inline"),
                get(
                    move |State(c): Shared,
                          headers: HeaderMap,
                          peer: Peer,
                          Path(name): Path<String>,
                          Query(query): Params| async move {
                        show(
                            &c,
                            &headers,
                            peer,
                            &query,
                            Target::Inline(kind, name, String::new()),
                        )
                        .await
                    },
                )
                .post(
                    move |State(c): Shared,
                          headers: HeaderMap,
                          peer: Peer,
                          Path(name): Path<String>,
                          Fields(form): Fields| async move {
                        let planned = put_inline(kind, &name, &form);
                        apply(&c, &headers, peer, &form, planned).await
                    },
                ),
            )
            .route(
                &format!("{base}/inline/{{policy}}"),
                get(
                    move |State(c): Shared,
                          headers: HeaderMap,
                          peer: Peer,
                          Path((name, policy)): Path<(String, String)>,
                          Query(query): Params| async move {
                        show(
                            &c,
                            &headers,
                            peer,
                            &query,
                            Target::Inline(kind, name, policy),
                        )
                        .await
                    },
                ),
            );
    }
    router
}
