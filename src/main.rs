//! `winrm-ipmi`: ipmitool's commands over WinRM, for one host or a fleet; and the simulator.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
