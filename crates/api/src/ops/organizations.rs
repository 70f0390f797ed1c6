//! The operations of AWS Organizations features: centralized root access
//! (`ListOrganizationsFeatures`, enabling and disabling root credentials
//! management and root sessions, `sts:AssumeRoot`) and the Organizations
//! access report. An iamd account is a standalone account, in no
//! organization, so each answers what AWS answers such an account, after
//! authorizing its action as AWS does (a caller without the permission is
//! refused with `AccessDenied` first). Decisions: docs/coverage.md.

use iam_wire::{iam, sts};

use super::{OpContext, OpResult};
use crate::query::{status_of, ApiError};

/// AWS's error for an organization feature asked of an account that is in
/// no organization: `OrganizationNotFoundException` (the model gives it no
/// other code, so its code is the shape's name; 400). Its message is the
/// model's description of the error; AWS's own text is not published.
pub const NO_ORGANIZATION: &str = "OrganizationNotFoundException";

fn no_organization() -> ApiError {
    ApiError::new(
        status_of(NO_ORGANIZATION),
        NO_ORGANIZATION,
        "The request was rejected because no organization is associated with your account.",
    )
}

/// `iam:ListOrganizationsFeatures`, on `*`.
pub async fn list_features(
    ctx: &OpContext<'_>,
    _: iam::ListOrganizationsFeaturesRequest,
) -> OpResult<iam::ListOrganizationsFeaturesResponse> {
    ctx.authorize_arn("*".into())?;
    Err(no_organization())
}

/// `iam:EnableOrganizationsRootCredentialsManagement`, on `*`.
pub async fn enable_root_credentials_management(
    ctx: &OpContext<'_>,
    _: iam::EnableOrganizationsRootCredentialsManagementRequest,
) -> OpResult<iam::EnableOrganizationsRootCredentialsManagementResponse> {
    ctx.authorize_arn("*".into())?;
    Err(no_organization())
}

/// `iam:DisableOrganizationsRootCredentialsManagement`, on `*`.
pub async fn disable_root_credentials_management(
    ctx: &OpContext<'_>,
    _: iam::DisableOrganizationsRootCredentialsManagementRequest,
) -> OpResult<iam::DisableOrganizationsRootCredentialsManagementResponse> {
    ctx.authorize_arn("*".into())?;
    Err(no_organization())
}

/// `iam:EnableOrganizationsRootSessions`, on `*`.
pub async fn enable_root_sessions(
    ctx: &OpContext<'_>,
    _: iam::EnableOrganizationsRootSessionsRequest,
) -> OpResult<iam::EnableOrganizationsRootSessionsResponse> {
    ctx.authorize_arn("*".into())?;
    Err(no_organization())
}

/// `iam:DisableOrganizationsRootSessions`, on `*`.
pub async fn disable_root_sessions(
    ctx: &OpContext<'_>,
    _: iam::DisableOrganizationsRootSessionsRequest,
) -> OpResult<iam::DisableOrganizationsRootSessionsResponse> {
    ctx.authorize_arn("*".into())?;
    Err(no_organization())
}

/// `iam:GenerateOrganizationsAccessReport`, on the `access-report` resource
/// of the entity path (`arn:aws:iam::ACCOUNT:access-report/ENTITY-PATH`).
/// The path names an organization (`o-…/r-…`), and the account is in none:
/// the model lists no error for that (only `ReportGenerationLimitExceeded`),
/// so iamd answers IAM's own error for it, `OrganizationNotFoundException`.
pub async fn generate_access_report(
    ctx: &OpContext<'_>,
    input: iam::GenerateOrganizationsAccessReportRequest,
) -> OpResult<iam::GenerateOrganizationsAccessReportResponse> {
    ctx.authorize_arn(ctx.arn(&format!("access-report/{}", input.entity_path)))?;
    Err(no_organization())
}

/// `iam:GetOrganizationsAccessReport`, on `*`. No report was ever started
/// (the account is in no organization), so every job id names a report
/// that does not exist: `NoSuchEntity`, the one error the model lists.
pub async fn get_access_report(
    ctx: &OpContext<'_>,
    input: iam::GetOrganizationsAccessReportRequest,
) -> OpResult<iam::GetOrganizationsAccessReportResponse> {
    ctx.authorize_arn("*".into())?;
    Err(ApiError::new(
        status_of("NoSuchEntity"),
        "NoSuchEntity",
        format!(
            "The report with job ID {} cannot be found: no organization is associated with \
             your account, so no organizations access report was generated.",
            input.job_id
        ),
    ))
}

/// `sts:AssumeRoot`, on the target member account's root
/// (`arn:aws:iam::MEMBER:root`; `TargetPrincipal` is that ARN or the
/// account id). The target must be a member account of the caller's
/// organization, and there is none: STS's model lists no error for that, so
/// iamd answers IAM's, `OrganizationNotFoundException`.
pub async fn assume_root(
    ctx: &OpContext<'_>,
    input: sts::AssumeRootRequest,
) -> OpResult<sts::AssumeRootResponse> {
    let target = input.target_principal.as_str();
    let resource = if target.starts_with("arn:") {
        target.to_owned()
    } else {
        format!("arn:aws:iam::{target}:root")
    };
    ctx.authorize_arn(resource)?;
    Err(no_organization())
}
