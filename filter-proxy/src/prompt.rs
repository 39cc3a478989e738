//! Requests on their way out: every text a request carries (message
//! contents and their text parts, tool and function call arguments, a
//! completion's prompt, an embedding's input) has its personal data
//! replaced by placeholders recorded in one vault for the whole request,
//! so the same number is `[PHONE_1]` in every message of the history the
//! client resends; a block-category word stops the request.

use filter_core::{Action, PseudonymMode, RedactionPolicy, ScanOptions, Scanner, Vault};
use serde_json::Value;

/// A request that must not leave: a block-category word in it.
#[derive(Debug)]
pub(crate) struct Blocked {
    /// The word's category (never the word).
    pub(crate) category: String,
}

/// Pseudonymizes the texts of a request body in place.
pub(crate) struct PromptFilter<'a> {
    pub(crate) scanner: &'a Scanner,
    pub(crate) vault: &'a mut Vault,
    pub(crate) policy: &'a RedactionPolicy,
    /// Texts changed.
    pub(crate) changed: usize,
    /// Personal data replaced, by kind.
    pub(crate) kinds: std::collections::BTreeMap<&'static str, u64>,
}

impl PromptFilter<'_> {
    /// `/v1/chat/completions`: the messages.
    pub(crate) fn chat(&mut self, body: &mut Value) -> Result<(), Blocked> {
        let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        for message in messages {
            if let Some(content) = message.get_mut("content") {
                self.content(content)?;
            }
            if let Some(calls) = message.get_mut("tool_calls").and_then(Value::as_array_mut) {
                for call in calls {
                    if let Some(args) = call.pointer_mut("/function/arguments") {
                        self.text(args)?;
                    }
                }
            }
            if let Some(args) = message.pointer_mut("/function_call/arguments") {
                self.text(args)?;
            }
        }
        Ok(())
    }

    /// `/v1/completions`: the prompt, a string or a list of them.
    pub(crate) fn completion(&mut self, body: &mut Value) -> Result<(), Blocked> {
        match body.get_mut("prompt") {
            Some(prompt) => self.strings(prompt),
            None => Ok(()),
        }
    }

    /// `/v1/embeddings`: the input, a string or a list of them (token
    /// arrays pass as they are).
    pub(crate) fn embedding(&mut self, body: &mut Value) -> Result<(), Blocked> {
        match body.get_mut("input") {
            Some(input) => self.strings(input),
            None => Ok(()),
        }
    }

    /// A message's content: a string, or parts whose `text` parts are
    /// filtered (images and audio pass).
    fn content(&mut self, content: &mut Value) -> Result<(), Blocked> {
        match content {
            Value::Array(parts) => {
                for part in parts {
                    if part.get("type").and_then(Value::as_str) == Some("text") {
                        if let Some(text) = part.get_mut("text") {
                            self.text(text)?;
                        }
                    }
                }
                Ok(())
            }
            other => self.text(other),
        }
    }

    fn strings(&mut self, v: &mut Value) -> Result<(), Blocked> {
        match v {
            Value::Array(items) => items.iter_mut().try_for_each(|i| self.text(i)),
            other => self.text(other),
        }
    }

    /// One text, when `v` is a string.
    fn text(&mut self, v: &mut Value) -> Result<(), Blocked> {
        let Value::String(text) = v else {
            return Ok(());
        };
        let found = self.scanner.scan_with(text, &ScanOptions::new());
        if found.is_empty() {
            return Ok(());
        }
        if let Some(word) = found.iter().find(|f| f.action() == Some(Action::Block)) {
            return Err(Blocked {
                category: word.category().to_string(),
            });
        }
        for f in found.iter().filter(|f| f.kind().is_pii()) {
            *self.kinds.entry(f.kind().as_str()).or_default() += 1;
        }
        let pseudo = self
            .scanner
            .pseudonymize_found(
                text,
                &found,
                PseudonymMode::Placeholder,
                self.vault,
                self.policy,
            )
            .map_err(|_| Blocked {
                category: "too many values".into(),
            })?;
        if pseudo != *text {
            self.changed += 1;
            *text = pseudo;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_text_of_a_chat_request() {
        let scanner = Scanner::new();
        let mut vault = Vault::new();
        let policy = RedactionPolicy::new();
        let mut body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "客服"},
                {"role": "user", "content": "我的手机13800138000"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "t", "type": "function", "function": {"name": "call", "arguments": "{\"phone\":\"13800138000\"}"}}
                ]},
                {"role": "user", "content": [
                    {"type": "text", "text": "身份证110101199003071233"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,13800138000"}}
                ]}
            ]
        });
        let mut f = PromptFilter {
            scanner: &scanner,
            vault: &mut vault,
            policy: &policy,
            changed: 0,
            kinds: Default::default(),
        };
        f.chat(&mut body).unwrap();
        assert_eq!(f.changed, 3);
        assert_eq!(body["messages"][1]["content"], "我的手机[PHONE_1]");
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"phone\":\"[PHONE_1]\"}"
        );
        assert_eq!(
            body["messages"][3]["content"][0]["text"],
            "身份证[ID_CARD_1]"
        );
        assert_eq!(
            body["messages"][3]["content"][1]["image_url"]["url"],
            "data:image/png;base64,13800138000",
            "images pass"
        );
    }
}
