//! The newer forms: file paths, user agents, MAC and socket addresses,
//! ssdeep, imphash and Authenticode hashes, TLS fingerprints, XMPP
//! addresses, analytics ids, ATT&CK tactics and mitigations, TLP labels,
//! and the rules that type ambiguous values. Each form with the prose that
//! must not yield it.

use crate::{Document, Extraction, Extractor, IndicatorKind as K, Options};

fn extract(text: &str) -> Extraction {
    Extractor::new(Options::default()).extract(&Document::from_text("t.md", text))
}

fn of_kind(text: &str, kind: K) -> Vec<String> {
    extract(text)
        .indicators
        .into_iter()
        .filter(|i| i.kind == kind)
        .map(|i| i.value)
        .collect()
}

fn none_of(text: &str, kind: K) {
    let got = of_kind(text, kind);
    assert!(got.is_empty(), "{kind} in {text:?}: {got:?}");
}

/// The rule of the first occurrence of `value` as `kind`.
fn rule(text: &str, kind: K, value: &str) -> Option<String> {
    let out = extract(text);
    let i = out
        .indicators
        .iter()
        .find(|i| i.kind == kind && i.value == value);
    let i = i.unwrap_or_else(|| panic!("no {kind} {value} in {:?}", out.indicators));
    i.occurrences[0].rule.clone()
}

#[test]
fn windows_paths() {
    let text = "The dropper copied itself to C:\\Users\\Public\\svchost.exe and loaded \
                %APPDATA%\\Microsoft\\x.dll from \\\\fileserver\\share$\\drop\\stage.bat.\n";
    assert_eq!(
        of_kind(text, K::FilePath),
        [
            "C:\\Users\\Public\\svchost.exe",
            "%APPDATA%\\Microsoft\\x.dll",
            "\\\\fileserver\\share$\\drop\\stage.bat"
        ]
    );
    // The file names inside are still file names.
    assert_eq!(
        of_kind(text, K::FileName),
        ["svchost.exe", "x.dll", "stage.bat"]
    );
    // Components with spaces, placeholders, `(x86)`, forward slashes.
    assert_eq!(
        of_kind(
            "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe was replaced.\n\
             C:\\Users\\<username>\\AppData\\Roaming\\Macromedia\\Flash Player\\bin\\flashplayer.exe\n\
             Also C:/Users/Public/Libraries/run.cmd; and \"C:\\ProgramData\\Oracle\\java.exe\".\n",
            K::FilePath
        ),
        [
            "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
            "C:\\Users\\<username>\\AppData\\Roaming\\Macromedia\\Flash Player\\bin\\flashplayer.exe",
            "C:/Users/Public/Libraries/run.cmd",
            "C:\\ProgramData\\Oracle\\java.exe"
        ]
    );
    // A directory keeps its separator; one capitalised word may end it.
    assert_eq!(
        of_kind(
            "Staged in C:\\Users\\Public\\ before exfiltration.\nInstalled under C:\\Program Files\n",
            K::FilePath
        ),
        ["C:\\Users\\Public\\", "C:\\Program Files"]
    );
    // A hidden directory is kept as written (not read as an escaped dot).
    assert_eq!(
        of_kind("key at C:\\Users\\bob\\.ssh\\id_rsa\n", K::FilePath),
        ["C:\\Users\\bob\\.ssh\\id_rsa"]
    );
    // Prose after a file name, and text glued to one, are not part of it.
    assert_eq!(
        of_kind("ran C:\\Windows\\Temp\\a.exe Then it slept\n", K::FilePath),
        ["C:\\Windows\\Temp\\a.exe"]
    );
    assert_eq!(
        of_kind("执行C:\\Windows\\Temp\\a.exe后退出\n", K::FilePath),
        ["C:\\Windows\\Temp\\a.exe"]
    );
}

#[test]
fn windows_path_negatives() {
    for text in [
        "Use the C: drive, or D:.\n",
        "ratio 3:1 and a:b\n",
        "escaped \"C:\\\\\" only\n",
        "HKLM\\Software\\Microsoft\\Run is a key\n",
    ] {
        none_of(text, K::FilePath);
    }
    // A registry key is still a registry key.
    assert_eq!(
        of_kind("HKLM\\Software\\Microsoft\\Run is a key\n", K::RegistryKey),
        ["HKLM\\Software\\Microsoft\\Run"]
    );
}

