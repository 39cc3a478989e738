//! The proxy's HTTP side: the OpenAI endpoints clients call, each request
//! filtered on its way out and its answer on its way back.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use filter_core::{RedactionPolicy, Scanner, Vault};
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::events::{self, AnswerStream, EventSplitter, TextField};
use crate::metrics::Metrics;
use crate::prompt::PromptFilter;
use crate::upstream::Upstreams;

/// The body of the proxy's answers.
pub(crate) type ProxyBody = BoxBody<Bytes, Infallible>;

/// The largest answer read whole (non-streamed), in bytes.
const MAX_ANSWER_BYTES: usize = 64 << 20;

/// What every request shares.
pub(crate) struct State {
    pub(crate) scanner: Arc<Scanner>,
    pub(crate) upstreams: Upstreams,
    pub(crate) policy: RedactionPolicy,
    pub(crate) max_request_bytes: usize,
    /// Longest silence of the upstream within an answer.
    pub(crate) idle_timeout: std::time::Duration,
    /// SHA-256 digests of the tokens clients must present (empty: none).
    pub(crate) client_tokens: Vec<[u8; 32]>,
    pub(crate) metrics: Arc<Metrics>,
}

impl State {
    /// Whether the request presents one of the client tokens (or none are
    /// configured). Digests are compared in time independent of where
    /// they differ.
    fn admits(&self, headers: &http::HeaderMap) -> bool {
        if self.client_tokens.is_empty() {
            return true;
        }
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| digest(t.trim()))
        else {
            return false;
        };
        self.client_tokens
            .iter()
            .fold(false, |found, t| found | same(t, &token))
    }
}

/// The SHA-256 digest of a token.
pub(crate) fn digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Which OpenAI endpoint a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Completions,
    Embeddings,
}

/// Answers one request.
pub(crate) async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let endpoint = match (&method, path.as_str()) {
        (&Method::POST, "/v1/chat/completions") => Some(Endpoint::Chat),
        (&Method::POST, "/v1/completions") => Some(Endpoint::Completions),
        (&Method::POST, "/v1/embeddings") => Some(Endpoint::Embeddings),
        _ => None,
    };
    let response = match endpoint {
        _ if !state.admits(request.headers()) => openai_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
            "a token of --client-tokens-file is needed: Authorization: Bearer TOKEN",
        ),
        Some(e) => filtered(&state, peer, e, request).await,
        None if method == Method::GET
            && (path == "/v1/models" || path.starts_with("/v1/models/")) =>
        {
            pass_through(&state, peer, request).await
        }
        None => openai_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "unknown_url",
            &format!(
                "filter-proxy serves POST /v1/chat/completions, /v1/completions, /v1/embeddings \
                 and GET /v1/models; not {method} {path}"
            ),
        ),
    };
    let name = match endpoint {
        Some(Endpoint::Chat) => "chat_completions",
        Some(Endpoint::Completions) => "completions",
        Some(Endpoint::Embeddings) => "embeddings",
        None if path.starts_with("/v1/models") => "models",
        None => "other",
    };
    state.metrics.request(name, response.status().as_u16());
    tracing::info!(
        %method,
        path = %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(response)
}

/// An OpenAI-style error.
pub(crate) fn openai_error(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: &str,
) -> Response<ProxyBody> {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    json_response(status, body.to_string().into())
}

