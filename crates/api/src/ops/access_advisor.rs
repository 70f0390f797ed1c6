//! The access advisor (`GenerateServiceLastAccessedDetails` and the rest):
//! which services a user, group, role or policy allows, and when the users
//! and roles it applies to were last seen using each, from what iamd
//! recorded (`crate::access_advisor`).
//!
//! As in AWS, only permissions policies count (no boundaries, resource or
//! session policies), and a report is computed over one view: the job
//! records the log position its view was at, so every node answers the same
//! report. Which services a policy allows is read from its `Allow`
//! statements' actions; a wildcard namespace (`*`, `*:Get*`) or `NotAction`
//! stands for every service iamd knows of: IAM, STS, iamd itself, and every
//! service a statement of the report names or the account was seen using.
//! A report is readable by the caller that asked for it only.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use iam_domain::command::Command;
use iam_domain::policy::{Effect, PolicyDocument};
use iam_domain::state::{
    AccessReportJob, Accessor, AccountState, ReportGranularity, ServiceAccess,
};
use iam_domain::Arn;
use iam_event_store::{Position, Until};
use iam_wire::iam;

use super::shapes::{Managed, Page};
use super::{OpContext, OpResult};
use crate::query::ApiError;

/// The namespaces iamd serves, known whatever the account has used.
const OWN_SERVICES: &[&str] = &["iam", "iamd", "sts"];

/// AWS's names of common services; any other is shown by its namespace.
const SERVICE_NAMES: &[(&str, &str)] = &[
    ("iam", "AWS Identity and Access Management"),
    ("sts", "AWS Security Token Service"),
    ("iamd", "iamd"),
    ("s3", "Amazon S3"),
    ("ec2", "Amazon EC2"),
    ("lambda", "AWS Lambda"),
    ("dynamodb", "Amazon DynamoDB"),
    ("sqs", "Amazon SQS"),
    ("sns", "Amazon SNS"),
    ("kms", "AWS Key Management Service"),
    ("logs", "Amazon CloudWatch Logs"),
    ("cloudwatch", "Amazon CloudWatch"),
    ("secretsmanager", "AWS Secrets Manager"),
    ("ssm", "AWS Systems Manager"),
    ("codecommit", "AWS CodeCommit"),
];

fn service_name(namespace: &str) -> String {
    SERVICE_NAMES
        .iter()
        .find(|(n, _)| *n == namespace)
        .map_or_else(|| namespace.to_owned(), |(_, name)| (*name).to_owned())
}

/// What a report is about.
enum Reported<'s> {
    User(&'s iam_domain::state::User),
    Group(&'s iam_domain::state::Group),
    Role(&'s iam_domain::state::Role),
    Policy(Managed<'s>),
}

fn invalid_arn(arn: &str) -> ApiError {
    ApiError::new(
        400,
        "InvalidInput",
        format!(
            "ARN {} is not the ARN of a user, group, role or managed policy.",
            iam_domain::names::shown(arn)
        ),
    )
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!(
            "The entity {} does not exist.",
            iam_domain::names::shown(arn)
        ),
    )
}

/// The entity `arn` names in `state` (its path must match too).
fn resolve<'s>(
    state: &'s AccountState,
    account: &str,
    arn: &str,
    policies_too: bool,
) -> Result<Reported<'s>, ApiError> {
    let parsed = Arn::parse(arn).map_err(|_| invalid_arn(arn))?;
    let ours = parsed.account().is_none_or(|a| a.as_str() == account);
    let exact = |stored: Option<Arn>| stored.is_some_and(|s| s.to_string() == arn);
    let found = match &parsed {
        _ if !ours => None,
        Arn::User { name, .. } => state
            .users
            .get(&name.key())
            .filter(|u| exact(state.user_arn(u)))
            .map(|u| Reported::User(u)),
        Arn::Group { name, .. } => state
            .groups
            .get(&name.key())
            .filter(|g| exact(state.group_arn(g)))
            .map(|g| Reported::Group(g)),
        Arn::Role { name, .. } => state
            .roles
            .get(&name.key())
            .filter(|r| exact(state.role_arn(r)))
            .map(|r| Reported::Role(r)),
        Arn::Policy { .. } | Arn::AwsPolicy { .. } if policies_too => {
            Managed::by_arn(state, &parsed).map(Reported::Policy)
        }
        _ => return Err(invalid_arn(arn)),
    };
    found.ok_or_else(|| not_found(arn))
}

