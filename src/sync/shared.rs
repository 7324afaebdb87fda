//! The state shared by the client handle, the sync task and event delivery.

use super::*;

/// The pure state the sync drives.
#[derive(Debug)]
pub struct SyncData {
    /// Validated header chain.
    pub headers: HeaderChain,
    /// The masternode-list engine.
    pub engine: Engine,
}

/// State shared between the client handle, the sync task and event delivery.
pub struct Shared {
    /// Configuration.
    pub config: Config,
    pub(super) store: Arc<crate::store::GatedStore>,
    pub(super) events: EventSink,
    pub(super) data: Mutex<SyncData>,
    pub(super) state: Mutex<SyncState>,
    /// The state, for waiters ([`Shared::watch_state`]).
    state_watch: tokio::sync::watch::Sender<SyncState>,
    pub(super) stop_flag: AtomicBool,
    pub(super) stop_notify: Notify,
    /// Network counters.
    pub counters: Arc<NetCounters>,
    pub(super) peers: AtomicU32,
    pub(super) target: AtomicU32,
    pub(super) reported: Mutex<HashSet<QuorumKey>>,
    /// The SML root of the tip list last reported as "masternodes changed".
    pub(super) reported_sml_root: Mutex<Option<Hash256>>,
    pub(super) started: Mutex<Option<Instant>>,
    pub(super) list_phase: Mutex<Option<PhaseMark>>,
    /// Requests peers silently declined at the current tip (not asked again until it moves).
    pub(super) declined: Mutex<super::declined::Declined>,
    /// Headers fetched below the anchor: start hashes given up, what was reported.
    pub(super) history: Mutex<super::headers::History>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Fresh state for a client.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        listener: Arc<dyn EventListener>,
    ) -> Arc<Shared> {
        let headers = config.initial_header_chain();
        let engine = Engine::new(EngineConfig {
            params: config.chain.clone(),
            profile: config.profile,
        });
        Arc::new(Shared {
            config,
            // Serialised: a stopped client's last save never overlaps a restarted one's load;
            // closed when the client is dropped (`Shared::close_store`).
            store: Arc::new(crate::store::GatedStore::new(store)),
            events: EventSink::new(listener),
            data: Mutex::new(SyncData { headers, engine }),
            state: Mutex::new(SyncState::Idle),
            state_watch: tokio::sync::watch::Sender::new(SyncState::Idle),
            stop_flag: AtomicBool::new(false),
            stop_notify: Notify::new(),
            counters: Arc::default(),
            peers: AtomicU32::new(0),
            target: AtomicU32::new(0),
            reported: Mutex::default(),
            reported_sml_root: Mutex::default(),
            started: Mutex::default(),
            list_phase: Mutex::default(),
            declined: Mutex::default(),
            history: Mutex::default(),
        })
    }

    /// A receiver of every state change (for [`crate::Client::wait_for_state`]).
    pub fn watch_state(&self) -> tokio::sync::watch::Receiver<SyncState> {
        self.state_watch.subscribe()
    }

    /// Closes the host's store for good: no call begins from now on, and this returns once a
    /// call in progress has (the client is being dropped; the host may free its store next).
    pub fn close_store(&self) {
        self.store.close();
    }

    /// Asks the sync task to end.
    pub fn request_stop(&self) {
        self.stop_flag.store(true, Ordering::SeqCst);
        self.stop_notify.notify_waiters();
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop_flag.load(Ordering::SeqCst)
    }

    /// Sets and reports the state.
    pub fn set_state(&self, s: SyncState) {
        let changed = {
            let mut cur = self.state.lock().unwrap_or_else(|e| e.into_inner());
            // After a stop request only `Stopped` may be set: a sync task still finishing a
            // step (e.g. when `stop` was called from inside the host's store) must not report
            // `Synced` afterwards.
            if self.stopping() && s != SyncState::Stopped {
                return;
            }
            let changed = *cur != s;
            *cur = s;
            self.state_watch.send_replace(s);
            changed
        };
        if changed {
            self.events.emit(Event::State(s));
        }
    }

    pub(super) fn state(&self) -> SyncState {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the pure state.
    pub fn with_state<T>(&self, f: impl FnOnce(&SyncData) -> T) -> T {
        f(&self.data.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(super) fn with_state_mut<T>(&self, f: impl FnOnce(&mut SyncData) -> T) -> T {
        f(&mut self.data.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The counters at the start of the first masternode-list phase (for the benchmark).
    pub fn list_phase(&self) -> Option<PhaseMark> {
        *self.list_phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn mark_list_phase(&self) {
        let mut m = self.list_phase.lock().unwrap_or_else(|e| e.into_inner());
        if m.is_none() {
            *m = Some(PhaseMark {
                at: Instant::now(),
                round_trips: self.counters.round_trips.load(Ordering::Relaxed),
                dependent_round_trips: self.counters.dependent_round_trips.load(Ordering::Relaxed),
                bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            });
        }
    }

    /// Ends event delivery (on drop of the client).
    pub fn close_events(&self) {
        self.events.close();
    }

    pub(super) fn error(&self, kind: ErrorKind, message: impl Into<String>, recoverable: bool) {
        let e = ClientError::new(kind, message, recoverable);
        tracing::warn!(kind = ?e.kind, "{}", e.message);
        self.events.emit(Event::Error(e));
    }

    /// Status snapshot.
    pub fn status(&self) -> Status {
        let (header_height, list_height, quorums) = self.with_state(|s| {
            (
                s.headers.tip().0,
                s.engine.tip_list().map(|l| l.height),
                s.engine.validated_count() as u32,
            )
        });
        Status {
            state: self.state(),
            header_height,
            list_height,
            quorums_validated: quorums,
            peers: self.peers.load(Ordering::Relaxed),
            bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
            round_trips: self.counters.round_trips.load(Ordering::Relaxed),
            dependent_round_trips: self.counters.dependent_round_trips.load(Ordering::Relaxed),
        }
    }

    pub(super) fn progress(&self) {
        let (h, held, missing, validated, unvalidated) = self.with_state(|s| {
            let m = s.engine.missing(&s.headers);
            (
                s.headers.tip().0,
                s.engine.held_lists().len() as u32,
                (m.list_heights.len() + m.snapshot_heights.len()) as u32,
                s.engine.validated_count() as u32,
                m.unvalidated_quorums as u32,
            )
        });
        let target = self.target.load(Ordering::Relaxed).max(h);
        let state = self.state();
        let header_part = if target == 0 {
            1.0
        } else {
            h as f32 / target as f32
        };
        let list_part = if validated + unvalidated == 0 {
            0.0
        } else {
            validated as f32 / (validated + unvalidated) as f32
        };
        let percent = match state {
            SyncState::Synced => 100.0,
            SyncState::Headers | SyncState::Connecting | SyncState::Idle => 50.0 * header_part,
            _ => 50.0 + 50.0 * list_part,
        };
        let elapsed = self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|t| t.elapsed().as_secs_f64());
        let eta = elapsed
            .filter(|_| percent > 1.0 && percent < 100.0)
            .map(|e| e * (100.0 - percent as f64) / percent as f64);
        self.events.emit(Event::Progress(Progress {
            state,
            header_height: h,
            target_height: target,
            lists_held: held,
            lists_missing: missing,
            quorums_validated: validated,
            percent,
            requests_in_flight: self.counters.in_flight.load(Ordering::Relaxed) as u32,
            bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
            eta_seconds: eta,
        }));
    }

    /// Reports quorums not reported yet, whether the tip list's entries changed, then progress:
    /// called once per list or qrinfo applied (and after a restore), so that progress moves with
    /// each answer rather than once per wave.
    pub(super) fn report_quorums(&self, validated: &[crate::engine::QuorumInfo]) {
        {
            let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
            for q in validated {
                if reported.insert((q.llmq_type, q.quorum_hash)) {
                    self.events.emit(Event::Quorum(q.clone()));
                }
            }
        }
        self.report_masternodes();
        self.progress();
    }

    /// Emits "masternodes changed" when the tip list's SML root (which commits to every entry)
    /// differs from the one last reported.
    fn report_masternodes(&self) {
        let tip = self.with_state(|s| {
            s.engine.tip_list().map(|l| crate::api::MasternodesChanged {
                height: l.height,
                block_hash: l.block_hash,
                sml_root: l
                    .cbtx
                    .as_ref()
                    .map(|c| c.merkle_root_mn_list)
                    .unwrap_or_else(|| l.sml_root()),
                count: l.entries.len() as u32,
            })
        });
        let Some(change) = tip else { return };
        let mut last = self
            .reported_sml_root
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *last != Some(change.sml_root) {
            *last = Some(change.sml_root);
            self.events.emit(Event::Masternodes(change));
        }
    }
}
