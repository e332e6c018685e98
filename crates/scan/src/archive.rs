//! Zip archives opened in memory, with limits against bombs.

use std::io::{Cursor, Read};

use crate::analyse;
use crate::errors::ScanError;
use crate::hashes;
use crate::report::{self, FileReport};
use crate::yara::Yara;
use crate::{ScanOptions, Sink};

/// Bytes still allowed out of one top-level archive.
pub(crate) struct Budget {
    pub left: u64,
}

/// Reports every entry of the zip in `bytes`, which sits `depth` archives
/// deep (1 for a file given), and of zips inside it down to
/// `opts.max_depth`.
pub(crate) fn expand(
    name: &str,
    bytes: &[u8],
    depth: usize,
    budget: &mut Budget,
    opts: &ScanOptions,
    yara: &mut Yara<'_>,
    sink: Sink,
) {
    let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            sink(archive_error(
                format!("{name}!"),
                format!("not a readable zip archive: {e}"),
            ));
            return;
        }
    };
    let count = zip.len();
    if count > opts.max_entries {
        sink(archive_error(
            format!("{name}!"),
            format!(
                "{count} entries; only the first {} read (--max-entries)",
                opts.max_entries
            ),
        ));
    }
    for i in 0..count.min(opts.max_entries) {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                sink(archive_error(
                    format!("{name}!#{i}"),
                    format!("unreadable entry: {e}"),
                ));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let path = format!("{name}!{}", entry.name());
        if entry.encrypted() {
            sink(archive_error(path, "encrypted entry: not read"));
            continue;
        }
        let declared = entry.size();
        let limit = opts.max_file_size.min(budget.left);
        if declared > limit {
            let why = if declared > opts.max_file_size {
                format!("{declared} bytes uncompressed, over --max-size; not read")
            } else {
                format!(
                    "the archive's {} byte total is spent; not read",
                    opts.max_archive_total
                )
            };
            sink(archive_error(path, why));
            continue;
        }
        // The declared size can lie: read one byte past the limit to know.
        let mut data = Vec::with_capacity(declared as usize);
        if let Err(e) = (&mut entry).take(limit + 1).read_to_end(&mut data) {
            sink(archive_error(path, format!("damaged entry: {e}")));
            continue;
        }
        if data.len() as u64 > limit {
            sink(archive_error(
                path,
                "inflates past its declared size and the limit; not read",
            ));
            budget.left = 0;
            continue;
        }
        budget.left -= data.len() as u64;
        drop(entry);
        let hashes = hashes::of(&data, opts.hashing);
        let mut r = analyse::analyse(path.clone(), &data, hashes, opts.hashing, yara);
        let nested = report::is_zip(&data);
        if nested && depth >= opts.max_depth {
            r.notes.push(format!(
                "archive nested deeper than {} levels: not opened",
                opts.max_depth
            ));
        }
        sink(r);
        if nested && depth < opts.max_depth {
            expand(&path, &data, depth + 1, budget, opts, yara, sink);
        }
    }
}

fn archive_error(path: impl Into<String>, message: impl Into<String>) -> FileReport {
    FileReport::failed(ScanError::Archive {
        path: path.into(),
        message: message.into(),
    })
}
