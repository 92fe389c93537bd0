//! A sensor-record cache shared by a fleet: SDR repositories keyed by the BMC's manufacturer
//! and product and the repository's record count and add/erase timestamps, kept in memory for
//! a run and on disk (`$XDG_CACHE_HOME/winrm-ipmi/sdr`, else `~/.cache/winrm-ipmi/sdr`), so
//! identical models download their repository once.
//!
//! Each host still costs two requests (Get Device ID, Get SDR Repository Info) to find its
//! key; a repository whose timestamps are unset (0 or FFFFFFFFh) is never cached, since then
//! nothing says two repositories are the same.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{RepositoryInfo, SdrRecord, read_repository, repository_info};
use crate::ipmi::app::GetDeviceId;
use crate::ipmi::{Bmc, execute};

/// What identifies a repository's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SdrKey {
    /// IANA manufacturer ID.
    pub manufacturer: u32,
    /// Product ID.
    pub product: u16,
    /// Record count.
    pub records: u16,
    /// Most recent addition.
    pub last_add: u32,
    /// Most recent erase.
    pub last_erase: u32,
}

impl SdrKey {
    fn file_name(&self) -> String {
        format!(
            "{}-{:04x}-{}-{:08x}-{:08x}.sdr",
            self.manufacturer, self.product, self.records, self.last_add, self.last_erase
        )
    }

    fn cacheable(info: &RepositoryInfo) -> bool {
        let set = |t: u32| t != 0 && t != 0xFFFF_FFFF;
        set(info.last_add) || set(info.last_erase)
    }
}

/// Where a host's records came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    /// Read from the BMC (and stored, where cacheable).
    Read,
    /// Read from the BMC: its repository cannot be identified (no timestamps).
    Uncacheable,
    /// From this run's memory.
    Memory,
    /// From the disk cache.
    Disk,
    /// Read from the BMC: the cache is off.
    Off,
}

impl CacheOutcome {
    /// The word for it (metrics, JSON).
    pub const fn name(self) -> &'static str {
        match self {
            CacheOutcome::Read => "read",
            CacheOutcome::Uncacheable => "uncacheable",
            CacheOutcome::Memory => "memory",
            CacheOutcome::Disk => "disk",
            CacheOutcome::Off => "off",
        }
    }
}

/// The cache. Clones share it; `Default` is memory only.
#[derive(Clone)]
pub struct SdrCache {
    memory: Arc<Mutex<HashMap<SdrKey, Arc<Vec<SdrRecord>>>>>,
    /// One download per key at a time: hosts of one model that miss together wait for the
    /// first, then read its records from memory.
    gates: Arc<Mutex<HashMap<SdrKey, Arc<tokio::sync::Mutex<()>>>>>,
    dir: Option<PathBuf>,
    enabled: bool,
}

impl Default for SdrCache {
    fn default() -> Self {
        SdrCache::new(None)
    }
}

impl std::fmt::Debug for SdrCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdrCache").field("dir", &self.dir).finish()
    }
}

/// The user's cache directory for SDRs (`$XDG_CACHE_HOME/winrm-ipmi/sdr`, else
/// `$HOME/.cache/winrm-ipmi/sdr`).
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("winrm-ipmi").join("sdr"))
}

impl SdrCache {
    /// A cache in memory, and on disk in `dir` when given.
    pub fn new(dir: Option<PathBuf>) -> Self {
        SdrCache {
            memory: Arc::default(),
            gates: Arc::default(),
            dir,
            enabled: true,
        }
    }

    /// No cache: every host's records are read from its BMC.
    pub fn disabled() -> Self {
        SdrCache {
            enabled: false,
            ..SdrCache::new(None)
        }
    }

    /// The host's repository: from memory, disk, or the BMC.
    pub async fn records<B: Bmc + ?Sized>(
        &self,
        bmc: &B,
    ) -> Result<(Arc<Vec<SdrRecord>>, CacheOutcome), B::Error> {
        if !self.enabled {
            return Ok((Arc::new(read_repository(bmc).await?), CacheOutcome::Off));
        }
        let id = execute(bmc, GetDeviceId).await?;
        let info = repository_info(bmc).await?;
        if !SdrKey::cacheable(&info) {
            return Ok((
                Arc::new(read_repository(bmc).await?),
                CacheOutcome::Uncacheable,
            ));
        }
        let key = SdrKey {
            manufacturer: id.manufacturer_id,
            product: id.product_id,
            records: info.records,
            last_add: info.last_add,
            last_erase: info.last_erase,
        };
        if let Some(r) = self.in_memory(&key) {
            return Ok((r, CacheOutcome::Memory));
        }
        let gate = self
            .gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let _one_at_a_time = gate.lock().await;
        if let Some(r) = self.in_memory(&key) {
            return Ok((r, CacheOutcome::Memory));
        }
        if let Some(records) = self.dir.as_deref().and_then(|d| load(d, &key)) {
            let records = Arc::new(records);
            self.remember(key, records.clone());
            return Ok((records, CacheOutcome::Disk));
        }
        let records = Arc::new(read_repository(bmc).await?);
        if let Some(dir) = &self.dir
            && let Err(e) = store(dir, &key, &records)
        {
            tracing::debug!(error = %e, "SDR cache: not stored on disk");
        }
        self.remember(key, records.clone());
        Ok((records, CacheOutcome::Read))
    }

    fn in_memory(&self, key: &SdrKey) -> Option<Arc<Vec<SdrRecord>>> {
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn remember(&self, key: SdrKey, records: Arc<Vec<SdrRecord>>) {
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, records);
    }
}

const MAGIC: &[u8; 8] = b"WIMSDR1\n";

/// A cached repository: the magic, then each record as a 2-byte length and its bytes. A file
/// that does not decode is ignored (and later overwritten).
fn load(dir: &Path, key: &SdrKey) -> Option<Vec<SdrRecord>> {
    let bytes = std::fs::read(dir.join(key.file_name())).ok()?;
    let mut rest = bytes.strip_prefix(MAGIC)?;
    let mut records = Vec::new();
    while !rest.is_empty() {
        let len = u16::from_le_bytes([*rest.first()?, *rest.get(1)?]) as usize;
        let raw = rest.get(2..2 + len)?.to_vec();
        records.push(SdrRecord::parse(raw).ok()?);
        rest = &rest[2 + len..];
    }
    (records.len() == key.records as usize || key.records == 0).then_some(records)
}

/// Writes a repository whole or not at all (a temporary file renamed into place).
fn store(dir: &Path, key: &SdrKey, records: &[SdrRecord]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut out = MAGIC.to_vec();
    for r in records {
        out.extend_from_slice(&(r.raw.len() as u16).to_le_bytes());
        out.extend_from_slice(&r.raw);
    }
    let path = dir.join(key.file_name());
    let tmp = dir.join(format!(".{}.{}", key.file_name(), std::process::id()));
    std::fs::write(&tmp, out)?;
    std::fs::rename(&tmp, &path)
}
