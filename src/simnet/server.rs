//! The simulated node's P2P server (placeholder; being written).
