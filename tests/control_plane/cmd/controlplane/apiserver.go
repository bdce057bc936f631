package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// apiserverArgs are kube-apiserver's flags: etcd at etcdURL, serving on
// 127.0.0.1:port with the certificates in pki.
func apiserverArgs(etcdURL, pki string, port int) []string {
	p := func(name string) string { return filepath.Join(pki, name) }
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + p("apiserver.crt"),
		"--tls-private-key-file=" + p("apiserver.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--token-auth-file=" + p("tokens.csv"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p("sa.pub"),
		"--service-account-signing-key-file=" + p("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		"--kubelet-client-certificate=" + p("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + p("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
		"--requestheader-client-ca-file=" + p("front-proxy-ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + p("front-proxy-client.crt"),
		"--proxy-client-key-file=" + p("front-proxy-client.key"),
		// ConfigMap watches go straight to etcd, so that compacting etcd
		// expires old resourceVersions at once (410 Gone), as on a busy
		// cluster whose watch cache has moved on; every other resource keeps
		// its watch cache.
		"--watch-cache-sizes=configmaps#0",
		"--profiling=false",
	}
}

// startAPIServer runs st.APIServer and records its pid in DIR/cluster.json.
func startAPIServer(dir string, st *state) error {
	if len(st.APIServer) == 0 {
		return errors.New("cluster.json has no kube-apiserver command line: the control plane was started by an older launcher; run down and up")
	}
	pid, err := start(dir, "kube-apiserver", st.APIServer[0], st.APIServer[1:]...)
	if err != nil {
		return err
	}
	st.Pids["kube-apiserver"] = pid
	return st.write(dir)
}

// apiClient trusts the cluster CA in pki, as every client of the API server does.
func apiClient(pki string) (*http.Client, error) {
	caPEM, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: expected a PEM certificate, found none", filepath.Join(pki, "ca.crt"))
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}

// waitAPIServerReady waits until kube-apiserver answers /readyz with 200.
func waitAPIServerReady(api *http.Client, st *state, token string, deadline time.Time) error {
	return waitFor("kube-apiserver", st.Pids["kube-apiserver"], deadline, st.Logs, func() error {
		return httpGetOK(api, st.Server+"/readyz", token)
	})
}

// apiserverGrace is how long apiserver-stop lets kube-apiserver drain after
// SIGTERM: it stops listening at once, but then waits for its long-running
// requests (the other components' watches) for up to a minute.
const apiserverGrace = 5 * time.Second

// apiserverStop stops kube-apiserver alone (SIGTERM, SIGKILL after
// apiserverGrace); etcd, the controller-manager and the scheduler keep
// running, so the cluster's state and every other port stay as they were.
func apiserverStop(dir string) error {
	st, err := readState(dir)
	if err != nil {
		return err
	}
	pid := st.Pids["kube-apiserver"]
	if !alive(pid) {
		fmt.Printf("kube-apiserver of %s is not running\n", dir)
		return nil
	}
	stop(pid, apiserverGrace)
	if alive(pid) {
		return fmt.Errorf("kube-apiserver (pid %d) still runs after SIGKILL", pid)
	}
	fmt.Printf("kube-apiserver stopped; %s refuses connections until apiserver-start\n", st.Server)
	return nil
}

// apiserverStart starts kube-apiserver again with the command line up used
// (same flags, port and certificates) and waits until it is ready.
func apiserverStart(dir string, timeout time.Duration) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	st, err := readState(dir)
	if err != nil {
		return err
	}
	if alive(st.Pids["kube-apiserver"]) {
		fmt.Printf("kube-apiserver already runs at %s\n", st.Server)
		return nil
	}
	if !alive(st.Pids["etcd"]) {
		return fmt.Errorf("etcd of %s is not running: start the whole control plane with up", dir)
	}
	pki := filepath.Join(dir, "pki")
	token, err := os.ReadFile(filepath.Join(pki, "admin.token"))
	if err != nil {
		return err
	}
	api, err := apiClient(pki)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	if err := startAPIServer(dir, st); err != nil {
		return err
	}
	if err := waitAPIServerReady(api, st, string(token), deadline); err != nil {
		return err
	}
	fmt.Printf("kube-apiserver ready at %s\n", st.Server)
	return nil
}
