//! `cairn-loggen`: deterministic, seeded generator of realistic Zeek logs
//! (dns, conn, ssl; TSV or JSON; plain or gzip) with a few RedHotel hits and
//! lookalike traps hidden in benign traffic, and of mixed indicator sets for
//! the hunt benchmark.
//!
//! ```text
//! cairn-loggen zeek --out examples/logs --lines 2000 --gzip
//! cairn-loggen zeek --out /tmp/big --size-mb 1100
//! cairn-loggen zeek --out /tmp/infra --infra    # + scanner, beacons, shared hosting
//! cairn-loggen iocs --count 1000000 > /tmp/iocs-1m.txt
//! ```
#![forbid(unsafe_code)]

mod infra;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "cairn-loggen",
    about = "Generate realistic Zeek logs and indicator sets"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Zeek dns.log, conn.log and ssl.log with planted RedHotel hits.
    Zeek {
        /// Output folder (created).
        #[arg(long)]
        out: PathBuf,
        /// Lines per log (ignored with --size-mb).
        #[arg(long, default_value_t = 2000)]
        lines: u64,
        /// Total size to generate across the three logs, in MB.
        #[arg(long)]
        size_mb: Option<u64>,
        /// Random seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Zeek JSON instead of TSV.
        #[arg(long)]
        json: bool,
        /// Gzip the files (`.log.gz`).
        #[arg(long)]
        gzip: bool,
        /// Leave out the planted hits and traps.
        #[arg(long)]
        no_plant: bool,
        /// Also plant an actor's infrastructure with known structure: a
        /// scanner and beacons in conn.log, its domains on dedicated and
        /// shared addresses in dns.log (see `src/infra.rs`).
        #[arg(long)]
        infra: bool,
    },
    /// A plain indicator list (one per line) of domains, IPs, CIDRs and hashes.
    Iocs {
        /// How many indicators.
        #[arg(long)]
        count: u64,
        /// Random seed.
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Include the RedHotel values planted in the logs (so hits exist).
        #[arg(long, default_value_t = true)]
        plant: bool,
    },
    /// Benchmark driver: the hunt library alone (no knowledge base), as
    /// `cairn hunt --ioc FILE --json` runs it: built-in warninglists, index
    /// cached at `--cache`, alerts as JSON lines on stdout, summary on stderr.
    Hunt {
        /// Indicator list (one value per line, defanged accepted).
        #[arg(long)]
        ioc: PathBuf,
        /// Index cache file (built when absent).
        #[arg(long)]
        cache: PathBuf,
        /// Logs.
        logs: Vec<PathBuf>,
    },
}

/// SplitMix64: tiny, fast and stable across versions, which matters more
/// here than statistical quality (the same seed must give the same logs on
/// every machine and every release, which `rand`'s generators do not promise).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| *self.pick(A) as char).collect()
    }
    fn hex(&mut self, n: usize) -> String {
        const H: &[u8] = b"0123456789abcdef";
        (0..n).map(|_| *self.pick(H) as char).collect()
    }
    fn uid(&mut self) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut s = String::from("C");
        for _ in 0..17 {
            s.push(*self.pick(A) as char);
        }
        s
    }
    fn public_ip(&mut self) -> String {
        loop {
            let a = 1 + self.below(222);
            if matches!(a, 10 | 127 | 100 | 169 | 172 | 192 | 198 | 203) {
                continue;
            }
            return format!(
                "{a}.{}.{}.{}",
                self.below(256),
                self.below(256),
                1 + self.below(254)
            );
        }
    }
    fn internal_ip(&mut self) -> String {
        if self.below(4) == 0 {
            format!("192.168.{}.{}", self.below(8), 2 + self.below(250))
        } else {
            format!(
                "10.{}.{}.{}",
                self.below(4),
                self.below(32),
                2 + self.below(250)
            )
        }
    }
}

