//! The catalog on the built-in simulator: every command runs against a simulated host (its BMC
//! serves them all), the texts ipmi_sim cannot give are checked against ipmitool's formats,
//! and the power rules: more than one host needs --yes; an in-band power-off that takes the
//! WinRM connection down with it is reported as done, and not sent again.

mod common;

use assert_cmd::Command;
use common::ScratchDir;
use winrm_ipmi::sim::{HostConfig, Simulator};

/// Our binary on `endpoints`, its sensor-record cache in `cache` (the test's own).
fn ours(cache: &ScratchDir, endpoints: &[String], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("winrm-ipmi").unwrap();
    cmd.env("WINRM_PASSWORD", "Sim-Passw0rd!")
        .env("XDG_CACHE_HOME", cache)
        .env("TZ", "UTC")
        .args(["-U", "Administrator"]);
    for e in endpoints {
        cmd.args(["-H", e]);
    }
    cmd.args(args).output().unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalog_command_runs_on_the_simulator() {
    let cache = ScratchDir::new(
        "catalog-sim-cache",
        "every_catalog_command_runs_on_the_simulator",
    );
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let ep = sim.endpoints();
    for args in [
        &["sdr", "list"][..],
        &["sdr", "elist"],
        &["sensor", "list"],
        &["fru", "print"],
        &["sel", "info"],
        &["sel", "list"],
        &["sel", "elist"],
        &["chassis", "status"],
        &["chassis", "power", "status"],
        &["chassis", "bootdev", "pxe", "--persistent"],
        &["chassis", "identify", "10"],
        &["user", "list", "1"],
        &["channel", "info", "1"],
    ] {
        assert!(!stdout(&ours(&cache, &ep, args)).is_empty(), "{args:?}");
    }
    assert_eq!(
        stdout(&ours(&cache, &ep, &["mc", "selftest"])),
        "Selftest: passed\n"
    );
    // DCMI and the watchdog in ipmitool's layout (its formats; ipmi_sim has neither).
    assert_eq!(
        stdout(&ours(&cache, &ep, &["dcmi", "power", "reading"])),
        "\n    Instantaneous power reading:                   312 Watts\n    Minimum during sampling period:                288 Watts\n    Maximum during sampling period:                405 Watts\n    Average power reading over sample period:      330 Watts\n    IPMI timestamp:                           11/24/23 02:46:32 UTC    Sampling period:                          00001000 Seconds.\n    Power reading state is:                   activated\n\n"
    );
    assert_eq!(
        stdout(&ours(&cache, &ep, &["mc", "watchdog", "get"])),
        "Watchdog Timer Use:     SMS/OS (0x04)\nWatchdog Timer Is:      Stopped\nWatchdog Timer Logging: On\nWatchdog Timer Action:  Hard Reset (0x01)\nPre-timeout interrupt:  None\nPre-timeout interval:   0 seconds\nTimer Expiration Flags: None (0x00)\nInitial Countdown:      300.0 sec\nPresent Countdown:      300.0 sec\n"
    );
    let users = stdout(&ours(&cache, &ep, &["user", "list", "1"]));
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("2   root") && l.ends_with("ADMINISTRATOR")),
        "{users}"
    );
    // LAN settings, read back by lan print.
    stdout(&ours(
        &cache,
        &ep,
        &["lan", "set", "1", "vlan", "id", "100"],
    ));
    stdout(&ours(&cache, &ep, &["lan", "set", "1", "ipsrc", "dhcp"]));
    let lan = stdout(&ours(&cache, &ep, &["lan", "print", "1"]));
    assert!(lan.contains("802.1q VLAN ID          : 100"), "{lan}");
    assert!(
        lan.contains("IP Address Source       : DHCP Address"),
        "{lan}"
    );
    stdout(&ours(
        &cache,
        &ep,
        &["lan", "set", "1", "vlan", "id", "off"],
    ));
    assert!(
        stdout(&ours(&cache, &ep, &["lan", "print", "1"]))
            .contains("802.1q VLAN ID          : Disabled")
    );
    // A bad value is refused before any traffic.
    let bad = ours(&cache, &ep, &["lan", "set", "1", "vlan", "id", "5000"]);
    assert_eq!(bad.status.code(), Some(2));
    // The SEL cleared: nothing left to list.
    assert_eq!(
        stdout(&ours(&cache, &ep, &["sel", "clear"])),
        "Clearing SEL.  Please allow a few seconds to erase.\n"
    );
    assert!(stdout(&ours(&cache, &ep, &["sel", "info"])).contains("Entries          : 0\n"));
    // JSON is typed: sensor values, units and statuses.
    let json = ours(&cache, &ep, &["--output", "json", "sensor", "list"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&json).lines().next().unwrap()).unwrap();
    let fan = &v["result"]["sensors"][0];
    assert_eq!(fan["name"], "Fan2A");
    assert_eq!(fan["unit"], "RPM");
    assert_eq!(fan["value"], 5280.0);
    assert_eq!(fan["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_actions_need_yes_for_a_fleet_and_a_dropped_connection_is_done() {
    let cache = ScratchDir::new(
        "catalog-sim-cache",
        "power_actions_need_yes_for_a_fleet_and_a_dropped_connection_is_done",
    );
    let mut config = HostConfig::numbered(0);
    config.faults.power_off_drops = true;
    let sim = Simulator::builder()
        .host(config)
        .host(HostConfig::numbered(1))
        .start()
        .await
        .unwrap();
    let both = sim.endpoints();
    // Two hosts without --yes: refused before any traffic.
    let o = ours(&cache, &both, &["chassis", "power", "off"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--yes"));
    assert!(sim.host(0).bmc.power_on());
    // A host list, from a file or stdin, needs --yes too, whatever it holds.
    let list = cache.join("hosts");
    std::fs::write(&list, both.join("\n")).unwrap();
    for hosts in [list.to_str().unwrap(), "-"] {
        let mut cmd = assert_cmd::Command::cargo_bin("winrm-ipmi").unwrap();
        let o = cmd
            .env("WINRM_PASSWORD", "Sim-Passw0rd!")
            .args(["-U", "Administrator", "--hosts", hosts])
            .args(["chassis", "power", "cycle"])
            .write_stdin(both.join("\n"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{hosts}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--yes"),
            "{hosts}"
        );
    }
    assert!(sim.host(0).bmc.power_on() && sim.host(1).bmc.power_on());
    // So do the other changes to a BMC.
    for change in [
        &["sel", "clear"][..],
        &["chassis", "bootdev", "pxe"],
        &["lan", "set", "1", "ipsrc", "dhcp"],
    ] {
        let o = ours(&cache, &both, change);
        assert_eq!(o.status.code(), Some(2), "{change:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--yes"),
            "{change:?}"
        );
    }
    // The first host goes down with its connection; the second answers. Both are done.
    let o = ours(
        &cache,
        &both,
        &["--output", "json", "chassis", "power", "off", "--yes"],
    );
    let out = stdout(&o);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines.iter().all(|l| l["result"]["done"] == true), "{out}");
    assert_eq!(lines[0]["result"]["connection_lost"], true, "{out}");
    assert!(!sim.host(0).bmc.power_on());
    assert!(!sim.host(1).bmc.power_on());
    // One host: no --yes needed, and ipmitool's words.
    let o = ours(&cache, &both[1..], &["chassis", "power", "on"]);
    assert_eq!(stdout(&o), "Chassis Power Control: Up/On\n");
    assert!(sim.host(1).bmc.power_on());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_action_the_bmc_refuses_is_an_error_not_done() {
    use winrm_ipmi::ipmi::CompletionCode;
    let cache = ScratchDir::new(
        "catalog-sim-cache",
        "a_power_action_the_bmc_refuses_is_an_error_not_done",
    );
    // D5h (not in the present state) and C0h (busy, still after the retries): answers that
    // say the command was not carried out, unlike a connection that drops with no answer.
    for (code, says) in [
        (CompletionCode::NotSupportedInPresentState, "0xd5"),
        (CompletionCode::NodeBusy, "0xc0"),
    ] {
        let mut config = HostConfig::numbered(0);
        config.faults.bmc_rejects = Some(code);
        let sim = Simulator::builder().host(config).start().await.unwrap();
        for action in ["off", "cycle", "reset", "soft"] {
            let o = ours(
                &cache,
                &sim.endpoints(),
                &["--output", "json", "chassis", "power", action],
            );
            assert_eq!(o.status.code(), Some(1), "{action}: {o:?}");
            let line: serde_json::Value =
                serde_json::from_slice(o.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
            assert_eq!(line["ok"], false, "{action}: {line}");
            assert!(line["result"].is_null(), "{action}: {line}");
            assert_eq!(line["error"], "ipmi", "{action}: {line}");
            assert!(
                line["message"].as_str().unwrap().contains(says),
                "{action}: {line}"
            );
        }
        assert!(sim.host(0).bmc.power_on());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlate_verify_proves_which_bmc_is_whose() {
    let cache = ScratchDir::new(
        "catalog-sim-cache",
        "correlate_verify_proves_which_bmc_is_whose",
    );
    let mut other = HostConfig::numbered(1);
    other.smbios_uuid = HostConfig::numbered(77).smbios_uuid;
    let sim = Simulator::builder()
        .host(HostConfig::numbered(0))
        .host(other)
        .start()
        .await
        .unwrap();
    let both = sim.endpoints();
    let one = ours(&cache, &both[..1], &["correlate", "--verify"]);
    let text = stdout(&one);
    assert!(
        text.contains("GUID Check        : match (SMBIOS byte order)"),
        "{text}"
    );
    // The fleet: the second host's BMC is flagged, its row still shown, and the run exits 1.
    let o = ours(
        &cache,
        &both,
        &["--output", "json", "correlate", "--verify"],
    );
    assert_eq!(o.status.code(), Some(1));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["result"]["guid_match"], "smbios");
    assert_eq!(rows[0]["result"]["guid_mismatch"], false);
    assert_eq!(rows[1]["result"]["guid_mismatch"], true);
    assert_eq!(
        rows[1]["ok"], true,
        "the host answered; its BMC is someone else's"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 host(s) flagged"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_bmc_audits_clean() {
    let cache = ScratchDir::new("catalog-sim-cache", "the_simulators_bmc_audits_clean");
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let o = ours(&cache, &sim.endpoints(), &["audit"]);
    let text = stdout(&o);
    assert!(text.ends_with("0 high, 0 medium, 1 low\n"), "{text}");
    assert!(text.contains("RMCP+ cipher suites offered: 3,17"), "{text}");
    assert!(
        text.contains("user 2 'root' can log on with administrator privilege"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlate_writes_a_prometheus_file_sd_of_the_bmcs() {
    let cache = ScratchDir::new(
        "catalog-sim-cache",
        "correlate_writes_a_prometheus_file_sd_of_the_bmcs",
    );
    let mut broken = HostConfig::numbered(2);
    broken.faults.no_ipmi_driver = true;
    let sim = Simulator::builder()
        .host(HostConfig::numbered(0))
        .host(HostConfig::numbered(1))
        .host(broken)
        .start()
        .await
        .unwrap();
    let eps = sim.endpoints();
    let o = ours(&cache, &eps, &["--output", "prometheus-sd", "correlate"]);
    // The host without a BMC driver fails (exit 1, named on stderr) and has no target group.
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(&eps[2]), "{stderr}");
    let sd: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let groups = sd.as_array().unwrap();
    assert_eq!(groups.len(), 2, "{sd}");
    for (i, g) in groups.iter().enumerate() {
        let ip = sim.host(i).config.bmc.lan_channels[0].ip_address;
        assert_eq!(g["targets"], serde_json::json!([ip.to_string()]));
        assert_eq!(g["labels"]["winrm_endpoint"], eps[i].as_str());
        assert_eq!(g["labels"]["host"], sim.host(i).config.host_name.as_str());
        assert_eq!(g["labels"]["bmc_mac"].as_str().unwrap().len(), 17, "{g}");
    }
    // Only correlate knows BMC addresses.
    let o = ours(
        &cache,
        &eps[..1],
        &["--output", "prometheus-sd", "mc", "info"],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlate_reads_one_known_channel_when_told() {
    let cache = ScratchDir::new(
        "catalog-sim-cache",
        "correlate_reads_one_known_channel_when_told",
    );
    let sim = Simulator::builder().hosts(2).start().await.unwrap();
    let eps = sim.endpoints();
    let scan = ours(&cache, &eps, &["--output", "json", "correlate"]);
    let one = ours(
        &cache,
        &eps,
        &["--output", "json", "correlate", "--channel", "1"],
    );
    let rows = |o: &std::process::Output| -> Vec<serde_json::Value> {
        stdout(o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // The simulated BMC's LAN is channel 1: the same answer without the scan.
    assert_eq!(rows(&scan), rows(&one));
    // A channel that is not a LAN channel is an error for each host, named.
    let o = ours(&cache, &eps[..1], &["correlate", "--channel", "2"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("channel 2 is not a LAN channel"),
        "{stderr}"
    );
    // Not a channel number at all: refused before any traffic (exit 2); hex is a number.
    for bad in ["0", "12", "255", "x"] {
        let o = ours(&cache, &eps[..1], &["correlate", "--channel", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
    }
    let hex = ours(
        &cache,
        &eps[..1],
        &["--output", "json", "correlate", "--channel", "0x01"],
    );
    assert_eq!(rows(&hex)[0]["ok"], true);
}

/// `correlate` and `lan print` scan channels 1-11 once per BMC firmware build; the other BMCs
/// of the build confirm the channels found. `--full-scan` scans every BMC, and sees a LAN
/// channel the first BMC of the build did not have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_channels_once_per_build_or_on_every_bmc() {
    use winrm_ipmi::sim::LanChannelConfig;
    let cache = ScratchDir::new(
        "catalog-sim-cache",
        "lan_channels_once_per_build_or_on_every_bmc",
    );
    // Same build (same Device ID); the second also has LAN channel 3.
    let mut second = HostConfig::numbered(1);
    second.bmc.lan_channels.push(LanChannelConfig::new(
        3,
        std::net::Ipv4Addr::new(192, 168, 7, 9),
        [0, 0x1a, 2, 0x0c, 0xd, 0xe],
    ));
    let sim = Simulator::builder()
        .host(HostConfig::numbered(0))
        .host(second)
        .start()
        .await
        .unwrap();
    let hosts = sim.endpoints();
    let channels = |extra: &[&str], command: &[&str]| -> Vec<Vec<u64>> {
        let mut args = vec!["--concurrency", "1", "--output", "json"];
        args.extend_from_slice(command);
        args.extend_from_slice(extra);
        let out = stdout(&ours(&cache, &hosts, &args));
        out.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let lan = &v["result"]["bmc_lan"];
                let lan = if lan.is_null() {
                    &v["result"]["channels"]
                } else {
                    lan
                };
                lan.as_array()
                    .unwrap_or_else(|| panic!("{v}"))
                    .iter()
                    .map(|c| c["channel"].as_u64().unwrap())
                    .collect()
            })
            .collect()
    };
    assert_eq!(channels(&[], &["correlate"]), [vec![1], vec![1]]);
    assert_eq!(
        channels(&["--full-scan"], &["correlate"]),
        [vec![1], vec![1, 3]]
    );
    assert_eq!(
        channels(&["--full-scan"], &["lan", "print"]),
        [vec![1], vec![1, 3]]
    );
    // A channel named, and --full-scan: one or the other.
    let o = ours(
        &cache,
        &hosts,
        &["correlate", "--channel", "1", "--full-scan"],
    );
    assert_eq!(o.status.code(), Some(2));
}
