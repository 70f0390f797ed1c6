//! Events: the past-tense facts `decide` emits and `evolve` applies, and their
//! stable stored form.
//!
//! Stored form: an event type string ([`Event::event_type`]), a schema version
//! ([`SCHEMA_VERSION`]) and a JSON payload ([`Event::to_payload`]) whose field
//! names are part of the storage contract and never change meaning. Every
//! payload carries `account_id`, so a projection can route an event without
//! knowing its stream (`account-<ID>`). Older payloads are brought forward by
//! [`Event::from_stored`]'s upcasters.
//!
//! Nothing secret appears here: access-key secrets and MFA seeds only as
//! [`SealedSecret`], passwords only as argon2id [`PasswordHash`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::arn::Arn;
use crate::command::ServiceAccessRecord;
use crate::ids::{
    AccessKeyId, AccountId, GroupId, InstanceProfileId, PolicyId, PolicyVersionId, RoleId,
    ServerCertificateId, UserId,
};
use crate::names::{
    AccountAlias, Description, GroupName, IamPath, InlinePolicyName, InstanceProfileName,
    OidcProviderUrl, PolicyName, RoleName, SamlProviderName, ServerCertificateName, Tag, TagKey,
    UserName,
};
use crate::password_policy::PasswordPolicy;
use crate::secrets::{PasswordHash, SealedSecret};
use crate::state::{
    AccessKeyStatus, CredentialOwner, EntityRef, GlobalEndpointTokenVersion, ReportGranularity,
};

/// The payload schema version this build writes.
///
/// History: **1** — `RoleCreated` had no `max_session_duration` nor
/// `description`, and `AccessKeyCreated` named its owner by `user_name` (root
/// keys did not exist). **2** — current.
pub const SCHEMA_VERSION: u32 = 2;

/// One fact about one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The account whose stream (`account-<ID>`) the event belongs to.
    pub account_id: AccountId,
    /// What happened.
    #[serde(flatten)]
    pub data: EventData,
}

/// What happened. The variant name is the stored event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[allow(missing_docs)] // field names are the stored payload's
pub enum EventData {
    AccountCreated {
        created_at: DateTime<Utc>,
    },

    UserCreated {
        user_name: UserName,
        user_id: UserId,
        path: IamPath,
        permissions_boundary: Option<Arn>,
        tags: Vec<Tag>,
        created_at: DateTime<Utc>,
    },
    UserUpdated {
        user_name: UserName,
        new_user_name: Option<UserName>,
        new_path: Option<IamPath>,
    },
    UserDeleted {
        user_name: UserName,
        user_id: UserId,
    },

    GroupCreated {
        group_name: GroupName,
        group_id: GroupId,
        path: IamPath,
        created_at: DateTime<Utc>,
    },
    GroupUpdated {
        group_name: GroupName,
        new_group_name: Option<GroupName>,
        new_path: Option<IamPath>,
    },
    GroupDeleted {
        group_name: GroupName,
        group_id: GroupId,
    },
    UserAddedToGroup {
        group_name: GroupName,
        user_name: UserName,
    },
    UserRemovedFromGroup {
        group_name: GroupName,
        user_name: UserName,
    },

    RoleCreated {
        role_name: RoleName,
        role_id: RoleId,
        path: IamPath,
        assume_role_policy_document: String,
        description: Option<Description>,
        max_session_duration: u32,
        permissions_boundary: Option<Arn>,
        tags: Vec<Tag>,
        created_at: DateTime<Utc>,
        /// The unique id of each user and role of the account the trust
        /// policy names, by the ARN it names it with, as they were when it
        /// was saved (`crate::state::Role::trusted_ids`).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        trusted_ids: BTreeMap<String, String>,
        /// Created by `CreateServiceLinkedRole`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        service_linked: bool,
    },
    RoleUpdated {
        role_name: RoleName,
        description: Option<Description>,
        max_session_duration: Option<u32>,
    },
    RoleTrustPolicyUpdated {
        role_name: RoleName,
        policy_document: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        trusted_ids: BTreeMap<String, String>,
    },
    RoleDescriptionUpdated {
        role_name: RoleName,
        description: Description,
    },
    RoleDeleted {
        role_name: RoleName,
        role_id: RoleId,
    },
    /// A service-linked role was deleted by `DeleteServiceLinkedRole`,
    /// under this deletion task (`GetServiceLinkedRoleDeletionStatus`).
    ServiceLinkedRoleDeleted {
        role_name: RoleName,
        role_id: RoleId,
        deletion_task_id: String,
    },