const BENIGN: &[&str] = &[
    "google.com",
    "www.google.com",
    "apis.google.com",
    "clients4.google.com",
    "gstatic.com",
    "fonts.gstatic.com",
    "youtube.com",
    "i.ytimg.com",
    "googlevideo.com",
    "microsoft.com",
    "login.microsoftonline.com",
    "outlook.office365.com",
    "teams.microsoft.com",
    "graph.microsoft.com",
    "update.microsoft.com",
    "windowsupdate.com",
    "msftconnecttest.com",
    "office.com",
    "live.com",
    "bing.com",
    "github.com",
    "api.github.com",
    "objects.githubusercontent.com",
    "slack.com",
    "edgeapi.slack.com",
    "zoom.us",
    "aws.amazon.com",
    "s3.amazonaws.com",
    "cloudfront.net",
    "akamaiedge.net",
    "akamaihd.net",
    "fastly.net",
    "cloudflare.com",
    "cdnjs.cloudflare.com",
    "apple.com",
    "icloud.com",
    "mzstatic.com",
    "facebook.com",
    "fbcdn.net",
    "instagram.com",
    "linkedin.com",
    "licdn.com",
    "twitter.com",
    "twimg.com",
    "wikipedia.org",
    "en.wikipedia.org",
    "dropbox.com",
    "salesforce.com",
    "okta.com",
    "duckduckgo.com",
    "mozilla.org",
    "firefox.settings.services.mozilla.com",
    "ubuntu.com",
    "archive.ubuntu.com",
    "security.ubuntu.com",
    "debian.org",
    "crates.io",
    "static.crates.io",
    "pypi.org",
    "files.pythonhosted.org",
    "npmjs.org",
    "registry.npmjs.org",
    "docker.io",
    "registry-1.docker.io",
    "digicert.com",
    "ocsp.digicert.com",
    "letsencrypt.org",
    "r3.o.lencr.org",
    "sentry.io",
    "datadoghq.com",
    "newrelic.com",
    "zscaler.net",
    "asia.nikkei.com",
    "bbc.co.uk",
    "nytimes.com",
    "reuters.com",
    "weather.com",
    "spotify.com",
    "netflix.com",
    "nflxvideo.net",
    "adobe.com",
    "adobe.io",
    "atlassian.net",
    "jira.atlassian.com",
    "stackoverflow.com",
    "sstatic.net",
    "gitlab.com",
    "example-university.edu",
    "intranet.corp",
    "wpad.corp",
    "dc01.corp",
    "fileserver.corp",
];

const QTYPES: &[(&str, &str)] = &[
    ("1", "A"),
    ("28", "AAAA"),
    ("5", "CNAME"),
    ("16", "TXT"),
    ("65", "HTTPS"),
];

/// Planted RedHotel values (from Insikt Group's published appendix) and traps.
const PLANT_IOCS: &[&str] = &[
    "dga[.]asia",
    "kb.dga[.]asia",
    "sibersystems[.]xyz",
    "officesuport[.]com",
    "45.77.153[.]197",
    "5.188.33[.]188",
    "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61",
];
const CERT_HIT: &str = "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61";

struct Out {
    w: Box<dyn Write>,
    bytes: u64,
    json: bool,
    names: Vec<&'static str>,
}

impl Out {
    fn create(dir: &Path, name: &str, gzip: bool, json: bool) -> anyhow::Result<Out> {
        let file = dir.join(if gzip {
            format!("{name}.gz")
        } else {
            name.to_string()
        });
        let f = File::create(&file).with_context(|| format!("creating {}", file.display()))?;
        let w: Box<dyn Write> = if gzip {
            Box::new(flate2::write::GzEncoder::new(
                BufWriter::with_capacity(1 << 20, f),
                flate2::Compression::new(6),
            ))
        } else {
            Box::new(BufWriter::with_capacity(1 << 20, f))
        };
        Ok(Out {
            w,
            bytes: 0,
            json,
            names: Vec::new(),
        })
    }

