//! Faults injected on demand: which request they hit and what happens to it.

use std::time::Duration;

/// An API operation served by the fake, used to aim faults and to count requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiRoute {
    /// `GET /users/me`
    UsersMe,
    /// `GET /media`
    MediaList,
    /// `GET /media/{uuid}`
    MediaGet,
    /// `POST /media/uploads`
    CreateUpload,
    /// `GET /media/uploads/{uploadId}/parts/{partNumber}/url`
    PartUrl,
    /// `PATCH /media/uploads/{uploadId}`
    CompleteUpload,
    /// `GET /chats`
    Chats,
    /// `GET /tracking-links`
    TrackingLinks,
    /// `GET /insights/earnings`
    Earnings,
    /// `GET /creators`
    Creators,
    /// `GET /creators/{creatorUserUuid}/media`
    CreatorMediaList,
    /// `GET /creators/{creatorUserUuid}/media/{uuid}`
    CreatorMediaGet,
    /// `POST /creators/{creatorUserUuid}/media/uploads`
    CreatorCreateUpload,
    /// `GET /creators/{creatorUserUuid}/media/uploads/{uploadId}/parts/{partNumber}/url`
    CreatorPartUrl,
    /// `PATCH /creators/{creatorUserUuid}/media/uploads/{uploadId}`
    CreatorCompleteUpload,
    /// `POST /oauth2/token` on the OAuth listener.
    Token,
}

impl ApiRoute {
    /// Every route, in declaration order.
    pub const ALL: [ApiRoute; 16] = [
        ApiRoute::UsersMe,
        ApiRoute::MediaList,
        ApiRoute::MediaGet,
        ApiRoute::CreateUpload,
        ApiRoute::PartUrl,
        ApiRoute::CompleteUpload,
        ApiRoute::Chats,
        ApiRoute::TrackingLinks,
        ApiRoute::Earnings,
        ApiRoute::Creators,
        ApiRoute::CreatorMediaList,
        ApiRoute::CreatorMediaGet,
        ApiRoute::CreatorCreateUpload,
        ApiRoute::CreatorPartUrl,
        ApiRoute::CreatorCompleteUpload,
        ApiRoute::Token,
    ];

    /// HTTP method and axum path template of the route.
    pub fn template(self) -> (http::Method, &'static str) {
        use http::Method;
        match self {
            ApiRoute::UsersMe => (Method::GET, "/users/me"),
            ApiRoute::MediaList => (Method::GET, "/media"),
            ApiRoute::MediaGet => (Method::GET, "/media/{uuid}"),
            ApiRoute::CreateUpload => (Method::POST, "/media/uploads"),
            ApiRoute::PartUrl => (
                Method::GET,
                "/media/uploads/{upload_id}/parts/{part_number}/url",
            ),
            ApiRoute::CompleteUpload => (Method::PATCH, "/media/uploads/{upload_id}"),
            ApiRoute::Chats => (Method::GET, "/chats"),
            ApiRoute::TrackingLinks => (Method::GET, "/tracking-links"),
            ApiRoute::Earnings => (Method::GET, "/insights/earnings"),
            ApiRoute::Creators => (Method::GET, "/creators"),
            ApiRoute::CreatorMediaList => (Method::GET, "/creators/{creator}/media"),
            ApiRoute::CreatorMediaGet => (Method::GET, "/creators/{creator}/media/{uuid}"),
            ApiRoute::CreatorCreateUpload => (Method::POST, "/creators/{creator}/media/uploads"),
            ApiRoute::CreatorPartUrl => (
                Method::GET,
                "/creators/{creator}/media/uploads/{upload_id}/parts/{part_number}/url",
            ),
            ApiRoute::CreatorCompleteUpload => (
                Method::PATCH,
                "/creators/{creator}/media/uploads/{upload_id}",
            ),
            ApiRoute::Token => (Method::POST, "/oauth2/token"),
        }
    }

