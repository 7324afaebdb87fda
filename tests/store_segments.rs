//! The segmented state layout (`docs/STORAGE.md`): what a save writes (full segments once, then
//! only the slot and the head), that no save hands the store the whole chain, migration from the
//! single blob earlier builds wrote, garbage collection after a reorg below a segment boundary,
//! and crash safety at every store call of every kind of save.
//!
//! Regtest headers mined here (the first nonce under regtest's limit); regtest segments are 128
//! headers long (`state::segment_len`).

use dash_qrsync::chain::{pow, HeaderChain, HeaderIndex};
use dash_qrsync::engine::{Engine, EngineConfig};
use dash_qrsync::hashes::{sha256d, Hash256};
use dash_qrsync::store::state::{
    self, is_library_key, load, save_state, segment_len, Snapshot, StateError, HEAD, SLOT_A, SLOT_B,
};
use dash_qrsync::store::{MemoryStore, Store, StoreError};
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::Network;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const NET: Network = Network::Regtest;
const S: u32 = 128;
const HOST_KEY: &str = "host.own.key";

fn cfg() -> EngineConfig {
    EngineConfig::for_network(NET)
}

fn mine(prev: &BlockHeader, tag: u8) -> BlockHeader {
    let mut h = BlockHeader {
        version: 0x2000_0000,
        prev_block_hash: prev.block_hash(),
        merkle_root: Hash256([tag; 32]),
        time: prev.time + 150,
        bits: prev.bits,
        nonce: 0,
    };
    while pow::check_proof_of_work(&h.block_hash(), h.bits, NET).is_err() {
        h.nonce += 1;
    }
    h
}

/// Extends the active chain by `n` headers.
fn grow(c: &mut HeaderChain, n: usize, tag: u8) {
    let mut prev = *c.tip_header();
    let mut batch = Vec::with_capacity(n);
    for _ in 0..n {
        let h = mine(&prev, tag);
        batch.push(h);
        prev = h;
    }
    let out = c.connect(&batch).unwrap();
    assert_eq!(out.new_headers, n);
}

/// A regtest chain from genesis holding `len` headers.
fn chain(len: usize) -> HeaderChain {
    let mut c = HeaderChain::from_genesis(NET);
    grow(&mut c, len - 1, 1);
    c
}

/// Forks `c` at `height` with `n` headers (more work than the active branch when longer).
fn fork(c: &mut HeaderChain, height: u32, n: usize, tag: u8) {
    let mut prev = *c.header_at(height).unwrap();
    let mut batch = Vec::new();
    for _ in 0..n {
        let h = mine(&prev, tag);
        batch.push(h);
        prev = h;
    }
    c.connect(&batch).unwrap();
    assert_eq!(c.tip().1, prev.block_hash(), "the fork is active");
}

/// The key of segment `index` of `c` (`dqs.hdr.<index>.<16 hex of its last block hash>`),
/// derived here from the format's description, not the library's code.
fn segment_key(c: &HeaderChain, index: u32) -> String {
    let last = c.hash_at(c.anchor_height() + (index + 1) * S - 1).unwrap();
    format!("dqs.hdr.{index}.{}", &hex::encode(last.0)[..16])
}

fn segment_keys(c: &HeaderChain) -> BTreeSet<String> {
    (0..(c.len() as u32 / S))
        .map(|i| segment_key(c, i))
        .collect()
}

fn stored_segment_keys(store: &MemoryStore) -> BTreeSet<String> {
    store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("dqs.hdr."))
        .collect()
}

/// Counts what reaches the store.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    saves: Mutex<Vec<(String, usize)>>,
    removes: AtomicUsize,
}

impl Store for Counting {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.load(key)
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.saves
            .lock()
            .unwrap()
            .push((key.to_string(), value.len()));
        self.inner.save(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.removes.fetch_add(1, Ordering::SeqCst);
        self.inner.remove(key)
    }
}

impl Counting {
    fn take(&self) -> Vec<(String, usize)> {
        std::mem::take(&mut *self.saves.lock().unwrap())
    }
}

fn save(store: &dyn Store, c: &HeaderChain, e: &Engine) -> Result<state::SaveReport, StoreError> {
    save_state(
        store,
        &Snapshot {
            headers: c,
            engine: e,
        },
    )
}

