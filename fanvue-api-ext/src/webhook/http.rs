//! Framework-neutral receiving over `http::Request<Bytes>` (hyper, tower, warp, actix adapters, ...).

use bytes::Bytes;

use super::{Delivery, Receiver, WebhookError};

/// Verifies and decodes a request whose body was read in full (keep it raw: no JSON middleware before this).
/// Answer [`WebhookError::status`] on failure.
pub fn receive_request(
    receiver: &Receiver,
    request: &::http::Request<Bytes>,
) -> Result<Delivery, WebhookError> {
    receiver.receive_bytes(request.headers(), request.body().clone())
}
