//! `cargo run --release --example loop -- rust|c N`: hashes N headers with one implementation, for
//! `perf stat -e cycles:u` (user-mode cycles are not inflated by other processes on a busy machine).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u32 = args[2].parse().unwrap();
    let mut h = [7u8; 80];
    for i in 0..n {
        h[76..80].copy_from_slice(&i.to_le_bytes());
        let out = if args[1] == "c" {
            rs_x11_hash::get_x11_hash(h.as_slice())
        } else {
            dash_qrsync::chain::x11::x11(&h)
        };
        h[..32].copy_from_slice(&out);
    }
    println!("{}", hex::encode(&h[..32]));
}
