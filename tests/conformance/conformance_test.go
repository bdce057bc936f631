// Package conformance runs the end-to-end suite that virtual-kubelet publishes for
// providers (github.com/virtual-kubelet/virtual-kubelet/test/e2e) against a running vkedge
// agent. run.sh sets everything up; README.md describes what the suite expects.
//
// Environment:
//
//	VKEDGE_NODE_NAME        name of the agent's Node (required; without it the test is skipped)
//	KUBECONFIG              kubeconfig file of the cluster (required, a single path)
//	VKEDGE_NAMESPACE        namespace for the test pods (default: a fresh vkedge-conformance-XXXXX,
//	                        created here and deleted afterwards)
//	VKEDGE_KUBELET_PORT     port of the agent's kubelet API (default 10250)
//	VKEDGE_KUBELET_ADDRESS  address the kubelet API listens on (default: the Node's InternalIP)
//	VKEDGE_WATCH_TIMEOUT    how long each watch in the suite may wait (Go duration, default 2m)
//	VKEDGE_SKIP_TESTS       comma-separated suite test names to skip (e.g. TestGetStatsSummary)
package conformance

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vke2e "github.com/virtual-kubelet/virtual-kubelet/test/e2e"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// suitePodProxyPort is the port the suite hard-codes for /stats/summary and
// /metrics/resource: it reads them through pods/https:NODE:10250/proxy in the test
// namespace (internal/test/e2e/framework/stats.go), i.e. from a Pod named like the node.
const suitePodProxyPort = 10250

// Tests that read through the pod proxy above.
var podProxyTests = []string{"TestGetStatsSummary", "TestGetMetricsResource"}

// Objects this file creates around the suite.
const (
	managedByLabel = "app.kubernetes.io/managed-by"
	managedBy      = "vkedge-conformance"
	// noScheduler keeps the proxy anchor pod away from every scheduler: it stays Pending
	// and unbound, so neither the scheduler, nor the pod GC, nor the agent touches it.
	noScheduler = "vkedge-conformance-no-scheduler"
)

type settings struct {
	kubeconfig     string
	nodeName       string
	namespace      string
	ownNamespace   bool
	kubeletPort    int
	kubeletAddress string
	watchTimeout   time.Duration
	skip           map[string]string // test name -> reason
}

func readSettings(t *testing.T) settings {
	t.Helper()
	s := settings{
		kubeconfig:     os.Getenv("KUBECONFIG"),
		nodeName:       os.Getenv("VKEDGE_NODE_NAME"),
		namespace:      os.Getenv("VKEDGE_NAMESPACE"),
		kubeletPort:    suitePodProxyPort,
		kubeletAddress: os.Getenv("VKEDGE_KUBELET_ADDRESS"),
		watchTimeout:   2 * time.Minute,
		skip:           map[string]string{},
	}
	if s.nodeName == "" {
		t.Skip("SKIP: VKEDGE_NODE_NAME is not set; run tests/conformance/run.sh (it starts the agent and sets it)")
	}
	if s.kubeconfig == "" {
		t.Fatal("KUBECONFIG: expected the path of the cluster's kubeconfig, found it unset " +
			"(the suite would fall back to in-cluster configuration)")
	}
	if strings.ContainsRune(s.kubeconfig, os.PathListSeparator) {
		t.Fatalf("KUBECONFIG: expected a single file, found the list %q", s.kubeconfig)
	}
	if v := os.Getenv("VKEDGE_KUBELET_PORT"); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			t.Fatalf("VKEDGE_KUBELET_PORT: expected a port from 1 to 65535, found %q", v)
		}
		s.kubeletPort = port
	}
	if v := os.Getenv("VKEDGE_WATCH_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("VKEDGE_WATCH_TIMEOUT: expected a positive Go duration like 2m, found %q", v)
		}
		s.watchTimeout = d
	}
	if s.namespace == "" {
		s.namespace = "vkedge-conformance-" + utilrand.String(6)
		s.ownNamespace = true
	}
	if s.kubeletPort != suitePodProxyPort {
		for _, name := range podProxyTests {
			s.skip[name] = fmt.Sprintf("the suite reads it through pods/https:%s:%d/proxy (port hard-coded), "+
				"but VKEDGE_KUBELET_PORT is %d", s.nodeName, suitePodProxyPort, s.kubeletPort)
		}
	}
	for _, name := range strings.Split(os.Getenv("VKEDGE_SKIP_TESTS"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			s.skip[name] = "listed in VKEDGE_SKIP_TESTS"
		}
	}
	return s
}

