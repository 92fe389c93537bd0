//! `winrm-ipmi`: in-band IPMI for Windows servers over WinRM.
//!
//! Today the binary offers the offline `envelope` command; the ipmitool-style commands (`raw`,
//! `mc info`, `lan print`, `sysinfo`, `correlate`) arrive with the transport.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use winrm_ipmi::ipmi::RawRequest;
use winrm_ipmi::wsman::microsoft_ipmi::{self, IpmiInstance};
use winrm_ipmi::wsman::{MessageId, RequestContext};

#[derive(Parser)]
#[command(
    name = "winrm-ipmi",
    version,
    about = "In-band IPMI for Windows servers over WinRM"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the WS-Management envelope that sends one raw IPMI request through
    /// root/wmi:Microsoft_IPMI.RequestResponse (e.g. for `winrm invoke -file:`).
    Envelope {
        /// Network function, e.g. 0x06.
        #[arg(value_parser = parse_byte)]
        netfn: u8,
        /// Command, e.g. 0x01.
        #[arg(value_parser = parse_byte)]
        cmd: u8,
        /// Request data bytes.
        #[arg(value_parser = parse_byte)]
        data: Vec<u8>,
        /// The Microsoft_IPMI InstanceName.
        #[arg(long, default_value = r"ROOT\SYSTEM\0001_0")]
        instance: String,
        /// The BMC address (responder) the instance reports.
        #[arg(long, default_value = "0x20", value_parser = parse_byte)]
        bmc_address: u8,
        /// LUN (0-3).
        #[arg(long, default_value = "0", value_parser = parse_byte)]
        lun: u8,
        /// The WinRM endpoint URL (the envelope's To header).
        #[arg(long, default_value = "http://localhost:5985/wsman")]
        endpoint: String,
    },
}

/// A byte as ipmitool takes it: `0x1f`, `1f`-style hex is not guessed; decimal otherwise.
fn parse_byte(s: &str) -> Result<u8, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("{s:?} is not a byte (0-255 or 0x00-0xff)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Envelope {
            netfn,
            cmd,
            data,
            instance,
            bmc_address,
            lun,
            endpoint,
        } => {
            let request =
                match RawRequest::from_bytes(netfn, cmd, data).and_then(|r| r.with_lun(lun)) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("winrm-ipmi: {e}");
                        return ExitCode::from(2);
                    }
                };
            let instance = IpmiInstance {
                instance_name: instance,
                active: true,
                bmc_address,
            };
            let ctx = RequestContext::new(endpoint);
            let req =
                microsoft_ipmi::request_response(&ctx, &instance, &request, MessageId::random());
            println!("{}", req.xml);
            ExitCode::SUCCESS
        }
    }
}
