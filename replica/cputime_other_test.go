//go:build !unix

package replica_test

import "testing"

// startCPU reports nothing where the process's CPU time is not read.
func startCPU(*testing.B) func() { return func() {} }
