package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestRun starts the program on a loopback port, reads a route and stops it.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-sync", "1h"}, &out, func(a string) { addrs <- a })
	}()
	addr := <-addrs
	resp, err := http.Get("http://" + addr + "/conflicts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /conflicts: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(out.String(), "listening on http://127.0.0.1:") {
		t.Errorf("output: %s", out.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-nope"}, &out, nil); err == nil {
		t.Error("run accepted an unknown flag")
	}
	if err := run(context.Background(), []string{"-addr", "256.0.0.1:x"}, &out, nil); err == nil {
		t.Error("run accepted a bad address")
	}
}
