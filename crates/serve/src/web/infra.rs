//! Infrastructure on the web: the actor page's Infrastructure section
//! (distinctive habits with weights, the actor's domains and addresses, each
//! a link to its pivot) and the pivot page (a form, the graph as SVG, the
//! nodes, edges and damped values as tables).

use super::frame::{actor_href, indicator_href, page, pivot_href, respond};
use super::graph::pivot_graph;
use crate::auth::WebCaller;
use crate::errors::ApiError;
use crate::infra_api::PivotParams;
use crate::state::{App, Clearance};
use axum::extract::{Query, State};
use axum::response::Response;
use cairn_engine::InfraModel;
use cairn_infra::pivot::Pivot;
use maud::{Markup, html};

/// Habits shown on the actor page; the API returns them all.
const HABITS_SHOWN: usize = 30;
/// Values listed on the actor page.
const VALUES_SHOWN: usize = 100;

/// The actor page's Infrastructure section, as the clearance sees the
/// store. A failure to build the model is said in the section, never fails
/// the page.
pub(crate) async fn actor_section(app: &App, clearance: Clearance, name: String) -> Markup {
    match app.infra_model(clearance, name).await {
        Ok(m) => infra_section(&m),
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => html! {},
        // A store on PostgreSQL keeps no observations yet.
        Err(e) if e.status == axum::http::StatusCode::NOT_IMPLEMENTED => html! {
            section #infrastructure {
                h2 { "Infrastructure" }
                p.muted { "Infrastructure profiles need the embedded store for now." }
            }
        },
        Err(e) => html! {
            section #infrastructure {
                h2 { "Infrastructure" }
                p.error { "The infrastructure profile could not be built: " (e.message) }
            }
        },
    }
}

fn infra_section(m: &InfraModel) -> Markup {
    let summary = m.summary();
    let habits = &summary.habits;
    html! {
        section #infrastructure {
            h2 { "Infrastructure" }
            p.counts {
                strong.domains { (summary.registered_domains) } " registered domain(s) · "
                strong.addresses { (summary.addresses) } " address(es)"
                span.muted { " — compared with " (m.population.describe()) }
            }
            @if summary.values.is_empty() {
                p.muted { "No domains or addresses stated for this actor." }
            } @else {
                (habits_table(habits))
                (tiers_table(&summary.tiers))
                (values_table(&summary.values))
            }
        }
    }
}

/// The distinctive habits, strongest first. Its own function: a table of
/// tiers goes beside it.
fn habits_table(habits: &[cairn_infra::Habit]) -> Markup {
    html! {
        h3 { "Distinctive habits" }
        @if habits.is_empty() {
            p.muted { "No habit stands out (too few values, or none more common than in the population)." }
        } @else {
            table.habits {
                thead { tr { th { "Feature" } th { "Value" } th.num { "Actor" } th.num { "Population" } th.num { "Weight" } } }
                tbody {
                    @for h in habits.iter().take(HABITS_SHOWN) {
                        tr {
                            td { (h.feature) } td { code { (h.value) } }
                            td.num { (h.count) " (" (format!("{:.0}", h.share * 100.0)) " %)" }
                            td.num { (format!("{:.3}", h.population_share * 100.0)) " %" }
                            td.num.weight { (format!("{:+.2}", h.weight)) }
                        }
                    }
                }
            }
            @if habits.len() > HABITS_SHOWN {
                p.muted { "Showing " (HABITS_SHOWN) " of " (habits.len()) " habits; the API returns them all." }
            }
        }
    }
}

/// The values grouped by STIX infrastructure type, each group with a few
/// members (pivot links) and one reason (the API has every value's).
fn tiers_table(tiered: &[cairn_infra::Tiered]) -> Markup {
    let tiers = cairn_infra::group(tiered);
    html! {
        h3 { "Tiers" }
        table.tiers {
            thead { tr { th { "Type" } th.num { "Values" } th.num { "Long-lived" } th { "E.g." } th { "Why, e.g." } } }
            tbody {
                @for t in &tiers {
                    @let why = t.values.iter().flat_map(|v| &v.reasons)
                        .find(|r| r.infrastructure_type == t.infrastructure_type);
                    tr {
                        td { (t.infrastructure_type) }
                        td.num { (t.values.len()) }
                        td.num { (t.values.iter().filter(|v| v.lifetime == Some("long-lived")).count()) }
                        td {
                            @for (i, v) in t.values.iter().take(3).enumerate() {
                                @if i > 0 { ", " }
                                a.pivot href=(pivot_href(&v.value)) { code { (v.value) } }
                            }
                        }
                        td {
                            @match why {
                                Some(r) => { (r.basis) ": " (r.reason) " (" (r.sources.join(", ")) ")" }
                                None => span.muted { "no source or observation says" },
                            }
                        }
                    }
                }
            }
        }
    }
}

fn values_table(values: &[cairn_infra::InfraValue]) -> Markup {
    html! {
        h3 { "Domains and addresses" }
        table.infravalues {
            thead { tr { th { "Value" } th { "Type" } th { "Role" } th { "Sources" } } }
            tbody {
                @for v in values.iter().take(VALUES_SHOWN) {
                    tr {
                        td { a.pivot href=(pivot_href(&v.value)) title="Pivot from here" { code { (v.value) } } }
                        td { (v.kind) } td { (v.roles.join(", ")) } td { (v.sources.join(", ")) }
                    }
                }
            }
        }
        @if values.len() > VALUES_SHOWN {
            p.muted { "Showing " (VALUES_SHOWN) " of " (values.len()) "; the API returns them all." }
        }
    }
}

