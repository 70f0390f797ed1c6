//! The policy editor's check as you type: `POST /console/policies/validate`
//! (htmx, from the editor's textarea, with its form's fields) asks the
//! server's validator (`iamd:ValidatePolicy`, `POST /v1/policies/validate`)
//! as the signed-in person and answers a fragment for the editor's status
//! element: "Valid policy.", or AWS's message, iamd's precise reason and
//! the line and column; a refusal shows AWS's reason.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use iam_wire::iamd::{ops::ValidatePolicy, PolicyType};
use iam_wire::Operation;

use super::entity_pages as view;
use super::{checked, csrf_refused, html, Console, Fields, Peer};

pub(super) async fn validate(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    peer: Peer,
    Fields(form): Fields,
) -> Response {
    // A fragment, not the sign-in page, for the editor's status element.
    let Some(s) = c.signed(&headers, peer, &HashMap::new()) else {
        return html(view::session_ended());
    };
    if !checked(&s.session, &form) {
        return csrf_refused();
    }
    let document = form.get("document").map(String::as_str).unwrap_or_default();
    if document.trim().is_empty() {
        return html(view::nothing_to_validate());
    }
    let policy_type = form
        .get("policy_type")
        .and_then(|t| PolicyType::parse(t))
        .unwrap_or_default();
    let spec = ValidatePolicy::SPEC;
    let answer = s
        .api
        .v1(
            spec.method,
            spec.path,
            "",
            Some(&json!({"document": document, "policy_type": policy_type.as_str()})),
        )
        .await;
    html(view::validation(&answer))
}
