//! `evolve`: apply one event to an account's state.
//!
//! Events are facts that `decide` already checked, so `evolve` does not
//! re-validate; but it must never fail or panic, even on an event that does
//! not fit the state (a corrupted or hand-edited log, an event from an older
//! build). Such an event is applied as far as it makes sense and otherwise
//! ignored.
//!
//! [`evolve()`] only routes: each family of events has its module, as in
//! `decide`, and what several families share has one definition: the rename
//! rule, credential owners and policy ARNs (`entities`) and tags (`tags`).
//! A family's function ignores any event that is not its own (none reaches
//! it).

mod access_advisor;
mod access_keys;
mod account;
mod attachments;
mod boundaries;
mod certificates;
mod entities;
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
mod ssh_keys;
mod tags;
mod users;

use crate::event::{Event, EventData};
use crate::state::AccountState;

/// Applies `event` to `state`. Never fails, never panics.
pub fn evolve(state: &mut AccountState, event: &Event) {
    use EventData::*;
    if let AccountCreated { created_at } = &event.data {
        account::create(state, &event.account_id, *created_at);
        return;
    }
    // An event for another account (or before the account exists) is ignored.
    if state.account_id() != Some(&event.account_id) {
        return;
    }
    let data = &event.data;
    // Every event is named here, so a new one does not compile until it is
    // routed to its family.
    match data {
        AccountCreated { .. } => {}
        UserCreated { .. } | UserUpdated { .. } | UserDeleted { .. } => users::evolve(state, data),
        GroupCreated { .. }
        | GroupUpdated { .. }
        | GroupDeleted { .. }
        | UserAddedToGroup { .. }
        | UserRemovedFromGroup { .. } => groups::evolve(state, data),
        RoleCreated { .. }
        | RoleUpdated { .. }
        | RoleTrustPolicyUpdated { .. }
        | RoleDescriptionUpdated { .. }
        | RoleDeleted { .. }
        | ServiceLinkedRoleDeleted { .. } => roles::evolve(state, data),
        PolicyCreated { .. }
        | PolicyDeleted { .. }
        | PolicyVersionCreated { .. }
        | PolicyVersionDeleted { .. }
        | PolicyDefaultVersionSet { .. } => policies::evolve(state, data),
        ManagedPolicyAttached { .. } | ManagedPolicyDetached { .. } => {
            attachments::evolve(state, data)
        }
        PermissionsBoundarySet { .. } | PermissionsBoundaryDeleted { .. } => {
            boundaries::evolve(state, data)
        }
        InlinePolicyPut { .. } | InlinePolicyDeleted { .. } => inline::evolve(state, data),
        EntityTagged { .. } | EntityUntagged { .. } => tags::evolve(state, data),
        AccessKeyCreated { .. }
        | AccessKeyStatusUpdated { .. }
        | AccessKeyDeleted { .. }
        | AccessKeyUsed { .. } => access_keys::evolve(state, data),
        // A refusal is in the trail, not in the state.
        AccessDenied { .. } => {}
        LoginProfileCreated { .. } | LoginProfileUpdated { .. } | LoginProfileDeleted { .. } => {
            login::evolve(state, data)
        }
        // Records only, but an MFA code they used is spent.
        TemporaryCredentialsIssued(_) => mfa::evolve(state, data),
        SignInFailed { .. } => {}
        VirtualMfaDeviceCreated { .. }
        | MfaDeviceEnabled { .. }
        | MfaDeviceDeactivated { .. }
        | VirtualMfaDeviceDeleted { .. }
        | MfaDeviceResynced { .. } => mfa::evolve(state, data),
        SshPublicKeyUploaded { .. }
        | SshPublicKeyStatusUpdated { .. }
        | SshPublicKeyDeleted { .. } => ssh_keys::evolve(state, data),
        ServiceAccessed { .. } | ServiceLastAccessedReportRequested { .. } => {
            access_advisor::evolve(state, data)
        }
        SamlProviderCreated { .. } | SamlProviderUpdated { .. } | SamlProviderDeleted { .. } => {
            saml_providers::evolve(state, data)
        }
        ServiceSpecificCredentialCreated { .. }
        | ServiceSpecificCredentialReset { .. }
        | ServiceSpecificCredentialStatusUpdated { .. }
        | ServiceSpecificCredentialDeleted { .. } => service_credentials::evolve(state, data),
        SigningCertificateUploaded { .. }
        | SigningCertificateStatusUpdated { .. }
        | SigningCertificateDeleted { .. }
        | ServerCertificateUploaded { .. }
        | ServerCertificateUpdated { .. }
        | ServerCertificateDeleted { .. } => certificates::evolve(state, data),
        InstanceProfileCreated { .. }
        | InstanceProfileDeleted { .. }
        | RoleAddedToInstanceProfile { .. }
        | RoleRemovedFromInstanceProfile { .. } => instance_profiles::evolve(state, data),
        OidcProviderCreated { .. }
        | OidcProviderDeleted { .. }
        | OidcProviderClientIdAdded { .. }
        | OidcProviderClientIdRemoved { .. }
        | OidcProviderThumbprintsUpdated { .. } => providers::evolve(state, data),
        PasswordPolicyUpdated { .. }
        | PasswordPolicyDeleted {}
        | CredentialReportGenerated { .. }
        | AccountAliasCreated { .. }
        | AccountAliasDeleted { .. }
        | SecurityTokenServicePreferencesSet { .. } => account::evolve(state, data),
    }
}
