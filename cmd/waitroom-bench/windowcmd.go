package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// windowHooks runs cfg.WindowCmd at the start and at the planned end of
// the measured window. The end runs at the latest when finish is called
// (a run that stopped early), and finish waits for it; a failing command
// is reported on stderr and does not stop the run.
type windowHooks struct {
	start, end *time.Timer
	started    sync.WaitGroup // the start command has run (or never will)
	once       sync.Once
	done       chan struct{}
	run        func(arg string)
}

func (b *Bench) windowHooks() *windowHooks {
	h := &windowHooks{done: make(chan struct{})}
	if b.cfg.WindowCmd == "" {
		close(h.done)
		h.once.Do(func() {})
		return h
	}
	h.run = func(arg string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", b.cfg.WindowCmd+" "+arg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "waitroom-bench: -window-cmd %s: %v\n", arg, err)
		}
	}
	h.started.Add(1)
	h.start = time.AfterFunc(b.cfg.Warmup, func() { defer h.started.Done(); h.run("start") })
	h.end = time.AfterFunc(b.cfg.Warmup+b.cfg.Duration, h.fire)
	return h
}

// fire runs the end command once, after the start command.
func (h *windowHooks) fire() {
	h.started.Wait()
	h.once.Do(func() {
		h.run("end")
		close(h.done)
	})
}

// finish makes sure the end command ran (now, if its time has not come)
// and waits for it. A window that never opened runs neither.
func (h *windowHooks) finish() {
	if h.run == nil {
		return
	}
	if h.start.Stop() { // the window never opened
		h.started.Done()
		h.once.Do(func() { close(h.done) })
	}
	if h.end.Stop() {
		h.fire()
	}
	<-h.done
}
