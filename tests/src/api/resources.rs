//! The resource store: what the API creates is kept, listed, read by id, updated and deleted.
//!
//! One table ([`route`]) maps operation ids to a resource family and an action; one store ([`Store`])
//! keeps each family's items per owner: the creator the path names (`/creators/{creatorUserUuid}/..`,
//! or the authenticated user) and, for a family that lives under another resource (comments of a
//! post, members of a list, media of a vault folder, messages of a chat), that parent's id.
//!
//! A family's items for an owner are created on first use from the seeded collection its list
//! operation would have answered (the same items, so an untouched list answers as before; a child of
//! a created parent starts empty). Created items come first in lists. Every answer is synthesized from
//! the operation's response schema and then overlaid with the stored fields of the same name (each
//! overlay kept only when the answer stays valid against the schema), so a stored item answers in the
//! shape of whichever operation reads it.
//!
//! Rules kept for every family:
//! - a create answers what was given (each body field the response has) under a fresh id; every
//!   number it was not given is zero (a new tracking link has no clicks and no earnings);
//! - get, update, delete and the operations on one item (pin, likes, users of a link, ...) answer 404
//!   `{message}` for an id the store does not hold, and so do children of an unknown parent;
//! - adding members or media counts only what was not there already.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::from_spec::{self, Items};
use super::handlers::Call;
use crate::respond;
use crate::schema::Validators;
use crate::spec::{Operation, Spec};
use crate::state::{SentMessage, Shared};
use crate::synth::{Mode, seed_for, synthesize_keyed};

/// A resource family: how its items are named and where they live.
pub(crate) struct Family {
    /// Name used in messages and as the store key.
    pub name: &'static str,
    /// The path parameter naming one item.
    pub id_param: &'static str,
    /// The field of an item holding that id.
    pub key: &'static str,
    /// The family and path parameter of the parent resource, if the family lives under one.
    pub parent: Option<(&'static str, &'static str)>,
    /// The list operations (own and creator-scoped) whose seeded collection the family starts from.
    pub lists: (&'static str, Option<&'static str>),
    /// How one item is called in a 404 message.
    pub noun: &'static str,
}

/// Every family the API creates.
pub(crate) const FAMILIES: &[Family] = &[
    Family {
        name: "posts",
        id_param: "uuid",
        key: "uuid",
        parent: None,
        lists: ("get-posts", Some("get-creator-posts")),
        noun: "Post",
    },
    Family {
        name: "comments",
        id_param: "commentUuid",
        key: "uuid",
        parent: Some(("posts", "uuid")),
        lists: ("get-post-comments", Some("get-creator-post-comments")),
        noun: "Comment",
    },
    Family {
        name: "tracking-links",
        id_param: "uuid",
        key: "uuid",
        parent: None,
        lists: ("list-tracking-links", Some("list-creator-tracking-links")),
        noun: "Tracking link",
    },
    Family {
        name: "custom-lists",
        id_param: "uuid",
        key: "uuid",
        parent: None,
        lists: ("get-custom-lists", Some("get-creator-custom-lists")),
        noun: "Custom list",
    },
    Family {
        name: "list-members",
        id_param: "userUuid",
        key: "uuid",
        parent: Some(("custom-lists", "uuid")),
        lists: (
            "get-custom-list-members",
            Some("get-creator-custom-list-members"),
        ),
        noun: "Member",
    },
    Family {
        name: "vault-folders",
        id_param: "folderName",
        key: "name",
        parent: None,
        lists: ("list-vault-folders", Some("list-creator-vault-folders")),
        noun: "Vault folder",
    },
    Family {
        name: "folder-media",
        id_param: "mediaUuid",
        key: "uuid",
        parent: Some(("vault-folders", "folderName")),
        lists: (
            "list-vault-folder-media",
            Some("list-creator-vault-folder-media"),
        ),
        noun: "Media",
    },
    Family {
        name: "mass-messages",
        id_param: "messageUuid",
        key: "uuid",
        parent: None,
        lists: ("list-mass-messages", Some("list-creator-mass-messages")),
        noun: "Mass message",
    },
    Family {
        name: "messages",
        id_param: "messageUuid",
        key: "uuid",
        parent: Some(("chats", "userUuid")),
        lists: ("list-messages", Some("list-creator-messages")),
        noun: "Message",
    },
    Family {
        name: "collections",
        id_param: "uuid",
        key: "uuid",
        parent: None,
        lists: ("list-collections", None),
        noun: "Collection",
    },
];

