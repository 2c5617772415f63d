package inproctest

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// errCodeStoreFailed is nats-server's "error creating store for stream".
const errCodeStoreFailed = 10049

// Recreate calls create, which creates a stream just deleted under the
// same name, until nats-server stops refusing it for a race of its own and
// at most 10 s: nats-server (v2.15.2) removes a deleted stream's files in
// the background and then its account's streams directory if empty, so a
// stream created at that moment fails with "error creating store for
// stream" (10049; the server logs "mkdir ...: no such file or directory").
// Any other error fails the test. Production code meets this only when an
// operator deletes the stream and it is created again at once; ingest
// retries it, at start as when it recreates a deleted stream.
func Recreate(t testing.TB, create func() error) {
	t.Helper()
	WaitFor(t, 10*time.Second, func() bool {
		err := create()
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeStoreFailed {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return true
	})
}
