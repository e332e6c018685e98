use super::*;

fn read(text: &str, f: ObsFormat) -> Result<Observations, IntakeError> {
    let mut o = Observations::new();
    read_observations_from(Path::new("t.log"), text.as_bytes(), f, &mut o)?;
    Ok(o)
}

#[test]
fn detects_zeek_and_cof_heads() {
    assert_eq!(
        detect_head(b"#separator \\x09\n#set_separator\t,\n#path\tdns\n"),
        Some(ObsFormat::ZeekDns)
    );
    assert_eq!(
        detect_head(b"#separator \\x09\n#path\tconn\n"),
        Some(ObsFormat::ZeekConn)
    );
    assert_eq!(detect_head(b"#separator \\x09\n#path\thttp\n"), None);
    assert_eq!(
        detect_head(
            br#"{"ts":1,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.1","conn_state":"S0"}"#
        ),
        Some(ObsFormat::ZeekConn)
    );
    assert_eq!(
        detect_head(br#"{"rrname":"a.example","rrtype":"A","rdata":"192.0.2.1"}"#),
        Some(ObsFormat::Cof)
    );
    assert_eq!(
        detect_head(br#"{"ts":1,"query":"a.example","answers":["192.0.2.1"]}"#),
        Some(ObsFormat::ZeekDns)
    );
    assert_eq!(detect_head(b"{\n \"type\": \"bundle\"\n}"), None);
    assert_eq!(detect_head(b"evil.example\n"), None);
}

#[test]
fn dns_answers_become_edges_and_junk_is_skipped() {
    let log = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
#fields\tts\tquery\tqtype_name\tanswers\n\
1000.5\tWWW.Example.com.\tA\tcdn.example.net,192.0.2.1\n\
2000\twww.example.com\tA\t192.0.2.1\n\
3000\twww.example.com\tTXT\tTXT 12 v=spf1 -all\n\
4000\t1.2.0.192.in-addr.arpa\tPTR\twww.example.com\n\
5000\tquiet.example\tA\t-\n";
    let o = read(log, ObsFormat::ZeekDns).unwrap();
    let r = o.resolved();
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0].4, "192.0.2.1");
    assert_eq!((r[0].5, r[0].6, r[0].7), (1_000_500, 2_000_000, 2));
    assert_eq!((r[1].2, r[1].4), (ObsRelation::Cname, "cdn.example.net"));
}

#[test]
fn cof_records_and_their_errors() {
    let good = r#"{"rrname":"a.example.","rrtype":"A","rdata":["192.0.2.1","192.0.2.2"],"time_first":1600000000,"time_last":1600000100,"count":7,"sensor_id":"s1"}
{"rrname":"a.example","rrtype":"MX","rdata":"10 mx.example.","time_first":1,"time_last":2}
{"rrname":"a.example","rrtype":"TXT","rdata":"hello","time_first":1,"time_last":2}
"#;
    let o = read(good, ObsFormat::Cof).unwrap();
    let r = o.resolved();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0].4, r[0].5, r[0].6, r[0].7),
        ("192.0.2.1", 1_600_000_000_000, 1_600_000_100_000, 7)
    );
    assert_eq!((r[2].2, r[2].4), (ObsRelation::Mx, "mx.example"));
    let bad = format!("{good}not json\n");
    let e = read(&bad, ObsFormat::Cof).unwrap_err().to_string();
    assert!(
        e.contains("t.log") && e.contains("line 4") && e.contains("not JSON"),
        "{e}"
    );
    let e = read(
        r#"{"rrname":"a.example","rrtype":"A","rdata":"192.0.2.1"}"#,
        ObsFormat::Cof,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 1") && e.contains("time_first"), "{e}");
}

