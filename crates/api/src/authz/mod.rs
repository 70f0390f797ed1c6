//! Authorization of every admin call by iamd's own evaluator.
//!
//! Three rules keep a caller from talking the server out of its policies:
//! - **The resource is the stored entity.** IAM names are unique regardless
//!   of case, but the evaluator compares ARNs as AWS does, case-sensitively.
//!   A call is therefore authorized against the ARN of the entity the
//!   request resolves to (its stored path and spelling), never the caller's
//!   spelling, so `policy/guard` cannot slip past a Deny on `policy/Guard`.
//! - **Condition keys come from a table** ([`keys::ACTION_KEYS`]): an action
//!   gets only the keys AWS defines for it, each from its defined source
//!   (a request parameter, validated; or stored state). Resource tags come
//!   from the stored entity.
//! - **A refusal names only what the caller may know**: the resource as the
//!   request named it, unless the caller may read the entity.

pub mod keys;

use chrono::{DateTime, Utc};
use iam_domain::names::{GroupName, RoleName, Tag, TagKey, UserName};
use iam_domain::policy::PolicyDocument;
use iam_domain::{AccountState, Arn};
use iam_evaluator::{CompiledPolicy, Context, Outcome, Overlay, PolicySet, Principal, Request};
use iam_projection::{AccountView, PrincipalKey};

use crate::auth::Caller;
use crate::query::{ApiError, Params};
use crate::session::{IssuedBy, Session};
use iam_wire::{iam::ops as iam, Operation};

/// The action that reads an entity of a kind (`GetUser` for users, ...):
/// a refusal names the stored entity only to a caller allowed it.
const fn reader_of<O: Operation>() -> &'static str {
    O::SPEC.name
}
use keys::KeySource;

/// Facts about the request itself that policies may test.
pub struct RequestFacts<'a> {
    pub source_ip: Option<&'a str>,
    pub secure_transport: bool,
    pub now: DateTime<Utc>,
}

/// How a target was named, so it can be resolved again on a later state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// Not a stored entity (a path prefix, `*`, an entity being created).
    Fixed,
    User(UserName),
    Group(GroupName),
    Role(RoleName),
    Policy(Arn),
}

/// What an action is authorized against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    source: Source,
    /// The stored entity's unique id (`AIDA…`, `AGPA…`, …), if it exists:
    /// the very entity the decision was about, not just one of that name.
    id: Option<String>,
    /// The ARN policies are evaluated against: the stored entity's own ARN
    /// when it exists, else the ARN the request's values would give it.
    arn: String,
    /// The ARN as the request named it, for messages.
    named: String,
    /// The action that reads the stored entity (`GetUser`, ...): a caller
    /// allowed it may be told the stored ARN in a refusal.
    reader: Option<&'static str>,
    /// The stored entity's tags (`aws:ResourceTag/*`, `iam:ResourceTag/*`).
    tags: Vec<(String, String)>,
    /// The stored user's or role's permissions boundary, canonical.
    boundary: Option<String>,
}

impl Target {
    /// A resource that is not a stored entity: a list's path prefix, `*`,
    /// the root user, or an entity about to be created.
    pub fn arn(arn: impl Into<String>) -> Target {
        let arn = arn.into();
        Target {
            source: Source::Fixed,
            id: None,
            named: arn.clone(),
            arn,
            reader: None,
            tags: Vec::new(),
            boundary: None,
        }
    }

