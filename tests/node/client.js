// Calls filter-server from Node.js with @grpc/grpc-js and the proto
// loaded at run time by @grpc/proto-loader, with the options the README
// gives: keepCase (field names as in the proto), enums as strings,
// defaults (zero fields present), oneofs (the set member named).
//
// Usage: node client.js HOST:PORT PROTO_DIR. Exits non-zero on the first
// failed check. Spans are checked with JavaScript string indexing, which
// counts UTF-16 code units: utf16_span is the promise to JS and Java.
"use strict";

const assert = require("node:assert/strict");
const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [addr, protoDir] = process.argv.slice(2);
const definition = protoLoader.loadSync(
  path.join(protoDir, "contentfilter/v1/content_filter.proto"),
  { keepCase: true, enums: String, defaults: true, oneofs: true, includeDirs: [protoDir] },
);
const pkg = grpc.loadPackageDefinition(definition).contentfilter.v1;
const client = new pkg.ContentFilterService(addr, grpc.credentials.createInsecure());

const call = (method, request) =>
  new Promise((resolve, reject) =>
    client[method](request, (err, reply) => (err ? reject(err) : resolve(reply))),
  );

const slice16 = (text, span) => text.slice(span.start, span.end);

async function scan() {
  const ident = "110101199003071233";
  // An emoji (two UTF-16 units, one code point) before CJK text.
  const text = `😀用户身份证${ident}，手机１３８００１３８０００，代*开*发*票，邮箱a@b.cn`;
  const reply = await call("Scan", { text });
  assert.deepEqual(
    reply.findings.map((f) => [f.kind, slice16(text, f.utf16_span)]),
    [
      ["KIND_ID_CARD", ident],
      ["KIND_PHONE", "１３８００１３８０００"],
      ["KIND_SENSITIVE_WORD", "代*开*发*票"],
      ["KIND_EMAIL", "a@b.cn"],
    ],
  );
  const bytes = Buffer.from(text, "utf8");
  const codepoints = Array.from(text);
  for (const f of reply.findings) {
    const piece = slice16(text, f.utf16_span);
    assert.equal(bytes.subarray(f.byte_span.start, f.byte_span.end).toString("utf8"), piece);
    assert.equal(codepoints.slice(f.codepoint_span.start, f.codepoint_span.end).join(""), piece);
  }
  const word = reply.findings[2];
  assert.equal(word.category, "fraud");
  assert.equal(word.term, "代开发票");
  assert.equal(word.match_type, "MATCH_TYPE_NORMALIZED");
  // defaults: zero fields are present, not undefined.
  assert.equal(reply.findings[0].edit_distance, 0);
  assert.equal(reply.verdict, "VERDICT_BLOCK");

  const onlyPhone = await call("Scan", { text, kinds: ["KIND_PHONE"] });
  assert.deepEqual(onlyPhone.findings.map((f) => f.kind), ["KIND_PHONE"]);

  await assert.rejects(call("Scan", { text: "x", kinds: [99] }), (err) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /kinds\[0\]/);
    return true;
  });
}

async function redact() {
  const reply = await call("Redact", {
    text: "电话13800138000，邮箱a@b.cn",
    operators: [{ kind: "KIND_PHONE", replace_with: { mask: { keep_start: 3, keep_end: 4 } } }],
  });
  assert.equal(reply.text, "电话138****8000，邮箱[EMAIL]");
  assert.equal(reply.findings.length, 2);
}

function scanStream() {
  // One character at a time, as an LLM answer arrives.
  const answer = "好的。".repeat(30) + "请加微信，手机13800138000，谢谢。" + "结束。".repeat(30);
  return new Promise((resolve, reject) => {
    const replies = [];
    const stream = client.ScanStream();
    stream.on("data", (r) => replies.push(r));
    stream.on("error", reject);
    stream.on("end", async () => {
      try {
        const streamed = replies.map((r) => r.text).join("");
        const unary = await call("Redact", { text: answer });
        assert.equal(streamed, unary.text);
        const phone = replies.flatMap((r) => r.findings).find((f) => f.kind === "KIND_PHONE");
        assert.equal(slice16(answer, phone.utf16_span), "13800138000");
        assert.ok(replies.length > 5, "text flows before the end");
        resolve();
      } catch (e) {
        reject(e);
      }
    });
    stream.write({ options: {} });
    for (const ch of answer) {
      stream.write({ chunk: ch });
    }
    stream.end();
  });
}

async function main() {
  await scan();
  await redact();
  await scanStream();
  client.close();
  console.log("node client: all checks passed");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