fn assert_same_chain(a: &HeaderChain, b: &HeaderChain) {
    assert_eq!(a.anchor_height(), b.anchor_height());
    assert_eq!(a.len(), b.len());
    assert_eq!(a.tip(), b.tip());
    for h in a.anchor_height()..=a.tip().0 {
        assert_eq!(a.header_at(h), b.header_at(h), "height {h}");
    }
}

#[test]
fn segments_are_written_once_then_a_save_writes_the_slot_and_the_head() {
    assert_eq!(segment_len(NET), S);
    assert_eq!(segment_len(Network::Mainnet), 8192);
    let e = Engine::new(cfg());
    let mut c = chain(5 * S as usize + 10);
    let store = Counting::default();
    store.inner.save(HOST_KEY, b"mine").unwrap();

    // First save: the five full segments, the slot, the head.
    save(&store, &c, &e).unwrap();
    let first = store.take();
    let keys: Vec<&str> = first.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected: Vec<String> = (0..5).map(|i| segment_key(&c, i)).collect();
    expected.extend([SLOT_A.to_string(), HEAD.to_string()]);
    assert_eq!(keys, expected);
    for (k, len) in &first[..5] {
        // Envelope (7 + 32), first height and count, 128 headers.
        assert_eq!(*len, 39 + 8 + S as usize * 80, "{k}");
    }
    let whole_chain = c.len() * 80;
    assert!(
        first.iter().all(|(_, len)| *len < whole_chain / 4),
        "a save handed the store a blob of a quarter of the chain or more: {first:?}"
    );

    // One more header: only the slot (10 + 1 partial headers) and the head.
    grow(&mut c, 1, 1);
    save(&store, &c, &e).unwrap();
    let tip = store.take();
    assert_eq!(
        tip.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        [SLOT_B, HEAD]
    );
    let slot_len = tip[0].1;
    assert!(
        slot_len < 11 * 80 + 5 * 37 + 200 + e.to_bytes().len(),
        "{slot_len}"
    );
    let single_blob = state::encode(&c, &e).len();
    eprintln!(
        "regtest, {} headers: a save at the tip writes {} bytes (slot {slot_len}, head {}); \
         the single blob would be {single_blob}",
        c.len(),
        tip.iter().map(|(_, l)| l).sum::<usize>(),
        tip[1].1
    );

    // Filling the partial segment: exactly one new segment, once.
    grow(&mut c, (S - 11) as usize, 1);
    assert_eq!(c.len() as u32, 6 * S);
    save(&store, &c, &e).unwrap();
    assert_eq!(
        store
            .take()
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>(),
        [segment_key(&c, 5), SLOT_A.to_string(), HEAD.to_string()]
    );
    save(&store, &c, &e).unwrap();
    assert_eq!(store.take().len(), 2);
    assert_eq!(store.removes.load(Ordering::SeqCst), 0, "nothing to remove");

    // The store holds the fixed keys, the six segments and the host's key, nothing else.
    let all: BTreeSet<String> = store.inner.keys().into_iter().collect();
    let mut want = segment_keys(&c);
    want.extend([SLOT_A, SLOT_B, HEAD, HOST_KEY].map(String::from));
    assert_eq!(all, want);
    assert!(all
        .iter()
        .filter(|k| *k != HOST_KEY)
        .all(|k| is_library_key(k)));
    assert!(!is_library_key(HOST_KEY) && !is_library_key("dqs.hdr.1.xyz"));

    let (back, warning) = load(&store, &cfg()).unwrap();
    assert_eq!(warning, None);
    assert_same_chain(&back.headers, &c);
    assert_eq!(
        store.inner.load(HOST_KEY).unwrap().as_deref(),
        Some(&b"mine"[..])
    );
}

