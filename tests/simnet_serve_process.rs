//! `dash-qrsync simnet serve` as a separate process: a Rust client in this process syncs it over
//! loopback with only what the server printed (network, address, port), follows the blocks it
//! keeps mining and verifies their ChainLocks. Bounded in time; the child is killed at the end.
#![cfg(feature = "simnet")]

use dash_qrsync::network::Network;
use dash_qrsync::store::MemoryStore;
use dash_qrsync::{ChainLockEvent, Client, ClientError, Config, EventListener, SyncState};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Seen {
    synced: bool,
    chainlocks: Vec<u32>,
    fatal: Vec<String>,
}

#[derive(Default)]
struct Listener {
    seen: Mutex<Seen>,
    cv: Condvar,
}

impl EventListener for Listener {
    fn on_progress(&self, _: &dash_qrsync::Progress) {}
    fn on_quorum_available(&self, _: &dash_qrsync::engine::QuorumInfo) {}
    fn on_chain_lock(&self, c: &ChainLockEvent) {
        self.seen.lock().unwrap().chainlocks.push(c.height);
        self.cv.notify_all();
    }
    fn on_state(&self, s: SyncState) {
        if s == SyncState::Synced {
            self.seen.lock().unwrap().synced = true;
        }
        self.cv.notify_all();
    }
    fn on_error(&self, e: &ClientError) {
        if !e.recoverable {
            self.seen.lock().unwrap().fatal.push(e.message.clone());
        }
        self.cv.notify_all();
    }
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_client_in_another_process_syncs_and_follows_simnet_serve() {
    let conf = std::env::temp_dir().join(format!("dqs-simnet-{}.conf", std::process::id()));
    let mut child = Server(
        Command::new(env!("CARGO_BIN_EXE_dash-qrsync"))
            .args([
                "simnet",
                "serve",
                "--block-interval",
                "1",
                "--duration",
                "120",
            ])
            .arg("--dash-conf-out")
            .arg(&conf)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts"),
    );
    // Read what a client must be configured with, up to "listening on".
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut network, mut ip, mut port) = (None, None, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its configuration");
        if let Some(v) = line.strip_prefix("network: ") {
            network = Some(v.parse::<Network>().expect("a network name"));
        } else if let Some(v) = line.strip_prefix("address: ") {
            ip = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("port: ") {
            port = Some(v.parse::<u16>().expect("a port"));
        } else if line.starts_with("listening on ") {
            break;
        }
    }
    let network = network.expect("network printed");
    let addr: SocketAddr = format!(
        "{}:{}",
        ip.expect("address printed"),
        port.expect("port printed")
    )
    .parse()
    .unwrap();
    assert!(
        addr.ip().is_loopback(),
        "serves on loopback by default: {addr}"
    );
    assert_eq!(network, Network::Regtest);
    let conf_text = std::fs::read_to_string(&conf).expect("--dash-conf-out written");
    let _ = std::fs::remove_file(&conf);
    assert!(conf_text.contains("regtest=1\n"), "{conf_text}");
    assert!(
        conf_text.contains(&format!("connect={addr}\n")),
        "{conf_text}"
    );
    assert!(
        !conf_text.contains("llmqchainlocks"),
        "regtest's roles are Core's defaults, and llmqchainlocks is devnet-only: {conf_text}"
    );
    // Keep draining the server's output so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in rx {});

    // The client is configured from the printed dash.conf alone (plus the peer it names).
    let mut config = Config::from_dash_conf(&conf_text).expect("the printed dash.conf reads back");
    assert_eq!(config.network(), network);
    config.peers = vec![addr];
    config.max_peers = 1;
    config.follow_tip = true;
    let listener = Arc::new(Listener::default());
    let client = Client::new(config, Arc::new(MemoryStore::new()), listener.clone()).unwrap();
    client.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut seen = listener.seen.lock().unwrap();
    while !seen.synced && seen.fatal.is_empty() && Instant::now() < deadline {
        seen = listener
            .cv
            .wait_timeout(seen, Duration::from_millis(200))
            .unwrap()
            .0;
    }
    assert!(seen.fatal.is_empty(), "fatal errors: {:?}", seen.fatal);
    assert!(seen.synced, "not synced within 180 s");
    let synced_height = client.status().header_height;
    assert!(synced_height >= 480, "synced to {synced_height}");
    // The server mines a ChainLocked block every second: the client follows and verifies them.
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.chainlocks.iter().all(|h| *h <= synced_height) && Instant::now() < deadline {
        seen = listener
            .cv
            .wait_timeout(seen, Duration::from_millis(200))
            .unwrap()
            .0;
    }
    let followed = seen.chainlocks.iter().copied().max().unwrap_or(0);
    drop(seen);
    client.stop();
    assert!(
        followed > synced_height,
        "no ChainLock above {synced_height} followed"
    );
    assert!(client.status().header_height > synced_height);
    // End of input stops the server by itself (before the Drop guard would kill it).
    drop(child.0.stdin.take());
    let stop_deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < stop_deadline {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(status.success(), "server exit status {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not stop at end of input");
}