#[test]
fn unix_paths() {
    let text = "It persisted in /tmp/.x/kworker and /etc/cron.d/job, appended to \
                ~/.ssh/authorized_keys, staged /dev/shm/.rsync and wrote \
                /Library/LaunchAgents/com.apple.updates.plist.\n";
    assert_eq!(
        of_kind(text, K::FilePath),
        [
            "/tmp/.x/kworker",
            "/etc/cron.d/job",
            "~/.ssh/authorized_keys",
            "/dev/shm/.rsync",
            "/Library/LaunchAgents/com.apple.updates.plist"
        ]
    );
    assert_eq!(
        rule(text, K::FilePath, "/etc/cron.d/job").as_deref(),
        Some("path under a known root")
    );
    // `$HOME` is a root; CJK prose glued to a path does not hide it.
    assert_eq!(
        of_kind("写入/tmp/.x/kworker 和 $HOME/.bashrc\n", K::FilePath),
        ["/tmp/.x/kworker", "$HOME/.bashrc"]
    );
    // macOS components with spaces.
    assert_eq!(
        of_kind(
            "It hid in /Library/Application Support/Google Helper/agent and quit\n",
            K::FilePath
        ),
        ["/Library/Application Support/Google Helper/agent"]
    );
    // No known root: in backticks or quotes, or on a code line.
    let text = "The loader reads `/app/conf/settings.yml` at start.\n";
    assert_eq!(of_kind(text, K::FilePath), ["/app/conf/settings.yml"]);
    assert_eq!(
        rule(text, K::FilePath, "/app/conf/settings.yml").as_deref(),
        Some("path in quotes or backticks")
    );
    let text = "Commands:\n\n```\ncp payload /webroot/www/shell\n```\n";
    assert_eq!(
        rule(text, K::FilePath, "/webroot/www/shell").as_deref(),
        Some("path on a code line")
    );
    none_of(
        "the operators used /webroot/www/shell for staging\n",
        K::FilePath,
    );
}

#[test]
fn unix_path_negatives() {
    for text in [
        "read and/or write 1/2 of the TCP/IP stack 24/7\n",
        "dates 2024/01/02 and ratios 3/4/5\n",
        "the /api/v1/users endpoint answered\n",
        "fetch https://evil.com/etc/passwd and evil.com/tmp/x.sh\n",
        "a lone /tmp and /etc\n",
        "GET /etc/passwd?file=1 HTTP/1.1\n",
        "meters/s and km/h/s\n",
    ] {
        none_of(text, K::FilePath);
    }
}

#[test]
fn user_agents() {
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
              Chrome/120.0.0.0 Safari/537.36";
    let text = format!("The beacon sent \"{ua}\" with every request.\n");
    let out = extract(&text);
    let got: Vec<_> = out
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    // The version numbers inside are not addresses.
    assert_eq!(got, [(K::UserAgent, ua)]);
    assert_eq!(out.indicators[0].occurrences[0].rule, None);
    // Two agents on one line, lower case; bare words before a product.
    assert_eq!(
        of_kind(
            "mozilla/5.0 (windows nt 6.1; wow64) applewebkit/535.11 (khtml, like gecko) \
             chrome/17.0.963.56 safari/535.11 mozilla/5.0 (windows nt 6.1; wow64; rv:11.0) \
             gecko firefox/11.0\n",
            K::UserAgent
        ),
        [
            "mozilla/5.0 (windows nt 6.1; wow64) applewebkit/535.11 (khtml, like gecko) \
             chrome/17.0.963.56 safari/535.11",
            "mozilla/5.0 (windows nt 6.1; wow64; rv:11.0) gecko firefox/11.0"
        ]
    );
    assert_eq!(
        of_kind(
            "Mozilla/4.0 (compatible; MSIE 7.0b; Windows NT 5.1; .NET CLR 1.1.4322; InfoPath.1)\n",
            K::UserAgent
        ),
        ["Mozilla/4.0 (compatible; MSIE 7.0b; Windows NT 5.1; .NET CLR 1.1.4322; InfoPath.1)"]
    );
    // A tool's agent only where the line or a heading says user-agent.
    // The words name the agent right after them, not one further on.
    assert_eq!(
        of_kind(
            "sends User-Agent: Go-http-client/1.1 while an admin upgraded curl/8.4.0\n",
            K::UserAgent
        ),
        ["Go-http-client/1.1"]
    );
    let text = "User-Agent: curl/7.68.0\n";
    assert_eq!(of_kind(text, K::UserAgent), ["curl/7.68.0"]);
    assert_eq!(
        rule(text, K::UserAgent, "curl/7.68.0").as_deref(),
        Some("line says user-agent")
    );
    let text = "## User agents\n\npython-requests/2.31.0\nWget/1.21.1 (linux-gnu)\n";
    assert_eq!(
        of_kind(text, K::UserAgent),
        ["python-requests/2.31.0", "Wget/1.21.1 (linux-gnu)"]
    );
    assert_eq!(
        rule(text, K::UserAgent, "Wget/1.21.1 (linux-gnu)").as_deref(),
        Some("heading says user-agent")
    );
}

