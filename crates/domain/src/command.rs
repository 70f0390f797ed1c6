//! Commands: one variant per IAM change, as the server hands them to
//! [`crate::decide()`].
//!
//! A command carries every non-deterministic input already decided by the
//! shell: generated unique ids and access key ids, the request time `now`,
//! the sealed secret, the password hash. That is what keeps `decide` pure and
//! replayable. Names, paths and ARNs are already-validated newtypes; policy
//! documents are the JSON text as submitted, validated by `decide`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::arn::Arn;
use crate::ids::{
    AccessKeyId, AccountId, GroupId, InstanceProfileId, PolicyId, PolicyVersionId, RoleId,
    ServerCertificateId, UserId,
};
use crate::names::{
    AccountAlias, Description, GroupName, IamPath, InlinePolicyName, InstanceProfileName,
    MfaDeviceName, OidcProviderUrl, PolicyName, RoleName, SamlProviderName, ServerCertificateName,
    Tag, TagKey, UserName,
};
use crate::password_policy::PasswordPolicy;
use crate::secrets::{PasswordHash, SealedSecret};
use crate::state::{
    AccessKeyStatus, Accessor, CredentialOwner, GlobalEndpointTokenVersion, ReportGranularity,
};

/// One use of a service by a user or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccessRecord {
    pub accessor: Accessor,
    /// The service namespace (`iam`, `s3`).
    pub service: String,
    /// The action without its namespace (`GetUser`).
    pub action: String,
    pub region: Option<String>,
    pub at: DateTime<Utc>,
}

/// A request to change one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[allow(missing_docs)] // field names mirror the AWS API parameters
pub enum Command {
    /// Creates the account and its root user (the stream's first event).
    CreateAccount {
        account_id: AccountId,
        now: DateTime<Utc>,
    },

    CreateUser {
        user_name: UserName,
        path: Option<IamPath>,
        user_id: UserId,
        permissions_boundary: Option<Arn>,
        tags: Vec<Tag>,
        now: DateTime<Utc>,
    },
    /// Renames and/or moves a user.
    UpdateUser {
        user_name: UserName,
        new_user_name: Option<UserName>,
        new_path: Option<IamPath>,
    },
    DeleteUser {
        user_name: UserName,
    },

    CreateGroup {
        group_name: GroupName,
        path: Option<IamPath>,
        group_id: GroupId,
        now: DateTime<Utc>,
    },
    /// Renames and/or moves a group.
    UpdateGroup {
        group_name: GroupName,
        new_group_name: Option<GroupName>,
        new_path: Option<IamPath>,
    },
    DeleteGroup {
        group_name: GroupName,
    },
    AddUserToGroup {
        group_name: GroupName,
        user_name: UserName,
    },
    RemoveUserFromGroup {
        group_name: GroupName,
        user_name: UserName,
    },

    CreateRole {
        role_name: RoleName,
        path: Option<IamPath>,
        role_id: RoleId,
        assume_role_policy_document: String,
        description: Option<Description>,
        /// Seconds, 3600..=43200; `None` = 3600.
        max_session_duration: Option<u32>,
        permissions_boundary: Option<Arn>,
        tags: Vec<Tag>,
        now: DateTime<Utc>,
    },
    /// Sets the description and/or the maximum session duration.
    UpdateRole {
        role_name: RoleName,
        description: Option<Description>,
        max_session_duration: Option<u32>,
    },
    UpdateAssumeRolePolicy {
        role_name: RoleName,
        policy_document: String,
    },
    UpdateRoleDescription {
        role_name: RoleName,
        description: Description,
    },
    DeleteRole {
        role_name: RoleName,
    },
    /// `role_name` was derived from the service (and suffix) by the shell
    /// with [`crate::service_linked::role_name`].
    CreateServiceLinkedRole {
        service: String,
        role_name: RoleName,
        role_id: RoleId,
        description: Option<Description>,
        now: DateTime<Utc>,
    },
    DeleteServiceLinkedRole {
        role_name: RoleName,
        /// `task/aws-service-role/SERVICE/ROLE/UUID`, made by the shell.
        deletion_task_id: String,
    },

