//! The spec-driven API: every operation answers its documented status and a body valid against its
//! schema, lists paginate over the seeded collection, overrides replace answers, and every kind of
//! request the document forbids is refused with the documented shape.

mod common;

use std::collections::HashSet;

use common::{authed, client, create_upload, get_json, part_url, put_part};
use fanvue_fake::schema::Validators;
use fanvue_fake::spec::Spec;
use fanvue_fake::synth::{Mode, RequestInputs, request_inputs};
use fanvue_fake::{FakeFanvue, Override};
use serde_json::{Value, json};

/// Status and JSON body (`Null` when the body is empty or not JSON).
async fn send(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = rb.send().await.expect("request succeeds");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Asserts a 400 `{errors: [..]}` one of whose messages names `field`.
fn assert_refused(what: &str, (status, body): (u16, Value), field: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: {body}"));
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.contains(field))),
        "{what}: no message names `{field}`: {body}"
    );
}

/// Binds an upload session (with one uploaded part for a completion) to the upload operations.
async fn bind_upload(
    fake: &FakeFanvue,
    op: &fanvue_fake::spec::Operation,
    inputs: &mut RequestInputs,
) {
    let prefix = match op.id.as_str() {
        "get-upload-part-url" | "complete-upload-session" => String::new(),
        "get-creator-upload-part-url" | "complete-creator-upload-session" => {
            let creator = inputs
                .path_params
                .iter()
                .find(|(n, _)| n == "creatorUserUuid")
                .and_then(|(_, v)| v.as_str())
                .unwrap()
                .to_string();
            format!("/creators/{creator}")
        }
        _ => return,
    };
    let (_, upload) = create_upload(fake, &prefix).await;
    for (n, v) in &mut inputs.path_params {
        if n == "uploadId" {
            *v = Value::String(upload.clone());
        }
        if n == "partNumber" {
            *v = json!(1);
        }
    }
    if op.id.starts_with("complete") {
        let url = part_url(fake, &prefix, &upload, 1).await;
        let etag = put_part(&url, vec![7u8; 1024]).await;
        inputs.body = Some(json!({ "parts": [{ "PartNumber": 1, "ETag": etag }] }));
    }
}

