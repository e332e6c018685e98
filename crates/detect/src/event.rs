//! Events as Sigma rules expect them. Windows rules name fields the way
//! Sysmon and the Security log do (`Image`, `CommandLine`, `EventID`,
//! `Channel`, `Provider_Name`), flat; each exporter nests them differently.
//! One function per shape brings them to that flat form, keeping every
//! other field of the event.

use serde_json::{Map, Value};

/// An event ready for the rules, and what a detection reports about it.
#[derive(Debug, Default)]
pub(crate) struct Normal {
    /// The flat fields the rules see.
    pub fields: Map<String, Value>,
    /// When it happened (as the log wrote it, RFC 3339 when it can).
    pub time: Option<String>,
    /// The host that logged it.
    pub host: Option<String>,
    /// EVTX `EventRecordID` (JSON inputs without one: none).
    pub record: Option<u64>,
    /// Windows channel.
    pub channel: Option<String>,
    /// Windows event id.
    pub event_id: Option<u64>,
    /// Product and service when the shape itself says them (Zeek's `_path`).
    pub zeek_path: Option<String>,
}

/// Brings one event of any known shape to the flat form.
pub(crate) fn normalize(v: Value) -> Normal {
    let Value::Object(mut obj) = v else {
        return Normal::default();
    };
    if let Some(Value::Object(event)) = obj.remove("Event") {
        return windows(event);
    }
    if obj.get("System").is_some_and(Value::is_object) {
        return windows(obj);
    }
    if obj.get("winlog").is_some_and(Value::is_object) {
        return ecs(obj);
    }
    if let Some(path) = obj.get("_path").and_then(Value::as_str) {
        let mut n = Normal {
            zeek_path: Some(path.to_string()),
            time: obj.get("ts").map(text),
            host: None,
            ..Normal::default()
        };
        n.fields = obj;
        return n;
    }
    flat(obj)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `{"#text": x, "#attributes": …}` → x; anything else as it is.
fn unwrap_text(v: Value) -> Value {
    match v {
        Value::Object(mut o) if o.contains_key("#text") => o.remove("#text").unwrap_or(Value::Null),
        other => other,
    }
}

/// A string field's value, owned.
fn string_at(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// A number, or a string holding one (ECS writes event ids as strings).
fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(o) => o.get("#text").and_then(as_u64),
        _ => None,
    }
}

fn attr<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get("#attributes").and_then(|a| a.get(key))
}

/// The XML-as-JSON shape of the `evtx` crate, `evtx_dump` and SigmaHQ's
/// regression files (`Event.System`, `Event.EventData`), and Velociraptor's
/// (`System`, `EventData` at the top).
fn windows(mut event: Map<String, Value>) -> Normal {
    let mut n = Normal::default();
    let mut out = Map::new();
    if let Some(sys) = event.remove("System") {
        n.event_id = sys.get("EventID").and_then(as_u64);
        n.channel = string_at(sys.get("Channel"));
        n.host = string_at(sys.get("Computer"));
        n.record = sys.get("EventRecordID").and_then(as_u64);
        n.time = sys
            .get("TimeCreated")
            .and_then(|t| attr(t, "SystemTime").or_else(|| t.get("SystemTime")))
            .map(text);
        if let Some(p) = sys.get("Provider") {
            if let Some(name) = attr(p, "Name").or_else(|| p.get("Name")) {
                out.insert("Provider_Name".into(), name.clone());
            }
            if let Some(guid) = attr(p, "Guid").or_else(|| p.get("Guid")) {
                out.insert("Provider_Guid".into(), guid.clone());
            }
        }
        if let Some(uid) = sys.get("Security").and_then(|s| attr(s, "UserID")) {
            out.insert("SecurityUserID".into(), uid.clone());
        }
        if let Value::Object(sys) = sys {
            for (k, v) in sys {
                if matches!(
                    k.as_str(),
                    "Provider" | "Security" | "TimeCreated" | "#attributes"
                ) {
                    continue;
                }
                out.insert(k, unwrap_text(v));
            }
        }
        if let Some(id) = n.event_id {
            out.insert("EventID".into(), Value::from(id));
        }
        // The time, flat, for correlation windows.
        if let Some(t) = &n.time {
            out.insert("TimeCreated".into(), Value::String(t.clone()));
        }
    }
    for section in ["EventData", "UserData"] {
        match event.remove(section) {
            Some(Value::Object(data)) => {
                // UserData wraps its fields in one element named by the
                // provider (`<EventXML>`, `<RuleAndFileData>`).
                let data = if section == "UserData" && data.len() == 1 {
                    match data.into_iter().next() {
                        Some((_, Value::Object(inner))) => inner,
                        Some((k, v)) => Map::from_iter([(k, v)]),
                        None => Map::new(),
                    }
                } else {
                    data
                };
                for (k, v) in data {
                    if k == "#attributes" {
                        continue;
                    }
                    out.entry(k).or_insert_with(|| unwrap_text(v));
                }
            }
            Some(Value::String(s)) if !s.is_empty() => {
                out.entry("Data").or_insert(Value::String(s));
            }
            _ => {}
        }
    }
    // Defender and a few others name data fields with spaces ("Threat
    // Name"); rules write them without.
    let spaced: Vec<(String, Value)> = out
        .iter()
        .filter(|(k, _)| k.contains(' '))
        .map(|(k, v)| (k.replace(' ', ""), v.clone()))
        .collect();
    for (k, v) in spaced {
        out.entry(k).or_insert(v);
    }
    aliases(&n, &mut out);
    n.fields = out;
    n
}