    /// The `operationId` of the route in the document (`None` for [`ApiRoute::Token`]).
    pub fn operation_id(self) -> Option<&'static str> {
        Some(match self {
            ApiRoute::UsersMe => "get-current-user",
            ApiRoute::MediaList => "get-user-media",
            ApiRoute::MediaGet => "get-user-media-by-uuid",
            ApiRoute::CreateUpload => "create-upload-session",
            ApiRoute::PartUrl => "get-upload-part-url",
            ApiRoute::CompleteUpload => "complete-upload-session",
            ApiRoute::Chats => "list-chats",
            ApiRoute::TrackingLinks => "list-tracking-links",
            ApiRoute::Earnings => "get-earnings",
            ApiRoute::Creators => "list-creators",
            ApiRoute::CreatorMediaList => "get-creator-media",
            ApiRoute::CreatorMediaGet => "get-creator-media-by-uuid",
            ApiRoute::CreatorCreateUpload => "create-creator-upload-session",
            ApiRoute::CreatorPartUrl => "get-creator-upload-part-url",
            ApiRoute::CreatorCompleteUpload => "complete-creator-upload-session",
            ApiRoute::Token => return None,
        })
    }

    /// The route of an `operationId`, if it is one of the routes.
    pub fn from_operation_id(operation_id: &str) -> Option<ApiRoute> {
        ApiRoute::ALL
            .into_iter()
            .find(|r| r.operation_id() == Some(operation_id))
    }

    /// Finds the route for a method and matched axum path template.
    pub fn from_template(method: &http::Method, template: &str) -> Option<ApiRoute> {
        ApiRoute::ALL.into_iter().find(|r| {
            let (m, t) = r.template();
            m == method && t == template
        })
    }
}

/// What a fault does to the request it hits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and a JSON `{error}` body (API) or an S3 XML error (S3), without doing the work.
    Status(u16),
    /// Answer as a gateway in front of the API would when the API is unreachable: this status (502, 503
    /// or 504) with an HTML body and no API headers (no `X-RateLimit-*`, no `X-Request-Id`). The request
    /// is not counted in any rate-limit bucket. See also [`crate::FakeFanvue::gateway_outage`].
    Gateway {
        /// The HTTP status.
        status: u16,
    },
    /// Answer 429 with `Retry-After: <secs>` and `X-RateLimit-Limit/Remaining/Reset` headers.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Answer 401 `{error}` for this request (the token is left valid).
    Unauthorized,
    /// Drop the TCP connection (with a reset) without any response. On S3 part/raw PUTs this happens after
    /// reading part of the request body, so the client sees its upload cut mid-body.
    Reset,
    /// Send the status line, headers and part of the body, then drop the connection: the client sees an
    /// error while reading the response body.
    TruncatedResponse,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// S3 part PUTs only: store the part, but answer with an `ETag` that is not the part's MD5.
    WrongEtag,
    /// Part URL routes: hand out a presigned URL that is already expired (S3 answers 403
    /// `AccessDenied` / `Request has expired` to it). On S3 targets: answer that 403 directly.
    ExpiredUrl,
    /// API routes: expire every access token issued so far just before the token check, so this request
    /// gets 401 and the client must refresh (tokens issued afterwards work).
    ExpireAccessTokens,
    /// API routes: handle the request fully (e.g. create the upload session and its media), then drop the
    /// connection (reset) instead of answering: the client cannot know whether the server acted.
    ActThenReset,
    /// S3 part PUTs: one byte of the body is flipped on arrival, as a corruption in transit would. With a
    /// `Content-MD5` header S3 refuses the part (400 `BadDigest`); without one it stores the corrupted bytes.
    CorruptBody,
}

