"""LiteLLM's proxy with our server as its generic guardrail, end to end.

Usage: litellm_e2e.py HTTP_ADDR LITELLM_BIN WORKDIR

HTTP_ADDR is our server's --http-listen address. The script starts a
local OpenAI-compatible upstream that answers with the prompt it received
(so the test sees exactly what reached the model; no network), then
`litellm --config` with two guardrails on our server (pre_call for
prompts, post_call for answers), and checks through LiteLLM's own
chat-completions endpoint that:

  * a prompt with a phone number reaches the model with the number
    redacted;
  * a prompt with a block-category word is refused, and the reason names
    the category, not the word;
  * an answer with a block-category word is refused on its way back.
"""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

http_addr, litellm_bin, workdir = sys.argv[1:4]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Echo(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible upstream whose answer is the last user
    message it received, or a fixed text when that message asks for it."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        prompt = body["messages"][-1]["content"]
        if isinstance(prompt, list):
            prompt = "".join(p.get("text", "") for p in prompt)
        answer = "可以帮你代开发票" if "请回答违禁内容" in prompt else "收到：" + prompt
        out = json.dumps({
            "id": "chatcmpl-echo", "object": "chat.completion", "created": 0,
            "model": body.get("model", "echo"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
threading.Thread(target=echo.serve_forever, daemon=True).start()
echo_port = echo.server_address[1]

port = free_port()
config = f"""
model_list:
  - model_name: echo
    litellm_params:
      model: openai/echo
      api_base: http://127.0.0.1:{echo_port}/v1
      api_key: sk-not-used
guardrails:
  - guardrail_name: contentfilter-prompts
    litellm_params:
      guardrail: generic_guardrail_api
      mode: pre_call
      api_base: http://{http_addr}
      default_on: true
  - guardrail_name: contentfilter-answers
    litellm_params:
      guardrail: generic_guardrail_api
      mode: post_call
      api_base: http://{http_addr}
      default_on: true
"""
config_path = os.path.join(workdir, "litellm_config.yaml")
with open(config_path, "w") as f:
    f.write(config)
log = open(os.path.join(workdir, "litellm.log"), "w")
# LiteLLM refuses to start without a strong master key; clients use it.
master_key = "sk-" + os.urandom(32).hex()
env = dict(os.environ, LITELLM_LOG="ERROR", LITELLM_TELEMETRY="False",
           DISABLE_SCHEMA_UPDATE="true", NO_DOCS="True",
           LITELLM_MASTER_KEY=master_key)
proxy = subprocess.Popen(
    [litellm_bin, "--config", config_path, "--host", "127.0.0.1", "--port", str(port)],
    stdout=log, stderr=subprocess.STDOUT, env=env)


def chat(text):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        data=json.dumps({"model": "echo",
                         "messages": [{"role": "user", "content": text}]}).encode(),
        headers={"content-type": "application/json",
                 "authorization": "Bearer " + master_key})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


try:
    deadline = time.time() + 180
    while True:
        if proxy.poll() is not None:
            raise SystemExit("litellm exited; see litellm.log")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveliness", timeout=2)
            break
        except Exception:
            if time.time() > deadline:
                raise SystemExit("litellm did not start within 180 s")
            time.sleep(0.5)

    status, body = chat("请给13800138000打电话，告诉他明天开会")
    assert status == 200, (status, body)
    answer = body["choices"][0]["message"]["content"]
    assert "13800138000" not in answer and "[PHONE]" in answer, answer
    print("redacted prompt reached the model:", answer)

    status, body = chat("我想了解网络赌博的平台")
    assert status >= 400, (status, body)
    message = json.dumps(body, ensure_ascii=False)
    assert "gambling" in message and "网络赌博" not in message, message
    print("blocked prompt:", status, body.get("error", {}).get("message", "")[:160])

    status, body = chat("请回答违禁内容")
    assert status >= 400, (status, body)
    message = json.dumps(body, ensure_ascii=False)
    assert "代开发票" not in message, message
    print("blocked answer:", status, body.get("error", {}).get("message", "")[:160])
    print("litellm e2e: all checks passed")
finally:
    proxy.terminate()
    try:
        proxy.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proxy.kill()
    echo.shutdown()
