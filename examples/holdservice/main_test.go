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
		done <- command.Run(ctx, []string{"-addr", "127.0.0.1:0", "-sync", "1h", "-store", "memory"}, &out, func(a string) { addrs <- a })
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
	if !strings.Contains(out.String(), "store memory) listening on http://127.0.0.1:") {
		t.Errorf("output: %s", out.String())
	}
}

// TestRunBadFlags: unknown flags, bad addresses and stores this build does
// not have are refused before anything listens; -store sqlite:PATH says
// where the program that has it lives.
func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-nope"},
		{"-addr", "256.0.0.1:x"},
		{"-store", "postgres://x"},
		{"-store", "sqlite:/tmp/holds.db"},
	} {
		var out bytes.Buffer
		err := command.Run(context.Background(), args, &out, nil)
		if err == nil {
			t.Errorf("run accepted %q", args)
		}
		if strings.HasPrefix(args[len(args)-1], "sqlite:") && (err == nil || !strings.Contains(err.Error(), "adapters/sqlite && go run ./cmd/holdservice")) {
			t.Errorf("-store sqlite: %v", err)
		}
	}
}
