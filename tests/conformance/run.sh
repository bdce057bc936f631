#!/usr/bin/env bash
# run.sh [--preflight] — runs virtual-kubelet's provider e2e suite against the vkedge agent.
#
# Needs a running cluster (KUBECONFIG set, e.g. after `make cluster-up`), root (for
# netns.sh) and Go. It:
#   1. brings up the private veth address with netns.sh (10.213.0.1 by default),
#   2. compiles the Go test (go test -run '^$', so the later run starts at once),
#   3. starts the agent (mock provider) in the background, its kubelet API on
#      ADDRESS:VKEDGE_KUBELET_PORT with --anonymous-auth (the API server's pod proxy,
#      which the suite uses for /stats/summary and /metrics/resource, sends no client
#      certificate), and waits until the Node is Ready,
#   4. runs `go test -count=1 -v ./...` in tests/conformance with a timeout,
#   5. stops the agent, deletes its Node, and exits with go test's status.
# --preflight does 1–2 and the checks of 3, then stops before starting the agent.
#
# Environment (all optional):
#   VKEDGE_NODE_NAME        node name (default vkedge-conformance)
#   VKEDGE_KUBELET_PORT     kubelet API port (default 10250; the suite reads /stats/summary
#                           and /metrics/resource on 10250 only, other ports skip those two)
#   VKEDGE_NAMESPACE        namespace of the test pods (default: a fresh one per run)
#   VKEDGE_WATCH_TIMEOUT    per-watch timeout of the suite (default 2m)
#   VKEDGE_SKIP_TESTS       comma-separated suite tests to skip
#   GO_TEST_TIMEOUT         go test -timeout (default 10m)
#   NODE_READY_TIMEOUT      seconds to wait for the Node to be Ready (default 120)
#   AGENT_STOP_TIMEOUT      seconds between SIGTERM and SIGKILL of the agent (default 15)
#   VKEDGE_AGENT            entry point the agent runs from (default: mod.ts of the repo)
#   DENO                    deno binary (default: .tools/node_modules/.bin/deno, else deno on PATH)
#   VKEDGE_CONFORMANCE_DIR  where logs and the provider config go (default: a new temp dir)
#   VKEDGE_AGENT_ARGS       extra agent flags (word-split)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

preflight=false
case "${1:-}" in
  --preflight) preflight=true ;;
  "") ;;
  *)
    echo "usage: $0 [--preflight]" >&2
    exit 2
    ;;
esac

log() { echo "run.sh: $*" >&2; }
die() {
  log "$*"
  exit 1
}

node=${VKEDGE_NODE_NAME:-vkedge-conformance}
port=${VKEDGE_KUBELET_PORT:-10250}
go_timeout=${GO_TEST_TIMEOUT:-10m}
ready_timeout=${NODE_READY_TIMEOUT:-120}
stop_timeout=${AGENT_STOP_TIMEOUT:-15}
entry=${VKEDGE_AGENT:-$root/mod.ts}
if [ -z "${DENO:-}" ]; then
  if [ -x "$root/.tools/node_modules/.bin/deno" ]; then DENO=$root/.tools/node_modules/.bin/deno; else DENO=deno; fi
fi

[ -n "${KUBECONFIG:-}" ] || die "KUBECONFIG: expected the cluster's kubeconfig (run: make cluster-up, then the export it prints), found it unset"
[ -f "$KUBECONFIG" ] || die "KUBECONFIG: expected a file, found none at $KUBECONFIG"
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
  die "VKEDGE_KUBELET_PORT: expected a port from 1 to 65535, found '$port'"
command -v go >/dev/null || die "expected go on PATH, found none"
command -v kubectl >/dev/null || die "expected kubectl on PATH, found none"
kubectl version >/dev/null 2>&1 || die "expected the API server of $KUBECONFIG to answer, found: $(kubectl version 2>&1 | tail -n1)"

work=${VKEDGE_CONFORMANCE_DIR:-$(mktemp -d -t vkedge-conformance.XXXXXX)}
mkdir -p "$work"
log "logs and config in $work"

# 1. The address. Remember whether this run brought it up, to take it down again.
netns_created=false
"$here/netns.sh" status >/dev/null 2>&1 || netns_created=true
address=$("$here/netns.sh" up)
log "kubelet API address $address (veth vke-host, see netns.sh)"

