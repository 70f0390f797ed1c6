//! The audit trail over HTTP: `GET /v1/events`, `GET /v1/events/{position}`
//! and `GET /v1/verify`, each authorized on the account's root ARN (the
//! trail is the whole account's).

use iam_event_store::{MetadataIndex, Position, RecordedEvent};
use iam_wire::{iamd, Document};

use super::{OpContext, OpResult};
use crate::query::ApiError;

/// How many events one page reads at most, matching or not: a filter that
/// matches nothing answers an empty page and where to go on, rather than
/// scanning the whole log in one request. With a target or an actor only
/// that one's events are read (through the log's metadata indexes), so the
/// bound counts those.
const SCAN: u64 = 10_000;

/// The type of a refused request's record.
const DENIED: &str = "AccessDenied";

/// Payload fields that hold a secret's sealed or hashed form: the trail
/// never carries them, sealed or not (access-key and service-specific
/// credential secrets, MFA seeds, server certificates' private keys,
/// password hashes).
const SECRET_FIELDS: [&str; 4] = ["secret", "seed", "private_key", "password_hash"];

fn without_secrets(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(members) => serde_json::Value::Object(
            members
                .iter()
                .filter(|(k, _)| !SECRET_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without_secrets(v)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(without_secrets).collect())
        }
        other => other.clone(),
    }
}

fn text(metadata: &serde_json::Value, pointer: &str) -> Option<String> {
    metadata
        .pointer(pointer)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

fn record(e: &RecordedEvent, previous: Option<String>) -> iamd::EventRecord {
    let m = &e.metadata;
    iamd::EventRecord {
        position: e.position.0 as i64,
        recorded_at: e.recorded_at,
        event_id: e.event_id.to_string(),
        r#type: e.event_type.clone(),
        action: text(m, "/action"),
        target: text(m, "/target"),
        stream: Some(e.stream_id.clone()),
        actor: iamd::Actor {
            arn: text(m, "/actor/principal_arn").unwrap_or_default(),
            access_key_id: text(m, "/actor/access_key_id"),
            source_ip: text(m, "/source_ip"),
            user_agent: text(m, "/user_agent"),
            request_id: text(m, "/request_id"),
        },
        data: Document(without_secrets(&e.payload)),
        hash: e.hash.to_hex(),
        previous_hash: previous,
    }
}

fn root_arn(ctx: &OpContext<'_>) -> String {
    ctx.arn("root")
}

pub async fn list_events(
    ctx: &OpContext<'_>,
    input: iamd::ListEventsRequest,
) -> OpResult<iamd::ListEventsResponse> {
    ctx.authorize_arn(root_arn(ctx))?;
    let store = ctx.state.projection.store();
    let stream = ctx.state.account_id.stream_name();
    let limit = input.limit.unwrap_or(100) as usize;
    let head = ctx.state.projection.position();
    // A target or an actor is read through its index; anything else scans
    // the log from `after`, a bounded stretch a page.
    let index = match (&input.target, &input.actor) {
        (Some(target), _) => Some((MetadataIndex::Target, target.as_str())),
        (None, Some(actor)) => Some((MetadataIndex::Actor, actor.as_str())),
        (None, None) => None,
    };
    let matches = |e: &RecordedEvent| {
        e.stream_id == stream
            && input.r#type.as_ref().is_none_or(|t| *t == e.event_type)
            && input
                .target
                .as_ref()
                .is_none_or(|t| text(&e.metadata, "/target").as_deref() == Some(t))
            && input
                .outcome
                .is_none_or(|o| (e.event_type == DENIED) == (o == iamd::Outcome::Denied))
            && input.since.is_none_or(|t| e.recorded_at >= t)
            && input
                .actor
                .as_ref()
                .is_none_or(|a| text(&e.metadata, "/actor/principal_arn").as_deref() == Some(a))
    };
    let mut cursor = Position(input.after.unwrap_or(0).max(0) as u64);
    let mut scanned = 0;
    let mut events = Vec::new();
    let mut exhausted = false;
    // Whether every event the index gives matches (`until` only ends the
    // page): then a page reads only as many as it returns.
    let index_decides = input.r#type.is_none()
        && input.outcome.is_none()
        && input.since.is_none()
        && (input.actor.is_none() || input.target.is_none());
    while scanned < SCAN && events.len() < limit {
        let batch_size = match (index, index_decides) {
            (Some(_), true) => (limit - events.len()) as u64,
            _ => 1_000,
        };
        let want = (SCAN - scanned).min(batch_size) as usize;
        let batch = match index {
            Some((index, value)) => {
                store
                    .read_indexed(&stream, index, value, cursor, want)
                    .await
            }
            None => store.read_all(cursor, want).await,
        }?;
        let read = batch.len();
        for e in batch {
            // Past this node's view (appended elsewhere, not yet applied)
            // or, the log being in time order, past `until`: nothing more
            // for this page.
            if e.position > head || input.until.is_some_and(|t| e.recorded_at > t) {
                exhausted = true;
                break;
            }
            cursor = e.position;
            scanned += 1;
            if matches(&e) {
                events.push(record(&e, None));
                if events.len() == limit {
                    break;
                }
            }
        }
        // A short read reached the end, unless the page filled before
        // the batch's last event.
        if exhausted || (read < want && events.len() < limit) {
            exhausted = true;
            break;
        }
    }
    let more = !exhausted && cursor < head;
    Ok(iamd::ListEventsResponse {
        events,
        next: more.then_some(cursor.0 as i64),
    })
}

pub async fn get_event(
    ctx: &OpContext<'_>,
    input: iamd::GetEventRequest,
) -> OpResult<iamd::GetEventResponse> {
    ctx.authorize_arn(root_arn(ctx))?;
    let not_found = || {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!("The event at position {} cannot be found.", input.position),
        )
    };
    let position = u64::try_from(input.position).map_err(|_| not_found())?;
    if position == 0 {
        return Err(not_found());
    }
    let store = ctx.state.projection.store();
    let pair = store
        .read_all(Position(position.saturating_sub(2)), 2)
        .await?;
    let event = pair
        .iter()
        .find(|e| e.position.0 == position)
        .filter(|e| e.stream_id == ctx.state.account_id.stream_name())
        .ok_or_else(not_found)?;
    let previous = match position {
        1 => iam_event_store::Hash::GENESIS.to_hex(),
        _ => pair
            .iter()
            .find(|e| e.position.0 == position - 1)
            .map(|e| e.hash.to_hex())
            .ok_or_else(ApiError::internal)?,
    };
    Ok(iamd::GetEventResponse {
        event: record(event, Some(previous)),
    })
}

