"""Kubernetes `Status` objects and the errors that carry them.

Every failure the emulator answers is a `meta/v1 Status` with the same
reason, code, message wording and `details` a real kube-apiserver uses, so a
client that switches on `reason` or parses `details` behaves the same against
the emulator as against a cluster.
"""

from __future__ import annotations

# The reason a real API server gives for each HTTP code it can answer; used
# when a fault injection names only a code.
REASON_FOR_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_object(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
              "reason": reason}
    if details:
        status["details"] = details
    status["code"] = code  # last, as Go serialises the struct
    return status


def success_status(details: dict) -> dict:
    """What a DELETE answers for kinds that do not return the deleted object."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


class ApiError(Exception):
    """An API failure; the HTTP layer answers it as its Status object."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict:
        return status_object(self.code, self.reason, self.message, self.details)


def _details(group: str, plural: str, name: str | None) -> dict:
    details = {}
    if name is not None:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def qualified(group: str, plural: str) -> str:
    """`leases.coordination.k8s.io`, `deployments.apps`, or `pods` for core."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(group, plural)} "{name}" not found',
                    _details(group, plural, name))


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(group, plural)} "{name}" already exists',
                    _details(group, plural, name))


def conflict(group: str, plural: str, name: str,
             why: str = "the object has been modified; please apply your changes to the latest version and try again",
             ) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {qualified(group, plural)} "{name}": {why}',
                    _details(group, plural, name))


def invalid(group: str, kind: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422 like field validation: causes are (field, message) pairs."""
    kind_label = f"{kind}.{group}" if group else kind
    text = ", ".join(f"{field}: {message}" for field, message in causes)
    details = {"name": name, "kind": kind,
               "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}
                          for field, message in causes]}
    if group:
        details["group"] = group
    if len(causes) > 1:
        text = "[" + text + "]"
    return ApiError(422, "Invalid", f'{kind_label} "{name}" is invalid: {text}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def expired(message: str) -> ApiError:
    """410 for a resourceVersion older than the retained history (watch cache)."""
    return ApiError(410, "Expired", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed(method: str, what: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", f"{what}: the server does not allow this method ({method}) on the requested resource")


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json (got "{content_type}")')


def resource_not_found() -> ApiError:
    """A path that names no resource the server serves."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def too_large_resource_version(requested: int, current: int) -> ApiError:
    return ApiError(504, "Timeout", f"Too large resource version: {requested}, current: {current}",
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}], "retryAfterSeconds": 1})


def injected(code: int, message: str | None = None, reason: str | None = None,
             retry_after: int | None = None) -> ApiError:
    """The Status a fault injection answers: what a real server sends for that code."""
    reason = reason or REASON_FOR_CODE.get(code, "Unknown")
    details = None
    headers = {}
    if retry_after is not None:
        details = {"retryAfterSeconds": retry_after}
        headers["Retry-After"] = str(retry_after)
    if message is None:
        message = {
            429: "Too many requests, please try again later.",
            500: "Internal error occurred: injected by the kubeapi emulator",
            503: "The server is currently unable to handle the request",
            504: "The server was unable to return a response in the time allotted, but may still be processing the request",
        }.get(code, f"injected {code} by the kubeapi emulator")
    return ApiError(code, reason, message, details, headers)
