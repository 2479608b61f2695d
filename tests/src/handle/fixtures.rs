//! Fixtures: inputs bound to resources that exist, so an operation answers its success.

use serde_json::Value;

use super::FakeFanvue;
use crate::spec::Operation;
use crate::synth::RequestInputs;

impl FakeFanvue {
    /// Points the path parameters of `inputs` that name a resource of the fake at one that exists:
    /// `creatorUserUuid` at a creator of the agency, a media `uuid` at a media item of its owner, and
    /// the ids of stored resources (a post, a comment, a tracking link, a custom list and a member, a
    /// vault folder and a media in it, a mass message, a message, a collection, and the parents they
    /// live under) at items stored for the purpose. Other inputs are left as they are. Uploads are not
    /// bound: create one over HTTP.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), fanvue_fake::FakeError> {
    /// use fanvue_fake::FakeFanvue;
    /// use fanvue_fake::spec::Spec;
    /// use fanvue_fake::synth::{Mode, request_inputs};
    /// let fake = FakeFanvue::start().await?;
    /// let spec = Spec::load();
    /// let op = spec.operation("delete-post").unwrap();
    /// let mut inputs = request_inputs(spec, op, Mode::Minimal);
    /// fake.bind_to_resources(op, &mut inputs);
    /// let path = inputs.path(op); // /posts/<a stored post>: DELETE answers 204, not 404
    /// # let _ = path;
    /// # Ok(()) }
    /// ```
    pub fn bind_to_resources(&self, op: &Operation, inputs: &mut RequestInputs) {
        let creator = inputs
            .path_params
            .iter()
            .any(|(n, _)| n == "creatorUserUuid")
            .then(|| {
                self.shared
                    .lock()
                    .data
                    .creators
                    .first()
                    .map(|c| c.user.uuid)
            })
            .flatten();
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let before: Vec<(String, String)> = inputs
            .path_params
            .iter()
            .map(|(n, v)| (n.clone(), text(v)))
            .collect();
        let mut params = before.clone();
        if let (Some(c), Some((_, v))) = (
            creator,
            params.iter_mut().find(|(n, _)| n == "creatorUserUuid"),
        ) {
            *v = c.to_string();
        }
        if matches!(
            op.id.as_str(),
            "get-user-media-by-uuid" | "get-creator-media-by-uuid"
        ) {
            let media = self
                .shared
                .lock()
                .data
                .media
                .get(&creator)
                .and_then(|m| m.first())
                .map(|m| m.uuid);
            if let (Some(m), Some((_, v))) = (media, params.iter_mut().find(|(n, _)| n == "uuid")) {
                *v = m.to_string();
            }
        }
        crate::api::resources::bind(&self.shared, &op.id, &mut params);
        // Only the values bound here change (others keep their JSON type).
        for (name, value) in &mut inputs.path_params {
            let was = before.iter().find(|(n, _)| n == name).map(|(_, v)| v);
            if let Some((_, v)) = params.iter().find(|(n, _)| n == name)
                && Some(v) != was
            {
                *value = Value::String(v.clone());
            }
        }
    }
}