    /// Creates the policy with version `v1` as its default.
    PolicyCreated {
        policy_name: PolicyName,
        policy_id: PolicyId,
        path: IamPath,
        description: Option<Description>,
        policy_document: String,
        tags: Vec<Tag>,
        created_at: DateTime<Utc>,
    },
    PolicyDeleted {
        policy_name: PolicyName,
        policy_id: PolicyId,
    },
    PolicyVersionCreated {
        policy_name: PolicyName,
        version_id: PolicyVersionId,
        policy_document: String,
        set_as_default: bool,
        created_at: DateTime<Utc>,
    },
    PolicyVersionDeleted {
        policy_name: PolicyName,
        version_id: PolicyVersionId,
    },
    PolicyDefaultVersionSet {
        policy_name: PolicyName,
        version_id: PolicyVersionId,
        updated_at: DateTime<Utc>,
    },

    ManagedPolicyAttached {
        target: EntityRef,
        policy_arn: Arn,
    },
    ManagedPolicyDetached {
        target: EntityRef,
        policy_arn: Arn,
    },
    InlinePolicyPut {
        target: EntityRef,
        policy_name: InlinePolicyName,
        policy_document: String,
    },
    InlinePolicyDeleted {
        target: EntityRef,
        policy_name: InlinePolicyName,
    },
    PermissionsBoundarySet {
        target: EntityRef,
        permissions_boundary: Arn,
    },
    PermissionsBoundaryDeleted {
        target: EntityRef,
    },
    EntityTagged {
        target: EntityRef,
        tags: Vec<Tag>,
    },
    EntityUntagged {
        target: EntityRef,
        tag_keys: Vec<TagKey>,
    },

    AccessKeyCreated {
        owner: CredentialOwner,
        access_key_id: AccessKeyId,
        secret: SealedSecret,
        created_at: DateTime<Utc>,
    },
    AccessKeyStatusUpdated {
        owner: CredentialOwner,
        access_key_id: AccessKeyId,
        status: AccessKeyStatus,
    },
    AccessKeyDeleted {
        owner: CredentialOwner,
        access_key_id: AccessKeyId,
    },
    AccessKeyUsed {
        access_key_id: AccessKeyId,
        used_at: DateTime<Utc>,
        service_name: String,
        region: String,
    },
    /// An authenticated request was refused; no state changes. Who asked is
    /// the event's metadata.
    AccessDenied {
        action: String,
        target: String,
        /// Refusals of the same caller folded into this record.
        #[serde(default)]
        suppressed: u64,
        at: DateTime<Utc>,
    },

    LoginProfileCreated {
        user_name: UserName,
        password_hash: PasswordHash,
        password_reset_required: bool,
        created_at: DateTime<Utc>,
    },
    LoginProfileUpdated {
        user_name: UserName,
        password_hash: Option<PasswordHash>,
        password_reset_required: Option<bool>,
        /// When a new password was set (older events: unknown).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        changed_at: Option<DateTime<Utc>>,
    },
    LoginProfileDeleted {
        user_name: UserName,
    },

    VirtualMfaDeviceCreated {
        serial_number: Arn,
        seed: SealedSecret,
        created_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<Tag>,
    },
    MfaDeviceEnabled {
        owner: CredentialOwner,
        serial_number: Arn,
        enabled_at: DateTime<Utc>,
        /// The TOTP counter of the second code that enabled it: that code
        /// and every earlier one are spent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counter: Option<u64>,
    },
    MfaDeviceDeactivated {
        owner: CredentialOwner,
        serial_number: Arn,
    },
    /// A device's clock drift was taken up: codes up to `counter` are spent.
    MfaDeviceResynced {
        serial_number: Arn,
        counter: u64,
    },
    VirtualMfaDeviceDeleted {
        serial_number: Arn,
    },