/// A permissions policy in a report's scope.
struct Source<'s> {
    name: &'s str,
    /// The managed policy's ARN; `None` for an inline policy.
    arn: Option<String>,
    /// The inline policy's owner.
    owner: Option<(iam::PolicyOwnerEntityType, &'s str)>,
    document: Option<PolicyDocument>,
}

fn inline<'s>(
    policies: &'s std::collections::BTreeMap<
        iam_domain::names::NameKey,
        iam_domain::state::InlinePolicy,
    >,
    kind: iam::PolicyOwnerEntityType,
    owner: &'s str,
) -> impl Iterator<Item = Source<'s>> + 's {
    policies.values().map(move |p| Source {
        name: p.name.as_str(),
        arn: None,
        owner: Some((kind, owner)),
        document: PolicyDocument::parse(&p.document).ok(),
    })
}

fn managed<'s>(
    state: &'s AccountState,
    keys: &'s BTreeSet<iam_domain::names::NameKey>,
) -> impl Iterator<Item = Source<'s>> + 's {
    keys.iter()
        .filter_map(move |k| Managed::by_key(state, k))
        .map(move |m| Source {
            name: m.name(),
            arn: Some(m.arn(state)),
            owner: None,
            document: m.document().and_then(|d| PolicyDocument::parse(d).ok()),
        })
}

/// The permissions policies of the entity: a user's own and its groups'.
fn sources<'s>(state: &'s AccountState, reported: &Reported<'s>) -> Vec<Source<'s>> {
    match reported {
        Reported::User(u) => {
            let mut all: Vec<Source> = inline(
                &u.inline_policies,
                iam::PolicyOwnerEntityType::User,
                u.name.as_str(),
            )
            .chain(managed(state, &u.attached_policies))
            .collect();
            for g in u.groups.iter().filter_map(|k| state.groups.get(k)) {
                all.extend(inline(
                    &g.inline_policies,
                    iam::PolicyOwnerEntityType::Group,
                    g.name.as_str(),
                ));
                all.extend(managed(state, &g.attached_policies));
            }
            all
        }
        Reported::Group(g) => inline(
            &g.inline_policies,
            iam::PolicyOwnerEntityType::Group,
            g.name.as_str(),
        )
        .chain(managed(state, &g.attached_policies))
        .collect(),
        Reported::Role(r) => inline(
            &r.inline_policies,
            iam::PolicyOwnerEntityType::Role,
            r.name.as_str(),
        )
        .chain(managed(state, &r.attached_policies))
        .collect(),
        Reported::Policy(m) => vec![Source {
            name: m.name(),
            arn: Some(m.arn(state)),
            owner: None,
            document: m.document().and_then(|d| PolicyDocument::parse(d).ok()),
        }],
    }
}

/// A user or role the report's permissions apply to.
struct Applies {
    accessor: Accessor,
    info: iam::EntityInfo,
}

fn user_applies(state: &AccountState, u: &iam_domain::state::User) -> Applies {
    Applies {
        accessor: Accessor::User {
            user_name: u.name.clone(),
        },
        info: iam::EntityInfo {
            arn: state.user_arn(u).map(|a| a.to_string()).unwrap_or_default(),
            name: u.name.as_str().to_owned(),
            r#type: iam::PolicyOwnerEntityType::User,
            id: u.id.as_str().to_owned(),
            path: Some(u.path.as_str().to_owned()),
        },
    }
}

fn role_applies(state: &AccountState, r: &iam_domain::state::Role) -> Applies {
    Applies {
        accessor: Accessor::Role {
            role_name: r.name.clone(),
        },
        info: iam::EntityInfo {
            arn: state.role_arn(r).map(|a| a.to_string()).unwrap_or_default(),
            name: r.name.as_str().to_owned(),
            r#type: iam::PolicyOwnerEntityType::Role,
            id: r.id.as_str().to_owned(),
            path: Some(r.path.as_str().to_owned()),
        },
    }
}

