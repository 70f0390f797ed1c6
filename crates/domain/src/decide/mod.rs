//! `decide`: check a command against an account's state and the quotas, and
//! return the events that record it, or the AWS error that rejects it.
//!
//! Pure: the same state, command and quotas always give the same answer.
//! Idempotent AWS operations that would change nothing (attaching an
//! already-attached policy, adding a member twice, setting the current default
//! version) succeed with **no** events, so the log holds only real changes.
//!
//! [`decide()`] only routes: each family of commands has its module, and what
//! several families share has one definition, so that a lookup or an AWS
//! message cannot drift apart between commands: the errors' wording
//! (`errors`), finding entities and the checks on new and renamed ones
//! (`entities`), policy documents (`documents`) and tags (`tags`).

mod access_advisor;
mod access_keys;
mod account;
mod attachments;
mod boundaries;
mod certificates;
mod documents;
mod entities;
mod errors;
mod groups;
mod inline;
mod instance_profiles;
mod login;
mod mfa;
mod policies;
mod providers;
mod roles;
mod saml_providers;
mod service_credentials;
mod sessions;
mod ssh_keys;
mod tags;
mod users;

pub use access_advisor::no_such_job;
pub use account::CREDENTIAL_REPORT_KEPT;
pub use certificates::{SERVER_CERTIFICATES_PER_ACCOUNT, SIGNING_CERTIFICATES_PER_USER};
pub use documents::MAX_POLICY_DOCUMENT_LEN;
pub use roles::{DEFAULT_MAX_SESSION_DURATION, MAX_SESSION_DURATION_RANGE};

use crate::command::Command;
use crate::error::DomainError;
use crate::event::{Event, EventData};
use crate::ids::AccountId;
use crate::quotas::Quotas;
use crate::state::AccountState;

type Decision = Result<Vec<Event>, DomainError>;

/// What every command but `CreateAccount` is checked against, gathered so
/// that the families' functions take one argument for it: the state, the id
/// of the account (which exists by then) and the quotas.
struct Ctx<'a> {
    state: &'a AccountState,
    account: &'a AccountId,
    quotas: &'a Quotas,
}

impl Ctx<'_> {
    /// The decision of a command that records exactly one event.
    fn one(&self, data: EventData) -> Decision {
        Ok(vec![ev(self.account, data)])
    }
}

fn ev(account: &AccountId, data: EventData) -> Event {
    Event {
        account_id: account.clone(),
        data,
    }
}

