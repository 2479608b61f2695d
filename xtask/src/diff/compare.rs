//! Comparing two specs into a [`Changelog`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{
    BodyLocation, Change, Changelog, OperationChanges, OperationSummary, Subject, VersionChange,
};
use super::spec::{Field, Fields, METHODS, Operation, OperationKey, Spec};

/// The changelog from `old` to `new` (both OpenAPI 3.0 documents as JSON).
pub fn diff_specs(old: &Value, new: &Value) -> Changelog {
    let (old, new) = (Spec::new(old), Spec::new(new));
    let mut changelog = Changelog::default();

    let (old_version, new_version) = (old.version(), new.version());
    if old_version != new_version {
        changelog.version = Some(VersionChange {
            old: old_version,
            new: new_version,
        });
    }

    let (old_ops, new_ops) = (old.operations(), new.operations());
    for (key, op) in &new_ops {
        if !old_ops.contains_key(key) {
            changelog.operations_added.push(summary(key, op));
        }
    }
    for (key, op) in &old_ops {
        match new_ops.get(key) {
            None => changelog.operations_removed.push(summary(key, op)),
            Some(new_op) => {
                let changes = operation_changes(op, new_op);
                if !changes.is_empty() {
                    changelog.operations_changed.push(OperationChanges {
                        operation: summary(key, new_op),
                        changes,
                    });
                }
            }
        }
    }

    let (old_schemas, new_schemas) = (old.schema_names(), new.schema_names());
    changelog.schemas_added = new_schemas.difference(&old_schemas).cloned().collect();
    changelog.schemas_removed = old_schemas.difference(&new_schemas).cloned().collect();
    changelog
}

fn summary((path, method): &OperationKey, op: &Operation) -> OperationSummary {
    OperationSummary {
        method: METHODS
            .get(*method)
            .map(|m| m.to_ascii_uppercase())
            .unwrap_or_default(),
        path: path.clone(),
        operation_id: op.operation_id.clone(),
    }
}

fn operation_changes(old: &Operation, new: &Operation) -> Vec<Change> {
    let mut changes = Vec::new();
    if old.operation_id != new.operation_id {
        changes.push(Change::OperationIdChanged {
            old: old.operation_id.clone(),
            new: new.operation_id.clone(),
        });
    }

    let params = |op: &Operation| -> BTreeMap<Subject, Field> {
        op.parameters
            .iter()
            .map(|((location, name), field)| {
                let subject = Subject::Parameter {
                    location: location.clone(),
                    name: name.clone(),
                };
                (subject, field.clone())
            })
            .collect()
    };
    compare_fields(&params(old), &params(new), &mut changes);

    compare_bodies(
        &old.request,
        &new.request,
        |media_type| BodyLocation::Request {
            media_type: media_type.to_owned(),
        },
        &mut changes,
    );

    let statuses: BTreeSet<&String> = old.responses.keys().chain(new.responses.keys()).collect();
    for status in statuses {
        match (old.responses.get(status), new.responses.get(status)) {
            (Some(_), None) => changes.push(Change::ResponseRemoved {
                status: status.clone(),
            }),
            (None, Some(_)) => changes.push(Change::ResponseAdded {
                status: status.clone(),
            }),
            (Some(old_bodies), Some(new_bodies)) => compare_bodies(
                old_bodies,
                new_bodies,
                |media_type| BodyLocation::Response {
                    status: status.clone(),
                    media_type: media_type.to_owned(),
                },
                &mut changes,
            ),
            (None, None) => {}
        }
    }
    changes
}

/// Compares the bodies of one request or response, media type by media type.
fn compare_bodies(
    old: &BTreeMap<String, Fields>,
    new: &BTreeMap<String, Fields>,
    location: impl Fn(&str) -> BodyLocation,
    changes: &mut Vec<Change>,
) {
    let media_types: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for media_type in media_types {
        let body = location(media_type);
        match (old.get(media_type), new.get(media_type)) {
            (Some(_), None) => changes.push(Change::BodyRemoved { body }),
            (None, Some(_)) => changes.push(Change::BodyAdded { body }),
            (Some(old_fields), Some(new_fields)) => {
                let keyed = |fields: &Fields| -> BTreeMap<Subject, Field> {
                    fields
                        .iter()
                        .map(|(path, field)| {
                            let subject = Subject::Field {
                                body: body.clone(),
                                path: path.clone(),
                            };
                            (subject, field.clone())
                        })
                        .collect()
                };
                compare_fields(&keyed(old_fields), &keyed(new_fields), changes);
            }
            (None, None) => {}
        }
    }
}

/// Compares parameters or fields, in key order. A field inside a field that is itself added (or removed)
/// is not listed.
fn compare_fields(
    old: &BTreeMap<Subject, Field>,
    new: &BTreeMap<Subject, Field>,
    changes: &mut Vec<Change>,
) {
    let subjects: BTreeSet<&Subject> = old.keys().chain(new.keys()).collect();
    let mut added: Vec<&Subject> = Vec::new();
    let mut removed: Vec<&Subject> = Vec::new();
    for subject in subjects {
        match (old.get(subject), new.get(subject)) {
            (None, Some(field)) => {
                if !added.iter().any(|parent| is_inside(subject, parent)) {
                    added.push(subject);
                    changes.push(Change::Added {
                        subject: subject.clone(),
                        ty: field.summary.clone(),
                        required: field.required,
                    });
                }
            }
            (Some(field), None) => {
                if !removed.iter().any(|parent| is_inside(subject, parent)) {
                    removed.push(subject);
                    changes.push(Change::Removed {
                        subject: subject.clone(),
                        ty: field.summary.clone(),
                    });
                }
            }
            (Some(before), Some(after)) => field_changes(subject, before, after, changes),
            (None, None) => {}
        }
    }
}

fn field_changes(subject: &Subject, old: &Field, new: &Field, changes: &mut Vec<Change>) {
    if old.ty != new.ty {
        changes.push(Change::Retyped {
            subject: subject.clone(),
            old: old.ty.clone(),
            new: new.ty.clone(),
        });
    }
    if old.required != new.required {
        changes.push(Change::RequiredChanged {
            subject: subject.clone(),
            required: new.required,
        });
    }
    let empty = BTreeSet::new();
    let old_values = old.enum_values.as_ref().unwrap_or(&empty);
    let new_values = new.enum_values.as_ref().unwrap_or(&empty);
    let added: Vec<String> = new_values.difference(old_values).cloned().collect();
    let removed: Vec<String> = old_values.difference(new_values).cloned().collect();
    if !added.is_empty() {
        changes.push(Change::EnumValuesAdded {
            subject: subject.clone(),
            values: added,
        });
    }
    if !removed.is_empty() {
        changes.push(Change::EnumValuesRemoved {
            subject: subject.clone(),
            values: removed,
        });
    }
}

/// Whether `subject` is a field nested inside the field `parent` of the same body.
fn is_inside(subject: &Subject, parent: &Subject) -> bool {
    match (subject, parent) {
        (
            Subject::Field { body, path },
            Subject::Field {
                body: parent_body,
                path: parent_path,
            },
        ) if body == parent_body => {
            if parent_path.is_empty() {
                return !path.is_empty();
            }
            path.strip_prefix(parent_path.as_str())
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        }
        _ => false,
    }
}
