//! iamd as a policy decision point: `POST /v1/authorize` and
//! `POST /v1/authorize/batch`, now or at any past moment of the log.
//!
//! Asking about a principal needs `iamd:Authorize` on that principal's ARN:
//! the answer tells what the principal may do, which is the principal's
//! business, not every caller's.

use std::sync::Arc;

use iam_domain::ids::AccessKeyId;
use iam_domain::state::{AccessKeyStatus, CredentialOwner};
use iam_domain::{AccountState, Arn};
use iam_evaluator::{Authorizer, Context, Layer, Outcome, PolicySet, Principal, Request};
use iam_event_store::{Position, Until};
use iam_projection::{AccountView, PrincipalKey};
use iam_wire::{iamd, Document};

use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::query::ApiError;

/// The account's view at the moment a request asks about, and the log
/// position that moment is.
pub(super) struct Moment {
    pub view: Arc<AccountView>,
    pub position: Position,
    /// The time `aws:CurrentTime` has: the one asked about, or when the
    /// event at the position asked about was recorded, else now.
    pub time: chrono::DateTime<chrono::Utc>,
}

/// `as_of`: an RFC 3339 time or a log position (a number, or digits).
pub(crate) fn parse_as_of(as_of: &Document) -> Result<Until, ApiError> {
    let bad = || {
        ApiError::validation(
            "1 validation error detected: Value at 'as_of' failed to satisfy constraint: \
             Member must be an RFC 3339 time or a log position",
        )
    };
    match &as_of.0 {
        serde_json::Value::Number(n) => n
            .as_u64()
            .map(|p| Until::Position(Position(p)))
            .ok_or_else(bad),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .map(|p| Until::Position(Position(p)))
            .map_err(|_| bad()),
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Until::Time(t.with_timezone(&chrono::Utc)))
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// The view now, or replayed to `as_of` (a moment after the log's head is
/// refused: the future has no view yet).
pub(super) async fn moment(
    ctx: &OpContext<'_>,
    as_of: Option<&Document>,
) -> Result<Moment, ApiError> {
    let Some(as_of) = as_of.filter(|d| !d.0.is_null()) else {
        return Ok(Moment {
            view: ctx.view.clone().ok_or_else(ApiError::internal)?,
            position: ctx.state.projection.position(),
            time: ctx.now,
        });
    };
    let until = parse_as_of(as_of)?;
    if let Until::Time(t) = until {
        if t > ctx.now {
            return Err(ApiError::validation(
                "as_of names a time after now: the future has no view yet",
            ));
        }
    }
    let (view, position) = view_as_of(ctx.state, until).await?;
    // A position's moment is when its event was recorded: time conditions
    // are judged then, as access history judges them.
    let time = match until {
        Until::Time(t) => t,
        Until::Position(p) => ctx
            .state
            .past_views
            .recorded_at(ctx.state.projection.store().as_ref(), p)
            .await?
            .unwrap_or(ctx.now),
    };
    Ok(Moment {
        view,
        position,
        time,
    })
}

/// The account's view replayed to `until`, and the log position that is.
/// A moment beyond this node's position is refused: the future has no view
/// yet.
pub(crate) async fn view_as_of(
    state: &crate::app::AppState,
    until: Until,
) -> Result<(Arc<AccountView>, Position), ApiError> {
    let store = state.projection.store();
    let position = iam_projection::history::cut_position(store.as_ref(), until).await?;
    if position > state.projection.position() {
        return Err(ApiError::validation(format!(
            "as_of names log position {}, beyond this node's {}",
            position.0,
            state.projection.position().0
        )));
    }
    let view = state
        .past_views
        .get_or_build(position, || {
            iam_projection::history::account_as_of(
                store,
                &state.projection.config().snapshot_key,
                &state.account_id,
                Until::Position(position),
            )
        })
        .await?;
    Ok((view, position))
}

/// Who a request asks about, resolved in the view of its moment.
enum Subject {
    Root,
    User {
        key: PrincipalKey,
        arn: String,
    },
    /// A role, evaluated as a session of it.
    Role {
        key: PrincipalKey,
        session: String,
    },
    /// An access key that was absent or inactive at that moment.
    NoKey {
        reason: String,
    },
}

/// Whether a stored entity's ARN is exactly the one asked about (and
/// authorized): another path or spelling names no principal.
fn exact(stored: Option<Arn>, asked: &str) -> bool {
    stored.is_some_and(|a| a.to_string() == asked)
}

fn no_such_principal(arn: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("The principal {arn} does not exist at that moment."),
    )
}