    CreatePolicy {
        policy_name: PolicyName,
        path: Option<IamPath>,
        policy_id: PolicyId,
        policy_document: String,
        description: Option<Description>,
        tags: Vec<Tag>,
        now: DateTime<Utc>,
    },
    DeletePolicy {
        policy_arn: Arn,
    },
    CreatePolicyVersion {
        policy_arn: Arn,
        policy_document: String,
        set_as_default: bool,
        now: DateTime<Utc>,
    },
    DeletePolicyVersion {
        policy_arn: Arn,
        version_id: PolicyVersionId,
    },
    SetDefaultPolicyVersion {
        policy_arn: Arn,
        version_id: PolicyVersionId,
        now: DateTime<Utc>,
    },

    AttachUserPolicy {
        user_name: UserName,
        policy_arn: Arn,
    },
    DetachUserPolicy {
        user_name: UserName,
        policy_arn: Arn,
    },
    AttachGroupPolicy {
        group_name: GroupName,
        policy_arn: Arn,
    },
    DetachGroupPolicy {
        group_name: GroupName,
        policy_arn: Arn,
    },
    AttachRolePolicy {
        role_name: RoleName,
        policy_arn: Arn,
    },
    DetachRolePolicy {
        role_name: RoleName,
        policy_arn: Arn,
    },

    PutUserPolicy {
        user_name: UserName,
        policy_name: InlinePolicyName,
        policy_document: String,
    },
    DeleteUserPolicy {
        user_name: UserName,
        policy_name: InlinePolicyName,
    },
    PutGroupPolicy {
        group_name: GroupName,
        policy_name: InlinePolicyName,
        policy_document: String,
    },
    DeleteGroupPolicy {
        group_name: GroupName,
        policy_name: InlinePolicyName,
    },
    PutRolePolicy {
        role_name: RoleName,
        policy_name: InlinePolicyName,
        policy_document: String,
    },
    DeleteRolePolicy {
        role_name: RoleName,
        policy_name: InlinePolicyName,
    },

    PutUserPermissionsBoundary {
        user_name: UserName,
        permissions_boundary: Arn,
    },
    DeleteUserPermissionsBoundary {
        user_name: UserName,
    },
    PutRolePermissionsBoundary {
        role_name: RoleName,
        permissions_boundary: Arn,
    },
    DeleteRolePermissionsBoundary {
        role_name: RoleName,
    },

    TagUser {
        user_name: UserName,
        tags: Vec<Tag>,
    },
    UntagUser {
        user_name: UserName,
        tag_keys: Vec<TagKey>,
    },
    TagRole {
        role_name: RoleName,
        tags: Vec<Tag>,
    },
    UntagRole {
        role_name: RoleName,
        tag_keys: Vec<TagKey>,
    },
    TagPolicy {
        policy_arn: Arn,
        tags: Vec<Tag>,
    },
    UntagPolicy {
        policy_arn: Arn,
        tag_keys: Vec<TagKey>,
    },

    /// `owner` is resolved by the shell (AWS: the caller when `UserName` is omitted).
    CreateAccessKey {
        owner: CredentialOwner,
        access_key_id: AccessKeyId,
        secret: SealedSecret,
        now: DateTime<Utc>,
    },
    UpdateAccessKey {
        owner: CredentialOwner,
        access_key_id: AccessKeyId,
        status: AccessKeyStatus,
    },
    DeleteAccessKey {
        owner: CredentialOwner,
        access_key_id: AccessKeyId,
    },
    /// Records a successful authentication with the key (GetAccessKeyLastUsed).
    RecordAccessKeyUse {
        access_key_id: AccessKeyId,
        used_at: DateTime<Utc>,
        service_name: String,
        region: String,
    },

    /// Records that an authenticated request was refused (the audit
    /// trail's `AccessDenied`): it changes no state. The shell coalesces
    /// repeats before they get here; `suppressed` counts the refusals it
    /// folded into this one.
    RecordAccessDenied {
        /// `iam:CreateUser`, `iamd:Authorize`, ...
        action: String,
        /// The resource the request was refused on.
        target: String,
        suppressed: u64,
        at: DateTime<Utc>,
    },

    /// The shell checked the plaintext with `check_password` and hashed it.
    CreateLoginProfile {
        user_name: UserName,
        password_hash: PasswordHash,
        password_reset_required: bool,
        now: DateTime<Utc>,
    },
    UpdateLoginProfile {
        user_name: UserName,
        password_hash: Option<PasswordHash>,
        password_reset_required: Option<bool>,
        now: DateTime<Utc>,
    },
    DeleteLoginProfile {
        user_name: UserName,
    },