/// What an operation does to its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Stores a new item (fresh id) from the body.
    Create,
    /// Lists the owner's items.
    List,
    /// Reads one item.
    Get,
    /// Merges the body into one item.
    Update,
    /// Removes one item.
    Delete,
    /// Acts on one item without changing it (pin, likes, ...): 404 when unknown, else synthesized.
    On,
    /// Adds the ids of the body's array to the family (members, vault media), counting new ones.
    Add,
}

/// The family and action of an operation, if it acts on stored resources.
pub(crate) fn route(operation_id: &str) -> Option<(&'static Family, Action)> {
    use Action::*;
    let (family, action) = match operation_id {
        "create-post" | "create-creator-post" => ("posts", Create),
        "get-posts" | "get-creator-posts" => ("posts", List),
        "get-post-by-uuid" => ("posts", Get),
        "update-post" | "update-creator-post" => ("posts", Update),
        "delete-post" | "delete-creator-post" => ("posts", Delete),
        "get-post-likes"
        | "get-post-tips"
        | "pin-post"
        | "unpin-post"
        | "repost-post"
        | "pin-creator-post"
        | "unpin-creator-post"
        | "repost-creator-post" => ("posts", On),
        "create-post-comment" | "create-creator-post-comment" => ("comments", Create),
        "get-post-comments" | "get-creator-post-comments" => ("comments", List),
        "delete-post-comment" | "delete-creator-post-comment" => ("comments", Delete),
        "create-tracking-link" | "create-creator-tracking-link" => ("tracking-links", Create),
        "list-tracking-links" | "list-creator-tracking-links" => ("tracking-links", List),
        "delete-tracking-link" | "delete-creator-tracking-link" => ("tracking-links", Delete),
        "list-tracking-link-users"
        | "list-creator-tracking-link-users"
        | "get-user-tracking-metadata"
        | "get-creator-user-tracking-metadata" => ("tracking-links", On),
        "create-custom-list" => ("custom-lists", Create),
        "get-custom-lists" | "get-creator-custom-lists" => ("custom-lists", List),
        "update-custom-list" => ("custom-lists", Update),
        "delete-custom-list" => ("custom-lists", Delete),
        "add-members-to-custom-list" => ("list-members", Add),
        "get-custom-list-members" | "get-creator-custom-list-members" => ("list-members", List),
        "remove-member-from-custom-list" => ("list-members", Delete),
        "create-vault-folder" | "create-creator-vault-folder" => ("vault-folders", Create),
        "list-vault-folders" | "list-creator-vault-folders" => ("vault-folders", List),
        "get-vault-folder" | "get-creator-vault-folder" => ("vault-folders", Get),
        "rename-vault-folder" | "rename-creator-vault-folder" => ("vault-folders", Update),
        "delete-vault-folder" | "delete-creator-vault-folder" => ("vault-folders", Delete),
        "attach-media-to-vault-folder" | "attach-creator-vault-media" => ("folder-media", Add),
        "list-vault-folder-media" | "list-creator-vault-folder-media" => ("folder-media", List),
        "detach-media-from-vault-folder" | "detach-creator-vault-media" => ("folder-media", Delete),
        "send-mass-message" | "send-creator-mass-message" => ("mass-messages", Create),
        "list-mass-messages" | "list-creator-mass-messages" => ("mass-messages", List),
        "update-mass-message" | "update-creator-mass-message" => ("mass-messages", Update),
        "delete-mass-message" | "delete-creator-mass-message" => ("mass-messages", Delete),
        "send-message" | "send-creator-message" => ("messages", Create),
        "list-messages" | "list-creator-messages" => ("messages", List),
        "delete-message" => ("messages", Delete),
        "create-collection" => ("collections", Create),
        "list-collections" => ("collections", List),
        "rename-collection" => ("collections", Update),
        "delete-collection" => ("collections", Delete),
        _ => return None,
    };
    Some((self::family(family)?, action))
}

