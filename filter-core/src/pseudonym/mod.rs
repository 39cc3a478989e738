//! Pseudonymization with restore: personal data replaced by numbered
//! placeholders recorded in a [`Vault`], and put back into answers.

mod placeholder;
mod seal;
mod stream;
mod vault;

pub use seal::VaultKey;
pub use stream::StreamRestorer;
pub use vault::{Vault, DEFAULT_MAX_VAULT_ENTRIES};

#[cfg(test)]
mod tests;
