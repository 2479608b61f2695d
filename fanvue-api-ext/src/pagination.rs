//! Streams of pages and items for every list operation.
//!
//! Generic over the [`PageNumberList`] and [`CursorList`] traits the build
//! script implements for every list builder, so a list operation added to the
//! spec gets its streams with no code here. An error (a failed page, a
//! rejected page size) is yielded as the stream's last element; nothing is
//! swallowed. A stream can start from a given page or cursor, to resume.
//!
//! A stream cannot run forever on a misbehaving server: it stops with
//! [`Error::Pagination`] when a page reports another page number than the one
//! requested (a server ignoring `page`), or when a cursor comes back that the
//! stream has already followed (a cycle such as A → B → A).
//!
//! ```no_run
//! # async fn run(fanvue: fanvue_api_ext::Fanvue) -> Result<(), fanvue_api_ext::Error> {
//! use fanvue_api_ext::prelude::*;
//! use futures::TryStreamExt as _;
//!
//! let followers: Vec<_> = fanvue
//!     .api()
//!     .list_followers()
//!     .paginate()
//!     .page_size(50)
//!     .max_items(120)
//!     .items()
//!     .try_collect()
//!     .await?;
//! # let _ = followers; Ok(()) }
//! ```

use std::collections::HashSet;

use futures::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};

pub use fanvue_api::operation::{
    CursorList, CursorPage, NumberedPage, PageNumberList, SinglePageList,
};

use crate::call::OperationExt as _;
use crate::error::Error;
use crate::validate;

/// The default most pages one stream fetches ([`CursorPager::max_pages`],
/// [`NumberedPager::max_pages`]): a server that always reports more ends
/// the stream with [`Error::Pagination`] instead of running it forever.
pub const DEFAULT_MAX_PAGES: u64 = 100_000;

/// Empty pages in a row, each with a next cursor, after which a cursor
/// stream stops with [`Error::Pagination`] (a server handing out new
/// cursors and no items would keep it running forever).
pub const MAX_EMPTY_PAGES_IN_ROW: u32 = 3;