    /// This target with a stored entity's tags (`aws:ResourceTag/*`), for
    /// kinds without their own constructor (MFA devices).
    pub fn with_tags<'a>(mut self, tags: impl Iterator<Item = &'a Tag>) -> Target {
        self.tags = tag_pairs(tags);
        self
    }

    /// The user `name` resolves to (or, when there is none, the ARN it
    /// would have at the root path).
    pub fn user(state: &AccountState, account: &str, name: &UserName) -> Target {
        let named = format!("arn:aws:iam::{account}:user/{}", name.as_str());
        let source = Source::User(name.clone());
        match state.users.get(&name.key()) {
            Some(u) => Stored {
                id: u.id.as_str(),
                arn: state.user_arn(u),
                reader: reader_of::<iam::GetUser>(),
                tags: tag_pairs(u.tags.values()),
                boundary: u.permissions_boundary.as_ref(),
            }
            .target(state, source, named),
            None => Target::missing(source, named),
        }
    }

    /// The group `name` resolves to. Groups have no tags in IAM.
    pub fn group(state: &AccountState, account: &str, name: &GroupName) -> Target {
        let named = format!("arn:aws:iam::{account}:group/{}", name.as_str());
        let source = Source::Group(name.clone());
        match state.groups.get(&name.key()) {
            Some(g) => Stored {
                id: g.id.as_str(),
                arn: state.group_arn(g),
                reader: reader_of::<iam::GetGroup>(),
                tags: Vec::new(),
                boundary: None,
            }
            .target(state, source, named),
            None => Target::missing(source, named),
        }
    }

    /// The role `name` resolves to.
    pub fn role(state: &AccountState, account: &str, name: &RoleName) -> Target {
        let named = format!("arn:aws:iam::{account}:role/{}", name.as_str());
        let source = Source::Role(name.clone());
        match state.roles.get(&name.key()) {
            Some(r) => Stored {
                id: r.id.as_str(),
                arn: state.role_arn(r),
                reader: reader_of::<iam::GetRole>(),
                tags: tag_pairs(r.tags.values()),
                boundary: r.permissions_boundary.as_ref(),
            }
            .target(state, source, named),
            None => Target::missing(source, named),
        }
    }

    /// The managed policy `arn` names (its name matched regardless of case).
    pub fn policy(state: &AccountState, arn: &Arn) -> Target {
        if let Arn::AwsPolicy { path, name } = arn {
            // The catalogue's policies never change: their ARN is fixed.
            if let Some(p) = iam_domain::aws_policies::find(path, name) {
                return Target::arn(p.arn());
            }
        }
        let named = arn.to_string();
        let source = Source::Policy(arn.clone());
        match state.policy_by_arn(arn) {
            Some(p) => Stored {
                id: p.id.as_str(),
                arn: state.policy_arn(p),
                reader: reader_of::<iam::GetPolicy>(),
                tags: tag_pairs(p.tags.values()),
                boundary: None,
            }
            .target(state, source, named),
            None => Target::missing(source, named),
        }
    }

    /// The same target, named in refusals as `named` (for requests that
    /// name an entity only indirectly, such as by an access key id).
    pub fn named_as(mut self, named: String) -> Target {
        if self.reader.is_none() {
            self.reader = Some(reader_of::<iam::GetUser>());
        }
        self.named = named;
        self
    }

    /// A named entity that does not exist: the ARN the request's values
    /// give it.
    fn missing(source: Source, named: String) -> Target {
        Target {
            source,
            ..Target::arn(named)
        }
    }

    /// This target resolved again, the same way, on `state`: equal to
    /// `self` exactly when everything the authorization decision read (the
    /// entity, its ARN, tags and boundary) is unchanged.
    pub fn resolve_again(&self, state: &AccountState, account: &str) -> Target {
        let again = match &self.source {
            Source::Fixed => return self.clone(),
            Source::User(n) => Target::user(state, account, n),
            Source::Group(n) => Target::group(state, account, n),
            Source::Role(n) => Target::role(state, account, n),
            Source::Policy(a) => Target::policy(state, a),
        };
        // How a refusal would have named it is not part of the decision.
        Target {
            named: self.named.clone(),
            reader: self.reader,
            ..again
        }
    }

    /// The same target, named in refusals only as `named` (the request's
    /// own values), for ARNs built partly from stored state that a refused
    /// caller may not know (the stored path of a user being renamed).
    pub fn named_only_as(mut self, named: String) -> Target {
        self.named = named;
        self.reader = None;
        self
    }

    /// The ARN policies are evaluated against.
    pub fn resource(&self) -> &str {
        &self.arn
    }
}

/// What authorization reads of a stored entity.
struct Stored<'a> {
    id: &'a str,
    arn: Option<Arn>,
    reader: &'static str,
    tags: Vec<(String, String)>,
    boundary: Option<&'a Arn>,
}

impl Stored<'_> {
    fn target(self, state: &AccountState, source: Source, named: String) -> Target {
        Target {
            source,
            id: Some(self.id.to_owned()),
            arn: self.arn.map_or_else(|| named.clone(), |a| a.to_string()),
            named,
            reader: Some(self.reader),
            tags: self.tags,
            boundary: self.boundary.map(|b| canonical_policy_arn(state, b)),
        }
    }
}

fn tag_pairs<'a>(tags: impl Iterator<Item = &'a Tag>) -> Vec<(String, String)> {
    tags.map(|t| (t.key.as_str().to_owned(), t.value.as_str().to_owned()))
        .collect()
}

/// A managed policy's ARN as stored (its name's stored spelling) when the
/// policy exists in this account; else as given.
pub fn canonical_policy_arn(state: &AccountState, arn: &Arn) -> String {
    if let Arn::AwsPolicy { path, name } = arn {
        if let Some(p) = iam_domain::aws_policies::find(path, name) {
            return p.arn();
        }
    }
    state
        .policy_by_arn(arn)
        .and_then(|p| state.policy_arn(p))
        .unwrap_or_else(|| arn.clone())
        .to_string()
}

/// The request's `Tags`, validated (each tag, and at most
/// [`iam_domain::names::MAX_TAGS_PER_REQUEST`]). Empty when the request has
/// none.
pub fn request_tags(params: &Params) -> Result<Vec<Tag>, ApiError> {
    let raw = params.structs("Tags", &["Key", "Value"]);
    iam_domain::names::check_tag_count(raw.len(), "tags")?;
    raw.into_iter()
        .map(|t| {
            let key = t.get("Key").map(String::as_str).unwrap_or("");
            let value = t.get("Value").map(String::as_str).unwrap_or("");
            Tag::new(key, value).map_err(ApiError::from)
        })
        .collect()
}

