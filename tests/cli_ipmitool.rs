//! ipmitool compatibility: with OpenIPMI's ipmi_sim behind the simulated Windows host,
//! `winrm-ipmi raw` prints exactly what `ipmitool -I lanplus -C 3 raw` prints (stdout, and the
//! failure line on stderr), and `mc info` / `lan print` show the same fields and values.

mod common;

use assert_cmd::Command;
use common::ipmi_sim::{ipmitool, peers_present, start_ipmi_sim};
use winrm_ipmi::sim::Simulator;

fn ours(ep: &str, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("winrm-ipmi")
        .unwrap()
        .env("WINRM_PASSWORD", "Sim-Passw0rd!")
        .args(["-H", ep, "-U", "Administrator"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_mc_info_and_lan_print_match_ipmitool() {
    if !peers_present("CLI against ipmitool") {
        return;
    }
    let bmc = start_ipmi_sim();
    let sim = Simulator::builder()
        .host(bmc.windows_host())
        .start()
        .await
        .unwrap();
    let ep = sim.endpoints()[0].clone();

    for args in [
        &["raw", "0x06", "0x01"][..],
        &["raw", "0x06", "0x37"],
        &["raw", "0x00", "0x01"],
        &["raw", "0x0a", "0x10", "0x00"],
        &["raw", "0x06", "0x04"],
        &["raw", "0x30", "0x01"],
        // Get Device ID with a stray data byte: a length error.
        &["raw", "0x06", "0x01", "0x00"],
    ] {
        let theirs = ipmitool(
            &bmc,
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        );
        let mine = ours(&ep, args);
        assert_eq!(
            String::from_utf8_lossy(&mine.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "stdout of {args:?}"
        );
        assert_eq!(mine.status.success(), theirs.status.success(), "{args:?}");
        if !theirs.status.success() {
            assert_eq!(
                String::from_utf8_lossy(&mine.stderr).trim_end(),
                String::from_utf8_lossy(&theirs.stderr).trim_end(),
                "stderr of {args:?}"
            );
        }
    }

    let theirs = String::from_utf8(ipmitool(&bmc, &["mc".into(), "info".into()]).stdout).unwrap();
    let mine = String::from_utf8(ours(&ep, &["mc", "info"]).stdout).unwrap();
    assert_eq!(mine, theirs);

    let theirs = String::from_utf8(ipmitool(&bmc, &["mc".into(), "guid".into()]).stdout).unwrap();
    let mine = String::from_utf8(ours(&ep, &["mc", "guid"]).stdout).unwrap();
    assert_eq!(mine, theirs);

    let theirs =
        String::from_utf8(ipmitool(&bmc, &["lan".into(), "print".into(), "1".into()]).stdout)
            .unwrap();
    let mine = String::from_utf8(ours(&ep, &["lan", "print", "1"]).stdout).unwrap();
    for field in [
        "IP Address Source",
        "IP Address ",
        "Subnet Mask",
        "MAC Address",
        "Default Gateway IP",
        "Default Gateway MAC",
        "802.1q VLAN ID",
    ] {
        let line = |text: &str| {
            text.lines()
                .find(|l| l.starts_with(field))
                .map(str::to_string)
        };
        assert!(line(&theirs).is_some(), "ipmitool shows {field}");
        assert_eq!(line(&mine), line(&theirs), "{field}");
    }
}