fn subject(
    state: &AccountState,
    account: &str,
    request: &iamd::AuthorizeRequest,
) -> Result<Subject, ApiError> {
    match (&request.principal, &request.access_key_id) {
        (Some(_), Some(_)) | (None, None) => Err(ApiError::validation(
            "Exactly one of principal and access_key_id must be given.",
        )),
        (None, Some(key)) => Ok(key_subject(state, key)),
        (Some(principal), None) => {
            let arn = Arn::parse(principal).map_err(|_| no_such_principal(principal))?;
            match &arn {
                Arn::Root { account: a } if a.as_str() == account => Ok(Subject::Root),
                Arn::User {
                    account: a, name, ..
                } if a.as_str() == account => {
                    let user = state
                        .users
                        .get(&name.key())
                        .filter(|u| exact(state.user_arn(u), principal))
                        .ok_or_else(|| no_such_principal(principal))?;
                    Ok(Subject::User {
                        key: PrincipalKey::User(name.key()),
                        arn: state
                            .user_arn(user)
                            .map(|a| a.to_string())
                            .unwrap_or_default(),
                    })
                }
                Arn::Role {
                    account: a, name, ..
                } if a.as_str() == account => {
                    let role = state
                        .roles
                        .get(&name.key())
                        .filter(|r| exact(state.role_arn(r), principal))
                        .ok_or_else(|| no_such_principal(principal))?;
                    Ok(Subject::Role {
                        key: PrincipalKey::Role(name.key()),
                        session: format!(
                            "arn:aws:sts::{account}:assumed-role/{}/iamd-authorize",
                            role.name.as_str()
                        ),
                    })
                }
                _ => Err(no_such_principal(principal)),
            }
        }
    }
}

fn key_subject(state: &AccountState, key: &str) -> Subject {
    let found = AccessKeyId::parse(key)
        .ok()
        .and_then(|id| state.access_keys.get(&id));
    let Some(k) = found else {
        return Subject::NoKey {
            reason: format!("access key {key} did not exist at that moment"),
        };
    };
    if k.status != AccessKeyStatus::Active {
        return Subject::NoKey {
            reason: format!("access key {key} was inactive at that moment"),
        };
    }
    match &k.owner {
        CredentialOwner::Root => Subject::Root,
        CredentialOwner::User { user_name } => match state.users.get(&user_name.key()) {
            Some(user) => Subject::User {
                key: PrincipalKey::User(user_name.key()),
                arn: state
                    .user_arn(user)
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            },
            None => Subject::NoKey {
                reason: format!("access key {key}'s user did not exist at that moment"),
            },
        },
    }
}

/// A request's condition context: each value a string, a number or
/// boolean (as text), or a list of them.
fn context(
    values: Option<&iam_wire::Map<String, Document>>,
    base: Arc<Context>,
) -> Result<Context, ApiError> {
    let mut context = Context::on(base);
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    for (key, value) in values.map(|m| m.0.as_slice()).unwrap_or_default() {
        let bad = || {
            ApiError::validation(format!(
                "context key {key}: a value must be a string, number, boolean or a list of them"
            ))
        };
        match &value.0 {
            serde_json::Value::Array(items) => {
                let items: Option<Vec<String>> = items.iter().map(scalar).collect();
                context.insert_many(key, items.ok_or_else(bad)?);
            }
            other => context.insert(key, scalar(other).ok_or_else(bad)?),
        }
    }
    Ok(context)
}

/// How a matched statement's policy is named: an ARN for managed
/// policies, `user/NAME/inline/POLICY` for inline ones.
fn policy_label(
    state: &AccountState,
    account: &str,
    sources: &[String],
    layer: Layer,
    index: usize,
    boundary: Option<&Arn>,
) -> String {
    match layer {
        Layer::Identity => {
            let label = sources.get(index).map(String::as_str).unwrap_or_default();
            match label.split_once(" inline ") {
                Some((owner, name)) => format!("{owner}/inline/{name}"),
                None => match label.strip_prefix("policy/") {
                    Some(key) => state
                        .policies
                        .get(&iam_domain::names::NameKey::of(key))
                        .and_then(|p| state.policy_arn(p))
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| format!("arn:aws:iam::{account}:policy/{key}")),
                    None => label.to_owned(),
                },
            }
        }
        Layer::PermissionsBoundary => boundary.map(|b| b.to_string()).unwrap_or_default(),
        Layer::Resource => "resource_policy".to_owned(),
        other => format!("{other:?}"),
    }
}

