//! A sensor-record cache shared by a fleet: SDR repositories keyed by the BMC's manufacturer
//! and product and the repository's record count and add/erase timestamps, kept in memory for
//! a run and on disk (`$XDG_CACHE_HOME/winrm-ipmi/sdr`, else `~/.cache/winrm-ipmi/sdr`), so
//! identical models download their repository once.
//!
//! Each host still costs two requests (Get Device ID, Get SDR Repository Info) to find its
//! key; a repository whose timestamps are unset (0 or FFFFFFFFh) is never cached, since then
//! nothing says two repositories are the same.
//!
//! Both places are bounded, since a long-running exporter meets new keys for ever (a BMC that
//! reloads its SDRs gets new timestamps): memory keeps the most recently used repositories up
//! to [`MAX_RECORDS_IN_MEMORY`] records in all, and the directory keeps the newest
//! [`MAX_FILES_ON_DISK`] files.

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

/// Records kept in memory, all repositories together (a typical server has 40–200); past it the
/// least recently used repositories go.
pub const MAX_RECORDS_IN_MEMORY: usize = 100_000;
/// Repository files kept on disk; past it the oldest go.
pub const MAX_FILES_ON_DISK: usize = 1_000;

/// Repositories in memory, each with when it was last used.
#[derive(Default)]
struct Memory {
    entries: HashMap<SdrKey, (Arc<Vec<SdrRecord>>, u64)>,
    records: usize,
    clock: u64,
}

impl Memory {
    fn get(&mut self, key: &SdrKey) -> Option<Arc<Vec<SdrRecord>>> {
        self.clock += 1;
        let (records, used) = self.entries.get_mut(key)?;
        *used = self.clock;
        Some(records.clone())
    }

    fn insert(&mut self, key: SdrKey, records: Arc<Vec<SdrRecord>>) {
        if records.len() > MAX_RECORDS_IN_MEMORY {
            return;
        }
        self.clock += 1;
        self.records += records.len();
        if let Some((old, _)) = self.entries.insert(key, (records, self.clock)) {
            self.records -= old.len();
        }
        while self.records > MAX_RECORDS_IN_MEMORY {
            let oldest = *self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .expect("records are counted only for entries")
                .0;
            let (gone, _) = self.entries.remove(&oldest).expect("just found");
            self.records -= gone.len();
        }
    }
}

/// The cache. Clones share it; `Default` is memory only.
#[derive(Clone)]
pub struct SdrCache {
    memory: Arc<Mutex<Memory>>,
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
        // The gate is needed only while a download for the key is under way.
        let _forget_the_gate = ForgetGate {
            gates: &self.gates,
            key,
            gate: &gate,
        };
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
    }

    fn remember(&self, key: SdrKey, records: Arc<Vec<SdrRecord>>) {
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, records);
    }

    /// Repositories and records in memory, and gates held (for tests and the bench).
    pub fn sizes(&self) -> (usize, usize, usize) {
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        let gates = self.gates.lock().unwrap_or_else(|e| e.into_inner()).len();
        (memory.entries.len(), memory.records, gates)
    }
}

/// Removes a key's gate when its holder is done, unless another host waits on it (that one
/// removes it in turn).
struct ForgetGate<'a> {
    gates: &'a Mutex<HashMap<SdrKey, Arc<tokio::sync::Mutex<()>>>>,
    key: SdrKey,
    gate: &'a Arc<tokio::sync::Mutex<()>>,
}

impl Drop for ForgetGate<'_> {
    fn drop(&mut self) {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        // The map's reference and ours: nobody else waits.
        if Arc::strong_count(self.gate) <= 2 {
            gates.remove(&self.key);
        }
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
    std::fs::rename(&tmp, &path)?;
    prune(dir, MAX_FILES_ON_DISK)
}

/// Keeps the newest `keep` repository files in `dir` (by modification time), removing the rest.
fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sdr"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= keep {
        return Ok(());
    }
    files.sort();
    for (_, path) in &files[..files.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> SdrKey {
        SdrKey {
            manufacturer: 343,
            product: 1,
            records: 0,
            last_add: n,
            last_erase: 0,
        }
    }

    /// `n` copies of one record (only their count matters here).
    fn repository(n: usize) -> Arc<Vec<SdrRecord>> {
        let raw = vec![0x01, 0x00, 0x51, 0xC0, 0x03, 0x57, 0x01, 0x00]; // an OEM record
        let record = match SdrRecord::parse(raw) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        Arc::new(vec![record; n])
    }

    #[test]
    fn memory_keeps_the_most_recently_used_within_its_budget() {
        let mut m = Memory::default();
        let third = MAX_RECORDS_IN_MEMORY / 3;
        for n in 0..3 {
            m.insert(key(n), repository(third));
        }
        assert!(m.get(&key(0)).is_some()); // key 1 is now the least recently used
        m.insert(key(3), repository(third));
        assert!(m.get(&key(1)).is_none());
        for n in [0, 2, 3] {
            assert!(m.get(&key(n)).is_some(), "{n}");
        }
        assert_eq!(m.records, 3 * third);
        assert!(m.records <= MAX_RECORDS_IN_MEMORY);
        // Replacing a key does not count it twice; a repository over the budget is not kept.
        m.insert(key(3), repository(third));
        assert_eq!(m.records, 3 * third);
        m.insert(key(9), repository(MAX_RECORDS_IN_MEMORY + 1));
        assert!(m.get(&key(9)).is_none());
        assert_eq!(m.records, 3 * third);
    }

    #[test]
    fn the_directory_keeps_the_newest_files() {
        // Removed when dropped, a failed assertion included.
        let scratch = tempfile::Builder::new()
            .prefix("winrm-ipmi-sdr-prune-")
            .tempdir()
            .unwrap();
        let dir = scratch.path().to_path_buf();
        let t0 = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        for n in 0..5u64 {
            let path = dir.join(format!("{n}.sdr"));
            std::fs::write(&path, b"x").unwrap();
            let f = std::fs::File::options().write(true).open(&path).unwrap();
            f.set_modified(t0 + std::time::Duration::from_secs(n))
                .unwrap();
        }
        std::fs::write(dir.join("not-a-repository.txt"), b"x").unwrap();
        prune(&dir, 3).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["2.sdr", "3.sdr", "4.sdr", "not-a-repository.txt"]);
    }

    #[cfg(feature = "sim")]
    #[tokio::test]
    async fn no_gate_outlives_its_download() {
        let bmc = crate::sim::SimBmc::new(crate::sim::BmcConfig::default());
        let cache = SdrCache::new(None);
        let (first, outcome) = cache.records(&bmc).await.unwrap();
        assert_eq!(outcome, CacheOutcome::Read);
        let (again, outcome) = cache.records(&bmc).await.unwrap();
        assert_eq!(outcome, CacheOutcome::Memory);
        assert_eq!(first.len(), again.len());
        assert_eq!(cache.sizes(), (1, first.len(), 0));
    }
}