    SshPublicKeyUploaded {
        user_name: UserName,
        ssh_public_key_id: String,
        body: String,
        fingerprint: String,
        uploaded_at: DateTime<Utc>,
    },
    SshPublicKeyStatusUpdated {
        user_name: UserName,
        ssh_public_key_id: String,
        status: AccessKeyStatus,
    },
    SshPublicKeyDeleted {
        user_name: UserName,
        ssh_public_key_id: String,
    },

    ServiceSpecificCredentialCreated {
        user_name: UserName,
        service_name: String,
        service_specific_credential_id: String,
        service_user_name: Option<String>,
        service_credential_alias: Option<String>,
        secret: SealedSecret,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    },
    ServiceSpecificCredentialReset {
        user_name: UserName,
        service_specific_credential_id: String,
        secret: SealedSecret,
    },
    ServiceSpecificCredentialStatusUpdated {
        user_name: UserName,
        service_specific_credential_id: String,
        status: AccessKeyStatus,
    },
    ServiceSpecificCredentialDeleted {
        user_name: UserName,
        service_specific_credential_id: String,
    },

    SigningCertificateUploaded {
        owner: CredentialOwner,
        certificate_id: String,
        body: String,
        uploaded_at: DateTime<Utc>,
    },
    SigningCertificateStatusUpdated {
        owner: CredentialOwner,
        certificate_id: String,
        status: AccessKeyStatus,
    },
    SigningCertificateDeleted {
        owner: CredentialOwner,
        certificate_id: String,
    },

    ServerCertificateUploaded {
        server_certificate_name: ServerCertificateName,
        server_certificate_id: ServerCertificateId,
        path: IamPath,
        body: String,
        chain: Option<String>,
        private_key: SealedSecret,
        expiration: DateTime<Utc>,
        tags: Vec<Tag>,
        uploaded_at: DateTime<Utc>,
    },
    /// Renamed, moved, or both (each field the new value, or `None`).
    ServerCertificateUpdated {
        server_certificate_name: ServerCertificateName,
        new_server_certificate_name: Option<ServerCertificateName>,
        new_path: Option<IamPath>,
    },
    ServerCertificateDeleted {
        server_certificate_name: ServerCertificateName,
        server_certificate_id: ServerCertificateId,
    },

    /// Uses of services the node saw (access advisor), recorded coarsely.
    ServiceAccessed {
        accesses: Vec<ServiceAccessRecord>,
    },
    ServiceLastAccessedReportRequested {
        job_id: String,
        arn: String,
        granularity: ReportGranularity,
        log_position: u64,
        requester: String,
        created_at: DateTime<Utc>,
    },

    SamlProviderCreated {
        name: SamlProviderName,
        uuid: String,
        metadata_document: String,
        valid_until: Option<DateTime<Utc>>,
        tags: Vec<Tag>,
        created_at: DateTime<Utc>,
    },
    SamlProviderUpdated {
        name: SamlProviderName,
        metadata_document: String,
        valid_until: Option<DateTime<Utc>>,
    },
    SamlProviderDeleted {
        name: SamlProviderName,
    },

    InstanceProfileCreated {
        instance_profile_name: InstanceProfileName,
        instance_profile_id: InstanceProfileId,
        path: IamPath,
        tags: Vec<Tag>,
        created_at: DateTime<Utc>,
    },
    InstanceProfileDeleted {
        instance_profile_name: InstanceProfileName,
        instance_profile_id: InstanceProfileId,
    },
    RoleAddedToInstanceProfile {
        instance_profile_name: InstanceProfileName,
        role_name: RoleName,
    },
    RoleRemovedFromInstanceProfile {
        instance_profile_name: InstanceProfileName,
        role_name: RoleName,
    },

    OidcProviderCreated {
        url: OidcProviderUrl,
        client_ids: Vec<String>,
        thumbprints: Vec<String>,
        tags: Vec<Tag>,
        created_at: DateTime<Utc>,
    },
    OidcProviderDeleted {
        url: OidcProviderUrl,
    },
    OidcProviderClientIdAdded {
        url: OidcProviderUrl,
        client_id: String,
    },
    OidcProviderClientIdRemoved {
        url: OidcProviderUrl,
        client_id: String,
    },
    OidcProviderThumbprintsUpdated {
        url: OidcProviderUrl,
        thumbprints: Vec<String>,
    },

