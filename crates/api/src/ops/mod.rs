//! The operation table: every action the server answers, with its handler.
//! One table serves the Query protocol; handlers take parsed parameters and
//! return the XML inside `<ActionResult>` plus the log position they wrote.

mod access_keys;
mod account;
mod attachments;
mod groups;
mod inline;
mod policies;
mod roles;
mod users;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use iam_domain::metadata::EventMetadata;
use iam_domain::{AccountState, Command};
use iam_event_store::Position;
use iam_projection::AccountView;

use crate::app::AppState;
use crate::auth::Caller;
use crate::authz::{self, RequestFacts, Target};
use crate::query::{ApiError, Params, Xml, IAM_NAMESPACE, STS_NAMESPACE};

/// Which AWS service's Query protocol an action belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Iam,
    Sts,
}

impl Protocol {
    pub fn of(action: &str) -> Protocol {
        if action == "GetCallerIdentity" {
            Protocol::Sts
        } else {
            Protocol::Iam
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            Protocol::Iam => IAM_NAMESPACE,
            Protocol::Sts => STS_NAMESPACE,
        }
    }

    /// The service a request's credential scope must name.
    pub fn service(self) -> &'static str {
        match self {
            Protocol::Iam => "iam",
            Protocol::Sts => "sts",
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Protocol::Iam => "2010-05-08",
            Protocol::Sts => "2011-06-15",
        }
    }
}

/// Everything a handler may use.
pub struct OpContext<'a> {
    pub state: &'a AppState,
    /// The action being served (`CreateUser`, ...).
    pub action: &'a str,
    pub caller: &'a Caller,
    pub params: &'a Params,
    /// The account's view when the request arrived.
    pub view: Option<Arc<AccountView>>,
    pub facts: RequestFacts<'a>,
    pub metadata: EventMetadata,
    pub now: DateTime<Utc>,
    /// Every target this request was authorized on: the write checks them
    /// again on the state it is decided on ([`OpContext::execute`]).
    pub authorized: std::sync::Mutex<Vec<Target>>,
}

/// A handler's result: the XML inside `<ActionResult>` (empty for actions
/// without output) and the log position of what it wrote, if anything.
pub type OpResult = Result<(String, Option<Position>), ApiError>;

