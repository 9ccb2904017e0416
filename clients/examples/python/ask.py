#!/usr/bin/python3
"""Ask vet-analytics a question, then a follow-up in the same session.

Ask is server-streaming: the answer arrives as AskEvents (session_started,
budget_check, code_generated, execution_output, artifact, final_answer),
printed here as they come. The follow-up passes the session id from
session_started, so "and the month before?" is understood in context. Last,
a question on a session that does not exist shows how to read the error's
reason (SESSION_NOT_FOUND) instead of parsing its message.

    python3 -m grpc_tools.protoc -I ../../../proto --python_out=gen \
        --grpc_python_out=gen vetanalytics/v1/analytics.proto \
        google/rpc/status.proto google/rpc/error_details.proto
    PYTHONPATH=gen python3 ask.py --addr 127.0.0.1:50051
"""

import argparse
import sys

import grpc

from vetanalytics.v1 import analytics_pb2, analytics_pb2_grpc

import rpc_errors


def print_event(event):
    """One line per event; which field of the `event` oneof is set says its kind."""
    kind = event.WhichOneof("event")
    if kind == "session_started":
        e = event.session_started
        print(f"[{event.seq}] session {e.session_id} turn {e.turn}"
              f"{' (resumed)' if e.resumed else ''}, as of {e.as_of_date}")
    elif kind == "budget_check":
        e = event.budget_check
        print(f"[{event.seq}] budget: allowed={e.allowed} model={e.model} "
              f"remaining=${e.remaining_micros / 1e6:.2f}")
    elif kind == "code_generated":
        e = event.code_generated
        print(f"[{event.seq}] code (attempt {e.attempt}, {e.generator}): {e.summary}")
    elif kind == "execution_output":
        print(f"[{event.seq}] output: {event.execution_output.text.rstrip()}")
    elif kind == "artifact":
        e = event.artifact
        print(f"[{event.seq}] artifact {e.name} ({e.mime_type}, {len(e.data)} bytes)")
    elif kind == "final_answer":
        e = event.final_answer
        print(f"[{event.seq}] answer: {e.text}")
        if e.result.WhichOneof("value") == "table":
            table = e.result.table
            print("    " + " | ".join(c.name for c in table.columns))
            for row in table.rows[:5]:
                # Each cell is a oneof too: number, integer, text or bool.
                cells = [str(getattr(c, c.WhichOneof("value"))) if c.WhichOneof("value") else ""
                         for c in row.cells]
                print("    " + " | ".join(cells))
    else:
        print(f"[{event.seq}] {kind}")


def ask(stub, metadata, practice, question, session_id=""):
    """Streams one question's events; returns the session id it ran in."""
    print(f"> {question}")
    request = analytics_pb2.AskRequest(practice_id=practice, question=question,
                                       session_id=session_id)
    for event in stub.Ask(request, metadata=metadata, timeout=60):
        print_event(event)
        if event.HasField("session_started"):
            session_id = event.session_started.session_id
    return session_id


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051")
    parser.add_argument("--practice", default="demo")
    parser.add_argument("--api_key", default="demo-key")
    parser.add_argument("--question", default="What was our revenue by month last quarter?")
    parser.add_argument("--follow_up", default="and the quarter before?")
    args = parser.parse_args()

    # Every call carries the practice's key as metadata.
    metadata = [("x-api-key", args.api_key)]
    # Plaintext suits a server on loopback; use grpc.secure_channel with
    # grpc.ssl_channel_credentials() for one started with --tls_cert.
    with grpc.insecure_channel(args.addr) as channel:
        stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
        try:
            session = ask(stub, metadata, args.practice, args.question)
            ask(stub, metadata, args.practice, args.follow_up, session_id=session)
        except grpc.RpcError as error:
            print("\n".join(rpc_errors.describe(error)), file=sys.stderr)
            return 1

        # An error a program can act on: switch on the reason, not the text.
        try:
            ask(stub, metadata, args.practice, "How many new clients this year?",
                session_id="no-such-session")
        except grpc.RpcError as error:
            print("\n".join(rpc_errors.describe(error)))
            if rpc_errors.reason(error) == "SESSION_NOT_FOUND":
                print("that session is gone: a program would start a new one here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
