//! The in-band catalog on one host: sensors and SDRs (with the fleet-wide sensor-record cache).
//! Each command gives ipmitool's text for one host, typed JSON, and columns for tables.

use serde_json::json;
use winrm_ipmi::ipmi::sdr::{CacheOutcome, SdrCache};
use winrm_ipmi::ipmi::sensor;
use winrm_ipmi::{Client, Error, IpmiBmc};

use super::HostOutput;
use crate::cli::args::{Command, Global, SdrCommand, SdrFilter, SensorCommand};
use crate::cli::render::sensors as render;

/// A catalog command, ready to run on any number of hosts.
pub enum Catalog {
    /// `sdr list` / `sdr elist`.
    Sdr {
        extended: bool,
        filter: Option<SdrFilter>,
        cache: SdrCache,
    },
    /// `sensor list`.
    SensorList { cache: SdrCache },
}

fn cache(g: &Global) -> SdrCache {
    SdrCache::new(if g.no_sdr_cache {
        None
    } else {
        winrm_ipmi::ipmi::sdr::cache::default_dir()
    })
}

fn outcome(o: CacheOutcome) -> &'static str {
    match o {
        CacheOutcome::Read => "read",
        CacheOutcome::Uncacheable => "uncacheable",
        CacheOutcome::Memory => "memory",
        CacheOutcome::Disk => "disk",
    }
}

impl Catalog {
    /// The catalog command `c` names, if any.
    pub fn from_command(c: &Command, g: &Global) -> Result<Option<Catalog>, String> {
        Ok(Some(match c {
            Command::Sdr { what } => {
                let (extended, filter) = match what {
                    SdrCommand::List { which } => (false, *which),
                    SdrCommand::Elist { which } => (true, *which),
                };
                Catalog::Sdr {
                    extended,
                    filter,
                    cache: cache(g),
                }
            }
            Command::Sensor {
                what: SensorCommand::List,
            } => Catalog::SensorList { cache: cache(g) },
            _ => return Ok(None),
        }))
    }

    /// Runs on one host.
    pub async fn run(&self, _client: &Client, bmc: &IpmiBmc) -> Result<HostOutput, Error> {
        match self {
            Catalog::Sdr {
                extended,
                filter,
                cache,
            } => {
                let (records, from) = cache.records(bmc).await?;
                let wanted = |t: u8| match filter {
                    None => t == 0x01 || t == 0x02,
                    Some(SdrFilter::Full) => t == 0x01,
                    Some(SdrFilter::Compact) => t == 0x02,
                    Some(SdrFilter::Event) => t == 0x03,
                };
                let shown: Vec<_> = records
                    .iter()
                    .filter(|r| wanted(r.record_type))
                    .cloned()
                    .collect();
                let sensors = sensor::read_all(bmc, &shown, false).await?;
                let mut text = String::new();
                let mut next = sensors.iter();
                for r in &shown {
                    if r.record_type == 0x03 {
                        render::eventonly_line(&mut text, r, *extended);
                    } else if let Some(s) = next.next() {
                        if *extended {
                            render::sdr_elist_line(&mut text, s);
                        } else {
                            render::sdr_list_line(&mut text, s);
                        }
                    }
                }
                Ok(sensor_output(text, &sensors, from))
            }
            Catalog::SensorList { cache } => {
                let (records, from) = cache.records(bmc).await?;
                let sensors = sensor::read_all(bmc, &records, true).await?;
                let mut text = String::new();
                for s in &sensors {
                    render::sensor_list_line(&mut text, s);
                }
                Ok(sensor_output(text, &sensors, from))
            }
        }
    }
}

/// Text, JSON and table columns for a list of sensors: the table shows how many sensors and
/// the worst status.
fn sensor_output(text: String, sensors: &[sensor::Sensor], from: CacheOutcome) -> HostOutput {
    let worst = sensors
        .iter()
        .filter(|s| s.threshold)
        .max_by_key(|s| s.status.severity())
        .map_or("ok", |s| s.status.word());
    let not_ok = sensors.iter().filter(|s| s.status.severity() > 0).count();
    HostOutput {
        text,
        columns: vec![
            ("sensors", sensors.len().to_string()),
            ("not_ok", not_ok.to_string()),
            ("worst", worst.to_string()),
            ("sdr_cache", outcome(from).to_string()),
        ],
        json: json!({"sensors": sensors, "sdr_cache": outcome(from)}),
    }
}