/// Streams for page-number lists (`page` / `size`).
pub trait PageNumberListExt: PageNumberList {
    /// Options for the streams: page size, item limit, first page.
    fn paginate(self) -> NumberedPager<Self> {
        NumberedPager {
            operation: self,
            page_size: None,
            start_page: 1,
            max_items: None,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Every page, from page 1.
    fn pages<'o>(self) -> BoxStream<'o, Result<NumberedPage<Self::Item>, Error>>
    where
        Self: 'o,
    {
        self.paginate().pages()
    }

    /// Every item of every page, from page 1.
    fn items<'o>(self) -> BoxStream<'o, Result<Self::Item, Error>>
    where
        Self: 'o,
    {
        self.paginate().items()
    }
}

impl<O: PageNumberList> PageNumberListExt for O {}

/// Streams for cursor lists (`cursor` with `size` or `limit`).
pub trait CursorListExt: CursorList {
    /// Options for the streams: page size, item limit, first cursor.
    fn paginate(self) -> CursorPager<Self> {
        CursorPager {
            operation: self,
            page_size: None,
            start_cursor: None,
            max_items: None,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Every page, from the start.
    fn pages<'o>(self) -> BoxStream<'o, Result<CursorPage<Self::Item>, Error>>
    where
        Self: 'o,
    {
        self.paginate().pages()
    }

    /// Every item of every page, from the start.
    fn items<'o>(self) -> BoxStream<'o, Result<Self::Item, Error>>
    where
        Self: 'o,
    {
        self.paginate().items()
    }
}

impl<O: CursorList> CursorListExt for O {}

/// The stream of a list that has no `page`/`size` parameters
/// ([`SinglePageList`]: `GET /vault/folders`, its creator variant,
/// `GET /collections`). The server is not known to honour paging there, so
/// the stream is the items of the one page it answers; when that page says
/// `hasMore`, a warning is logged (the rest cannot be requested).
pub trait SinglePageListExt: SinglePageList {
    /// The items of the one page.
    fn items<'o>(self) -> BoxStream<'o, Result<Self::Item, Error>>
    where
        Self: 'o,
    {
        stream::once(async move {
            let operation = Self::meta().operation_id;
            self.send().await.map(Self::into_page).map(|page| {
                if page.has_more {
                    tracing::warn!(
                        operation,
                        "the server reports more items than this one-page list returns"
                    );
                }
                stream::iter(page.items.into_iter().map(Ok))
            })
        })
        .map(|page| match page {
            Ok(items) => items.boxed(),
            Err(error) => stream::iter([Err(error)]).boxed(),
        })
        .flatten()
        .boxed()
    }
}

impl<O: SinglePageList> SinglePageListExt for O {}

/// Stream options for a page-number list; see [`PageNumberListExt::paginate`].
#[derive(Debug, Clone)]
#[must_use]
pub struct NumberedPager<O> {
    operation: O,
    page_size: Option<u64>,
    start_page: u64,
    max_items: Option<u64>,
    max_pages: u64,
}

impl<O: PageNumberList> NumberedPager<O> {
    /// Items per page, `1..=O::MAX_PAGE_SIZE` (default: the builder's `size`, else the server's default).
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Starts at this page (from 1), e.g. to resume after `page.page`.
    pub fn start_page(mut self, page: u64) -> Self {
        self.start_page = page;
        self
    }

    /// Stops after this many items (the last page is cut).
    pub fn max_items(mut self, limit: u64) -> Self {
        self.max_items = Some(limit);
        self
    }

    /// Fetches at most this many pages (default [`DEFAULT_MAX_PAGES`]); a
    /// server still reporting more after them ends the stream with
    /// [`Error::Pagination`].
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The pages.
    pub fn pages<'o>(self) -> BoxStream<'o, Result<NumberedPage<O::Item>, Error>>
    where
        O: 'o,
    {
        let checked = self
            .page_size
            .map(|size| validate::page_size(size, O::MAX_PAGE_SIZE))
            .transpose()
            .and_then(|_| validate::page_number(self.start_page));
        let operation = match self.page_size {
            Some(size) => self.operation.with_page_size(size),
            None => self.operation,
        };
        let start = checked.map(|_| (ByNumber(operation), self.start_page));
        page_stream(start, self.max_items, self.max_pages)
    }

    /// The items of every page.
    pub fn items<'o>(self) -> BoxStream<'o, Result<O::Item, Error>>
    where
        O: 'o,
    {
        item_stream::<ByNumber<O>>(self.pages())
    }
}

/// Stream options for a cursor list; see [`CursorListExt::paginate`].
#[derive(Debug, Clone)]
#[must_use]
pub struct CursorPager<O> {
    operation: O,
    page_size: Option<u64>,
    start_cursor: Option<String>,
    max_items: Option<u64>,
    max_pages: u64,
}

impl<O: CursorList> CursorPager<O> {
    /// Items per page, `1..=O::MAX_PAGE_SIZE`.
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Starts at this cursor, e.g. a page's `next_cursor`, to resume.
    pub fn start_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.start_cursor = Some(cursor.into());
        self
    }

    /// Stops after this many items (the last page is cut).
    pub fn max_items(mut self, limit: u64) -> Self {
        self.max_items = Some(limit);
        self
    }

    /// Fetches at most this many pages (default [`DEFAULT_MAX_PAGES`]); a
    /// server still reporting more after them ends the stream with
    /// [`Error::Pagination`].
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The pages.
    pub fn pages<'o>(self) -> BoxStream<'o, Result<CursorPage<O::Item>, Error>>
    where
        O: 'o,
    {
        let checked = self
            .page_size
            .map(|size| validate::page_size(size, O::MAX_PAGE_SIZE))
            .transpose();
        let operation = match self.page_size {
            Some(size) => self.operation.with_page_size(size),
            None => self.operation,
        };
        let start = checked.map(|_| (ByCursor(operation), self.start_cursor));
        page_stream(start, self.max_items, self.max_pages)
    }

    /// The items of every page.
    pub fn items<'o>(self) -> BoxStream<'o, Result<O::Item, Error>>
    where
        O: 'o,
    {
        item_stream::<ByCursor<O>>(self.pages())
    }
}

/// A list operation as [`page_stream`] drives it: how to fetch the page at a
/// position, and where the page after it starts.
trait PagedList: Clone + Send {
    /// Where a page starts: a page number or a cursor.
    type Position: Clone + Send;
    /// What the stream remembers of the pages it fetched (the cursors followed).
    type Seen: Default + Send;
    /// One fetched page.
    type Page: Send;
    /// One item of a page.
    type Item: Send;

    /// Fetches the page at `position`.
    fn fetch(
        self,
        position: Self::Position,
    ) -> impl Future<Output = Result<Self::Page, Error>> + Send;

    /// The items of `page`.
    fn items(page: &mut Self::Page) -> &mut Vec<Self::Item>;

    /// The operation id, for errors.
    fn operation() -> &'static str;

    /// Whether `page` is the page at `position`; why not, if it is not.
    fn check(page: &Self::Page, position: &Self::Position) -> Result<(), String>;

    /// Where the page after `page` (fetched at `position`) starts; `None` at the
    /// end; why not, when the next position would repeat one in `seen`.
    fn next(
        page: &Self::Page,
        position: &Self::Position,
        seen: &mut Self::Seen,
    ) -> Result<Option<Self::Position>, String>;
}

/// A page-number list, positioned by page number.
#[derive(Clone)]
struct ByNumber<O>(O);

impl<O: PageNumberList> PagedList for ByNumber<O> {
    type Position = u64;
    type Seen = ();
    type Page = NumberedPage<O::Item>;
    type Item = O::Item;

    async fn fetch(self, page: u64) -> Result<Self::Page, Error> {
        self.0.with_page(page).send().await.map(O::into_page)
    }

    fn items(page: &mut Self::Page) -> &mut Vec<Self::Item> {
        &mut page.items
    }

    fn operation() -> &'static str {
        O::meta().operation_id
    }

    fn check(page: &Self::Page, number: &u64) -> Result<(), String> {
        if page.page == *number {
            Ok(())
        } else {
            Err(format!(
                "requested page {number}, the server answered page {}",
                page.page
            ))
        }
    }

    fn next(page: &Self::Page, number: &u64, _: &mut ()) -> Result<Option<u64>, String> {
        if !page.has_more || page.items.is_empty() {
            return Ok(None);
        }
        number
            .checked_add(1)
            .map(Some)
            .ok_or_else(|| format!("page {number} reports more pages, but it is the last number"))
    }
}

/// A cursor list, positioned by cursor (`None`: the first page).
#[derive(Clone)]
struct ByCursor<O>(O);

impl<O: CursorList> PagedList for ByCursor<O> {
    type Position = Option<String>;
    type Seen = HashSet<String>;
    type Page = CursorPage<O::Item>;
    type Item = O::Item;

    async fn fetch(self, cursor: Option<String>) -> Result<Self::Page, Error> {
        let request = match cursor {
            Some(cursor) => self.0.with_cursor(cursor),
            None => self.0,
        };
        request.send().await.map(O::into_page)
    }

    fn items(page: &mut Self::Page) -> &mut Vec<Self::Item> {
        &mut page.items
    }

    fn operation() -> &'static str {
        O::meta().operation_id
    }

    fn check(_: &Self::Page, _: &Option<String>) -> Result<(), String> {
        Ok(())
    }

    fn next(
        page: &Self::Page,
        cursor: &Option<String>,
        seen: &mut HashSet<String>,
    ) -> Result<Option<Option<String>>, String> {
        if let Some(cursor) = cursor {
            seen.insert(cursor.clone());
        }
        match page.next_cursor.as_ref().filter(|next| !next.is_empty()) {
            None => Ok(None),
            Some(next) if seen.contains(next) => Err(format!(
                "the server sent cursor {next:?} again after {} page(s): a cursor cycle",
                seen.len()
            )),
            Some(next) => Ok(Some(Some(next.clone()))),
        }
    }
}

/// The pages of `list` from `start` (or `start`'s error, alone), cut after
/// `max_items` items; a failed page is the last element.
fn page_stream<'o, L: PagedList + 'o>(
    start: Result<(L, L::Position), Error>,
    max_items: Option<u64>,
    max_pages: u64,
) -> BoxStream<'o, Result<L::Page, Error>> {
    let start = match start {
        Ok((list, position)) => Step::Fetch(
            list,
            position,
            max_items,
            (L::Seen::default(), Count::default()),
        ),
        Err(error) => Step::Fail(error),
    };
    let fail = |reason: String| Error::Pagination {
        operation: L::operation(),
        reason,
    };
    stream::unfold(start, move |step| async move {
        match step {
            Step::Done => None,
            Step::Fail(error) => Some((Err(error), Step::Done)),
            Step::Fetch(_, _, Some(0), _) => None,
            Step::Fetch(list, position, remaining, (mut seen, mut count)) => {
                match list.clone().fetch(position.clone()).await {
                    Err(error) => Some((Err(error), Step::Done)),
                    Ok(mut page) => {
                        if let Err(reason) = L::check(&page, &position) {
                            return Some((Err(fail(reason)), Step::Done));
                        }
                        let empty = L::items(&mut page).is_empty();
                        let remaining = limit(L::items(&mut page), remaining);
                        count.pages = count.pages.saturating_add(1);
                        count.empty_in_row = if empty {
                            count.empty_in_row.saturating_add(1)
                        } else {
                            0
                        };
                        let next = match L::next(&page, &position, &mut seen) {
                            _ if remaining == Some(0) => Step::Done,
                            Ok(Some(_)) if count.empty_in_row >= MAX_EMPTY_PAGES_IN_ROW => {
                                Step::Fail(fail(format!(
                                    "{} empty pages in a row, each with a new cursor",
                                    count.empty_in_row
                                )))
                            }
                            Ok(Some(_)) if count.pages >= max_pages => Step::Fail(fail(format!(
                                "the server reports more after {} pages, the stream's max_pages",
                                count.pages
                            ))),
                            Ok(Some(next)) => Step::Fetch(list, next, remaining, (seen, count)),
                            Ok(None) => Step::Done,
                            Err(reason) => Step::Fail(fail(reason)),
                        };
                        Some((Ok(page), next))
                    }
                }
            }
        }
    })
    .boxed()
}

/// The items of every page of `pages`.
fn item_stream<'o, L: PagedList + 'o>(
    pages: BoxStream<'o, Result<L::Page, Error>>,
) -> BoxStream<'o, Result<L::Item, Error>> {
    pages
        .map_ok(|mut page| stream::iter(std::mem::take(L::items(&mut page)).into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

/// Where a page stream is: fetch `(operation, position, items left, (what was
/// seen, pages counted))`, yield an error, or done.
enum Step<O, P, S> {
    Fetch(O, P, Option<u64>, S),
    Fail(Error),
    Done,
}

/// The pages a stream has fetched, and how many of the last ones were empty.
#[derive(Default)]
struct Count {
    pages: u64,
    empty_in_row: u32,
}

/// Cuts `items` to the remaining budget; the budget left after them.
fn limit<T>(items: &mut Vec<T>, remaining: Option<u64>) -> Option<u64> {
    let remaining = remaining?;
    let keep = usize::try_from(remaining).unwrap_or(usize::MAX);
    items.truncate(keep);
    Some(remaining.saturating_sub(u64::try_from(items.len()).unwrap_or(u64::MAX)))
}
