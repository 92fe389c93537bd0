//! Seal + unseal of a 2 KiB envelope with MS-WSMV framing (issue target ≤ 10 µs; the measured
//! floor for RC4 + HMAC-MD5 on this machine class is ~16 µs, shared/reference/performance-floor.md).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use winrm_ipmi::auth::ntlm::{Role, SessionSecurity};
use winrm_ipmi::transport::encryption;

fn benches(c: &mut Criterion) {
    let key = [0x55u8; 16];
    let envelope = vec![b'x'; 2048];
    let mut g = c.benchmark_group("MS-WSMV sealing, 2 KiB");
    g.throughput(Throughput::Bytes(envelope.len() as u64));
    let mut client = SessionSecurity::new(&key, Role::Initiator);
    let mut server = SessionSecurity::new(&key, Role::Acceptor);
    g.bench_function("seal + frame", |b| {
        b.iter(|| encryption::seal(&mut client, black_box(&envelope)))
    });
    let mut client = SessionSecurity::new(&key, Role::Initiator);
    g.bench_function("seal + unseal (both sides, framed)", |b| {
        b.iter(|| {
            let body = encryption::seal(&mut client, black_box(&envelope)).unwrap();
            encryption::unseal(&mut server, &body).unwrap()
        })
    });
    g.finish();
}

criterion_group!(sealing, benches);
criterion_main!(sealing);
