//! STS `GetCallerIdentity`.

use iam_wire::sts;

use super::{OpContext, OpResult};

/// Allowed for every authenticated caller, even one a policy denies
/// `sts:GetCallerIdentity`, as AWS documents: it is registered `Public`.
pub async fn get_caller_identity(
    ctx: &OpContext<'_>,
    _: sts::GetCallerIdentityRequest,
) -> OpResult<sts::GetCallerIdentityResponse> {
    Ok(sts::GetCallerIdentityResponse {
        account: Some(ctx.account().to_owned()),
        arn: Some(ctx.caller.arn()),
        user_id: Some(ctx.caller.user_id()),
    })
}