/// `GET /pivot?value=…&depth=…`: the form, and the walk when a value is given.
pub(crate) async fn pivot_page(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Query(q): Query<PivotParams>,
) -> Response {
    let r: Result<Markup, ApiError> = async {
        let start = q.start()?;
        let opts = q.options()?;
        let walked = if start.is_empty() {
            None
        } else {
            Some(app.pivot(c.clearance(), start.clone(), opts).await?)
        };
        let title = if start.is_empty() {
            "Pivot".to_string()
        } else {
            format!("Pivot: {start}")
        };
        Ok(page(
            &title,
            Some(&c),
            html! {
                h1 { "Pivot" @if !start.is_empty() { " from " code { (start) } } }
                (pivot_form(&q, &start))
                @if let Some(p) = &walked { (pivot_result(p, &start, opts.budget)) }
            },
        ))
    }
    .await;
    respond(r)
}

fn pivot_form(q: &PivotParams, start: &str) -> Markup {
    let v = |o: &Option<String>, d: &str| {
        o.clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| d.into())
    };
    let expand = matches!(q.expand_common.as_deref(), Some("true" | "1" | "on"));
    html! {
        form.tool.pivotform action="/pivot" method="get" {
            label for="value" { "Domain, address or certificate" }
            input #value name="value" value=(start) required;
            div.row {
                label { "Depth " input name="depth" type="number" min="0" max="4" value=(v(&q.depth, "2")); }
                label { "Budget " input name="budget" type="number" min="1" max="2000" value=(v(&q.budget, "200")); }
                label { "Max fan-out " input name="max_fan_out" type="number" min="1" max="10000" value=(v(&q.max_fan_out, "50")); }
                label { "At " input name="at" placeholder="YYYY-MM" value=(v(&q.at, "")); }
                label.check { input type="checkbox" name="expand_common" value="true" checked[expand]; " Expand common values" }
            }
            button type="submit" { "Pivot" }
        }
    }
}

fn pivot_result(p: &Pivot, start: &str, budget: usize) -> Markup {
    html! {
        @if p.nodes.is_empty() {
            p.verdict.none { code { (start) } " is neither observed (passive DNS, TLS) nor a known indicator." }
        } @else {
            p.counts {
                (p.nodes.len()) " value(s), " (p.edges.len()) " edge(s), " (p.damped.len()) " common value(s) not expanded"
                @if p.truncated { " · " strong { "budget of " (budget) " reached" } }
                " · " a href=(indicator_href(start)) { "indicator lookup" }
            }
            (pivot_graph(p))
            (nodes_table(p))
            (edges_table(p))
            @if !p.damped.is_empty() {
                section #damped {
                    h2 { "Common values, not expanded" }
                    p.muted { "Shared by more neighbours than the fan-out limit, or warninglisted: walking through them would link everything to everything." }
                    table {
                        thead { tr { th { "Value" } th.num { "Fan-out" } } }
                        tbody { @for d in &p.damped { tr {
                            td { a href=(pivot_href(&d.value)) { code { (d.value) } } }
                            td.num { (d.fan_out) }
                        } } }
                    }
                }
            }
        }
    }
}

fn nodes_table(p: &Pivot) -> Markup {
    let day = |t: &Option<String>| {
        t.as_deref()
            .map_or(String::new(), |t| t.chars().take(10).collect())
    };
    html! {
        section #nodes {
            h2 { "Values (" (p.nodes.len()) ")" }
            table.nodes {
                thead { tr { th { "Value" } th { "Type" } th { "Actors" } th { "First seen" } th { "Last seen" } th { "Sources" } th { "Path" } } }
                tbody {
                    @for n in &p.nodes {
                        tr {
                            td { a href=(pivot_href(&n.value)) { code { (n.value) } } }
                            td { (n.kind) }
                            td { @for (i, a) in n.actors.iter().enumerate() {
                                @if i > 0 { "; " }
                                a href=(actor_href(&a.name)) { (a.name) } span.sources { " (" (a.sources.join(", ")) ")" }
                            } }
                            td { (day(&n.first_seen)) } td { (day(&n.last_seen)) }
                            td { (n.sources.join(", ")) }
                            td.path { (n.path.join(" → ")) }
                        }
                    }
                }
            }
        }
    }
}

fn edges_table(p: &Pivot) -> Markup {
    html! {
        section #edges {
            h2 { "Edges (" (p.edges.len()) ")" }
            table.edges {
                thead { tr { th { "From" } th { "Kind" } th { "To" } th.num { "Count" } th { "First seen" } th { "Last seen" } th { "Sources" } } }
                tbody {
                    @for e in &p.edges {
                        tr {
                            td { a href=(pivot_href(&e.from)) { code { (e.from) } } }
                            td { (e.kind) }
                            td { a href=(pivot_href(&e.to)) { code { (e.to) } } }
                            td.num { (e.count) }
                            td { (e.first_seen.as_deref().unwrap_or("")) } td { (e.last_seen.as_deref().unwrap_or("")) }
                            td { (e.sources.join(", ")) }
                        }
                    }
                }
            }
        }
    }
}
