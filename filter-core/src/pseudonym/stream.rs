//! [`StreamRestorer`]: restoring pseudonyms in an answer that arrives in
//! chunks, where a placeholder may be cut anywhere (`[PH` | `ONE_` | `1]`).

use std::borrow::Borrow;

use super::placeholder;
use super::Vault;

/// Restores a vault's placeholders in a stream of chunks.
///
/// Each [`push`](StreamRestorer::push) returns at once all the text that
/// no later chunk can change, restored; it holds back only a possible
/// placeholder cut by the end of the chunk (from its bracket, at most
/// about 230 bytes), so memory and time per chunk stay flat however long
/// the stream. For any cutting of a text into chunks, the outputs joined
/// are [`Vault::restore`] of the whole text.
///
/// The vault may be borrowed or owned (`&Vault`, `Vault`, `Arc<Vault>`).
/// Surrogates are found by the detectors: a vault holding them is
/// restored by a [`StreamScanner::restoring`](crate::StreamScanner::restoring)
/// stream, which also filters what else the answer holds.
///
/// ```
/// use filter_core::{RedactionPolicy, Scanner, StreamRestorer, Vault};
///
/// let mut vault = Vault::new();
/// Scanner::new().pseudonymize("电话13800138000", &mut vault, &RedactionPolicy::new())?;
/// let mut restorer = StreamRestorer::new(&vault);
/// let mut answer = String::new();
/// for chunk in ["请致电[PH", "ONE_", "1]，谢谢"] {
///     answer.push_str(&restorer.push(chunk));
/// }
/// answer.push_str(&restorer.finish());
/// assert_eq!(answer, "请致电13800138000，谢谢");
/// # Ok::<(), filter_core::Error>(())
/// ```
pub struct StreamRestorer<V: Borrow<Vault>> {
    vault: V,
    /// Text received and not yet released: a possible placeholder.
    held: String,
}

/// Lengths only: the text held back is the answer's.
impl<V: Borrow<Vault>> std::fmt::Debug for StreamRestorer<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamRestorer")
            .field("vault", self.vault.borrow())
            .field("held_bytes", &self.held.len())
            .finish()
    }
}

impl<V: Borrow<Vault>> StreamRestorer<V> {
    /// A restorer of `vault`'s placeholders.
    pub fn new(vault: V) -> StreamRestorer<V> {
        StreamRestorer {
            vault,
            held: String::new(),
        }
    }

    /// Takes the next chunk; returns the restored text now safe to pass on
    /// (it continues what was returned before).
    pub fn push(&mut self, chunk: &str) -> String {
        self.held.push_str(chunk);
        let cut = placeholder::partial_tail(&self.held).unwrap_or(self.held.len());
        let out = self.vault.borrow().restore(&self.held[..cut]).into_owned();
        self.held.drain(..cut);
        out
    }

    /// Ends the stream: the rest of the text, restored (a placeholder never
    /// closed stays as it was written).
    pub fn finish(self) -> String {
        self.vault.borrow().restore(&self.held).into_owned()
    }

    /// Bytes held back, waiting for the chunk that says whether they
    /// start a placeholder.
    pub fn held_bytes(&self) -> usize {
        self.held.len()
    }

    /// The vault restored from.
    pub fn vault(&self) -> &Vault {
        self.vault.borrow()
    }
}