agent_pid=""
cleanup() {
  local status=$?
  if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    log "stopping the agent (pid $agent_pid)"
    kill -TERM "$agent_pid" 2>/dev/null || true
    local stop_deadline=$((SECONDS + stop_timeout))
    while kill -0 "$agent_pid" 2>/dev/null && [ "$SECONDS" -lt "$stop_deadline" ]; do
      sleep 0.1
    done
    if kill -0 "$agent_pid" 2>/dev/null; then
      log "agent still running ${stop_timeout}s after SIGTERM: SIGKILL"
      kill -KILL "$agent_pid" 2>/dev/null || true
    fi
    local agent_status=0
    wait "$agent_pid" 2>/dev/null || agent_status=$?
    log "agent exited with status $agent_status (log: $work/agent.log)"
  fi
  if [ -n "$agent_pid" ]; then
    kubectl delete node "$node" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  if $netns_created; then "$here/netns.sh" down || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 2. Compile first, so that the agent does not idle through a cold build.
log "compiling the suite (go test -run '^\$')"
(cd "$here" && go test -count=1 -run '^$' ./... >/dev/null) || die "the conformance test does not compile"

# 3. Checks, then the agent.
if ss -H -ltn "sport = :$port" | awk '{print $4}' | grep -Eq "^($address|0\.0\.0\.0|\*|\[::\]):$port$"; then
  die "expected $address:$port to be free, found a listener: $(ss -H -ltnp "sport = :$port")"
fi
if kubectl get node "$node" >/dev/null 2>&1; then
  log "node $node already exists (left by an earlier run?): deleting it"
  kubectl delete node "$node" --wait=true >/dev/null
fi
[ -f "$entry" ] || die "expected the agent entry point at $entry, found none"
"$DENO" --version >/dev/null 2>&1 || die "expected a deno binary at '$DENO' (run make deno), found none"

config=$work/mock-provider.json
# Capacity as upstream's vkubelet-mock-0-cfg.json; the suite needs nothing else.
cat >"$config" <<'EOF'
{"capacity": {"cpu": "2", "memory": "32Gi", "pods": "128"}}
EOF

args=(run -A "$entry" --provider=mock "--provider-config=$config" "--nodename=$node"
  "--kubeconfig=$KUBECONFIG" "--node-ip=$address" "--address=$address"
  "--kubelet-port=$port" --anonymous-auth --log-level=debug)
# shellcheck disable=SC2206 # word splitting of extra flags is intended
[ -z "${VKEDGE_AGENT_ARGS:-}" ] || args+=(${VKEDGE_AGENT_ARGS})

if $preflight; then
  log "preflight OK; would run: $DENO ${args[*]}"
  exit 0
fi

log "starting: $DENO ${args[*]}"
"$DENO" "${args[@]}" >"$work/agent.log" 2>&1 &
agent_pid=$!

log "waiting up to ${ready_timeout}s for node $node to be Ready"
deadline=$((SECONDS + ready_timeout))
until [ "$(kubectl get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
  if ! kill -0 "$agent_pid" 2>/dev/null; then
    wait "$agent_pid" && rc=0 || rc=$?
    agent_pid=""
    log "the agent exited with status $rc before the node was Ready; its log ends with:"
    tail -n 40 "$work/agent.log" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "node $node not Ready after ${ready_timeout}s; the agent log ends with:"
    tail -n 40 "$work/agent.log" >&2
    exit 1
  fi
  sleep 1
done
log "node $node is Ready"
if out=$(kubectl get --raw "/api/v1/nodes/$node/proxy/healthz" 2>&1); then
  log "API server -> kubelet API through nodes/$node/proxy/healthz: $out"
else
  log "warning: nodes/$node/proxy/healthz failed: $out"
fi

# 4. The suite.
set +e
(
  cd "$here" &&
    VKEDGE_NODE_NAME=$node VKEDGE_KUBELET_PORT=$port VKEDGE_KUBELET_ADDRESS=$address \
      go test -count=1 -v -timeout "$go_timeout" ./...
)
status=$?
set -e
log "go test exited with status $status (agent log: $work/agent.log)"
exit "$status"
