//! The OpenAPI document is generated from the route table; this snapshot shows every change to
//! the API's surface in review. After an intended change, rewrite it with
//! `TOUCHSTONE_UPDATE_SNAPSHOTS=1 cargo test --workspace --test openapi`.

mod common;

use std::path::Path;

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let doc = touchstone_center::openapi::document();
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("TOUCHSTONE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == text,
        "the API changed: review the difference and rewrite the snapshot with \
         TOUCHSTONE_UPDATE_SNAPSHOTS=1 (new document:\n{text})"
    );
    // Every route of the API is documented, with who may call it; the console's pages are
    // not the API.
    for r in touchstone_center::routes::ROUTES {
        if r.page {
            assert!(
                doc["paths"].get(r.path).is_none(),
                "{} {}",
                r.method,
                r.path
            );
            continue;
        }
        let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
        assert!(
            op["x-roles"].as_array().is_some_and(|a| !a.is_empty()),
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_the_same_document() {
    let h = common::Harness::start(0).await;
    let r = h
        .call("GET", "/api/v1/openapi.json", &common::Auth::None, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, touchstone_center::openapi::document());
}