    fn header(&mut self, path: &str, names: &[&'static str], types: &[&str]) -> anyhow::Result<()> {
        self.names = names.to_vec();
        if self.json {
            return Ok(());
        }
        let h = format!(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#open\t2023-06-01-00-00-00\n#fields\t{}\n#types\t{}\n",
            names.join("\t"),
            types.join("\t")
        );
        self.put(h.as_bytes())
    }

    fn row(&mut self, vals: &[String]) -> anyhow::Result<()> {
        let mut line = String::with_capacity(256);
        if self.json {
            line.push('{');
            let mut first = true;
            for (n, v) in self.names.iter().zip(vals) {
                if v == "-" {
                    continue;
                }
                if !first {
                    line.push(',');
                }
                first = false;
                line.push('"');
                line.push_str(n);
                line.push_str("\":");
                let numeric = v.parse::<f64>().is_ok() && !v.contains(',') && *n != "uid";
                // Zeek writes vectors as arrays, even of one item.
                if *n == "answers" || *n == "TTLs" || n.ends_with("fps") {
                    line.push('[');
                    let items = v.split(',').filter(|i| *i != "(empty)");
                    for (i, item) in items.enumerate() {
                        if i > 0 {
                            line.push(',');
                        }
                        line.push('"');
                        line.push_str(item);
                        line.push('"');
                    }
                    line.push(']');
                } else if numeric || v == "T" || v == "F" {
                    match v.as_str() {
                        "T" => line.push_str("true"),
                        "F" => line.push_str("false"),
                        _ => line.push_str(v),
                    }
                } else {
                    line.push('"');
                    line.push_str(v);
                    line.push('"');
                }
            }
            line.push('}');
        } else {
            line.push_str(&vals.join("\t"));
        }
        line.push('\n');
        self.put(line.as_bytes())
    }

    fn put(&mut self, b: &[u8]) -> anyhow::Result<()> {
        self.bytes += b.len() as u64;
        self.w.write_all(b)?;
        Ok(())
    }

    fn close(mut self) -> anyhow::Result<()> {
        if !self.json {
            self.put(b"#close\t2023-06-02-00-00-00\n")?;
        }
        self.w.flush()?;
        Ok(())
    }
}

fn ts(base: f64, i: u64, n: u64) -> String {
    // Spread over one day.
    format!("{:.6}", base + 86_400.0 * (i as f64) / (n.max(1) as f64))
}

fn benign_name(r: &mut Rng) -> String {
    let d = *r.pick(BENIGN);
    match r.below(10) {
        0 => format!("{}.{d}", r.alnum(8)),
        1 => format!("r{}---sn-{}.{d}", r.below(9), r.alnum(8)),
        _ => d.to_string(),
    }
}

/// A planted dns row (its own generator, so the benign rows stay as they
/// are without `--infra`).
fn planted_dns(o: &mut Out, r: &mut Rng, d: &infra::Dns) -> anyhow::Result<()> {
    o.row(&[
        format!("{:.6}", d.ts),
        r.uid(),
        r.internal_ip(),
        (1024 + r.below(60000)).to_string(),
        "10.0.0.53".into(),
        "53".into(),
        "udp".into(),
        r.below(65536).to_string(),
        format!("0.{:06}", r.below(200_000)),
        d.query.clone(),
        "1".into(),
        "C_INTERNET".into(),
        "1".into(),
        "A".into(),
        "0".into(),
        "NOERROR".into(),
        "F".into(),
        "F".into(),
        "T".into(),
        "T".into(),
        "0".into(),
        d.answer.to_string(),
        "300.000000".into(),
        "F".into(),
    ])
}

/// A planted conn row.
fn planted_conn(o: &mut Out, r: &mut Rng, c: &infra::Conn) -> anyhow::Result<()> {
    let flag = |b: bool| if b { "T" } else { "F" }.to_string();
    let (history, service) = match c.state {
        "S0" => ("S", "-"),
        "REJ" => ("Sr", "-"),
        _ if c.port == 443 || c.port == 8443 => ("ShADadFf", "ssl"),
        _ => ("ShADadFf", "-"),
    };
    let packets = |b: u64| if c.state == "SF" { b / 1400 + 3 } else { 1 };
    o.row(&[
        format!("{:.6}", c.ts),
        r.uid(),
        c.orig.clone(),
        (1024 + r.below(60000)).to_string(),
        c.resp.clone(),
        c.port.to_string(),
        "tcp".into(),
        service.into(),
        if c.duration > 0.0 {
            format!("{:.6}", c.duration)
        } else {
            "-".into()
        },
        c.orig_bytes.to_string(),
        c.resp_bytes.to_string(),
        c.state.into(),
        flag(c.local_orig),
        flag(c.local_resp),
        "0".into(),
        history.into(),
        packets(c.orig_bytes).to_string(),
        (c.orig_bytes + 40 * packets(c.orig_bytes)).to_string(),
        if c.state == "S0" {
            0
        } else {
            packets(c.resp_bytes)
        }
        .to_string(),
        if c.state == "S0" {
            0
        } else {
            c.resp_bytes + 40 * packets(c.resp_bytes)
        }
        .to_string(),
        "-".into(),
    ])
}

#[allow(clippy::too_many_arguments)]
fn zeek(
    out: &Path,
    lines: u64,
    size_mb: Option<u64>,
    seed: u64,
    json: bool,
    gzip: bool,
    plant: bool,
    with_infra: bool,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let ext = if json { "json.log" } else { "log" };
    let base = 1_685_577_600.0; // 2023-06-01T00:00:00Z
    // Per-log target: lines, or a byte budget.
    let budget = size_mb.map(|mb| mb * 1_000_000 / 3);
    let est_lines = |avg: u64| budget.map_or(lines, |b| b / avg + 1);

    // dns.log
    let mut r = Rng(seed);
    let mut o = Out::create(out, &format!("dns.{ext}"), gzip, json)?;
    o.header(
        "dns",
        &[
            "ts",
            "uid",
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "proto",
            "trans_id",
            "rtt",
            "query",
            "qclass",
            "qclass_name",
            "qtype",
            "qtype_name",
            "rcode",
            "rcode_name",
            "AA",
            "TC",
            "RD",
            "RA",
            "Z",
            "answers",
            "TTLs",
            "rejected",
        ],
        &[
            "time",
            "string",
            "addr",
            "port",
            "addr",
            "port",
            "enum",
            "count",
            "interval",
            "string",
            "count",
            "string",
            "count",
            "string",
            "count",
            "string",
            "bool",
            "bool",
            "bool",
            "bool",
            "count",
            "vector[string]",
            "vector[interval]",
            "bool",
        ],
    )?;
    let n = est_lines(173);
    let plants: &[(u64, &str, &str)] = &[
        (n * 13 / 100, "kb.dga.asia", "45.77.153.197"),
        (n * 29 / 100, "notdga.asia", "104.21.3.4"),
        (n * 41 / 100, "dga.asia.evil.net", "172.67.1.9"),
        (n * 58 / 100, "R77wu4s847.SiberSystems.xyz.", "5.188.33.188"),
        (
            n * 77 / 100,
            "officesuport.com.cdn.cloudflare.net",
            "104.16.1.1",
        ),
        (n * 88 / 100, "mail.0fficesuport.com", "-"),
    ];
    let resolvers = ["10.0.0.53", "10.0.0.54"];
    let planted = if with_infra {
        infra::dns(seed, base)
    } else {
        Vec::new()
    };
    let mut planted = planted.iter().peekable();
    let mut ri = Rng(seed ^ 0x1d);
    let mut i = 0u64;
    while i < n {
        let now = base + 86_400.0 * (i as f64) / (n.max(1) as f64);
        while let Some(d) = planted.next_if(|d| d.ts <= now) {
            planted_dns(&mut o, &mut ri, d)?;
        }
        let (q, ans) = match plants.iter().find(|p| plant && p.0 == i) {
            Some((_, q, a)) => (q.to_string(), a.to_string()),
            None => {
                let q = benign_name(&mut r);
                let k = r.below(3);
                let ans: Vec<String> = (0..k).map(|_| r.public_ip()).collect();
                (
                    q,
                    if ans.is_empty() {
                        "-".to_string()
                    } else {
                        ans.join(",")
                    },
                )
            }
        };
        let (qt, qtn) = *r.pick(QTYPES);
        let ttls = if ans == "-" {
            "-".to_string()
        } else {
            ans.split(',')
                .map(|_| format!("{}.000000", 60 + r.below(3600)))
                .collect::<Vec<_>>()
                .join(",")
        };
        let rcode = if ans == "-" {
            ("3", "NXDOMAIN")
        } else {
            ("0", "NOERROR")
        };
        o.row(&[
            ts(base, i, n),
            r.uid(),
            r.internal_ip(),
            (1024 + r.below(60000)).to_string(),
            r.pick(&resolvers).to_string(),
            "53".into(),
            "udp".into(),
            r.below(65536).to_string(),
            format!("0.{:06}", r.below(200_000)),
            q,
            "1".into(),
            "C_INTERNET".into(),
            qt.into(),
            qtn.into(),
            rcode.0.into(),
            rcode.1.into(),
            "F".into(),
            "F".into(),
            "T".into(),
            "T".into(),
            "0".into(),
            ans,
            ttls,
            "F".into(),
        ])?;
        i += 1;
    }
    for d in planted {
        planted_dns(&mut o, &mut ri, d)?;
    }
    o.close()?;

    // conn.log
    let mut r = Rng(seed ^ 0xc0);
    let mut o = Out::create(out, &format!("conn.{ext}"), gzip, json)?;
    o.header(
        "conn",
        &[
            "ts",
            "uid",
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "proto",
            "service",
            "duration",
            "orig_bytes",
            "resp_bytes",
            "conn_state",
            "local_orig",
            "local_resp",
            "missed_bytes",
            "history",
            "orig_pkts",
            "orig_ip_bytes",
            "resp_pkts",
            "resp_ip_bytes",
            "tunnel_parents",
        ],
        &[
            "time",
            "string",
            "addr",
            "port",
            "addr",
            "port",
            "enum",
            "string",
            "interval",
            "count",
            "count",
            "string",
            "bool",
            "bool",
            "count",
            "string",
            "count",
            "count",
            "count",
            "count",
            "set[string]",
        ],
    )?;
    let n = est_lines(141);
    let plants: &[(u64, &str, &str)] = &[
        (n * 17 / 100, "45.77.153.197", "443"),
        (n * 33 / 100, "45.77.153.19", "443"),
        (n * 52 / 100, "::ffff:5.188.33.188", "8443"),
        (n * 71 / 100, "5.188.33.18", "80"),
    ];
    let planted = if with_infra {
        infra::conns(seed, base)
    } else {
        Vec::new()
    };
    let mut planted = planted.iter().peekable();
    let mut ri = Rng(seed ^ 0x1c);
    for i in 0..n {
        let now = base + 86_400.0 * (i as f64) / (n.max(1) as f64);
        while let Some(c) = planted.next_if(|c| c.ts <= now) {
            planted_conn(&mut o, &mut ri, c)?;
        }
        let (dst, port) = match plants.iter().find(|p| plant && p.0 == i) {
            Some((_, d, p)) => (d.to_string(), p.to_string()),
            None => (
                r.public_ip(),
                r.pick(&["443", "443", "443", "80", "53", "123", "8080"])
                    .to_string(),
            ),
        };
        let service = match port.as_str() {
            "443" | "8443" => "ssl",
            "80" | "8080" => "http",
            "53" => "dns",
            _ => "-",
        };
        let ob = r.below(50_000);
        let rb = r.below(500_000);
        o.row(&[
            ts(base, i, n),
            r.uid(),
            r.internal_ip(),
            (1024 + r.below(60000)).to_string(),
            dst,
            port,
            "tcp".into(),
            service.into(),
            format!("{}.{:06}", r.below(300), r.below(1_000_000)),
            ob.to_string(),
            rb.to_string(),
            r.pick(&["SF", "SF", "S0", "RSTO", "SH"]).to_string(),
            "T".into(),
            "F".into(),
            "0".into(),
            r.pick(&["ShADadFf", "ShADadfF", "S", "ShADadR"])
                .to_string(),
            (ob / 1400 + 3).to_string(),
            (ob + 200).to_string(),
            (rb / 1400 + 3).to_string(),
            (rb + 200).to_string(),
            "-".into(),
        ])?;
    }
    for c in planted {
        planted_conn(&mut o, &mut ri, c)?;
    }
    o.close()?;

    // ssl.log
    let mut r = Rng(seed ^ 0x55);
    let mut o = Out::create(out, &format!("ssl.{ext}"), gzip, json)?;
    o.header(
        "ssl",
        &[
            "ts",
            "uid",
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "version",
            "cipher",
            "curve",
            "server_name",
            "resumed",
            "last_alert",
            "next_protocol",
            "established",
            "ssl_history",
            "cert_chain_fps",
            "client_cert_chain_fps",
            "sni_matches_cert",
            "validation_status",
            "ja3",
            "ja3s",
        ],
        &[
            "time",
            "string",
            "addr",
            "port",
            "addr",
            "port",
            "string",
            "string",
            "string",
            "string",
            "bool",
            "string",
            "string",
            "bool",
            "string",
            "vector[string]",
            "vector[string]",
            "bool",
            "string",
            "string",
            "string",
        ],
    )?;
    let n = est_lines(350);
    let plants: &[(u64, &str, &str, bool)] = &[
        (n * 23 / 100, "cdn.officesuport.com", "92.38.178.60", true),
        (
            n * 64 / 100,
            "www.officesuport.com.evil.net",
            "203.0.113.50",
            false,
        ),
        (
            n * 81 / 100,
            "sibersystems.xyzzy.com",
            "198.51.100.7",
            false,
        ),
    ];
    for i in 0..n {
        let plant_row = plants.iter().find(|p| plant && p.0 == i);
        let (sni, dst, fps) = match plant_row {
            Some((_, s, d, hit)) => {
                let leaf = if *hit {
                    CERT_HIT.to_string()
                } else {
                    r.hex(64)
                };
                (
                    s.to_string(),
                    d.to_string(),
                    format!("{leaf},{}", r.hex(64)),
                )
            }
            None => (
                benign_name(&mut r),
                r.public_ip(),
                format!("{},{}", r.hex(64), r.hex(64)),
            ),
        };
        o.row(&[
            ts(base, i, n),
            r.uid(),
            r.internal_ip(),
            (1024 + r.below(60000)).to_string(),
            dst,
            "443".into(),
            "TLSv13".into(),
            "TLS_AES_128_GCM_SHA256".into(),
            "x25519".into(),
            sni,
            "F".into(),
            "-".into(),
            "h2".into(),
            "T".into(),
            "CsiI".into(),
            fps,
            "(empty)".into(),
            "T".into(),
            "ok".into(),
            r.hex(32),
            r.hex(32),
        ])?;
    }
    o.close()?;
    Ok(())
}

fn iocs(count: u64, seed: u64, plant: bool) -> anyhow::Result<()> {
    let mut r = Rng(seed);
    let stdout = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut n = 0u64;
    if plant {
        for v in PLANT_IOCS {
            writeln!(w, "{v}")?;
            n += 1;
        }
    }
    let tlds = [
        "com", "net", "org", "xyz", "top", "club", "live", "asia", "info", "ru", "cn", "io",
    ];
    while n < count {
        match r.below(100) {
            0..=39 => {
                let sub = if r.below(3) == 0 {
                    format!("{}.", r.alnum(6))
                } else {
                    String::new()
                };
                let len = 5 + r.below(8) as usize;
                let name = r.alnum(len);
                let num = r.below(100);
                let tld = *r.pick(&tlds);
                writeln!(w, "{sub}{name}{num}.{tld}")?
            }
            40..=64 => writeln!(w, "{}", r.public_ip())?,
            65..=74 => {
                let len = 20 + r.below(9);
                let ip = r.public_ip();
                let mut oct: Vec<u32> = ip.split('.').filter_map(|x| x.parse().ok()).collect();
                oct.resize(4, 0);
                let a = (oct[0] << 24) | (oct[1] << 16) | (oct[2] << 8) | oct[3];
                let m = a & (u32::MAX << (32 - len));
                writeln!(
                    w,
                    "{}.{}.{}.{}/{len}",
                    m >> 24,
                    (m >> 16) & 255,
                    (m >> 8) & 255,
                    m & 255
                )?
            }
            75..=94 => writeln!(w, "{}", r.hex(64))?,
            _ => writeln!(w, "{}", r.hex(32))?,
        }
        n += 1;
    }
    w.flush()?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Zeek {
            out,
            lines,
            size_mb,
            seed,
            json,
            gzip,
            no_plant,
            infra,
        } => zeek(&out, lines, size_mb, seed, json, gzip, !no_plant, infra),
        Cmd::Iocs { count, seed, plant } => iocs(count, seed, plant),
        Cmd::Hunt { ioc, cache, logs } => hunt(&ioc, &cache, &logs),
    }
}