/// A reorg below a segment boundary writes the replaced segment under a new key; the old key is
/// removed once neither kept generation references it.
#[test]
fn a_reorg_below_a_boundary_writes_a_new_segment_and_the_old_one_is_collected() {
    let e = Engine::new(cfg());
    let mut c = chain(3 * S as usize + 6);
    let store = MemoryStore::new();
    save(&store, &c, &e).unwrap();
    let before = segment_keys(&c);
    assert_eq!(stored_segment_keys(&store), before);
    // Fork three headers below the end of segment 2, longer than the active branch.
    fork(&mut c, 3 * S - 4, 20, 9);
    let after = segment_keys(&c);
    let replaced: Vec<_> = before.difference(&after).cloned().collect();
    assert_eq!(replaced, [segment_key_of(&before, 2)]);
    let r = save(&store, &c, &e).unwrap();
    assert_eq!(r.segments_written, 1);
    // Both generations are kept, so both segment 2s are.
    assert_eq!(
        stored_segment_keys(&store),
        before.union(&after).cloned().collect()
    );
    let (back, _) = load(&store, &cfg()).unwrap();
    assert_same_chain(&back.headers, &c);
    // The next save overwrites the generation that held the old segment 2: it is removed.
    grow(&mut c, 1, 9);
    let r = save(&store, &c, &e).unwrap();
    assert_eq!((r.segments_written, r.removed), (0, 1));
    assert_eq!(stored_segment_keys(&store), after);
    let (back, _) = load(&store, &cfg()).unwrap();
    assert_same_chain(&back.headers, &c);
}

fn segment_key_of(keys: &BTreeSet<String>, index: u32) -> String {
    keys.iter()
        .find(|k| k.starts_with(&format!("dqs.hdr.{index}.")))
        .unwrap()
        .clone()
}

/// The 49-byte head earlier builds wrote, from its documented layout: `"DQSH"`, slot byte, u64
/// generation, the slot blob's last 32 bytes, the first 4 bytes of the SHA256d of all that.
fn old_head(slot: u8, generation: u64, blob: &[u8]) -> Vec<u8> {
    let mut b = b"DQSH".to_vec();
    b.push(slot);
    b.extend_from_slice(&generation.to_le_bytes());
    b.extend_from_slice(&blob[blob.len() - 32..]);
    let sum = sha256d(&b);
    b.extend_from_slice(&sum.0[..4]);
    b
}

/// A state saved as one blob by an earlier build (the single-blob encoder, kept) loads; the next
/// save writes the segmented layout beside it without touching it; both load.
#[test]
fn a_single_blob_state_migrates_on_the_next_save() {
    let e = Engine::new(cfg());
    let mut c = chain(4 * S as usize + 3);
    let old = state::encode(&c, &e);
    assert_eq!(&old[..4], b"DQSC");
    let store = MemoryStore::new();
    store.save(HOST_KEY, b"mine").unwrap();
    store.save(SLOT_A, &old).unwrap();
    store.save(HEAD, &old_head(b'a', 7, &old)).unwrap();
    let (s, w) = load(&store, &cfg()).unwrap();
    assert_eq!(w, None);
    assert_same_chain(&s.headers, &c);
    grow(&mut c, 2, 1);
    save(&store, &c, &e).unwrap();
    assert_eq!(
        store.load(SLOT_A).unwrap().unwrap(),
        old,
        "the old generation kept"
    );
    assert_eq!(&store.load(SLOT_B).unwrap().unwrap()[..4], b"DQSS");
    assert_eq!(stored_segment_keys(&store), segment_keys(&c));
    let (s, w) = load(&store, &cfg()).unwrap();
    assert_eq!(w, None);
    assert_same_chain(&s.headers, &c);
    // The old generation still loads on its own (the head lost).
    store.remove(HEAD).unwrap();
    store.remove(SLOT_B).unwrap();
    let (s, w) = load(&store, &cfg()).unwrap();
    assert_eq!(s.headers.len(), 4 * S as usize + 3);
    assert!(w.is_none() || matches!(w, Some(StateError::Corrupt(_))));
    // The next save overwrites the single blob: afterwards only segmented generations.
    save(&store, &c, &e).unwrap();
    save(&store, &c, &e).unwrap();
    for slot in [SLOT_A, SLOT_B] {
        assert_eq!(&store.load(slot).unwrap().unwrap()[..4], b"DQSS");
    }
    assert_eq!(store.load(HOST_KEY).unwrap().as_deref(), Some(&b"mine"[..]));
}

/// How a store misbehaves from its `at`-th call on (every kind of call counts, 1-based).
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The process dies during call `at`: it and every later call do nothing.
    Crash,
    /// Call `at` (a save) writes only the first half of its bytes, then the process dies.
    TornThenCrash,
    /// Call `at` fails; the store works again afterwards.
    FailOnce,
}

