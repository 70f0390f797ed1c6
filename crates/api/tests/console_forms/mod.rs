//! A browser's side of the console's forms, over plain HTTP: requests with
//! cookies and the headers a browser adds, a cookie jar, the CSRF fields of
//! pages, and signing in through the sign-in page. Shared by the console's
//! HTTP tests (`console_entities`, `hostile_console`,
//! `hostile_console_entities`).

#![allow(dead_code)]

use std::net::SocketAddr;

use iam_api::console::session::COOKIE;

use super::support::*;

/// The payload of the injection tests: markup that runs script if it ever
/// reaches a page unescaped.
pub const MARKUP: &str = "\"'><svg/onload=alert(1)>";

pub fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A request as a browser sends it: method, path, cookies, extra headers
/// and a form body.
pub async fn browse(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookies: &str,
    extra: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut text = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    if !cookies.is_empty() {
        text.push_str(&format!("cookie: {cookies}\r\n"));
    }
    for (k, v) in extra {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        if !extra
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            text.push_str("content-type: application/x-www-form-urlencoded\r\n");
        }
        text.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or_default());
    send_raw(addr, text.into_bytes()).await
}

pub async fn get(app: &TestApp, path: &str, jar: &Jar) -> Reply {
    browse(app.addr, "GET", path, &jar.header(), &[], None).await
}

/// A form posted from one of the console's own pages.
pub async fn post(app: &TestApp, path: &str, jar: &Jar, body: &str) -> Reply {
    let origin = format!("http://{}", app.addr);
    browse(
        app.addr,
        "POST",
        path,
        &jar.header(),
        &[("origin", &origin), ("sec-fetch-site", "same-origin")],
        Some(body),
    )
    .await
}

/// A browser's cookies for the server.
#[derive(Default, Clone, Debug)]
pub struct Jar(pub Vec<(String, String)>);

impl Jar {
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the cookies `reply` sets (an empty value removes one).
    pub fn take(&mut self, reply: &Reply) {
        for (name, value) in set_cookies(reply) {
            self.0.retain(|(k, _)| *k != name);
            if !value.is_empty() {
                self.0.push((name, value));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The cookies a reply sets: name and value.
pub fn set_cookies(reply: &Reply) -> Vec<(String, String)> {
    reply
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| {
            let pair = v.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Whether `reply` starts a console session (a non-empty session cookie).
pub fn starts_session(reply: &Reply) -> bool {
    set_cookies(reply)
        .iter()
        .any(|(k, v)| k == COOKIE && !v.is_empty())
}

/// The hidden CSRF field of a page's forms.
pub fn csrf_of(body: &str) -> Option<String> {
    let open = r#"name="csrf" value=""#;
    let at = body.find(open)? + open.len();
    let end = body[at..].find('"')? + at;
    Some(body[at..end].to_owned())
}

/// Signs in through the sign-in page with an access key pair, as a browser
/// does: the page, then its form.
pub async fn sign_in_keys(app: &TestApp, key: &str, secret: &str) -> Jar {
    let mut jar = Jar::default();
    let page = get(app, "/console/sign-in", &jar).await;
    jar.take(&page);
    let mut body = form(&[
        ("method", "keys"),
        ("access_key_id", key),
        ("secret_access_key", secret),
    ]);
    if let Some(token) = csrf_of(&page.body) {
        body = format!("csrf={}&{body}", enc(&token));
    }
    let reply = post(app, "/console/sign-in", &jar, &body).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(starts_session(&reply), "{:?}", reply.headers);
    jar.take(&reply);
    jar
}

/// The session's CSRF token, read off one of its pages.
pub async fn session_csrf(app: &TestApp, jar: &Jar) -> String {
    let page = get(app, "/console/users", jar).await;
    assert_eq!(page.status, 200, "{}", page.body);
    csrf_of(&page.body).expect("a CSRF field")
}

/// Signs in through the sign-in page with an access key pair: the jar and
/// the session's CSRF token.
pub async fn signed_in_with_keys(app: &TestApp, key: &str, secret: &str) -> (Jar, String) {
    let jar = sign_in_keys(app, key, secret).await;
    let csrf = session_csrf(app, &jar).await;
    (jar, csrf)
}

/// A signed-in administrator (the account's root keys).
pub async fn admin(app: &TestApp) -> (Jar, String) {
    let root = app.root();
    signed_in_with_keys(app, &root.key, &root.secret).await
}

/// A form body with the session's CSRF token first.
pub fn with_csrf(csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    form(&all)
}

/// An identity policy allowing `action` on everything.
pub fn policy_text(action: &str) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
        .to_string()
}