/// The request's `TagKeys`, validated.
pub fn request_tag_keys(params: &Params) -> Result<Vec<TagKey>, ApiError> {
    let raw = params.list("TagKeys");
    iam_domain::names::check_tag_count(raw.len(), "tagKeys")?;
    raw.into_iter()
        .map(|k| TagKey::parse(k).map_err(ApiError::from))
        .collect()
}

/// The policy ARN parameter a key names, spelled as the stored policy's ARN.
fn policy_arn_param(
    state: &AccountState,
    params: &Params,
    source: &KeySource,
) -> Result<Option<String>, ApiError> {
    source
        .policy_param()
        .and_then(|name| params.get(name))
        .map(|text| match Arn::parse(text) {
            Ok(arn) => Ok(canonical_policy_arn(state, &arn)),
            Err(e) => Err(e.into()),
        })
        .transpose()
}

/// The tag keys a request names, plus the stored spelling of each that
/// changes an existing tag spelled otherwise. Tag keys are unique regardless
/// of case, so `TagUser Key=PROTECTED` rewrites the tag stored as
/// `Protected`: a condition on `aws:TagKeys` that protects `Protected` must
/// see it, however the request spells it (as resources are authorized by
/// their stored ARN).
fn with_stored_spellings<'a>(keys: impl Iterator<Item = &'a str>, target: &Target) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in keys {
        out.push(key.to_owned());
        let folded = key.to_lowercase();
        for (stored, _) in &target.tags {
            if stored != key && stored.to_lowercase() == folded && !out.contains(stored) {
                out.push(stored.clone());
            }
        }
    }
    out
}

/// The managed policies `action`'s condition keys name from the request
/// (`iam:PolicyARN`, `iam:PermissionsBoundary`), as targets: their stored
/// spelling, or their absence, was read from `state` as much as the
/// resource was, so the write must find the very same policies.
pub fn named_policies(action: &str, params: &Params, state: &AccountState) -> Vec<Target> {
    keys::sources(action)
        .iter()
        .filter_map(|source| source.policy_param())
        .filter_map(|name| params.get(name))
        .filter_map(|text| Arn::parse(text).ok())
        .map(|arn| Target::policy(state, &arn))
        .collect()
}

/// The evaluation context of `action` on `target`: the global keys, the
/// target's resource tags, and the action's own keys from their sources.
pub fn context(
    caller_tags: &[(String, String)],
    user_id: &str,
    state: &AccountState,
    action: &str,
    target: &Target,
    params: &Params,
    facts: &RequestFacts<'_>,
) -> Result<Context, ApiError> {
    let mut context = Context::new();
    if let Some(ip) = facts.source_ip {
        context.insert("aws:SourceIp", ip);
    }
    context.insert(
        "aws:SecureTransport",
        if facts.secure_transport {
            "true"
        } else {
            "false"
        },
    );
    context.insert("aws:userid", user_id);
    for (key, value) in caller_tags {
        context.insert(&format!("aws:PrincipalTag/{key}"), value.as_str());
    }
    for (key, value) in &target.tags {
        context.insert(&format!("aws:ResourceTag/{key}"), value.as_str());
        context.insert(&format!("iam:ResourceTag/{key}"), value.as_str());
    }
    for source in keys::sources(action) {
        match source {
            KeySource::RequestTags => {
                let tags = request_tags(params)?;
                if !tags.is_empty() {
                    for t in &tags {
                        context.insert(
                            &format!("aws:RequestTag/{}", t.key.as_str()),
                            t.value.as_str(),
                        );
                    }
                    context.insert_many(
                        "aws:TagKeys",
                        with_stored_spellings(tags.iter().map(|t| t.key.as_str()), target),
                    );
                }
            }
            KeySource::RemovedTagKeys => {
                let keys = request_tag_keys(params)?;
                if !keys.is_empty() {
                    context.insert_many(
                        "aws:TagKeys",
                        with_stored_spellings(keys.iter().map(|k| k.as_str()), target),
                    );
                }
            }
            KeySource::RequestedBoundary => {
                if let Some(b) = policy_arn_param(state, params, source)? {
                    context.insert("iam:PermissionsBoundary", b);
                }
            }
            KeySource::StoredBoundary => {
                if let Some(b) = &target.boundary {
                    context.insert("iam:PermissionsBoundary", b.as_str());
                }
            }
            KeySource::RequestedPolicyArn => {
                if let Some(p) = policy_arn_param(state, params, source)? {
                    context.insert("iam:PolicyARN", p);
                }
            }
        }
    }
    Ok(context)
}

