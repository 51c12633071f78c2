"""Authorization as kube-apiserver's RBAC authorizer does it, before any
handler runs (so a forbidden request learns nothing, not even whether the
object exists):

- The request's attributes come from its path and method the way
  RequestInfoFactory derives them: verb (get, list, watch, create, update,
  patch, delete, deletecollection; for other paths the lower-case method),
  API group, resource, subresource, name, namespace.
- `system:masters` may do everything (the harness's identity).
- Every authenticated user may `get` the discovery and health paths
  (the bootstrap ClusterRoles system:discovery and system:public-info-viewer).
- Anything else needs a rule of a Role bound (RoleBinding) in the request's
  namespace, or of a ClusterRole bound cluster-wide, to the user, one of its
  groups or its service account: verbs, apiGroups, resources (`*`,
  `resource/subresource`, `*/subresource`) and resourceNames matched as
  rbac/v1 helpers match them. create, list and watch carry no name, so a
  rule narrowed by resourceNames never allows them.
- Refused: 403 Forbidden with the real message, e.g. `deployments.apps
  "other" is forbidden: User "system:serviceaccount:default:tig-operator"
  cannot patch resource "deployments/scale" in API group "apps" in the
  namespace "default"`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .auth import ADMIN_PREFIX, AUTHENTICATED, MASTERS, USER_KEY, UserInfo
from .responses import error_response
from .status import ApiError

_PUBLIC_PATHS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/version", "/version/",
                 "/openapi", "/openapi/*")
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


def is_watch(query) -> bool:
    """The `watch` parameter as Go's strconv.ParseBool reads it."""
    return query.get("watch", "") in ("1", "t", "T", "true", "TRUE", "True")


@dataclass(frozen=True)
class Attributes:
    verb: str
    path: str
    resource_request: bool = False
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def attributes(method: str, path: str, query) -> Attributes:
    """What the authorizer is asked about a request (RequestInfoFactory.NewRequestInfo)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        return Attributes(method.lower(), path)
    if not rest:  # /api/v1, /apis/G/V: discovery of a group version
        return Attributes(method.lower(), path)
    verb = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, method.lower())
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if is_watch(query) else "list"
        selector = query.get("fieldSelector", "")
        if selector.startswith("metadata.name=") and "," not in selector:
            name = selector.split("=", 1)[1].lstrip("=")
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(verb, path, True, group, resource, subresource, name, namespace)


def _matches(values: list[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def rule_allows(rule: dict, request: Attributes) -> bool:
    if not _matches(rule.get("verbs") or [], request.verb):
        return False
    if not request.resource_request:
        return any(url == request.path or (url.endswith("*") and request.path.startswith(url[:-1]))
                   for url in rule.get("nonResourceURLs") or [])
    if not _matches(rule.get("apiGroups") or [], request.api_group):
        return False
    resources = rule.get("resources") or []
    if not (_matches(resources, request.combined_resource)
            or (request.subresource and f"*/{request.subresource}" in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or request.name in names


def _subject_matches(subject: dict, user: UserInfo, binding_namespace: str) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user.name
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{namespace}:{subject.get('name')}"
    return False


class Policy:
    """Roles and bindings, as the RBAC authorizer evaluates them."""

    def __init__(self, objects: list[dict]):
        def key(obj: dict) -> tuple[str, str, str]:
            return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]

        self.roles = {key(o): o.get("rules") or [] for o in objects if o.get("kind") in ("Role", "ClusterRole")}
        self.bindings = [o for o in objects if o.get("kind") in ("RoleBinding", "ClusterRoleBinding")]

    def _rules_for(self, user: UserInfo, namespace: str) -> list[dict]:
        rules = []
        for binding in self.bindings:
            scope = binding["metadata"].get("namespace", "")
            if binding["kind"] == "RoleBinding" and scope != namespace:
                continue
            if not any(_subject_matches(s, user, scope) for s in binding.get("subjects") or []):
                continue
            ref = binding.get("roleRef") or {}
            role_namespace = scope if ref.get("kind") == "Role" else ""
            rules += self.roles.get((ref.get("kind"), role_namespace, ref.get("name")), [])
        return rules

    def allows(self, user: UserInfo, request: Attributes) -> bool:
        if MASTERS in user.groups:
            return True
        if (not request.resource_request and request.verb == "get" and AUTHENTICATED in user.groups
                and rule_allows({"verbs": ["get"], "nonResourceURLs": list(_PUBLIC_PATHS)}, request)):
            return True
        return any(rule_allows(rule, request) for rule in self._rules_for(user, request.namespace))


def forbidden(user: UserInfo, request: Attributes) -> ApiError:
    """The 403 Status kube-apiserver answers (responsewriters.Forbidden)."""
    if not request.resource_request:
        return ApiError(403, "Forbidden", f'forbidden: User "{user.name}" cannot {request.verb} path "{request.path}"',
                        {})
    scope = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    why = (f'User "{user.name}" cannot {request.verb} resource "{request.combined_resource}" '
           f'in API group "{request.api_group}" {scope}')
    qualified = f"{request.resource}.{request.api_group}" if request.api_group else request.resource
    details: dict = {}
    if request.name:
        details["name"] = request.name
    if request.api_group:
        details["group"] = request.api_group
    details["kind"] = request.resource
    subject = f'{qualified} "{request.name}"' if request.name else qualified
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {why}", details)


class Authorizer:
    def __init__(self, policy: Policy, config):
        self.policy = policy
        self.config = config  # `rbac` off: every authenticated user may do everything

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        user = request.get(USER_KEY)
        if request.path.startswith(ADMIN_PREFIX) or user is None or not self.config.rbac:
            return await handler(request)
        wanted = attributes(request.method, request.path, request.query)
        if not self.policy.allows(user, wanted):
            return error_response(forbidden(user, wanted))
        return await handler(request)
