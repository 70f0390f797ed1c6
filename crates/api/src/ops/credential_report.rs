//! `GenerateCredentialReport` and `GetCredentialReport`: AWS's CSV of every
//! user's credentials (password, MFA, access keys and their last use),
//! computed from the account's view, which is the log's.
//!
//! Generating records a `CredentialReportGenerated` event naming the log
//! position the generating node's view was at; the report is the
//! account's view at that position, so every node serves the same report
//! (it is computed when read, from the view of that moment, which the
//! past-view cache keeps). A report is served for four hours, as AWS
//! serves one, and generating again within them records nothing.
//! The certificate columns report the owner's first two signing
//! certificates, by upload time.

use chrono::{DateTime, Utc};
use iam_domain::decide::CREDENTIAL_REPORT_KEPT;
use iam_domain::state::{AccessKey, AccessKeyStatus, CredentialOwner};
use iam_domain::{AccountState, Command};
use iam_event_store::{Position, Until};
use iam_wire::iam;

use super::{OpContext, OpResult};
use crate::query::ApiError;

const COLUMNS: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,\
access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,\
cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A CSV field: quoted when it holds a comma, quote or line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The five columns of one access key (or of none).
fn key_columns(key: Option<&AccessKey>) -> [String; 5] {
    match key {
        None => [
            "false".into(),
            "N/A".into(),
            "N/A".into(),
            "N/A".into(),
            "N/A".into(),
        ],
        Some(k) => {
            let used = k.last_used.as_ref();
            [
                (k.status == AccessKeyStatus::Active).to_string(),
                time(&k.created_at),
                used.map_or("N/A".into(), |u| time(&u.used_at)),
                used.map_or("N/A".into(), |u| u.region.clone()),
                used.map_or("N/A".into(), |u| u.service_name.clone()),
            ]
        }
    }
}

/// The four columns of the owner's first two signing certificates.
fn cert_columns(state: &AccountState, owner: &CredentialOwner) -> [String; 4] {
    let mut certs: Vec<_> = state
        .signing_certificates
        .values()
        .filter(|c| iam_domain::state::owner_eq(&c.owner, owner))
        .collect();
    certs.sort_by_key(|c| c.uploaded_at);
    let cert = |i: usize| match certs.get(i) {
        Some(c) => [
            (c.status == AccessKeyStatus::Active).to_string(),
            time(&c.uploaded_at),
        ],
        None => ["false".into(), "N/A".into()],
    };
    let [a, b] = cert(0);
    let [c, d] = cert(1);
    [a, b, c, d]
}

fn keys_of<'s>(state: &'s AccountState, owner: &CredentialOwner) -> Vec<&'s AccessKey> {
    let mut keys: Vec<&AccessKey> = state
        .access_keys
        .values()
        .filter(|k| k.owner == *owner)
        .map(|k| &**k)
        .collect();
    keys.sort_by_key(|k| k.created_at);
    keys
}

/// The report's CSV text.
pub fn report(state: &AccountState, account: &str) -> String {
    let mut out = String::from(COLUMNS);
    out.push('\n');
    let mut row = |cells: Vec<String>| {
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    };
    if let Some(a) = &state.account {
        let keys = keys_of(state, &CredentialOwner::Root);
        let mut cells = vec![
            "<root_account>".to_owned(),
            format!("arn:aws:iam::{account}:root"),
            time(&a.created_at),
            "not_supported".into(),
            "N/A".into(),
            "not_supported".into(),
            "not_supported".into(),
            (!a.root_mfa_devices.is_empty()).to_string(),
        ];
        cells.extend(key_columns(keys.first().copied()));
        cells.extend(key_columns(keys.get(1).copied()));
        cells.extend(cert_columns(state, &CredentialOwner::Root));
        row(cells);
    }
    for u in state.users.values() {
        let owner = CredentialOwner::User {
            user_name: u.name.clone(),
        };
        let keys = keys_of(state, &owner);
        let login = u.login_profile.as_ref();
        let mut cells = vec![
            u.name.as_str().to_owned(),
            state.user_arn(u).map(|a| a.to_string()).unwrap_or_default(),
            time(&u.created_at),
            login.is_some().to_string(),
            "N/A".into(),
            login.map_or("N/A".into(), |l| time(&l.created_at)),
            "N/A".into(),
            (!u.mfa_devices.is_empty()).to_string(),
        ];
        cells.extend(key_columns(keys.first().copied()));
        cells.extend(key_columns(keys.get(1).copied()));
        cells.extend(cert_columns(state, &owner));
        row(cells);
    }
    out
}

pub async fn generate(
    ctx: &OpContext<'_>,
    _: (),
) -> OpResult<iam::GenerateCredentialReportResponse> {
    ctx.authorize_arn("*".into())?;
    let log_position = ctx.view.as_ref().map_or(0, |v| v.position.0);
    ctx.execute(Command::GenerateCredentialReport {
        now: ctx.now,
        log_position,
    })
    .await?;
    Ok(iam::GenerateCredentialReportResponse {
        state: Some(iam::ReportStateType::Complete),
        description: Some("The credential report is ready.".into()),
    })
}

pub async fn get(ctx: &OpContext<'_>, _: ()) -> OpResult<iam::GetCredentialReportResponse> {
    ctx.authorize_arn("*".into())?;
    let Some(generated) = ctx.state().credential_report.clone() else {
        return Err(ApiError::new(
            410,
            "ReportNotPresent",
            "Credential report not present. Use GenerateCredentialReport to generate a report.",
        ));
    };
    if ctx.now - generated.generated_at > CREDENTIAL_REPORT_KEPT {
        return Err(ApiError::new(
            410,
            "ReportExpired",
            "Credential report expired. Use GenerateCredentialReport to generate a new report.",
        ));
    }
    let (view, _) =
        super::decisions::view_as_of(ctx.state, Until::Position(Position(generated.log_position)))
            .await?;
    Ok(iam::GetCredentialReportResponse {
        content: Some(report(&view.state, ctx.account()).into_bytes()),
        report_format: Some(iam::ReportFormatType::TextCsv),
        generated_time: Some(generated.generated_at),
    })
}