/// One whole-log verification at a time on a node (it reads every event:
/// about ten seconds on a million). Callers that queued while one ran
/// take the result of the next one that starts after they arrived, so
/// any number of dashboards opened at once cost one verification each
/// time the gate opens, and every answer still reflects the log as it was
/// at or after the request.
#[derive(Default)]
pub struct VerificationGate {
    last: tokio::sync::Mutex<Option<(std::time::Instant, iam_event_store::Verification)>>,
}

impl VerificationGate {
    async fn verify(
        &self,
        store: &dyn iam_event_store::EventStore,
    ) -> iam_event_store::Result<iam_event_store::Verification> {
        let arrived = std::time::Instant::now();
        let mut last = self.last.lock().await;
        if let Some((started, verification)) = last.as_ref() {
            if *started >= arrived {
                return Ok(verification.clone());
            }
        }
        let started = std::time::Instant::now();
        let verification = iam_event_store::verify(store).await?;
        *last = Some((started, verification.clone()));
        Ok(verification)
    }
}

pub async fn verify_log(ctx: &OpContext<'_>, _: ()) -> OpResult<iamd::VerifyLogResponse> {
    ctx.authorize_arn(root_arn(ctx))?;
    let store = ctx.state.projection.store();
    let verification = ctx.state.log_verifications.verify(store.as_ref()).await?;
    Ok(match verification {
        iam_event_store::Verification::Intact { events, head } => iamd::VerifyLogResponse {
            ok: true,
            events: events as i64,
            head: Some(head.to_hex()),
            first_bad_position: None,
            reason: None,
        },
        iam_event_store::Verification::Broken { position, reason } => iamd::VerifyLogResponse {
            ok: false,
            events: 0,
            head: None,
            first_bad_position: Some(position.0 as i64),
            reason: Some(reason),
        },
    })
}
