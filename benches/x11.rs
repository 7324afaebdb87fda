//! X11 speed: the pure-Rust chain (src/chain/x11/) on an 80-byte block header, and each of its
//! eleven functions on a 64-byte intermediate digest. Run: `cargo bench --bench x11`.
//!
//! The comparison with the C implementation lives in `benches/x11-c/` (it needs clang):
//! `cargo bench --manifest-path benches/x11-c/Cargo.toml`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dash_qrsync::chain::x11;

/// A fixed 80-byte pseudo-header: X11's speed does not depend on the content.
fn header() -> [u8; 80] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11))
}

fn bench(c: &mut Criterion) {
    let hdr = header();
    let mut g = c.benchmark_group("x11_header");
    g.bench_function("rust", |b| b.iter(|| x11::x11(black_box(&hdr))));
    g.finish();

    let d = x11::blake512(&hdr);
    type Named = (&'static str, fn(&[u8]) -> [u8; 64]);
    let fns: [Named; 11] = [
        ("blake512", x11::blake512),
        ("bmw512", x11::bmw512),
        ("groestl512", x11::groestl512),
        ("skein512", x11::skein512),
        ("jh512", x11::jh512),
        ("keccak512", x11::keccak512),
        ("luffa512", x11::luffa512),
        ("cubehash512", x11::cubehash512),
        ("shavite512", x11::shavite512),
        ("simd512", x11::simd512),
        ("echo512", x11::echo512),
    ];
    let mut g = c.benchmark_group("x11_function_64B");
    for (name, f) in fns {
        g.bench_function(name, |b| b.iter(|| f(black_box(&d))));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