// TestVirtualKubeletEndToEnd runs virtual-kubelet's provider e2e suite against the node
// VKEDGE_NODE_NAME.
func TestVirtualKubeletEndToEnd(t *testing.T) {
	s := readSettings(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		t.Fatalf("KUBECONFIG %s: %v", s.kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, s: s, client: client}
	// The suite runs its Teardown only after a successful Setup (node Ready); clean up
	// whatever setup created in every case. teardown is idempotent.
	t.Cleanup(func() {
		if err := h.teardown(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("node %q, namespace %q, kubelet port %d, watch timeout %s",
		s.nodeName, s.namespace, s.kubeletPort, s.watchTimeout)

	suite := vke2e.NewEndToEndTestSuite(vke2e.EndToEndTestSuiteConfig{
		Kubeconfig:   s.kubeconfig,
		Namespace:    s.namespace,
		NodeName:     s.nodeName,
		WatchTimeout: s.watchTimeout,
		Setup:        h.setup,
		Teardown:     h.teardown,
		ShouldSkipTest: func(name string) bool {
			reason, ok := s.skip[name]
			if ok {
				// The suite only says "Skipped due to shouldSkipTest()"; say why.
				fmt.Printf("    SKIP %s: %s\n", name, reason)
			}
			return ok
		},
	})
	// The suite's Teardown panics on error, after its subtests ran; report it as a failure.
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("teardown: %v", r)
		}
	}()
	suite.Run(t)
}

type harness struct {
	t       *testing.T
	s       settings
	client  kubernetes.Interface
	created []func(context.Context) error // undo steps, run in reverse by teardown
}

func (h *harness) logf(format string, args ...any) {
	fmt.Printf("    conformance: "+format+"\n", args...)
}

// setup prepares what the suite assumes of its upstream environment (the mock virtual
// kubelet running as the pod vkubelet-mock-0 in namespace default):
//   - the namespace exists and has its default ServiceAccount (pods are refused before);
//   - a Pod named like the node whose podIP is the kubelet API's address, so that
//     pods/https:NODE:10250/proxy reaches the agent (upstream, that pod is the VK itself);
//   - the pod proxy sends no client certificate, so the agent sees system:anonymous on
//     /stats/summary and /metrics/resource: RBAC lets that user get nodes/stats and
//     nodes/metrics of this node only (the agent must run with --anonymous-auth).
func (h *harness) setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), h.s.watchTimeout)
	defer cancel()
	if err := h.ensureNamespace(ctx); err != nil {
		return err
	}
	if h.s.kubeletPort != suitePodProxyPort || h.wholeSkip() {
		h.logf("no pod-proxy anchor: %s and %s are skipped", podProxyTests[0], podProxyTests[1])
		return nil
	}
	address, err := h.kubeletAddress(ctx)
	if err != nil {
		return err
	}
	if err := h.createAnchorPod(ctx, address); err != nil {
		return err
	}
	return h.grantAnonymousStats(ctx)
}

func (h *harness) wholeSkip() bool {
	for _, name := range podProxyTests {
		if _, ok := h.s.skip[name]; !ok {
			return false
		}
	}
	return true
}

func (h *harness) ensureNamespace(ctx context.Context) error {
	namespaces := h.client.CoreV1().Namespaces()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   h.s.namespace,
		Labels: map[string]string{managedByLabel: managedBy},
	}}
	_, err := namespaces.Create(ctx, ns, metav1.CreateOptions{})
	switch {
	case err == nil:
		h.logf("created namespace %s", h.s.namespace)
		if h.s.ownNamespace {
			h.created = append(h.created, func(ctx context.Context) error {
				return ignoreNotFound(namespaces.Delete(ctx, h.s.namespace, metav1.DeleteOptions{}))
			})
		}
	case apierrors.IsAlreadyExists(err) && !h.s.ownNamespace:
	default:
		return fmt.Errorf("create namespace %s: %w", h.s.namespace, err)
	}
	// The ServiceAccount admission plugin refuses pods until the serviceaccount
	// controller has created "default" in a new namespace.
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := h.client.CoreV1().ServiceAccounts(h.s.namespace).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("wait for serviceaccount %s/default: %w", h.s.namespace, err)
	}
	return nil
}

