//! The OpenAPI 3.1 document for `/api/v1`. Written out rather than derived:
//! the response types live in library crates that should not depend on an
//! OpenAPI generator, and a test checks that every API route is documented.

pub(crate) mod bounds;
mod parts;
mod report;
mod scan;

use parts::{body, enum_query, int_query, object, op, path, query, strings};
use report::{report_ops, report_schemas};
use scan::{scan_ops, scan_schemas};
use serde_json::{Value, json};

/// `at` of `/pivot`: a year, a month or a real day (29 February, valid in
/// leap years only, is left to the handler).
const AT_PATTERN: &str = "^[0-9]{4}(-(0[1-9]|1[0-2])|-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|-(0[13-9]|1[0-2])-(29|30)|-(0[13578]|1[02])-31)?$";

/// `GET /api/v1/feeds`, with its answer's exact shape.
/// `/metrics`: Prometheus' text format, not JSON.
fn metrics_op() -> Value {
    let mut m = op(
        "The server's counters in Prometheus' text format: responses by class and duration, requests in flight, store generation, hunt index size, caches",
        "reader",
        json!([]),
        "Prometheus text format 0.0.4",
    );
    m["responses"]["200"]["content"] = json!({ "text/plain": { "schema": { "type": "string" } } });
    m
}

fn feeds_op() -> Value {
    let mut f = op(
        "Feed subscriptions with their last run: status, added/changed/withdrawn counts, validators, error",
        "analyst",
        json!([]),
        "Feeds",
    );
    let text = json!({ "type": "string" });
    let maybe = json!({ "type": ["string", "null"] });
    let count = json!({ "type": "integer", "minimum": 0 });
    let feed = json!({
        "type": "object",
        "required": ["name", "kind", "url", "last_run", "status", "added", "changed", "withdrawn", "error",
                     "every", "next_due", "enabled", "etag", "last_modified", "cursor", "config", "created_at"],
        "properties": {
            "name": text, "kind": { "type": "string", "enum": ["stix", "file", "taxii", "misp-feed", "csv", "list"] },
            "url": text, "last_run": maybe,
            "status": { "type": "string", "enum": ["ok", "not-modified", "failed", "never"] },
            "added": count, "changed": count, "withdrawn": count, "error": maybe,
            "every": { "type": "integer", "minimum": 1 }, "next_due": maybe, "enabled": { "type": "boolean" },
            "etag": maybe, "last_modified": maybe, "cursor": maybe,
            "config": { "type": "object" }, "created_at": text
        }
    });
    f["responses"]["200"]["content"]["application/json"]["schema"] = json!({
        "type": "object",
        "required": ["feeds"],
        "properties": { "feeds": { "type": "array", "items": feed } }
    });
    f
}

/// `GET /api/v1/export/{format}`: a file, not JSON (but Suricata's listing).
fn export_op() -> Value {
    let mut e = op(
        "The store's indicators for a sensor (Zeek Intel, Suricata datasets, RPZ, CSV, ECS NDJSON); warninglisted values never included",
        "reader",
        json!([
            path(
                "format",
                "zeek-intel, suricata-dataset, rpz, csv, ecs-ndjson",
                "string"
            ),
            query(
                "tlp_max",
                "Highest TLP exported (default amber; capped at amber for readers)",
                false,
                "string"
            ),
            query(
                "actor",
                "Only this actor's indicators (any vendor's name)",
                false,
                "string"
            ),
            query(
                "since",
                "Only indicators added or changed since (RFC 3339, date, epoch seconds)",
                false,
                "string"
            ),
            query(
                "url_base",
                "Web app address for links back to indicator pages (default the server's)",
                false,
                "string"
            ),
            query(
                "file",
                "suricata-dataset: one file of the export (without it: the list of files)",
                false,
                "string"
            )
        ]),
        "The export",
    );
    // The formats as an enum, so clients (and schemathesis) know the values
    // that reach an export rather than its 404. (`tlp_max` takes several
    // spellings of each level: no enum.)
    e["parameters"][0]["schema"]["enum"] = cairn_export::sensors::SensorFormat::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    e["responses"]["200"]["content"] = json!({
        "text/plain": { "schema": { "type": "string" } },
        "text/csv": { "schema": { "type": "string" } },
        "application/x-ndjson": { "schema": { "type": "string" } },
        "application/json": { "schema": { "type": "object" } }
    });
    e
}

