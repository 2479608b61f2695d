//! Deterministic JSON values synthesized from the OpenAPI schemas of the document: the fake's answers,
//! and request inputs for tests.
//!
//! A [`Mode`] decides how much of a schema a value fills:
//! - [`Mode::Minimal`]: only required properties; nullable values `null`; arrays at `minItems`; maps
//!   empty; numbers at their lower bound (or 0); strings at `minLength` (or a short word); enums and
//!   `oneOf`/`anyOf` take their first choice.
//! - [`Mode::Full`]: every property present and non-null; numbers at their upper bound (integers
//!   without one: `2147483648`, past `i32`; numbers without one: `412.5`, a fraction); strings at
//!   `maxLength`; arrays with at least one element (two when the bounds allow); maps with two entries;
//!   enums and `oneOf`/`anyOf` take their last choice.
//! - [`Mode::Seeded`]: optional properties present or absent, nullable values null or not, lengths,
//!   numbers and choices, all drawn from a small RNG seeded with the `u64`; the document's `example`
//!   of a scalar (not a UUID) is used half of the time when it satisfies its schema.
//! - [`Mode::Wire`]: [`Mode::Seeded`] plus the noise of a real server's wire that a client must
//!   tolerate: integers sometimes as integral floats (`3840.0`), a string enum sometimes holding a value
//!   the document does not list (`ADDED_LATER`, in the enum's own case style), objects sometimes with a
//!   field the document does not list (`fanvueUnlistedField`). Request inputs never carry it.
//!
//! In every mode a property marked `deprecated: true` is present: the normalizer relaxes the official
//! document's required-but-deprecated fields (`gross` of fan spending totals) for the client, but Fanvue
//! still sends them, so the fake does too.
//!
//! Identifiers (UUIDs, dates, words) are drawn from the same RNG in every mode, so two array elements
//! differ; the same schema, mode and key always give the same value.
//!
//! `$ref`, `allOf` (merged), `oneOf`/`anyOf`, `nullable`, `enum`, the formats `uuid`, `date-time`, `date`,
//! `uri`, `email`, `minimum`/`maximum` with OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum`,
//! `minLength`/`maxLength`, `minItems`/`maxItems`, `additionalProperties` and the document's one
//! `pattern` (`^[a-z0-9_]+$`: generated words use only those characters when a pattern is set) are
//! honoured; the crate's tests check every value of every operation against its schema.
//!
//! ```
//! use fanvue_fake::spec::Spec;
//! use fanvue_fake::synth::{Mode, synthesize};
//!
//! let spec = Spec::load();
//! let schema = &spec.operation("get-current-user").unwrap().response.as_ref().unwrap().schema;
//! let minimal = synthesize(spec, schema, Mode::Minimal);
//! let full = synthesize(spec, schema, Mode::Full);
//! assert!(minimal["uuid"].is_string());
//! assert!(full.as_object().unwrap().len() >= minimal.as_object().unwrap().len());
//! assert_eq!(synthesize(spec, schema, Mode::Seeded(7)), synthesize(spec, schema, Mode::Seeded(7)));
//! ```
//!
//! Request inputs for an operation:
//!
//! ```
//! use fanvue_fake::spec::Spec;
//! use fanvue_fake::synth::{Mode, request_inputs};
//!
//! let spec = Spec::load();
//! let op = spec.operation("get-user-media").unwrap();
//! let minimal = request_inputs(spec, op, Mode::Minimal);
//! assert!(minimal.query.is_empty()); // no query parameter is required
//! let full = request_inputs(spec, op, Mode::Full);
//! assert_eq!(full.query.iter().find(|(k, _)| k == "size").unwrap().1, 50); // at its maximum
//! assert!(full.path(op).starts_with("/media"));
//! ```

use serde_json::{Map, Number, Value, json};

use crate::spec::{Operation, ParamLocation, Spec};

/// How much of a schema a synthesized value fills (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Required properties only, nullable values null, arrays at `minItems`, values at lower bounds.
    Minimal,
    /// Every property present and non-null, values at their upper bounds, arrays non-empty.
    Full,
    /// Presence, nullness, sizes and values chosen by an RNG with this seed.
    Seeded(u64),
    /// Like [`Mode::Seeded`], plus what a real server's wire carries and a document does not promise:
    /// integers sometimes written as integral floats (`3840.0`), string-enum values outside the
    /// document (a value Fanvue added later), and objects with fields the document does not list.
    /// A client that decodes every [`Mode::Wire`] answer tolerates Fanvue's real responses.
    Wire(u64),
}