#[test]
fn user_agent_negatives() {
    for text in [
        "The admin upgraded curl/7.68.0 on the server.\n",
        "User-Agent header over HTTP/1.1 and TLS/1.2\n",
        "Mozilla/5.0 is the prefix of most agents.\n",
        "see chapter 4/5 and pages 10/12\n",
    ] {
        none_of(text, K::UserAgent);
    }
}

#[test]
fn mac_addresses() {
    assert_eq!(
        of_kind(
            "MACs 00:1A:2B:3C:4D:5E, 00-1a-2b-3c-4d-5e and 001a.2b3c.4d5e; AA-F2-C9-A6-B3-4F\n",
            K::Mac
        ),
        ["00:1a:2b:3c:4d:5e", "aa:f2:c9:a6:b3:4f"]
    );
    assert_eq!(
        of_kind("dhcp MAC:00:1A:2B:3C:4D:5F\n", K::Mac),
        ["00:1a:2b:3c:4d:5f"]
    );
    for text in [
        "at 12:30:45 on build 10.0.19041:1\n",
        "SHA-1 F0:2C:EE:73:74:43:E2:10:47:19:48:D3:32:96:C8:70:09:E8:A7:F7\n",
        "seven groups 00:11:22:33:44:55:66 and a trailing 00:11:22:33:44:55:\n",
        "from 2a00::1a:2b:3c:4d:5e:6f\n",
        "dead.beef.cafe is a name\n",
        "broadcast ff:ff:ff:ff:ff:ff\n",
    ] {
        none_of(text, K::Mac);
    }
    assert_eq!(
        of_kind("from 2a00::1a:2b:3c:4d:5e:6f\n", K::Ipv6),
        ["2a00:0:1a:2b:3c:4d:5e:6f"]
    );
}

#[test]
fn sockets_and_their_hosts() {
    let out = extract(
        "C2 at 45.77.12[.]9:443, 45.77.12.10[:]8443, [2a05:d018:1c4::17]:8443 and evil-c2[.]com:8080.\n",
    );
    let got: Vec<_> = out
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (K::Ipv4, "45.77.12.9"),
            (K::Socket, "45.77.12.9:443"),
            (K::Ipv4, "45.77.12.10"),
            (K::Socket, "45.77.12.10:8443"),
            (K::Ipv6, "2a05:d018:1c4::17"),
            (K::Socket, "[2a05:d018:1c4::17]:8443"),
            (K::Domain, "evil-c2.com"),
            (K::Socket, "evil-c2.com:8080"),
        ]
    );
    let sock = &out.indicators[1].occurrences[0];
    assert_eq!(sock.original, "45.77.12[.]9:443");
    // Private hosts are benign as sockets too.
    let out = extract("listener 10.0.0.5:4444\n");
    assert!(out.indicators.is_empty(), "{:?}", out.indicators);
    assert_eq!(out.suppressed.len(), 2);
}

