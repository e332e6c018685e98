//! The report reading and attribution operations and their answers' schemas.

use super::bounds;
use super::parts::{body, int_query, object, op, schema_ref, strings};
use serde_json::{Value, json};

/// The schemas of a report's reading and attribution (the JSON of `cairn
/// extract --json` and `cairn attribute --report --json`, made by
/// `cairn_engine`): `ExtractLine` (an `IndicatorLine` or a `FindingLine`),
/// `Occurrence`, `OccurrenceContext`, `Mention`, `ReportAttribution` and
/// what it holds.
pub(super) fn report_schemas() -> Value {
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
pub(super) fn report_ops() -> (Value, Value) {
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
