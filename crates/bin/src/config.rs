//! Configuration: defaults < `taizhang.toml` < `TAIZHANG_*` environment < command-line flags.
//! Validated before anything binds or writes; secrets are redacted in Debug and logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// Every key of `taizhang.toml`; each also reads from `TAIZHANG_<KEY>` (upper case).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub bind: String,
    /// `sqlite://PATH` (default) or `postgres://USER:PASS@HOST:PORT/DB`.
    pub database_url: String,
    /// Folder for attachments and keys.
    pub data_dir: PathBuf,
    /// File holding the audit-chain MAC key (created on first start with mode 0600).
    pub audit_key_file: PathBuf,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `taizhang=debug,info`.
    pub log_level: String,
    /// Idle session timeout in minutes (5–30).
    pub session_idle_minutes: i64,
    /// Absolute session lifetime in hours (1–12).
    pub session_absolute_hours: i64,
    /// Failed logins before an account locks (3–10).
    pub lockout_threshold: i64,
    /// Lock duration in minutes.
    pub lockout_minutes: i64,
    /// `standard` (length ≥ 12 + blocklist) or `dengbao` (adds 3-of-4 classes and 90-day expiry).
    pub password_profile: String,
    /// Days the audit trail is kept; never below 180 (网络安全法).
    pub audit_retention_days: i64,
    /// Matter number pattern, `{year}` and `{seq}` are replaced: 督〔2026〕15号.
    pub matter_number_pattern: String,
    /// Send cookies with `Secure` and the `__Host-` prefix (turn off only for plain-HTTP tests).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is trusted (exact IPs). Empty: trust none.
    pub trusted_proxies: Vec<String>,
    /// Name of this node in cadence claims and logs.
    pub node_name: String,
    /// Run the cadence scheduler inside `serve`.
    pub scheduler: bool,
    /// SMTP relay for email notifications; empty: no email.
    pub smtp_host: String,
    pub smtp_port: i64,
    /// `starttls`, `tls` or `plain` (plain only to a loopback relay).
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_password: String,
    /// Sender address, e.g. `台账系统 <taizhang@example.gov.cn>`.
    pub smtp_from: String,
    /// Seconds a page, form or API call may take, body included (5–600).
    pub request_timeout_secs: i64,
    /// Seconds an upload or an export/report download being built may take (60–86400, at least
    /// `request_timeout_secs`): a slow line gets this long, a trickling client no longer.
    pub transfer_timeout_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://./data/taizhang.db".into(),
            data_dir: PathBuf::from("./data"),
            audit_key_file: PathBuf::from("./data/audit.key"),
            log_format: "text".into(),
            log_level: "info".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 30,
            password_profile: "standard".into(),
            audit_retention_days: 365,
            matter_number_pattern: "督〔{year}〕{seq}号".into(),
            secure_cookies: true,
            trusted_proxies: Vec::new(),
            node_name: hostname(),
            scheduler: true,
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_from: "台账系统 <taizhang@localhost>".into(),
            request_timeout_secs: 60,
            transfer_timeout_secs: 900,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field(
                "database_url",
                &taizhang_store::redact_url(&self.database_url),
            )
            .field("data_dir", &self.data_dir)
            .field("audit_key_file", &self.audit_key_file)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("lockout_threshold", &self.lockout_threshold)
            .field("lockout_minutes", &self.lockout_minutes)
            .field("password_profile", &self.password_profile)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("matter_number_pattern", &self.matter_number_pattern)
            .field("secure_cookies", &self.secure_cookies)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("node_name", &self.node_name)
            .field("scheduler", &self.scheduler)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &if self.smtp_password.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("smtp_from", &self.smtp_from)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("transfer_timeout_secs", &self.transfer_timeout_secs)
            .finish()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "node".into())
}

/// Flags that override the file and environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub log_format: Option<String>,
}

