//! Temporary credentials and sign-ins: records, checked only for what the
//! log alone can know. The shell authenticated the caller and weighed the
//! policies; what it cannot check on its own is whether an MFA code was
//! already used on another node. Every node decides on the same log, so a
//! code spent anywhere is refused everywhere.

use super::{not_routed_here, Ctx, Decision};
use crate::command::Command;
use crate::error::DomainError;
use crate::event::{EventData, MfaCodeUse};

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    match command {
        Command::RecordTemporaryCredentials(issued) => {
            if let Some(used) = &issued.mfa {
                spend(ctx, used)?;
            }
            ctx.one(EventData::TemporaryCredentialsIssued(issued.clone()))
        }
        Command::RecordSignInFailure {
            user_name,
            reason,
            source_ip,
            suppressed,
            at,
        } => ctx.one(EventData::SignInFailed {
            user_name: user_name.clone(),
            reason: reason.clone(),
            source_ip: source_ip.clone(),
            suppressed: *suppressed,
            at: *at,
        }),
        other => not_routed_here(other, "session"),
    }
}

/// Refuses a code of a device that is not in use, or one whose counter the
/// device has already accepted (or passed).
fn spend(ctx: &Ctx, used: &MfaCodeUse) -> Result<(), DomainError> {
    let refused = || {
        DomainError::AccessDenied(
            "MultiFactorAuthentication failed with invalid MFA one time pass code.".into(),
        )
    };
    let dev = ctx
        .state
        .mfa_by_arn(&used.serial_number)
        .filter(|d| d.assignment.is_some())
        .ok_or_else(refused)?;
    if dev.last_counter.is_some_and(|last| used.counter <= last) {
        return Err(refused());
    }
    Ok(())
}