/// Authorizes `<service>:<action>` on `target` for the caller: root may do
/// everything; a user or a role session needs an identity policy that
/// allows it (within its permissions boundary and, for a role session, its
/// session policies) and none that denies it, evaluated with the context
/// AWS defines for the action. The match on the caller is exhaustive: a new
/// kind of caller does not compile until it is given its policies here.
pub fn authorize(
    caller: &Caller,
    view: Option<&AccountView>,
    (service, action): (&str, &str),
    target: &Target,
    params: &Params,
    facts: &RequestFacts<'_>,
) -> Result<(), ApiError> {
    authorize_with(
        caller,
        view,
        (service, action),
        target,
        params,
        facts,
        &Extra::default(),
    )
}

/// What a request adds to an ordinary authorization: the resource's own
/// policy (a role's trust policy, for `sts:AssumeRole`) and context keys
/// that only its operation defines (`sts:ExternalId`, ...).
#[derive(Default)]
pub struct Extra<'a> {
    pub resource_policy: Option<&'a PolicySet>,
    pub context: Vec<(String, Vec<String>)>,
    /// An account setting grants the action to the caller
    /// (`AllowUsersToChangePassword` grants every user `iam:ChangePassword`
    /// on themselves): no policy need allow it, but an explicit deny holds.
    pub granted: bool,
}

/// [`authorize`] with what the request adds.
pub fn authorize_with(
    caller: &Caller,
    view: Option<&AccountView>,
    (service, action): (&str, &str),
    target: &Target,
    params: &Params,
    facts: &RequestFacts<'_>,
    extra: &Extra<'_>,
) -> Result<(), ApiError> {
    static EMPTY: std::sync::OnceLock<AccountState> = std::sync::OnceLock::new();
    let state = view
        .map(|v| &v.state)
        .unwrap_or_else(|| EMPTY.get_or_init(AccountState::default));
    if let Some(session) = caller.session() {
        session_may_call(session, caller, service, action)?;
    }
    let subject = match Subject::of(caller, state) {
        Some(subject) => subject,
        // The account's root user may do everything, as in AWS.
        None => return Ok(()),
    };
    let session_policies = caller
        .session()
        .filter(|_| subject.principal.is_session())
        .and_then(|s| session_policy_set(s, state));
    let with_keys = |action: &str| -> Result<Context, ApiError> {
        let mut context = self::context(
            &subject.tags,
            &subject.user_id,
            state,
            action,
            target,
            params,
            facts,
        )?;
        if let Some(session) = caller.session() {
            session_keys(&mut context, session, facts.now);
        }
        for (key, values) in &extra.context {
            context.insert_many(key, values.clone());
        }
        Ok(context)
    };
    let effective = subject
        .key
        .as_ref()
        .and_then(|key| view.and_then(|v| v.effective_policies(key)));
    let overlay = Overlay {
        resource: extra.resource_policy,
        session: session_policies.as_ref(),
    };
    let decide = |action: &str, context: Context| {
        let request = Request::new(
            subject.principal.clone(),
            &format!("{service}:{action}"),
            &target.arn,
            None,
            context,
            facts.now,
        );
        let decision = effective
            .as_ref()
            .map(|e| e.authorizer.evaluate_with(&request, overlay));
        (request, decision)
    };
    let evaluate = |action: &str, context: Context| {
        decide(action, context)
            .1
            .map_or(Outcome::ImplicitDeny, |d| d.outcome)
    };
    let (request, decision) = decide(action, with_keys(action)?);
    let outcome = decision
        .as_ref()
        .map_or(Outcome::ImplicitDeny, |d| d.outcome);
    if outcome == Outcome::Allow || outcome == Outcome::ImplicitDeny && extra.granted {
        return Ok(());
    }
    // Name the stored entity only to a caller who may read it.
    let shown = match target.reader {
        _ if target.named == target.arn => &target.arn,
        None => &target.named,
        Some(reader) => match with_keys(reader).map(|c| evaluate(reader, c)) {
            Ok(Outcome::Allow) => &target.arn,
            _ => &target.named,
        },
    };
    let why = if outcome == Outcome::ExplicitDeny {
        "with an explicit deny in an identity-based policy".to_string()
    } else {
        format!("because no identity-based policy allows the {service}:{action} action")
    };
    let arn = caller.arn();
    let mut denied = ApiError::new(
        403,
        "AccessDenied",
        format!(
            "User: {arn} is not authorized to perform: {service}:{action} on resource: {shown} {why}"
        ),
    );
    denied.authorization = Some(Box::new(authorization_message(
        &request,
        decision.as_ref(),
        effective.as_deref(),
        (&arn, &subject.user_id),
        (shown, shown == &target.arn),
    )));
    Err(denied)
}

