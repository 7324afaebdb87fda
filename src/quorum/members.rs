//! Member computation for a commitment from the lists and snapshots a caller holds: which lists
//! are needed (§7.2, §7.3.3) and the ordered member list (what `signers`/`validMembers` index).

use super::params::LlmqParams;
use super::selection::{
    modifier, new_quarter, non_rotated_members_cached, quarters_from_snapshot, InnerHashes,
    NewQuarter,
};
use super::verify::{ListSource, Requirements};
use crate::chain::HeaderIndex;
use crate::network::ChainParams;
use crate::network::Network;
use crate::wire::sml_entry::SmlEntry;
use std::sync::Arc;

/// Height of the list a non-rotated quorum based at `base_height` selects from (§7.2).
pub fn non_rotated_list_height(cp: &ChainParams, base_height: u32) -> u32 {
    if base_height + 1 >= cp.activations().v20 {
        base_height.saturating_sub(8)
    } else {
        base_height
    }
}

/// The older cycles whose quarters a rotated cycle at `cycle_height` combines (H − c, H − 2c,
/// H − 3c), stopping at the first one before rotation was enabled.
pub fn previous_cycles(cp: &ChainParams, llmq_type: u8, cycle_height: u32) -> Vec<u32> {
    let Some(p) = cp.llmq_params(llmq_type) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for k in 1..=3u32 {
        let Some(x) = cycle_height.checked_sub(k * p.dkg_interval) else {
            break;
        };
        if x < 8 || !cp.is_rotation_enabled(llmq_type, x) {
            break;
        }
        out.push(x);
    }
    out
}

/// Lists and snapshots needed to compute the members of a `llmq_type` quorum based at
/// `base_height`.
pub fn requirements(cp: &ChainParams, llmq_type: u8, base_height: u32) -> Requirements {
    let Some(p) = cp.llmq_params(llmq_type) else {
        return Requirements::default();
    };
    if cp.is_rotation_enabled(llmq_type, base_height) {
        let h = base_height - base_height % p.dkg_interval;
        let prev = previous_cycles(cp, llmq_type, h);
        let mut list_heights = vec![h.saturating_sub(8)];
        list_heights.extend(prev.iter().map(|x| x - 8));
        Requirements {
            list_heights,
            snapshot_heights: prev,
        }
    } else {
        Requirements {
            list_heights: vec![non_rotated_list_height(cp, base_height)],
            snapshot_heights: Vec::new(),
        }
    }
}

/// What of `req` the source does not hold.
pub(crate) fn missing(req: &Requirements, lists: &dyn ListSource) -> Requirements {
    Requirements {
        list_heights: req
            .list_heights
            .iter()
            .copied()
            .filter(|h| lists.list_at(*h).is_none())
            .collect(),
        snapshot_heights: req
            .snapshot_heights
            .iter()
            .copied()
            .filter(|h| lists.snapshot_at(*h).is_none())
            .collect(),
    }
}

/// The ordered members of a `llmq_type` quorum based at `base_height`, or what is missing to
/// compute them. A disabled type has no members (empty list).
pub fn members_for(
    cp: &ChainParams,
    llmq_type: u8,
    base_height: u32,
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
) -> Result<Vec<Arc<SmlEntry>>, Requirements> {
    members_for_cached(
        cp,
        llmq_type,
        base_height,
        headers,
        lists,
        &mut InnerHashes::default(),
    )
}

/// [`members_for`] reusing (and adding to) the entries' inner score hashes of `inner`.
pub fn members_for_cached(
    cp: &ChainParams,
    llmq_type: u8,
    base_height: u32,
    headers: &dyn HeaderIndex,
    lists: &dyn ListSource,
    inner: &mut InnerHashes,
) -> Result<Vec<Arc<SmlEntry>>, Requirements> {
    let Some(p) = cp.llmq_params(llmq_type) else {
        return Ok(Vec::new());
    };
    if !cp.is_type_enabled(llmq_type, base_height, &|h| headers.version_and_time_at(h)) {
        return Ok(Vec::new());
    }
    if cp.is_rotation_enabled(llmq_type, base_height) {
        let index = (base_height % p.dkg_interval) as usize;
        let cycle = base_height - index as u32;
        let mut all = rotated_cycle_members(cp, llmq_type, cycle, lists)?;
        return Ok(if index < all.len() {
            std::mem::take(&mut all[index])
        } else {
            Vec::new()
        });
    }
    let req = requirements(cp, llmq_type, base_height);
    let list_h = req.list_heights[0];
    let Some(list) = lists.list_at(list_h) else {
        return Err(missing(&req, lists));
    };
    let a = cp.activations();
    let work_height = base_height.saturating_sub(8);
    let base_hash = if list_h == base_height {
        list.block_hash
    } else {
        match headers.hash_at(base_height) {
            Some(h) => h,
            None => {
                return Err(Requirements {
                    list_heights: vec![base_height],
                    snapshot_heights: Vec::new(),
                })
            }
        }
    };
    let work = (list_h == work_height).then_some(list);
    let Some(m) = modifier(cp, llmq_type, false, &base_hash, work, work_height) else {
        return Err(Requirements {
            list_heights: vec![work_height],
            snapshot_heights: Vec::new(),
        });
    };
    let evo_only = llmq_type == cp.llmq().platform && base_height + 1 >= a.v19;
    Ok(non_rotated_members_cached(
        list,
        &m,
        p.size as usize,
        evo_only,
        inner,
    ))
}

