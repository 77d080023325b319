//! The security.md §4.5 catalogue against the validator. Nothing here opens a connection: names go
//! to a fake resolver, and every refusal happens before any socket exists.

use std::net::IpAddr;

use taizhang_notify::ssrf::{BlockedRange, TargetHost};
use taizhang_notify::{AllowList, SsrfError, validate_outbound_url};

use crate::support::FakeResolver;

fn resolver() -> FakeResolver {
    FakeResolver::with(&[
        ("127.0.0.1.nip.io", &["127.0.0.1"]),
        ("evil.example", &["93.184.215.14"]),
        ("metadata.attacker.example", &["169.254.169.254"]),
        ("split.attacker.example", &["93.184.215.14", "10.0.0.1"]),
        ("v6.attacker.example", &["::ffff:192.168.0.1"]),
        ("qyapi.weixin.qq.com", &["101.91.37.19"]),
        ("oa.intra.example.cn", &["10.8.0.5"]),
    ])
}

/// Runs the whole guard (static checks, then resolve-and-pin) with the fake resolver.
async fn guard(url: &str, allow: &AllowList) -> Result<std::net::SocketAddr, SsrfError> {
    let resolver = resolver();
    let validated = validate_outbound_url(url, allow)?;
    Ok(validated.pin(allow, &resolver).await?.addr())
}

#[tokio::test]
async fn every_url_in_the_ssrf_catalogue_is_refused_before_connecting() {
    let catalogue: &[(&str, &str)] = &[
        ("http://127.0.0.1:8080/", "url_blocked_address"),
        ("http://localhost", "url_internal_host"),
        ("http://LOCALHOST./", "url_internal_host"),
        ("http://app.localhost/", "url_internal_host"),
        ("http://[::1]", "url_blocked_address"),
        ("http://[::]/", "url_blocked_address"),
        ("http://0.0.0.0", "url_blocked_address"),
        ("http://0/", "url_blocked_address"),
        ("http://2130706433/", "url_blocked_address"),
        ("http://0x7f000001/", "url_blocked_address"),
        ("http://017700000001/", "url_blocked_address"),
        ("http://0177.0.0.1/", "url_blocked_address"),
        ("http://127.1/", "url_blocked_address"),
        ("http://%31%32%37.0.0.1/", "url_blocked_address"),
        ("http://[::ffff:7f00:1]/", "url_blocked_address"),
        ("http://0x7f.1/", "url_blocked_address"),
        ("http://127.0.0.1./", "url_blocked_address"),
        ("http://[::ffff:127.0.0.1]/", "url_blocked_address"),
        ("http://[::ffff:10.0.0.1]/", "url_blocked_address"),
        ("http://[::ffff:a9fe:a9fe]/", "url_blocked_address"),
        ("http://127.0.0.1.nip.io/", "url_blocked_address"),
        ("http://evil@127.0.0.1/", "url_userinfo_not_allowed"),
        ("http://user:pass@evil.example/", "url_userinfo_not_allowed"),
        ("http://127.0.0.1#@evil.example/", "url_blocked_address"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "url_blocked_address",
        ),
        (
            "http://metadata.google.internal/computeMetadata/v1/",
            "url_internal_host",
        ),
        ("http://metadata.attacker.example/", "url_blocked_address"),
        (
            "https://[fd00:ec2::254]/latest/meta-data/",
            "url_blocked_address",
        ),
        ("http://10.0.0.1/", "url_blocked_address"),
        ("http://172.16.0.1/", "url_blocked_address"),
        ("http://172.31.255.255/", "url_blocked_address"),
        ("http://192.168.1.1/", "url_blocked_address"),
        ("http://100.64.0.1/", "url_blocked_address"),
        ("http://[fc00::1]/", "url_blocked_address"),
        ("http://[fe80::1]/", "url_blocked_address"),
        ("http://224.0.0.1/", "url_blocked_address"),
        ("http://255.255.255.255/", "url_blocked_address"),
        ("http://split.attacker.example/", "url_blocked_address"),
        ("http://v6.attacker.example/", "url_blocked_address"),
        ("file:///etc/passwd", "url_scheme_not_allowed"),
        ("gopher://127.0.0.1:70/_GET", "url_scheme_not_allowed"),
        ("dict://127.0.0.1:11211/stat", "url_scheme_not_allowed"),
        ("ftp://evil.example/", "url_scheme_not_allowed"),
        ("javascript:alert(1)", "url_scheme_not_allowed"),
        ("http://evil.example\\@127.0.0.1/", "url_invalid"),
        ("http://127.0.0.1\t/", "url_invalid"),
        (" http://127.0.0.1/", "url_invalid"),
        ("//127.0.0.1/", "url_invalid"),
        ("", "url_invalid"),
        ("http://[fe80::1%25eth0]/", "url_invalid"),
        ("http://no-such-host.example/", "url_unresolvable"),
    ];
    for (url, code) in catalogue {
        let err = guard(url, &AllowList::empty())
            .await
            .expect_err(&format!("{url} must be refused"));
        assert_eq!(err.code(), *code, "{url}: {err}");
    }
}

