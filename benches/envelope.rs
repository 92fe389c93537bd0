//! Building a `RequestResponse` envelope and parsing its reply (issue targets on the 2-core
//! machine: build ≤ 2 µs, parse ≤ 5 µs, linear on a 64 KiB reply).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use winrm_ipmi::ipmi::{CompletionCode, NetFn, RawRequest, RawResponse};
use winrm_ipmi::wmi::microsoft_ipmi::{self, IpmiInstance};
use winrm_ipmi::wsman::{EnumerateOptions, MessageId, RequestContext, parse_enumeration};

fn instance() -> IpmiInstance {
    IpmiInstance {
        instance_name: "ROOT\\SYSTEM\\0001_0".into(),
        active: true,
        bmc_address: 0x20,
    }
}

fn benches(c: &mut Criterion) {
    let ctx = RequestContext::new("http://host.example.com:5985/wsman");
    let inst = instance();
    let id = MessageId::random();
    let get_device_id = RawRequest::new(NetFn::App, 0x01, vec![]).unwrap();
    let lan = RawRequest::new(NetFn::Transport, 0x02, vec![1, 3, 0, 0]).unwrap();

    // What a client does per request: the instance's method keeps the constant parts.
    let method = microsoft_ipmi::RequestResponseMethod::new(&ctx, &inst);
    c.bench_function("build RequestResponse (Get Device ID)", |b| {
        b.iter(|| method.request(black_box(&get_device_id), id))
    });
    c.bench_function("build RequestResponse (LAN param, 4 bytes)", |b| {
        b.iter(|| method.request(black_box(&lan), id))
    });
    c.bench_function("build RequestResponse (Get Device ID), from nothing", |b| {
        b.iter(|| microsoft_ipmi::request_response(&ctx, &inst, black_box(&get_device_id), id))
    });

    let req = microsoft_ipmi::request_response(&ctx, &inst, &get_device_id, id);
    let reply = microsoft_ipmi::request_response_reply(
        Some(&id.to_string()),
        &RawResponse::new(
            CompletionCode::Normal,
            vec![0, 3, 9, 8, 2, 0x9f, 0x91, 0x12, 0, 2, 0x0f, 0, 0, 0, 0],
        ),
    );
    let mut g = c.benchmark_group("parse RequestResponse reply");
    g.throughput(Throughput::Bytes(reply.len() as u64));
    g.bench_function(format!("Get Device ID, {} B", reply.len()), |b| {
        b.iter(|| {
            microsoft_ipmi::parse_request_response(black_box(reply.as_bytes()), &req).unwrap()
        })
    });
    // ~64 KiB: the same reply shape with 2,000 ResponseData items.
    let big = microsoft_ipmi::request_response_reply(
        Some(&id.to_string()),
        &RawResponse::new(CompletionCode::Normal, vec![0xAB; 2_000]),
    );
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function(format!("2000 items, {} B", big.len()), |b| {
        b.iter(|| microsoft_ipmi::parse_request_response(black_box(big.as_bytes()), &req).unwrap())
    });
    g.finish();

    // A real Windows Pull page (8.9 KiB), and the same items repeated to ~64 KiB.
    let pull_req = ctx.pull(
        "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_IP4RouteTable",
        "uuid:x",
        32000,
        MessageId(uuid::Uuid::parse_str("578DC055-B6C4-4387-B39F-E992D0ED76A0").unwrap()),
    );
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/wsman/txwinrm_2012_ip4routetable_pull.xml"
    ))
    .unwrap();
    let (head, rest) = page.split_once("<n:Items>").unwrap();
    let (items, tail) = rest.split_once("</n:Items>").unwrap();
    let big_page = format!("{head}<n:Items>{}</n:Items>{tail}", items.repeat(7));
    let mut g = c.benchmark_group("parse enumeration page");
    for (name, doc) in [("txwinrm Pull page", &page), ("same items x7", &big_page)] {
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_function(format!("{name}, {} B", doc.len()), |b| {
            b.iter(|| parse_enumeration(black_box(doc.as_bytes()), &pull_req).unwrap())
        });
    }
    g.finish();
    let _ = EnumerateOptions::default();
}

criterion_group!(envelope, benches);
criterion_main!(envelope);
