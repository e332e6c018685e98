//! Test support for Cairn's own tests (a dev-dependency only, never
//! published): where the real published datasets and a headless browser are,
//! and what a test does when they are not there.
//!
//! # Datasets
//!
//! Some tests run on the real published files (ATT&CK, the MISP galaxies,
//! Insikt appendices …). They ask for them here instead of looking
//! themselves, so every test finds them by one rule:
//!
//! - `$CAIRN_DATASETS` when set (a relative value is taken from the workspace
//!   root, since `cargo test` runs each crate's tests in that crate's folder);
//! - otherwise `shared/datasets` beside the workspace root
//!   (`<workspace root>/../shared/datasets`), the workspace root being the
//!   nearest folder above this crate whose `Cargo.toml` has `[workspace]`.
//!
//! ```no_run
//! let Some(attack) = cairn_testkit::dataset("attack/enterprise-attack-18.1.json") else {
//!     return; // the SKIPPED line is printed already
//! };
//! assert!(attack.is_file());
//! ```
//!
//! [`datasets`] checks several entries at once and gives the folder;
//! [`datasets_dir`] gives the folder and checks nothing.
//!
//! # When something is missing
//!
//! By default the test skips: the helper returns `None` after writing
//! `SKIPPED <test>: <what> not found at <path> (set CAIRN_DATASETS)` to the
//! process's stderr, past the test harness's capture, so a plain `cargo test`
//! shows it. With `CAIRN_REQUIRE_DATASETS=1` it panics instead, and the test
//! fails with the same words: CI (`.ci/run`) sets it, so there no test passes
//! by skipping.
//!
//! # Browser
//!
//! [`browser`] finds `chromedriver` and Chromium (`chromium`, or
//! `chromium-browser`) on `PATH`; `CAIRN_REQUIRE_BROWSER=1` makes a missing
//! one a failure in the same way.
//!
//! Unlike Cairn's library crates this one prints and panics: that is how a
//! test reports a skip, or fails.
#![deny(missing_docs)]

pub mod errors;
mod find;
mod modules;

pub use errors::Missing;
pub use find::Browser;
pub use modules::{Module, code_only, cycles, find_word, module_graph, modules};

use find::Verdict;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Names the datasets folder.
pub const DATASETS_VAR: &str = "CAIRN_DATASETS";
/// Set to `1`, makes a missing dataset fail the test instead of skipping it.
pub const REQUIRE_DATASETS_VAR: &str = "CAIRN_REQUIRE_DATASETS";
/// Set to `1`, makes a missing chromedriver or Chromium fail the test.
pub const REQUIRE_BROWSER_VAR: &str = "CAIRN_REQUIRE_BROWSER";
/// Set to `1`, makes an unreachable NATS server fail the test.
pub const REQUIRE_SERVICES_VAR: &str = "CAIRN_REQUIRE_SERVICES";
/// Names the NATS server the tests use (`nats://127.0.0.1:4222` unless set).
pub const NATS_VAR: &str = "CAIRN_TEST_NATS";
/// Names the PostgreSQL server for tests (default `postgres://postgres@127.0.0.1:5432`).
pub const POSTGRES_VAR: &str = "CAIRN_TEST_POSTGRES";

/// The datasets folder by the rule above, whether or not it exists.
pub fn datasets_dir() -> PathBuf {
    find::datasets_dir(std::env::var_os(DATASETS_VAR).as_deref(), workspace_root())
}

/// The file or folder `rel` inside the datasets folder, or `None` (after the
/// `SKIPPED` line) when it is not there; panics instead of returning `None`
/// under `CAIRN_REQUIRE_DATASETS=1`.
#[track_caller]
pub fn dataset(rel: &str) -> Option<PathBuf> {
    let dir = datasets_dir();
    settle(
        find::check_datasets(&dir, &[rel]).map(|()| dir.join(rel)),
        REQUIRE_DATASETS_VAR,
    )
}

/// The datasets folder when it holds every one of `rels` (files or folders
/// relative to it), else like [`dataset`]: `None` after the `SKIPPED` line
/// naming the first one missing, or a panic under `CAIRN_REQUIRE_DATASETS=1`.
/// List every entry the test reads, so a partial folder skips (or fails)
/// with a clear line rather than somewhere inside the test.
#[track_caller]
pub fn datasets(rels: &[&str]) -> Option<PathBuf> {
    let dir = datasets_dir();
    settle(
        find::check_datasets(&dir, rels).map(|()| dir),
        REQUIRE_DATASETS_VAR,
    )
}

