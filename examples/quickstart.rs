//! The seed post's two scenarios, against the built-in simulator (no Windows needed):
//! 1. find the BMC's IP and MAC and show them beside the host's name (correlate host and BMC);
//! 2. write the OS name into the BMC and read it back.
//!
//! A simulated Windows host starts in-process; the real client talks to it over HTTP with NTLM
//! and message encryption, exactly as it would to a Windows server on 5985.
//!
//!     cargo run --example quickstart

use winrm_ipmi::Client;
use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::app::{GetDeviceId, SystemInfoParameter};
use winrm_ipmi::ipmi::sysinfo::{self, StringEncoding};
use winrm_ipmi::ipmi::{self, lan};
use winrm_ipmi::sim::Simulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::builder().hosts(1).start().await?;
    let endpoint = &sim.endpoints()[0];
    println!("simulated Windows host: http://{endpoint}/wsman (NTLM, AllowUnencrypted=false)\n");

    let client = Client::builder(endpoint)
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .build()?;

    // What WMI says about the host.
    let os = client.operating_system().await?.unwrap_or_default();
    let caption = os.caption;
    let host_name = os.computer_name.unwrap_or_default();

    // Scenario 1: the BMC behind root/wmi:Microsoft_IPMI.
    let bmc = client.ipmi().await?;
    println!(
        "Microsoft_IPMI instance {} (BMC address 0x{:02x})",
        bmc.instance().instance_name,
        bmc.instance().bmc_address
    );
    let id = ipmi::execute(&bmc, GetDeviceId).await?;
    println!(
        "BMC: {} firmware {}, IPMI {}",
        id.manufacturer_name().unwrap_or("unknown vendor"),
        id.firmware_revision(),
        id.ipmi_version()
    );
    for l in lan::read_all_lan_configs(&bmc).await? {
        println!(
            "{host_name:<14} OS {caption:<42} BMC channel {} IP {} MAC {}",
            l.channel,
            l.ip_address.map_or("-".into(), |a| a.to_string()),
            l.mac_address.map_or("-".into(), |m| m.to_string())
        );
    }

    // Scenario 2: push the OS name into the BMC (set-in-progress handshake), read it back.
    println!();
    for param in [
        SystemInfoParameter::PrimaryOsName,
        SystemInfoParameter::OsName,
    ] {
        let before = sysinfo::read_string(&bmc, param)
            .await?
            .map(|s| s.text)
            .unwrap_or_default();
        let after =
            sysinfo::write_string(&bmc, param, &caption, StringEncoding::for_text(&caption))
                .await?;
        println!(
            "{:<16} was {:?}, now {:?} (read back from the BMC)",
            param.name(),
            before,
            after.text
        );
    }
    Ok(())
}
