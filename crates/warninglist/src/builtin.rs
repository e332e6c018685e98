//! The embedded default lists, written for Cairn from the RFCs they cite (not
//! copied from MISP's feed, which users ingest themselves).

/// `(id, list.json)` pairs loaded by [`crate::WarningLists::builtin`].
pub(crate) const LISTS: &[(&str, &str)] = &[
    (
        "cairn-private-ipv4",
        r#"{"name": "Private and reserved IPv4 ranges (Cairn built-in)",
            "type": "cidr",
            "matching_attributes": ["ip-src", "ip-dst", "domain|ip", "ip-src|port", "ip-dst|port"],
            "description": "RFC 1918 private, RFC 1122 this-network and loopback, RFC 3927 link-local, RFC 6598 shared (CGNAT), RFC 5737 documentation, RFC 2544 benchmarking, multicast and limited broadcast",
            "list": ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                     "172.16.0.0/12", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
                     "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "255.255.255.255/32"]}"#,
    ),
    (
        "cairn-private-ipv6",
        r#"{"name": "Private and reserved IPv6 ranges (Cairn built-in)",
            "type": "cidr",
            "matching_attributes": ["ip-src", "ip-dst", "domain|ip", "ip-src|port", "ip-dst|port"],
            "description": "Unspecified and loopback (RFC 4291), unique local (RFC 4193), link-local, documentation (RFC 3849), multicast",
            "list": ["::/128", "::1/128", "fc00::/7", "fe80::/10", "2001:db8::/32", "ff00::/8"]}"#,
    ),
    (
        "cairn-reserved-domains",
        r#"{"name": "Reserved example and test domains (Cairn built-in)",
            "type": "hostname",
            "matching_attributes": ["hostname", "domain", "url", "domain|ip"],
            "description": "RFC 2606 / RFC 6761 reserved names",
            "list": ["example.com", "example.net", "example.org", "example", "test", "invalid",
                     "localhost", "local"]}"#,
    ),
];
