//! `POST /v1/sign-in`: a person signs in with a password (and an MFA code)
//! and gets temporary credentials of their user, as `GetSessionToken`
//! would give (MFA-flagged when a code was given).
//!
//! It is the one operation a caller reaches without a signature — the
//! password is the credential — so it sits beside the operation table, and
//! guards itself:
//! - **One answer for every failure.** An unknown account or user, a user
//!   without a password, a wrong password, a missing or wrong MFA code and
//!   an expired password under `HardExpiry` all get the same 401 and the
//!   same message; an unknown user's attempt verifies against a dummy hash,
//!   so it takes the time a wrong password takes.
//! - **Growing back-off** ([`Failures`]): after [`FREE_FAILURES`] failures
//!   of one user name, or [`FREE_FAILURES_PER_ADDRESS`] from one source
//!   address (many people may share one), the next attempt is refused
//!   (429, `Retry-After`) until 2^(n − free) seconds after the last failure
//!   (n failures so far), at most [`MAX_WAIT`]. Failures are remembered for
//!   [`FAILURE_MEMORY`] (far longer than the longest wait, so waiting does
//!   not bring the free attempts back); a success clears the user's count.
//!   An attempt counts as a failure *before* its password is checked (a
//!   success takes it back), so guesses sent at once cannot all pass the
//!   check before the first is counted. The counts are per node. A wrong
//!   `OldPassword` in `ChangePassword` counts against the user's name too.
//! - **Bounded work**: at most as many argon2id verifications run at once as
//!   there are cores ([`Verifications`]); an attempt beyond that is refused
//!   (503, `Retry-After: 1`) without one.
//! - **Every attempt is in the trail**: `TemporaryCredentialsIssued` for a
//!   success, `SignInFailed` (with iamd's reason, never told the caller)
//!   for a failure. Refusals during a back-off are folded, per user name,
//!   into one record a minute with their count (`suppressed`), as refused
//!   requests are (`edge::denials`): an attempt that costs the sender no
//!   password check cannot grow the log by one event each.
//!
//! A password whose reset is required (by an administrator, or because it
//! is older than `MaxPasswordAge` without `HardExpiry`) still signs in, with
//! `password_reset_required` true and a session that may only change the
//! password ([`crate::session::Session::password_change_only`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use iam_domain::event::MfaCodeUse;
use iam_domain::metadata::EventMetadata;
use iam_domain::names::UserName;
use iam_domain::secrets::{hash_password, verify_password, PasswordHash};
use iam_domain::state::{owner_eq, CredentialOwner};
use iam_domain::Command;
use serde::Deserialize;

use crate::app::AppState;
use crate::query::ApiError;
use crate::session::{IssuedBy, NewSession, Session, SessionPrincipal};

/// Failures of one user name before the back-off starts.
pub const FREE_FAILURES: u32 = 5;
/// Failures from one source address before the back-off starts.
pub const FREE_FAILURES_PER_ADDRESS: u32 = 20;
/// How long a failure is remembered: a day, far past the longest wait.
pub const FAILURE_MEMORY: Duration = Duration::hours(24);
/// How often a refusal during a back-off is recorded, per user name.
pub const THROTTLED_RECORD_INTERVAL: Duration = Duration::minutes(1);
/// At most this many names and addresses are remembered; past it, the
/// oldest failures are forgotten first, then all.
const REMEMBERED: usize = 1_000_000;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::minutes(15);
/// How long a sign-in's credentials last (the console's 12 hours).
pub const SESSION: Duration = Duration::hours(12);
/// The largest sign-in request accepted.
const MAX_BODY: usize = 4096;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    account_id: String,
    user_name: String,
    password: String,
    #[serde(default)]
    mfa_code: Option<String>,
}

/// Recent failures by user name (folded) and by source address, and, per
/// user name, the refusals during a back-off not yet recorded.
#[derive(Debug, Default)]
pub struct Failures {
    counts: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
    throttled: Mutex<HashMap<String, (u64, DateTime<Utc>)>>,
}

/// The argon2id verifications running now, at most one per core.
#[derive(Debug)]
pub struct Verifications(tokio::sync::Semaphore);

impl Default for Verifications {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Verifications(tokio::sync::Semaphore::new(cores))
    }
}

impl Verifications {
    /// A permit to run one verification, if a core is free for it.
    pub fn try_start(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.0.try_acquire().ok()
    }
}

impl Failures {
    /// When `key` may try again, if it must wait.
    pub(crate) fn wait_until(
        &self,
        key: &str,
        free: u32,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (count, last) = *map.get(key)?;
        if now - last > FAILURE_MEMORY || count < free {
            return None;
        }
        let wait = Duration::seconds(1i64 << (count - free).min(10)).min(MAX_WAIT);
        (now < last + wait).then_some(last + wait)
    }

