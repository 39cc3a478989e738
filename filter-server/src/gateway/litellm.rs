//! LiteLLM's Generic Guardrail API: `POST /beta/litellm_basic_guardrail_api`.
//!
//! LiteLLM sends the texts it extracted from a request or a response
//! (`input_type`) and applies the answer: `NONE` (go on unchanged),
//! `GUARDRAIL_INTERVENED` with as many `texts` as it sent (go on with
//! these), or `BLOCKED` with a `blocked_reason` that reaches the end user
//! verbatim, so it names the category, never the text. Each text is a
//! Redact call through the guarded gRPC service. Unknown top-level fields
//! and `null`s are accepted (LiteLLM adds fields between versions); images
//! pass through untouched and tools are not looked at.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use filter_core::{Action, Kind};
use serde::{Deserialize, Serialize};
use tonic::Code;

use crate::config::ReviewChoice;
use crate::convert;
use crate::metrics::Rpc;
use crate::proto::{self, RedactRequest, RedactResponse};
use crate::request_id::RequestId;

use super::transcode::{self, ApiError};
use super::Gateway;

/// What LiteLLM sends; fields not named here are ignored.
#[derive(Deserialize)]
struct GuardrailRequest {
    #[serde(default)]
    texts: Option<Vec<String>>,
    #[serde(default)]
    input_type: Option<String>,
    #[serde(default)]
    litellm_call_id: Option<String>,
    #[serde(default)]
    litellm_trace_id: Option<String>,
    #[serde(default)]
    additional_provider_specific_params: Option<Params>,
}

/// Per-call settings from the guardrail's `additional_provider_specific_params`
/// in LiteLLM's config, in the HTTP API's JSON forms; any other key is an
/// error.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Only these kinds (`"KIND_PHONE"`), within the direction's kinds.
    #[serde(default)]
    kinds: Vec<proto::Kind>,
    /// Only these word-list categories.
    #[serde(default)]
    categories: Vec<String>,
    /// The minimum confidence of personal data.
    #[serde(default, alias = "minConfidence")]
    min_confidence: Option<f32>,
    /// Operators, as `/v1/redact` takes them.
    #[serde(default)]
    operators: Vec<proto::OperatorOverride>,
}

/// The answer.
#[derive(Serialize)]
struct GuardrailResponse {
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    texts: Option<Vec<String>>,
}

/// Which way the texts travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// A prompt on its way to the model.
    Request,
    /// An answer on its way to the user.
    Response,
}