impl OpContext<'_> {
    pub fn account(&self) -> &str {
        self.state.account_id.as_str()
    }

    pub fn state(&self) -> &AccountState {
        static EMPTY: std::sync::OnceLock<AccountState> = std::sync::OnceLock::new();
        self.view
            .as_deref()
            .map(|v| &v.state)
            .unwrap_or_else(|| EMPTY.get_or_init(AccountState::default))
    }

    /// Authorizes `iam:<action>` on `target` for the caller, with the
    /// condition keys AWS defines for the action.
    pub fn authorize(&self, action: &str, target: &Target) -> Result<(), ApiError> {
        authz::authorize(
            self.caller,
            self.view.as_deref(),
            action,
            target,
            self.params,
            &self.facts,
        )?;
        // What the write re-checks ([`OpContext::execute`]); root is not
        // re-checked, as it may do everything anyway.
        if !matches!(self.caller, Caller::Root { .. }) {
            let mut authorized = self.authorized.lock().unwrap_or_else(|p| p.into_inner());
            authorized.push(target.clone());
            authorized.extend(authz::named_policies(action, self.params, self.state()));
        }
        Ok(())
    }

    /// Authorizes `iam:<action>` on a resource that is not a stored entity
    /// (a list's path prefix, `*`).
    pub fn authorize_arn(&self, action: &str, resource: String) -> Result<(), ApiError> {
        self.authorize(action, &Target::arn(resource))
    }

    /// The user `name` resolves to, as an authorization target.
    pub fn user_target(&self, name: &iam_domain::names::UserName) -> Target {
        Target::user(self.state(), self.account(), name)
    }

    /// The group `name` resolves to, as an authorization target.
    pub fn group_target(&self, name: &iam_domain::names::GroupName) -> Target {
        Target::group(self.state(), self.account(), name)
    }

    /// The role `name` resolves to, as an authorization target.
    pub fn role_target(&self, name: &iam_domain::names::RoleName) -> Target {
        Target::role(self.state(), self.account(), name)
    }

    /// A managed policy ARN parameter. An AWS managed policy's ARN
    /// (`arn:aws:iam::aws:policy/…`) is well formed, but iamd has none of
    /// them: after authorizing this action on `target` (on the ARN itself
    /// when `None`), it is answered as AWS answers for a policy that does
    /// not exist.
    pub fn managed_policy_arn(
        &self,
        name: &str,
        target: Option<&Target>,
    ) -> Result<iam_domain::Arn, ApiError> {
        let text = self.params.required(name)?;
        match iam_domain::Arn::parse(text) {
            Ok(arn) => Ok(arn),
            Err(_) if is_aws_managed_policy(text) => {
                match target {
                    Some(t) => self.authorize(self.action, t)?,
                    None => self.authorize_arn(self.action, text.to_owned())?,
                }
                Err(ApiError::new(
                    404,
                    "NoSuchEntity",
                    format!("Policy {text} does not exist or is not attachable."),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The managed policy `arn` names, as an authorization target.
    pub fn policy_target(&self, arn: &iam_domain::Arn) -> Target {
        Target::policy(self.state(), arn)
    }

    /// Decides and appends a command, returning the new position.
    ///
    /// Authorization read the view the request arrived with; the command is
    /// decided on the newest state. So that nothing can change under the
    /// decision (a user renamed into the name that was authorized, a tag or
    /// boundary changed), the writer resolves every authorized target again
    /// on the state it decides on and refuses the command, as
    /// `ConcurrentModification`, unless each is exactly what was authorized.
    /// Root's targets are not recorded: it may do everything anyway.
    pub async fn execute(&self, command: Command) -> Result<Position, ApiError> {
        let targets =
            std::mem::take(&mut *self.authorized.lock().unwrap_or_else(|p| p.into_inner()));
        let precondition: Option<iam_projection::Precondition> = match targets.is_empty() {
            true => None,
            false => {
                let account = self.account().to_owned();
                Some(std::sync::Arc::new(move |state: &AccountState| {
                    if targets
                        .iter()
                        .all(|t| t.resolve_again(state, &account) == *t)
                    {
                        Ok(())
                    } else {
                        Err(iam_domain::DomainError::ConcurrentModification(
                            "The request was rejected because the entity it was authorized \
                                 on changed before it could be applied. Submit your request again."
                                .into(),
                        ))
                    }
                }))
            }
        };
        let outcome = self
            .state
            .projection
            .execute_checked(
                &self.state.account_id,
                &command,
                &self.metadata,
                precondition,
            )
            .await?;
        Ok(outcome.position)
    }

    /// The account's view after this request's own writes.
    pub fn current(&self) -> Option<Arc<AccountView>> {
        self.state.projection.view(&self.state.account_id)
    }

    /// An ARN of this account: `arn:aws:iam::ACCOUNT:<rest>`.
    pub fn arn(&self, rest: &str) -> String {
        format!("arn:aws:iam::{}:{rest}", self.account())
    }
}

/// Whether `text` is the ARN of an AWS managed policy
/// (`arn:aws:iam::aws:policy/PATH/NAME`).
pub fn is_aws_managed_policy(text: &str) -> bool {
    text.strip_prefix("arn:aws:iam::aws:policy/")
        .is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
}

/// Every action the server answers. `dispatch` and this list are the one
/// operation table; `tests/server.rs` (`every_listed_operation_is_dispatched`)
/// checks they agree.
pub const OPERATIONS: &[&str] = &[
    "GetCallerIdentity",
    "CreateUser",
    "GetUser",
    "ListUsers",
    "UpdateUser",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "GetAccessKeyLastUsed",
    "PutUserPolicy",
    "GetUserPolicy",
    "ListUserPolicies",
    "DeleteUserPolicy",
    "CreateGroup",
    "GetGroup",
    "ListGroups",
    "UpdateGroup",
    "DeleteGroup",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "ListGroupsForUser",
    "PutGroupPolicy",
    "GetGroupPolicy",
    "ListGroupPolicies",
    "DeleteGroupPolicy",
    "CreateRole",
    "GetRole",
    "ListRoles",
    "UpdateRole",
    "UpdateAssumeRolePolicy",
    "UpdateRoleDescription",
    "DeleteRole",
    "PutRolePolicy",
    "GetRolePolicy",
    "ListRolePolicies",
    "DeleteRolePolicy",
    "ListInstanceProfilesForRole",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "ListAttachedGroupPolicies",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "PutUserPermissionsBoundary",
    "DeleteUserPermissionsBoundary",
    "TagUser",
    "UntagUser",
    "ListUserTags",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "CreatePolicy",
    "GetPolicy",
    "ListPolicies",
    "DeletePolicy",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "ListEntitiesForPolicy",
    "TagPolicy",
    "UntagPolicy",
    "ListPolicyTags",
    "GetAccountSummary",
    "GetAccountAuthorizationDetails",
];

pub async fn dispatch(action: &str, ctx: &OpContext<'_>) -> OpResult {
    match action {
        "GetCallerIdentity" => get_caller_identity(ctx),
        "CreateUser" => users::create(ctx).await,
        "GetUser" => users::get(ctx),
        "ListUsers" => users::list(ctx),
        "UpdateUser" => users::update(ctx).await,
        "DeleteUser" => users::delete(ctx).await,
        "CreateAccessKey" => access_keys::create(ctx).await,
        "ListAccessKeys" => access_keys::list(ctx),
        "UpdateAccessKey" => access_keys::update(ctx).await,
        "DeleteAccessKey" => access_keys::delete(ctx).await,
        "GetAccessKeyLastUsed" => access_keys::last_used(ctx),
        "PutUserPolicy" => users::put_policy(ctx).await,
        "GetUserPolicy" => users::get_policy(ctx),
        "ListUserPolicies" => users::list_policies(ctx),
        "DeleteUserPolicy" => users::delete_policy(ctx).await,
        "CreateGroup" => groups::create(ctx).await,
        "GetGroup" => groups::get(ctx),
        "ListGroups" => groups::list(ctx),
        "UpdateGroup" => groups::update(ctx).await,
        "DeleteGroup" => groups::delete(ctx).await,
        "AddUserToGroup" => groups::add_user(ctx).await,
        "RemoveUserFromGroup" => groups::remove_user(ctx).await,
        "ListGroupsForUser" => groups::list_for_user(ctx),
        "PutGroupPolicy" => groups::put_policy(ctx).await,
        "GetGroupPolicy" => groups::get_policy(ctx),
        "ListGroupPolicies" => groups::list_policies(ctx),
        "DeleteGroupPolicy" => groups::delete_policy(ctx).await,
        "CreateRole" => roles::create(ctx).await,
        "GetRole" => roles::get(ctx),
        "ListRoles" => roles::list(ctx),
        "UpdateRole" => roles::update(ctx).await,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(ctx).await,
        "UpdateRoleDescription" => roles::update_description(ctx).await,
        "DeleteRole" => roles::delete(ctx).await,
        "PutRolePolicy" => roles::put_policy(ctx).await,
        "GetRolePolicy" => roles::get_policy(ctx),
        "ListRolePolicies" => roles::list_policies(ctx),
        "DeleteRolePolicy" => roles::delete_policy(ctx).await,
        "ListInstanceProfilesForRole" => roles::list_instance_profiles(ctx),
        "AttachUserPolicy" => attachments::attach(ctx, attachments::Kind::User).await,
        "DetachUserPolicy" => attachments::detach(ctx, attachments::Kind::User).await,
        "ListAttachedUserPolicies" => attachments::list_attached(ctx, attachments::Kind::User),
        "AttachGroupPolicy" => attachments::attach(ctx, attachments::Kind::Group).await,
        "DetachGroupPolicy" => attachments::detach(ctx, attachments::Kind::Group).await,
        "ListAttachedGroupPolicies" => attachments::list_attached(ctx, attachments::Kind::Group),
        "AttachRolePolicy" => attachments::attach(ctx, attachments::Kind::Role).await,
        "DetachRolePolicy" => attachments::detach(ctx, attachments::Kind::Role).await,
        "ListAttachedRolePolicies" => attachments::list_attached(ctx, attachments::Kind::Role),
        "PutUserPermissionsBoundary" => {
            attachments::put_boundary(ctx, attachments::Kind::User).await
        }
        "DeleteUserPermissionsBoundary" => {
            attachments::delete_boundary(ctx, attachments::Kind::User).await
        }
        "TagUser" => attachments::tag(ctx, attachments::Kind::User).await,
        "UntagUser" => attachments::untag(ctx, attachments::Kind::User).await,
        "ListUserTags" => attachments::list_tags(ctx, attachments::Kind::User),
        "PutRolePermissionsBoundary" => {
            attachments::put_boundary(ctx, attachments::Kind::Role).await
        }
        "DeleteRolePermissionsBoundary" => {
            attachments::delete_boundary(ctx, attachments::Kind::Role).await
        }
        "TagRole" => attachments::tag(ctx, attachments::Kind::Role).await,
        "UntagRole" => attachments::untag(ctx, attachments::Kind::Role).await,
        "ListRoleTags" => attachments::list_tags(ctx, attachments::Kind::Role),
        "CreatePolicy" => policies::create(ctx).await,
        "GetPolicy" => policies::get(ctx),
        "ListPolicies" => policies::list(ctx),
        "DeletePolicy" => policies::delete(ctx).await,
        "CreatePolicyVersion" => policies::create_version(ctx).await,
        "GetPolicyVersion" => policies::get_version(ctx),
        "ListPolicyVersions" => policies::list_versions(ctx),
        "DeletePolicyVersion" => policies::delete_version(ctx).await,
        "SetDefaultPolicyVersion" => policies::set_default_version(ctx).await,
        "ListEntitiesForPolicy" => policies::list_entities(ctx),
        "TagPolicy" => policies::tag(ctx).await,
        "UntagPolicy" => policies::untag(ctx).await,
        "ListPolicyTags" => policies::list_tags(ctx),
        "GetAccountSummary" => account::summary(ctx),
        "GetAccountAuthorizationDetails" => account::authorization_details(ctx),
        other => Err(ApiError::invalid_action(other)),
    }
}

/// STS `GetCallerIdentity`: allowed for every authenticated caller, as in AWS.
fn get_caller_identity(ctx: &OpContext<'_>) -> OpResult {
    let mut x = Xml::new();
    x.elem("Arn", &ctx.caller.arn())
        .elem("UserId", &ctx.caller.user_id())
        .elem("Account", ctx.account());
    Ok((x.finish(), None))
}

/// `Marker`/`MaxItems` paging over a sorted list: returns the page and the
/// marker of the next page, if any. Markers are the last key of the page.
pub fn page<'a, T>(
    items: impl Iterator<Item = (&'a str, T)>,
    params: &Params,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = params.int("MaxItems", 1, 1000)?.unwrap_or(100) as usize;
    let marker = params.get("Marker");
    let mut out = Vec::new();
    let mut last_key = None;
    let mut truncated = false;
    for (key, item) in items {
        if marker.is_some_and(|m| key <= m) {
            continue;
        }
        if out.len() == max {
            truncated = true;
            break;
        }
        last_key = Some(key.to_owned());
        out.push(item);
    }
    Ok((out, if truncated { last_key } else { None }))
}

/// Policy documents go back URL-encoded, as AWS returns them.
pub fn encode_document(document: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(document, KEEP).to_string()
}

/// `<IsTruncated>` and `<Marker>` after a list.
pub fn paging_tail(x: &mut Xml, next: Option<String>) {
    x.elem("IsTruncated", if next.is_some() { "true" } else { "false" });
    if let Some(m) = next {
        x.elem("Marker", &m);
    }
}
