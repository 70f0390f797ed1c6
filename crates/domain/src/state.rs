//! The state of one account, as `evolve` builds it from events and `decide`
//! reads it to check commands.
//!
//! Every collection is an ordered map or set (the account's entities in
//! persistent [`EntityMap`]s, an entity's own sets in `BTreeMap`/`BTreeSet`)
//! keyed by a case-folded [`NameKey`] (or an id), so iteration order,
//! listings and equality are deterministic, and two entities whose names differ only in case cannot
//! coexist. Cross-references (memberships, attachments) are stored by key on
//! both sides where a projection needs both directions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

use crate::arn::Arn;
use crate::ids::{
    AccessKeyId, AccountId, GroupId, InstanceProfileId, PolicyId, PolicyVersionId, RoleId,
    ServerCertificateId, UserId,
};
use crate::names::{
    AccountAlias, Description, GroupName, IamPath, InlinePolicyName, InstanceProfileName,
    MfaDeviceName, NameKey, OidcProviderUrl, PolicyName, RoleName, SamlProviderName,
    ServerCertificateName, Tag, UserName,
};
use crate::password_policy::PasswordPolicy;
use crate::secrets::{PasswordHash, SealedSecret};

/// The maps of an account's entities: persistent B-trees of shared
/// entities, so cloning a state (which copy-on-write views do on every
/// write while readers hold the previous version) shares structure instead
/// of copying every entity, and a write copies one tree path of pointers
/// plus the one entity it changes. Same ordering, equality and serialized
/// form as `BTreeMap<K, V>`.
pub type EntityMap<K, V> = imbl::OrdMap<K, Shared<V>>;

/// An entity in an [`EntityMap`]: shared between versions of a state and
/// copied on its first change in a version (`DerefMut` is
/// [`Arc::make_mut`]), so a tree node holds pointers, not whole entities.
#[derive(Clone, Eq)]
pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    /// Wraps a new entity.
    pub fn new(value: T) -> Self {
        Shared(Arc::new(value))
    }

    /// Whether two handles hold the very same entity. An entity is copied
    /// on its first change, so one that is still the same allocation in a
    /// later state has not changed since (and, held here, the allocation
    /// cannot be reused by another entity meanwhile).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// Whether an entity looked up now is the very one looked up before,
    /// or is still absent: nothing about it has changed since.
    pub fn unchanged(now: Option<&Self>, then: Option<&Self>) -> bool {
        match (now, then) {
            (Some(a), Some(b)) => Shared::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T: Clone> Shared<T> {
    /// The entity, copied out only if another version still shares it.
    pub fn into_inner(self) -> T {
        Arc::unwrap_or_clone(self.0)
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> std::ops::DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Shared::new)
    }
}

/// Applies `change` to the values of an [`EntityMap`] for which `applies`
/// holds. Only those are touched: a mutable lookup copies its tree path and
/// the entity when another version of the state shares them, so changing
/// every entity in passing would copy the whole account.
pub(crate) fn update_where<K: Ord + Clone, V: Clone>(
    map: &mut EntityMap<K, V>,
    applies: impl Fn(&V) -> bool,
    mut change: impl FnMut(&mut V),
) {
    let keys: Vec<K> = map
        .iter()
        .filter(|(_, v)| applies(v))
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        if let Some(v) = map.get_mut(&k) {
            change(v);
        }
    }
}

/// Keeps the entries for which `keep` holds (an [`EntityMap`] has no `retain`).
pub(crate) fn retain<K: Ord + Clone, V: Clone>(
    map: &mut EntityMap<K, V>,
    mut keep: impl FnMut(&K, &V) -> bool,
) {
    let dropped: Vec<K> = map
        .iter()
        .filter(|(k, v)| !keep(k, v))
        .map(|(k, _)| k.clone())
        .collect();
    for k in dropped {
        map.remove(&k);
    }
}