#[test]
fn socket_negatives() {
    for text in [
        "45.77.12.9:0 and 45.77.12.9:70000\n",
        "at 45.77.12.9:12:30 the host answered\n",
        "build 10.0.19041:1\n",
        "hxxp://45.77.12[.]9:8080/x\n",
        "see setup.py:12 and main.rs:40\n",
        "2001:db8::1:443 is not written with a port\n",
    ] {
        none_of(text, K::Socket);
    }
    // The address alone is still found next to a bad port.
    assert_eq!(of_kind("45.77.12.9:70000\n", K::Ipv4), ["45.77.12.9"]);
}

#[test]
fn ssdeep_hashes() {
    let h = "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO";
    assert_eq!(of_kind(&format!("ssdeep: {h},\"a.exe\"\n"), K::Ssdeep), [h]);
    assert_eq!(of_kind(&format!("{h}\n"), K::Ssdeep), [h]);
    for text in [
        "at 12:30:45 and 3:45:12 PM, 24:00:00\n",
        "3072:123456:789\n",
        "10:abcdefgh:ijk\n",
        "fe80::1 and 96:abcd:ef01::1\n",
    ] {
        none_of(text, K::Ssdeep);
    }
}

#[test]
fn imphash_and_authentihash_by_cue() {
    let h32 = "f34d5f2d4577ed6d9ceec516c1f5a744";
    let h40 = "3eda83d7c58dfe0d5a0cf318656b3e6f0bade65c";
    let h64 = "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61";
    let text = format!("Imphash: {h32}\n");
    assert_eq!(of_kind(&text, K::Imphash), [h32]);
    assert_eq!(
        rule(&text, K::Imphash, h32).as_deref(),
        Some("line says imphash")
    );
    assert_eq!(
        of_kind(
            &format!("| SHA256 | Import hash |\n|---|---|\n| {h64} | {h32} |\n"),
            K::Imphash
        ),
        [h32]
    );
    assert_eq!(
        of_kind(&format!("## Import hashes\n\n{h32}\n"), K::Imphash),
        [h32]
    );
    // The file hash beside it keeps its kind.
    assert_eq!(
        of_kind(&format!("MD5 {h64:.32}, imphash {h32}\n"), K::Md5),
        [&h64[..32]]
    );
    assert_eq!(
        of_kind(&format!("Authentihash: {h64}\n"), K::Authentihash),
        [h64]
    );
    assert_eq!(
        of_kind(&format!("Authenticode SHA-1 {h40}\n"), K::Authentihash),
        [h40]
    );
    // The signer's certificate is a certificate.
    assert_eq!(
        of_kind(
            &format!("Authenticode certificate thumbprint {h40}\n"),
            K::CertSha1
        ),
        [h40]
    );
    // No cue: a file hash, with no rule.
    assert_eq!(of_kind(&format!("{h32}\n"), K::Md5), [h32]);
    assert_eq!(rule(&format!("{h32}\n"), K::Md5, h32), None);
    // An imphash cue does not make a SHA-256 anything else.
    assert_eq!(of_kind(&format!("imphash {h64}\n"), K::Sha256), [h64]);
}

#[test]
fn tls_fingerprints() {
    let ja3 = "83b7ffc050fec94dbca3a0aac36098b2";
    let jarm = "fda9988c79fc35526f7eaed46725a2a7b860dcd6c8a1f8b46287cced9041df";
    let out = extract(&format!(
        "Client JA3 {ja3}; server JA3S cc2bd818319478da6bd0c621de49f145; JARM {jarm}.\n\
         JA4 t13d1516h2_8daaf6152771_b186095e22b6 and QUIC q13d0312h3_55b375c5d22e_06cda9e17597\n\
         {jarm}\n"
    ));
    let got: Vec<_> = out
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (K::Ja3, ja3),
            (K::Ja3s, "cc2bd818319478da6bd0c621de49f145"),
            (K::Jarm, jarm),
            (K::Ja4, "t13d1516h2_8daaf6152771_b186095e22b6"),
            (K::Ja4, "q13d0312h3_55b375c5d22e_06cda9e17597"),
        ]
    );
    assert_eq!(
        out.indicators[0].occurrences[0].rule.as_deref(),
        Some("line says JA3")
    );
    // A bare 62-hex value is a JARM without a cue.
    assert_eq!(out.indicators[2].occurrences[1].rule, None);
    for text in [
        "t13d1516h2_8daaf615277_b186095e22b6\n",
        "x13d1516h2_8daaf6152771_b186095e22b6\n",
    ] {
        none_of(text, K::Ja4);
    }
}

