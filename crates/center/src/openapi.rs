//! The OpenAPI 3.1 document, generated from the route table and the error codes: a route added
//! to [`crate::routes::ROUTES`] appears here without another edit, with who may call it (from
//! the policy's answer for each role) and the errors it can give.

use serde_json::{Map, Value, json};

use crate::error::CODES;
use crate::policy::{self, Credential, Principal, Role};
use crate::routes::ROUTES;

/// Which roles the policy lets call `action` (with a session), or "public".
fn audience(action: policy::Action) -> Vec<&'static str> {
    if policy::is_public(action) {
        return vec!["public"];
    }
    Role::ALL
        .into_iter()
        .filter(|role| {
            let p = Principal {
                user_id: String::new(),
                name: String::new(),
                role: *role,
                organisation: role.is_member().then(String::new),
                must_change_password: false,
                credential: Credential::Session,
            };
            policy::decide(Some(&p), action).is_ok()
        })
        .map(Role::as_str)
        .collect()
}

pub fn document() -> Value {
    let mut paths = Map::new();
    // The console's pages are HTML for browsers, not part of the API.
    for route in ROUTES.iter().filter(|r| !r.page) {
        let who = audience(route.action);
        let public = who == ["public"];
        let mut op = json!({
            "operationId": format!("{:?}", route.action),
            "summary": route.summary,
            "description": format!("{} / {}. Allowed: {}.", route.summary, route.summary_zh, who.join(", ")),
            "x-roles": who,
            "responses": {
                "default": {
                    "description": "An error: a stable `code` and a message in English and 中文",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                },
                "2XX": {
                    "description": "Success",
                    "content": route.produces.iter().map(|m| (m.to_string(), json!({}))).collect::<serde_json::Map<_, _>>()
                }
            }
        });
        if !public {
            op["security"] = json!([{ "session": [] }, { "token": [] }]);
        }
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        if !params.is_empty() {
            op["parameters"] = json!(params);
        }
        if route.body {
            op["requestBody"] = json!({
                "required": false,
                "content": { "application/json": { "schema": { "type": "object" } } }
            });
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = op;
    }
    let codes: Vec<Value> = CODES.iter().map(|(c, _)| json!(c)).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Touchstone center API / 试金石评测中心接口",
            "version": touchstone_engine::config::TOUCHSTONE_VERSION,
            "description": "Accounts, organisations, models, runs as jobs, results and the audit trail. Errors are JSON: {\"error\": {\"code\", \"message\", \"message_zh\", \"location\"}}."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": crate::exchange::SESSION_COOKIE },
                "token": { "type": "http", "scheme": "bearer" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "message_zh"],
                            "properties": {
                                "code": { "type": "string", "enum": codes },
                                "message": { "type": "string" },
                                "message_zh": { "type": "string" },
                                "location": { "type": "string" }
                            }
                        }
                    }
                }
            }
        }
    })
}
