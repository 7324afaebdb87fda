//! The chain-parameter entry points of the C ABI, called as C calls them: Core's option names
//! and syntax, errors naming the option, NULL handling, and a `dash.conf` given as text.

use dash_qrsync::c_api::{
    dqs_config, dqs_config_free, dqs_config_new, dqs_config_set_chain_param,
    dqs_config_set_dash_conf, dqs_last_error_message, dqs_network, dqs_result,
};
use std::ffi::{c_char, CString};

fn last_error() -> String {
    let mut buf = vec![0u8; 512];
    let n = dqs_last_error_message(buf.as_mut_ptr() as *mut c_char, buf.len());
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn regtest() -> *mut dqs_config {
    let mut cfg: *mut dqs_config = std::ptr::null_mut();
    assert_eq!(
        dqs_config_new(dqs_network::Regtest as u32, &mut cfg),
        dqs_result::Ok
    );
    cfg
}

fn set(cfg: *mut dqs_config, k: &str, v: &str) -> dqs_result {
    let (k, v) = (CString::new(k).unwrap(), CString::new(v).unwrap());
    dqs_config_set_chain_param(cfg, k.as_ptr(), v.as_ptr())
}

#[test]
fn core_option_names_set_the_chain_parameters() {
    let cfg = regtest();
    for (k, v) in [
        ("dip3params", "2:2"),
        ("testactivationheight", "v20@100"),
        ("-testactivationheight", "mn_rr@100"),
        ("llmqtestparams", "4:4"),
    ] {
        assert_eq!(set(cfg, k, v), dqs_result::Ok, "{k}={v}: {}", last_error());
    }
    // Bad keys and values: INVALID_CONFIG with a message naming the option.
    for (k, v, needle) in [
        ("testactivationheight", "v21@5", "testactivationheight"),
        ("nosuchoption", "1", "nosuchoption"),
        ("llmqtestparams", "4:5", "llmqtestparams"),
        ("llmqchainlocks", "llmq_test", "devnet-only"),
    ] {
        assert_eq!(set(cfg, k, v), dqs_result::ErrInvalidConfig, "{k}={v}");
        let e = last_error();
        assert!(e.contains(needle), "{k}={v}: {e}");
    }
    // NULLs.
    let v = CString::new("1").unwrap();
    assert_eq!(
        dqs_config_set_chain_param(cfg, std::ptr::null(), v.as_ptr()),
        dqs_result::ErrNull
    );
    assert_eq!(
        dqs_config_set_chain_param(std::ptr::null_mut(), v.as_ptr(), v.as_ptr()),
        dqs_result::ErrNull
    );
    dqs_config_free(cfg);
}

#[test]
fn a_dash_conf_text_replaces_the_network_parameters() {
    let cfg = regtest();
    let text = CString::new(
        "regtest=1\nport=19911\n[regtest]\ndip3params=2:2\ntestactivationheight=v20@100\ntestactivationheight=mn_rr@100\n",
    )
    .unwrap();
    assert_eq!(dqs_config_set_dash_conf(cfg, text.as_ptr()), dqs_result::Ok);
    // Inconsistent as a whole (v20 before DIP3): refused, naming both.
    let bad = CString::new("regtest=1\n[regtest]\ntestactivationheight=v20@100\n").unwrap();
    assert_eq!(
        dqs_config_set_dash_conf(cfg, bad.as_ptr()),
        dqs_result::ErrInvalidConfig
    );
    let e = last_error();
    assert!(e.contains("v20") && e.contains("DIP3"), "{e}");
    let bad_line = CString::new("regtest=1\n[regtest]\ndip3params=two\n").unwrap();
    assert_eq!(
        dqs_config_set_dash_conf(cfg, bad_line.as_ptr()),
        dqs_result::ErrInvalidConfig
    );
    assert!(last_error().contains("line 3"), "{}", last_error());
    dqs_config_free(cfg);
}
