//! Detection of observation logs on the real Zeek sample (both forms, 32
//! log types each): `dns`, `ssl` and `x509` are found, and no other log —
//! many carry `id.orig_h`/`id.resp_h` — is taken for a `conn` log. (The
//! sample's own `conn` logs are not in the datasets snapshot: 4 MiB or
//! more; `crates/loggen/tests/infra.rs` reads generated ones.)

use cairn_intake::{ObsFormat, observation_format};

#[test]
fn only_dns_ssl_and_x509_are_observations_in_the_real_sample() {
    let Some(dir) = cairn_testkit::datasets(&[
        "zeek/zed-sample-data/zeek-default",
        "zeek/zed-sample-data/zeek-json",
    ]) else {
        return;
    };
    for sub in ["zeek-default", "zeek-json"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join("zeek/zed-sample-data").join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 32, "{sub}");
        let mut found = Vec::new();
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let log = name.split('.').next().unwrap().to_string();
            let want = match log.as_str() {
                "dns" => Some(ObsFormat::ZeekDns),
                "ssl" => Some(ObsFormat::ZeekSsl),
                "x509" => Some(ObsFormat::ZeekX509),
                _ => None,
            };
            let got = observation_format(f);
            assert_eq!(got, want, "{}", f.display());
            if got.is_some() {
                found.push(log);
            }
        }
        assert_eq!(found, ["dns", "ssl", "x509"], "{sub}");
    }
}
