//! Sigma rules: each rule file kept whole as one STIX indicator with
//! `pattern_type` `sigma` (the detector compiles the store's rules with any
//! given on the command line), named by its title, its ATT&CK techniques as
//! `mitre-attack` external references and its tactics as kill-chain phases,
//! so the store can say which rules speak of a technique.
//!
//! A folder of rules (SigmaHQ's `rules/`) arrives as one input: `pack_dir`
//! gathers its files into a JSON envelope, so the folder is fingerprinted,
//! checked and stored as one file would be, in one transaction.

use std::path::Path;

use cairn_model::attack::{tactic_of_tag, technique_of_tag};
use cairn_model::{Bundle, Object, deterministic_id};
use serde_json::{Value, json};

use crate::errors::IntakeError;
use crate::{Options, prov};

/// Key of the envelope `pack_dir` writes.
const ENVELOPE: &str = "cairn_sigma_files";

/// A `.yml`/`.yaml` with Sigma's two required sections, or a packed folder.
pub(crate) fn looks_like_sigma(ext: &str, text: &str) -> bool {
    if text.starts_with(&format!("{{\"{ENVELOPE}\"")) {
        return true;
    }
    matches!(ext, "yml" | "yaml")
        && text.lines().any(|l| l.starts_with("detection:"))
        && text.lines().any(|l| l.starts_with("logsource:"))
}

/// The rule files of a folder (walked, sorted; `.yml` and `.yaml`) as one
/// input for `parse_bytes`. An unreadable or non-UTF-8 file is an error
/// naming it.
pub fn pack_dir(dir: &Path) -> Result<Vec<u8>, IntakeError> {
    let mut files = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.map_err(|err| IntakeError::Io {
            path: err.path().unwrap_or(dir).to_path_buf(),
            source: err.into(),
        })?;
        let yaml = matches!(
            e.path().extension().and_then(|x| x.to_str()),
            Some("yml") | Some("yaml")
        );
        if e.file_type().is_file() && yaml {
            files.push(e.into_path());
        }
    }
    if files.is_empty() {
        return Err(IntakeError::Format {
            path: dir.to_path_buf(),
            message: "a folder is read as Sigma rules, and this one holds no .yml file".into(),
        });
    }
    let mut entries = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(&f).map_err(|source| IntakeError::Io {
            path: f.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| IntakeError::Format {
            path: f.clone(),
            message: format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        })?;
        let rel = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        entries.push(json!({"path": rel, "text": text}));
    }
    Ok(json!({ ENVELOPE: entries }).to_string().into_bytes())
}

