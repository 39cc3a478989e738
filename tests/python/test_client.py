"""Calls filter-server with stubs generated from proto/ by grpcio-tools.

The server is started with a vault key (pseudonyms and Restore).

Usage: test_client.py HOST:PORT STUBS_DIR. Exits non-zero on the first
failed check. Offsets are checked with Python string indexing through
codepoint_span: this is the promise to other languages.
"""

import sys

sys.path.insert(0, sys.argv[2])

import grpc  # noqa: E402
from contentfilter.v1 import content_filter_pb2 as pb  # noqa: E402
from contentfilter.v1 import content_filter_pb2_grpc as rpc  # noqa: E402


def main() -> None:
    channel = grpc.insecure_channel(sys.argv[1])
    stub = rpc.ContentFilterServiceStub(channel)
    ident = "110101199003071233"
    from stdnum.cn import ric
    assert ric.is_valid(ident), "the test ID is valid by python-stdnum"
    # Emoji (two UTF-16 units), CJK (three UTF-8 bytes): three different
    # offset units.
    text = f"😀用户身份证{ident}，手机１３８００１３８０００，代*开*发*票，邮箱a@b.cn"

    reply = stub.Scan(pb.ScanRequest(text=text))
    got = [(pb.Kind.Name(f.kind), text[f.codepoint_span.start:f.codepoint_span.end]) for f in reply.findings]
    want = [
        ("KIND_ID_CARD", ident),
        ("KIND_PHONE", "１３８００１３８０００"),
        ("KIND_SENSITIVE_WORD", "代*开*发*票"),
        ("KIND_EMAIL", "a@b.cn"),
    ]
    assert got == want, f"scan: {got!r} != {want!r}"
    encoded = text.encode("utf-8")
    for f in reply.findings:
        piece = text[f.codepoint_span.start:f.codepoint_span.end]
        assert encoded[f.byte_span.start:f.byte_span.end].decode("utf-8") == piece, "byte span"
        utf16 = text.encode("utf-16-le")
        assert utf16[2 * f.utf16_span.start:2 * f.utf16_span.end].decode("utf-16-le") == piece, "utf16 span"
    word = reply.findings[2]
    assert word.category == "fraud" and word.term == "代开发票", word
    assert pb.MatchType.Name(word.match_type) == "MATCH_TYPE_NORMALIZED"
    assert pb.Verdict.Name(reply.verdict) == "VERDICT_BLOCK", reply.verdict

    only_phone = stub.Scan(pb.ScanRequest(text=text, kinds=[pb.KIND_PHONE]))
    assert [pb.Kind.Name(f.kind) for f in only_phone.findings] == ["KIND_PHONE"]

    mask = pb.Operator(mask=pb.Operator.Mask(keep_start=3, keep_end=4))
    redacted = stub.Redact(
        pb.RedactRequest(
            text="电话13800138000，邮箱a@b.cn",
            operators=[pb.OperatorOverride(kind=pb.KIND_PHONE, replace_with=mask)],
        )
    )
    assert redacted.text == "电话138****8000，邮箱[EMAIL]", redacted.text
    assert len(redacted.findings) == 2

    try:
        stub.Scan(pb.ScanRequest(text="x", kinds=[99]))
        raise AssertionError("an unknown kind must fail")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code()
        assert "kinds[0]" in e.details(), e.details()

    # ScanStream: one character at a time, as an LLM answer arrives.
    answer = "好的。" * 30 + "请加微信，手机13800138000，谢谢。" + "结束。" * 30
    def chunks():
        yield pb.ScanStreamRequest(options=pb.ScanStreamOptions())
        for ch in answer:
            yield pb.ScanStreamRequest(chunk=ch)
    replies = list(stub.ScanStream(chunks()))
    streamed = "".join(r.text for r in replies)
    unary = stub.Redact(pb.RedactRequest(text=answer))
    assert streamed == unary.text, (streamed, unary.text)
    spans = [(f.kind, f.codepoint_span.start, f.codepoint_span.end) for r in replies for f in r.findings]
    assert spans == [(f.kind, f.codepoint_span.start, f.codepoint_span.end) for f in unary.findings]
    phone = [f for r in replies for f in r.findings if f.kind == pb.KIND_PHONE][0]
    assert answer[phone.codepoint_span.start:phone.codepoint_span.end] == "13800138000"
    assert len(replies) > 5, "text flows before the end"

    # Answers with many findings come back whole (the socket's Nagle
    # setting is checked in the server's own tests, not by timing here).
    many = "".join(f"客户{i}的手机是1380013{i:04}，" for i in range(25))
    for _ in range(3):
        assert len(stub.Scan(pb.ScanRequest(text=many)).findings) == 25

    # A stream that cannot be drained ends with an error status, never OK,
    # and releases nothing it held back.
    def oversized():
        yield pb.ScanStreamRequest(options=pb.ScanStreamOptions())
        yield pb.ScanStreamRequest(chunk="你好，我的手机是13800138000，")
        yield pb.ScanStreamRequest(chunk="字" * ((5 << 20) // 3))
        yield pb.ScanStreamRequest(chunk="再见")
    released = ""
    try:
        for r in stub.ScanStream(oversized()):
            released += r.text
        raise AssertionError("a truncated stream ended OK")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e.code()
    assert "13800138000" not in released and "再见" not in released, released

    # Pseudonyms: two turns through the sealed vault the client carries,
    # then the values put back into an answer.
    placeholder = pb.PSEUDONYM_MODE_PLACEHOLDER
    first = stub.Redact(pb.RedactRequest(text="给13800138000写信", pseudonym_mode=placeholder))
    assert first.text == "给[PHONE_1]写信", first.text
    second = stub.Redact(pb.RedactRequest(
        text="还有+86 138 0013 8000和13900139000", vault=first.vault, pseudonym_mode=placeholder))
    assert second.text == "还有[PHONE_1]和[PHONE_2]", second.text
    back = stub.Restore(pb.RestoreRequest(text="请致电【phone_2】或[PHONE_1]", vault=second.vault))
    assert back.text == "请致电13900139000或13800138000", back.text
    tampered = bytearray(second.vault)
    tampered[-1] ^= 1
    try:
        stub.Restore(pb.RestoreRequest(text="[PHONE_1]", vault=bytes(tampered)))
        raise AssertionError("a changed vault must be refused")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code()

    # Surrogates: a valid fake number in the prompt, restored from an
    # answer that re-writes it, and a restoring stream that also redacts
    # a number the model made up.
    sur = stub.Redact(pb.RedactRequest(
        text="手机138 0013 8000", pseudonym_mode=pb.PSEUDONYM_MODE_SURROGATE))
    fake = sur.text[len("手机"):]
    assert fake.startswith("138 0") and fake != "138 0013 8000", sur.text
    compact = fake.replace(" ", "")
    back = stub.Restore(pb.RestoreRequest(text="已拨" + compact, vault=sur.vault))
    assert back.text == "已拨138 0013 8000", back.text

    def restoring():
        yield pb.ScanStreamRequest(options=pb.ScanStreamOptions(vault=sur.vault))
        yield pb.ScanStreamRequest(chunk="已拨" + compact[:5])
        yield pb.ScanStreamRequest(chunk=compact[5:] + "，另有13900139000")
    streamed = "".join(r.text for r in stub.ScanStream(restoring()))
    assert streamed == "已拨138 0013 8000，另有[PHONE]", streamed

    # ReloadWordlists is closed without an admin token.
    try:
        stub.ReloadWordlists(pb.ReloadWordlistsRequest())
        raise AssertionError("ReloadWordlists must be closed by default")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.PERMISSION_DENIED, e.code()

    print("python client: all checks passed")


if __name__ == "__main__":
    main()
