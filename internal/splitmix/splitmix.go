// Package splitmix scrambles seeds, for the simulators (sim and
// hold/holdsim) that derive one random stream per history from a campaign's
// seed.
package splitmix

// Mix scrambles x (the splitmix64 finalizer), so that neighbouring seeds
// give unrelated streams. It is a bijection: distinct seeds stay distinct.
func Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
