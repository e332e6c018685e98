//! The OpenAPI 3.1 document for `/api/v1`. Written out rather than derived:
//! the response types live in library crates that should not depend on an
//! OpenAPI generator, and a test checks that every API route is documented.

use serde_json::{Value, json};

/// The bounds of the API's integer parameters, as the OpenAPI document
/// declares them: a value outside is a 400, never silently clamped.
pub(crate) mod bounds {
    /// `limit` of `/search`.
    pub(crate) const SEARCH_LIMIT: (u64, u64, u64) = (1, 200, 20);
    /// `limit` of `/actors/{name}/indicators`.
    pub(crate) const INDICATOR_LIMIT: (u64, u64, u64) = (1, 10_000, 500);
    /// `top` of `/attribute`.
    pub(crate) const TOP: (u64, u64, u64) = (1, 50, 10);
    /// Longest `value` a lookup takes, in characters: percent-encoded it
    /// stays under the HTTP stack's URI limit (64 KiB), which answers 414.
    pub(crate) const MAX_VALUE: usize = 4096;
    /// `depth` of `/pivot` (hops from the start value).
    pub(crate) const PIVOT_DEPTH: (u64, u64, u64) = (0, 4, 2);
    /// `budget` of `/pivot` (most values reported).
    pub(crate) const PIVOT_BUDGET: (u64, u64, u64) = (1, 2000, 200);
    /// `max_fan_out` of `/pivot` (neighbours above which a value is common).
    pub(crate) const PIVOT_FAN_OUT: (u64, u64, u64) = (1, 10_000, 50);
    /// Most candidates one `/infra/{actor}/score` request scores.
    pub(crate) const MAX_SCORE_VALUES: usize = 1000;
    /// Longest `name` a scanned upload takes, in characters.
    pub(crate) const MAX_FILE_NAME: usize = 255;
    /// `samples` of `/cert/{query}` (samples listed at most).
    pub(crate) const CERT_SAMPLES: (u64, u64, u64) = (0, 1000, 20);
}

/// `at` of `/pivot`: a year, a month or a real day (29 February, valid in
/// leap years only, is left to the handler).
const AT_PATTERN: &str = "^[0-9]{4}(-(0[1-9]|1[0-2])|-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|-(0[13-9]|1[0-2])-(29|30)|-(0[13578]|1[02])-31)?$";

fn op(summary: &str, role: &str, params: Value, response: &str) -> Value {
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
fn int_query(name: &str, desc: &str, (min, max, default): (u64, u64, u64)) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc,
            "schema": { "type": "integer", "minimum": min, "maximum": max, "default": default } })
}

fn query(name: &str, desc: &str, required: bool, ty: &str) -> Value {
    json!({ "name": name, "in": "query", "required": required, "description": desc, "schema": { "type": ty } })
}

fn enum_query(name: &str, desc: &str, values: &[&str]) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "string", "enum": values } })
}

fn path(name: &str, desc: &str, ty: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": desc, "schema": { "type": ty } })
}

fn body(op: &mut Value, media: &str, desc: &str) {
    op["requestBody"] =
        json!({ "required": true, "description": desc, "content": { media: { "schema": {} } } });
}

/// `GET /api/v1/feeds`, with its answer's exact shape.
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

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
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

