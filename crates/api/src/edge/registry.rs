//! The operation table: one line per implemented operation, pairing the
//! model's operation (its name, service, shapes and result element, from
//! `iam-wire`) with the sources of its action's own condition keys (in
//! brackets) and its typed handler. This is the only hand-written place an
//! operation's name appears; its IAM action is `<service>:<name>`, and its
//! resource is what the handler authorizes (`OpContext::authorize`), which
//! the dispatcher checks happened.
//!
//! Every other operation of the model answers `NotImplemented` (see
//! [`not_implemented`]).

use std::future::Future;
use std::sync::atomic::Ordering;

use iam_wire::decode::decode_input;
use iam_wire::operation::{json_response, xml_response};
use iam_wire::{iam::ops as iam, iamd::ops as iamd, sts::ops as sts, Operation, OperationSpec};

use super::Format;
use crate::authz::keys::KeySource;
use crate::ops::{self, OpContext};
use crate::query::ApiError;

/// Whether a handler must authorize the caller itself. Only operations AWS
/// documents as needing no permission are `Public`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Authorized,
    Public,
    /// Served to unsigned requests too (AWS's `AssumeRoleWithWebIdentity`:
    /// the token is the credential); the handler authorizes by itself.
    Unsigned,
}

macro_rules! registry {
    ($($service:ident :: $op:ident $([$($key:ident),*])? => $handler:expr
        $(, $access:ident)?;)*) => {
        /// Every implemented operation, in the table's order.
        pub const IMPLEMENTED: &[&OperationSpec] = &[$(<$service::$op as Operation>::SPEC),*];

        /// Where each of the action's own condition keys comes from (empty
        /// for actions that define none), as the Service Authorization
        /// Reference lists them for the action.
        pub fn condition_keys(spec: &OperationSpec) -> &'static [KeySource] {
            match spec.name {
                $(
                    stringify!($op)
                        if spec.service == <$service::$op as Operation>::SPEC.service =>
                    {
                        &[$($(KeySource::$key),*)?]
                    }
                )*
                _ => &[],
            }
        }

        /// Whether the operation is served to unsigned requests.
        pub fn accepts_unsigned(spec: &OperationSpec) -> bool {
            match spec.name {
                $(
                    stringify!($op)
                        if spec.service == <$service::$op as Operation>::SPEC.service =>
                    {
                        registry!(@access $($access)?) == Access::Unsigned
                    }
                )*
                _ => false,
            }
        }

        /// Decodes the request into the operation's input, runs its handler
        /// and encodes its output: the response body.
        pub async fn dispatch(
            ctx: &OpContext<'_>,
            format: Format,
            request_id: &str,
        ) -> Result<String, ApiError> {
            match ctx.spec.name {
                $(
                    stringify!($op)
                        if ctx.spec.service == <$service::$op as Operation>::SPEC.service =>
                    {
                        let access = registry!(@access $($access)?);
                        call::<$service::$op, _, _>(ctx, format, request_id, access, $handler).await
                    }
                )*
                _ => Err(not_implemented(ctx.spec)),
            }
        }
    };
    (@access) => {
        Access::Authorized
    };
    (@access $access:ident) => {
        Access::$access
    };
}