fn json_response(status: StatusCode, body: Bytes) -> Response<ProxyBody> {
    let mut response = Response::new(Full::new(body).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A request with texts: filtered, sent, its answer filtered.
async fn filtered(
    state: &Arc<State>,
    peer: SocketAddr,
    endpoint: Endpoint,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, state.max_request_bytes).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return openai_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "request_too_large",
                &format!("the request is over {} bytes", state.max_request_bytes),
            )
        }
    };
    let Ok(mut json) = serde_json::from_slice::<Value>(&body) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_json",
            "the body is not JSON",
        );
    };
    let mut vault = Vault::new();
    let mut filter = PromptFilter {
        scanner: &state.scanner,
        vault: &mut vault,
        policy: &state.policy,
        changed: 0,
        kinds: Default::default(),
    };
    let checked = match endpoint {
        Endpoint::Chat => filter.chat(&mut json),
        Endpoint::Completions => filter.completion(&mut json),
        Endpoint::Embeddings => filter.embedding(&mut json),
    };
    for (kind, n) in &filter.kinds {
        state.metrics.pseudonymized(kind, *n);
    }
    tracing::debug!(kinds = ?filter.kinds, texts = filter.changed, "prompt pseudonymized");
    if let Err(blocked) = checked {
        state.metrics.blocked_prompt();
        tracing::info!(category = %blocked.category, "request blocked");
        return openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "content_filter",
            &format!(
                "The request was blocked by the content filter: it contains terms of the category \u{201c}{}\u{201d}.",
                blocked.category
            ),
        );
    }
    let streamed = json.get("stream").and_then(Value::as_bool) == Some(true);
    let n = json.get("n").and_then(Value::as_u64).unwrap_or(1);
    let path = parts.uri.path().trim_start_matches("/v1");
    let sent = state
        .upstreams
        .send(
            &parts.method,
            path,
            &parts.headers,
            &peer.ip().to_string(),
            Bytes::from(json.to_string()),
        )
        .await;
    let (upstream, answer) = match sent {
        Ok(a) => a,
        Err(e) => {
            return openai_error(
                StatusCode::BAD_GATEWAY,
                "api_error",
                "upstream_unavailable",
                &e.to_string(),
            )
        }
    };
    // Ids only: the client's, and the upstream's for its support.
    tracing::info!(
        upstream,
        status = answer.status().as_u16(),
        client_request_id = header_str(&parts.headers, "x-request-id"),
        upstream_request_id = header_str(answer.headers(), "x-request-id"),
        streamed,
        "forwarded"
    );
    let vault = Arc::new(vault);
    let field = match endpoint {
        Endpoint::Chat => TextField::Chat,
        Endpoint::Completions => TextField::Completion,
        Endpoint::Embeddings => return relay(state, answer).await,
    };
    if !answer.status().is_success() {
        return relay(state, answer).await;
    }
    if streamed {
        stream_answer(state, vault, field, n, answer)
    } else {
        whole_answer(state, &vault, field, answer).await
    }
}

/// The upstream's answer as it is (errors, embeddings, models).
async fn relay(state: &State, answer: Response<Incoming>) -> Response<ProxyBody> {
    let (parts, body) = answer.into_parts();
    let body = match read_answer(body, state.idle_timeout).await {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut response = Response::new(Full::new(body).boxed());
    *response.status_mut() = parts.status;
    if let Some(t) = parts.headers.get(header::CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, t.clone());
    }
    response
}

/// `GET /v1/models`: sent as it is.
async fn pass_through(
    state: &Arc<State>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let (parts, _) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("", |p| p.as_str())
        .trim_start_matches("/v1")
        .to_string();
    match state
        .upstreams
        .send(
            &parts.method,
            &path,
            &parts.headers,
            &peer.ip().to_string(),
            Bytes::new(),
        )
        .await
    {
        Ok((_, answer)) => relay(state, answer).await,
        Err(e) => openai_error(
            StatusCode::BAD_GATEWAY,
            "api_error",
            "upstream_unavailable",
            &e.to_string(),
        ),
    }
}