#[test]
fn xmpp_addresses() {
    let text = "Email: collector@mail-drop.xyz, Jabber: boss@chat-relay.net; \
                also ops@exploit.im and admin@jabber.chat-relay.net.\n";
    assert_eq!(
        of_kind(text, K::Xmpp),
        [
            "boss@chat-relay.net",
            "ops@exploit.im",
            "admin@jabber.chat-relay.net"
        ]
    );
    assert_eq!(of_kind(text, K::Email), ["collector@mail-drop.xyz"]);
    assert_eq!(
        rule(text, K::Xmpp, "boss@chat-relay.net").as_deref(),
        Some("line says XMPP")
    );
    assert_eq!(
        rule(text, K::Xmpp, "ops@exploit.im").as_deref(),
        Some("well-known XMPP server")
    );
    // After the value, and from a heading.
    assert_eq!(
        of_kind("reach boss@chat-relay.net (XMPP) any time\n", K::Xmpp),
        ["boss@chat-relay.net"]
    );
    let text = "## XMPP accounts\n\nboss@chat-relay.net\nops@safe-talk.org\n";
    assert_eq!(
        of_kind(text, K::Xmpp),
        ["boss@chat-relay.net", "ops@safe-talk.org"]
    );
    assert_eq!(
        rule(text, K::Xmpp, "ops@safe-talk.org").as_deref(),
        Some("heading says XMPP")
    );
    // Otherwise an address stays an e-mail address.
    none_of("Replies went to collector@mail-drop.xyz.\n", K::Xmpp);
    none_of(
        "## Phishing e-mail and XMPP\n\nhr@gov-mail-portal.com\n",
        K::Xmpp,
    );
}

#[test]
fn analytics_ids() {
    let text = "The page loads UA-12345678-1, GTM-ABC123 and ads for pub-1234567890123456 \
                (ca-pub-1234567890123456 in the tag).\n";
    assert_eq!(
        of_kind(text, K::AnalyticsId),
        ["UA-12345678-1", "GTM-ABC123", "pub-1234567890123456"]
    );
    let text = "Google Analytics measurement id G-ABCDE12345\n";
    assert_eq!(of_kind(text, K::AnalyticsId), ["G-ABCDE12345"]);
    assert_eq!(
        rule(text, K::AnalyticsId, "G-ABCDE12345").as_deref(),
        Some("line says analytics")
    );
    for text in [
        "the watch model G-SHOCK1234 and G-ABCDE12345\n",
        "UA-1-1 and gtm-abc123 and pub-12345\n",
        "xUA-12345678-1 and UA-12345678-1x\n",
    ] {
        none_of(text, K::AnalyticsId);
    }
}

#[test]
fn tactics_and_mitigations() {
    let text = "Initial access (TA0001, ta0011) via T1566; mitigated by M1036 and M1017.\n";
    assert_eq!(of_kind(text, K::Tactic), ["TA0001", "TA0011"]);
    assert_eq!(of_kind(text, K::Mitigation), ["M1036", "M1017"]);
    assert_eq!(of_kind(text, K::Technique), ["T1566"]);
    none_of("TA0001FUN foota0001 AT0001 TA00012\n", K::Tactic);
    none_of("M10360 m1036 XM1036 M0801 M2036\n", K::Mitigation);
}