/// Chromedriver and Chromium from `PATH`, or `None` (after a `SKIPPED` line)
/// when either is missing; panics instead under `CAIRN_REQUIRE_BROWSER=1`.
#[track_caller]
pub fn browser() -> Option<Browser> {
    settle(
        find::browser(std::env::var_os("PATH").as_deref()),
        REQUIRE_BROWSER_VAR,
    )
}

/// The NATS JetStream server for tests (`$CAIRN_TEST_NATS`, else
/// `nats://127.0.0.1:4222`) when something listens there, or `None` (after
/// a `SKIPPED` line); panics instead under `CAIRN_REQUIRE_SERVICES=1`.
#[track_caller]
pub fn nats() -> Option<String> {
    let url = std::env::var(NATS_VAR).unwrap_or_else(|_| "nats://127.0.0.1:4222".to_string());
    let up = listening(url.trim_start_matches("nats://"));
    let found = if up {
        Ok(url)
    } else {
        Err(Missing {
            what: "a NATS server with JetStream".to_string(),
            looked: format!("at {url}"),
            hint: format!("start `nats-server -js` or set {NATS_VAR}"),
        })
    };
    settle(found, REQUIRE_SERVICES_VAR)
}

/// The PostgreSQL server for tests (`$CAIRN_TEST_POSTGRES`, else
/// `postgres://postgres@127.0.0.1:5432`, trust auth) when something listens
/// there, or `None` (after a `SKIPPED` line); panics instead under
/// `CAIRN_REQUIRE_SERVICES=1`. The address names no database: tests create
/// their own.
#[track_caller]
pub fn postgres() -> Option<String> {
    let url = std::env::var(POSTGRES_VAR)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let up = listening(rest.split('/').next().unwrap_or(rest));
    let found = if up {
        Ok(url)
    } else {
        Err(Missing {
            what: "a PostgreSQL server".to_string(),
            looked: format!("at {url}"),
            hint: format!("start PostgreSQL or set {POSTGRES_VAR}"),
        })
    };
    settle(found, REQUIRE_SERVICES_VAR)
}

/// Whether something accepts TCP connections at `hostport` within 2 s.
fn listening(hostport: &str) -> bool {
    std::net::ToSocketAddrs::to_socket_addrs(hostport)
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| {
            std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok()
        })
}

// The panic names the test's line, not this one.
#[track_caller]
fn settle<T>(found: Result<T, Missing>, require_var: &str) -> Option<T> {
    let require = std::env::var_os(require_var);
    match find::verdict(&test_name(), found, require_var, require.as_deref()) {
        Verdict::Run(t) => Some(t),
        Verdict::Skip(line) => {
            // Straight to the process's stderr: `eprintln!` in a test is
            // captured and shown only for failures, and a skip must be seen.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            None
        }
        Verdict::Fail(message) => panic!("{message}"),
    }
}

/// The running test's name: libtest names each test's thread after it.
fn test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => "this test".to_string(),
    }
}

fn workspace_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        find::workspace_root(here).unwrap_or_else(|| {
            panic!(
                "no Cargo.toml with [workspace] in {} or above",
                here.display()
            )
        })
    })
}

#[cfg(test)]
mod tests {
    //! The public functions as a test sees them, each run in a child process
    //! (this test binary, running one ignored probe) with the environment set
    //! for it, so no test changes this process's environment.

    use super::*;
    use std::ffi::OsStr;
    use std::process::{Command, Output};

