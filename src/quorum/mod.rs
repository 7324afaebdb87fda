//! LLMQ quorums: BLS, parameters, member selection and commitment verification (PROTOCOL.md §5–§7).

pub mod bls;
pub mod members;
pub mod params;
pub mod selection;
pub mod verify;

#[cfg(test)]
mod golden;
