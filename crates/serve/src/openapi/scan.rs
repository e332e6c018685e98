//! The file scan and certificate operations and their answers' schemas.

use super::bounds;
use super::parts::{body, int_query, object, op, query, schema_ref, strings};
use serde_json::{Value, json};

/// The schemas of a scan's findings and a certificate's report (the JSON of
/// `cairn scan --json` and `cairn cert --json`, made by `cairn_engine`):
/// `Finding`, `Match`, `SignatureSummary`, `RuleHit`, `ActorLink`,
/// `Provenance`, `CertReport`, `CertStatement`, `CertSample`, `RelatedCert`.
pub(super) fn scan_schemas() -> Value {
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
pub(super) fn scan_ops() -> (Value, Value) {
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
