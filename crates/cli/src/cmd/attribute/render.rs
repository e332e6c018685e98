//! The ranking as analysts read it: a table of candidates, then each one's
//! strongest reasons for and against.

use crate::output::table;
use cairn_attribute::{Candidate, Direction, Evidence, Ranking};

fn signed(w: f64) -> String {
    format!("{w:+.2}")
}

/// The ranking as a table, with each candidate's reasons up to `explain`.
pub(super) fn render(r: &Ranking, ev: &Evidence, explain: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Evidence: {} technique(s), {} software, {} indicator(s), {} alert(s), {} country(ies), {} sector(s){}; {} actor clusters considered.\n\n",
        ev.techniques.len(),
        ev.software.len(),
        ev.indicators.len(),
        ev.infrastructure.len(),
        ev.countries.len(),
        ev.sectors.len(),
        ev.when
            .as_deref()
            .map(|w| format!(", incident date {w}"))
            .unwrap_or_default(),
        r.considered
    ));
    if r.candidates.is_empty() {
        s.push_str("No candidate: no known actor shares any of this evidence.\n");
    } else {
        let rows: Vec<Vec<String>> = r
            .candidates
            .iter()
            .map(|c| {
                vec![
                    c.rank.to_string(),
                    c.actor.clone(),
                    c.attack_id.clone().unwrap_or_else(|| "-".into()),
                    format!("{:.2}", c.score),
                    if c.rank == 1 {
                        c.confidence.as_str().to_string()
                    } else {
                        String::new()
                    },
                    strongest(c),
                ]
            })
            .collect();
        s.push_str(&table(
            &[
                "#",
                "actor",
                "ATT&CK",
                "score",
                "confidence",
                "strongest evidence",
            ],
            &rows,
        ));
        for c in r.candidates.iter().take(explain) {
            s.push('\n');
            s.push_str(&reasons(c));
        }
    }
    let notes: Vec<_> = r.recognised.iter().filter(|x| x.note.is_some()).collect();
    if !notes.is_empty() {
        s.push_str("\nInterpreted:\n");
        for n in notes {
            s.push_str(&format!(
                "  {} {:?} → {} ({})\n",
                n.kind,
                n.input,
                n.resolved_as,
                n.note.as_deref().unwrap_or_default()
            ));
        }
    }
    if !r.unrecognised.is_empty() {
        s.push_str("\nNot used (unrecognised):\n");
        for u in &r.unrecognised {
            s.push_str(&format!("  {} {:?}: {}\n", u.kind, u.value, u.reason));
        }
    }
    s
}

fn strongest(c: &Candidate) -> String {
    c.evidence
        .iter()
        .filter(|e| e.for_or_against == Direction::For)
        .take(3)
        .map(|e| format!("{} {}", e.value, signed(e.weight)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn reasons(c: &Candidate) -> String {
    let mut s = format!(
        "#{} {}{} — score {:.2}{}\n",
        c.rank,
        c.actor,
        c.attack_id
            .as_deref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default(),
        c.score,
        if c.rank == 1 {
            format!(", confidence {}", c.confidence.as_str())
        } else {
            String::new()
        }
    );
    if !c.aliases.is_empty() {
        s.push_str(&format!("  also known as: {}\n", c.aliases.join(", ")));
    }
    if !c.attached.is_empty() {
        s.push_str(&format!("  attached actors: {}\n", c.attached.join(", ")));
    }
    for (dir, title) in [(Direction::For, "for"), (Direction::Against, "against")] {
        let items: Vec<_> = c
            .evidence
            .iter()
            .filter(|e| e.for_or_against == dir)
            .collect();
        if items.is_empty() {
            continue;
        }
        s.push_str(&format!("  {title}:\n"));
        for e in items.iter().take(12) {
            let lines = if e.lines.is_empty() {
                String::new()
            } else {
                let l: Vec<String> = e.lines.iter().take(5).map(u32::to_string).collect();
                format!(" [report line {}]", l.join(", "))
            };
            s.push_str(&format!(
                "    {:>6}  {:<19} {}  — {}{lines}\n",
                signed(e.weight),
                e.kind,
                e.value,
                e.detail
            ));
        }
        if items.len() > 12 {
            let rest: f64 = items[12..].iter().map(|e| e.weight).sum();
            s.push_str(&format!(
                "    {:>6}  ({} more)\n",
                signed(rest),
                items.len() - 12
            ));
        }
    }
    if let Some(other) = &c.distinguishing_against
        && !c.distinguishing.is_empty()
    {
        s.push_str(&format!("  versus {other}:\n"));
        for d in &c.distinguishing {
            s.push_str(&format!(
                "    {:<19} {}: {} here, {} there\n",
                d.kind,
                d.value,
                signed(d.this),
                signed(d.other)
            ));
        }
    }
    s
}