/// A family by name.
pub(crate) fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// Items per family and owner; a key present means the owner's items were set up (a reset of the
/// fake replaces the store with `Store::default()`).
#[derive(Default)]
pub(crate) struct Store {
    items: HashMap<(&'static str, String), Vec<Map<String, Value>>>,
}

/// The owner of a family's items named by a request's path parameters.
fn owner(family: &Family, param: impl Fn(&str) -> Option<String>) -> String {
    let creator = param("creatorUserUuid").unwrap_or_default();
    match family.parent {
        Some((_, p)) => format!("{creator}/{}", param(p).unwrap_or_default()),
        None => creator,
    }
}

/// The item of `family` named `id` in `items`.
fn position(items: &[Map<String, Value>], family: &Family, id: &str) -> Option<usize> {
    items
        .iter()
        .position(|i| i.get(family.key).and_then(Value::as_str) == Some(id))
}

/// A validator for a schema of the document, compiled once.
fn validator(schema: &Value) -> Option<Arc<jsonschema::Validator>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<jsonschema::Validator>>>>> =
        OnceLock::new();
    let key = schema.to_string();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(key)
        .or_insert_with(|| {
            Validators::get()
                .compile(schema, "resource")
                .ok()
                .map(Arc::new)
        })
        .clone()
}

/// Overlays `fields` onto `base` (an answer valid against `schema`), keeping each field only if the
/// answer stays valid; a field the schema does not list is not added.
pub(crate) fn overlay(base: &mut Value, schema: &Value, fields: &Map<String, Value>) {
    let spec = Spec::load();
    let listed = properties(spec, schema);
    let Some(v) = validator(schema) else { return };
    let base_valid = v.is_valid(base);
    let Some(obj) = base.as_object_mut() else {
        return;
    };
    let wanted: Vec<(&String, &Value)> = fields
        .iter()
        .filter(|(k, _)| listed.iter().any(|l| l == *k))
        .collect();
    let before = obj.clone();
    for (k, val) in &wanted {
        obj.insert((*k).clone(), (*val).clone());
    }
    if !base_valid || v.is_valid(&Value::Object(obj.clone())) {
        return;
    }
    *obj = before;
    for (k, val) in wanted {
        let old = obj.insert(k.clone(), val.clone());
        if !v.is_valid(&Value::Object(obj.clone())) {
            match old {
                Some(o) => obj.insert(k.clone(), o),
                None => obj.remove(k),
            };
        }
    }
}

/// The property names of an object schema (through `$ref` and `allOf`).
fn properties(spec: &Spec, schema: &Value) -> Vec<String> {
    let s = spec.resolve(schema);
    let mut out: Vec<String> = s
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for part in all {
            out.extend(properties(spec, part));
        }
    }
    out
}

/// An answer of `schema` for the stored `item`: synthesized (keyed by the item's id), then overlaid.
fn render(shared: &Shared, schema: &Value, family: &Family, item: &Map<String, Value>) -> Value {
    let id = item
        .get(family.key)
        .map(Value::to_string)
        .unwrap_or_default();
    let key = format!("{}:{id}", family.name);
    let s = seed_for(shared.config.seed, &key);
    let mode = if shared.config.wire_noise {
        Mode::Wire(s)
    } else {
        Mode::Seeded(s)
    };
    let mut v = synthesize_keyed(Spec::load(), schema, mode, &key);
    overlay(&mut v, schema, item);
    v
}