/// The actor path parameter of the infra operations, with an example the
/// interop store holds (so schemathesis reaches past the 404).
fn actor_param() -> Value {
    let mut p = path(
        "actor",
        "Any vendor's name, an ATT&CK id (G1006) or a STIX id",
        "string",
    );
    p["example"] = json!("RedHotel");
    p
}

/// `GET /api/v1/infra/{actor}` and `POST /api/v1/infra/{actor}/score`,
/// with their answers' exact shapes (`cairn infra --json`'s).
fn infra_ops() -> (Value, Value) {
    let text = json!({ "type": "string" });
    let num = json!({ "type": "number" });
    let count = json!({ "type": "integer", "minimum": 0 });
    let habit = object(
        &[
            "feature",
            "value",
            "count",
            "share",
            "population_share",
            "weight",
        ],
        json!({ "feature": text, "value": text, "count": count, "share": num,
                "population_share": num, "weight": num }),
    );
    let value = object(
        &["value", "kind", "roles", "sources"],
        json!({ "value": text, "kind": { "type": "string", "enum": ["domain", "ipv4", "ipv6"] },
                "roles": strings(), "sources": strings() }),
    );
    let mut get = op(
        "An actor's infrastructure: its domains and addresses with their sources, and its distinctive habits with weights (`cairn infra ACTOR --json`)",
        "reader",
        json!([actor_param()]),
        "{actor, registered_domains, addresses, habits[], registered, registrars[], name_servers[], values[], tiers[]}",
    );
    let reason = object(
        &[
            "infrastructure_type",
            "basis",
            "weight",
            "reason",
            "sources",
            "tlp",
        ],
        json!({ "infrastructure_type": text,
                "basis": { "type": "string", "enum": ["stated", "certificate", "inherited", "self-signed", "behaviour"] },
                "weight": num, "reason": text, "sources": strings(), "tlp": text }),
    );
    let when = json!({ "type": ["string", "null"] });
    let tier = object(
        &[
            "value",
            "kind",
            "types",
            "reasons",
            "first_seen",
            "last_seen",
            "lifetime",
            "tlp",
        ],
        json!({ "value": text, "kind": { "type": "string", "enum": ["domain", "ipv4", "ipv6"] },
                "types": strings(), "reasons": { "type": "array", "items": reason },
                "first_seen": when, "last_seen": when,
                "lifetime": { "type": ["string", "null"], "enum": ["short-lived", "months", "long-lived", null] },
                "tlp": text }),
    );
    get["responses"]["200"]["content"]["application/json"]["schema"] = object(
        &[
            "actor",
            "registered_domains",
            "addresses",
            "habits",
            "registered",
            "registrars",
            "name_servers",
            "values",
            "tiers",
        ],
        json!({ "actor": text, "registered_domains": count, "addresses": count,
                "habits": { "type": "array", "items": habit },
                "registered": count,
                "registrars": { "type": "array", "items": habit },
                "name_servers": { "type": "array", "items": habit },
                "values": { "type": "array", "items": value },
                "tiers": { "type": "array", "items": tier } }),
    );
    let contribution = object(
        &["feature", "value", "weight"],
        json!({ "feature": text, "value": text, "weight": num }),
    );
    let scored = object(
        &["value", "type", "score", "contributions"],
        json!({ "value": text, "type": { "type": "string", "enum": ["domain", "ipv4", "ipv6"] },
                "score": num, "contributions": { "type": "array", "items": contribution } }),
    );
    let mut post = op(
        "Score candidate domains and addresses by how much they look like the actor's, each score the sum of readable contributions (`cairn infra score --json`)",
        "reader",
        json!([actor_param()]),
        "One object per candidate, highest first; values that are neither a domain nor an address are left out",
    );
    body(
        &mut post,
        "application/json",
        "{values: [domain or address, …]}",
    );
    post["requestBody"]["content"]["application/json"]["schema"] = object(
        &["values"],
        json!({ "values": { "type": "array", "maxItems": bounds::MAX_SCORE_VALUES,
                            "items": { "type": "string", "maxLength": bounds::MAX_VALUE } } }),
    );
    post["requestBody"]["content"]["application/json"]["example"] =
        json!({ "values": ["kb.dga.asia", "45.77.153.197", "example.com"] });
    post["responses"]["200"]["content"]["application/json"]["schema"] =
        json!({ "type": "array", "items": scored });
    (get, post)
}