    CreateVirtualMfaDevice {
        device_name: MfaDeviceName,
        path: Option<IamPath>,
        tags: Vec<Tag>,
        /// The base32 TOTP seed, sealed by the shell with the serial number as AAD.
        seed: SealedSecret,
        now: DateTime<Utc>,
    },
    /// The shell verified the two consecutive TOTP codes against the seed.
    EnableMfaDevice {
        owner: CredentialOwner,
        serial_number: Arn,
        now: DateTime<Utc>,
        /// The counter of the second code (none from older callers).
        counter: Option<u64>,
    },
    DeactivateMfaDevice {
        owner: CredentialOwner,
        serial_number: Arn,
    },
    DeleteVirtualMfaDevice {
        serial_number: Arn,
    },
    TagMfaDevice {
        serial_number: Arn,
        tags: Vec<Tag>,
    },
    UntagMfaDevice {
        serial_number: Arn,
        tag_keys: Vec<TagKey>,
    },
    /// The shell verified two consecutive codes of the owner's device, the
    /// second for `counter`.
    ResyncMfaDevice {
        owner: CredentialOwner,
        serial_number: Arn,
        counter: u64,
    },

    /// The shell parsed the key: `body` in OpenSSH form, its fingerprint.
    UploadSshPublicKey {
        user_name: UserName,
        ssh_public_key_id: String,
        body: String,
        fingerprint: String,
        now: DateTime<Utc>,
    },
    UpdateSshPublicKey {
        user_name: UserName,
        ssh_public_key_id: String,
        status: AccessKeyStatus,
    },
    DeleteSshPublicKey {
        user_name: UserName,
        ssh_public_key_id: String,
    },

    /// The shell generated the id, the service user name or alias, and
    /// sealed the secret; `decide` checks the service and the quota.
    CreateServiceSpecificCredential {
        user_name: UserName,
        service_name: String,
        service_specific_credential_id: String,
        service_user_name: Option<String>,
        service_credential_alias: Option<String>,
        secret: SealedSecret,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    },
    ResetServiceSpecificCredential {
        user_name: UserName,
        service_specific_credential_id: String,
        secret: SealedSecret,
    },
    UpdateServiceSpecificCredential {
        user_name: UserName,
        service_specific_credential_id: String,
        status: AccessKeyStatus,
    },
    DeleteServiceSpecificCredential {
        user_name: UserName,
        service_specific_credential_id: String,
    },

    /// The shell parsed the certificate and checked its validity period.
    UploadSigningCertificate {
        owner: CredentialOwner,
        certificate_id: String,
        body: String,
        now: DateTime<Utc>,
    },
    UpdateSigningCertificate {
        owner: CredentialOwner,
        certificate_id: String,
        status: AccessKeyStatus,
    },
    DeleteSigningCertificate {
        owner: CredentialOwner,
        certificate_id: String,
    },

    /// The shell parsed the certificate and chain, matched the key to the
    /// certificate and sealed it.
    UploadServerCertificate {
        server_certificate_name: ServerCertificateName,
        path: Option<IamPath>,
        server_certificate_id: ServerCertificateId,
        body: String,
        chain: Option<String>,
        private_key: SealedSecret,
        expiration: DateTime<Utc>,
        tags: Vec<Tag>,
        now: DateTime<Utc>,
    },
    UpdateServerCertificate {
        server_certificate_name: ServerCertificateName,
        new_server_certificate_name: Option<ServerCertificateName>,
        new_path: Option<IamPath>,
    },
    DeleteServerCertificate {
        server_certificate_name: ServerCertificateName,
    },
    TagServerCertificate {
        server_certificate_name: ServerCertificateName,
        tags: Vec<Tag>,
    },
    UntagServerCertificate {
        server_certificate_name: ServerCertificateName,
        tag_keys: Vec<TagKey>,
    },

