//! Every sensor format parsed back and compared with the store, read
//! through the hunt engine's own path (`hunt_indicators` and
//! `indicator_context`), not the export query.

use super::*;
use base64::Engine as _;
use cairn_kb::{ExportQuery, Store};
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation, Tlp};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const ACTOR: &str = "intrusion-set--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d001";
const WARNINGLIST: &str = r#"{"name":"Benign CDN","type":"hostname","version":1,
  "description":"test","matching_attributes":["domain","hostname"],"list":["benignco.net"]}"#;

fn prov(source: &str, tlp: Tlp, confidence: Option<u8>) -> Provenance {
    Provenance {
        source: source.into(),
        tlp,
        confidence,
        first_seen: Some("2023-08-08".into()),
        ..Provenance::default()
    }
}

fn indicator(n: u32, kind: IndicatorKind, value: &str, p: &Provenance) -> Object {
    Object {
        id: format!("indicator--0c7e6f42-7f1b-4c57-9e35-3a36f0c1{n:04}"),
        kind: "indicator".into(),
        labels: vec!["c2".into()],
        observables: vec![Observable::new(kind, value)],
        prov: p.clone(),
        ..Object::default()
    }
}

fn bundle(
    source: &str,
    tlp: Tlp,
    conf: Option<u8>,
    values: &[(IndicatorKind, &str)],
    first: u32,
) -> Bundle {
    let p = prov(source, tlp, conf);
    let mut objects = vec![Object {
        id: ACTOR.into(),
        kind: "intrusion-set".into(),
        name: Some("Test Panda".into()),
        prov: p.clone(),
        ..Object::default()
    }];
    let mut relations = Vec::new();
    for (k, (kind, value)) in values.iter().enumerate() {
        let n = first + k as u32;
        let ind = indicator(n, *kind, value, &p);
        relations.push(Relation {
            id: format!("relationship--0c7e6f42-7f1b-4c57-9e35-3a36f0c1{n:04}"),
            rel_type: "indicates".into(),
            source_ref: ind.id.clone(),
            target_ref: ACTOR.into(),
            prov: p.clone(),
            ..Relation::default()
        });
        objects.push(ind);
    }
    Bundle {
        source: source.into(),
        format: "stix".into(),
        objects,
        relations,
        ..Bundle::default()
    }
}

