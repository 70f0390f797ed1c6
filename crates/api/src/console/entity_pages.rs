//! The markup of the console's entity pages (maud, every value escaped):
//! the lists of groups, roles and customer managed policies, their detail
//! pages, inline policies, the sections users and roles share (managed
//! and inline policies, tags, access keys), a new access key's one
//! showing, and the policy editor with its validation fragment.
//!
//! A page as of a past moment (`Frame::past`) shows what the API answered
//! then, and no form that changes anything.

use std::collections::HashMap;

use maud::{html, Markup};
use serde_json::Value;

use super::api::Refusal;
use super::pages::{page, refusal, section, Frame};
use super::urlencode;

/// What a failed form leaves for its page to show again: AWS's refusal
/// and the fields the person typed (a policy text is never lost).
#[derive(Clone, Copy, Default)]
pub struct Draft<'a> {
    pub error: Option<&'a Refusal>,
    pub form: Option<&'a HashMap<String, String>>,
}

impl<'a> Draft<'a> {
    /// A field of the failed form, as typed.
    pub fn field(&self, key: &str) -> Option<&'a str> {
        self.form.and_then(|f| f.get(key)).map(String::as_str)
    }
}

/// The members of a list in an answer (none when absent).
fn items<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or_default()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The console page of a managed policy: its ARN in the path, each part
/// between slashes encoded (ARNs of policies with a path hold slashes).
///
/// A policy path may hold `.` or `..` segments (`/../../users/bob/`), which
/// a browser resolves in a link or a form's action even percent-encoded
/// (`%2E%2E`): such an ARN is written as one segment, its slashes encoded
/// too, so the page's own forms post to the page and nowhere else.
pub fn policy_path(arn: &str) -> String {
    let parts: Vec<&str> = arn.split('/').collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return format!("/console/policies/{}", urlencode(arn));
    }
    let parts: Vec<String> = parts.into_iter().map(urlencode).collect();
    format!("/console/policies/{}", parts.join("/"))
}

