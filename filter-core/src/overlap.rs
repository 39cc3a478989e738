//! The overlap rule, owned here and used by the whole-text scan and the
//! stream alike: findings come sorted by start and never overlap; where two
//! claim the same text, one that contains the other wins (an email whose
//! local part is a mobile number is an email), otherwise the more specific
//! kind wins.

use crate::finding::{Detached, Finding, Kind};

/// How specific a kind is, when two findings claim the same text and
/// neither contains the other: lower wins. The registry lists kinds in
/// this order.
fn rank(kind: Kind) -> usize {
    kind.index()
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

/// What the rule makes of finding `f`, offered after `last` (the last one
/// accepted, which `f` may still replace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Offer {
    /// `f` starts at or after `last`'s end: `last` is final.
    After,
    /// They overlap and `f` wins: it replaces `last`.
    Replaces,
    /// They overlap and `last` wins: `f` is dropped.
    Dropped,
}

fn offer<T: Span>(last: &T, f: &T) -> Offer {
    if last.end() <= f.start() {
        return Offer::After;
    }
    let contains = last.start() <= f.start() && f.end() <= last.end();
    if !contains && rank(f.kind()) < rank(last.kind()) {
        Offer::Replaces
    } else {
        Offer::Dropped
    }
}

impl<T: Span> Overlaps<T> {
    /// Offers the next finding; returns the previous one once it is final.
    pub(crate) fn offer(&mut self, f: T) -> Option<T> {
        match self.last.as_ref().map(|last| offer(last, &f)) {
            Some(Offer::Dropped) => None,
            Some(Offer::Replaces) => {
                self.last = Some(f);
                None
            }
            Some(Offer::After) | None => self.last.replace(f),
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

/// Sorts `v` and applies the rule, in place: what is kept moves to the
/// front as `v` is read (each finding read makes at most the one before it
/// final), and the rest is cut off.
pub(crate) fn resolve<T: Span>(v: &mut Vec<T>) {
    sort(v);
    if v.is_empty() {
        return;
    }
    // `v[..kept]` is final; `v[kept]` is the pending finding.
    let mut kept = 0;
    for i in 1..v.len() {
        match offer(&v[kept], &v[i]) {
            Offer::Dropped => {}
            Offer::Replaces => v.swap(kept, i),
            Offer::After => {
                kept += 1;
                v.swap(kept, i);
            }
        }
    }
    v.truncate(kept + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct S(usize, usize, Kind);

    impl Span for S {
        fn start(&self) -> usize {
            self.0
        }
        fn end(&self) -> usize {
            self.1
        }
        fn kind(&self) -> Kind {
            self.2
        }
    }

    use Kind::{BankCard, Email, IdCard, Phone, Secret, SensitiveWord as Word};

    #[test]
    fn the_rule_case_by_case() {
        let cases: [(&str, Vec<S>, Vec<S>); 10] = [
            (
                "overlap of one kind: the earlier stays",
                vec![S(0, 5, Word), S(3, 8, Word)],
                vec![S(0, 5, Word)],
            ),
            (
                "disjoint: both",
                vec![S(5, 9, Phone), S(0, 4, Word)],
                vec![S(0, 4, Word), S(5, 9, Phone)],
            ),
            (
                "touching is not overlapping",
                vec![S(0, 4, Word), S(4, 8, Word)],
                vec![S(0, 4, Word), S(4, 8, Word)],
            ),
            (
                "a container wins, whatever its kind",
                vec![S(0, 20, Word), S(3, 14, Phone)],
                vec![S(0, 20, Word)],
            ),
            (
                "an email around a phone",
                vec![S(2, 13, Phone), S(2, 20, Email)],
                vec![S(2, 20, Email)],
            ),
            (
                "overlap: the later, more specific one wins",
                vec![S(0, 9, Word), S(6, 17, Phone)],
                vec![S(6, 17, Phone)],
            ),
            (
                "overlap: the later, less specific one loses",
                vec![S(0, 11, Phone), S(7, 12, Word)],
                vec![S(0, 11, Phone)],
            ),
            (
                "the same span: the more specific kind",
                vec![S(0, 19, BankCard), S(0, 19, IdCard)],
                vec![S(0, 19, IdCard)],
            ),
            (
                "a chain: each decided against the one kept",
                vec![S(0, 5, Word), S(3, 8, Phone), S(7, 12, BankCard)],
                vec![S(3, 8, Phone)],
            ),
            (
                "a secret over an email's end",
                vec![S(0, 10, Email), S(8, 30, Secret)],
                vec![S(8, 30, Secret)],
            ),
        ];
        for (why, mut input, want) in cases {
            resolve(&mut input);
            assert_eq!(input, want, "{why}");
        }
    }

    #[test]
    fn offered_one_by_one_as_a_stream_does() {
        let mut rule = Overlaps::default();
        assert_eq!(rule.offer(S(0, 5, Word)), None);
        assert_eq!(
            rule.offer(S(3, 8, Phone)),
            None,
            "replaces the word, nothing final yet"
        );
        assert_eq!(rule.pending(), Some(&S(3, 8, Phone)));
        assert_eq!(rule.offer(S(9, 12, Email)), Some(S(3, 8, Phone)));
        assert_eq!(rule.take(), Some(S(9, 12, Email)));
        assert_eq!(rule.take(), None);
    }
}