    fn probe(name: &str, envs: &[(&str, &OsStr)]) -> Output {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &format!("tests::{name}"), "--ignored"])
            .env_remove(DATASETS_VAR)
            .env_remove(REQUIRE_DATASETS_VAR)
            .env_remove(REQUIRE_BROWSER_VAR)
            .envs(envs.iter().copied())
            .output()
            .unwrap()
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    /// A failed child's panic message: libtest reports it on stdout.
    fn failure(out: &Output) -> String {
        assert!(!out.status.success(), "{}", text(&out.stdout));
        text(&out.stdout) + &text(&out.stderr)
    }

    /// Writes what it got past the capture, as the SKIPPED line is written.
    fn report(got: Option<PathBuf>) {
        let line = match got {
            Some(p) => format!("FOUND {}", p.display()),
            None => "NONE".to_string(),
        };
        writeln!(std::io::stdout().lock(), "{line}").unwrap();
    }

    #[test]
    #[ignore = "run in a child process by the tests below"]
    fn probe_dataset() {
        report(dataset(&std::env::var("PROBE_REL").unwrap()));
    }

    #[test]
    #[ignore = "run in a child process by the tests below"]
    fn probe_datasets() {
        report(datasets(&["a.json", "b"]));
    }

    #[test]
    #[ignore = "run in a child process by the tests below"]
    fn probe_browser() {
        report(browser().map(|b| b.chromedriver));
    }

    #[test]
    fn missing_dataset_skips_with_a_visible_line() {
        let tmp = tempfile::tempdir().unwrap();
        let want = format!(
            "SKIPPED tests::probe_dataset: nope.json not found at {} (set CAIRN_DATASETS)",
            tmp.path().join("nope.json").display()
        );
        for require in [None, Some("0")] {
            let mut envs = vec![
                (DATASETS_VAR, tmp.path().as_os_str()),
                ("PROBE_REL", OsStr::new("nope.json")),
            ];
            if let Some(r) = require {
                envs.push((REQUIRE_DATASETS_VAR, OsStr::new(r)));
            }
            let out = probe("probe_dataset", &envs);
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert!(
                text(&out.stdout).contains("NONE\n"),
                "{}",
                text(&out.stdout)
            );
            assert!(text(&out.stderr).contains(&want), "{}", text(&out.stderr));
        }
    }

    #[test]
    fn missing_dataset_fails_when_required() {
        let out = probe(
            "probe_dataset",
            &[
                (DATASETS_VAR, OsStr::new("/nonexistent/datasets")),
                ("PROBE_REL", OsStr::new("attack/x.json")),
                (REQUIRE_DATASETS_VAR, OsStr::new("1")),
            ],
        );
        let err = failure(&out);
        assert!(
            err.contains(
                "tests::probe_dataset: datasets folder not found at /nonexistent/datasets \
                 (set CAIRN_DATASETS); CAIRN_REQUIRE_DATASETS=1 makes a missing prerequisite \
                 a failure, not a skip"
            ),
            "{err}"
        );
        assert!(!err.contains("SKIPPED"), "{err}");
        assert!(!err.contains("NONE"), "{err}");
    }

    #[test]
    fn present_datasets_are_found_when_required() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.json"), "{}").unwrap();
        let envs = [
            (DATASETS_VAR, tmp.path().as_os_str()),
            ("PROBE_REL", OsStr::new("a.json")),
            (REQUIRE_DATASETS_VAR, OsStr::new("1")),
        ];
        let out = probe("probe_dataset", &envs);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let found = format!("FOUND {}\n", tmp.path().join("a.json").display());
        assert!(text(&out.stdout).contains(&found), "{}", text(&out.stdout));

        // `datasets` wants the folder `b` as well.
        let out = probe("probe_datasets", &envs);
        assert!(failure(&out).contains("b not found at"));
        std::fs::create_dir(tmp.path().join("b")).unwrap();
        let out = probe("probe_datasets", &envs);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let found = format!("FOUND {}\n", tmp.path().display());
        assert!(text(&out.stdout).contains(&found), "{}", text(&out.stdout));
    }

    #[test]
    fn default_folder_is_beside_the_workspace() {
        let out = probe(
            "probe_dataset",
            &[("PROBE_REL", OsStr::new("no-such-entry-cairn-testkit-probe"))],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .and_then(Path::parent)
            .unwrap();
        let dir = root.parent().unwrap().join("shared/datasets");
        let err = text(&out.stderr);
        let want_file = format!(
            "no-such-entry-cairn-testkit-probe not found at {}",
            dir.join("no-such-entry-cairn-testkit-probe").display()
        );
        let want_dir = format!("datasets folder not found at {}", dir.display());
        assert!(err.contains(&want_file) || err.contains(&want_dir), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn browser_skips_fails_or_is_found() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let out = probe("probe_browser", &[("PATH", tmp.path().as_os_str())]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(
            "SKIPPED tests::probe_browser: chromedriver not found on PATH \
             (install Debian's chromium and chromium-driver; .ci/run does)"
        ));
        let required = [
            ("PATH", tmp.path().as_os_str()),
            (REQUIRE_BROWSER_VAR, OsStr::new("1")),
        ];
        let out = probe("probe_browser", &required);
        assert!(failure(&out).contains("CAIRN_REQUIRE_BROWSER=1 makes"));
        // The datasets' switch is not the browser's.
        let out = probe(
            "probe_browser",
            &[
                ("PATH", tmp.path().as_os_str()),
                (REQUIRE_DATASETS_VAR, OsStr::new("1")),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));

        for exe in ["chromedriver", "chromium"] {
            let p = tmp.path().join(exe);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = probe("probe_browser", &required);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let found = format!("FOUND {}\n", tmp.path().join("chromedriver").display());
        assert!(text(&out.stdout).contains(&found), "{}", text(&out.stdout));
    }
}