struct Faulty {
    inner: MemoryStore,
    calls: AtomicUsize,
    at: usize,
    fault: Fault,
}

impl Faulty {
    fn call(&self) -> Result<bool, StoreError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        match self.fault {
            Fault::Crash if n >= self.at => Err(StoreError("crashed".into())),
            Fault::TornThenCrash if n > self.at => Err(StoreError("crashed".into())),
            Fault::TornThenCrash if n == self.at => Ok(true),
            Fault::FailOnce if n == self.at => Err(StoreError("failed once".into())),
            _ => Ok(false),
        }
    }
}

impl Store for Faulty {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.call()? {
            return Err(StoreError("crashed".into()));
        }
        self.inner.load(key)
    }
    fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if self.call()? {
            self.inner.save(key, &value[..value.len() / 2])?;
            return Err(StoreError("crashed".into()));
        }
        self.inner.save(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        if self.call()? {
            return Err(StoreError("crashed".into()));
        }
        self.inner.remove(key)
    }
}

fn copy(store: &MemoryStore) -> MemoryStore {
    let out = MemoryStore::new();
    for k in store.keys() {
        out.save(&k, &store.load(&k).unwrap().unwrap()).unwrap();
    }
    out
}

/// One step of a store's life: the store before, the chain the save writes, and the chains
/// the store may hold afterwards (what it held before, or the new one).
struct Step {
    name: &'static str,
    before: MemoryStore,
    old_tip: Option<(u32, Hash256)>,
    new: HeaderChain,
}

/// Every kind of save, each interrupted at every store call it makes (crash, torn write then
/// crash, one failed call): afterwards a generation loads, the one the head named before or the
/// new one, the host's key is untouched, and only library keys exist. After a failed call, the
/// next save succeeds and every segment key left is referenced by a kept generation.
#[test]
fn a_save_interrupted_at_any_store_call_leaves_a_loadable_generation() {
    let e = Engine::new(cfg());
    let mut steps = Vec::new();

    // 1. A first save into an empty store.
    let empty = MemoryStore::new();
    empty.save(HOST_KEY, b"mine").unwrap();
    let mut c = chain(3 * S as usize + 5);
    steps.push(Step {
        name: "first save",
        before: copy(&empty),
        old_tip: None,
        new: c.clone(),
    });

    // 2. Migration: a single blob saved by an earlier build, then a longer chain.
    let old = MemoryStore::new();
    old.save(HOST_KEY, b"mine").unwrap();
    let blob = state::encode(&c, &e);
    old.save(SLOT_B, &blob).unwrap();
    old.save(HEAD, &old_head(b'b', 3, &blob)).unwrap();
    let mut longer = c.clone();
    grow(&mut longer, S as usize, 1);
    steps.push(Step {
        name: "migration",
        before: old,
        old_tip: Some(c.tip()),
        new: longer,
    });

    // 3. Two generations, then one more header (only slot and head).
    let two = copy(&empty);
    save(&two, &c, &e).unwrap();
    let t1 = c.tip();
    grow(&mut c, 1, 1);
    save(&two, &c, &e).unwrap();
    let t2 = c.tip();
    assert_ne!(t1, t2);
    let mut tip = c.clone();
    grow(&mut tip, 1, 1);
    steps.push(Step {
        name: "at the tip",
        before: copy(&two),
        old_tip: Some(t2),
        new: tip,
    });

    // 4. Crossing a segment boundary.
    let mut cross = c.clone();
    grow(&mut cross, S as usize, 1);
    steps.push(Step {
        name: "new segment",
        before: copy(&two),
        old_tip: Some(t2),
        new: cross,
    });

    // 5. A reorg below a boundary, after a save that referenced the replaced segment, so the
    //    save both writes a replacement and removes what the overwritten generation held.
    let mut forked = c.clone();
    fork(&mut forked, 3 * S - 3, 12, 7);
    let with_fork = copy(&two);
    save(&with_fork, &forked, &e).unwrap();
    let t3 = forked.tip();
    let mut back = forked.clone();
    grow(&mut back, 1, 7);
    steps.push(Step {
        name: "after a reorg (removes)",
        before: with_fork,
        old_tip: Some(t3),
        new: back,
    });

    for step in &steps {
        // The calls a successful save makes.
        let probe = Faulty {
            inner: copy(&step.before),
            calls: AtomicUsize::new(0),
            at: usize::MAX,
            fault: Fault::FailOnce,
        };
        save(&probe, &step.new, &e).unwrap();
        let calls = probe.calls.load(Ordering::SeqCst);
        assert!(calls >= 3, "{}: {calls}", step.name);
        for at in 1..=calls {
            for fault in [Fault::Crash, Fault::TornThenCrash, Fault::FailOnce] {
                let what = format!("{}: {fault:?} at call {at} of {calls}", step.name);
                let store = Faulty {
                    inner: copy(&step.before),
                    calls: AtomicUsize::new(0),
                    at,
                    fault,
                };
                match save(&store, &step.new, &e) {
                    Err(_) => {}
                    // A failed removal does not fail the save: the key is left over, listed in
                    // the head for the next save to remove (checked below).
                    Ok(r) => assert!(
                        matches!(fault, Fault::FailOnce) && r.left_over == 1,
                        "{what}: no error ({r:?})"
                    ),
                }
                let inner = &store.inner;
                assert_eq!(
                    inner.load(HOST_KEY).unwrap().as_deref(),
                    Some(&b"mine"[..]),
                    "{what}"
                );
                assert!(
                    inner
                        .keys()
                        .iter()
                        .all(|k| k == HOST_KEY || is_library_key(k)),
                    "{what}: {:?}",
                    inner.keys()
                );
                match (load(inner, &cfg()), step.old_tip) {
                    (Ok((s, _)), Some(old)) => assert!(
                        s.headers.tip() == old || s.headers.tip() == step.new.tip(),
                        "{what}: loaded {:?}",
                        s.headers.tip()
                    ),
                    (Ok((s, _)), None) => assert_eq!(s.headers.tip(), step.new.tip(), "{what}"),
                    // Nothing was saved before: nothing, or an unusable torn slot, is fine.
                    (Err(_), None) => {}
                    (Err(err), _) => panic!("{what}: nothing loads: {err}"),
                }
                if let Fault::FailOnce = fault {
                    // The store works again: the next save succeeds and loads, and after one
                    // more, every segment left belongs to one of the two kept generations.
                    save(inner, &step.new, &e).unwrap();
                    let (s, w) = load(inner, &cfg()).unwrap();
                    assert_eq!(w, None, "{what}");
                    assert_same_chain(&s.headers, &step.new);
                    save(inner, &step.new, &e).unwrap();
                    assert_eq!(
                        stored_segment_keys(inner),
                        segment_keys(&step.new),
                        "{what}: segments left over"
                    );
                }
            }
        }
    }
}

