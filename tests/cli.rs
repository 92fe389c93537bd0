//! The CLI against the simulator: every command and output format, one host and 200 hosts,
//! hosts that fail in each way the simulator can inject, and arguments refused before traffic.

mod common;

use assert_cmd::Command;
use common::ScratchDir;
use winrm_ipmi::ipmi::CompletionCode;
use winrm_ipmi::sim::{HostConfig, Simulator};

fn cli() -> Command {
    let mut c = Command::cargo_bin("winrm-ipmi").unwrap();
    c.env("WINRM_PASSWORD", "Sim-Passw0rd!")
        .env_remove("WINRM_USER");
    c
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = cli().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_host_every_command_in_ipmitool_layout() {
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let ep = sim.endpoints()[0].clone();
    let base = ["-H", ep.as_str(), "-U", "Administrator"];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };

    let (code, out, _) = run(&with(&["raw", "0x06", "0x01"]));
    assert_eq!(
        (code, out.as_str()),
        (0, " 20 01 02 80 02 bf a2 02 00 00 01 00 02 50 00\n")
    );
    let (code, out, err) = run(&with(&["raw", "0x06", "0x99"]));
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err.trim_end(),
        "Unable to send RAW command (channel=0x0 netfn=0x6 lun=0x0 cmd=0x99 rsp=0xc1): Invalid command"
    );
    // Octal and decimal bytes, as ipmitool's str2uchar takes them.
    assert_eq!(
        run(&with(&["raw", "6", "01"])).1,
        " 20 01 02 80 02 bf a2 02 00 00 01 00 02 50 00\n"
    );

    let (code, out, _) = run(&with(&["mc", "info"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("Device ID                 : 32\nDevice Revision           : 1\nFirmware Revision         : 2.80\n"), "{out}");
    assert!(out.contains("Manufacturer Name         : Dell Inc.\n"));
    let (_, out, _) = run(&with(&["mc", "guid"]));
    assert!(out.starts_with("System GUID   : "), "{out}");
    assert!(out.contains("GUID Encoding : IPMI\n"));
    let (_, out, _) = run(&with(&["lan", "print"]));
    assert!(
        out.contains("IP Address              : 10.0.0.1\n")
            && out.contains("MAC Address             : 18:66:da:00:00:01\n"),
        "{out}"
    );
    assert_eq!(run(&with(&["lan", "print", "1"])).1, out);

    let (code, out, _) = run(&with(&[
        "sysinfo",
        "set",
        "system_name",
        "sim-host-001.sim.test",
    ]));
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "System Name             : sim-host-001.sim.test (written and read back)\n"
        )
    );
    assert_eq!(
        run(&with(&["sysinfo", "get", "system_name"])).1,
        "sim-host-001.sim.test\n"
    );
    let (code, out, _) = run(&with(&["sysinfo", "set-os-name"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("OS Name                 : Microsoft Windows Server 2022 Datacenter\n"),
        "{out}"
    );
    let (_, out, _) = run(&with(&["sysinfo", "get"]));
    assert!(
        out.contains("Primary OS Name         : Microsoft Windows Server 2022 Datacenter\n"),
        "{out}"
    );

    let (_, out, _) = run(&with(&["correlate"]));
    assert!(
        out.contains("Host Name         : SIM-HOST-001\n")
            && out.contains("BMC IP Address    : 10.0.0.1\n"),
        "{out}"
    );
    let (_, out, _) = run(&with(&["correlate", "--output", "json"]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["host"].as_str(), v["ok"].as_bool()),
        (Some(ep.as_str()), Some(true))
    );
    assert_eq!(v["result"]["bmc_mac"], "18:66:da:00:00:01");
    let (_, out, _) = run(&with(&["mc", "info", "-o", "csv"]));
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "host,ok,error,device_id,firmware,ipmi_version,manufacturer_id,manufacturer,product_id"
        )
    );
    assert_eq!(
        lines.next(),
        Some(format!("{ep},true,,32,2.80,2.0,674,Dell Inc.,0x0100").as_str())
    );

    // Not an administrator: refused with words a person can act on, exit 1.
    let out = cli()
        .env("WINRM_PASSWORD", "Op-Passw0rd!")
        .args(["-H", &ep, "-U", "operator", "mc", "info"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!(
            "access denied: the account must be a local administrator on {ep}"
        )),
        "{err}"
    );
    assert!(!err.contains("Op-Passw0rd!"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_hosts_with_each_kind_of_failure() {
    let mut b = Simulator::builder();
    for n in 0..200u32 {
        let mut h = HostConfig::numbered(n);
        match n {
            3 => h.faults.no_ipmi_driver = true,
            7 => h.faults.bmc_rejects = Some(CompletionCode::InsufficientPrivilege),
            11 => h.accounts[0].password = "another password".into(),
            13 => h.faults.operation_timeout = true,
            17 => h.faults.quota_exceeded = true,
            19 => h.faults.busy_requests = 2,
            23 => h.faults.close_every = 1,
            29 => h.faults.latency = std::time::Duration::from_millis(50),
            31 => h.faults.close_after_challenge = 1,
            _ => {}
        }
        b = b.host(h);
    }
    let sim = b.start().await.unwrap();
    let mut hosts = sim.endpoints();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    hosts.push(format!("127.0.0.1:{closed}"));
    let dir = ScratchDir::new("cli", "fleet");
    let file = dir.join("hosts");
    std::fs::write(
        &file,
        format!(
            "# 200 simulated hosts and one that is down\n{}\n",
            hosts.join("\n")
        ),
    )
    .unwrap();

    let (code, out, err) = run(&[
        "--hosts",
        file.to_str().unwrap(),
        "-U",
        "Administrator",
        "correlate",
        "--output",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 201);
    let kind = |i: usize| lines[i]["error"].as_str().map(str::to_string);
    assert_eq!(kind(3).as_deref(), Some("no_bmc"));
    assert_eq!(kind(7).as_deref(), Some("ipmi"));
    assert_eq!(kind(11).as_deref(), Some("auth"));
    assert_eq!(kind(13).as_deref(), Some("timeout"));
    assert_eq!(kind(17).as_deref(), Some("fault"));
    assert_eq!(kind(200).as_deref(), Some("connect"));
    assert!(
        lines[3]["message"]
            .as_str()
            .unwrap()
            .contains("IPMI driver is not loaded")
    );
    for ok in [0, 19, 23, 29, 31, 199] {
        assert_eq!(lines[ok]["ok"], true, "{}", lines[ok]);
    }
    assert_eq!(lines.iter().filter(|l| l["ok"] == true).count(), 195);
    assert!(
        err.contains("201 hosts in")
            && err.contains(
                "195 ok, 6 failed (auth: 1, connect: 1, fault: 1, ipmi: 1, no_bmc: 1, timeout: 1)"
            ),
        "{err}"
    );

    // CSV: a header and one row per host.
    let (_, out, _) = run(&[
        "--hosts",
        file.to_str().unwrap(),
        "-U",
        "Administrator",
        "mc",
        "info",
        "-o",
        "csv",
    ]);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 202);
    assert!(rows[0].starts_with("host,ok,error,device_id,firmware"));
    assert!(rows[4].contains(",false,\"no BMC on"), "{}", rows[4]);

    // The table: one row per host, failures named.
    let (_, out, _) = run(&[
        "--hosts",
        file.to_str().unwrap(),
        "-U",
        "Administrator",
        "lan",
        "print",
    ]);
    assert_eq!(out.lines().count(), 202);
    assert!(
        out.lines()
            .nth(4)
            .unwrap()
            .contains("FAILED: no BMC on 127.0.0.1"),
        "{out}"
    );
}

#[test]
fn bad_arguments_are_refused_before_any_traffic() {
    // Port 9 on loopback: nothing is contacted because every case fails first.
    for (args, says) in [
        (
            vec!["-H", "127.0.0.1:9", "-U", "a", "raw", "0x07", "1"],
            "invalid request NetFn 0x07",
        ),
        (
            vec!["-H", "127.0.0.1:9", "-U", "a", "raw", "0x06", "0x100"],
            "is not a byte",
        ),
        (
            vec!["-H", "127.0.0.1:9", "-U", "a", "lan", "print", "12"],
            "not a LAN channel number",
        ),
        (vec!["-H", "127.0.0.1:9", "mc", "info"], "no user"),
        (vec!["-U", "a", "mc", "info"], "no host"),
        (
            vec![
                "-H",
                "127.0.0.1:9",
                "-U",
                "a",
                "--thumbprint",
                "00",
                "mc",
                "info",
            ],
            "apply to --transport https",
        ),
        (
            vec!["-H", "host:99999", "-U", "a", "mc", "info"],
            "port must be 1-65535",
        ),
        (
            vec![
                "-H",
                "127.0.0.1:9",
                "-U",
                "a",
                "sysinfo",
                "set",
                "nope",
                "x",
            ],
            "not a System Info parameter",
        ),
        (
            vec![
                "-H",
                "127.0.0.1:9",
                "-U",
                "a",
                "--hosts",
                "/nonexistent",
                "mc",
                "info",
            ],
            "cannot read /nonexistent",
        ),
        // One service principal for several hosts: no host but one could accept its ticket.
        (
            vec![
                "-H",
                "127.0.0.1:9,127.0.0.1:10",
                "-U",
                "a",
                "--spn",
                "HTTP/server01",
                "mc",
                "info",
            ],
            "--spn names one host's service principal",
        ),
        (
            vec![
                "--hosts",
                "-",
                "-U",
                "a",
                "--spn",
                "HTTP/server01",
                "mc",
                "info",
            ],
            "with exactly one -H",
        ),
        // The exporter's command-line module is used on any target.
        (
            vec![
                "-U",
                "a",
                "--spn",
                "HTTP/server01",
                "exporter",
                "--listen",
                "127.0.0.1:0",
            ],
            "--spn names one host's service principal",
        ),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // No password and no terminal: a clear error, not a hang.
    let out = Command::cargo_bin("winrm-ipmi")
        .unwrap()
        .env_remove("WINRM_PASSWORD")
        .args(["-H", "h", "-U", "a", "mc", "info"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no password"));
}

#[test]
fn completions_man_page_and_sim_arguments() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("winrm-ipmi"), "{shell}");
        assert!(
            out.contains("correlate") && out.contains("thumbprint"),
            "{shell}"
        );
    }
    let (code, man, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(
        man.starts_with(".ie") || man.contains(".TH winrm-ipmi"),
        "{man}"
    );
    assert!(man.contains("correlate"));
    // sim's own spelling and the first release's (--hosts N, -U NAME) are both read: a bad
    // count is refused either way, and either way the settings reach the same checks.
    let (code, _, err) = run(&["sim", "--count", "many"]);
    assert_eq!(code, 2);
    assert!(err.contains("--count"), "{err}");
    let (code, _, err) = run(&["sim", "--hosts", "many"]);
    assert_eq!(code, 2);
    assert!(err.contains("takes a number of hosts"), "{err}");
    for args in [
        ["sim", "--count", "2", "--admin-user", "root"],
        ["sim", "--hosts", "2", "-U", "root"],
    ] {
        let out = cli()
            .args(args)
            .args(["--password-env", "WINRM_IPMI_TEST_UNSET"])
            .env_remove("WINRM_IPMI_TEST_UNSET")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("WINRM_IPMI_TEST_UNSET is not set"),
            "{args:?}"
        );
    }
}

/// `--shard K/N` splits any host list exactly (disjoint parts, their union the whole list), and
/// `--hosts -` reads the list from standard input, results streaming out in input order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_partition_the_fleet_and_hosts_stream_from_stdin() {
    let sim = Simulator::builder().hosts(30).start().await.unwrap();
    let hosts = sim.endpoints();
    let list = format!("# fleet\n{}\n", hosts.join("\n"));
    let dir = ScratchDir::new("cli", "shard");
    let file = dir.join("hosts");
    std::fs::write(&file, &list).unwrap();
    let json_hosts = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert_eq!(v["ok"], true, "{v}");
                v["host"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let mut union = Vec::new();
    for k in 1..=3 {
        let out = tokio::task::spawn_blocking({
            let file = file.clone();
            move || {
                cli()
                    .args(["-U", "Administrator", "--hosts"])
                    .arg(&file)
                    .args(["--shard", &format!("{k}/3"), "mc", "guid", "-o", "json"])
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = json_hosts(&out.stdout);
        assert!(
            !got.is_empty() && got.len() < hosts.len(),
            "shard {k}: {got:?}"
        );
        union.extend(got);
    }
    union.sort();
    let mut all = hosts.clone();
    all.sort();
    assert_eq!(union, all, "every host in exactly one shard");

    let out = tokio::task::spawn_blocking(move || {
        cli()
            .args([
                "-U",
                "Administrator",
                "--hosts",
                "-",
                "mc",
                "guid",
                "-o",
                "json",
            ])
            .write_stdin(list)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    assert_eq!(json_hosts(&out.stdout), hosts, "streamed, in input order");
}

/// A host list from a pipe is read once, as it goes; an empty list is an error; a reader that
/// goes away (`| head`) does not crash the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipes_empty_lists_and_a_closed_output() {
    let sim = Simulator::builder().hosts(3).start().await.unwrap();
    let hosts = sim.endpoints();
    let dir = ScratchDir::new("cli", "fifo");
    let fifo = dir.join("hosts");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let (fifo, list) = (fifo.clone(), hosts.join("\n"));
        std::thread::spawn(move || std::fs::write(fifo, list).unwrap())
    };
    let out = tokio::task::spawn_blocking({
        let fifo = fifo.clone();
        move || {
            cli()
                .args(["-U", "Administrator", "--hosts"])
                .arg(&fifo)
                .args(["mc", "guid", "-o", "json"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);

    let out = cli()
        .args(["-U", "Administrator", "--hosts", "-", "mc", "guid"])
        .write_stdin("# nothing\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no host"));

    // The output's reader closes at once: the run ends normally (exit 0), not in a panic.
    let code = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_winrm-ipmi"))
            .env("WINRM_PASSWORD", "Sim-Passw0rd!")
            .args([
                "-U",
                "Administrator",
                "-H",
                &hosts.join(","),
                "mc",
                "guid",
                "-o",
                "json",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child.wait().unwrap().code()
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0));
}

/// A host list is read safely: one host spelt three ways runs once; a line that is not UTF-8 is
/// that line's error and the rest of the list still runs; an empty shard is nothing to do, not
/// a usage error; a directory and absurd option values are refused before any traffic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_lists_and_options_are_read_safely() {
    let sim = Simulator::builder().hosts(2).start().await.unwrap();
    let eps = sim.endpoints();
    let port = eps[0].rsplit(':').next().unwrap();
    let guid = |stdin: Vec<u8>, extra: &[&str]| {
        let o = cli()
            .args(["-U", "Administrator", "--hosts", "-", "-o", "json"])
            .args(extra)
            .args(["mc", "guid"])
            .write_stdin(stdin)
            .output()
            .unwrap();
        let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (
            o.status.code(),
            rows,
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // One host, three spellings.
    let same =
        format!("127.0.0.1:{port}\nhttp://127.0.0.1:{port}/wsman\nHTTP://127.0.0.1:{port}/WSMAN\n");
    let (code, rows, err) = guid(same.into_bytes(), &[]);
    assert_eq!((code, rows.len()), (Some(0), 1), "{rows:?} {err}");
    // Not UTF-8 in the middle: its own error row, the hosts after it still run.
    let mut list = format!("{}\n", eps[0]).into_bytes();
    list.extend_from_slice(b"\xff\xfe\n");
    list.extend_from_slice(format!("{}\n", eps[1]).as_bytes());
    let (code, rows, err) = guid(list, &[]);
    assert_eq!(code, Some(1), "{err}");
    let ok: Vec<bool> = rows.iter().map(|r| r["ok"] == true).collect();
    assert_eq!(ok, [true, false, true], "{rows:?}");
    assert!(
        rows[1]["message"].as_str().unwrap().contains("not UTF-8"),
        "{rows:?}"
    );
    // Two shards of one host: one of them is empty, which is no failure.
    let one = format!("{}\n", eps[0]);
    let codes: Vec<(Option<i32>, usize, String)> = ["1/2", "2/2"]
        .iter()
        .map(|s| {
            let (code, rows, err) = guid(one.clone().into_bytes(), &["--shard", s]);
            (code, rows.len(), err)
        })
        .collect();
    assert!(
        codes.iter().all(|(code, _, _)| *code == Some(0)),
        "{codes:?}"
    );
    assert_eq!(codes.iter().map(|c| c.1).sum::<usize>(), 1, "{codes:?}");
    assert!(
        codes.iter().any(|c| c.2.contains("falls in shard")),
        "{codes:?}"
    );
    // Refused before any traffic (exit 2), never a panic (101).
    let dir = std::env::temp_dir();
    for args in [
        vec!["--hosts", dir.to_str().unwrap(), "mc", "guid"],
        vec![
            "-H",
            &eps[0],
            "--concurrency",
            "2305843009213693952",
            "mc",
            "guid",
        ],
        vec![
            "-H",
            &eps[0],
            "--timeout",
            "18446744073709551615",
            "mc",
            "guid",
        ],
    ] {
        let o = cli()
            .args(["-U", "Administrator"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