/// Everything IAM knows about one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    /// The account itself; `None` until `AccountCreated`.
    pub account: Option<Account>,
    /// IAM users by folded name.
    pub users: EntityMap<NameKey, User>,
    /// Groups by folded name.
    pub groups: EntityMap<NameKey, Group>,
    /// Roles by folded name.
    pub roles: EntityMap<NameKey, Role>,
    /// Customer managed policies by folded name.
    pub policies: EntityMap<NameKey, ManagedPolicy>,
    /// Long-term access keys of users and of the root user, by id.
    pub access_keys: EntityMap<AccessKeyId, AccessKey>,
    /// Users' SSH public keys (for CodeCommit-style SSH), by id.
    #[serde(default)]
    pub ssh_public_keys: EntityMap<String, SshPublicKey>,
    /// Users' service-specific credentials (CodeCommit, Keyspaces, Bedrock
    /// and CloudWatch Logs), by id.
    #[serde(default)]
    pub service_specific_credentials: EntityMap<String, ServiceSpecificCredential>,
    /// X.509 signing certificates of users and of the root user, by id.
    #[serde(default)]
    pub signing_certificates: EntityMap<String, SigningCertificate>,
    /// Server certificates by folded name.
    #[serde(default)]
    pub server_certificates: EntityMap<NameKey, ServerCertificate>,
    /// Virtual MFA devices by folded device name.
    pub mfa_devices: EntityMap<NameKey, VirtualMfaDevice>,
    /// Instance profiles by folded name.
    #[serde(default)]
    pub instance_profiles: EntityMap<NameKey, InstanceProfile>,
    /// OpenID Connect identity providers, by URL without its scheme
    /// ([`crate::names::OidcProviderUrl::resource`]).
    #[serde(default)]
    pub oidc_providers: EntityMap<String, OidcProvider>,
    /// SAML identity providers by folded name.
    #[serde(default)]
    pub saml_providers: EntityMap<NameKey, SamlProvider>,
    /// What each user and role was last seen using, by service (access
    /// advisor), keyed by [`Accessor::key`].
    #[serde(default)]
    pub service_access: EntityMap<String, ServiceAccessLog>,
    /// Access advisor reports asked for (`GenerateServiceLastAccessedDetails`),
    /// by job id: each reports the view at its log position.
    #[serde(default)]
    pub access_reports: EntityMap<String, AccessReportJob>,
    /// The deletion tasks of service-linked roles deleted so far (each
    /// succeeded at once: iamd runs no resource that could use the role).
    #[serde(default)]
    pub service_linked_role_deletions: BTreeSet<String>,
    /// The account's alias (AWS allows one).
    #[serde(default)]
    pub account_alias: Option<AccountAlias>,
    /// The version of session tokens the global STS endpoint issues, as
    /// `SetSecurityTokenServicePreferences` last set it (`None`: AWS's
    /// default, version 1).
    #[serde(default)]
    pub global_endpoint_token_version: Option<GlobalEndpointTokenVersion>,
    /// The custom password policy, if one is set.
    pub password_policy: Option<PasswordPolicy>,
    /// The credential report generated last.
    #[serde(default)]
    pub credential_report: Option<CredentialReport>,
    /// Every user, group, role and policy id this account has issued,
    /// deleted entities' included: AWS never reuses a unique id, and
    /// `decide` checks a new one here instead of scanning every entity.
    pub issued_ids: imbl::OrdSet<SmolStr>,
}

/// A generated credential report: when, and the log position whose view
/// it reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialReport {
    pub generated_at: DateTime<Utc>,
    pub log_position: u64,
}

/// The account and its root user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The 12-digit id.
    pub id: AccountId,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// MFA devices enabled for the root user (folded device names).
    pub root_mfa_devices: BTreeSet<NameKey>,
}

/// Who owns a credential (an access key or an MFA device).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CredentialOwner {
    /// The account's root user.
    Root,
    /// An IAM user.
    User {
        /// The user's name.
        user_name: UserName,
    },
}