impl Config {
    /// Load from the layers. `file` is `--config`; without it `./taizhang.toml` is read if present.
    pub fn load(file: Option<&Path>, flags: &Overrides) -> anyhow::Result<Config> {
        let mut table =
            toml::Table::try_from(Config::default()).context("default configuration")?;
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("taizhang.toml")).filter(|p| p.exists()),
        };
        if let Some(p) = path {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read config file {}", p.display()))?;
            let file_table: toml::Table = toml::from_str(&text)
                .with_context(|| format!("config file {} is not valid TOML", p.display()))?;
            for (k, v) in file_table {
                if !table.contains_key(&k) {
                    bail!(
                        "unknown key `{k}` in {}; run `taizhang config-example` to see every key",
                        p.display()
                    );
                }
                table.insert(k, v);
            }
        }
        for (name, value) in std::env::vars() {
            let Some(key) = name.strip_prefix("TAIZHANG_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if key.starts_with("test_") || key.starts_with("require_") || key == "bench_seed" {
                continue; // test-harness variables, not configuration
            }
            let Some(current) = table.get(&key) else {
                bail!(
                    "unknown environment variable {name}; run `taizhang config-example` to see every key"
                );
            };
            let parsed = parse_env_value(current, &value).with_context(|| {
                format!("environment variable {name}={value:?} is not a valid {key}")
            })?;
            table.insert(key, parsed);
        }
        if let Some(v) = &flags.bind {
            table.insert("bind".into(), toml::Value::String(v.clone()));
        }
        if let Some(v) = &flags.database_url {
            table.insert("database_url".into(), toml::Value::String(v.clone()));
        }
        if let Some(v) = &flags.log_format {
            table.insert("log_format".into(), toml::Value::String(v.clone()));
        }
        let cfg: Config = table.try_into().context("invalid configuration value")?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check every value; one clear line per problem.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.bind_addr()?;
        taizhang_store::Backend::of_url(&self.database_url)
            .map_err(|e| anyhow::anyhow!("database_url: {e}"))?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "log_format must be `text` or `json`, not `{}`",
                self.log_format
            );
        }
        if !(5..=30).contains(&self.session_idle_minutes) {
            bail!(
                "session_idle_minutes must be between 5 and 30 (等保), not {}",
                self.session_idle_minutes
            );
        }
        if !(1..=12).contains(&self.session_absolute_hours) {
            bail!(
                "session_absolute_hours must be between 1 and 12, not {}",
                self.session_absolute_hours
            );
        }
        if !(3..=10).contains(&self.lockout_threshold) {
            bail!(
                "lockout_threshold must be between 3 and 10, not {}",
                self.lockout_threshold
            );
        }
        if !(1..=1440).contains(&self.lockout_minutes) {
            bail!(
                "lockout_minutes must be between 1 and 1440, not {}",
                self.lockout_minutes
            );
        }
        if !matches!(self.password_profile.as_str(), "standard" | "dengbao") {
            bail!(
                "password_profile must be `standard` or `dengbao`, not `{}`",
                self.password_profile
            );
        }
        if self.audit_retention_days < 180 {
            bail!(
                "audit_retention_days cannot be below 180 (网络安全法 requires at least six months), not {}",
                self.audit_retention_days
            );
        }
        if !self.matter_number_pattern.contains("{seq}") {
            bail!("matter_number_pattern must contain {{seq}}, e.g. 督〔{{year}}〕{{seq}}号");
        }
        if !matches!(self.smtp_security.as_str(), "starttls" | "tls" | "plain") {
            bail!(
                "smtp_security must be `starttls`, `tls` or `plain`, not `{}`",
                self.smtp_security
            );
        }
        if !(1..=65535).contains(&self.smtp_port) {
            bail!("smtp_port must be a port number, not {}", self.smtp_port);
        }
        if !(5..=600).contains(&self.request_timeout_secs) {
            bail!(
                "request_timeout_secs must be between 5 and 600, not {}",
                self.request_timeout_secs
            );
        }
        if !(60..=86_400).contains(&self.transfer_timeout_secs)
            || self.transfer_timeout_secs < self.request_timeout_secs
        {
            bail!(
                "transfer_timeout_secs must be between 60 and 86400 and at least request_timeout_secs, not {}",
                self.transfer_timeout_secs
            );
        }
        for p in &self.trusted_proxies {
            p.parse::<std::net::IpAddr>()
                .map_err(|_| anyhow::anyhow!("trusted_proxies: `{p}` is not an IP address"))?;
        }
        Ok(())
    }

    /// The time limits of the web server.
    pub fn http_limits(&self) -> taizhang_web::HttpLimits {
        let secs = |n: i64| std::time::Duration::from_secs(u64::try_from(n).unwrap_or(60));
        taizhang_web::HttpLimits {
            request_timeout: secs(self.request_timeout_secs),
            transfer_timeout: secs(self.transfer_timeout_secs),
        }
    }

    pub fn bind_addr(&self) -> anyhow::Result<SocketAddr> {
        self.bind.parse().map_err(|_| {
            anyhow::anyhow!(
                "bind must be HOST:PORT such as 127.0.0.1:8080, not `{}`",
                self.bind
            )
        })
    }
}

fn parse_env_value(current: &toml::Value, raw: &str) -> anyhow::Result<toml::Value> {
    Ok(match current {
        toml::Value::String(_) => toml::Value::String(raw.to_owned()),
        toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse()?),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            other => bail!("expected true or false, got `{other}`"),
        }),
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.into()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_owned()),
    })
}

