//! The axum extractor (feature `axum`): raw body with the receiver's cap, verify, decode; 401 when the
//! signature fails, 413 when the body is too large, 400 when a verified body is not its payload.
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
        let bytes = axum::body::to_bytes(body, limit.saturating_add(1))
            .await
            .map_err(|_| WebhookRejection(WebhookError::TooLarge { limit }))?;
        receiver
            .receive(&parts.headers, &bytes)
            .map(Webhook)
            .map_err(WebhookRejection)
    }
}
