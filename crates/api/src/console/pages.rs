//! The console's pages, rendered with maud (every value escaped). Each
//! page is a frame (header, navigation, time slider, the as-of banner)
//! around what the API answered, or around the API's refusal.

use std::collections::HashMap;

use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

use super::api::Refusal;
use super::{moment, urlencode, Signed};

/// What every signed-in page shows around its content.
pub struct Frame<'a> {
    pub title: &'a str,
    pub arn: &'a str,
    pub csrf: &'a str,
    pub as_of: Option<&'a str>,
    pub head: u64,
}

impl<'a> Frame<'a> {
    pub(super) fn of(s: &'a Signed<'_>, head: u64, title: &'a str) -> Frame<'a> {
        Frame {
            title,
            arn: &s.session.arn,
            csrf: &s.session.csrf,
            as_of: s.as_of.as_deref(),
            head,
        }
    }

    /// `path` at the page's moment (`path` may have a query of its own).
    pub(super) fn link(&self, path: &str) -> String {
        let moment = moment(&self.as_of.map(str::to_owned));
        match moment.strip_prefix('?') {
            Some(m) if path.contains('?') => format!("{path}&{m}"),
            _ => format!("{path}{moment}"),
        }
    }

    /// Whether the page shows a past moment (read-only).
    pub(super) fn past(&self) -> bool {
        self.as_of.is_some()
    }
}

fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=r#"{"allowEval":false,"includeIndicatorStyles":false,"allowScriptTags":false}"#;
                title { (title) " · iamd" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/htmx.min.js" defer {}
            }
            body { (body) }
        }
    }
}

pub(super) fn page(frame: &Frame<'_>, content: Markup) -> Markup {
    let slider_value = frame
        .as_of
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(frame.head);
    document(
        frame.title,
        html! {
            header {
                a.brand href="/console/" { "iamd" }
                nav aria-label="Main" {
                    a href=(frame.link("/console/")) { "Dashboard" }
                    a href=(frame.link("/console/users")) { "Users" }
                    a href=(frame.link("/console/groups")) { "Groups" }
                    a href=(frame.link("/console/roles")) { "Roles" }
                    a href=(frame.link("/console/policies")) { "Policies" }
                    a href=(frame.link("/console/access")) { "Access explorer" }
                    a href=(frame.link("/console/audit")) { "Audit trail" }
                }
                span.who { (frame.arn) }
                form.inline method="post" action="/console/sign-out" {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    button type="submit" id="sign-out" { "Sign out" }
                }
            }
            @if frame.head > 0 {
                form.travel method="get" aria-label="Time travel" {
                    label for="as_of" { "Log position" }
                    input type="range" id="as_of" name="as_of" min="1" max=(frame.head) value=(slider_value);
                    button type="submit" id="travel" { "View at this moment" }
                    a href="?" id="now" { "Now" }
                }
            }
            @if let Some(m) = frame.as_of {
                div.banner role="status" id="as-of-banner" {
                    "Viewing the account as of " (m) ". Read-only: nothing can be changed here."
                }
            }
            main { h1 { (frame.title) } (content) }
        },
    )
}

pub fn message(title: &str, text: &str) -> Markup {
    document(
        title,
        html! { main { h1 { (title) } p.error { (text) } a href="/console/" { "Back" } } },
    )
}

pub(super) fn refusal(e: &Refusal) -> Markup {
    html! { div.error role="alert" { strong { (e.code) } ": " (e.message) } }
}

