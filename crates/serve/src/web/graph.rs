//! The pivot graph as SVG, laid out on the server: rings by depth (the
//! start in the middle), each ring's values ordered by their parent's angle
//! then by value, so the same walk always draws the same picture. Nodes are
//! labelled and link to their own pivot; common (damped) values are marked
//! with their fan-out; edges are labelled by kind. No script: styled by
//! classes (app.css), details in `<title>` tooltips.

use super::frame::pivot_href;
use cairn_infra::pivot::Pivot;
use maud::{Markup, html};
use std::collections::HashMap;
use std::f64::consts::{FRAC_PI_2, TAU};

/// Nodes drawn at most (the tables below the graph list them all).
pub(crate) const MAX_DRAWN: usize = 150;
/// Distance between rings.
const RING: f64 = 190.0;
/// Room around the outer ring for labels.
const MARGIN: f64 = 170.0;

/// A drawn node.
struct Spot {
    x: f64,
    y: f64,
    /// From the top, clockwise.
    angle: f64,
    depth: usize,
}

fn depth(path_len: usize) -> usize {
    path_len.saturating_sub(1)
}

fn trunc(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Positions of the first [`MAX_DRAWN`] nodes, by index, around `(c, c)`.
fn layout(p: &Pivot, c: f64) -> HashMap<usize, Spot> {
    let drawn = p.nodes.len().min(MAX_DRAWN);
    let max_depth = p.nodes[..drawn]
        .iter()
        .map(|n| depth(n.path.len()))
        .max()
        .unwrap_or(0);
    let mut spots: HashMap<usize, Spot> = HashMap::new();
    let mut angle_of: HashMap<&str, f64> = HashMap::new();
    for d in 0..=max_depth {
        let mut ring: Vec<(f64, &str, usize)> = (0..drawn)
            .filter(|&i| depth(p.nodes[i].path.len()) == d)
            .map(|i| {
                let n = &p.nodes[i];
                let parent = n
                    .path
                    .len()
                    .checked_sub(2)
                    .and_then(|j| n.path.get(j))
                    .and_then(|v| angle_of.get(v.as_str()))
                    .copied()
                    .unwrap_or(0.0);
                (parent, n.value.as_str(), i)
            })
            .collect();
        ring.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
        let k = ring.len().max(1) as f64;
        let r = RING * d as f64;
        // Evenly spaced in parent order, then the ring turned as a whole
        // towards the parents (their circular mean offset), so a value sits
        // near what reached it.
        let (sin, cos) =
            ring.iter()
                .enumerate()
                .fold((0.0, 0.0), |(s, c), (slot, (parent, _, _))| {
                    let diff = parent - TAU * slot as f64 / k;
                    (s + diff.sin(), c + diff.cos())
                });
        let turn = if d >= 2 { sin.atan2(cos) } else { 0.0 };
        for (slot, (_, value, i)) in ring.into_iter().enumerate() {
            let angle = (TAU * slot as f64 / k + turn).rem_euclid(TAU);
            let a = angle - FRAC_PI_2;
            spots.insert(
                i,
                Spot {
                    x: c + r * a.cos(),
                    y: c + r * a.sin(),
                    angle,
                    depth: d,
                },
            );
            angle_of.entry(value).or_insert(angle);
        }
    }
    spots
}

/// The walk as an SVG graph (nothing when nothing was reached).
pub(crate) fn pivot_graph(p: &Pivot) -> Markup {
    if p.nodes.is_empty() {
        return html! {};
    }
    let drawn = p.nodes.len().min(MAX_DRAWN);
    let max_depth = p.nodes[..drawn]
        .iter()
        .map(|n| depth(n.path.len()))
        .max()
        .unwrap_or(0);
    let c = RING * max_depth as f64 + MARGIN;
    let spots = layout(p, c);
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, n) in p.nodes[..drawn].iter().enumerate() {
        index.entry(n.value.as_str()).or_insert(i);
    }
    let fan_out: HashMap<&str, usize> = p
        .damped
        .iter()
        .map(|d| (d.value.as_str(), d.fan_out))
        .collect();
    let at = |v: &str| index.get(v).and_then(|i| spots.get(i));
    let size = format!("0 0 {:.0} {:.0}", 2.0 * c, 2.0 * c);
    html! {
        figure.pivotgraph {
            svg.pivotgraph viewBox=(size) role="img" aria-label="Pivot graph: values reached, by hops from the start" {
                g.edges {
                    @for e in &p.edges {
                        @if let (Some(a), Some(b)) = (at(&e.from), at(&e.to)) {
                            g.edge data-kind=(e.kind) {
                                title { (e.from) " " (e.kind) " " (e.to) " — seen " (e.count) " time(s); " (e.sources.join(", ")) }
                                line x1=(fmt(a.x)) y1=(fmt(a.y)) x2=(fmt(b.x)) y2=(fmt(b.y)) {}
                                text.edgelabel x=(fmt((a.x + b.x) / 2.0)) y=(fmt((a.y + b.y) / 2.0 - 4.0)) { (e.kind) }
                            }
                        }
                    }
                }
                g.nodes {
                    @for (i, n) in p.nodes[..drawn].iter().enumerate() {
                        @if let Some(s) = spots.get(&i) {
                            @let damped = fan_out.get(n.value.as_str());
                            @let class = node_class(&n.kind, i == 0, damped.is_some(), !n.actors.is_empty());
                            a href=(pivot_href(&n.value)) {
                                g class=(class) data-value=(n.value) data-depth=(depth(n.path.len())) {
                                    title { (n.value) " (" (n.kind) ")"
                                        @for a in &n.actors { "; " (a.name) " per " (a.sources.join(", ")) } }
                                    circle cx=(fmt(s.x)) cy=(fmt(s.y)) r=(if i == 0 { "12" } else { "8" }) {}
                                    text.label x=(fmt(s.x)) y=(fmt(label_y(s))) { (trunc(&n.value, 34)) }
                                    @if let Some(f) = damped {
                                        text.fanout x=(fmt(s.x)) y=(fmt(sub_y(s))) { "fan-out " (f) }
                                    } @else if !n.actors.is_empty() {
                                        text.actors x=(fmt(s.x)) y=(fmt(sub_y(s))) {
                                            (trunc(&n.actors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "), 40))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            figcaption {
                span.key.start { "start" } " " span.key.domain { "domain" } " " span.key.address { "address" } " "
                span.key.other { "other" } " " span.key.linked { "linked to an actor" } " " span.key.damped { "common (not expanded)" }
                @if p.nodes.len() > drawn { " · the first " (drawn) " of " (p.nodes.len()) " values are drawn; the table lists them all" }
            }
        }
    }
}

/// Whether a node sits in the upper half of its ring (labels go above it).
fn upper(s: &Spot) -> bool {
    s.depth > 0 && (s.angle < TAU / 4.0 || s.angle > 3.0 * TAU / 4.0)
}

/// Where a node's label goes: away from the centre.
fn label_y(s: &Spot) -> f64 {
    if upper(s) { s.y - 16.0 } else { s.y + 24.0 }
}

/// Where its second line (fan-out or actors) goes: further out.
fn sub_y(s: &Spot) -> f64 {
    if upper(s) { s.y - 30.0 } else { s.y + 38.0 }
}

fn node_class(kind: &str, start: bool, damped: bool, linked: bool) -> String {
    let kind = match kind {
        "domain" => "domain",
        "address" | "ipv4" | "ipv6" => "address",
        _ => "other",
    };
    let mut c = format!("node {kind}");
    for (on, name) in [(start, " start"), (damped, " damped"), (linked, " linked")] {
        if on {
            c.push_str(name);
        }
    }
    c
}

/// Coordinates with one decimal: short, and the same on every platform.
fn fmt(x: f64) -> String {
    format!("{x:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_infra::pivot::{Damped, PivotEdge, PivotNode};

    fn node(value: &str, path: &[&str]) -> PivotNode {
        PivotNode {
            value: value.into(),
            kind: if value.starts_with(char::is_numeric) {
                "address"
            } else {
                "domain"
            }
            .into(),
            actors: vec![],
            first_seen: None,
            last_seen: None,
            sources: vec!["sensor".into()],
            path: path.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn walk() -> Pivot {
        Pivot {
            nodes: vec![
                node("evil.example", &["evil.example"]),
                node("198.51.100.1", &["evil.example", "198.51.100.1"]),
                node("203.0.113.9", &["evil.example", "203.0.113.9"]),
                node(
                    "sister.example",
                    &["evil.example", "198.51.100.1", "sister.example"],
                ),
            ],
            edges: vec![PivotEdge {
                from: "evil.example".into(),
                to: "198.51.100.1".into(),
                kind: "resolves-to".into(),
                first_seen: None,
                last_seen: None,
                count: 3,
                sources: vec!["sensor".into()],
            }],
            damped: vec![Damped {
                value: "203.0.113.9".into(),
                fan_out: 61,
            }],
            truncated: false,
        }
    }

    #[test]
    fn rings_by_depth_and_the_same_picture_every_time() {
        let p = walk();
        let svg = pivot_graph(&p).into_string();
        assert_eq!(svg, pivot_graph(&p).into_string());
        let c = RING * 2.0 + MARGIN;
        let spots = layout(&p, c);
        let dist = |i: usize| ((spots[&i].x - c).powi(2) + (spots[&i].y - c).powi(2)).sqrt();
        assert!(dist(0) < 0.01);
        assert!((dist(1) - RING).abs() < 0.01 && (dist(2) - RING).abs() < 0.01);
        assert!((dist(3) - 2.0 * RING).abs() < 0.01);
        // Alone on its ring, a value sits in line with what reached it.
        assert!((spots[&3].angle - spots[&1].angle).abs() < 1e-9);
        assert!(svg.contains("fan-out 61"), "{svg}");
        assert!(svg.contains(">resolves-to</text>"));
        assert!(svg.contains("class=\"node address damped\""));
        assert_eq!(svg.matches("<circle").count(), 4);
        // An edge to a value not drawn is left out, not drawn to nowhere.
        assert_eq!(svg.matches("<line").count(), 1);
    }

    #[test]
    fn labels_are_escaped() {
        let mut p = walk();
        p.nodes[1].value = "<script>x</script>".into();
        let svg = pivot_graph(&p).into_string();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }
}
