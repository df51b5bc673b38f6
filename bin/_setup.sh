# Shared by bin/run and bin/test: make ./.venv and install the locked dependencies into it.
# Sourced, not run. Reinstalls only when pyproject.toml or requirements.lock changed.

flux2web_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Flux2Web needs Python 3.11 (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "Need root for: $*" >&2; return 1; fi
}

ensure_venv() {  # $1: "" for the app, "dev" for tests and lint tools too
  local extras="$1" py stamp want have
  if [ ! -x .venv/bin/python ]; then
    py=$(flux2web_python)
    if ! "$py" -m venv .venv 2>/dev/null; then
      # Debian ships venv separately from python3 itself.
      rm -rf .venv
      echo "Installing python3-venv (Debian keeps venv in its own package)..."
      as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null
      "$py" -m venv .venv
    fi
  fi
  # The dev install is a superset of the app install, so either stamp satisfies the app.
  want="$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16) ${extras:-app}"
  stamp=.venv/.flux2web-installed
  have=$(cat "$stamp" 2>/dev/null || true)
  if [ "$have" != "$want" ] && [ "$have" != "${want% *} dev" ]; then
    echo "Installing Flux2Web and its locked dependencies into .venv ..."
    local target="."
    [ "$extras" = dev ] && target=".[dev]"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
      --constraint requirements.lock --editable "$target"
    echo "$want" > "$stamp"
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Debian's Chromium for the browser tests..."
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}
