//! The in-band catalog against ipmitool: OpenIPMI's ipmi_sim (tests/peers/ipmi_sim/catalog*:
//! threshold and discrete sensors, FRU devices, SEL entries, users, chassis control) behind a
//! simulated Windows host; each `winrm-ipmi` command's text must be exactly what
//! `ipmitool -I lanplus` prints against the same ipmi_sim (C locale, UTC). Values that change
//! on their own are normalised, and named where they are.

mod common;

use assert_cmd::Command;
use common::ScratchDir;
use common::ipmi_sim::{
    IpmiSim, ipmitool, peers_present, start_catalog_sim, start_fru_devices_sim,
};
use winrm_ipmi::sim::Simulator;

struct Bench {
    bmc: IpmiSim,
    _sim: Simulator,
    endpoint: String,
    cache: ScratchDir,
}

async fn bench(name: &str) -> Option<Bench> {
    bench_on(name, start_catalog_sim).await
}

async fn bench_on(name: &str, start: fn() -> IpmiSim) -> Option<Bench> {
    if !peers_present(name) {
        return None;
    }
    let bmc = start();
    let sim = Simulator::builder()
        .host(bmc.windows_host())
        .start()
        .await
        .unwrap();
    let endpoint = sim.endpoints()[0].clone();
    Some(Bench {
        bmc,
        _sim: sim,
        endpoint,
        cache: ScratchDir::new("sdrcache", name),
    })
}

impl Bench {
    fn ours(&self, args: &[&str]) -> std::process::Output {
        Command::cargo_bin("winrm-ipmi")
            .unwrap()
            .env("WINRM_PASSWORD", "Sim-Passw0rd!")
            .env("XDG_CACHE_HOME", &self.cache)
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .args(["-H", &self.endpoint, "-U", "Administrator"])
            .args(args)
            .output()
            .unwrap()
    }

