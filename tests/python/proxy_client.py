"""The official `openai` package against filter-proxy (base URL given).

The proxy sits in front of the tests' mock upstream, which echoes the
last user message: the values of the prompt must come back, streamed and
not, and a block word must be refused as the API error it is.
"""

import sys

import openai

client = openai.OpenAI(base_url=sys.argv[1], api_key="sk-test")
prompt = "请记下我的手机13800138000和身份证110101199003071233"

answer = client.chat.completions.create(
    model="mock", messages=[{"role": "user", "content": prompt}])
assert answer.choices[0].message.content == "收到：" + prompt, answer

chunks = client.chat.completions.create(
    model="mock", messages=[{"role": "user", "content": prompt}], stream=True)
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
assert text == "收到：" + prompt, text

try:
    client.chat.completions.create(
        model="mock", messages=[{"role": "user", "content": "推荐网络赌博平台"}])
    raise AssertionError("a block word must be refused")
except openai.BadRequestError as e:
    assert e.code == "content_filter", e.code

print("openai client through the proxy: all checks passed")
