package mirror_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// TestStreamEpoch checks the epoch's life in the stream's metadata: a new
// stream gets one, an update keeps it, a stream created without one (by an
// older ingest) is given the one serve derived from its creation time, and
// a mirror is refused.
func TestStreamEpoch(t *testing.T) {
	ctx := context.Background()
	_, js := inproctest.NATS(t, false)
	l := layout.Default()
	lim := layout.Limits{DuplicateWindow: time.Minute, Replicas: 1}

	s, err := mirror.EnsureStream(ctx, js, l, lim)
	if err != nil {
		t.Fatal(err)
	}
	epoch := s.CachedInfo().Config.Metadata[layout.MetadataEpoch]
	if !position.ValidEpoch(epoch) || layout.Epoch(s.CachedInfo()) != epoch {
		t.Fatalf("new stream's epoch %q", epoch)
	}
	lim.DuplicateWindow = 2 * time.Minute
	s, err = mirror.EnsureStream(ctx, js, l, lim)
	if err != nil {
		t.Fatal(err)
	}
	if got := layout.Epoch(s.CachedInfo()); got != epoch || s.CachedInfo().Config.Duplicates != 2*time.Minute {
		t.Fatalf("after an update: epoch %q (want %q), duplicates %v", got, epoch, s.CachedInfo().Config.Duplicates)
	}

	// A stream of an older ingest, without the metadata.
	if err := js.DeleteStream(ctx, l.Stream); err != nil {
		t.Fatal(err)
	}
	var old jetstream.Stream
	inproctest.Recreate(t, func() (err error) {
		old, err = js.CreateStream(ctx, l.StreamConfig(lim))
		return err
	})
	derived := position.NewEpoch(old.CachedInfo().Created)
	if layout.Epoch(old.CachedInfo()) != derived {
		t.Fatal("a stream without es_epoch: the epoch is not derived from its creation time")
	}
	s, err = mirror.EnsureStream(ctx, js, l, lim)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Metadata[layout.MetadataEpoch]; got != derived {
		t.Fatalf("an older stream is given es_epoch %q, want the derived %q", got, derived)
	}

	// A mirror is not written.
	mirrorLayout := l
	mirrorLayout.Stream = "COPY"
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "COPY", Mirror: &jetstream.StreamSource{Name: l.Stream}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mirror.EnsureStream(ctx, js, mirrorLayout, lim); !errors.Is(err, mirror.ErrStreamIsMirror) {
		t.Fatalf("EnsureStream on a mirror: %v", err)
	}
}