    pub(crate) fn fail(&self, key: &str, now: DateTime<Utc>) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= REMEMBERED {
            map.retain(|_, (_, last)| now - *last <= FAILURE_MEMORY);
            if map.len() >= REMEMBERED / 2 {
                map.clear();
            }
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        if now - entry.1 > FAILURE_MEMORY {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
    }

    pub(crate) fn clear(&self, key: &str) {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Takes back one failure of `key` (counted before a check that then
    /// succeeded).
    pub(crate) fn take_back(&self, key: &str) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = map.get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    /// Counts a refusal during a back-off; the number to record now (this
    /// one and those folded since the last record), or `None` to fold it.
    fn throttled(&self, key: &str, now: DateTime<Utc>) -> Option<u64> {
        let mut map = self.throttled.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= REMEMBERED {
            map.clear();
        }
        let entry = map
            .entry(key.to_owned())
            .or_insert((0, DateTime::<Utc>::MIN_UTC));
        entry.0 += 1;
        if now - entry.1 < THROTTLED_RECORD_INTERVAL {
            return None;
        }
        let n = entry.0;
        *entry = (0, now);
        Some(n)
    }
}

/// The back-off key of a user name, as names fold.
pub(crate) fn user_key(user_name: &str) -> String {
    format!("user:{}", user_name.to_lowercase())
}

/// What a successful sign-in yields.
struct Success {
    session: Session,
    reset_required: bool,
    mfa: Option<MfaCodeUse>,
    user_arn: String,
}

pub async fn sign_in(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let now = state.clock.now();
    // Read within the server's body timeout and budget, as every other
    // request is: a stalled body must not hold its connection.
    let (parts, body) = request.into_parts();
    let body = match crate::server::read_body(body, &parts.extensions, MAX_BODY).await {
        Ok((body, _reservation)) => body,
        Err(e) => return json_error(&e, &request_id),
    };
    let request = match parse(&body) {
        Ok(r) => r,
        Err(e) => return json_error(&e, &request_id),
    };
    let user_key = user_key(&request.user_name);
    let ip_key = format!("ip:{ip}");
    let wait = [
        (&user_key, FREE_FAILURES),
        (&ip_key, FREE_FAILURES_PER_ADDRESS),
    ]
    .iter()
    .filter_map(|(k, free)| state.sign_in_failures.wait_until(k, *free, now))
    .max();
    if let Some(until) = wait {
        if let Some(n) = state.sign_in_failures.throttled(&user_key, now) {
            let failure = Failure {
                reason: "throttled",
                suppressed: n - 1,
            };
            record_failure(&state, &request, &ip, failure, now, &request_id).await;
        }
        let seconds = (until - now).num_seconds().max(1);
        let mut response = json_error(
            &ApiError::new(
                429,
                "Throttling",
                "Too many failed sign-ins: try again later.",
            ),
            &request_id,
        );
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert("retry-after", v);
        }
        return response;
    }
    let Some(_permit) = state.verifications.try_start() else {
        let mut response = json_error(
            &ApiError::new(
                503,
                "ServiceUnavailable",
                "Too many sign-ins at once: try again in a second.",
            ),
            &request_id,
        );
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        return response;
    };
    // Counted before the check, taken back on success: guesses sent at
    // once cannot all pass the back-off before the first is counted.
    state.sign_in_failures.fail(&user_key, now);
    state.sign_in_failures.fail(&ip_key, now);
    match attempt(&state, &request, now).await {
        Ok(success) => {
            let credentials = success
                .session
                .seal(&state.master_key, state.account_id.as_str());
            let mut metadata = EventMetadata::system(&success.user_arn, request_id.clone());
            metadata.source_ip = Some(ip.clone());
            metadata.action = Some("iamd:SignIn".into());
            metadata.target = Some(success.user_arn.clone());
            let command = Command::RecordTemporaryCredentials(Box::new(
                success.session.issued(&success.user_arn, success.mfa),
            ));
            if let Err(e) = state
                .projection
                .execute(&state.account_id, &command, &metadata)
                .await
            {
                // A code spent on another node meanwhile, or the log is down.
                tracing::info!(error = %e, "a sign-in could not be recorded");
                return json_error(&failed(), &request_id);
            }
            state.sign_in_failures.clear(&user_key);
            state.sign_in_failures.take_back(&ip_key);
            let body = serde_json::json!({
                "credentials": {
                    "access_key_id": credentials.access_key_id,
                    "secret_access_key": credentials.secret_access_key,
                    "session_token": credentials.session_token,
                    "expiration": credentials.expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                },
                "password_reset_required": success.reset_required,
            });
            let mut response = (StatusCode::OK, axum::Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert("x-amzn-requestid", v);
            }
            response
        }
        Err(reason) => {
            let failure = Failure {
                reason,
                suppressed: 0,
            };
            record_failure(&state, &request, &ip, failure, now, &request_id).await;
            json_error(&failed(), &request_id)
        }
    }
}

/// Checks the attempt; the error is iamd's reason, for the trail only.
async fn attempt(
    state: &AppState,
    request: &SignIn,
    now: DateTime<Utc>,
) -> Result<Success, &'static str> {
    let view = state.projection.view(&state.account_id);
    let user = view.as_deref().and_then(|v| {
        let name = UserName::parse(&request.user_name).ok()?;
        let user = v.state.users.get(&name.key())?;
        Some((v, user.clone()))
    });
    let found = user
        .as_ref()
        .filter(|_| request.account_id == state.account_id.as_str())
        .and_then(|(_, u)| u.login_profile.clone());
    // The same argon2 work whether or not there is a password to check.
    let hash = found
        .as_ref()
        .map(|lp| lp.password_hash.clone())
        .unwrap_or_else(|| DUMMY.clone());
    let password = request.password.clone();
    let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let (Some((view, user)), Some(profile)) = (user, found) else {
        return Err("no such account, user or login profile");
    };
    if !matches {
        return Err("wrong password");
    }
    let policy = view.state.password_policy.as_ref();
    let expired = policy
        .and_then(|p| p.max_password_age)
        .is_some_and(|days| now >= profile.password_set_at() + Duration::days(i64::from(days)));
    if expired && policy.is_some_and(|p| p.hard_expiry) {
        return Err("password expired (HardExpiry)");
    }
    // A user with an MFA device must give a code of one of them.
    let owner = CredentialOwner::User {
        user_name: user.name.clone(),
    };
    let devices: Vec<_> = view
        .state
        .mfa_devices
        .values()
        .filter(|d| {
            d.assignment
                .as_ref()
                .is_some_and(|a| owner_eq(&a.owner, &owner))
        })
        .collect();
    let mfa = if devices.is_empty() {
        None
    } else {
        let code = request.mfa_code.as_deref().ok_or("MFA code missing")?;
        let mut used = None;
        for device in devices {
            let Some(serial) = view.state.mfa_arn(device) else {
                continue;
            };
            used = super::mfa::check_code(state, device, &serial, code, now);
            if used.is_some() {
                break;
            }
        }
        Some(used.ok_or("wrong or reused MFA code")?)
    };
    let user_arn = view
        .state
        .user_arn(&user)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let reset_required = profile.password_reset_required || expired;
    let mut session = Session::new(NewSession {
        principal: SessionPrincipal::User {
            user_name: user.name.as_str().to_owned(),
            user_id: user.id.as_str().to_owned(),
        },
        issued_by: IssuedBy::SignIn,
        issued_at: now,
        expires_at: now + SESSION,
        mfa_at: mfa.as_ref().map(|_| now),
        policy: None,
        policy_arns: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
        chained: false,
    });
    session.password_change_only = reset_required;
    Ok(Success {
        session,
        reset_required,
        mfa,
        user_arn,
    })
}

/// The hash an attempt for a user without a password is verified against.
static DUMMY: std::sync::LazyLock<PasswordHash> =
    std::sync::LazyLock::new(|| hash_password("iamd-no-such-user", &[0x5a; 16]));

fn parse(body: &[u8]) -> Result<SignIn, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::new(
            413,
            "RequestEntityTooLarge",
            "The sign-in request is too large.",
        ));
    }
    let request: SignIn = serde_json::from_slice(body).map_err(|e| {
        ApiError::validation(format!(
            "the body must be {{\"account_id\", \"user_name\", \"password\", \"mfa_code\"?}}: {e}"
        ))
    })?;
    Ok(request)
}

