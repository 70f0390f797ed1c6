//! AWS's policy simulator over the Query API: `SimulatePrincipalPolicy`,
//! `SimulateCustomPolicy`, `GetContextKeysForPrincipalPolicy` and
//! `GetContextKeysForCustomPolicy`, answered by iamd's evaluator.
//!
//! A principal's policies are those `/v1/diff` lists (its inline policies,
//! its attached policies' default versions and, for a user, its groups'),
//! plus the request's `PolicyInputList`; its stored permissions boundary
//! applies unless `PermissionsBoundaryPolicyInputList` replaces it.
//!
//! One result is given per action and resource asked (in that order); a
//! result for a resource other than `*` also carries one
//! `ResourceSpecificResults` entry for that resource, with the same
//! decision, statements and missing keys (AWS lists missing keys there when
//! resources are named, and at the top level as the aggregate over them).
//!
//! **`MissingContextValues`** are the condition keys that could change the
//! answer for this action and resource but have no value in the simulated
//! request: every key named in the `Condition` of a statement *in scope*
//! (its `Action`/`NotAction`, `Resource`/`NotResource` and, in the resource
//! policy, `Principal`/`NotPrincipal` match, whether or not its conditions
//! hold; `Authorizer::in_scope`) of the identity policies, the permissions
//! boundary or the resource policy, that is absent from the request's
//! context. That context is `ContextEntries` (an entry with no values counts
//! as absent, as it does for the evaluator) plus the global keys iamd fills
//! itself from the simulated caller and the clock (`Request::new`:
//! `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
//! `aws:username` for a user, `aws:CurrentTime`, `aws:EpochTime`), so those
//! are never missing, while keys iamd does not fill (`aws:userid`,
//! `aws:SourceIp`, `aws:PrincipalTag/...`) are. Keys under `...IfExists` and
//! `Null` count like any other (their absence is what those operators test).
//! Keys only used as policy variables (`${aws:userid}`) are not listed, as
//! `GetContextKeysFor*Policy` does not list them. Keys compare ignoring case;
//! each is spelled as first written (policies in order) and the list is
//! sorted. A decision taken without weighing any policy
//! (`sts:GetCallerIdentity`) misses nothing.
//!
//! **Statement positions**: `StartPosition` and `EndPosition` locate the
//! statement object in the document text as stored or given
//! (`iam_domain::policy::statement_spans`): 1-based lines, columns counted
//! in characters. AWS reports the position just after each brace (its own
//! example, a one-line document whose statement's `{` is character 37 and
//! `}` character 166, answers 1:38 and 1:167), so iamd does too. A document
//! whose statements cannot be located leaves both positions out.

use std::collections::{BTreeMap, BTreeSet};

use iam_domain::policy::{statement_spans, PolicyDocument, StatementSpan, TextPosition};
use iam_domain::{AccountState, Arn};
use iam_evaluator::{
    Authorizer, CompiledPolicy, Context, Layer, Matched, Outcome, PolicySet, Principal, Request,
};
use iam_wire::iam;

use super::stored_policies::{self, Origin};
use super::{OpContext, OpResult};
use crate::query::ApiError;

/// The most action and resource pairs one simulation weighs.
const MAX_RESULTS: usize = 1_000;

/// A policy taking part, with how AWS's answer names it.
struct Source {
    id: String,
    kind: iam::PolicySourceType,
    document: String,
}

fn malformed(e: iam_domain::policy::PolicyError) -> ApiError {
    tracing::info!(detail = %e, "simulation input refused");
    ApiError::new(400, "MalformedPolicyDocument", e.aws_message())
}

/// What the simulator reads of a document beside its compiled form.
struct Prepared {
    /// The condition keys of each statement, as written.
    keys: Vec<Vec<String>>,
    /// Where each statement is written, when it can be found.
    spans: Option<Vec<StatementSpan>>,
}