/// What deciding about one subject at one moment needs, whatever the
/// question: its compiled policies, its boundary, and the context keys
/// iamd sets for it (`aws:PrincipalArn`, `aws:PrincipalTag/*`,
/// `aws:userid`, the time). Prepared once for all of a batch's questions
/// about it.
struct Prepared<'s> {
    subject: &'s Subject,
    evaluated: Option<Evaluated>,
}

struct Evaluated {
    effective: Option<Arc<iam_projection::EffectivePolicies>>,
    boundary: Option<Arn>,
    principal: Arc<Principal>,
    base: Arc<Context>,
}

fn prepare<'s>(
    view: &AccountView,
    time: chrono::DateTime<chrono::Utc>,
    subject: &'s Subject,
) -> Prepared<'s> {
    let (key, principal_arn) = match subject {
        Subject::Root | Subject::NoKey { .. } => {
            return Prepared {
                subject,
                evaluated: None,
            }
        }
        Subject::User { key, arn } => (key, arn.as_str()),
        Subject::Role { key, session } => (key, session.as_str()),
    };
    let state = &view.state;
    // What iamd knows of the principal: its tags and unique id, as AWS
    // sets `aws:PrincipalTag/*` and `aws:userid` for it.
    let (tags, user_id, boundary) = match key {
        PrincipalKey::User(k) => state
            .users
            .get(k)
            .map(|u| {
                (
                    Some(&u.tags),
                    Some(u.id.as_str().to_owned()),
                    u.permissions_boundary.clone(),
                )
            })
            .unwrap_or_default(),
        PrincipalKey::Role(k) => state
            .roles
            .get(k)
            .map(|r| {
                (
                    Some(&r.tags),
                    Some(format!("{}:iamd-authorize", r.id.as_str())),
                    r.permissions_boundary.clone(),
                )
            })
            .unwrap_or_default(),
    };
    let principal = Principal::parse(principal_arn);
    let mut base = Request::global_context(&principal, time);
    for tag in tags.into_iter().flat_map(|t| t.values()) {
        base.insert(
            &format!("aws:PrincipalTag/{}", tag.key.as_str()),
            tag.value.as_str(),
        );
    }
    if let Some(id) = user_id {
        base.insert("aws:userid", id);
    }
    // A user or a role's session is never an AWS service principal.
    base.insert("aws:PrincipalIsAWSService", "false");
    Prepared {
        subject,
        evaluated: Some(Evaluated {
            effective: view.effective_policies(key),
            boundary,
            principal: Arc::new(principal),
            base: Arc::new(base),
        }),
    }
}

/// Decides one request about a prepared subject.
fn decide(
    prepared: &Prepared<'_>,
    (state, time): (&AccountState, chrono::DateTime<chrono::Utc>),
    account: &str,
    request: &iamd::AuthorizeRequest,
    resource_policy: Option<Arc<PolicySet>>,
) -> Result<iamd::Decision, ApiError> {
    let Some(evaluated) = &prepared.evaluated else {
        let reason = match prepared.subject {
            Subject::NoKey { reason } => reason.clone(),
            _ => "the account's root user may do everything in its account".into(),
        };
        let outcome = match prepared.subject {
            Subject::NoKey { .. } => Outcome::ImplicitDeny,
            _ => Outcome::Allow,
        };
        return Ok(iamd::Decision {
            decision: outcome.as_str().to_owned(),
            matched: Vec::new(),
            reason: Some(reason),
        });
    };
    // The principal's compiled policies as they are, unless a resource
    // policy joins them for this one question.
    let with_resource_policy;
    let none;
    let mut authorizer = match &evaluated.effective {
        Some(e) => &e.authorizer,
        None => {
            none = Authorizer::new(Default::default());
            &none
        }
    };
    if let Some(resource_policy) = resource_policy {
        with_resource_policy = authorizer
            .clone()
            .with_shared_resource_policy(resource_policy);
        authorizer = &with_resource_policy;
    }
    let context = context(request.context.as_ref(), evaluated.base.clone())?;
    let evaluated_request = Request::for_shared(
        evaluated.principal.clone(),
        &request.action,
        &request.resource,
        None,
        context,
        time,
    );
    let decision = authorizer.evaluate(&evaluated_request);
    let sources = evaluated
        .effective
        .as_ref()
        .map(|e| e.sources.as_slice())
        .unwrap_or_default();
    Ok(iamd::Decision {
        decision: decision.outcome.as_str().to_owned(),
        matched: decision
            .matched
            .iter()
            .map(|m| iamd::Matched {
                policy: policy_label(
                    state,
                    account,
                    sources,
                    m.layer,
                    m.policy,
                    evaluated.boundary.as_ref(),
                ),
                statement: m.statement as i64,
                sid: authorizer.sid(m).map(str::to_owned),
                effect: format!("{:?}", m.effect),
            })
            .collect(),
        reason: decision.reason.map(|r| r.as_str().to_owned()),
    })
}

