//! Runs the attribution evaluation on an ATT&CK bundle and prints the report:
//! `cargo run --release -p cairn-attribute --example eval_attack -- PATH`.
use cairn_attribute::{Corpus, EvalOptions};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/datasets/attack/enterprise-attack-18.1.json".into());
    let t = Instant::now();
    let bundle = cairn_intake::parse_path(path.as_ref(), &cairn_intake::Options::default())?;
    let t_parse = t.elapsed();
    let t = Instant::now();
    let mut w = cairn_attribute::Weights::default();
    let var = |k: &str, d: f64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    w.parent = var("W_PARENT", w.parent);
    w.via_software = var("W_SOFT", w.via_software);
    w.size_smoothing = var("W_K", w.size_smoothing);
    w.against = var("W_AGAINST", w.against);
    w.software_breadth = var("W_BREADTH", w.software_breadth);
    let corpus = Corpus::from_bundle_with(&bundle, w);
    let t_corpus = t.elapsed();
    let t = Instant::now();
    let report = corpus.evaluate(&EvalOptions::default());
    let t_eval = t.elapsed();
    if std::env::var("BRIEF").is_ok() {
        for p in &report.protocols {
            for m in &p.methods {
                println!(
                    "{:10} {:8} top1 {:.3} top3 {:.3} top5 {:.3} mrr {:.3}",
                    p.protocol, m.method, m.top1, m.top3, m.top5, m.mrr
                );
            }
        }
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    eprintln!("parse {t_parse:?} corpus {t_corpus:?} eval {t_eval:?}");
    Ok(())
}
