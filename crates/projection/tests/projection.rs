//! Projections on PostgreSQL and SQLite: views from commands, rebuilds,
//! two nodes racing on one database, time travel, snapshots, a killed writer.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use iam_domain::ids::{AccountId, GroupId, PolicyId, UserId};
use iam_domain::metadata::{Actor, EventMetadata};
use iam_domain::names::{GroupName, IamPath, InlinePolicyName, PolicyName, UserName};
use iam_domain::{AccountState, Arn, Command};
use iam_evaluator::{Context, Outcome, Principal, Request};
use iam_event_store::testing::TestDatabase;
use iam_event_store::{
    verify, EventStore, ExpectedVersion, NewEvent, Position, Snapshot, Until, Verification,
};
use iam_projection::history::account_as_of;
use iam_projection::stats::AppendResult;
use iam_projection::{
    report, snapshot, PrincipalKey, Projection, ProjectionConfig, ProjectionError,
};

const ACCOUNT: &str = "123456789012";
const READ_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#;
const DENY_SECRET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::secret/*"}]}"#;

fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

fn meta() -> EventMetadata {
    EventMetadata {
        actor: Actor {
            principal_arn: format!("arn:aws:iam::{ACCOUNT}:root"),
            principal_id: Some(ACCOUNT.into()),
            access_key_id: None,
            session_name: None,
        },
        request_id: uuid::Uuid::new_v4().to_string(),
        source_ip: Some("127.0.0.1".into()),
        user_agent: Some("projection-test".into()),
        correlation_id: None,
        causation_id: None,
        action: None,
        target: None,
    }
}

fn create_account() -> Command {
    Command::CreateAccount {
        account_id: account(),
        now: now(),
    }
}

fn create_user(name: &str, n: u32) -> Command {
    Command::CreateUser {
        user_name: UserName::parse(name).unwrap(),
        path: None,
        user_id: UserId::parse(&format!("AIDA{n:016}")).unwrap(),
        permissions_boundary: None,
        tags: vec![],
        now: now(),
    }
}

fn create_group(name: &str, n: u32) -> Command {
    Command::CreateGroup {
        group_name: GroupName::parse(name).unwrap(),
        path: None,
        group_id: GroupId::parse(&format!("AGPA{n:016}")).unwrap(),
        now: now(),
    }
}

fn create_policy(name: &str, n: u32, document: &str) -> Command {
    Command::CreatePolicy {
        policy_name: PolicyName::parse(name).unwrap(),
        path: None,
        policy_id: PolicyId::parse(&format!("ANPA{n:016}")).unwrap(),
        policy_document: document.into(),
        description: None,
        tags: vec![],
        now: now(),
    }
}

fn policy_arn(name: &str) -> Arn {
    Arn::policy(
        &account(),
        &IamPath::root(),
        &PolicyName::parse(name).unwrap(),
    )
}

fn add_to_group(user: &str, group: &str) -> Command {
    Command::AddUserToGroup {
        group_name: GroupName::parse(group).unwrap(),
        user_name: UserName::parse(user).unwrap(),
    }
}

fn new_default_version(policy: &str, document: &str) -> Command {
    Command::CreatePolicyVersion {
        policy_arn: policy_arn(policy),
        policy_document: document.into(),
        set_as_default: true,
        now: now(),
    }
}

fn config() -> ProjectionConfig {
    ProjectionConfig {
        snapshot_every: 3,
        poll_interval: Duration::from_millis(50),
        ..ProjectionConfig::default()
    }
}

/// The key every projection of these tests authenticates its snapshots with.
fn key() -> snapshot::SnapshotKey {
    config().snapshot_key
}

async fn exec(p: &Arc<Projection>, c: Command) -> Position {
    p.execute(&account(), &c, &meta()).await.unwrap().position
}

async fn commands_build_views(store: Arc<dyn EventStore>) {
    let p = Projection::new(store.clone(), config());
    exec(&p, create_account()).await;
    exec(&p, create_user("alice", 1)).await;
    exec(&p, create_group("devs", 1)).await;
    exec(&p, add_to_group("alice", "devs")).await;
    exec(&p, create_policy("ReadAll", 1, READ_ALL)).await;
    let last = exec(
        &p,
        Command::AttachGroupPolicy {
            group_name: GroupName::parse("devs").unwrap(),
            policy_arn: policy_arn("ReadAll"),
        },
    )
    .await;

    // Read your own writes: the view already has the change.
    let view = p.view(&account()).unwrap();
    assert_eq!(view.position, last);
    assert_eq!(view.stream_version, 6);
    let alice = &view.state.users[&UserName::parse("alice").unwrap().key()];
    assert_eq!(alice.groups.len(), 1);

    // A refused command writes nothing.
    let head = store.head().await.unwrap();
    let err = p
        .execute(&account(), &create_user("ALICE", 2), &meta())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProjectionError::Domain(e) if e.code() == "EntityAlreadyExists"),
        "{err}"
    );
    assert_eq!(store.head().await.unwrap(), head);

    // Metadata travels with every event.
    let stored = store.read_all(Position::START, 100).await.unwrap();
    assert!(stored
        .iter()
        .all(|e| e.metadata["actor"]["principal_arn"] == format!("arn:aws:iam::{ACCOUNT}:root")));
    assert_eq!(stored[1].event_type, "UserCreated");

    // The derived index: alice's effective policies come from her group.
    let effective = view
        .effective_policies(&PrincipalKey::User(UserName::parse("alice").unwrap().key()))
        .unwrap();
    assert_eq!(effective.sources, vec!["policy/readall".to_string()]);
    let request = |resource: &str| {
        Request::new(
            Principal::parse(&format!("arn:aws:iam::{ACCOUNT}:user/alice")),
            "s3:GetObject",
            resource,
            None,
            Context::new(),
            now(),
        )
    };
    assert_eq!(
        effective
            .authorizer
            .evaluate(&request("arn:aws:s3:::secret/x"))
            .outcome,
        Outcome::Allow
    );

    // A change to alice replaces her cached set: an inline deny now wins.
    exec(
        &p,
        Command::PutUserPolicy {
            user_name: UserName::parse("alice").unwrap(),
            policy_name: InlinePolicyName::parse("NoSecrets").unwrap(),
            policy_document: DENY_SECRET.into(),
        },
    )
    .await;
    let view = p.view(&account()).unwrap();
    let effective = view
        .effective_policies(&PrincipalKey::User(UserName::parse("alice").unwrap().key()))
        .unwrap();
    assert_eq!(
        effective
            .authorizer
            .evaluate(&request("arn:aws:s3:::secret/x"))
            .outcome,
        Outcome::ExplicitDeny
    );
    assert_eq!(
        effective
            .authorizer
            .evaluate(&request("arn:aws:s3:::public/x"))
            .outcome,
        Outcome::Allow
    );

    // A second projection rebuilt from the log equals the live one.
    let fresh = Projection::new(store.clone(), config());
    fresh.catch_up().await.unwrap();
    assert_eq!(
        *fresh.view(&account()).unwrap(),
        *p.view(&account()).unwrap()
    );
    assert_eq!(fresh.position(), p.position());
}

async fn two_nodes_converge_under_racing_writes(
    store_a: Arc<dyn EventStore>,
    store_b: Arc<dyn EventStore>,
) {
    let a = Projection::new(store_a, config());
    let b = Projection::new(store_b, config());
    exec(&a, create_account()).await;
    let follower_a = tokio::spawn(a.clone().follow());
    let follower_b = tokio::spawn(b.clone().follow());

    let mut tasks = Vec::new();
    for (node, projection) in [(0u32, a.clone()), (1u32, b.clone())] {
        for worker in 0..3u32 {
            let projection = projection.clone();
            tasks.push(tokio::spawn(async move {
                let mut attempts = 0;
                for i in 0..10u32 {
                    let n = node * 1000 + worker * 100 + i;
                    let outcome = projection
                        .execute(&account(), &create_user(&format!("user-{n}"), n), &meta())
                        .await
                        .unwrap();
                    attempts += outcome.attempts;
                }
                attempts
            }));
        }
    }
    let mut total_attempts = 0;
    for t in tasks {
        total_attempts += t.await.unwrap();
    }
    // 60 creates; racing writers on one stream must have conflicted and retried.
    assert!(
        total_attempts > 60,
        "expected retries after conflicts, got {total_attempts} attempts"
    );

    let head = a.store().head().await.unwrap().position;
    a.wait_for(head, Duration::from_secs(10)).await.unwrap();
    b.wait_for(head, Duration::from_secs(10)).await.unwrap();
    let va = a.view(&account()).unwrap();
    let vb = b.view(&account()).unwrap();
    assert_eq!(va.state.users.len(), 60, "no write lost");
    assert_eq!(*va, *vb, "both nodes converge");
    // Each node applied its own writes while its follower read the log: the
    // result is still the log's, event for event.
    let replayed = Projection::new(a.store().clone(), config());
    replayed.catch_up().await.unwrap();
    assert_eq!(*replayed.view(&account()).unwrap(), *va);
    follower_a.abort();
    follower_b.abort();
}

async fn time_travel_at_every_step(store: Arc<dyn EventStore>) {
    let p = Projection::new(store.clone(), config());
    let script = vec![
        create_account(),
        create_user("alice", 1),
        create_group("devs", 1),
        add_to_group("alice", "devs"),
        create_policy("ReadAll", 1, READ_ALL),
        Command::AttachUserPolicy {
            user_name: UserName::parse("alice").unwrap(),
            policy_arn: policy_arn("ReadAll"),
        },
        create_user("bob", 2),
        Command::DetachUserPolicy {
            user_name: UserName::parse("alice").unwrap(),
            policy_arn: policy_arn("ReadAll"),
        },
        Command::RemoveUserFromGroup {
            group_name: GroupName::parse("devs").unwrap(),
            user_name: UserName::parse("alice").unwrap(),
        },
        Command::DeleteUser {
            user_name: UserName::parse("alice").unwrap(),
        },
    ];
    // Expected states come from the pure core alone.
    let mut expected_states = vec![(Position::START, AccountState::default())];
    let mut times = Vec::new();
    for command in &script {
        let position = exec(&p, command.clone()).await;
        expected_states.push((position, p.view(&account()).unwrap().state.clone()));
        times.push(store.read_all(Position(position.0 - 1), 1).await.unwrap()[0].recorded_at);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut pure = AccountState::default();
    for (i, command) in script.iter().enumerate() {
        for e in iam_domain::decide(&pure, command, &iam_domain::Quotas::default()).unwrap() {
            iam_domain::evolve(&mut pure, &e);
        }
        assert_eq!(pure, expected_states[i + 1].1, "step {i}");
    }
    // Snapshots were written along the way (every 3 events).
    assert!(store
        .load_snapshot(&snapshot::name(&account()), Position(100))
        .await
        .unwrap()
        .is_some());

    for (i, (position, expected)) in expected_states.iter().enumerate() {
        let view = account_as_of(&store, &key(), &account(), Until::Position(*position))
            .await
            .unwrap();
        assert_eq!(
            &view.state, expected,
            "as of position {position} (step {i})"
        );
        if i > 0 {
            let by_time = account_as_of(&store, &key(), &account(), Until::Time(times[i - 1]))
                .await
                .unwrap();
            assert_eq!(
                &by_time.state,
                expected,
                "as of time {} (step {i})",
                times[i - 1]
            );
        }
    }
    // Before anything happened: empty.
    let before = account_as_of(
        &store,
        &key(),
        &account(),
        Until::Time(times[0] - chrono::Duration::seconds(1)),
    )
    .await
    .unwrap();
    assert_eq!(before.state, AccountState::default());

    // The report names what the auditor asks about.
    let at_step_6 = account_as_of(
        &store,
        &key(),
        &account(),
        Until::Position(expected_states[6].0),
    )
    .await
    .unwrap();
    let json = report::account_report(&at_step_6);
    assert_eq!(json["users"][0]["user_name"], "alice");
    assert_eq!(json["users"][0]["groups"][0], "devs");
    assert_eq!(
        json["users"][0]["attached_policies"][0],
        format!("arn:aws:iam::{ACCOUNT}:policy/ReadAll")
    );
    assert_eq!(json["policies"][0]["default_version"], "v1");
}

async fn untrusted_snapshots_are_ignored(store: Arc<dyn EventStore>) {
    let p = Projection::new(
        store.clone(),
        ProjectionConfig {
            snapshot_every: 0,
            ..config()
        },
    );
    exec(&p, create_account()).await;
    let at = exec(&p, create_user("alice", 1)).await;
    // A snapshot from a future build (unknown schema) and a corrupt one.
    for (version, data) in [
        (snapshot::schema_version() + 1, b"{}".to_vec()),
        (snapshot::schema_version(), b"garbage".to_vec()),
    ] {
        store
            .save_snapshot(&Snapshot {
                name: snapshot::name(&account()),
                position: at,
                schema_version: version,
                data,
            })
            .await
            .unwrap();
        let view = account_as_of(&store, &key(), &account(), Until::Position(at))
            .await
            .unwrap();
        assert_eq!(
            view.state,
            p.view(&account()).unwrap().state,
            "rebuilt from the log"
        );
    }
}

/// A restarting node starts from the newest checkpoint and catches up
/// from there to the same views a full replay gives; a checkpoint it cannot
/// trust is ignored.
async fn a_restarting_node_starts_from_its_checkpoint(store: Arc<dyn EventStore>) {
    let config = ProjectionConfig {
        checkpoint_every: 4,
        ..config()
    };
    // The writer saves no checkpoints of its own: the test controls which
    // exist (a writer's are saved in the background, whenever they finish).
    let writer = Projection::new(
        store.clone(),
        ProjectionConfig {
            checkpoint_every: 0,
            ..config.clone()
        },
    );
    exec(&writer, create_account()).await;
    exec(&writer, create_group("devs", 1)).await;
    for (i, name) in ["alice", "bob", "carol"].into_iter().enumerate() {
        exec(&writer, create_user(name, i as u32 + 1)).await;
        exec(&writer, add_to_group(name, "devs")).await;
    }
    // A follower catching up over the log saves a checkpoint on the way.
    let follower = Projection::new(store.clone(), config.clone());
    let head = follower.catch_up().await.unwrap();
    let checkpoint = store
        .load_snapshot(snapshot::CHECKPOINT, head)
        .await
        .unwrap()
        .expect("a checkpoint");
    assert_eq!(checkpoint.position, head);

    // A new node starts there, without replaying anything.
    let restarted = Projection::new(store.clone(), config.clone());
    assert_eq!(restarted.restore().await.unwrap(), head);
    assert_eq!(restarted.position(), head);
    assert_eq!(
        *restarted.view(&account()).unwrap(),
        *follower.view(&account()).unwrap()
    );
    // ... and follows the log from there.
    exec(&writer, create_user("dave", 4)).await;
    let now = restarted.catch_up().await.unwrap();
    let replayed = Projection::new(
        store.clone(),
        ProjectionConfig {
            checkpoint_every: 0,
            ..config.clone()
        },
    );
    assert_eq!(replayed.catch_up().await.unwrap(), now);
    assert_eq!(
        *restarted.view(&account()).unwrap(),
        *replayed.view(&account()).unwrap()
    );
    assert_eq!(restarted.view(&account()).unwrap().state.users.len(), 4);

    // Checkpoints it cannot trust (from a future build, corrupt, or taken
    // from another log: the hash at its position differs) are passed over
    // for the newest one it can.
    let from_another_log = snapshot::encode_checkpoint(
        &key(),
        now,
        &"0".repeat(64),
        [&*replayed.view(&account()).unwrap()],
    );
    for (version, data) in [
        (snapshot::schema_version() + 1, b"{}".to_vec()),
        (snapshot::schema_version(), b"garbage".to_vec()),
        (snapshot::schema_version(), from_another_log.data.clone()),
    ] {
        store
            .save_snapshot(&Snapshot {
                name: snapshot::CHECKPOINT.into(),
                position: now,
                schema_version: version,
                data,
            })
            .await
            .unwrap();
        let fresh = Projection::new(store.clone(), config.clone());
        assert_eq!(
            fresh.restore().await.unwrap(),
            head,
            "the older, trusted one"
        );
        fresh.catch_up().await.unwrap();
        assert_eq!(
            *fresh.view(&account()).unwrap(),
            *replayed.view(&account()).unwrap()
        );
    }
    // With none it can trust, it replays the log from the start.
    store
        .prune_snapshots(snapshot::CHECKPOINT, now)
        .await
        .unwrap();
    let fresh = Projection::new(store.clone(), config.clone());
    assert_eq!(fresh.restore().await.unwrap(), Position::START);
    fresh.catch_up().await.unwrap();
    assert_eq!(
        *fresh.view(&account()).unwrap(),
        *replayed.view(&account()).unwrap()
    );
}

async fn a_cancelled_writer_leaves_log_and_views_consistent(store: Arc<dyn EventStore>) {
    let p = Projection::new(store.clone(), config());
    exec(&p, create_account()).await;
    // A writer is cancelled (its task aborted) in the middle of appending a
    // large batch. Appends run in their own task, so the batch commits or
    // rolls back as a whole and nothing is left holding a lock.
    let writer_store = store.clone();
    let writer = tokio::spawn(async move {
        let events: Vec<NewEvent> = (0..5000)
            .map(|i| {
                NewEvent::new(
                    "Filler",
                    1,
                    serde_json::json!({"i": i, "pad": "x".repeat(200)}),
                )
            })
            .collect();
        writer_store
            .append("unrelated", ExpectedVersion::Any, events)
            .await
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    writer.abort();
    let _ = writer.await;
    // Whatever happened, it happened entirely or not at all.
    let unrelated = store.stream_version("unrelated").await.unwrap();
    assert!(
        unrelated == 0 || unrelated == 5000,
        "partial batch: {unrelated}"
    );
    assert!(matches!(
        verify(store.as_ref()).await.unwrap(),
        Verification::Intact { .. }
    ));
    // Writes go on, and a rebuilt view equals the live one.
    exec(&p, create_user("carol", 3)).await;
    let fresh = Projection::new(store.clone(), config());
    fresh.catch_up().await.unwrap();
    assert_eq!(
        *fresh.view(&account()).unwrap(),
        *p.view(&account()).unwrap()
    );
}

async fn a_stale_node_retries_after_a_conflict(store: Arc<dyn EventStore>) {
    let a = Projection::new(store.clone(), config());
    let b = Projection::new(store.clone(), config());
    exec(&a, create_account()).await;
    b.catch_up().await.unwrap();
    // A writes; B has not seen it, so B's first append conflicts.
    exec(&a, create_user("alice", 1)).await;
    let outcome = b
        .execute(&account(), &create_user("bob", 2), &meta())
        .await
        .unwrap();
    assert_eq!(outcome.attempts, 2, "one conflict, one retry");
    // B's stale view also must not refuse what only the latest state allows.
    exec(&a, create_group("devs", 1)).await;
    let joined = b
        .execute(&account(), &add_to_group("alice", "devs"), &meta())
        .await
        .unwrap();
    assert!(joined.attempts >= 2);
    a.catch_up().await.unwrap();
    assert_eq!(*a.view(&account()).unwrap(), *b.view(&account()).unwrap());
    assert_eq!(a.view(&account()).unwrap().state.users.len(), 2);
}

/// A projection counts its work for the server's metrics: appends by
/// outcome and the events they wrote, and the time and size of every
/// snapshot and checkpoint it writes.
async fn stats_count_appends_snapshots_and_checkpoints(store: Arc<dyn EventStore>) {
    let config = ProjectionConfig {
        snapshot_every: 2,
        checkpoint_every: 3,
        ..config()
    };
    let writer = Projection::new(store.clone(), config.clone());
    let stale = Projection::new(store.clone(), config.clone());
    exec(&writer, create_account()).await;
    stale.catch_up().await.unwrap();
    for (i, name) in ["alice", "bob", "carol"].into_iter().enumerate() {
        exec(&writer, create_user(name, i as u32 + 1)).await;
    }
    // The stale node's first append conflicts; it catches up and retries.
    let outcome = stale
        .execute(&account(), &create_user("dave", 4), &meta())
        .await
        .unwrap();
    assert_eq!(outcome.attempts, 2);
    let head = store.head().await.unwrap().position.0;

    let appends = &writer.stats().appends;
    assert_eq!(appends.calls(AppendResult::Appended), 4);
    assert_eq!(appends.calls(AppendResult::Conflict), 0);
    let written = appends.events();
    assert_eq!(appends.durations.count(), 4);
    let appends = &stale.stats().appends;
    assert_eq!(appends.calls(AppendResult::Conflict), 1);
    assert_eq!(appends.calls(AppendResult::Appended), 1);
    assert_eq!(appends.events(), outcome.events.len() as u64);
    assert_eq!(
        written + appends.events(),
        head,
        "every event, counted once"
    );
    assert_eq!(appends.durations.count(), 2);

    // A follower's catch-up waits for the snapshots and the checkpoint it
    // starts: one snapshot every 2 of the account's events, one checkpoint
    // (at most one per page of the log).
    let follower = Projection::new(store.clone(), config.clone());
    follower.catch_up().await.unwrap();
    let stats = follower.stats();
    assert_eq!(stats.appends.durations.count(), 0, "it wrote nothing");
    assert_eq!(stats.snapshots.count(), head / 2);
    assert_eq!(stats.checkpoints.count(), 1);
    assert_eq!(stats.snapshots.failures() + stats.checkpoints.failures(), 0);
    // (Snapshots are saved in parallel: which finished last is not known.)
    assert!(stats.snapshots.last_bytes() > 0);
    let checkpoint = store
        .load_snapshot(snapshot::CHECKPOINT, Position(head))
        .await
        .unwrap()
        .expect("a checkpoint");
    assert_eq!(stats.checkpoints.last_bytes(), checkpoint.data.len() as u64);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    for write in [&stats.snapshots, &stats.checkpoints] {
        assert!(write.last_unix_millis() <= now && write.last_unix_millis() + 60_000 > now);
        assert!(write.durations.last_micros() <= write.durations.sum_micros());
    }

    // The writer saves its own in the background, without waiting.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while writer.stats().snapshots.count() == 0 || writer.stats().checkpoints.count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer's snapshots and checkpoint were not counted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(writer.stats().snapshots.last_bytes() > 0);
}

async fn wait_for_times_out_clearly(store: Arc<dyn EventStore>) {
    let p = Projection::new(store, config());
    let err = p
        .wait_for(Position(99), Duration::from_millis(20))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the view did not reach log position 99 within the wait (it is at 0)"
    );
}

/// Commands for one account arriving together are written in batches, and
/// each still gets its own answer: its own refusal, or the position of its
/// own last event. The result is what running them one by one gives.
async fn concurrent_commands_are_batched_and_answered_one_by_one(store: Arc<dyn EventStore>) {
    let p = Projection::new(store.clone(), config());
    exec(&p, create_account()).await;
    let mut tasks = Vec::new();
    for i in 0..40u32 {
        let command = match i {
            // Pairs that race for one name: exactly one of each wins.
            0..=9 => create_user(&format!("twin-{}", i / 2), 100 + i),
            // Refused whatever the order: the group never exists.
            10..=14 => add_to_group("nobody", "ghosts"),
            _ => create_user(&format!("user-{i}"), 100 + i),
        };
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            (
                command.clone(),
                p.execute(&account(), &command, &meta()).await,
            )
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    let mut largest_batch = 0;
    let mut twins_created = 0;
    for (command, result) in &results {
        match (command, result) {
            (Command::AddUserToGroup { .. }, Err(ProjectionError::Domain(e))) => {
                assert_eq!(e.code(), "NoSuchEntity")
            }
            (Command::CreateUser { user_name, .. }, Err(ProjectionError::Domain(e))) => {
                assert!(user_name.as_str().starts_with("twin-"), "{user_name}: {e}");
                assert_eq!(e.code(), "EntityAlreadyExists");
            }
            (Command::CreateUser { user_name, .. }, Ok(outcome)) => {
                largest_batch = largest_batch.max(outcome.batch);
                twins_created += usize::from(user_name.as_str().starts_with("twin-"));
                // The answer's position is this command's own event.
                let at = store
                    .read_all(Position(outcome.position.0 - 1), 1)
                    .await
                    .unwrap();
                assert_eq!(at[0].event_type, "UserCreated");
                assert_eq!(at[0].payload["user_name"], user_name.as_str());
                assert_eq!(outcome.events.len(), 1);
            }
            (command, result) => panic!("{command:?}: unexpected {result:?}"),
        }
    }
    assert_eq!(twins_created, 5, "one of each pair");
    assert!(
        largest_batch > 1,
        "40 commands arriving at once were written one at a time"
    );

    let view = p.view(&account()).unwrap();
    assert_eq!(view.state.users.len(), 5 + 25);
    let fresh = Projection::new(store.clone(), config());
    fresh.catch_up().await.unwrap();
    assert_eq!(
        *fresh.view(&account()).unwrap(),
        *view,
        "the log says the same"
    );
}

/// A principal's compiled policies are reused across writes that touch
/// none of what they were built from, and rebuilt after any write that does:
/// the principal, one of its groups, an attached or boundary policy.
async fn effective_policies_follow_exactly_what_they_depend_on(store: Arc<dyn EventStore>) {
    let p = Projection::new(store.clone(), config());
    exec(&p, create_account()).await;
    exec(&p, create_user("alice", 1)).await;
    exec(&p, create_group("devs", 1)).await;
    exec(&p, add_to_group("alice", "devs")).await;
    exec(&p, create_policy("ReadAll", 1, READ_ALL)).await;
    exec(&p, create_policy("Bound", 2, READ_ALL)).await;
    exec(
        &p,
        Command::AttachGroupPolicy {
            group_name: GroupName::parse("devs").unwrap(),
            policy_arn: policy_arn("ReadAll"),
        },
    )
    .await;
    let alice = PrincipalKey::User(UserName::parse("alice").unwrap().key());
    let current = || {
        p.view(&account())
            .unwrap()
            .effective_policies(&alice)
            .unwrap()
    };
    let mut last = current();
    assert_eq!(last.sources, vec!["policy/readall".to_string()]);

    // (write, whether alice's policies depend on what it changes)
    let steps: Vec<(Command, bool)> = vec![
        (create_user("bob", 2), false),
        (create_group("ops", 2), false),
        (add_to_group("bob", "ops"), false),
        (
            Command::AttachGroupPolicy {
                group_name: GroupName::parse("ops").unwrap(),
                policy_arn: policy_arn("Bound"),
            },
            false,
        ),
        (new_default_version("ReadAll", DENY_SECRET), true),
        (
            Command::PutGroupPolicy {
                group_name: GroupName::parse("devs").unwrap(),
                policy_name: InlinePolicyName::parse("Team").unwrap(),
                policy_document: READ_ALL.into(),
            },
            true,
        ),
        (
            Command::PutUserPermissionsBoundary {
                user_name: UserName::parse("alice").unwrap(),
                permissions_boundary: policy_arn("Bound"),
            },
            true,
        ),
        (new_default_version("Bound", DENY_SECRET), true),
        (
            Command::RemoveUserFromGroup {
                group_name: GroupName::parse("devs").unwrap(),
                user_name: UserName::parse("alice").unwrap(),
            },
            true,
        ),
        (create_user("carol", 3), false),
    ];
    for (command, touches_alice) in steps {
        let label = format!("{command:?}");
        exec(&p, command).await;
        let now = current();
        assert_eq!(
            !Arc::ptr_eq(&now, &last),
            touches_alice,
            "after {label}: rebuilt = {}",
            !Arc::ptr_eq(&now, &last)
        );
        // Whatever was reused or rebuilt, it is what a fresh build gives.
        let fresh =
            iam_projection::EffectivePolicies::build(&p.view(&account()).unwrap().state, &alice)
                .unwrap();
        assert_eq!(now.sources, fresh.sources, "after {label}");
        last = now;
    }
    assert!(last.sources.is_empty(), "{:?}", last.sources);

    // Renames move entities between keys.
    exec(&p, add_to_group("alice", "ops")).await;
    exec(
        &p,
        Command::PutGroupPolicy {
            group_name: GroupName::parse("ops").unwrap(),
            policy_name: InlinePolicyName::parse("OpsInline").unwrap(),
            policy_document: READ_ALL.into(),
        },
    )
    .await;
    let before = current();
    exec(
        &p,
        Command::UpdateGroup {
            group_name: GroupName::parse("ops").unwrap(),
            new_group_name: Some(GroupName::parse("operations").unwrap()),
            new_path: None,
        },
    )
    .await;
    let after = current();
    assert!(!Arc::ptr_eq(&before, &after), "a group rename rebuilds");
    assert!(
        after
            .sources
            .contains(&"group/operations inline OpsInline".to_string()),
        "{:?}",
        after.sources
    );
    exec(
        &p,
        Command::UpdateUser {
            user_name: UserName::parse("alice").unwrap(),
            new_user_name: Some(UserName::parse("alicia").unwrap()),
            new_path: None,
        },
    )
    .await;
    let view = p.view(&account()).unwrap();
    assert!(
        view.effective_policies(&alice).is_none(),
        "the old name is gone"
    );
    let alicia = PrincipalKey::User(UserName::parse("alicia").unwrap().key());
    let renamed = view.effective_policies(&alicia).unwrap();
    let fresh = iam_projection::EffectivePolicies::build(&view.state, &alicia).unwrap();
    assert_eq!(renamed.sources, fresh.sources);
    // And a user created under the old name is a new principal.
    exec(&p, create_user("alice", 9)).await;
    let view = p.view(&account()).unwrap();
    assert!(view.effective_policies(&alice).unwrap().sources.is_empty());
}

/// An event this build cannot read stops a replay with an error naming its
/// position; it is never skipped. Views cut before it still answer.
async fn an_unreadable_event_stops_time_travel(store: Arc<dyn EventStore>) {
    let p = Projection::new(store.clone(), config());
    exec(&p, create_account()).await;
    let before = exec(&p, create_user("alice", 1)).await;
    let bad = store
        .append(
            &account().stream_name(),
            ExpectedVersion::Any,
            vec![NewEvent::new(
                "UserTeleported",
                2,
                serde_json::json!({"account_id": ACCOUNT}),
            )],
        )
        .await
        .unwrap();
    let err = account_as_of(
        &store,
        &key(),
        &account(),
        Until::Position(bad.last_position),
    )
    .await
    .unwrap_err();
    match err {
        ProjectionError::Unreadable {
            position,
            event_type,
            ..
        } => {
            assert_eq!(position, bad.last_position.0);
            assert_eq!(event_type, "UserTeleported");
        }
        other => panic!("expected Unreadable, got {other}"),
    }
    let view = account_as_of(&store, &key(), &account(), Until::Position(before))
        .await
        .unwrap();
    assert_eq!(view.state.users.len(), 1);
}

/// Stored documents that no longer parse (appended around `decide`, which
/// would refuse them) never broaden access: an unreadable permissions
/// boundary denies everything instead of vanishing; an unreadable identity
/// policy that may deny denies everything; one that only allows is dropped.
async fn unreadable_stored_policies_never_broaden_access(store: Arc<dyn EventStore>) {
    use iam_domain::event::{Event, EventData, SCHEMA_VERSION};
    use iam_domain::ids::PolicyVersionId;
    use iam_domain::state::EntityRef;

    let p = Projection::new(store.clone(), config());
    exec(&p, create_account()).await;
    for (i, name) in ["alice", "bob", "carol", "dave"].iter().enumerate() {
        exec(&p, create_user(name, i as u32 + 1)).await;
        exec(
            &p,
            Command::PutUserPolicy {
                user_name: UserName::parse(name).unwrap(),
                policy_name: InlinePolicyName::parse("ReadAll").unwrap(),
                policy_document: READ_ALL.into(),
            },
        )
        .await;
    }
    exec(&p, create_policy("Bound", 1, READ_ALL)).await;
    exec(
        &p,
        Command::PutUserPermissionsBoundary {
            user_name: UserName::parse("alice").unwrap(),
            permissions_boundary: policy_arn("Bound"),
        },
    )
    .await;

    // The parser refuses an unknown element; `decide` would refuse them all.
    let broken_allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Bogus":1}]}"#;
    let broken_deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::secret/*","Bogus":1}]}"#;
    let user = |n: &str| EntityRef::User {
        user_name: UserName::parse(n).unwrap(),
    };
    let raw = |data: EventData| {
        let e = Event {
            account_id: account(),
            data,
        };
        NewEvent::new(e.event_type(), SCHEMA_VERSION, e.to_payload())
            .with_metadata(serde_json::to_value(meta()).unwrap())
    };
    store
        .append(
            &account().stream_name(),
            ExpectedVersion::Any,
            vec![
                // alice's boundary: a new default version that does not parse.
                raw(EventData::PolicyVersionCreated {
                    policy_name: PolicyName::parse("Bound").unwrap(),
                    version_id: PolicyVersionId::parse("v2").unwrap(),
                    policy_document: broken_allow.into(),
                    set_as_default: true,
                    created_at: now(),
                }),
                raw(EventData::InlinePolicyPut {
                    target: user("bob"),
                    policy_name: InlinePolicyName::parse("Broken").unwrap(),
                    policy_document: broken_deny.into(),
                }),
                raw(EventData::InlinePolicyPut {
                    target: user("carol"),
                    policy_name: InlinePolicyName::parse("Broken").unwrap(),
                    policy_document: broken_allow.into(),
                }),
                raw(EventData::InlinePolicyPut {
                    target: user("dave"),
                    policy_name: InlinePolicyName::parse("Broken").unwrap(),
                    policy_document: "not JSON at all".into(),
                }),
            ],
        )
        .await
        .unwrap();
    p.catch_up().await.unwrap();
    let view = p.view(&account()).unwrap();
    let decide = |who: &str, action: &str, resource: &str| {
        let effective = view
            .effective_policies(&PrincipalKey::User(UserName::parse(who).unwrap().key()))
            .unwrap();
        let request = Request::new(
            Principal::parse(&format!("arn:aws:iam::{ACCOUNT}:user/{who}")),
            action,
            resource,
            None,
            Context::new(),
            now(),
        );
        effective.authorizer.evaluate(&request).outcome
    };
    // alice: her identity policy allows, her unreadable boundary does not.
    assert_eq!(
        decide("alice", "s3:GetObject", "arn:aws:s3:::public/x"),
        Outcome::ExplicitDeny
    );
    // bob: a policy that may deny and cannot be read denies everything.
    assert_eq!(
        decide("bob", "s3:GetObject", "arn:aws:s3:::public/x"),
        Outcome::ExplicitDeny
    );
    assert_eq!(decide("bob", "iam:ListUsers", "*"), Outcome::ExplicitDeny);
    let bob = view
        .effective_policies(&PrincipalKey::User(UserName::parse("bob").unwrap().key()))
        .unwrap();
    assert!(bob
        .sources
        .contains(&"user/bob inline Broken (unreadable: denies everything)".to_string()));
    // carol: an unreadable Allow is dropped: what else she has still works,
    // and the broken grant (s3:*) gives nothing.
    assert_eq!(
        decide("carol", "s3:GetObject", "arn:aws:s3:::public/x"),
        Outcome::Allow
    );
    assert_eq!(
        decide("carol", "s3:PutObject", "arn:aws:s3:::public/x"),
        Outcome::ImplicitDeny
    );
    // dave: not JSON, so it may deny: everything is denied.
    assert_eq!(
        decide("dave", "s3:GetObject", "arn:aws:s3:::public/x"),
        Outcome::ExplicitDeny
    );
}

macro_rules! on_both {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db = iam_event_store::testing::TestDatabase::postgres().await;
                    super::$test(iam_event_store::open(db.url()).await.unwrap()).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db = iam_event_store::testing::TestDatabase::sqlite().await;
                    super::$test(iam_event_store::open(db.url()).await.unwrap()).await;
                }
            )*
        }
    };
}

on_both!(
    commands_build_views,
    time_travel_at_every_step,
    untrusted_snapshots_are_ignored,
    a_cancelled_writer_leaves_log_and_views_consistent,
    wait_for_times_out_clearly,
    a_stale_node_retries_after_a_conflict,
    stats_count_appends_snapshots_and_checkpoints,
    an_unreadable_event_stops_time_travel,
    concurrent_commands_are_batched_and_answered_one_by_one,
    a_restarting_node_starts_from_its_checkpoint,
    effective_policies_follow_exactly_what_they_depend_on,
    unreadable_stored_policies_never_broaden_access,
);

/// A snapshot or checkpoint row changed in the database (here: re-encoded
/// with a user removed and sealed under a key other than the node's, as
/// someone with write access to the database but not the master key could)
/// is ignored: time travel and a restarting node rebuild the true state
/// from the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_tampered_snapshot_rows_are_ignored_and_rebuilt_from_the_log() {
    let db = TestDatabase::postgres().await;
    let store = iam_event_store::open(db.url()).await.unwrap();
    let config = ProjectionConfig {
        snapshot_every: 3,
        checkpoint_every: 3,
        ..config()
    };
    let p = Projection::new(store.clone(), config.clone());
    exec(&p, create_account()).await;
    exec(&p, create_user("alice", 1)).await;
    let at = exec(&p, create_user("mallory", 2)).await;
    p.catch_up().await.unwrap();
    let truth = p.view(&account()).unwrap();
    assert_eq!(truth.state.users.len(), 2);

    // Wait for the background saves of the snapshot and checkpoint at `at`.
    let name = snapshot::name(&account());
    for _ in 0..200 {
        let saved = store.load_snapshot(&name, at).await.unwrap();
        let checkpoint = store.load_snapshot(snapshot::CHECKPOINT, at).await.unwrap();
        if saved.is_some_and(|s| s.position == at) && checkpoint.is_some_and(|c| c.position == at) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let saved = store
        .load_snapshot(&name, at)
        .await
        .unwrap()
        .expect("a snapshot");
    assert_eq!(saved.position, at);
    assert!(snapshot::is_authentic(&key(), &saved));

    // The forgery: alice removed, sealed under the attacker's key.
    let attacker = snapshot::SnapshotKey::from_bytes([0xa5; 32]);
    let mut forged_view = (*truth).clone();
    forged_view
        .state
        .users
        .remove(&UserName::parse("alice").unwrap().key())
        .expect("alice");
    let forged = snapshot::encode(&attacker, &account(), &forged_view);
    let forged_checkpoint = snapshot::encode_checkpoint(
        &attacker,
        at,
        &store.head().await.unwrap().hash.to_hex(),
        [&forged_view],
    );
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    for (name, data) in [
        (&name[..], &forged.data),
        (snapshot::CHECKPOINT, &forged_checkpoint.data),
    ] {
        let changed =
            sqlx::query("UPDATE snapshots SET data = $1 WHERE name = $2 AND position = $3")
                .bind(data)
                .bind(name)
                .bind(at.0 as i64)
                .execute(&pool)
                .await
                .unwrap();
        assert_eq!(changed.rows_affected(), 1, "{name}");
    }
    // What the forgery would have served, had it been trusted.
    assert_eq!(
        snapshot::decode(&attacker, &forged)
            .unwrap()
            .state
            .users
            .len(),
        1
    );

    let view = account_as_of(&store, &key(), &account(), Until::Position(at))
        .await
        .unwrap();
    assert_eq!(view.state, truth.state, "time travel rebuilt from the log");
    let restarted = Projection::new(store.clone(), config.clone());
    assert_eq!(
        restarted.restore().await.unwrap(),
        Position::START,
        "the forged checkpoint is not restored"
    );
    restarted.catch_up().await.unwrap();
    assert_eq!(restarted.view(&account()).unwrap().state, truth.state);
}

/// Two nodes: two separate connection pools (two stores, as two processes
/// would have) on one database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_nodes_converge_under_racing_writes() {
    let db = TestDatabase::postgres().await;
    let a = iam_event_store::open(db.url()).await.unwrap();
    let b = iam_event_store::open(db.url()).await.unwrap();
    two_nodes_converge_under_racing_writes(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_nodes_converge_under_racing_writes() {
    let db = TestDatabase::sqlite().await;
    let a = iam_event_store::open(db.url()).await.unwrap();
    let b = iam_event_store::open(db.url()).await.unwrap();
    two_nodes_converge_under_racing_writes(a, b).await;
}
