//! The axum extractor (feature `axum`): raw body with the receiver's cap, verify, decode. It refuses with
//! 401 when the signature fails, 413 when the body is over the cap, 400 when the body cannot be read (a
//! broken connection or invalid framing), and answers 200 to an unsigned probe when the receiver
//! acknowledges them. A verified body that does not decode reaches the handler as [`Event::Unknown`] with
//! its bytes ([`Delivery::body`]).
//!
//! [`Event::Unknown`]: super::Event::Unknown
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use fanvue_api_ext::webhook::{Event, Receiver, extract::Webhook};
//!
//! async fn hook(Webhook(delivery): Webhook) -> &'static str {
//!     if let Event::MessageReceived(m) = delivery.event { println!("{:?}", m.message.text); }
//!     "ok"
//! }
//! # fn app(receiver: Receiver) -> Router {
//! Router::new().route("/webhooks/fanvue", post(hook)).with_state(receiver)
//! # }
//! ```

use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::{Delivery, Receiver, WebhookError};

/// A verified, decoded delivery. The state must provide a [`Receiver`] (`FromRef`).
#[derive(Debug, Clone)]
pub struct Webhook(pub Delivery);

/// The rejection: the status of [`WebhookError::status`] with a short plain-text reason (never the body or
/// the secret).
#[derive(Debug)]
pub struct WebhookRejection(pub WebhookError);

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        (self.0.status(), self.0.to_string()).into_response()
    }
}

impl<S> FromRequest<S> for Webhook
where
    Receiver: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let receiver = Receiver::from_ref(state);
        let limit = receiver.max_body();
        let (parts, body) = req.into_parts();
        if let Some(len) = parts
            .headers
            .get(::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > limit as u64
        {
            return Err(WebhookRejection(WebhookError::TooLarge { limit }));
        }
        let bytes = read_capped(body, limit).await.map_err(WebhookRejection)?;
        receiver
            .receive_bytes(&parts.headers, bytes)
            .map(Webhook)
            .map_err(WebhookRejection)
    }
}

/// The whole body, refused as [`WebhookError::TooLarge`] once it passes `limit` bytes and as
/// [`WebhookError::Body`] when reading it fails.
async fn read_capped(body: axum::body::Body, limit: usize) -> Result<Bytes, WebhookError> {
    let mut stream = body.into_data_stream();
    let mut out = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| WebhookError::Body)?;
        if out.len().saturating_add(chunk.len()) > limit {
            return Err(WebhookError::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}
