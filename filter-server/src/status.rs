//! Error statuses a client can act on: INVALID_ARGUMENT names the field in
//! a `google.rpc.BadRequest` detail, and a word-list error carries a
//! `google.rpc.ErrorInfo` with the file and line, beside the messages
//! people read (`grpc-status-details-bin`, as every gRPC library's
//! rich-error support reads it).

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The domain of our `ErrorInfo` reasons.
pub(crate) const ERROR_DOMAIN: &str = "contentfilter.v1";

/// The `ErrorInfo` reason of a word list that does not load.
pub(crate) const WORDLIST_INVALID: &str = "WORDLIST_INVALID";

/// INVALID_ARGUMENT for `field` (a path such as `operators[0].kind`): the
/// message `field: description`, and the same as a field violation.
pub(crate) fn invalid_argument(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// FAILED_PRECONDITION for word lists that did not load: `message` for
/// people, and an `ErrorInfo` whose metadata holds `file` and `line` when
/// known. The same values also travel as the `wordlist-file` and
/// `wordlist-line` trailers.
pub(crate) fn wordlist_error(message: String, file: Option<String>, line: Option<usize>) -> Status {
    let mut metadata = HashMap::new();
    if let Some(file) = &file {
        metadata.insert("file".to_string(), file.clone());
    }
    if let Some(line) = line {
        metadata.insert("line".to_string(), line.to_string());
    }
    let mut status = Status::with_error_details(
        Code::FailedPrecondition,
        message,
        ErrorDetails::with_error_info(WORDLIST_INVALID, ERROR_DOMAIN, metadata),
    );
    if let Some(v) = file.and_then(|f| f.parse().ok()) {
        status.metadata_mut().insert("wordlist-file", v);
    }
    if let Some(line) = line {
        status.metadata_mut().insert("wordlist-line", line.into());
    }
    status
}
