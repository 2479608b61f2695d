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
    /// later request it matches ([`crate::Override::when_query`], [`crate::Override::when_body`]), or the
    /// next [`crate::Override::times`] ones, stateful or synthesized; the version, token and validation
    /// checks still apply. Replaces the operation's earlier overrides.
    pub fn override_operation(&self, operation_id: &str, answer: crate::Override) {
        self.shared.lock().overrides.set(operation_id, vec![answer]);
    }

    /// Answers the next requests of one operation with `answers`, in order: each answers once (or its
    /// [`crate::Override::times`]) and only requests it matches; then the usual answer. Replaces the
    /// operation's earlier overrides.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), fanvue_fake::FakeError> {
    /// use fanvue_fake::{FakeFanvue, Override};
    /// let fake = FakeFanvue::start().await?;
    /// // 503, 503, then a body, then the usual answer.
    /// fake.override_sequence(
    ///     "get-current-user",
    ///     vec![Override::status(503).times(2), Override::body(serde_json::json!({"uuid": "..."}))],
    /// );
    /// # Ok(()) }
    /// ```
    pub fn override_sequence(&self, operation_id: &str, answers: Vec<crate::Override>) {
        let answers = answers
            .into_iter()
            .map(|a| if a.times.is_none() { a.times(1) } else { a })
            .collect();
        self.shared.lock().overrides.set(operation_id, answers);
    }

    /// Adds an override after the operation's existing ones (a request takes the first that matches
    /// it and has answers left), e.g. one answer per query or body matcher.
    pub fn add_override(&self, operation_id: &str, answer: crate::Override) {
        self.shared.lock().overrides.add(operation_id, answer);
    }

    /// Removes the overrides of one operation.
    pub fn clear_override(&self, operation_id: &str) {
        self.shared.lock().overrides.remove(operation_id);
    }

    /// Removes the overrides of every operation.
    pub fn clear_overrides(&self) {
        self.shared.lock().overrides.clear();
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
