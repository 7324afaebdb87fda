//! LLMQ quorums: BLS, parameters, member selection and commitment verification (PROTOCOL.md §5–§7).

pub mod bls;