/// A value for `schema` in `mode` (identifiers drawn from a fixed seed).
pub fn synthesize(spec: &Spec, schema: &Value, mode: Mode) -> Value {
    synthesize_keyed(spec, schema, mode, "")
}

/// Like [`synthesize`], with identifiers (and, in [`Mode::Seeded`], every choice) also varied by
/// `key`: the fake passes the request path and list index so that different resources differ.
pub fn synthesize_keyed(spec: &Spec, schema: &Value, mode: Mode, key: &str) -> Value {
    let (mode, wire) = match mode {
        Mode::Wire(s) => (Mode::Seeded(s), true),
        m => (m, false),
    };
    let base = match mode {
        Mode::Seeded(s) | Mode::Wire(s) => s,
        Mode::Minimal => 0x6d69_6e69,
        Mode::Full => 0x6675_6c6c,
    };
    let mut g = Gen {
        spec,
        mode,
        wire,
        rng: Rng::new(seed_for(base, key)),
    };
    g.value(schema, 0, None)
}

/// Mixes a seed with a key (FNV-1a over the key, then SplitMix64), for per-resource seeds.
pub fn seed_for(seed: u64, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Rng::new(h).next()
}

/// Inputs for one request of an operation: path parameters, query parameters and body.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestInputs {
    /// Every path parameter, by name.
    pub path_params: Vec<(String, Value)>,
    /// Query parameters: in [`Mode::Minimal`] only the required ones, in [`Mode::Full`] all of them,
    /// in [`Mode::Seeded`] the required ones plus a random choice of the others; never `cursor` (take
    /// it from a previous page's `nextCursor`).
    pub query: Vec<(String, Value)>,
    /// The JSON body: in [`Mode::Minimal`] only when the body is required.
    pub body: Option<Value>,
}

impl RequestInputs {
    /// The request path: the operation's template filled with [`RequestInputs::path_params`].
    pub fn path(&self, op: &Operation) -> String {
        op.path_with(|name| {
            self.path_params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| scalar_text(v))
        })
    }

    /// The query as `key=value` pairs the way the document says to send them: arrays with
    /// `explode: false` as one comma-separated value, other arrays as repeated keys, empty arrays not
    /// at all.
    pub fn query_pairs(&self, op: &Operation) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, value) in &self.query {
            let explode = op.parameter(name).is_none_or(|p| p.explode);
            match value {
                Value::Array(items) if items.is_empty() => {}
                Value::Array(items) if !explode => {
                    let joined: Vec<String> = items.iter().map(scalar_text).collect();
                    out.push((name.clone(), joined.join(",")));
                }
                Value::Array(items) => {
                    out.extend(items.iter().map(|v| (name.clone(), scalar_text(v))));
                }
                v => out.push((name.clone(), scalar_text(v))),
            }
        }
        out
    }
}

/// Generates [`RequestInputs`] for `op` in `mode`.
pub fn request_inputs(spec: &Spec, op: &Operation, mode: Mode) -> RequestInputs {
    // Requests are what a client sends: the wire's noise is for answers.
    let mode = match mode {
        Mode::Wire(s) => Mode::Seeded(s),
        m => m,
    };
    let mut chooser = Rng::new(seed_for(
        match mode {
            Mode::Seeded(s) => s,
            _ => 0,
        },
        &op.id,
    ));
    let mut path_params = Vec::new();
    let mut query = Vec::new();
    for p in &op.parameters {
        let key = format!("{}:{}", op.id, p.name);
        match p.location {
            ParamLocation::Path => path_params.push((
                p.name.clone(),
                synthesize_non_null(spec, &p.schema, mode, &key),
            )),
            // A cursor comes from a previous page's `nextCursor`; a made-up one is refused.
            ParamLocation::Query if p.name == "cursor" => {}
            ParamLocation::Query => {
                let include = match mode {
                    Mode::Minimal => p.required,
                    Mode::Full => true,
                    Mode::Seeded(_) | Mode::Wire(_) => p.required || chooser.chance(1, 2),
                };
                if include {
                    query.push((
                        p.name.clone(),
                        synthesize_non_null(spec, &p.schema, mode, &key),
                    ));
                }
            }
            ParamLocation::Header => {}
        }
    }
    let body = op.request_body.as_ref().and_then(|b| {
        let send = match mode {
            Mode::Minimal => b.required,
            Mode::Full => true,
            Mode::Seeded(_) | Mode::Wire(_) => b.required || chooser.chance(1, 2),
        };
        send.then(|| synthesize_keyed(spec, &b.schema, mode, &op.id))
    });
    RequestInputs {
        path_params,
        query,
        body,
    }
}

