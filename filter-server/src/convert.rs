//! Between the proto messages and filter-core types. Bad arguments become
//! INVALID_ARGUMENT naming the field.

use filter_core::{
    Action, Finding, HashKey, Kind, Lexicon, MatchType, OffsetMapper, Operator, RedactionPolicy,
};
use tonic::Status;

use crate::proto;
use crate::status::invalid_argument;

/// The core kind of a proto kind: `KIND_` and the kind's label.
pub fn kind_from_proto(k: proto::Kind) -> Option<Kind> {
    k.as_str_name().strip_prefix("KIND_")?.parse().ok()
}

/// The proto kind of a core kind, by name; every kind has one (the
/// `every_kind_has_a_proto_kind` test checks the proto against
/// `Kind::ALL`).
pub fn kind_to_proto(k: Kind) -> proto::Kind {
    proto::Kind::from_str_name(&format!("KIND_{}", k.label())).unwrap_or(proto::Kind::Unspecified)
}

/// The `min_confidence` field: between 0 and 1.
pub fn min_confidence(field: &str, v: Option<f32>) -> Result<Option<f32>, Status> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) => Err(invalid_argument(
            field,
            format!("must be between 0 and 1, not {x}"),
        )),
        v => Ok(v),
    }
}

fn one_kind(field: &str, raw: i32) -> Result<Kind, Status> {
    proto::Kind::try_from(raw)
        .ok()
        .and_then(kind_from_proto)
        .ok_or_else(|| invalid_argument(field, format!("unknown kind {raw}")))
}

/// Checks the `kinds` field.
pub fn kinds(raw: &[i32]) -> Result<Vec<Kind>, Status> {
    raw.iter()
        .enumerate()
        .map(|(i, &k)| one_kind(&format!("kinds[{i}]"), k))
        .collect()
}

