// Command vcsim serves govmomi's vSphere simulator (github.com/vmware/govmomi/simulator) on
// loopback for the vsphere provider's tests, the demo and the benchmark.
//
// The vcsim command of govmomi is a module of its own that the Go module proxy does not
// serve, so this is a small launcher over the simulator package: it builds a vCenter
// (default) or a lone ESXi host (-esx) inventory, adds the templates that pods clone
// from, and prints one JSON line with the SDK URL, the CA file and the admin URL.
//
// What it adds to the simulator, each said where it is done:
//   - a guest that boots: -guest-boot-ms after a VM powers on, its tools report running
//     and an IP address (vcsim reports guest IPs only for container-backed VMs);
//   - SOAP call counts per method and the inventory as JSON on /__sim/ (admin.go);
//   - task durations (-task-delay-ms), so a test can kill the agent mid-task.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

type options struct {
	listen         string
	esx            bool
	datacenters    int
	clusters       int
	clusterHosts   int
	standalone     int
	templates      string
	username       string
	password       string
	sessionTimeout time.Duration
	taskDelay      time.Duration
	guestBoot      time.Duration
	tls            bool
	dir            string
	hostCPU        int
	hostMemoryMiB  int
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "address of the SDK (port 0: a free one)")
	flag.BoolVar(&o.esx, "esx", false, "a lone ESXi host instead of a vCenter")
	flag.IntVar(&o.datacenters, "dc", 1, "datacenters (vCenter only)")
	flag.IntVar(&o.clusters, "cluster", 1, "clusters per datacenter (vCenter only)")
	flag.IntVar(&o.clusterHosts, "host", 3, "hosts per cluster (vCenter only)")
	flag.IntVar(&o.standalone, "standalone-host", 0, "standalone hosts per datacenter (vCenter only)")
	flag.StringVar(&o.templates, "templates", "ubuntu-22.04,cirros", "comma-separated names of VM templates to create")
	flag.StringVar(&o.username, "username", "vkedge@vsphere.local", "the one user accepted")
	flag.StringVar(&o.password, "password", "vcsim-password", "that user's password")
	flag.DurationVar(&o.sessionTimeout, "session-timeout", 0, "idle time after which a session ends (0: never)")
	flag.DurationVar(&o.taskDelay, "task-delay", 0, "how long each power, clone, snapshot and relocate task runs")
	flag.DurationVar(&o.guestBoot, "guest-boot", 500*time.Millisecond, "power-on to the guest reporting its IP")
	flag.BoolVar(&o.tls, "tls", true, "serve HTTPS with a CA written to -dir")
	flag.StringVar(&o.dir, "dir", "", "folder for the CA and the simulator's files (default: a temporary one)")
	flag.IntVar(&o.hostCPU, "host-cpu-cores", 0, "CPU cores of each host (0: the simulator's)")
	flag.IntVar(&o.hostMemoryMiB, "host-memory-mib", 0, "memory of each host in MiB (0: the simulator's)")
	flag.Parse()
	return o
}

// ready is the one line printed once the simulator serves.
type ready struct {
	URL      string `json:"url"`
	Admin    string `json:"admin"`
	CAFile   string `json:"caFile,omitempty"`
	Username string `json:"username"`
	Password string `json:"password"`
	APIType  string `json:"apiType"`
	PID      int    `json:"pid"`
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	o := parseFlags()
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "vcsim-")
		if err != nil {
			log.Fatal(err)
		}
		o.dir = dir
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	model := simulator.VPX()
	if o.esx {
		model = simulator.ESX()
	} else {
		model.Datacenter = o.datacenters
		model.Cluster = o.clusters
		model.ClusterHost = o.clusterHosts
		model.Host = o.standalone
		model.Portgroup = 1
	}
	model.Machine = 1 // the seed VM the templates are cloned from; removed afterwards
	model.Autostart = false
	if o.taskDelay > 0 {
		ms := int(o.taskDelay / time.Millisecond)
		simulator.TaskDelay.MethodDelay = map[string]int{"LockHandoff": 0}
		for _, task := range slowTasks {
			simulator.TaskDelay.MethodDelay[task] = ms
		}
	}
	if err := model.Create(); err != nil {
		return fmt.Errorf("create the inventory: %w", err)
	}
	defer model.Remove()

	service := model.Service
	service.RegisterEndpoints = true
	service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(o.username, o.password)}
	registry := model.Map()
	if o.sessionTimeout > 0 {
		setOption(registry, "config.vmacore.soap.sessionTimeout", o.sessionTimeout.String())
	}
	resizeHosts(registry, o.hostCPU, o.hostMemoryMiB)

	// The simulator's own server listens on a loopback port of its choosing; the front
	// server below, on -listen, counts the calls and serves the admin pages.
	inner := service.NewServer()
	defer inner.Close()

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := addTemplates(ctx, inner.URL, strings.Split(o.templates, ",")); err != nil {
		return fmt.Errorf("add the templates: %w", err)
	}
	registry.AddHandler(newGuest(registry, o.guestBoot))

	counts := newCallCounts()
	mux := http.NewServeMux()
	admin := &admin{registry: registry, counts: counts, service: service}
	mux.Handle("/__sim/", admin)
	mux.Handle("/", counts.wrap(service.ServeMux))

	listener, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	scheme := "http"
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var caFile string
	if o.tls {
		config, ca, err := selfSignedTLS(o.dir)
		if err != nil {
			return err
		}
		server.TLSConfig = config
		caFile = ca
		scheme = "https"
	}
	go func() {
		var err error
		if o.tls {
			err = server.ServeTLS(listener, "", "")
		} else {
			err = server.Serve(listener)
		}
		if err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()

	base := scheme + "://" + listener.Addr().String()
	line, _ := json.Marshal(ready{
		URL:      base + "/sdk",
		Admin:    base + "/__sim",
		CAFile:   caFile,
		Username: o.username,
		Password: o.password,
		APIType:  model.ServiceContent.About.ApiType,
		PID:      os.Getpid(),
	})
	fmt.Println(string(line))

	<-ctx.Done()
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	return server.Shutdown(shutdown)
}
