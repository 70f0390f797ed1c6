//! Amazon Resource Names for the IAM and STS principals and resources this
//! service manages, parsed into typed parts and formatted back exactly.
//!
//! Shape (reference_identifiers.md): `arn:aws:iam::ACCOUNT:user/PATH/NAME`,
//! where the path is written without its leading slash: a user `Bob` at path
//! `/division_abc/` is `arn:aws:iam::123456789012:user/division_abc/Bob`.
//! Only the `aws` partition is accepted (docs/domain.md).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::AccountId;
use crate::names::{GroupName, IamPath, MfaDeviceName, PolicyName, RoleName, UserName};

/// A parsed IAM or STS ARN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Arn {
    /// `arn:aws:iam::ACCOUNT:root`, the account's root user.
    Root {
        /// The account.
        account: AccountId,
    },
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User {
        /// The account.
        account: AccountId,
        /// The user's path.
        path: IamPath,
        /// The user's name.
        name: UserName,
    },
    /// `arn:aws:iam::ACCOUNT:group/PATH/NAME`.
    Group {
        /// The account.
        account: AccountId,
        /// The group's path.
        path: IamPath,
        /// The group's name.
        name: GroupName,
    },
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    Role {
        /// The account.
        account: AccountId,
        /// The role's path.
        path: IamPath,
        /// The role's name.
        name: RoleName,
    },
    /// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`, a customer managed policy.
    Policy {
        /// The account.
        account: AccountId,
        /// The policy's path.
        path: IamPath,
        /// The policy's name.
        name: PolicyName,
    },
    /// `arn:aws:iam::aws:policy/PATH/NAME`, a managed policy of no account
    /// (AWS's own, or iamd's: `crate::aws_policies`).
    AwsPolicy {
        /// The policy's path.
        path: IamPath,
        /// The policy's name.
        name: PolicyName,
    },
    /// `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`, a virtual MFA device (its serial number).
    Mfa {
        /// The account.
        account: AccountId,
        /// The device's path.
        path: IamPath,
        /// The device's name.
        name: MfaDeviceName,
    },
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, a role session.
    AssumedRole {
        /// The account.
        account: AccountId,
        /// The assumed role's name (no path: STS drops it).
        role_name: RoleName,
        /// The role session name: 2–64 characters of `[A-Za-z0-9+=,.@_-]`.
        session_name: String,
    },
}

fn invalid(s: &str) -> DomainError {
    DomainError::InvalidInput(format!("ARN {} is not valid.", crate::names::shown(s)))
}

/// Splits `division/sub/Name` into (`/division/sub/`, `Name`).
fn split_path(rest: &str) -> Option<(String, &str)> {
    match rest.rfind('/') {
        None => Some(("/".to_owned(), rest)),
        Some(i) => Some((format!("/{}/", &rest[..i]), &rest[i + 1..])),
    }
}

/// Validates a role session name (2–64 name characters).
pub fn check_session_name(s: &str) -> Result<(), DomainError> {
    let ok = (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(DomainError::validation(format!(
            "The specified value for roleSessionName '{}' is invalid.",
            crate::names::shown(s)
        )))
    }
}

