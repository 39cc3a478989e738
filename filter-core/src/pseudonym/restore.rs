//! The rule of restoring an answer, owned here for the whole-text
//! [`Scanner::restore`](crate::Scanner::restore) and the restoring
//! [`StreamScanner`](crate::StreamScanner): text between findings gets its
//! placeholders back, and each finding comes back, stays, or is redacted.

use crate::finding::Finding;
use crate::redact::RedactionPolicy;

use super::{Restored, Vault};

/// What became of one finding of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// A surrogate of the vault, replaced by its original; or an original
    /// of the vault, left as written. Not reported: it is the user's own.
    Restored,
    /// Personal data or a sensitive word the answer holds of its own,
    /// replaced as the policy says and reported.
    Redacted,
    /// Below the minimum confidence (it was looked at only because it
    /// might be a surrogate): left as written, not reported.
    Ignored,
}

/// How the findings of an answer are treated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RestoreRule<'a> {
    pub(crate) vault: &'a Vault,
    /// `None`: restore only, everything else stays as written.
    pub(crate) policy: Option<&'a RedactionPolicy>,
    /// The confidence a finding needs to be redacted.
    pub(crate) min_confidence: f32,
}

impl RestoreRule<'_> {
    /// Appends what `f` becomes to `out` and says what that was.
    pub(crate) fn write_finding(&self, f: &Finding<'_>, out: &mut String) -> Fate {
        match self.vault.restored(f) {
            Some(Restored::Original(original)) => {
                out.push_str(original);
                return Fate::Restored;
            }
            Some(Restored::Kept) => {
                out.push_str(f.as_str());
                return Fate::Restored;
            }
            None => {}
        }
        match self.policy {
            Some(policy) if !f.kind().is_pii() || f.confidence() >= self.min_confidence => {
                policy.replace_into(f, out);
                Fate::Redacted
            }
            _ => {
                out.push_str(f.as_str());
                Fate::Ignored
            }
        }
    }

    /// Appends the text between findings with its placeholders restored.
    pub(crate) fn write_text(&self, text: &str, out: &mut String) {
        self.vault.restore_into(text, out);
    }

    /// `text` restored: `findings` are its findings at confidence 0.
    pub(crate) fn apply(&self, text: &str, findings: &[Finding<'_>]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in findings {
            self.write_text(&text[at..f.start()], &mut out);
            self.write_finding(f, &mut out);
            at = f.end();
        }
        self.write_text(&text[at..], &mut out);
        out
    }
}