/// What an authorization failure message says (the shape AWS's decoded
/// messages have): the decision, the statements that decided it, and the
/// request's context. The edge seals it; only a caller allowed
/// `sts:DecodeAuthorizationMessage` reads it.
fn authorization_message(
    request: &Request,
    decision: Option<&iam_evaluator::Decision>,
    effective: Option<&iam_projection::EffectivePolicies>,
    (arn, user_id): (&str, &str),
    (resource, readable): (&str, bool),
) -> serde_json::Value {
    let explicit = decision.is_some_and(|d| d.outcome == Outcome::ExplicitDeny);
    let statements: Vec<serde_json::Value> = decision
        .map(|d| d.matched.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let source = match (m.layer, effective) {
                (iam_evaluator::Layer::Identity, Some(e)) => {
                    e.sources.get(m.policy).cloned().unwrap_or_default()
                }
                (layer, _) => format!("{layer:?}"),
            };
            serde_json::json!({
                "statementId": effective
                    .and_then(|e| e.authorizer.sid(m))
                    .unwrap_or_default(),
                "effect": m.effect.as_str(),
                "source": source,
                "statementIndex": m.statement,
            })
        })
        .collect();
    // What the caller may not read of the stored entity (its tags and
    // boundary) stays out, as the plain message names it only as asked.
    let stored = |key: &str| {
        key.starts_with("aws:resourcetag/")
            || key.starts_with("iam:resourcetag/")
            || key == "iam:permissionsboundary"
    };
    let conditions: Vec<serde_json::Value> = request
        .context()
        .entries()
        .into_iter()
        .filter(|(key, _)| readable || !stored(key))
        .map(|(key, values)| {
            serde_json::json!({
                "key": key,
                "values": {"items": values.into_iter().map(|v| serde_json::json!({"value": v})).collect::<Vec<_>>()},
            })
        })
        .collect();
    serde_json::json!({
        "allowed": false,
        "explicitDeny": explicit,
        "matchedStatements": {"items": statements},
        "failures": {"items": []},
        "context": {
            "principal": {"id": user_id, "arn": arn},
            "action": request.action(),
            "resource": resource,
            "conditions": {"items": conditions},
        },
    })
}

/// Who a caller other than root is evaluated as.
struct Subject {
    principal: Principal,
    /// Whose stored policies apply: `None` for a role session whose role
    /// is gone or is another role of the same name.
    key: Option<PrincipalKey>,
    user_id: String,
    /// `aws:PrincipalTag/*`: the user's or role's tags, and over a role's,
    /// the session's tags.
    tags: Vec<(String, String)>,
}

impl Subject {
    /// `None` for the root user, who is not evaluated.
    fn of(caller: &Caller, state: &AccountState) -> Option<Subject> {
        Some(match caller {
            Caller::Root { .. } => return None,
            Caller::User {
                user_name,
                arn,
                user_id,
                ..
            } => Subject {
                principal: Principal::parse(arn),
                key: Some(PrincipalKey::User(user_name.key())),
                user_id: user_id.clone(),
                tags: state
                    .users
                    .get(&user_name.key())
                    .map(|u| tag_pairs(u.tags.values()))
                    .unwrap_or_default(),
            },
            Caller::RoleSession {
                role_name,
                role_id,
                arn,
                user_id,
                session,
                ..
            } => {
                let role = state
                    .roles
                    .get(&role_name.key())
                    .filter(|r| r.id.as_str() == role_id);
                let role_arn = role
                    .and_then(|r| state.role_arn(r))
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| {
                        format!(
                            "arn:aws:iam::{}:role/{}",
                            state.account_id().map(|a| a.as_str()).unwrap_or_default(),
                            role_name.as_str()
                        )
                    });
                let mut tags = role.map(|r| tag_pairs(r.tags.values())).unwrap_or_default();
                overlay_session_tags(&mut tags, &session.tags);
                Subject {
                    principal: Principal::role_session(arn, &role_arn),
                    key: role.map(|_| PrincipalKey::Role(role_name.key())),
                    user_id: user_id.clone(),
                    tags,
                }
            }
            Caller::FederatedUser {
                user_name,
                arn,
                user_id,
                session,
                ..
            } => {
                let mut tags = state
                    .users
                    .get(&user_name.key())
                    .map(|u| tag_pairs(u.tags.values()))
                    .unwrap_or_default();
                overlay_session_tags(&mut tags, &session.tags);
                Subject {
                    principal: Principal::parse(arn),
                    key: Some(PrincipalKey::User(user_name.key())),
                    user_id: user_id.clone(),
                    tags,
                }
            }
            // No policy of the account is anyone's: only a resource
            // policy naming `*` could allow.
            Caller::Anonymous => Subject {
                principal: Principal::anonymous(),
                key: None,
                user_id: crate::auth::ANONYMOUS.to_owned(),
                tags: Vec::new(),
            },
        })
    }
}

/// Session tags override the principal's own tags of the same key, as tag
/// keys compare: regardless of case (User Guide, "Passing session tags in
/// AWS STS").
fn overlay_session_tags(tags: &mut Vec<(String, String)>, session: &[(String, String)]) {
    for (key, value) in session {
        tags.retain(|(k, _)| !same_tag_key(k, key));
        tags.push((key.clone(), value.clone()));
    }
}

