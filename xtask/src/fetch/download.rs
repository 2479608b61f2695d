//! Downloading one URL as text: timeouts, retries with exponential backoff, and a precise reason on failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use url::Url;

use super::FetchOptions;

/// Why one download failed (after its last attempt).
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The server answered with a non-success status.
    #[error("the server answered HTTP {status}")]
    Status {
        /// The status of the last answer.
        status: StatusCode,
        /// The `Retry-After` delay the server asked for, if any (in seconds form).
        retry_after: Option<Duration>,
    },
    /// The request could not be sent or its answer could not be read.
    #[error("{kind} ({})", innermost(error))]
    Transport {
        /// What went wrong, in short.
        kind: TransportKind,
        /// The underlying error (its innermost cause is part of the message).
        error: reqwest::Error,
    },
    /// The answer had an empty body.
    #[error("the body is empty")]
    EmptyBody,
    /// The answer was an HTML page, not markdown.
    #[error("the body is HTML, not markdown")]
    Html,
}

/// A short classification of a transport error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connect timeout or the overall request timeout elapsed.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The server reset or closed the connection before answering completely.
    Reset,
    /// Any other transport failure.
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "the request timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::Reset => "the connection was reset or closed by the server",
            TransportKind::Other => "the request failed",
        })
    }
}

impl DownloadError {
    fn transport(source: reqwest::Error) -> Self {
        DownloadError::Transport {
            kind: classify_transport(&source),
            error: source,
        }
    }

    /// Whether another attempt may succeed: 5xx, 429, and every transport failure (timeouts, refused,
    /// reset or closed connections, bodies cut short). Other statuses and bad bodies are final.
    pub fn is_transient(&self) -> bool {
        match self {
            DownloadError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            DownloadError::Transport { error, .. } => !error.is_builder() && !error.is_redirect(),
            DownloadError::EmptyBody | DownloadError::Html => false,
        }
    }
}

/// The message of the deepest cause of `err` (what the OS or the HTTP layer said).
fn innermost(err: &reqwest::Error) -> String {
    let mut current: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn classify_transport(err: &reqwest::Error) -> TransportKind {
    if err.is_timeout() {
        return TransportKind::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return TransportKind::Reset;
                }
                TimedOut => return TransportKind::Timeout,
                _ => {}
            }
        }
        // hyper reports a connection closed mid-answer without an io::Error underneath.
        if e.to_string().contains("connection closed") {
            return TransportKind::Reset;
        }
        source = e.source();
    }
    if err.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    }
}

/// What `Downloader::get` expects of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCheck {
    /// Any body, even empty.
    Any,
    /// A non-empty body that is not an HTML page.
    Markdown,
}

/// An HTTP client with the fetch options' timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct Downloader {
    client: reqwest::Client,
    backoff: ExponentialBuilder,
    max_backoff: Duration,
    progress: bool,
}

impl Downloader {
    /// Builds the client (rustls, connect and overall timeouts) and the backoff policy.
    pub fn new(options: &FetchOptions) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("fanvue-rs-xtask/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .build()?;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(options.min_backoff)
            .with_max_delay(options.max_backoff)
            .with_factor(2.0)
            .with_max_times(options.retries)
            .with_jitter();
        Ok(Downloader {
            client,
            backoff,
            max_backoff: options.max_backoff,
            progress: options.progress,
        })
    }

    /// Downloads `url` as text, retrying transient failures. On failure returns the last error and how
    /// many attempts were made.
    pub async fn get(&self, url: &Url, check: BodyCheck) -> Result<String, (DownloadError, usize)> {
        let attempts = AtomicUsize::new(0);
        let attempt = || async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(url, check).await
        };
        attempt
            .retry(self.backoff)
            .when(DownloadError::is_transient)
            .adjust(|err, delay| match err {
                // Honour Retry-After, up to the longest backoff delay.
                DownloadError::Status {
                    retry_after: Some(after),
                    ..
                } => delay.map(|d| d.max((*after).min(self.max_backoff))),
                _ => delay,
            })
            .notify(|err, delay| {
                if self.progress {
                    eprintln!("retrying {url} in {delay:?}: {err}");
                }
            })
            .await
            .map_err(|e| (e, attempts.load(Ordering::Relaxed)))
    }

    async fn attempt(&self, url: &Url, check: BodyCheck) -> Result<String, DownloadError> {
        let response = self
            .client
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "text/markdown, text/plain;q=0.9, */*;q=0.1",
            )
            .send()
            .await
            .map_err(DownloadError::transport)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(DownloadError::Status {
                status,
                retry_after,
            });
        }
        let is_html_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
        let body = response.text().await.map_err(DownloadError::transport)?;
        if check == BodyCheck::Markdown {
            if body.trim().is_empty() {
                return Err(DownloadError::EmptyBody);
            }
            if is_html_type || looks_like_html(&body) {
                return Err(DownloadError::Html);
            }
        }
        Ok(body)
    }
}

fn looks_like_html(body: &str) -> bool {
    let start: String = body
        .trim_start()
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_detection() {
        assert!(looks_like_html("  <!DOCTYPE html><html>"));
        assert!(looks_like_html("<HTML>"));
        assert!(!looks_like_html("# Title\n<Info>x</Info>"));
        assert!(!looks_like_html(""));
    }
}
