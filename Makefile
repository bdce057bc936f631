# vkedge — every target uses a pinned Deno 2.9.x: the one on PATH if it is
# 2.9.x, otherwise DENO_VERSION installed from the npm registry into .tools/.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DENO_VERSION := 2.9.6
LOCAL_DENO := $(CURDIR)/.tools/node_modules/.bin/deno
PATH_DENO := $(shell d=$$(command -v deno 2>/dev/null) && "$$d" --version 2>/dev/null | head -n1 | grep -q '^deno 2\.9\.' && echo "$$d")
DENO ?= $(if $(PATH_DENO),$(PATH_DENO),$(LOCAL_DENO))
CP_BIN := $(CURDIR)/.local/control-plane-bin
CLUSTER_DIR := $(CURDIR)/.local/cluster

.PHONY: help setup deno deps control-plane kwok vcsim openstack conformance swarm-deps fmt-check lint check test bundle dist compile demo bench cluster-up cluster-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(LOCAL_DENO):
	npm install --prefix .tools --no-audit --no-fund --no-save --loglevel=error deno@$(DENO_VERSION)

deno: $(if $(PATH_DENO),,$(LOCAL_DENO)) ## install Deno (only when no Deno 2.9.x is on PATH)

deps: deno ## fetch the npm dependencies pinned in deno.lock
	$(DENO) install --frozen

control-plane: ## build (or reuse) the test control plane binaries
	bash tests/control_plane/build.sh

kwok: ## build (or reuse) kwok, the node and pod simulator of the kubernetes provider's lower cluster
	bash tests/kwok/build.sh

conformance: ## download and compile virtual-kubelet's published e2e suite (tests/conformance)
	cd tests/conformance && go test -count=1 -run '^$$' ./... >/dev/null

vcsim: ## build (or reuse) the vSphere simulator launcher over govmomi's simulator (tests/vcsim)
	bash tests/vcsim/build.sh

swarm-deps: ## Debian's docker.io, busybox-static and iptables for the swarm provider's tests (when missing)
	bash tests/_harness/install_swarm_deps.sh

openstack: deps ## install (when missing) Debian's OpenStack packages of the test stack and build its database template once (tests/openstack)
	bash tests/openstack/install.sh
	$(DENO) run -A tests/openstack/main.ts prepare >/dev/null

setup: deps control-plane kwok vcsim openstack conformance swarm-deps ## everything the tests need

fmt-check: deno
	$(DENO) fmt --check

lint: deno
	$(DENO) lint

check: deps
	$(DENO) check .

test: setup fmt-check lint check ## fmt, lint, type check, then every test (bundled agent, fresh control plane)
	$(DENO) run -A tests/run.ts

bundle: deps ## single-file agent at dist/vkedge.js (deno run -A dist/vkedge.js), commit stamped in
	$(DENO) run -A scripts/build.ts bundle

dist: deps ## one executable per Linux target, dist/vkedge-linux-{x86_64,aarch64}: the pinned Deno + the bundle, runs offline
	$(DENO) run -A scripts/build.ts dist --deno-version=$(DENO_VERSION)

compile: deps ## single binary at dist/vkedge (needs the denort runtime: Deno's download server, or DENORT_BIN)
	$(if $(DENORT_BIN),DENORT_BIN=$(DENORT_BIN) ,)$(DENO) run -A scripts/build.ts compile

demo: deps control-plane ## control plane + ZStack simulator + agent + a pod as a VM (DEMO_PROVIDER=vsphere: govmomi's simulator; openstack: the OpenStack test stack; mock: a Deployment); Ctrl-C stops all
	DENO=$(DENO) bash deploy/demo/demo.sh

bench: deps cluster-up kwok vcsim swarm-deps openstack ## pod creation → Running for 1, 10, 100 pods, mock, zstack and kubernetes, 1 and 20 vsphere and openstack, 20 on a real Swarm; 100 and 1000 pods beside upstream virtual-kubelet, the API's limit, a restart with 1000 pods; the agent's watches; port-forward MiB/s; probe cost (figures in the README)
	$(DENO) run -A bench/run.ts

cluster-up: deno control-plane ## start the local control plane in the background
	@$(CP_BIN)/controlplane up --dir $(CLUSTER_DIR) --bin $(CP_BIN)

cluster-down: ## stop every process cluster-up started
	@if [ -x $(CP_BIN)/controlplane ]; then $(CP_BIN)/controlplane down --dir $(CLUSTER_DIR); fi

clean: cluster-down
	rm -rf dist .local
