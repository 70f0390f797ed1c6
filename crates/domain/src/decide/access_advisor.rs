//! The access advisor's records: which services users and roles used, and
//! the reports asked for.

use super::{not_routed_here, Ctx, Decision};
use crate::command::{Command, ServiceAccessRecord};
use crate::error::DomainError;
use crate::event::EventData;
use crate::state::{Accessor, AccountState};

pub(super) fn decide(ctx: &Ctx, command: &Command) -> Decision {
    let state = ctx.state;
    match command {
        Command::RecordServiceAccess { accesses } => {
            let newer: Vec<ServiceAccessRecord> = accesses
                .iter()
                .filter(|a| exists(state, &a.accessor) && is_newer(state, a))
                .cloned()
                .collect();
            if newer.is_empty() {
                return Ok(vec![]);
            }
            ctx.one(EventData::ServiceAccessed { accesses: newer })
        }
        Command::GenerateServiceLastAccessedDetails {
            job_id,
            arn,
            granularity,
            log_position,
            requester,
            now,
        } => {
            if state.access_reports.contains_key(job_id) {
                return Err(super::errors::id_taken(job_id));
            }
            ctx.one(EventData::ServiceLastAccessedReportRequested {
                job_id: job_id.clone(),
                arn: arn.clone(),
                granularity: *granularity,
                log_position: *log_position,
                requester: requester.clone(),
                created_at: *now,
            })
        }
        other => not_routed_here(other, "access advisor"),
    }
}

fn exists(state: &AccountState, accessor: &Accessor) -> bool {
    match accessor {
        Accessor::User { user_name } => state.users.contains_key(&user_name.key()),
        Accessor::Role { role_name } => state.roles.contains_key(&role_name.key()),
    }
}

/// Whether the record says something the log does not: a later use of
/// the service or of the action.
fn is_newer(state: &AccountState, record: &ServiceAccessRecord) -> bool {
    let Some(log) = state.service_access.get(&record.accessor.key()) else {
        return true;
    };
    let Some(service) = log.get(&record.service) else {
        return true;
    };
    service.at < record.at
        && service
            .actions
            .get(&record.action)
            .is_none_or(|last| *last < record.at)
}

/// The error for a report that does not exist (or is not the caller's).
pub fn no_such_job(job_id: &str) -> DomainError {
    DomainError::NoSuchEntity(format!("No such job: {}", crate::names::shown(job_id)))
}
