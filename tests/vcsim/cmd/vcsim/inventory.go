package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// slowTasks are the tasks -task-delay slows down. simulator.TaskDelay keys them by the
// simulator's task names (TaskInfo.name), which are not the method names: CloneVM_Task runs
// a task named CloneVm, ResetVM_Task one named Reset (itself a power-off and a power-on).
var slowTasks = []string{
	"CloneVm", "PowerOn", "PowerOff", "Reset", "ShutdownGuest", "CreateSnapshotEx",
	"RevertToSnapshot", "RemoveSnapshot", "RelocateVm", "Destroy",
}

func setOption(registry *simulator.Registry, key string, value string) {
	registry.OptionManager().UpdateOptions(&types.UpdateOptions{
		ChangedValue: []types.BaseOptionValue{&types.OptionValue{Key: key, Value: value}},
	})
}

// resizeHosts sets every host's cores and memory, so that capacity tests and the benchmark
// can fit the number of VMs they need.
func resizeHosts(registry *simulator.Registry, cores int, memoryMiB int) {
	if cores == 0 && memoryMiB == 0 {
		return
	}
	for _, entity := range registry.All("HostSystem") {
		host := entity.(*simulator.HostSystem)
		hardware := *host.Summary.Hardware
		if cores > 0 {
			hardware.NumCpuCores = int16(cores)
			hardware.NumCpuThreads = int16(cores)
		}
		if memoryMiB > 0 {
			hardware.MemorySize = int64(memoryMiB) * 1024 * 1024
		}
		host.Summary.Hardware = &hardware
	}
}

// addTemplates clones the seed VM of each datacenter into templates of the given names, in
// that datacenter's VM folder, then removes the seed VMs: the inventory starts with
// templates only, as an edge site's vCenter would.
func addTemplates(ctx context.Context, sdk *url.URL, names []string) error {
	client, err := govmomi.NewClient(ctx, sdk, true)
	if err != nil {
		return err
	}
	defer client.Logout(ctx)
	finder := find.NewFinder(client.Client)
	datacenters, err := finder.DatacenterList(ctx, "*")
	if err != nil {
		return err
	}
	for _, dc := range datacenters {
		finder.SetDatacenter(dc)
		seeds, err := finder.VirtualMachineList(ctx, "*")
		if err != nil {
			return err
		}
		folders, err := dc.Folders(ctx)
		if err != nil {
			return err
		}
		seed := seeds[0]
		var props mo.VirtualMachine
		if err := seed.Properties(ctx, seed.Reference(), []string{"resourcePool"}, &props); err != nil {
			return err
		}
		for _, name := range names {
			if name == "" {
				continue
			}
			spec := types.VirtualMachineCloneSpec{
				Location: types.VirtualMachineRelocateSpec{Pool: props.ResourcePool},
				Template: true,
			}
			task, err := seed.Clone(ctx, folders.VmFolder, name, spec)
			if err != nil {
				return err
			}
			if err := task.Wait(ctx); err != nil {
				return fmt.Errorf("clone template %s: %w", name, err)
			}
		}
		for _, vm := range seeds {
			if err := destroy(ctx, vm); err != nil {
				return err
			}
		}
	}
	return nil
}

func destroy(ctx context.Context, vm *object.VirtualMachine) error {
	state, err := vm.PowerState(ctx)
	if err != nil {
		return err
	}
	if state == types.VirtualMachinePowerStatePoweredOn {
		task, err := vm.PowerOff(ctx)
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return err
		}
	}
	task, err := vm.Destroy(ctx)
	if err != nil {
		return err
	}
	return task.Wait(ctx)
}
