//go:build !linux

package capture

// readStreams reads the streams until they end, as readEach does.
func readStreams(streams []stream, out chan<- chunk) (stop func()) {
	return readEach(streams, out)
}
