//! The `winrm-ipmi` command line: ipmitool's words over WinRM, for one host or a fleet.
//!
//! - [`args`]: the options and subcommands (clap); the man page and completions come from them.
//! - [`ops`]: what each command does on one host.
//! - [`fleet`]: clients built before any traffic, hosts run in parallel.
//! - [`output`] and [`render`]: text (ipmitool's layouts), tables, JSON lines, CSV.
//! - `sim`: the simulator in the foreground.

mod args;
mod fleet;
mod ops;
mod output;
mod render;
#[cfg(feature = "sim")]
mod sim;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use winrm_ipmi::wmi::microsoft_ipmi::{self, IpmiInstance};
use winrm_ipmi::wsman::{MessageId, RequestContext};

use args::{Cli, Command};
use ops::Op;

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.global.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .try_init();
    match cli.command {
        #[cfg(feature = "sim")]
        Command::Sim(sim_args) => match sim::Settings::from_args(sim_args, &cli.global) {
            Ok(settings) => runtime().block_on(sim::run(settings)),
            Err(e) => usage(&e),
        },
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "winrm-ipmi",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Man => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("winrm-ipmi: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Envelope {
            raw,
            instance,
            endpoint,
        } => {
            let request = match raw.request() {
                Ok(r) => r,
                Err(e) => return usage(&e),
            };
            let req = microsoft_ipmi::request_response(
                &RequestContext::new(endpoint),
                &IpmiInstance::new(instance, winrm_ipmi::ipmi::DEFAULT_BMC_ADDRESS),
                &request,
                MessageId::random(),
            );
            println!("{}", req.xml);
            ExitCode::SUCCESS
        }
        #[cfg(feature = "exporter")]
        Command::Exporter {
            listen,
            config,
            web_config,
            max_targets,
        } => exporter(
            &cli.global,
            &listen,
            config.as_deref(),
            web_config.as_deref(),
            max_targets,
        ),
        command => {
            if cli.global.output == args::Output::PrometheusSd
                && !matches!(command, Command::Correlate { .. })
            {
                return usage("--output prometheus-sd goes with correlate");
            }
            let op = match Op::from_command(command, &cli.global) {
                Ok(op) => op,
                Err(e) => return usage(&e),
            };
            match fleet::prepare(&cli.global) {
                Ok((hosts, factory)) => {
                    runtime().block_on(fleet::run(&cli.global, op, hosts, factory))
                }
                Err(e) => usage(&e),
            }
        }
    }
}

/// `winrm-ipmi exporter`: modules from the file, or one `default` module from the account
/// options; serves until Ctrl-C.
#[cfg(feature = "exporter")]
fn exporter(
    g: &args::Global,
    listen: &str,
    config: Option<&std::path::Path>,
    web_config: Option<&std::path::Path>,
    max_targets: usize,
) -> ExitCode {
    use winrm_ipmi::exporter::{self, Exporter, Module, WebConfig};
    let web = match web_config.map(WebConfig::load).transpose() {
        Ok(w) => w.unwrap_or_default(),
        Err(e) => return usage(&e),
    };
    let scheme = if web.is_tls() { "https" } else { "http" };
    let modules = match config {
        Some(path) => exporter::config::load(path),
        // The command-line module may be used on any target: one service principal cannot
        // be every target's (a module file's `spn` goes with an `allowed_targets` of one host).
        None if g.spn.is_some() => Err(
            "--spn names one host's service principal: the exporter's targets each get HTTP/<target> (a module in --config can pin one host)"
                .to_string(),
        ),
        None => fleet::client_factory_with(g, |b| b.idle_limit(exporter::CONNECTION_IDLE))
            .map(|f| vec![Module::new("default", f)]),
    };
    let modules = match modules {
        Ok(m) if !m.is_empty() => m,
        Ok(_) => return usage("the configuration has no module"),
        Err(e) => return usage(&e),
    };
    let cache = if g.no_sdr_cache {
        winrm_ipmi::ipmi::sdr::SdrCache::disabled()
    } else {
        winrm_ipmi::ipmi::sdr::SdrCache::new(winrm_ipmi::ipmi::sdr::cache::default_dir())
    };
    // One descriptor per kept target connection and per scraper connection: systemd's soft
    // limit of 1,024 would stop a replica near 500 targets.
    raise_open_files_limit();
    let exporter = std::sync::Arc::new(Exporter::new(modules, cache).with_max_targets(max_targets));
    runtime().block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("winrm-ipmi: cannot listen on {listen}: {e}");
                return ExitCode::from(1);
            }
        };
        if let Ok(addr) = listener.local_addr() {
            use std::io::Write;
            println!("winrm-ipmi exporter listening on {scheme}://{addr}");
            let _ = std::io::stdout().flush();
        }
        tokio::select! {
            r = exporter::serve_with(listener, exporter, web) => {
                if let Err(e) = r {
                    eprintln!("winrm-ipmi: {e}");
                    return ExitCode::from(1);
                }
                ExitCode::SUCCESS
            }
            _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
        }
    })
}

/// Raises the soft limit on open files to the hard limit (as Go programs do at start).
#[cfg(all(unix, feature = "exporter"))]
fn raise_open_files_limit() {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid resource and a pointer to a live rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 && l.rlim_cur < l.rlim_max {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

#[cfg(all(not(unix), feature = "exporter"))]
fn raise_open_files_limit() {}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn usage(message: &str) -> ExitCode {
    eprintln!("winrm-ipmi: {message}");
    ExitCode::from(2)
}
