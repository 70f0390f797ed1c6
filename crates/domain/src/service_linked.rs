//! Service-linked roles: the roles an AWS service creates for itself, by
//! the names and trust policies AWS gives them. iamd runs no AWS service;
//! it creates them when asked (`CreateServiceLinkedRole`), so that tools
//! which create them first work, and protects them from ordinary role
//! operations as AWS does.

use crate::error::DomainError;
use crate::names::RoleName;

/// The path prefix only service-linked roles live under.
pub const PATH_PREFIX: &str = "/aws-service-role/";

/// The services iamd knows the service-linked role of: principal, role
/// name, whether a custom suffix is allowed (AWS's own table; the list
/// is not every service AWS has).
const SERVICES: &[(&str, &str, bool)] = &[
    (
        "access-analyzer.amazonaws.com",
        "AWSServiceRoleForAccessAnalyzer",
        false,
    ),
    (
        "autoscaling.amazonaws.com",
        "AWSServiceRoleForAutoScaling",
        true,
    ),
    ("backup.amazonaws.com", "AWSServiceRoleForBackup", false),
    ("batch.amazonaws.com", "AWSServiceRoleForBatch", false),
    (
        "cloudtrail.amazonaws.com",
        "AWSServiceRoleForCloudTrail",
        false,
    ),
    ("config.amazonaws.com", "AWSServiceRoleForConfig", false),
    (
        "connect.amazonaws.com",
        "AWSServiceRoleForAmazonConnect",
        true,
    ),
    ("ecs.amazonaws.com", "AWSServiceRoleForECS", false),
    ("eks.amazonaws.com", "AWSServiceRoleForAmazonEKS", false),
    (
        "eks-fargate.amazonaws.com",
        "AWSServiceRoleForAmazonEKSForFargate",
        false,
    ),
    (
        "eks-nodegroup.amazonaws.com",
        "AWSServiceRoleForAmazonEKSNodegroup",
        false,
    ),
    (
        "elasticbeanstalk.amazonaws.com",
        "AWSServiceRoleForElasticBeanstalk",
        false,
    ),
    (
        "elasticloadbalancing.amazonaws.com",
        "AWSServiceRoleForElasticLoadBalancing",
        false,
    ),
    (
        "es.amazonaws.com",
        "AWSServiceRoleForAmazonElasticsearchService",
        false,
    ),
    (
        "guardduty.amazonaws.com",
        "AWSServiceRoleForAmazonGuardDuty",
        false,
    ),
    ("kafka.amazonaws.com", "AWSServiceRoleForKafka", false),
    ("lex.amazonaws.com", "AWSServiceRoleForLexBots", false),
    ("lexv2.amazonaws.com", "AWSServiceRoleForLexV2Bots", true),
    (
        "opensearchservice.amazonaws.com",
        "AWSServiceRoleForAmazonOpenSearchService",
        false,
    ),
    (
        "ops.apigateway.amazonaws.com",
        "AWSServiceRoleForAPIGateway",
        false,
    ),
    (
        "organizations.amazonaws.com",
        "AWSServiceRoleForOrganizations",
        false,
    ),
    ("rds.amazonaws.com", "AWSServiceRoleForRDS", false),
    ("spot.amazonaws.com", "AWSServiceRoleForEC2Spot", false),
    (
        "spotfleet.amazonaws.com",
        "AWSServiceRoleForEC2SpotFleet",
        false,
    ),
    ("sso.amazonaws.com", "AWSServiceRoleForSSO", false),
    ("support.amazonaws.com", "AWSServiceRoleForSupport", false),
    (
        "trustedadvisor.amazonaws.com",
        "AWSServiceRoleForTrustedAdvisor",
        false,
    ),
];

/// The name of `service`'s service-linked role, with `suffix` if given
/// (`NAME_SUFFIX`, for services that allow one).
pub fn role_name(service: &str, suffix: Option<&str>) -> Result<RoleName, DomainError> {
    let (_, name, suffix_allowed) =
        SERVICES
            .iter()
            .find(|(s, _, _)| *s == service)
            .ok_or_else(|| {
                DomainError::InvalidInput(format!(
                    "Service {} does not have a service-linked role iamd knows of.",
                    crate::names::shown(service)
                ))
            })?;
    match suffix {
        None => RoleName::parse(name),
        Some(_) if !suffix_allowed => Err(DomainError::InvalidInput(format!(
            "Custom suffix is not allowed for {service}"
        ))),
        Some(s) => RoleName::parse(&format!("{name}_{s}")),
    }
}

/// The trust policy AWS writes for a service-linked role.
pub fn trust_policy(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Principal": {"Service": [service]},
        }],
    })
    .to_string()
}

/// AWS's refusal of an ordinary role operation on a service-linked role.
pub fn protected(role: &RoleName) -> DomainError {
    DomainError::UnmodifiableEntity(format!(
        "Cannot perform the operation on the protected role '{role}' - this role is only modifiable by AWS"
    ))
}
