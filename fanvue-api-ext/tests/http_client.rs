//! `http_client_builder`: a reqwest client with this crate's TLS backend, built
//! without a process-wide crypto provider, works as the client's own.

use fanvue_api_ext::Fanvue;
use fanvue_api_ext::prelude::*;

#[tokio::test]
async fn a_client_from_http_client_builder_serves_the_sdk() {
    let fake = fanvue_fake::FakeFanvue::builder()
        .start()
        .await
        .expect("fake starts");
    // With the default `rustls-ring`, `reqwest::Client::new()` would panic here.
    let http = fanvue_api_ext::http_client_builder()
        .expect("TLS backend")
        .build()
        .expect("client builds");
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .http_client(http.clone())
        .build()
        .expect("SDK client builds");
    let me = fanvue
        .api()
        .get_current_user()
        .send()
        .await
        .expect("request through the given client");
    assert!(!me.handle.is_empty());
    // And the same client for any other request.
    let status = http
        .get(format!("{}/users/me", fake.api_url()))
        .bearer_auth(fake.access_token())
        .header("X-Fanvue-API-Version", fanvue_fake::DEFAULT_API_VERSION)
        .send()
        .await
        .expect("plain request")
        .status();
    assert_eq!(status.as_u16(), 200);
}
