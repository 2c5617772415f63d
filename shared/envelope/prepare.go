package envelope

import "github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"

// Prepared is a record made ready to store: what Enrich, DedupID and
// layout.WikiToken say of it, in one call.
type Prepared struct {
	// Data is the enriched event, appended to the dst given to Prepare.
	Data []byte
	// ID is the de-duplication id (DedupID): meta.id, or a content hash.
	ID string
	// WikiToken is the subject's wiki token (layout.WikiToken of the
	// event's wiki id).
	WikiToken string
}

// Prepare validates and enriches a record's value read at the given
// coordinates of the named (canonical) stream, and returns the enriched
// bytes with the de-duplication id and the wiki token of its subject. On
// error, which is an *InvalidError, Data is dst unchanged and nothing else
// is set.
func Prepare(dst, value []byte, stream string, at Coordinates) (Prepared, error) {
	data, f, err := Enrich(dst, value, at)
	if err != nil {
		return Prepared{Data: data}, err
	}
	return Prepared{Data: data, ID: DedupID(stream, value, f), WikiToken: layout.WikiToken(f.Wiki)}, nil
}

// PrepareAsIs is Prepare for an event that already carries its origin's
// meta.topic, meta.partition and meta.offset (read from an upstream
// EventStreams, which set them): it validates value as Prepare does and
// appends it to dst unchanged.
func PrepareAsIs(dst, value []byte, stream string) (Prepared, error) {
	f, err := Inspect(value)
	if err != nil {
		return Prepared{Data: dst}, err
	}
	return Prepared{Data: append(dst, value...), ID: DedupID(stream, value, f), WikiToken: layout.WikiToken(f.Wiki)}, nil
}
