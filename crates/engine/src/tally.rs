//! Counting a hunt's hits: per indicator key, per actor, and — for
//! sightings written back to the store — when and where each key was seen.

use cairn_hunt::Hit;
use cairn_model::{Observable, time};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;

/// Hits per key, kept by each scanning thread and merged when the hunt is
/// done (one shared tally sat under the lock every batch takes, with a
/// cache miss per hit into a table of megabytes).
#[derive(Default)]
pub(crate) struct Tally {
    /// Per key: hits whose value only that key carries. Small entries, so
    /// the table stays in the core's cache.
    pub(crate) single: FxHashMap<u32, u64>,
    /// Per set of keys: hits on a value several indicators carry.
    pub(crate) multi: HashMap<Vec<u32>, u64>,
    /// Per key: the indicator of its first hit, for summaries.
    pub(crate) first: FxHashMap<u32, Observable>,
}

impl Tally {
    pub(crate) fn with_capacity(n: usize) -> Tally {
        Tally {
            single: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            ..Tally::default()
        }
    }

    pub(crate) fn add(&mut self, hit: &Hit) {
        if let [k] = hit.keys.as_slice() {
            let n = self.single.entry(*k).or_insert(0);
            if *n == 0 {
                self.first.insert(*k, hit.indicator.clone());
            }
            *n += 1;
            return;
        }
        *self.multi.entry(hit.keys.clone()).or_insert(0) += 1;
        for k in &hit.keys {
            self.first
                .entry(*k)
                .or_insert_with(|| hit.indicator.clone());
        }
    }

    /// Both tallies in one, the larger one taking the smaller's keys.
    pub(crate) fn merge(self, other: Tally) -> Tally {
        let (mut big, small) = if self.single.len() >= other.single.len() {
            (self, other)
        } else {
            (other, self)
        };
        for (k, n) in small.single {
            *big.single.entry(k).or_insert(0) += n;
        }
        for (ks, n) in small.multi {
            *big.multi.entry(ks).or_insert(0) += n;
        }
        for (k, o) in small.first {
            big.first.entry(k).or_insert(o);
        }
        big
    }

    /// Hits per key, a hit on a value several keys carry counting for each.
    pub(crate) fn per_key(&self) -> FxHashMap<u32, u64> {
        // Not `single.clone()`: that copies the whole table, sized up front
        // for tens of thousands of keys, however few were hit.
        let mut out = FxHashMap::with_capacity_and_hasher(
            self.single.len() + self.multi.len(),
            Default::default(),
        );
        out.extend(self.single.iter().map(|(k, n)| (*k, *n)));
        for (ks, n) in &self.multi {
            for k in ks {
                *out.entry(*k).or_insert(0) += n;
            }
        }
        out
    }
}

/// When and where a key was seen, kept only when sightings are recorded:
/// the timestamp rule and the comparisons per hit were most of the tally's cost.
#[derive(Default)]
pub(crate) struct KeySeen {
    pub(crate) first: Option<String>,
    pub(crate) last: Option<String>,
    /// The inputs it was seen in, as first seen: a key is nearly always in
    /// one, kept in the entry itself (no second cache miss per hit), the
    /// others in a list.
    pub(crate) file: Option<Arc<str>>,
    pub(crate) more_files: Vec<Arc<str>>,
}

impl KeySeen {
    pub(crate) fn see(&mut self, hit: &Hit, ts: Option<&str>) {
        // One `Arc` per input: its address decides nearly every time.
        let same = |f: &Arc<str>| Arc::ptr_eq(f, &hit.file) || *f == hit.file;
        match &self.file {
            None => self.file = Some(hit.file.clone()),
            Some(f) if same(f) => {}
            Some(_) => {
                if !self.more_files.iter().any(same) {
                    self.more_files.push(hit.file.clone());
                }
            }
        }
        if let Some(ts) = ts {
            set_if(&mut self.first, ts, |new, cur| new < cur);
            set_if(&mut self.last, ts, |new, cur| new > cur);
        }
    }

    /// Where, as a sighting records it: the inputs' names, sorted, at most 20.
    pub(crate) fn location(&self) -> String {
        let mut files: Vec<&str> = self
            .file
            .iter()
            .chain(&self.more_files)
            .map(|f| &**f)
            .collect();
        files.sort_unstable();
        files.truncate(20);
        files.join(", ")
    }
}

/// Sets `slot` to `v` when it is empty or `better(v, current)`, in place:
/// logs run forward in time, so a key's last sighting moves at nearly
/// every hit and a new string each time would be an allocation per hit.
fn set_if(slot: &mut Option<String>, v: &str, better: impl Fn(&str, &str) -> bool) {
    match slot {
        Some(cur) if better(v, cur) => {
            cur.clear();
            cur.push_str(v);
        }
        Some(_) => {}
        None => *slot = Some(v.to_string()),
    }
}