    AccountAliasCreated {
        account_alias: AccountAlias,
    },
    AccountAliasDeleted {
        account_alias: AccountAlias,
    },
    SecurityTokenServicePreferencesSet {
        global_endpoint_token_version: GlobalEndpointTokenVersion,
    },

    PasswordPolicyUpdated {
        policy: PasswordPolicy,
    },
    PasswordPolicyDeleted {},

    /// A credential report was generated: it is the account's view at
    /// `log_position` (the log position the generating node had reached),
    /// so every node serves the same report.
    CredentialReportGenerated {
        generated_at: DateTime<Utc>,
        log_position: u64,
    },

    /// Temporary credentials were issued (`AssumeRole`, `GetSessionToken`,
    /// a sign-in...). Who asked is the event's metadata; the secret and the
    /// session token are never recorded, only what they grant.
    TemporaryCredentialsIssued(Box<IssuedCredentials>),
    /// A sign-in with a password was refused. Who tried is named as they
    /// gave it (the user may not exist); why is iamd's reason, which the
    /// caller is never told.
    SignInFailed {
        user_name: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_ip: Option<String>,
        /// Refusals of the same name during a back-off folded into this one.
        #[serde(default, skip_serializing_if = "is_zero")]
        suppressed: u64,
        at: DateTime<Utc>,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a set of temporary credentials grants, as the trail records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredentials {
    /// `ASIA…`: the key id requests signed with them carry.
    pub access_key_id: String,
    /// The STS operation (or `SignIn`) that issued them.
    pub issued_by: String,
    /// Whom they act as: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
    /// a user's or the root user's ARN, or a federated user's.
    pub principal_arn: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// The MFA code that authenticated the request, by the device and the
    /// TOTP counter it belongs to: a counter is accepted once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaCodeUse>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// The inline session policy, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The web identity they were issued for
    /// (`AssumeRoleWithWebIdentity`): which provider vouched for whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_identity: Option<WebIdentity>,
}

/// A verified ID token, as the trail records it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebIdentity {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub provider_arn: String,
    /// The token's `sub`.
    pub subject: String,
    /// The client id it was issued to (`azp` when present, else `aud`).
    pub audience: String,
}

/// One accepted MFA code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaCodeUse {
    pub serial_number: Arn,
    /// The RFC 6238 time-step counter the code was computed for.
    pub counter: u64,
}

/// Why a stored event could not be turned back into an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    /// The schema version is newer than this build or not a known one.
    #[error("event {event_type}: unsupported schema version {version}")]
    UnsupportedVersion {
        /// The stored type.
        event_type: String,
        /// The stored version.
        version: u32,
    },
    /// The payload does not fit the (upcast) schema.
    #[error("event {event_type}: malformed payload: {message}")]
    Malformed {
        /// The stored type.
        event_type: String,
        /// What serde said.
        message: String,
    },
}

