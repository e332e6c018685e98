//! Builders for the document's pieces: operations, parameters, bodies,
//! schemas.

use serde_json::{Value, json};

pub(super) fn op(summary: &str, role: &str, params: Value, response: &str) -> Value {
    let err = || json!({ "$ref": "#/components/responses/Error" });
    json!({
        "summary": summary,
        "description": format!("Needs the `{role}` role (or anonymous read, where the server allows it, for reader calls)."),
        "parameters": params,
        "responses": {
            "200": { "description": response, "content": { "application/json": { "schema": { "type": "object" } } } },
            "400": err(),
            "401": { "$ref": "#/components/responses/Unauthorized" },
            "403": err(),
            "404": err(),
            "408": err(),
            "413": err(),
            "429": err(),
            "500": err()
        }
    })
}

/// An integer query parameter with the bounds the handler enforces.
pub(super) fn int_query(name: &str, desc: &str, (min, max, default): (u64, u64, u64)) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc,
            "schema": { "type": "integer", "minimum": min, "maximum": max, "default": default } })
}

pub(super) fn query(name: &str, desc: &str, required: bool, ty: &str) -> Value {
    json!({ "name": name, "in": "query", "required": required, "description": desc, "schema": { "type": ty } })
}

pub(super) fn enum_query(name: &str, desc: &str, values: &[&str]) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "string", "enum": values } })
}

pub(super) fn path(name: &str, desc: &str, ty: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": desc, "schema": { "type": ty } })
}

pub(super) fn body(op: &mut Value, media: &str, desc: &str) {
    op["requestBody"] =
        json!({ "required": true, "description": desc, "content": { media: { "schema": {} } } });
}

pub(super) fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

pub(super) fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

/// `{"$ref": "#/components/schemas/<name>"}`.
pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}
