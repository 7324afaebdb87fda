//! Requests that peers silently declined, remembered for one header tip.
//!
//! Dash Core answers nothing to a `getqrinfo` or `getmnlistd` it cannot build (no quorum
//! snapshot, a block it cannot compute a list for): the only sign is the request timing out.
//! After a bounded number of unanswered attempts a request counts as declined for the current
//! tip: it is reported once (naming the block) and not sent again until the tip moves, so a
//! node that cannot serve something costs a bounded time, never a retry loop.

use crate::hashes::Hash256;
use std::collections::{HashMap, HashSet};

/// Unanswered attempts at one `getqrinfo` before it counts as declined for the tip.
pub(super) const QRINFO_ATTEMPTS: u32 = 4;
/// Unanswered attempts at one `getmnlistd` (any peer) before it counts as declined.
pub(super) const MNLISTD_ATTEMPTS: u32 = 3;
/// Blocks tracked per tip (a bound on memory; more distinct timeouts than this at one tip
/// are not remembered and simply retried).
const MAX_TRACKED: usize = 1024;

/// The declined requests at one tip.
#[derive(Debug, Default)]
pub(crate) struct Declined {
    tip: Hash256,
    qrinfo: bool,
    timeouts: HashMap<Hash256, u32>,
    mnlistd: HashSet<Hash256>,
}

impl Declined {
    /// Forgets everything when the tip moved.
    fn at(&mut self, tip: Hash256) -> &mut Declined {
        if self.tip != tip {
            *self = Declined {
                tip,
                ..Declined::default()
            };
        }
        self
    }

    /// Whether the `getqrinfo` for `tip` was declined.
    pub(super) fn qrinfo_declined(&mut self, tip: Hash256) -> bool {
        self.at(tip).qrinfo
    }

    /// Marks the `getqrinfo` for `tip` as declined.
    pub(super) fn decline_qrinfo(&mut self, tip: Hash256) {
        self.at(tip).qrinfo = true;
    }

    /// Whether the `getmnlistd` for `block` was declined at `tip`.
    pub(super) fn mnlistd_declined(&mut self, tip: Hash256, block: &Hash256) -> bool {
        self.at(tip).mnlistd.contains(block)
    }

    /// Notes that a `getmnlistd` for `block` went unanswered at `tip`; true exactly once, when
    /// this makes it declined.
    pub(super) fn mnlistd_timed_out(&mut self, tip: Hash256, block: Hash256) -> bool {
        let d = self.at(tip);
        if d.mnlistd.contains(&block) {
            return false;
        }
        if !d.timeouts.contains_key(&block) && d.timeouts.len() >= MAX_TRACKED {
            return false;
        }
        let n = d.timeouts.entry(block).or_insert(0);
        *n += 1;
        if *n >= MNLISTD_ATTEMPTS {
            d.timeouts.remove(&block);
            d.mnlistd.insert(block);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> Hash256 {
        Hash256([b; 32])
    }

    #[test]
    fn a_diff_is_declined_after_the_third_timeout_and_forgotten_when_the_tip_moves() {
        let mut d = Declined::default();
        assert!(!d.mnlistd_timed_out(h(1), h(9)));
        assert!(!d.mnlistd_timed_out(h(1), h(9)));
        assert!(!d.mnlistd_declined(h(1), &h(9)));
        assert!(d.mnlistd_timed_out(h(1), h(9)), "third timeout declines");
        assert!(!d.mnlistd_timed_out(h(1), h(9)), "reported once");
        assert!(d.mnlistd_declined(h(1), &h(9)));
        assert_eq!(d.at(h(1)).mnlistd.len(), 1);
        assert!(!d.mnlistd_declined(h(2), &h(9)), "a new tip asks again");
        assert!(d.at(h(2)).mnlistd.is_empty());
    }

    #[test]
    fn qrinfo_is_declined_per_tip() {
        let mut d = Declined::default();
        d.decline_qrinfo(h(1));
        assert!(d.qrinfo_declined(h(1)));
        assert!(!d.qrinfo_declined(h(2)));
    }

    #[test]
    fn tracking_is_bounded() {
        let mut d = Declined::default();
        for i in 0..(MAX_TRACKED as u32 + 10) {
            let mut b = [0u8; 32];
            b[..4].copy_from_slice(&i.to_le_bytes());
            d.mnlistd_timed_out(h(1), Hash256(b));
        }
        assert!(d.timeouts.len() <= MAX_TRACKED);
    }
}
