"""Reading the machine-readable part of a vet-analytics error.

Every error the server returns carries a google.rpc.Status in the
`grpc-status-details-bin` trailer: an ErrorInfo whose `reason` is a stable
constant to switch on (BUDGET_EXHAUSTED, SESSION_NOT_FOUND, IMPORT_INVALID,
...), a RetryInfo when waiting helps, and a BadRequest naming the fields or
import lines that are wrong. grpcio hands the trailer over as raw bytes;
the google/rpc stubs generated from proto/google/rpc/ decode it (no
grpcio-status package needed).
"""

from google.rpc import error_details_pb2, status_pb2

_DETAILS_KEY = "grpc-status-details-bin"


def status_details(error):
    """The google.rpc.Status of a grpc.RpcError, or None if it has none."""
    for key, value in error.trailing_metadata() or ():
        if key == _DETAILS_KEY:
            return status_pb2.Status.FromString(value)
    return None


def describe(error):
    """One line per fact a program can act on: the code, the reason and its
    metadata, when to retry, and each field or import line that is wrong."""
    lines = [f"error: {error.code().name}: {error.details()}"]
    status = status_details(error)
    if status is None:
        return lines
    for any_detail in status.details:
        # Each detail is a google.protobuf.Any: unpack the kinds we know.
        info = error_details_pb2.ErrorInfo()
        retry = error_details_pb2.RetryInfo()
        bad_request = error_details_pb2.BadRequest()
        if any_detail.Unpack(info):
            metadata = ", ".join(f"{k}={v}" for k, v in sorted(info.metadata.items()))
            lines.append(f"  reason: {info.reason} (domain {info.domain}) {metadata}".rstrip())
        elif any_detail.Unpack(retry):
            lines.append(f"  retry after: {retry.retry_delay.ToTimedelta()}")
        elif any_detail.Unpack(bad_request):
            for violation in bad_request.field_violations:
                lines.append(f"  {violation.field}: {violation.description}")
    return lines


def reason(error):
    """The ErrorInfo reason of a grpc.RpcError ("" if it carries none)."""
    status = status_details(error)
    for any_detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if any_detail.Unpack(info):
            return info.reason
    return ""