impl Direction {
    fn parse(input_type: Option<&str>) -> Result<Direction, ApiError> {
        match input_type {
            Some("request") | None => Ok(Direction::Request),
            Some("response") => Ok(Direction::Response),
            Some(other) => Err(ApiError::new(
                Code::InvalidArgument,
                format!("input_type: `{other}` is neither `request` nor `response`"),
            )),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// The handler.
pub(super) async fn guardrail(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let header_id = RequestId::from_headers(&parts.headers);
    let parsed = async {
        transcode::require_json(&parts.headers)?;
        let bytes = transcode::read_body(body, g.max_body).await?;
        transcode::parse_json::<GuardrailRequest>(&bytes)
    }
    .await;
    let request = match parsed {
        Ok(r) => r,
        Err(e) => return e.into_response(&header_id),
    };
    // LiteLLM's call id names the request in our logs too.
    let id = request
        .litellm_call_id
        .as_deref()
        .or(request.litellm_trace_id.as_deref())
        .and_then(RequestId::parse)
        .unwrap_or(header_id);
    match check(&g, &parts.headers, &id, request).await {
        Ok(answer) => transcode::json_response(StatusCode::OK, &answer, &id),
        Err(e) => e.into_response(&id),
    }
}

/// Checks every text and decides.
async fn check(
    g: &Gateway,
    headers: &HeaderMap,
    id: &RequestId,
    request: GuardrailRequest,
) -> Result<GuardrailResponse, ApiError> {
    let direction = Direction::parse(request.input_type.as_deref())?;
    let params = request
        .additional_provider_specific_params
        .unwrap_or_default();
    let kinds = kinds(g, direction, &params.kinds)?;
    let headers = with_api_key(headers);
    let texts = request.texts.unwrap_or_default();
    let mut out = Vec::with_capacity(texts.len());
    let mut changed = false;
    for text in &texts {
        let redacted: RedactResponse = transcode::call(
            &g.grpc,
            Rpc::Redact,
            &headers,
            id,
            &RedactRequest {
                text: text.clone(),
                kinds: kinds.clone(),
                categories: params.categories.clone(),
                operators: params.operators.clone(),
                min_confidence: params.min_confidence,
                ..Default::default()
            },
        )
        .await?;
        if let Some(reason) = blocked(g, direction, &redacted) {
            return Ok(GuardrailResponse {
                action: "BLOCKED",
                blocked_reason: Some(reason),
                texts: None,
            });
        }
        changed |= redacted.text != *text;
        out.push(redacted.text);
    }
    Ok(if changed {
        GuardrailResponse {
            action: "GUARDRAIL_INTERVENED",
            blocked_reason: None,
            texts: Some(out),
        }
    } else {
        GuardrailResponse {
            action: "NONE",
            blocked_reason: None,
            texts: None,
        }
    })
}

/// The kinds to check: the direction's (all when none are configured),
/// narrowed by the call's. An empty answer means every kind.
fn kinds(g: &Gateway, direction: Direction, asked: &[proto::Kind]) -> Result<Vec<i32>, ApiError> {
    let configured = match direction {
        Direction::Request => &g.guardrail.request_kinds,
        Direction::Response => &g.guardrail.response_kinds,
    };
    let mut kinds: Vec<Kind> = configured.clone();
    if !asked.is_empty() {
        let asked: Vec<Kind> = asked
            .iter()
            .map(|&k| {
                convert::kind_from_proto(k).ok_or_else(|| {
                    ApiError::new(
                        Code::InvalidArgument,
                        "additional_provider_specific_params.kinds: KIND_UNSPECIFIED is no kind",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        kinds = if kinds.is_empty() {
            asked
        } else {
            kinds.into_iter().filter(|k| asked.contains(k)).collect()
        };
        if kinds.is_empty() {
            return Err(ApiError::new(
                Code::InvalidArgument,
                format!(
                    "additional_provider_specific_params.kinds: none of them is checked in a {}",
                    direction.noun()
                ),
            ));
        }
    }
    Ok(kinds
        .into_iter()
        .map(|k| convert::kind_to_proto(k) as i32)
        .collect())
}

/// Why the text must be blocked, for the end user: the category of a
/// block-category word, or of a review-category one when those block.
fn blocked(g: &Gateway, direction: Direction, r: &RedactResponse) -> Option<String> {
    let verdict = proto::Verdict::try_from(r.verdict).unwrap_or(proto::Verdict::Allow);
    let review_blocks = g.guardrail.review == ReviewChoice::Block;
    let blocks = match verdict {
        proto::Verdict::Block => true,
        proto::Verdict::Review => review_blocks,
        _ => false,
    };
    if !blocks {
        return None;
    }
    let lexicon = g.state.scanner.lexicon().map(|l| l.load());
    let category = r
        .findings
        .iter()
        .filter(|f| f.kind == proto::Kind::SensitiveWord as i32)
        .map(|f| f.category.as_str())
        .find(|c| {
            let action = lexicon.as_ref().and_then(|l| l.category_action(c));
            action == Some(Action::Block) || (review_blocks && action == Some(Action::Review))
        })
        .unwrap_or("restricted");
    Some(format!(
        "The content filter blocked this {}: it contains terms of the category \u{201c}{category}\u{201d}.",
        direction.noun()
    ))
}

/// The headers with LiteLLM's `x-api-key` (its `api_key` setting) as the
/// bearer token, when no authorization header is present.
fn with_api_key(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    if !headers.contains_key(header::AUTHORIZATION) {
        let bearer = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .and_then(|key| HeaderValue::from_str(&format!("Bearer {}", key.trim())).ok());
        if let Some(bearer) = bearer {
            headers.insert(header::AUTHORIZATION, bearer);
        }
    }
    headers
}
