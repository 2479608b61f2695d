//! A `reqwest::ClientBuilder` for plain HTTP on loopback that builds whatever
//! TLS features this crate is compiled with. One copy, used by the tests (through
//! `support`), the `oauth` example and the `overhead` bench (with `#[path]`).
//!
//! With `rustls-ring` (the default), reqwest has rustls but no crypto provider,
//! so `reqwest::Client::new()` panics ("No rustls crypto provider is
//! configured") unless a process-wide provider is installed, which would hide a
//! client of this crate that forgot its own. The builder gets a ring
//! configuration instead, trusting no certificate: these clients only speak
//! `http://` to local servers. With the other features reqwest's own default
//! backend builds as is (aws-lc-rs, native-tls, or none).

/// `reqwest::Client::builder()`, buildable with every TLS feature set (HTTP only).
#[cfg(feature = "rustls-ring")]
pub fn plain_http_builder() -> reqwest::ClientBuilder {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder().tls_backend_preconfigured(tls)
}

/// `reqwest::Client::builder()`, buildable with every TLS feature set (HTTP only).
#[cfg(not(feature = "rustls-ring"))]
pub fn plain_http_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
}
