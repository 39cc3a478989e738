//! Parsing redaction operators from text: `phone=mask:3:4`.

use filter_core::{HashKey, Kind, Operator, RedactionPolicy};

/// A `KIND=OP` setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("--operator `{setting}`: {reason}")]
pub struct OperatorError {
    setting: String,
    reason: String,
}

/// Parses one `KIND=OP` setting, where OP is `label`, `label:TEXT`,
/// `mask`, `mask:KEEP_START:KEEP_END`, `remove` or `hash` / `hash:HEXLEN`
/// (the hash key comes from `hash_key`).
pub fn parse_setting(
    s: &str,
    hash_key: Option<&HashKey>,
) -> Result<(Kind, Operator), OperatorError> {
    let fail = |reason: String| OperatorError {
        setting: s.to_string(),
        reason,
    };
    let (kind, op) = s
        .split_once('=')
        .ok_or_else(|| fail("expected KIND=OPERATOR, such as phone=mask:3:4".into()))?;
    let kind: Kind = kind
        .trim()
        .parse()
        .map_err(|e: filter_core::UnknownKind| fail(e.to_string()))?;
    let op = parse_operator(op.trim(), hash_key).map_err(fail)?;
    Ok((kind, op))
}

/// Parses an operator: `label`, `label:TEXT`, `mask`, `mask:S:E`,
/// `remove`, `hash`, `hash:HEXLEN`.
fn parse_operator(s: &str, hash_key: Option<&HashKey>) -> Result<Operator, String> {
    let (name, arg) = match s.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (s, None),
    };
    match (name, arg) {
        ("label", None) => Ok(Operator::label()),
        ("label", Some(text)) => Ok(Operator::label_text(text)),
        ("mask", None) => Ok(Operator::mask(0, 0)),
        ("mask", Some(keep)) => {
            let (a, b) = keep
                .split_once(':')
                .ok_or("mask takes KEEP_START:KEEP_END, such as mask:3:4")?;
            let a = a.parse().map_err(|_| format!("bad keep count `{a}`"))?;
            let b = b.parse().map_err(|_| format!("bad keep count `{b}`"))?;
            Ok(Operator::mask(a, b))
        }
        ("remove", None) => Ok(Operator::remove()),
        ("hash", len) => {
            let key = hash_key
                .ok_or("the hash operator needs a key (--hash-key-file or FILTER_HASH_KEY_FILE)")?;
            let len = match len {
                Some(l) => l.parse().map_err(|_| format!("bad hash length `{l}`"))?,
                None => 8,
            };
            Operator::hash(key.as_bytes(), len).map_err(|e| e.to_string())
        }
        _ => Err(format!(
            "unknown operator `{s}` (expected label, label:TEXT, mask, mask:S:E, remove, hash, hash:LEN)"
        )),
    }
}

/// A policy from `KIND=OP` settings over the default policy.
pub fn policy_from_settings(
    settings: &[String],
    hash_key: Option<&HashKey>,
) -> Result<RedactionPolicy, OperatorError> {
    let mut policy = RedactionPolicy::new();
    for s in settings {
        let (kind, op) = parse_setting(s, hash_key)?;
        policy.set(kind, op);
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        let key = HashKey::new(b"k").unwrap();
        assert_eq!(
            parse_setting("phone=mask:3:4", None).unwrap(),
            (Kind::Phone, Operator::mask(3, 4))
        );
        assert_eq!(
            parse_setting("EMAIL=remove", None).unwrap().1,
            Operator::remove()
        );
        assert!(parse_setting("phone=hash", None).is_err());
        assert!(parse_setting("phone=hash:8", Some(&key)).is_ok());
        assert!(parse_setting("fax=label", None).is_err());
        assert!(parse_setting("phone", None).is_err());
        assert!(parse_setting("phone=mask:x:1", None).is_err());
    }
}
