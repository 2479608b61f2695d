//! The fake Fanvue API listener: one request pipeline for every operation of the document.
//!
//! Every request goes through the same stages, in this order ([`pipeline`]):
//! 1. **record**: the request is logged with its body ([`crate::gate::record`], a layer);
//! 2. **find the operation**: [`crate::spec::Spec::find`] by method and path (a path of the document
//!    with another method, or no path of the document and no stub: 404 `{message}`);
//! 3. **faults**: a gateway outage or an injected [`crate::Fault`] answers instead of the API;
//! 4. **rate limit**: the request draws from its bucket ([`crate::ratelimit`]); from here on every
//!    answer carries `X-RateLimit-*`;
//! 5. **API version** (`X-Fanvue-API-Version`);
//! 6. **token and scopes**: a valid bearer token (401 `{error}`) carrying every scope of the
//!    operation's `x-fanvue-scopes` (403 `{error}` naming the missing scope);
//! 7. **validation**: unknown query parameters (recorded; 400 in strict mode), a JSON `Content-Type`
//!    for a body, then path and query parameters and the body against the document ([`crate::check`]);
//! 8. **overrides** ([`crate::FakeFanvue::override_operation`]);
//! 9. **the answer**: a test's stub or seeded list for the path, else the operation's stateful handler
//!    (registered by operation id, [`handlers`]; the resource store [`resources`] serves every
//!    create/list/get/update/delete operation of its table and the batch maps), else an answer
//!    synthesized from the document ([`from_spec`]).
//!
//! Stateful handlers do not re-check what the schema already checked; they answer what only state
//! can tell (404 for an unknown id, a completion whose parts do not match, ...).

mod custom;
mod from_spec;
mod handlers;
mod lists;
mod media;
mod pipeline;
pub(crate) mod resources;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;

use crate::gate;
use crate::log::Listener;
use crate::state::Shared;

pub(crate) use pipeline::principal;

/// Builds the API router: every request is handled by the pipeline.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .fallback(pipeline::handle)
        .with_state(shared.clone())
        .layer(from_fn_with_state(
            (shared.clone(), Listener::Api),
            gate::record,
        ));
    // The admin API is outside the pipeline: not logged, not limited, not validated.
    crate::admin::router(shared).merge(api)
}
