//! MISP warninglists: lists of known-benign values (top sites, cloud ranges,
//! public resolvers, RFC ranges, hashes of empty files …) checked with MISP's
//! semantics, done right.
//!
//! A [`WarningLists`] is filled from MISP `list.json` documents with
//! [`WarningLists::add_json`] (or starts from the small embedded
//! [`WarningLists::builtin`] set), then answers [`WarningLists::check`] for a
//! typed value ([`IndicatorKind`] + text) with the first list that covers it, as
//! a [`ListHit`].
//!
//! Semantics, per the list's `type`:
//! - `string`: the whole value, case-blind (hex values also colon-blind). An
//!   entry with a leading dot (`.google.com`) covers that domain and every
//!   subdomain, as MISP's domain lists intend.
//! - `hostname`: the name and every subdomain (`github.com` covers
//!   `www.github.com`, never `notgithub.com` nor `github.com.evil.net`); for URLs,
//!   the URL's host.
//! - `substring`: the entry anywhere in the value, case-blind.
//! - `cidr`: addresses inside a listed network, and networks contained in it
//!   (`10.1.0.0/16` is covered by `10.0.0.0/8`, `0.0.0.0/0` is not).
//! - `regex`: a PCRE-style `/pattern/flags` entry (flags `i`, `m`, `s`, `x`
//!   honoured, `g` ignored).
//!
//! Only lists whose `matching_attributes` apply to the value's kind are
//! consulted (a hash list never suppresses a domain); a list without
//! `matching_attributes` applies to every kind.
//!
//! ```
//! use cairn_model::IndicatorKind;
//! use cairn_warninglist::WarningLists;
//!
//! let mut wl = WarningLists::builtin();
//! wl.add_json("github", r#"{"name":"GitHub","type":"hostname",
//!     "matching_attributes":["hostname","domain"],"list":["github.com"]}"#).unwrap();
//! assert_eq!(wl.check(IndicatorKind::Domain, "WWW.GitHub.com.").unwrap().list, "GitHub");
//! assert!(wl.check(IndicatorKind::Domain, "notgithub.com").is_none());
//! assert!(wl.check(IndicatorKind::Ipv4, "192.168.1.20").is_some());
//! assert!(wl.check(IndicatorKind::Ipv4, "45.77.153.197").is_none());
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builtin;
pub mod errors;
mod lists;

pub use lists::{ListHit, ListInfo, ListType, MatchRule, WarningLists};
