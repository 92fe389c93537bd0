//! pywinrm (the reference Python client) against the simulator over HTTP with NTLM and
//! message encryption. If pywinrm cannot talk to the simulator, the simulator is wrong.

mod common;

use common::python_with;
use winrm_ipmi::sim::Simulator;

/// Runs tests/peers/pywinrm_client.py against a fresh simulated host as its administrator.
async fn pywinrm(py: &std::path::Path, password: &str) -> std::process::Output {
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let endpoint = format!("http://{}/wsman", sim.endpoints()[0]);
    tokio::process::Command::new(py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/pywinrm_client.py"
        ))
        .args([&endpoint, "Administrator", password])
        .output()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pywinrm_gets_the_simulated_bmcs_device_id() {
    let Some(py) = python_with("winrm", "pywinrm against the simulator") else {
        return;
    };
    let out = pywinrm(&py, "Sim-Passw0rd!").await;
    assert!(
        out.status.success(),
        "pywinrm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["instance"], "ROOT\\SYSTEM\\0001_0");
    assert_eq!(v["bmc_address"], 32);
    assert_eq!(v["completion_code"], 0);
    // The simulated BMC's Device ID, completion code first, counted in ResponseDataSize.
    let expected: Vec<u8> = vec![
        0, 0x20, 0x01, 0x02, 0x80, 0x02, 0xBF, 0xA2, 0x02, 0x00, 0x00, 0x01, 0x00, 0x02, 0x50, 0x00,
    ];
    assert_eq!(v["size"], expected.len());
    assert_eq!(v["data"], serde_json::json!(expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pywinrm_is_refused_with_a_wrong_password() {
    let Some(py) = python_with("winrm", "pywinrm wrong password") else {
        return;
    };
    let out = pywinrm(&py, "not-the-password").await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("InvalidCredentialsError"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
