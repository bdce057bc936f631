#!/usr/bin/env bash
# make demo: a local control plane, the agent with a provider, and a sample
# workload; Ctrl-C stops everything this script started.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
deno=${DENO:?DENO must point at the deno binary (make demo sets it)}
provider=${DEMO_PROVIDER:-mock}
node=${DEMO_NODE:-vkedge-demo}
cluster_dir="$root/.local/cluster"
cp="$root/.local/control-plane-bin"
log="$root/.local/demo-agent.log"

"$cp/controlplane" up --dir "$cluster_dir" --bin "$cp" >/dev/null
export KUBECONFIG="$cluster_dir/kubeconfig"
agent_pid=""
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping the agent and the control plane..."
  if [ -n "$agent_pid" ]; then kill -TERM "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  kubectl delete -f "$root/deploy/demo/sample-deployment.yaml" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "$cp/controlplane" down --dir "$cluster_dir"
}
trap cleanup INT TERM EXIT

"$deno" run -A "$root/mod.ts" --provider="$provider" --nodename="$node" \
  --address=127.0.0.1 --node-ip=127.0.0.1 --kubelet-port="${DEMO_KUBELET_PORT:-10250}" \
  >"$log" 2>&1 &
agent_pid=$!
echo "agent started (pid $agent_pid, log $log); waiting for node $node..."
for _ in $(seq 1 60); do
  if kubectl get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True; then break; fi
  if ! kill -0 "$agent_pid" 2>/dev/null; then echo "the agent exited:"; tail -20 "$log"; exit 1; fi
  sleep 1
done
kubectl apply -f "$root/deploy/demo/sample-deployment.yaml"
kubectl rollout status deployment/hello-edge --timeout=120s
echo
kubectl get nodes -o wide
echo
kubectl get pods -o wide
pod=$(kubectl get pods -l app=hello-edge -o jsonpath='{.items[0].metadata.name}')
echo
echo "kubectl logs $pod:"
kubectl logs "$pod"
cat <<TXT

The demo is running. In another terminal:
  export KUBECONFIG=$KUBECONFIG
  kubectl get nodes,pods -o wide
  kubectl describe node $node
  kubectl logs -f $pod
  kubectl scale deployment hello-edge --replicas=5
Press Ctrl-C to stop everything.
TXT
wait "$agent_pid"
