package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// callCounts counts SOAP calls by method name (the first element of the envelope's Body)
// and remembers the session cookies clients sent, so an admin can end those sessions.
type callCounts struct {
	mu       sync.Mutex
	calls    map[string]int
	sessions map[string]bool
}

func newCallCounts() *callCounts {
	return &callCounts{calls: map[string]int{}, sessions: map[string]bool{}}
}

func (c *callCounts) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/sdk") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			c.add(soapMethod(body))
			if cookie, err := r.Cookie("vmware_soap_session"); err == nil {
				c.mu.Lock()
				c.sessions[cookie.Value] = true
				c.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (c *callCounts) add(method string) {
	c.mu.Lock()
	c.calls[method]++
	c.mu.Unlock()
}

func (c *callCounts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

func soapMethod(body []byte) string {
	decoder := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		token, err := decoder.Token()
		if err != nil {
			return "unparsed"
		}
		if start, ok := token.(xml.StartElement); ok {
			if inBody {
				return start.Name.Local
			}
			inBody = start.Name.Local == "Body"
		}
	}
}

func (c *callCounts) sessionIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.sessions))
	for id := range c.sessions {
		ids = append(ids, id)
	}
	return ids
}

// admin serves what the tests read of the simulator, beside the SOAP API:
// GET /__sim/state (VMs and hosts), GET /__sim/stats (SOAP calls by method) and
// POST /__sim/sessions/terminate (SessionManager.TerminateSession of every client session,
// as a vCenter administrator would end them).
type admin struct {
	registry *simulator.Registry
	counts   *callCounts
	service  *simulator.Service
}

type vmState struct {
	Ref         string            `json:"ref"`
	Name        string            `json:"name"`
	Template    bool              `json:"template"`
	PowerState  string            `json:"powerState"`
	Host        string            `json:"host"`
	IP          string            `json:"ip,omitempty"`
	CPU         int32             `json:"cpu"`
	MemoryMB    int32             `json:"memoryMB"`
	ExtraConfig map[string]string `json:"extraConfig"`
	Snapshots   []string          `json:"snapshots"`
	Current     string            `json:"currentSnapshot,omitempty"`
	// Tasks are the names of the VM's tasks still queued or running, such as ResetVM_Task.
	Tasks []string `json:"tasks"`
}

type hostState struct {
	Ref  string `json:"ref"`
	Name string `json:"name"`
}

func (a *admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var out any
	switch r.URL.Path {
	case "/__sim/state":
		out = map[string]any{"vms": a.vms(), "hosts": a.hosts()}
	case "/__sim/sessions/terminate":
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		out = map[string]any{"terminated": a.terminateSessions()}
	case "/__sim/stats":
		calls := a.counts.snapshot()
		total := 0
		for _, n := range calls {
			total += n
		}
		out = map[string]any{"calls": calls, "total": total}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (a *admin) terminateSessions() int {
	manager := a.registry.SessionManager()
	ctx := &simulator.Context{
		Context: context.Background(),
		Map:     a.registry,
		Session: &simulator.Session{UserSession: types.UserSession{Key: "vcsim-admin"}},
	}
	ended := 0
	for _, id := range a.counts.sessionIDs() {
		a.registry.WithLock(ctx, manager, func() {
			result := manager.TerminateSession(ctx, &types.TerminateSession{SessionId: []string{id}})
			if result.Fault() == nil {
				ended++
			}
		})
	}
	return ended
}

func (a *admin) hosts() []hostState {
	var hosts []hostState
	for _, entity := range a.registry.All("HostSystem") {
		host := entity.(*simulator.HostSystem)
		hosts = append(hosts, hostState{Ref: host.Self.Value, Name: host.Name})
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	return hosts
}

func (a *admin) vms() []vmState {
	vms := []vmState{}
	ctx := &simulator.Context{Context: context.Background(), Map: a.registry}
	for _, entity := range a.registry.All("VirtualMachine") {
		vm := entity.(*simulator.VirtualMachine)
		var state vmState
		var recent []types.ManagedObjectReference
		a.registry.WithLock(ctx, vm, func() {
			state = a.describe(vm)
			recent = append(recent, vm.RecentTask...)
		})
		state.Tasks = a.activeTasks(recent)
		vms = append(vms, state)
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
	return vms
}

func (a *admin) describe(vm *simulator.VirtualMachine) vmState {
	state := vmState{
		Ref:         vm.Self.Value,
		Name:        vm.Name,
		PowerState:  string(vm.Runtime.PowerState),
		ExtraConfig: map[string]string{},
		Snapshots:   []string{},
	}
	if vm.Config != nil {
		state.Template = vm.Config.Template
		state.CPU = vm.Config.Hardware.NumCPU
		state.MemoryMB = vm.Config.Hardware.MemoryMB
		for _, option := range vm.Config.ExtraConfig {
			value := option.GetOptionValue()
			if strings.HasPrefix(value.Key, "guestinfo.") {
				if text, ok := value.Value.(string); ok {
					state.ExtraConfig[value.Key] = text
				}
			}
		}
	}
	if vm.Runtime.Host != nil {
		if host, ok := a.registry.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok {
			state.Host = host.Name
		}
	}
	if vm.Guest != nil {
		state.IP = vm.Guest.IpAddress
	}
	if vm.Snapshot != nil {
		state.Snapshots = snapshotNames(vm.Snapshot.RootSnapshotList)
		if current := vm.Snapshot.CurrentSnapshot; current != nil {
			state.Current = current.Value
		}
	}
	return state
}

// activeTasks names the tasks of refs still queued or running. Task objects are read
// without their lock: taking it while a task holds its VM's lock could deadlock, and a
// stale state only delays what a test sees by one read.
func (a *admin) activeTasks(refs []types.ManagedObjectReference) []string {
	names := []string{}
	for _, ref := range refs {
		task, ok := a.registry.Get(ref).(*simulator.Task)
		if !ok {
			continue
		}
		switch task.Info.State {
		case types.TaskInfoStateQueued, types.TaskInfoStateRunning:
			names = append(names, task.Info.Name)
		}
	}
	return names
}

func snapshotNames(tree []types.VirtualMachineSnapshotTree) []string {
	names := []string{}
	for _, node := range tree {
		names = append(names, node.Name)
		names = append(names, snapshotNames(node.ChildSnapshotList)...)
	}
	return names
}