fn hunt(ioc: &Path, cache: &Path, logs: &[PathBuf]) -> anyhow::Result<()> {
    use cairn_hunt::{Index, IndexBuilder, Input, ScanOptions, Scanner};
    use cairn_model::{IndicatorKind, Observable};
    let t0 = std::time::Instant::now();
    let (index, built) = match Index::load(cache) {
        Ok(ix) => (ix, false),
        Err(_) => {
            let text = std::fs::read_to_string(ioc)?;
            let wl = cairn_warninglist::WarningLists::builtin();
            let mut b = IndexBuilder::new().suppress_with(&wl);
            for (i, line) in text.lines().enumerate() {
                let v = line.trim().replace("[.]", ".");
                if v.is_empty() || v.starts_with('#') {
                    continue;
                }
                if let Some(k) = IndicatorKind::detect(&v) {
                    b.add(&Observable::new(k, &v), i as u32);
                }
            }
            let ix = b.build();
            ix.save(cache)?;
            (ix, true)
        }
    };
    let index_secs = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let inputs: Vec<Input> = logs.iter().cloned().map(Input::Path).collect();
    let out = std::sync::Mutex::new(BufWriter::new(std::io::stdout()));
    let summary = Scanner::new(&index, ScanOptions::default()).scan(&inputs, &|h| {
        if let Ok(mut w) = out.lock() {
            let _ = writeln!(
                w,
                "{{\"file\":\"{}\",\"line\":{},\"field\":\"{}\",\"indicator\":\"{}\",\"match\":\"{}\"}}",
                h.file,
                h.line,
                h.field,
                h.indicator.value,
                h.match_kind.as_str()
            );
        }
    });
    if let Ok(mut w) = out.lock() {
        w.flush()?;
    }
    let secs = t1.elapsed().as_secs_f64();
    eprintln!(
        "Index: {} indicator value(s) ({}, {:.2} s, {:.1} bytes/indicator).",
        index.len(),
        if built { "built" } else { "cached" },
        index_secs,
        index.heap_bytes() as f64 / index.len().max(1) as f64
    );
    eprintln!(
        "Hunted {} lines, {:.1} MB in {:.2} s; {} hits; {} malformed; errors: {}",
        summary.lines,
        summary.bytes as f64 / 1e6,
        secs,
        summary.hits,
        summary.malformed,
        summary.errors.len()
    );
    Ok(())
}
