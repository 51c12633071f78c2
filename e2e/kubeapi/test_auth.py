"""Authentication and RBAC as kube-apiserver does them: tokens and client
certificates, the harness's system:masters identity, and the operator's
service account held to the chart's Role (403 Forbidden for anything else,
before the object is even looked up)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
import yaml

from e2e.kubeapi.certs import ClusterPKI
from e2e.kubeapi.rbac import Policy, attributes
from e2e.kubeapi.auth import OPERATOR, UserInfo
from e2e.kubeapi.rolechart import REPO, load_file, render_chart
from e2e.kubeapi.testkit import DEPLOYMENTS, EVENTS, LEASES, MERGE, NS, PODS, assert_status, create, deployment, pod

OPERATOR_USER = "system:serviceaccount:default:tig-operator"
SCALE = f"{DEPLOYMENTS}/tig/scale"
HPAS = f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers"


# -- authentication ----------------------------------------------------------------

def test_requests_without_valid_credentials_are_401(kubeapi):
    assert_status(kubeapi.session().get(kubeapi.url + PODS), 401, "Unauthorized")
    assert_status(kubeapi.api(token="wrong").get(kubeapi.url + PODS), 401, "Unauthorized")
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200


def test_client_certificate_signed_by_the_ca_authenticates_as_admin(kubeapi):
    session = kubeapi.session()
    session.cert = kubeapi.client_cert
    assert session.get(kubeapi.url + "/api/v1/namespaces").status_code == 200  # cluster scope: admin
    entry = kubeapi.requests()[-1]
    assert entry["user"] == "kubeapi-admin" and "system:masters" in entry["groups"]
    assert entry["credential"] == "client-certificate"


def test_client_certificate_from_another_ca_fails_the_handshake(kubeapi, tmp_path):
    stranger = ClusterPKI("127.0.0.1").client
    (tmp_path / "c.crt").write_bytes(stranger.cert_pem)
    (tmp_path / "c.key").write_bytes(stranger.key_pem)
    # With TLS 1.3 the client learns of the rejection on its first read, not in the handshake.
    with pytest.raises(requests.exceptions.ConnectionError):
        kubeapi.session().get(kubeapi.url + PODS, cert=(str(tmp_path / "c.crt"), str(tmp_path / "c.key")))


def test_the_state_dir_holds_an_admin_and_an_operator_credential(kubeapi):
    assert f"token: {kubeapi.token}" in Path(kubeapi.kubeconfig_admin).read_text()
    assert f"token: {kubeapi.operator_token}" in Path(kubeapi.kubeconfig).read_text()
    kubeapi.api().get(kubeapi.url + PODS)
    kubeapi.operator_api().get(kubeapi.url + PODS)
    admin, operator = kubeapi.requests()[-2:]
    assert (admin["user"], admin["credential"]) == ("kubeapi-admin", "admin")
    assert (operator["user"], operator["credential"]) == (OPERATOR_USER, "operator")
    assert "system:serviceaccounts:default" in operator["groups"]


def test_token_rotation_revokes_the_old_tokens(kubeapi):
    old_admin, old_operator = kubeapi.token, kubeapi.operator_token
    tokens = kubeapi.rotate_tokens()
    assert kubeapi.token == tokens["admin"] != old_admin  # the token files were rewritten
    assert kubeapi.operator_token == tokens["operator"] != old_operator
    assert f"token: {tokens['operator']}" in Path(kubeapi.kubeconfig).read_text()
    for old in (old_admin, old_operator):
        assert_status(kubeapi.api(token=old).get(kubeapi.url + PODS), 401, "Unauthorized")
    assert kubeapi.api().get(kubeapi.url + PODS).status_code == 200
    assert kubeapi.operator_api().get(kubeapi.url + PODS).status_code == 200


def test_token_rotation_with_grace_keeps_the_old_token_for_a_while(kubeapi):
    old = kubeapi.operator_token
    kubeapi.rotate_tokens(revoke_old_after=0.3, credential="operator")
    assert kubeapi.api(token=old).get(kubeapi.url + PODS).status_code == 200
    time.sleep(0.5)
    assert kubeapi.api(token=old).get(kubeapi.url + PODS).status_code == 401


def test_a_minted_credential_is_the_operator_under_its_own_name(kubeapi):
    minted = kubeapi.mint_token("replica-b")
    assert f"token: {minted['token']}" in Path(minted["kubeconfig"]).read_text()
    assert Path(minted["tokenFile"]).read_text() == minted["token"]
    assert kubeapi.api(token=minted["token"]).get(kubeapi.url + PODS).status_code == 200
    response = kubeapi.api(token=minted["token"]).get(kubeapi.url + "/api/v1/namespaces/default/secrets")
    assert_status(response, 403, "Forbidden")  # the same Role as the operator
    entry = kubeapi.requests()[-2]
    assert (entry["user"], entry["credential"]) == (OPERATOR_USER, "replica-b")


# -- RBAC against the chart's Role -------------------------------------------------

def test_the_operator_may_make_every_call_the_role_grants(kubeapi):
    create(kubeapi, DEPLOYMENTS, deployment(replicas=1))
    create(kubeapi, PODS, pod("p"))
    op, url = kubeapi.operator_api(), kubeapi.url
    assert op.get(url + PODS, params={"labelSelector": "app.kubernetes.io/name=tig"}).status_code == 200
    watch = op.get(url + PODS, params={"watch": "true", "timeoutSeconds": "1"}, stream=True)
    assert watch.status_code == 200
    watch.close()
    assert op.patch(f"{url}{PODS}/p", data='{"metadata":{"annotations":{"a":"b"}}}', headers=MERGE).status_code == 200
    assert op.get(f"{url}{DEPLOYMENTS}/tig").status_code == 200
    scale = op.get(url + SCALE).json()
    patch = {"metadata": {"resourceVersion": scale["metadata"]["resourceVersion"]}, "spec": {"replicas": 2}}
    assert op.patch(url + SCALE, json=patch, headers=MERGE).status_code == 200
    event = {"metadata": {"generateName": "tig."}, "involvedObject": {"kind": "Deployment", "name": "tig",
                                                                       "namespace": NS}, "reason": "Divide"}
    assert op.post(url + EVENTS, json=event).status_code == 201
    lease = op.post(url + LEASES, json={"metadata": {"name": "tig-operator"}, "spec": {"holderIdentity": "a"}})
    assert lease.status_code == 201
    assert op.put(f"{url}{LEASES}/tig-operator", json=lease.json()).status_code == 200
    assert op.get(f"{url}{LEASES}/tig-operator").status_code == 200
    assert op.get(url + HPAS).status_code == 200


@pytest.mark.parametrize("method,path,body,verb,resource,group,name", [
    ("GET", f"{DEPLOYMENTS}/other", None, "get", "deployments", "apps", "other"),
    ("GET", f"{PODS}/p", None, "get", "pods", "", "p"),
    ("PATCH", f"{DEPLOYMENTS}/tig", {"spec": {"replicas": 3}}, "patch", "deployments", "apps", "tig"),
    ("PUT", SCALE, {"spec": {"replicas": 3}}, "update", "deployments/scale", "apps", "tig"),
    ("PATCH", f"{DEPLOYMENTS}/other/scale", {"spec": {"replicas": 3}}, "patch", "deployments/scale", "apps", "other"),
    ("GET", DEPLOYMENTS, None, "list", "deployments", "apps", ""),
    ("DELETE", f"{PODS}/p", None, "delete", "pods", "", "p"),
    ("POST", PODS, {"metadata": {"name": "x"}}, "create", "pods", "", ""),
    ("PATCH", f"{PODS}/p/status", {"status": {}}, "patch", "pods/status", "", "p"),
    ("GET", f"/apis/apps/v1/namespaces/{NS}/replicasets", None, "list", "replicasets", "apps", ""),
    ("GET", LEASES, None, "list", "leases", "coordination.k8s.io", ""),
    ("PUT", f"{LEASES}/someone-else", {"metadata": {"name": "someone-else"}}, "update", "leases",
     "coordination.k8s.io", "someone-else"),
    ("GET", f"{EVENTS}", None, "list", "events", "", ""),
])
def test_anything_outside_the_role_is_403_before_the_object_is_looked_up(kubeapi, method, path, body, verb,
                                                                         resource, group, name):
    # No object exists: a permitted request would be 404, a forbidden one never learns that.
    response = kubeapi.operator_api().request(method, kubeapi.url + path, json=body,
                                              headers=MERGE if method == "PATCH" else None)
    status = assert_status(response, 403, "Forbidden")
    qualified = f"{resource.split('/')[0]}.{group}" if group else resource.split("/")[0]
    subject = f'{qualified} "{name}"' if name else qualified
    assert status["message"] == (f'{subject} is forbidden: User "{OPERATOR_USER}" cannot {verb} resource '
                                 f'"{resource}" in API group "{group}" in the namespace "{NS}"')
    details = ({"name": name} if name else {}) | ({"group": group} if group else {}) | \
        {"kind": resource.split("/")[0]}
    assert status["details"] == details
    assert kubeapi.requests()[-1]["status"] == 403


def test_the_role_holds_only_in_its_namespace_and_never_cluster_wide(kubeapi):
    op = kubeapi.operator_api()
    body = assert_status(op.get(kubeapi.url + "/api/v1/namespaces/kube-system/pods"), 403, "Forbidden")
    assert body["message"].endswith('cannot list resource "pods" in API group "" in the namespace "kube-system"')
    body = assert_status(op.get(kubeapi.url + "/api/v1/pods"), 403, "Forbidden")
    assert body["message"].endswith('cannot list resource "pods" in API group "" at the cluster scope')
    body = assert_status(op.get(kubeapi.url + "/api/v1/namespaces/default"), 403, "Forbidden")
    assert body["message"] == (f'namespaces "default" is forbidden: User "{OPERATOR_USER}" cannot get resource '
                               f'"namespaces" in API group "" in the namespace "default"')
    body = assert_status(op.get(kubeapi.url + "/metrics"), 403, "Forbidden")
    assert body["message"] == f'forbidden: User "{OPERATOR_USER}" cannot get path "/metrics"'
    assert op.get(kubeapi.url + "/healthz").status_code == 200  # system:public-info-viewer


def test_the_harness_is_system_masters_and_rbac_can_be_switched_off(kubeapi):
    assert kubeapi.api().get(kubeapi.url + "/api/v1/namespaces").status_code == 200
    assert kubeapi.api().get(f"{kubeapi.url}/apis/apps/v1/namespaces/{NS}/replicasets").status_code == 200
    kubeapi.configure(rbac=False)
    assert kubeapi.operator_api().get(kubeapi.url + "/api/v1/namespaces").status_code == 200


# -- the policy itself ----------------------------------------------------------------

def test_the_chart_renders_the_same_rules_as_the_kustomize_role():
    """operator/role.yaml is checked against docs/DESIGN.md by checks/packaging.sh;
    the emulator's rendering of the chart must grant exactly the same."""
    role, binding = render_chart()
    kustomize = yaml.safe_load((REPO / "operator" / "role.yaml").read_text())
    assert role["rules"] == kustomize["rules"]
    assert (role["metadata"]["name"], role["metadata"]["namespace"]) == ("tig-operator", "default")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "tig-operator", "namespace": "default"}]


