package layerfs

// SetForceRootBackend makes Dir use the portable os.Root backend, so tests
// cover it on Linux too. It returns a function restoring the old value.
func SetForceRootBackend(v bool) func() {
	old := forceRootBackend
	forceRootBackend = v
	return func() { forceRootBackend = old }
}
