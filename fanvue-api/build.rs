//! Generates the Fanvue client from `openapi/fanvue.json` with progenitor.
//!
//! Outputs (all in `OUT_DIR`, none committed):
//! - `enums.rs`: tolerant enums for the spec's named string enums;
//! - `client.rs`: progenitor's client (builders grouped by tag) plus the
//!   operation table and the `Operation`/list-trait impls;
//! - `mock.rs` (feature `mock`): progenitor's typed httpmock helpers;
//! - `webhooks.rs`: the table of webhook event types. The webhook payload
//!   schemas of `openapi/webhooks.json` join the spec's components first, so
//!   they are generated into `types` like the rest.
//!
//! `FANVUE_API_SPEC` may point at another spec file (development only).
//!
//! The build is offline and deterministic: it reads only the spec shipped in
//! the package (a real file, kept identical to the workspace's
//! `openapi/fanvue.json`), the generator crates are pinned exactly, and the
//! output is post-processed on the syntax tree (never by searching its text).
//! `tests/build_output.rs` runs this generator twice and compares the files.

#[path = "build/bounds.rs"]
mod bounds;
#[path = "build/docs.rs"]
mod docs;
#[path = "build/enums.rs"]
mod enums;
#[path = "build/fixes.rs"]
mod fixes;
#[path = "build/ints.rs"]
mod ints;
#[path = "build/mockfix.rs"]
mod mockfix;
#[path = "build/names.rs"]
mod names;
#[path = "build/ops.rs"]
mod ops;
#[path = "build/schema.rs"]
mod schema;
#[path = "build/scopes.rs"]
mod scopes;
#[path = "build/spec.rs"]
mod spec;
#[path = "build/webhooks.rs"]
mod webhooks;

use std::path::{Path, PathBuf};

use progenitor_impl::{
    GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl,
};
use quote::quote;

/// The spec schema replaced by the hand-written `VariantList`.
const VARIANT_LIST_SCHEMA: &str = "MediaVariantList";

fn main() {
    if let Err(error) = run() {
        // A build script reports failure through its exit status.
        eprintln!("fanvue-api build script: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    println!("cargo:rerun-if-env-changed=FANVUE_API_SPEC");
    println!("cargo:rerun-if-changed=build");
    // For the determinism test (`tests/build_output.rs`), which runs this
    // generator twice and compares what it writes.
    if let Ok(exe) = std::env::current_exe() {
        println!("cargo:rustc-env=FANVUE_API_GENERATOR={}", exe.display());
    }
    let spec_path = match std::env::var_os("FANVUE_API_SPEC") {
        Some(path) => PathBuf::from(path),
        None => manifest_dir.join("openapi").join("fanvue.json"),
    };
    println!("cargo:rerun-if-changed={}", spec_path.display());

    let text = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let mut raw: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", spec_path.display()))?;
    let hooks_path = manifest_dir.join("openapi").join("webhooks.json");
    println!("cargo:rerun-if-changed={}", hooks_path.display());
    let hooks_text = std::fs::read_to_string(&hooks_path)
        .map_err(|e| format!("cannot read {}: {e}", hooks_path.display()))?;
    let hooks: serde_json::Value = serde_json::from_str(&hooks_text)
        .map_err(|e| format!("{} is not JSON: {e}", hooks_path.display()))?;
    let events = webhooks::merge(&mut raw, &hooks)?;
    let events_file: syn::File = syn::parse2(webhooks::generate(&events))
        .map_err(|e| format!("generated webhook table does not parse: {e}"))?;
    write(&out_dir.join("webhooks.rs"), &events_file)?;
    spec::enrich(&mut raw);
    for place in fixes::drop_nonconforming_defaults(&mut raw) {
        println!("cargo:warning=spec: dropped a `default` its own schema rejects at {place}");
    }
    let bounds = bounds::collect(&raw);
    let bodies = bounds::collect_bodies(&raw);
    spec::use_cents(&mut raw);
    let scopes = scopes::collect(&raw);
    fixes::strip_string_lengths(&mut raw);
    let spec: openapiv3::OpenAPI = serde_json::from_value(raw)
        .map_err(|e| format!("{} is not OpenAPI 3.0: {e}", spec_path.display()))?;

    let string_enums = enums::collect(&spec);
    let has_variant_list = spec
        .components
        .as_ref()
        .is_some_and(|c| c.schemas.contains_key(VARIANT_LIST_SCHEMA));
    let settings = settings(&string_enums, has_variant_list);

    // The client.
    let mut generator = Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor: {e}"))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor output does not parse: {e}"))?;
    reexport_in_types(&mut file, has_variant_list);
    if ops::hide_send(&mut file) == 0 {
        return Err("progenitor output has no builder `send` method to rename".into());
    }
    let int_fields = ints::make_lenient(&mut file);
    file.items.push(int_fields);
    schema::derive_json_schema(&mut file);
    let operations = spec::operations(&spec);
    let extra = ops::generate(&file, &operations, &spec.info.version).map_err(|e| e.to_string())?;
    let extra: syn::File =
        syn::parse2(extra).map_err(|e| format!("generated operation code does not parse: {e}"))?;
    file.items.extend(extra.items);
    let bounds: syn::File = syn::parse2(bounds::generate(&bounds))
        .map_err(|e| format!("generated bounds table does not parse: {e}"))?;
    file.items.extend(bounds.items);
    let bodies: syn::File = syn::parse2(bounds::generate_bodies(&bodies))
        .map_err(|e| format!("generated body checks do not parse: {e}"))?;
    file.items.extend(bodies.items);
    let scopes: syn::File = syn::parse2(scopes::generate(&scopes))
        .map_err(|e| format!("generated scopes table does not parse: {e}"))?;
    file.items.extend(scopes.items);
    let client_text = write(&out_dir.join("client.rs"), &file)?;
    // Tolerance guards: unknown fields must stay ignored, and every string
    // enum must be a named schema (inline ones would be strict).
    if client_text.contains("deny_unknown_fields") {
        println!("cargo:warning=generated types reject unknown fields (deny_unknown_fields)");
    }
    for place in spec::inline_enums(&spec) {
        println!(
            "cargo:warning=inline string enum at {place} decodes strictly; name it in the spec"
        );
    }

    // The tolerant enums.
    let enums_file: syn::File = syn::parse2(enums::generate(&string_enums))
        .map_err(|e| format!("generated enums do not parse: {e}"))?;
    write(&out_dir.join("enums.rs"), &enums_file)?;

    // The httpmock helpers.
    if std::env::var_os("CARGO_FEATURE_MOCK").is_some() {
        let mut generator = Generator::new(&settings);
        let tokens = generator
            .httpmock(&spec, "crate")
            .map_err(|e| format!("progenitor httpmock: {e}"))?;
        let mut file: syn::File =
            syn::parse2(tokens).map_err(|e| format!("httpmock output does not parse: {e}"))?;
        mockfix::fix_array_query_params(&mut file);
        write(&out_dir.join("mock.rs"), &file)?;
    }
    Ok(())
}