/// One rule file → one indicator. Its documents must be YAML; the first
/// with a `title` names it.
fn rule_object(
    path: &Path,
    name: &str,
    text: &str,
    source: &str,
    opts: &Options,
) -> Result<Object, IntakeError> {
    let mut docs = Vec::new();
    for d in yaml_serde::Deserializer::from_str(text) {
        let v: Value = serde::Deserialize::deserialize(d).map_err(|e| IntakeError::Format {
            path: path.join(name),
            message: format!("not YAML: {e}"),
        })?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    let Some(first) = docs.iter().find(|d| d.get("title").is_some()) else {
        return Err(IntakeError::Format {
            path: path.join(name),
            message: "no Sigma rule (a document with a `title`)".into(),
        });
    };
    let title = first["title"].as_str().unwrap_or(name).to_string();
    let rule_id = first["id"].as_str().map(str::to_string);
    let mut tags: Vec<String> = Vec::new();
    for d in &docs {
        for t in d["tags"].as_array().into_iter().flatten() {
            if let Some(t) = t.as_str()
                && !tags.iter().any(|x| x == t)
            {
                tags.push(t.to_string());
            }
        }
    }
    let mut refs = Vec::new();
    if let Some(id) = &rule_id {
        refs.push(json!({"source_name": "sigma", "external_id": id}));
    }
    for t in tags.iter().filter_map(|t| technique_of_tag(t)) {
        refs.push(json!({"source_name": "mitre-attack", "external_id": t}));
    }
    let phases: Vec<Value> = tags
        .iter()
        .filter_map(|t| tactic_of_tag(t))
        .map(|p| json!({"kill_chain_name": "mitre-attack", "phase_name": p}))
        .collect();
    let id = deterministic_id(
        "indicator",
        &[source, "sigma", rule_id.as_deref().unwrap_or(name)],
    );
    let description = first["description"].as_str().map(str::to_string);
    let mut raw = json!({"type": "indicator", "spec_version": "2.1", "id": id,
        "name": title, "pattern": text, "pattern_type": "sigma",
        "indicator_types": ["malicious-activity"], "labels": tags,
        "x_cairn_rule_file": name});
    if let Some(d) = &description {
        raw["description"] = json!(d);
    }
    if !refs.is_empty() {
        raw["external_references"] = json!(refs);
    }
    if !phases.is_empty() {
        raw["kill_chain_phases"] = json!(phases);
    }
    if let Some(level) = first["level"].as_str() {
        raw["x_sigma_level"] = json!(level);
    }
    Ok(Object {
        raw: raw.to_string(),
        id,
        kind: "indicator".into(),
        name: Some(title),
        description,
        labels: tags,
        prov: prov::base(opts, source),
        ..Object::default()
    })
}

pub(crate) fn parse(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    let files: Vec<(String, String)> = if text.starts_with(&format!("{{\"{ENVELOPE}\"")) {
        let v: Value = serde_json::from_str(text).map_err(|e| IntakeError::Format {
            path: path.to_path_buf(),
            message: format!("packed Sigma folder: {e}"),
        })?;
        v[ENVELOPE]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["path"].as_str().unwrap_or_default().to_string(),
                    e["text"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    } else {
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "rule.yml".into());
        vec![(name, text.to_string())]
    };
    let folder = text.starts_with(&format!("{{\"{ENVELOPE}\""));
    let source = match &opts.source {
        Some(s) => s.clone(),
        None if folder => format!("Sigma rules ({})", path.display()),
        None => prov::source_name(opts, None, path),
    };
    let base = if folder { path } else { Path::new("") };
    let mut bundle = Bundle::default();
    for (name, text) in &files {
        bundle
            .objects
            .push(rule_object(base, name, text, &source, opts)?);
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: Whoami\nid: 0a7a3d1e-0000-4000-8000-000000000001\nstatus: test\ndescription: runs whoami\nlevel: high\ntags:\n  - attack.discovery\n  - attack.t1033\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";

    #[test]
    fn a_rule_file_is_one_indicator_with_its_techniques() {
        assert!(looks_like_sigma("yml", RULE));
        assert!(!looks_like_sigma("txt", RULE));
        let b = parse("whoami.yml".as_ref(), RULE, &Options::default()).expect("parse");
        assert_eq!(b.objects.len(), 1);
        let v: Value = serde_json::from_str(&b.objects[0].raw).expect("json");
        assert_eq!(v["pattern_type"], "sigma");
        assert_eq!(v["pattern"], RULE);
        assert_eq!(v["name"], "Whoami");
        assert_eq!(v["external_references"][1]["external_id"], "T1033");
        assert_eq!(v["kill_chain_phases"][0]["phase_name"], "discovery");
    }

    #[test]
    fn a_folder_is_packed_and_a_bad_file_is_named() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/a.yml"), RULE).expect("write");
        std::fs::write(
            dir.path().join("b.yml"),
            RULE.replace("0001", "0002").replace("Whoami", "Other"),
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
        let packed = pack_dir(dir.path()).expect("pack");
        let text = String::from_utf8(packed).expect("utf8");
        assert!(looks_like_sigma("", &text));
        let b = parse(dir.path(), &text, &Options::default()).expect("parse");
        assert_eq!(b.objects.len(), 2);
        assert!(b.objects[0].prov.source.starts_with("Sigma rules ("));
        std::fs::write(dir.path().join("c.yml"), "title: [broken\n").expect("write");
        let text = String::from_utf8(pack_dir(dir.path()).expect("pack")).expect("utf8");
        let e = parse(dir.path(), &text, &Options::default()).expect_err("bad yaml");
        assert!(e.to_string().contains("c.yml"), "{e}");
    }
}
