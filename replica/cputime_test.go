//go:build unix

package replica_test

import (
	"syscall"
	"testing"
)

// startCPU starts measuring the CPU time of the process (user and system,
// every thread, the garbage collector's included); the function it returns
// reports it per op as cpu-ns/op. On a loaded machine it is steadier than
// wall time, which counts the time other processes hold the cores.
func startCPU(b *testing.B) func() {
	start := cpuNow()
	return func() { b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