/// Who could have used the entity's permissions: the user or role itself,
/// a group's members, a policy's users (directly or through a group) and
/// roles.
fn applies_to(state: &AccountState, reported: &Reported<'_>) -> Vec<Applies> {
    match reported {
        Reported::User(u) => vec![user_applies(state, u)],
        Reported::Role(r) => vec![role_applies(state, r)],
        Reported::Group(g) => g
            .members
            .iter()
            .filter_map(|k| state.users.get(k))
            .map(|u| user_applies(state, u))
            .collect(),
        Reported::Policy(m) => {
            let key = m.key();
            let in_group = |u: &iam_domain::state::User| {
                u.groups.iter().any(|g| {
                    state
                        .groups
                        .get(g)
                        .is_some_and(|g| g.attached_policies.contains(&key))
                })
            };
            state
                .users
                .values()
                .filter(|u| u.attached_policies.contains(&key) || in_group(u))
                .map(|u| user_applies(state, u))
                .chain(
                    state
                        .roles
                        .values()
                        .filter(|r| r.attached_policies.contains(&key))
                        .map(|r| role_applies(state, r)),
                )
                .collect()
        }
    }
}

/// Case-insensitive `*`/`?` matching, as action patterns match.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p].eq_ignore_ascii_case(&text[t])) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// Whether an action pattern can match some action of `namespace`.
fn covers(pattern: &str, namespace: &str) -> bool {
    match pattern.split_once(':') {
        Some((prefix, _)) => glob(prefix.as_bytes(), namespace.as_bytes()),
        // No colon: the pattern spans the namespace and the action; it can
        // match one of the namespace's actions if its literal start does.
        None => {
            let literal = pattern.split(['*', '?']).next().unwrap_or_default();
            let start = format!("{namespace}:");
            literal.len() < pattern.len()
                && (start.starts_with(&literal.to_ascii_lowercase())
                    || literal.to_ascii_lowercase().starts_with(&start))
        }
    }
}

/// The namespaces the `Allow` statements of `document` reach, among
/// `known`.
fn allowed_namespaces(document: &PolicyDocument, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in document
        .statements()
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let patterns = &s.action.patterns.values;
        for ns in known {
            let hit = if s.action.negated {
                // NotAction: every namespace it does not exclude whole.
                !patterns.iter().any(|p| {
                    p.split_once(':').is_some_and(|(pre, rest)| {
                        rest == "*" && glob(pre.as_bytes(), ns.as_bytes())
                    }) || p == "*"
                })
            } else {
                patterns.iter().any(|p| covers(p, ns))
            };
            if hit {
                out.insert(ns.clone());
            }
        }
    }
    out
}

