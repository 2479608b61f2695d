//! State that means something, over real HTTP on loopback: ids echo the path, batch maps are keyed by
//! the requested ids, creates are stored, listed, read, updated and deleted, unknown ids answer 404,
//! numbers are plausible.

mod common;

use common::{authed, client, get_json};
use fanvue_fake::FakeFanvue;
use fanvue_fake::schema::Validators;
use serde_json::{Value, json};
use uuid::Uuid;

/// Sends `method path` with an optional JSON body; status and JSON body (`Null` when empty).
async fn call(fake: &FakeFanvue, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let method = http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = authed(
        fake,
        client().request(method, format!("{}{path}", fake.api_url())),
    );
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.expect("request succeeds");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Asserts a success answer valid against the operation's response schema.
fn valid(op: &str, (status, body): &(u16, Value), want: u16) {
    assert_eq!(*status, want, "{op}: {body}");
    if !body.is_null() {
        Validators::get()
            .check_response(op, body)
            .unwrap_or_else(|e| panic!("{op}: {e:?}: {body}"));
    }
}

fn uuids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["uuid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_synthesized_object_carries_the_ids_of_its_path() {
    let fake = FakeFanvue::start().await.unwrap();
    let template = Uuid::new_v4();
    let r = call(&fake, "GET", &format!("/chats/templates/{template}"), None).await;
    valid("get-template-message", &r, 200);
    assert_eq!(r.1["uuid"], json!(template.to_string()), "{}", r.1);
    let creator = fake.creators()[0].user.uuid;
    let r = call(&fake, "GET", &format!("/creators/{creator}/account"), None).await;
    valid("get-creator-account", &r, 200);
    assert_eq!(r.1["uuid"], json!(creator.to_string()), "{}", r.1);
}

#[tokio::test]
async fn a_created_post_is_readable_listed_updated_and_deleted() {
    let fake = FakeFanvue::start().await.unwrap();
    let created = call(
        &fake,
        "POST",
        "/posts",
        Some(json!({"text": "hello fans", "price": 500, "audience": "subscribers"})),
    )
    .await;
    valid("create-post", &created, 201);
    assert_eq!(created.1["text"], "hello fans");
    assert_eq!(created.1["price"], 500);
    let id = created.1["uuid"].as_str().unwrap().to_string();

    let got = call(&fake, "GET", &format!("/posts/{id}"), None).await;
    valid("get-post-by-uuid", &got, 200);
    assert_eq!(got.1["uuid"], json!(id));
    assert_eq!(got.1["text"], "hello fans");
    assert_eq!(got.1["price"], 500);

    let (_, list) = get_json(&fake, "/posts").await;
    assert_eq!(uuids(&list)[0], id, "the new post comes first");

    let updated = call(
        &fake,
        "PATCH",
        &format!("/posts/{id}"),
        Some(json!({"text": "edited"})),
    )
    .await;
    valid("update-post", &updated, 200);
    assert_eq!(updated.1["text"], "edited");
    let (_, got) = get_json(&fake, &format!("/posts/{id}")).await;
    assert_eq!(got["text"], "edited");

    // Comments live under their post.
    let comment = call(
        &fake,
        "POST",
        &format!("/posts/{id}/comments"),
        Some(json!({"text": "first!"})),
    )
    .await;
    valid("create-post-comment", &comment, 201);
    let (_, comments) = get_json(&fake, &format!("/posts/{id}/comments")).await;
    assert_eq!(uuids(&comments), vec![comment.1["uuid"].as_str().unwrap()]);

    assert_eq!(
        call(&fake, "DELETE", &format!("/posts/{id}"), None).await.0,
        204
    );
    let gone = call(&fake, "GET", &format!("/posts/{id}"), None).await;
    assert_eq!(gone.0, 404);
    assert!(gone.1["message"].is_string(), "{}", gone.1);
    let (_, list) = get_json(&fake, "/posts").await;
    assert!(!uuids(&list).contains(&id));
    // Children of an unknown post.
    assert_eq!(
        call(&fake, "GET", &format!("/posts/{id}/comments"), None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn an_unknown_post_is_404_not_another_uuid() {
    let fake = FakeFanvue::start().await.unwrap();
    let x = Uuid::new_v4();
    let r = call(&fake, "GET", &format!("/posts/{x}"), None).await;
    assert_eq!(r.0, 404, "{}", r.1);
    assert!(r.1["message"].is_string());
    // A post the list shows is readable under its own id.
    let (_, list) = get_json(&fake, "/posts").await;
    let seeded = uuids(&list)[0].clone();
    let (s, got) = get_json(&fake, &format!("/posts/{seeded}")).await;
    assert_eq!(s, 200);
    assert_eq!(got["uuid"], json!(seeded));
}

#[tokio::test]
async fn batch_maps_are_keyed_by_the_requested_ids() {
    let fake = FakeFanvue::start().await.unwrap();
    let ids = [Uuid::new_v4().to_string(), Uuid::new_v4().to_string()];
    let r = call(
        &fake,
        "POST",
        "/insights/fans/batch",
        Some(json!({"userUuids": ids})),
    )
    .await;
    valid("batch-fan-insights", &r, 200);
    let mut keys: Vec<&String> = r.1.as_object().unwrap().keys().collect();
    keys.sort();
    let mut want: Vec<&String> = ids.iter().collect();
    want.sort();
    assert_eq!(keys, want);

    let r = call(
        &fake,
        "POST",
        "/chats/statuses",
        Some(json!({"userUuids": ids})),
    )
    .await;
    valid("get-batch-statuses", &r, 200);
    assert_eq!(r.1.as_object().unwrap().len(), 2);
    assert!(ids.iter().all(|i| r.1.get(i).is_some()));

    // A chat the fake holds answers messages; an unknown one a per-key error.
    let (_, chats) = get_json(&fake, "/chats").await;
    let known = chats["data"][0]["user"]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let unknown = Uuid::new_v4().to_string();
    let r = call(
        &fake,
        "POST",
        "/chats/messages/batch",
        Some(json!({"chatUuids": [known, unknown]})),
    )
    .await;
    valid("messages-batch", &r, 200);
    assert_eq!(r.1["byChat"].as_object().unwrap().len(), 2);
    assert_eq!(r.1["byChat"][&unknown], json!({"error": "not_found"}));
    assert!(r.1["byChat"][&known].get("error").is_none(), "{}", r.1);
}

#[tokio::test]
async fn tracking_links_are_distinct_listed_deleted_and_start_at_zero() {
    let fake = FakeFanvue::start().await.unwrap();
    let mut ids = Vec::new();
    for name in ["insta", "tiktok", "x"] {
        let r = call(
            &fake,
            "POST",
            "/tracking-links",
            Some(json!({"name": name, "externalSocialPlatform": "instagram"})),
        )
        .await;
        valid("create-tracking-link", &r, 201);
        assert_eq!(r.1["name"], name);
        assert_eq!(r.1["clicks"], 0, "a new link has no clicks: {}", r.1);
        let earnings = &r.1["earnings"];
        assert!(
            earnings.is_null()
                || earnings
                    .as_object()
                    .unwrap()
                    .values()
                    .all(|v| v.as_f64().is_none_or(|n| n == 0.0)),
            "a new link has no earnings: {earnings}"
        );
        ids.push(r.1["uuid"].as_str().unwrap().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "three links, three uuids");
    let (_, list) = get_json(&fake, "/tracking-links?limit=50").await;
    let listed = uuids(&list);
    assert!(ids.iter().all(|i| listed.contains(i)), "{listed:?}");

    assert_eq!(
        call(
            &fake,
            "DELETE",
            &format!("/tracking-links/{}", ids[0]),
            None
        )
        .await
        .0,
        204
    );
    let (_, list) = get_json(&fake, "/tracking-links?limit=50").await;
    assert!(!uuids(&list).contains(&ids[0]));
    let unknown = call(
        &fake,
        "DELETE",
        &format!("/tracking-links/{}", Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(unknown.0, 404);
    assert!(unknown.1["message"].is_string());
}

#[tokio::test]
async fn net_is_never_above_gross() {
    let fake = FakeFanvue::builder().seed(3).start().await.unwrap();
    fn walk(v: &Value, bad: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, n) in o {
                    let g = if k == "net" {
                        Some("gross".to_string())
                    } else {
                        k.strip_suffix("Net").map(|p| format!("{p}Gross"))
                    };
                    if let (Some(n), Some(g)) = (
                        n.as_f64(),
                        g.and_then(|g| o.get(&g)).and_then(Value::as_f64),
                    ) && n > g
                    {
                        bad.push(format!("{k}={n} > {g}"));
                    }
                }
                o.values().for_each(|v| walk(v, bad));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, bad)),
            _ => {}
        }
    }
    let mut bad = Vec::new();
    for path in [
        "/tracking-links?limit=50",
        "/insights/earnings/summary",
        &format!("/insights/fans/{}", Uuid::new_v4()),
        "/agencies/earnings?startDate=2024-01-01T00:00:00Z&endDate=2024-02-01T00:00:00Z",
    ] {
        let (s, body) = get_json(&fake, path).await;
        assert_eq!(s, 200, "{path}: {body}");
        walk(&body, &mut bad);
    }
    assert!(bad.is_empty(), "{bad:?}");
}

#[tokio::test]
async fn custom_list_members_count_what_was_added() {
    let fake = FakeFanvue::start().await.unwrap();
    let list = call(
        &fake,
        "POST",
        "/chats/lists/custom",
        Some(json!({"name": "VIPs"})),
    )
    .await;
    valid("create-custom-list", &list, 201);
    assert_eq!(list.1["name"], "VIPs");
    let id = list.1["uuid"].as_str().unwrap().to_string();
    let fan = Uuid::new_v4().to_string();
    let members = format!("/chats/lists/custom/{id}/members");
    let r = call(&fake, "POST", &members, Some(json!({"userUuids": [fan]}))).await;
    valid("add-members-to-custom-list", &r, 201);
    assert_eq!(r.1, json!({"added": 1, "skipped": 0}));
    let other = Uuid::new_v4().to_string();
    let r = call(
        &fake,
        "POST",
        &members,
        Some(json!({"userUuids": [fan, other]})),
    )
    .await;
    assert_eq!(r.1, json!({"added": 1, "skipped": 1}));
    let (_, got) = get_json(&fake, &format!("/chats/lists/custom/{id}")).await;
    let mut listed = uuids(&got);
    listed.sort();
    let mut want = vec![fan.clone(), other];
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(
        call(&fake, "DELETE", &format!("{members}/{fan}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&fake, "DELETE", &format!("{members}/{fan}"), None)
            .await
            .0,
        404
    );
    let (_, lists) = get_json(&fake, "/chats/lists/custom").await;
    assert_eq!(lists["data"][0]["uuid"], json!(id));
    assert_eq!(lists["data"][0]["name"], "VIPs");
    // Renamed, then deleted.
    let r = call(
        &fake,
        "PATCH",
        &format!("/chats/lists/custom/{id}"),
        Some(json!({"name": "Best fans"})),
    )
    .await;
    assert_eq!(r.0, 204);
    let (_, lists) = get_json(&fake, "/chats/lists/custom").await;
    assert_eq!(lists["data"][0]["name"], "Best fans");
    let path = format!("/chats/lists/custom/{id}");
    assert_eq!(call(&fake, "DELETE", &path, None).await.0, 204);
    assert_eq!(call(&fake, "GET", &path, None).await.0, 404);
}

#[tokio::test]
async fn vault_folders_are_found_by_name_and_hold_media() {
    let fake = FakeFanvue::start().await.unwrap();
    let r = call(&fake, "GET", "/vault/folders/does-not-exist", None).await;
    assert_eq!(r.0, 404, "{}", r.1);
    assert!(r.1["message"].is_string());
    let r = call(
        &fake,
        "POST",
        "/vault/folders",
        Some(json!({"name": "Beach"})),
    )
    .await;
    valid("create-vault-folder", &r, 201);
    assert_eq!(r.1["name"], "Beach");
    assert_eq!(r.1["mediaCount"], 0);
    let again = call(
        &fake,
        "POST",
        "/vault/folders",
        Some(json!({"name": "Beach"})),
    )
    .await;
    assert_eq!(again.0, 409, "{}", again.1);
    let r = call(&fake, "GET", "/vault/folders/Beach", None).await;
    valid("get-vault-folder", &r, 200);
    assert_eq!(r.1["name"], "Beach");
    let media = Uuid::new_v4().to_string();
    let r = call(
        &fake,
        "POST",
        "/vault/folders/Beach/media",
        Some(json!({"mediaUuids": [media, media]})),
    )
    .await;
    valid("attach-media-to-vault-folder", &r, 201);
    assert_eq!(r.1["addedCount"], 1);
    let (_, listed) = get_json(&fake, "/vault/folders/Beach/media").await;
    assert_eq!(uuids(&listed), vec![media.clone()]);
    let r = call(
        &fake,
        "PATCH",
        "/vault/folders/Beach",
        Some(json!({"name": "Pool"})),
    )
    .await;
    assert_eq!(r.0, 204, "{}", r.1);
    assert_eq!(
        call(&fake, "GET", "/vault/folders/Beach", None).await.0,
        404
    );
    assert_eq!(call(&fake, "GET", "/vault/folders/Pool", None).await.0, 200);
    assert_eq!(
        call(&fake, "DELETE", "/vault/folders/Pool", None).await.0,
        204
    );
    assert_eq!(
        call(&fake, "DELETE", "/vault/folders/Pool", None).await.0,
        404
    );
}

#[tokio::test]
async fn creator_scoped_state_is_per_creator() {
    let fake = FakeFanvue::start().await.unwrap();
    let a = fake.creators()[0].user.uuid;
    let b = fake.creators()[1].user.uuid;
    let r = call(
        &fake,
        "POST",
        &format!("/creators/{a}/posts"),
        Some(json!({"text": "for a", "audience": "subscribers"})),
    )
    .await;
    valid("create-creator-post", &r, 201);
    let id = r.1["uuid"].as_str().unwrap().to_string();
    let (_, listed) = get_json(&fake, &format!("/creators/{a}/posts")).await;
    assert_eq!(uuids(&listed)[0], id);
    let (_, other) = get_json(&fake, &format!("/creators/{b}/posts")).await;
    assert!(!uuids(&other).contains(&id));
    let (_, mine) = get_json(&fake, "/posts").await;
    assert!(!uuids(&mine).contains(&id));
    assert_eq!(
        call(&fake, "DELETE", &format!("/creators/{b}/posts/{id}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&fake, "DELETE", &format!("/creators/{a}/posts/{id}"), None)
            .await
            .0,
        204
    );
}

#[tokio::test]
async fn mass_messages_collections_and_chat_messages_are_stored() {
    let fake = FakeFanvue::start().await.unwrap();
    let r = call(
        &fake,
        "POST",
        "/chats/mass-messages",
        Some(json!({"text": "sale!", "includedLists": {}})),
    )
    .await;
    valid("send-mass-message", &r, 201);
    let id = r.1["id"].as_str().unwrap().to_string();
    let (_, listed) = get_json(&fake, "/chats/mass-messages").await;
    assert_eq!(listed["data"][0]["uuid"], json!(id));
    assert_eq!(listed["data"][0]["text"], "sale!");
    let path = format!("/chats/mass-messages/{id}");
    assert_eq!(
        call(&fake, "PATCH", &path, Some(json!({"text": "bigger sale!"})))
            .await
            .0,
        204
    );
    let (_, listed) = get_json(&fake, "/chats/mass-messages").await;
    assert_eq!(listed["data"][0]["text"], "bigger sale!");
    assert_eq!(call(&fake, "DELETE", &path, None).await.0, 204);
    assert_eq!(call(&fake, "DELETE", &path, None).await.0, 404);

    let r = call(
        &fake,
        "POST",
        "/collections",
        Some(json!({"label": "Summer"})),
    )
    .await;
    valid("create-collection", &r, 201);
    assert_eq!(r.1["label"], "Summer");
    let cid = r.1["uuid"].as_str().unwrap().to_string();
    let (_, cols) = get_json(&fake, "/collections").await;
    assert_eq!(cols["data"][0]["uuid"], json!(cid));
    let cpath = format!("/collections/{cid}");
    assert_eq!(
        call(&fake, "PATCH", &cpath, Some(json!({"label": "Winter"})))
            .await
            .0,
        204
    );
    let (_, cols) = get_json(&fake, "/collections").await;
    assert_eq!(cols["data"][0]["label"], "Winter");
    assert_eq!(call(&fake, "DELETE", &cpath, None).await.0, 204);
    assert_eq!(call(&fake, "DELETE", &cpath, None).await.0, 404);

    let fan = Uuid::new_v4();
    let r = call(
        &fake,
        "POST",
        &format!("/chats/{fan}/message"),
        Some(json!({"text": "hi there"})),
    )
    .await;
    valid("send-message", &r, 201);
    let mid = r.1["messageUuid"].as_str().unwrap().to_string();
    let (_, msgs) = get_json(&fake, &format!("/chats/{fan}/messages")).await;
    assert_eq!(msgs["data"][0]["uuid"], json!(mid));
    assert_eq!(msgs["data"][0]["text"], "hi there");
    assert_eq!(fake.messages_sent_to(fan).len(), 1);
    let mpath = format!("/chats/{fan}/messages/{mid}");
    assert_eq!(call(&fake, "DELETE", &mpath, None).await.0, 204);
    assert_eq!(call(&fake, "DELETE", &mpath, None).await.0, 404);
}
