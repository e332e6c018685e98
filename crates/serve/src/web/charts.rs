//! Charts drawn on the server as SVG or HTML: no script, no external
//! library, styled by classes (the CSP forbids inline styles).

use cairn_kb::{CountClaim, Profile, TechniqueClaim};
use maud::{Markup, html};
use std::collections::BTreeMap;

/// ATT&CK Enterprise tactics in kill-chain order.
const TACTICS: [(&str, &str); 14] = [
    ("reconnaissance", "Reconnaissance"),
    ("resource-development", "Resource Development"),
    ("initial-access", "Initial Access"),
    ("execution", "Execution"),
    ("persistence", "Persistence"),
    ("privilege-escalation", "Privilege Escalation"),
    ("defense-evasion", "Defense Evasion"),
    ("credential-access", "Credential Access"),
    ("discovery", "Discovery"),
    ("lateral-movement", "Lateral Movement"),
    ("collection", "Collection"),
    ("command-and-control", "Command and Control"),
    ("exfiltration", "Exfiltration"),
    ("impact", "Impact"),
];

/// Techniques as an ATT&CK matrix: one column per tactic, one cell per
/// technique, shaded by how many sources state it.
pub(crate) fn technique_matrix(techniques: &[TechniqueClaim]) -> Markup {
    let mut columns: BTreeMap<usize, Vec<&TechniqueClaim>> = BTreeMap::new();
    let mut other: Vec<&TechniqueClaim> = Vec::new();
    for t in techniques {
        let mut placed = false;
        for tactic in &t.tactics {
            if let Some(i) = TACTICS.iter().position(|(k, _)| k == tactic) {
                columns.entry(i).or_default().push(t);
                placed = true;
            }
        }
        if !placed {
            other.push(t);
        }
    }
    let heat = |t: &TechniqueClaim| match t.sources.len() {
        0 | 1 => "cell h1",
        2 => "cell h2",
        _ => "cell h3",
    };
    html! {
        @if techniques.is_empty() {
            p.muted { "No techniques stated." }
        } @else {
            div.matrix role="table" aria-label="ATT&CK techniques by tactic" {
                @for (i, (_, label)) in TACTICS.iter().enumerate() {
                    div.tactic role="rowgroup" {
                        div.tname role="columnheader" { (label) span.count { (columns.get(&i).map_or(0, Vec::len)) } }
                        @if let Some(cells) = columns.get(&i) {
                            @for t in cells {
                                a class=(heat(t)) href=(super::frame::search_href(&t.id)) title=(format!("{} {} — {}", t.id, t.name, t.sources.join(", "))) {
                                    span.tid { (t.id) } " " (t.name)
                                }
                            }
                        }
                    }
                }
            }
            p.legend { span.cell.h1 { "1 source" } " " span.cell.h2 { "2 sources" } " " span.cell.h3 { "3+ sources" } }
            @if !other.is_empty() {
                p.muted { "Without a tactic: " @for t in &other { code { (t.id) } " " } }
            }
        }
    }
}