/// `GET /api/v1/pivot`, with its answer's exact shape (`cairn pivot --json`'s).
fn pivot_op() -> Value {
    let text = json!({ "type": "string" });
    let maybe = json!({ "type": ["string", "null"] });
    let count = json!({ "type": "integer", "minimum": 0 });
    let actor = object(
        &["name", "sources"],
        json!({ "name": text, "sources": strings() }),
    );
    let node = object(
        &[
            "value",
            "type",
            "actors",
            "first_seen",
            "last_seen",
            "sources",
            "path",
        ],
        json!({ "value": text, "type": text, "actors": { "type": "array", "items": actor },
                "first_seen": maybe, "last_seen": maybe, "sources": strings(), "path": strings() }),
    );
    let edge = object(
        &[
            "from",
            "to",
            "kind",
            "first_seen",
            "last_seen",
            "count",
            "sources",
        ],
        json!({ "from": text, "to": text, "kind": text, "first_seen": maybe, "last_seen": maybe,
                "count": { "type": "integer" }, "sources": strings() }),
    );
    let damped = object(
        &["value", "fan_out"],
        json!({ "value": text, "fan_out": count }),
    );
    let mut p = op(
        "Walk the observations (passive DNS, TLS) outwards from a value within a budget, damping common values (shared hosting, CDNs, warninglisted); each node with its path and the actors linked to it (`cairn pivot --json`)",
        "reader",
        json!([
            { "name": "value", "in": "query", "required": true,
              "description": "Domain, address or certificate to start from (blank: nothing reached)",
              "schema": { "type": "string", "maxLength": bounds::MAX_VALUE }, "example": "kb.dga.asia" },
            int_query("depth", "Hops from the value", bounds::PIVOT_DEPTH),
            int_query("budget", "Most values reported", bounds::PIVOT_BUDGET),
            int_query("max_fan_out", "Neighbours above which a value is common and not expanded", bounds::PIVOT_FAN_OUT),
            query("expand_common", "Expand common and warninglisted values too", false, "boolean"),
            { "name": "at", "in": "query", "required": false,
              "description": "Only edges seen then: YYYY, YYYY-MM or YYYY-MM-DD (UTC)",
              "schema": { "type": "string", "pattern": AT_PATTERN } }
        ]),
        "{nodes[], edges[], damped[]}: nothing when the value is neither observed nor an indicator",
    );
    p["responses"]["200"]["content"]["application/json"]["schema"] = object(
        &["nodes", "edges", "damped"],
        json!({ "nodes": { "type": "array", "items": node }, "edges": { "type": "array", "items": edge },
                "damped": { "type": "array", "items": damped } }),
    );
    p
}

/// Operations that answer 501 on a PostgreSQL store (the engines they
/// call read the embedded store's tables); `.ci/interop.sh` allows that
/// status for them, and only them, when it runs schemathesis against a
/// PostgreSQL-backed server.
const EMBEDDED_ONLY: [(&str, &str); 9] = [
    ("/api/v1/actors/{name}/stix", "get"),
    ("/api/v1/attribute", "post"),
    ("/api/v1/attribute/report", "post"),
    ("/api/v1/extract", "post"),
    ("/api/v1/infra/{actor}", "get"),
    ("/api/v1/infra/{actor}/score", "post"),
    ("/api/v1/pivot", "get"),
    ("/api/v1/scan", "post"),
    ("/api/v1/cert/{query}", "get"),
];

