//! The envelope on its own: layout, round trips and every error. The old-layout fixtures are
//! in `src/store/state.rs`.

use super::*;

const ALL_ERRORS_KIND: BlobKind = BlobKind::Engine;

fn fp(b: u8) -> Hash256 {
    Hash256([b; 32])
}

fn envelope(kind: BlobKind, network: Network) -> Envelope {
    match kind {
        BlobKind::HeaderChain => Envelope::header_chain(network),
        BlobKind::Engine => Envelope::engine(network, fp(0xab)),
        BlobKind::State => Envelope::state(network),
        BlobKind::SegmentedState => Envelope::segmented_state(network),
        BlobKind::HeaderSegment => Envelope::header_segment(network),
    }
}

#[test]
fn network_byte_round_trips_for_every_network() {
    // The bytes every blob written so far holds (main at ae38dcc wrote the same mapping in
    // three places).
    let expected = [
        (Network::Mainnet, 0),
        (Network::Testnet, 1),
        (Network::Devnet, 2),
        (Network::Regtest, 3),
    ];
    assert_eq!(expected.len(), Network::ALL.len());
    for (n, b) in expected {
        assert_eq!(network_byte(n), b, "{n}");
        assert_eq!(network_from_byte(b), Some(n));
    }
    for b in 4..=u8::MAX {
        assert_eq!(network_from_byte(b), None, "{b}");
    }
}

#[test]
fn layout_per_kind() {
    // Magic and version as the first three kinds have written them since before this module,
    // and the two kinds of the segmented state (`docs/STORAGE.md`).
    let expected: [(BlobKind, &[u8; 4], u16, usize); 5] = [
        (BlobKind::HeaderChain, b"DQHC", 1, 7),
        (BlobKind::Engine, b"DQSE", 2, 39),
        (BlobKind::State, b"DQSC", 1, 7),
        (BlobKind::SegmentedState, b"DQSS", 1, 7),
        (BlobKind::HeaderSegment, b"DQHS", 1, 7),
    ];
    assert_eq!(expected.len(), BlobKind::ALL.len());
    for (kind, magic, version, header) in expected {
        assert_eq!(BlobKind::from_magic(magic), Some(kind));
        let payload = b"some payload bytes";
        let blob = envelope(kind, Network::Testnet).wrap(payload);
        assert_eq!(&blob[..4], magic);
        // The version field is the library's own storage constant, whatever the P2P
        // protocol version.
        assert_eq!(u16::from_le_bytes([blob[4], blob[5]]), version, "{kind}");
        assert_eq!(kind.version(), version);
        assert_eq!(blob[6], 1, "testnet");
        assert_eq!(kind.header_len(), header);
        if kind.has_fingerprint() {
            assert_eq!(&blob[7..39], &[0xab; 32]);
        }
        assert_eq!(&blob[header..blob.len() - 32], payload);
        assert_eq!(
            blob[blob.len() - 32..],
            sha256d(&blob[..blob.len() - 32]).0,
            "checksum of everything before"
        );
        assert_eq!(blob.len(), kind.min_len() + payload.len());
    }
    assert_eq!(
        BlobKind::from_magic(b"DQSH"),
        None,
        "the head record is not an envelope"
    );
}

#[test]
fn round_trip_per_kind_and_network() {
    for kind in BlobKind::ALL {
        for n in Network::ALL {
            let env = envelope(kind, n);
            for payload in [&b""[..], &b"x"[..], &[7u8; 1000][..]] {
                let mut out = env.begin(payload.len());
                assert_eq!(out.len(), kind.header_len());
                out.extend_from_slice(payload);
                let blob = env.seal(out);
                assert_eq!(blob, env.wrap(payload));
                assert_eq!(env.open(&blob).unwrap(), payload, "{kind} {n}");
            }
        }
    }
}

#[test]
fn storage_does_not_read_the_p2p_protocol_version() {
    // The engine's payload codecs are pinned to the version format 2 was defined with.
    assert_eq!(STORAGE_WIRE_VERSION, 70_237);
    assert_eq!(
        [
            HEADER_CHAIN_FORMAT,
            ENGINE_FORMAT,
            STATE_FORMAT,
            SEGMENTED_STATE_FORMAT,
            HEADER_SEGMENT_FORMAT
        ],
        [1, 2, 1, 1, 1]
    );
    // No storage code (comments aside) refers to the advertised version: a bump of it would
    // otherwise change stored layouts silently.
    let advertised = concat!("OUR_PROTOCOL", "_VERSION");
    for (file, src) in [
        ("src/persist/mod.rs", include_str!("mod.rs")),
        (
            "src/engine/persist.rs",
            include_str!("../engine/persist.rs"),
        ),
        (
            "src/chain/header_chain.rs",
            include_str!("../chain/header_chain.rs"),
        ),
        ("src/store/state.rs", include_str!("../store/state.rs")),
    ] {
        let code = src.lines().filter(|l| !l.trim_start().starts_with("//"));
        for line in code {
            assert!(
                !line.contains(advertised),
                "{file} uses {advertised}: {line}"
            );
        }
    }
}

