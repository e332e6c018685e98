//! A block's lines by schema: Zeek blocks go to `zeek`; JSON objects are
//! walked (fields named by their dotted paths), CSV rows cut at their
//! delimiter, and plain text handed to the extractor.

use super::block::{BlockCtx, BlockResult, RelHit};
use super::field::match_typed;
use super::format::{CsvSchema, Schema, is_ts_name, split_csv};
use crate::fields::FieldType;
use crate::index::Match;
use std::collections::HashMap;

impl BlockCtx<'_> {
    /// Matches one block of an input read with `schema` (`skip_first`: its
    /// first line is a header, not a record).
    pub(super) fn run(&self, schema: &Schema, data: &[u8], skip_first: bool) -> BlockResult {
        let mut res = BlockResult::default();
        let mut ms: Vec<Match> = Vec::new();
        match schema {
            Schema::Zeek(z) => return self.run_zeek(z, data, skip_first),
            Schema::Json => {
                let mut cache: HashMap<String, Option<FieldType>> = HashMap::new();
                self.each_line(data, skip_first, &mut res, |line, _, lno, res| {
                    self.json_line(line, lno, &mut ms, &mut cache, res)
                });
            }
            Schema::Csv(c) => {
                let mut cells: Vec<Vec<u8>> = Vec::new();
                self.each_line(data, skip_first, &mut res, |line, _, lno, res| {
                    self.csv_line(c, line, lno, &mut ms, &mut cells, res)
                });
            }
            Schema::Text => self.each_line(data, skip_first, &mut res, |line, _, lno, res| {
                self.text_line(line, lno, &mut ms, res)
            }),
        }
        res
    }

    fn json_line(
        &self,
        line: &[u8],
        lno: u64,
        ms: &mut Vec<Match>,
        cache: &mut HashMap<String, Option<FieldType>>,
        res: &mut BlockResult,
    ) {
        let v: serde_json::Value = match serde_json::from_slice(line) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => {
                res.bad(lno);
                return;
            }
        };
        let before = res.hits.len();
        let mut path = String::new();
        let mut ts = None;
        self.walk(&v, &mut path, lno, ms, cache, res, &mut ts);
        if res.hits.len() > before {
            for h in &mut res.hits[before..] {
                h.ts = ts.clone();
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        v: &serde_json::Value,
        path: &mut String,
        lno: u64,
        ms: &mut Vec<Match>,
        cache: &mut HashMap<String, Option<FieldType>>,
        res: &mut BlockResult,
        ts: &mut Option<String>,
    ) {
        use serde_json::Value;
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(child, path, lno, ms, cache, res, ts);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(item, path, lno, ms, cache, res, ts);
                }
            }
            Value::String(s) => {
                if ts.is_none() && is_ts_name(path) {
                    *ts = Some(s.clone());
                }
                let ty = match cache.get(path.as_str()) {
                    Some(t) => *t,
                    None => {
                        let t = self.fields.lookup(path);
                        cache.insert(path.clone(), t);
                        t
                    }
                };
                if let Some(ty) = ty {
                    // The name is copied only for a hit.
                    let p: &String = path;
                    self.check(ty, s.as_bytes(), lno, &|| p.clone(), ms, res);
                }
            }
            Value::Number(n) if ts.is_none() && is_ts_name(path) => {
                *ts = Some(n.to_string());
            }
            _ => {}
        }
    }

    fn csv_line(
        &self,
        c: &CsvSchema,
        line: &[u8],
        lno: u64,
        ms: &mut Vec<Match>,
        cells: &mut Vec<Vec<u8>>,
        res: &mut BlockResult,
    ) {
        split_csv(line, c.delim, cells);
        if cells.len() != c.names.len() {
            res.bad(lno);
            return;
        }
        let before = res.hits.len();
        for (i, cell) in cells.iter().enumerate() {
            if let Some(Some(ty)) = c.cols.get(i) {
                let name = || c.names[i].clone();
                self.check(*ty, cell, lno, &name, ms, res);
            }
        }
        if res.hits.len() > before
            && let Some(t) = c.ts
        {
            let ts = String::from_utf8_lossy(&cells[t]).into_owned();
            for h in &mut res.hits[before..] {
                h.ts = Some(ts.clone());
            }
        }
    }

    fn text_line(&self, line: &[u8], lno: u64, ms: &mut Vec<Match>, res: &mut BlockResult) {
        let s = String::from_utf8_lossy(line);
        for (kind, val) in self.extractor.extract(&s) {
            ms.clear();
            match_typed(self.index, kind, &val, ms);
            for m in ms.drain(..) {
                res.hits.push(RelHit {
                    line: lno,
                    field: "text".into(),
                    value: val.clone(),
                    m,
                    ts: None,
                });
            }
        }
    }
}
