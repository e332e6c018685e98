//! `--infra`: an actor's infrastructure with known structure, mixed into the
//! benign day of `dns.log` and `conn.log` (time-ordered with it). Counts are
//! fixed by design; the seed moves only jitter, ports, bytes and times.
//!
//! Values are TAG-22 / RedHotel indicators from Insikt Group's published
//! appendices (`shared/datasets/insikt`), so the actor is known to a store
//! that ingested them:
//!
//! | address | role in the logs |
//! |---|---|
//! | 158.247.206.194 | scanner: 64 internal hosts (10.2.0.1–64) × ports 22, 445, 3389 = 192 connections, 176 failed (S0/REJ), one in 12 answered (SF) |
//! | 139.180.135.175 | beacon destination (dedicated): 10.1.0.11–13 each 280 times, every 300 s ± 30 s, small transfers; `kiwi.` and `cdn.officesuport.com` resolve to it |
//! | 141.164.63.244 | beacon destination (dedicated): 10.1.0.40, 90 times every 900 s ± 45 s, port 8443; `video.` and `sc.dga.asia` resolve to it |
//! | 104.21.77.77 | shared hosting (not the actor's): `officesuport.com`, `dga.asia` and 60 unrelated shop names resolve to it |
//!
//! Decoys that must not be judged: 10.0.0.250 sweeping 40 internal hosts on
//! 445 (an internal inventory scan), and 140.82.113.4 that 20 internal
//! hosts reach 10 times each at random times with large downloads.

use crate::Rng;

/// Seconds of the generated day.
const DAY: f64 = 86_400.0;

pub const SCANNER: &str = "158.247.206.194";
pub const C2_A: &str = "139.180.135.175";
pub const C2_B: &str = "141.164.63.244";
pub const SHARED: &str = "104.21.77.77";
const INVENTORY: &str = "10.0.0.250";
const DOWNLOADS: &str = "140.82.113.4";

/// One planted `conn` row.
pub struct Conn {
    pub ts: f64,
    pub orig: String,
    pub resp: String,
    pub port: u16,
    pub duration: f64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub state: &'static str,
    pub local_orig: bool,
    pub local_resp: bool,
}

/// One planted `dns` row: a name and its one answer.
pub struct Dns {
    pub ts: f64,
    pub query: String,
    pub answer: &'static str,
}

fn conn(ts: f64, orig: &str, resp: &str, port: u16, state: &'static str) -> Conn {
    let internal = |a: &str| a.starts_with("10.");
    Conn {
        ts,
        orig: orig.to_string(),
        resp: resp.to_string(),
        port,
        duration: 0.0,
        orig_bytes: 0,
        resp_bytes: 0,
        state,
        local_orig: internal(orig),
        local_resp: internal(resp),
    }
}

/// `n` check-ins from `client` every `every` s ± `jitter` s from `start`.
fn beacon(
    r: &mut Rng,
    out: &mut Vec<Conn>,
    (client, server, port): (&str, &str, u16),
    start: f64,
    every: f64,
    jitter: f64,
    n: u64,
) {
    for k in 0..n {
        let j = (r.below(2001) as f64 / 1000.0 - 1.0) * jitter;
        let mut c = conn(start + k as f64 * every + j, client, server, port, "SF");
        c.duration = 0.2 + r.below(800) as f64 / 1000.0;
        c.orig_bytes = 180 + r.below(220);
        c.resp_bytes = 120 + r.below(480);
        out.push(c);
    }
}

/// The planted connections, sorted by time; `base` is the day's start.
pub fn conns(seed: u64, base: f64) -> Vec<Conn> {
    let mut r = Rng(seed ^ 0x1f1f);
    let mut out = Vec::new();
    // The scanner: a sweep from 01:00, one probe every 2 s.
    let mut i = 0u64;
    for h in 1..=64 {
        for port in [22u16, 445, 3389] {
            let target = format!("10.2.0.{h}");
            let state = if i.is_multiple_of(12) {
                "SF"
            } else if i.is_multiple_of(2) {
                "REJ"
            } else {
                "S0"
            };
            let mut c = conn(
                base + 3600.0 + 2.0 * i as f64,
                SCANNER,
                &target,
                port,
                state,
            );
            if state == "SF" {
                (c.orig_bytes, c.resp_bytes) = (21, 40 + r.below(40));
            }
            out.push(c);
            i += 1;
        }
    }
    for (n, client) in ["10.1.0.11", "10.1.0.12", "10.1.0.13"].iter().enumerate() {
        let start = base + 600.0 + 100.0 * n as f64;
        beacon(
            &mut r,
            &mut out,
            (client, C2_A, 443),
            start,
            300.0,
            30.0,
            280,
        );
    }
    beacon(
        &mut r,
        &mut out,
        ("10.1.0.40", C2_B, 8443),
        base + 1000.0,
        900.0,
        45.0,
        90,
    );
    // Decoys.
    for h in 1..=40 {
        let target = format!("10.2.0.{h}");
        out.push(conn(
            base + 7200.0 + h as f64,
            INVENTORY,
            &target,
            445,
            "S0",
        ));
    }
    for c in 1..=20 {
        let client = format!("10.3.0.{c}");
        for _ in 0..10 {
            let at = base + r.below(DAY as u64 - 60) as f64;
            let mut d = conn(at, &client, DOWNLOADS, 443, "SF");
            d.duration = 5.0;
            (d.orig_bytes, d.resp_bytes) = (900, 100_000 + r.below(900_000));
            out.push(d);
        }
    }
    out.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    out
}

/// The planted name resolutions, sorted by time.
pub fn dns(seed: u64, base: f64) -> Vec<Dns> {
    let mut r = Rng(seed ^ 0xd5d5);
    let mut out = Vec::new();
    let at = |r: &mut Rng| base + r.below(DAY as u64 - 60) as f64;
    for (q, a) in [
        ("kiwi.officesuport.com", C2_A),
        ("cdn.officesuport.com", C2_A),
        ("video.dga.asia", C2_B),
        ("sc.dga.asia", C2_B),
        ("officesuport.com", SHARED),
        ("dga.asia", SHARED),
    ] {
        for _ in 0..6 {
            out.push(Dns {
                ts: at(&mut r),
                query: q.to_string(),
                answer: a,
            });
        }
    }
    for k in 0..60 {
        let query = format!("shop{k}-{}.com", r.alnum(6));
        out.push(Dns {
            ts: at(&mut r),
            query,
            answer: SHARED,
        });
    }
    out.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    out
}