/// Why a sign-in failed, and how many refusals like it were folded in.
struct Failure {
    reason: &'static str,
    suppressed: u64,
}

async fn record_failure(
    state: &AppState,
    request: &SignIn,
    ip: &str,
    failure: Failure,
    now: DateTime<Utc>,
    request_id: &str,
) {
    record_failed_sign_in(
        state,
        &request.user_name,
        ip,
        failure.reason,
        failure.suppressed,
        (now, request_id),
    )
    .await;
}

/// Records a failed sign-in (or a wrong `OldPassword`) of the user named
/// `user_name` as given.
pub(crate) async fn record_failed_sign_in(
    state: &AppState,
    user_name: &str,
    ip: &str,
    reason: &str,
    suppressed: u64,
    (now, request_id): (DateTime<Utc>, &str),
) {
    // Named as given (the user may not exist): printable, bounded.
    let name: String = user_name
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    let arn = format!("arn:aws:iam::{}:user/{name}", state.account_id);
    let mut metadata = EventMetadata::system(&arn, request_id.to_owned());
    metadata.source_ip = Some(ip.to_owned());
    metadata.action = Some("iamd:SignIn".into());
    metadata.target = Some(arn);
    let command = Command::RecordSignInFailure {
        user_name: name,
        reason: reason.to_owned(),
        source_ip: Some(ip.to_owned()),
        suppressed,
        at: now,
    };
    if let Err(e) = state
        .projection
        .execute(&state.account_id, &command, &metadata)
        .await
    {
        tracing::warn!(error = %e, "a failed sign-in could not be recorded");
    }
}

fn failed() -> ApiError {
    ApiError::new(
        401,
        "SignInFailed",
        "The account id, user name, password or MFA code is incorrect.",
    )
}

fn json_error(err: &ApiError, request_id: &str) -> Response {
    crate::edge::error_response(
        crate::edge::Format::Json,
        err,
        iam_wire::Service::Iamd,
        request_id,
    )
}