/// `{"$ref": "#/components/schemas/<name>"}`.
fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The schemas of a scan's findings and a certificate's report (the JSON of
/// `cairn scan --json` and `cairn cert --json`, made by `cairn_engine`):
/// `Finding`, `Match`, `SignatureSummary`, `RuleHit`, `ActorLink`,
/// `Provenance`, `CertReport`, `CertStatement`, `CertSample`, `RelatedCert`.
fn scan_schemas() -> Value {
    let text = json!({ "type": "string" });
    let maybe = json!({ "type": ["string", "null"] });
    let count = json!({ "type": "integer", "minimum": 0 });
    let maybe_bool = json!({ "type": ["boolean", "null"] });
    // What a source says of a certificate (`x_cairn_certificate`): its own
    // JSON, kept as given (lists write objects; a STIX producer may not).
    let anything = json!({ "type": ["object", "array", "string", "number", "boolean"] });
    let tlp = json!({ "type": "string",
        "enum": ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"] });
    let provenance = object(
        &[
            "source",
            "reference",
            "first_seen",
            "last_seen",
            "confidence",
            "tlp",
        ],
        json!({ "source": text, "reference": maybe, "first_seen": maybe, "last_seen": maybe,
                "confidence": { "type": ["integer", "null"], "minimum": 0 }, "tlp": tlp }),
    );
    let actor = object(
        &["name", "aliases", "via"],
        json!({ "name": text, "aliases": strings(),
                "via": { "type": "string", "pattern": "^(indicated|uses .+)$",
                         "description": "`indicated` (a source links the value to the actor) or `uses <family>`" } }),
    );
    let signature = object(
        &[
            "index",
            "nested_in",
            "serial",
            "thumbprint_sha1",
            "thumbprint_sha256",
            "subject",
            "issuer",
            "not_before",
            "not_after",
            "signing_time",
            "signing_time_source",
            "digest_algorithm",
            "digest_ok",
            "code_signing",
        ],
        json!({ "index": count, "nested_in": { "type": ["integer", "null"], "minimum": 0 },
                "serial": maybe, "thumbprint_sha1": maybe, "thumbprint_sha256": maybe,
                "subject": maybe, "issuer": maybe, "not_before": maybe, "not_after": maybe,
                "signing_time": maybe,
                "signing_time_source": { "type": ["string", "null"],
                                         "enum": ["rfc3161", "counter-signature", "claimed", null] },
                "digest_algorithm": text, "digest_ok": maybe_bool, "code_signing": maybe_bool }),
    );
    let rule = object(
        &["rule", "namespace", "tags", "metadata"],
        json!({ "rule": text, "namespace": text, "tags": strings(), "metadata": { "type": "object" } }),
    );
    let matched = object(
        &[
            "value",
            "on",
            "strength",
            "confidence",
            "timing",
            "certificates",
            "families",
            "roles",
            "stix_ids",
            "rule",
        ],
        json!({ "value": text, "on": text,
                "strength": { "type": ["string", "null"],
                              "enum": ["thumbprint", "serial+issuer", "serial+subject", "serial",
                                       "serial, issuer differs", "serial, thumbprint differs", null] },
                "confidence": { "type": "integer", "minimum": 0, "maximum": 100 },
                "timing": maybe,
                "certificates": { "type": "array", "items": anything },
                "families": strings(), "roles": strings(), "stix_ids": strings(),
                "rule": { "oneOf": [schema_ref("RuleHit"), { "type": "null" }] } }),
    );
    let finding = object(
        &[
            "file",
            "sha256",
            "sha1",
            "md5",
            "size",
            "format",
            "kind",
            "signatures",
            "match",
            "actors",
            "sources",
            "notes",
            "error",
        ],
        json!({ "file": { "type": "string", "description": "The upload's name; `name!entry` inside a zip" },
                "sha256": maybe, "sha1": maybe, "md5": maybe, "size": count,
                "format": { "type": "string", "enum": ["pe32", "pe32+", "zip", "data"] },
                "kind": { "type": "string", "enum": ["certificate", "hash", "yara", "signed", "error"] },
                "signatures": { "type": "array", "items": schema_ref("SignatureSummary") },
                "match": { "oneOf": [schema_ref("Match"), { "type": "null" }] },
                "actors": { "type": "array", "items": schema_ref("ActorLink") },
                "sources": { "type": "array", "items": schema_ref("Provenance") },
                "notes": strings(), "error": maybe }),
    );
    let statement = object(
        &[
            "stix_id",
            "source",
            "reference",
            "tlp",
            "labels",
            "families",
            "certificate",
        ],
        json!({ "stix_id": text, "source": text, "reference": maybe, "tlp": tlp,
                "labels": strings(), "families": strings(),
                "certificate": { "type": ["object", "array", "string", "number", "boolean", "null"] } }),
    );
    let sample = object(
        &["kind", "value", "source"],
        json!({ "kind": text, "value": text, "source": text }),
    );
    let report = object(
        &[
            "query",
            "serials",
            "thumbprints_sha1",
            "thumbprints_sha256",
            "subjects",
            "issuers",
            "statements",
            "actors",
            "samples",
            "related",
        ],
        json!({ "query": text, "serials": strings(), "thumbprints_sha1": strings(),
                "thumbprints_sha256": strings(), "subjects": strings(), "issuers": strings(),
                "statements": { "type": "array", "minItems": 1, "items": schema_ref("CertStatement") },
                "actors": { "type": "array", "items": schema_ref("ActorLink") },
                "samples": { "type": "array", "items": schema_ref("CertSample") },
                "related": { "type": "array", "items": schema_ref("RelatedCert") } }),
    );
    let related = object(
        &["serial", "subject", "source", "why"],
        json!({ "serial": text, "subject": maybe, "source": text,
                "why": { "type": "string", "enum": ["same public key", "same subject"] } }),
    );
    json!({
        "Provenance": provenance, "ActorLink": actor, "SignatureSummary": signature,
        "RuleHit": rule, "Match": matched, "Finding": finding,
        "CertStatement": statement, "CertSample": sample, "CertReport": report,
        "RelatedCert": related
    })
}

/// `POST /api/v1/scan` and `GET /api/v1/cert/{query}`.
fn scan_ops() -> (Value, Value) {
    let count = json!({ "type": "integer", "minimum": 0 });
    let mut scan = op(
        "Scan one file (a zip's entries too) against the store: its hashes and Authenticode hash, its signers' certificates (thumbprint, or serial confirmed by issuer or subject, with the signing time against the stated compromise date), the actors they point to (`cairn scan --json`'s findings)",
        "analyst",
        json!([
            { "name": "name", "in": "query", "required": false,
              "description": "The file's name, shown in findings (`name!entry` inside a zip; blank: `upload`)",
              "schema": { "type": "string", "maxLength": bounds::MAX_FILE_NAME }, "example": "setup.exe" },
            query("record", "Write matches back as sightings", false, "boolean")
        ]),
        "{file, findings[], summary, recorded}: one finding per match, a `signed` one for a signed file nothing matched, an `error` one for what could not be read",
    );
    body(
        &mut scan,
        "application/octet-stream",
        "The file's bytes (empty: an empty file); larger than the server's scan limit (32 MiB unless configured): 413",
    );
    scan["requestBody"]["required"] = json!(false);
    scan["responses"]["200"]["content"]["application/json"]["schema"] = object(
        &["file", "findings", "summary", "recorded"],
        json!({ "file": { "type": "string" },
                "findings": { "type": "array", "items": schema_ref("Finding") },
                "summary": object(&["files", "bytes", "signed", "matches", "unreadable"],
                    json!({ "files": count, "bytes": count, "signed": count, "matches": count,
                            "unreadable": count })),
                "recorded": count }),
    );
    let mut cert = op(
        "Everything the store says of one certificate: every source's statement, the actors it points to (directly or through families they use), samples seen signed with it (`cairn cert --json`); 404 when no statement names it",
        "reader",
        json!([
            { "name": "query", "in": "path", "required": true,
              "description": "A serial (hex, colon-separated, 0x…, or decimal) or a SHA-1/SHA-256 thumbprint",
              "schema": { "type": "string", "maxLength": bounds::MAX_VALUE },
              "example": "0b886032861d9553c68f803313a98975" },
            int_query("samples", "Samples listed at most", bounds::CERT_SAMPLES)
        ]),
        "The certificate's report",
    );
    cert["responses"]["200"]["content"]["application/json"]["schema"] = schema_ref("CertReport");
    (scan, cert)
}

/// The schemas of a report's reading and attribution (the JSON of `cairn
/// extract --json` and `cairn attribute --report --json`, made by
/// `cairn_engine`): `ExtractLine` (an `IndicatorLine` or a `FindingLine`),
/// `Occurrence`, `OccurrenceContext`, `Mention`, `ReportAttribution` and
/// what it holds.
fn report_schemas() -> Value {
    let text = json!({ "type": "string" });
    let maybe = json!({ "type": ["string", "null"] });
    let num = json!({ "type": "number" });
    let line = json!({ "type": "integer", "minimum": 1 });
    let count = json!({ "type": "integer", "minimum": 0 });
    let stance = json!({ "type": "string", "enum": ["asserted", "compared", "negated"] });
    let finding_kinds = &cairn_engine::LINE_KINDS[1..];
    let indicator_types: Vec<&str> = cairn_model::IndicatorKind::all()
        .iter()
        .map(|k| k.as_str())
        .collect();
    let context = object(
        &[
            "heading",
            "table_header",
            "role",
            "family",
            "first_seen",
            "last_seen",
        ],
        json!({ "heading": maybe, "table_header": maybe, "role": maybe, "family": maybe,
                "first_seen": maybe, "last_seen": maybe }),
    );
    let occurrence_fields = json!({
        "original": { "type": "string", "description": "As written (`kb.dga[.]asia`)" },
        "line": line, "column": line,
        "page": { "type": "integer", "minimum": 1, "description": "PDF page; absent for other formats" },
        "context": schema_ref("OccurrenceContext"),
        "rule": { "type": "string", "description": "The rule that typed an ambiguous form; absent when it has one reading" }
    });
    let occurrence = object(
        &["original", "line", "column", "context"],
        occurrence_fields.clone(),
    );
    let mut indicator_fields = json!({
        "kind": { "type": "string", "enum": ["indicator"] },
        "type": { "type": "string", "enum": indicator_types },
        "value": { "type": "string", "description": "Refanged and normalized" },
        "occurrences": { "type": "array", "minItems": 1, "items": schema_ref("Occurrence") },
        "suppressed": { "type": "string", "description": "Why the value was judged benign; absent for an indicator" }
    });
    if let (Some(into), Value::Object(first)) =
        (indicator_fields.as_object_mut(), occurrence_fields)
    {
        into.extend(first);
    }
    let indicator = object(
        &[
            "kind",
            "type",
            "value",
            "original",
            "line",
            "column",
            "context",
            "occurrences",
        ],
        indicator_fields,
    );
    let mention = object(
        &["sentence", "line", "text", "confidence", "rule", "stance"],
        json!({ "sentence": text, "line": line,
                "text": { "type": "string", "description": "The words that named it; empty when the model read a technique from the whole sentence" },
                "confidence": num, "rule": text, "stance": stance }),
    );
    let finding = object(
        &[
            "kind",
            "type",
            "value",
            "name",
            "sentence",
            "line",
            "confidence",
            "stance",
            "rule",
            "mentions",
        ],
        json!({ "kind": { "type": "string", "enum": finding_kinds },
                "type": { "type": "string", "enum": finding_kinds },
                "value": { "type": "string", "description": "T1574.001, S0596, G1006, TW, government" },
                "name": text, "sentence": text, "line": line, "confidence": num,
                "stance": stance, "rule": text,
                "mentions": { "type": "array", "minItems": 1, "items": schema_ref("Mention") } }),
    );
    let extract_line = json!({
        "description": "One line of `cairn extract --json`: indicators, then suppressed values, then prose findings",
        "type": "object",
        "required": ["kind", "type", "value"],
        "properties": { "kind": { "type": "string", "enum": cairn_engine::LINE_KINDS } },
        "oneOf": [schema_ref("IndicatorLine"), schema_ref("FindingLine")]
    });
    let contribution = object(
        &["kind", "value", "weight", "for_or_against", "detail"],
        json!({ "kind": text, "value": text, "weight": num,
                "for_or_against": { "type": "string", "enum": ["for", "against"] },
                "detail": text,
                "lines": { "type": "array", "items": line, "description": "The report's lines behind it" } }),
    );
    let distinction = object(
        &["kind", "value", "this", "other"],
        json!({ "kind": text, "value": text, "this": num, "other": num }),
    );
    let candidate = object(
        &[
            "rank",
            "actor",
            "aliases",
            "attack_id",
            "score",
            "confidence",
            "evidence",
            "distinguishing_against",
            "distinguishing",
        ],
        json!({ "rank": line, "actor": text, "aliases": strings(), "attack_id": maybe,
                "attached": strings(), "score": num,
                "confidence": { "type": "string", "enum": ["high", "moderate", "low"] },
                "evidence": { "type": "array", "items": schema_ref("Contribution") },
                "distinguishing_against": maybe,
                "distinguishing": { "type": "array", "items": distinction } }),
    );
    let recognised = object(
        &["kind", "input", "resolved_as"],
        json!({ "kind": text, "input": text, "resolved_as": text, "note": text }),
    );
    let unrecognised = object(
        &["kind", "value", "reason"],
        json!({ "kind": text, "value": text, "reason": text }),
    );
    let named = object(
        &["name", "value", "stance", "inferred_rank", "mentions"],
        json!({ "name": text, "value": text, "stance": stance,
                "inferred_rank": { "type": ["integer", "null"], "minimum": 1 },
                "mentions": { "type": "array", "items": schema_ref("Mention") } }),
    );
    let mut evidence_kinds: Vec<&str> = finding_kinds
        .iter()
        .copied()
        .filter(|k| *k != "group")
        .collect();
    for k in &indicator_types {
        if !evidence_kinds.contains(k) {
            evidence_kinds.push(*k);
        }
    }
    let evidence = object(
        &[
            "kind",
            "value",
            "name",
            "confidence",
            "used",
            "lines",
            "sentence",
        ],
        json!({ "kind": { "type": "string", "enum": evidence_kinds }, "value": text, "name": text,
                "confidence": num, "used": { "type": "boolean" },
                "lines": { "type": "array", "items": line },
                "sentence": { "type": "string", "description": "The first sentence saying it (empty for an indicator)" } }),
    );
    let attribution = object(
        &[
            "candidates",
            "unrecognised",
            "recognised",
            "considered",
            "named_in_report",
            "mentioned_not_claimed",
            "evidence",
        ],
        json!({ "candidates": { "type": "array", "items": schema_ref("Candidate") },
                "unrecognised": { "type": "array", "items": unrecognised },
                "recognised": { "type": "array", "items": recognised },
                "considered": count,
                "named_in_report": { "type": "array", "items": schema_ref("NamedGroup"),
                                     "description": "Groups the report claims; never used by the ranking" },
                "mentioned_not_claimed": { "type": "array", "items": schema_ref("NamedGroup"),
                                           "description": "Groups the report only compares with or negates" },
                "evidence": { "type": "array", "items": schema_ref("ReportEvidence") } }),
    );
    json!({
        "ExtractLine": extract_line, "IndicatorLine": indicator, "FindingLine": finding,
        "Occurrence": occurrence, "OccurrenceContext": context, "Mention": mention,
        "ReportAttribution": attribution, "Candidate": candidate, "Contribution": contribution,
        "NamedGroup": named, "ReportEvidence": evidence
    })
}

/// `POST /api/v1/extract` and `POST /api/v1/attribute/report`.
fn report_ops() -> (Value, Value) {
    let name = json!({ "name": "name", "in": "query", "required": false,
        "description": "The report's file name: its extension hints the format (`.md`, `.html`, `.pdf`); blank: `upload`",
        "schema": { "type": "string", "maxLength": bounds::MAX_FILE_NAME }, "example": "redhotel-2023.md" });
    let report_body = |op: &mut Value| {
        body(
            op,
            "application/octet-stream",
            "The report: text, Markdown, HTML (UTF-8, or UTF-16 with a byte-order mark) or PDF with a text layer, sniffed from its bytes. Not a document Cairn reads, or text that is not UTF-8: 400; larger than the server's report limit (16 MiB unless configured, `cairn serve --max-report-upload`): 413",
        );
        let bytes = json!({ "schema": { "type": "string", "format": "binary", "minLength": 1 } });
        // Text is refused as binary data when it holds control characters
        // (tab and line breaks aside).
        let text = json!({ "schema": { "type": "string", "minLength": 1,
                                        "pattern": "^[^\\u0000-\\u0008\\u000e-\\u001f]*$" } });
        op["requestBody"]["content"] = json!({
            "application/octet-stream": bytes,
            "text/plain": text
        });
    };
    let mut extract = op(
        "Read a report: its indicators (with context: heading, role, family, dates) and what its prose says (ATT&CK techniques, software, groups, victim countries and sectors, each with its sentences, line, confidence and stance), as `cairn extract --json` prints them, byte for byte",
        "reader",
        json!([
            name.clone(),
            { "name": "prose", "in": "query", "required": false,
              "description": "Read the prose too (`false`: indicators only, `cairn extract --no-prose`)",
              "schema": { "type": "boolean", "default": true } }
        ]),
        "JSON lines (`application/x-ndjson`): one `ExtractLine` per line, indicators first, then values suppressed as benign (with `suppressed`), then prose findings",
    );
    report_body(&mut extract);
    extract["responses"]["200"]["content"] = json!({
        "application/x-ndjson": { "schema": { "type": "string",
            "description": "One JSON object per line, each an ExtractLine (#/components/schemas/ExtractLine)" } }
    });
    extract["responses"]["200"]["headers"] = json!({
        "X-Cairn-Report-TLP": { "description": "The report's own TLP marking, when it carries one (`clear`, `green`, `amber`, `amber+strict`, `red`)",
                                "schema": { "type": "string" } }
    });
    let mut attribute = op(
        "Attribute a report: the groups ranked from its techniques (weighted by the reader's confidence), software, victims and indicators known to the store, each contribution with the report's lines; the groups the report names listed apart, never used by the ranking (`cairn attribute --report --json`)",
        "reader",
        json!([
            name,
            int_query("top", "Candidates to rank (default 10)", bounds::TOP)
        ]),
        "The ranking, the groups named in the report, and the evidence read",
    );
    report_body(&mut attribute);
    attribute["responses"]["200"]["content"]["application/json"]["schema"] =
        schema_ref("ReportAttribution");
    (extract, attribute)
}

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
            "name": { "type": "string", "pattern": "\\S", "description": "Not blank; never used before" },
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
}
