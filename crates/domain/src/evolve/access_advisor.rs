//! The access advisor's records.

use chrono::Duration;

use crate::event::EventData;
use crate::state::{AccessReportJob, AccountState, ServiceAccess};

/// How long a report stays readable: reports asked for longer before the
/// newest one are dropped, so the state does not grow without end.
pub const ACCESS_REPORTS_KEPT: Duration = Duration::days(30);

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::ServiceAccessed { accesses } => {
            for a in accesses {
                let log = state
                    .service_access
                    .entry(a.accessor.key())
                    .or_insert_with(|| crate::state::Shared::new(Default::default()));
                let entry = log
                    .entry(a.service.clone())
                    .or_insert_with(|| ServiceAccess {
                        at: a.at,
                        region: a.region.clone(),
                        actions: Default::default(),
                    });
                if a.at >= entry.at {
                    entry.at = a.at;
                    entry.region = a.region.clone();
                }
                let last = entry.actions.entry(a.action.clone()).or_insert(a.at);
                *last = (*last).max(a.at);
            }
        }
        EventData::ServiceLastAccessedReportRequested {
            job_id,
            arn,
            granularity,
            log_position,
            requester,
            created_at,
        } => {
            let oldest = *created_at - ACCESS_REPORTS_KEPT;
            let expired: Vec<String> = state
                .access_reports
                .iter()
                .filter(|(_, j)| j.created_at < oldest)
                .map(|(k, _)| k.clone())
                .collect();
            for k in expired {
                state.access_reports.remove(&k);
            }
            state.access_reports.insert(
                job_id.clone(),
                crate::state::Shared::new(AccessReportJob {
                    job_id: job_id.clone(),
                    arn: arn.clone(),
                    granularity: *granularity,
                    log_position: *log_position,
                    requester: requester.clone(),
                    created_at: *created_at,
                }),
            );
        }
        _ => {}
    }
}