#[test]
fn each_envelope_error() {
    let kind = ALL_ERRORS_KIND;
    let env = Envelope::engine(Network::Mainnet, fp(1));
    let blob = env.wrap(b"payload");
    let open = |b: &[u8]| env.open(b).unwrap_err();

    // Wrong kind: one of ours, or foreign bytes.
    let state = Envelope::state(Network::Mainnet).wrap(b"payload");
    assert_eq!(
        open(&state),
        EnvelopeError::WrongKind {
            expected: kind,
            found: Some(BlobKind::State)
        }
    );
    assert_eq!(
        open(&state).to_string(),
        "not an engine snapshot: it is a client state blob"
    );
    assert_eq!(
        open(b"hello world, not a blob of ours"),
        EnvelopeError::WrongKind {
            expected: kind,
            found: None
        }
    );
    // Truncated below the fixed parts (including an empty blob and a bare magic).
    for cut in [0, 3, 4, 38, kind.min_len() - 1] {
        assert_eq!(
            open(&blob[..cut]),
            EnvelopeError::Truncated {
                kind,
                needed: 71,
                got: cut
            },
            "cut at {cut}"
        );
    }
    // Cut within or extended past the payload: the checksum no longer matches.
    for b in [&blob[..blob.len() - 1], &blob[..kind.min_len()]] {
        assert_eq!(open(b), EnvelopeError::Checksum { kind });
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert_eq!(open(&longer), EnvelopeError::Checksum { kind });
    // Any flipped byte after the version.
    for at in [6, 7, 38, 39, blob.len() - 33, blob.len() - 1] {
        let mut b = blob.clone();
        b[at] ^= 0x20;
        assert_eq!(open(&b), EnvelopeError::Checksum { kind }, "flip at {at}");
    }
    // Another version: named before the checksum (a newer format may checksum differently).
    let mut b = blob.clone();
    b[4] = 3;
    assert_eq!(
        open(&b),
        EnvelopeError::UnsupportedVersion {
            kind,
            found: 3,
            supported: 2
        }
    );
    // Another network, known or not.
    let testnet = Envelope::engine(Network::Testnet, fp(1)).wrap(b"payload");
    let e = open(&testnet);
    assert_eq!(
        e,
        EnvelopeError::OtherNetwork {
            kind,
            expected: Network::Mainnet,
            found: 1
        }
    );
    assert_eq!(
        e.to_string(),
        "engine snapshot was saved for testnet, but the configured network is mainnet"
    );
    let mut b = blob[..blob.len() - 32].to_vec();
    b[6] = 9;
    let sum = sha256d(&b);
    b.extend_from_slice(&sum.0);
    let e = open(&b);
    assert!(e.to_string().contains("unknown network #9"), "{e}");
    // Other chain parameters.
    let other = Envelope::engine(Network::Mainnet, fp(2)).wrap(b"payload");
    assert_eq!(open(&other), EnvelopeError::ChainParams { kind });
    // Oversized: refused before it is hashed. The zeroed buffer is not touched beyond its
    // first page.
    let mut huge = vec![0u8; kind.max_len() + 1];
    huge[..4].copy_from_slice(&kind.magic());
    assert_eq!(
        open(&huge),
        EnvelopeError::Oversized {
            kind,
            len: (1 << 28) + 1,
            max: 1 << 28
        }
    );
}

#[test]
fn every_error_message_names_the_kind() {
    for kind in BlobKind::ALL {
        let errors = [
            EnvelopeError::WrongKind {
                expected: kind,
                found: None,
            },
            EnvelopeError::UnsupportedVersion {
                kind,
                found: 9,
                supported: kind.version(),
            },
            EnvelopeError::OtherNetwork {
                kind,
                expected: Network::Mainnet,
                found: 3,
            },
            EnvelopeError::ChainParams { kind },
            EnvelopeError::Checksum { kind },
            EnvelopeError::Truncated {
                kind,
                needed: 39,
                got: 1,
            },
            EnvelopeError::Oversized {
                kind,
                len: 2,
                max: 1,
            },
        ];
        for e in errors {
            assert_eq!(e.kind(), kind);
            assert!(e.to_string().contains(&kind.to_string()), "{e}");
        }
    }
}

#[test]
fn max_lengths_bound_the_state_by_its_layers() {
    assert_eq!(BlobKind::HeaderChain.max_len(), 1 << 30);
    assert_eq!(BlobKind::Engine.max_len(), 1 << 28);
    assert_eq!(
        BlobKind::State.max_len(),
        39 + 16 + (1 << 30) + (1 << 28),
        "a state holding two maximal layers opens"
    );
}
