//! How long the reader takes to build from ATT&CK and to read a report:
//! `cargo run --release -p cairn-prose --example read_timing -- ATTACK.json [REPORT]`.

use cairn_prose::{Knowledge, Reader, ReaderOptions};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let attack = args
        .next()
        .ok_or("usage: read_timing ATTACK.json [REPORT]")?;
    let t = Instant::now();
    let bundle = cairn_intake::parse_path(attack.as_ref(), &cairn_intake::Options::default())?;
    let parsed = t.elapsed();
    let t = Instant::now();
    let knowledge = Knowledge::from_bundle(&bundle);
    let gathered = t.elapsed();
    let t = Instant::now();
    let reader = Reader::new(&knowledge, ReaderOptions::default());
    let trained = t.elapsed();
    println!(
        "parse {parsed:.2?}, knowledge {gathered:.2?}, training {trained:.2?} ({} techniques, {} procedures)",
        knowledge.technique_count(),
        knowledge.procedure_count()
    );
    if let Some(report) = args.next() {
        let text = std::fs::read_to_string(&report)?;
        let t = Instant::now();
        let found = reader.read(&text);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "read {} bytes in {secs:.3}s = {:.2} MB/s, {} findings",
            text.len(),
            text.len() as f64 / 1_048_576.0 / secs,
            found.len()
        );
    }
    Ok(())
}
