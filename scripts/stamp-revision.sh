#!/usr/bin/env bash
# Writes the source revision into the build (Sources/CTigBuildInfo/revision.h,
# ignored by git) for `tig --version`, `tig-operator --version` and
# tig_build_info. The revision is $TIG_REVISION if set (an image build without
# .git), else git's short commit, with "-modified" for uncommitted changes.
# The header is rewritten only when the revision changed, so an unchanged tree
# rebuilds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

revision="${TIG_REVISION:-}"
if [[ -z "$revision" ]] && git rev-parse --git-dir >/dev/null 2>&1; then
  revision="$(git rev-parse --short=12 HEAD)"
  if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
    revision="$revision-modified"
  fi
fi
revision="${revision:-unknown}"
if [[ ! "$revision" =~ ^[A-Za-z0-9._+-]{1,64}$ ]]; then
  echo "stamp-revision: not a revision: $revision" >&2
  exit 64
fi

header=Sources/CTigBuildInfo/revision.h
content="#define TIG_REVISION \"$revision\""
if [[ ! -f "$header" ]] || [[ "$(cat "$header")" != "$content" ]]; then
  printf '%s\n' "$content" > "$header"
  # A header that did not exist at the last build is not among the object's
  # recorded dependencies; touching the source recompiles it either way.
  touch Sources/CTigBuildInfo/CTigBuildInfo.c
fi