/// Sectors as horizontal bars, length by number of sources.
pub(crate) fn sector_bars(sectors: &[CountClaim]) -> Markup {
    let max = sectors
        .iter()
        .map(|s| s.sources.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let row_h = 22;
    let height = sectors.len() * row_h + 4;
    html! {
        @if sectors.is_empty() {
            p.muted { "No sectors stated." }
        } @else {
            svg.bars viewBox=(format!("0 0 600 {height}")) role="img" aria-label="Targeted sectors" {
                @for (i, s) in sectors.iter().enumerate() {
                    @let y = i * row_h + 2;
                    @let w = 380 * s.sources.len() / max;
                    g {
                        title { (s.name) " — " (s.sources.join(", ")) }
                        text.label x="0" y=(y + 15) { (s.name) }
                        rect.bar x="200" y=(y + 3) width=(w.max(4)) height="15" {}
                        text.val x=(205 + w) y=(y + 15) { (s.sources.len()) }
                    }
                }
            }
        }
    }
}

/// The actor's activity span (as the sources state it) on a year axis.
pub(crate) fn timeline(p: &Profile) -> Markup {
    let year = |s: &Option<String>| s.as_deref().and_then(|d| d.get(..4)?.parse::<i32>().ok());
    let (first, last) = (year(&p.first_seen), year(&p.last_seen));
    html! {
        @match (first, last) {
            (Some(f), Some(l)) if l >= f => {
                @let start = f - 1;
                @let end = l.max(f) + 1;
                @let span = (end - start).max(1);
                @let x = |yr: i32| 20 + (yr - start) * 760 / span;
                svg.timeline viewBox="0 0 800 70" role="img" aria-label="Activity timeline" {
                    line.axis x1="20" y1="40" x2="780" y2="40" {}
                    @for yr in start..=end {
                        line.tick x1=(x(yr)) y1="36" x2=(x(yr)) y2="44" {}
                        text.year x=(x(yr)) y="60" { (yr) }
                    }
                    rect.span x=(x(f)) y="28" width=((x(l + 1) - x(f)).max(6)) height="12" {
                        title { "Active " (p.first_seen.as_deref().unwrap_or("")) " → " (p.last_seen.as_deref().unwrap_or("")) }
                    }
                    text.caption x="20" y="18" { "First seen " (p.first_seen.as_deref().unwrap_or("?")) " · last seen " (p.last_seen.as_deref().unwrap_or("?")) }
                }
            }
            _ => { p.muted { "No source states when the actor was active." } }
        }
    }
}

/// The actor's names as a small graph: each source's actor object around the
/// profile's name; actors a source keeps apart drawn with a dashed red edge
/// to the member that keeps them apart.
pub(crate) fn alias_graph(p: &Profile) -> Markup {
    struct Node {
        label: String,
        sub: String,
        x: f64,
        y: f64,
        class: &'static str,
    }
    let (cx, cy, r) = (400.0, 170.0, 130.0);
    let mut nodes: Vec<Node> = Vec::new();
    let n_members = p.members.len().max(1);
    let n_other = p.conflicts.len();
    let total = (n_members + n_other) as f64;
    for (i, m) in p.members.iter().enumerate() {
        let a = std::f64::consts::TAU * i as f64 / total - std::f64::consts::FRAC_PI_2;
        nodes.push(Node {
            label: m.name.clone(),
            sub: m.source.clone(),
            x: cx + r * 1.9 * a.cos(),
            y: cy + r * a.sin(),
            class: "node member",
        });
    }
    let mut conflict_edges = Vec::new();
    for (j, c) in p.conflicts.iter().enumerate() {
        let a =
            std::f64::consts::TAU * (n_members + j) as f64 / total - std::f64::consts::FRAC_PI_2;
        let idx = nodes.len();
        nodes.push(Node {
            label: c.name.clone(),
            sub: c.other_id.clone(),
            x: cx + r * 1.9 * a.cos(),
            y: cy + r * a.sin(),
            class: "node other",
        });
        let from = p
            .members
            .iter()
            .position(|m| {
                m.stix_id == c.kept_apart_from_id
                    || m.external_id.as_deref() == Some(&c.kept_apart_from_id)
            })
            .unwrap_or(0);
        conflict_edges.push((
            from,
            idx,
            format!("kept apart by {}", c.kept_apart_by),
            c.linking_names.join(", "),
        ));
    }
    let trunc = |s: &str, n: usize| -> String {
        if s.chars().count() > n {
            format!("{}…", s.chars().take(n - 1).collect::<String>())
        } else {
            s.to_string()
        }
    };
    html! {
        svg.aliasgraph viewBox="0 0 800 340" role="img" aria-label="Alias graph: sources' actors and conflicts" {
            @for (i, n) in nodes.iter().enumerate() {
                @if i < p.members.len() {
                    line.edge.same x1=(cx) y1=(cy) x2=(n.x) y2=(n.y) {}
                } @else {
                    line.edge.linked x1=(cx) y1=(cy) x2=(n.x) y2=(n.y) {}
                }
            }
            @for (from, to, label, via) in &conflict_edges {
                @if let (Some(a), Some(b)) = (nodes.get(*from), nodes.get(*to)) {
                    line.edge.apart x1=(a.x) y1=(a.y) x2=(b.x) y2=(b.y) { title { (label) "; linked via " (via) } }
                    text.edgelabel x=(a.x * 0.3 + b.x * 0.7) y=(a.y * 0.3 + b.y * 0.7 - 6.0) { (label) }
                }
            }
            g.node.center {
                circle cx=(cx) cy=(cy) r="12" {}
                text x=(cx) y=(cy + 30.0) { (trunc(&p.name, 30)) }
            }
            @for n in &nodes {
                g class=(n.class) {
                    title { (n.label) " — " (n.sub) }
                    circle cx=(n.x) cy=(n.y) r="8" {}
                    text x=(n.x) y=(n.y - 13.0) { (trunc(&n.label, 24)) }
                    text.sub x=(n.x) y=(n.y + 22.0) { (trunc(&n.sub, 30)) }
                }
            }
        }
        p.legend.graphlegend { span.same { "— same actor (shared names)" } " " span.apart { "- - kept apart by a source" } }
    }
}
