# shellcheck shell=bash
# Sourced by checks/packaging.sh, checks/container-smoke.sh and
# manifests/generate.sh: makes sure their tools are installed, quietly when
# they already are.
# The Python ones live in a virtualenv outside the work tree, so pip never
# changes the packages of the system's Python (checkov pins old versions of
# boto3 and friends).

TIG_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TIG_CHECKS_VENV=${TIG_CHECKS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tig/checks-venv}
TIG_CHECKS_PYTHON=$TIG_CHECKS_VENV/bin/python

# checks/requirements.txt into the virtualenv; a copy of the file installed
# last tells whether it is already done.
ensure_python_tools() {
  local requirements=$TIG_REPO/checks/requirements.txt
  local installed=$TIG_CHECKS_VENV/installed-requirements.txt
  if [[ -x $TIG_CHECKS_PYTHON ]] && cmp -s "$requirements" "$installed"; then
    return 0
  fi
  echo "installing the packaging checks' Python tools into $TIG_CHECKS_VENV" >&2
  python3 -m venv "$TIG_CHECKS_VENV"
  "$TIG_CHECKS_VENV/bin/pip" install --quiet --disable-pip-version-check --requirement "$requirements"
  cp "$requirements" "$installed"
}

# Debian packages, given as command:package, installed if the command is
# missing. With their recommended packages: podman's include the network
# stack that publishes container ports.
ensure_debian_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
  done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