impl Arn {
    /// Parses an ARN string.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some("aws"), Some(service), Some(""), Some(account), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid(s));
        };
        if account == "aws" && service == "iam" {
            let rest = resource.strip_prefix("policy/").ok_or_else(|| invalid(s))?;
            let (path, name) = split_path(rest).ok_or_else(|| invalid(s))?;
            return Ok(Arn::AwsPolicy {
                path: IamPath::parse(&path).map_err(|_| invalid(s))?,
                name: PolicyName::parse(name).map_err(|_| invalid(s))?,
            });
        }
        let account = AccountId::parse(account).map_err(|_| invalid(s))?;
        match service {
            "iam" => {
                if resource == "root" {
                    return Ok(Arn::Root { account });
                }
                let (kind, rest) = resource.split_once('/').ok_or_else(|| invalid(s))?;
                let (path, name) = split_path(rest).ok_or_else(|| invalid(s))?;
                let path = IamPath::parse(&path).map_err(|_| invalid(s))?;
                let e = |_| invalid(s);
                Ok(match kind {
                    "user" => Arn::User {
                        account,
                        path,
                        name: UserName::parse(name).map_err(e)?,
                    },
                    "group" => Arn::Group {
                        account,
                        path,
                        name: GroupName::parse(name).map_err(e)?,
                    },
                    "role" => Arn::Role {
                        account,
                        path,
                        name: RoleName::parse(name).map_err(e)?,
                    },
                    "policy" => Arn::Policy {
                        account,
                        path,
                        name: PolicyName::parse(name).map_err(e)?,
                    },
                    "mfa" => Arn::Mfa {
                        account,
                        path,
                        name: MfaDeviceName::parse(name).map_err(e)?,
                    },
                    _ => return Err(invalid(s)),
                })
            }
            "sts" => {
                let rest = resource
                    .strip_prefix("assumed-role/")
                    .ok_or_else(|| invalid(s))?;
                let (role, session) = rest.split_once('/').ok_or_else(|| invalid(s))?;
                let role_name = RoleName::parse(role).map_err(|_| invalid(s))?;
                check_session_name(session).map_err(|_| invalid(s))?;
                Ok(Arn::AssumedRole {
                    account,
                    role_name,
                    session_name: session.to_owned(),
                })
            }
            _ => Err(invalid(s)),
        }
    }

    /// The account the ARN belongs to (none for a policy of AWS's).
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Arn::Root { account }
            | Arn::User { account, .. }
            | Arn::Group { account, .. }
            | Arn::Role { account, .. }
            | Arn::Policy { account, .. }
            | Arn::Mfa { account, .. }
            | Arn::AssumedRole { account, .. } => Some(account),
            Arn::AwsPolicy { .. } => None,
        }
    }

    /// A user's ARN.
    pub fn user(account: &AccountId, path: &IamPath, name: &UserName) -> Arn {
        Arn::User {
            account: account.clone(),
            path: path.clone(),
            name: name.clone(),
        }
    }
    /// A group's ARN.
    pub fn group(account: &AccountId, path: &IamPath, name: &GroupName) -> Arn {
        Arn::Group {
            account: account.clone(),
            path: path.clone(),
            name: name.clone(),
        }
    }
    /// A role's ARN.
    pub fn role(account: &AccountId, path: &IamPath, name: &RoleName) -> Arn {
        Arn::Role {
            account: account.clone(),
            path: path.clone(),
            name: name.clone(),
        }
    }
    /// A managed policy's ARN.
    pub fn policy(account: &AccountId, path: &IamPath, name: &PolicyName) -> Arn {
        Arn::Policy {
            account: account.clone(),
            path: path.clone(),
            name: name.clone(),
        }
    }
    /// A virtual MFA device's ARN (its serial number).
    pub fn mfa(account: &AccountId, path: &IamPath, name: &MfaDeviceName) -> Arn {
        Arn::Mfa {
            account: account.clone(),
            path: path.clone(),
            name: name.clone(),
        }
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arn::Root { account } => write!(f, "arn:aws:iam::{account}:root"),
            Arn::User {
                account,
                path,
                name,
            } => write!(f, "arn:aws:iam::{account}:user{path}{name}"),
            Arn::Group {
                account,
                path,
                name,
            } => write!(f, "arn:aws:iam::{account}:group{path}{name}"),
            Arn::Role {
                account,
                path,
                name,
            } => write!(f, "arn:aws:iam::{account}:role{path}{name}"),
            Arn::Policy {
                account,
                path,
                name,
            } => write!(f, "arn:aws:iam::{account}:policy{path}{name}"),
            Arn::Mfa {
                account,
                path,
                name,
            } => write!(f, "arn:aws:iam::{account}:mfa{path}{name}"),
            Arn::AwsPolicy { path, name } => write!(f, "arn:aws:iam::aws:policy{path}{name}"),
            Arn::AssumedRole {
                account,
                role_name,
                session_name,
            } => {
                write!(
                    f,
                    "arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
                )
            }
        }
    }
}
impl FromStr for Arn {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        Arn::parse(s)
    }
}
impl TryFrom<String> for Arn {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Arn::parse(&s)
    }
}
impl From<Arn> for String {
    fn from(a: Arn) -> String {
        a.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_examples_round_trip() {
        for s in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:user/JohnDoe",
            "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/JaneDoe",
            "arn:aws:iam::123456789012:group/Developers",
            "arn:aws:iam::123456789012:group/division_abc/subdivision_xyz/product_A/Developers",
            "arn:aws:iam::123456789012:role/S3Access",
            "arn:aws:iam::123456789012:role/aws-service-role/access-analyzer.amazonaws.com/AWSServiceRoleForAccessAnalyzer",
            "arn:aws:iam::123456789012:policy/division_abc/subdivision_xyz/UsersManageOwnCredentials",
            "arn:aws:iam::123456789012:mfa/JaneDoeMFA",
            "arn:aws:sts::123456789012:assumed-role/Accounting-Role/JaneDoe",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        ] {
            let arn = Arn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(arn.to_string(), s);
        }
    }

    #[test]
    fn paths_are_split_off() {
        let arn = Arn::parse("arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/JaneDoe")
            .unwrap();
        let Arn::User { path, name, .. } = arn else {
            panic!()
        };
        assert_eq!(path.as_str(), "/division_abc/subdivision_xyz/");
        assert_eq!(name.as_str(), "JaneDoe");
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:iam::123456789012:user",
            "arn:aws:iam:us-east-1:123456789012:user/Bob",
            "arn:aws-cn:iam::123456789012:user/Bob",
            "arn:aws:iam::12345678901:user/Bob",
            "arn:aws:iam::aws:user/Bob",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::123456789012:widget/Bob",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user//Bob",
            "arn:aws:iam::123456789012:user/a b",
            "arn:aws:sts::123456789012:assumed-role/Role/x",
            "arn:aws:sts::123456789012:federated-user/Bob",
        ] {
            assert!(Arn::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn serde_as_string() {
        let arn = Arn::parse("arn:aws:iam::123456789012:role/S3Access").unwrap();
        let j = serde_json::to_string(&arn).unwrap();
        assert_eq!(j, "\"arn:aws:iam::123456789012:role/S3Access\"");
        assert_eq!(serde_json::from_str::<Arn>(&j).unwrap(), arn);
    }
}
