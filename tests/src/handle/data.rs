//! Seeded answers, overrides and the fake's data.

use uuid::Uuid;

use super::FakeFanvue;
use crate::model::{Creator, CurrentUser, MediaItem, MediaStatus};
use crate::state::{CustomRoute, ListStyle};

impl FakeFanvue {
    /// Serves `GET {path}` (exact path, any query) as a list of `items`, behind the same version, token and
    /// fault checks as the built-in routes. For list operations the fake has no built-in route for.
    pub fn seed_list(&self, path: &str, style: ListStyle, items: Vec<serde_json::Value>) {
        self.shared.lock().custom.insert(
            (http::Method::GET, path.to_string()),
            CustomRoute::List { style, items },
        );
    }

    /// Replaces the answer of one operation (by `operationId`, e.g. `"get-current-user"`) for every
    /// later request, stateful or synthesized; the version, token and validation checks still apply.
    pub fn override_operation(&self, operation_id: &str, answer: crate::Override) {
        self.shared
            .lock()
            .overrides
            .insert(operation_id.to_string(), answer);
    }

    /// Removes the override of one operation.
    pub fn clear_override(&self, operation_id: &str) {
        self.shared.lock().overrides.remove(operation_id);
    }

    /// Answers `method path` (exact path, any query) with `status` and the JSON `body`, behind the same
    /// version, token and fault checks as the built-in routes. Built-in routes take precedence.
    pub fn stub(&self, method: http::Method, path: &str, status: u16, body: serde_json::Value) {
        self.shared.lock().custom.insert(
            (method, path.to_string()),
            CustomRoute::Stub { status, body },
        );
    }

    /// Current status of a media item (of the user or any creator).
    pub fn media_status(&self, media_uuid: Uuid) -> Option<MediaStatus> {
        self.shared
            .lock()
            .data
            .media
            .values()
            .flatten()
            .find(|m| m.uuid == media_uuid)
            .map(|m| m.status)
    }

    /// Appends a media item to the library of the user (`None`) or of an agency creator.
    pub fn add_media(&self, owner: Option<Uuid>, item: MediaItem) {
        self.shared
            .lock()
            .data
            .media
            .entry(owner)
            .or_default()
            .push(item);
    }

    /// The seeded user.
    pub fn current_user(&self) -> CurrentUser {
        self.shared.lock().data.user.clone()
    }

    /// The authenticated user's chats (each with its fan, `chat.user.user.uuid`), in list order.
    pub fn chats(&self) -> Vec<crate::model::Chat> {
        self.shared.lock().data.chats.clone()
    }

    /// The agency creators.
    pub fn creators(&self) -> Vec<Creator> {
        self.shared.lock().data.creators.clone()
    }

    /// The user's media library (all statuses), in list order.
    pub fn media(&self) -> Vec<MediaItem> {
        self.shared
            .lock()
            .data
            .media
            .get(&None)
            .cloned()
            .unwrap_or_default()
    }
}
