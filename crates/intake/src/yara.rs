//! YARA rule files: kept whole as one STIX indicator with `pattern_type`
//! `yara` (compiled by the scanner, with every other stored rule file), and
//! — for certificate blocklists written as rules, like ReversingLabs' —
//! each rule's `pe.signatures[i].serial` also as a certificate indicator,
//! so the certificate is known without running YARA.

use std::path::Path;

use cairn_model::{Bundle, Object, deterministic_id, serial};
use serde_json::json;

use crate::certs::{self, Record};
use crate::errors::IntakeError;
use crate::{Options, prov};

/// A `.yar`/`.yara` file, or text whose lines declare rules with a
/// condition.
pub(crate) fn looks_like_yara(ext: &str, text: &str) -> bool {
    if matches!(ext, "yar" | "yara") {
        return true;
    }
    let declares = text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("rule ") || l.starts_with("private rule ") || l.starts_with("global rule ")
    });
    declares && text.contains("condition:")
}

/// One rule's name and text span.
struct Rule<'a> {
    name: &'a str,
    body: &'a str,
}

/// Rules by their declaration lines: enough to name them and read a
/// blocklist's fields. (Compiling is yara-x's job; a file it rejects is
/// reported then, naming the line.)
fn rules(text: &str) -> Vec<Rule<'_>> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let decl = t
            .strip_prefix("private ")
            .or_else(|| t.strip_prefix("global "))
            .unwrap_or(t);
        if let Some(rest) = decl.strip_prefix("rule ") {
            let name = rest
                .split(|c: char| c.is_whitespace() || c == '{' || c == ':')
                .next()
                .unwrap_or("");
            if !name.is_empty() {
                starts.push((offset, name));
            }
        }
        offset += line.len();
    }
    let mut out = Vec::new();
    for (i, (at, name)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map(|(e, _)| *e).unwrap_or(text.len());
        out.push(Rule {
            name,
            body: &text[*at..end],
        });
    }
    out
}

/// The quoted value after `key` in a rule body (`serial == "…"`).
fn quoted_after<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    let at = body.find(key)? + key.len();
    let rest = body[at..].trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.split('"').next()
}

pub(crate) fn parse(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    let found = rules(text);
    if found.is_empty() {
        return Err(IntakeError::object(
            path,
            "line 1",
            "no `rule` declaration found".to_string(),
        ));
    }
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rules.yar".into());
    let source = prov::source_name(opts, None, path);
    let names: Vec<&str> = found.iter().map(|r| r.name).collect();
    let id = deterministic_id("indicator", &[&source, "yara", &file_name]);
    let rules_object = Object {
        raw: json!({"type":"indicator","spec_version":"2.1","id":id,"name":file_name,
            "description": format!("{} YARA rules", names.len()),
            "pattern": text, "pattern_type": "yara", "indicator_types": ["malicious-activity"],
            "labels": ["yara"], "x_cairn_rules": names})
        .to_string(),
        id: id.clone(),
        kind: "indicator".into(),
        name: Some(file_name),
        labels: vec!["yara".into()],
        prov: prov::base(opts, &source),
        ..Object::default()
    };
    let mut records = Vec::new();
    for r in &found {
        // One rule may list a serial with and without its sign byte, or
        // several certificates.
        let mut serials: Vec<String> = r
            .body
            .match_indices("serial ==")
            .filter_map(|(at, _)| quoted_after(&r.body[at..], "serial =="))
            .filter_map(serial::canonical_hex)
            .collect();
        serials.dedup();
        serials.sort();
        serials.dedup();
        for serial in serials {
            let mut rec = Record {
                serial,
                subject: quoted_after(r.body, "subject contains").map(str::to_string),
                issuer: quoted_after(r.body, "issuer contains").map(str::to_string),
                description: quoted_after(r.body, "description =").map(str::to_string),
                ..Record::default()
            };
            rec.labels.insert("abused-code-signing".into());
            rec.rule = Some(r.name.to_string());
            records.push(rec);
        }
    }
    let mut bundle = certs::build(records.into_iter(), &source, opts);
    if let Some(actor) = bundle.objects.iter().find(|o| o.kind == "intrusion-set") {
        let actor_id = actor.id.clone();
        let p = rules_object.prov.clone();
        bundle
            .relations
            .push(certs::rel(&id, "indicates", &actor_id, None, &p));
    }
    bundle.objects.insert(0, rules_object);
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RL: &str = r#"import "pe"

rule cert_blocklist_05e2e6a4cd09ea54d665b075fe22A256 {
    meta:
        description = "The digital certificate has leaked."
    condition:
        uint16(0) == 0x5A4D and
        for any i in (0..pe.number_of_signatures): (
            pe.signatures[i].subject contains "*.google.com" and
            pe.signatures[i].serial == "05:e2:e6:a4:cd:09:ea:54:d6:65:b0:75:fe:22:a2:56"
        )
}

rule plain { strings: $a = "x{" condition: $a }
"#;

    #[test]
    fn rules_kept_whole_and_blocklist_serials_extracted() {
        assert!(looks_like_yara("txt", RL));
        let b = parse("blocklist.yara".as_ref(), RL, &Options::default()).expect("parses");
        let rules: serde_json::Value = serde_json::from_str(&b.objects[0].raw).expect("json");
        assert_eq!(rules["pattern_type"], "yara");
        assert_eq!(rules["pattern"], RL);
        assert_eq!(rules["x_cairn_rules"][1], "plain");
        let certs: Vec<_> = b
            .objects
            .iter()
            .filter(|o| o.raw.contains("x_cairn_certificate"))
            .collect();
        assert_eq!(certs.len(), 1);
        assert_eq!(
            certs[0].observables[0].value,
            "05e2e6a4cd09ea54d665b075fe22a256"
        );
        assert_eq!(
            certs[0].description.as_deref(),
            Some("The digital certificate has leaked.")
        );
        assert!(
            certs[0]
                .raw
                .contains("\"rule\":\"cert_blocklist_05e2e6a4cd09ea54d665b075fe22A256\"")
        );
    }

    #[test]
    fn no_rule_is_an_error() {
        assert!(parse("x.yar".as_ref(), "// nothing\n", &Options::default()).is_err());
    }
}
