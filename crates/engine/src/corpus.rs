//! The attribution corpus a store compiles to.

use crate::errors::EngineError;
use cairn_attribute::Corpus;
use cairn_kb::Store;

/// The kinds of stored object attribution reads.
pub const CORPUS_KINDS: [&str; 8] = [
    "intrusion-set",
    "campaign",
    "attack-pattern",
    "malware",
    "tool",
    "location",
    "identity",
    "indicator",
];

/// The attribution corpus from what `store` lets its caller see.
pub fn corpus(store: &Store) -> Result<Corpus, EngineError> {
    let bundle = store.snapshot(&CORPUS_KINDS)?;
    Ok(Corpus::from_bundle(&bundle))
}
