//! `GET /v1/diff`: what a principal gained and lost between two moments,
//! statement by statement, and the events in between that changed it.
//!
//! A principal's statements are those of every identity policy that
//! applies to it — its inline policies, the default versions of its
//! attached managed policies, and, for a user, its groups' inline and
//! attached policies — each named as `/v1/authorize` names policies.

use std::collections::BTreeSet;

use iam_domain::{AccountState, Arn};
use iam_wire::{iamd, Document};

use super::stored_policies::{self, Origin};
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::query::ApiError;

/// A statement as JSON text (for set comparison) and as the answer's shape.
type Statements = BTreeSet<(String, String)>;

fn statements_of(out: &mut Statements, label: &str, document: &str) {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) else {
        return;
    };
    let list = match &doc["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single @ serde_json::Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    for st in list {
        let text = serde_json::json!({
            "Effect": st["Effect"], "Action": st["Action"], "NotAction": st["NotAction"],
            "Resource": st["Resource"], "NotResource": st["NotResource"], "Condition": st["Condition"],
        })
        .to_string();
        out.insert((label.to_owned(), text));
    }
}

/// The principal's statements in `state`; `None` if it does not exist
/// there under exactly the ARN asked about (a user's groups' policies
/// included; a group is not a principal).
fn statements(state: &AccountState, principal: &str) -> Option<Statements> {
    let arn = Arn::parse(principal).ok()?;
    if matches!(arn, Arn::Group { .. }) {
        return None;
    }
    let (stored, policies, _) = stored_policies::of(state, &arn)?;
    if stored != principal {
        return None;
    }
    let mut out = Statements::new();
    for p in policies {
        let label = match p.origin {
            Origin::Inline { kind, owner } => format!("{kind}/{owner}/inline/{}", p.name),
            Origin::Managed { arn } => arn,
        };
        statements_of(&mut out, &label, &p.document);
    }
    Some(out)
}

fn shape((policy, text): &(String, String)) -> iamd::Statement {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let member = |k: &str| Some(v[k].clone()).filter(|v| !v.is_null()).map(Document);
    iamd::Statement {
        policy: policy.clone(),
        effect: v["Effect"].as_str().unwrap_or_default().to_owned(),
        action: member("Action"),
        not_action: member("NotAction"),
        resource: member("Resource"),
        not_resource: member("NotResource"),
        condition: member("Condition"),
    }
}

/// Authorized (`iamd:GetPermissionsDiff`) on the principal's ARN as given,
/// before anything is read. The account's stream is replayed up to `to`
/// (now when absent); the statements at `from` are compared with those at
/// `to`, and every event in between after which they differed from before
/// is listed.
pub async fn get_permissions_diff(
    ctx: &OpContext<'_>,
    input: iamd::GetPermissionsDiffRequest,
) -> OpResult<iamd::GetPermissionsDiffResponse> {
    ctx.authorize(&Target::arn(input.principal.clone()))?;
    let store = ctx.state.projection.store();
    let head = ctx.state.projection.position();
    let cut = |d: &Document| -> Result<_, ApiError> {
        let until = super::decisions::parse_as_of(d)?;
        Ok(until)
    };
    let from = iam_projection::history::cut_position(store.as_ref(), cut(&input.from)?).await?;
    let to = match &input.to {
        Some(d) if !d.0.is_null() => {
            iam_projection::history::cut_position(store.as_ref(), cut(d)?).await?
        }
        _ => head,
    };
    if from > to || to > head {
        return Err(ApiError::validation(
            "from must not be after to, and neither after this node's log position",
        ));
    }
    let mut before: Option<Statements> = None;
    let mut at_from: Option<Statements> = None;
    let mut events = Vec::new();
    let start = super::decisions::history_start(ctx, &input.principal).await?;
    super::decisions::replay_from(ctx, start, to, |view, e| {
        let now = statements(&view.state, &input.principal);
        if e.position > from && now != before {
            events.push(super::decisions::boundary(e));
        }
        if e.position <= from {
            at_from = now.clone();
        }
        before = now;
        Ok(())
    })
    .await?;
    // A principal that did not exist yet (or any more) had no statements.
    let (old, new) = match (at_from, before) {
        (None, None) => {
            return Err(ApiError::new(
                404,
                "NoSuchEntity",
                format!(
                    "The principal {} existed at neither moment.",
                    input.principal
                ),
            ))
        }
        (old, new) => (old.unwrap_or_default(), new.unwrap_or_default()),
    };
    Ok(iamd::GetPermissionsDiffResponse {
        from: from.0 as i64,
        to: to.0 as i64,
        statements: iamd::StatementChanges {
            added: new.difference(&old).map(shape).collect(),
            removed: old.difference(&new).map(shape).collect(),
        },
        events,
    })
}
