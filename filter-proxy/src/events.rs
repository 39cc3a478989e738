//! Server-sent events of a streamed answer: split as they arrive (an event
//! may be cut anywhere between network reads), each `data:` payload
//! rewritten by the answer's filters, written back in the same framing.

use std::collections::BTreeMap;
use std::sync::Arc;

use filter_core::{Scanner, StreamRestorer, Vault};
use serde_json::Value;

use crate::answer::{ChoiceFilter, Piece};

/// Splits a byte stream into events (blocks ended by a blank line).
#[derive(Default)]
pub(crate) struct EventSplitter {
    buf: Vec<u8>,
}

impl EventSplitter {
    /// The events completed by `bytes`.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        loop {
            let end = find_blank_line(&self.buf);
            let Some((at, len)) = end else { break };
            let event: Vec<u8> = self.buf.drain(..at + len).take(at).collect();
            events.push(String::from_utf8_lossy(&event).into_owned());
        }
        events
    }

    /// What is left when the stream ends (an event without its blank line).
    pub(crate) fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        let rest = String::from_utf8_lossy(&rest).trim().to_string();
        (!rest.is_empty()).then_some(rest)
    }
}

/// Where the first blank line is, and its length (`\n\n` or `\r\n\r\n`).
fn find_blank_line(b: &[u8]) -> Option<(usize, usize)> {
    (0..b.len()).find_map(|i| {
        if b[i..].starts_with(b"\n\n") {
            Some((i, 2))
        } else if b[i..].starts_with(b"\r\n\r\n") {
            Some((i, 4))
        } else {
            None
        }
    })
}

/// The `data:` payload of an event and its other lines.
pub(crate) fn data_of(event: &str) -> (Option<String>, Vec<&str>) {
    let mut data: Option<String> = None;
    let mut other = Vec::new();
    for line in event.lines() {
        if let Some(d) = line.strip_prefix("data:") {
            let d = d.strip_prefix(' ').unwrap_or(d);
            match &mut data {
                Some(all) => {
                    all.push('\n');
                    all.push_str(d);
                }
                None => data = Some(d.to_string()),
            }
        } else {
            other.push(line);
        }
    }
    (data, other)
}

/// An event with `data` and the other lines it had.
pub(crate) fn event(other: &[&str], data: &str) -> String {
    let mut out = String::new();
    for line in other {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("data: ");
    out.push_str(data);
    out.push_str("\n\n");
    out
}

/// Which field of a choice carries the answer's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextField {
    /// Chat completions: `delta.content` in events, `message.content`
    /// whole.
    Chat,
    /// Completions: `text`.
    Completion,
}

impl TextField {
    fn streamed(self) -> &'static str {
        match self {
            TextField::Chat => "/delta/content",
            TextField::Completion => "/text",
        }
    }
}

/// The filters of one choice.
struct Choice {
    text: ChoiceFilter,
    /// Tool-call arguments by tool index: placeholders restored.
    tools: BTreeMap<u64, StreamRestorer<Arc<Vault>>>,
    ended: bool,
}

/// Rewrites the events of one streamed answer.
pub(crate) struct AnswerStream {
    scanner: Arc<Scanner>,
    vault: Arc<Vault>,
    field: TextField,
    /// The choices the request asked for (`n`).
    n: u64,
    choices: BTreeMap<u64, Choice>,
    ended: u64,
    /// A choice was stopped at a block-category word, for the log.
    pub(crate) stopped_by_filter: bool,
}

/// What one upstream event becomes.
pub(crate) struct Rewritten {
    /// The payloads to send, in order (`[DONE]` included).
    pub(crate) data: Vec<String>,
    /// Every choice has ended: the stream is over for the client.
    pub(crate) over: bool,
}

impl AnswerStream {
    pub(crate) fn new(scanner: Arc<Scanner>, vault: Arc<Vault>, field: TextField, n: u64) -> Self {
        AnswerStream {
            scanner,
            vault,
            field,
            n: n.max(1),
            choices: BTreeMap::new(),
            ended: 0,
            stopped_by_filter: false,
        }
    }

    /// Rewrites one event's payload.
    pub(crate) fn rewrite(&mut self, data: &str) -> Rewritten {
        if data.trim() == "[DONE]" {
            return Rewritten {
                data: vec!["[DONE]".into()],
                over: true,
            };
        }
        let Ok(mut v) = serde_json::from_str::<Value>(data) else {
            // Not JSON: nothing of ours to filter in it (an error text).
            return Rewritten {
                data: vec![data.to_string()],
                over: false,
            };
        };
        let had_choices = v
            .get("choices")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        if let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) {
            let mut kept = Vec::with_capacity(choices.len());
            for mut choice in choices.drain(..) {
                if self.rewrite_choice(&mut choice) {
                    kept.push(choice);
                }
            }
            *choices = kept;
        }
        // An event whose text was all held back says nothing yet.
        let empty = v
            .get("choices")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().all(|c| says_nothing(c, self.field)));
        let mut data = Vec::new();
        if !(had_choices && empty && v.get("usage").is_none_or(Value::is_null)) {
            data.push(v.to_string());
        }
        let over = self.ended >= self.n;
        if over {
            data.push("[DONE]".into());
        }
        Rewritten { data, over }
    }

    /// Rewrites one choice of an event; false drops it (its choice ended).
    fn rewrite_choice(&mut self, choice: &mut Value) -> bool {
        let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
        let (scanner, vault) = (&self.scanner, &self.vault);
        let state = self.choices.entry(index).or_insert_with(|| Choice {
            text: ChoiceFilter::new(scanner, vault.clone()),
            tools: BTreeMap::new(),
            ended: false,
        });
        if state.ended {
            return false;
        }
        let finishing = choice.get("finish_reason").is_some_and(|f| !f.is_null());
        let mut piece = match choice.pointer_mut(self.field.streamed()) {
            Some(Value::String(s)) => state.text.push(s),
            _ => Piece::default(),
        };
        if finishing && !piece.blocked {
            let tail = state.text.finish();
            piece.text += &tail.text;
            piece.blocked = tail.blocked;
        }
        let had_text = matches!(
            choice.pointer(self.field.streamed()),
            Some(Value::String(_))
        );
        if had_text || !piece.text.is_empty() {
            set_text(choice, self.field, piece.text);
        }
        if piece.blocked {
            self.stopped_by_filter = true;
            choice["finish_reason"] = Value::String("content_filter".into());
            if let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) {
                delta.remove("tool_calls");
            }
            state.ended = true;
            self.ended += 1;
            return true;
        }
        restore_tool_calls(choice, state, vault, finishing);
        if finishing {
            state.ended = true;
            self.ended += 1;
        }
        true
    }
}

