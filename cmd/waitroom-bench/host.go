package main

import (
	"os"
	"runtime"
	"strings"
)

// Host is the machine a result was measured on.
type Host struct {
	Name     string `json:"name,omitempty"`
	CPUModel string `json:"cpu_model,omitempty"`
	CPUs     int    `json:"cpus"`
	MemBytes int64  `json:"mem_bytes,omitempty"`
	Kernel   string `json:"kernel,omitempty"`
	Go       string `json:"go"`
	// GeneratorCores is the set of cores the generator may run on (taskset).
	GeneratorCores string `json:"generator_cores,omitempty"`
}

// currentHost reads the machine's facts from /proc; missing files leave
// fields empty rather than failing a run.
func currentHost() Host {
	// runtime.NumCPU counts only the cores this process may use (taskset);
	// the machine's count comes from /proc/cpuinfo.
	h := Host{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	h.Name, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		h.CPUModel = cpuModel(string(b))
		if n := strings.Count(string(b), "\nprocessor\t") + boolInt(strings.HasPrefix(string(b), "processor\t")); n > 0 {
			h.CPUs = n
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if v, err := statusField(b, "MemTotal"); err == nil {
			h.MemBytes, _ = parseKB(v)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	h.GeneratorCores, _ = readStatusField(selfPID(), "Cpus_allowed_list")
	return h
}

// cpuModel finds "model name : ..." in /proc/cpuinfo, whose keys are padded
// with tabs.
func cpuModel(cpuinfo string) string {
	for line := range strings.SplitSeq(cpuinfo, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
