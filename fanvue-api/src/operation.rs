//! Traits implemented (by the build script, from the spec) for every
//! operation builder, so that generic code — the `fanvue-api-ext` error
//! mapping, retries and pagination streams — works for every operation,
//! including ones a future spec adds, with no hand-written code per operation.

use std::future::Future;

use progenitor_client::{Error, ResponseValue};

use crate::executor::OperationMeta;

/// One operation of the API, ready to send (a generated builder).
pub trait Operation: Sized + Send {
    /// The decoded body of a successful response.
    type Response: Send;
    /// The decoded body of a documented error response (`()` when undocumented).
    type ErrorBody: Send;

    /// The operation's static metadata (id, method, path template, tag).
    fn meta() -> &'static OperationMeta;

    /// Sends the request as it is, through the client's executor, and reports
    /// progenitor's error type (the raw seam: `fanvue-api-ext`'s `send()` is
    /// the call path for applications).
    fn send_request(
        self,
    ) -> impl Future<Output = Result<ResponseValue<Self::Response>, Error<Self::ErrorBody>>> + Send;
}

/// One page of a page-number list (`{data, pagination: {page, size, hasMore}}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NumberedPage<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The page number the server reports (1-based).
    pub page: u64,
    /// Whether a next page exists.
    pub has_more: bool,
}

/// One page of a cursor list (`{data, nextCursor}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CursorPage<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

/// A list operation paginated by `page` (from 1) and `size`.
pub trait PageNumberList: Operation + Clone {
    /// One element of `data`.
    type Item: Send;
    /// Largest page size the API accepts for this operation: the spec's
    /// `maximum` of the size parameter (`u64::MAX` when it declares none).
    const MAX_PAGE_SIZE: u64;
    /// Sets the `page` query parameter (1-based).
    fn with_page(self, page: u64) -> Self;
    /// Sets the page-size query parameter.
    fn with_page_size(self, size: u64) -> Self;
    /// Splits a decoded response into its items and pagination facts.
    fn into_page(response: Self::Response) -> NumberedPage<Self::Item>;
}

/// A list operation paginated by an opaque `cursor` (with `size` or `limit`).
pub trait CursorList: Operation + Clone {
    /// One element of `data`.
    type Item: Send;
    /// Largest page size the API accepts for this operation: the spec's
    /// `maximum` of the size parameter (`u64::MAX` when it declares none, as
    /// for the tracking-link lists' `limit`).
    const MAX_PAGE_SIZE: u64;
    /// Sets the `cursor` query parameter.
    fn with_cursor(self, cursor: String) -> Self;
    /// Sets the page-size query parameter (`size` or `limit`, whichever the operation has).
    fn with_page_size(self, size: u64) -> Self;
    /// Splits a decoded response into its items and the next cursor.
    fn into_page(response: Self::Response) -> CursorPage<Self::Item>;
}

/// A list answering `{data, pagination: {page, size, hasMore}}` whose
/// operation has **no** `page`/`size` parameters (the official document's
/// `GET /vault/folders`, its creator variant and `GET /collections`).
///
/// The server is not known to honour `page`/`size` on these, so the client
/// does not offer them: a stream over such a list fetches its one page
/// (`fanvue-api-ext`'s `SinglePageListExt::items`), and
/// [`NumberedPage::has_more`] reports whether the server held more back.
pub trait SinglePageList: Operation + Clone {
    /// One element of `data`.
    type Item: Send;
    /// Splits a decoded response into its items and pagination facts.
    fn into_page(response: Self::Response) -> NumberedPage<Self::Item>;
}
