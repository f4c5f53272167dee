//! PlanetScale's OpenAPI specification (`../shared/planetscale-api/openapi.yaml`, or
//! `PSWATCH_OPENAPI`): its operations' answers, and what in a value their schema refuses.

use std::path::PathBuf;

use serde_json::{Map, Value};

/// Fields the specification calls required and not nullable that a real answer leaves null
/// until someone acts: who did a workflow's step (`cutover_by`, `completed_by`, … every
/// `…_by`), before anyone has, and its global keyspace when it has none. A null there is
/// taken as the API gives it.
fn null_in_practice(field: &str) -> bool {
    field.ends_with("_by") || field == "global_keyspace"
}

/// The specification, if the file is there.
pub fn specification() -> Option<Value> {
    let path = std::env::var_os("PSWATCH_OPENAPI").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/planetscale-api/openapi.yaml"),
        PathBuf::from,
    );
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_yaml::from_str(&text).expect("openapi.yaml is YAML"))
}

/// The path and the 200 answer's schema of operation `id`.
pub fn operation(spec: &Value, id: &str) -> (String, Value) {
    for (path, methods) in spec["paths"].as_object().expect("paths") {
        for operation in methods.as_object().into_iter().flat_map(Map::values) {
            if operation["operationId"] == id {
                let schema =
                    operation["responses"]["200"]["content"]["application/json"]["schema"].clone();
                return (path.clone(), schema);
            }
        }
    }
    panic!("no operation {id} in the specification");
}

/// What `value` breaks of `schema` (OpenAPI 3.0: `type`, `nullable`, `enum`, `properties`,
/// `required`, `items`), each named by its place (`data[0].state`); empty when it conforms.
pub fn problems(value: &Value, schema: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    if value.is_null() {
        let field = at.rsplit('.').next().unwrap_or(at);
        if schema["nullable"] != true && schema.get("type").is_some() && !null_in_practice(field) {
            found.push(format!("{at}: null, not nullable"));
        }
        return found;
    }
    let kind_ok = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !kind_ok {
        found.push(format!("{at}: {value} is not of type {}", schema["type"]));
        return found;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            found.push(format!("{at}: {value} is not one of {}", schema["enum"]));
        }
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object())
    {
        for required in schema["required"].as_array().into_iter().flatten() {
            if let Some(name) = required.as_str() {
                if !object.contains_key(name) {
                    found.push(format!("{at}: `{name}` is missing"));
                }
            }
        }
        for (name, property) in properties {
            if let Some(inner) = object.get(name) {
                found.extend(problems(inner, property, &format!("{at}.{name}")));
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            found.extend(problems(item, schema, &format!("{at}[{index}]")));
        }
    }
    found
}