// kubeletAddress is VKEDGE_KUBELET_ADDRESS, else the node's InternalIP once it has one.
func (h *harness) kubeletAddress(ctx context.Context) (string, error) {
	if h.s.kubeletAddress != "" {
		return h.s.kubeletAddress, nil
	}
	var address string
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		node, err := h.client.CoreV1().Nodes().Get(ctx, h.s.nodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		for _, a := range node.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address != "" {
				address = a.Address
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("wait for node %s to report an InternalIP (or set VKEDGE_KUBELET_ADDRESS): %w",
			h.s.nodeName, err)
	}
	return address, nil
}

func (h *harness) createAnchorPod(ctx context.Context, address string) error {
	pods := h.client.CoreV1().Pods(h.s.namespace)
	automount := false
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:   h.s.nodeName,
			Labels: map[string]string{managedByLabel: managedBy},
			Annotations: map[string]string{
				"vkedge.dev/purpose": "target of pods/https:" + h.s.nodeName + ":10250/proxy in the virtual-kubelet e2e suite",
			},
		},
		Spec: corev1.PodSpec{
			SchedulerName:                noScheduler,
			AutomountServiceAccountToken: &automount,
			Containers: []corev1.Container{{
				Name:  "anchor",
				Image: "vkedge.invalid/conformance-anchor:none",
				Ports: []corev1.ContainerPort{{Name: "kubelet", ContainerPort: suitePodProxyPort}},
			}},
		},
	}
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create pod-proxy anchor %s/%s (a pod named like the node must not exist there): %w",
			h.s.namespace, h.s.nodeName, err)
	}
	h.created = append(h.created, func(ctx context.Context) error {
		zero := int64(0)
		return ignoreNotFound(pods.Delete(ctx, created.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}))
	})
	created.Status.PodIP = address
	created.Status.PodIPs = []corev1.PodIP{{IP: address}}
	if _, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set podIP %s on pod-proxy anchor %s/%s: %w", address, h.s.namespace, h.s.nodeName, err)
	}
	h.logf("pod %s/%s (unscheduled) has podIP %s: pods/https:%s:%d/proxy reaches the kubelet API",
		h.s.namespace, h.s.nodeName, address, h.s.nodeName, suitePodProxyPort)
	return nil
}

func (h *harness) grantAnonymousStats(ctx context.Context) error {
	rbac := h.client.RbacV1()
	name := "vkedge-conformance:anonymous-stats:" + h.s.nodeName
	labels := map[string]string{managedByLabel: managedBy}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Rules: []rbacv1.PolicyRule{{
			APIGroups:     []string{""},
			Resources:     []string{"nodes/stats", "nodes/metrics"},
			ResourceNames: []string{h.s.nodeName},
			Verbs:         []string{"get"},
		}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "system:anonymous"}},
	}
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create clusterrole %s: %w", name, err)
	}
	h.created = append(h.created, func(ctx context.Context) error {
		return ignoreNotFound(rbac.ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{}))
	})
	if _, err := rbac.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create clusterrolebinding %s: %w", name, err)
	}
	h.created = append(h.created, func(ctx context.Context) error {
		return ignoreNotFound(rbac.ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{}))
	})
	h.logf("system:anonymous may get nodes/stats and nodes/metrics of %s (the pod proxy sends no client certificate)",
		h.s.nodeName)
	return nil
}

func (h *harness) teardown() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []string
	for _, undo := range slices.Backward(h.created) {
		if err := undo(ctx); err != nil {
			errs = append(errs, err.Error())
		}
	}
	h.created = nil
	if len(errs) > 0 {
		return fmt.Errorf("clean up: %s", strings.Join(errs, "; "))
	}
	return nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
