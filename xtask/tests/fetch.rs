//! `cargo xtask fetch` against local HTTP servers on loopback that serve an index and pages written here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;
use xtask::fetch::{
    DownloadError, FetchError, FetchOptions, TransportKind, fetch_all, fetch_with_official,
};

/// What the test server answers to one request.
#[derive(Clone)]
enum Reply {
    /// 200 with this markdown.
    Page(&'static str),
    /// 200 with this index text (`{base}` replaced by the server's base URL).
    Index(String),
    /// This status, with an optional `Retry-After` in seconds.
    Status(u16, Option<u64>),
    /// 200 with an HTML body.
    Html,
    /// Never answers.
    Stall,
}

/// A loopback HTTP server answering each path with a script of replies (the last one repeats), counting
/// requests per path. Paths without a script answer 404.
#[derive(Default)]
struct Site {
    scripts: Mutex<HashMap<String, Vec<Reply>>>,
    hits: Mutex<HashMap<String, usize>>,
}

impl Site {
    fn script(&self, path: &str, replies: Vec<Reply>) {
        self.scripts
            .lock()
            .unwrap()
            .insert(path.to_owned(), replies);
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn answer(State(site): State<Arc<Site>>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    let hit = {
        let mut hits = site.hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let reply = {
        let scripts = site.scripts.lock().unwrap();
        scripts
            .get(&path)
            .and_then(|replies| replies.get(hit - 1).or(replies.last()).cloned())
    };
    match reply {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Reply::Page(text)) => {
            ([(header::CONTENT_TYPE, "text/markdown")], text).into_response()
        }
        Some(Reply::Index(text)) => text.into_response(),
        Some(Reply::Status(code, retry_after)) => {
            let status = StatusCode::from_u16(code).unwrap();
            match retry_after {
                Some(secs) => (status, [(header::RETRY_AFTER, secs.to_string())]).into_response(),
                None => status.into_response(),
            }
        }
        Some(Reply::Html) => (
            [(header::CONTENT_TYPE, "text/html")],
            "<!DOCTYPE html><html></html>",
        )
            .into_response(),
        Some(Reply::Stall) => std::future::pending::<Response>().await,
    }
}

/// Starts a site; returns it and its base URL (`http://127.0.0.1:PORT`).
async fn start_site() -> (Arc<Site>, String) {
    let site = Arc::new(Site::default());
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(site.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (site, format!("http://{addr}"))
}

/// A raw TCP server that reads each request and resets the first `resets` connections (RST), then
/// answers `body` with 200. Returns its address and the count of connections accepted.
async fn start_resetting_server(
    resets: usize,
    body: &'static str,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buf[..read]),
                    }
                }
                if n < resets {
                    // Dropping a socket with a zero linger sends RST instead of FIN.
                    let _ = stream.set_zero_linger();
                    drop(stream);
                } else {
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/markdown\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                }
            });
        }
    });
    (addr, accepted)
}

/// Fast retries, generous timeouts (tests that need a short timeout set it themselves).
fn options() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        retries: 3,
        min_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
        concurrency: 4,
        progress: false,
    }
}

fn index_url(base: &str) -> Url {
    Url::parse(&format!("{base}/docs/llms.txt")).unwrap()
}

const REF: &str = "/docs/api-reference/reference";

/// Every file under `dir`, as sorted relative paths with `/`.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Names directly inside `dir` (to see that no staging folder is left behind).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A site whose index lists `media/get-media` and `chats/list-chats`, both served.
async fn two_page_site() -> (Arc<Site>, String) {
    let (site, base) = start_site().await;
    site.script(
        "/docs/llms.txt",
        vec![Reply::Index(format!(
            "# Docs\n- [Get media]({base}{REF}/media/get-media)\n- [List chats]({REF}/chats/list-chats.md)\n"
        ))],
    );
    site.script(
        &format!("{REF}/media/get-media.md"),
        vec![Reply::Page("# Get media\n")],
    );
    site.script(
        &format!("{REF}/chats/list-chats.md"),
        vec![Reply::Page("# List chats\n")],
    );
    (site, base)
}

