//! The TLS backend of the HTTP clients this crate creates, chosen by Cargo
//! features (a client given with
//! [`FanvueBuilder::http_client`](crate::FanvueBuilder::http_client) keeps its own):
//!
//! - `rustls-ring` (default): rustls with the *ring* crypto provider, set on
//!   each client this crate builds (no process-wide provider is installed),
//!   with the platform's root certificates. ring compiles a little C and
//!   assembly with the system C compiler; no cmake, no aws-lc.
//! - `rustls-aws-lc`: rustls with aws-lc-rs, reqwest's default provider
//!   (builds aws-lc's C code: slower to compile, offers FIPS).
//! - `native-tls`: the platform's TLS library (OpenSSL on Linux).
//!
//! When several are enabled, `rustls-ring` wins for the clients this crate builds.

use crate::error::TransportError;

/// A `reqwest::ClientBuilder` with this crate's TLS backend: the one the
/// clients it builds use (with the default `rustls-ring`: rustls with the
/// *ring* provider and the platform's root certificates).
///
/// Start from it to build a client of your own (a proxy, extra root
/// certificates, timeouts) for [`FanvueBuilder::http_client`] or
/// [`FanvueBuilder::transfer_client`], or for any other request. With
/// `rustls-ring`, reqwest has rustls but no process-wide crypto provider, so
/// `reqwest::Client::new()` (and `reqwest::get`) panic unless your own
/// reqwest dependency enables one; a client from this builder does not.
///
/// ```no_run
/// let http = fanvue_api_ext::http_client_builder()?
///     .connect_timeout(std::time::Duration::from_secs(5))
///     .build()?;
/// let fanvue = fanvue_api_ext::Fanvue::builder()
///     .access_token("...")
///     .http_client(http)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`TransportError`] when the platform's root certificates cannot be
/// loaded (`rustls-ring`).
///
/// [`FanvueBuilder::http_client`]: crate::FanvueBuilder::http_client
/// [`FanvueBuilder::transfer_client`]: crate::FanvueBuilder::transfer_client
pub fn client_builder() -> Result<reqwest::ClientBuilder, TransportError> {
    let builder = reqwest::Client::builder();
    #[cfg(feature = "rustls-ring")]
    let builder = builder.tls_backend_preconfigured(ring::config()?);
    Ok(builder)
}

/// A client with this crate's TLS backend, configured by `configure`, for
/// infallible constructors. If the platform's root certificates cannot be
/// loaded, its TLS connections fail with a certificate error (the settings of
/// `configure`, e.g. no redirects, still apply).
pub(crate) fn default_client_with(
    configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> reqwest::Client {
    match client_builder().and_then(|builder| {
        configure(builder)
            .build()
            .map_err(TransportError::from_reqwest)
    }) {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "TLS setup failed; HTTPS requests of this client will fail");
            configure(fallback_builder()).build().unwrap_or_default()
        }
    }
}

#[cfg(feature = "rustls-ring")]
fn fallback_builder() -> reqwest::ClientBuilder {
    match ring::without_roots() {
        Some(config) => reqwest::Client::builder().tls_backend_preconfigured(config),
        None => reqwest::Client::builder(),
    }
}

#[cfg(not(feature = "rustls-ring"))]
fn fallback_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
}

#[cfg(feature = "rustls-ring")]
mod ring {
    use std::sync::{Arc, OnceLock};

    use rustls::ClientConfig;
    use rustls::crypto::CryptoProvider;
    use rustls_platform_verifier::BuilderVerifierExt as _;

    use crate::error::{TransportError, TransportErrorKind};

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// HTTP/2 when the server offers it, else HTTP/1.1 (what reqwest asks for
    /// when it builds the TLS configuration itself).
    fn with_alpn(mut config: ClientConfig) -> ClientConfig {
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config
    }

    /// The TLS configuration: ring, safe protocol versions, the platform's
    /// verifier (loaded once per process).
    pub(super) fn config() -> Result<ClientConfig, TransportError> {
        static CONFIG: OnceLock<Result<ClientConfig, String>> = OnceLock::new();
        CONFIG
            .get_or_init(|| {
                let config = ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .with_platform_verifier()
                    .map_err(|e| format!("platform certificate verifier: {e}"))?
                    .with_no_client_auth();
                Ok(with_alpn(config))
            })
            .clone()
            .map_err(|reason| TransportError::new(TransportErrorKind::Other, reason))
    }

    /// A configuration that trusts no certificate (every handshake fails);
    /// `None` only if ring lacked the default protocol versions (it has them).
    pub(super) fn without_roots() -> Option<ClientConfig> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .ok()?;
        Some(with_alpn(
            builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_clients_use_ring() {
            let ring = rustls::crypto::ring::default_provider();
            let suites = |p: &CryptoProvider| {
                p.cipher_suites
                    .iter()
                    .map(|s| s.suite())
                    .collect::<Vec<_>>()
            };
            // This machine has CA certificates; the configuration loads them.
            let config = config().expect("TLS configuration");
            assert_eq!(suites(config.crypto_provider()), suites(&ring));
            assert_eq!(config.alpn_protocols[0], b"h2");
            let fallback = without_roots().expect("ring has the default versions");
            assert_eq!(suites(fallback.crypto_provider()), suites(&ring));
        }
    }
}
