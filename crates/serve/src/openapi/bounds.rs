//! The bounds of the API's integer parameters, as the OpenAPI document
//! declares them: a value outside is a 400, never silently clamped.

/// `limit` of `/search`.
pub(crate) const SEARCH_LIMIT: (u64, u64, u64) = (1, 200, 20);
/// `limit` of `/actors/{name}/indicators`.
pub(crate) const INDICATOR_LIMIT: (u64, u64, u64) = (1, 10_000, 500);
/// `top` of `/attribute`.
pub(crate) const TOP: (u64, u64, u64) = (1, 50, 10);
/// Longest `value` a lookup takes, in characters: percent-encoded it
/// stays under the HTTP stack's URI limit (64 KiB), which answers 414.
pub(crate) const MAX_VALUE: usize = 4096;
/// `depth` of `/pivot` (hops from the start value).
pub(crate) const PIVOT_DEPTH: (u64, u64, u64) = (0, 4, 2);
/// `budget` of `/pivot` (most values reported).
pub(crate) const PIVOT_BUDGET: (u64, u64, u64) = (1, 2000, 200);
/// `max_fan_out` of `/pivot` (neighbours above which a value is common).
pub(crate) const PIVOT_FAN_OUT: (u64, u64, u64) = (1, 10_000, 50);
/// Most candidates one `/infra/{actor}/score` request scores.
pub(crate) const MAX_SCORE_VALUES: usize = 1000;
/// Longest `name` a scanned upload takes, in characters.
pub(crate) const MAX_FILE_NAME: usize = 255;
/// `samples` of `/cert/{query}` (samples listed at most).
pub(crate) const CERT_SAMPLES: (u64, u64, u64) = (0, 1000, 20);
