package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Process figures from /proc (Linux). CPU time comes from
// /proc/<pid>/stat (utime + stime, in clock ticks of 1/100 s: USER_HZ is
// 100 on every Linux architecture Go supports), memory from VmRSS and the
// cores a process may use from Cpus_allowed_list in /proc/<pid>/status.

const clockTicksPerSecond = 100

// procUsage is what a process used over a measured window.
type procUsage struct {
	PID int `json:"pid"`
	// CPUPercent is CPU time over wall time: 200 means two cores busy.
	CPUPercent float64 `json:"cpu_percent"`
	CPUSeconds float64 `json:"cpu_seconds"`
	RSSMax     int64   `json:"rss_max_bytes"`
	RSSEnd     int64   `json:"rss_end_bytes"`
	Cores      string  `json:"cores,omitempty"` // Cpus_allowed_list, shows taskset pinning
	Err        string  `json:"error,omitempty"`
}

func selfPID() int { return os.Getpid() }

// procWatch follows one process over a window.
type procWatch struct {
	pid       int
	startCPU  float64
	startTime time.Time
	usage     procUsage
}

// startProcWatch starts watching pid; pid 0 watches nothing.
func startProcWatch(pid int) *procWatch {
	w := &procWatch{pid: pid, startTime: time.Now(), usage: procUsage{PID: pid}}
	if pid == 0 {
		return w
	}
	cpu, err := readCPUSeconds(pid)
	if err != nil {
		w.usage.Err = err.Error()
		return w
	}
	w.startCPU = cpu
	w.usage.Cores, _ = readStatusField(pid, "Cpus_allowed_list")
	w.sample()
	return w
}

// sample records the current resident memory.
func (w *procWatch) sample() {
	if w.pid == 0 || w.usage.Err != "" {
		return
	}
	rss, err := readRSS(w.pid)
	if err != nil {
		w.usage.Err = err.Error()
		return
	}
	w.usage.RSSEnd = rss
	w.usage.RSSMax = max(w.usage.RSSMax, rss)
}

// stop ends the window and returns the usage over it.
func (w *procWatch) stop() procUsage {
	if w.pid == 0 || w.usage.Err != "" {
		return w.usage
	}
	w.sample()
	cpu, err := readCPUSeconds(w.pid)
	if err != nil {
		w.usage.Err = err.Error()
		return w.usage
	}
	wall := time.Since(w.startTime).Seconds()
	w.usage.CPUSeconds = cpu - w.startCPU
	if wall > 0 {
		w.usage.CPUPercent = 100 * w.usage.CPUSeconds / wall
	}
	return w.usage
}

func readCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU returns utime + stime in seconds from a /proc/<pid>/stat
// line. The command name (field 2) is in parentheses and may hold spaces,
// so fields are counted from the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command field")
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat: %d fields", len(fields))
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat: bad cpu times %q %q", fields[11], fields[12])
	}
	return float64(utime+stime) / clockTicksPerSecond, nil
}

func readRSS(pid int) (int64, error) {
	v, err := readStatusField(pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	return parseKB(v)
}

func readStatusField(pid int, name string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	return statusField(b, name)
}

// statusField returns the value of "Name:\tvalue" in a /proc status file.
func statusField(status []byte, name string) (string, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("status: no %s", name)
}

// parseKB reads "1234 kB" as bytes.
func parseKB(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	return n * 1024, err
}
