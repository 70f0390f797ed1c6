//! The handlers, by family: each takes its operation's typed input (read
//! and validated from the model by `iam-wire`) and returns its typed
//! output; `crate::edge` decodes, dispatches and encodes around them.

pub mod access_advisor;
pub mod access_keys;
pub mod account;
pub mod attachments;
pub mod audit;
pub mod caller;
pub mod certificates;
pub mod credential_report;
pub mod decisions;
pub mod diff;
mod entity;
pub mod groups;
mod inline;
pub mod instance_profiles;
pub mod login;
pub mod mfa;
pub mod oidc_providers;
pub mod organizations;
pub mod policies;
pub mod policy_validation;
pub mod roles;
pub mod saml;
pub mod saml_providers;
pub mod service_credentials;
mod shapes;
pub mod sign_in;
pub mod simulate;
pub mod ssh_keys;
mod stored_policies;
pub mod sts;
pub mod users;
pub mod web_identity;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use iam_domain::metadata::EventMetadata;
use iam_domain::{AccountState, Command};
use iam_event_store::Position;
use iam_projection::AccountView;

use crate::app::AppState;
use crate::auth::Caller;
use crate::authz::{self, RequestFacts, Target};
use crate::query::{ApiError, Params};

/// Everything a handler may use.
pub struct OpContext<'a> {
    pub state: &'a AppState,
    /// The operation being served, as the model describes it.
    pub spec: &'static iam_wire::OperationSpec,
    /// Its name (`CreateUser`, ...), which is also its IAM action's.
    pub action: &'static str,
    pub caller: &'a Caller,
    pub params: &'a Params,
    /// The account's view the request reads: as the request arrived, or
    /// as of the past moment `x-iamd-as-of` names.
    pub view: Option<Arc<AccountView>>,
    /// The view the caller is authorized by: always the current one (who
    /// may read history is decided by today's policies).
    pub authorizing_view: Option<Arc<AccountView>>,
    /// The log position of the past moment a read is answered at.
    pub as_of: Option<Position>,
    pub facts: RequestFacts<'a>,
    pub metadata: EventMetadata,
    pub now: DateTime<Utc>,
    /// Every target this request was authorized on: the write checks them
    /// again on the state it is decided on ([`OpContext::execute`]).
    pub authorized: std::sync::Mutex<Vec<Target>>,
    /// How many authorization checks passed: the dispatcher refuses to
    /// answer an operation whose handler authorized nothing.
    pub checks: std::sync::atomic::AtomicUsize,
    /// The log position this request's last write reached.
    pub written: std::sync::Mutex<Option<Position>>,
    /// The resource the request was first authorized on: its writes carry
    /// it in their metadata (the trail's `target`).
    pub first_target: std::sync::Mutex<Option<String>>,
    /// The action and resource the request was refused on, if it was.
    pub denied: std::sync::Mutex<Option<(String, String)>>,
}