registry! {
    sts::GetCallerIdentity => ops::caller::get_caller_identity, Public;
    sts::AssumeRole => ops::sts::assume_role;
    sts::GetSessionToken => ops::sts::get_session_token, Public;
    sts::GetFederationToken => ops::sts::get_federation_token;
    sts::GetAccessKeyInfo => ops::sts::get_access_key_info;
    sts::DecodeAuthorizationMessage => ops::sts::decode_authorization_message;
    sts::AssumeRoleWithWebIdentity => ops::web_identity::assume_role_with_web_identity, Unsigned;
    sts::AssumeRoleWithSAML => ops::saml::assume_role_with_saml, Unsigned;
    // Users
    iam::CreateUser [RequestedBoundary, RequestTags] => ops::users::create;
    iam::GetUser => ops::users::get;
    iam::ListUsers => ops::users::list;
    iam::UpdateUser => ops::users::update;
    iam::DeleteUser => ops::users::delete;
    iam::PutUserPolicy [StoredBoundary] => ops::users::put_policy;
    iam::GetUserPolicy => ops::users::get_policy;
    iam::ListUserPolicies => ops::users::list_policies;
    iam::DeleteUserPolicy [StoredBoundary] => ops::users::delete_policy;
    // Groups
    iam::CreateGroup => ops::groups::create;
    iam::GetGroup => ops::groups::get;
    iam::ListGroups => ops::groups::list;
    iam::UpdateGroup => ops::groups::update;
    iam::DeleteGroup => ops::groups::delete;
    iam::AddUserToGroup => ops::groups::add_user;
    iam::RemoveUserFromGroup => ops::groups::remove_user;
    iam::ListGroupsForUser => ops::groups::list_for_user;
    iam::PutGroupPolicy => ops::groups::put_policy;
    iam::GetGroupPolicy => ops::groups::get_policy;
    iam::ListGroupPolicies => ops::groups::list_policies;
    iam::DeleteGroupPolicy => ops::groups::delete_policy;
    // Roles
    iam::CreateRole [RequestedBoundary, RequestTags] => ops::roles::create;
    iam::GetRole => ops::roles::get;
    iam::ListRoles => ops::roles::list;
    iam::UpdateRole => ops::roles::update;
    iam::UpdateAssumeRolePolicy => ops::roles::update_assume_role_policy;
    iam::UpdateRoleDescription => ops::roles::update_description;
    iam::DeleteRole => ops::roles::delete;
    iam::PutRolePolicy [StoredBoundary] => ops::roles::put_policy;
    iam::GetRolePolicy => ops::roles::get_policy;
    iam::ListRolePolicies => ops::roles::list_policies;
    iam::DeleteRolePolicy [StoredBoundary] => ops::roles::delete_policy;
    iam::CreateServiceLinkedRole => ops::roles::create_service_linked;
    iam::DeleteServiceLinkedRole => ops::roles::delete_service_linked;
    iam::GetServiceLinkedRoleDeletionStatus => ops::roles::service_linked_deletion_status;
    // Instance profiles
    iam::CreateInstanceProfile [RequestTags] => ops::instance_profiles::create;
    iam::GetInstanceProfile => ops::instance_profiles::get;
    iam::ListInstanceProfiles => ops::instance_profiles::list;
    iam::ListInstanceProfilesForRole => ops::instance_profiles::list_for_role;
    iam::DeleteInstanceProfile => ops::instance_profiles::delete;
    iam::AddRoleToInstanceProfile => ops::instance_profiles::add_role;
    iam::RemoveRoleFromInstanceProfile => ops::instance_profiles::remove_role;
    iam::TagInstanceProfile [RequestTags] => ops::instance_profiles::tag;
    iam::UntagInstanceProfile [RemovedTagKeys] => ops::instance_profiles::untag;
    iam::ListInstanceProfileTags => ops::instance_profiles::list_tags;
    // OpenID Connect identity providers
    iam::CreateOpenIDConnectProvider [RequestTags] => ops::oidc_providers::create;
    iam::GetOpenIDConnectProvider => ops::oidc_providers::get;
    iam::ListOpenIDConnectProviders => ops::oidc_providers::list;
    iam::DeleteOpenIDConnectProvider => ops::oidc_providers::delete;
    iam::AddClientIDToOpenIDConnectProvider => ops::oidc_providers::add_client_id;
    iam::RemoveClientIDFromOpenIDConnectProvider => ops::oidc_providers::remove_client_id;
    iam::UpdateOpenIDConnectProviderThumbprint => ops::oidc_providers::update_thumbprint;
    iam::TagOpenIDConnectProvider [RequestTags] => ops::oidc_providers::tag;
    iam::UntagOpenIDConnectProvider [RemovedTagKeys] => ops::oidc_providers::untag;
    iam::ListOpenIDConnectProviderTags => ops::oidc_providers::list_tags;
    // Access advisor
    iam::GenerateServiceLastAccessedDetails => ops::access_advisor::generate;
    iam::GetServiceLastAccessedDetails => ops::access_advisor::get;
    iam::GetServiceLastAccessedDetailsWithEntities => ops::access_advisor::get_with_entities;
    iam::ListPoliciesGrantingServiceAccess => ops::access_advisor::list_policies_granting;
    // SAML identity providers
    iam::CreateSAMLProvider [RequestTags] => ops::saml_providers::create;
    iam::GetSAMLProvider => ops::saml_providers::get;
    iam::ListSAMLProviders => ops::saml_providers::list;
    iam::UpdateSAMLProvider => ops::saml_providers::update;
    iam::DeleteSAMLProvider => ops::saml_providers::delete;
    iam::TagSAMLProvider [RequestTags] => ops::saml_providers::tag;
    iam::UntagSAMLProvider [RemovedTagKeys] => ops::saml_providers::untag;
    iam::ListSAMLProviderTags => ops::saml_providers::list_tags;
    // Managed policy attachments, permissions boundaries and tags of users, groups and roles
    iam::AttachUserPolicy [StoredBoundary, RequestedPolicyArn] => ops::attachments::attach_user_policy;
    iam::DetachUserPolicy [StoredBoundary, RequestedPolicyArn] => ops::attachments::detach_user_policy;
    iam::ListAttachedUserPolicies => ops::attachments::list_attached_user_policies;
    iam::AttachGroupPolicy [RequestedPolicyArn] => ops::attachments::attach_group_policy;
    iam::DetachGroupPolicy [RequestedPolicyArn] => ops::attachments::detach_group_policy;
    iam::ListAttachedGroupPolicies => ops::attachments::list_attached_group_policies;
    iam::AttachRolePolicy [StoredBoundary, RequestedPolicyArn] => ops::attachments::attach_role_policy;
    iam::DetachRolePolicy [StoredBoundary, RequestedPolicyArn] => ops::attachments::detach_role_policy;
    iam::ListAttachedRolePolicies => ops::attachments::list_attached_role_policies;
    iam::PutUserPermissionsBoundary [RequestedBoundary] => ops::attachments::put_user_permissions_boundary;
    iam::DeleteUserPermissionsBoundary [StoredBoundary] => ops::attachments::delete_user_permissions_boundary;
    iam::PutRolePermissionsBoundary [RequestedBoundary] => ops::attachments::put_role_permissions_boundary;
    iam::DeleteRolePermissionsBoundary [StoredBoundary] => ops::attachments::delete_role_permissions_boundary;
    iam::TagUser [RequestTags] => ops::attachments::tag_user;
    iam::UntagUser [RemovedTagKeys] => ops::attachments::untag_user;
    iam::ListUserTags => ops::attachments::list_user_tags;
    iam::TagRole [RequestTags] => ops::attachments::tag_role;
    iam::UntagRole [RemovedTagKeys] => ops::attachments::untag_role;
    iam::ListRoleTags => ops::attachments::list_role_tags;
    // Managed policies
    iam::CreatePolicy [RequestTags] => ops::policies::create;
    iam::GetPolicy => ops::policies::get;
    iam::ListPolicies => ops::policies::list;
    iam::DeletePolicy => ops::policies::delete;
    iam::CreatePolicyVersion => ops::policies::create_version;
    iam::GetPolicyVersion => ops::policies::get_version;
    iam::ListPolicyVersions => ops::policies::list_versions;
    iam::DeletePolicyVersion => ops::policies::delete_version;
    iam::SetDefaultPolicyVersion => ops::policies::set_default_version;
    iam::ListEntitiesForPolicy => ops::policies::list_entities;
    iam::TagPolicy [RequestTags] => ops::policies::tag;
    iam::UntagPolicy [RemovedTagKeys] => ops::policies::untag;
    iam::ListPolicyTags => ops::policies::list_tags;
    // Access keys
    iam::CreateAccessKey => ops::access_keys::create;
    iam::ListAccessKeys => ops::access_keys::list;
    iam::UpdateAccessKey => ops::access_keys::update;
    iam::DeleteAccessKey => ops::access_keys::delete;
    iam::GetAccessKeyLastUsed => ops::access_keys::last_used;
    // SSH public keys
    iam::UploadSSHPublicKey => ops::ssh_keys::upload;
    iam::GetSSHPublicKey => ops::ssh_keys::get;
    iam::ListSSHPublicKeys => ops::ssh_keys::list;
    iam::UpdateSSHPublicKey => ops::ssh_keys::update;
    iam::DeleteSSHPublicKey => ops::ssh_keys::delete;
    // Service-specific credentials
    iam::CreateServiceSpecificCredential => ops::service_credentials::create;
    iam::ListServiceSpecificCredentials => ops::service_credentials::list;
    iam::ResetServiceSpecificCredential => ops::service_credentials::reset;
    iam::UpdateServiceSpecificCredential => ops::service_credentials::update;
    iam::DeleteServiceSpecificCredential => ops::service_credentials::delete;
    // Signing certificates
    iam::UploadSigningCertificate => ops::certificates::upload_signing;
    iam::ListSigningCertificates => ops::certificates::list_signing;
    iam::UpdateSigningCertificate => ops::certificates::update_signing;
    iam::DeleteSigningCertificate => ops::certificates::delete_signing;
    // Server certificates
    iam::UploadServerCertificate [RequestTags] => ops::certificates::upload_server;
    iam::GetServerCertificate => ops::certificates::get_server;
    iam::ListServerCertificates => ops::certificates::list_server;
    iam::UpdateServerCertificate => ops::certificates::update_server;
    iam::DeleteServerCertificate => ops::certificates::delete_server;
    iam::TagServerCertificate [RequestTags] => ops::certificates::tag_server;
    iam::UntagServerCertificate [RemovedTagKeys] => ops::certificates::untag_server;
    iam::ListServerCertificateTags => ops::certificates::list_server_tags;
    // Passwords
    iam::CreateLoginProfile => ops::login::create;
    iam::GetLoginProfile => ops::login::get;
    iam::UpdateLoginProfile => ops::login::update;
    iam::DeleteLoginProfile => ops::login::delete;
    iam::ChangePassword => ops::login::change_password;
    iam::GetAccountPasswordPolicy => ops::login::get_password_policy;
    iam::UpdateAccountPasswordPolicy => ops::login::update_password_policy;
    iam::DeleteAccountPasswordPolicy => ops::login::delete_password_policy;
    // MFA devices
    iam::CreateVirtualMFADevice [RequestTags] => ops::mfa::create_virtual;
    iam::EnableMFADevice => ops::mfa::enable;
    iam::ResyncMFADevice => ops::mfa::resync;
    iam::DeactivateMFADevice => ops::mfa::deactivate;
    iam::DeleteVirtualMFADevice => ops::mfa::delete_virtual;
    iam::GetMFADevice => ops::mfa::get;
    iam::ListMFADevices => ops::mfa::list;
    iam::ListVirtualMFADevices => ops::mfa::list_virtual;
    iam::TagMFADevice [RequestTags] => ops::mfa::tag;
    iam::UntagMFADevice [RemovedTagKeys] => ops::mfa::untag;
    iam::ListMFADeviceTags => ops::mfa::list_tags;
    // The account
    iam::GetAccountSummary => ops::account::summary;
    iam::GetAccountAuthorizationDetails => ops::account::authorization_details;
    iam::CreateAccountAlias => ops::account::create_alias;
    iam::DeleteAccountAlias => ops::account::delete_alias;
    iam::ListAccountAliases => ops::account::list_aliases;
    iam::SetSecurityTokenServicePreferences => ops::account::set_sts_preferences;
    iam::GenerateCredentialReport => ops::credential_report::generate;
    iam::GetCredentialReport => ops::credential_report::get;
    // The policy simulator
    iam::SimulatePrincipalPolicy => ops::simulate::simulate_principal_policy;
    iam::SimulateCustomPolicy => ops::simulate::simulate_custom_policy;
    iam::GetContextKeysForPrincipalPolicy => ops::simulate::get_context_keys_for_principal_policy;
    iam::GetContextKeysForCustomPolicy => ops::simulate::get_context_keys_for_custom_policy;
    // AWS Organizations features: an iamd account is in no organization
    iam::ListOrganizationsFeatures => ops::organizations::list_features;
    iam::EnableOrganizationsRootCredentialsManagement => ops::organizations::enable_root_credentials_management;
    iam::DisableOrganizationsRootCredentialsManagement => ops::organizations::disable_root_credentials_management;
    iam::EnableOrganizationsRootSessions => ops::organizations::enable_root_sessions;
    iam::DisableOrganizationsRootSessions => ops::organizations::disable_root_sessions;
    iam::GenerateOrganizationsAccessReport => ops::organizations::generate_access_report;
    iam::GetOrganizationsAccessReport => ops::organizations::get_access_report;
    sts::AssumeRoot => ops::organizations::assume_root;
    // iamd's own API (`/v1`): decisions and the audit trail
    iamd::Authorize => ops::decisions::authorize;
    iamd::AuthorizeBatch => ops::decisions::authorize_batch;
    iamd::ListEvents => ops::audit::list_events;
    iamd::GetEvent => ops::audit::get_event;
    iamd::VerifyLog => ops::audit::verify_log;
    iamd::ValidatePolicy => ops::policy_validation::validate_policy;
    iamd::GetView => ops::decisions::get_view;
    iamd::GetAccessHistory => ops::decisions::get_access_history;
    iamd::GetPermissionsDiff => ops::diff::get_permissions_diff;
}