/// Path parameters by name.
pub(crate) struct Params<'a>(pub &'a [(String, String)]);

impl Params<'_> {
    fn param(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

/// A stored item in a list: its fields the list's item schema lists, as stored when that is a valid
/// item (a seeded item answers as it was seeded), else rendered.
fn as_listed(
    shared: &Shared,
    schema: &Value,
    listed: &[String],
    family: &Family,
    item: &Map<String, Value>,
) -> Value {
    let own: Map<String, Value> = item
        .iter()
        .filter(|(k, _)| listed.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let own = Value::Object(own);
    if validator(schema).is_some_and(|v| v.is_valid(&own)) {
        own
    } else {
        render(shared, schema, family, item)
    }
}

/// The item schema of a list operation's answer.
fn item_schema(op: &Operation) -> Option<Value> {
    let spec = Spec::load();
    let resp = op.response.as_ref()?;
    spec.resolve(&resp.schema)
        .pointer("/properties/data/items")
        .cloned()
}

/// The owner's items of `family`, set up from the seeded collection on first use.
fn items_of<'a>(
    shared: &Shared,
    st: &'a mut crate::state::State,
    family: &'static Family,
    owner: &str,
    call: &Params<'_>,
) -> &'a mut Vec<Map<String, Value>> {
    let key = (family.name, owner.to_string());
    if !st.resources.items.contains_key(&key) {
        let items = if family.name == "tracking-links" && call.param("creatorUserUuid").is_none() {
            // The user's links are the fake's seeded model data.
            st.data
                .tracking_links
                .iter()
                .filter_map(|l| match serde_json::to_value(l) {
                    Ok(Value::Object(o)) => Some(o),
                    _ => None,
                })
                .collect()
        } else {
            seeded(shared, family, call)
        };
        st.resources.items.insert(key.clone(), items);
    }
    st.resources.items.entry(key).or_default()
}

/// The seeded collection of `family` for the owner `call` names: the items its list operation
/// answers before anything was created.
fn seeded(shared: &Shared, family: &Family, call: &Params<'_>) -> Vec<Map<String, Value>> {
    let spec = Spec::load();
    let creator = call.param("creatorUserUuid").is_some();
    let list_id = if creator {
        family.lists.1
    } else {
        Some(family.lists.0)
    };
    let Some(op) = list_id.and_then(|id| spec.operation(id)) else {
        return Vec::new();
    };
    let path = op.path_with(|n| call.param(n));
    let Some(schema) = item_schema(op) else {
        return Vec::new();
    };
    let (seed, wire) = (shared.config.seed, shared.config.wire_noise);
    let values: Vec<Value> = if op.pagination.is_some() {
        (0..shared.config.list_size)
            .map(|i| from_spec::seeded_item(spec, &schema, &path, i, seed, wire))
            .collect()
    } else {
        let Some(resp) = &op.response else {
            return Vec::new();
        };
        let s = seed_for(seed, &path);
        let mode = if wire { Mode::Wire(s) } else { Mode::Seeded(s) };
        synthesize_keyed(spec, &resp.schema, mode, &path)
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    values
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .collect()
}

/// Whether the parent a call names exists (always, for a family without a stored parent).
fn parent_exists(
    shared: &Shared,
    st: &mut crate::state::State,
    family: &Family,
    call: &Params<'_>,
) -> bool {
    let Some((parent, param)) = family.parent else {
        return true;
    };
    let Some(parent) = self::family(parent) else {
        return true;
    };
    let Some(id) = call.param(param) else {
        return false;
    };
    let owner = owner(parent, |n| call.param(n));
    let items = items_of(shared, st, parent, &owner, call);
    position(items, parent, &id).is_some()
}

fn not_found(family: &Family) -> Response {
    respond::not_found(&format!("{} not found", family.noun))
}

fn not_found_parent(family: &Family) -> Response {
    match family.parent.and_then(|(p, _)| self::family(p)) {
        Some(p) => not_found(p),
        None => not_found(family),
    }
}

/// The answer of an operation of the table.
pub(crate) fn handle(shared: &Arc<Shared>, call: &Call) -> Response {
    let Some((family, action)) = route(&call.op.id) else {
        return synthesized(shared, call);
    };
    let answer = {
        let mut st = shared.lock();
        act(shared, &mut st, family, action, call)
    };
    shared.bump();
    answer
}

fn synthesized(shared: &Shared, call: &Call) -> Response {
    from_spec::answer(
        call.op,
        &call.path,
        &call.query,
        shared.config.seed,
        shared.config.list_size,
        shared.config.wire_noise,
    )
}

fn body_fields(call: &Call) -> Map<String, Value> {
    match serde_json::from_slice(&call.body) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    }
}

