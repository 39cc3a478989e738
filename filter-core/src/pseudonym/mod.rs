//! Pseudonymization with restore: personal data replaced by numbered
//! placeholders or by surrogates recorded in a [`Vault`], and put back
//! into answers, whole or streamed.

pub(crate) mod placeholder;
mod restore;
mod seal;
mod stream;
mod surrogate;
mod vault;

pub(crate) use restore::{Fate, RestoreRule};
pub use seal::VaultKey;
pub use stream::StreamRestorer;
use vault::Restored;
pub(crate) use vault::Spot;
pub use vault::{PseudonymMode, Vault, DEFAULT_MAX_VAULT_ENTRIES};

#[cfg(test)]
mod tests;