#[tokio::test]
async fn every_operation_answers_its_documented_status_and_schema() {
    let fake = FakeFanvue::start().await.unwrap();
    let spec = Spec::load();
    let v = Validators::get();
    let mut failures = Vec::new();
    for op in spec.operations() {
        for mode in [Mode::Minimal, Mode::Full, Mode::Seeded(9)] {
            let mut inputs = request_inputs(spec, op, mode);
            // Ids that name resources point at ones that exist, so the operation answers success.
            fake.bind_to_resources(op, &mut inputs);
            bind_upload(&fake, op, &mut inputs).await;
            let url = format!("{}{}", fake.api_url(), inputs.path(op));
            let mut rb = authed(&fake, client().request(op.method.clone(), url))
                .query(&inputs.query_pairs(op));
            if let Some(body) = &inputs.body {
                rb = rb.json(body);
            }
            let resp = rb.send().await.expect("request succeeds");
            let status = resp.status().as_u16();
            let text = resp.text().await.expect("body");
            // Every operation must answer the documented success, with a body valid against the schema.
            if status != op.success_status {
                failures.push(format!("{} {mode:?}: {status} {text}", op.id));
                continue;
            }
            match &op.response {
                Some(r) if r.content_type == "application/json" => {
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if let Err(e) = v.check_response(&op.id, &body) {
                        failures.push(format!("{} {mode:?}: {e:?}", op.id));
                    }
                }
                Some(_) => {}
                None => {
                    if !text.is_empty() {
                        failures.push(format!("{} {mode:?}: body on {status}", op.id));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn refuses_each_kind_of_violation() {
    let fake = FakeFanvue::start().await.unwrap();
    let api = fake.api_url().to_string();
    let list = format!("/chats/lists/custom/{}", uuid::Uuid::new_v4());

    // Missing required body field.
    let r =
        send(authed(&fake, client().post(format!("{api}{list}/members"))).json(&json!({}))).await;
    assert_refused("missing body field", r, "userUuids");
    // Missing required body.
    let r = send(authed(&fake, client().post(format!("{api}{list}/members")))).await;
    assert_refused("missing body", r, "body");
    // Wrong type and out-of-bound values in the body.
    let r = send(
        authed(&fake, client().post(format!("{api}{list}/members")))
            .json(&json!({"userUuids": ["not-a-uuid"]})),
    )
    .await;
    assert_refused("non-uuid body item", r, "userUuids.0");
    let r = send(
        authed(&fake, client().post(format!("{api}{list}/members")))
            .json(&json!({"userUuids": []})),
    )
    .await;
    assert_refused("too few items", r, "userUuids");
    // Out-of-bound query values, on a stateful route and on a document-driven one.
    let (s, b) = get_json(&fake, "/chats?size=51").await;
    assert_refused("size above maximum", (s, b), "size");
    let (s, b) = get_json(&fake, "/agencies/chats?page=0").await;
    assert_refused("page below minimum", (s, b), "page");
    // Wrong type.
    let (s, b) = get_json(&fake, "/agencies/chats?page=abc").await;
    assert_refused("non-integer page", (s, b), "page");
    let (s, b) = get_json(&fake, "/tracking-links?limit=0").await;
    assert_refused("exclusive minimum", (s, b), "limit");
    // Wrong enum.
    let (s, b) = get_json(&fake, "/chats?sortBy=alphabetical").await;
    assert_refused("unknown enum value", (s, b), "sortBy");
    // An explode:false array sent as repeated keys, and a bad item in the comma-separated form.
    let (a, b2) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let (s, b) = get_json(
        &fake,
        &format!("/agencies/subscribers?creatorUuids={a}&creatorUuids={b2}"),
    )
    .await;
    assert_refused("repeated keys for explode:false", (s, b), "creatorUuids");
    let (s, b) = get_json(
        &fake,
        &format!("/agencies/subscribers?creatorUuids={a},nope"),
    )
    .await;
    assert_refused(
        "bad item of a comma-separated array",
        (s, b),
        "creatorUuids",
    );
    let (s, _) = get_json(
        &fake,
        &format!("/agencies/subscribers?creatorUuids={a},{b2}"),
    )
    .await;
    assert_eq!(s, 200, "the documented encoding is accepted");
    // Wrong type in a path parameter.
    let (s, b) = get_json(&fake, "/chats/lists/custom/not-a-uuid").await;
    assert_refused("non-uuid path parameter", (s, b), "uuid");
    // Unknown query parameters are ignored, like the real server.
    let (s, _) = get_json(&fake, "/agencies/chats?page=1&utm_source=x").await;
    assert_eq!(s, 200);

    // Missing and unsupported version header: 400 {error, message}.
    let url = format!("{api}/agencies/chats");
    let (s, b) = send(client().get(&url).bearer_auth(fake.access_token())).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["error"].is_string() && b["message"].is_string(), "{b}");
    let (s, b) = send(
        client()
            .get(&url)
            .bearer_auth(fake.access_token())
            .header("X-Fanvue-API-Version", "1999-01-01"),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("1999-01-01"));
    // Missing or bad bearer: 401 {error}.
    let (s, b) = send(
        client()
            .get(&url)
            .header("X-Fanvue-API-Version", fake.api_version()),
    )
    .await;
    assert_eq!(s, 401);
    assert!(b["error"].is_string());
    let (s, _) = send(
        client()
            .get(&url)
            .header("X-Fanvue-API-Version", fake.api_version())
            .bearer_auth("not-a-token"),
    )
    .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn page_number_and_cursor_lists_walk_the_whole_collection() {
    let fake = FakeFanvue::builder()
        .list_size(23)
        .seed(5)
        .start()
        .await
        .unwrap();
    let mut seen = HashSet::new();
    let mut page = 1;
    loop {
        let (s, b) = get_json(&fake, &format!("/agencies/chats?page={page}&size=5")).await;
        assert_eq!(s, 200, "{b}");
        for item in b["data"].as_array().unwrap() {
            assert!(seen.insert(item.to_string()), "duplicate on page {page}");
        }
        assert_eq!(b["pagination"]["page"], page);
        if !b["pagination"]["hasMore"].as_bool().unwrap() {
            break;
        }
        page += 1;
        assert!(page < 10, "never ends");
    }
    assert_eq!(seen.len(), 23);
    assert_eq!(page, 5);
    // The same page twice is the same answer.
    assert_eq!(
        get_json(&fake, "/agencies/chats?page=2&size=5").await,
        get_json(&fake, "/agencies/chats?page=2&size=5").await
    );

    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let (s, b) = get_json(&fake, &format!("/insights/spending?size=10{q}")).await;
        assert_eq!(s, 200, "{b}");
        for item in b["data"].as_array().unwrap() {
            assert!(seen.insert(item.to_string()), "duplicate");
        }
        pages += 1;
        match b["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "never ends");
    }
    assert_eq!((seen.len(), pages), (23, 3));
    let (s, b) = get_json(&fake, "/insights/spending?cursor=garbage").await;
    assert_refused("bad cursor", (s, b), "cursor");
}

#[tokio::test]
async fn overrides_replace_one_operation_after_validation() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.override_operation(
        "get-current-user",
        Override::status(503).with_body(json!({"error": "maintenance"})),
    );
    fake.override_operation(
        "list-agency-chats",
        Override::body(json!({"data": [], "pagination": {"page": 1, "size": 1, "hasMore": false}})),
    );
    assert_eq!(
        get_json(&fake, "/users/me").await,
        (503, json!({"error": "maintenance"}))
    );
    let (s, b) = get_json(&fake, "/agencies/chats").await;
    assert_eq!((s, b["data"].clone()), (200, json!([])));
    // Still validated first.
    let (s, _) = get_json(&fake, "/agencies/chats?size=99").await;
    assert_eq!(s, 400);
    fake.clear_override("get-current-user");
    assert_eq!(get_json(&fake, "/users/me").await.0, 200);
}