/// Where a fault applies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTarget {
    /// Any API request whose path (without query) is exactly this one, routed or custom
    /// (see [`crate::FakeFanvue::seed_list`]).
    ApiPath(String),
    /// One API (or OAuth) route (the stateful operations; [`FaultTarget::Operation`] reaches any).
    Api(ApiRoute),
    /// Every request of one operation, by `operationId` (any of the 143).
    Operation(String),
    /// Every API request of an operation of the document or a seeded path (not the OAuth listener).
    AnyApi,
    /// S3 part PUTs; `Some(n)` only for part number `n` (of any upload).
    S3Part(Option<u32>),
    /// The raw single-PUT endpoint `PUT /bucket/raw/{key}`.
    S3Raw,
    /// Part URL requests (personal and agency) for part `Some(n)` or any part; meant for [`Fault::ExpiredUrl`].
    PartUrlFor(Option<u32>),
}

/// One registered fault with how many more requests it will hit.
#[derive(Debug, Clone)]
pub(crate) struct FaultRule {
    pub target: FaultTarget,
    pub fault: Fault,
    /// Matching requests to let through before the fault starts hitting.
    pub skip: u32,
    pub remaining: u32,
}

/// The request a fault could apply to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FaultSubject<'a> {
    Api {
        route: Option<ApiRoute>,
        part: Option<u32>,
        path: &'a str,
    },
    /// An API request matched to an operation (checked against [`FaultTarget::Operation`] too).
    Operation {
        id: &'a str,
        route: Option<ApiRoute>,
        part: Option<u32>,
        path: &'a str,
    },
    S3Part(u32),
    S3Raw,
}

/// Registered faults, consumed in registration order.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Vec<FaultRule>,
}

impl FaultBook {
    pub fn add(&mut self, target: FaultTarget, fault: Fault, skip: u32, times: u32) {
        if times > 0 {
            self.rules.push(FaultRule {
                target,
                fault,
                skip,
                remaining: times,
            });
        }
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn pending(&self) -> usize {
        self.rules.iter().map(|r| r.remaining as usize).sum()
    }

    /// Takes the first matching fault (decrementing its count), if any.
    pub fn take(&mut self, subject: FaultSubject<'_>) -> Option<Fault> {
        let mut found = None;
        for (idx, rule) in self.rules.iter_mut().enumerate() {
            if rule.remaining == 0 || !matches(&rule.target, subject) {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            found = Some(idx);
            break;
        }
        let idx = found?;
        let rule = &mut self.rules[idx];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            self.rules.remove(idx);
        }
        Some(fault)
    }
}

fn matches(target: &FaultTarget, subject: FaultSubject<'_>) -> bool {
    if let FaultSubject::Operation {
        id,
        route,
        part,
        path,
    } = subject
    {
        return match target {
            FaultTarget::Operation(want) => want == id,
            _ => matches(target, FaultSubject::Api { route, part, path }),
        };
    }
    match (target, subject) {
        (FaultTarget::ApiPath(p), FaultSubject::Api { path, .. }) => p == path,
        (FaultTarget::Api(r), FaultSubject::Api { route, .. }) => route == Some(*r),
        (FaultTarget::AnyApi, FaultSubject::Api { route, .. }) => route != Some(ApiRoute::Token),
        (FaultTarget::PartUrlFor(want), FaultSubject::Api { route, part, .. }) => {
            matches!(route, Some(ApiRoute::PartUrl | ApiRoute::CreatorPartUrl))
                && (want.is_none() || *want == part)
        }
        (FaultTarget::S3Part(want), FaultSubject::S3Part(n)) => want.is_none() || *want == Some(n),
        (FaultTarget::S3Raw, FaultSubject::S3Raw) => true,
        _ => false,
    }
}

/// A fault of the OAuth token endpoint that strikes *after* the refresh token was consumed (the new pair
/// is issued and the old token starts its grace), as a network blip between Fanvue and the client would:
/// the client cannot know whether its token was spent.
/// Injected with [`crate::FakeFanvue::inject_token_fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenFault {
    /// Consume the refresh token, then wait this long before answering (`None`: never answer).
    ConsumeThenStall(Option<Duration>),
    /// Consume the refresh token, then drop the connection (a TCP reset) without answering.
    ConsumeThenReset,
}
