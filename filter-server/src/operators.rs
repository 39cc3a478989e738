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
    let op = Operator::parse(op.trim(), hash_key).map_err(|e| match hash_key {
        None if op.trim().starts_with("hash") => {
            fail(format!("{e}: --hash-key-file or FILTER_HASH_KEY_FILE"))
        }
        _ => fail(e.to_string()),
    })?;
    Ok((kind, op))
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
        let e = parse_setting("phone=hash", None).unwrap_err().to_string();
        assert!(e.contains("FILTER_HASH_KEY_FILE"), "{e}");
        assert!(parse_setting("phone=hash:8", Some(&key)).is_ok());
        assert!(parse_setting("fax=label", None).is_err());
        assert!(parse_setting("phone", None).is_err());
        assert!(parse_setting("phone=mask:x:1", None).is_err());
    }
}
