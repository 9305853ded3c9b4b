#!/usr/bin/env bash
# Run every test; assumes scripts/setup.sh --with-browser has run (make test does that).
# Steps: ruff, rasa data validate, NLU entity annotations, the custom Rasa components, the NLU blind set (intent macro-F1
# >= 0.95), Rasa test stories, then pytest (unit, integration against a real Redis, end-to-end
# against a real stack it starts on free ports). pytest runs last so its summary
# is the closing line. Exits non-zero when any step fails.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
failed=()
step() {  # $1 = name, rest = command
  local name="$1"; shift
  printf '\n\033[1;34m=== %s\033[0m\n' "$name"
  "$@" || failed+=("$name")
}

step "ruff" .venv/app/bin/ruff check .
step "rasa data validate" .venv/rasa/bin/rasa data validate --fail-on-warnings
step "NLU entity annotations" .venv/rasa/bin/python scripts/check_nlu_entities.py
step "Rasa components" .venv/rasa/bin/python tests/rasa_components/check_components.py
step "NLU blind set" sh -c 'mkdir -p var/results && .venv/rasa/bin/rasa test nlu --nlu tests/nlu/blind.yml --model models/current.tar.gz \
  --out var/results/nlu-blind >var/results/nlu-blind.log 2>&1 && .venv/app/bin/python scripts/nlu_gate.py var/results/nlu-blind --min-macro-f1 0.95'
step "rasa test stories" .venv/rasa/bin/rasa test core --model models/current.tar.gz \
  --stories tests/rasa --fail-on-prediction-errors --out var/results/core

printf '\n\033[1;34m=== pytest\033[0m\n'
.venv/app/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [[ $rc -eq 5 ]]; then echo "pytest collected no tests"; failed+=("pytest (no tests)");
elif [[ $rc -ne 0 ]]; then failed+=("pytest"); fi

if [[ ${#failed[@]} -gt 0 ]]; then
  printf '\n\033[1;31mFAILED: %s\033[0m\n' "${failed[*]}"
  exit 1
fi
printf '\n\033[1;32mall test steps passed\033[0m\n'
