// Command controlplane runs a local Kubernetes control plane for vkedge's tests:
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler, each a real
// process on 127.0.0.1, built from the official Kubernetes Go modules.
//
//	controlplane up --dir DIR --bin BINDIR   start (or reuse) and print export KUBECONFIG=...
//	controlplane down --dir DIR              stop every process that up started
//	controlplane compact --dir DIR           compact etcd at its current revision
//	controlplane apiserver-stop --dir DIR    stop kube-apiserver alone (etcd and the rest keep running)
//	controlplane apiserver-start --dir DIR   start it again with the same flags, port and certificates
//	controlplane etcd [flags]                run embedded etcd (used by up)
package main

import (
	"flag"
	"fmt"
	"os"
)

const serviceIP = "10.96.0.1"

func usage() {
	fmt.Fprintln(os.Stderr, "usage: controlplane up|down|compact|apiserver-stop|apiserver-start|etcd --dir DIR [--bin BINDIR]")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".local/cluster", "state directory (certificates, kubeconfigs, logs, etcd data)")
	bin := fs.String("bin", "", "directory with kube-apiserver, kube-controller-manager and kube-scheduler")
	timeout := fs.Duration("timeout", defaultStartTimeout, "how long up (or apiserver-start) waits for every component to be healthy")
	dataDir := fs.String("data-dir", "", "etcd: data directory")
	clientURL := fs.String("listen-client-url", "", "etcd: client URL")
	peerURL := fs.String("listen-peer-url", "", "etcd: peer URL")
	if err := fs.Parse(os.Args[2:]); err != nil {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(*dir, *bin, *timeout)
	case "down":
		err = down(*dir)
	case "compact":
		err = compact(*dir)
	case "apiserver-stop":
		err = apiserverStop(*dir)
	case "apiserver-start":
		err = apiserverStart(*dir, *timeout)
	case "etcd":
		err = runEtcd(*dataDir, *clientURL, *peerURL)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "controlplane %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
