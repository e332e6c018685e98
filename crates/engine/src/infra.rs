//! The infrastructure engine over a store: an actor's profile with the
//! population it is compared with, built once and used for every candidate.

use crate::errors::EngineError;
use cairn_infra::{ActorInfra, Habit, InfraProfile, Population, Scored, Scorer, Tiered};
use cairn_kb::Store;
use std::net::IpAddr;

/// An actor's infrastructure, profiled against the store's population.
pub struct InfraModel {
    /// The actor's values, with their sources.
    pub infra: ActorInfra,
    /// Its counted habits.
    pub profile: InfraProfile,
    /// What it is compared with.
    pub population: Population,
}

/// Profiles the actor `query` names; `None` when no actor answers to it.
pub fn infra_model(store: &Store, query: &str) -> Result<Option<InfraModel>, EngineError> {
    let Some(infra) = cairn_infra::actor_infrastructure(store, query)? else {
        return Ok(None);
    };
    let population = cairn_infra::population(store, &infra)?;
    let net = |ip: IpAddr| cairn_infra::network(store, ip).ok().flatten();
    let mut profile = InfraProfile::build(&infra.actor, infra.values.clone(), &population, &net);
    let mut seen = std::collections::HashSet::new();
    for v in infra.values.iter().filter(|v| v.kind == "domain") {
        let Some(p) = cairn_infra::domain_parts(&v.value) else {
            continue;
        };
        if seen.insert(p.registered.clone())
            && let Some(r) = cairn_infra::registered(store, &p.registered)?
        {
            profile.add_registration(&r);
        }
    }
    Ok(Some(InfraModel {
        infra,
        profile,
        population,
    }))
}

impl InfraModel {
    /// The actor's distinctive habits, strongest first.
    pub fn habits(&self) -> Vec<Habit> {
        self.profile.habits(&self.population)
    }

    /// Scores a domain or address (an address's network read from the
    /// store's AS tables); `None` when the value is neither.
    pub fn score(&self, store: &Store, value: &str) -> Result<Option<Scored>, EngineError> {
        let (net, reg) = match value.trim().parse::<IpAddr>() {
            Ok(ip) => (cairn_infra::network(store, ip)?, None),
            Err(_) => (None, cairn_infra::registered(store, value)?),
        };
        Ok(
            Scorer::new(&self.profile, &self.population).score_registered(
                value,
                net.as_ref(),
                reg.as_ref(),
            ),
        )
    }

    /// Every value of the actor with its STIX infrastructure types and the
    /// reasons for them (stated roles, observations, certificates).
    pub fn tiers(&self, store: &Store) -> Result<Vec<Tiered>, EngineError> {
        Ok(cairn_infra::tiers(store, &self.infra)?)
    }
}
