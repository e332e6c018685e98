//! Infrastructure: what an actor's domains and addresses look like, and how
//! much a new one looks like theirs.
//!
//! # Data flow
//!
//! 1. [`actor_infrastructure`] reads an actor's domains and addresses from
//!    the knowledge base (every linked source's indicators; URLs give their
//!    host; values a source marks as victims are left out), each with the
//!    sources that say so.
//! 2. [`population`] reads what the actor is compared with: the popularity
//!    lists among the store's warninglists (ordinary names: they also teach
//!    the character model and the brands look-alikes imitate), every other
//!    actor's infrastructure, and the routed space of the address → AS
//!    tables.
//! 3. [`InfraProfile::build`] counts the actor's habits — top-level domains,
//!    label length, shape and randomness, look-alikes of popular names, AS,
//!    hosting organisation, /16 and /24 blocks — and [`InfraProfile::habits`]
//!    says which are *distinctive*: shown more often than by the population.
//! 4. [`Scorer::score`] turns a candidate into a score that is the sum of
//!    readable [`Contribution`]s (each a log-likelihood ratio), and
//!    [`eval::evaluate`] measures it on held-out values mixed with decoys.
//! 5. [`pivot()`] walks outwards from a value over the store's observations
//!    (passive DNS, TLS, connections) and registration records (registrar,
//!    name servers, registrant e-mail) within a node budget, damping values
//!    shared by too many others (shared hosting, CDNs, NameCheap,
//!    warninglisted), and says for every node the path that reached it and
//!    the actors its indicators name.
//! 6. [`behaviour()`] reads what the connection summaries (Zeek `conn`) say
//!    an address did: scanning internal hosts, or being the regular
//!    destination of internal hosts' small check-ins (beacons).
//! 7. [`tiers()`] gives each of the actor's values its STIX infrastructure
//!    types with the reasons (stated roles, behaviour, certificates,
//!    observations linking it to a stated value) and the strictest marking
//!    among the facts used; [`group`] gathers them by type.
//! 8. [`cluster()`] groups unattributed values by the non-hub values they
//!    share, the shared values being the reasons.
//!
//! The method and its measured figures are in `docs/INFRASTRUCTURE.md`.
//!
//! # Example
//!
//! ```
//! use cairn_infra::{InfraProfile, InfraValue, Population, Scorer};
//!
//! let pop = Population::new(["google.com", "microsoft.com", "onenote.com", "weather.com"]);
//! let value = |v: &str| InfraValue {
//!     value: v.into(), kind: "domain".into(), sources: vec!["report".into()],
//!     ..InfraValue::default()
//! };
//! let profile = InfraProfile::build(
//!     "RedHotel",
//!     vec![value("hostingupdate.club"), value("windowshostnamehost.club")],
//!     &pop,
//!     &|_| None,
//! );
//! let scorer = Scorer::new(&profile, &pop);
//! let club = scorer.score("0nenote.club", None).unwrap();
//! let com = scorer.score("weather.com", None).unwrap();
//! assert!(club.score > com.score);
//! let total: f64 = club.contributions.iter().map(|c| c.weight).sum();
//! assert!((total - club.score).abs() < 0.05);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod behaviour;
pub mod cluster;
pub mod errors;
pub mod eval;
mod features;
mod model;
pub mod pivot;
mod store;
pub mod tiers;

pub use behaviour::{Behaviour, Thresholds, behaviour, behaviour_with};
pub use cluster::{Cluster, ClusterOptions, Clustering, Shared, cluster, unattributed};
pub use errors::InfraError;
pub use features::{DomainParts, Network, Registered, domain_parts};
pub use model::{Contribution, Habit, InfraProfile, InfraValue, Population, Said, Scored, Scorer};
pub use pivot::{Pivot, PivotOptions, pivot};
pub use store::{
    ActorInfra, actor_infrastructure, asns_of_ranges, is_hosting_list, network, population,
    registered,
};
pub use tiers::{Tier, TierReason, Tiered, group, tiers};
