//! The addresses inside a simplified-masternode-list entry's network field (PROTOCOL.md §3.5),
//! decoded for display: the legacy `CService` of entry versions 1–2 and every entry of an
//! `ExtNetInfo` (entry version 3). The entry itself keeps the bytes received (they are what the
//! SML root commits to); this module only reads them.
//!
//! Text forms follow Dash Core's `CService::ToStringAddrPort` as its RPC prints them: dotted
//! IPv4, bracketed RFC 5952 IPv6, `<base32>.onion` for Tor v3 (public key, checksum, version),
//! `<base32>.b32.i2p` for I2P, bracketed IPv6 for CJDNS, and `host:port` for a domain.

use super::codec::Reader;
use super::sml_entry::NetInfo;
use super::WireError;
use sha3::{Digest, Sha3_256};
use std::net::{Ipv4Addr, Ipv6Addr};

/// `ExtNetInfo` purpose: Core P2P (`NetInfoPurpose::CORE_P2P`).
pub const PURPOSE_CORE_P2P: u8 = 0;
/// `ExtNetInfo` purpose: Platform P2P (`NetInfoPurpose::PLATFORM_P2P`).
pub const PURPOSE_PLATFORM_P2P: u8 = 1;
/// `ExtNetInfo` purpose: Platform HTTPS (`NetInfoPurpose::PLATFORM_HTTPS`).
pub const PURPOSE_PLATFORM_HTTPS: u8 = 2;

/// The kind of host an address names (BIP155 network ids, plus domain names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// IPv4 (BIP155 network id 1).
    Ipv4,
    /// IPv6 (id 2).
    Ipv6,
    /// Tor v3 onion service (id 4).
    TorV3,
    /// I2P (id 5).
    I2p,
    /// CJDNS (id 6).
    Cjdns,
    /// A domain name (`ExtNetInfo` domain entry).
    Domain,
}

/// One decoded address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecodedAddress {
    /// What it is for ([`PURPOSE_CORE_P2P`], [`PURPOSE_PLATFORM_P2P`], [`PURPOSE_PLATFORM_HTTPS`]).
    pub purpose: u8,
    /// The kind of host.
    pub kind: HostKind,
    /// The host as Core prints it (IPv6 and CJDNS without brackets).
    pub host: String,
    /// The port.
    pub port: u16,
}

impl DecodedAddress {
    /// `host:port` as Dash Core's RPC prints it (`[v6]:port` for IPv6 and CJDNS).
    pub fn to_host_port(&self) -> String {
        match self.kind {
            HostKind::Ipv6 | HostKind::Cjdns => format!("[{}]:{}", self.host, self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

impl NetInfo {
    /// Every address of this network field, in the order it was received (purpose by purpose).
    /// A legacy service is one core P2P address (an all-zero one, Core's "no address", yields
    /// none). Address kinds this library does not know (e.g. Tor v2, which Core rejects) and
    /// `ExtNetInfo` invalid entries are skipped, as Core's RPC skips them.
    pub fn addresses(&self) -> Result<Vec<DecodedAddress>, WireError> {
        match self {
            NetInfo::Service(b) => {
                let mut ip = [0u8; 16];
                ip.copy_from_slice(&b[..16]);
                let port = u16::from_be_bytes([b[16], b[17]]);
                let ip6 = Ipv6Addr::from(ip);
                if ip6.is_unspecified() && port == 0 {
                    return Ok(Vec::new());
                }
                let (kind, host) = match ip6.to_ipv4_mapped() {
                    Some(v4) => (HostKind::Ipv4, v4.to_string()),
                    None => (HostKind::Ipv6, ip6.to_string()),
                };
                Ok(vec![DecodedAddress {
                    purpose: PURPOSE_CORE_P2P,
                    kind,
                    host,
                    port,
                }])
            }
            NetInfo::Extended(bytes) => decode_ext(bytes),
        }
    }
}

fn decode_ext(bytes: &[u8]) -> Result<Vec<DecodedAddress>, WireError> {
    let mut r = Reader::new(bytes, 0);
    let mut out = Vec::new();
    if r.u8()? != 1 {
        return Ok(out);
    }
    let purposes = r.read_count(2)?;
    for _ in 0..purposes {
        let purpose = r.u8()?;
        let entries = r.read_count(1)?;
        for _ in 0..entries {
            match r.u8()? {
                0x01 => {
                    let net_id = r.u8()?;
                    let addr = r.var_bytes()?;
                    let port = r.u16_be()?;
                    if let Some((kind, host)) = host_of(net_id, addr) {
                        out.push(DecodedAddress {
                            purpose,
                            kind,
                            host,
                            port,
                        });
                    }
                }
                0x02 => {
                    let domain = r.var_bytes()?;
                    let port = r.u16_be()?;
                    out.push(DecodedAddress {
                        purpose,
                        kind: HostKind::Domain,
                        host: String::from_utf8_lossy(domain).into_owned(),
                        port,
                    });
                }
                0xff => {}
                t => {
                    return Err(WireError::invalid(
                        "ExtNetInfo entry type",
                        format!("{t:#04x}"),
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// A BIP155 address as (kind, Core's text); None for ids or lengths this library does not show.
fn host_of(net_id: u8, addr: &[u8]) -> Option<(HostKind, String)> {
    match (net_id, addr.len()) {
        (1, 4) => Some((
            HostKind::Ipv4,
            Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
        )),
        (2, 16) => {
            let a: [u8; 16] = addr.try_into().ok()?;
            Some((HostKind::Ipv6, Ipv6Addr::from(a).to_string()))
        }
        (4, 32) => {
            // Tor rend-spec-v3: base32(PUBKEY || CHECKSUM || VERSION) + ".onion", with
            // CHECKSUM = SHA3-256(".onion checksum" || PUBKEY || VERSION)[..2], VERSION = 3.
            let mut h = Sha3_256::new();
            h.update(b".onion checksum");
            h.update(addr);
            h.update([3u8]);
            let sum = h.finalize();
            let mut full = addr.to_vec();
            full.extend_from_slice(&sum[..2]);
            full.push(3);
            Some((HostKind::TorV3, format!("{}.onion", base32(&full))))
        }
        (5, 32) => Some((HostKind::I2p, format!("{}.b32.i2p", base32(addr)))),
        (6, 16) => {
            let a: [u8; 16] = addr.try_into().ok()?;
            Some((HostKind::Cjdns, Ipv6Addr::from(a).to_string()))
        }
        _ => None,
    }
}

/// RFC 4648 base32, lower case, no padding (as Core's `EncodeBase32(…, false)`).
fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_test_vectors() {
        // RFC 4648 §10, lower case, padding removed.
        for (input, expected) in [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ] {
            assert_eq!(base32(input.as_bytes()), expected);
        }
    }

    #[test]
    fn legacy_service_prints_as_core() {
        let mut b = [0u8; 18];
        b[10] = 0xff;
        b[11] = 0xff;
        b[12..16].copy_from_slice(&[127, 0, 0, 1]);
        b[16..18].copy_from_slice(&19999u16.to_be_bytes());
        let a = NetInfo::Service(b).addresses().unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].to_host_port(), "127.0.0.1:19999");
        assert_eq!(a[0].kind, HostKind::Ipv4);
        // Core's "no address" (`[::]:0`) is no address.
        assert!(NetInfo::Service([0; 18]).addresses().unwrap().is_empty());
    }
}
