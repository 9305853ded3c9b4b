#!/usr/bin/env bash
# Set up whatever is missing, and nothing that is already there:
#   - .venv/rasa (Python 3.10, Rasa 3.6.21) and .venv/app (Python 3.11, everything else),
#     reinstalled only when their lock file changed;
#   - redis-server (Debian package), and with --with-browser chromium (browser tests) and
#     systemd (systemd-analyze verify of deploy/systemd) and a Chinese font (fonts-wqy-microhei);
#   - a trained Rasa model, retrained only when config, domain, training data or lexicon changed;
#   - the knowledge search index, rebuilt only when the catalogue changed.
# Every failure ends with one sentence saying what to do.
set -euo pipefail
export RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"  # offline server: no telemetry

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WITH_BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) WITH_BROWSER=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- Python interpreters -----------------------------------------------------------------
find_python() {  # $1 = major.minor; honours PYTHON310 / PYTHON311 overrides
  local want="$1" var="PYTHON${1/./}" cand
  local -a cands=()
  [[ -n "${!var:-}" ]] && cands+=("${!var}")
  if command -v pyenv >/dev/null 2>&1; then  # the real binaries, not pyenv's shims
    cands+=($(ls -d "$(pyenv root)"/versions/"$want".*/bin/python 2>/dev/null | sort -rV))
  fi
  command -v "python$want" >/dev/null 2>&1 && cands+=("$(command -v "python$want")")
  for cand in "${cands[@]}"; do
    if "$cand" -c "import sys, venv; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" \
        >/dev/null 2>&1; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

free_gb() {  # free space, in whole GB, on the disk holding directory $1
  df -Pk "$1" | awk 'NR == 2 { print int($4 / 1048576) }'
}

need_space() {  # $1 = GB needed, $2 = what for; checks the clone's disk and pip's temp dir
  local dir free
  for dir in "$ROOT" "${TMPDIR:-/tmp}"; do
    free="$(free_gb "$dir")"
    if (( free < $1 )); then
      die "Only $free GB is free on the disk holding $dir, and $2 needs about $1 GB: free some space (old clones, 'pip cache purge'), then run this again."
    fi
  done
}

make_venv() {  # $1 = name, $2 = python, $3 = lock file, $4 = GB the install needs
  local name="$1" py="$2" lock="$3" gb="$4" dir=".venv/$1" stamp
  stamp="$(hash_of "$lock")"
  if [[ -f "$dir/.lock-stamp" && "$(cat "$dir/.lock-stamp")" == "$stamp" ]]; then
    return 0
  fi
  need_space "$gb" "installing $dir"
  say "installing $dir from $lock (a few minutes the first time)"
  [[ -x "$dir/bin/python" ]] || "$py" -m venv "$dir" || die "Could not create $dir with $py; install the venv module for that Python."
  "$dir/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  # (this machine's pip config lists local indexes that may not exist: drop that noise)
  "$dir/bin/python" -m pip install -q -r "$lock" 2>&1 | { grep -v 'is ignored: it is neither' || true; } \
    || die "Installing $lock into $dir failed (see the pip output above); check the network access to PyPI and the free disk space (df -h), then retry."
  echo "$stamp" > "$dir/.lock-stamp"
}

PY310="$(find_python 3.10)" || die "Python 3.10 is needed for Rasa 3.6 and was not found: install it (for example 'pyenv install 3.10.13') or set PYTHON310=/path/to/python3.10."
PY311="$(find_python 3.11)" || die "Python 3.11 is needed for the gateway and actions and was not found: install it (for example 'pyenv install 3.11.7') or set PYTHON311=/path/to/python3.11."
mkdir -p .venv var/log var/cache
# Installed sizes measured on this stack: .venv/rasa 2.8 GB, .venv/app 2.1 GB; pip needs room
# for the wheels while it unpacks them, hence the margin.
make_venv rasa "$PY310" requirements/rasa.txt 4
make_venv app "$PY311" requirements/app.txt 3

# --- Debian packages ------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {  # $1 = command to look for, $2 = package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ "$(id -u)" != "0" ]]; then
    die "$2 is missing and installing it needs root: run 'sudo apt-get install -y $2', then run this again."
  fi
  command -v apt-get >/dev/null 2>&1 || die "$2 is missing and this is not a Debian-like system: install $2 by hand, then run this again."
  say "installing $2 (apt)"
  if [[ "$APT_UPDATED" == 0 ]]; then apt-get update -qq >/dev/null || true; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null \
    || die "apt-get could not install $2; run 'apt-get install -y $2' to see why."
}
apt_try() {  # like apt_install, for what only some tests need: a failure is a warning, not the end
  ( apt_install "$@" ) || printf '\033[1;33m[setup] could not install %s; the tests that need it say so.\033[0m\n' "$2" >&2
}
apt_install redis-server redis-server
if [[ "$WITH_BROWSER" == 1 ]]; then
  apt_install chromium chromium
  # `systemd-analyze verify` checks the production units in deploy/systemd (tests/deploy).
  apt_try systemd-analyze systemd
  # A Chinese font, so the browser tests' screenshots show characters, not empty boxes.
  dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || apt_try fonts-wqy-microhei-is-a-package fonts-wqy-microhei
fi

# --- spaCy pipeline -------------------------------------------------------------------------
# config.yml's SpacyNLP loads var/spacy/zh_yijianshi: a blank zh pipeline whose EntityRuler holds
# the NLU lookups (towns, person groups, one-thing names). Rebuilt only when they changed.
.venv/rasa/bin/python -m rasa_components.spacy_pipeline >var/log/spacy-pipeline.log 2>&1 \
  || { tail -n 20 var/log/spacy-pipeline.log >&2; die "Building the spaCy pipeline failed; the log is in var/log/spacy-pipeline.log."; }

# --- Rasa model -----------------------------------------------------------------------------
# Retrain only when what the model is made of changed. The hash names the model file.
MODEL_INPUTS=(config.yml domain.yml $(find data knowledge/lexicon rasa_components -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.txt' -o -name '*.py' \) | sort))
MODEL_HASH="$(hash_of "${MODEL_INPUTS[@]}" <(printf '%s\n' "${MODEL_INPUTS[@]}"))"
MODEL_FILE="models/assistant-$MODEL_HASH.tar.gz"
if [[ ! -f "$MODEL_FILE" ]]; then
  say "training the Rasa model (inputs changed; about 1-2 minutes)"
  mkdir -p models
  .venv/rasa/bin/rasa train --fixed-model-name "assistant-$MODEL_HASH" --out models \
      >var/log/rasa-train.log 2>&1 \
    || { tail -n 30 var/log/rasa-train.log >&2; die "Rasa training failed; the log is in var/log/rasa-train.log."; }
fi
ln -sfn "$(basename "$MODEL_FILE")" models/current.tar.gz
find models -name 'assistant-*.tar.gz' ! -name "$(basename "$MODEL_FILE")" -delete

# --- Knowledge index ------------------------------------------------------------------------
say "checking the knowledge index"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/app/bin/python -m knowledge build-index \
  || die "Building the knowledge index failed; run '.venv/app/bin/python -m knowledge build-index' to see why."

say "ready"
