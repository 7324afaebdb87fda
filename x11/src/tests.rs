//! Known-answer tests for the eleven X11 functions.
//!
//! Sources of the expected values (none computed by this code):
//! - "The great experiment continues." (31 bytes): the per-function outputs documented in the
//!   README of dashpay/x11-hash-js ("Call individual hash functions within the x11 digest").
//! - The submission documents' own examples, cited at each test.

use super::*;

fn hx(d: &[u8]) -> String {
    hex::encode(d)
}

const GREAT: &[u8] = b"The great experiment continues.";

#[test]
fn x11_js_readme_per_function_values() {
    type Case = (&'static str, fn(&[u8]) -> [u8; 64], &'static str);
    let cases: [Case; 11] = [
        ("blake", blake512, "8f257723af0741fb7d3d8c264a5ea86a57d4ae833557de04f5f78fad1ac17d6dfa1ae4a78a7564c08fc21d5d8cdd2793ca17d5500ecc2b43eb8aaf9c220d7b49"),
        ("bmw", bmw512, "7b30b4f1ccd83692bc6a01b1f7e374b59b81da6b21421679ae59d84c4f73afec5a0857565b6ebc1b9ddf9da5e75bf1ecd0ba6f5a75b7926ba9278385fb83533c"),
        ("cubehash", cubehash512, "64394bcb9d7844070c8516480ea5f03f68386f33c3829e08bf38bea11f09eba5806aa7831cfbe8e515678b0cad7d4ac888ea2b9ea8f63f0cc918d5a6a76b7ae9"),
        ("echo", echo512, "b1db282b1672f3423c1e1bdf4496a8ddda0b6f483e92e9a8be2efbaab0ea230814f1f1485d919285deac13794dc215000eb39a47ac32bfc07299a0475049be2e"),
        ("groestl", groestl512, "6cea044acf31194eab7d1adb704712c34dd4f0b6a470b0f297832addab691faa459474c651efdbebddb138a2a9adb41705e0fb75741775314ddd8e5449ace986"),
        ("jh", jh512, "90c7090e9d9a45bc79f476ae7fa3e7e4416d1c26b127d1d418ee9bd96b541933b0f144a0d4c6594944393e39fb6b98ceb54752af55198e00953d638183482521"),
        ("keccak", keccak512, "4c7e9c893fcdc87a2fd604574a4a5b9a0b6864665ed19057dedf24858314690ba45d6bbcfb86cd7182d1677e2d30dad9716ee99eb8ea267c6638f47ef20e0226"),
        ("luffa", luffa512, "ea531ce38473fc4bd508c5396194dd6201699d47e25bd4d6b0c5dc7ab0627831e01ea027ebe33d80f608f139aa9fd0c6d923f32de9b5d714026300ed1c9a2f48"),
        ("shavite", shavite512, "6fbca2d53a26e22e6df1a8064230bdb98c0a612b64dad958f16757cf8ee8526862a0e4f56be69b98b07f0ea47db7211cf42352443fc806013374e819f26cb923"),
        ("simd", simd512, "13ae2c08260f7d5abcfa791446800c1eaed8c5332ec437222428a28823aa2ba19a5907a2c860c12c0b894bdf9c0d64f807cb9512f1ed42980d15747ff4a26c1c"),
        ("skein", skein512, "88a9dd727bb9b7cbd59612edbcd6b321427f473acc5673d7dffb16071dc71821d0cc1b94dccf7e5f71a0a94019a7e764d3315c3f4a40f73aee4ad98c75bcc2f7"),
    ];
    let mut failed = Vec::new();
    for (name, f, want) in cases {
        if hx(&f(GREAT)) != want {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "wrong: {failed:?}");
    // The chained digest from the same README.
    assert_eq!(
        hx(&x11(GREAT)),
        "4da3b7c5ff698c6546564ebc72204f31885cd87b75b2b3ca5a93b5d75db85b8c"
    );
}

#[test]
fn blake512_specification_examples() {
    // BLAKE specification v1.3, Appendix A (BLAKE-512): the one-byte message 0x00 and the
    // 144-byte all-zero message.
    assert_eq!(
        hx(&blake512(&[0u8])),
        "97961587f6d970faba6d2478045de6d1fabd09b61ae50932054d52bc29d31be4ff9102b9f69e2bbdb83be13d4b9c06091e5fa0b48bd081b634058be0ec49beb3"
    );
    assert_eq!(
        hx(&blake512(&[0u8; 144])),
        "313717d608e9cf758dcb1eb0f0c3cf9fc150b2d500fb33f51c52afc99d358a2f1374b8a38bba7974e7f6ef79cab16f22ce1e649d6e01ad9589c213045d545dde"
    );
}