fn store() -> Store {
    use IndicatorKind as K;
    let mut s = Store::open_in_memory().expect("store");
    let a = bundle(
        "Insikt Group",
        Tlp::Clear,
        Some(80),
        &[
            (K::Domain, "kb.dga.asia"),
            (K::Ipv4, "45.77.10.2"),
            (K::Ipv6, "2a05:d014::7"),
            (K::Cidr, "103.150.20.0/24"),
            (K::Url, "https://kb.dga.asia/dl/setup.exe"),
            (K::Email, "ops@kb.dga.asia"),
            (K::Md5, "9e107d9d372bb6826bd81d3542a419d6"),
            (K::Sha1, "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
            (
                K::Sha256,
                "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
            ),
            (K::CertSha1, "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
            (K::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
            (K::Domain, "cdn.benignco.net"),
            (K::Ipv4, "10.1.2.3"),
        ],
        1,
    );
    s.ingest(&a, None, None).expect("ingest a");
    let b = bundle(
        "Vendor B",
        Tlp::Green,
        Some(95),
        &[(K::Domain, "kb.dga.asia"), (K::Domain, "ns1.dga.asia")],
        100,
    );
    s.ingest(&b, None, None).expect("ingest b");
    let red = bundle(
        "Partner",
        Tlp::Red,
        None,
        &[(K::Domain, "red.dga.asia")],
        200,
    );
    s.ingest(&red, None, None).expect("ingest red");
    let wl = Bundle {
        source: "warninglists".into(),
        format: "misp-warninglist".into(),
        documents: vec![("benign-cdn".into(), WARNINGLIST.into())],
        ..Bundle::default()
    };
    s.ingest(&wl, None, None).expect("ingest warninglist");
    s
}

fn opts() -> SensorOptions {
    SensorOptions {
        url_base: "http://127.0.0.1:8080".into(),
        generated: "2026-01-02T03:04:05.000Z".into(),
        serial: 1_767_323_045,
    }
}

fn amber() -> ExportQuery {
    ExportQuery {
        tlp_max: Tlp::Amber,
        ..ExportQuery::default()
    }
}

/// What the store holds for sensors at TLP:AMBER, by the hunt engine's
/// path: (kind, value) → (sources, actors).
fn expected(s: &Store) -> BTreeMap<(IndicatorKind, String), (BTreeSet<String>, BTreeSet<String>)> {
    let mut lists = cairn_warninglist::WarningLists::builtin();
    cairn_engine::store_warninglists(s, &mut lists).expect("lists");
    let mut out: BTreeMap<_, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for h in s.hunt_indicators(false).expect("indicators") {
        let ctx = s.indicator_context(h.key).expect("context");
        if ctx.sources.iter().any(|p| p.tlp > Tlp::Amber)
            || lists
                .check(h.observable.kind, &h.observable.value)
                .is_some()
        {
            continue;
        }
        let e = out
            .entry((h.observable.kind, h.observable.value))
            .or_default();
        e.0.extend(ctx.sources.iter().map(|p| p.source.clone()));
        e.1.extend(ctx.actors.iter().map(|a| a.name.clone()));
    }
    out
}

#[test]
fn collect_leaves_out_red_and_warninglisted_and_merges_sources() {
    let s = store();
    let c = collect(&s, &amber()).expect("collect");
    let values: BTreeSet<&str> = c.indicators.iter().map(|i| i.value.as_str()).collect();
    assert!(!values.contains("red.dga.asia"));
    assert!(!values.contains("cdn.benignco.net"));
    assert!(!values.contains("10.1.2.3"));
    assert_eq!(c.warninglisted, 2);
    let want = expected(&s);
    let got: BTreeSet<(IndicatorKind, String)> = c
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.clone()))
        .collect();
    assert_eq!(got, want.keys().cloned().collect());
    let kb = c
        .indicators
        .iter()
        .find(|i| i.value == "kb.dga.asia")
        .expect("kb.dga.asia");
    assert_eq!(kb.sources.len(), 2);
    assert_eq!(kb.confidence, Some(95));
    assert_eq!(kb.tlp, Tlp::Green);
    assert_eq!(kb.actors, ["Test Panda"]);
    let red = collect(
        &s,
        &ExportQuery {
            tlp_max: Tlp::Red,
            ..ExportQuery::default()
        },
    )
    .expect("collect");
    assert!(red.indicators.iter().any(|i| i.value == "red.dga.asia"));
}

#[test]
fn zeek_intel_lines_follow_the_intel_framework() {
    let s = store();
    let c = collect(&s, &amber()).expect("collect");
    let out = zeek_intel(&c.indicators, &opts());
    let text = &out.files[0].content;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.do_notice"
        )
    );
    let known = [
        "Intel::ADDR",
        "Intel::SUBNET",
        "Intel::DOMAIN",
        "Intel::URL",
        "Intel::EMAIL",
        "Intel::FILE_HASH",
        "Intel::CERT_HASH",
        "Intel::FILE_NAME",
    ];
    let want = expected(&s);
    let mut seen = BTreeSet::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "{line:?}");
        assert!(f.iter().all(|x| !x.is_empty()), "empty field in {line:?}");
        assert!(known.contains(&f[1]), "{line:?}");
        assert!(!f[0].contains("://"), "URL with a scheme: {line:?}");
        assert!(f[2].starts_with("Cairn: "));
        assert!(f[4].starts_with("http://127.0.0.1:8080/indicator?value="));
        assert_eq!(f[5], "T");
        // Back to the store's (kind, value).
        let (kind, value) = want
            .keys()
            .find(|(k, v)| zeek_value(*k, v) == f[0] && zeek_type(*k) == Some(f[1]))
            .unwrap_or_else(|| panic!("not in the store: {line:?}"));
        let (sources, actors) = &want[&(*kind, value.clone())];
        for src in sources {
            assert!(f[2].contains(src.as_str()), "{line:?} lacks {src}");
        }
        for a in actors {
            assert!(f[3].contains(&format!("actor: {a}")), "{line:?}");
        }
        assert!(f[3].contains("role: c2"));
        seen.insert((*kind, value.clone()));
    }
    // Every value Zeek has a type for is there; JA3 is not.
    let typed: BTreeSet<_> = want
        .keys()
        .filter(|(k, _)| zeek_type(*k).is_some())
        .cloned()
        .collect();
    assert_eq!(seen, typed);
    assert_eq!(out.skipped, want.len() - typed.len());
    assert!(text.contains("kb.dga.asia/dl/setup.exe\tIntel::URL\t"));
}