/// Whether two tag keys are the same key (folded as IAM folds names).
pub fn same_tag_key(a: &str, b: &str) -> bool {
    iam_domain::names::NameKey::of(a) == iam_domain::names::NameKey::of(b)
}

/// What AWS lets temporary credentials call, by the operation that issued
/// them (User Guide, "Comparing the AWS STS API operations"):
/// `GetSessionToken` credentials call IAM only with MFA, and STS only for
/// `AssumeRole` and `GetCallerIdentity`; `GetFederationToken` credentials
/// do not call IAM, and STS only for `GetCallerIdentity`; a sign-in's
/// credentials (the console's) call IAM, and STS as `GetSessionToken`'s do.
fn session_may_call(
    session: &Session,
    caller: &Caller,
    service: &str,
    action: &str,
) -> Result<(), ApiError> {
    let refused = |why: &str| {
        Err(ApiError::new(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: {service}:{action} {why}",
                caller.arn()
            ),
        ))
    };
    use iam_wire::{iam::ops as iam, sts::ops as sts};
    if session.password_change_only
        && ![
            iam::ChangePassword::SPEC.name,
            iam::GetAccountPasswordPolicy::SPEC.name,
            sts::GetCallerIdentity::SPEC.name,
        ]
        .contains(&action)
    {
        return refused("until the password that signed in is changed (it must be reset)");
    }
    let sts_allowed = [
        sts::AssumeRole::SPEC.name,
        sts::GetCallerIdentity::SPEC.name,
    ]
    .contains(&action);
    match session.issued_by {
        IssuedBy::AssumeRole
        | IssuedBy::AssumeRoleWithWebIdentity
        | IssuedBy::AssumeRoleWithSAML => Ok(()),
        IssuedBy::GetFederationToken if service == "iam" => refused(
            "with temporary credentials from GetFederationToken: they do not call IAM",
        ),
        IssuedBy::GetFederationToken if service == "sts" && action != sts::GetCallerIdentity::SPEC.name => {
            refused("with temporary credentials from GetFederationToken: they call STS only for GetCallerIdentity")
        }
        IssuedBy::GetFederationToken => Ok(()),
        IssuedBy::GetSessionToken | IssuedBy::SignIn if service == "sts" && !sts_allowed => refused(
            "with temporary credentials from GetSessionToken or a sign-in: they call STS only for AssumeRole and GetCallerIdentity",
        ),
        IssuedBy::GetSessionToken if service != "sts" && !session.mfa() => refused(
            "with temporary credentials from GetSessionToken obtained without MFA: they call IAM (and iamd) only when MFA authenticated them",
        ),
        IssuedBy::GetSessionToken | IssuedBy::SignIn => Ok(()),
    }
}

/// The context keys of temporary credentials: when they were issued,
/// whether and when MFA authenticated them, and the source identity.
pub fn session_keys(context: &mut Context, session: &Session, now: DateTime<Utc>) {
    context.insert("aws:TokenIssueTime", session.issued_at_text());
    context.insert(
        "aws:MultiFactorAuthPresent",
        if session.mfa() { "true" } else { "false" },
    );
    if let Some(at) = session.mfa_at {
        context.insert(
            "aws:MultiFactorAuthAge",
            (now - at).num_seconds().max(0).to_string(),
        );
    }
    if let Some(source) = &session.source_identity {
        context.insert("aws:SourceIdentity", source.as_str());
    }
    if let Some(web) = &session.web_identity {
        for (key, values) in &web.keys {
            context.insert_many(key, values.clone());
        }
    }
}

