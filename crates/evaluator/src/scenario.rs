//! Scenarios: the JSON format of `iamd eval` and of the conformance cases.
//!
//! A scenario is a request plus every policy that bears on it; the result is
//! the decision, who it was for (`principal`: the ARN, or `anonymous` when
//! the request names none; `principal_type`: `aws:PrincipalType`), and the
//! statements that decided it, plus `reason` when no policy was weighed
//! (`sts:GetCallerIdentity`). [`run_scenarios`] takes one
//! scenario object (result: one object) or an array (result: an array, same
//! order). A malformed policy gives `{"error": {"code":
//! "MalformedPolicyDocument", "message": ...}}` in that scenario's place;
//! input that is not a scenario at all is a [`ScenarioInputError`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use iam_domain::policy::{PolicyDocument, PolicyError, PolicyKind};

use crate::decision::{Authorizer, Layer};
use crate::policy::{CompiledPolicy, PolicySet};
use crate::request::{Context, Principal, Request};

/// Input that is not a scenario (or an array of scenarios).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScenarioInputError {
    message: String,
}

impl ScenarioInputError {
    fn new(message: impl Into<String>) -> Self {
        ScenarioInputError {
            message: message.into(),
        }
    }
}

/// One scenario as written in JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub request: ScenarioRequest,
    #[serde(default)]
    pub identity_policies: Vec<Value>,
    #[serde(default)]
    pub resource_policy: Option<Value>,
    #[serde(default)]
    pub permissions_boundary: Option<Value>,
    #[serde(default)]
    pub session_policy: Option<Value>,
    #[serde(default)]
    pub service_control_policies: Vec<Vec<Value>>,
    #[serde(default)]
    pub resource_control_policies: Vec<Vec<Value>>,
}

/// The request part of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    #[serde(default)]
    pub principal: Option<String>,
    pub action: String,
    pub resource: String,
    #[serde(default)]
    pub resource_account: Option<String>,
    #[serde(default)]
    pub context: serde_json::Map<String, Value>,
}

/// Run one scenario or an array of them.
pub fn run_scenarios(input: &Value, now: DateTime<Utc>) -> Result<Value, ScenarioInputError> {
    match input {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let sc = parse_scenario(item).map_err(|e| {
                    ScenarioInputError::new(format!("scenario [{i}]: {}", e.message))
                })?;
                out.push(run_scenario(&sc, now));
            }
            Ok(Value::Array(out))
        }
        Value::Object(_) => Ok(run_scenario(&parse_scenario(input)?, now)),
        _ => Err(ScenarioInputError::new(
            "input must be a scenario object or an array of scenarios",
        )),
    }
}