    fn theirs(&self, args: &[&str]) -> std::process::Output {
        ipmitool(
            &self.bmc,
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    /// Both outputs, which must be equal after `normalise`.
    fn same(&self, args: &[&str], normalise: fn(&str) -> String) {
        let theirs = self.theirs(args);
        let ours = self.ours(args);
        assert!(
            theirs.status.success(),
            "ipmitool {args:?}: {}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        assert!(
            ours.status.success(),
            "winrm-ipmi {args:?}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let (t, o) = (
            normalise(&String::from_utf8_lossy(&theirs.stdout)),
            normalise(&String::from_utf8_lossy(&ours.stdout)),
        );
        assert!(
            !t.trim().is_empty(),
            "ipmitool printed nothing for {args:?}"
        );
        assert_eq!(o, t, "`{}` differs from ipmitool's", args.join(" "));
    }
}

fn as_is(s: &str) -> String {
    s.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdr_and_sensor_lists_match_ipmitool() {
    let Some(b) = bench("sdr and sensor lists").await else {
        return;
    };
    for args in [
        &["sdr", "list"][..],
        &["sdr", "elist"],
        &["sdr", "list", "full"],
        &["sdr", "list", "compact"],
        &["sdr", "elist", "compact"],
        &["sdr", "list", "event"],
        &["sdr", "elist", "event"],
        &["sensor", "list"],
    ] {
        b.same(args, as_is);
    }
    // The second run of a command reads the sensor records from the disk cache, and prints
    // the same.
    let json = b.ours(&["--output", "json", "sdr", "list"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["result"]["sdr_cache"], "disk", "{v}");
    b.same(&["sdr", "elist"], as_is);
}

/// ipmi_sim's SEL and SDR timestamps count seconds since the host booted ("Pre-Init" stamps,
/// "S+ hh:mm:ss"): they differ between the two runs, and are replaced here.
fn live_stamps(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let line = match line.find(" |00") {
            Some(at) if line.contains("Pre-Init") => {
                format!("{}|<uptime>|{}", &line[..at + 1], &line[at + 13..])
            }
            _ => line.to_string(),
        };
        let line = match line.find(": S+ ") {
            Some(at) => format!("{}: S+ <uptime>", &line[..at]),
            None => line,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fru_sel_chassis_users_and_channels_match_ipmitool() {
    let Some(b) = bench("fru sel chassis").await else {
        return;
    };
    for args in [
        &["fru", "print"][..],
        &["fru", "print", "0"],
        &["fru", "print", "1"],
        &["chassis", "status"],
        &["chassis", "power", "status"],
        &["chassis", "identify"],
        &["chassis", "identify", "5"],
        &["chassis", "identify", "force"],
        &["chassis", "identify", "0"],
        &["chassis", "bootdev", "pxe"],
        &["chassis", "bootdev", "cdrom", "options=persistent,efiboot"],
        &["user", "list", "1"],
    ] {
        b.same(args, as_is);
    }
    // The active session count is each tool's own session plus whatever else is open on
    // ipmi_sim at that moment (the simulated host's forwarding session).
    b.same(&["channel", "info", "1"], |s| {
        s.lines()
            .map(|l| {
                if l.contains("Active Session Count") {
                    "  Active Session Count  : <live>"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    for args in [&["sel", "info"][..], &["sel", "list"], &["sel", "elist"]] {
        b.same(args, live_stamps);
    }
    // Power: one host, no --yes needed; the chassis helper records it.
    b.same(&["chassis", "power", "on"], as_is);
    b.same(&["chassis", "power", "status"], as_is);
    // Clearing last: both print the same line; the SEL is then empty for both.
    let ours = b.ours(&["sel", "clear"]);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        "Clearing SEL.  Please allow a few seconds to erase.\n"
    );
    let info = String::from_utf8_lossy(&b.theirs(&["sel", "info"]).stdout).to_string();
    assert!(info.contains("Entries          : 0"), "{info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_ipmi_sim_lacks_fails_as_ipmitool_fails() {
    let Some(b) = bench("unsupported").await else {
        return;
    };
    // ipmi_sim has no DCMI and no self test: both tools fail (and say so on stderr).
    for args in [&["dcmi", "power", "reading"][..], &["mc", "selftest"]] {
        assert!(!b.theirs(args).status.success(), "{args:?}");
        let ours = b.ours(args);
        assert!(!ours.status.success(), "{args:?}");
        let e = String::from_utf8_lossy(&ours.stderr);
        assert!(
            e.contains("0xc1") || e.contains("Invalid command"),
            "{args:?}: {e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_set_is_seen_by_ipmitool_and_the_other_way_round() {
    let Some(b) = bench("lan set").await else {
        return;
    };
    let line = |o: &std::process::Output, field: &str| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with(field))
            .map(str::to_string)
            .unwrap_or_default()
    };
    // Ours writes, ipmitool reads; then ipmitool writes and ours reads. Same words both ways.
    for (field, ours, theirs) in [
        (
            "IP Address  ",
            ["ipaddr", "10.9.8.7"],
            ["ipaddr", "10.9.8.8"],
        ),
        (
            "Subnet Mask",
            ["netmask", "255.255.0.0"],
            ["netmask", "255.255.255.128"],
        ),
    ] {
        let o = b.ours(&["lan", "set", "1", ours[0], ours[1]]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let t = b.theirs(&["lan", "set", "1", theirs[0], theirs[1]]);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).replace(ours[1], "X"),
            String::from_utf8_lossy(&t.stdout).replace(theirs[1], "X"),
            "the announcement"
        );
        let shown = line(&b.ours(&["lan", "print", "1"]), field);
        assert!(shown.ends_with(theirs[1]), "{shown}");
        let o = b.ours(&["lan", "set", "1", ours[0], ours[1]]);
        assert!(o.status.success());
        let shown = line(&b.theirs(&["lan", "print", "1"]), field);
        assert!(shown.ends_with(ours[1]), "{shown}");
    }
    let o = b.ours(&["lan", "set", "1", "defgw", "ipaddr", "10.9.0.1"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Setting LAN Default Gateway IP to 10.9.0.1\n"
    );
    assert!(line(&b.theirs(&["lan", "print", "1"]), "Default Gateway IP").ends_with("10.9.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_finds_the_weaknesses_ipmi_sim_is_configured_with() {
    let Some(b) = bench("audit").await else {
        return;
    };
    let o = b.ours(&["--output", "json", "audit"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "high findings exit 1: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found = |id: &str| {
        v["result"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };
    // catalog-lan.conf.in: NONE for callback and user, straight password for user and
    // operator, MD2 for admin; user 1 anonymous and enabled; ipmi_sim always offers suite 0.
    assert_eq!(found("cipher-suite-0").as_deref(), Some("high"), "{v}");
    assert_eq!(found("auth-none").as_deref(), Some("high"));
    assert_eq!(found("auth-straight").as_deref(), Some("high"));
    assert_eq!(found("auth-md2").as_deref(), Some("medium"));
    assert_eq!(found("null-user").as_deref(), Some("high"));
    assert_eq!(found("lan-enabled").as_deref(), Some("info"));
    // What ipmitool itself says about the same channel.
    let lan = String::from_utf8_lossy(&b.theirs(&["lan", "print", "1"]).stdout).to_string();
    assert!(lan.contains("User     : NONE MD5 PASSWORD"), "{lan}");
    let users = String::from_utf8_lossy(&b.theirs(&["user", "list", "1"]).stdout).to_string();
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("1    ") && l.ends_with("USER")),
        "{users}"
    );
}

/// `fru print` of every device goes past one it cannot decode (a blank EEPROM: header version
/// FFh, the builtin FRU 0 or a locator's) and one whose locator it does not support (modifier FFh), as ipmitool does: the same
/// standard output, the error on standard error, and the devices after them printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fru_print_goes_past_a_device_it_cannot_decode() {
    let Some(b) = bench_on("fru devices", start_fru_devices_sim).await else {
        return;
    };
    let theirs = b.theirs(&["fru", "print"]);
    let ours = b.ours(&["fru", "print"]);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let (t, o) = (
        String::from_utf8_lossy(&theirs.stdout),
        String::from_utf8_lossy(&ours.stdout),
    );
    assert!(
        t.contains(" Unsupported device") && t.contains("PSU1 again"),
        "{t}"
    );
    assert_eq!(o, t);
    assert!(String::from_utf8_lossy(&theirs.stderr).contains("header version 0xff"));
    assert!(String::from_utf8_lossy(&ours.stderr).contains("header version 0xff"));
    let json = b.ours(&["--output", "json", "fru", "print"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let devices = v["result"]["devices"].as_array().unwrap();
    let ids: Vec<u64> = devices.iter().map(|d| d["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [0, 1, 2, 3, 1]);
    assert!(devices[0]["error"].as_str().unwrap().contains("0xff"));
    assert!(devices[1]["fru"].is_object());
    assert!(devices[2]["error"].as_str().unwrap().contains("0xff"));
    assert_eq!(devices[3]["unsupported"]["device_type_modifier"], 255);
}