/// AWS's answer for an operation of its model that iamd does not serve.
/// AWS itself serves all of them, so there is no AWS wording to copy;
/// `NotImplemented` with 501 is the common AWS code for functionality a
/// service does not provide, and SDKs do not retry it.
pub fn not_implemented(spec: &OperationSpec) -> ApiError {
    ApiError::new(
        501,
        "NotImplemented",
        format!(
            "The operation {} of {} is not implemented by iamd.",
            spec.name,
            spec.service.name().to_uppercase()
        ),
    )
}

async fn call<'a, O, F, Fut>(
    ctx: &'a OpContext<'a>,
    format: Format,
    request_id: &str,
    access: Access,
    handler: F,
) -> Result<String, ApiError>
where
    O: Operation,
    F: FnOnce(&'a OpContext<'a>, O::Input) -> Fut,
    Fut: Future<Output = Result<O::Output, ApiError>>,
{
    let input: O::Input =
        decode_input(ctx.params.tree()).map_err(|v| ApiError::validation(v.message()))?;
    let output = handler(ctx, input).await?;
    if access != Access::Public && ctx.checks.load(Ordering::Relaxed) == 0 {
        // A handler that answered without authorizing anything is a bug;
        // refuse rather than answer.
        tracing::error!(operation = O::SPEC.name, "handler authorized nothing");
        return Err(ApiError::internal());
    }
    Ok(match format {
        Format::Query => xml_response(O::SPEC, request_id, &output),
        Format::Json => json_response(&output),
    })
}