/// Parse the JSON of one scenario.
pub fn parse_scenario(v: &Value) -> Result<Scenario, ScenarioInputError> {
    let sc = Scenario::deserialize(v)
        .map_err(|e| ScenarioInputError::new(format!("not a scenario: {e}")))?;
    for (k, val) in &sc.request.context {
        let ok = match val {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
            Value::Array(items) => items
                .iter()
                .all(|i| matches!(i, Value::String(_) | Value::Number(_) | Value::Bool(_))),
            _ => false,
        };
        if !ok {
            return Err(ScenarioInputError::new(format!(
                "not a scenario: context key \"{k}\" must be a string or an array of strings"
            )));
        }
    }
    Ok(sc)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A policy slot: `null` or `{}` means "no policy"; a string holds the JSON text.
fn is_absent(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn compile(v: &Value, kinds: &[PolicyKind], name: &str) -> Result<CompiledPolicy, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let fail = |e: PolicyError| format!("{name}: {e}");
    let doc = PolicyDocument::parse(&text).map_err(fail)?;
    let mut last = None;
    for kind in kinds {
        match doc.validate_for(*kind) {
            Ok(()) => return Ok(CompiledPolicy::compile(&doc)),
            Err(e) => last = last.or(Some(e)),
        }
    }
    Err(last.map(fail).unwrap_or_default())
}

/// Build the authorizer and request of a scenario.
pub fn build(sc: &Scenario, now: DateTime<Utc>) -> Result<(Authorizer, Request), String> {
    let identity = sc
        .identity_policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            compile(
                p,
                &[PolicyKind::Identity],
                &format!("identity_policies[{i}]"),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut auth = Authorizer::new(PolicySet::new(identity));
    if let Some(p) = sc.resource_policy.as_ref().filter(|p| !is_absent(p)) {
        auth = auth.with_resource_policy(compile(
            p,
            &[PolicyKind::Resource, PolicyKind::Trust],
            "resource_policy",
        )?);
    }
    if let Some(p) = sc.permissions_boundary.as_ref().filter(|p| !is_absent(p)) {
        auth = auth.with_permissions_boundary(compile(
            p,
            &[PolicyKind::PermissionsBoundary],
            "permissions_boundary",
        )?);
    }
    if let Some(p) = sc.session_policy.as_ref().filter(|p| !is_absent(p)) {
        auth = auth.with_session_policy(compile(p, &[PolicyKind::Session], "session_policy")?);
    }
    let levels = |name: &str, lv: &[Vec<Value>]| -> Result<Vec<PolicySet>, String> {
        lv.iter()
            .enumerate()
            .map(|(l, ps)| {
                ps.iter()
                    .enumerate()
                    .map(|(i, p)| {
                        compile(
                            p,
                            &[PolicyKind::ControlPolicy],
                            &format!("{name}[{l}][{i}]"),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(PolicySet::new)
            })
            .collect()
    };
    auth = auth.with_service_control_policies(levels(
        "service_control_policies",
        &sc.service_control_policies,
    )?);
    auth = auth.with_resource_control_policies(levels(
        "resource_control_policies",
        &sc.resource_control_policies,
    )?);

    let mut ctx = Context::new();
    for (k, v) in &sc.request.context {
        match v {
            Value::Array(items) => ctx.insert_many(k, items.iter().map(text).collect()),
            other => ctx.insert(k, text(other)),
        }
    }
    let principal = match sc.request.principal.as_deref() {
        None | Some("") => Principal::anonymous(),
        Some(arn) => Principal::parse(arn),
    };
    let req = Request::new(
        principal,
        &sc.request.action,
        &sc.request.resource,
        sc.request
            .resource_account
            .clone()
            .filter(|a| !a.is_empty()),
        ctx,
        now,
    );
    Ok((auth, req))
}

fn layer_name(layer: Layer, policy: usize) -> String {
    match layer {
        Layer::Identity => format!("identity_policies[{policy}]"),
        Layer::Resource => "resource_policy".into(),
        Layer::PermissionsBoundary => "permissions_boundary".into(),
        Layer::Session => "session_policy".into(),
        Layer::ServiceControl(l) => format!("service_control_policies[{l}][{policy}]"),
        Layer::ResourceControl(l) => format!("resource_control_policies[{l}][{policy}]"),
    }
}

/// Run one parsed scenario.
pub fn run_scenario(sc: &Scenario, now: DateTime<Utc>) -> Value {
    let (auth, req) = match build(sc, now) {
        Ok(x) => x,
        Err(message) => {
            return json!({"error": {"code": PolicyError::CODE, "message": message}});
        }
    };
    let d = auth.evaluate(&req);
    let matched: Vec<Value> = d
        .matched
        .iter()
        .map(|m| {
            let mut o = serde_json::Map::new();
            o.insert(
                "policy".into(),
                Value::String(layer_name(m.layer, m.policy)),
            );
            o.insert("statement".into(), json!(m.statement));
            if let Some(sid) = auth.sid(m) {
                o.insert("sid".into(), Value::String(sid.to_owned()));
            }
            o.insert("effect".into(), Value::String(m.effect.as_str().into()));
            Value::Object(o)
        })
        .collect();
    // Who was evaluated: a request without a principal is anonymous, and
    // the output says so rather than leaving the reader to guess.
    let principal = match req.principal().kind() {
        crate::request::PrincipalKind::Anonymous => "anonymous".to_owned(),
        _ => req.principal().arn().to_owned(),
    };
    let mut out = json!({
        "decision": d.outcome.as_str(),
        "principal": principal,
        "principal_type": req.principal().type_name(),
        "matched": matched
    });
    // A decision taken without weighing any policy says why.
    if let (Some(reason), Some(o)) = (d.reason, out.as_object_mut()) {
        o.insert("reason".into(), Value::String(reason.as_str().into()));
    }
    out
}
