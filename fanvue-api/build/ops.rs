//! Code generated next to progenitor's client: the operation table, the
//! `Operation` impl of every builder and the list-trait impls.
//!
//! The builders' response and error types are read from progenitor's own
//! output (parsed with syn), so nothing here is written per operation.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Fields, GenericArgument, Item, PathArguments, ReturnType, Type};

use crate::names::loose;
use crate::spec::{ListKind, OperationInfo};

/// What progenitor generated for one operation.
struct Builder {
    ident: syn::Ident,
    response: Type,
    error: Type,
    /// Every setter (`fn name<V>(self, value: V) where V: TryInto<T>`) with its `T`.
    setters: Vec<(syn::Ident, Type)>,
}

/// Errors found while reading progenitor's output.
#[derive(Debug)]
pub struct OpsError(pub String);

impl std::fmt::Display for OpsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The index (among the path's `/`-separated segments, 0 = the first after the leading `/`) of
/// the `{creatorUserUuid}` segment of a creator-scoped operation: one under
/// `/creators/{creatorUserUuid}/`, which Fanvue rate-limits in a bucket of that creator's.
fn creator_segment(path: &str) -> Option<usize> {
    let mut segments = path.trim_start_matches('/').split('/');
    (segments.next() == Some("creators") && segments.next() == Some("{creatorUserUuid}"))
        .then_some(1usize)
}

/// The extra code for the generated module.
pub fn generate(
    file: &syn::File,
    ops: &[OperationInfo],
    api_version: &str,
) -> Result<TokenStream, OpsError> {
    let builders = builders(file)?;
    let structs = type_structs(file);

    let metas = ops.iter().map(|op| {
        let (id, method, path, tag) = (&op.id, &op.method, &op.path, &op.tag);
        let creator_segment = match creator_segment(path) {
            Some(index) => quote! { Some(#index) },
            None => quote! { None },
        };
        quote! {
            crate::executor::OperationMeta {
                operation_id: #id,
                method: #method,
                path: #path,
                tag: #tag,
                creator_segment: #creator_segment,
            }
        }
    });
    let fn_arms = ops.iter().enumerate().map(|(i, op)| {
        let name = &op.fn_name;
        quote! { #name => Some(&OPERATIONS[#i]), }
    });
    let comma_arms = ops
        .iter()
        .filter(|op| !op.comma_params.is_empty())
        .map(|op| {
            let name = &op.fn_name;
            let params = &op.comma_params;
            quote! { #name => &[#(#params),*], }
        });
    let page_lists: Vec<&str> = ops
        .iter()
        .filter(|op| matches!(op.list, Some(ListKind::PageNumber)))
        .map(|op| op.id.as_str())
        .collect();
    let single_page_lists: Vec<&str> = ops
        .iter()
        .filter(|op| matches!(op.list, Some(ListKind::SinglePage)))
        .map(|op| op.id.as_str())
        .collect();
    let cursor_lists: Vec<&str> = ops
        .iter()
        .filter(|op| matches!(op.list, Some(ListKind::Cursor { .. })))
        .map(|op| op.id.as_str())
        .collect();

    let mut decode_arms = Vec::new();
    for op in ops {
        let Some(builder) = builders.get(&loose(&op.fn_name)) else {
            continue;
        };
        let response = &builder.response;
        let skip = matches!(response, Type::Tuple(t) if t.elems.is_empty())
            || last_ident(response).as_deref() == Some("ByteStream");
        if !skip {
            let id = &op.id;
            decode_arms.push(quote! {
                #id => Some(serde_json::from_slice::<#response>(body).map(|_| ())),
            });
        }
    }

    let mut impls = Vec::new();
    let mut dispatch_arms = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        let builder = builders.get(&loose(&op.fn_name)).ok_or_else(|| {
            OpsError(format!(
                "no builder with a `{RAW_SEND}` method found for operation `{}`",
                op.id
            ))
        })?;
        impls.push(operation_impl(builder, index));
        dispatch_arms.push(dispatch_arm(builder, op)?);
        if let Some(kind) = &op.list {
            impls.push(list_impl(builder, op, kind, &structs)?);
        }
    }

    let version_doc = format!(
        "The Fanvue API version this client was generated for (`{api_version}`, the spec's \
         `info.version`); the value of the `X-Fanvue-API-Version` header (which \
         `fanvue-api-ext` sends on every request)."
    );
    Ok(quote! {
        #[doc = #version_doc]
        pub const API_VERSION: &str = #api_version;

        /// Every operation of the API: id, method, path template and tag, in spec order.
        pub static OPERATIONS: &[crate::executor::OperationMeta] = &[#(#metas),*];

        /// The operation ids of the lists paginated by page number (implementing
        /// [`PageNumberList`](crate::operation::PageNumberList)).
        pub static PAGE_NUMBER_LISTS: &[&str] = &[#(#page_lists),*];

        /// The operation ids of the lists answering `{data, pagination}` without
        /// `page`/`size` parameters (implementing
        /// [`SinglePageList`](crate::operation::SinglePageList): one page only).
        pub static SINGLE_PAGE_LISTS: &[&str] = &[#(#single_page_lists),*];

        /// The operation ids of the lists paginated by cursor (implementing
        /// [`CursorList`](crate::operation::CursorList)).
        pub static CURSOR_LISTS: &[&str] = &[#(#cursor_lists),*];

        /// The metadata of an operation by progenitor's method name (`get_user_media`).
        pub(crate) fn operation_by_fn_name(name: &str) -> Option<&'static crate::executor::OperationMeta> {
            match name {
                #(#fn_arms)*
                _ => None,
            }
        }

        /// The query parameters of an operation (by method name) that the API
        /// reads comma-separated (style form, explode false).
        pub(crate) fn comma_list_params(name: &str) -> &'static [&'static str] {
            match name {
                #(#comma_arms)*
                _ => &[],
            }
        }

        /// Decodes `body` as the success response of `operation_id` (`None`
        /// when the operation has no JSON response). For the spec-driven tests.
        #[cfg(feature = "mock")]
        #[doc(hidden)]
        pub fn __decode_response(
            operation_id: &str,
            body: &[u8],
        ) -> Option<Result<(), serde_json::Error>> {
            match operation_id {
                #(#decode_arms)*
                _ => None,
            }
        }

        /// Builds the typed builder of `operation_id` from JSON inputs and
        /// hands it to `visitor` (see [`crate::dispatch`]).
        #[allow(unreachable_code, unused_mut, unused_variables)]
        pub(crate) fn dispatch_operation<'a, V: crate::dispatch::OperationVisitor<'a>>(
            client: &'a Client,
            operation_id: &str,
            params: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
            body: ::std::option::Option<&::serde_json::Value>,
            visitor: V,
        ) -> ::std::result::Result<V::Output, crate::dispatch::DispatchError> {
            use crate::dispatch::{DispatchError, input};
            match operation_id {
                #(#dispatch_arms)*
                _ => Err(DispatchError::UnknownOperation(operation_id.to_string())),
            }
        }

        #(#impls)*
    })
}

/// One arm of `dispatch_operation`: every path and query parameter of the
/// spec set through its typed setter (its value deserialized into the
/// setter's argument type), then the body.
fn dispatch_arm(builder: &Builder, op: &OperationInfo) -> Result<TokenStream, OpsError> {
    let id = &op.id;
    let ident = &builder.ident;
    let setter = |name: &str| {
        builder
            .setters
            .iter()
            .find(|(setter, _)| loose(&setter.to_string()) == loose(name))
            .ok_or_else(|| {
                OpsError(format!(
                    "operation `{id}`: builder `{ident}` has no setter for `{name}`"
                ))
            })
    };
    let mut param_arms = Vec::new();
    for name in &op.params {
        let (method, ty) = setter(name)?;
        param_arms.push(quote! {
            #name => operation.#method(input::<#ty>(#id, #name, value)?),
        });
    }
    let body = if op.has_body {
        let (method, ty) = setter("body")?;
        quote! {
            if let Some(body) = body {
                operation = operation.#method(input::<#ty>(#id, "body", body)?);
            }
        }
    } else {
        quote! {
            if body.is_some() {
                return Err(DispatchError::UnknownInput {
                    operation: #id,
                    name: "body".to_string(),
                });
            }
        }
    };
    Ok(quote! {
        #id => {
            let mut operation = builder::#ident::new(client);
            for (name, value) in params {
                operation = match name.as_str() {
                    #(#param_arms)*
                    _ => {
                        return Err(DispatchError::UnknownInput {
                            operation: #id,
                            name: name.clone(),
                        })
                    }
                };
            }
            #body
            Ok(visitor.visit(operation))
        }
    })
}

/// The setters of a builder impl: `fn name<V>(mut self, value: V) -> Self
/// where V: TryInto<T>`, with `T`.
fn setters(imp: &syn::ItemImpl) -> Vec<(syn::Ident, Type)> {
    let mut out = Vec::new();
    for member in &imp.items {
        let syn::ImplItem::Fn(func) = member else {
            continue;
        };
        let Some(clause) = &func.sig.generics.where_clause else {
            continue;
        };
        for predicate in &clause.predicates {
            let syn::WherePredicate::Type(predicate) = predicate else {
                continue;
            };
            for bound in &predicate.bounds {
                let syn::TypeParamBound::Trait(bound) = bound else {
                    continue;
                };
                let Some(last) = bound.path.segments.last() else {
                    continue;
                };
                if last.ident != "TryInto" {
                    continue;
                }
                let PathArguments::AngleBracketed(args) = &last.arguments else {
                    continue;
                };
                if let Some(GenericArgument::Type(ty)) = args.args.first() {
                    out.push((func.sig.ident.clone(), ty.clone()));
                }
            }
        }
    }
    out
}

fn operation_impl(builder: &Builder, index: usize) -> TokenStream {
    let Builder {
        ident,
        response,
        error,
        ..
    } = builder;
    quote! {
        impl<'a> crate::operation::Operation for builder::#ident<'a> {
            type Response = #response;
            type ErrorBody = #error;

            fn meta() -> &'static crate::executor::OperationMeta {
                &OPERATIONS[#index]
            }

            fn send_request(
                self,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<ResponseValue<Self::Response>, Error<Self::ErrorBody>>,
            > + Send {
                self.send_raw()
            }
        }
    }
}

fn list_impl(
    builder: &Builder,
    op: &OperationInfo,
    kind: &ListKind,
    structs: &HashMap<String, syn::ItemStruct>,
) -> Result<TokenStream, OpsError> {
    let fail = |what: &str| OpsError(format!("list operation `{}`: {what}", op.id));
    let ident = &builder.ident;
    let response_struct = last_ident(&builder.response)
        .and_then(|name| structs.get(&name))
        .ok_or_else(|| fail("response is not a generated struct"))?;
    let data = field(response_struct, "data").ok_or_else(|| fail("no `data` field"))?;
    let item = vec_item(&data.ty).ok_or_else(|| fail("`data` is not a Vec"))?;
    let item = rooted(item);
    let data_ident = data.ident.clone().ok_or_else(|| fail("unnamed field"))?;
    let max = op.max_page_size;

    Ok(match kind {
        ListKind::PageNumber | ListKind::SinglePage => {
            let pagination = field(response_struct, "pagination")
                .ok_or_else(|| fail("no `pagination` field"))?;
            let pagination_ident = pagination
                .ident
                .clone()
                .ok_or_else(|| fail("unnamed field"))?;
            let (pagination_optional, pagination_ty) = strip_option(&pagination.ty);
            let pagination_struct = last_ident(pagination_ty)
                .and_then(|name| structs.get(&name))
                .ok_or_else(|| fail("pagination is not a generated struct"))?;
            let page = field(pagination_struct, "page")
                .and_then(|f| f.ident.clone())
                .ok_or_else(|| fail("no `page` in pagination"))?;
            let has_more = field(pagination_struct, "hasMore")
                .and_then(|f| f.ident.clone())
                .ok_or_else(|| fail("no `hasMore` in pagination"))?;
            let pagination_ref = if pagination_optional {
                quote! { response.#pagination_ident.as_ref() }
            } else {
                quote! { Some(&response.#pagination_ident) }
            };
            let into_page = quote! {
                    fn into_page(response: Self::Response) -> crate::operation::NumberedPage<Self::Item> {
                        let pagination = #pagination_ref;
                        let page = pagination
                            .and_then(|p| crate::paging::ToU64::to_u64(&p.#page))
                            .unwrap_or(0);
                        let has_more = pagination
                            .and_then(|p| crate::paging::ToBool::to_bool(&p.#has_more))
                            .unwrap_or(false);
                        crate::operation::NumberedPage {
                            items: crate::paging::IntoItems::into_items(response.#data_ident),
                            page,
                            has_more,
                        }
                    }
            };
            if matches!(kind, ListKind::SinglePage) {
                quote! {
                    impl<'a> crate::operation::SinglePageList for builder::#ident<'a> {
                        type Item = #item;
                        #into_page
                    }
                }
            } else {
                quote! {
                    impl<'a> crate::operation::PageNumberList for builder::#ident<'a> {
                        type Item = #item;
                        const MAX_PAGE_SIZE: u64 = #max;

                        fn with_page(self, page: u64) -> Self {
                            self.page(page)
                        }

                        fn with_page_size(self, size: u64) -> Self {
                            self.size(size)
                        }

                        #into_page
                    }
                }
            }
        }
        ListKind::Cursor { size_param } => {
            let next = field(response_struct, "nextCursor")
                .and_then(|f| f.ident.clone())
                .ok_or_else(|| fail("no `nextCursor` field"))?;
            let size_setter = format_ident!("{}", size_param);
            quote! {
                impl<'a> crate::operation::CursorList for builder::#ident<'a> {
                    type Item = #item;
                    const MAX_PAGE_SIZE: u64 = #max;

                    fn with_cursor(self, cursor: ::std::string::String) -> Self {
                        self.cursor(cursor)
                    }

                    fn with_page_size(self, size: u64) -> Self {
                        self.#size_setter(size)
                    }

                    fn into_page(response: Self::Response) -> crate::operation::CursorPage<Self::Item> {
                        crate::operation::CursorPage {
                            next_cursor: crate::paging::IntoCursor::into_cursor(response.#next),
                            items: crate::paging::IntoItems::into_items(response.#data_ident),
                        }
                    }
                }
            }
        }
    })
}

/// What progenitor's `send` of every builder is renamed to.
pub const RAW_SEND: &str = "send_raw";

/// Renames progenitor's inherent `send` of every builder (in the `builder`
/// module) to the hidden [`RAW_SEND`], so the one `send()` users see is
/// `fanvue-api-ext`'s; the `Operation` impls call the raw one. Returns how
/// many methods were renamed.
pub fn hide_send(file: &mut syn::File) -> usize {
    let mut renamed = 0;
    for item in &mut file.items {
        let Item::Mod(module) = item else { continue };
        if module.ident != "builder" {
            continue;
        }
        let Some((_, items)) = &mut module.content else {
            continue;
        };
        for item in items {
            let Item::Impl(imp) = item else { continue };
            if imp.trait_.is_some() {
                continue;
            }
            for member in &mut imp.items {
                let syn::ImplItem::Fn(func) = member else {
                    continue;
                };
                if func.sig.ident != "send" {
                    continue;
                }
                func.sig.ident = format_ident!("{}", RAW_SEND);
                func.attrs.retain(|a| !a.path().is_ident("doc"));
                func.attrs.push(syn::parse_quote!(
                    #[doc = "Sends the request as progenitor generated it (the raw seam behind `Operation::send_request`); users call `fanvue-api-ext`'s `send()`."]
                ));
                func.attrs.push(syn::parse_quote!(#[doc(hidden)]));
                renamed += 1;
            }
        }
    }
    renamed
}

/// The `operation_id` progenitor writes into the `OperationInfo` of a
/// builder's send method (its method name, e.g. `get_user_media`), read from
/// the syntax tree.
fn operation_info_id(block: &syn::Block) -> Option<String> {
    struct Finder(Option<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_struct(&mut self, node: &'ast syn::ExprStruct) {
            let is_info = node
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "OperationInfo");
            if is_info && self.0.is_none() {
                for field in &node.fields {
                    let syn::Member::Named(name) = &field.member else {
                        continue;
                    };
                    if name != "operation_id" {
                        continue;
                    }
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(value),
                        ..
                    }) = &field.expr
                    {
                        self.0 = Some(value.value());
                    }
                }
            }
            syn::visit::visit_expr_struct(self, node);
        }
    }
    let mut finder = Finder(None);
    finder.visit_block(block);
    finder.0
}

/// The builder of every operation, keyed by the loose form of its method name.
fn builders(file: &syn::File) -> Result<HashMap<String, Builder>, OpsError> {
    let module = find_mod(&file.items, "builder")
        .ok_or_else(|| OpsError("progenitor output has no `builder` module".into()))?;
    let mut out = HashMap::new();
    for item in module {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let Some(ident) = last_ident(&imp.self_ty) else {
            continue;
        };
        for member in &imp.items {
            let syn::ImplItem::Fn(func) = member else {
                continue;
            };
            if func.sig.ident != RAW_SEND {
                continue;
            }
            let ReturnType::Type(_, ret) = &func.sig.output else {
                continue;
            };
            let (Some(ok), Some(err)) = (generic(ret, 0), generic(ret, 1)) else {
                continue;
            };
            let (Some(response), Some(error)) = (generic(ok, 0), generic(err, 0)) else {
                continue;
            };
            let Some(fn_name) = operation_info_id(&func.block) else {
                return Err(OpsError(format!(
                    "builder `{ident}`: no `OperationInfo {{ operation_id: \"..\" }}` in its send method"
                )));
            };
            out.insert(
                loose(&fn_name),
                Builder {
                    ident: format_ident!("{}", ident),
                    response: response.clone(),
                    error: error.clone(),
                    setters: setters(imp),
                },
            );
        }
    }
    Ok(out)
}

/// The structs of the `types` module by name.
fn type_structs(file: &syn::File) -> HashMap<String, syn::ItemStruct> {
    find_mod(&file.items, "types")
        .map(|items| {
            items
                .iter()
                .filter_map(|item| match item {
                    Item::Struct(s) => Some((s.ident.to_string(), s.clone())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn find_mod<'a>(items: &'a [Item], name: &str) -> Option<&'a [Item]> {
    items.iter().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items.as_slice()),
        _ => None,
    })
}

/// The field whose wire name (serde rename or ident) is `json_name`.
fn field<'a>(s: &'a syn::ItemStruct, json_name: &str) -> Option<&'a syn::Field> {
    let Fields::Named(fields) = &s.fields else {
        return None;
    };
    let rename = format!("rename = \"{json_name}\"");
    fields.named.iter().find(|f| {
        f.attrs
            .iter()
            .any(|a| a.to_token_stream().to_string().contains(&rename))
            || f.ident.as_ref().is_some_and(|i| i == json_name)
    })
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The `index`-th generic type argument of the last path segment.
fn generic(ty: &Type, index: usize) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    args.args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .nth(index)
}

fn strip_option(ty: &Type) -> (bool, &Type) {
    match (last_ident(ty).as_deref(), generic(ty, 0)) {
        (Some("Option"), Some(inner)) => (true, inner),
        _ => (false, ty),
    }
}

/// `X` of `Vec<X>` or `Option<Vec<X>>`.
fn vec_item(ty: &Type) -> Option<&Type> {
    let (_, ty) = strip_option(ty);
    (last_ident(ty).as_deref() == Some("Vec"))
        .then(|| generic(ty, 0))
        .flatten()
}

/// Rewrites a type written inside `mod types` so it resolves one level up.
fn rooted(ty: &Type) -> Type {
    struct Rooter;
    impl VisitMut for Rooter {
        fn visit_type_path_mut(&mut self, node: &mut syn::TypePath) {
            syn::visit_mut::visit_type_path_mut(self, node);
            if node.qself.is_some() || node.path.leading_colon.is_some() {
                return;
            }
            let Some(first) = node.path.segments.first() else {
                return;
            };
            let first = first.ident.to_string();
            const KEEP: &[&str] = &[
                "crate", "self", "super", "std", "bool", "char", "str", "u8", "u16", "u32", "u64",
                "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64",
                "String", "Vec", "Option",
            ];
            if !KEEP.contains(&first.as_str()) {
                node.path.segments.insert(0, format_ident!("types").into());
            }
        }
    }
    let mut ty = ty.clone();
    Rooter.visit_type_mut(&mut ty);
    ty
}