fn settings(string_enums: &[enums::StringEnum], has_variant_list: bool) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Separate)
        .with_inner_type(quote!(crate::executor::Inner))
        .with_hooks(HooksMode::Expected)
        .with_derive("PartialEq");
    // The amounts in cents (`spec::use_cents`).
    settings.with_replacement(
        spec::CENTS_SCHEMA,
        "crate::Cents",
        [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
    );
    for e in string_enums {
        settings.with_replacement(
            &e.name,
            format!("crate::enums::{}", e.name),
            [
                TypeImpl::FromStr,
                TypeImpl::Display,
                TypeImpl::FromStringIrrefutable,
            ]
            .into_iter(),
        );
    }
    if has_variant_list {
        settings.with_replacement(
            VARIANT_LIST_SCHEMA,
            "crate::variants::VariantList",
            [TypeImpl::FromStr, TypeImpl::Display, TypeImpl::Default].into_iter(),
        );
    }
    settings
}

/// The items of the generated `types` module (progenitor writes one).
fn types_modules(file: &mut syn::File) -> impl Iterator<Item = &mut Vec<syn::Item>> {
    file.items.iter_mut().filter_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => {
            module.content.as_mut().map(|(_, items)| items)
        }
        _ => None,
    })
}

/// Makes the hand-written types reachable as `types::X` like the generated ones.
fn reexport_in_types(file: &mut syn::File, has_variant_list: bool) {
    for items in types_modules(file) {
        items.insert(
            0,
            syn::parse_quote!(
                pub use crate::enums::*;
            ),
        );
        items.insert(
            0,
            syn::parse_quote!(
                pub use crate::Cents;
            ),
        );
        if has_variant_list {
            items.insert(
                0,
                syn::parse_quote!(
                    pub use crate::variants::VariantList;
                ),
            );
        }
    }
}

/// Writes the formatted file (unless unchanged, so rustc is not re-run) and returns its text.
fn write(path: &Path, file: &syn::File) -> Result<String, String> {
    let text = prettyplease::unparse(file);
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(text);
    }
    std::fs::write(path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(text)
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}
