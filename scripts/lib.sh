# Shared by the scripts: project root and a persistent target directory.
# Sourced, not run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# A target dir outside the clone survives fresh clones (CI, new checkouts): only what changed
# is rebuilt. Callers may set their own.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/zqsync-target}
TARGET_DIR=$CARGO_TARGET_DIR
# CI builds each fresh clone once: incremental state would only be written (slower) and pile up
# in the shared target dir (it had grown to 18 GB), never reused.
[[ "${CI:-}" == true ]] && export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
log() { echo "[$(basename "$0")] $*" >&2; }
IS_ROOT=0; [[ $(id -u) == 0 ]] && IS_ROOT=1
apt_ready() { # make sure apt knows the package (runs `apt-get update` once if it does not)
  [[ -n "$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)"')" ]] && return 0
  (( IS_ROOT )) || return 1
  log "apt-get update"; apt-get update -qq >/dev/null
  [[ -n "$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)"')" ]]
}
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