/// A non-streamed answer: read whole, filtered, sent.
async fn whole_answer(
    state: &State,
    vault: &Arc<Vault>,
    field: TextField,
    answer: Response<Incoming>,
) -> Response<ProxyBody> {
    let (parts, body) = answer.into_parts();
    let body = match read_answer(body, state.idle_timeout).await {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Ok(mut json) = serde_json::from_slice::<Value>(&body) else {
        return openai_error(
            StatusCode::BAD_GATEWAY,
            "api_error",
            "upstream_answer",
            "the upstream's answer is not JSON",
        );
    };
    if events::rewrite_whole(&state.scanner, vault, field, &mut json) {
        state.metrics.stopped_answer();
        tracing::info!("answer stopped by the content filter");
    }
    let mut response = json_response(parts.status, json.to_string().into());
    copy_request_id(&parts.headers, response.headers_mut());
    response
}

/// A whole answer, read with at most `idle` between its frames and at
/// most [`MAX_ANSWER_BYTES`]; else the 502 to send instead.
async fn read_answer(
    mut body: Incoming,
    idle: std::time::Duration,
) -> Result<Bytes, Response<ProxyBody>> {
    let unreadable = || {
        openai_error(
            StatusCode::BAD_GATEWAY,
            "api_error",
            "upstream_answer",
            "the upstream's answer could not be read",
        )
    };
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(idle, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    out.extend_from_slice(&data);
                    if out.len() > MAX_ANSWER_BYTES {
                        return Err(unreadable());
                    }
                }
            }
            Ok(None) => return Ok(out.into()),
            Ok(Some(Err(_))) | Err(_) => return Err(unreadable()),
        }
    }
}

/// A header's value for the log, `-` when absent or not text.
fn header_str<'a>(headers: &'a http::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

fn copy_request_id(from: &http::HeaderMap, to: &mut http::HeaderMap) {
    if let Some(id) = from.get("x-request-id") {
        to.insert("x-request-id", id.clone());
    }
}

/// A streamed answer: each event rewritten and sent as soon as it is
/// decided; the upstream is read by a task that ends when the client goes
/// away (its channel closes), dropping the upstream request with it.
fn stream_answer(
    state: &Arc<State>,
    vault: Arc<Vault>,
    field: TextField,
    n: u64,
    answer: Response<Incoming>,
) -> Response<ProxyBody> {
    let (parts, mut body) = answer.into_parts();
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(32);
    let state = state.clone();
    tokio::spawn(async move {
        let mut splitter = EventSplitter::default();
        let mut rewriter = AnswerStream::new(state.scanner.clone(), vault, field, n);
        // The events of one upstream read leave in one write.
        let idle = state.idle_timeout;
        'read: loop {
            let frame = match tokio::time::timeout(idle, body.frame()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(None) | Ok(Some(Err(_))) => break,
                Err(_) => {
                    tracing::warn!(
                        idle_ms = idle.as_millis() as u64,
                        "the upstream went silent; ending the answer"
                    );
                    break;
                }
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let mut out = String::new();
            let mut over = false;
            for event in splitter.push(&data) {
                if rewrite_event(&mut rewriter, &event, &mut out) {
                    over = true;
                    break;
                }
            }
            if !out.is_empty() && tx.send(Ok(Frame::data(Bytes::from(out)))).await.is_err() {
                return; // the client went away: the upstream is dropped
            }
            if over {
                break 'read;
            }
        }
        if let Some(rest) = splitter.finish() {
            let mut out = String::new();
            rewrite_event(&mut rewriter, &rest, &mut out);
            if !out.is_empty() {
                let _ = tx.send(Ok(Frame::data(Bytes::from(out)))).await;
            }
        }
        if rewriter.stopped_by_filter {
            state.metrics.stopped_answer();
            tracing::info!("streamed answer stopped by the content filter");
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut response = Response::new(StreamBody::new(stream).boxed());
    *response.status_mut() = parts.status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    copy_request_id(&parts.headers, headers);
    response
}

/// Rewrites one event into `out`; returns whether the answer is over for
/// the client.
fn rewrite_event(rewriter: &mut AnswerStream, event: &str, out: &mut String) -> bool {
    let (data, other) = events::data_of(event);
    let Some(data) = data else {
        // A comment or an event without data: passed on.
        out.push_str(event);
        out.push_str("\n\n");
        return false;
    };
    let rewritten = rewriter.rewrite(&data);
    for payload in &rewritten.data {
        out.push_str(&events::event(&other, payload));
    }
    rewritten.over
}