fn act(
    shared: &Shared,
    st: &mut crate::state::State,
    family: &'static Family,
    action: Action,
    call: &Call,
) -> Response {
    if !parent_exists(shared, st, family, &Params(&call.params)) {
        return not_found_parent(family);
    }
    let owner = owner(family, |n| call.param(n).map(str::to_string));
    match action {
        Action::Create => create(shared, st, family, &owner, call),
        Action::List => {
            let Some(schema) = item_schema(call.op) else {
                return synthesized(shared, call);
            };
            let items = items_of(shared, st, family, &owner, &Params(&call.params)).clone();
            let listed = properties(Spec::load(), &schema);
            let item = |i: usize| {
                items
                    .get(i)
                    .map(|it| as_listed(shared, &schema, &listed, family, it))
                    .unwrap_or(Value::Null)
            };
            from_spec::answer_with(
                call.op,
                &call.path,
                &call.query,
                shared.config.seed,
                shared.config.list_size,
                shared.config.wire_noise,
                Some(Items {
                    total: items.len(),
                    item: &item,
                }),
            )
        }
        Action::Get | Action::On | Action::Update | Action::Delete => {
            let id = call.param(family.id_param).unwrap_or_default().to_string();
            let items = items_of(shared, st, family, &owner, &Params(&call.params));
            let Some(at) = position(items, family, &id) else {
                return not_found(family);
            };
            match action {
                Action::Delete => {
                    items.remove(at);
                    if let Some(child) = FAMILIES
                        .iter()
                        .find(|f| f.parent.is_some_and(|(p, _)| p == family.name))
                    {
                        let prefix = format!("{owner}/{id}");
                        let child_owner = format!("{}/{id}", owner);
                        st.resources.items.retain(|(f, o), _| {
                            !(*f == child.name && (o == &prefix || o == &child_owner))
                        });
                    }
                    no_content_or(shared, call, None)
                }
                Action::Update => {
                    for (k, v) in body_fields(call) {
                        items[at].insert(k, v);
                    }
                    let item = items[at].clone();
                    no_content_or(shared, call, Some((family, &item)))
                }
                Action::Get => {
                    let item = items[at].clone();
                    no_content_or(shared, call, Some((family, &item)))
                }
                _ => synthesized(shared, call),
            }
        }
        Action::Add => add(shared, st, family, &owner, call),
    }
}

/// The success answer of `call`: the stored item rendered in the response schema, or no body.
fn no_content_or(
    shared: &Shared,
    call: &Call,
    item: Option<(&Family, &Map<String, Value>)>,
) -> Response {
    let status = StatusCode::from_u16(call.op.success_status).unwrap_or(StatusCode::OK);
    match (&call.op.response, item) {
        (Some(r), Some((family, item))) if r.content_type == "application/json" => {
            respond::json(status, render(shared, &r.schema, family, item))
        }
        (Some(_), _) => synthesized(shared, call),
        (None, _) => status.into_response(),
    }
}

