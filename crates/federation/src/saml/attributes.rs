//! The attributes AWS gives meaning to (`https://aws.amazon.com/SAML/Attributes/...`).

use std::collections::BTreeMap;

use super::xml;
use super::{
    SamlError, PRINCIPAL_TAG_ATTRIBUTE_PREFIX, ROLE_ATTRIBUTE, ROLE_SESSION_NAME_ATTRIBUTE,
    SESSION_DURATION_ATTRIBUTE, SOURCE_IDENTITY_ATTRIBUTE, TRANSITIVE_TAG_KEYS_ATTRIBUTE,
};

/// The shortest and longest session duration AWS accepts in the
/// `SessionDuration` attribute, in seconds (15 minutes to 12 hours).
const SESSION_DURATION_SECONDS: std::ops::RangeInclusive<u32> = 900..=43_200;

/// One value of the `Role` attribute: a role the IdP lets the user assume,
/// and the SAML provider through which it does.
///
/// AWS accepts the two ARNs in either order within the value; they are put
/// in their places here. Both are checked to be IAM ARNs of the right
/// resource type, nothing more: whether the role exists, trusts that
/// provider, and is the one the caller asked for is the caller's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RolePair {
    /// `arn:<partition>:iam::<account>:role/<path><name>`.
    pub role_arn: String,
    /// `arn:<partition>:iam::<account>:saml-provider/<name>`.
    pub provider_arn: String,
}

impl RolePair {
    /// Reads one `Role` value, `role,provider` or `provider,role`, with
    /// whitespace around either ARN ignored.
    fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split(',').map(xml::trim);
        let (Some(first), Some(second), None) = (parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        let pair = |role: &str, provider: &str| Self {
            role_arn: role.to_owned(),
            provider_arn: provider.to_owned(),
        };
        match (iam_resource(first)?, iam_resource(second)?) {
            (IamResource::Role, IamResource::SamlProvider) => Some(pair(first, second)),
            (IamResource::SamlProvider, IamResource::Role) => Some(pair(second, first)),
            _ => None,
        }
    }
}

enum IamResource {
    Role,
    SamlProvider,
}

/// What an ARN of the form `arn:<partition>:iam::<12 digits>:<resource>`
/// names, if it is a role or a SAML provider with a non-empty name.
fn iam_resource(arn: &str) -> Option<IamResource> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if partition.is_empty() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|name| !name.is_empty())
    };
    if named("role/") {
        Some(IamResource::Role)
    } else if named("saml-provider/") {
        Some(IamResource::SamlProvider)
    } else {
        None
    }
}

/// An assertion's attributes, the AWS ones taken out and checked.
#[derive(Debug)]
pub(crate) struct AwsAttributes {
    pub(crate) roles: Vec<RolePair>,
    pub(crate) role_session_name: String,
    pub(crate) session_duration: Option<u32>,
    pub(crate) principal_tags: Vec<(String, String)>,
    pub(crate) transitive_tag_keys: Vec<String>,
    pub(crate) source_identity: Option<String>,
    pub(crate) other: BTreeMap<String, Vec<String>>,
}

impl AwsAttributes {
    /// Splits `attributes` (name to values, every `Attribute` of that name
    /// merged) into the AWS attributes and the rest.
    ///
    /// # Errors
    ///
    /// [`SamlError::MissingAttribute`] without a `Role` or a
    /// `RoleSessionName` value, and [`SamlError::InvalidAttribute`] for a
    /// value AWS would refuse.
    pub(crate) fn split(mut attributes: BTreeMap<String, Vec<String>>) -> Result<Self, SamlError> {
        let roles = attributes
            .remove(ROLE_ATTRIBUTE)
            .filter(|values| !values.is_empty())
            .ok_or(SamlError::MissingAttribute("Role"))?
            .iter()
            .map(|value| RolePair::parse(value).ok_or(SamlError::InvalidAttribute("Role")))
            .collect::<Result<Vec<_>, _>>()?;

        let role_session_name = match attributes.remove(ROLE_SESSION_NAME_ATTRIBUTE) {
            None => return Err(SamlError::MissingAttribute("RoleSessionName")),
            Some(values) => single(values)
                .filter(|name| is_session_name(name))
                .ok_or(SamlError::InvalidAttribute("RoleSessionName"))?,
        };

        let session_duration = attributes
            .remove(SESSION_DURATION_ATTRIBUTE)
            .map(|values| {
                single(values)
                    .and_then(|seconds| seconds.parse::<u32>().ok())
                    .filter(|seconds| SESSION_DURATION_SECONDS.contains(seconds))
                    .ok_or(SamlError::InvalidAttribute("SessionDuration"))
            })
            .transpose()?;

        let source_identity = attributes
            .remove(SOURCE_IDENTITY_ATTRIBUTE)
            .map(|values| {
                single(values)
                    .filter(|identity| is_session_name(identity))
                    .ok_or(SamlError::InvalidAttribute("SourceIdentity"))
            })
            .transpose()?;

        let transitive_tag_keys = attributes
            .remove(TRANSITIVE_TAG_KEYS_ATTRIBUTE)
            .unwrap_or_default();
        if transitive_tag_keys.iter().any(String::is_empty) {
            return Err(SamlError::InvalidAttribute("TransitiveTagKeys"));
        }

        let tag_names: Vec<String> = attributes
            .keys()
            .filter(|name| name.starts_with(PRINCIPAL_TAG_ATTRIBUTE_PREFIX))
            .cloned()
            .collect();
        let mut principal_tags = Vec::with_capacity(tag_names.len());
        for name in tag_names {
            let values = attributes.remove(&name).unwrap_or_default();
            let key = name[PRINCIPAL_TAG_ATTRIBUTE_PREFIX.len()..].to_owned();
            if key.is_empty() {
                return Err(SamlError::InvalidAttribute("PrincipalTag"));
            }
            let value = single(values).ok_or(SamlError::InvalidAttribute("PrincipalTag"))?;
            principal_tags.push((key, value));
        }

        Ok(Self {
            roles,
            role_session_name,
            session_duration,
            principal_tags,
            transitive_tag_keys,
            source_identity,
            other: attributes,
        })
    }
}

/// The one value of an attribute that must have exactly one.
fn single(mut values: Vec<String>) -> Option<String> {
    if values.len() == 1 {
        values.pop()
    } else {
        None
    }
}

/// AWS's rule for `RoleSessionName` and `SourceIdentity`: 2 to 64 characters
/// of `[A-Za-z0-9_+=,.@-]`.
fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}