#[test]
fn tlp_marks_the_document() {
    for (text, want) in [
        ("TLP:AMBER\n\nReport on 45.77.12.9\n", Some("amber")),
        ("TLP: RED\n", Some("red")),
        ("Marking TLP:AMBER+STRICT applies.\n", Some("amber+strict")),
        ("TLP:CLEAR\n", Some("clear")),
        ("TLP:WHITE\n", Some("clear")),
        ("TLP GREEN\n", Some("green")),
        // The strictest label wins.
        ("tlp-Amber and TLPRED TlpGreen\n", Some("red")),
        (
            "TLP:GREEN header, TLP:AMBER+STRICT annex\n",
            Some("amber+strict"),
        ),
        ("No marking; TLP:REDACTED is no label, nor is TLPs.\n", None),
    ] {
        let out = extract(text);
        assert_eq!(out.tlp.as_deref(), want, "{text:?}");
        assert!(
            out.indicators
                .iter()
                .all(|i| !i.value.to_ascii_lowercase().contains("tlp")),
            "{:?}",
            out.indicators
        );
    }
    let out = extract("TLP:AMBER\n\nReport on 45.77.12.9\n");
    assert_eq!(out.indicators.len(), 1);
}

#[test]
fn rules_name_what_typed_an_ambiguous_value() {
    assert_eq!(
        rule("update-check[.]zip\n", K::Domain, "update-check.zip").as_deref(),
        Some("defanged: a domain")
    );
    assert_eq!(
        rule(
            "## C2 Domains\n\nmedia-player.mov\n",
            K::Domain,
            "media-player.mov"
        )
        .as_deref(),
        Some("heading says domain")
    );
    assert_eq!(
        rule(
            "The archive invoice_2024.zip was attached.\n",
            K::FileName,
            "invoice_2024.zip"
        )
        .as_deref(),
        Some("line says file")
    );
    assert_eq!(
        rule("Indicators\n\nptgp.pl\nholishit.in\n", K::Domain, "ptgp.pl").as_deref(),
        Some("in a list of bare values: a domain")
    );
    let text = "Build steps:\n\n```\npython setup.py install\n```\n";
    assert_eq!(
        rule(text, K::FileName, "setup.py").as_deref(),
        Some("file extension on a code line")
    );
    // Outside the code block the same name is prose.
    none_of("Then run setup.py to install.\n", K::FileName);
    // Unambiguous values carry no rule.
    let out = extract("evil[.]com\n");
    assert_eq!(out.indicators[0].occurrences[0].rule, None);
}

/// The evaluation counts the newer kinds and checks the TLP label.
#[test]
fn evaluation_checks_tlp_and_new_kinds() {
    let case = |text: &str, tlp: Option<&str>| crate::CorpusCase {
        name: "c.md".into(),
        document: Document::from_text("c.md", text),
        expected: [(K::Mac, "00:1a:2b:3c:4d:5e".to_string())]
            .into_iter()
            .collect(),
        tlp: tlp.map(str::to_string),
    };
    let corpus = crate::Corpus {
        cases: vec![
            case("TLP:AMBER nic 00:1A:2B:3C:4D:5E\n", Some("amber")),
            case("TLP:RED nic 00:1A:2B:3C:4D:5E\n", Some("amber")),
            case("nic 00:1a:2b:3c:4d:5e\n", None),
        ],
    };
    let report = crate::evaluate(&Extractor::new(Options::default()), &corpus);
    assert_eq!(report.tlp_errors, ["c.md: expected amber, read red"]);
    let mac = report.kinds.iter().find(|k| k.kind == K::Mac);
    assert_eq!(mac.map(|k| (k.expected, k.correct)), Some((3, 3)));
    assert!(
        report
            .failures(0.9, 0.9)
            .iter()
            .any(|f| f.starts_with("TLP label c.md"))
    );
}

/// Ids glued to a further label are a host name; a path after a hash names
/// the file as a path and a name.
#[test]
fn forms_inside_other_forms() {
    for host in [
        "00-1a-2b-3c-4d-5e.dhcp.corp-lan.net",
        "001a.2b3c.4d5e.corp-lan.net",
        "ta0001.corp-lan.net",
    ] {
        let text = format!("resolved {host} twice\n");
        assert_eq!(of_kind(&text, K::Domain), [host], "{text}");
        none_of(&text, K::Mac);
        none_of(&text, K::Tactic);
    }
    let h = "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61";
    let out = extract(&format!("{h} - C:\\Users\\Public\\a b.exe\n"));
    let got: Vec<_> = out
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (K::Sha256, h),
            (K::FilePath, "C:\\Users\\Public\\a b.exe"),
            (K::FileName, "a b.exe")
        ]
    );
}
