package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// guest plays the guest OS and its VMware Tools: vcsim reports guest IPs only for
// container-backed VMs, so this handler, told of every property change, reports the tools
// running and an IP address bootDelay after a VM powers on, and clears both when it
// powers off. Each VM keeps its IP across reboots, as a DHCP lease would.
type guest struct {
	registry  *simulator.Registry
	bootDelay time.Duration

	mu     sync.Mutex
	ips    map[string]string
	nextIP int
	boots  map[string]int
}

func newGuest(registry *simulator.Registry, bootDelay time.Duration) *guest {
	return &guest{
		registry:  registry,
		bootDelay: bootDelay,
		ips:       map[string]string{},
		boots:     map[string]int{},
	}
}

func (g *guest) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "VkedgeGuest", Value: "guest"}
}

func (g *guest) PutObject(*simulator.Context, mo.Reference) {}

func (g *guest) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	g.mu.Lock()
	delete(g.boots, ref.Value)
	g.mu.Unlock()
}

func (g *guest) UpdateObject(_ *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok || vm.Config == nil || vm.Config.Template {
		return
	}
	for _, change := range changes {
		if change.Name != "runtime.powerState" {
			continue
		}
		ref := vm.Self
		g.mu.Lock()
		g.boots[ref.Value]++
		boot := g.boots[ref.Value]
		g.mu.Unlock()
		if fmt.Sprint(change.Val) == string(types.VirtualMachinePowerStatePoweredOn) {
			time.AfterFunc(g.bootDelay, func() { g.booted(ref, boot) })
		} else {
			go g.report(ref, "", string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning), "notRunning")
		}
	}
}

// booted reports the guest up unless the VM changed power since (boot counts the changes).
func (g *guest) booted(ref types.ManagedObjectReference, boot int) {
	g.mu.Lock()
	current := g.boots[ref.Value] == boot
	ip, known := g.ips[ref.Value]
	if current && !known {
		g.nextIP++
		ip = fmt.Sprintf("10.200.%d.%d", g.nextIP/250, g.nextIP%250+2)
		g.ips[ref.Value] = ip
	}
	g.mu.Unlock()
	if current {
		g.report(ref, ip, string(types.VirtualMachineToolsRunningStatusGuestToolsRunning), "running")
	}
}

func (g *guest) report(ref types.ManagedObjectReference, ip string, tools string, state string) {
	obj := g.registry.Get(ref)
	if obj == nil {
		return
	}
	ctx := &simulator.Context{Context: context.Background(), Map: g.registry}
	g.registry.WithLock(ctx, obj, func() {
		vm := obj.(*simulator.VirtualMachine)
		network := ""
		mac := ""
		for _, device := range vm.Config.Hardware.Device {
			if card, ok := device.(types.BaseVirtualEthernetCard); ok {
				mac = card.GetVirtualEthernetCard().MacAddress
				if info := card.GetVirtualEthernetCard().DeviceInfo; info != nil {
					network = info.GetDescription().Summary
				}
				break
			}
		}
		var nics []types.GuestNicInfo
		if ip != "" {
			nics = []types.GuestNicInfo{{
				Network: network, MacAddress: mac, Connected: true, DeviceConfigId: 4000,
				IpAddress: []string{ip},
			}}
		}
		g.registry.Update(ctx, vm, []types.PropertyChange{
			{Name: "guest.ipAddress", Val: ip},
			{Name: "guest.net", Val: nics},
			{Name: "guest.toolsRunningStatus", Val: tools},
			{Name: "guest.guestState", Val: state},
		})
	})
}
