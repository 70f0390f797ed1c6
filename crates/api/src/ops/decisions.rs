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
use iam_evaluator::{Authorizer, Context, Layer, Outcome, Principal, Request};
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
    /// The time `aws:CurrentTime` has: the one asked about, else now.
    pub time: chrono::DateTime<chrono::Utc>,
}

/// `as_of`: an RFC 3339 time or a log position (a number, or digits).
pub(super) fn parse_as_of(as_of: &Document) -> Result<Until, ApiError> {
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
    let store = ctx.state.projection.store();
    let position = iam_projection::history::cut_position(store.as_ref(), until).await?;
    if position > ctx.state.projection.position() {
        return Err(ApiError::validation(format!(
            "as_of names log position {}, beyond this node's {}",
            position.0,
            ctx.state.projection.position().0
        )));
    }
    let view = iam_projection::history::account_as_of(
        store,
        &ctx.state.projection.config().snapshot_key,
        &ctx.state.account_id,
        Until::Position(position),
    )
    .await?;
    let time = match until {
        Until::Time(t) => t,
        Until::Position(_) => ctx.now,
    };
    Ok(Moment {
        view: Arc::new(view),
        position,
        time,
    })
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
        arn: String,
        session: String,
    },
    /// An access key that was absent or inactive at that moment.
    NoKey {
        reason: String,
    },
}

impl Subject {
    /// The ARN `iamd:Authorize` is checked on.
    fn arn(&self, account: &str) -> String {
        match self {
            Subject::Root => format!("arn:aws:iam::{account}:root"),
            Subject::User { arn, .. } | Subject::Role { arn, .. } => arn.clone(),
            Subject::NoKey { .. } => format!("arn:aws:iam::{account}:user/*"),
        }
    }
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
                        .ok_or_else(|| no_such_principal(principal))?;
                    Ok(Subject::Role {
                        key: PrincipalKey::Role(name.key()),
                        arn: state
                            .role_arn(role)
                            .map(|a| a.to_string())
                            .unwrap_or_default(),
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
fn context(values: Option<&iam_wire::Map<String, Document>>) -> Result<Context, ApiError> {
    let mut context = Context::new();
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
                        .iter()
                        .find(|(k, _)| k.as_str() == key)
                        .and_then(|(_, p)| state.policy_arn(p))
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

/// Decides one request in the view of its moment.
fn decide(
    moment: &Moment,
    account: &str,
    subject: &Subject,
    request: &iamd::AuthorizeRequest,
) -> Result<iamd::Decision, ApiError> {
    let state = &moment.view.state;
    let (key, principal_arn) = match subject {
        Subject::Root => {
            return Ok(iamd::Decision {
                decision: Outcome::Allow.as_str().to_owned(),
                matched: Vec::new(),
                reason: Some("the account's root user may do everything in its account".into()),
            })
        }
        Subject::NoKey { reason } => {
            return Ok(iamd::Decision {
                decision: Outcome::ImplicitDeny.as_str().to_owned(),
                matched: Vec::new(),
                reason: Some(reason.clone()),
            })
        }
        Subject::User { key, arn } => (key, arn.clone()),
        Subject::Role { key, session, .. } => (key, session.clone()),
    };
    let effective = moment.view.effective_policies(key);
    let mut authorizer = effective
        .as_ref()
        .map(|e| e.authorizer.clone())
        .unwrap_or_else(|| Authorizer::new(Default::default()));
    if let Some(policy) = request.resource_policy.as_ref().filter(|d| !d.0.is_null()) {
        let document =
            iam_domain::policy::PolicyDocument::parse(&policy.0.to_string()).map_err(|e| {
                ApiError::new(
                    400,
                    "MalformedPolicyDocument",
                    format!("resource_policy: {}", e.aws_message()),
                )
            })?;
        authorizer =
            authorizer.with_resource_policy(iam_evaluator::CompiledPolicy::compile(&document));
    }
    let boundary = match key {
        PrincipalKey::User(k) => state
            .users
            .get(k)
            .and_then(|u| u.permissions_boundary.clone()),
        PrincipalKey::Role(k) => state
            .roles
            .get(k)
            .and_then(|r| r.permissions_boundary.clone()),
    };
    let evaluated = Request::new(
        Principal::parse(&principal_arn),
        &request.action,
        &request.resource,
        None,
        context(request.context.as_ref())?,
        moment.time,
    );
    let decision = authorizer.evaluate(&evaluated);
    let sources = effective
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
                    boundary.as_ref(),
                ),
                statement: m.statement as i64,
                sid: authorizer.sid(m).map(str::to_owned),
                effect: format!("{:?}", m.effect),
            })
            .collect(),
        reason: decision.reason.map(|r| r.as_str().to_owned()),
    })
}

/// Resolves the subject and checks the caller may ask about it.
fn authorized_subject(
    ctx: &OpContext<'_>,
    moment: &Moment,
    request: &iamd::AuthorizeRequest,
) -> Result<Subject, ApiError> {
    let account = ctx.account();
    // Asking about a principal that did not exist is refused the same way
    // as asking about one that did, to a caller not allowed to ask.
    let subject = subject(&moment.view.state, account, request);
    let asked = match (&subject, &request.principal) {
        (Ok(s), _) => s.arn(account),
        (Err(_), Some(p)) => p.clone(),
        (Err(_), None) => format!("arn:aws:iam::{account}:user/*"),
    };
    ctx.authorize(&Target::arn(asked))?;
    subject
}

pub async fn authorize(
    ctx: &OpContext<'_>,
    input: iamd::AuthorizeRequest,
) -> OpResult<iamd::AuthorizeResponse> {
    let moment = moment(ctx, input.as_of.as_ref()).await?;
    let subject = authorized_subject(ctx, &moment, &input)?;
    let decision = decide(&moment, ctx.account(), &subject, &input)?;
    Ok(iamd::AuthorizeResponse {
        decision: decision.decision,
        matched: decision.matched,
        reason: decision.reason,
        position: moment.position.0 as i64,
    })
}

pub async fn authorize_batch(
    ctx: &OpContext<'_>,
    input: iamd::AuthorizeBatchRequest,
) -> OpResult<iamd::AuthorizeBatchResponse> {
    let moment = moment(ctx, input.as_of.as_ref()).await?;
    let mut results = Vec::with_capacity(input.requests.len());
    for request in &input.requests {
        if request.as_of.as_ref().is_some_and(|d| !d.0.is_null()) {
            return Err(ApiError::validation(
                "A batch is answered at one moment: give as_of once, beside requests.",
            ));
        }
        let subject = authorized_subject(ctx, &moment, request)?;
        results.push(decide(&moment, ctx.account(), &subject, request)?);
    }
    Ok(iamd::AuthorizeBatchResponse {
        results,
        position: moment.position.0 as i64,
    })
}