/// The sign-in page; its forms carry `token`, the sign-in token of the
/// page's cookie.
pub fn sign_in(token: &str, error: Option<&str>) -> Markup {
    document(
        "Sign in",
        html! {
            main {
                h1 { "Sign in to iamd" }
                @if let Some(e) = error { div.error role="alert" id="sign-in-error" { (e) } }
                form method="post" action="/console/sign-in" {
                    fieldset {
                        legend { "With a password" }
                        input type="hidden" name="csrf" value=(token);
                        input type="hidden" name="method" value="password";
                        label for="account_id" { "Account" }
                        input type="text" id="account_id" name="account_id" autocomplete="organization";
                        label for="user_name" { "User name" }
                        input type="text" id="user_name" name="user_name" autocomplete="username";
                        label for="password" { "Password" }
                        input type="password" id="password" name="password" autocomplete="current-password";
                        label for="mfa_code" { "MFA code (if your user has a device)" }
                        input type="text" id="mfa_code" name="mfa_code" inputmode="numeric" autocomplete="one-time-code";
                        p { button type="submit" id="sign-in-password" { "Sign in" } }
                    }
                }
                form method="post" action="/console/sign-in" {
                    fieldset {
                        legend { "With an access key" }
                        input type="hidden" name="csrf" value=(token);
                        input type="hidden" name="method" value="keys";
                        label for="access_key_id" { "Access key id" }
                        input type="text" id="access_key_id" name="access_key_id" autocomplete="off";
                        label for="secret_access_key" { "Secret access key" }
                        input type="password" id="secret_access_key" name="secret_access_key" autocomplete="off";
                        p { button type="submit" id="sign-in-keys" { "Sign in" } }
                    }
                }
            }
        },
    )
}

fn count(summary: &Value, key: &str) -> String {
    summary["SummaryMap"][key]
        .as_i64()
        .map_or_else(|| "?".into(), |n| n.to_string())
}

/// Credential report warnings: keys older than 90 days, password users
/// without MFA, passwords never used.
fn warnings(rows: &[HashMap<String, String>]) -> Vec<String> {
    let now = chrono::Utc::now();
    let old = |t: Option<&String>| {
        t.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| now.signed_duration_since(t) > chrono::Duration::days(90))
    };
    let mut out = Vec::new();
    for row in rows {
        let user = row.get("user").cloned().unwrap_or_default();
        let yes = |k: &str| row.get(k).is_some_and(|v| v == "true");
        for n in ["1", "2"] {
            if yes(&format!("access_key_{n}_active"))
                && old(row.get(&format!("access_key_{n}_last_rotated")))
            {
                out.push(format!("{user}: access key {n} is older than 90 days"));
            }
        }
        if yes("password_enabled") && !yes("mfa_active") {
            out.push(format!(
                "{user}: signs in with a password but has no MFA device"
            ));
        }
        if yes("password_enabled") && row.get("password_last_used").is_some_and(|v| v == "N/A") {
            out.push(format!("{user}: has a password that was never used"));
        }
    }
    out
}

pub fn dashboard(
    frame: &Frame<'_>,
    summary: Result<Value, Refusal>,
    recent: Result<Value, Refusal>,
    report: Result<Vec<HashMap<String, String>>, Refusal>,
) -> Markup {
    page(
        frame,
        html! {
            @match &summary {
                Ok(s) => {
                    div.cards {
                        @for (key, label) in [("Users", "Users"), ("Groups", "Groups"), ("Roles", "Roles"), ("Policies", "Policies")] {
                            div.card { div.n id={"count-" (key)} { (count(s, key)) } div { (label) } }
                        }
                    }
                }
                Err(e) => (refusal(e)),
            }
            h2 { "The log" }
            // Verifying reads the whole log (seconds on a million events):
            // the page paints first and the result comes after.
            div id="chain" hx-get="/console/chain" hx-trigger="load" aria-live="polite" {
                p { "Head: position " (frame.head) ". " a href="/console/chain" { "Verify the hash chain" } }
            }
            h2 { "Recent changes" }
            @match &recent {
                Ok(r) => (events_table(r["events"].as_array().map(Vec::as_slice).unwrap_or_default(), frame)),
                Err(e) => (refusal(e)),
            }
            h2 { "Credential warnings" }
            @match &report {
                Ok(rows) => {
                    @let w = warnings(rows);
                    @if w.is_empty() { p { "None." } }
                    ul id="warnings" { @for line in &w { li { (line) } } }
                }
                Err(e) => (refusal(e)),
            }
        },
    )
}

