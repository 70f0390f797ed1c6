//! The health endpoints, driven through the router without a socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use iam_api::app::{router, AppState};
use iam_event_store::testing::TestDatabase;
use tower::ServiceExt;

fn state(store: std::sync::Arc<dyn iam_event_store::EventStore>) -> AppState {
    AppState {
        projection: iam_projection::Projection::new(store.clone(), Default::default()),
        store,
        account_id: iam_domain::ids::AccountId::parse("123456789012").unwrap(),
        root: iam_api::credentials::RootCredentials {
            access_key_id: "AKIAROOTROOTROOT0001".into(),
            secret_access_key: "secret".into(),
        },
        master_key: std::sync::Arc::new(iam_domain::secrets::MasterKey::from_bytes([1; 32])),
        key_use: Default::default(),
        denials: Default::default(),
        past_views: Default::default(),
        metrics: Default::default(),
        clock: Default::default(),
        sign_in_failures: Default::default(),
        sessions: Default::default(),
        verifications: Default::default(),
        log_verifications: Default::default(),
        issuers: std::sync::Arc::new(iam_api::federation::Issuers::new(false)),
        saml_metadata: std::sync::Arc::default(),
        service_use: std::sync::Arc::default(),
    }
}

async fn get(app: axum::Router, path: &str) -> (StatusCode, String) {
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn healthz_and_readyz_on_postgres() {
    let db = TestDatabase::for_server().await;
    let store = iam_event_store::open(db.url()).await.unwrap();
    let app = router(state(store));
    assert_eq!(
        get(app.clone(), "/healthz").await,
        (StatusCode::OK, "ok".into())
    );
    assert_eq!(get(app, "/readyz").await, (StatusCode::OK, "ok".into()));
}

/// On PostgreSQL only: the test drops the database under the server.
#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let db = TestDatabase::postgres().await;
    let store = iam_event_store::open(db.url()).await.unwrap();
    let app = router(state(store));
    assert_eq!(get(app.clone(), "/readyz").await.0, StatusCode::OK);
    drop(db); // DROP DATABASE ... WITH (FORCE) terminates the pool's connections
    let (status, body) = get(app.clone(), "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body, "not ready: event store unreachable");
    assert_eq!(
        get(app, "/healthz").await.0,
        StatusCode::OK,
        "liveness does not depend on the store"
    );
}