/// A role session's session policies as one set (their union is the
/// session layer), read against the account as it is now: a managed
/// session policy by its current default version; one deleted since adds
/// nothing. `None` when the session was given none.
fn session_policy_set(session: &Session, state: &AccountState) -> Option<PolicySet> {
    if session.policy.is_none() && session.policy_arns.is_empty() {
        return None;
    }
    let inline = session
        .policy
        .as_deref()
        .and_then(|text| PolicyDocument::parse(text).ok());
    let managed = session
        .policy_arns
        .iter()
        .filter_map(|text| Arn::parse(text).ok())
        .filter_map(|arn| state.managed_policy_document(&arn).map(str::to_owned))
        .filter_map(|document| PolicyDocument::parse(&document).ok());
    Some(PolicySet::new(
        inline
            .into_iter()
            .chain(managed)
            .map(|d| CompiledPolicy::compile(&d))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str = "arn:aws:iam::123456789012:policy/Stored";
    const REQUESTED: &str = "arn:aws:iam::123456789012:policy/Requested";
    const POLICY: &str = "arn:aws:iam::123456789012:policy/Attached";

    /// Every operation, with a request carrying every parameter that could
    /// feed a key, against a target with a stored boundary and tags.
    fn context_of(action: &str) -> Context {
        let body = format!(
            "PermissionsBoundary={REQUESTED}&PolicyArn={POLICY}\
             &Tags.member.1.Key=team&Tags.member.1.Value=red&TagKeys.member.1=gone"
        );
        let params = Params::from_request("", body.as_bytes()).unwrap();
        let target = Target {
            source: Source::Fixed,
            id: None,
            arn: "arn:aws:iam::123456789012:user/t".into(),
            named: "arn:aws:iam::123456789012:user/t".into(),
            reader: Some("GetUser"),
            tags: vec![("env".into(), "prod".into())],
            boundary: Some(STORED.into()),
        };
        let facts = RequestFacts {
            source_ip: Some("127.0.0.1"),
            secure_transport: false,
            now: Utc::now(),
        };
        context(
            &[("dept".into(), "ops".into())],
            "AIDAEXAMPLE",
            &AccountState::default(),
            action,
            &target,
            &params,
            &facts,
        )
        .unwrap()
    }

    fn values(c: &Context, key: &str) -> Option<Vec<String>> {
        c.get(key).map(<[String]>::to_vec)
    }

    /// The keys of every operation, against AWS's Service Authorization
    /// Reference for IAM written out here independently of the table.
    #[test]
    fn each_operation_gets_exactly_the_keys_aws_defines_for_it() {
        let stored_boundary = [
            "AttachRolePolicy",
            "AttachUserPolicy",
            "DeleteRolePermissionsBoundary",
            "DeleteRolePolicy",
            "DeleteUserPermissionsBoundary",
            "DeleteUserPolicy",
            "DetachRolePolicy",
            "DetachUserPolicy",
            "PutRolePolicy",
            "PutUserPolicy",
        ];
        let requested_boundary = [
            "CreateRole",
            "CreateUser",
            "PutRolePermissionsBoundary",
            "PutUserPermissionsBoundary",
        ];
        let policy_arn = [
            "AttachGroupPolicy",
            "AttachRolePolicy",
            "AttachUserPolicy",
            "DetachGroupPolicy",
            "DetachRolePolicy",
            "DetachUserPolicy",
        ];
        let request_tags = [
            "CreateInstanceProfile",
            "CreateOpenIDConnectProvider",
            "CreatePolicy",
            "CreateRole",
            "CreateSAMLProvider",
            "CreateUser",
            "CreateVirtualMFADevice",
            "TagInstanceProfile",
            "TagMFADevice",
            "TagOpenIDConnectProvider",
            "TagPolicy",
            "TagRole",
            "TagSAMLProvider",
            "TagServerCertificate",
            "TagUser",
            "UploadServerCertificate",
        ];
        let removed_tags = [
            "UntagInstanceProfile",
            "UntagMFADevice",
            "UntagOpenIDConnectProvider",
            "UntagPolicy",
            "UntagRole",
            "UntagSAMLProvider",
            "UntagServerCertificate",
            "UntagUser",
        ];
        for action in crate::edge::registry::IMPLEMENTED.iter().map(|s| &s.name) {
            let c = context_of(action);
            let boundary = values(&c, "iam:PermissionsBoundary");
            let expected = if stored_boundary.contains(action) {
                Some(vec![STORED.to_owned()])
            } else if requested_boundary.contains(action) {
                Some(vec![REQUESTED.to_owned()])
            } else {
                None
            };
            assert_eq!(boundary, expected, "iam:PermissionsBoundary on {action}");
            assert_eq!(
                values(&c, "iam:PolicyARN"),
                policy_arn.contains(action).then(|| vec![POLICY.to_owned()]),
                "iam:PolicyARN on {action}"
            );
            assert_eq!(
                values(&c, "aws:RequestTag/team"),
                request_tags
                    .contains(action)
                    .then(|| vec!["red".to_owned()]),
                "aws:RequestTag on {action}"
            );
            let tag_keys = if request_tags.contains(action) {
                Some(vec!["team".to_owned()])
            } else if removed_tags.contains(action) {
                Some(vec!["gone".to_owned()])
            } else {
                None
            };
            assert_eq!(
                values(&c, "aws:TagKeys"),
                tag_keys,
                "aws:TagKeys on {action}"
            );
            // Keys that do not depend on the action.
            assert_eq!(values(&c, "aws:ResourceTag/env"), Some(vec!["prod".into()]));
            assert_eq!(values(&c, "iam:ResourceTag/env"), Some(vec!["prod".into()]));
            assert_eq!(
                values(&c, "aws:PrincipalTag/dept"),
                Some(vec!["ops".into()])
            );
        }
    }

    #[test]
    fn a_policy_arn_key_carries_the_stored_spelling() {
        use iam_domain::ids::{AccountId, PolicyId};
        use iam_domain::names::PolicyName;
        let account = AccountId::parse("123456789012").unwrap();
        let mut state = AccountState::default();
        let now = Utc::now();
        for command in [
            iam_domain::Command::CreateAccount {
                account_id: account.clone(),
                now,
            },
            iam_domain::Command::CreatePolicy {
                policy_name: PolicyName::parse("Guard").unwrap(),
                path: None,
                policy_id: PolicyId::parse("ANPAEXAMPLEEXAMPLE01").unwrap(),
                policy_document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into(),
                description: None,
                tags: vec![],
                now,
            },
        ] {
            let events = iam_domain::decide(&state, &command, &Default::default()).unwrap();
            for e in &events {
                iam_domain::evolve(&mut state, e);
            }
        }
        let lower = Arn::parse("arn:aws:iam::123456789012:policy/gUARD").unwrap();
        assert_eq!(
            canonical_policy_arn(&state, &lower),
            "arn:aws:iam::123456789012:policy/Guard"
        );
        assert_eq!(
            Target::policy(&state, &lower).resource(),
            "arn:aws:iam::123456789012:policy/Guard"
        );
        let other = Arn::parse("arn:aws:iam::123456789012:policy/Other").unwrap();
        assert_eq!(canonical_policy_arn(&state, &other), other.to_string());
    }

    fn apply(state: &mut AccountState, command: iam_domain::Command) {
        let events = iam_domain::decide(state, &command, &iam_domain::Quotas::default())
            .expect("the command is valid");
        for e in &events {
            iam_domain::evolve(state, e);
        }
    }

    fn role_session(role: &str) -> Caller {
        let role_id = match role {
            "reader" => "AROA00000000000000001",
            "bare" => "AROA00000000000000002",
            _ => "AROA00000000000000003",
        };
        let now = Utc::now();
        let session = crate::session::Session::new(crate::session::NewSession {
            principal: crate::session::SessionPrincipal::Role {
                role_name: role.into(),
                role_id: role_id.into(),
                role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
                session_name: "s".into(),
            },
            issued_by: crate::session::IssuedBy::AssumeRole,
            issued_at: now,
            expires_at: now + chrono::Duration::hours(1),
            mfa_at: None,
            policy: None,
            policy_arns: vec![],
            tags: vec![],
            transitive_tag_keys: vec![],
            source_identity: None,
            chained: false,
        });
        Caller::RoleSession {
            role_name: RoleName::parse(role).unwrap(),
            role_id: role_id.into(),
            arn: format!("arn:aws:sts::123456789012:assumed-role/{role}/s"),
            user_id: format!("{role_id}:s"),
            access_key_id: session.access_key_id.clone(),
            session: std::sync::Arc::new(session),
        }
    }

    /// A kind of caller other than root is never allowed by default: a role
    /// session gets exactly what its role's policies allow.
    #[test]
    fn a_role_session_is_allowed_only_what_its_roles_policies_allow() {
        use iam_domain::ids::{AccountId, RoleId};
        let now = Utc::now();
        let mut state = AccountState::default();
        apply(
            &mut state,
            iam_domain::Command::CreateAccount {
                account_id: AccountId::parse("123456789012").unwrap(),
                now,
            },
        );
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        for (name, id) in [
            ("reader", "AROA00000000000000001"),
            ("bare", "AROA00000000000000002"),
        ] {
            apply(
                &mut state,
                iam_domain::Command::CreateRole {
                    role_name: RoleName::parse(name).unwrap(),
                    path: None,
                    role_id: RoleId::parse(id).unwrap(),
                    assume_role_policy_document: trust.into(),
                    description: None,
                    max_session_duration: None,
                    permissions_boundary: None,
                    tags: vec![],
                    now,
                },
            );
        }
        apply(
            &mut state,
            iam_domain::Command::PutRolePolicy {
                role_name: RoleName::parse("reader").unwrap(),
                policy_name: iam_domain::names::InlinePolicyName::parse("read").unwrap(),
                policy_document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#.into(),
            },
        );
        let view = AccountView::from_parts(None, state, 0, iam_event_store::Position(0));
        let params = Params::default();
        let facts = RequestFacts {
            source_ip: None,
            secure_transport: false,
            now,
        };
        let target = Target::arn("arn:aws:iam::123456789012:user/alice".to_owned());
        let check = |caller: &Caller, action: &str| {
            authorize(
                caller,
                Some(&view),
                ("iam", action),
                &target,
                &params,
                &facts,
            )
        };
        assert!(check(&role_session("reader"), "GetUser").is_ok());
        let refused = check(&role_session("reader"), "DeleteUser").unwrap_err();
        assert_eq!(refused.code, "AccessDenied");
        assert!(
            refused.message.contains("assumed-role/reader/s"),
            "{}",
            refused.message
        );
        assert_eq!(
            check(&role_session("bare"), "GetUser").unwrap_err().code,
            "AccessDenied"
        );
        // A session of a role that does not exist has no policies at all.
        assert_eq!(
            check(&role_session("gone"), "GetUser").unwrap_err().code,
            "AccessDenied"
        );
        let root = Caller::Root {
            account_id: "123456789012".into(),
            access_key_id: "AKIAROOT".into(),
            session: None,
        };
        assert!(check(&root, "DeleteUser").is_ok());
    }
}