fn prepare(document: &str) -> Result<(CompiledPolicy, Prepared), ApiError> {
    let doc = PolicyDocument::parse(document).map_err(malformed)?;
    let keys = doc
        .statements()
        .iter()
        .map(|st| {
            st.condition
                .iter()
                .flat_map(|b| b.entries.iter().map(|e| e.key.clone()))
                .collect()
        })
        .collect();
    let spans = statement_spans(document).filter(|s| s.len() == doc.statements().len());
    Ok((CompiledPolicy::compile(&doc), Prepared { keys, spans }))
}

/// AWS's position for a brace at `p`: its line, and the column after it.
fn after(p: TextPosition) -> Option<iam::Position> {
    Some(iam::Position {
        line: Some(i32::try_from(p.line).ok()?),
        column: Some(i32::try_from(p.column.checked_add(1)?).ok()?),
    })
}

/// The condition keys of the statements in scope that the request's
/// context has no value for (see the module documentation).
fn missing_keys<'a>(
    in_scope: &[Matched],
    request: &Request,
    prepared: impl Fn(&Matched) -> Option<&'a Prepared>,
) -> Vec<String> {
    let mut missing = BTreeMap::new();
    for m in in_scope {
        let keys = prepared(m).and_then(|p| p.keys.get(m.statement));
        for key in keys.into_iter().flatten() {
            if request.context().get(key).is_none() {
                missing
                    .entry(key.to_ascii_lowercase())
                    .or_insert_with(|| key.clone());
            }
        }
    }
    let mut keys: Vec<String> = missing.into_values().collect();
    keys.sort();
    keys
}

/// The stored identity policies of the user, group or role `arn` names,
/// as the simulator names them, and its permissions boundary.
fn stored_sources(state: &AccountState, arn: &Arn) -> Option<(Vec<Source>, Option<Arn>)> {
    let (_, policies, boundary) = stored_policies::of(state, arn)?;
    let sources = policies
        .into_iter()
        .map(|p| Source {
            kind: match p.origin {
                Origin::Inline { kind: "user", .. } => iam::PolicySourceType::User,
                Origin::Inline { kind: "group", .. } => iam::PolicySourceType::Group,
                Origin::Inline { .. } => iam::PolicySourceType::Role,
                Origin::Managed { .. } => iam::PolicySourceType::UserManaged,
            },
            id: p.name,
            document: p.document,
        })
        .collect();
    Some((sources, boundary))
}

/// The request's context entries (each key with its list of values).
fn context(entries: Option<&[iam::ContextEntry]>) -> Context {
    let mut context = Context::new();
    for e in entries.unwrap_or_default() {
        if let Some(key) = &e.context_key_name {
            context.insert_many(key, e.context_key_values.clone().unwrap_or_default());
        }
    }
    context
}

/// What a simulation weighs, beside its actions and resources.
struct Simulation {
    sources: Vec<Source>,
    /// The permissions boundary's document.
    boundary: Option<String>,
    principal: String,
}

/// What a simulation asks: every action on every resource (`*` when
/// none), with the request's context and the resource's policy.
struct Asked<'a> {
    actions: &'a [String],
    resources: Option<&'a [String]>,
    resource_policy: Option<&'a str>,
    entries: Option<&'a [iam::ContextEntry]>,
    max_items: Option<i32>,
    marker: Option<&'a str>,
}

