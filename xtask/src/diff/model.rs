//! The changelog between two specs, as data (serialized as is by `--format json`).

use serde::Serialize;

/// Everything that differs between two normalized specs, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changelog {
    /// `info.version` of both specs, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionChange>,
    /// Operations only in the new spec, sorted by path then method.
    pub operations_added: Vec<OperationSummary>,
    /// Operations only in the old spec, sorted by path then method.
    pub operations_removed: Vec<OperationSummary>,
    /// Operations in both specs that differ, sorted by path then method.
    pub operations_changed: Vec<OperationChanges>,
    /// Names of `components.schemas` only in the new spec, sorted.
    pub schemas_added: Vec<String>,
    /// Names of `components.schemas` only in the old spec, sorted.
    pub schemas_removed: Vec<String>,
}

impl Changelog {
    /// Whether the two specs are equivalent for everything the changelog looks at.
    pub fn is_empty(&self) -> bool {
        self.version.is_none()
            && self.operations_added.is_empty()
            && self.operations_removed.is_empty()
            && self.operations_changed.is_empty()
            && self.schemas_added.is_empty()
            && self.schemas_removed.is_empty()
    }
}

/// A change of the API version (`info.version`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    /// The old version (`None` when the old spec has none).
    pub old: Option<String>,
    /// The new version (`None` when the new spec has none).
    pub new: Option<String>,
}

/// An operation, identified by its method and path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationSummary {
    /// Upper-case HTTP method: `GET`, `POST`, ...
    pub method: String,
    /// The path template: `/media/{uuid}`.
    pub path: String,
    /// The operation's `operationId`, if any (the new one for changed operations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// The changes of one operation present in both specs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationChanges {
    /// The operation.
    pub operation: OperationSummary,
    /// Its changes: operationId, then parameters, request bodies, responses, each in a stable order.
    pub changes: Vec<Change>,
}

/// Where a body lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "in", rename_all = "snake_case")]
pub enum BodyLocation {
    /// The request body of that media type.
    Request {
        /// `application/json`, ...
        media_type: String,
    },
    /// The body of that response and media type.
    Response {
        /// `200`, `404`, `default`, ...
        status: String,
        /// `application/json`, ...
        media_type: String,
    },
}

/// What a change is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// A parameter, identified by where it goes and its name.
    Parameter {
        /// `path`, `query`, `header` or `cookie`.
        location: String,
        /// The parameter's name.
        name: String,
    },
    /// A field of a body, by its dotted path (`data[].variants[].width`; empty for the body itself).
    Field {
        /// The body.
        body: BodyLocation,
        /// The dotted path; `[]` stands for "any item of the array", `*` for "any additional property".
        path: String,
    },
}

/// One change of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The operationId changed.
    OperationIdChanged {
        /// The old operationId.
        old: Option<String>,
        /// The new operationId.
        new: Option<String>,
    },
    /// A response status is new.
    ResponseAdded {
        /// The status.
        status: String,
    },
    /// A response status is gone.
    ResponseRemoved {
        /// The status.
        status: String,
    },
    /// A body (request, or a media type of an existing response) is new.
    BodyAdded {
        /// The body.
        body: BodyLocation,
    },
    /// A body is gone.
    BodyRemoved {
        /// The body.
        body: BodyLocation,
    },
    /// A parameter or field is new. Fields inside a new field are not listed separately.
    Added {
        /// The parameter or field.
        subject: Subject,
        /// Its type, like `string(uuid)`, `array<integer>`, `object | null`.
        ty: String,
        /// Whether it is required.
        required: bool,
    },
    /// A parameter or field is gone. Fields inside a removed field are not listed separately.
    Removed {
        /// The parameter or field.
        subject: Subject,
        /// Its old type.
        ty: String,
    },
    /// A parameter or field has another type (including format and nullability).
    Retyped {
        /// The parameter or field.
        subject: Subject,
        /// The old type.
        old: String,
        /// The new type.
        new: String,
    },
    /// A parameter or field became required or optional.
    RequiredChanged {
        /// The parameter or field.
        subject: Subject,
        /// Whether it is now required.
        required: bool,
    },
    /// Enum values were added.
    EnumValuesAdded {
        /// The parameter or field.
        subject: Subject,
        /// The new values, sorted.
        values: Vec<String>,
    },
    /// Enum values were removed.
    EnumValuesRemoved {
        /// The parameter or field.
        subject: Subject,
        /// The removed values, sorted.
        values: Vec<String>,
    },
}
