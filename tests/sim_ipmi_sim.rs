//! OpenIPMI's ipmi_sim (a real BMC simulator) behind a simulated Windows host: the same requests
//! through winrm-ipmi (WinRM, NTLM, encryption, Microsoft_IPMI, then RMCP+) and through
//! `ipmitool -I lanplus -C 3 ... raw` give the same bytes and completion codes.

mod common;

use common::ipmi_sim::{IpmiSim, ipmitool, peers_present, start_ipmi_sim};

use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::RawRequest;
use winrm_ipmi::sim::Simulator;
use winrm_ipmi::{Client, RetryPolicy};

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
    let sim = Simulator::builder()
        .host(ipmi_sim.windows_host())
        .start()
        .await
        .unwrap();
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
