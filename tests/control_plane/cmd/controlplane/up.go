package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

const defaultStartTimeout = 3 * time.Minute

// state is what up leaves in DIR/cluster.json for down, compact and the tests.
type state struct {
	Server          string         `json:"server"`
	Kubeconfig      string         `json:"kubeconfig"`
	TokenKubeconfig string         `json:"tokenKubeconfig"`
	CAFile          string         `json:"caFile"`
	Etcd            string         `json:"etcd"`
	Pids            map[string]int `json:"pids"`
	Logs            string         `json:"logs"`
	// APIServer is kube-apiserver's command line (binary first), kept so that
	// apiserver-start runs it again with the same flags, ports and certificates.
	APIServer []string `json:"apiserver"`
}

func statePath(dir string) string { return filepath.Join(dir, "cluster.json") }

func readState(dir string) (*state, error) {
	data, err := os.ReadFile(statePath(dir))
	if err != nil {
		return nil, fmt.Errorf("no control plane state in %s (run up first): %w", dir, err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", statePath(dir), err)
	}
	return &st, nil
}

func (st *state) write(dir string) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := statePath(dir) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, statePath(dir))
}

// alive reports whether pid runs; a zombie (exited, not yet reaped by a
// parent that may never reap it) counts as stopped.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state letter follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// start runs a component in its own session so it outlives this command, with
// its output in DIR/logs/NAME.log.
func start(dir, name, path string, args ...string) (int, error) {
	logFile, err := os.OpenFile(filepath.Join(dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	go cmd.Wait() //nolint:errcheck // reaped so that a crash shows as a dead pid
	return cmd.Process.Pid, nil
}

// waitFor polls check until it succeeds, the component dies, or the deadline passes.
func waitFor(name string, pid int, deadline time.Time, logs string, check func() error) error {
	var last error
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return fmt.Errorf("%s exited during start-up; see %s", name, filepath.Join(logs, name+".log"))
		}
		if last = check(); last == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s not healthy in time (%v); see %s", name, last, filepath.Join(logs, name+".log"))
}

func httpGetOK(client *http.Client, url, token string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func apiRequest(client *http.Client, method, url, token string, body any) (int, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func up(dir, bin string, timeout time.Duration) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if st, err := readState(dir); err == nil && allAlive(st) {
		fmt.Printf("export KUBECONFIG=%s\n", st.Kubeconfig)
		return nil
	} else if err == nil {
		stopAll(st) // leftovers of a half-dead control plane
	}
	if bin == "" {
		return errors.New("--bin is required: the directory holding kube-apiserver, kube-controller-manager and kube-scheduler")
	}
	for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return fmt.Errorf("--bin %s: %w", bin, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pki := filepath.Join(dir, "pki")
	token, err := writePKI(pki)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	logs := filepath.Join(dir, "logs")
	for _, d := range []string{filepath.Join(dir, "etcd"), logs} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	etcdPort, peerPort, apiPort, kcmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	st := &state{
		Server:          server,
		Kubeconfig:      filepath.Join(dir, "kubeconfig"),
		TokenKubeconfig: filepath.Join(dir, "kubeconfig-token"),
		CAFile:          filepath.Join(pki, "ca.crt"),
		Etcd:            "http://127.0.0.1:" + strconv.Itoa(etcdPort),
		Pids:            map[string]int{},
		Logs:            logs,
	}
	deadline := time.Now().Add(timeout)
	ok := false
	defer func() {
		if !ok {
			stopAll(st)
		}
	}()
	p := func(name string) string { return filepath.Join(pki, name) }

	st.Pids["etcd"], err = start(dir, "etcd", self, "etcd", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-url", st.Etcd, "--listen-peer-url", "http://127.0.0.1:"+strconv.Itoa(peerPort))
	if err != nil {
		return err
	}
	if err := st.write(dir); err != nil {
		return err
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if err := waitFor("etcd", st.Pids["etcd"], deadline, logs, func() error { return httpGetOK(plain, st.Etcd+"/health", "") }); err != nil {
		return err
	}

	st.APIServer = append([]string{filepath.Join(bin, "kube-apiserver")}, apiserverArgs(st.Etcd, pki, apiPort)...)
	if err := startAPIServer(dir, st); err != nil {
		return err
	}
	api, err := apiClient(pki)
	if err != nil {
		return err
	}
	if err := waitAPIServerReady(api, st, token, deadline); err != nil {
		return err
	}
	// As kubeadm does: the API server's kubelet client may use the whole kubelet API.
	binding := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind":       "ClusterRoleBinding",
		"metadata":   map[string]any{"name": "vkedge:apiserver-kubelet-client"},
		"roleRef":    map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:kubelet-api-admin"},
		"subjects":   []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "kube-apiserver-kubelet-client"}},
	}
	code, err := apiRequest(api, http.MethodPost, server+"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", token, binding)
	if err != nil || (code != http.StatusCreated && code != http.StatusConflict) {
		return fmt.Errorf("create kubelet client binding: code %d, %v", code, err)
	}

	for _, name := range []string{"admin", "controller-manager", "scheduler"} {
		if err := writeCertKubeconfig(filepath.Join(dir, name+".kubeconfig"), server, pki, name); err != nil {
			return err
		}
	}
	if err := copyFile(filepath.Join(dir, "admin.kubeconfig"), st.Kubeconfig); err != nil {
		return err
	}
	if err := writeTokenKubeconfig(st.TokenKubeconfig, server, pki, token); err != nil {
		return err
	}
	kcmConfig := filepath.Join(dir, "controller-manager.kubeconfig")
	st.Pids["kube-controller-manager"], err = start(dir, "kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
		"--kubeconfig="+kcmConfig,
		"--authentication-kubeconfig="+kcmConfig,
		"--authorization-kubeconfig="+kcmConfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(kcmPort),
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+p("sa.key"),
		"--root-ca-file="+p("ca.crt"),
		"--cluster-signing-cert-file="+p("ca.crt"),
		"--cluster-signing-key-file="+p("ca.key"),
		"--cluster-name=vkedge-test",
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	schedConfig := filepath.Join(dir, "scheduler.kubeconfig")
	st.Pids["kube-scheduler"], err = start(dir, "kube-scheduler", filepath.Join(bin, "kube-scheduler"),
		"--kubeconfig="+schedConfig,
		"--authentication-kubeconfig="+schedConfig,
		"--authorization-kubeconfig="+schedConfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(schedPort),
		"--leader-elect=false",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	if err := st.write(dir); err != nil {
		return err
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if err := waitFor("kube-controller-manager", st.Pids["kube-controller-manager"], deadline, logs, func() error {
		return httpGetOK(insecure, "https://127.0.0.1:"+strconv.Itoa(kcmPort)+"/healthz", "")
	}); err != nil {
		return err
	}
	if err := waitFor("kube-scheduler", st.Pids["kube-scheduler"], deadline, logs, func() error {
		return httpGetOK(insecure, "https://127.0.0.1:"+strconv.Itoa(schedPort)+"/healthz", "")
	}); err != nil {
		return err
	}
	// The serviceaccount controller creating default/default shows that the
	// controllers run, not only that the process answers /healthz.
	if err := waitFor("kube-controller-manager", st.Pids["kube-controller-manager"], deadline, logs, func() error {
		return httpGetOK(api, server+"/api/v1/namespaces/default/serviceaccounts/default", token)
	}); err != nil {
		return err
	}
	ok = true
	fmt.Printf("export KUBECONFIG=%s\n", st.Kubeconfig)
	return nil
}

func allAlive(st *state) bool {
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		if !alive(st.Pids[name]) {
			return false
		}
	}
	return true
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}

func b64File(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(data), nil
}

const kubeconfigTemplate = `apiVersion: v1
kind: Config
clusters:
- name: vkedge-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
%s
contexts:
- name: vkedge-test
  context:
    cluster: vkedge-test
    user: %s
current-context: vkedge-test
`

func writeCertKubeconfig(path, server, pki, name string) error {
	ca, err := b64File(filepath.Join(pki, "ca.crt"))
	if err != nil {
		return err
	}
	cert, err := b64File(filepath.Join(pki, name+".crt"))
	if err != nil {
		return err
	}
	key, err := b64File(filepath.Join(pki, name+".key"))
	if err != nil {
		return err
	}
	user := fmt.Sprintf("    client-certificate-data: %s\n    client-key-data: %s", cert, key)
	return os.WriteFile(path, fmt.Appendf(nil, kubeconfigTemplate, server, ca, name, user, name), 0o600)
}

func writeTokenKubeconfig(path, server, pki, token string) error {
	ca, err := b64File(filepath.Join(pki, "ca.crt"))
	if err != nil {
		return err
	}
	user := "    token: " + token
	return os.WriteFile(path, fmt.Appendf(nil, kubeconfigTemplate, server, ca, "admin-token", user, "admin-token"), 0o600)
}

// stopAll stops each component, newest first.
func stopAll(st *state) {
	for _, name := range []string{"kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
		stop(st.Pids[name], 20*time.Second)
	}
}

// stop sends SIGTERM to pid and SIGKILL if it still runs after grace.
func stop(pid int, grace time.Duration) {
	if !alive(pid) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	for alive(pid) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for i := 0; i < 50 && alive(pid); i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func down(dir string) error {
	st, err := readState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	stopAll(st)
	return nil
}
