//! Injecting faults and turning the knobs (latency, bandwidth, processing) of a running fake.

use std::time::{Duration, Instant};

use super::FakeFanvue;
use crate::faults::{ApiRoute, Fault, FaultTarget, TokenFault};

impl FakeFanvue {
    // ---- faults ----

    /// Registers `fault` for the next `times` requests matching `target` (faults apply in registration order).
    pub fn inject(&self, target: FaultTarget, fault: Fault, times: u32) {
        self.shared.lock().faults.add(target, fault, 0, times);
    }

    /// The next `times` requests of `route` answer `status` with `{error}` without doing the work.
    pub fn fail_route(&self, route: ApiRoute, status: u16, times: u32) {
        self.inject(FaultTarget::Api(route), Fault::Status(status), times);
    }

    /// The next `times` requests of `route` answer 429 with `Retry-After: retry_after_secs` and
    /// `X-RateLimit-*` headers.
    pub fn rate_limit(&self, route: ApiRoute, retry_after_secs: u64, times: u32) {
        self.inject(
            FaultTarget::Api(route),
            Fault::RateLimited { retry_after_secs },
            times,
        );
    }

    /// The next `times` requests of `route` get their connection reset without a response.
    pub fn reset_route(&self, route: ApiRoute, times: u32) {
        self.inject(FaultTarget::Api(route), Fault::Reset, times);
    }

    /// The next `times` requests of `route` wait `delay` before being handled.
    pub fn delay_route(&self, route: ApiRoute, delay: Duration, times: u32) {
        self.inject(FaultTarget::Api(route), Fault::Delay(delay), times);
    }

    /// The next `times` PUTs of part `part` (any upload) answer `status` (S3 XML error).
    pub fn fail_part(&self, part: u32, status: u16, times: u32) {
        self.inject(
            FaultTarget::S3Part(Some(part)),
            Fault::Status(status),
            times,
        );
    }

    /// The next `times` PUTs of part `part` are cut mid-body (connection reset).
    pub fn reset_part(&self, part: u32, times: u32) {
        self.inject(FaultTarget::S3Part(Some(part)), Fault::Reset, times);
    }

    /// The next `times` PUTs of part `part` are stored but answer an `ETag` that is not the MD5.
    pub fn wrong_etag(&self, part: u32, times: u32) {
        self.inject(FaultTarget::S3Part(Some(part)), Fault::WrongEtag, times);
    }

    /// The next presigned URL handed out for part `part` is already expired (S3 answers 403
    /// `AccessDenied` / `Request has expired`); the URL after it works.
    pub fn expire_first_url_for_part(&self, part: u32) {
        self.inject(FaultTarget::PartUrlFor(Some(part)), Fault::ExpiredUrl, 1);
    }

    /// Expires every presigned URL handed out so far (on demand); new URLs work.
    pub fn expire_all_part_urls(&self) {
        let mut st = self.shared.lock();
        st.expired_below_seq = st.url_seq;
    }

    /// Like [`Self::inject`], but lets the first `skip` matching requests through untouched (e.g. fail the
    /// second page of a list).
    pub fn inject_after(&self, target: FaultTarget, skip: u32, fault: Fault, times: u32) {
        self.shared.lock().faults.add(target, fault, skip, times);
    }

    /// A gateway in front of the API answers every API request with `status` (502, 503 or 504 usually)
    /// for `duration` from now: an HTML body, no `X-RateLimit-*` (nor `X-Request-Id`) header, and the
    /// requests are not counted in any rate-limit bucket. A new outage replaces a running one;
    /// [`Self::clear_faults`] ends it.
    pub fn gateway_outage(&self, status: u16, duration: Duration) {
        self.shared.lock().gateway_outage = Some((status, Instant::now() + duration));
    }

    /// The next `times` API requests (any operation) get the gateway error of [`Self::gateway_outage`]:
    /// [`Fault::Gateway`] on [`FaultTarget::AnyApi`].
    pub fn gateway_errors(&self, status: u16, times: u32) {
        self.inject(FaultTarget::AnyApi, Fault::Gateway { status }, times);
    }

    /// Removes all pending faults (and ends a gateway outage).
    pub fn clear_faults(&self) {
        let mut st = self.shared.lock();
        st.faults.clear();
        st.gateway_outage = None;
    }

    /// How many fault hits are still pending.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.pending()
    }

    // ---- knobs ----

    /// Sets the simulated latency of every listener.
    pub fn set_latency(&self, latency: Duration) {
        let mut st = self.shared.lock();
        st.knobs.api_latency = latency;
        st.knobs.s3_latency = latency;
    }

    /// Sets the S3 per-connection bandwidth cap (bytes per second), or removes it.
    pub fn set_s3_bandwidth(&self, bytes_per_sec: Option<u64>) {
        self.shared.lock().knobs.s3_bandwidth = bytes_per_sec;
    }

    /// Sets how many polls answer `processing` before the media is ready (for uploads completed later too).
    pub fn set_processing_polls(&self, polls: u32) {
        self.shared.lock().knobs.processing_polls = polls;
    }

    /// Makes processing end in `error` (true) or `ready` (false).
    pub fn set_processing_fails(&self, fails: bool) {
        self.shared.lock().knobs.processing_fails = fails;
    }

    /// Makes the next `times` refresh-token requests consume their token (the new pair is issued, the
    /// grace starts) and then fail as `fault` says: stall (for a while or forever) or drop the connection.
    pub fn inject_token_fault(&self, fault: TokenFault, times: u32) {
        let mut st = self.shared.lock();
        for _ in 0..times {
            st.tokens.consume_faults.push_back(fault);
        }
    }

    /// Drops the token faults not yet applied ([`FakeFanvue::inject_token_fault`]).
    pub fn clear_token_faults(&self) {
        self.shared.lock().tokens.consume_faults.clear();
    }

    /// Whether a refresh token was reused after its grace, revoking its chain.
    pub fn chain_revoked(&self) -> bool {
        !self.shared.lock().tokens.revoked_chains.is_empty()
    }

    /// `grant_type=refresh_token` requests the token endpoint handled (any outcome, faulted ones included).
    pub fn token_requests(&self) -> u64 {
        self.shared.lock().tokens.token_requests
    }

    /// Reuses of a used refresh token answered inside its grace (with the pair its first use issued).
    pub fn grace_reuses(&self) -> u64 {
        self.shared.lock().tokens.grace_reuses
    }
}
