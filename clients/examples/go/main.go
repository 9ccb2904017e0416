// Command ask asks vet-analytics a question from Go, then a follow-up in the
// same session, printing each streamed AskEvent as it arrives; last, a
// question on a session that does not exist shows the error's ErrorInfo
// reason (SESSION_NOT_FOUND), which grpc-go's status package decodes from
// the grpc-status-details-bin trailer.
//
// The vetanalytics/v1 package is generated from the proto (protoc-gen-go
// and protoc-gen-go-grpc); google.rpc's errdetails comes from genproto. See
// ../README.md for building it with Debian's Go packages, offline.
//
//	ask -addr 127.0.0.1:50051 [-practice demo] [-api_key demo-key]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "vet-analytics/gen/go/vetanalytics/v1"
)

var (
	addr     = flag.String("addr", "127.0.0.1:50051", "the server's gRPC address")
	practice = flag.String("practice", "demo", "the practice id")
	apiKey   = flag.String("api_key", "demo-key", "the practice's API key")
)

// ask streams one question's events and returns the session it ran in.
func ask(ctx context.Context, client pb.AnalyticsServiceClient, question, session string) (string, error) {
	fmt.Printf("> %s\n", question)
	stream, err := client.Ask(ctx, &pb.AskRequest{
		PracticeId: *practice, Question: question, SessionId: session})
	if err != nil {
		return "", err
	}
	for {
		event, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return session, nil // the stream ended OK
		}
		if err != nil {
			return "", err
		}
		// The oneof is a Go interface: switch on its concrete type.
		switch e := event.Event.(type) {
		case *pb.AskEvent_SessionStarted:
			session = e.SessionStarted.SessionId
			fmt.Printf("[%d] session %s turn %d\n", event.Seq, session, e.SessionStarted.Turn)
		case *pb.AskEvent_BudgetCheck:
			fmt.Printf("[%d] budget: allowed=%v model=%s\n", event.Seq,
				e.BudgetCheck.Allowed, e.BudgetCheck.Model)
		case *pb.AskEvent_CodeGenerated:
			fmt.Printf("[%d] code: %s\n", event.Seq, e.CodeGenerated.Summary)
		case *pb.AskEvent_Artifact:
			fmt.Printf("[%d] artifact %s (%d bytes)\n", event.Seq, e.Artifact.Name, len(e.Artifact.Data))
		case *pb.AskEvent_FinalAnswer:
			fmt.Printf("[%d] answer: %s\n", event.Seq, e.FinalAnswer.Text)
		default:
			fmt.Printf("[%d] %T\n", event.Seq, e)
		}
	}
}

// reason is the ErrorInfo reason of a gRPC error, "" if it carries none.
func reason(err error) string {
	for _, detail := range status.Convert(err).Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}

func main() {
	flag.Parse()
	// Plaintext suits a server on loopback; use credentials.NewTLS for TLS.
	// (Debian 12's grpc-go 1.33 predates credentials/insecure, whose
	// insecure.NewCredentials() newer grpc-go prefers to WithInsecure.)
	conn, err := grpc.Dial(*addr, grpc.WithInsecure())
	if err != nil {
		log.Fatalf("dial %s: %v", *addr, err)
	}
	defer conn.Close()
	client := pb.NewAnalyticsServiceClient(conn)

	// Every call carries the practice's key as metadata.
	ctx, cancel := context.WithTimeout(
		metadata.AppendToOutgoingContext(context.Background(), "x-api-key", *apiKey), time.Minute)
	defer cancel()

	session, err := ask(ctx, client, "What was our revenue by month last quarter?", "")
	if err == nil {
		_, err = ask(ctx, client, "and the quarter before?", session)
	}
	if err != nil {
		log.Fatalf("error: %v (reason %s)", err, reason(err))
	}

	_, err = ask(ctx, client, "How many new clients this year?", "no-such-session")
	fmt.Printf("error: %s: %s\n  reason: %s\n", status.Code(err), status.Convert(err).Message(), reason(err))
}