fn simulate(
    ctx: &OpContext<'_>,
    sim: Simulation,
    asked: Asked<'_>,
) -> OpResult<iam::SimulatePolicyResponse> {
    let Asked {
        actions,
        resources,
        resource_policy,
        entries,
        max_items,
        marker,
    } = asked;
    let boundary = sim.boundary.as_deref().map(prepare).transpose()?;
    let (compiled, prepared): (Vec<CompiledPolicy>, Vec<Prepared>) = sim
        .sources
        .iter()
        .map(|s| prepare(&s.document))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    let resource_policy = resource_policy.map(prepare).transpose()?;
    let mut authorizer = Authorizer::new(PolicySet::new(compiled));
    let boundary = boundary.map(|(c, p)| {
        authorizer = std::mem::take(&mut authorizer).with_permissions_boundary(c);
        p
    });
    let resource_policy = resource_policy.map(|(c, p)| {
        authorizer = std::mem::take(&mut authorizer).with_resource_policy(c);
        p
    });
    let prepared_of = |m: &Matched| match m.layer {
        Layer::Identity => prepared.get(m.policy),
        Layer::PermissionsBoundary => boundary.as_ref(),
        Layer::Resource => resource_policy.as_ref(),
        _ => None,
    };
    let star = ["*".to_owned()];
    let resources = resources.filter(|r| !r.is_empty()).unwrap_or(&star);
    // Every action is weighed on every resource: the product is bounded
    // (a hostile review made 1,500 × 1,500 take 19 s and 1.2 GB).
    if actions.len().saturating_mul(resources.len()) > MAX_RESULTS {
        return Err(ApiError::new(
            400,
            "InvalidInput",
            format!(
                "A simulation weighs at most {MAX_RESULTS} action and resource pairs; \
                 this one asks for {} × {}.",
                actions.len(),
                resources.len()
            ),
        ));
    }
    let context = context(entries);
    let mut results = Vec::new();
    for action in actions {
        for resource in resources {
            let request = Request::new(
                simulated_principal(&sim.principal),
                action,
                resource,
                None,
                context.clone(),
                ctx.now,
            );
            let decision = authorizer.evaluate(&request);
            let matched: Vec<iam::Statement> = decision
                .matched
                .iter()
                .filter(|m| m.layer == Layer::Identity || m.layer == Layer::Resource)
                .map(|m| {
                    let span = prepared_of(m)
                        .and_then(|p| p.spans.as_ref())
                        .and_then(|s| s.get(m.statement));
                    iam::Statement {
                        source_policy_id: Some(match m.layer {
                            Layer::Resource => "ResourcePolicy".to_owned(),
                            _ => sim
                                .sources
                                .get(m.policy)
                                .map(|s| s.id.clone())
                                .unwrap_or_default(),
                        }),
                        source_policy_type: Some(match m.layer {
                            Layer::Resource => iam::PolicySourceType::Resource,
                            _ => sim
                                .sources
                                .get(m.policy)
                                .map(|s| s.kind)
                                .unwrap_or(iam::PolicySourceType::None),
                        }),
                        start_position: span.and_then(|s| after(s.start)),
                        end_position: span.and_then(|s| after(s.end)),
                    }
                })
                .collect();
            let missing = if decision.reason.is_some() {
                Vec::new()
            } else {
                missing_keys(&authorizer.in_scope(&request), &request, prepared_of)
            };
            let boundary_allows = decision.matched.iter().any(|m| {
                m.layer == Layer::PermissionsBoundary
                    && m.effect == iam_domain::policy::Effect::Allow
            });
            let boundary_detail = authorizer.policy(Layer::PermissionsBoundary, 0).map(|_| {
                iam::PermissionsBoundaryDecisionDetail {
                    allowed_by_permissions_boundary: Some(boundary_allows),
                }
            });
            let eval_decision = match decision.outcome {
                Outcome::Allow => iam::PolicyEvaluationDecisionType::Allowed,
                Outcome::ExplicitDeny => iam::PolicyEvaluationDecisionType::ExplicitDeny,
                Outcome::ImplicitDeny => iam::PolicyEvaluationDecisionType::ImplicitDeny,
            };
            let resource_specific_results = (resource != "*").then(|| {
                vec![iam::ResourceSpecificResult {
                    eval_resource_name: resource.clone(),
                    eval_resource_decision: eval_decision,
                    matched_statements: Some(matched.clone()),
                    missing_context_values: Some(missing.clone()),
                    eval_decision_details: None,
                    permissions_boundary_decision_detail: boundary_detail.clone(),
                }]
            });
            results.push(iam::EvaluationResult {
                eval_action_name: action.clone(),
                eval_resource_name: Some(resource.clone()),
                eval_decision,
                matched_statements: Some(matched),
                missing_context_values: Some(missing),
                organizations_decision_detail: None,
                permissions_boundary_decision_detail: boundary_detail,
                eval_decision_details: None,
                resource_specific_results,
            });
        }
    }
    // Paged in the order asked (action, then resource), the marker being
    // the index of the next result.
    let start: usize = marker.and_then(|m| m.parse().ok()).unwrap_or(0);
    let max = max_items.unwrap_or(100).clamp(1, 1000) as usize;
    let total = results.len();
    let page: Vec<iam::EvaluationResult> = results.into_iter().skip(start).take(max).collect();
    let next = (start + page.len() < total).then(|| (start + page.len()).to_string());
    Ok(iam::SimulatePolicyResponse {
        evaluation_results: Some(page),
        is_truncated: Some(next.is_some()),
        marker: next,
    })
}