/// What loading checks in a segmented state: a missing, corrupt or substituted segment makes
/// its generation unusable (named), and the other generation loads instead.
#[test]
fn a_missing_corrupt_or_substituted_segment_falls_back_to_the_other_generation() {
    let e = Engine::new(cfg());
    let mut c = chain(3 * S as usize + 2);
    let store = MemoryStore::new();
    save(&store, &c, &e).unwrap();
    let old_tip = c.tip();
    // The newer generation has one more segment of its own.
    grow(&mut c, S as usize, 1);
    save(&store, &c, &e).unwrap();
    let own = segment_key(&c, 3);
    let blob = store.load(&own).unwrap().unwrap();
    // A segment from another chain at the same position, in a valid envelope.
    let mut other = c.clone();
    fork(&mut other, 3 * S - 1, S as usize + 5, 5);
    let foreign = {
        let s = MemoryStore::new();
        save(&s, &other, &e).unwrap();
        s.load(&segment_key(&other, 3)).unwrap().unwrap()
    };
    let mut flipped = blob.clone();
    flipped[100] ^= 1;
    let mut resealed = flipped.clone();
    let n = resealed.len() - 32;
    let sum = sha256d(&resealed[..n]);
    resealed[n..].copy_from_slice(&sum.0);
    let cases: Vec<(&str, Option<Vec<u8>>, &str)> = vec![
        ("missing", None, "missing from the store"),
        ("bit flip", Some(flipped), "checksum"),
        ("bit flip, resealed", Some(resealed), &own),
        ("another chain's segment", Some(foreign), &own),
        (
            "truncated",
            Some(blob[..blob.len() / 2].to_vec()),
            "checksum",
        ),
    ];
    for (name, bad, what) in cases {
        let s = copy(&store);
        match bad {
            Some(b) => s.save(&own, &b).unwrap(),
            None => s.remove(&own).unwrap(),
        }
        let (loaded, warning) = load(&s, &cfg()).unwrap();
        assert_eq!(loaded.headers.tip(), old_tip, "{name}");
        let w = warning.expect("reported").to_string();
        assert!(w.contains(what), "{name}: {w}");
    }
}

