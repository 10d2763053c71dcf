# Sourced by scripts/test and scripts/demo: create or reuse the project's virtual environment
# in .venv and install Outpost into it (editable, with the test tools). Quiet unless it fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "Outpost needs Python 3.11 or newer on PATH" >&2; exit 1; }
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in .venv"
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.outpost-installed"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "Installing Outpost and its dependencies into .venv"
  log="$(mktemp)"
  if ! { "$VENV/bin/python" -m pip install -q --upgrade pip &&
         "$VENV/bin/python" -m pip install -q -e ".[dev]"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; echo "installing dependencies failed" >&2; exit 1
  fi
  rm -f "$log"
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
