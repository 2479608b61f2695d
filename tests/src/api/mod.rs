//! The fake Fanvue API listener: routes, pagination helpers and the list endpoints.

mod lists;
mod media;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post};

use crate::faults::ApiRoute;
use crate::gate;
use crate::log::Listener;
use crate::state::Shared;

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
        .route_layer(from_fn_with_state(
            (shared.clone(), Listener::Api),
            gate::api_gate,
        ))
        .fallback(lists::custom)
        .with_state(shared.clone())
        .layer(from_fn_with_state((shared, Listener::Api), gate::record))
}
