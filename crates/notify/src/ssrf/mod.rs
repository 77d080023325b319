//! SSRF guard for outbound webhook URLs (security.md §4.5): parse strictly, refuse internal names and
//! addresses unless the administrator's [`AllowList`] says otherwise, resolve once through an
//! injectable [`Resolver`], check every address, and hand back a [`PinnedUrl`] whose address the
//! HTTP client must connect to (so DNS rebinding between check and use cannot swap it).

mod ranges;

use std::net::{IpAddr, SocketAddr};

use futures::future::BoxFuture;
use url::{Host, Url};

pub use ranges::{BlockedRange, IpNet, classify};

/// Why an outbound URL is refused. `code()` gives a stable code for API errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    #[error("not a valid URL")]
    InvalidUrl,
    #[error("only http and https URLs are allowed, not {0}")]
    SchemeNotAllowed(String),
    #[error("URLs with a user name or password are refused")]
    UserInfo,
    #[error("the URL has no host")]
    MissingHost,
    #[error("the host name {0} is internal")]
    InternalName(String),
    #[error("{ip} is a {range} address")]
    BlockedAddress { ip: IpAddr, range: BlockedRange },
    #[error("the host {host} could not be resolved: {reason}")]
    Unresolvable { host: String, reason: String },
    #[error("the host {0} has no addresses")]
    NoAddresses(String),
    #[error("invalid allow-list entry {0:?}")]
    InvalidAllowEntry(String),
}

impl SsrfError {
    /// Stable error code for `{"errors":[{"code": …}]}`.
    pub fn code(&self) -> &'static str {
        match self {
            SsrfError::InvalidUrl => "url_invalid",
            SsrfError::SchemeNotAllowed(_) => "url_scheme_not_allowed",
            SsrfError::UserInfo => "url_userinfo_not_allowed",
            SsrfError::MissingHost => "url_missing_host",
            SsrfError::InternalName(_) => "url_internal_host",
            SsrfError::BlockedAddress { .. } => "url_blocked_address",
            SsrfError::Unresolvable { .. } => "url_unresolvable",
            SsrfError::NoAddresses(_) => "url_no_addresses",
            SsrfError::InvalidAllowEntry(_) => "allow_list_invalid",
        }
    }

    /// DNS trouble may pass; everything else needs someone to change the configuration.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SsrfError::Unresolvable { .. } | SsrfError::NoAddresses(_)
        )
    }
}

/// The administrator's exceptions: host names (exact, or `*.suffix` for subdomains) and CIDR blocks.
///
/// A host-name entry trusts what that name resolves to, including loopback and private addresses,
/// but not link-local/metadata; a CIDR entry opens exactly its addresses. Unspecified, multicast and
/// broadcast addresses are never allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    hosts: Vec<String>,
    suffixes: Vec<String>,
    nets: Vec<IpNet>,
}

impl AllowList {
    /// Nothing allowed beyond the public internet.
    pub fn empty() -> AllowList {
        AllowList::default()
    }

    /// Parses entries such as `oa.example.gov.cn`, `*.intra.example.cn`, `10.8.0.0/16`, `127.0.0.1`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowList, SsrfError> {
        let mut list = AllowList::default();
        for entry in entries {
            let raw = entry.as_ref().trim();
            if raw.is_empty() {
                continue;
            }
            if let Some(net) = IpNet::parse(raw) {
                list.nets.push(net);
            } else if let Some(suffix) = raw.strip_prefix("*.") {
                list.suffixes.push(normalise_host_entry(suffix, raw)?);
            } else {
                list.hosts.push(normalise_host_entry(raw, raw)?);
            }
        }
        Ok(list)
    }

    /// Whether the (normalised) host name is allow-listed.
    pub fn allows_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h == host)
            || self.suffixes.iter().any(|s| {
                host.strip_suffix(s.as_str())
                    .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
            })
    }

    /// Whether a CIDR entry contains `ip`.
    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The verdict for one address reached through a host that is (or is not) allow-listed by name.
    pub fn check_ip(&self, ip: IpAddr, host_allowed: bool) -> Result<(), SsrfError> {
        let ip = ranges::canonical(ip);
        let Some(range) = classify(ip) else {
            return Ok(());
        };
        let allowed = !range.never_allowed()
            && (self.contains_ip(ip) || (host_allowed && range.unlockable_by_host_name()));
        if allowed {
            Ok(())
        } else {
            Err(SsrfError::BlockedAddress { ip, range })
        }
    }
}

fn normalise_host_entry(host: &str, raw: &str) -> Result<String, SsrfError> {
    let url = Url::parse(&format!("http://{host}/"))
        .map_err(|_| SsrfError::InvalidAllowEntry(raw.to_owned()))?;
    match url.host() {
        Some(Host::Domain(d)) if url.path() == "/" && url.port().is_none() => {
            Ok(d.trim_end_matches('.').to_owned())
        }
        _ => Err(SsrfError::InvalidAllowEntry(raw.to_owned())),
    }
}

