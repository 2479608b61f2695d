//! The stateful handlers, registered by operation id. A handler gets the request after every check of
//! the pipeline passed ([`Call`]), so it trusts what the document validated (types, bounds, enums,
//! required fields) and answers only what state decides.

use std::sync::Arc;

use axum::response::Response;
use bytes::Bytes;

use super::{lists, media, resources, uploads};
use crate::spec::{Operation, Spec};
use crate::state::Shared;

/// A request that passed the pipeline's checks.
pub(crate) struct Call {
    /// The operation it was matched to.
    pub op: &'static Operation,
    /// The request path (without query).
    pub path: String,
    /// Path parameters by name, percent-decoded.
    pub params: Vec<(String, String)>,
    /// Query pairs as sent (repeated keys kept).
    pub query: Vec<(String, String)>,
    /// The request body.
    pub body: Bytes,
    /// An [`crate::Fault::ExpiredUrl`] hit the request.
    pub expired_url: bool,
}

impl Call {
    /// A path parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A path parameter that is a UUID (`None` when absent or not a UUID).
    pub fn uuid_param(&self, name: &str) -> Option<uuid::Uuid> {
        self.param(name).and_then(|v| uuid::Uuid::parse_str(v).ok())
    }
}

/// A stateful handler.
pub(crate) type Handler = fn(&Arc<Shared>, &Call) -> Response;

/// The stateful handler of an operation, if it has one.
pub(crate) fn handler(operation_id: &str) -> Option<Handler> {
    Some(match operation_id {
        "get-current-user" => lists::users_me,
        "list-chats" => lists::chats,
        "list-creators" => lists::creators,
        "get-earnings" => lists::earnings,
        "get-user-media" | "get-creator-media" => media::list,
        "get-user-media-by-uuid" | "get-creator-media-by-uuid" => media::get,
        "create-upload-session" | "create-creator-upload-session" => uploads::create,
        "get-upload-part-url" | "get-creator-upload-part-url" => uploads::part_url,
        "complete-upload-session" | "complete-creator-upload-session" => uploads::complete,
        id if resources::route(id).is_some() => resources::handle,
        id if Spec::load().operation(id).is_some_and(resources::is_batch) => resources::batch,
        _ => return None,
    })
}
