//! One module per subcommand; each has an `Args` and a `run`.

pub mod actor;
pub mod attribute;
pub mod cert;
pub mod detect;
pub mod eval;
pub mod export;
pub mod extract;
pub mod feed;
pub mod grouped;
pub mod hunt;
pub mod infra;
pub mod ingest;
pub mod observe;
pub mod pivot;
pub mod registration;
pub mod scan;
pub mod search;
pub mod serve;
pub mod stats;
pub mod token;
pub mod worker;