#[test]
fn zeek_fields_never_carry_a_tab_or_newline() {
    let mut i = SensorIndicator {
        kind: IndicatorKind::Domain,
        value: "ok.example.net".into(),
        actors: vec!["Tab\tPanda".into()],
        families: Vec::new(),
        roles: vec!["line\nbreak".into()],
        sources: vec!["-".into()],
        confidence: None,
        tlp: Tlp::Clear,
        first_seen: None,
        last_seen: None,
    };
    let bad = SensorIndicator {
        value: "bad\tvalue.net".into(),
        ..i.clone()
    };
    let out = zeek_intel(&[i.clone(), bad], &opts());
    let lines: Vec<&str> = out.files[0].content.lines().collect();
    assert_eq!(lines.len(), 2, "the value with a tab is skipped");
    assert_eq!(out.skipped, 1);
    let f: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(f.len(), 6);
    assert_eq!(f[3], "actor: Tab Panda; role: line break");
    // Empty metadata is Zeek's unset marker.
    i.actors.clear();
    i.roles.clear();
    let out = zeek_intel(&[i], &opts());
    let line = out.files[0].content.lines().nth(1).expect("line");
    assert_eq!(line.split('\t').nth(3), Some("-"));
}

fn file<'a>(out: &'a SensorExport, name: &str) -> &'a str {
    &out.files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .content
}

#[test]
fn suricata_sets_decode_to_the_store_and_rules_use_them() {
    let s = store();
    let c = collect(&s, &amber()).expect("collect");
    let out = suricata_dataset(&c.indicators);
    let want = expected(&s);
    let of = |k: IndicatorKind| -> BTreeSet<String> {
        want.keys()
            .filter(|(x, _)| *x == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    // String sets: base64, one a line, decoding to the store's domains.
    let domains: BTreeSet<String> = file(&out, "cairn-domains.lst")
        .lines()
        .map(|l| String::from_utf8(b64.decode(l).expect("base64")).expect("utf-8"))
        .collect();
    assert_eq!(domains, of(IndicatorKind::Domain));
    // Hex and address sets as text.
    for (name, kind, len) in [
        ("cairn-md5.lst", IndicatorKind::Md5, Some(32)),
        ("cairn-sha256.lst", IndicatorKind::Sha256, Some(64)),
        ("cairn-ipv4.lst", IndicatorKind::Ipv4, None),
        ("cairn-ipv6.lst", IndicatorKind::Ipv6, None),
    ] {
        let got: BTreeSet<String> = file(&out, name).lines().map(String::from).collect();
        assert_eq!(got, of(kind), "{name}");
        for l in &got {
            if let Some(n) = len {
                assert!(
                    l.len() == n && l.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{l}"
                );
            } else {
                assert!(l.parse::<std::net::IpAddr>().is_ok(), "{l}");
            }
        }
    }
    // datarep: the same values, `,<reputation>` after each.
    for l in file(&out, "cairn-domains.rep").lines() {
        let (v, r) = l.rsplit_once(',').expect("value,rep");
        assert!(b64.decode(v).is_ok());
        assert!(r.parse::<u16>().is_ok());
    }
    assert!(file(&out, "cairn-domains.rep").contains(&format!("{},95", b64.encode("kb.dga.asia"))));
    // iprep: network,category,score with the category in the categories file.
    let nets: BTreeSet<String> = file(&out, "cairn-iprep.list")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            assert_eq!(f[1], "1");
            let score: u8 = f[2].parse().expect("score");
            assert!((1..=127).contains(&score));
            f[0].to_string()
        })
        .collect();
    assert_eq!(nets, of(IndicatorKind::Cidr));
    assert!(file(&out, "cairn-iprep-categories.txt").starts_with("1,Cairn,"));
    // Rules: each well formed, unique SIDs, every set it loads written.
    let names: BTreeSet<&str> = out.files.iter().map(|f| f.name.as_str()).collect();
    let mut sids = BTreeSet::new();
    let mut buffers = BTreeSet::new();
    for r in file(&out, "cairn.rules")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        assert!(r.starts_with("alert "), "{r}");
        assert!(r.ends_with(";)"), "{r}");
        let sid = r
            .split("sid:")
            .nth(1)
            .and_then(|x| x.split(';').next())
            .expect("sid");
        assert!(sids.insert(sid.to_string()), "duplicate sid {sid}");
        for part in r.split("; ") {
            if let Some(ds) = part.strip_prefix("dataset:isset,") {
                let opts: Vec<&str> = ds.split(',').collect();
                let load = opts
                    .iter()
                    .find_map(|o| o.strip_prefix("load "))
                    .expect("load");
                assert!(names.contains(load), "{load} not written");
                assert!(opts.iter().any(|o| o.starts_with("type ")));
            }
            for b in ["dns.query", "tls.sni", "http.host", "ip.src", "ip.dst"] {
                if part.ends_with(b) {
                    buffers.insert(b);
                }
            }
        }
    }
    assert_eq!(buffers.len(), 5, "{buffers:?}");
    assert!(
        file(&out, "cairn.rules")
            .contains("dns.query; dataset:isset,cairn-domains,type string,load cairn-domains.lst;")
    );
}

