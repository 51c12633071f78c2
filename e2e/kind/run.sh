#!/usr/bin/env bash
# End-to-end suite on a real Kubernetes cluster (SPEC §8), one command on a
# machine with docker, kind, kubectl, helm and python3:
#
#   e2e/kind/run.sh
#
# It builds the image from the repository's Dockerfile, creates a kind
# cluster (kind-config.yaml) and loads the image into its nodes, installs
# charts/tig with the operator (values.yaml: small pods, lifetimes of
# minutes), runs the shared scenarios (python3 -m e2e.kind.scenarios, which
# reach the pods through kubectl port-forward), and deletes the cluster. On
# failure the cluster's logs go to the artifacts directory first.
#
# Environment:
#   KIND_CLUSTER     cluster name (default tig-e2e); an existing one is reused,
#                    and deleted at the end like a new one
#   KIND_NODE_IMAGE  node image, e.g. kindest/node:v1.28.15 (default: kind's own)
#   KEEP_CLUSTER=1   keep the cluster afterwards, also after a failure
#   ARTIFACTS        where logs go on failure (default: a new directory in /tmp)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/e2e/kind
cluster=${KIND_CLUSTER:-tig-e2e}
namespace=tig-e2e
release=tig
image=tig:e2e # image.repository:image.tag in values.yaml
artifacts=${ARTIFACTS:-${TMPDIR:-/tmp}/tig-kind-$(date +%Y%m%dT%H%M%S)}
node_image=()
[[ -z ${KIND_NODE_IMAGE:-} ]] || node_image=(--image "$KIND_NODE_IMAGE")

say() { printf '== %s\n' "$*"; }

for tool in docker kind kubectl helm python3; do
  command -v "$tool" >/dev/null || {
    echo "run.sh needs $tool on PATH" >&2
    exit 2
  }
done
docker info >/dev/null 2>&1 || {
  echo "run.sh needs a running Docker engine (docker info failed)" >&2
  exit 2
}

# The slowest step, and the likeliest to fail: before there is a cluster to clean up.
say "building $image"
docker build --build-arg TIG_REVISION="$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" --tag "$image" "$repo"

workdir=$(mktemp -d)
# kubectl, helm and the scenarios talk to this cluster only, through a
# kubeconfig of their own: the user's ~/.kube/config is left alone.
export KUBECONFIG=$workdir/kubeconfig

finish() {
  local status=$?
  set +e
  if ((status != 0)); then
    say "failed (exit status $status): collecting logs in $artifacts"
    mkdir -p "$artifacts"
    kind export logs "$artifacts/kind" --name "$cluster" >/dev/null
    kubectl get all,events,leases,configmaps --namespace "$namespace" --output wide >"$artifacts/namespace.txt" 2>&1
    kubectl describe pods --namespace "$namespace" >"$artifacts/pods.txt" 2>&1
    helm status "$release" --namespace "$namespace" --show-resources >"$artifacts/helm-status.txt" 2>&1
  fi
  if [[ ${KEEP_CLUSTER:-0} == 1 ]]; then
    say "keeping cluster $cluster: kind export kubeconfig --name $cluster"
  else
    say "deleting cluster $cluster"
    kind delete cluster --name "$cluster"
  fi
  rm -rf "$workdir"
  exit "$status"
}
trap finish EXIT

if kind get clusters 2>/dev/null | grep -qxF "$cluster"; then
  say "reusing kind cluster $cluster"
else
  say "creating kind cluster $cluster"
  kind create cluster --name "$cluster" --config "$here/kind-config.yaml" "${node_image[@]}" --wait 5m
fi
kind get kubeconfig --name "$cluster" >"$KUBECONFIG"

say "loading $image into the nodes"
kind load docker-image "$image" --name "$cluster"

say "installing charts/tig as $release in $namespace, with the operator"
helm upgrade --install "$release" "$repo/charts/tig" \
  --namespace "$namespace" --create-namespace \
  --values "$here/values.yaml" \
  --wait --timeout 10m

say "installing the scenarios' Python packages"
python3 -m venv "$workdir/venv"
"$workdir/venv/bin/pip" install --quiet --disable-pip-version-check --requirement "$repo/e2e/requirements.txt"

say "running the scenarios"
cd "$repo"
"$workdir/venv/bin/python" -m e2e.kind.scenarios --namespace "$namespace" --release "$release"
say "passed"
