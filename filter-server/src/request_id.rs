//! Request ids: `x-request-id` on every surface (an HTTP header, the same
//! gRPC metadata key), taken from the client when it sends a usable one,
//! made here when not, echoed in the response and written in the logs, so
//! that a call can be followed through proxies without logging its text.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tonic::codegen::http::{HeaderMap, HeaderValue};

/// The header (and gRPC metadata key) that carries the id.
pub const HEADER: &str = "x-request-id";

/// The longest id accepted from a client.
const MAX_LEN: usize = 128;

/// The id of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The client's id from `headers` when it sent a usable one (1 to 128
    /// visible ASCII characters), else a new one.
    pub fn from_headers(headers: &HeaderMap) -> RequestId {
        headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::parse)
            .unwrap_or_else(RequestId::generate)
    }

    /// `value` as an id, when it is usable as one.
    pub fn parse(value: &str) -> Option<RequestId> {
        let usable = !value.is_empty()
            && value.len() <= MAX_LEN
            && value.bytes().all(|b| b.is_ascii_graphic());
        usable.then(|| RequestId(value.into()))
    }

    /// A new id: 16 hex digits, unique in the process and unpredictable
    /// across processes.
    pub fn generate() -> RequestId {
        static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let keys = KEYS.get_or_init(Default::default);
        RequestId(format!("{:016x}", keys.hash_one(n)).into())
    }

    /// The id of a gRPC request: the one the guard gave it.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<RequestId> {
        request.extensions().get::<RequestId>().cloned()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a header value.
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_taken_or_made() {
        let mut h = HeaderMap::new();
        h.insert(HEADER, HeaderValue::from_static("abc-123"));
        assert_eq!(RequestId::from_headers(&h).as_str(), "abc-123");
        h.insert(HEADER, HeaderValue::from_static("has space"));
        assert_ne!(RequestId::from_headers(&h).as_str(), "has space");
        let long = "x".repeat(MAX_LEN + 1);
        assert!(RequestId::parse(&long).is_none());
        assert!(RequestId::parse("").is_none());
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 16);
    }
}
