//! `cairn … | head`: a reader that stops early ends the command quietly
//! (as grep does), never with a panic on the closed pipe.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_command_without_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.txt");
    let mut f = std::fs::File::create(&report).expect("create");
    // Far more output than a pipe buffers, so the writer meets the closed pipe.
    for i in 0..20_000 {
        writeln!(
            f,
            "C2: evil-{i}[.]example[.]com and 10.{}.{}.1",
            i / 250,
            i % 250
        )
        .expect("write");
    }
    drop(f);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--db")
        .arg(dir.path().join("kb.db"))
        .arg("extract")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cairn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    assert!(!first.is_empty(), "cairn printed nothing");
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101), "a panic's exit code: {err}");
}