/// The document served at `/api/v1/openapi.json`.
pub(crate) fn document() -> Value {
    let name = || {
        path(
            "name",
            "Any vendor's name, an ATT&CK id (G1006) or a STIX id",
            "string",
        )
    };
    let mut attribute = op(
        "Rank the actor clusters behind an intrusion, with reasons",
        "reader",
        json!([int_query(
            "top",
            "Candidates to explain (default 10)",
            bounds::TOP
        )]),
        "Ranking: candidates with score, confidence band and per-evidence contributions",
    );
    body(
        &mut attribute,
        "application/json",
        "Evidence {techniques, software, indicators, countries, sectors, when} (each list may be one string) or an ATT&CK Navigator layer",
    );
    let list = json!({ "type": ["array", "string", "null"], "items": { "type": "string" } });
    // At least one kind of evidence, not empty.
    let some = |k: &str| json!({ "required": [k], "properties": { k: { "type": ["array", "string"], "minItems": 1 } } });
    attribute["requestBody"]["content"]["application/json"]["schema"] = json!({
        "type": "object",
        "anyOf": [some("techniques"), some("software"), some("indicators"), some("countries"), some("sectors")],
        "properties": {
            "techniques": list, "software": list, "indicators": list,
            "countries": list, "sectors": list,
            "when": { "type": ["string", "null"] }
        }
    });
    let mut hunt = op(
        "Hunt the store's active indicators through one log",
        "analyst",
        json!([
            query(
                "name",
                "File name (helps format detection)",
                false,
                "string"
            ),
            query("record", "Write hits back as sightings", false, "boolean")
        ]),
        "Every hit counted (`hits`, `indicators`, `by_actor`) and the first `alert_limit` alerts in line order (`truncated` when there were more), each as `cairn hunt --json` prints it: file, line, field, value, ts, indicator, actors, families, roles, confidence, first_seen, last_seen, sources, stix_ids",
    );
    body(
        &mut hunt,
        "application/octet-stream",
        "The log: Zeek TSV/JSON, JSON lines, CSV, text; gzip or zstd (empty: nothing to hunt)",
    );
    hunt["requestBody"]["required"] = json!(false);
    let mut ingest = op(
        "Ingest one intel file (one transaction)",
        "analyst",
        json!([
            query("name", "File name", false, "string"),
            query("source", "Source name", false, "string"),
            enum_query(
                "format",
                "File format (blank: auto)",
                &["", "auto", "stix", "misp-galaxy", "misp-event", "misp-warninglist", "csv", "list", "text"]
            ),
            enum_query(
                "tlp",
                "Marking for statements without one (blank: the file's own)",
                &["", "clear", "green", "amber", "amber+strict", "red"]
            ),
            query(
                "actor",
                "Actor the file's indicators belong to; `auto` (reports only): the group the report names, else the best inferred candidate, whose confidence the statements get unless `confidence` is given (the answer's `actor_choice` says which and why)",
                false,
                "string"
            ),
            { "name": "confidence", "in": "query", "required": false, "description": "Confidence for statements without one",
              "schema": { "type": "integer", "minimum": 0, "maximum": 100 } },
            query("reference", "URL", false, "string")
        ]),
        "Ingest report: added, changed, withdrawn",
    );
    body(&mut ingest, "application/octet-stream", "The file");
    let mut create = op(
        "Create a token (shown once)",
        "admin",
        json!([]),
        "The secret and its listing",
    );
    body(
        &mut create,
        "application/json",
        "{name, role: reader|analyst|admin}",
    );
    create["requestBody"]["content"]["application/json"]["schema"] = json!({
        "type": "object",
        "required": ["name", "role"],
        "properties": {
            "name": { "type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$", "description": "Not blank, no control characters; never used before" },
            "role": { "type": "string", "enum": ["reader", "analyst", "admin"] }
        }
    });
    create["responses"]["201"] = create["responses"]["200"].take();
    if let Some(r) = create["responses"].as_object_mut() {
        r.remove("200");
        // The body is read after the role is checked: 415 without JSON, 422 for JSON of the wrong shape.
        r.insert(
            "415".into(),
            json!({ "$ref": "#/components/responses/Error" }),
        );
        r.insert(
            "422".into(),
            json!({ "$ref": "#/components/responses/Error" }),
        );
        r.insert(
            "409".into(),
            json!({ "$ref": "#/components/responses/Error" }),
        );
    }
    let (infra, infra_score) = infra_ops();
    let (scan, cert) = scan_ops();
    let (extract, attribute_report) = report_ops();
    let mut openapi = op("This document", "none", json!([]), "OpenAPI 3.1");
    openapi["security"] = json!([]);
    openapi["description"] = json!("Open to every caller.");

    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Cairn API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Threat intelligence with provenance. Every call needs `Authorization: Bearer <token>` (create one with `cairn token create`). Readers never receive statements marked TLP:RED or TLP:AMBER+STRICT. TAXII 2.1 lives under /taxii2/."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                },
                "NotOnPostgres": {
                    "description": "The server's store is PostgreSQL, and this operation runs on the embedded store only (for now)",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                },
                "Unauthorized": {
                    "description": "No valid token",
                    "headers": { "WWW-Authenticate": { "description": "`Bearer realm=\"cairn\"`", "schema": { "type": "string" } } },
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": { "error": { "type": "string" }, "status": { "type": "integer" } }
                }
            }
        },
        "paths": {
            "/api/v1/openapi.json": { "get": openapi },
            "/api/v1/stats": { "get": op("What the store holds, by source; the hunt index", "reader", json!([]), "Counts") },
            "/metrics": { "get": metrics_op() },
            "/api/v1/search": { "get": op("Ranked search over names, aliases, descriptions", "reader",
                json!([query("q", "Text", true, "string"), int_query("limit", "Max results", bounds::SEARCH_LIMIT)]), "Results") },
            "/api/v1/actors/{name}": { "get": op("An actor's profile across sources, with conflicts", "reader", json!([name()]), "Profile (docs/actor-profile.md)") },
            "/api/v1/actors/{name}/indicators": { "get": op("An actor's indicators with roles and provenance", "reader",
                json!([name(), int_query("limit", "Max rows", bounds::INDICATOR_LIMIT)]), "Indicators and total") },
            "/api/v1/actors/{name}/stix": { "get": op("STIX 2.1 bundle of the actor's subgraph", "reader", json!([name()]), "STIX 2.1 bundle") },
            "/api/v1/actors/{name}/navigator": { "get": op("ATT&CK Navigator layer of the actor's techniques", "reader", json!([name()]), "Navigator layer") },
            "/api/v1/indicators/lookup": { "get": op("Is this value a known indicator? (exact, subdomain, CIDR, URL host)", "reader",
                json!([{ "name": "value", "in": "query", "required": true, "description": "Domain, IP, URL, hash, e-mail, … (blank finds nothing)",
                    "schema": { "type": "string", "maxLength": bounds::MAX_VALUE } }]), "{value, found, matches[]}") },
            "/api/v1/indicators/{key}/sightings": { "get": op("An indicator's context and recorded sightings", "reader",
                json!([{ "name": "key", "in": "path", "required": true, "description": "Indicator key from a lookup",
                    "schema": { "type": "integer", "minimum": 0, "maximum": u32::MAX } }]), "Context and sightings") },
            "/api/v1/attribute": { "post": attribute },
            "/api/v1/attribute/report": { "post": attribute_report },
            "/api/v1/extract": { "post": extract },
            "/api/v1/hunt": { "post": hunt },
            "/api/v1/ingest": { "post": ingest },
            "/api/v1/feeds": { "get": feeds_op() },
            "/api/v1/tokens": {
                "get": op("List tokens (never their secrets)", "admin", json!([]), "Tokens"),
                "post": create
            },
            "/api/v1/tokens/{name}": { "delete": op("Revoke a token", "admin", json!([path("name", "Token name", "string")]), "Revoked") },
            "/api/v1/export/{format}": { "get": export_op() },
            "/api/v1/infra/{actor}": { "get": infra },
            "/api/v1/infra/{actor}/score": { "post": infra_score },
            "/api/v1/pivot": { "get": pivot_op() },
            "/api/v1/scan": { "post": scan },
            "/api/v1/cert/{query}": { "get": cert }
        }
    });
    for (path, method) in EMBEDDED_ONLY {
        let op = &mut doc["paths"][path][method];
        op["responses"]["501"] = json!({ "$ref": "#/components/responses/NotOnPostgres" });
        op["x-needs-embedded-store"] = json!(true);
    }
    for more in [scan_schemas(), report_schemas()] {
        if let (Some(into), Value::Object(more)) =
            (doc["components"]["schemas"].as_object_mut(), more)
        {
            into.extend(more);
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_api_route_is_documented() {
        let doc = super::document();
        let paths = doc["paths"].as_object().expect("paths");
        let source = [
            include_str!("api.rs"),
            include_str!("export_api.rs"),
            include_str!("infra_api.rs"),
            include_str!("scan_api.rs"),
            include_str!("report_api.rs"),
            include_str!("metrics.rs"),
        ]
        .concat();
        let mut routes = 0;
        for line in source.lines() {
            let line = line.trim();
            if let Some((_, rest)) = line.split_once(".route(\"") {
                let route = rest.split('"').next().unwrap_or_default();
                routes += 1;
                assert!(paths.contains_key(route), "{route} is not in openapi.json");
            }
        }
        assert_eq!(routes, paths.len(), "documented paths that are not routes");
    }

    #[test]
    fn operations_on_the_embedded_store_only_document_501() {
        let doc = super::document();
        for (path, method) in super::EMBEDDED_ONLY {
            let op = &doc["paths"][path][method];
            assert!(
                op["responses"]["200"].is_object(),
                "{method} {path} is no operation"
            );
            assert!(op["responses"]["501"].is_object(), "{method} {path}");
        }
        let marked = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|ops| ops.as_object().unwrap().values())
            .filter(|op| op["x-needs-embedded-store"] == true)
            .count();
        assert_eq!(marked, super::EMBEDDED_ONLY.len());
    }
}
