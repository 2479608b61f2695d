//! `cargo xtask fetch`: download Fanvue's API-reference pages as markdown into `DIR/<group>/<slug>.md`.
//!
//! 1. Download the index (`llms.txt`) and find its reference pages ([`index`], which also states the `.md`
//!    rule). An index without reference pages is an error.
//! 2. Download every page, at most [`FetchOptions::concurrency`] at a time, each with connect and overall
//!    timeouts and retries with exponential backoff on 5xx, 429, timeouts and reset connections
//!    ([`download`]). The first page that fails ends the run with an error naming its URL and the reason.
//! 3. Download Fanvue's official OpenAPI document ([`DEFAULT_OPENAPI_URL`]), which must parse as an OpenAPI 3
//!    JSON document; it is written as `DIR/openapi.json`, beside the pages.
//! 4. Only when every page (and the official document) is in memory, write them into a temporary folder beside `DIR` and rename it into
//!    place ([`staging`]): `DIR` is either left as it was or fully replaced.

pub mod download;
pub mod index;
pub mod staging;

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use url::Url;

pub use download::{DownloadError, TransportKind};
pub use index::PageRef;

/// The index of Fanvue's API reference.
pub const DEFAULT_INDEX_URL: &str = "https://api.fanvue.com/docs/llms.txt";

/// Fanvue's official OpenAPI document.
pub const DEFAULT_OPENAPI_URL: &str = "https://api.fanvue.com/openapi";

/// The file name of the official document in the output folder.
pub const OPENAPI_FILE: &str = "openapi.json";

/// Arguments of `cargo xtask fetch`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// URL of the reference index (markdown listing the reference pages).
    #[arg(long, value_name = "URL", default_value = DEFAULT_INDEX_URL)]
    pub index_url: Url,
    /// URL of Fanvue's official OpenAPI document (written as DIR/openapi.json).
    #[arg(long, value_name = "URL", default_value = DEFAULT_OPENAPI_URL)]
    pub openapi_url: Url,
    /// Output folder; replaced as a whole once every page is downloaded.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many pages to download at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Overall timeout of one request, in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
    /// How many times a failed request is retried (5xx, 429, timeouts, reset connections).
    #[arg(long, default_value_t = 4)]
    pub retries: usize,
}

/// Tuning of [`fetch_all`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Timeout for establishing a connection.
    pub connect_timeout: Duration,
    /// Overall timeout of one request (connect, send, and read the whole body).
    pub request_timeout: Duration,
    /// How many times a failed request is retried (so at most `retries + 1` attempts).
    pub retries: usize,
    /// Delay before the first retry; doubled (with jitter) on each further retry.
    pub min_backoff: Duration,
    /// Longest delay between two attempts (also caps a server's `Retry-After`).
    pub max_backoff: Duration,
    /// How many pages are downloaded at once (at least 1).
    pub concurrency: usize,
    /// Print retries and a summary on stderr.
    pub progress: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retries: 4,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            concurrency: 4,
            progress: false,
        }
    }
}

/// What [`fetch_all`] wrote.
#[derive(Debug, Clone)]
pub struct FetchReport {
    /// The pages now in the output folder, sorted by group and slug.
    pub pages: Vec<PageRef>,
    /// How many links of the index were not reference pages.
    pub ignored_links: usize,
    /// The output folder.
    pub out_dir: PathBuf,
    /// The official document's path in the output folder, when it was downloaded.
    pub openapi: Option<PathBuf>,
}