/// The head names a slot that does not hold its generation (here the slots were swapped by the
/// host): loading finds the generation in the other slot; the next save rewrites the named slot
/// and keeps the one that loaded, writing its segments again rather than trusting them.
#[test]
fn a_save_after_swapped_slots_keeps_the_generation_that_loaded() {
    let e = Engine::new(cfg());
    let mut c = chain(2 * S as usize + 3);
    let store = MemoryStore::new();
    save(&store, &c, &e).unwrap(); // a
    grow(&mut c, S as usize, 1);
    save(&store, &c, &e).unwrap(); // b, named
    let newest = c.tip();
    let (a, b) = (
        store.load(SLOT_A).unwrap().unwrap(),
        store.load(SLOT_B).unwrap().unwrap(),
    );
    store.save(SLOT_A, &b).unwrap();
    store.save(SLOT_B, &a).unwrap();
    let (s, w) = load(&store, &cfg()).unwrap();
    assert_eq!(s.headers.tip(), newest);
    assert!(w.unwrap().to_string().contains("swapped"));
    grow(&mut c, 1, 1);
    let counting = Counting::default();
    for k in store.keys() {
        counting
            .inner
            .save(&k, &store.load(&k).unwrap().unwrap())
            .unwrap();
    }
    let r = save(&counting, &c, &e).unwrap();
    assert_eq!(
        r.segments_written, 3,
        "the kept generation's segments are not trusted"
    );
    assert_eq!(
        counting.inner.load(SLOT_A).unwrap().unwrap(),
        b,
        "the slot that loaded is kept"
    );
    let (s, w) = load(&counting.inner, &cfg()).unwrap();
    assert_eq!(w, None);
    assert_same_chain(&s.headers, &c);
    // Overwritten by the save after: the kept one still loads if the new one is lost.
    counting.inner.remove(SLOT_B).unwrap();
    let (s, _) = load(&counting.inner, &cfg()).unwrap();
    assert_eq!(s.headers.tip(), newest);
}

/// A store that silently keeps half of one write (and says it saved it all): a segment so
/// damaged is caught when read back, the save fails and the next one writes it again, so the
/// damage never spreads to both generations; the saves after always leave one that loads.
#[test]
fn a_store_that_silently_truncates_a_write_never_costs_both_generations() {
    struct Lying {
        inner: MemoryStore,
        saves: AtomicUsize,
        at: usize,
    }
    impl Store for Lying {
        fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.load(key)
        }
        fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
            let n = self.saves.fetch_add(1, Ordering::SeqCst) + 1;
            let keep = if n == self.at {
                value.len() / 2
            } else {
                value.len()
            };
            self.inner.save(key, &value[..keep])
        }
        fn remove(&self, key: &str) -> Result<(), StoreError> {
            self.inner.remove(key)
        }
    }
    let e = Engine::new(cfg());
    let c0 = chain(2 * S as usize + 3);
    let mut c1 = c0.clone();
    grow(&mut c1, 2 * S as usize, 1);
    let mut c2 = c1.clone();
    grow(&mut c2, 1, 1);
    let mut c3 = c2.clone();
    grow(&mut c3, 1, 1);
    // The first save writes 2 segments, slot, head; the second 2 segments, slot, head.
    for at in 1..=8 {
        let store = Lying {
            inner: MemoryStore::new(),
            saves: AtomicUsize::new(0),
            at,
        };
        let _ = save(&store, &c0, &e);
        let _ = save(&store, &c1, &e);
        let _ = save(&store, &c2, &e);
        let _ = save(&store, &c3, &e);
        let (s, _) = load(&store.inner, &cfg())
            .unwrap_or_else(|err| panic!("write {at} kept half: nothing loads: {err}"));
        assert!(
            [c2.tip(), c3.tip()].contains(&s.headers.tip()),
            "write {at}: {:?}",
            s.headers.tip()
        );
    }
}
