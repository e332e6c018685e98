//! Latency of one attribution against every ATT&CK group:
//! `cargo run --release -p cairn-attribute --example bench_attribute -- PATH [ITERATIONS]`.
use cairn_attribute::{Corpus, Evidence};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "../shared/datasets/attack/enterprise-attack-18.1.json".into());
    let iterations: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(200);
    let t = Instant::now();
    let bundle = cairn_intake::parse_path(path.as_ref(), &cairn_intake::Options::default())?;
    let parse = t.elapsed();
    let t = Instant::now();
    let corpus = Corpus::from_bundle(&bundle);
    let build = t.elapsed();
    let cases: Vec<(&str, Evidence)> = vec![
        (
            "issue example (3 techniques, 2 software, country, sector)",
            Evidence {
                techniques: vec!["T1190".into(), "T1059.001".into(), "T1574.002".into()],
                software: vec!["Cobalt Strike".into(), "ShadowPad".into()],
                countries: vec!["TW".into()],
                sectors: vec!["government".into()],
                ..Evidence::default()
            },
        ),
        (
            "large incident (40 techniques, 5 software)",
            Evidence {
                techniques: [
                    "T1566.001",
                    "T1204.002",
                    "T1059.001",
                    "T1059.003",
                    "T1053.005",
                    "T1547.001",
                    "T1055",
                    "T1027",
                    "T1140",
                    "T1070.004",
                    "T1003.001",
                    "T1552.001",
                    "T1087.002",
                    "T1018",
                    "T1082",
                    "T1083",
                    "T1057",
                    "T1016",
                    "T1049",
                    "T1033",
                    "T1021.001",
                    "T1021.002",
                    "T1570",
                    "T1560.001",
                    "T1005",
                    "T1039",
                    "T1071.001",
                    "T1573.002",
                    "T1105",
                    "T1090",
                    "T1041",
                    "T1567.002",
                    "T1486",
                    "T1490",
                    "T1489",
                    "T1112",
                    "T1562.001",
                    "T1218.011",
                    "T1036.005",
                    "T1574.002",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                software: ["Cobalt Strike", "Mimikatz", "PlugX", "AdFind", "Impacket"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                ..Evidence::default()
            },
        ),
    ];
    println!(
        "corpus: {} groups, {} techniques, {} software; parse {:.0} ms, build {:.1} ms",
        corpus.group_count(),
        corpus.technique_count(),
        corpus.software_count(),
        parse.as_secs_f64() * 1e3,
        build.as_secs_f64() * 1e3
    );
    for (name, ev) in &cases {
        let mut times: Vec<f64> = Vec::with_capacity(iterations);
        let mut top = String::new();
        for _ in 0..iterations {
            let t = Instant::now();
            let r = corpus.attribute(ev, 10);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if top.is_empty() {
                top = r
                    .candidates
                    .first()
                    .map(|c| c.actor.clone())
                    .unwrap_or_default();
            }
        }
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
        println!(
            "{name}: median {:.2} ms, p95 {:.2} ms, max {:.2} ms over {iterations} runs (top: {top})",
            pct(0.5),
            pct(0.95),
            pct(1.0)
        );
    }
    Ok(())
}
