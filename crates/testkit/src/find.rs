//! The finding and the deciding, as functions of the values they are given
//! (environment values, folders), so they can be tested without touching the
//! process's environment.

use crate::errors::Missing;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Chromedriver and the Chromium it drives, both found on `PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    /// The `chromedriver` executable.
    pub chromedriver: PathBuf,
    /// The Chromium executable (`chromium`, or `chromium-browser` on some
    /// distributions), to pass as `goog:chromeOptions.binary`.
    pub chromium: PathBuf,
}

/// What a test does about a prerequisite.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict<T> {
    /// Found: the test runs with it.
    Run(T),
    /// Missing and not required: print this line and skip.
    Skip(String),
    /// Missing and required: fail with this message.
    Fail(String),
}

/// Whether a `CAIRN_REQUIRE_*` value asks for strictness: any value but
/// unset, empty, `0`, `false`, `no` or `off`.
pub(crate) fn is_on(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| {
        let v = v.to_string_lossy().trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "false" | "no" | "off")
    })
}

/// Skip or fail on a missing prerequisite, or run with a found one.
pub(crate) fn verdict<T>(
    test: &str,
    found: Result<T, Missing>,
    require_var: &str,
    require: Option<&OsStr>,
) -> Verdict<T> {
    match found {
        Ok(t) => Verdict::Run(t),
        Err(m) if is_on(require) => Verdict::Fail(format!(
            "{test}: {m}; {require_var}={} makes a missing prerequisite a failure, not a skip",
            require.unwrap_or_default().to_string_lossy()
        )),
        Err(m) => Verdict::Skip(format!("SKIPPED {test}: {m}")),
    }
}

/// The nearest folder at or above `start` whose `Cargo.toml` declares
/// `[workspace]`.
pub(crate) fn workspace_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        declares_workspace(&text).then(|| dir.to_path_buf())
    })
}

/// Whether a manifest has a `[workspace]` table header. A line check rather
/// than a TOML parser: the header is all that matters, and it is never
/// written inline.
fn declares_workspace(manifest: &str) -> bool {
    manifest
        .lines()
        .any(|l| l.split('#').next().unwrap_or_default().trim() == "[workspace]")
}

/// The datasets folder: `value` (of `CAIRN_DATASETS`) when set and not empty,
/// taken from the workspace root if relative; otherwise `shared/datasets`
/// beside the workspace root.
pub(crate) fn datasets_dir(value: Option<&OsStr>, root: &Path) -> PathBuf {
    match value.filter(|v| !v.is_empty()) {
        // `join` keeps an absolute value as it is.
        Some(v) => root.join(v),
        None => match root.parent() {
            Some(parent) => parent.join("shared/datasets"),
            None => root.join("../shared/datasets"),
        },
    }
}

/// Checks that `dir` is a folder holding every one of `rels` (files or
/// folders); names the folder, or the first entry, that is not there.
pub(crate) fn check_datasets(dir: &Path, rels: &[&str]) -> Result<(), Missing> {
    let missing = |what: &str, path: &Path| Missing {
        what: what.to_string(),
        looked: format!("at {}", path.display()),
        hint: "set CAIRN_DATASETS".to_string(),
    };
    if !dir.is_dir() {
        return Err(missing("datasets folder", dir));
    }
    match rels.iter().find(|r| !dir.join(r).exists()) {
        Some(rel) => Err(missing(rel, &dir.join(rel))),
        None => Ok(()),
    }
}

/// Finds chromedriver and Chromium in the folders of `path` (a `PATH` value).
pub(crate) fn browser(path: Option<&OsStr>) -> Result<Browser, Missing> {
    let dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    let find = |names: &[&str]| {
        dirs.iter()
            .flat_map(|d| names.iter().map(move |n| d.join(n)))
            .find(|f| is_executable(f))
    };
    let missing = |what: &str| Missing {
        what: what.to_string(),
        looked: "on PATH".to_string(),
        hint: "install Debian's chromium and chromium-driver; .ci/run does".to_string(),
    };
    let chromedriver = find(&["chromedriver"]).ok_or_else(|| missing("chromedriver"))?;
    let chromium = find(&["chromium", "chromium-browser"]).ok_or_else(|| missing("chromium"))?;
    Ok(Browser {
        chromedriver,
        chromium,
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn os(s: &str) -> OsString {
        OsString::from(s)
    }

    #[test]
    fn require_values() {
        for on in ["1", "true", "yes", "TRUE", " 1 "] {
            assert!(is_on(Some(&os(on))), "{on:?}");
        }
        for off in ["", "0", "false", "no", "off", "Off"] {
            assert!(!is_on(Some(&os(off))), "{off:?}");
        }
        assert!(!is_on(None));
    }

    fn gone() -> Missing {
        Missing {
            what: "attack/x.json".into(),
            looked: "at /nowhere/attack/x.json".into(),
            hint: "set CAIRN_DATASETS".into(),
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            verdict("t", Ok(7), "CAIRN_REQUIRE_DATASETS", Some(&os("1"))),
            Verdict::Run(7)
        );
        assert_eq!(
            verdict::<()>("kb::real", Err(gone()), "CAIRN_REQUIRE_DATASETS", None),
            Verdict::Skip(
                "SKIPPED kb::real: attack/x.json not found at /nowhere/attack/x.json \
                 (set CAIRN_DATASETS)"
                    .into()
            )
        );
        assert_eq!(
            verdict::<()>("t", Err(gone()), "CAIRN_REQUIRE_DATASETS", Some(&os("0"))),
            Verdict::Skip(
                "SKIPPED t: attack/x.json not found at /nowhere/attack/x.json (set CAIRN_DATASETS)"
                    .into()
            )
        );
        assert_eq!(
            verdict::<()>("t", Err(gone()), "CAIRN_REQUIRE_DATASETS", Some(&os("1"))),
            Verdict::Fail(
                "t: attack/x.json not found at /nowhere/attack/x.json (set CAIRN_DATASETS); \
                 CAIRN_REQUIRE_DATASETS=1 makes a missing prerequisite a failure, not a skip"
                    .into()
            )
        );
    }

    #[test]
    fn workspace_header_is_found_and_only_it() {
        assert!(declares_workspace("[workspace]\nmembers = []\n"));
        assert!(declares_workspace("[package]\n\n  [workspace] # here\n"));
        assert!(!declares_workspace(
            "[workspace.package]\nversion = \"1\"\n"
        ));
        assert!(!declares_workspace("# [workspace]\n[package]\n"));
        assert!(!declares_workspace("[package]\nname = \"workspace\"\n"));
    }

    #[test]
    fn workspace_root_walks_up_past_member_manifests() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        let member = root.join("crates/x");
        std::fs::create_dir_all(member.join("src")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .unwrap();
        std::fs::write(
            member.join("Cargo.toml"),
            "[package]\nname = \"x\"\n[package.metadata]\n",
        )
        .unwrap();
        assert_eq!(workspace_root(&member.join("src")), Some(root.clone()));
        assert_eq!(workspace_root(&member), Some(root.clone()));
        assert_eq!(workspace_root(&root), Some(root));
        assert_eq!(workspace_root(tmp.path()), None);
    }

    #[test]
    fn this_workspace_root_holds_this_crate() {
        let root = workspace_root(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(
            root.join("crates/testkit/Cargo.toml").is_file(),
            "{}",
            root.display()
        );
    }

    #[test]
    fn datasets_dir_rule() {
        let root = Path::new("/w/cairn");
        assert_eq!(datasets_dir(None, root), Path::new("/w/shared/datasets"));
        assert_eq!(
            datasets_dir(Some(&os("")), root),
            Path::new("/w/shared/datasets")
        );
        assert_eq!(
            datasets_dir(Some(&os("/data/ds")), root),
            Path::new("/data/ds")
        );
        assert_eq!(
            datasets_dir(Some(&os("ds")), root),
            Path::new("/w/cairn/ds")
        );
        assert_eq!(
            datasets_dir(None, Path::new("/")),
            Path::new("/../shared/datasets")
        );
    }

    #[test]
    fn check_names_the_folder_then_the_first_missing_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir_all(d.join("attack")).unwrap();
        std::fs::write(d.join("attack/a.json"), "{}").unwrap();
        assert_eq!(check_datasets(d, &[]), Ok(()));
        assert_eq!(check_datasets(d, &["attack/a.json", "attack"]), Ok(()));
        let e = check_datasets(d, &["attack/a.json", "misp/b.json", "c"]).unwrap_err();
        assert_eq!(e.what, "misp/b.json");
        assert_eq!(e.looked, format!("at {}", d.join("misp/b.json").display()));
        let e = check_datasets(&d.join("nope"), &["attack/a.json"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "datasets folder not found at {} (set CAIRN_DATASETS)",
                d.join("nope").display()
            )
        );
    }

    #[cfg(unix)]
    fn touch(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn browser_on_path() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();

        assert_eq!(browser(None).unwrap_err().what, "chromedriver");
        assert_eq!(browser(Some(&path)).unwrap_err().what, "chromedriver");
        // Not executable: not a chromedriver.
        touch(&a.join("chromedriver"), 0o644);
        assert_eq!(browser(Some(&path)).unwrap_err().what, "chromedriver");
        touch(&b.join("chromedriver"), 0o755);
        let e = browser(Some(&path)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "chromium not found on PATH (install Debian's chromium and chromium-driver; .ci/run does)"
        );
        touch(&b.join("chromium-browser"), 0o755);
        touch(&b.join("chromium"), 0o755);
        assert_eq!(
            browser(Some(&path)),
            Ok(Browser {
                chromedriver: b.join("chromedriver"),
                chromium: b.join("chromium"),
            })
        );
    }
}