/// The entity a policy, boundary or tag change applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntityRef {
    /// An IAM user.
    User {
        /// The user's name.
        user_name: UserName,
    },
    /// A group.
    Group {
        /// The group's name.
        group_name: GroupName,
    },
    /// A role.
    Role {
        /// The role's name.
        role_name: RoleName,
    },
    /// A customer managed policy.
    Policy {
        /// The policy's name.
        policy_name: PolicyName,
    },
    /// A virtual MFA device.
    MfaDevice {
        /// The device's name.
        device_name: MfaDeviceName,
    },
    /// An OpenID Connect provider.
    OidcProvider {
        /// The provider's URL.
        url: OidcProviderUrl,
    },
    /// An instance profile.
    InstanceProfile {
        /// The instance profile's name.
        instance_profile_name: InstanceProfileName,
    },
    /// A SAML provider.
    SamlProvider {
        /// The provider's name.
        name: SamlProviderName,
    },
    /// A server certificate.
    ServerCertificate {
        /// The certificate's name.
        server_certificate_name: ServerCertificateName,
    },
}

/// An instance profile: the container that passes one role to an EC2
/// instance. iamd runs no instances; it keeps profiles so that tools that
/// create them (Terraform, CloudFormation-style scripts) work, and so that
/// a role in a profile cannot be deleted, as in AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfile {
    /// The name, as given.
    pub name: InstanceProfileName,
    /// `AIPA...`.
    pub id: InstanceProfileId,
    /// The path.
    pub path: IamPath,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The roles in it (folded names): at most one, AWS's quota.
    pub roles: BTreeSet<NameKey>,
    /// Tags by folded key.
    pub tags: BTreeMap<NameKey, Tag>,
}

/// An OpenID Connect identity provider: whose ID tokens
/// `sts:AssumeRoleWithWebIdentity` accepts, for which audiences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcProvider {
    /// The issuer URL, as given.
    pub url: OidcProviderUrl,
    /// The audiences (`aud`) its tokens may be for, in the order added.
    pub client_ids: Vec<String>,
    /// SHA-1 thumbprints of the issuer's certificate chain: recorded and
    /// returned; iamd verifies the issuer's TLS certificate against the
    /// system's trusted roots instead, as AWS now does for most providers.
    pub thumbprints: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Tags by folded key.
    pub tags: BTreeMap<NameKey, Tag>,
}

/// Whose use of a service the access advisor records: a user, or a role
/// (for every session of it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Accessor {
    User { user_name: UserName },
    Role { role_name: RoleName },
}

impl Accessor {
    /// The key of its log in [`AccountState::service_access`]: the kind and
    /// the folded name, so a user and a role of one name stay apart.
    pub fn key(&self) -> String {
        match self {
            Accessor::User { user_name } => Accessor::user_key(&user_name.key()),
            Accessor::Role { role_name } => format!("role/{}", role_name.key().as_str()),
        }
    }

    /// [`Accessor::key`] of the user whose folded name is `name`.
    pub fn user_key(name: &NameKey) -> String {
        format!("user/{}", name.as_str())
    }
}

/// What one user or role was last seen using, by service namespace.
pub type ServiceAccessLog = BTreeMap<String, ServiceAccess>;

/// The last use of one service: when, in which region (for calls to iamd's
/// own AWS APIs), and when each action was last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccess {
    pub at: DateTime<Utc>,
    pub region: Option<String>,
    /// Action name (without the namespace) to its last use.
    pub actions: BTreeMap<String, DateTime<Utc>>,
}

/// `GenerateServiceLastAccessedDetails`'s granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportGranularity {
    Service,
    Action,
}

/// An access advisor report asked for: about which entity, by whom, and
/// the log position whose view it reports (so every node serves the same
/// report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReportJob {
    pub job_id: String,
    /// The user, group, role or policy ARN reported on.
    pub arn: String,
    pub granularity: ReportGranularity,
    pub log_position: u64,
    /// The ARN of the caller that asked: only it may read the report.
    pub requester: String,
    pub created_at: DateTime<Utc>,
}