/// A policy document as the API returns it (URL-encoded, as AWS does),
/// decoded, and indented when it is JSON (its members in the order they
/// were written).
pub fn pretty(document: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    if serde_json::from_str::<Value>(&decoded).is_err() {
        return decoded.into_owned();
    }
    let mut out = String::with_capacity(decoded.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = decoded.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

const IDENTITY_TEMPLATE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::example-bucket/*"
    }
  ]
}"#;

const TRUST_TEMPLATE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": { "Service": "ec2.amazonaws.com" },
      "Action": "sts:AssumeRole"
    }
  ]
}"#;

/// The session's CSRF token, as every changing form carries it.
fn csrf(frame: &Frame<'_>) -> Markup {
    html! { input type="hidden" name="csrf" value=(frame.csrf); }
}

/// A one-button form posting `fields` to `action`.
fn button(
    frame: &Frame<'_>,
    action: &str,
    fields: &[(&str, &str)],
    (class, label): (&str, &str),
) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(frame))
            @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
            button type="submit" class=(class) { (label) }
        }
    }
}

/// The policy editor: a labelled textarea named `document` whose text the
/// server's validator checks as it is typed (and when the page loads),
/// through `POST /console/policies/validate` with the enclosing form's
/// fields (its CSRF token, `policy_type`); the answer goes to the status
/// element below it.
pub fn editor(id: &str, label: &str, policy_type: &str, text: &str) -> Markup {
    let status = format!("{id}-validation");
    html! {
        label for=(id) { (label) }
        input type="hidden" name="policy_type" value=(policy_type);
        textarea id=(id) name="document" rows="16" spellcheck="false" autocomplete="off"
            aria-describedby=(status)
            hx-post="/console/policies/validate"
            hx-trigger="input changed delay:400ms, load"
            hx-target={ "#" (status) }
            hx-include="closest form"
            hx-swap="innerHTML" { (text) }
        div.validation id=(status) role="status" aria-live="polite" {}
    }
}

/// The validator's answer as the editor shows it: "Valid policy.", or
/// AWS's message, iamd's precise reason and the line and column; or the
/// refusal to validate.
pub fn validation(answer: &Result<Value, Refusal>) -> Markup {
    html! {
        @match answer {
            Ok(v) => {
                @if v["valid"].as_bool() == Some(true) {
                    p.ok.valid { "Valid policy." }
                } @else {
                    @for f in items(v, "findings") {
                        div.finding {
                            p.bad.message { (text(&f["code"])) ": " (text(&f["message"])) }
                            p.detail { (text(&f["detail"])) }
                            @if let (Some(line), Some(column)) = (f["line"].as_u64(), f["column"].as_u64()) {
                                p.where { "line " (line) ", column " (column) }
                            }
                        }
                    }
                }
            }
            Err(e) => (refusal(e)),
        }
    }
}

/// The validation fragment when there is nothing to check yet.
pub fn nothing_to_validate() -> Markup {
    html! { p.muted { "Type a policy document." } }
}

/// The validation fragment of a browser whose session has ended.
pub fn session_ended() -> Markup {
    html! { p.error { "Your console session has ended: sign in again." } }
}

/// The managed policies attached to a user, group or role (at `base`),
/// with detach buttons and the attach form.
pub fn attached(frame: &Frame<'_>, base: &str, part: &Result<Value, Refusal>) -> Markup {
    html! {
        (section("Managed policies", part, |v| html! {
            ul id="attached" {
                @for p in items(v, "AttachedPolicies") {
                    @let arn = text(&p["PolicyArn"]);
                    li {
                        a href=(frame.link(&policy_path(arn))) { (text(&p["PolicyName"])) } " (" (arn) ")"
                        @if !frame.past() {
                            " " (button(frame, &format!("{base}/detach"), &[("policy_arn", arn)], ("detach", "Detach")))
                        }
                    }
                }
            }
        }))
        @if !frame.past() {
            form method="post" action={(base) "/attach"} {
                (csrf(frame))
                label for="policy_arn" { "Attach a managed policy (ARN)" }
                input type="text" id="policy_arn" name="policy_arn" required;
                p { button type="submit" id="attach" { "Attach" } }
            }
        }
    }
}

/// The inline policies of a user, group or role (at `base`), each linked
/// to its editor, and the link to a new one.
pub fn inline_policies(frame: &Frame<'_>, base: &str, part: &Result<Value, Refusal>) -> Markup {
    html! {
        (section("Inline policies", part, |v| html! {
            ul id="inline" {
                @for n in items(v, "PolicyNames") {
                    @let n = text(n);
                    li { a href=(frame.link(&format!("{base}/inline/{}", urlencode(n)))) { (n) } }
                }
            }
        }))
        @if !frame.past() {
            p { a href={ (base) "/inline" } id="new-inline" { "New inline policy" } }
        }
    }
}

/// The tags of a user or role (at `base`), with remove buttons and the
/// form that adds one.
pub fn tags(frame: &Frame<'_>, base: &str, part: &Result<Value, Refusal>) -> Markup {
    html! {
        (section("Tags", part, |v| html! {
            table id="tags" {
                thead { tr { th { "Key" } th { "Value" } @if !frame.past() { th { "" } } } }
                tbody {
                    @for t in items(v, "Tags") {
                        @let key = text(&t["Key"]);
                        tr {
                            td.key { (key) }
                            td.value { (text(&t["Value"])) }
                            @if !frame.past() {
                                td { (button(frame, &format!("{base}/untag"), &[("tag_key", key)], ("untag", "Remove"))) }
                            }
                        }
                    }
                }
            }
        }))
        @if !frame.past() {
            form method="post" action={(base) "/tag"} {
                (csrf(frame))
                div.filters {
                    div { label for="tag_key" { "Tag key" } input type="text" id="tag_key" name="tag_key" required; }
                    div { label for="tag_value" { "Tag value" } input type="text" id="tag_value" name="tag_value"; }
                    div { button type="submit" id="add-tag" { "Add tag" } }
                }
            }
        }
    }
}

/// A user's access keys (at `base`): activate or deactivate, delete, and
/// create one (whose secret the next page shows once).
pub fn access_keys(frame: &Frame<'_>, base: &str, part: &Result<Value, Refusal>) -> Markup {
    html! {
        (section("Access keys", part, |v| html! {
            ul id="access-keys" {
                @for k in items(v, "AccessKeyMetadata") {
                    @let id = text(&k["AccessKeyId"]);
                    @let status = text(&k["Status"]);
                    @let (to, verb) = if status == "Active" { ("Inactive", "Deactivate") } else { ("Active", "Activate") };
                    li {
                        (id) " — " (status)
                        @if !frame.past() {
                            " " (button(frame, &format!("{base}/update-key"), &[("access_key_id", id), ("status", to)], ("update-key", verb)))
                            " " (button(frame, &format!("{base}/delete-key"), &[("access_key_id", id)], ("delete-key", "Delete")))
                        }
                    }
                }
            }
        }))
        @if !frame.past() {
            form method="post" action={(base) "/create-key"} {
                (csrf(frame))
                p { button type="submit" id="create-key" { "Create an access key" } }
            }
        }
    }
}

/// A new access key: its secret, shown on this page only (the answer to
/// the form's POST, never cached, never in a URL).
pub fn new_key(frame: &Frame<'_>, user_page: &str, created: &Value) -> Markup {
    let key = &created["AccessKey"];
    page(
        frame,
        html! {
            div.banner role="alert" {
                "This is the only time the secret access key is shown: copy it now. It cannot be shown again."
            }
            dl {
                dt { "User" } dd { (text(&key["UserName"])) }
                dt { "Access key id" } dd id="new-key-id" { code { (text(&key["AccessKeyId"])) } }
                dt { "Secret access key" } dd id="new-key-secret" { code { (text(&key["SecretAccessKey"])) } }
                dt { "Status" } dd { (text(&key["Status"])) }
            }
            p { a href=(user_page) id="back" { "Back to the user" } }
        },
    )
}

/// The form that deletes what a page shows: its button's id and label.
fn delete_form(
    frame: &Frame<'_>,
    action: &str,
    fields: &[(&str, &str)],
    (id, label): (&str, &str),
) -> Markup {
    html! {
        @if !frame.past() {
            h2 { "Delete" }
            form method="post" action=(action) {
                (csrf(frame))
                @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
                button type="submit" id=(id) { (label) }
            }
        }
    }
}

/// The lists of groups, roles and customer managed policies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Listing {
    Users,
    Groups,
    Roles,
    Policies,
}

impl Listing {
    pub fn base(self) -> &'static str {
        match self {
            Listing::Users => "/console/users",
            Listing::Groups => "/console/groups",
            Listing::Roles => "/console/roles",
            Listing::Policies => "/console/policies",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Listing::Users => "Users",
            Listing::Groups => "Groups",
            Listing::Roles => "Roles",
            Listing::Policies => "Policies",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Listing::Users => "user",
            Listing::Groups => "group",
            Listing::Roles => "role",
            Listing::Policies => "policy",
        }
    }

    /// The answer's list and each member's name.
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Listing::Users => ("Users", "UserName"),
            Listing::Groups => ("Groups", "GroupName"),
            Listing::Roles => ("Roles", "RoleName"),
            Listing::Policies => ("Policies", "PolicyName"),
        }
    }

    /// A member's page.
    fn href(self, item: &Value) -> String {
        let (_, name) = self.keys();
        match self {
            Listing::Policies => policy_path(text(&item["Arn"])),
            _ => format!("{}/{}", self.base(), urlencode(text(&item[name]))),
        }
    }

    /// The create form's fields (after a failure, as typed).
    fn create_fields(self, draft: Draft<'_>) -> Markup {
        let field = format!("{}_name", self.noun());
        let label = match self {
            Listing::Users => "User name",
            Listing::Groups => "Group name",
            Listing::Roles => "Role name",
            Listing::Policies => "Policy name",
        };
        html! {
            label for=(field) { (label) }
            input type="text" id=(field) name=(field) value=(draft.field(&field).unwrap_or("")) required;
            @match self {
                Listing::Users | Listing::Groups => {}
                Listing::Roles => (editor("document", "Trust policy (who may assume the role)", "trust",
                    draft.field("document").unwrap_or(TRUST_TEMPLATE))),
                Listing::Policies => (editor("document", "Policy document", "identity",
                    draft.field("document").unwrap_or(IDENTITY_TEMPLATE))),
            }
        }
    }
}

/// A list page: search (within the page), paging by marker, the create
/// form.
pub fn list(
    frame: &Frame<'_>,
    listing: Listing,
    listed: &Result<Value, Refusal>,
    q: &str,
    draft: Draft<'_>,
) -> Markup {
    let needle = q.to_lowercase();
    let (list_key, name_key) = listing.keys();
    let noun = listing.noun();
    page(
        frame,
        html! {
            @if let Some(e) = draft.error { (refusal(e)) }
            form method="get" role="search" {
                @if let Some(m) = frame.as_of { input type="hidden" name="as_of" value=(m); }
                label for="q" { "Search " (listing.title().to_lowercase()) }
                input type="search" id="q" name="q" value=(q);
                button type="submit" { "Search" }
            }
            @match listed {
                Ok(v) => {
                    div.scroll {
                        table id=(list_key.to_lowercase()) {
                            thead { tr { th { "Name" } th { "Path" } th { "Created" } th { "ARN" } } }
                            tbody {
                                @for item in items(v, list_key) {
                                    @let name = text(&item[name_key]);
                                    @if needle.is_empty() || name.to_lowercase().contains(&needle) {
                                        tr {
                                            td { a href=(frame.link(&listing.href(item))) { (name) } }
                                            td { (text(&item["Path"])) }
                                            td { (text(&item["CreateDate"])) }
                                            td { (text(&item["Arn"])) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(marker) = v["Marker"].as_str() {
                        p { a id="next" href=(frame.link(&format!("{}?marker={}&q={}", listing.base(), urlencode(marker), urlencode(q)))) { "Next page" } }
                    }
                }
                Err(e) => (refusal(e)),
            }
            @if !frame.past() {
                h2 { "Create a " (noun) }
                form method="post" action=(listing.base()) {
                    (csrf(frame))
                    (listing.create_fields(draft))
                    p { button type="submit" id={ "create-" (noun) } { "Create " (noun) } }
                }
            }
        },
    )
}

pub struct GroupParts {
    pub group: Result<Value, Refusal>,
    pub attached: Result<Value, Refusal>,
    pub inline: Result<Value, Refusal>,
}

pub fn group(frame: &Frame<'_>, name: &str, parts: GroupParts, draft: Draft<'_>) -> Markup {
    let base = format!("/console/groups/{}", urlencode(name));
    page(
        frame,
        html! {
            @if let Some(e) = draft.error { (refusal(e)) }
            @match &parts.group {
                Ok(g) => dl {
                    dt { "ARN" } dd id="group-arn" { (text(&g["Group"]["Arn"])) }
                    dt { "Id" } dd { (text(&g["Group"]["GroupId"])) }
                    dt { "Path" } dd { (text(&g["Group"]["Path"])) }
                    dt { "Created" } dd { (text(&g["Group"]["CreateDate"])) }
                },
                Err(e) => (refusal(e)),
            }
            (section("Members", &parts.group, |g| html! {
                ul id="members" {
                    @for u in items(g, "Users") {
                        @let user = text(&u["UserName"]);
                        li {
                            a href=(frame.link(&format!("/console/users/{}", urlencode(user)))) { (user) }
                            @if !frame.past() {
                                " " (button(frame, &format!("{base}/remove-member"), &[("user_name", user)], ("remove-member", "Remove")))
                            }
                        }
                    }
                }
            }))
            @if !frame.past() {
                form method="post" action={(base) "/add-member"} {
                    (csrf(frame))
                    label for="member" { "Add a user (name)" }
                    input type="text" id="member" name="user_name" required;
                    p { button type="submit" id="add-member" { "Add to group" } }
                }
            }
            (attached(frame, &base, &parts.attached))
            (inline_policies(frame, &base, &parts.inline))
            (delete_form(frame, &format!("{base}/delete"), &[], ("delete-group", "Delete this group")))
        },
    )
}

pub struct RoleParts {
    pub role: Result<Value, Refusal>,
    pub attached: Result<Value, Refusal>,
    pub inline: Result<Value, Refusal>,
    pub tags: Result<Value, Refusal>,
}

pub fn role(frame: &Frame<'_>, name: &str, parts: RoleParts, draft: Draft<'_>) -> Markup {
    let base = format!("/console/roles/{}", urlencode(name));
    page(
        frame,
        html! {
            @if let Some(e) = draft.error { (refusal(e)) }
            @match &parts.role {
                Ok(v) => {
                    @let r = &v["Role"];
                    dl {
                        dt { "ARN" } dd id="role-arn" { (text(&r["Arn"])) }
                        dt { "Id" } dd { (text(&r["RoleId"])) }
                        dt { "Path" } dd { (text(&r["Path"])) }
                        dt { "Created" } dd { (text(&r["CreateDate"])) }
                        dt { "Description" } dd { (r["Description"].as_str().unwrap_or("none")) }
                        dt { "Maximum session duration" } dd id="max-session" { (r["MaxSessionDuration"].as_i64().unwrap_or(3600)) " seconds" }
                        dt { "Boundary" } dd id="role-boundary" { (r["PermissionsBoundary"]["PermissionsBoundaryArn"].as_str().unwrap_or("none")) }
                        dt { "Last used" } dd id="role-last-used" {
                            @match r["RoleLastUsed"]["LastUsedDate"].as_str() {
                                Some(at) => { (at) @if let Some(region) = r["RoleLastUsed"]["Region"].as_str() { " in " (region) } },
                                None => "never",
                            }
                        }
                    }
                    h2 { "Trust policy" }
                    @let trust = pretty(text(&r["AssumeRolePolicyDocument"]));
                    @if frame.past() {
                        pre id="trust-policy" { (trust) }
                    } @else {
                        form method="post" action={(base) "/trust"} {
                            (csrf(frame))
                            (editor("trust-policy", "Trust policy (who may assume the role)", "trust",
                                draft.field("document").unwrap_or(&trust)))
                            p { button type="submit" id="update-trust" { "Update the trust policy" } }
                        }
                    }
                }
                Err(e) => (refusal(e)),
            }
            (attached(frame, &base, &parts.attached))
            (inline_policies(frame, &base, &parts.inline))
            (tags(frame, &base, &parts.tags))
            (delete_form(frame, &format!("{base}/delete"), &[], ("delete-role", "Delete this role")))
        },
    )
}

pub struct PolicyParts {
    pub policy: Result<Value, Refusal>,
    /// The default version (when the policy could be read).
    pub version: Option<Result<Value, Refusal>>,
    pub versions: Result<Value, Refusal>,
    pub entities: Result<Value, Refusal>,
}

pub fn policy(frame: &Frame<'_>, arn: &str, parts: PolicyParts, draft: Draft<'_>) -> Markup {
    let own = policy_path(arn);
    let document = match &parts.version {
        Some(Ok(v)) => pretty(text(&v["PolicyVersion"]["Document"])),
        _ => String::new(),
    };
    page(
        frame,
        html! {
            @if let Some(e) = draft.error { (refusal(e)) }
            @match &parts.policy {
                Ok(v) => {
                    @let p = &v["Policy"];
                    dl {
                        dt { "ARN" } dd id="policy-arn" { (text(&p["Arn"])) }
                        dt { "Id" } dd { (text(&p["PolicyId"])) }
                        dt { "Path" } dd { (text(&p["Path"])) }
                        dt { "Description" } dd { (p["Description"].as_str().unwrap_or("none")) }
                        dt { "Default version" } dd id="default-version" { (text(&p["DefaultVersionId"])) }
                        dt { "Attachments" } dd { (p["AttachmentCount"].as_i64().unwrap_or(0)) }
                        dt { "Created" } dd { (text(&p["CreateDate"])) }
                        dt { "Updated" } dd { (text(&p["UpdateDate"])) }
                    }
                }
                Err(e) => (refusal(e)),
            }
            @if let Some(version) = &parts.version {
                (section("Document (default version)", version, |_| html! {
                    pre id="policy-document" { (document) }
                }))
            }
            (section("Versions", &parts.versions, |v| html! {
                div.scroll { table id="versions" {
                    thead { tr { th { "Version" } th { "Default" } th { "Created" } @if !frame.past() { th { "" } } } }
                    tbody {
                        @for version in items(v, "Versions") {
                            @let id = text(&version["VersionId"]);
                            @let default = version["IsDefaultVersion"].as_bool() == Some(true);
                            tr {
                                td { (id) }
                                td { @if default { "default" } }
                                td { (text(&version["CreateDate"])) }
                                @if !frame.past() {
                                    td { @if !default {
                                        (button(frame, &own, &[("change", "default"), ("version_id", id)], ("set-default", "Make default")))
                                        " "
                                        (button(frame, &own, &[("change", "delete-version"), ("version_id", id)], ("delete-version", "Delete")))
                                    } }
                                }
                            }
                        }
                    }
                } }
            }))
            @if !frame.past() && parts.policy.is_ok() {
                h2 { "New version" }
                form method="post" action=(own) {
                    (csrf(frame))
                    input type="hidden" name="change" value="version";
                    (editor("document", "Policy document", "identity", draft.field("document").unwrap_or(&document)))
                    label for="set_as_default" {
                        input type="checkbox" id="set_as_default" name="set_as_default" value="true" checked;
                        " Make it the default version"
                    }
                    p { button type="submit" id="create-version" { "Create version" } }
                }
            }
            (section("Attached to", &parts.entities, |v| html! {
                ul id="policy-entities" {
                    @for (list, key, kind) in [("PolicyUsers", "UserName", "users"), ("PolicyGroups", "GroupName", "groups"), ("PolicyRoles", "RoleName", "roles")] {
                        @for e in items(v, list) {
                            @let name = text(&e[key]);
                            li { (kind.trim_end_matches('s')) " " a href=(frame.link(&format!("/console/{kind}/{}", urlencode(name)))) { (name) } }
                        }
                    }
                }
            }))
            (delete_form(frame, &own, &[("change", "delete")], ("delete-policy", "Delete this policy")))
        },
    )
}

/// What the inline policy page is about: its owner's page and noun
/// (`user`, `group`, `role`) and name, and the policy's name (empty: a new
/// policy).
pub struct InlineOf<'a> {
    pub owner_page: &'a str,
    pub noun: &'a str,
    pub owner: &'a str,
    pub policy: &'a str,
}

/// An inline policy: its document in the editor (read-only in the past),
/// saved with `Put*Policy`, deleted with `Delete*Policy`; or the form of a
/// new one.
pub fn inline(
    frame: &Frame<'_>,
    of: InlineOf<'_>,
    got: Option<&Result<Value, Refusal>>,
    draft: Draft<'_>,
) -> Markup {
    let base = of.owner_page;
    let stored = match got {
        Some(Ok(v)) => pretty(text(&v["PolicyDocument"])),
        _ => String::new(),
    };
    let new = of.policy.is_empty();
    page(
        frame,
        html! {
            p { "Inline policy of " (of.noun) " " a href=(frame.link(base)) id="owner" { (of.owner) } }
            @if let Some(e) = draft.error { (refusal(e)) }
            @if let Some(Err(e)) = got { (refusal(e)) }
            @if frame.past() {
                @if let Some(Ok(_)) = got { pre id="inline-document" { (stored) } }
            } @else if new || matches!(got, Some(Ok(_))) || draft.error.is_some() {
                form method="post" action={ (base) "/inline" } {
                    (csrf(frame))
                    @if new {
                        input type="hidden" name="new" value="1";
                        label for="policy_name" { "Policy name" }
                        input type="text" id="policy_name" name="policy_name" value=(draft.field("policy_name").unwrap_or("")) required;
                    } @else {
                        input type="hidden" name="policy_name" value=(of.policy);
                    }
                    (editor("document", "Policy document", "identity",
                        draft.field("document").unwrap_or(if new { IDENTITY_TEMPLATE } else { stored.as_str() })))
                    p { button type="submit" id="save-inline" { "Save inline policy" } }
                }
                @if !new {
                    (delete_form(frame, &format!("{base}/delete-inline"), &[("policy_name", of.policy)], ("delete-inline", "Delete this inline policy")))
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_are_indented_in_their_own_order() {
        let stored = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"arn:aws:s3:::a,b{c}:\"d\""}]}"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(stored, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert_eq!(
            super::pretty(&encoded),
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": [],\n      \"Resource\": \"arn:aws:s3:::a,b{c}:\\\"d\\\"\"\n    }\n  ]\n}"
        );
        assert_eq!(super::pretty("not%20json"), "not json");
    }
}