#[test]
fn rpz_blocks_each_domain_and_its_subdomains() {
    let s = store();
    let c = collect(&s, &amber()).expect("collect");
    let o = opts();
    let out = rpz(&c.indicators, &o);
    let text = &out.files[0].content;
    let soa = text.lines().find(|l| l.contains(" SOA ")).expect("SOA");
    assert!(soa.contains(&o.serial.to_string()));
    assert!(text.lines().any(|l| l == "@ IN NS localhost."));
    let mut names = BTreeSet::new();
    let records: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(';') && !l.starts_with('$') && !l.starts_with('@'))
        .collect();
    for pair in records.chunks(2) {
        let name = pair[0].strip_suffix(" CNAME .").expect("CNAME .");
        assert_eq!(pair[1], format!("*.{name} CNAME ."));
        names.insert(name.to_string());
    }
    let domains: BTreeSet<String> = expected(&s)
        .keys()
        .filter(|(k, _)| *k == IndicatorKind::Domain)
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(names, domains);
    assert!(!rpz_name_ok("bad name.example"));
}

#[test]
fn csv_parses_back_to_the_store() {
    let s = store();
    let c = collect(&s, &amber()).expect("collect");
    let out = csv(&c.indicators);
    let mut r = ::csv::Reader::from_reader(out.files[0].content.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, CSV_COLUMNS);
    let want = expected(&s);
    let mut got = BTreeSet::new();
    for rec in r.records() {
        let rec = rec.expect("record");
        let kind: IndicatorKind = rec[1].parse().expect("type");
        let (sources, actors) = &want[&(kind, rec[0].to_string())];
        let listed = |i: usize| -> BTreeSet<String> {
            rec[i]
                .split("; ")
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        assert_eq!(&listed(4), sources);
        assert_eq!(&listed(2), actors);
        assert_eq!(listed(3), BTreeSet::from(["c2".to_string()]));
        assert!(rec[6].parse::<Tlp>().is_ok_and(|t| t <= Tlp::Amber));
        got.insert((kind, rec[0].to_string()));
    }
    assert_eq!(got, want.keys().cloned().collect());
}

#[test]
fn ecs_documents_carry_the_value_where_ecs_wants_it() {
    let s = store();
    let c = collect(&s, &amber()).expect("collect");
    let out = ecs_ndjson(&c.indicators, &opts());
    let want = expected(&s);
    let mut got = BTreeSet::new();
    for line in out.files[0].content.lines() {
        let d: Value = serde_json::from_str(line).expect("one JSON document a line");
        let ind = &d["threat"]["indicator"];
        let t = ind["type"].as_str().expect("type");
        let (kind, value) = match t {
            "domain-name" => (IndicatorKind::Domain, &ind["url"]["domain"]),
            "ipv4-addr" => (IndicatorKind::Ipv4, &ind["ip"]),
            "ipv6-addr" => (IndicatorKind::Ipv6, &ind["ip"]),
            "url" => (IndicatorKind::Url, &ind["url"]["full"]),
            "email-addr" => (IndicatorKind::Email, &ind["email"]["address"]),
            "file" => {
                let h = ind["file"]["hash"].as_object().expect("hash");
                assert_eq!(h.len(), 1);
                let (alg, v) = h.iter().next().expect("one hash");
                (alg.parse().expect("hash kind"), v)
            }
            other => panic!("unexpected type {other}"),
        };
        let value = value.as_str().expect("value").to_string();
        let (sources, actors) = &want[&(kind, value.clone())];
        let provider = ind["provider"].as_str().expect("provider");
        assert!(sources.iter().all(|s| provider.contains(s.as_str())));
        let groups: BTreeSet<String> = d["threat"]["group"]["name"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(&groups, actors);
        assert!(
            ["Low", "Medium", "High", "None", "Not Specified"]
                .contains(&ind["confidence"].as_str().expect("confidence"))
        );
        assert!(
            ["CLEAR", "GREEN", "AMBER"].contains(&ind["marking"]["tlp"].as_str().expect("tlp"))
        );
        assert_eq!(ind["first_seen"], "2023-08-08T00:00:00.000Z");
        assert_eq!(d["event"]["kind"], "enrichment");
        got.insert((kind, value));
    }
    let carried: BTreeSet<_> = want
        .keys()
        .filter(|(k, v)| ecs_value(*k, v).is_some())
        .cloned()
        .collect();
    assert_eq!(got, carried);
    assert_eq!(ecs_confidence(Some(95)), "High");
    assert_eq!(ecs_confidence(Some(29)), "Low");
}

#[test]
fn format_names_round_trip() {
    for f in SensorFormat::ALL {
        assert_eq!(f.as_str().parse::<SensorFormat>(), Ok(f));
    }
    assert!("zeek".parse::<SensorFormat>().is_err());
}