/// Whether a streamed choice carries nothing: no text, no finish, no
/// other field in its delta (a role, a tool call).
fn says_nothing(choice: &Value, field: TextField) -> bool {
    let no_finish = choice.get("finish_reason").is_none_or(Value::is_null);
    let no_logprobs = choice.get("logprobs").is_none_or(Value::is_null);
    let quiet = match field {
        TextField::Chat => choice.get("delta").is_none_or(|d| {
            d.as_object().is_some_and(|d| {
                d.iter()
                    .all(|(k, v)| k == "content" && v.as_str().is_some_and(str::is_empty))
            })
        }),
        TextField::Completion => choice.get("text").and_then(Value::as_str) == Some(""),
    };
    no_finish && no_logprobs && quiet
}

/// Writes a choice's streamed text.
fn set_text(choice: &mut Value, field: TextField, text: String) {
    match field {
        TextField::Chat => {
            if !choice.get("delta").is_some_and(Value::is_object) {
                choice["delta"] = Value::Object(Default::default());
            }
            choice["delta"]["content"] = Value::String(text);
        }
        TextField::Completion => choice["text"] = Value::String(text),
    }
}

/// Restores placeholders in streamed tool-call arguments; at the end of
/// the choice, what each restorer still holds is added.
fn restore_tool_calls(choice: &mut Value, state: &mut Choice, vault: &Arc<Vault>, finishing: bool) {
    if let Some(calls) = choice
        .pointer_mut("/delta/tool_calls")
        .and_then(Value::as_array_mut)
    {
        for call in calls {
            let index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
            if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
                let restorer = state
                    .tools
                    .entry(index)
                    .or_insert_with(|| StreamRestorer::new(vault.clone()));
                *args = restorer.push(args);
            }
        }
    }
    if !finishing {
        return;
    }
    for (index, restorer) in std::mem::take(&mut state.tools) {
        let tail = restorer.finish();
        if tail.is_empty() {
            continue;
        }
        if !choice.get("delta").is_some_and(Value::is_object) {
            choice["delta"] = Value::Object(Default::default());
        }
        let delta = &mut choice["delta"];
        if !delta.get("tool_calls").is_some_and(Value::is_array) {
            delta["tool_calls"] = Value::Array(Vec::new());
        }
        if let Some(calls) = delta["tool_calls"].as_array_mut() {
            calls.push(serde_json::json!({"index": index, "function": {"arguments": tail}}));
        }
    }
}

/// Rewrites a whole (non-streamed) answer in place; returns whether a
/// choice was stopped.
pub(crate) fn rewrite_whole(
    scanner: &Scanner,
    vault: &Arc<Vault>,
    field: TextField,
    body: &mut Value,
) -> bool {
    let mut stopped = false;
    let Some(choices) = body.get_mut("choices").and_then(Value::as_array_mut) else {
        return false;
    };
    let pointer = match field {
        TextField::Chat => "/message/content",
        TextField::Completion => "/text",
    };
    for choice in choices {
        if let Some(Value::String(text)) = choice.pointer_mut(pointer) {
            let piece = ChoiceFilter::new(scanner, vault.clone()).whole(text);
            *text = piece.text;
            if piece.blocked {
                stopped = true;
                choice["finish_reason"] = Value::String("content_filter".into());
                if let Some(m) = choice.get_mut("message").and_then(Value::as_object_mut) {
                    m.remove("tool_calls");
                }
                continue;
            }
        }
        if let Some(calls) = choice
            .pointer_mut("/message/tool_calls")
            .and_then(Value::as_array_mut)
        {
            for call in calls {
                if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
                    *args = vault.restore(args).into_owned();
                }
            }
        }
    }
    stopped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere() {
        let stream = "data: {\"a\":1}\n\n: comment\ndata: [DONE]\r\n\r\n";
        for cut in 0..stream.len() {
            let mut s = EventSplitter::default();
            let mut events = s.push(&stream.as_bytes()[..cut]);
            events.extend(s.push(&stream.as_bytes()[cut..]));
            assert_eq!(
                events,
                ["data: {\"a\":1}", ": comment\ndata: [DONE]"],
                "cut {cut}"
            );
            assert_eq!(s.finish(), None);
        }
        assert_eq!(data_of(": c\ndata: x\ndata: y").0.as_deref(), Some("x\ny"));
    }
}
