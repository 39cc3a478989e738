//! The `contentfilter.v1.ContentFilterService` service: Scan, Redact and
//! ReloadWordlists here, ScanStream in [`crate::stream`].

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use filter_core::{
    CancelToken, Finding, HashKey, ScanLimits, ScanOptions, Scanner, Vault, VaultKey,
};
use tokio_stream::Stream;
use tonic::{Code, Request, Response, Status};

use crate::config::Limits;
use crate::convert;
use crate::guard::{Admission, Deadline};
use crate::metrics::{Metrics, Refusal, Rpc};
use crate::proto::content_filter_service_server::ContentFilterService;
use crate::proto::{
    RedactRequest, RedactResponse, ReloadWordlistsRequest, ReloadWordlistsResponse, RestoreRequest,
    RestoreResponse, ScanRequest, ScanResponse, ScanStreamRequest, ScanStreamResponse,
};
use crate::reload::{ReloadError, Reloader};
use crate::request_id::RequestId;
use crate::status::{invalid_argument, wordlist_error};

/// Texts longer than this are scanned on the blocking pool, so that a
/// 4 MiB request does not hold up the small ones on the same worker.
pub(crate) const INLINE_LIMIT: usize = 64 * 1024;

/// What every request shares.
pub struct State {
    /// Personal-data detectors and the lexicon in service.
    pub scanner: Scanner,
    /// The key of the hash operator.
    pub hash_key: Option<HashKey>,
    /// The vault keys, the sealing one first (none: no pseudonyms).
    pub vault_keys: Arc<[VaultKey]>,
    /// Limits and timeouts.
    pub limits: Limits,
    /// Builds new lexicons.
    pub reloader: Reloader,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

/// The service.
#[derive(Clone)]
pub struct FilterService {
    pub(crate) state: Arc<State>,
}

/// Opens a request's sealed vault; empty bytes are a new vault.
pub(crate) fn open_vault(keys: &[VaultKey], sealed: &[u8]) -> Result<Vault, Status> {
    if sealed.is_empty() {
        return Ok(Vault::new());
    }
    Vault::open(keys, sealed).map_err(|e| invalid_argument("vault", e.to_string()))
}

/// Cancels its token when dropped: the handler's future was dropped
/// because the client went away or the deadline passed, so the scan it
/// started stops too.
pub(crate) struct CancelOnDrop(pub(crate) CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// The status of a scan stopped by its limits.
pub(crate) fn scan_status(e: &filter_core::Error, metrics: &Metrics) -> Status {
    if e.is_too_many_findings() {
        metrics.refused(Refusal::Findings);
        Status::resource_exhausted(format!("{e} (the server's --max-findings)"))
    } else if e.is_deadline_exceeded() || e.is_cancelled() {
        Status::deadline_exceeded("the call ran past its deadline")
    } else {
        Status::internal("the scan failed")
    }
}

/// Refuses a response larger than the limit.
pub(crate) fn check_response_size(
    response: &impl prost::Message,
    limits: &Limits,
    metrics: &Metrics,
) -> Result<(), Status> {
    let len = response.encoded_len();
    if len > limits.max_response_bytes {
        metrics.refused(Refusal::ResponseSize);
        return Err(Status::resource_exhausted(format!(
            "the response would be {len} bytes, over the limit of {} bytes",
            limits.max_response_bytes
        )));
    }
    Ok(())
}

/// What a unary handler takes from its request besides the message.
struct Call {
    admission: Option<Admission>,
    limits: ScanLimits,
    _cancel: CancelOnDrop,
}

impl FilterService {
    /// A service over `state`.
    pub fn new(state: Arc<State>) -> FilterService {
        FilterService { state }
    }

    /// The place, limits and cancellation of a request.
    fn call<T>(&self, request: &Request<T>) -> Call {
        let token = CancelToken::new();
        let mut limits = ScanLimits::new()
            .max_findings(self.state.limits.max_findings)
            .cancel_token(&token);
        if let Some(Deadline(d)) = request.extensions().get::<Deadline>() {
            limits = limits.deadline(*d);
        }
        Call {
            admission: request.extensions().get::<Admission>().cloned(),
            limits,
            _cancel: CancelOnDrop(token),
        }
    }

    /// The scan options of a request's selection, checked.
    pub(crate) fn options(
        &self,
        kinds: &[i32],
        categories: &[String],
        min_confidence: Option<f32>,
    ) -> Result<ScanOptions, Status> {
        let kinds = convert::kinds(kinds)?;
        if let Some(lexicon) = self.state.scanner.lexicon() {
            convert::categories(categories, &lexicon.load())?;
        }
        let options = ScanOptions::new().kinds(&kinds).categories(categories);
        Ok(
            match convert::min_confidence("min_confidence", min_confidence)? {
                Some(min) => options.min_confidence(min),
                None => options,
            },
        )
    }

    /// Scans `text` within the call's limits, inline or on the blocking
    /// pool, and makes the response from the findings. The place the
    /// request holds goes with the work, so it is held until the scan
    /// really ends.
    async fn scan_text<T: Send + 'static>(
        &self,
        text: String,
        options: ScanOptions,
        call: &Call,
        respond: impl FnOnce(&str, &[Finding<'_>]) -> T + Send + 'static,
    ) -> Result<T, Status> {
        self.check_text_size(&text)?;
        self.state.metrics.scanned(text.len());
        let inline = text.len() <= INLINE_LIMIT;
        let state = self.state.clone();
        let limits = call.limits.clone();
        let admission = call.admission.clone();
        let work = move || {
            let _admission = admission;
            let found = state
                .scanner
                .try_scan_with(&text, &options, &limits)
                .map_err(|e| scan_status(&e, &state.metrics))?;
            count_findings(&state.metrics, &found);
            Ok(respond(&text, &found))
        };
        if inline {
            return work();
        }
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| Status::internal("the scan task failed"))?
    }

    /// Counts and logs a finished call.
    /// RESOURCE_EXHAUSTED for a request text over the limit.
    fn check_text_size(&self, text: &str) -> Result<(), Status> {
        let max = self.state.limits.max_request_bytes;
        if text.len() > max {
            return Err(Status::resource_exhausted(format!(
                "text is {} bytes; the limit is {max} bytes",
                text.len()
            )));
        }
        Ok(())
    }

    /// The vault keys, or FAILED_PRECONDITION naming the setting.
    pub(crate) fn vault_keys(&self) -> Result<Arc<[VaultKey]>, Status> {
        if self.state.vault_keys.is_empty() {
            return Err(Status::failed_precondition(
                "pseudonyms need a vault key: start the server with --vault-key-file FILE \
                 (or FILTER_VAULT_KEY_FILE)",
            ));
        }
        Ok(self.state.vault_keys.clone())
    }

    fn finish<T>(
        &self,
        rpc: Rpc,
        id: Option<RequestId>,
        started: Instant,
        bytes: usize,
        r: &Result<T, Status>,
        found: usize,
    ) {
        let code = r.as_ref().map_or_else(Status::code, |_| Code::Ok);
        self.state.metrics.request(rpc, code, started.elapsed());
        tracing::debug!(
            rpc = rpc.as_str(),
            request_id = id.as_ref().map_or("-", RequestId::as_str),
            code = ?code,
            bytes,
            findings = found,
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
    }
}

fn count_findings(metrics: &Metrics, found: &[Finding<'_>]) {
    if !found.is_empty() {
        metrics.findings(found.iter().map(|f| (f.kind().as_str(), f.category())));
    }
}

type ScanStreamStream = Pin<Box<dyn Stream<Item = Result<ScanStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ContentFilterService for FilterService {
    async fn scan(&self, request: Request<ScanRequest>) -> Result<Response<ScanResponse>, Status> {
        let started = Instant::now();
        let id = RequestId::of(&request);
        let call = self.call(&request);
        let r = request.into_inner();
        let bytes = r.text.len();
        let result = async {
            let options = self.options(&r.kinds, &r.categories, r.min_confidence)?;
            let response = self
                .scan_text(r.text, options, &call, |text, found| ScanResponse {
                    findings: convert::findings(text, found),
                    verdict: convert::verdict(found) as i32,
                })
                .await?;
            check_response_size(&response, &self.state.limits, &self.state.metrics)?;
            Ok(response)
        }
        .await;
        let found = result.as_ref().map_or(0, |r| r.findings.len());
        self.finish(Rpc::Scan, id, started, bytes, &result, found);
        result.map(Response::new)
    }

    async fn redact(
        &self,
        request: Request<RedactRequest>,
    ) -> Result<Response<RedactResponse>, Status> {
        let started = Instant::now();
        let id = RequestId::of(&request);
        let call = self.call(&request);
        let r = request.into_inner();
        let bytes = r.text.len();
        let result = async {
            let options = self.options(&r.kinds, &r.categories, r.min_confidence)?;
            let policy = convert::policy(&r.operators, self.state.hash_key.as_ref())?;
            let response = if let Some(mode) = convert::pseudonym_mode(r.pseudonym_mode)? {
                convert::no_pii_operators(&r.operators)?;
                let keys = self.vault_keys()?;
                let mut vault = open_vault(&keys, &r.vault)?;
                let state = self.state.clone();
                self.scan_text(r.text, options, &call, move |text, found| {
                    let pseudo = state
                        .scanner
                        .pseudonymize_found(text, found, mode, &mut vault, &policy)?;
                    Ok(RedactResponse {
                        text: pseudo,
                        findings: convert::findings(text, found),
                        verdict: convert::verdict(found) as i32,
                        vault: vault.seal(&keys[0]),
                    })
                })
                .await?
                .map_err(|e: filter_core::Error| {
                    Status::resource_exhausted(format!("vault: {e}"))
                })?
            } else {
                self.scan_text(r.text, options, &call, move |text, found| RedactResponse {
                    text: policy.apply(text, found).into_owned(),
                    findings: convert::findings(text, found),
                    verdict: convert::verdict(found) as i32,
                    vault: Vec::new(),
                })
                .await?
            };
            check_response_size(&response, &self.state.limits, &self.state.metrics)?;
            Ok(response)
        }
        .await;
        let found = result.as_ref().map_or(0, |r| r.findings.len());
        self.finish(Rpc::Redact, id, started, bytes, &result, found);
        result.map(Response::new)
    }

    async fn restore(
        &self,
        request: Request<RestoreRequest>,
    ) -> Result<Response<RestoreResponse>, Status> {
        let started = Instant::now();
        let id = RequestId::of(&request);
        let r = request.into_inner();
        let bytes = r.text.len();
        let result = async {
            self.check_text_size(&r.text)?;
            if r.vault.is_empty() {
                return Err(invalid_argument(
                    "vault",
                    "required (the vault Redact returned)",
                ));
            }
            let keys = self.vault_keys()?;
            let vault = open_vault(&keys, &r.vault)?;
            let state = self.state.clone();
            let work = move || RestoreResponse {
                text: state.scanner.restore(&r.text, &vault).into_owned(),
            };
            // Surrogates are found by scanning: a long text goes to the
            // blocking pool, as a scan does.
            let response = if bytes <= INLINE_LIMIT {
                work()
            } else {
                tokio::task::spawn_blocking(work)
                    .await
                    .map_err(|_| Status::internal("the restore task failed"))?
            };
            check_response_size(&response, &self.state.limits, &self.state.metrics)?;
            Ok(response)
        }
        .await;
        self.finish(Rpc::Restore, id, started, bytes, &result, 0);
        result.map(Response::new)
    }

    type ScanStreamStream = ScanStreamStream;

    async fn scan_stream(
        &self,
        request: Request<tonic::Streaming<ScanStreamRequest>>,
    ) -> Result<Response<Self::ScanStreamStream>, Status> {
        Ok(Response::new(crate::stream::start(self.clone(), request)))
    }

    async fn reload_wordlists(
        &self,
        request: Request<ReloadWordlistsRequest>,
    ) -> Result<Response<ReloadWordlistsResponse>, Status> {
        let started = Instant::now();
        let id = RequestId::of(&request);
        let result = match self.state.reloader.reload().await {
            Ok(r) => Ok(ReloadWordlistsResponse {
                ok: true,
                terms: r.lexicon.term_count() as u32,
                categories: r.lexicon.categories().count() as u32,
                error: String::new(),
                warnings: r
                    .lexicon
                    .warnings()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            }),
            Err(e) => Err(reload_status(&e)),
        };
        self.finish(Rpc::ReloadWordlists, id, started, 0, &result, 0);
        result.map(Response::new)
    }
}

/// A failed reload: FAILED_PRECONDITION naming the file and line, which
/// also travel as `wordlist-file` and `wordlist-line` trailers.
fn reload_status(e: &ReloadError) -> Status {
    wordlist_error(
        format!("{e}; the old lists stay in service"),
        e.file().map(|f| f.display().to_string()),
        e.line(),
    )
}