/// Whether the hash chain verifies, as the dashboard shows it.
pub fn chain(verify: &Result<Value, Refusal>) -> Markup {
    html! {
        @match verify {
            Ok(v) => p {
                "Head: position " (v["events"].as_u64().unwrap_or(0)) ". "
                @if v["ok"].as_bool() == Some(true) {
                    span.ok id="chain-ok" { "The hash chain verifies." }
                } @else {
                    span.bad id="chain-broken" {
                        "The hash chain does not verify at position "
                        (v["first_bad_position"].as_u64().unwrap_or(0)) ": "
                        (v["reason"].as_str().unwrap_or(""))
                    }
                }
            },
            Err(e) => (refusal(e)),
        }
    }
}

/// The chain's verification as a page of its own (without script).
pub fn chain_page(frame: &Frame<'_>, verify: &Result<Value, Refusal>) -> Markup {
    page(frame, chain(verify))
}

fn events_table(events: &[Value], frame: &Frame<'_>) -> Markup {
    html! {
        div.scroll {
            table id="events" {
                thead { tr { th { "Position" } th { "Time" } th { "Type" } th { "Action" } th { "Actor" } th { "Target" } } }
                tbody {
                    @for e in events {
                        @let position = e["position"].as_u64().unwrap_or(0);
                        tr {
                            td { a href=(frame.link(&format!("/console/events/{position}"))) { (position) } }
                            td { (e["recorded_at"].as_str().unwrap_or("")) }
                            td.type { (e["type"].as_str().unwrap_or("")) }
                            td { (e["action"].as_str().unwrap_or("")) }
                            td { (e["actor"]["arn"].as_str().unwrap_or("")) }
                            td { (e["target"].as_str().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

pub struct UserParts {
    pub user: Result<Value, Refusal>,
    pub attached: Result<Value, Refusal>,
    pub inline: Result<Value, Refusal>,
    pub groups: Result<Value, Refusal>,
    pub keys: Result<Value, Refusal>,
    pub mfa: Result<Value, Refusal>,
    pub tags: Result<Value, Refusal>,
}

pub(super) fn section(
    title: &str,
    part: &Result<Value, Refusal>,
    body: impl FnOnce(&Value) -> Markup,
) -> Markup {
    html! {
        h2 { (title) }
        @match part {
            Ok(v) => (body(v)),
            Err(e) => (refusal(e)),
        }
    }
}

pub fn user(frame: &Frame<'_>, name: &str, parts: UserParts, error: Option<&Refusal>) -> Markup {
    let base = format!("/console/users/{}", urlencode(name));
    let writable = !frame.past();
    page(
        frame,
        html! {
            @if let Some(e) = error { (refusal(e)) }
            @match &parts.user {
                Ok(u) => dl {
                    dt { "ARN" } dd id="user-arn" { (u["User"]["Arn"].as_str().unwrap_or("")) }
                    dt { "Id" } dd { (u["User"]["UserId"].as_str().unwrap_or("")) }
                    dt { "Created" } dd { (u["User"]["CreateDate"].as_str().unwrap_or("")) }
                    dt { "Boundary" } dd { (u["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"].as_str().unwrap_or("none")) }
                    dt { "Password last used" } dd { (u["User"]["PasswordLastUsed"].as_str().unwrap_or("never")) }
                },
                Err(e) => (refusal(e)),
            }
            (super::entity_pages::attached(frame, &base, &parts.attached))
            (super::entity_pages::inline_policies(frame, &base, &parts.inline))
            (section("Groups", &parts.groups, |v| html! {
                ul { @for g in v["Groups"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    @let g = g["GroupName"].as_str().unwrap_or("");
                    li { a href=(frame.link(&format!("/console/groups/{}", urlencode(g)))) { (g) } }
                } }
            }))
            (super::entity_pages::access_keys(frame, &base, &parts.keys))
            (section("MFA devices", &parts.mfa, |v| html! {
                ul { @for d in v["MFADevices"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    li { (d["SerialNumber"].as_str().unwrap_or("")) }
                } }
            }))
            (super::entity_pages::tags(frame, &base, &parts.tags))
            @if writable {
                h2 { "Delete" }
                form method="post" action={(base) "/delete"} {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    button type="submit" id="delete-user" { "Delete this user" }
                }
            }
        },
    )
}

pub struct AccessResults {
    pub now: Result<Value, Refusal>,
    pub then: Option<Result<Value, Refusal>>,
    /// The history in the page (`None`: htmx loads it after the page).
    pub history: Option<Result<Value, Refusal>>,
}

fn decision(d: &Result<Value, Refusal>, id: &str) -> Markup {
    html! {
        @match d {
            Ok(v) => {
                @let name = v["decision"].as_str().unwrap_or("");
                p { span id=(id) class={"decision-" (name)} { (name) } " at position " (v["position"].as_u64().unwrap_or(0)) }
                @let matched = v["matched"].as_array().map(Vec::as_slice).unwrap_or_default();
                @if !matched.is_empty() {
                    ul { @for m in matched {
                        li { (m["effect"].as_str().unwrap_or("")) " by " (m["policy"].as_str().unwrap_or(""))
                             ", statement " (m["statement"].as_u64().unwrap_or(0))
                             @if let Some(sid) = m["sid"].as_str() { " (" (sid) ")" } }
                    } }
                }
                @if let Some(reason) = v["reason"].as_str() { p { (reason) } }
            }
            Err(e) => (refusal(e)),
        }
    }
}

/// The most segments the access history's table lists (the latest); the
/// timeline draws them all.
const SEGMENT_ROWS: usize = 100;

pub fn access(
    frame: &Frame<'_>,
    (principal, action, resource): (&str, &str, &str),
    results: Option<AccessResults>,
    head: u64,
) -> Markup {
    page(
        frame,
        html! {
            form method="get" {
                @if let Some(m) = frame.as_of { input type="hidden" name="as_of" value=(m); }
                div.filters {
                    div { label for="principal" { "Principal ARN" } input type="text" id="principal" name="principal" value=(principal) required; }
                    div { label for="action" { "Action" } input type="text" id="action" name="action" value=(action) required placeholder="s3:GetObject"; }
                    div { label for="resource" { "Resource ARN" } input type="text" id="resource" name="resource" value=(resource) required; }
                    div { button type="submit" id="explore" { "Ask" } }
                }
            }
            @if let Some(r) = results {
                h2 { "Now" }
                (decision(&r.now, "decision-now"))
                @if let Some(then) = &r.then {
                    h2 { "As of " (frame.as_of.unwrap_or("")) }
                    (decision(then, "decision-then"))
                }
                @if let Some(m) = frame.as_of {
                    p { a id="diff-link" href={"/console/diff?principal=" (urlencode(principal)) "&from=" (urlencode(m))} { "What " (principal) " gained and lost since " (m) } }
                }
                h2 { "Access history" }
                @match &r.history {
                    Some(h) => (history(frame, principal, h, head)),
                    None => {
                        @let url = format!("/console/access?action={}&principal={}&resource={}&part=history{}", urlencode(action), urlencode(principal), urlencode(resource), frame.as_of.map(|m| format!("&as_of={}", urlencode(m))).unwrap_or_default());
                        div id="history" hx-get=(url) hx-trigger="load" hx-swap="outerHTML" aria-live="polite" {
                            p { "Reading the access history… " a href=(url) { "Show it" } }
                        }
                    }
                }
            }
        },
    )
}

/// The access history: the timeline, then its latest segments (the
/// fragment htmx puts in the explorer's page).
pub fn history(
    frame: &Frame<'_>,
    principal: &str,
    history: &Result<Value, Refusal>,
    head: u64,
) -> Markup {
    html! {
        div id="history" {
            @match history {
                Ok(h) => {
                        @let segments = h["segments"].as_array().map(Vec::as_slice).unwrap_or_default();
                        (super::timeline::svg(segments, head.max(h["position"].as_u64().unwrap_or(0))))
                        @let shown = &segments[segments.len().saturating_sub(SEGMENT_ROWS)..];
                        @if shown.len() < segments.len() {
                            p id="segments-note" {
                                "The last " (shown.len()) " of " (segments.len()) " segments; "
                                a href=(format!("/console/audit?target={}", urlencode(principal))) { "the audit trail" }
                                " has every change to " (principal) "."
                            }
                        }
                        div.scroll { table id="segments" {
                            thead { tr { th { "Decision" } th { "From" } th { "Changed by" } th { "Until" } } }
                            tbody { @for s in shown {
                                @let from = s["from"]["position"].as_u64().unwrap_or(0);
                                tr {
                                    td class={"decision-" (s["decision"].as_str().unwrap_or(""))} { (s["decision"].as_str().unwrap_or("")) }
                                    td { a href=(frame.link(&format!("/console/events/{from}"))) { "#" (from) } " " (s["from"]["recorded_at"].as_str().unwrap_or("")) }
                                    td { (s["from"]["type"].as_str().unwrap_or("")) }
                                    td { @if let Some(to) = s["to"]["position"].as_u64() { "#" (to) } @else { "now" } }
                                }
                            } }
                        } }
                    }
                    Err(e) => (refusal(e)),
                }
        }
    }
}

fn statements(list: &[Value], id: &str) -> Markup {
    html! {
        @if list.is_empty() { p { "None." } }
        ul id=(id) {
            @for st in list {
                li {
                    span class={"effect-" (st["effect"].as_str().unwrap_or(""))} { (st["effect"].as_str().unwrap_or("")) }
                    " in " code { (st["policy"].as_str().unwrap_or("")) } ": "
                    @for (key, label) in [("action", "Action"), ("not_action", "NotAction"), ("resource", "Resource"), ("not_resource", "NotResource"), ("condition", "Condition")] {
                        @if !st[key].is_null() { " " (label) " " code { (st[key].to_string()) } }
                    }
                }
            }
        }
    }
}

/// The diff page: a principal and two moments (log positions or RFC 3339
/// times; the second defaults to now), then the statements it gained and
/// lost and the events in between that changed them.
pub fn diff(
    frame: &Frame<'_>,
    (principal, from, to): (&str, &str, &str),
    changes: Option<Result<Value, Refusal>>,
) -> Markup {
    page(
        frame,
        html! {
            form method="get" {
                @if let Some(m) = frame.as_of { input type="hidden" name="as_of" value=(m); }
                div.filters {
                    div { label for="principal" { "Principal ARN" } input type="text" id="principal" name="principal" value=(principal) required; }
                    div { label for="from" { "From (log position or RFC 3339 time)" } input type="text" id="from" name="from" value=(from) required; }
                    div { label for="to" { "To (empty: now)" } input type="text" id="to" name="to" value=(to); }
                    div { button type="submit" id="compare" { "Compare" } }
                }
            }
            @match &changes {
                Some(Ok(d)) => {
                    p id="diff-range" { "From position " (d["from"].as_u64().unwrap_or(0)) " to position " (d["to"].as_u64().unwrap_or(0)) "." }
                    h2 { "Gained" }
                    (statements(d["statements"]["added"].as_array().map(Vec::as_slice).unwrap_or_default(), "gained"))
                    h2 { "Lost" }
                    (statements(d["statements"]["removed"].as_array().map(Vec::as_slice).unwrap_or_default(), "lost"))
                    h2 { "The events in between that changed them" }
                    ul id="diff-events" {
                        @for e in d["events"].as_array().map(Vec::as_slice).unwrap_or_default() {
                            @let position = e["position"].as_u64().unwrap_or(0);
                            li { a href=(frame.link(&format!("/console/events/{position}"))) { "#" (position) } " " (e["type"].as_str().unwrap_or("")) " at " (e["recorded_at"].as_str().unwrap_or("")) }
                        }
                    }
                }
                Some(Err(e)) => (refusal(e)),
                None => {}
            }
        },
    )
}

pub fn audit(
    frame: &Frame<'_>,
    query: &HashMap<String, String>,
    listed: Result<Value, Refusal>,
) -> Markup {
    let value = |k: &str| query.get(k).cloned().unwrap_or_default();
    let filters: String = ["actor", "target", "type", "since", "until", "denied"]
        .iter()
        .filter_map(|k| {
            query
                .get(*k)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", urlencode(v)))
        })
        .collect::<Vec<_>>()
        .join("&");
    page(
        frame,
        html! {
            form method="get" id="audit-filters" {
                div.filters {
                    div { label for="actor" { "Actor ARN" } input type="text" id="actor" name="actor" value=(value("actor")); }
                    div { label for="target" { "Target ARN" } input type="text" id="target" name="target" value=(value("target")); }
                    div { label for="type" { "Event type" } input type="text" id="type" name="type" value=(value("type")) placeholder="UserCreated"; }
                    div { label for="since" { "Since (RFC 3339)" } input type="text" id="since" name="since" value=(value("since")); }
                    div { label for="until" { "Until (RFC 3339)" } input type="text" id="until" name="until" value=(value("until")); }
                    div { label for="denied" { input type="checkbox" id="denied" name="denied" value="1" checked[!value("denied").is_empty()]; " Denied only" } }
                    div { button type="submit" id="filter" { "Filter" } }
                }
            }
            p {
                a href={"/console/audit?format=csv&" (filters)} id="export-csv" { "Export CSV" } " · "
                a href={"/console/audit?format=json&" (filters)} id="export-json" { "Export JSON" }
            }
            @match &listed {
                Ok(v) => {
                    (events_table(v["events"].as_array().map(Vec::as_slice).unwrap_or_default(), frame))
                    @if let Some(next) = v["next"].as_u64() {
                        p { a href={"/console/audit?after=" (next) "&" (filters)} id="next" { "Next page" } }
                    }
                }
                Err(e) => (refusal(e)),
            }
        },
    )
}

/// The events of a page as CSV: position, time, type, action, actor,
/// target, hash. A cell a spreadsheet would evaluate as a formula (one that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return: a refusal
/// names the resource as its caller spelled it) is written after a `'`.
pub fn events_csv(listed: Option<&Value>) -> String {
    fn field(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    }
    let mut out = String::from("position,recorded_at,type,action,actor,target,hash\n");
    for e in listed
        .and_then(|v| v["events"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let cells = [
            e["position"].as_u64().unwrap_or(0).to_string(),
            e["recorded_at"].as_str().unwrap_or("").to_owned(),
            e["type"].as_str().unwrap_or("").to_owned(),
            e["action"].as_str().unwrap_or("").to_owned(),
            e["actor"]["arn"].as_str().unwrap_or("").to_owned(),
            e["target"].as_str().unwrap_or("").to_owned(),
            e["hash"].as_str().unwrap_or("").to_owned(),
        ];
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

pub fn event(frame: &Frame<'_>, got: Result<Value, Refusal>) -> Markup {
    page(
        frame,
        html! {
            @match &got {
                Ok(e) => {
                    @let e = if e["event"].is_object() { &e["event"] } else { e };
                    dl {
                        dt { "Type" } dd id="event-type" { (e["type"].as_str().unwrap_or("")) }
                        dt { "Recorded" } dd { (e["recorded_at"].as_str().unwrap_or("")) }
                        dt { "Actor" } dd { (e["actor"]["arn"].as_str().unwrap_or("")) }
                        dt { "Target" } dd { (e["target"].as_str().unwrap_or("")) }
                        dt { "Hash" } dd { code { (e["hash"].as_str().unwrap_or("")) } }
                        dt { "Previous hash" } dd { code { (e["previous_hash"].as_str().unwrap_or("")) } }
                    }
                    h2 { "Data" }
                    pre { (serde_json::to_string_pretty(&e["data"]).unwrap_or_default()) }
                }
                Err(e) => (refusal(e)),
            }
        },
    )
}
