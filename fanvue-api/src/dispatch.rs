//! Every operation chosen at run time, from JSON inputs (for spec-driven
//! tests: not part of the stable API).
//!
//! [`dispatch`] builds the typed builder of an operation from its
//! `operationId`, its path and query parameters as a JSON object (keyed by
//! the spec's parameter names) and its JSON body: each value goes through
//! serde into the argument type of the builder's own setter, exactly as a
//! typed call would set it. The builder is then handed to an
//! [`OperationVisitor`], generic over [`Operation`], which sends it however
//! it likes (e.g. `fanvue-api-ext`'s `send()`). The arms are generated from
//! the spec by the build script, one per operation: nothing here is written
//! per operation.
//!
//! ```
//! use fanvue_api::dispatch::{OperationVisitor, dispatch};
//! use fanvue_api::executor::Inner;
//! use fanvue_api::operation::Operation;
//!
//! struct Name;
//! impl<'a> OperationVisitor<'a> for Name {
//!     type Output = &'static str;
//!     fn visit<O: Operation + 'a>(self, _operation: O) -> &'static str {
//!         O::meta().operation_id
//!     }
//! }
//!
//! let client = fanvue_api::Client::new(fanvue_api::DEFAULT_BASE_URL, Inner::default());
//! let params = serde_json::json!({"uuid": "subscribers", "page": 2});
//! let id = dispatch(&client, "get-smart-list-members", params.as_object().unwrap(), None, Name);
//! assert_eq!(id.unwrap(), "get-smart-list-members");
//! ```

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::operation::Operation;

/// Receives the typed builder [`dispatch`] made.
pub trait OperationVisitor<'a> {
    /// What [`OperationVisitor::visit`] returns (and [`dispatch`] with it).
    type Output;
    /// Called once with the builder, every input set.
    fn visit<O: Operation + 'a>(self, operation: O) -> Self::Output;
}

/// Why [`dispatch`] could not build an operation.
#[derive(Debug)]
pub enum DispatchError {
    /// No operation has this `operationId`.
    UnknownOperation(String),
    /// The operation has no parameter (or no body) of this name.
    UnknownInput {
        /// The operation.
        operation: &'static str,
        /// The input's name (`body` for the body).
        name: String,
    },
    /// The value does not deserialize into the setter's argument type.
    InvalidInput {
        /// The operation.
        operation: &'static str,
        /// The parameter's name (`body` for the body).
        name: &'static str,
        /// What serde said.
        source: serde_json::Error,
    },
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DispatchError::UnknownOperation(id) => write!(f, "no operation `{id}`"),
            DispatchError::UnknownInput { operation, name } => {
                write!(f, "operation `{operation}` has no input `{name}`")
            }
            DispatchError::InvalidInput {
                operation,
                name,
                source,
            } => write!(f, "operation `{operation}`, input `{name}`: {source}"),
        }
    }
}

impl std::error::Error for DispatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DispatchError::InvalidInput { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Builds the typed builder of `operation_id` on `client` with `params`
/// (path and query parameters by the spec's names) and `body`, and hands it
/// to `visitor`.
pub fn dispatch<'a, V: OperationVisitor<'a>>(
    client: &'a crate::Client,
    operation_id: &str,
    params: &Map<String, Value>,
    body: Option<&Value>,
    visitor: V,
) -> Result<V::Output, DispatchError> {
    crate::generated::dispatch_operation(client, operation_id, params, body, visitor)
}

/// Deserializes one input into a setter's argument type.
pub(crate) fn input<T: DeserializeOwned>(
    operation: &'static str,
    name: &'static str,
    value: &Value,
) -> Result<T, DispatchError> {
    T::deserialize(value).map_err(|source| DispatchError::InvalidInput {
        operation,
        name,
        source,
    })
}