/// Checks the `categories` field against the lexicon in service.
pub fn categories(raw: &[String], lexicon: &Lexicon) -> Result<(), Status> {
    for (i, c) in raw.iter().enumerate() {
        if !lexicon.categories().any(|known| known == c) {
            let known: Vec<&str> = lexicon.categories().collect();
            return Err(invalid_argument(
                &format!("categories[{i}]"),
                format!("unknown category {c:?} (known: {})", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The longest label text, in bytes: a label is copied for every finding,
/// so its length multiplies the size of the answer.
pub const MAX_LABEL_BYTES: usize = 64;

/// The policy for a request: the server's default with the overrides.
pub fn policy(
    overrides: &[proto::OperatorOverride],
    hash_key: Option<&HashKey>,
) -> Result<RedactionPolicy, Status> {
    let mut policy = RedactionPolicy::new();
    for (i, o) in overrides.iter().enumerate() {
        let kind = one_kind(&format!("operators[{i}].kind"), o.kind)?;
        let field = format!("operators[{i}].replace_with");
        let op = o
            .replace_with
            .as_ref()
            .and_then(|op| op.method.as_ref())
            .ok_or_else(|| invalid_argument(&field, "missing"))?;
        let op = match op {
            proto::operator::Method::Label(l) if l.text.is_empty() => Operator::label(),
            proto::operator::Method::Label(l) if l.text.len() > MAX_LABEL_BYTES => {
                return Err(invalid_argument(
                    &format!("{field}.label.text"),
                    format!("{} bytes; at most {MAX_LABEL_BYTES}", l.text.len()),
                ))
            }
            proto::operator::Method::Label(l) => Operator::label_text(&l.text),
            proto::operator::Method::Mask(m) => {
                Operator::mask(m.keep_start as usize, m.keep_end as usize)
            }
            proto::operator::Method::Remove(_) => Operator::remove(),
            proto::operator::Method::Hash(h) => {
                let key = hash_key.ok_or_else(|| {
                    invalid_argument(
                        &format!("{field}.hash"),
                        "the server has no hash key configured",
                    )
                })?;
                let len = if h.hex_len == 0 {
                    8
                } else {
                    h.hex_len as usize
                };
                Operator::hash(key.as_bytes(), len)
                    .map_err(|e| invalid_argument(&format!("{field}.hash"), e.to_string()))?
            }
        };
        policy.set(kind, op);
    }
    Ok(policy)
}

/// The pseudonym mode a Redact request asks for (`None`: the operators).
pub fn pseudonym_mode(mode: i32) -> Result<Option<filter_core::PseudonymMode>, Status> {
    match proto::PseudonymMode::try_from(mode) {
        Ok(proto::PseudonymMode::Unspecified) => Ok(None),
        Ok(proto::PseudonymMode::Placeholder) => Ok(Some(filter_core::PseudonymMode::Placeholder)),
        Ok(proto::PseudonymMode::Surrogate) => Ok(Some(filter_core::PseudonymMode::Surrogate)),
        Err(_) => Err(invalid_argument(
            "pseudonym_mode",
            format!("unknown value {mode}"),
        )),
    }
}

/// With a pseudonym mode, personal data gets placeholders: an operator
/// for a personal-data kind would be silently ignored, so it is refused.
pub fn no_pii_operators(overrides: &[proto::OperatorOverride]) -> Result<(), Status> {
    for (i, o) in overrides.iter().enumerate() {
        let kind = one_kind(&format!("operators[{i}].kind"), o.kind)?;
        if kind.is_pii() {
            return Err(invalid_argument(
                &format!("operators[{i}]"),
                "with pseudonym_mode, pseudonyms replace personal data; \
                 operators apply to sensitive words only",
            ));
        }
    }
    Ok(())
}

fn span(r: std::ops::Range<usize>) -> Option<proto::Span> {
    Some(proto::Span {
        start: r.start as u32,
        end: r.end as u32,
    })
}

/// Findings as proto messages, offsets in three units, never the text.
pub fn findings(text: &str, found: &[Finding<'_>]) -> Vec<proto::Finding> {
    let mut offsets = OffsetMapper::new(text);
    found
        .iter()
        .map(|f| {
            let (cs, us) = offsets.map(f.start());
            let (ce, ue) = offsets.map(f.end());
            proto::Finding {
                kind: kind_to_proto(f.kind()) as i32,
                category: f.category().to_string(),
                term: f.term().unwrap_or("").to_string(),
                byte_span: span(f.range()),
                codepoint_span: span(cs..ce),
                utf16_span: span(us..ue),
                match_type: match_type(f.match_type()) as i32,
                edit_distance: f.edit_distance(),
                confidence: f.confidence(),
            }
        })
        .collect()
}

/// Stream findings as proto messages.
pub fn stream_findings(found: &[filter_core::StreamFinding]) -> Vec<proto::Finding> {
    found
        .iter()
        .map(|f| proto::Finding {
            kind: kind_to_proto(f.kind()) as i32,
            category: f.category().to_string(),
            term: f.term().unwrap_or("").to_string(),
            byte_span: span(f.range()),
            codepoint_span: span(f.char_range()),
            utf16_span: span(f.utf16_range()),
            match_type: match_type(f.match_type()) as i32,
            edit_distance: f.edit_distance(),
            confidence: f.confidence(),
        })
        .collect()
}

/// The proto match type of a core one, by name (`MATCH_TYPE_EXACT`): a
/// match type the core gains (the enum is `#[non_exhaustive]`) needs its
/// proto value of the same name, or it goes out as UNSPECIFIED.
fn match_type(m: MatchType) -> proto::MatchType {
    proto::MatchType::from_str_name(&format!("MATCH_TYPE_{}", m.as_str().to_ascii_uppercase()))
        .unwrap_or(proto::MatchType::Unspecified)
}

/// BLOCK if a block-category word was found, else REVIEW if a review one
/// was, else ALLOW (personal data is masked, not blocked).
pub fn verdict(found: &[Finding<'_>]) -> proto::Verdict {
    match found.iter().filter_map(Finding::action).max() {
        Some(Action::Block) => proto::Verdict::Block,
        Some(Action::Review) => proto::Verdict::Review,
        _ => proto::Verdict::Allow,
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn every_kind_has_a_proto_kind() {
        for &k in Kind::ALL {
            let p = kind_to_proto(k);
            assert_ne!(p, proto::Kind::Unspecified, "{k} has no proto kind");
            assert_eq!(kind_from_proto(p), Some(k));
        }
        assert_eq!(kind_from_proto(proto::Kind::Unspecified), None);
    }
}