/// Sets every number in `v` to zero (a new resource has had no activity).
fn zero_numbers(v: &mut Value) {
    match v {
        Value::Number(n) => {
            *n = if n.is_f64() {
                serde_json::Number::from_f64(0.0).unwrap_or(0.into())
            } else {
                0.into()
            }
        }
        Value::Array(a) => a.iter_mut().for_each(zero_numbers),
        Value::Object(o) => o.values_mut().for_each(zero_numbers),
        _ => {}
    }
}

fn create(
    shared: &Shared,
    st: &mut crate::state::State,
    family: &'static Family,
    owner: &str,
    call: &Call,
) -> Response {
    let given = body_fields(call);
    let id = match (family.key, given.get(family.key).and_then(Value::as_str)) {
        ("uuid", _) | (_, None) => uuid::Uuid::new_v4().to_string(),
        (_, Some(given)) => given.to_string(),
    };
    let mut item = given.clone();
    item.insert(family.key.into(), json!(id));
    {
        let items = items_of(shared, st, family, owner, &Params(&call.params));
        if family.key != "uuid" && position(items, family, &id).is_some() {
            return respond::json(
                StatusCode::CONFLICT,
                json!({ "message": format!("{} already exists", family.noun) }),
            );
        }
    }
    let status = StatusCode::from_u16(call.op.success_status).unwrap_or(StatusCode::OK);
    let answer = call
        .op
        .response
        .as_ref()
        .filter(|r| r.content_type == "application/json")
        .map(|r| {
            let spec = Spec::load();
            let key = format!("{}:{id}", family.name);
            let s = seed_for(shared.config.seed, &key);
            let mode = if shared.config.wire_noise {
                Mode::Wire(s)
            } else {
                Mode::Seeded(s)
            };
            let mut v = synthesize_keyed(spec, &r.schema, mode, &key);
            let mut fields = Map::new();
            if let Some(o) = v.as_object() {
                for (k, val) in o {
                    let mut z = val.clone();
                    zero_numbers(&mut z);
                    if k != "earnings" && &z != val {
                        fields.insert(k.clone(), z);
                    }
                }
                if o.contains_key("earnings") {
                    fields.insert("earnings".into(), Value::Null);
                }
            }
            for k in ["uuid", "id", "messageUuid"] {
                fields.insert(k.into(), json!(id));
            }
            fields.extend(given.clone());
            fields.insert(family.key.into(), json!(id));
            overlay(&mut v, &r.schema, &fields);
            if let Some(earnings) = v.get_mut("earnings").filter(|e| !e.is_null()) {
                // Not nullable in this schema: zero every amount instead.
                zero_numbers(earnings);
            }
            v
        });
    if let Some(Value::Object(a)) = &answer {
        for (k, v) in a {
            item.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if family.name == "messages"
        && let Some(fan) = call.uuid_param("userUuid")
    {
        st.conversations.push(SentMessage {
            creator: call.uuid_param("creatorUserUuid"),
            fan,
            body: Value::Object(given.clone()),
        });
    }
    // Children of a new resource start empty.
    for child in FAMILIES
        .iter()
        .filter(|f| f.parent.is_some_and(|(p, _)| p == family.name))
    {
        let creator = call.param("creatorUserUuid").unwrap_or_default();
        st.resources
            .items
            .insert((child.name, format!("{creator}/{id}")), Vec::new());
    }
    items_of(shared, st, family, owner, &Params(&call.params)).insert(0, item);
    match answer {
        Some(v) => respond::json(status, v),
        None => status.into_response(),
    }
}

/// Adds the ids of the body's one array (`userUuids`, `mediaUuids`) to the family, answering with
/// counts of what was added and skipped.
fn add(
    shared: &Shared,
    st: &mut crate::state::State,
    family: &'static Family,
    owner: &str,
    call: &Call,
) -> Response {
    let ids: Vec<String> = body_fields(call)
        .values()
        .find_map(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let items = items_of(shared, st, family, owner, &Params(&call.params));
    let (mut added, mut skipped) = (0u64, 0u64);
    for id in ids {
        if position(items, family, &id).is_some() {
            skipped += 1;
        } else {
            let mut m = Map::new();
            m.insert(family.key.into(), json!(id));
            items.insert(0, m);
            added += 1;
        }
    }
    let status = StatusCode::from_u16(call.op.success_status).unwrap_or(StatusCode::OK);
    let Some(r) = call
        .op
        .response
        .as_ref()
        .filter(|r| r.content_type == "application/json")
    else {
        return status.into_response();
    };
    let mut v = synthesize_keyed(
        Spec::load(),
        &r.schema,
        Mode::Seeded(seed_for(shared.config.seed, &call.path)),
        &call.path,
    );
    if let Some(o) = v.as_object_mut() {
        for (k, val) in o.iter_mut() {
            if val.is_number() {
                *val = json!(if k == "skipped" { skipped } else { added });
            }
        }
    }
    respond::json(status, v)
}

/// Whether `op` answers a map keyed by the ids of its body (a `POST` batch operation).
pub(crate) fn is_batch(op: &Operation) -> bool {
    op.method == http::Method::POST && batch_map(op).is_some()
}

/// The map schema of a batch answer: the answer itself or its one property that is a map, with the
/// property's name.
fn batch_map(op: &Operation) -> Option<(Option<String>, Value)> {
    let spec = Spec::load();
    let r = op.response.as_ref()?;
    let s = spec.resolve(&r.schema);
    if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
        return Some((None, ap.clone()));
    }
    let props = s.get("properties")?.as_object()?;
    if props.len() != 1 {
        return None;
    }
    let (name, p) = props.iter().next()?;
    let ap = spec
        .resolve(p)
        .get("additionalProperties")
        .filter(|a| a.is_object())?;
    Some((Some(name.clone()), ap.clone()))
}

/// A batch answer: the map keyed by the requested ids (the body's one array of ids), each value an
/// object, or a per-key `{error: "not_found"}` for a chat the fake does not hold.
pub(crate) fn batch(shared: &Arc<Shared>, call: &Call) -> Response {
    let Some((prop, value_schema)) = batch_map(call.op) else {
        return synthesized(shared, call);
    };
    let spec = Spec::load();
    let ids: Vec<String> = body_fields(call)
        .values()
        .find_map(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let resolved = spec.resolve(&value_schema);
    let choices: Vec<Value> = resolved
        .get("oneOf")
        .or_else(|| resolved.get("anyOf"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_error = |s: &Value| {
        let p = properties(spec, s);
        p.len() == 1 && p[0] == "error"
    };
    let ok_schema = choices
        .iter()
        .find(|c| !is_error(c))
        .cloned()
        .unwrap_or_else(|| value_schema.clone());
    let err_schema = choices.iter().find(|c| is_error(c)).cloned();
    let known_chats: Option<Vec<String>> = (call.op.id == "messages-batch").then(|| {
        let st = shared.lock();
        st.data
            .chats
            .iter()
            .map(|c| c.user.user.uuid.to_string())
            .collect()
    });
    let mut map = Map::new();
    for id in ids {
        let unknown = known_chats.as_ref().is_some_and(|k| !k.contains(&id));
        let key = format!("{}:{id}", call.op.id);
        let s = seed_for(shared.config.seed, &key);
        let mode = if shared.config.wire_noise {
            Mode::Wire(s)
        } else {
            Mode::Seeded(s)
        };
        let value = match (&err_schema, unknown) {
            (Some(e), true) => {
                let mut v = synthesize_keyed(spec, e, Mode::Seeded(s), &key);
                let mut f = Map::new();
                f.insert("error".into(), json!("not_found"));
                overlay(&mut v, e, &f);
                v
            }
            _ => synthesize_keyed(spec, &ok_schema, mode, &key),
        };
        map.insert(id, value);
    }
    let status = StatusCode::from_u16(call.op.success_status).unwrap_or(StatusCode::OK);
    let map = Value::Object(map);
    let body = match prop {
        None => map,
        Some(p) => {
            let r = call
                .op
                .response
                .as_ref()
                .map(|r| r.schema.clone())
                .unwrap_or(Value::Null);
            let key = call.path.clone();
            let mut v = synthesize_keyed(
                spec,
                &r,
                Mode::Seeded(seed_for(shared.config.seed, &key)),
                &key,
            );
            if let Some(o) = v.as_object_mut() {
                o.insert(p, map);
            }
            v
        }
    };
    respond::json(status, body)
}

/// Makes an answer's numbers plausible: in every object, a net amount is at most its gross amount
/// (`net`/`gross`, `totalNet`/`totalGross`, `fooNet`/`fooGross`).
pub(crate) fn plausible(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(plausible),
        Value::Object(o) => {
            let pairs: Vec<(String, String)> = o
                .keys()
                .filter_map(|k| {
                    let g = if k == "net" {
                        "gross".to_string()
                    } else {
                        format!("{}Gross", k.strip_suffix("Net")?)
                    };
                    o.contains_key(&g).then(|| (k.clone(), g))
                })
                .collect();
            for (net, gross) in pairs {
                let (Some(n), Some(g)) = (
                    o.get(&net).and_then(Value::as_f64),
                    o.get(&gross).and_then(Value::as_f64),
                ) else {
                    continue;
                };
                if n > g
                    && let Some(g) = o.get(&gross).cloned()
                {
                    o.insert(net, g);
                }
            }
            o.values_mut().for_each(plausible);
        }
        _ => {}
    }
}

/// Overlays the request's path ids onto an object answer: a property named like a path parameter
/// gets its value, and `uuid` gets the last path parameter that names a uuid.
pub(crate) fn echo_path(v: &mut Value, schema: &Value, params: &[(String, String)]) {
    let mut fields = Map::new();
    for (name, value) in params {
        fields.insert(name.clone(), json!(value));
    }
    if let Some((_, value)) = params
        .iter()
        .rev()
        .find(|(n, _)| n.to_ascii_lowercase().ends_with("uuid"))
        .filter(|_| !fields.contains_key("uuid"))
    {
        fields.insert("uuid".into(), json!(value));
    }
    if !fields.is_empty() {
        overlay(v, schema, &fields);
    }
}

/// Binds the path parameters of operation `op_id` that name stored resources (the item it acts on
/// and its parents) to items that exist, storing new ones for the purpose; other parameters keep
/// their values. The creator parameter must already name the owner wanted.
pub(crate) fn bind(shared: &Shared, op_id: &str, params: &mut Vec<(String, String)>) {
    let Some((family, action)) = route(op_id) else {
        return;
    };
    let mut chain = Vec::new();
    if matches!(
        action,
        Action::Get | Action::Update | Action::Delete | Action::On
    ) {
        chain.push(family);
    }
    let mut f = family;
    while let Some(parent) = f.parent.and_then(|(p, _)| self::family(p)) {
        chain.push(parent);
        f = parent;
    }
    let mut st = shared.lock();
    for f in chain.into_iter().rev() {
        let id = if f.key == "uuid" {
            uuid::Uuid::new_v4().to_string()
        } else {
            format!("fixture-{}", uuid::Uuid::new_v4().simple())
        };
        let set = |params: &mut Vec<(String, String)>, name: &str| match params
            .iter_mut()
            .find(|(n, _)| n == name)
        {
            Some((_, v)) => *v = id.clone(),
            None => params.push((name.to_string(), id.clone())),
        };
        set(params, f.id_param);
        for child in FAMILIES
            .iter()
            .filter(|c| c.parent.is_some_and(|(p, _)| p == f.name))
        {
            if let Some((_, p)) = child.parent {
                set(params, p);
            }
        }
        let p = Params(params);
        let owner = owner(f, |n| p.param(n));
        let mut item = Map::new();
        item.insert(f.key.into(), json!(id));
        items_of(shared, &mut st, f, &owner, &p).insert(0, item);
    }
}