/// A log line's timestamp as a sighting stores it: RFC 3339 in UTC to the
/// second (`2023-06-01T00:00:00Z`), so stamps from any log compare as
/// text. Zeek's epoch seconds (`1685577600.123456`) and every form
/// [`cairn_model::time::parse`] reads are converted; anything else is kept
/// as logged (trimmed).
pub fn sighting_time(ts: &str) -> String {
    let t = ts.trim();
    // Zeek's fraction after epoch seconds is not a form sources write.
    let whole = match t.split_once('.') {
        Some((secs, frac)) if frac.bytes().all(|b| b.is_ascii_digit()) => secs,
        _ => t,
    };
    match time::parse(whole).or_else(|| time::parse(t)) {
        Some(stamp) => time::format_s(stamp),
        None => t.to_string(),
    }
}

/// Now, as a sighting stores times.
pub(crate) fn now() -> String {
    time::format_s(jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_hunt::MatchKind;
    use cairn_model::IndicatorKind;

    fn hit(keys: Vec<u32>, value: &str) -> Hit {
        Hit {
            file: Arc::from("x.log"),
            line: 1,
            field: "query".into(),
            value: value.into(),
            indicator: Observable::new(IndicatorKind::Domain, value),
            match_kind: MatchKind::Exact,
            keys,
            ts: None,
        }
    }

    #[test]
    fn sighting_times_compare_as_text_whatever_the_log_wrote() {
        assert_eq!(sighting_time("1685577600.123456"), "2023-06-01T00:00:00Z");
        assert_eq!(
            sighting_time(" 2023-06-01T01:02:03Z"),
            "2023-06-01T01:02:03Z"
        );
        assert_eq!(
            sighting_time("2023-06-01T03:02:03.999+02:00"),
            "2023-06-01T01:02:03Z"
        );
        assert_eq!(sighting_time("951782400"), "2000-02-29T00:00:00Z");
        assert_eq!(sighting_time("Jun  1 00:00:00"), "Jun  1 00:00:00");
        // Epoch and ISO forms of one instant are one stamp.
        assert_eq!(
            sighting_time("1685577600"),
            sighting_time("2023-06-01T02:00:00+02:00")
        );
    }

    #[test]
    fn thread_tallies_merge_into_one() {
        // Key 1 on both threads, key 2 (shared with 1 by one value) and key
        // 3 on one each; the larger tally is on either side of the merge.
        let (mut a, mut b) = (Tally::default(), Tally::default());
        for _ in 0..3 {
            a.add(&hit(vec![1], "a.example"));
        }
        a.add(&hit(vec![1, 2], "b.example"));
        b.add(&hit(vec![1], "a.example"));
        b.add(&hit(vec![3], "c.example"));
        let small = || {
            let mut t = Tally::default();
            t.add(&hit(vec![3], "c.example"));
            t
        };
        for merged in [a.merge(b), small().merge(Tally::default())] {
            let per_key = merged.per_key();
            assert_eq!(per_key.len(), merged.first.len());
            if per_key.len() == 1 {
                assert_eq!(per_key.get(&3), Some(&1));
                continue;
            }
            let mut got: Vec<(u32, u64, &str)> = per_key
                .iter()
                .map(|(k, n)| (*k, *n, merged.first[k].value.as_str()))
                .collect();
            got.sort_unstable();
            assert_eq!(
                got,
                [
                    (1, 5, "a.example"),
                    (2, 1, "b.example"),
                    (3, 1, "c.example")
                ]
            );
            assert_eq!(merged.multi.get(&vec![1, 2]), Some(&1));
        }
        let merged = Tally::default().merge(small()).merge(small());
        assert_eq!(merged.per_key().get(&3), Some(&2));
    }

    #[test]
    fn a_key_remembers_its_earliest_and_latest_stamp_and_every_file() {
        let mut seen = KeySeen::default();
        let mut h = hit(vec![1], "a.example");
        for (file, ts) in [
            ("b.log", "2023-06-02T00:00:00Z"),
            ("a.log", "2023-06-01T00:00:00Z"),
            ("b.log", "2023-06-03T00:00:00Z"),
        ] {
            h.file = Arc::from(file);
            seen.see(&h, Some(ts));
        }
        assert_eq!(seen.first.as_deref(), Some("2023-06-01T00:00:00Z"));
        assert_eq!(seen.last.as_deref(), Some("2023-06-03T00:00:00Z"));
        assert_eq!(seen.location(), "a.log, b.log");
    }
}
