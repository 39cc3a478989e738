//! Email addresses, found from their `@`.

use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "email",
    label: "EMAIL",
    summary: "email address",
    canonical: Canonical::Lowercase,
    redaction: Redaction::Label,
    context: ContextDefaults::strong(0.95),
    tokens: &[],
};

use std::ops::Range;

fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// RFC 5321 limits.
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;

/// The address around the `@` at `at`, if there is one.
///
/// The local part and the domain are the longest runs of their characters
/// around the `@`, so an address glued to Chinese text (`邮箱a@b.cn。`) is
/// found with exact bounds. The local part starts at `floor` or later, so
/// that it never reaches into the previous address.
pub(crate) fn email_at(bytes: &[u8], floor: usize, at: usize) -> Option<Range<usize>> {
    let mut start = at;
    while start > floor && at - start < MAX_LOCAL && is_local(bytes[start - 1]) {
        start -= 1;
    }
    if start > floor && is_local(bytes[start - 1]) {
        return None; // a local part longer than the standard allows
    }
    while start < at && bytes[start] == b'.' {
        start += 1;
    }
    if start == at || bytes[at - 1] == b'.' {
        return None;
    }

    let mut end = at + 1;
    while end < bytes.len() && end - at <= MAX_DOMAIN && is_domain(bytes[end]) {
        end += 1;
    }
    // A sentence may end right after the address: drop trailing dots, then
    // drop trailing labels until the last one is an alphabetic TLD. A TLD
    // glued to digits (`a@b.cn13800138000`) ends where its letters end.
    loop {
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &bytes[at + 1..end];
        let dot = domain.iter().rposition(|&b| b == b'.')?;
        let tld = &domain[dot + 1..];
        let letters = tld.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        if letters >= 2 {
            end = at + 1 + dot + 1 + letters;
            break;
        }
        end = at + 1 + dot;
    }
    let domain = &bytes[at + 1..end];
    let labels_ok = domain
        .split(|&b| b == b'.')
        .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-' && l.len() <= 63);
    if !labels_ok {
        return None;
    }
    // An underscore right after the TLD means the address continues in a
    // way we did not understand: do not guess.
    if bytes.get(end) == Some(&b'_') {
        return None;
    }
    Some(start..end)
}

/// Whether the address around the `@` at `at` can be judged from `bytes`
/// alone: its domain ends before the end of the text (or is already too
/// long to be one).
pub(crate) fn decidable(bytes: &[u8], at: usize) -> bool {
    let run = bytes[at + 1..]
        .iter()
        .take_while(|&&b| is_domain(b))
        .count();
    at + 1 + run < bytes.len() || run > MAX_DOMAIN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(s: &str) -> Option<&str> {
        let at = s.find('@')?;
        email_at(s.as_bytes(), 0, at).map(|r| &s[r])
    }

    #[test]
    fn addresses() {
        assert_eq!(
            find("邮箱zhang.san@example.com。"),
            Some("zhang.san@example.com")
        );
        assert_eq!(find("mail: a+b@mail.qq.com."), Some("a+b@mail.qq.com"));
        assert_eq!(find("13800138000@163.com"), Some("13800138000@163.com"));
        assert_eq!(find(".x@y.org"), Some("x@y.org"));
        assert_eq!(find("a@b"), None);
        assert_eq!(find("@example.com"), None);
        assert_eq!(find("a.@example.com"), None);
        assert_eq!(find("a@-x.com"), None);
        assert_eq!(find("a@example.c"), None);
        assert_eq!(find("a@x.com.1"), Some("a@x.com"));
        assert_eq!(find("a@x.co8000"), Some("a@x.co"));
        assert_eq!(find("a@x.com_y"), None);
    }
}
