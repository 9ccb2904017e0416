#!/usr/bin/python3
"""Import a practice's five CSV exports with the client-streaming ImportDataset.

The upload is a stream of ImportChunk messages: an ImportHeader, then each
table's bytes in chunks, then an ImportEnd with the byte count (a stream cut
short imports nothing). The server validates every table before anything
changes; a refusal (IMPORT_INVALID) lists each problem as a BadRequest field
violation "file:line:column", printed here.

    PYTHONPATH=gen python3 import_csv.py --addr 127.0.0.1:50051 ./exports
(`vetctl demo-data ./exports --lines=2000` writes a small demo set.)
"""

import argparse
import os
import sys

import grpc

from vetanalytics.v1 import analytics_pb2, analytics_pb2_grpc

import rpc_errors

TABLES = ("clients", "patients", "staff", "appointments", "invoice_lines")
# Well under gRPC's default 4 MiB message limit.
CHUNK_BYTES = 1 << 20


def chunks(practice, folder):
    """The upload, message by message: a generator grpcio streams as it goes."""
    yield analytics_pb2.ImportChunk(header=analytics_pb2.ImportHeader(practice_id=practice))
    total = 0
    for table in TABLES:
        with open(os.path.join(folder, f"{table}.csv"), "rb") as f:
            while data := f.read(CHUNK_BYTES):
                total += len(data)
                yield analytics_pb2.ImportChunk(
                    table=analytics_pb2.TableChunk(table=table, data=data))
    yield analytics_pb2.ImportChunk(end=analytics_pb2.ImportEnd(total_bytes=total))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="holds clients.csv, patients.csv, staff.csv, "
                        "appointments.csv and invoice_lines.csv")
    parser.add_argument("--addr", default="127.0.0.1:50051")
    parser.add_argument("--practice", default="demo")
    parser.add_argument("--api_key", default="demo-key")
    args = parser.parse_args()

    with grpc.insecure_channel(args.addr) as channel:
        stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
        try:
            report = stub.ImportDataset(chunks(args.practice, args.folder),
                                        metadata=[("x-api-key", args.api_key)], timeout=120)
        except grpc.RpcError as error:
            print("\n".join(rpc_errors.describe(error)))
            return 2 if rpc_errors.reason(error) == "IMPORT_INVALID" else 1
    state = "unchanged" if report.unchanged else "imported"
    print(f"{state}: dataset version {report.dataset_version}")
    for table in report.tables:
        print(f"  {table.table}: {table.rows} rows")
    for warning in report.warnings:
        print(f"  warning: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
