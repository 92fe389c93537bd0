//! `winrm-ipmi`: ipmitool's commands over WinRM, for one host or a fleet; and the simulator.

mod cli;

/// mimalloc rather than the system allocator: a fleet run or the simulator allocates and frees
/// small buffers per request, and glibc's malloc/free were ~9 % of the simulator's profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