/// The boundary `PermissionsBoundaryPolicyInputList` gives, if it gives one.
fn boundary_override(list: Option<&[String]>) -> Result<Option<String>, ApiError> {
    match list.filter(|l| !l.is_empty()) {
        None => Ok(None),
        Some([one]) => {
            PolicyDocument::parse(one).map_err(malformed)?;
            Ok(Some(one.clone()))
        }
        Some(_) => Err(ApiError::new(
            400,
            "InvalidInput",
            "PermissionsBoundaryPolicyInputList takes one policy.",
        )),
    }
}

/// Authorizes the operation on the entity `PolicySourceArn` names, by its
/// stored ARN (as every call is: another spelling of a name cannot slip
/// past a deny on it), and returns the parsed ARN.
fn authorize_source(ctx: &OpContext<'_>, text: &str) -> Result<Arn, ApiError> {
    let Ok(arn) = Arn::parse(text) else {
        ctx.authorize_arn(text.to_owned())?;
        return Err(no_such_source(text));
    };
    let target = match &arn {
        Arn::User { name, .. } => ctx.user_target(name),
        Arn::Group { name, .. } => ctx.group_target(name),
        Arn::Role { name, .. } => ctx.role_target(name),
        _ => crate::authz::Target::arn(text.to_owned()),
    };
    ctx.authorize(&target.named_as(text.to_owned()))?;
    Ok(arn)
}

fn no_such_source(arn: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("The entity {arn} cannot be found."),
    )
}

/// Who a simulation's requests come from: the caller ARN, or the policy
/// source. A group never makes a request; its policies are simulated as
/// one of its members' (`Principal::unnamed_user`), as AWS simulates a
/// group's policies.
fn simulated_principal(arn: &str) -> Principal {
    match Arn::parse(arn) {
        Ok(Arn::Group { account, .. }) => Principal::unnamed_user(account.as_str()),
        _ => Principal::parse(arn),
    }
}

pub async fn simulate_principal_policy(
    ctx: &OpContext<'_>,
    input: iam::SimulatePrincipalPolicyRequest,
) -> OpResult<iam::SimulatePolicyResponse> {
    let arn = authorize_source(ctx, &input.policy_source_arn)?;
    let state = ctx.state();
    let (mut sources, stored_boundary) =
        stored_sources(state, &arn).ok_or_else(|| no_such_source(&input.policy_source_arn))?;
    for (i, doc) in input.policy_input_list.iter().flatten().enumerate() {
        sources.push(Source {
            id: format!("PolicyInputList.{}", i + 1),
            kind: iam::PolicySourceType::None,
            document: doc.clone(),
        });
    }
    let boundary = match boundary_override(input.permissions_boundary_policy_input_list.as_deref())?
    {
        Some(b) => Some(b),
        None => stored_boundary
            .and_then(|b| state.policy_by_arn(&b))
            .and_then(|p| p.versions.get(&p.default_version))
            .map(|v| v.document.clone()),
    };
    let principal = input
        .caller_arn
        .clone()
        .unwrap_or_else(|| input.policy_source_arn.clone());
    simulate(
        ctx,
        Simulation {
            sources,
            boundary,
            principal,
        },
        Asked {
            actions: &input.action_names,
            resources: input.resource_arns.as_deref(),
            resource_policy: input.resource_policy.as_deref(),
            entries: input.context_entries.as_deref(),
            max_items: input.max_items,
            marker: input.marker.as_deref(),
        },
    )
}

