#!/usr/bin/env bash
# make demo: a local control plane, the agent with a provider, and a sample workload;
# Ctrl-C stops everything this script started.
#
#   DEMO_PROVIDER     zstack (default: the ZStack simulator, a pod as a VM), vsphere
#                     (govmomi's vSphere simulator, tests/vcsim, a pod as a VM), openstack
#                     (the real Nova API of the OpenStack test stack, tests/openstack, a pod
#                     as a server) or mock (a sample Deployment of in-memory pods)
#   DEMO_KUBELET_PORT port of the agent's kubelet API (default 10250)
#   DEMO_CLUSTER_DIR  folder of the control plane (default .local/cluster); it is stopped
#                     on exit, so point it elsewhere when others use that one
#   DEMO_ZSTACK_PORT  port of the ZStack simulator (default 0: a free one)
#   DEMO_VM_BOOT_MS   how long a simulated VM takes to boot (default 3000)
#   DEMO_VCSIM_PORT   port of the vSphere simulator (default 0: a free one)
#   DEMO_NODE         node name (default vkedge-demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
deno=${DENO:?DENO must point at the deno binary (make demo sets it)}
provider=${DEMO_PROVIDER:-zstack}
node=${DEMO_NODE:-vkedge-demo}
kubelet_port=${DEMO_KUBELET_PORT:-10250}
cluster_dir=${DEMO_CLUSTER_DIR:-$root/.local/cluster}
cp="$root/.local/control-plane-bin"
work="$root/.local/demo"
log="$work/agent.log"
sim_log="$work/zstack-sim.log"
case "$provider" in
  zstack) sample="$root/deploy/demo/sample-vm-pod.yaml" ;;
  vsphere) sample="$root/deploy/demo/sample-vsphere-pod.yaml" ;;
  openstack) sample="$root/deploy/demo/sample-openstack-pod.yaml" ;;
  mock) sample="$root/deploy/demo/sample-deployment.yaml" ;;
  *) echo "DEMO_PROVIDER: expected zstack, vsphere, openstack or mock, found \"$provider\"" >&2; exit 2 ;;
esac
mkdir -p "$work"

