//! Console sessions: a random id in an `HttpOnly`, `SameSite=Strict`
//! cookie (`Secure` over TLS) names the credentials the person signed in
//! with, kept in this node's memory only (never in the log, never in the
//! browser). Each session has its own CSRF token, which every form
//! carries and every `POST` must return. The sign-in form, before any
//! session, carries a sign-in token that must match its own cookie
//! ([`SIGN_IN_COOKIE`]), so no other site can sign a browser in.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use subtle::ConstantTimeEq;

use super::api::Keys;

/// The cookie's name.
pub const COOKIE: &str = "iamd_console";

/// The longest a console session lasts, whatever its credentials allow.
pub const MAX_SESSION: Duration = Duration::hours(8);

/// The sign-in token's cookie (sent to the sign-in form's action only).
pub const SIGN_IN_COOKIE: &str = "iamd_console_sign_in";

/// The most sessions one node keeps; the oldest are dropped beyond it.
const MAX_SESSIONS: usize = 10_000;

/// The most sessions one principal keeps; its oldest are dropped beyond
/// it, so that one person signing in again and again cannot push everyone
/// else's sessions out of the node's [`MAX_SESSIONS`].
const MAX_SESSIONS_PER_PRINCIPAL: usize = 10;

/// A signed-in person.
#[derive(Clone, Debug)]
pub struct ConsoleSession {
    pub keys: Keys,
    /// `GetCallerIdentity`'s ARN, shown in the header.
    pub arn: String,
    pub account: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

impl ConsoleSession {
    /// Whether `given` is this session's CSRF token.
    pub fn csrf_matches(&self, given: Option<&str>) -> bool {
        given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(self.csrf.as_bytes())))
    }
}

/// This node's console sessions by id.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, ConsoleSession>>,
}

fn random_hex() -> String {
    hex::encode(crate::credentials::random_bytes::<32>())
}

/// A new sign-in token.
pub fn sign_in_token() -> String {
    random_hex()
}

/// Whether a sign-in form's token is the one in its cookie.
pub fn sign_in_token_matches(headers: &axum::http::HeaderMap, given: Option<&str>) -> bool {
    match (cookie(headers, SIGN_IN_COOKIE), given) {
        (Some(cookie), Some(given)) => bool::from(cookie.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    }
}

impl Sessions {
    /// Starts a session: its id (the cookie's value).
    pub fn start(
        &self,
        keys: Keys,
        arn: String,
        account: String,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> String {
        let id = random_hex();
        let session = ConsoleSession {
            keys,
            arn,
            account,
            csrf: random_hex(),
            expires_at: expires_at.min(now + MAX_SESSION),
        };
        let mut all = self.lock();
        let mine = all.values().filter(|s| s.arn == session.arn).count();
        if mine >= MAX_SESSIONS_PER_PRINCIPAL {
            if let Some(oldest) = all
                .iter()
                .filter(|(_, s)| s.arn == session.arn)
                .min_by_key(|(_, s)| s.expires_at)
                .map(|(k, _)| k.clone())
            {
                all.remove(&oldest);
            }
        }
        if all.len() >= MAX_SESSIONS {
            all.retain(|_, s| s.expires_at > now);
            if all.len() >= MAX_SESSIONS {
                if let Some(oldest) = all
                    .iter()
                    .min_by_key(|(_, s)| s.expires_at)
                    .map(|(k, _)| k.clone())
                {
                    all.remove(&oldest);
                }
            }
        }
        all.insert(id.clone(), session);
        id
    }

    /// The live session `id` names; an expired one is forgotten.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<ConsoleSession> {
        let mut all = self.lock();
        match all.get(id) {
            Some(s) if s.expires_at > now => Some(s.clone()),
            Some(_) => {
                all.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ConsoleSession>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The session id in a request's `Cookie` header.
pub fn cookie_id(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The value of the cookie `wanted` (a session id or a sign-in token: 64
/// hex digits) in a request's `Cookie` header.
fn cookie(headers: &axum::http::HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that starts (`Some(id)`) or ends the session.
pub fn set_cookie(id: Option<&str>, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    match id {
        Some(id) => format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// The `Set-Cookie` value that sets (`Some(token)`) or clears the sign-in
/// token.
pub fn set_sign_in_cookie(token: Option<&str>, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    let path = "Path=/console/sign-in; HttpOnly; SameSite=Strict";
    match token {
        Some(token) => format!("{SIGN_IN_COOKIE}={token}; {path}{secure}"),
        None => format!("{SIGN_IN_COOKIE}=; {path}; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        }
    }

    #[test]
    fn a_session_expires_and_its_csrf_token_is_its_own() {
        let sessions = Sessions::default();
        let now = Utc::now();
        let id = sessions.start(
            keys(),
            "arn".into(),
            "1".into(),
            now + Duration::hours(1),
            now,
        );
        let s = sessions.get(&id, now).unwrap();
        assert!(s.csrf_matches(Some(&s.csrf.clone())));
        assert!(!s.csrf_matches(Some("forged")));
        assert!(!s.csrf_matches(None));
        assert!(sessions.get(&id, now + Duration::hours(2)).is_none());
        assert!(sessions.get(&id, now).is_none(), "forgotten once expired");
        let long = sessions.start(
            keys(),
            "arn".into(),
            "1".into(),
            now + Duration::days(9),
            now,
        );
        assert!(sessions
            .get(&long, now + MAX_SESSION + Duration::seconds(1))
            .is_none());
    }

    #[test]
    fn one_principal_keeps_only_its_newest_sessions() {
        let sessions = Sessions::default();
        let now = Utc::now();
        let start = |arn: &str, minutes: i64| {
            let at = now + Duration::minutes(minutes);
            sessions.start(keys(), arn.into(), "1".into(), at + MAX_SESSION, at)
        };
        let other = start("other", 0);
        let first = start("me", 1);
        let rest: Vec<_> = (2..=MAX_SESSIONS_PER_PRINCIPAL as i64 + 1)
            .map(|m| start("me", m))
            .collect();
        assert!(sessions.get(&first, now).is_none(), "the oldest went first");
        assert!(rest.iter().all(|id| sessions.get(id, now).is_some()));
        assert!(sessions.get(&other, now).is_some());
    }

    #[test]
    fn only_a_well_formed_cookie_names_a_session() {
        let mut headers = axum::http::HeaderMap::new();
        let id = "a".repeat(64);
        headers.insert(
            axum::http::header::COOKIE,
            format!("other=1; {COOKIE}={id}").parse().unwrap(),
        );
        assert_eq!(cookie_id(&headers), Some(id));
        headers.insert(
            axum::http::header::COOKIE,
            format!("{COOKIE}=x").parse().unwrap(),
        );
        assert_eq!(cookie_id(&headers), None);
    }
}
