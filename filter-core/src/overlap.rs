//! The overlap rule, owned here and used by the whole-text scan and the
//! stream alike: findings come sorted by start and never overlap; where two
//! claim the same text, one that contains the other wins (an email whose
//! local part is a mobile number is an email), otherwise the more specific
//! kind wins.

use crate::finding::{Detached, Finding, Kind};

/// How specific a kind is, when two findings claim the same text and
/// neither contains the other: lower wins.
fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::IdCard => 0,
        Kind::Secret => 1,
        Kind::Email => 2,
        Kind::Phone => 3,
        Kind::BankCard => 4,
        Kind::SensitiveWord => 5,
    }
}

/// What the rule needs to know of a finding.
pub(crate) trait Span {
    fn start(&self) -> usize;
    fn end(&self) -> usize;
    fn kind(&self) -> Kind;
}

impl Span for Finding<'_> {
    fn start(&self) -> usize {
        Finding::start(self)
    }
    fn end(&self) -> usize {
        Finding::end(self)
    }
    fn kind(&self) -> Kind {
        Finding::kind(self)
    }
}

impl Span for Detached {
    fn start(&self) -> usize {
        self.start
    }
    fn end(&self) -> usize {
        self.end
    }
    fn kind(&self) -> Kind {
        self.kind
    }
}

/// Sorts findings in the order the rule takes them: by start, longer
/// first, more specific first.
pub(crate) fn sort<T: Span>(v: &mut [T]) {
    v.sort_unstable_by_key(|f| (f.start(), std::cmp::Reverse(f.end()), rank(f.kind())));
}

/// The rule applied to findings offered in [`sort`] order. It keeps the
/// last finding it accepted, which a later one may still replace; the one
/// before it is final.
#[derive(Debug)]
pub(crate) struct Overlaps<T> {
    last: Option<T>,
}

impl<T> Default for Overlaps<T> {
    fn default() -> Self {
        Overlaps { last: None }
    }
}

impl<T: Span> Overlaps<T> {
    /// Offers the next finding; returns the previous one once it is final.
    pub(crate) fn offer(&mut self, f: T) -> Option<T> {
        match &self.last {
            Some(last) if last.end() > f.start() => {
                let contains = last.start() <= f.start() && f.end() <= last.end();
                if !contains && rank(f.kind()) < rank(last.kind()) {
                    self.last = Some(f);
                }
                None
            }
            _ => self.last.replace(f),
        }
    }

    /// The finding a later one may still replace.
    pub(crate) fn pending(&self) -> Option<&T> {
        self.last.as_ref()
    }

    /// Takes the pending finding: no later finding will be offered that
    /// starts before its end.
    pub(crate) fn take(&mut self) -> Option<T> {
        self.last.take()
    }
}

/// Sorts `v` and applies the rule.
pub(crate) fn resolve<T: Span>(v: &mut Vec<T>) {
    sort(v);
    let mut rule = Overlaps::default();
    let mut kept = Vec::with_capacity(v.len());
    for f in v.drain(..) {
        kept.extend(rule.offer(f));
    }
    kept.extend(rule.take());
    *v = kept;
}