"$cp/controlplane" up --dir "$cluster_dir" --bin "$cp" >/dev/null
export KUBECONFIG="$cluster_dir/kubeconfig"
agent_pid=""
sim_pid=""
stop() { # pid: SIGTERM, then wait until it is gone
  if [ -n "$1" ]; then kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
cleanup() {
  trap - INT TERM EXIT
  echo
  if [ "$provider" = zstack ]; then
    echo "stopping the agent, the ZStack simulator and the control plane..."
  elif [ "$provider" = vsphere ]; then
    echo "stopping the agent, the vSphere simulator and the control plane..."
  elif [ "$provider" = openstack ]; then
    echo "stopping the agent, the OpenStack stack and the control plane..."
  else
    echo "stopping the agent and the control plane..."
  fi
  # While the agent runs: its finalizer deletes the VM.
  kubectl delete vm hello-machine --ignore-not-found --timeout=20s >/dev/null 2>&1 || true
  stop "$agent_pid"
  stop "$sim_pid"
  kubectl delete -f "$sample" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "$cp/controlplane" down --dir "$cluster_dir"
}
trap cleanup INT TERM EXIT

provider_args=()
if [ "$provider" = zstack ]; then
  # The simulator prints its base URL first; the provider config is deploy/zstack-provider.yaml
  # with that endpoint and a password file.
  : >"$sim_log"
  "$deno" run -A "$root/tests/zstack_sim/main.ts" --port="${DEMO_ZSTACK_PORT:-0}" \
    --vm-boot="${DEMO_VM_BOOT_MS:-3000}" --job-duration=100 >"$sim_log" 2>&1 &
  sim_pid=$!
  endpoint=""
  for _ in $(seq 1 100); do
    endpoint=$(grep -m1 -o '^http://[^ ]*/zstack$' "$sim_log" || true)
    if [ -n "$endpoint" ]; then break; fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then echo "the ZStack simulator exited:"; cat "$sim_log"; exit 1; fi
    sleep 0.2
  done
  if [ -z "$endpoint" ]; then echo "the ZStack simulator did not start:"; cat "$sim_log"; exit 1; fi
  echo "ZStack simulator at $endpoint (pid $sim_pid, log $sim_log)"
  (umask 077 && printf 'password\n' >"$work/zstack-password")
  sed -e "s|^endpoint: .*|endpoint: $endpoint|" \
    -e "s|^\( *passwordFile:\) .*|\1 $work/zstack-password|" \
    -e "s|^clusterName: .*|clusterName: vkedge-demo|" \
    "$root/deploy/zstack-provider.yaml" >"$work/zstack-provider.yaml"
  provider_args=(--provider-config="$work/zstack-provider.yaml")
elif [ "$provider" = vsphere ]; then
  # The launcher over govmomi's simulator (built once, cached) prints one JSON line with
  # its SDK URL and CA file; the provider config is deploy/vsphere-provider.yaml with those.
  vcsim=$(bash "$root/tests/vcsim/build.sh")
  vcsim_log="$work/vcsim.log"
  vcsim_out="$work/vcsim.json"
  : >"$vcsim_out"
  "$vcsim" -listen "127.0.0.1:${DEMO_VCSIM_PORT:-0}" -dir "$work/vcsim" \
    -guest-boot "${DEMO_VM_BOOT_MS:-3000}ms" >"$vcsim_out" 2>"$vcsim_log" &
  sim_pid=$!
  endpoint=""
  for _ in $(seq 1 150); do
    endpoint=$(grep -m1 -o '"url":"[^"]*"' "$vcsim_out" | cut -d'"' -f4 || true)
    if [ -n "$endpoint" ]; then break; fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then echo "the vSphere simulator exited:"; cat "$vcsim_log"; exit 1; fi
    sleep 0.2
  done
  if [ -z "$endpoint" ]; then echo "the vSphere simulator did not start:"; cat "$vcsim_log"; exit 1; fi
  ca_file=$(grep -m1 -o '"caFile":"[^"]*"' "$vcsim_out" | cut -d'"' -f4)
  admin=$(grep -m1 -o '"admin":"[^"]*"' "$vcsim_out" | cut -d'"' -f4)
  echo "vSphere simulator (govmomi) at $endpoint (pid $sim_pid, log $vcsim_log)"
  (umask 077 && grep -m1 -o '"password":"[^"]*"' "$vcsim_out" | cut -d'"' -f4 >"$work/vsphere-password")
  sed -e "s|^endpoint: .*|endpoint: $endpoint|" \
    -e "s|^\( *passwordFile:\) .*|\1 $work/vsphere-password|" \
    -e "s|^\( *caFile:\) .*|\1 $ca_file|" \
    -e "s|^clusterName: .*|clusterName: vkedge-demo|" \
    "$root/deploy/vsphere-provider.yaml" >"$work/vsphere-provider.yaml"
  provider_args=(--provider-config="$work/vsphere-provider.yaml")
elif [ "$provider" = openstack ]; then
  # The OpenStack test stack (installed by make setup; the first start on a machine builds
  # its database template, a few minutes) stops with this script; the provider config is
  # deploy/openstack-provider.yaml with its Keystone URL and the admin's password file.
  stack_dir="$work/openstack"
  stack_log="$work/openstack.log"
  bash "$root/tests/openstack/install.sh"
  rm -rf "$stack_dir"
  "$deno" run -A "$root/tests/openstack/main.ts" up --dir "$stack_dir" --until-pid $$ >"$stack_log" 2>&1 &
  sim_pid=$!
  echo "starting the OpenStack stack in $stack_dir (pid $sim_pid, log $stack_log)..."
  endpoint=""
  for _ in $(seq 1 1200); do
    endpoint=$(grep -m1 -o '^ready http://[^ ]*' "$stack_log" | cut -d' ' -f2 || true)
    if [ -n "$endpoint" ]; then break; fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then echo "the OpenStack stack exited:"; tail -20 "$stack_log"; exit 1; fi
    sleep 0.5
  done
  if [ -z "$endpoint" ]; then echo "the OpenStack stack did not start:"; tail -20 "$stack_log"; exit 1; fi
  grep -m1 'ready in' "$stack_log"
  (umask 077 && printf 'vkedge-admin\n' >"$work/openstack-password")
  sed -e "s|^\(  url:\) .*|\1 $endpoint|" \
    -e "s|^\(    username:\) .*|\1 admin|" \
    -e "s|^\(    project:\) .*|\1 admin|" \
    -e "s|^\( *passwordFile:\) .*|\1 $work/openstack-password|" \
    -e "s|^clusterName: .*|clusterName: vkedge-demo|" \
    "$root/deploy/openstack-provider.yaml" >"$work/openstack-provider.yaml"
  provider_args=(--provider-config="$work/openstack-provider.yaml")
fi

"$deno" run -A "$root/mod.ts" --provider="$provider" "${provider_args[@]}" --nodename="$node" \
  --address=127.0.0.1 --node-ip=127.0.0.1 --kubelet-port="$kubelet_port" --install-crds \
  >"$log" 2>&1 &
agent_pid=$!
echo "agent started (pid $agent_pid, kubelet port $kubelet_port, log $log); waiting for node $node..."
for _ in $(seq 1 60); do
  if kubectl get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True; then break; fi
  if ! kill -0 "$agent_pid" 2>/dev/null; then echo "the agent exited:"; tail -20 "$log"; exit 1; fi
  sleep 1
done
kubectl apply -f "$sample"
image=vm-image
if [ "$provider" = zstack ]; then image=zstack/cirros; fi
if [ "$provider" = vsphere ]; then image=vsphere/cirros; fi
if [ "$provider" = openstack ]; then image=openstack/cirros; fi
sed -e "s|NODE|$node|; s|IMAGE|$image|" "$root/deploy/demo/sample-virtual-machine.yaml" | kubectl apply -f -
if [ "$provider" = zstack ] || [ "$provider" = vsphere ] || [ "$provider" = openstack ]; then
  kubectl wait --for=condition=Ready pod/hello-vm --timeout=180s
  pod=hello-vm
else
  kubectl rollout status deployment/hello-edge --timeout=120s
  pod=$(kubectl get pods -l app=hello-edge -o jsonpath='{.items[0].metadata.name}')
fi
kubectl wait --for=jsonpath='{.status.printableStatus}'=Running vm/hello-machine --timeout=120s
echo
kubectl get nodes -o wide
echo
kubectl get pods -o wide
echo
kubectl get vm -o wide
if [ "$provider" = zstack ]; then
  echo
  kubectl get pod hello-vm -o jsonpath='pod {.metadata.name}: phase {.status.phase}, VM IP {.status.podIP}, host {.status.hostIP}{"\n"}'
elif [ "$provider" = vsphere ]; then
  echo
  kubectl get pod hello-vm -o jsonpath='pod {.metadata.name}: phase {.status.phase}, VM IP {.status.podIP}{"\n"}'
elif [ "$provider" = openstack ]; then
  echo
  kubectl get pod hello-vm -o jsonpath='pod {.metadata.name}: phase {.status.phase}, server IP {.status.podIP}, host {.status.hostIP}{"\n"}'
fi
echo
echo "kubectl logs $pod:"
kubectl logs "$pod"
if [ "$provider" = zstack ]; then
  more="  curl -s ${endpoint%/zstack}/__sim/state   # the simulator's inventory: VMs, hosts, IPs
  kubectl delete pod hello-vm                  # the VM is destroyed and expunged"
elif [ "$provider" = vsphere ]; then
  more="  curl -s --cacert $ca_file $admin/state   # the simulator's VMs: power, host, IP, extraConfig
  kubectl delete pod hello-vm                  # the VM is powered off and destroyed"
elif [ "$provider" = openstack ]; then
  more="  cat $stack_dir/stack.json                   # the stack: endpoints, users, daemons
  ls $stack_dir/logs                          # every daemon's log (nova-api.log, ...)
  kubectl delete pod hello-vm                  # the server is deleted"
else
  more="  kubectl scale deployment hello-edge --replicas=5"
fi
cat <<TXT

The demo is running. In another terminal:
  export KUBECONFIG=$KUBECONFIG
  kubectl get nodes,pods -o wide
  kubectl describe node $node
  kubectl logs -f $pod
  $deno run -A $root/mod.ts vm stop hello-machine --wait   # the VM is kept, stopped
  $deno run -A $root/mod.ts vm start hello-machine --wait  # the same VM again
  $deno run -A $root/mod.ts vm snapshot hello-machine --wait
  kubectl get vm,vmsnapshot,vmmigration
$more
Press Ctrl-C to stop everything.
TXT
wait "$agent_pid"
