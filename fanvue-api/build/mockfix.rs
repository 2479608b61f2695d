//! A fix-up of progenitor's httpmock output: for a query parameter whose type
//! is an array, progenitor 0.15.1 emits `query_param(name, value.to_string())`,
//! which does not compile (`Vec<T>` has no `Display`). Arrays are sent as
//! repeated `name=a&name=b` pairs (explode, the OpenAPI default), so the
//! matcher becomes one `query_param` per element.

use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ImplItemFn};

/// Rewrites every array query-param matcher of the mock module.
pub fn fix_array_query_params(file: &mut syn::File) {
    struct FnVisitor;
    impl VisitMut for FnVisitor {
        fn visit_impl_item_fn_mut(&mut self, func: &mut ImplItemFn) {
            let signature = func.sig.to_token_stream().to_string();
            if signature.contains("Vec <") {
                ExprVisitor.visit_block_mut(&mut func.block);
            }
            visit_mut::visit_impl_item_fn_mut(self, func);
        }
    }
    struct ExprVisitor;
    impl VisitMut for ExprVisitor {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            if let Expr::MethodCall(call) = expr
                && call.method == "query_param"
                && call.args.len() == 2
                && call.args[1].to_token_stream().to_string() == "value . to_string ()"
            {
                let receiver = &call.receiver;
                let name = &call.args[0];
                *expr = syn::parse_quote! {
                    value.iter().fold(#receiver, |when, item| when.query_param(#name, item.to_string()))
                };
                return;
            }
            visit_mut::visit_expr_mut(self, expr);
        }
    }
    FnVisitor.visit_file_mut(file);
}
