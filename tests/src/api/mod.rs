//! The fake Fanvue API listener: routes, pagination helpers and the list endpoints.

mod from_spec;
mod lists;
mod media;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, patch, post};

use crate::faults::ApiRoute;
use crate::gate;
use crate::log::Listener;
use crate::respond;
use crate::spec::Spec;
use crate::state::{SentMessage, Shared};

/// Builds the API router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let t = |r: ApiRoute| r.template().1;
    Router::new()
        .route(t(ApiRoute::UsersMe), get(lists::users_me))
        .route(t(ApiRoute::MediaList), get(media::list_mine))
        .route(t(ApiRoute::MediaGet), get(media::get_mine))
        .route(t(ApiRoute::CreateUpload), post(uploads::create_mine))
        .route(t(ApiRoute::PartUrl), get(uploads::part_url_mine))
        .route(t(ApiRoute::CompleteUpload), patch(uploads::complete_mine))
        .route(t(ApiRoute::Chats), get(lists::chats))
        .route(t(ApiRoute::TrackingLinks), get(lists::tracking_links))
        .route(t(ApiRoute::Earnings), get(lists::earnings))
        .route(t(ApiRoute::Creators), get(lists::creators))
        .route(t(ApiRoute::CreatorMediaList), get(media::list_creator))
        .route(t(ApiRoute::CreatorMediaGet), get(media::get_creator))
        .route(
            t(ApiRoute::CreatorCreateUpload),
            post(uploads::create_creator),
        )
        .route(t(ApiRoute::CreatorPartUrl), get(uploads::part_url_creator))
        .route(
            t(ApiRoute::CreatorCompleteUpload),
            patch(uploads::complete_creator),
        )
        // Literal paths of the document that a stateful `{uuid}` template would otherwise capture.
        .route("/media/bulk", get(fallback))
        .route_layer(from_fn_with_state(
            (shared.clone(), Listener::Api),
            gate::api_gate,
        ))
        // Stateful routes first; what they do not serve is answered from the document.
        .fallback(fallback)
        // Another method on a stateful path (`POST /chats` beside `GET /chats`): same fallback, after
        // the route layer checked it.
        .method_not_allowed_fallback(fallback)
        .with_state(shared.clone())
        .layer(from_fn_with_state((shared, Listener::Api), gate::record))
}

/// Test-seeded endpoints ([`crate::FakeFanvue::seed_list`], [`crate::FakeFanvue::stub`]) first, then every
/// operation of the document (checked like the real server, answered by [`from_spec`]); 404 otherwise.
async fn fallback(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let key = (req.method().clone(), req.uri().path().to_string());
    if shared.lock().custom.contains_key(&key) {
        return lists::custom(State(shared), req).await;
    }
    let Some((op, params)) = Spec::load().find(req.method(), req.uri().path()) else {
        return respond::not_found("Not found");
    };
    let req = if req.extensions().get::<gate::Checked>().is_some() {
        req
    } else {
        let req = match gate::gate(&shared, Listener::Api, None, req).await {
            Ok(req) => req,
            Err(resp) => return resp,
        };
        match gate::check_and_override(&shared, op, &params, req).await {
            Ok(req) => req,
            Err(resp) => return resp,
        }
    };
    let q: Vec<(String, String)> = Query::try_from_uri(req.uri())
        .map(|Query(q)| q)
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    if op.id == "send-message" || op.id == "send-creator-message" {
        // Accepted messages are kept per conversation (`FakeFanvue::messages_sent_to`).
        let creator = param(&params, "creatorUserUuid");
        let fan = param(&params, "userUuid");
        if let Ok(body) = axum::body::to_bytes(req.into_body(), usize::MAX).await
            && let (Some(fan), Ok(body)) = (fan, serde_json::from_slice(&body))
        {
            shared
                .lock()
                .conversations
                .push(SentMessage { creator, fan, body });
            shared.bump();
        }
    }
    from_spec::answer(op, &path, &q, shared.config.seed, shared.config.list_size)
}

fn param(params: &[(String, String)], name: &str) -> Option<uuid::Uuid> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| uuid::Uuid::parse_str(v).ok())
}