fn out_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("pages")
}

#[tokio::test]
async fn writes_every_reference_page_by_group_and_slug() {
    let (site, base) = start_site().await;
    let index = format!(
        "# Fanvue API\n\
         - [Get media]({base}{REF}/media/get-media): absolute, without .md\n\
         - {base}{REF}/chats/list-chats.md (bare URL with .md)\n\
         - [Folders]({REF}/vault/list-folders \"relative to the index\")\n\
         - [Introduction](/docs/introduction): not a reference page\n"
    );
    site.script("/docs/llms.txt", vec![Reply::Index(index)]);
    site.script(
        &format!("{REF}/media/get-media.md"),
        vec![Reply::Page("# Get media\nbody m\n")],
    );
    site.script(
        &format!("{REF}/chats/list-chats.md"),
        vec![Reply::Page("# List chats\nbody c\n")],
    );
    site.script(
        &format!("{REF}/vault/list-folders.md"),
        vec![Reply::Page("# List folders\n")],
    );
    site.script("/docs/introduction.md", vec![Reply::Page("# Intro\n")]);

    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    let report = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap();

    let names: Vec<String> = report
        .pages
        .iter()
        .map(|p| format!("{}/{}", p.group, p.slug))
        .collect();
    assert_eq!(
        names,
        ["chats/list-chats", "media/get-media", "vault/list-folders"]
    );
    assert_eq!(report.ignored_links, 1);
    assert_eq!(
        files(&out),
        [
            "chats/list-chats.md",
            "media/get-media.md",
            "vault/list-folders.md"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(out.join("media/get-media.md")).unwrap(),
        "# Get media\nbody m\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("chats/list-chats.md")).unwrap(),
        "# List chats\nbody c\n"
    );
    // The .md rule: only the .md URLs were requested, and the non-reference page not at all.
    assert_eq!(site.hits(&format!("{REF}/media/get-media")), 0);
    assert_eq!(site.hits(&format!("{REF}/media/get-media.md")), 1);
    assert_eq!(site.hits("/docs/introduction.md"), 0);
    assert_eq!(site.hits("/docs/introduction"), 0);
    // No staging folder left beside the output.
    assert_eq!(entries(tmp.path()), ["pages"]);
}

#[tokio::test]
async fn replaces_an_existing_folder_on_success() {
    let (_site, base) = two_page_site().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    std::fs::create_dir_all(out.join("stale")).unwrap();
    std::fs::write(out.join("stale/old-page.md"), "old").unwrap();

    fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap();

    assert_eq!(files(&out), ["chats/list-chats.md", "media/get-media.md"]);
    assert_eq!(entries(tmp.path()), ["pages"]);
}

#[tokio::test]
async fn retries_5xx_and_429_until_the_page_comes() {
    let (site, base) = two_page_site().await;
    let media = format!("{REF}/media/get-media.md");
    let chats = format!("{REF}/chats/list-chats.md");
    site.script(
        &media,
        vec![
            Reply::Status(503, None),
            Reply::Status(503, None),
            Reply::Page("# Get media\n"),
        ],
    );
    site.script(
        &chats,
        vec![Reply::Status(429, Some(0)), Reply::Page("# List chats\n")],
    );

    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap();

    assert_eq!(site.hits(&media), 3);
    assert_eq!(site.hits(&chats), 2);
    assert_eq!(
        std::fs::read_to_string(out.join("media/get-media.md")).unwrap(),
        "# Get media\n"
    );
}

#[tokio::test]
async fn a_missing_page_is_named_and_no_folder_is_created() {
    let (site, base) = two_page_site().await;
    let chats = format!("{REF}/chats/list-chats.md");
    site.script(&chats, vec![Reply::Status(404, None)]);

    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    let err = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap_err();

    let message = err.to_string();
    assert!(message.contains(&format!("{base}{chats}")), "{message}");
    assert!(message.contains("404"), "{message}");
    match err {
        FetchError::Page {
            attempts, reason, ..
        } => {
            assert_eq!(attempts, 1, "a 404 is not retried");
            assert!(matches!(reason, DownloadError::Status { status, .. } if status == 404));
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(site.hits(&chats), 1);
    assert!(!out.exists());
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

#[tokio::test]
async fn a_failed_run_leaves_an_existing_folder_unchanged() {
    let (site, base) = two_page_site().await;
    let media = format!("{REF}/media/get-media.md");
    site.script(&media, vec![Reply::Status(500, None)]);
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    std::fs::create_dir_all(out.join("media")).unwrap();
    std::fs::write(out.join("media/get-media.md"), "previous").unwrap();

    let err = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap_err();

    assert!(err.to_string().contains(&media), "{err}");
    assert!(err.to_string().contains("4 attempt(s)"), "{err}");
    assert_eq!(site.hits(&media), 4, "1 attempt + 3 retries");
    assert_eq!(files(&out), ["media/get-media.md"]);
    assert_eq!(
        std::fs::read_to_string(out.join("media/get-media.md")).unwrap(),
        "previous"
    );
    assert_eq!(entries(tmp.path()), ["pages"]);
}

#[tokio::test]
async fn a_reset_connection_is_retried() {
    let (page_addr, accepted) = start_resetting_server(1, "# Reset once\n").await;
    let (site, base) = start_site().await;
    site.script(
        "/docs/llms.txt",
        vec![Reply::Index(format!(
            "[x](http://{page_addr}{REF}/media/reset-once)"
        ))],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);

    fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap();

    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert_eq!(
        std::fs::read_to_string(out.join("media/reset-once.md")).unwrap(),
        "# Reset once\n"
    );
}

#[tokio::test]
async fn a_connection_reset_every_time_is_reported() {
    let (page_addr, accepted) = start_resetting_server(usize::MAX, "").await;
    let (site, base) = start_site().await;
    let page = format!("http://{page_addr}{REF}/media/always-reset.md");
    site.script("/docs/llms.txt", vec![Reply::Index(format!("[x]({page})"))]);
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);

    let err = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap_err();

    assert!(err.to_string().contains(&page), "{err}");
    assert!(err.to_string().contains("reset"), "{err}");
    assert!(
        matches!(
            err,
            FetchError::Page {
                reason: DownloadError::Transport {
                    kind: TransportKind::Reset,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
    assert!(!out.exists());
}

#[tokio::test]
async fn a_stalled_request_times_out_and_is_retried() {
    let (site, base) = two_page_site().await;
    let media = format!("{REF}/media/get-media.md");
    site.script(&media, vec![Reply::Stall, Reply::Page("# Get media\n")]);
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    let options = FetchOptions {
        request_timeout: Duration::from_secs(1),
        ..options()
    };

    fetch_all(&index_url(&base), &out, &options).await.unwrap();

    assert_eq!(site.hits(&media), 2);
    assert_eq!(files(&out), ["chats/list-chats.md", "media/get-media.md"]);
}

#[tokio::test]
async fn a_page_that_always_stalls_fails_with_a_timeout() {
    let (site, base) = two_page_site().await;
    let media = format!("{REF}/media/get-media.md");
    site.script(&media, vec![Reply::Stall]);
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    let options = FetchOptions {
        request_timeout: Duration::from_millis(500),
        retries: 1,
        ..options()
    };

    let err = fetch_all(&index_url(&base), &out, &options)
        .await
        .unwrap_err();

    assert!(err.to_string().contains(&media), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(site.hits(&media), 2);
    assert!(!out.exists());
}

#[tokio::test]
async fn an_index_without_reference_pages_is_rejected() {
    let (site, base) = start_site().await;
    site.script(
        "/docs/llms.txt",
        vec![Reply::Index(
            "# Docs\n- [Intro](/docs/introduction)\n".to_owned(),
        )],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);

    let err = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap_err();

    assert!(
        matches!(err, FetchError::NoReferencePages { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("/docs/llms.txt"), "{err}");
    assert!(!out.exists());
}

#[tokio::test]
async fn a_missing_index_is_reported() {
    let (_site, base) = start_site().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);

    let err = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap_err();

    assert!(matches!(err, FetchError::Index { .. }), "{err:?}");
    assert!(err.to_string().contains("/docs/llms.txt"), "{err}");
    assert!(!out.exists());
}

#[tokio::test]
async fn an_html_page_is_rejected() {
    let (site, base) = two_page_site().await;
    let media = format!("{REF}/media/get-media.md");
    site.script(&media, vec![Reply::Html]);
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);

    let err = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap_err();

    assert!(err.to_string().contains(&media), "{err}");
    assert!(err.to_string().contains("HTML"), "{err}");
    assert_eq!(site.hits(&media), 1, "a bad body is not retried");
}

#[tokio::test]
async fn an_output_path_that_is_a_file_is_rejected_before_downloading() {
    let (site, base) = two_page_site().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    std::fs::write(&out, "a file").unwrap();

    let err = fetch_all(&index_url(&base), &out, &options())
        .await
        .unwrap_err();

    assert!(matches!(err, FetchError::NotADirectory { .. }), "{err:?}");
    assert_eq!(site.hits("/docs/llms.txt"), 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "a file");
}

/// A minimal official-style OpenAPI document.
const OFFICIAL: &str = r#"{"openapi": "3.1.0", "info": {"title": "T", "version": "0.1"}, "paths": {"/chats": {"get": {"operationId": "listChats", "responses": {"200": {"description": "ok"}}}}}}"#;

#[tokio::test]
async fn downloads_the_official_document_beside_the_pages() {
    let (site, base) = two_page_site().await;
    site.script(
        "/openapi",
        vec![Reply::Status(503, None), Reply::Index(OFFICIAL.into())],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    let url = Url::parse(&format!("{base}/openapi")).unwrap();
    let report = fetch_with_official(&index_url(&base), Some(&url), &out, &options())
        .await
        .unwrap();
    assert_eq!(report.openapi, Some(out.join("openapi.json")));
    assert_eq!(
        files(&out),
        ["chats/list-chats.md", "media/get-media.md", "openapi.json"]
    );
    assert_eq!(
        std::fs::read_to_string(out.join("openapi.json")).unwrap(),
        OFFICIAL
    );
    assert_eq!(site.hits("/openapi"), 2, "the 503 was retried");
    assert_eq!(entries(tmp.path()), ["pages"]);
}

#[tokio::test]
async fn an_official_document_that_is_not_openapi_leaves_the_folder_unchanged() {
    let (site, base) = two_page_site().await;
    site.script(
        "/openapi",
        vec![Reply::Index("{\"swagger\": \"2.0\", \"paths\": {}}".into())],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    std::fs::create_dir_all(out.join("old")).unwrap();
    std::fs::write(out.join("old/page.md"), "old").unwrap();
    let url = Url::parse(&format!("{base}/openapi")).unwrap();
    let err = fetch_with_official(&index_url(&base), Some(&url), &out, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::NotOpenApi { .. }), "{err}");
    assert!(err.to_string().contains("/openapi"), "{err}");
    assert_eq!(files(&out), ["old/page.md"]);
    assert_eq!(entries(tmp.path()), ["pages"]);
}

#[tokio::test]
async fn a_missing_official_document_is_an_error_naming_its_url() {
    let (_site, base) = two_page_site().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = out_dir(&tmp);
    let url = Url::parse(&format!("{base}/openapi")).unwrap();
    let err = fetch_with_official(&index_url(&base), Some(&url), &out, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Official { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("{base}/openapi")),
        "{err}"
    );
    assert!(!out.exists());
}
