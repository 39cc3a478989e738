// Calls filter-server from Go with stubs generated from proto/ by
// protoc-gen-go and protoc-gen-go-grpc (the import path from the proto's
// go_package). Usage: client HOST:PORT. Exits non-zero on the first
// failed check. Go strings are UTF-8 bytes: byte_span slices them; the
// code-point and UTF-16 spans are checked against []rune and utf16.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf16"

	contentfilterv1 "github.com/contentfilter/contentfilter/gen/go/contentfilter/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go client: "+format+"\n", args...)
	os.Exit(1)
}

func check(ok bool, format string, args ...interface{}) {
	if !ok {
		fail(format, args...)
	}
}

func scan(ctx context.Context, client contentfilterv1.ContentFilterServiceClient) {
	ident := "110101199003071233"
	// An emoji (4 UTF-8 bytes, 2 UTF-16 units, 1 code point) before CJK.
	text := "😀用户身份证" + ident + "，手机１３８００１３８０００，代*开*发*票，邮箱a@b.cn"
	reply, err := client.Scan(ctx, &contentfilterv1.ScanRequest{Text: text})
	check(err == nil, "Scan: %v", err)
	want := [][2]string{
		{"KIND_ID_CARD", ident},
		{"KIND_PHONE", "１３８００１３８０００"},
		{"KIND_SENSITIVE_WORD", "代*开*发*票"},
		{"KIND_EMAIL", "a@b.cn"},
	}
	check(len(reply.Findings) == len(want), "Scan: %d findings, want %d", len(reply.Findings), len(want))
	runes := []rune(text)
	units := utf16.Encode(runes)
	for i, f := range reply.Findings {
		piece := text[f.ByteSpan.Start:f.ByteSpan.End]
		check(f.Kind.String() == want[i][0] && piece == want[i][1], "finding %d: %s %q", i, f.Kind, piece)
		check(string(runes[f.CodepointSpan.Start:f.CodepointSpan.End]) == piece, "codepoint span %d", i)
		check(string(utf16.Decode(units[f.Utf16Span.Start:f.Utf16Span.End])) == piece, "utf16 span %d", i)
	}
	word := reply.Findings[2]
	check(word.Category == "fraud" && word.Term == "代开发票", "word: %v", word)
	check(word.MatchType == contentfilterv1.MatchType_MATCH_TYPE_NORMALIZED, "match type %v", word.MatchType)
	check(reply.Verdict == contentfilterv1.Verdict_VERDICT_BLOCK, "verdict %v", reply.Verdict)

	_, err = client.Scan(ctx, &contentfilterv1.ScanRequest{Text: "x", Kinds: []contentfilterv1.Kind{99}})
	st, _ := status.FromError(err)
	check(st.Code() == codes.InvalidArgument, "unknown kind: %v", err)
	check(strings.Contains(st.Message(), "kinds[0]"), "message: %s", st.Message())
}

func redact(ctx context.Context, client contentfilterv1.ContentFilterServiceClient) {
	mask := &contentfilterv1.Operator{Method: &contentfilterv1.Operator_Mask_{
		Mask: &contentfilterv1.Operator_Mask{KeepStart: 3, KeepEnd: 4},
	}}
	reply, err := client.Redact(ctx, &contentfilterv1.RedactRequest{
		Text:      "电话13800138000，邮箱a@b.cn",
		Operators: []*contentfilterv1.OperatorOverride{{Kind: contentfilterv1.Kind_KIND_PHONE, ReplaceWith: mask}},
	})
	check(err == nil, "Redact: %v", err)
	check(reply.Text == "电话138****8000，邮箱[EMAIL]", "Redact: %q", reply.Text)
}

func scanStream(ctx context.Context, client contentfilterv1.ContentFilterServiceClient) {
	// One character at a time, as an LLM answer arrives.
	answer := strings.Repeat("好的。", 30) + "请加微信，手机13800138000，谢谢。" + strings.Repeat("结束。", 30)
	stream, err := client.ScanStream(ctx)
	check(err == nil, "ScanStream: %v", err)
	err = stream.Send(&contentfilterv1.ScanStreamRequest{Message: &contentfilterv1.ScanStreamRequest_Options{
		Options: &contentfilterv1.ScanStreamOptions{},
	}})
	check(err == nil, "send options: %v", err)
	done := make(chan error, 1)
	var replies []*contentfilterv1.ScanStreamResponse
	go func() {
		for {
			r, err := stream.Recv()
			if err == io.EOF {
				done <- nil
				return
			}
			if err != nil {
				done <- err
				return
			}
			replies = append(replies, r)
		}
	}()
	for _, ch := range answer {
		err = stream.Send(&contentfilterv1.ScanStreamRequest{Message: &contentfilterv1.ScanStreamRequest_Chunk{Chunk: string(ch)}})
		check(err == nil, "send chunk: %v", err)
	}
	check(stream.CloseSend() == nil, "CloseSend")
	check(<-done == nil, "ScanStream receive")
	var streamed strings.Builder
	var phone *contentfilterv1.Finding
	for _, r := range replies {
		streamed.WriteString(r.Text)
		for _, f := range r.Findings {
			if f.Kind == contentfilterv1.Kind_KIND_PHONE {
				phone = f
			}
		}
	}
	unary, err := client.Redact(ctx, &contentfilterv1.RedactRequest{Text: answer})
	check(err == nil, "Redact: %v", err)
	check(streamed.String() == unary.Text, "streamed %q != %q", streamed.String(), unary.Text)
	check(phone != nil && answer[phone.ByteSpan.Start:phone.ByteSpan.End] == "13800138000", "stream phone %v", phone)
	check(len(replies) > 5, "text flows before the end: %d replies", len(replies))
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: client HOST:PORT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, os.Args[1], grpc.WithInsecure(), grpc.WithBlock())
	check(err == nil, "dial: %v", err)
	defer conn.Close()
	client := contentfilterv1.NewContentFilterServiceClient(conn)
	scan(ctx, client)
	redact(ctx, client)
	scanStream(ctx, client)
	fmt.Println("go client: all checks passed")
}
