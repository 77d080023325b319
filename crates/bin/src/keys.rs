//! The audit MAC key: a file outside the database, created once with mode 0600.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

/// Read the key file, or create it with 32 random bytes (hex) when it does not exist yet.
pub fn load_or_create(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the audit key {}", path.display()))?;
        let key = hex::decode(text.trim())
            .with_context(|| format!("the audit key {} is not hex", path.display()))?;
        if key.len() < 32 {
            bail!("the audit key {} is shorter than 32 bytes", path.display());
        }
        return Ok(key);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key: [u8; 32] = rand::random();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create the audit key {}", path.display()))?;
    writeln!(f, "{}", hex::encode(key))
        .with_context(|| format!("cannot write the audit key {}", path.display()))?;
    f.sync_all().ok();
    Ok(key.to_vec())
}
