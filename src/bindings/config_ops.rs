//! The configuration setters the C ABI and the bindings share. Every check is the Rust one:
//! a value is validated by [`Config::validate`] or [`Config::resolve_start`] (never by a copy of
//! their rules), so the three surfaces report the same [`ClientError`] with the same message.
//! The only checks here are conversions the Rust API does not need (text to an address, byte
//! slices to a header or a hash).

use crate::api::BlockHeader;
use crate::api::{Checkpoint, ClientError, Config, ErrorKind, StartPoint};
use crate::hashes::Hash256;
use crate::network::Network;
use std::net::SocketAddr;
use std::time::Duration;

fn invalid_argument(message: String) -> ClientError {
    ClientError::new(ErrorKind::InvalidArgument, message, false)
}

/// Runs [`Config::validate`] on a configuration that is valid except for what `apply` sets,
/// so that only the value being set can fail, with the Rust message.
fn validate_alone(apply: impl FnOnce(&mut Config)) -> Result<(), ClientError> {
    let mut probe = Config::new(Network::Regtest);
    probe.peers.push(SocketAddr::from(([127, 0, 0, 1], 1)));
    probe.start = StartPoint::Genesis;
    apply(&mut probe);
    probe.validate()
}

/// Parses `"IP:port"` and adds it to [`Config::peers`].
pub(crate) fn add_peer(c: &mut Config, address: &str) -> Result<(), ClientError> {
    let a: SocketAddr = address
        .parse()
        .map_err(|_| invalid_argument(format!("{address:?} is not an IP:port address")))?;
    c.peers.push(a);
    Ok(())
}

/// Sets [`Config::max_peers`] if [`Config::validate`] accepts it.
pub(crate) fn set_max_peers(c: &mut Config, max_peers: u32) -> Result<(), ClientError> {
    let n = usize::try_from(max_peers).unwrap_or(usize::MAX);
    validate_alone(|p| p.max_peers = n)?;
    c.max_peers = n;
    Ok(())
}

/// Sets [`Config::connect_timeout`] and [`Config::request_timeout`] (milliseconds) if
/// [`Config::validate`] accepts them.
pub(crate) fn set_timeouts(
    c: &mut Config,
    connect_ms: u32,
    request_ms: u32,
) -> Result<(), ClientError> {
    let connect = Duration::from_millis(connect_ms.into());
    let request = Duration::from_millis(request_ms.into());
    validate_alone(|p| {
        p.connect_timeout = connect;
        p.request_timeout = request;
    })?;
    c.connect_timeout = connect;
    c.request_timeout = request;
    Ok(())
}

/// Sets [`Config::protocol_version`] if [`Config::validate`] accepts it.
pub(crate) fn set_protocol_version(c: &mut Config, version: u32) -> Result<(), ClientError> {
    validate_alone(|p| p.protocol_version = version)?;
    c.protocol_version = version;
    Ok(())
}

/// Applies a start (clearing [`Config::checkpoint`]) if [`Config::resolve_start`] accepts it;
/// on error the configuration is unchanged.
pub(crate) fn set_start(c: &mut Config, start: StartPoint) -> Result<(), ClientError> {
    let mut trial = c.clone();
    trial.checkpoint = None;
    trial.start = start;
    trial.resolve_start()?;
    *c = trial;
    Ok(())
}

/// Sets [`Config::checkpoint`] if [`Config::resolve_start`] accepts it; on error the
/// configuration is unchanged.
pub(crate) fn set_checkpoint(
    c: &mut Config,
    height: u32,
    header: &[u8],
) -> Result<(), ClientError> {
    let mut trial = c.clone();
    trial.checkpoint = Some(Checkpoint {
        height,
        header: header_from(header)?,
    });
    trial.resolve_start()?;
    *c = trial;
    Ok(())
}

/// Adds a hash-only checkpoint ([`Config::add_extra_checkpoint`]): `hash` is 32 bytes in
/// internal byte order; on error the configuration is unchanged.
pub(crate) fn add_checkpoint_hash(
    c: &mut Config,
    height: u32,
    hash: &[u8],
) -> Result<(), ClientError> {
    c.add_extra_checkpoint(height, hash_from(hash)?)
}

/// Replaces the chain parameters (and so the network) with those of a `dash.conf`
/// ([`Config::from_dash_conf`]); the other settings are kept.
pub(crate) fn set_dash_conf(c: &mut Config, text: &str) -> Result<(), ClientError> {
    c.chain = Config::from_dash_conf(text)?.chain;
    Ok(())
}

/// An 80-byte serialized header.
pub(crate) fn header_from(bytes: &[u8]) -> Result<BlockHeader, ClientError> {
    let a: &[u8; 80] = bytes
        .try_into()
        .map_err(|_| invalid_argument(format!("a header is 80 bytes, got {}", bytes.len())))?;
    Ok(BlockHeader::from_array(a))
}

/// A 32-byte hash in internal byte order.
pub(crate) fn hash_from(bytes: &[u8]) -> Result<Hash256, ClientError> {
    let a: [u8; 32] = bytes
        .try_into()
        .map_err(|_| invalid_argument(format!("a hash is 32 bytes, got {}", bytes.len())))?;
    Ok(Hash256(a))
}
