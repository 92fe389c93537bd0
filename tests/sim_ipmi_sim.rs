//! OpenIPMI's ipmi_sim (a real BMC simulator) behind a simulated Windows host: the same requests
//! through winrm-ipmi (WinRM, NTLM, encryption, Microsoft_IPMI, then RMCP+) and through
//! `ipmitool -I lanplus -C 3 ... raw` give the same bytes and completion codes.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::RawRequest;
use winrm_ipmi::sim::{HostConfig, LanTarget, Simulator};
use winrm_ipmi::{Client, RetryPolicy};

struct IpmiSim {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for IpmiSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn peers_present(test: &str) -> bool {
    if have("ipmi_sim") && have("ipmitool") {
        return true;
    }
    let why = format!(
        "{test}: ipmi_sim or ipmitool not installed (Debian packages openipmi, ipmitool; scripts/peers.sh installs them as root)"
    );
    if std::env::var_os("WINRM_IPMI_REQUIRE_PEERS").is_some() {
        panic!("peer required but missing: {why}");
    }
    eprintln!("SKIP {why}");
    false
}

fn ipmitool(sim: &IpmiSim, args: &[String]) -> std::process::Output {
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
    Command::new("ipmitool").args(&all).output().unwrap()
}

fn start_ipmi_sim() -> IpmiSim {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir =
        std::env::temp_dir().join(format!("winrm-ipmi-ipmisim-{}-{port}", std::process::id()));
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let peers = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/ipmi_sim");
    let conf = std::fs::read_to_string(format!("{peers}/lan.conf.in"))
        .unwrap()
        .replace("@PORT@", &port.to_string());
    std::fs::write(dir.join("lan.conf"), conf).unwrap();
    let child = Command::new("ipmi_sim")
        .arg("-c")
        .arg(dir.join("lan.conf"))
        .arg("-f")
        .arg(format!("{peers}/sim.emu"))
        .arg("-s")
        .arg(dir.join("state"))
        .arg("-n")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sim = IpmiSim { child, port, dir };
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

/// ipmitool raw's answer: `Ok(bytes)` or `Err(completion code)`.
fn ipmitool_raw(sim: &IpmiSim, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>, u8> {
    let mut args = vec![
        "raw".to_string(),
        format!("0x{netfn:02x}"),
        format!("0x{cmd:02x}"),
    ];
    args.extend(data.iter().map(|b| format!("0x{b:02x}")));
    let out = ipmitool(sim, &args);
    if out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let at = err
            .find("rsp=0x")
            .unwrap_or_else(|| panic!("ipmitool: {err}"));
        Err(u8::from_str_radix(&err[at + 6..at + 8], 16).unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_bytes_and_completion_codes_as_ipmitool() {
    if !peers_present("ipmi_sim behind the simulated host") {
        return;
    }
    let ipmi_sim = start_ipmi_sim();
    let mut host = HostConfig::numbered(0);
    host.forward_to = Some(LanTarget {
        address: format!("127.0.0.1:{}", ipmi_sim.port),
        user: "admin".into(),
        password: Password::new("adminpass"),
    });
    let sim = Simulator::builder().host(host).start().await.unwrap();
    let client = Client::builder(&sim.endpoints()[0])
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .retry(RetryPolicy {
            attempts: 1,
            ..Default::default()
        })
        .build()
        .unwrap();
    let bmc = client.ipmi().await.unwrap();

    // Get Device ID, Get System GUID, Get Chassis Status, an invalid command, a bad length,
    // Get SEL Info, Get Channel Info.
    let cases: [(u8, u8, &[u8]); 7] = [
        (0x06, 0x01, &[]),
        (0x06, 0x37, &[]),
        (0x00, 0x01, &[]),
        (0x06, 0x04, &[]),
        (0x30, 0x01, &[]),
        (0x0a, 0x40, &[]),
        (0x06, 0x42, &[0x01]),
    ];
    for (netfn, cmd, data) in cases {
        let ours = bmc
            .raw(RawRequest::from_bytes(netfn, cmd, data.to_vec()).unwrap())
            .await
            .unwrap();
        let theirs = ipmitool_raw(&ipmi_sim, netfn, cmd, data);
        let ours = if ours.completion.is_success() {
            Ok(ours.data)
        } else {
            Err(ours.completion.byte())
        };
        // Get SEL Info carries timestamps that may move between the two reads; compare the rest.
        if (netfn, cmd) == (0x0a, 0x40) {
            assert_eq!(
                ours.as_ref().map(|d| d[..5].to_vec()),
                theirs.as_ref().map(|d| d[..5].to_vec()),
                "SEL info"
            );
            continue;
        }
        // Get Channel Info byte 3 counts the active sessions (bits 5:0): ipmitool's own session
        // is one more than ours sees. The session-support bits and every other byte must match.
        if (netfn, cmd) == (0x06, 0x42) {
            let mask = |d: Vec<u8>| {
                d.iter()
                    .enumerate()
                    .map(|(i, b)| if i == 3 { b & 0xC0 } else { *b })
                    .collect::<Vec<_>>()
            };
            assert_eq!(ours.map(mask), theirs.map(mask), "channel info");
            continue;
        }
        assert_eq!(ours, theirs, "netfn 0x{netfn:02x} cmd 0x{cmd:02x}");
    }
    // The configured GUID comes through, as ipmitool shows it.
    let guid = bmc
        .raw(RawRequest::from_bytes(0x06, 0x37, vec![]).unwrap())
        .await
        .unwrap()
        .data;
    assert_eq!(guid[0], 0xa1);
}