/// Every namespace iamd knows of for a report: its own, the ones the
/// account was seen using, and the literal ones the policies name.
fn known_namespaces(state: &AccountState, sources: &[Source<'_>]) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = OWN_SERVICES.iter().map(|s| (*s).to_owned()).collect();
    for log in state.service_access.values() {
        known.extend(log.keys().cloned());
    }
    for doc in sources.iter().filter_map(|s| s.document.as_ref()) {
        for st in doc.statements() {
            for p in &st.action.patterns.values {
                if let Some((ns, _)) = p.split_once(':') {
                    if !ns.contains(['*', '?']) {
                        known.insert(ns.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    known
}

pub async fn generate(
    ctx: &OpContext<'_>,
    input: iam::GenerateServiceLastAccessedDetailsRequest,
) -> OpResult<iam::GenerateServiceLastAccessedDetailsResponse> {
    ctx.authorize_arn(input.arn.clone())?;
    resolve(ctx.state(), ctx.account(), &input.arn, true)?;
    let job_id = uuid::Uuid::new_v4().to_string();
    let log_position = ctx.view.as_ref().map_or(0, |v| v.position.0);
    ctx.execute(Command::GenerateServiceLastAccessedDetails {
        job_id: job_id.clone(),
        arn: input.arn,
        granularity: match input.granularity {
            Some(iam::AccessAdvisorUsageGranularityType::ActionLevel) => ReportGranularity::Action,
            _ => ReportGranularity::Service,
        },
        log_position,
        requester: ctx.caller.arn(),
        now: ctx.now,
    })
    .await?;
    Ok(iam::GenerateServiceLastAccessedDetailsResponse {
        job_id: Some(job_id),
    })
}

/// The caller's job `job_id` and the view it reports.
async fn job(
    ctx: &OpContext<'_>,
    job_id: &str,
) -> Result<(AccessReportJob, std::sync::Arc<iam_projection::AccountView>), ApiError> {
    ctx.authorize_arn("*".into())?;
    let caller = ctx.caller.arn();
    let job = ctx
        .state()
        .access_reports
        .get(job_id)
        .filter(|j| j.requester == caller)
        .map(|j| (**j).clone())
        .ok_or_else(|| ApiError::from(iam_domain::decide::no_such_job(job_id)))?;
    let (view, _) =
        super::decisions::view_as_of(ctx.state, Until::Position(Position(job.log_position)))
            .await?;
    Ok((job, view))
}

/// The uses of `namespace` by each of `who`.
fn uses<'s>(
    state: &'s AccountState,
    who: &'s [Applies],
    namespace: &'s str,
) -> impl Iterator<Item = (&'s Applies, &'s ServiceAccess)> + 's {
    who.iter().filter_map(move |a| {
        state
            .service_access
            .get(&a.accessor.key())
            .and_then(|log| log.get(namespace))
            .map(|u| (a, u))
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetServiceLastAccessedDetailsRequest,
) -> OpResult<iam::GetServiceLastAccessedDetailsResponse> {
    let (job, view) = job(ctx, &input.job_id).await?;
    let state = &view.state;
    let reported = resolve(state, ctx.account(), &job.arn, true)?;
    let sources = sources(state, &reported);
    let known = known_namespaces(state, &sources);
    let namespaces: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| s.document.as_ref())
        .flat_map(|d| allowed_namespaces(d, &known))
        .collect();
    let who = applies_to(state, &reported);
    let page = Page::of(
        namespaces.iter().map(|n| (n.as_str(), n.as_str())),
        input.max_items,
        input.marker.as_deref(),
    );
    let services = page
        .items
        .iter()
        .map(|ns| {
            let used: Vec<_> = uses(state, &who, ns).collect();
            let last = used.iter().max_by_key(|(_, u)| u.at);
            let tracked = (job.granularity == ReportGranularity::Action).then(|| {
                let mut actions: std::collections::BTreeMap<
                    &str,
                    (DateTime<Utc>, &str, Option<&str>),
                > = Default::default();
                for (a, u) in &used {
                    for (action, at) in &u.actions {
                        let slot = actions.entry(action.as_str()).or_insert((
                            *at,
                            a.info.arn.as_str(),
                            u.region.as_deref(),
                        ));
                        if *at > slot.0 {
                            *slot = (*at, a.info.arn.as_str(), u.region.as_deref());
                        }
                    }
                }
                actions
                    .into_iter()
                    .map(
                        |(action, (at, entity, region))| iam::TrackedActionLastAccessed {
                            action_name: Some(action.to_owned()),
                            last_accessed_entity: Some(entity.to_owned()),
                            last_accessed_time: Some(at),
                            last_accessed_region: region.map(str::to_owned),
                        },
                    )
                    .collect()
            });
            iam::ServiceLastAccessed {
                service_name: service_name(ns),
                service_namespace: (*ns).to_owned(),
                last_authenticated: last.map(|(_, u)| u.at),
                last_authenticated_entity: last.map(|(a, _)| a.info.arn.clone()),
                last_authenticated_region: last.and_then(|(_, u)| u.region.clone()),
                total_authenticated_entities: Some(used.len() as i32),
                tracked_actions_last_accessed: tracked,
            }
        })
        .collect();
    Ok(iam::GetServiceLastAccessedDetailsResponse {
        job_status: iam::JobStatusType::Completed,
        job_type: Some(match job.granularity {
            ReportGranularity::Service => iam::AccessAdvisorUsageGranularityType::ServiceLevel,
            ReportGranularity::Action => iam::AccessAdvisorUsageGranularityType::ActionLevel,
        }),
        job_creation_date: job.created_at,
        services_last_accessed: services,
        job_completion_date: job.created_at,
        is_truncated: page.is_truncated(),
        marker: page.next,
        error: None,
    })
}

/// The users and roles that could have used the report's permissions for
/// one service, most recent use first (never used last, by name).
pub async fn get_with_entities(
    ctx: &OpContext<'_>,
    input: iam::GetServiceLastAccessedDetailsWithEntitiesRequest,
) -> OpResult<iam::GetServiceLastAccessedDetailsWithEntitiesResponse> {
    let (job, view) = job(ctx, &input.job_id).await?;
    let state = &view.state;
    let reported = resolve(state, ctx.account(), &job.arn, true)?;
    let who = applies_to(state, &reported);
    let namespace = input.service_namespace.to_ascii_lowercase();
    let mut details: Vec<(Option<DateTime<Utc>>, &Applies)> = who
        .iter()
        .map(|a| {
            let at = state
                .service_access
                .get(&a.accessor.key())
                .and_then(|log| log.get(&namespace))
                .map(|u| u.at);
            (at, a)
        })
        .collect();
    details.sort_by(|(x, a), (y, b)| y.cmp(x).then_with(|| a.info.arn.cmp(&b.info.arn)));
    let keyed: Vec<(String, iam::EntityDetails)> = details
        .into_iter()
        .enumerate()
        .map(|(i, (at, a))| {
            (
                format!("{i:08}"),
                iam::EntityDetails {
                    entity_info: a.info.clone(),
                    last_authenticated: at,
                },
            )
        })
        .collect();
    let page = Page::of(
        keyed.iter().map(|(k, d)| (k.as_str(), d.clone())),
        input.max_items,
        input.marker.as_deref(),
    );
    let is_truncated = page.is_truncated();
    Ok(iam::GetServiceLastAccessedDetailsWithEntitiesResponse {
        job_status: iam::JobStatusType::Completed,
        job_creation_date: job.created_at,
        job_completion_date: job.created_at,
        entity_details_list: page.items,
        is_truncated,
        marker: page.next,
        error: None,
    })
}

/// Not paged: at most 200 namespaces are asked about, each answered with
/// the policies of one identity.
pub async fn list_policies_granting(
    ctx: &OpContext<'_>,
    input: iam::ListPoliciesGrantingServiceAccessRequest,
) -> OpResult<iam::ListPoliciesGrantingServiceAccessResponse> {
    ctx.authorize_arn(input.arn.clone())?;
    let state = ctx.state();
    let reported = resolve(state, ctx.account(), &input.arn, false)?;
    let sources = sources(state, &reported);
    let entries = input
        .service_namespaces
        .iter()
        .map(|ns| {
            let namespace = ns.to_ascii_lowercase();
            let known: BTreeSet<String> = std::iter::once(namespace.clone()).collect();
            let policies = sources
                .iter()
                .filter(|s| {
                    s.document
                        .as_ref()
                        .is_some_and(|d| allowed_namespaces(d, &known).contains(&namespace))
                })
                .map(|s| iam::PolicyGrantingServiceAccess {
                    policy_name: s.name.to_owned(),
                    policy_type: if s.arn.is_some() {
                        iam::PolicyType::Managed
                    } else {
                        iam::PolicyType::Inline
                    },
                    policy_arn: s.arn.clone(),
                    entity_type: s.owner.as_ref().map(|(t, _)| *t),
                    entity_name: s.owner.as_ref().map(|(_, n)| (*n).to_owned()),
                })
                .collect();
            iam::ListPoliciesGrantingServiceAccessEntry {
                service_namespace: Some(ns.clone()),
                policies: Some(policies),
            }
        })
        .collect();
    Ok(iam::ListPoliciesGrantingServiceAccessResponse {
        policies_granting_service_access: entries,
        is_truncated: Some(false),
        marker: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_patterns_reach_namespaces() {
        assert!(covers("s3:GetObject", "s3"));
        assert!(covers("S3:*", "s3"));
        assert!(covers("*", "iam"));
        assert!(covers("*:Get*", "ec2"));
        assert!(covers("iam*", "iam"));
        assert!(covers("s?:Get*", "s3"));
        assert!(!covers("s3:GetObject", "s3control"));
        assert!(!covers("iam:*", "sts"));
        assert!(
            !covers("iam", "iam"),
            "a pattern without a colon or wildcard matches no action"
        );
        assert!(!covers("ec2*", "iam"));
    }

    #[test]
    fn only_allow_statements_count_and_not_action_excludes_whole_services() {
        let known: BTreeSet<String> = ["iam", "s3", "sts"].iter().map(|s| s.to_string()).collect();
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:Get*","Resource":"*"},
                {"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(
            allowed_namespaces(&doc, &known)
                .into_iter()
                .collect::<Vec<_>>(),
            ["s3"]
        );
        let not = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(
            allowed_namespaces(&not, &known)
                .into_iter()
                .collect::<Vec<_>>(),
            ["s3", "sts"]
        );
    }
}
