//! Which IP addresses an outbound request must not reach, and CIDR blocks for the allow-list.
//!
//! Only public unicast space passes: IPv4 outside the special-purpose registry (RFC 6890 and
//! successors) and IPv6 inside 2000::/3 minus its special blocks. IPv6 forms that embed an IPv4
//! address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
//! are judged by the IPv4 address inside.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockedRange {
    /// 0.0.0.0/8, `::` — "this host"; on Linux a connection to 0.0.0.0 reaches localhost.
    Unspecified,
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// RFC 1918: 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    SharedAddress,
    /// 169.254.0.0/16 and fe80::/10, including the cloud metadata service 169.254.169.254.
    LinkLocal,
    /// fc00::/7 unique local addresses (includes AWS's fd00:ec2::254 metadata).
    UniqueLocal,
    /// fec0::/10, deprecated site-local.
    SiteLocal,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18.0.0/15.
    Benchmarking,
    /// Everything else special: 192.0.0/24, 192.88.99/24, 240/4, Teredo, IPv6 outside 2000::/3, …
    Reserved,
}

impl BlockedRange {
    /// Ranges an administrator unlocks by allow-listing a host *name* (an intranet OA server).
    /// Link-local/metadata, unspecified, multicast and broadcast need an explicit CIDR or stay shut.
    pub fn unlockable_by_host_name(self) -> bool {
        matches!(
            self,
            BlockedRange::Loopback
                | BlockedRange::Private
                | BlockedRange::SharedAddress
                | BlockedRange::UniqueLocal
                | BlockedRange::SiteLocal
                | BlockedRange::Benchmarking
                | BlockedRange::Documentation
        )
    }

    /// Not a unicast destination at all: never allowed, whatever the allow-list says.
    pub fn never_allowed(self) -> bool {
        matches!(
            self,
            BlockedRange::Unspecified | BlockedRange::Multicast | BlockedRange::Broadcast
        )
    }
}

impl fmt::Display for BlockedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockedRange::Unspecified => "unspecified",
            BlockedRange::Loopback => "loopback",
            BlockedRange::Private => "private",
            BlockedRange::SharedAddress => "shared (CGNAT)",
            BlockedRange::LinkLocal => "link-local/metadata",
            BlockedRange::UniqueLocal => "unique-local",
            BlockedRange::SiteLocal => "site-local",
            BlockedRange::Multicast => "multicast",
            BlockedRange::Broadcast => "broadcast",
            BlockedRange::Documentation => "documentation",
            BlockedRange::Benchmarking => "benchmarking",
            BlockedRange::Reserved => "reserved",
        })
    }
}

/// Maps an IPv4-mapped IPv6 address to its IPv4 form; others unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// `None` when `ip` is public unicast; otherwise the range that blocks it.
pub fn classify(ip: IpAddr) -> Option<BlockedRange> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<BlockedRange> {
    let n = u32::from(ip);
    let within =
        |net: [u8; 4], prefix: u32| prefix_match(n, u32::from(Ipv4Addr::from(net)), prefix);
    let table: [([u8; 4], u32, BlockedRange); 17] = [
        ([0, 0, 0, 0], 8, BlockedRange::Unspecified),
        ([10, 0, 0, 0], 8, BlockedRange::Private),
        ([100, 64, 0, 0], 10, BlockedRange::SharedAddress),
        ([127, 0, 0, 0], 8, BlockedRange::Loopback),
        ([169, 254, 0, 0], 16, BlockedRange::LinkLocal),
        ([172, 16, 0, 0], 12, BlockedRange::Private),
        ([192, 0, 0, 0], 24, BlockedRange::Reserved),
        ([192, 0, 2, 0], 24, BlockedRange::Documentation),
        ([192, 31, 196, 0], 24, BlockedRange::Reserved),
        ([192, 52, 193, 0], 24, BlockedRange::Reserved),
        ([192, 88, 99, 0], 24, BlockedRange::Reserved),
        ([192, 168, 0, 0], 16, BlockedRange::Private),
        ([198, 18, 0, 0], 15, BlockedRange::Benchmarking),
        ([198, 51, 100, 0], 24, BlockedRange::Documentation),
        ([203, 0, 113, 0], 24, BlockedRange::Documentation),
        ([224, 0, 0, 0], 4, BlockedRange::Multicast),
        ([255, 255, 255, 255], 32, BlockedRange::Broadcast),
    ];
    if let Some((_, _, range)) = table.iter().find(|(net, prefix, _)| within(*net, *prefix)) {
        return Some(*range);
    }
    // 240.0.0.0/4 (future use); 255.255.255.255 was caught above.
    within([240, 0, 0, 0], 4).then_some(BlockedRange::Reserved)
}