/// Why `cargo xtask fetch` failed. The output folder is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The index could not be downloaded.
    #[error("cannot download the index {url} ({attempts} attempt(s)): {reason}")]
    Index {
        /// The index URL.
        url: Url,
        /// How many attempts were made.
        attempts: usize,
        /// Why the last attempt failed (part of the message).
        reason: DownloadError,
    },
    /// The index lists no API-reference page.
    #[error(
        "the index {url} lists no API-reference page (links like .../api-reference/reference/<group>/<slug>)"
    )]
    NoReferencePages {
        /// The index URL.
        url: Url,
    },
    /// A page could not be downloaded.
    #[error("cannot download page {url} ({attempts} attempt(s)): {reason}")]
    Page {
        /// The page's markdown URL.
        url: Url,
        /// How many attempts were made.
        attempts: usize,
        /// Why the last attempt failed (part of the message).
        reason: DownloadError,
    },
    /// The official OpenAPI document could not be downloaded.
    #[error(
        "cannot download the official OpenAPI document {url} ({attempts} attempt(s)): {reason}"
    )]
    Official {
        /// Its URL.
        url: Url,
        /// How many attempts were made.
        attempts: usize,
        /// Why the last attempt failed (part of the message).
        reason: DownloadError,
    },
    /// The official OpenAPI document is not an OpenAPI 3 JSON document.
    #[error("the official OpenAPI document {url} is not usable: {reason}")]
    NotOpenApi {
        /// Its URL.
        url: Url,
        /// What is wrong with it.
        reason: String,
    },
    /// The output path exists and is not a folder.
    #[error("{path} exists and is not a folder")]
    NotADirectory {
        /// The output path.
        path: PathBuf,
    },
    /// The output path has no usable final name (like `..` or `/`).
    #[error("{path} cannot be the output folder: it needs a final name in UTF-8")]
    InvalidOutput {
        /// The output path.
        path: PathBuf,
    },
    /// Writing the output failed.
    #[error("cannot write {path}")]
    Io {
        /// The path being written or renamed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Runs `cargo xtask fetch`.
pub fn run(args: Args) -> Result<(), FetchError> {
    let options = FetchOptions {
        request_timeout: Duration::from_secs(args.timeout_secs.max(1)),
        retries: args.retries,
        concurrency: args.concurrency,
        progress: true,
        ..FetchOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(FetchError::Runtime)?;
    let report = runtime.block_on(fetch_with_official(
        &args.index_url,
        Some(&args.openapi_url),
        &args.out,
        &options,
    ))?;
    eprintln!(
        "fetched {} reference pages and the official OpenAPI document into {} ({} other links ignored)",
        report.pages.len(),
        report.out_dir.display(),
        report.ignored_links
    );
    Ok(())
}

/// Downloads the index at `index_url` and every reference page it lists into `out_dir/<group>/<slug>.md`,
/// replacing `out_dir` only when everything succeeded.
pub async fn fetch_all(
    index_url: &Url,
    out_dir: &Path,
    options: &FetchOptions,
) -> Result<FetchReport, FetchError> {
    fetch_with_official(index_url, None, out_dir, options).await
}

/// Like [`fetch_all`], and also downloads the official OpenAPI document at `openapi_url` (when given) into
/// `out_dir/openapi.json`. It must be an OpenAPI 3 JSON document; otherwise nothing is written.
pub async fn fetch_with_official(
    index_url: &Url,
    openapi_url: Option<&Url>,
    out_dir: &Path,
    options: &FetchOptions,
) -> Result<FetchReport, FetchError> {
    staging::check_destination(out_dir)?;
    let downloader = download::Downloader::new(options).map_err(FetchError::Client)?;

    let index_text = downloader
        .get(index_url, download::BodyCheck::Any)
        .await
        .map_err(|(reason, attempts)| FetchError::Index {
            url: index_url.clone(),
            attempts,
            reason,
        })?;
    let listing = index::reference_pages(&index_text, index_url);
    if listing.pages.is_empty() {
        return Err(FetchError::NoReferencePages {
            url: index_url.clone(),
        });
    }

    let downloader = &downloader;
    let mut pages: Vec<(PageRef, String)> = futures::stream::iter(listing.pages.iter().cloned())
        .map(|page| async move {
            match downloader
                .get(&page.url, download::BodyCheck::Markdown)
                .await
            {
                Ok(markdown) => Ok((page, markdown)),
                Err((reason, attempts)) => Err(FetchError::Page {
                    url: page.url,
                    attempts,
                    reason,
                }),
            }
        })
        .buffer_unordered(options.concurrency.max(1))
        .try_collect()
        .await?;
    pages.sort_by(|a, b| a.0.cmp(&b.0));

    let mut extra = Vec::new();
    if let Some(url) = openapi_url {
        let text = downloader
            .get(url, download::BodyCheck::Any)
            .await
            .map_err(|(reason, attempts)| FetchError::Official {
                url: url.clone(),
                attempts,
                reason,
            })?;
        crate::normalize::official::parse(&text, url.as_str()).map_err(|e| {
            FetchError::NotOpenApi {
                url: url.clone(),
                reason: e.to_string(),
            }
        })?;
        extra.push((PathBuf::from(OPENAPI_FILE), text));
    }

    staging::replace_dir_with(out_dir, &pages, &extra)?;
    Ok(FetchReport {
        pages: pages.into_iter().map(|(page, _)| page).collect(),
        ignored_links: listing.ignored_links,
        out_dir: out_dir.to_path_buf(),
        openapi: openapi_url.map(|_| out_dir.join(OPENAPI_FILE)),
    })
}