/// Parameters are never sent as `null`: a nullable parameter schema gets a value anyway.
fn synthesize_non_null(spec: &Spec, schema: &Value, mode: Mode, key: &str) -> Value {
    let v = synthesize_keyed(spec, schema, mode, key);
    if v.is_null() {
        synthesize_keyed(spec, schema, Mode::Full, key)
    } else {
        v
    }
}

/// A scalar as it appears in a path or query string.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// SplitMix64: tiny, fast, and the same on every platform and version.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next().checked_rem(n).unwrap_or(0)
    }

    /// True with probability `num/den`.
    pub(crate) fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

struct Gen<'a> {
    spec: &'a Spec,
    /// Never [`Mode::Wire`]: that is `Seeded` with `wire` set.
    mode: Mode,
    /// Add the wire's noise ([`Mode::Wire`]).
    wire: bool,
    rng: Rng,
}

const MAX_DEPTH: usize = 24;

fn is_nullable(s: &Value) -> bool {
    s.get("nullable").and_then(Value::as_bool) == Some(true)
}

impl Gen<'_> {
    fn seeded(&self) -> bool {
        matches!(self.mode, Mode::Seeded(_) | Mode::Wire(_))
    }

    /// Picks one of `n` choices: first (Minimal), last (Full) or random (Seeded).
    fn pick(&mut self, n: usize) -> usize {
        match self.mode {
            Mode::Minimal => 0,
            Mode::Full => n.saturating_sub(1),
            Mode::Seeded(_) | Mode::Wire(_) => {
                usize::try_from(self.rng.below(u64::try_from(n).unwrap_or(0))).unwrap_or(0)
            }
        }
    }

    fn value(&mut self, schema: &Value, depth: usize, hint: Option<&str>) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let depth = depth.saturating_add(1);
        // A `$ref` may sit next to `nullable` (rare); the referenced schema is used for the rest.
        let nullable = is_nullable(schema);
        let schema_res = self.spec.resolve(schema);
        let nullable = nullable || is_nullable(schema_res);
        let schema = schema_res;
        if nullable {
            let null = match self.mode {
                Mode::Minimal => true,
                Mode::Full => false,
                Mode::Seeded(_) | Mode::Wire(_) => self.rng.chance(1, 4),
            };
            if null {
                return Value::Null;
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            let mut last = Value::Null;
            for part in all {
                match self.value(part, depth, hint) {
                    Value::Object(o) => merged.extend(o),
                    v => last = v,
                }
            }
            return if merged.is_empty() {
                last
            } else {
                Value::Object(merged)
            };
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(choices) = schema.get(key).and_then(Value::as_array)
                && let Some(choice) = choices.get(self.pick(choices.len()))
            {
                return self.value(choice, depth, hint);
            }
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
            let non_null: Vec<&Value> = choices.iter().filter(|v| !v.is_null()).collect();
            if self.wire
                && let Some(Value::String(first)) = non_null.first()
                && self.rng.chance(1, 6)
            {
                return Value::String(unlisted_enum_value(first));
            }
            if let Some(v) = non_null.get(self.pick(non_null.len())) {
                return (*v).clone();
            }
        }
        if self.seeded()
            && let Some(example) = schema.get("example")
        {
            let usable = !example.is_array()
                && !example.is_object()
                && schema.get("format").and_then(Value::as_str) != Some("uuid")
                && scalar_ok(schema, example);
            if usable && self.rng.chance(1, 2) {
                return example.clone();
            }
        }
        let ty = schema.get("type").and_then(Value::as_str).or_else(|| {
            if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
                Some("object")
            } else if schema.get("items").is_some() {
                Some("array")
            } else {
                None
            }
        });
        match ty {
            Some("object") => self.object(schema, depth),
            Some("array") => self.array(schema, depth, hint),
            Some("string") => Value::String(self.string(schema, hint)),
            Some("integer") => self.integer(schema),
            Some("number") => self.number(schema),
            Some("boolean") => Value::Bool(match self.mode {
                Mode::Minimal => false,
                Mode::Full => true,
                Mode::Seeded(_) | Mode::Wire(_) => self.rng.chance(1, 2),
            }),
            _ => match self.mode {
                Mode::Minimal if nullable => Value::Null,
                Mode::Seeded(_) | Mode::Wire(_) => match self.rng.below(3) {
                    0 => json!(self.rng.below(100)),
                    1 => json!(true),
                    _ => Value::String(self.word(hint, false)),
                },
                _ => Value::String(self.word(hint, false)),
            },
        }
    }

    fn object(&mut self, schema: &Value, depth: usize) -> Value {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                // Fanvue still sends the fields the normalizer relaxed as deprecated (the official
                // document requires them), so the fake does too.
                let deprecated = [prop, self.spec.resolve(prop)]
                    .iter()
                    .any(|s| s.get("deprecated").and_then(Value::as_bool) == Some(true));
                let present = required.contains(&name.as_str())
                    || deprecated
                    || match self.mode {
                        Mode::Minimal => false,
                        Mode::Full => true,
                        Mode::Seeded(_) | Mode::Wire(_) => self.rng.chance(2, 3),
                    };
                if present {
                    let v = self.value(prop, depth, Some(name));
                    out.insert(name.clone(), v);
                }
            }
        }
        let map = schema.get("additionalProperties").filter(|v| v.is_object());
        if self.wire && map.is_none() && self.rng.chance(1, 4) {
            // A field the document does not list (Fanvue adds fields without a new API version).
            out.insert(
                "fanvueUnlistedField".into(),
                json!({ "added": "later", "n": self.rng.below(100) }),
            );
        }
        if let Some(extra) = map {
            let n = match self.mode {
                Mode::Minimal => 0,
                Mode::Full => 2,
                Mode::Seeded(_) | Mode::Wire(_) => self.rng.below(3),
            };
            for _ in 0..n {
                let key = self.uuid();
                let v = self.value(extra, depth, None);
                out.insert(key, v);
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, schema: &Value, depth: usize, hint: Option<&str>) -> Value {
        let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX)
            .max(min);
        let n = match self.mode {
            Mode::Minimal => min,
            Mode::Full => min.max(2).min(max).max(min.max(1).min(max)),
            Mode::Seeded(_) | Mode::Wire(_) => {
                let top = max.min(min.saturating_add(3));
                min.saturating_add(self.rng.below(top.saturating_sub(min).saturating_add(1)))
            }
        };
        // Deep arrays stay small.
        let n = if depth > 8 { min } else { n };
        let empty = Value::Object(Map::new());
        let items = schema.get("items").unwrap_or(&empty);
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.value(items, depth, hint));
        }
        Value::Array(out)
    }

    fn uuid(&mut self) -> String {
        let hi = self.rng.next().to_be_bytes();
        let lo = self.rng.next().to_be_bytes();
        let mut bytes = [0u8; 16];
        for (d, s) in bytes.iter_mut().zip(hi.iter().chain(lo.iter())) {
            *d = *s;
        }
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// A readable word from the property name and the RNG (`handle-3fa2c1`).
    fn word(&mut self, hint: Option<&str>, strict: bool) -> String {
        let stem: String = hint
            .unwrap_or("text")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let stem = if stem.is_empty() { "text".into() } else { stem };
        let sep = if strict { '_' } else { '-' };
        format!("{stem}{sep}{:06x}", self.rng.below(0x100_0000))
    }

    fn string(&mut self, schema: &Value, hint: Option<&str>) -> String {
        let min = schema
            .get("minLength")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        let max = schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok());
        match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => return self.uuid(),
            Some("date-time") => return self.date_time(),
            Some("date") => {
                let dt = self.date_time();
                return dt.get(..10).unwrap_or(&dt).to_string();
            }
            Some("email") => {
                return format!("{}@example.com", self.word(hint, true));
            }
            Some("uri") => {
                return format!("https://media.example.com/fake/{}", self.word(hint, false));
            }
            _ => {}
        }
        let pattern = schema.get("pattern").is_some();
        if pattern && let Some(ex) = schema.get("example").and_then(Value::as_str) {
            let len = ex.chars().count();
            if len >= min && max.is_none_or(|m| len <= m) {
                return ex.to_string();
            }
        }
        let mut s = self.word(hint, pattern);
        let target = match self.mode {
            Mode::Minimal if min > 0 => Some(min),
            Mode::Full => max,
            _ => None,
        };
        if let Some(t) = target {
            while s.len() < t {
                s.push('x');
            }
            s.truncate(t);
        }
        while s.len() < min {
            s.push('x');
        }
        if let Some(m) = max {
            s.truncate(m);
        }
        s
    }

    fn date_time(&mut self) -> String {
        // 2024-01-01T00:00:00Z plus up to two years.
        let secs = 1_704_067_200i64
            .saturating_add(i64::try_from(self.rng.below(2 * 365 * 24 * 3600)).unwrap_or(0));
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_else(|| "2024-01-01T00:00:00.000Z".into())
    }

    fn integer(&mut self, schema: &Value) -> Value {
        let (lo, hi) = int_bounds(schema);
        let v = match self.mode {
            Mode::Minimal => lo.unwrap_or(0).min(hi.unwrap_or(i64::MAX)),
            Mode::Full => hi.unwrap_or_else(|| lo.unwrap_or(0).max(2_147_483_648)),
            Mode::Seeded(_) | Mode::Wire(_) => {
                let lo_v = lo.unwrap_or(0).min(hi.unwrap_or(i64::MAX));
                let hi_v = hi.unwrap_or_else(|| lo_v.saturating_add(1000)).max(lo_v);
                let span = u64::try_from(hi_v.saturating_sub(lo_v)).unwrap_or(u64::MAX);
                let off = i64::try_from(self.rng.below(span.saturating_add(1))).unwrap_or(0);
                lo_v.saturating_add(off)
            }
        };
        if self.wire && self.rng.chance(1, 3) {
            // `3840.0`: some servers write integers as floats (exact below 2^53).
            #[allow(clippy::cast_precision_loss)]
            let f = v as f64;
            if f.abs() < 9_007_199_254_740_992.0
                && let Some(n) = Number::from_f64(f)
            {
                return Value::Number(n);
            }
        }
        json!(v)
    }

    fn number(&mut self, schema: &Value) -> Value {
        let get = |k: &str| schema.get(k).and_then(Value::as_f64);
        let excl = |k: &str| schema.get(k).and_then(Value::as_bool) == Some(true);
        let lo = get("minimum").map(|m| if excl("exclusiveMinimum") { m + 0.5 } else { m });
        let hi = get("maximum").map(|m| if excl("exclusiveMaximum") { m - 0.5 } else { m });
        let v = match self.mode {
            Mode::Minimal => lo.unwrap_or(0.0),
            Mode::Full => hi.unwrap_or(412.5),
            Mode::Seeded(_) | Mode::Wire(_) => {
                let lo_v = lo.unwrap_or(0.0);
                let hi_v = hi.unwrap_or(lo_v + 1000.0).max(lo_v);
                let frac = f64::from(u32::try_from(self.rng.below(10_000)).unwrap_or(0)) / 10_000.0;
                ((lo_v + (hi_v - lo_v) * frac) * 100.0).round() / 100.0
            }
        };
        Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// A value of a string enum that the enum does not list, in the style of its first value
/// (`SCREAMING_CASE`, `lower_case` or as is), as a later Fanvue release would send.
fn unlisted_enum_value(first: &str) -> String {
    if first.chars().any(char::is_lowercase) {
        if first.contains('_') || first.chars().all(|c| !c.is_uppercase()) {
            "added_later".into()
        } else {
            "addedLater".into()
        }
    } else {
        "ADDED_LATER".into()
    }
}

/// Inclusive integer bounds (OpenAPI 3.0 boolean `exclusiveMinimum`/`exclusiveMaximum` applied).
pub(crate) fn int_bounds(schema: &Value) -> (Option<i64>, Option<i64>) {
    let excl = |k: &str| schema.get(k).and_then(Value::as_bool) == Some(true);
    let bound = |k: &str| {
        schema
            .get(k)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    };
    let lo = bound("minimum").map(|m| {
        if excl("exclusiveMinimum") {
            m.saturating_add(1)
        } else {
            m
        }
    });
    let hi = bound("maximum").map(|m| {
        if excl("exclusiveMaximum") {
            m.saturating_sub(1)
        } else {
            m
        }
    });
    (lo, hi)
}

/// Whether a scalar example satisfies its (resolved) scalar schema: type, enum, bounds, lengths.
fn scalar_ok(schema: &Value, v: &Value) -> bool {
    if let Some(choices) = schema.get("enum").and_then(Value::as_array)
        && !choices.contains(v)
    {
        return false;
    }
    match (schema.get("type").and_then(Value::as_str), v) {
        (Some("string"), Value::String(s)) => {
            let len = u64::try_from(s.chars().count()).unwrap_or(u64::MAX);
            let min_ok = schema
                .get("minLength")
                .and_then(Value::as_u64)
                .is_none_or(|m| len >= m);
            let max_ok = schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_none_or(|m| len <= m);
            let fmt_ok = match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
                Some("date") => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
                Some("email") => s.contains('@'),
                Some("uri") => s.contains("://"),
                _ => true,
            };
            min_ok && max_ok && fmt_ok
        }
        (Some("integer"), Value::Number(n)) => {
            let Some(i) = n.as_i64() else { return false };
            let (lo, hi) = int_bounds(schema);
            lo.is_none_or(|l| i >= l) && hi.is_none_or(|h| i <= h)
        }
        (Some("number"), Value::Number(n)) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let lo = schema.get("minimum").and_then(Value::as_f64);
            let hi = schema.get("maximum").and_then(Value::as_f64);
            lo.is_none_or(|l| f >= l) && hi.is_none_or(|h| f <= h)
        }
        (Some("boolean"), Value::Bool(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_differ_and_are_deterministic() {
        let spec = Spec::load();
        let op = spec.operation("get-user-media").unwrap();
        let schema = &op.response.as_ref().unwrap().schema;
        for mode in [Mode::Minimal, Mode::Full, Mode::Seeded(1)] {
            assert_eq!(
                synthesize(spec, schema, mode),
                synthesize(spec, schema, mode)
            );
        }
        let full = synthesize(spec, schema, Mode::Full);
        assert_eq!(full["data"].as_array().unwrap().len(), 2);
        let minimal = synthesize(spec, schema, Mode::Minimal);
        assert_eq!(minimal["data"].as_array().unwrap().len(), 0);
        let a = &full["data"][0]["uuid"];
        let b = &full["data"][1]["uuid"];
        assert_ne!(a, b, "identifiers differ between elements");
        assert_ne!(
            synthesize_keyed(spec, schema, Mode::Seeded(1), "a"),
            synthesize_keyed(spec, schema, Mode::Seeded(1), "b")
        );
    }

    #[test]
    fn bounds_are_respected() {
        let spec = Spec::load();
        let s = json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true});
        assert_eq!(synthesize(spec, &s, Mode::Minimal), json!(1));
        let s = json!({"type": "integer", "minimum": 1, "maximum": 50});
        assert_eq!(synthesize(spec, &s, Mode::Full), json!(50));
        for seed in 0..50 {
            let v = synthesize(spec, &s, Mode::Seeded(seed)).as_i64().unwrap();
            assert!((1..=50).contains(&v));
        }
        let s = json!({"type": "string", "minLength": 3, "maxLength": 5});
        assert_eq!(
            synthesize(spec, &s, Mode::Minimal).as_str().unwrap().len(),
            3
        );
        assert_eq!(synthesize(spec, &s, Mode::Full).as_str().unwrap().len(), 5);
        let s = json!({"type": "string", "pattern": "^[a-z0-9_]+$", "maxLength": 100});
        let v = synthesize(spec, &s, Mode::Full);
        assert!(
            v.as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
    }

    #[test]
    fn nullable_and_refs() {
        let spec = Spec::load();
        let s = json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/MediaType"}]});
        assert_eq!(synthesize(spec, &s, Mode::Minimal), Value::Null);
        assert!(synthesize(spec, &s, Mode::Full).is_string());
    }

    #[test]
    fn request_inputs_encode_explode_false_arrays() {
        let spec = Spec::load();
        let op = spec.operation("list-agency-subscribers").unwrap();
        let full = request_inputs(spec, op, Mode::Full);
        let pairs = full.query_pairs(op);
        let ids: Vec<_> = pairs.iter().filter(|(k, _)| k == "creatorUuids").collect();
        assert_eq!(ids.len(), 1, "one comma-separated value: {pairs:?}");
        assert!(ids[0].1.contains(','));
    }
}