/// Checks the caller may ask about the request's principal, before
/// anything about it is looked up or replayed: `iamd:Authorize` on the ARN
/// exactly as the request gives it, or, asked by access key, on every user
/// of the account (`user/*`: which user a key belongs to is not the
/// caller's to learn first). A refusal names only what the request named.
/// A batch checks `iamd:Authorize` on each of its requests' principals.
fn authorize_asking(ctx: &OpContext<'_>, request: &iamd::AuthorizeRequest) -> Result<(), ApiError> {
    let asked = match (&request.principal, &request.access_key_id) {
        (Some(principal), None) => principal.clone(),
        (None, Some(_)) => ctx.arn("user/*"),
        _ => {
            return Err(ApiError::validation(
                "Exactly one of principal and access_key_id must be given.",
            ))
        }
    };
    ctx.authorize_also::<iam_wire::iamd::ops::Authorize>(&Target::arn(asked))
}

/// Keys the decision point sets itself, from the principal and the moment,
/// or that describe the principal (every `aws:Principal*` key, such as
/// `aws:PrincipalIsAWSService` or `aws:PrincipalOrgID`, and
/// `aws:SourceIdentity`): a caller's `context` may not supply them (an
/// enforcement point passing client values through would otherwise let a
/// client claim to be another principal, an AWS service, or another time).
/// A prefix ends with `*`.
const SET_BY_IAMD: [&str; 6] = [
    "aws:principal*",
    "aws:sourceidentity",
    "aws:username",
    "aws:userid",
    "aws:currenttime",
    "aws:epochtime",
];

/// The most values a question's `context` may give, in all keys, and the
/// longest one (S3's longest object key): a question's evaluation compares
/// every value a condition reads with every value the policy gives, so
/// both are bounded.
const MAX_CONTEXT_VALUES: usize = 64;
const MAX_CONTEXT_VALUE_LEN: usize = 1_024;

/// The longest `resource_policy` a question may give, as JSON text (S3's
/// bucket policy limit, 20 KB).
const MAX_RESOURCE_POLICY: usize = 20_480;

/// The most text of distinct resource policies one call may give: each is
/// compiled once and kept while the call is answered.
const MAX_RESOURCE_POLICIES: usize = 131_072;

/// How long a batch is decided before it is given up (each question is
/// bounded by the limits above; this bounds their sum).
const BATCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