/// Decides whether `command` may be applied to `state` under `quotas`, and
/// returns the events recording it (possibly none, for a no-op).
pub fn decide(state: &AccountState, command: &Command, quotas: &Quotas) -> Decision {
    use Command::*;
    if let CreateAccount { account_id, now } = command {
        return account::create(state, account_id, *now);
    }
    let account = state.account_id().ok_or_else(errors::no_account)?;
    let ctx = Ctx {
        state,
        account,
        quotas,
    };
    // Every command is named here, so a new one does not compile until it
    // is routed to its family.
    match command {
        CreateAccount { .. } => unreachable!("handled above"),
        CreateUser { .. } | UpdateUser { .. } | DeleteUser { .. } => users::decide(&ctx, command),
        CreateGroup { .. }
        | UpdateGroup { .. }
        | DeleteGroup { .. }
        | AddUserToGroup { .. }
        | RemoveUserFromGroup { .. } => groups::decide(&ctx, command),
        CreateRole { .. }
        | UpdateRole { .. }
        | UpdateAssumeRolePolicy { .. }
        | UpdateRoleDescription { .. }
        | DeleteRole { .. }
        | CreateServiceLinkedRole { .. }
        | DeleteServiceLinkedRole { .. } => roles::decide(&ctx, command),
        CreatePolicy { .. }
        | DeletePolicy { .. }
        | CreatePolicyVersion { .. }
        | DeletePolicyVersion { .. }
        | SetDefaultPolicyVersion { .. } => policies::decide(&ctx, command),
        AttachUserPolicy { .. }
        | AttachGroupPolicy { .. }
        | AttachRolePolicy { .. }
        | DetachUserPolicy { .. }
        | DetachGroupPolicy { .. }
        | DetachRolePolicy { .. } => attachments::decide(&ctx, command),
        PutUserPermissionsBoundary { .. }
        | PutRolePermissionsBoundary { .. }
        | DeleteUserPermissionsBoundary { .. }
        | DeleteRolePermissionsBoundary { .. } => boundaries::decide(&ctx, command),
        PutUserPolicy { .. }
        | PutGroupPolicy { .. }
        | PutRolePolicy { .. }
        | DeleteUserPolicy { .. }
        | DeleteGroupPolicy { .. }
        | DeleteRolePolicy { .. } => inline::decide(&ctx, command),
        TagUser { .. }
        | TagRole { .. }
        | TagPolicy { .. }
        | UntagUser { .. }
        | UntagRole { .. }
        | UntagPolicy { .. }
        | TagMfaDevice { .. }
        | UntagMfaDevice { .. } => tags::decide(&ctx, command),
        CreateAccessKey { .. }
        | UpdateAccessKey { .. }
        | DeleteAccessKey { .. }
        | RecordAccessKeyUse { .. } => access_keys::decide(&ctx, command),
        RecordAccessDenied {
            action,
            target,
            suppressed,
            at,
        } => ctx.one(EventData::AccessDenied {
            action: action.clone(),
            target: target.clone(),
            suppressed: *suppressed,
            at: *at,
        }),
        CreateLoginProfile { .. } | UpdateLoginProfile { .. } | DeleteLoginProfile { .. } => {
            login::decide(&ctx, command)
        }
        CreateVirtualMfaDevice { .. }
        | EnableMfaDevice { .. }
        | DeactivateMfaDevice { .. }
        | DeleteVirtualMfaDevice { .. }
        | ResyncMfaDevice { .. } => mfa::decide(&ctx, command),
        RecordTemporaryCredentials(_) | RecordSignInFailure { .. } => {
            sessions::decide(&ctx, command)
        }
        UploadSshPublicKey { .. } | UpdateSshPublicKey { .. } | DeleteSshPublicKey { .. } => {
            ssh_keys::decide(&ctx, command)
        }
        RecordServiceAccess { .. } | GenerateServiceLastAccessedDetails { .. } => {
            access_advisor::decide(&ctx, command)
        }
        CreateSamlProvider { .. }
        | UpdateSamlProvider { .. }
        | DeleteSamlProvider { .. }
        | TagSamlProvider { .. }
        | UntagSamlProvider { .. } => saml_providers::decide(&ctx, command),
        CreateServiceSpecificCredential { .. }
        | ResetServiceSpecificCredential { .. }
        | UpdateServiceSpecificCredential { .. }
        | DeleteServiceSpecificCredential { .. } => service_credentials::decide(&ctx, command),
        UploadSigningCertificate { .. }
        | UpdateSigningCertificate { .. }
        | DeleteSigningCertificate { .. }
        | UploadServerCertificate { .. }
        | UpdateServerCertificate { .. }
        | DeleteServerCertificate { .. }
        | TagServerCertificate { .. }
        | UntagServerCertificate { .. } => certificates::decide(&ctx, command),
        CreateInstanceProfile { .. }
        | DeleteInstanceProfile { .. }
        | AddRoleToInstanceProfile { .. }
        | RemoveRoleFromInstanceProfile { .. }
        | TagInstanceProfile { .. }
        | UntagInstanceProfile { .. } => instance_profiles::decide(&ctx, command),
        CreateOpenIdConnectProvider { .. }
        | DeleteOpenIdConnectProvider { .. }
        | AddClientIdToOpenIdConnectProvider { .. }
        | RemoveClientIdFromOpenIdConnectProvider { .. }
        | UpdateOpenIdConnectProviderThumbprint { .. }
        | TagOpenIdConnectProvider { .. }
        | UntagOpenIdConnectProvider { .. } => providers::decide(&ctx, command),
        UpdateAccountPasswordPolicy { .. }
        | DeleteAccountPasswordPolicy
        | GenerateCredentialReport { .. }
        | CreateAccountAlias { .. }
        | DeleteAccountAlias { .. }
        | SetSecurityTokenServicePreferences { .. } => account::decide(&ctx, command),
    }
}

/// What a family's `decide` does with a command [`decide()`] did not route
/// to it: nothing can, so reaching this is a bug in the routing.
fn not_routed_here(command: &Command, family: &str) -> ! {
    unreachable!(
        "{} was routed to the {family} commands",
        command.variant_name()
    )
}
