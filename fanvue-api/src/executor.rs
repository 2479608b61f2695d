//! The seam between the generated client and the hand-written layer.
//!
//! The generated [`Client`](crate::Client) carries an [`Inner`] value. When it
//! holds a [`RequestExecutor`], every request of every operation goes through
//! it (this is how `fanvue-api-ext` adds auth, the version header, retries and
//! tracing); otherwise the request is sent as is with the client's
//! `reqwest::Client`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, `Send` future, as returned by [`RequestExecutor::execute`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Static facts about one operation of the API, taken from the spec at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationMeta {
    /// The spec's `operationId`, e.g. `get-current-user`.
    pub operation_id: &'static str,
    /// Upper-case HTTP method, e.g. `GET`.
    pub method: &'static str,
    /// The path template, e.g. `/media/{uuid}` (never the filled-in path).
    pub path: &'static str,
    /// The tag (area) the operation belongs to, e.g. `media`.
    pub tag: &'static str,
    /// For an operation under `/creators/{creatorUserUuid}/` (which Fanvue rate-limits per
    /// creator), the index of the `{creatorUserUuid}` segment among the template's
    /// `/`-separated segments (`Some(1)`); `None` for every other operation. See
    /// [`creator_user_uuid`](Self::creator_user_uuid).
    pub creator_segment: Option<usize>,
}

impl OperationMeta {
    /// Whether the method is idempotent by HTTP semantics (safe to retry).
    pub fn is_idempotent(&self) -> bool {
        matches!(self.method, "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE")
    }

    /// The OAuth scopes this operation requires (the spec's `x-fanvue-scopes`,
    /// e.g. `["read:media"]`; empty when it declares none). A token without
    /// them gets a 403.
    pub fn scopes(&self) -> &'static [&'static str] {
        crate::generated::operation_scopes(self.operation_id)
    }

    /// The spec's bounds on this operation's path and query parameters and
    /// JSON body (empty when it declares none); see [`crate::bounds`].
    pub fn bounds(&self) -> &'static [crate::bounds::Bound] {
        crate::generated::operation_bounds(self.operation_id)
    }

    /// The `creatorUserUuid` a request of this operation was given, read from the request's
    /// `url` at [`creator_segment`](Self::creator_segment) (counted from the end of the URL's
    /// path, so a base URL with a path prefix reads the same segment); `None` for an operation
    /// that is not creator-scoped, or a URL with fewer segments than the template.
    pub fn creator_user_uuid<'u>(&self, url: &'u reqwest::Url) -> Option<&'u str> {
        let index = self.creator_segment?;
        let template = self.path.trim_start_matches('/').split('/').count();
        // (two passes over the segments instead of collecting them: this runs on every request)
        let first = url.path_segments()?.count().checked_sub(template)?;
        url.path_segments()?
            .nth(first.checked_add(index)?)
            .filter(|segment| !segment.is_empty())
    }

    /// The checks of this operation's JSON request body (`None` when it takes none or the spec declares
    /// nothing to check); see [`crate::bounds::BodyNode`].
    pub fn body_checks(&self) -> Option<&'static crate::bounds::BodyNode> {
        crate::generated::operation_body(self.operation_id)
    }

    /// Looks an operation up by its `operationId`.
    pub fn find(operation_id: &str) -> Option<&'static OperationMeta> {
        crate::OPERATIONS
            .iter()
            .find(|op| op.operation_id == operation_id)
    }
}

/// Executes the requests of the generated client.
///
/// Implemented by `fanvue-api-ext`; implement it yourself to put any
/// middleware between the generated code and the network.
pub trait RequestExecutor: Send + Sync + 'static {
    /// Sends `request` (built by the generated code for `operation`) and returns the response.
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: &'static OperationMeta,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>>;
}

/// The inner value carried by the generated [`Client`](crate::Client).
#[derive(Clone, Default)]
pub struct Inner {
    executor: Option<Arc<dyn RequestExecutor>>,
}

impl Inner {
    /// An inner value that routes every request through `executor`.
    pub fn with_executor(executor: Arc<dyn RequestExecutor>) -> Self {
        Self {
            executor: Some(executor),
        }
    }

    /// The executor, if one is set.
    pub fn executor(&self) -> Option<&Arc<dyn RequestExecutor>> {
        self.executor.as_ref()
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field(
                "executor",
                &self.executor.as_ref().map(|_| "RequestExecutor"),
            )
            .finish()
    }
}

/// Fallback metadata for an operation id the table does not know (cannot
/// happen for generated code; kept so the hook never panics).
pub(crate) static UNKNOWN_OPERATION: OperationMeta = OperationMeta {
    operation_id: "unknown",
    method: "UNKNOWN",
    path: "unknown",
    tag: "unknown",
    creator_segment: None,
};

impl progenitor_client::ClientHooks<Inner> for crate::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &progenitor_client::OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        // `info.operation_id` is progenitor's method name (`get_user_media`).
        let params = crate::generated::comma_list_params(info.operation_id);
        crate::query::join_comma_lists(request.url_mut(), params);
        pin_version_header(request.headers_mut());
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &progenitor_client::OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        use progenitor_client::ClientInfo;
        match self.inner().executor() {
            Some(executor) => {
                // `info.operation_id` is progenitor's method name, not the spec's id.
                let meta = crate::generated::operation_by_fn_name(info.operation_id)
                    .or_else(|| OperationMeta::find(info.operation_id))
                    .unwrap_or(&UNKNOWN_OPERATION);
                executor.execute(self.client(), request, meta).await
            }
            None => self.client().execute(request).await,
        }
    }
}

/// The header Fanvue reads the API version from.
pub const VERSION_HEADER: &str = "x-fanvue-api-version";

/// Progenitor adds a generic `api-version` header with `info.version`; Fanvue
/// reads `X-Fanvue-API-Version` instead. Drop the generic one and make sure the
/// Fanvue header is present (the pinned [`API_VERSION`](crate::API_VERSION)
/// unless an executor or the caller already set one), so even a bare generated
/// client talks to the version it was generated from.
fn pin_version_header(headers: &mut reqwest::header::HeaderMap) {
    headers.remove("api-version");
    if !headers.contains_key(VERSION_HEADER) {
        headers.insert(
            VERSION_HEADER,
            reqwest::header::HeaderValue::from_static(crate::API_VERSION),
        );
    }
}