/// A handler's result: its operation's output.
pub type OpResult<T> = Result<T, ApiError>;

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

    /// The state authorization reads targets from: the current one, also
    /// for a read at a past moment (who may read an entity, and on which
    /// ARN, tags and boundary, is decided by what it is today).
    pub fn authorizing_state(&self) -> &AccountState {
        static EMPTY: std::sync::OnceLock<AccountState> = std::sync::OnceLock::new();
        self.authorizing_view
            .as_deref()
            .map(|v| &v.state)
            .unwrap_or_else(|| EMPTY.get_or_init(AccountState::default))
    }

    /// Authorizes this operation's action on `target` for the caller, with
    /// the condition keys AWS defines for the action.
    pub fn authorize(&self, target: &Target) -> Result<(), ApiError> {
        self.authorize_action(
            (self.spec.service.name(), self.spec.name),
            target,
            &authz::Extra::default(),
        )
    }

    /// [`OpContext::authorize`] with what the request adds (a trust
    /// policy, keys only its operation defines), for this operation's
    /// action (`None`) or another action of its service (`sts:TagSession`
    /// beside `sts:AssumeRole`).
    pub fn authorize_extra(
        &self,
        action: Option<&'static str>,
        target: &Target,
        extra: &authz::Extra<'_>,
    ) -> Result<(), ApiError> {
        let action = action.unwrap_or(self.spec.name);
        self.authorize_action((self.spec.service.name(), action), target, extra)
    }

    /// Counts as this request's authorization an operation AWS lets every
    /// caller with credentials perform without any permission
    /// (`GetSessionToken`): its write is recorded against `target`.
    pub fn allow_without_policy(&self, target: &Target) {
        self.first_target
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| target.resource().to_owned());
        self.checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Authorizes another operation's action as part of this one (a create
    /// with tags also needs the tag action).
    pub fn authorize_also<O: iam_wire::Operation>(&self, target: &Target) -> Result<(), ApiError> {
        self.authorize_action(
            (O::SPEC.service.name(), O::SPEC.name),
            target,
            &authz::Extra::default(),
        )
    }

    fn authorize_action(
        &self,
        (service, action): (&str, &'static str),
        target: &Target,
        extra: &authz::Extra<'_>,
    ) -> Result<(), ApiError> {
        if let Err(e) = authz::authorize_with(
            self.caller,
            self.authorizing_view.as_deref(),
            (service, action),
            target,
            self.params,
            &self.facts,
            extra,
        ) {
            let mut e = e;
            if e.code == "AccessDenied" {
                *self.denied.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((format!("{service}:{action}"), target.resource().to_owned()));
                if let Some(message) = e.authorization.take() {
                    // Padded to a multiple of 512 bytes: its length says
                    // little of what it holds.
                    let mut text = message.to_string();
                    let padded = text.len().div_ceil(512) * 512;
                    text.extend(std::iter::repeat_n(' ', padded - text.len()));
                    let sealed = crate::sealed::seal(
                        &self.state.master_key,
                        crate::sealed::AUTHORIZATION_MESSAGE,
                        self.account(),
                        text.as_bytes(),
                    );
                    e.message = format!(
                        "{} Encoded authorization failure message: {sealed}",
                        e.message
                    );
                }
            }
            return Err(e);
        }
        if self.as_of.is_some() {
            // A read of the past is allowed on the entity as it is and as
            // it was then: a deny on either holds (a user moved under a
            // denied path, tagged since, or deleted).
            let then = target.resolve_again(self.state(), self.account());
            if then != *target {
                authz::authorize(
                    self.caller,
                    self.authorizing_view.as_deref(),
                    (service, action),
                    &then,
                    self.params,
                    &self.facts,
                )?;
            }
        }
        self.first_target
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| target.resource().to_owned());
        // What the write re-checks ([`OpContext::execute`]); root is not
        // re-checked, as it may do everything anyway.
        if !matches!(self.caller, Caller::Root { .. }) {
            let mut authorized = self.authorized.lock().unwrap_or_else(|p| p.into_inner());
            authorized.push(target.clone());
            authorized.extend(authz::named_policies(action, self.params, self.state()));
        }
        self.checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Authorizes `iam:<action>` on a resource that is not a stored entity
    /// (a list's path prefix, `*`).
    pub fn authorize_arn(&self, resource: String) -> Result<(), ApiError> {
        self.authorize(&Target::arn(resource))
    }

    /// The user `name` resolves to, as an authorization target.
    pub fn user_target(&self, name: &iam_domain::names::UserName) -> Target {
        Target::user(self.authorizing_state(), self.account(), name)
    }

    /// The group `name` resolves to, as an authorization target.
    pub fn group_target(&self, name: &iam_domain::names::GroupName) -> Target {
        Target::group(self.authorizing_state(), self.account(), name)
    }

    /// The role `name` resolves to, as an authorization target.
    pub fn role_target(&self, name: &iam_domain::names::RoleName) -> Target {
        Target::role(self.authorizing_state(), self.account(), name)
    }

    /// A managed policy ARN from the request: the account's
    /// (`arn:aws:iam::ACCOUNT:policy/…`) or AWS's (`arn:aws:iam::aws:policy/…`).
    pub fn managed_policy_arn(&self, text: &str) -> Result<iam_domain::Arn, ApiError> {
        Ok(iam_domain::Arn::parse(text)?)
    }

    /// The managed policy `arn` names, as an authorization target.
    pub fn policy_target(&self, arn: &iam_domain::Arn) -> Target {
        Target::policy(self.authorizing_state(), arn)
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
        if self.as_of.is_some() {
            return Err(crate::edge::as_of_write());
        }
        if self.checks.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            // Nothing writes unauthorized: a handler that forgot to
            // authorize fails here, before the log, not in review.
            tracing::error!(operation = self.action, "write without authorization");
            return Err(ApiError::internal());
        }
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
        let mut metadata = self.metadata.clone();
        metadata.target = self
            .first_target
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let outcome = self
            .state
            .projection
            .execute_checked(&self.state.account_id, &command, &metadata, precondition)
            .await?;
        *self.written.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome.position);
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

/// `Marker`/`MaxItems` paging over a sorted list: returns the page and the
/// marker of the next page, if any. Markers are the last key of the page.
/// `max_items` is the request's `MaxItems` (the model bounds it to
/// 1..=1000), 100 when absent, as in AWS.
pub fn page<'a, T>(
    items: impl Iterator<Item = (&'a str, T)>,
    max_items: Option<i32>,
    marker: Option<&str>,
) -> (Vec<T>, Option<String>) {
    let max = max_items.unwrap_or(100).clamp(1, 1000) as usize;
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
    (out, if truncated { last_key } else { None })
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
