//! The rate limits of a running fake: live settings and per-bucket inspection.

use std::time::Duration;

use super::FakeFanvue;
use crate::ratelimit::RateLimitBucket;

impl FakeFanvue {
    /// Sets (or with `None` removes) the limit of every bucket and the common window, as
    /// [`crate::FakeFanvueBuilder::rate_limit_window`]. The current windows' counts start over.
    pub fn set_rate_limit_window(&self, limit_window: Option<(u64, Duration)>) {
        self.shared.rate_limits.set_window(limit_window);
    }

    /// Gives `operation_id` a bucket and limit of its own (`Some(limit)`), as
    /// [`crate::FakeFanvueBuilder::operation_rate_limit`], or puts it back in its shared or creator
    /// bucket (`None`).
    pub fn set_operation_rate_limit(&self, operation_id: &str, limit: Option<u64>) {
        self.shared.rate_limits.set_operation(operation_id, limit);
    }

    /// API requests refused with 429 by the rate limits, all buckets (not counting injected faults).
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.rate_limits.rejected()
    }

    /// API requests the rate limits admitted, all buckets.
    pub fn rate_admitted_count(&self) -> u64 {
        self.shared.rate_limits.admitted()
    }

    /// Every bucket that has counted a request: its key ([`crate::BucketKey::Shared`],
    /// [`crate::BucketKey::Creator`] with the creator's uuid, [`crate::BucketKey::Operation`] with the operation
    /// id), limit, window, what is left of the current window and when it resets, and the requests it
    /// admitted and refused since the fake started. Ordered shared, creators, operations.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), fanvue_fake::FakeError> {
    /// use std::time::Duration;
    /// use fanvue_fake::{BucketKey, FakeFanvue};
    /// let fake = FakeFanvue::builder()
    ///     .rate_limit_window(200, Duration::from_secs(60))
    ///     .operation_rate_limit("get-current-user", 10)
    ///     .start()
    ///     .await?;
    /// // ... drive the API ...
    /// for b in fake.rate_limit_buckets() {
    ///     println!("{}: {}/{} admitted {} rejected {}", b.key, b.remaining, b.limit, b.admitted, b.rejected);
    /// }
    /// let shared = fake.rate_limit_buckets().into_iter().find(|b| b.key == BucketKey::Shared);
    /// # let _ = shared;
    /// # Ok(()) }
    /// ```
    pub fn rate_limit_buckets(&self) -> Vec<RateLimitBucket> {
        self.shared.rate_limits.buckets()
    }

    /// The identity every bucket of this fake belongs to: `{client_id}:{user uuid}` (all its tokens
    /// share it).
    pub fn rate_limit_principal(&self) -> String {
        crate::api::principal(&self.shared)
    }
}