fn classify_v6(ip: Ipv6Addr) -> Option<BlockedRange> {
    let n = u128::from(ip);
    let within = |net: &str, prefix: u32| {
        net.parse::<Ipv6Addr>()
            .is_ok_and(|net| prefix_match128(n, u128::from(net), prefix))
    };
    if ip.is_unspecified() {
        return Some(BlockedRange::Unspecified);
    }
    if ip.is_loopback() {
        return Some(BlockedRange::Loopback);
    }
    // Forms that carry an IPv4 address: judge the IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let low32 = Ipv4Addr::from((n & 0xffff_ffff) as u32);
    if within("::", 96) || within("64:ff9b::", 96) {
        // IPv4-compatible (deprecated) and well-known NAT64 prefix.
        return classify_v4(low32).or(within("::", 96).then_some(BlockedRange::Reserved));
    }
    if within("2002::", 16) {
        let embedded = Ipv4Addr::from(((n >> 80) & 0xffff_ffff) as u32);
        return classify_v4(embedded);
    }
    let table: [(&str, u32, BlockedRange); 9] = [
        ("ff00::", 8, BlockedRange::Multicast),
        ("fe80::", 10, BlockedRange::LinkLocal),
        ("fec0::", 10, BlockedRange::SiteLocal),
        ("fc00::", 7, BlockedRange::UniqueLocal),
        ("2001:db8::", 32, BlockedRange::Documentation),
        ("3fff::", 20, BlockedRange::Documentation),
        // IETF protocol assignments, Teredo (2001::/32) and ORCHID among them.
        ("2001::", 23, BlockedRange::Reserved),
        ("5f00::", 16, BlockedRange::Reserved),
        ("64:ff9b:1::", 48, BlockedRange::Reserved),
    ];
    if let Some((_, _, range)) = table.iter().find(|(net, prefix, _)| within(net, *prefix)) {
        return Some(*range);
    }
    // Global unicast is 2000::/3; everything else is unassigned or special.
    (!within("2000::", 3)).then_some(BlockedRange::Reserved)
}

fn prefix_match(a: u32, b: u32, prefix: u32) -> bool {
    prefix == 0 || (a ^ b) >> (32 - prefix.min(32)) == 0
}

fn prefix_match128(a: u128, b: u128, prefix: u32) -> bool {
    prefix == 0 || (a ^ b) >> (128 - prefix.min(128)) == 0
}

/// A CIDR block from the allow-list: `10.8.0.0/16`, `fd00::/8`, or a bare address (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `addr` or `addr/prefix`; `None` if it is neither.
    pub fn parse(s: &str) -> Option<IpNet> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let addr = canonical(
            addr.trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .ok()?,
        );
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` (IPv4-mapped forms folded to IPv4) lies inside this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let prefix = u32::from(self.prefix);
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_match(u32::from(ip), u32::from(net), prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match128(u128::from(ip), u128::from(net), prefix)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<BlockedRange> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "101.226.4.6",
            "2400:3200::1",
            "2002:808:808::1",
            "64:ff9b::808:808",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn every_special_range_is_classified() {
        use BlockedRange::*;
        let cases = [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("10.0.0.1", Private),
            ("100.64.0.1", SharedAddress),
            ("100.127.255.254", SharedAddress),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("169.254.169.254", LinkLocal),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("192.0.0.170", Reserved),
            ("198.18.0.1", Benchmarking),
            ("203.0.113.9", Documentation),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
            ("::", Unspecified),
            ("::1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::127.0.0.1", Loopback),
            ("::8.8.8.8", Reserved),
            ("64:ff9b::a00:1", Private),
            ("2002:a00:1::", Private),
            ("2002:7f00:1::", Loopback),
            ("fc00::1", UniqueLocal),
            ("fd00:ec2::254", UniqueLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", SiteLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("2001::1", Reserved),
            ("100::1", Reserved),
        ];
        for (ip, want) in cases {
            assert_eq!(class(ip), Some(want), "{ip}");
        }
    }

    #[test]
    fn neighbours_of_private_ranges_are_public() {
        for ip in [
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "11.0.0.0",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn cidr_blocks_contain_what_they_should() {
        let net = IpNet::parse("10.8.0.0/16").unwrap();
        assert!(net.contains("10.8.3.4".parse().unwrap()));
        assert!(net.contains("::ffff:10.8.3.4".parse().unwrap()));
        assert!(!net.contains("10.9.0.1".parse().unwrap()));
        let one = IpNet::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(
            IpNet::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(IpNet::parse("example.com").is_none());
    }
}
