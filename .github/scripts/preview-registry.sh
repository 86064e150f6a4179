#!/usr/bin/env bash
# Records a change to the preview registry on main.
#
# The registry is data on main: environments/previews.json plus each preview's release file
# (and audit history) in environments/releases/. Every preview job reads it from there, so a
# preview created from a pull request can be destroyed when the pull request closes, and
# `preview gc` sees every live preview.
#
# Usage: preview-registry.sh <commit message> <envctl preview sub-command and arguments...>
#   e.g. preview-registry.sh "preview(pr-42-x): create" create pr-42-x
#
# Runs `envctl preview <args> --no-deploy --yes` (files only) in a fresh worktree of
# origin/main, commits what changed there and pushes it to main. When main moved in between
# (another preview registered), it starts again from the new main, so allocations (CIDRs) are
# always made against the latest registry. Finally the workspace's registry is made main's, so
# the steps after it synthesize the previews main knows about.
#
# Needs: node_modules in the workspace, a git identity or the defaults below, and REGISTRY_REMOTE:
# the URL (with the recorder's token) fetched from and pushed to; `origin` when unset. The
# workflows check out with persist-credentials: false, so no token waits in the git config.
set -euo pipefail

message=${1:?usage: preview-registry.sh <commit message> <envctl preview args...>}
shift
[ $# -gt 0 ] || { echo "preview-registry.sh: no envctl preview arguments" >&2; exit 1; }

workspace=$PWD
tree=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/preview-registry.XXXXXX")
cleanup() { git -C "$workspace" worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"; }
trap cleanup EXIT
rmdir "$tree"

remote=${REGISTRY_REMOTE:-origin}
run_url="${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
attempts=5
for attempt in $(seq 1 "$attempts"); do
  git -C "$workspace" fetch --quiet --no-tags --depth=1 "$remote" main
  git -C "$workspace" worktree remove --force "$tree" 2>/dev/null || true
  git -C "$workspace" worktree add --quiet --detach "$tree" FETCH_HEAD
  ln -s "$workspace/node_modules" "$tree/node_modules"

  (cd "$tree" && npx envctl preview "$@" --no-deploy --yes)

  git -C "$tree" add --all -- environments
  if git -C "$tree" diff --cached --quiet; then
    echo "preview registry on main: already up to date"
    break
  fi
  git -C "$tree" \
    -c user.name="${GIT_AUTHOR_NAME:-github-actions[bot]}" \
    -c user.email="${GIT_AUTHOR_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}" \
    commit --quiet -m "$message" -m "Workflow run: $run_url"
  if git -C "$tree" push --quiet "$remote" HEAD:main; then
    echo "preview registry on main: $message"
    break
  fi
  if [ "$attempt" -eq "$attempts" ]; then
    echo "preview-registry.sh: main kept moving; gave up after $attempts attempts" >&2
    exit 1
  fi
  echo "main moved while recording '$message'; starting again from the new main ($attempt/$attempts)" >&2
  sleep "$attempt"
done

# The workspace's previews become main's: drop the ones it had, copy main's in.
registry=environments/previews.json
previews_of() { [ -f "$1" ] && jq -r '.previews[].name' "$1" || true; }
for name in $(previews_of "$workspace/$registry"); do
  rm -f "$workspace/environments/releases/$name.json" "$workspace/environments/releases/$name.audit.jsonl"
done
if [ -f "$tree/$registry" ]; then cp "$tree/$registry" "$workspace/$registry"; else rm -f "$workspace/$registry"; fi
for name in $(previews_of "$tree/$registry"); do
  for file in "$name.json" "$name.audit.jsonl"; do
    if [ -f "$tree/environments/releases/$file" ]; then cp "$tree/environments/releases/$file" "$workspace/environments/releases/$file"; fi
  done
done