impl Event {
    /// The stored event type, e.g. `"UserCreated"` (the variant name).
    pub fn event_type(&self) -> &'static str {
        self.data.event_type()
    }

    /// The stream this event is appended to: `account-<ID>`.
    pub fn stream_name(&self) -> String {
        self.account_id.stream_name()
    }

    /// The JSON payload to store beside [`Event::event_type`] and
    /// [`SCHEMA_VERSION`]: the event's fields plus `account_id`, without the
    /// type tag.
    pub fn to_payload(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("events always serialize");
        if let Value::Object(m) = &mut v {
            m.remove("type");
        }
        v
    }

    /// Rebuilds an event from its stored form, upcasting payloads written
    /// under an older schema version.
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: &Value,
    ) -> Result<Event, UpcastError> {
        Event::from_stored_owned(event_type, schema_version, payload.clone())
    }

    /// [`Event::from_stored`] taking the payload by value, so replaying a
    /// log does not copy every payload once more.
    pub fn from_stored_owned(
        event_type: &str,
        schema_version: u32,
        payload: Value,
    ) -> Result<Event, UpcastError> {
        let malformed = |message: String| UpcastError::Malformed {
            event_type: event_type.to_owned(),
            message,
        };
        if schema_version == 0 || schema_version > SCHEMA_VERSION {
            return Err(UpcastError::UnsupportedVersion {
                event_type: event_type.to_owned(),
                version: schema_version,
            });
        }
        let Value::Object(mut obj) = payload else {
            return Err(malformed("payload is not a JSON object".into()));
        };
        let mut version = schema_version;
        while version < SCHEMA_VERSION {
            match version {
                1 => upcast_v1_to_v2(event_type, &mut obj).map_err(malformed)?,
                _ => {
                    return Err(malformed(format!(
                        "no upcaster from schema version {version}"
                    )));
                }
            }
            version += 1;
        }
        // Deserialize the account id and the data separately: going through
        // `Event`'s `#[serde(flatten)]` would buffer the payload twice.
        let account_id = obj
            .remove("account_id")
            .ok_or_else(|| malformed("missing field `account_id`".into()))?;
        let account_id: AccountId =
            serde_json::from_value(account_id).map_err(|e| malformed(e.to_string()))?;
        obj.insert("type".into(), Value::String(event_type.to_owned()));
        let data: EventData =
            serde_json::from_value(Value::Object(obj)).map_err(|e| malformed(e.to_string()))?;
        Ok(Event { account_id, data })
    }
}

/// Version 1 → 2: `RoleCreated` gains `max_session_duration` (AWS's default,
/// 3600 s) and `description` (none); `AccessKeyCreated` and the other access
/// key events replace `user_name` by an `owner` object.
fn upcast_v1_to_v2(event_type: &str, obj: &mut Map<String, Value>) -> Result<(), String> {
    match event_type {
        "RoleCreated" => {
            obj.entry("max_session_duration")
                .or_insert(Value::from(3600));
            obj.entry("description").or_insert(Value::Null);
        }
        "AccessKeyCreated" | "AccessKeyStatusUpdated" | "AccessKeyDeleted" => {
            let user = obj
                .remove("user_name")
                .ok_or("v1 access key event without user_name")?;
            let mut owner = Map::new();
            owner.insert("kind".into(), Value::from("user"));
            owner.insert("user_name".into(), user);
            obj.insert("owner".into(), Value::Object(owner));
        }
        _ => {}
    }
    Ok(())
}