def test_request_attributes_follow_request_info():
    def of(method, path, **query):
        a = attributes(method, path, query)
        return a.verb, a.api_group, a.combined_resource, a.name, a.namespace

    assert of("GET", PODS) == ("list", "", "pods", "", NS)
    assert of("GET", PODS, watch="1") == ("watch", "", "pods", "", NS)
    assert of("GET", LEASES, watch="true", fieldSelector="metadata.name=tig-operator") == \
        ("watch", "coordination.k8s.io", "leases", "tig-operator", NS)
    assert of("DELETE", PODS) == ("deletecollection", "", "pods", "", NS)
    assert of("PUT", SCALE) == ("update", "apps", "deployments/scale", "tig", NS)
    assert of("GET", "/api/v1/namespaces/kube-system") == ("get", "", "namespaces", "kube-system", "kube-system")
    assert not attributes("GET", "/version", {}).resource_request


def test_a_role_file_without_binding_is_bound_to_the_operator(tmp_path):
    path = tmp_path / "role.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                    "metadata": {"name": "narrow", "namespace": "default"},
                                    "rules": [{"apiGroups": [""], "resources": ["*/status"], "verbs": ["*"]},
                                              {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                                               "resourceNames": ["mine"], "verbs": ["watch"]}]}))
    policy = Policy(load_file(path))

    def allows(user, method, path, **query):
        return policy.allows(user, attributes(method, path, query))

    assert allows(OPERATOR, "PATCH", f"{PODS}/p/status")  # */status
    assert not allows(OPERATOR, "PATCH", f"{PODS}/p")
    assert allows(OPERATOR, "GET", LEASES, watch="1", fieldSelector="metadata.name=mine")
    assert not allows(OPERATOR, "GET", LEASES, watch="1")  # no name: resourceNames cannot match
    assert not allows(UserInfo("someone", ("system:authenticated",)), "PATCH", f"{PODS}/p/status")
