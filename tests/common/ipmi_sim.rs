//! OpenIPMI's ipmi_sim as a test peer, and ipmitool against it.

use std::process::{Command, Stdio};

use super::{PeerProcess, ScratchDir};
use std::time::{Duration, Instant};

pub struct IpmiSim {
    process: PeerProcess,
    pub port: u16,
}

#[cfg(feature = "sim")]
impl IpmiSim {
    /// A simulated Windows host (number 0) whose IPMI driver forwards every request to this
    /// ipmi_sim over RMCP+.
    pub fn windows_host(&self) -> winrm_ipmi::sim::HostConfig {
        let mut host = winrm_ipmi::sim::HostConfig::numbered(0);
        host.forward_to = Some(winrm_ipmi::sim::LanTarget {
            address: format!("127.0.0.1:{}", self.port),
            user: "admin".into(),
            password: winrm_ipmi::auth::Password::new("adminpass"),
        });
        host
    }
}

pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub fn peers_present(test: &str) -> bool {
    if have("ipmi_sim") && have("ipmitool") {
        return true;
    }
    let why = format!(
        "{test}: ipmi_sim or ipmitool not installed (Debian packages openipmi, ipmitool; scripts/peers.sh installs them as root)"
    );
    super::peer_missing(&why)
}

/// `ipmitool -I lanplus` against the simulator, in the C locale and UTC (so its dates are
/// comparable), with `args`.
pub fn ipmitool(sim: &IpmiSim, args: &[String]) -> std::process::Output {
    let port = sim.port.to_string();
    let mut all: Vec<&str> = vec![
        "-I",
        "lanplus",
        "-C",
        "3",
        "-H",
        "127.0.0.1",
        "-p",
        &port,
        "-U",
        "admin",
        "-P",
        "adminpass",
    ];
    all.extend(args.iter().map(String::as_str));
    Command::new("ipmitool")
        .args(&all)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .unwrap()
}

/// ipmi_sim with the catalog configuration (`tests/peers/ipmi_sim/catalog*`): sensors of
/// every kind, FRU devices, SEL entries, users with known weaknesses, chassis control.
pub fn start_catalog_sim() -> IpmiSim {
    start_with("catalog-lan.conf.in", "catalog.emu")
}

/// FRU devices `fru print` must get past (a blank EEPROM, an unsupported locator).
pub fn start_fru_devices_sim() -> IpmiSim {
    start_with("catalog-lan.conf.in", "fru-devices.emu")
}

pub fn start_ipmi_sim() -> IpmiSim {
    start_with("lan.conf.in", "sim.emu")
}

fn start_with(conf: &str, emu: &str) -> IpmiSim {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = ScratchDir::new("ipmisim", &port.to_string());
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let peers = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/ipmi_sim");
    let conf = std::fs::read_to_string(format!("{peers}/{conf}"))
        .unwrap()
        .replace("@PORT@", &port.to_string())
        .replace("@DIR@", &dir.display().to_string());
    std::fs::write(dir.join("lan.conf"), conf).unwrap();
    let mut command = Command::new("ipmi_sim");
    command
        .arg("-c")
        .arg(dir.join("lan.conf"))
        .arg("-f")
        .arg(format!("{peers}/{emu}"))
        .arg("-s")
        .arg(dir.join("state"))
        .arg("-n")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let sim = IpmiSim {
        process: PeerProcess::spawn(command, dir),
        port,
    };
    let start = Instant::now();
    loop {
        if ipmitool(&sim, &["raw".into(), "0x06".into(), "0x01".into()])
            .status
            .success()
        {
            return sim;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "ipmi_sim did not answer"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
