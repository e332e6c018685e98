//! `--actor auto` (CLI) and `actor=auto` (API, ingest page): the group a
//! report's statements are linked to, chosen the same way on every surface.

use crate::report::{ActorChoice, ReportModels, attribute_report, choose_actor, read_report};
use cairn_extract::{Document, Extractor};

/// Candidates the choice looks at: only the first one can be chosen, the
/// others give its confidence band its meaning.
const AUTO_TOP: usize = 5;

/// Reads `doc` (indicators with `extractor`, prose with the models' reader)
/// and chooses its group: the one it names, else the best inferred
/// candidate ([`choose_actor`]). `None` when it names no known group and
/// nothing in it points to one.
pub fn actor_choice(
    models: &ReportModels,
    extractor: &Extractor,
    doc: &Document,
) -> Option<ActorChoice> {
    let reading = read_report(extractor, models.reader.as_deref(), doc);
    choose_actor(&attribute_report(&models.corpus, &reading, AUTO_TOP))
}

/// Whether an actor option asks for the automatic choice (`auto`, any case).
pub fn is_auto_actor(actor: Option<&str>) -> bool {
    actor.is_some_and(|a| a.trim().eq_ignore_ascii_case("auto"))
}