/// The commented default `taizhang.toml` (`taizhang config-example`).
pub const EXAMPLE: &str = r#"# taizhang.toml — configuration of Taizhang (台账).
# Precedence: built-in defaults < this file < TAIZHANG_* environment variables < command-line flags.
# Every key below can also be set as an environment variable: TAIZHANG_<KEY IN UPPER CASE>.

# Address and port to listen on. Put a TLS (or 国密 TLCP) reverse proxy in front for other machines.
bind = "127.0.0.1:8080"

# Database. SQLite (default, one machine):  sqlite://./data/taizhang.db
# PostgreSQL (several app nodes on one database): postgres://taizhang:PASSWORD@db-host:5432/taizhang
database_url = "sqlite://./data/taizhang.db"

# Folder for attachments (佐证材料) and keys.
data_dir = "./data"

# HMAC-SM3 key of the audit chain. Keep it outside the database and back it up separately:
# without it `taizhang audit verify` cannot prove the trail is intact. Created on first start.
audit_key_file = "./data/audit.key"

# Logs: "text" or "json"; level as a tracing filter ("info", "taizhang=debug,info").
log_format = "text"
log_level = "info"

# Sessions (等保): idle timeout 5–30 minutes, absolute lifetime 1–12 hours.
session_idle_minutes = 30
session_absolute_hours = 12

# Login lockout: failures before locking, and for how long.
lockout_threshold = 5
lockout_minutes = 30

# "standard": at least 12 characters, not a common password, not one of the last 5.
# "dengbao": also 3 of 4 character classes and a forced change every 90 days.
password_profile = "standard"

# Audit retention in days. Cannot be below 180 (网络安全法: at least six months).
audit_retention_days = 365

# Number pattern of new matters: {year} and {seq} are replaced.
matter_number_pattern = "督〔{year}〕{seq}号"

# Cookies with Secure and the __Host- prefix. Only turn off for plain-HTTP testing on a LAN.
secure_cookies = true

# Reverse proxies whose X-Forwarded-For header is believed (exact IP addresses).
trusted_proxies = []

# Name of this node (cadence claims, logs). Defaults to the host name.
# node_name = "app-1"

# Run the cadence scheduler (daily check, weekly summary, monthly stock-take) inside `serve`.
# With several nodes on one PostgreSQL each period still runs once.
scheduler = true

# Email notifications through an SMTP relay (leave smtp_host empty for none).
# smtp_security: "starttls" (port 587), "tls" (port 465) or "plain" (a relay on this machine only).
smtp_host = ""
smtp_port = 587
smtp_security = "starttls"
smtp_username = ""
smtp_password = ""
smtp_from = "台账系统 <taizhang@localhost>"

# Time limits in seconds. Pages, forms and API calls: request_timeout_secs (5–600).
# Attachment and import uploads, exports and report downloads being built: transfer_timeout_secs
# (60–86400), long enough for a 20 MB scan over a slow line; a client trickling its upload is
# still cut off there.
request_timeout_secs = 60
transfer_timeout_secs = 900
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_into_the_defaults() {
        let t: toml::Table = toml::from_str(EXAMPLE).unwrap();
        let mut defaults = toml::Table::try_from(Config::default()).unwrap();
        for (k, v) in &t {
            assert!(defaults.contains_key(k), "example has unknown key {k}");
            defaults.insert(k.clone(), v.clone());
        }
        let cfg: Config = defaults.try_into().unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.bind, "127.0.0.1:8080");
    }

    #[test]
    fn retention_below_six_months_is_refused() {
        let cfg = Config {
            audit_retention_days: 90,
            ..Config::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("180"), "{err}");
    }

    #[test]
    fn an_unknown_url_scheme_is_refused_with_a_clear_line() {
        let cfg = Config {
            database_url: "mysql://x".into(),
            ..Config::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("unknown database URL scheme"), "{err}");
    }

    #[test]
    fn a_transfer_timeout_shorter_than_the_request_timeout_is_refused() {
        let cfg = Config {
            request_timeout_secs: 120,
            transfer_timeout_secs: 90,
            ..Config::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("transfer_timeout_secs"), "{err}");
        let ok = Config::default().http_limits();
        assert_eq!(ok.transfer_timeout.as_secs(), 900);
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let cfg = Config {
            database_url: "postgres://u:s3cret@h/db".into(),
            ..Config::default()
        };
        let s = format!("{cfg:?}");
        assert!(!s.contains("s3cret"), "{s}");
    }
}