#[tokio::test]
async fn ip_literals_in_odd_spellings_are_recognised_as_loopback() {
    for url in [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://127.1/",
    ] {
        let err = validate_outbound_url(url, &AllowList::empty()).unwrap_err();
        assert_eq!(
            err,
            SsrfError::BlockedAddress {
                ip: "127.0.0.1".parse().unwrap(),
                range: BlockedRange::Loopback
            },
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_public_robot_url_passes_and_is_pinned_to_the_checked_address() {
    let resolver = resolver();
    let validated = validate_outbound_url(
        "https://QYAPI.weixin.qq.com./cgi-bin/webhook/send?key=abc",
        &AllowList::empty(),
    )
    .unwrap();
    assert_eq!(
        validated.host(),
        &TargetHost::Name {
            name: "qyapi.weixin.qq.com".into(),
            allowed: false
        }
    );
    let pinned = validated.pin(&AllowList::empty(), &resolver).await.unwrap();
    assert_eq!(pinned.addr(), "101.91.37.19:443".parse().unwrap());
    assert_eq!(resolver.calls(), 1);
}

#[tokio::test]
async fn an_ip_literal_is_pinned_without_asking_the_resolver() {
    let resolver = FakeResolver::default();
    let validated =
        validate_outbound_url("http://93.184.215.14:8080/x", &AllowList::empty()).unwrap();
    let pinned = validated.pin(&AllowList::empty(), &resolver).await.unwrap();
    assert_eq!(pinned.addr(), "93.184.215.14:8080".parse().unwrap());
    assert_eq!(pinned.host_name(), None);
    assert_eq!(resolver.calls(), 0);
}

#[tokio::test]
async fn the_allow_list_opens_exactly_what_the_administrator_listed() {
    let allow = AllowList::parse(&["127.0.0.1", "*.intra.example.cn", "10.9.0.0/16"]).unwrap();
    assert!(guard("http://127.0.0.1:9000/hook", &allow).await.is_ok());
    assert!(
        guard("http://[::ffff:127.0.0.1]:9000/hook", &allow)
            .await
            .is_ok()
    );
    assert!(guard("http://127.0.0.2/", &allow).await.is_err());
    assert!(
        guard("http://oa.intra.example.cn/api", &allow)
            .await
            .is_ok()
    );
    assert!(guard("http://10.9.200.1/", &allow).await.is_ok());
    assert!(guard("http://10.10.0.1/", &allow).await.is_err());
    // The metadata service stays shut even behind an allow-listed name, unless a CIDR says so.
    let by_name = AllowList::parse(&["metadata.attacker.example"]).unwrap();
    assert_eq!(
        guard("http://metadata.attacker.example/", &by_name)
            .await
            .unwrap_err()
            .code(),
        "url_blocked_address"
    );
    // 0.0.0.0 and broadcast are never destinations, whatever the list says.
    let everything = AllowList::parse(&["0.0.0.0/0"]).unwrap();
    assert!(guard("http://0.0.0.0/", &everything).await.is_err());
    assert!(guard("http://255.255.255.255/", &everything).await.is_err());
}

#[tokio::test]
async fn a_name_allow_listed_for_one_host_does_not_open_its_neighbours() {
    let allow = AllowList::parse(&["*.intra.example.cn"]).unwrap();
    assert!(!allow.allows_host("intra.example.cn"));
    assert!(!allow.allows_host("evilintra.example.cn"));
    assert!(allow.allows_host("oa.intra.example.cn"));
}

#[test]
fn malformed_allow_list_entries_are_refused() {
    for entry in ["http://x/", "10.0.0.0/40", "a b", "host:8080"] {
        assert_eq!(
            AllowList::parse(&[entry]).unwrap_err().code(),
            "allow_list_invalid",
            "{entry}"
        );
    }
}

#[test]
fn blocked_address_errors_name_the_address_and_the_range() {
    let err = validate_outbound_url("http://169.254.169.254/", &AllowList::empty()).unwrap_err();
    let ip: IpAddr = "169.254.169.254".parse().unwrap();
    assert_eq!(
        err,
        SsrfError::BlockedAddress {
            ip,
            range: BlockedRange::LinkLocal
        }
    );
    assert_eq!(
        err.to_string(),
        "169.254.169.254 is a link-local/metadata address"
    );
}
