//! Virtual MFA devices, and the one check of an MFA code every operation
//! that takes one shares.

use iam_domain::event::MfaCodeUse;
use iam_domain::state::{owner_eq, CredentialOwner};
use iam_domain::Arn;

use super::OpContext;
use crate::auth::Caller;
use crate::query::ApiError;

/// How many 30-second steps either side of now a code may be from: one,
/// as AWS accepts a code just before and just after its window.
pub const CODE_WINDOW: u64 = 1;

/// Checks an MFA code the caller gives (`SerialNumber`, `TokenCode`) against
/// its own enabled device, and returns the use to record: the log refuses
/// the same code twice ([`iam_domain::event::MfaCodeUse`]). Every failure
/// is the same `AccessDenied`, which says nothing of which part was wrong.
pub fn verify_code(ctx: &OpContext<'_>, serial: &str, code: &str) -> Result<MfaCodeUse, ApiError> {
    let owner = match ctx.caller {
        Caller::Root { .. } => CredentialOwner::Root,
        Caller::User { user_name, .. } => CredentialOwner::User {
            user_name: user_name.clone(),
        },
        Caller::RoleSession { .. } => return Err(mfa_failed()),
    };
    verify_for(ctx, &owner, serial, code)
}

/// [`verify_code`] for a given owner (a sign-in names its user).
pub fn verify_for(
    ctx: &OpContext<'_>,
    owner: &CredentialOwner,
    serial: &str,
    code: &str,
) -> Result<MfaCodeUse, ApiError> {
    let state = ctx.authorizing_state();
    let serial_number = Arn::parse(serial).map_err(|_| mfa_failed())?;
    let device = state
        .mfa_by_arn(&serial_number)
        .filter(|d| {
            d.assignment
                .as_ref()
                .is_some_and(|a| owner_eq(&a.owner, owner))
        })
        .ok_or_else(mfa_failed)?;
    let stored = state.mfa_arn(device).ok_or_else(mfa_failed)?;
    let seed = open_seed(ctx, &device.seed, &stored)?;
    let counter =
        iam_mfa::verify(&seed, code, ctx.now.timestamp(), CODE_WINDOW).map_err(|_| mfa_failed())?;
    if device.last_counter.is_some_and(|last| counter <= last) {
        return Err(mfa_failed());
    }
    Ok(MfaCodeUse {
        serial_number: stored,
        counter,
    })
}

/// A device's seed: sealed under the master key with its serial number as
/// associated data, as Base32 text.
pub fn open_seed(
    ctx: &OpContext<'_>,
    sealed: &iam_domain::secrets::SealedSecret,
    serial_number: &Arn,
) -> Result<Vec<u8>, ApiError> {
    let text = iam_domain::secrets::open_string(
        &ctx.state.master_key,
        sealed,
        serial_number.to_string().as_bytes(),
    )
    .map_err(|e| {
        tracing::error!(error = %e, %serial_number, "cannot open a sealed MFA seed");
        ApiError::internal()
    })?;
    iam_mfa::base32_decode(&text).ok_or_else(ApiError::internal)
}

fn mfa_failed() -> ApiError {
    ApiError::new(
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    )
}