/// Members of every quorum index of the rotated cycle at `cycle_height` (§7.3.3):
/// `Quarter(H−3c)[i] ‖ Quarter(H−2c)[i] ‖ Quarter(H−c)[i] ‖ NewQuarter(H)[i]`.
pub fn rotated_cycle_members(
    cp: &ChainParams,
    llmq_type: u8,
    cycle_height: u32,
    lists: &dyn ListSource,
) -> Result<Vec<Vec<Arc<SmlEntry>>>, Requirements> {
    let Some(p) = cp.llmq_params(llmq_type) else {
        return Ok(Vec::new());
    };
    let req = requirements(cp, llmq_type, cycle_height);
    let gap = missing(&req, lists);
    if !gap.list_heights.is_empty() || !gap.snapshot_heights.is_empty() {
        return Err(gap);
    }
    let (older, nq) = build_cycle(cp, llmq_type, cycle_height, p, lists);
    let n = p.signing_active_quorum_count as usize;
    let q = (p.size / 4) as usize;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut members = Vec::with_capacity(q * 4);
        for quarters in older.iter().rev() {
            members.extend(quarters[i].iter().cloned());
        }
        members.extend(nq.quarters[i].iter().cloned());
        out.push(members);
    }
    Ok(out)
}

type Quarters = Vec<Vec<Arc<SmlEntry>>>;

/// The previous cycles' quarters (newest first: H − c, H − 2c, H − 3c) and the new quarter of the
/// cycle. The caller has checked that every list and snapshot is held.
fn build_cycle(
    cp: &ChainParams,
    llmq_type: u8,
    cycle_height: u32,
    p: &LlmqParams,
    lists: &dyn ListSource,
) -> (Vec<Quarters>, NewQuarter) {
    let n = p.signing_active_quorum_count as usize;
    let q = (p.size / 4) as usize;
    let mut older: Vec<Quarters> = Vec::new();
    for x in previous_cycles(cp, llmq_type, cycle_height) {
        let list = lists.list_at(x - 8).expect("checked by the caller");
        let snap = lists.snapshot_at(x).expect("checked by the caller");
        let m = modifier(cp, llmq_type, true, &list.block_hash, Some(list), x - 8)
            .expect("work list given");
        older.push(quarters_from_snapshot(list, &m, snap, n, q));
    }
    let work_height = cycle_height.saturating_sub(8);
    let list = lists.list_at(work_height).expect("checked by the caller");
    let m = modifier(
        cp,
        llmq_type,
        true,
        &list.block_hash,
        Some(list),
        work_height,
    )
    .expect("work list given");
    let prev: Vec<&[Vec<Arc<SmlEntry>>]> = older.iter().map(|v| v.as_slice()).collect();
    let skip_removed = cycle_height + 1 >= cp.activations().v19 || cp.network() == Network::Testnet;
    let nq = new_quarter(list, &m, &prev, n, q, skip_removed);
    (older, nq)
}

/// The new quarter a rotated cycle builds (what its DKG uses and its snapshot encodes), for
/// the simulated network and for cross-checking a snapshot.
pub fn cycle_new_quarter(
    cp: &ChainParams,
    llmq_type: u8,
    cycle_height: u32,
    lists: &dyn ListSource,
) -> Result<NewQuarter, Requirements> {
    let Some(p) = cp.llmq_params(llmq_type) else {
        return Ok(NewQuarter::default());
    };
    let req = requirements(cp, llmq_type, cycle_height);
    let gap = missing(&req, lists);
    if !gap.list_heights.is_empty() || !gap.snapshot_heights.is_empty() {
        return Err(gap);
    }
    Ok(build_cycle(cp, llmq_type, cycle_height, p, lists).1)
}
