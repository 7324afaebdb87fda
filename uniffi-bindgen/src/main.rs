//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libdash_qrsync.so ...`
fn main() {
    uniffi::uniffi_bindgen_main()
}