impl EventData {
    /// The variant name, which is the stored event type.
    pub fn event_type(&self) -> &'static str {
        use EventData::*;
        match self {
            AccountCreated { .. } => "AccountCreated",
            UserCreated { .. } => "UserCreated",
            UserUpdated { .. } => "UserUpdated",
            UserDeleted { .. } => "UserDeleted",
            GroupCreated { .. } => "GroupCreated",
            GroupUpdated { .. } => "GroupUpdated",
            GroupDeleted { .. } => "GroupDeleted",
            UserAddedToGroup { .. } => "UserAddedToGroup",
            UserRemovedFromGroup { .. } => "UserRemovedFromGroup",
            RoleCreated { .. } => "RoleCreated",
            RoleUpdated { .. } => "RoleUpdated",
            RoleTrustPolicyUpdated { .. } => "RoleTrustPolicyUpdated",
            RoleDescriptionUpdated { .. } => "RoleDescriptionUpdated",
            RoleDeleted { .. } => "RoleDeleted",
            ServiceLinkedRoleDeleted { .. } => "ServiceLinkedRoleDeleted",
            PolicyCreated { .. } => "PolicyCreated",
            PolicyDeleted { .. } => "PolicyDeleted",
            PolicyVersionCreated { .. } => "PolicyVersionCreated",
            PolicyVersionDeleted { .. } => "PolicyVersionDeleted",
            PolicyDefaultVersionSet { .. } => "PolicyDefaultVersionSet",
            ManagedPolicyAttached { .. } => "ManagedPolicyAttached",
            ManagedPolicyDetached { .. } => "ManagedPolicyDetached",
            InlinePolicyPut { .. } => "InlinePolicyPut",
            InlinePolicyDeleted { .. } => "InlinePolicyDeleted",
            PermissionsBoundarySet { .. } => "PermissionsBoundarySet",
            PermissionsBoundaryDeleted { .. } => "PermissionsBoundaryDeleted",
            EntityTagged { .. } => "EntityTagged",
            EntityUntagged { .. } => "EntityUntagged",
            AccessKeyCreated { .. } => "AccessKeyCreated",
            AccessKeyStatusUpdated { .. } => "AccessKeyStatusUpdated",
            AccessKeyDeleted { .. } => "AccessKeyDeleted",
            AccessKeyUsed { .. } => "AccessKeyUsed",
            AccessDenied { .. } => "AccessDenied",
            LoginProfileCreated { .. } => "LoginProfileCreated",
            LoginProfileUpdated { .. } => "LoginProfileUpdated",
            LoginProfileDeleted { .. } => "LoginProfileDeleted",
            VirtualMfaDeviceCreated { .. } => "VirtualMfaDeviceCreated",
            MfaDeviceEnabled { .. } => "MfaDeviceEnabled",
            MfaDeviceDeactivated { .. } => "MfaDeviceDeactivated",
            VirtualMfaDeviceDeleted { .. } => "VirtualMfaDeviceDeleted",
            MfaDeviceResynced { .. } => "MfaDeviceResynced",
            SshPublicKeyUploaded { .. } => "SshPublicKeyUploaded",
            SshPublicKeyStatusUpdated { .. } => "SshPublicKeyStatusUpdated",
            SshPublicKeyDeleted { .. } => "SshPublicKeyDeleted",
            ServiceSpecificCredentialCreated { .. } => "ServiceSpecificCredentialCreated",
            ServiceSpecificCredentialReset { .. } => "ServiceSpecificCredentialReset",
            ServiceSpecificCredentialStatusUpdated { .. } => {
                "ServiceSpecificCredentialStatusUpdated"
            }
            ServiceSpecificCredentialDeleted { .. } => "ServiceSpecificCredentialDeleted",
            SigningCertificateUploaded { .. } => "SigningCertificateUploaded",
            SigningCertificateStatusUpdated { .. } => "SigningCertificateStatusUpdated",
            SigningCertificateDeleted { .. } => "SigningCertificateDeleted",
            ServerCertificateUploaded { .. } => "ServerCertificateUploaded",
            ServerCertificateUpdated { .. } => "ServerCertificateUpdated",
            ServerCertificateDeleted { .. } => "ServerCertificateDeleted",
            ServiceAccessed { .. } => "ServiceAccessed",
            ServiceLastAccessedReportRequested { .. } => "ServiceLastAccessedReportRequested",
            SamlProviderCreated { .. } => "SamlProviderCreated",
            SamlProviderUpdated { .. } => "SamlProviderUpdated",
            SamlProviderDeleted { .. } => "SamlProviderDeleted",
            InstanceProfileCreated { .. } => "InstanceProfileCreated",
            InstanceProfileDeleted { .. } => "InstanceProfileDeleted",
            RoleAddedToInstanceProfile { .. } => "RoleAddedToInstanceProfile",
            RoleRemovedFromInstanceProfile { .. } => "RoleRemovedFromInstanceProfile",
            OidcProviderCreated { .. } => "OidcProviderCreated",
            OidcProviderDeleted { .. } => "OidcProviderDeleted",
            OidcProviderClientIdAdded { .. } => "OidcProviderClientIdAdded",
            OidcProviderClientIdRemoved { .. } => "OidcProviderClientIdRemoved",
            OidcProviderThumbprintsUpdated { .. } => "OidcProviderThumbprintsUpdated",
            AccountAliasCreated { .. } => "AccountAliasCreated",
            AccountAliasDeleted { .. } => "AccountAliasDeleted",
            SecurityTokenServicePreferencesSet { .. } => "SecurityTokenServicePreferencesSet",
            PasswordPolicyUpdated { .. } => "PasswordPolicyUpdated",
            PasswordPolicyDeleted { .. } => "PasswordPolicyDeleted",
            CredentialReportGenerated { .. } => "CredentialReportGenerated",
            TemporaryCredentialsIssued(_) => "TemporaryCredentialsIssued",
            SignInFailed { .. } => "SignInFailed",
        }
    }
}
