package mirror

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishFailure says what to do when JetStream did not store a message.
type publishFailure int

const (
	// retryLater: publish the same message again after a pause. Covers
	// disconnections, timeouts, leader elections and anything unknown:
	// giving up would lose the event, and a retry is harmless because of
	// the de-dup id.
	retryLater publishFailure = iota
	// recreateStream: the stream is gone (deleted by an operator); set it
	// up again, then retry.
	recreateStream
	// rejectForever: JetStream will never take this message (it is too
	// large for the server); keep it as a dead letter instead.
	rejectForever
	// inProcess: JetStream is storing a copy with the same de-dup id (409,
	// error code 10158, in a replicated stream): ask again shortly; the
	// answer will be "duplicate", or, if that copy was lost, "stored".
	inProcess
)

// errCodeDuplicateInProcess is JetStream's "duplicate message id is in
// process" (nats.go has no constant for it).
const errCodeDuplicateInProcess jetstream.ErrorCode = 10158

// classifyPublishError is the one place that decides, for a failed publish,
// between retrying, recreating the stream and dead-lettering.
func classifyPublishError(err error) publishFailure {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, nats.ErrMaxPayload):
		return rejectForever
	case errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeDuplicateInProcess:
		return inProcess
	case errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamNotFound:
		return recreateStream
	case errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum:
		return rejectForever
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		// Nobody answers for the subject: the stream is missing (or its
		// leader is being elected; recreating is then a harmless update).
		return recreateStream
	}
	return retryLater
}

// retryableSetup reports whether setting up the stream may succeed later
// rather than being refused for good (a bad configuration, e.g. subjects
// that overlap another stream, or the stream being a mirror). Later: NATS
// not reachable yet, or JetStream answering with a server's error (5xx): a
// cluster without a meta leader (503, "JetStream system temporarily
// unavailable", while 2 of 3 nodes are down), or nats-server 2.15's own
// race when a stream is created just after one was deleted (500, 10049:
// the deleted stream's directory removed in the background under the new
// one's), or not enough nodes online for the stream's replicas.
func retryableSetup(err error) bool {
	if errors.Is(err, ErrStreamIsMirror) || errors.Is(err, context.Canceled) {
		return false
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errCodeNoPeers:
			return true
		case errCodeReplicasNotSupported:
			return false
		}
		return apiErr.Code >= 500
	}
	return true
}

// JetStream's error codes that setting up the stream tells apart.
const (
	// errCodeNoPeers, "no suitable peers for placement": fewer nodes
	// online than the stream's replicas, as while a cluster forms or after
	// nodes restarted (their peers not yet seen as current). A cluster too
	// small for INGEST_REPLICAS gives it too: ingest then waits, logging
	// it every few seconds, with /healthz unready.
	errCodeNoPeers jetstream.ErrorCode = 10005
	// errCodeReplicasNotSupported: replicas asked of a server that is not
	// in a cluster, a configuration error although answered with a 500.
	errCodeReplicasNotSupported jetstream.ErrorCode = 10074
)