/// A SAML identity provider: whose signed assertions
/// `sts:AssumeRoleWithSAML` accepts. The shell parsed the metadata document
/// (its entity id and signing certificates) before it reached the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlProvider {
    pub name: SamlProviderName,
    /// AWS's `SAMLProviderUUID`.
    pub uuid: String,
    /// The metadata document, as uploaded.
    pub metadata_document: String,
    /// The metadata's `validUntil`, if it has one.
    pub valid_until: Option<DateTime<Utc>>,
    /// How many times the metadata was replaced: with the uuid, what a
    /// cache of the parsed metadata is keyed by.
    pub revision: u64,
    pub created_at: DateTime<Utc>,
    /// Tags by folded key.
    pub tags: BTreeMap<NameKey, Tag>,
}

/// An SSH public key of a user. The shell parsed and checked it: `body`
/// is its OpenSSH form (`ssh-rsa BASE64`), `fingerprint` the MD5 of the key
/// blob as AWS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshPublicKey {
    /// `APKA...`.
    pub id: String,
    pub user_name: UserName,
    pub body: String,
    pub fingerprint: String,
    pub status: AccessKeyStatus,
    pub uploaded_at: DateTime<Utc>,
}

/// A service-specific credential of a user: a generated password (or, for
/// API-key services, a secret) that only one service accepts. The secret is
/// shown once, when created or reset; it is kept sealed (AAD: the id) so a
/// service front end could verify it later, never in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpecificCredential {
    /// `ACCA...`.
    pub id: String,
    pub user_name: UserName,
    /// The service's endpoint name (`codecommit.amazonaws.com`).
    pub service_name: String,
    /// `jane-at-123456789012`, for the services that take a user name and
    /// password.
    pub service_user_name: Option<String>,
    /// The public part of an API key, for the services that take one.
    pub service_credential_alias: Option<String>,
    pub secret: SealedSecret,
    pub status: AccessKeyStatus,
    pub created_at: DateTime<Utc>,
    /// When an API key stops working (`CredentialAgeDays`), if it does.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An X.509 signing certificate of a user or of the root user. The shell
/// parsed and checked it; `body` is the PEM as uploaded (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningCertificate {
    pub id: String,
    pub owner: CredentialOwner,
    pub body: String,
    pub status: AccessKeyStatus,
    pub uploaded_at: DateTime<Utc>,
}

/// A server (TLS) certificate with its chain and private key. The shell
/// parsed the certificate, checked that the key is its key, and sealed the
/// key (AAD: the certificate's id); no operation returns the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCertificate {
    pub name: ServerCertificateName,
    pub id: ServerCertificateId,
    pub path: IamPath,
    pub body: String,
    pub chain: Option<String>,
    pub private_key: SealedSecret,
    /// The certificate's `notAfter`.
    pub expiration: DateTime<Utc>,
    pub uploaded_at: DateTime<Utc>,
    /// Tags by folded key.
    pub tags: BTreeMap<NameKey, Tag>,
}

/// Which session tokens STS's global endpoint issues: version 1 tokens are
/// valid only in regions enabled by default, version 2 in every region.
/// iamd has one endpoint and one token format, so this is recorded and
/// reported (`GetAccountSummary`'s `GlobalEndpointTokenVersion`) only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GlobalEndpointTokenVersion {
    /// `v1Token`.
    #[serde(rename = "v1Token")]
    V1,
    /// `v2Token`.
    #[serde(rename = "v2Token")]
    V2,
}

impl GlobalEndpointTokenVersion {
    /// The API's value: `v1Token` or `v2Token`.
    pub fn as_str(self) -> &'static str {
        match self {
            GlobalEndpointTokenVersion::V1 => "v1Token",
            GlobalEndpointTokenVersion::V2 => "v2Token",
        }
    }
}