const CONN_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\n\
100.000000\tC1\t10.0.0.5\t50000\t198.51.100.9\t443\ttcp\t0.250000\t120\t300\tSF\tT\tF\n\
160.000000\tC2\t10.0.0.5\t50001\t198.51.100.9\t443\ttcp\t-\t-\t-\tS0\tT\tF\n\
220.000000\tC3\t10.0.0.5\t50002\t198.51.100.9\t8443\ttcp\t1.5\t10\t0\tRSTO\tT\tF\n\
230.000000\tC4\t203.0.113.7\t40000\t10.0.0.9\t22\ttcp\t-\t0\t0\tREJ\tF\tT\n\
240.000000\tC5\t-\t40000\t10.0.0.9\t22\ttcp\t-\t0\t0\tREJ\tF\tT\n";

const CONN_JSON: &str = r#"{"_path":"conn","ts":100.0,"uid":"C1","id.orig_h":"10.0.0.5","id.orig_p":50000,"id.resp_h":"198.51.100.9","id.resp_p":443,"proto":"tcp","duration":0.25,"orig_bytes":120,"resp_bytes":300,"conn_state":"SF","local_orig":true,"local_resp":false}
{"_path":"conn","ts":160.0,"uid":"C2","id.orig_h":"10.0.0.5","id.orig_p":50001,"id.resp_h":"198.51.100.9","id.resp_p":443,"proto":"tcp","conn_state":"S0","local_orig":true,"local_resp":false}
{"_path":"conn","ts":220.0,"uid":"C3","id.orig_h":"10.0.0.5","id.orig_p":50002,"id.resp_h":"198.51.100.9","id.resp_p":8443,"proto":"tcp","duration":1.5,"orig_bytes":10,"resp_bytes":0,"conn_state":"RSTO","local_orig":true,"local_resp":false}
{"_path":"conn","ts":230.0,"uid":"C4","id.orig_h":"203.0.113.7","id.orig_p":40000,"id.resp_h":"10.0.0.9","id.resp_p":22,"proto":"tcp","orig_bytes":0,"resp_bytes":0,"conn_state":"REJ","local_orig":false,"local_resp":true}
{"_path":"conn","ts":240.0,"uid":"C5","id.orig_p":40000,"id.resp_h":"10.0.0.9","id.resp_p":22,"proto":"tcp","conn_state":"REJ"}
"#;

#[test]
fn conn_tsv_and_json_give_the_same_summaries() {
    let t = read(CONN_TSV, ObsFormat::ZeekConn).unwrap();
    let j = read(CONN_JSON, ObsFormat::ZeekConn).unwrap();
    assert_eq!(t.resolved(), j.resolved());
    let r = t.resolved();
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(
        (r[0].1, r[0].2, r[0].4, r[0].5, r[0].6, r[0].7),
        (
            "10.0.0.5",
            ObsRelation::Connects,
            "198.51.100.9",
            100_000,
            221_500,
            3
        )
    );
    for o in [&t, &j] {
        let c = o.conn("10.0.0.5", "198.51.100.9").unwrap();
        assert_eq!((c.connections, c.established, c.failed), (3, 2, 1));
        assert_eq!((c.orig_bytes, c.resp_bytes), (130, 300));
        assert_eq!(c.ports, vec![443, 8443]);
        assert_eq!((c.intervals, c.interval_mean_ms), (2, 60_000.0));
        assert_eq!((c.local_orig, c.local_resp), (Some(true), Some(false)));
        let s = o.conn("203.0.113.7", "10.0.0.9").unwrap();
        assert_eq!(
            (s.failed, s.local_orig, s.local_resp),
            (1, Some(false), Some(true))
        );
    }
}

#[test]
fn bad_conn_counts_are_errors_with_their_line() {
    let bad = CONN_TSV.replace("\t120\t300\t", "\t12x\t300\t");
    let e = read(&bad, ObsFormat::ZeekConn).unwrap_err().to_string();
    assert!(
        e.contains("line 7") && e.contains("orig_bytes `12x`"),
        "{e}"
    );
    let bad = CONN_JSON.replace("\"id.resp_p\":8443", "\"id.resp_p\":\"x\"");
    let e = read(&bad, ObsFormat::ZeekConn).unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("id.resp_p"), "{e}");
    let bad = CONN_JSON.replace("\"duration\":1.5", "\"duration\":-1");
    let e = read(&bad, ObsFormat::ZeekConn).unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("duration"), "{e}");
}