    /// Uses of services the shell saw (calls to iamd's AWS APIs, `/v1`
    /// decisions), for the access advisor. Entities that no longer exist
    /// are skipped; nothing is recorded when nothing is newer.
    RecordServiceAccess {
        accesses: Vec<ServiceAccessRecord>,
    },
    /// `log_position` is the view the report is of.
    GenerateServiceLastAccessedDetails {
        job_id: String,
        arn: String,
        granularity: ReportGranularity,
        log_position: u64,
        requester: String,
        now: DateTime<Utc>,
    },

    /// The shell parsed the metadata (`valid_until` is its `validUntil`).
    CreateSamlProvider {
        name: SamlProviderName,
        uuid: String,
        metadata_document: String,
        valid_until: Option<DateTime<Utc>>,
        tags: Vec<Tag>,
        now: DateTime<Utc>,
    },
    UpdateSamlProvider {
        name: SamlProviderName,
        metadata_document: String,
        valid_until: Option<DateTime<Utc>>,
    },
    DeleteSamlProvider {
        name: SamlProviderName,
    },
    TagSamlProvider {
        name: SamlProviderName,
        tags: Vec<Tag>,
    },
    UntagSamlProvider {
        name: SamlProviderName,
        tag_keys: Vec<TagKey>,
    },

    CreateInstanceProfile {
        instance_profile_name: InstanceProfileName,
        path: Option<IamPath>,
        instance_profile_id: InstanceProfileId,
        tags: Vec<Tag>,
        now: DateTime<Utc>,
    },
    DeleteInstanceProfile {
        instance_profile_name: InstanceProfileName,
    },
    AddRoleToInstanceProfile {
        instance_profile_name: InstanceProfileName,
        role_name: RoleName,
    },
    RemoveRoleFromInstanceProfile {
        instance_profile_name: InstanceProfileName,
        role_name: RoleName,
    },
    TagInstanceProfile {
        instance_profile_name: InstanceProfileName,
        tags: Vec<Tag>,
    },
    UntagInstanceProfile {
        instance_profile_name: InstanceProfileName,
        tag_keys: Vec<TagKey>,
    },

    CreateOpenIdConnectProvider {
        url: OidcProviderUrl,
        client_ids: Vec<String>,
        thumbprints: Vec<String>,
        tags: Vec<Tag>,
        now: DateTime<Utc>,
    },
    DeleteOpenIdConnectProvider {
        url: OidcProviderUrl,
    },
    AddClientIdToOpenIdConnectProvider {
        url: OidcProviderUrl,
        client_id: String,
    },
    RemoveClientIdFromOpenIdConnectProvider {
        url: OidcProviderUrl,
        client_id: String,
    },
    UpdateOpenIdConnectProviderThumbprint {
        url: OidcProviderUrl,
        thumbprints: Vec<String>,
    },
    TagOpenIdConnectProvider {
        url: OidcProviderUrl,
        tags: Vec<Tag>,
    },
    UntagOpenIdConnectProvider {
        url: OidcProviderUrl,
        tag_keys: Vec<TagKey>,
    },

    /// An `iamd serve` holds one account, so an alias is unique on the
    /// server by construction (AWS's are unique across AWS).
    CreateAccountAlias {
        account_alias: AccountAlias,
    },
    DeleteAccountAlias {
        account_alias: AccountAlias,
    },
    SetSecurityTokenServicePreferences {
        global_endpoint_token_version: GlobalEndpointTokenVersion,
    },

    UpdateAccountPasswordPolicy {
        policy: PasswordPolicy,
    },
    DeleteAccountPasswordPolicy,

    /// Records issued temporary credentials. The shell authenticated the
    /// caller and evaluated the trust policy; `decide` refuses an MFA code
    /// whose counter its device has already accepted (on any node).
    RecordTemporaryCredentials(Box<crate::event::IssuedCredentials>),
    /// Records a refused sign-in.
    RecordSignInFailure {
        user_name: String,
        reason: String,
        source_ip: Option<String>,
        suppressed: u64,
        at: DateTime<Utc>,
    },

    /// `log_position`: the log position the node's view is at, which the
    /// report is the view of.
    GenerateCredentialReport {
        now: DateTime<Utc>,
        log_position: u64,
    },
}

impl Command {
    /// The command's variant name (`CreateUser`), for messages: read off
    /// its `Debug` form, so the names are not spelled a second time.
    pub fn variant_name(&self) -> String {
        let debug = format!("{self:?}");
        debug
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}