/// An inline policy embedded in a user, group or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlinePolicy {
    /// Its name (case preserved).
    pub name: InlinePolicyName,
    /// The JSON document as submitted.
    pub document: String,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Name (case preserved).
    pub name: UserName,
    /// Unique id (`AIDA...`), never reused.
    pub id: UserId,
    /// Path.
    pub path: IamPath,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Groups the user belongs to (folded group names).
    pub groups: BTreeSet<NameKey>,
    /// Inline policies by folded name.
    pub inline_policies: BTreeMap<NameKey, InlinePolicy>,
    /// Attached customer managed policies (folded policy names).
    pub attached_policies: BTreeSet<NameKey>,
    /// Permissions boundary (a managed policy ARN).
    pub permissions_boundary: Option<Arn>,
    /// Tags by folded key.
    pub tags: BTreeMap<NameKey, Tag>,
    /// Console password, if any.
    pub login_profile: Option<LoginProfile>,
    /// Enabled MFA devices (folded device names).
    pub mfa_devices: BTreeSet<NameKey>,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Name (case preserved).
    pub name: GroupName,
    /// Unique id (`AGPA...`).
    pub id: GroupId,
    /// Path.
    pub path: IamPath,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Members (folded user names).
    pub members: BTreeSet<NameKey>,
    /// Inline policies by folded name.
    pub inline_policies: BTreeMap<NameKey, InlinePolicy>,
    /// Attached customer managed policies (folded policy names).
    pub attached_policies: BTreeSet<NameKey>,
}

/// A role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Name (case preserved).
    pub name: RoleName,
    /// Unique id (`AROA...`).
    pub id: RoleId,
    /// Path.
    pub path: IamPath,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The trust policy, as submitted.
    pub assume_role_policy_document: String,
    /// Description.
    pub description: Option<Description>,
    /// Maximum session duration in seconds, 3600..=43200.
    pub max_session_duration: u32,
    /// Inline policies by folded name.
    pub inline_policies: BTreeMap<NameKey, InlinePolicy>,
    /// Attached customer managed policies (folded policy names).
    pub attached_policies: BTreeSet<NameKey>,
    /// Permissions boundary (a managed policy ARN).
    pub permissions_boundary: Option<Arn>,
    /// Tags by folded key.
    pub tags: BTreeMap<NameKey, Tag>,
    /// The users and roles of the account its trust policy names, by the
    /// ARN it names them with, and the unique id each had when the policy
    /// was saved. AWS trusts the entity, not the name: one deleted and
    /// created again under the same name is not trusted (User Guide,
    /// "AWS JSON policy elements: Principal").
    #[serde(default)]
    pub trusted_ids: BTreeMap<String, String>,
    /// Created by `CreateServiceLinkedRole`: only its service may change
    /// it (`crate::service_linked`).
    #[serde(default)]
    pub service_linked: bool,
}

/// A customer managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// Name (case preserved).
    pub name: PolicyName,
    /// Unique id (`ANPA...`).
    pub id: PolicyId,
    /// Path.
    pub path: IamPath,
    /// Description (immutable after creation, as in AWS).
    pub description: Option<Description>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last version change.
    pub updated_at: DateTime<Utc>,
    /// The operative version; always a key of `versions`.
    pub default_version: PolicyVersionId,
    /// Stored versions.
    pub versions: BTreeMap<PolicyVersionId, PolicyVersion>,
    /// The number the next version gets (numbers are never reused).
    pub next_version: u32,
    /// Tags by folded key.
    pub tags: BTreeMap<NameKey, Tag>,
}

/// One stored version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub id: PolicyVersionId,
    /// The JSON document as submitted.
    pub document: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Whether an access key may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    /// Usable.
    Active,
    /// Kept but unusable (still counts against the quota).
    Inactive,
}

/// A long-term access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    /// `AKIA...`.
    pub id: AccessKeyId,
    /// Root or a user.
    pub owner: CredentialOwner,
    /// Active or Inactive.
    pub status: AccessKeyStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The secret access key, sealed under the master key (AAD: the key id).
    pub secret: SealedSecret,
    /// The last recorded use.
    pub last_used: Option<AccessKeyLastUsed>,
}

/// When and where an access key was last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyLastUsed {
    /// Time of use.
    pub used_at: DateTime<Utc>,
    /// Service called (e.g. `iam`).
    pub service_name: String,
    /// Region called (e.g. `us-east-1`).
    pub region: String,
}