pub async fn simulate_custom_policy(
    ctx: &OpContext<'_>,
    input: iam::SimulateCustomPolicyRequest,
) -> OpResult<iam::SimulatePolicyResponse> {
    ctx.authorize_arn("*".into())?;
    let sources = input
        .policy_input_list
        .iter()
        .enumerate()
        .map(|(i, doc)| Source {
            id: format!("PolicyInputList.{}", i + 1),
            kind: iam::PolicySourceType::None,
            document: doc.clone(),
        })
        .collect();
    let boundary = boundary_override(input.permissions_boundary_policy_input_list.as_deref())?;
    // Without a caller, the policies are weighed for a user of this account.
    let principal = input
        .caller_arn
        .clone()
        .unwrap_or_else(|| ctx.arn("user/SimulatedUser"));
    simulate(
        ctx,
        Simulation {
            sources,
            boundary,
            principal,
        },
        Asked {
            actions: &input.action_names,
            resources: input.resource_arns.as_deref(),
            resource_policy: input.resource_policy.as_deref(),
            entries: input.context_entries.as_deref(),
            max_items: input.max_items,
            marker: input.marker.as_deref(),
        },
    )
}

/// The condition keys the documents' `Condition` elements name, sorted.
fn context_keys<'a>(documents: impl Iterator<Item = &'a str>) -> Result<Vec<String>, ApiError> {
    let mut keys = BTreeSet::new();
    for doc in documents {
        PolicyDocument::parse(doc).map_err(malformed)?;
        let value: serde_json::Value = serde_json::from_str(doc).unwrap_or_default();
        let statements = match &value["Statement"] {
            serde_json::Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        for st in statements {
            for operator in st["Condition"]
                .as_object()
                .into_iter()
                .flat_map(|c| c.values())
            {
                for key in operator.as_object().into_iter().flat_map(|o| o.keys()) {
                    keys.insert(key.clone());
                }
            }
        }
    }
    Ok(keys.into_iter().collect())
}

pub async fn get_context_keys_for_principal_policy(
    ctx: &OpContext<'_>,
    input: iam::GetContextKeysForPrincipalPolicyRequest,
) -> OpResult<iam::GetContextKeysForPolicyResponse> {
    let arn = authorize_source(ctx, &input.policy_source_arn)?;
    let (sources, _) = stored_sources(ctx.state(), &arn)
        .ok_or_else(|| no_such_source(&input.policy_source_arn))?;
    let docs = sources
        .iter()
        .map(|s| s.document.as_str())
        .chain(input.policy_input_list.iter().flatten().map(String::as_str));
    Ok(iam::GetContextKeysForPolicyResponse {
        context_key_names: Some(context_keys(docs)?),
    })
}

pub async fn get_context_keys_for_custom_policy(
    ctx: &OpContext<'_>,
    input: iam::GetContextKeysForCustomPolicyRequest,
) -> OpResult<iam::GetContextKeysForPolicyResponse> {
    ctx.authorize_arn("*".into())?;
    Ok(iam::GetContextKeysForPolicyResponse {
        context_key_names: Some(context_keys(
            input.policy_input_list.iter().map(String::as_str),
        )?),
    })
}
