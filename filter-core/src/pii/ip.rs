//! IP addresses: IPv4 in dotted decimal (each part 0-255, written without
//! leading zeros, and not part of a longer dotted run such as a version
//! `1.2.3.4.5`) and IPv6 (RFC 4291 text forms, `::` and a trailing IPv4
//! included).

use super::token::{Read, Token, TokenRule};
use crate::finding::Kind;
use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "ip_address",
    label: "IP_ADDRESS",
    summary: "IPv4 and IPv6 addresses",
    canonical: Canonical::Lowercase,
    redaction: Redaction::Label,
    context: ContextDefaults {
        base: 0.6,
        raise: &[
            "ip",
            "ip地址",
            "地址",
            "address",
            "服务器",
            "server",
            "host",
        ],
        lower: &["版本", "版本号", "version", "ver", "v"],
        bases: &[],
    },
    tokens: &[&IpRule],
};

/// Characters an IPv4 address of `c`'s start takes.
fn v4_len(c: &[u8]) -> Option<usize> {
    let mut at = 0;
    for part in 0..4 {
        if part > 0 {
            if c.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        let digits = c[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        let d = &c[at..at + digits];
        let ok = match d.len() {
            1 => true,
            2 | 3 => {
                d[0] != b'0' && d.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0')) <= 255
            }
            _ => false,
        };
        if !ok {
            return None;
        }
        at += digits;
    }
    Some(at)
}

/// Characters an IPv6 address of `c`'s start takes.
fn v6_len(c: &[u8]) -> Option<usize> {
    let run = c
        .iter()
        .take_while(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
        .count();
    let mut text = &c[..run];
    // A sentence's colon or full stop after an address is not part of it.
    if text.ends_with(b":") && !text.ends_with(b"::") || text.ends_with(b".") {
        text = &text[..text.len() - 1];
    }
    v6_valid(text).then_some(text.len())
}

fn v6_valid(text: &[u8]) -> bool {
    let (head, tail, compressed) = match find(text, b"::") {
        Some(i) => (&text[..i], &text[i + 2..], true),
        None => (text, &text[..0], false),
    };
    if compressed && find(tail, b"::").is_some() {
        return false;
    }
    let mut groups = 0;
    for (part, is_last_part) in [(head, !compressed), (tail, true)] {
        if part.is_empty() {
            continue;
        }
        let mut pieces = part.split(|&b| b == b':').peekable();
        while let Some(g) = pieces.next() {
            let last = is_last_part && pieces.peek().is_none();
            if last && g.contains(&b'.') {
                if v4_len(g) != Some(g.len()) {
                    return false;
                }
                groups += 2;
            } else if (1..=4).contains(&g.len()) && g.iter().all(u8::is_ascii_hexdigit) {
                groups += 1;
            } else {
                return false;
            }
        }
    }
    if compressed {
        // `::1` alone is the loopback, not anyone's address.
        (2..=7).contains(&groups)
    } else {
        groups == 8
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[derive(Debug)]
struct IpRule;

impl TokenRule for IpRule {
    fn kind(&self) -> Kind {
        Kind::IpAddress
    }

    fn small_letters(&self) -> bool {
        true
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        let c = t.chars();
        let (chars, category) = match v4_len(c) {
            Some(n) if t.whole(n) => (n, "v4"),
            _ => (v6_len(c)?, "v6"),
        };
        Some(Read {
            chars,
            back: 0,
            category,
        })
    }
}

/// Where an IPv6 address that the pass meets at the `:` at `colon` would
/// start: the start of the run of hex digits and colons before it, when
/// that run does not start with a digit or a capital (those the pass
/// already tried from their first character).
pub(crate) fn v6_start(bytes: &[u8], colon: usize) -> Option<usize> {
    let mut i = colon;
    while i > 0 && colon - i < 40 && (bytes[i - 1].is_ascii_hexdigit() || bytes[i - 1] == b':') {
        i -= 1;
    }
    let first = bytes[i];
    (first == b':' || first.is_ascii_lowercase()).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Option<(String, &'static str)> {
        let t = Token::read(s.as_bytes(), 0);
        let r = IpRule.read(&t)?;
        t.whole(r.chars)
            .then(|| (s[..t.end_of(r.chars)].to_string(), r.category))
    }

    #[test]
    fn addresses() {
        for (text, want, cat) in [
            ("10.0.0.1", "10.0.0.1", "v4"),
            ("255.255.255.255", "255.255.255.255", "v4"),
            ("192.168.1.1.", "192.168.1.1", "v4"),
            ("2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334", "v6"),
            (
                "2001:0db8:0000:0000:0000:ff00:0042:8329",
                "2001:0db8:0000:0000:0000:ff00:0042:8329",
                "v6",
            ),
            ("fe80::1", "fe80::1", "v6"),
            ("::ffff:192.0.2.128", "::ffff:192.0.2.128", "v6"),
            ("2001:db8::1:", "2001:db8::1", "v6"),
        ] {
            assert_eq!(read(text), Some((want.to_string(), cat)), "{text}");
        }
        for text in [
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "12:30:45",
            "00:1a:2b:3c:4d:5e",
            "::1",
            "1::2::3",
            "2001:db8:0:0:0:0:2:1:5",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }
}
