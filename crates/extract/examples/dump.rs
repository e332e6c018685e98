//! Prints what `cairn-extract` finds in a file, one line per occurrence:
//! `cargo run -p cairn-extract --example dump -- report.txt`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1) else {
        return Err("usage: dump FILE".into());
    };
    let doc = cairn_extract::Document::from_path(std::path::Path::new(&path))?;
    let out = cairn_extract::Extractor::new(Default::default()).extract(&doc);
    for i in &out.indicators {
        let o = &i.occurrences[0];
        println!(
            "{}\t{}\t{}:{}\t{:?}\t{:?}\t{:?}\t{:?}\t{:?}",
            i.kind,
            i.value,
            o.line,
            o.column,
            o.original,
            o.context.heading,
            o.context.role,
            o.context.family,
            (
                o.context.first_seen.as_deref(),
                o.context.last_seen.as_deref()
            )
        );
    }
    for s in &out.suppressed {
        println!("SUPPRESSED\t{}\t{}\t{}", s.kind, s.value, s.reason);
    }
    for w in &out.warnings {
        println!("WARNING\t{w}");
    }
    Ok(())
}