fn check_question(request: &iamd::AuthorizeRequest) -> Result<(), ApiError> {
    let context = request
        .context
        .as_ref()
        .map(|m| m.0.as_slice())
        .unwrap_or_default();
    let mut values = 0usize;
    for (key, value) in context {
        let folded = key.to_ascii_lowercase();
        if SET_BY_IAMD.iter().any(|k| match k.strip_suffix('*') {
            Some(prefix) => folded.starts_with(prefix),
            None => folded == *k,
        }) {
            return Err(ApiError::validation(format!(
                "context key {key} is set by iamd from the principal and the moment, not by the request"
            )));
        }
        let items = match &value.0 {
            serde_json::Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        values += items.len();
        let too_long = items.iter().any(|v| match v {
            serde_json::Value::String(s) => s.chars().count() > MAX_CONTEXT_VALUE_LEN,
            _ => false,
        });
        if too_long {
            return Err(ApiError::validation(format!(
                "context key {key}: a value is longer than {MAX_CONTEXT_VALUE_LEN} characters"
            )));
        }
    }
    if values > MAX_CONTEXT_VALUES {
        return Err(ApiError::validation(format!(
            "context gives {values} values; at most {MAX_CONTEXT_VALUES} in all"
        )));
    }
    Ok(())
}

/// The resource policies of one call, each compiled once, by their text.
#[derive(Default)]
struct ResourcePolicies {
    compiled: std::collections::HashMap<String, Arc<PolicySet>>,
    chars: usize,
}

impl ResourcePolicies {
    fn of(&mut self, request: &iamd::AuthorizeRequest) -> Result<Option<Arc<PolicySet>>, ApiError> {
        let Some(policy) = request.resource_policy.as_ref().filter(|d| !d.0.is_null()) else {
            return Ok(None);
        };
        let text = policy.0.to_string();
        if let Some(compiled) = self.compiled.get(&text) {
            return Ok(Some(compiled.clone()));
        }
        let length = text.chars().count();
        if length > MAX_RESOURCE_POLICY {
            return Err(ApiError::validation(format!(
                "resource_policy has {length} characters; at most {MAX_RESOURCE_POLICY}"
            )));
        }
        self.chars += length;
        if self.chars > MAX_RESOURCE_POLICIES {
            return Err(ApiError::validation(format!(
                "the resource policies of one call have more than {MAX_RESOURCE_POLICIES} characters in all"
            )));
        }
        let document = iam_domain::policy::PolicyDocument::parse(&text).map_err(|e| {
            ApiError::new(
                400,
                "MalformedPolicyDocument",
                format!("resource_policy: {}", e.aws_message()),
            )
        })?;
        let compiled = Arc::new(PolicySet::new(vec![
            iam_evaluator::CompiledPolicy::compile(&document),
        ]));
        self.compiled.insert(text, compiled.clone());
        Ok(Some(compiled))
    }
}

/// Asked by access key: the caller must also be allowed to ask about the
/// key's owner at that moment (its stored ARN, or root's), or a Deny on the
/// owner would not hold. The refusal names the key only: whose key it is
/// is not the caller's to learn.
fn authorize_owner(
    ctx: &OpContext<'_>,
    request: &iamd::AuthorizeRequest,
    subject: &Subject,
) -> Result<(), ApiError> {
    let Some(key) = &request.access_key_id else {
        return Ok(());
    };
    let owner = match subject {
        Subject::Root => ctx.arn("root"),
        Subject::User { arn, .. } => arn.clone(),
        Subject::Role { .. } | Subject::NoKey { .. } => return Ok(()),
    };
    ctx.authorize_also::<iam_wire::iamd::ops::Authorize>(&Target::arn(owner))
        .map_err(|e| match e.code.as_str() {
            "AccessDenied" => ApiError::new(
                403,
                "AccessDenied",
                format!(
                    "{} is not authorized to perform: iamd:Authorize on the owner of access key {key}",
                    ctx.caller.arn()
                ),
            ),
            _ => e,
        })
}

pub async fn authorize(
    ctx: &OpContext<'_>,
    input: iamd::AuthorizeRequest,
) -> OpResult<iamd::AuthorizeResponse> {
    let (mut decisions, position) = answer(ctx, &[&input], input.as_of.as_ref()).await?;
    let decision = decisions.pop().ok_or_else(ApiError::internal)?;
    Ok(iamd::AuthorizeResponse {
        decision: decision.decision,
        matched: decision.matched,
        reason: decision.reason,
        position: position.0 as i64,
    })
}

pub async fn authorize_batch(
    ctx: &OpContext<'_>,
    input: iamd::AuthorizeBatchRequest,
) -> OpResult<iamd::AuthorizeBatchResponse> {
    if input
        .requests
        .iter()
        .any(|r| r.as_of.as_ref().is_some_and(|d| !d.0.is_null()))
    {
        return Err(ApiError::validation(
            "A batch is answered at one moment: give as_of once, beside requests.",
        ));
    }
    let questions: Vec<&iamd::AuthorizeRequest> = input.requests.iter().collect();
    let (results, position) = answer(ctx, &questions, input.as_of.as_ref()).await?;
    Ok(iamd::AuthorizeBatchResponse {
        results,
        position: position.0 as i64,
    })
}

/// Answers `questions` against one view, that of `as_of` (now without
/// one): a single `/v1/authorize` is a batch of one. Before anything is
/// looked up, the caller is authorized on each principal asked about (once,
/// however many questions name it) and every question is checked; then
/// each principal is resolved, its key's owner authorized when asked by
/// key, and prepared once; each resource policy is compiled once.
async fn answer(
    ctx: &OpContext<'_>,
    questions: &[&iamd::AuthorizeRequest],
    as_of: Option<&Document>,
) -> Result<(Vec<iamd::Decision>, Position), ApiError> {
    let mut asked = std::collections::HashSet::new();
    for request in questions {
        if asked.insert((&request.principal, &request.access_key_id)) {
            authorize_asking(ctx, request)?;
        }
        check_question(request)?;
    }
    let mut resource_policies = ResourcePolicies::default();
    let resource_policies: Vec<Option<Arc<PolicySet>>> = questions
        .iter()
        .map(|request| resource_policies.of(request))
        .collect::<Result<_, _>>()?;
    let moment = moment(ctx, as_of).await?;
    let mut subjects = std::collections::HashMap::new();
    for request in questions {
        let asked = (&request.principal, &request.access_key_id);
        if let std::collections::hash_map::Entry::Vacant(slot) = subjects.entry(asked) {
            let subject = subject(&moment.view.state, ctx.account(), request)?;
            authorize_owner(ctx, request, &subject)?;
            slot.insert(subject);
        }
    }
    let prepared: std::collections::HashMap<_, _> = subjects
        .iter()
        .map(|(asked, subject)| (*asked, prepare(&moment.view, moment.time, subject)))
        .collect();
    let started = std::time::Instant::now();
    let mut decisions = Vec::with_capacity(questions.len());
    for (request, resource_policy) in questions.iter().zip(resource_policies) {
        if started.elapsed() > BATCH_DEADLINE {
            return Err(ApiError::validation(format!(
                "The batch was not decided within {} s: ask fewer questions at once.",
                BATCH_DEADLINE.as_secs()
            )));
        }
        let decision = decide(
            &prepared[&(&request.principal, &request.access_key_id)],
            (&moment.view.state, moment.time),
            ctx.account(),
            request,
            resource_policy,
        )?;
        ctx.state.metrics.decision(&decision.decision);
        decisions.push(decision);
    }
    // A question about now is an attempt to act now: the access advisor
    // counts it for the principal asked about.
    if as_of.is_none() {
        let records = service_uses(&moment.view.state, questions, &subjects, ctx.now);
        crate::access_advisor::record(ctx.state, &ctx.caller.arn(), records).await;
    }
    Ok((decisions, moment.position))
}

/// The access advisor's records of a batch: one per user or role asked
/// about and action asked, whatever the decision.
fn service_uses(
    state: &AccountState,
    questions: &[&iamd::AuthorizeRequest],
    subjects: &std::collections::HashMap<(&Option<String>, &Option<String>), Subject>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<iam_domain::command::ServiceAccessRecord> {
    use iam_domain::state::Accessor;
    let mut seen = std::collections::HashSet::new();
    let mut records = Vec::new();
    for request in questions {
        let asked = (&request.principal, &request.access_key_id);
        let accessor = match subjects.get(&asked) {
            Some(Subject::User {
                key: PrincipalKey::User(k),
                ..
            }) => state.users.get(k).map(|u| Accessor::User {
                user_name: u.name.clone(),
            }),
            Some(Subject::Role {
                key: PrincipalKey::Role(k),
                ..
            }) => state.roles.get(k).map(|r| Accessor::Role {
                role_name: r.name.clone(),
            }),
            _ => None,
        };
        let Some(accessor) = accessor else { continue };
        let Some((service, action)) = request.action.split_once(':') else {
            continue;
        };
        if !seen.insert((asked, service, action)) {
            continue;
        }
        records.push(iam_domain::command::ServiceAccessRecord {
            accessor,
            service: service.to_ascii_lowercase(),
            action: action.to_owned(),
            region: None,
            at: now,
        });
    }
    records
}

/// `GET /v1/view`: the account's view now or at `as_of`, as `iamd replay`
/// prints it. The whole account is in it: authorized on its root.
pub async fn get_view(
    ctx: &OpContext<'_>,
    input: iamd::GetViewRequest,
) -> OpResult<iamd::GetViewResponse> {
    ctx.authorize_arn(ctx.arn("root"))?;
    let moment = moment(ctx, input.as_of.as_ref()).await?;
    Ok(iamd::GetViewResponse {
        position: moment.position.0 as i64,
        view: Document(iam_projection::report::account_report(&moment.view)),
    })
}

/// One end of a segment: the event at `position`.
pub(super) fn boundary(e: &iam_event_store::RecordedEvent) -> iamd::Boundary {
    iamd::Boundary {
        position: e.position.0 as i64,
        recorded_at: e.recorded_at,
        event_id: e.event_id.to_string(),
        r#type: e.event_type.clone(),
    }
}

/// `GET /v1/access-history`: the principal's decision after each event of
/// the account's stream, from the principal's creation on; a segment ends
/// where the decision changes (or where the principal stops existing).
/// Authorized (`iamd:GetAccessHistory`) on the principal's ARN as given,
/// before anything is read.
///
/// Two things keep this proportional to the principal's own history
/// rather than the account's: the replay starts just before the first
/// event that targets the principal ([`history_start`]), and the decision
/// is taken again only after an event that changed what it is made of:
/// first [`MadeOf`] (the account's groups and policies, the principal's
/// entity) must have changed, then the principal's compiled policies must
/// not be the very same (see `AccountView::effective_policies`). Policies
/// that read the time (`aws:CurrentTime`, `aws:EpochTime`), which every
/// event moves, are decided after every event.
pub async fn get_access_history(
    ctx: &OpContext<'_>,
    input: iamd::GetAccessHistoryRequest,
) -> OpResult<iamd::GetAccessHistoryResponse> {
    ctx.authorize(&Target::arn(input.principal.clone()))?;
    let request = iamd::AuthorizeRequest {
        principal: Some(input.principal.clone()),
        action: input.action.clone(),
        resource: input.resource.clone(),
        ..Default::default()
    };
    let head = ctx.state.projection.position();
    let mut segments: Vec<iamd::Segment> = Vec::new();
    let mut existed = false;
    // The compiled policies the open segment's decision was taken with,
    // and whether they read the time.
    let mut decided_with: Option<(Arc<iam_projection::EffectivePolicies>, bool)> = None;
    let who = Arn::parse(&input.principal).ok();
    let mut made_of: Option<MadeOf> = None;
    let start = history_start(ctx, &input.principal).await?;
    replay_from(ctx, start, head, |view, e| {
        let open = segments.last().is_some_and(|s| s.to.is_none());
        let timed = decided_with.as_ref().is_some_and(|(_, timed)| *timed);
        if open && !timed && made_of.as_ref().is_some_and(|m| m.same_in(&view.state)) {
            return Ok(());
        }
        made_of = who.as_ref().map(|who| MadeOf::of(&view.state, who));
        let subject = subject(&view.state, ctx.account(), &request).ok();
        let effective = match &subject {
            Some(Subject::User { key, .. } | Subject::Role { key, .. }) => {
                view.effective_policies(key)
            }
            _ => None,
        };
        if let (true, Some(now), Some((then, false))) = (open, &effective, &decided_with) {
            if Arc::ptr_eq(now, then) {
                return Ok(());
            }
        }
        decided_with = effective.map(|p| {
            let timed = p.authorizer.reads_key("aws:CurrentTime")
                || p.authorizer.reads_key("aws:EpochTime");
            (p, timed)
        });
        let decision = match &subject {
            Some(s) => Some(
                decide(
                    &prepare(view, e.recorded_at, s),
                    (&view.state, e.recorded_at),
                    ctx.account(),
                    &request,
                    None,
                )?
                .decision,
            ),
            None => None,
        };
        let current = segments
            .last()
            .filter(|s| s.to.is_none())
            .map(|s| s.decision.clone());
        if decision == current {
            return Ok(());
        }
        if let Some(open) = segments.last_mut().filter(|s| s.to.is_none()) {
            open.to = Some(boundary(e));
        }
        if let Some(decision) = decision {
            existed = true;
            segments.push(iamd::Segment {
                decision,
                from: boundary(e),
                to: None,
            });
        }
        Ok(())
    })
    .await?;
    if !existed {
        return Err(no_such_principal(&input.principal));
    }
    Ok(iamd::GetAccessHistoryResponse {
        segments,
        position: head.0 as i64,
    })
}

/// What a principal's decision is made of in one state, as far as the log
/// can change it: the account's groups and managed policies (persistent
/// maps: the same root means not one of them changed) and the principal's
/// own entity (copied on change). When all are the very same in a later
/// state, so are the principal's policies, and so is its decision unless
/// that reads the time. Checking costs two pointer comparisons and one
/// lookup, where the principal's policies take a lookup for each of its
/// groups and policies.
struct MadeOf {
    groups: iam_domain::state::EntityMap<iam_domain::names::NameKey, iam_domain::state::Group>,
    policies:
        iam_domain::state::EntityMap<iam_domain::names::NameKey, iam_domain::state::ManagedPolicy>,
    entity: Entity,
}

/// The principal's own entity, by the key its ARN names.
enum Entity {
    User(
        iam_domain::names::NameKey,
        Option<iam_domain::state::Shared<iam_domain::state::User>>,
    ),
    Role(
        iam_domain::names::NameKey,
        Option<iam_domain::state::Shared<iam_domain::state::Role>>,
    ),
    /// The root user, or an ARN naming no principal: nothing of the state
    /// bears on it but the maps above.
    None,
}

impl MadeOf {
    fn of(state: &AccountState, who: &Arn) -> MadeOf {
        let entity = match who {
            Arn::User { name, .. } => {
                Entity::User(name.key(), state.users.get(&name.key()).cloned())
            }
            Arn::Role { name, .. } => {
                Entity::Role(name.key(), state.roles.get(&name.key()).cloned())
            }
            _ => Entity::None,
        };
        MadeOf {
            groups: state.groups.clone(),
            policies: state.policies.clone(),
            entity,
        }
    }

    fn same_in(&self, state: &AccountState) -> bool {
        use iam_domain::state::Shared;
        self.groups.ptr_eq(&state.groups)
            && self.policies.ptr_eq(&state.policies)
            && match &self.entity {
                Entity::User(key, then) => Shared::unchanged(state.users.get(key), then.as_ref()),
                Entity::Role(key, then) => Shared::unchanged(state.roles.get(key), then.as_ref()),
                Entity::None => true,
            }
    }
}

/// Where a principal's history can start: the account's view just before
/// the first event whose target is the principal (found through the log's
/// target index), if the principal did not exist in it — nothing before
/// can then bear on the principal's history. Otherwise (the principal is
/// the root, or existed before any event named it, as in logs written
/// before events recorded their target) the stream's start. A limit of
/// such old logs: a principal created and deleted there, before its first
/// event that names it, is not seen (its first life is missed).
pub(super) async fn history_start(
    ctx: &OpContext<'_>,
    principal: &str,
) -> Result<AccountView, ApiError> {
    let store = ctx.state.projection.store();
    let first = store
        .read_indexed(
            &ctx.state.account_id.stream_name(),
            iam_event_store::MetadataIndex::Target,
            principal,
            Position::START,
            1,
        )
        .await?;
    let Some(first) = first.first().filter(|e| e.position.0 > 1) else {
        return Ok(AccountView::default());
    };
    let before = iam_projection::history::account_as_of(
        store,
        &ctx.state.projection.config().snapshot_key,
        &ctx.state.account_id,
        Until::Position(Position(first.position.0 - 1)),
    )
    .await?;
    let asked = iamd::AuthorizeRequest {
        principal: Some(principal.to_owned()),
        ..Default::default()
    };
    Ok(match subject(&before.state, ctx.account(), &asked) {
        Err(_) => before,
        Ok(_) => AccountView::default(),
    })
}

/// Replays the account's stream from `view` up to `until`, handing the
/// view after each event to `each`: access history and permission diffs
/// are both "what was true after every change".
pub(super) async fn replay_from(
    ctx: &OpContext<'_>,
    view: AccountView,
    until: Position,
    each: impl FnMut(&AccountView, &iam_event_store::RecordedEvent) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    iam_projection::history::replay_each(
        ctx.state.projection.store(),
        &ctx.state.account_id,
        view,
        until,
        each,
    )
    .await?;
    Ok(())
}
