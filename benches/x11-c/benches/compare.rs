//! One block header, hashed by the pure-Rust X11 of dash-qrsync and by the C X11 of rs-x11-hash
//! (sphlib sources); both must agree on it and on every header of a real mainnet file first.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dash_qrsync::chain::x11;

fn bench(c: &mut Criterion) {
    let dir = std::env::var("DASH_QRSYNC_VECTORS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors").to_string()
    });
    let file = format!("{dir}/mainnet/headers/headers_mainnet_1737084_1742083.bin");
    let headers = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    for h in headers.chunks_exact(80) {
        assert_eq!(x11::x11(h), rs_x11_hash::get_x11_hash(h), "Rust and C X11 disagree");
    }
    eprintln!("{} real headers: Rust and C X11 agree", headers.len() / 80);
    let hdr: [u8; 80] = headers[..80].try_into().unwrap();
    let mut g = c.benchmark_group("x11_80B_header");
    g.bench_function("rust", |b| b.iter(|| x11::x11(black_box(&hdr))));
    g.bench_function("c", |b| b.iter(|| rs_x11_hash::get_x11_hash(black_box(hdr.as_slice()))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