/// The host of a [`ValidatedUrl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost {
    /// A name, lowercased, IDNA-encoded, trailing dot removed; `allowed` if on the allow-list.
    Name { name: String, allowed: bool },
    /// An IP literal in any spelling (`2130706433`, `0x7f.1`, `[::ffff:…]`), already checked.
    Ip(IpAddr),
}

/// A URL that passed the static checks; it still has to be resolved and pinned before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedUrl {
    url: Url,
    host: TargetHost,
    port: u16,
}

/// Host names that only ever mean something inside (RFC 6761, RFC 6762, RFC 8375, ICANN `.internal`).
fn is_internal_name(name: &str) -> bool {
    const EXACT: [&str; 3] = [
        "localhost",
        "localhost.localdomain",
        "metadata.google.internal",
    ];
    const SUFFIXES: [&str; 5] = [
        ".localhost",
        ".local",
        ".internal",
        ".home.arpa",
        ".localdomain",
    ];
    EXACT.contains(&name) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Static SSRF checks, no I/O: http/https only, no user info, no internal names, no blocked IP
/// literals (in any of the spellings the WHATWG parser accepts), unless `allow` permits them.
/// Suitable for validating a URL when an administrator saves it.
pub fn validate_outbound_url(url: &str, allow: &AllowList) -> Result<ValidatedUrl, SsrfError> {
    // Control characters, spaces and backslashes are silently rewritten by URL parsers, and parsers
    // disagree about them; refuse rather than guess.
    if url.is_empty() || url.chars().any(|c| c.is_control() || c == ' ' || c == '\\') {
        return Err(SsrfError::InvalidUrl);
    }
    let parsed = Url::parse(url).map_err(|_| SsrfError::InvalidUrl)?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(SsrfError::SchemeNotAllowed(other.to_owned())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(SsrfError::UserInfo);
    }
    let port = parsed
        .port_or_known_default()
        .ok_or(SsrfError::InvalidUrl)?;
    let host = match parsed.host() {
        None => return Err(SsrfError::MissingHost),
        Some(Host::Ipv4(v4)) => TargetHost::Ip(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => TargetHost::Ip(IpAddr::V6(v6)),
        Some(Host::Domain(d)) => {
            let name = d.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty() {
                return Err(SsrfError::MissingHost);
            }
            let allowed = allow.allows_host(&name);
            if !allowed && is_internal_name(&name) {
                return Err(SsrfError::InternalName(name));
            }
            TargetHost::Name { name, allowed }
        }
    };
    if let TargetHost::Ip(ip) = host {
        allow.check_ip(ip, false)?;
    }
    Ok(ValidatedUrl {
        url: parsed,
        host,
        port,
    })
}

impl ValidatedUrl {
    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn host(&self) -> &TargetHost {
        &self.host
    }

    /// Resolves the host once, checks **every** address, and pins the first one.
    /// An IP literal is pinned as is, without asking the resolver.
    pub async fn pin(
        self,
        allow: &AllowList,
        resolver: &dyn Resolver,
    ) -> Result<PinnedUrl, SsrfError> {
        let (name, allowed) = match &self.host {
            TargetHost::Ip(ip) => {
                let addr = SocketAddr::new(*ip, self.port);
                return Ok(PinnedUrl {
                    url: self.url,
                    name: None,
                    addr,
                });
            }
            TargetHost::Name { name, allowed } => (name.clone(), *allowed),
        };
        let addrs =
            resolver
                .lookup(&name, self.port)
                .await
                .map_err(|e| SsrfError::Unresolvable {
                    host: name.clone(),
                    reason: e.to_string(),
                })?;
        let first = *addrs
            .first()
            .ok_or_else(|| SsrfError::NoAddresses(name.clone()))?;
        for ip in &addrs {
            allow.check_ip(*ip, allowed)?;
        }
        let addr = SocketAddr::new(ranges::canonical(first), self.port);
        // The key the HTTP client looks up is the host exactly as the URL spells it.
        let url_host = self.url.host_str().map(str::to_owned);
        Ok(PinnedUrl {
            url: self.url,
            name: url_host,
            addr,
        })
    }
}

/// A checked URL and the one address the connection must go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedUrl {
    url: Url,
    name: Option<String>,
    addr: SocketAddr,
}

impl PinnedUrl {
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host name as spelled in the URL, or `None` for an IP literal.
    pub fn host_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The checked address (port from the URL).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Host name resolution, injectable so tests never touch the network.
pub trait Resolver: Send + Sync {
    /// All addresses of `host`.
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver (getaddrinfo via tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host, port)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}