/// A user's console password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginProfile {
    /// argon2id PHC hash.
    pub password_hash: PasswordHash,
    /// The user must choose a new password at next sign-in.
    pub password_reset_required: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the password was last set (`None`: when the profile was
    /// created): a password expires `MaxPasswordAge` days after it.
    #[serde(default)]
    pub password_changed_at: Option<DateTime<Utc>>,
    /// The hashes of earlier passwords, newest first, at most
    /// [`LoginProfile::REMEMBERED`]: `PasswordReusePrevention` compares a
    /// new password against the last N.
    #[serde(default)]
    pub previous_hashes: Vec<PasswordHash>,
}

impl LoginProfile {
    /// AWS's largest `PasswordReusePrevention`.
    pub const REMEMBERED: usize = 24;

    /// When the password was last set.
    pub fn password_set_at(&self) -> DateTime<Utc> {
        self.password_changed_at.unwrap_or(self.created_at)
    }
}

/// A virtual MFA device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMfaDevice {
    /// Device name (case preserved).
    pub name: MfaDeviceName,
    /// Path.
    pub path: IamPath,
    /// The TOTP seed, sealed under the master key (AAD: the serial number).
    pub seed: SealedSecret,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The owner it is enabled for, if any.
    pub assignment: Option<MfaAssignment>,
    /// The last TOTP counter a code of this device was accepted for: a
    /// code is accepted once, and never one older than the last.
    #[serde(default)]
    pub last_counter: Option<u64>,
    /// Tags by folded key.
    #[serde(default)]
    pub tags: BTreeMap<NameKey, Tag>,
}

/// An MFA device's assignment to a user or the root user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaAssignment {
    /// Who uses it.
    pub owner: CredentialOwner,
    /// When it was enabled.
    pub enabled_at: DateTime<Utc>,
}

impl AccountState {
    /// The account id, once created.
    pub fn account_id(&self) -> Option<&AccountId> {
        self.account.as_ref().map(|a| &a.id)
    }