/// The Security log's process creation (4688) under the Sysmon names the
/// `process_creation` rules use; the original fields stay.
fn aliases(n: &Normal, out: &mut Map<String, Value>) {
    if n.event_id == Some(4688)
        && n.channel
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("Security"))
    {
        for (from, to) in [
            ("NewProcessName", "Image"),
            ("ParentProcessName", "ParentImage"),
            ("NewProcessId", "ProcessId"),
            ("ProcessId", "ParentProcessId"),
        ] {
            if let Some(v) = out.get(from).cloned() {
                out.entry(to).or_insert(v);
            }
        }
    }
}

/// winlogbeat and Elastic Agent: `winlog.event_data`, `winlog.event_id`,
/// `winlog.channel`, `host.name`, `@timestamp`.
fn ecs(mut obj: Map<String, Value>) -> Normal {
    let mut n = Normal::default();
    let mut out = Map::new();
    if let Some(Value::Object(mut w)) = obj.remove("winlog") {
        n.event_id = w.get("event_id").and_then(as_u64);
        n.channel = string_at(w.get("channel"));
        n.host = string_at(w.get("computer_name"));
        n.record = w.get("record_id").and_then(as_u64);
        if let Some(p) = w.get("provider_name") {
            out.insert("Provider_Name".into(), p.clone());
        }
        for section in ["event_data", "user_data"] {
            if let Some(Value::Object(data)) = w.remove(section) {
                for (k, v) in data {
                    out.entry(k).or_insert(v);
                }
            }
        }
        if let Some(c) = &n.channel {
            out.insert("Channel".into(), Value::String(c.clone()));
        }
        if let Some(id) = n.event_id {
            out.insert("EventID".into(), Value::from(id));
        }
        if let Some(h) = &n.host {
            out.insert("Computer".into(), Value::String(h.clone()));
        }
    }
    if n.host.is_none() {
        n.host = obj
            .get("host")
            .and_then(|h| h.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    n.time = obj.get("@timestamp").map(text);
    // ECS fields stay reachable by their dotted names (`process.command_line`).
    for (k, v) in obj {
        out.entry(k).or_insert(v);
    }
    aliases(&n, &mut out);
    n.fields = out;
    n
}

/// Already flat (NXLog, Sysmon for Linux through a JSON shipper, or any
/// other JSON): the usual names for channel, id, host and time are read;
/// NXLog's `Hostname`/`SourceName` also answer to `Computer`/`Provider_Name`.
fn flat(mut obj: Map<String, Value>) -> Normal {
    let mut n = Normal {
        event_id: obj
            .get("EventID")
            .or_else(|| obj.get("event_id"))
            .and_then(as_u64),
        channel: string_at(obj.get("Channel")),
        ..Normal::default()
    };
    for (from, to) in [("Hostname", "Computer"), ("SourceName", "Provider_Name")] {
        if let Some(v) = obj.get(from).cloned() {
            obj.entry(to).or_insert(v);
        }
    }
    if let Some(id) = n.event_id {
        obj.insert("EventID".into(), Value::from(id));
    }
    n.host = string_at(obj.get("Computer"));
    n.record = obj
        .get("RecordNumber")
        .or_else(|| obj.get("EventRecordID"))
        .and_then(as_u64);
    n.time = [
        "EventTime",
        "TimeCreated",
        "UtcTime",
        "@timestamp",
        "timestamp",
        "time",
    ]
    .iter()
    .find_map(|k| obj.get(*k))
    .map(text);
    aliases(&n, &mut obj);
    n.fields = obj;
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evtx_shape_is_flattened_with_system_fields() {
        let v = json!({"Event": {"#attributes": {"xmlns": "x"}, "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "G"}},
            "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "host1", "EventRecordID": 42,
            "TimeCreated": {"#attributes": {"SystemTime": "2025-11-26T05:11:27.927693Z"}},
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}},
            "EventData": {"Image": "C:\\x.exe", "CommandLine": "x -a", "Threat Name": "EICAR"}}});
        let n = normalize(v);
        assert_eq!(n.event_id, Some(1));
        assert_eq!(n.host.as_deref(), Some("host1"));
        assert_eq!(n.record, Some(42));
        assert_eq!(n.time.as_deref(), Some("2025-11-26T05:11:27.927693Z"));
        assert_eq!(n.fields["Image"], "C:\\x.exe");
        assert_eq!(n.fields["ThreatName"], "EICAR");
        assert_eq!(n.fields["Provider_Name"], "Microsoft-Windows-Sysmon");
        assert_eq!(n.fields["EventID"], 1);
        assert_eq!(n.fields["Channel"], "Microsoft-Windows-Sysmon/Operational");
    }

    #[test]
    fn event_id_with_qualifiers_and_userdata_are_unwrapped() {
        let v = json!({"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
            "Channel": "System"}, "UserData": {"EventXML": {"#attributes": {"xmlns": "y"}, "Param1": "svc"}}}});
        let n = normalize(v);
        assert_eq!(n.event_id, Some(7045));
        assert_eq!(n.fields["Param1"], "svc");
        assert!(!n.fields.contains_key("#attributes"));
    }

    #[test]
    fn security_4688_answers_to_sysmon_names() {
        let v = json!({"Event": {"System": {"EventID": 4688, "Channel": "Security"},
            "EventData": {"NewProcessName": "C:\\w\\cmd.exe", "ParentProcessName": "C:\\p.exe", "CommandLine": "cmd"}}});
        let n = normalize(v);
        assert_eq!(n.fields["Image"], "C:\\w\\cmd.exe");
        assert_eq!(n.fields["ParentImage"], "C:\\p.exe");
        assert_eq!(n.fields["NewProcessName"], "C:\\w\\cmd.exe");
    }

    #[test]
    fn winlogbeat_shape() {
        let v = json!({"@timestamp": "2024-01-01T00:00:00Z", "host": {"name": "h"},
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "1",
            "computer_name": "WS1", "record_id": 9, "provider_name": "Microsoft-Windows-Sysmon",
            "event_data": {"Image": "a.exe"}}});
        let n = normalize(v);
        assert_eq!(n.event_id, Some(1));
        assert_eq!(n.host.as_deref(), Some("WS1"));
        assert_eq!(n.fields["Image"], "a.exe");
        assert_eq!(n.fields["EventID"], 1);
        assert_eq!(n.time.as_deref(), Some("2024-01-01T00:00:00Z"));
    }

    #[test]
    fn nxlog_and_zeek_shapes() {
        let n = normalize(
            json!({"EventID": "4625", "Channel": "Security", "Hostname": "dc1", "EventTime": "t"}),
        );
        assert_eq!(n.event_id, Some(4625));
        assert_eq!(n.host.as_deref(), Some("dc1"));
        assert_eq!(n.fields["Computer"], "dc1");
        let z = normalize(json!({"_path": "dns", "ts": 1.5, "query": "a.b"}));
        assert_eq!(z.zeek_path.as_deref(), Some("dns"));
        assert_eq!(z.fields["query"], "a.b");
        assert!(normalize(json!([1, 2])).fields.is_empty());
    }
}
