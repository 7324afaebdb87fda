//! LLMQ types and parameters: defined in [`crate::network::llmq`] (they describe a network);
//! re-exported here where the quorum algorithms use them.

pub use crate::network::llmq::*;