    /// A user's ARN.
    pub fn user_arn(&self, user: &User) -> Option<Arn> {
        Some(Arn::user(self.account_id()?, &user.path, &user.name))
    }
    /// A group's ARN.
    pub fn group_arn(&self, group: &Group) -> Option<Arn> {
        Some(Arn::group(self.account_id()?, &group.path, &group.name))
    }
    /// A role's ARN.
    pub fn role_arn(&self, role: &Role) -> Option<Arn> {
        Some(Arn::role(self.account_id()?, &role.path, &role.name))
    }
    /// A role's trust policy as it applies now: each user or role it named
    /// that is no longer the entity it named when saved (deleted, or
    /// deleted and created again under the name) is replaced by the unique
    /// id it trusted, which no caller's ARN matches — as AWS shows such a
    /// principal.
    pub fn trust_policy_now<'a>(&self, role: &'a Role) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        let document = role.assume_role_policy_document.as_str();
        let stale: BTreeMap<&str, &str> = role
            .trusted_ids
            .iter()
            .filter(|(arn, id)| self.principal_id(arn) != Some(id.as_str()))
            .map(|(arn, id)| (arn.as_str(), id.as_str()))
            .collect();
        if stale.is_empty() {
            return Cow::Borrowed(document);
        }
        let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(document) else {
            return Cow::Borrowed(document);
        };
        let replace = |v: &mut serde_json::Value| {
            if let Some(id) = v.as_str().and_then(|s| stale.get(s)) {
                *v = serde_json::Value::String((*id).to_owned());
            }
        };
        let statements = match doc.get_mut("Statement") {
            Some(serde_json::Value::Array(list)) => list.iter_mut().collect::<Vec<_>>(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        for statement in statements {
            match statement
                .get_mut("Principal")
                .and_then(|p| p.get_mut("AWS"))
            {
                Some(serde_json::Value::Array(list)) => list.iter_mut().for_each(replace),
                Some(one) => replace(one),
                None => {}
            }
        }
        Cow::Owned(doc.to_string())
    }

    /// The unique id of the user or role of this account `arn` names now.
    fn principal_id(&self, arn: &str) -> Option<&str> {
        match Arn::parse(arn).ok()? {
            Arn::User { path, name, .. } => self
                .users
                .get(&name.key())
                .filter(|u| u.path == path)
                .map(|u| u.id.as_str()),
            Arn::Role { path, name, .. } => self
                .roles
                .get(&name.key())
                .filter(|r| r.path == path)
                .map(|r| r.id.as_str()),
            _ => None,
        }
    }

    /// A managed policy's ARN.
    pub fn policy_arn(&self, policy: &ManagedPolicy) -> Option<Arn> {
        Some(Arn::policy(self.account_id()?, &policy.path, &policy.name))
    }
    /// A virtual MFA device's serial number.
    pub fn mfa_arn(&self, device: &VirtualMfaDevice) -> Option<Arn> {
        Some(Arn::mfa(self.account_id()?, &device.path, &device.name))
    }

    /// The managed policy an ARN names, if it is in this account and exists
    /// (name matched case-insensitively, path exactly).
    pub fn policy_by_arn(&self, arn: &Arn) -> Option<&ManagedPolicy> {
        let Arn::Policy {
            account,
            path,
            name,
        } = arn
        else {
            return None;
        };
        if Some(account) != self.account_id() {
            return None;
        }
        self.policies
            .get(&name.key())
            .map(|p| &**p)
            .filter(|p| &p.path == path)
    }

    /// The default version's document of the managed policy `arn` names:
    /// one of this account's, or one of the catalogue's
    /// (`crate::aws_policies`).
    pub fn managed_policy_document(&self, arn: &Arn) -> Option<&str> {
        match arn {
            Arn::AwsPolicy { path, name } => {
                crate::aws_policies::find(path, name).map(|p| p.document.as_str())
            }
            _ => self
                .policy_by_arn(arn)
                .and_then(|p| p.versions.get(&p.default_version))
                .map(|v| v.document.as_str()),
        }
    }

    /// The virtual MFA device a serial number names, if it exists.
    pub fn mfa_by_arn(&self, arn: &Arn) -> Option<&VirtualMfaDevice> {
        let Arn::Mfa {
            account,
            path,
            name,
        } = arn
        else {
            return None;
        };
        if Some(account) != self.account_id() {
            return None;
        }
        self.mfa_devices
            .get(&name.key())
            .map(|d| &**d)
            .filter(|d| &d.path == path)
    }

    /// Access keys owned by `owner`, in id order.
    pub fn access_keys_of<'a>(
        &'a self,
        owner: &'a CredentialOwner,
    ) -> impl Iterator<Item = &'a AccessKey> + 'a {
        self.access_keys
            .values()
            .map(|k| &**k)
            .filter(move |k| owner_eq(&k.owner, owner))
    }

    /// How many users, groups and roles have the policy attached.
    pub fn policy_attachment_count(&self, policy: &NameKey) -> usize {
        self.users
            .values()
            .filter(|u| u.attached_policies.contains(policy))
            .count()
            + self
                .groups
                .values()
                .filter(|g| g.attached_policies.contains(policy))
                .count()
            + self
                .roles
                .values()
                .filter(|r| r.attached_policies.contains(policy))
                .count()
    }

    /// How many users and roles use the policy as their permissions boundary.
    pub fn policy_boundary_usage_count(&self, policy: &NameKey) -> usize {
        let uses =
            |b: &Option<Arn>| matches!(b, Some(Arn::Policy { name, .. }) if &name.key() == policy);
        self.users
            .values()
            .filter(|u| uses(&u.permissions_boundary))
            .count()
            + self
                .roles
                .values()
                .filter(|r| uses(&r.permissions_boundary))
                .count()
    }
}

/// Owner equality with user names compared case-insensitively.
pub fn owner_eq(a: &CredentialOwner, b: &CredentialOwner) -> bool {
    match (a, b) {
        (CredentialOwner::Root, CredentialOwner::Root) => true,
        (CredentialOwner::User { user_name: x }, CredentialOwner::User { user_name: y }) => {
            x.key() == y.key()
        }
        _ => false,
    }
}
