// Package layout names everything ingest writes to JetStream and serve reads
// from it (README "What ingest stores"): the stream and its configuration,
// its subjects and the message headers. NATS-native readers may rely on
// these names; they are a public contract.
//
// Subjects are <prefix>.<stream token>.<wiki token>, for example
// eventstreams.mediawiki_recentchange.enwiki. Dead letters are stored in the
// same stream under <prefix>._deadletter.<stream token>.
//
// Everything here is a pure function of its arguments and safe for
// concurrent use.
package layout

import (
	"errors"
	"fmt"
	"strings"
)

// Defaults of ES_JETSTREAM_STREAM and ES_SUBJECT_PREFIX (a test of package
// settings keeps its default tags equal to them).
const (
	DefaultStream = "EVENTSTREAMS"
	DefaultPrefix = "eventstreams"
)

// Default is the layout of the default configuration.
func Default() Layout { return Layout{Stream: DefaultStream, Prefix: DefaultPrefix} }

// DeadLetterToken is the stream token of dead letters. No stream maps to it:
// stream tokens never start with "_" unless the stream name does, and
// catalog names come from MediaWiki, which has none.
const DeadLetterToken = "_deadletter"

// NoWiki is the wiki token of an event without a wiki, database or wiki_id.
const NoWiki = "_"

// maxWikiToken bounds the wiki token; real wiki ids are under 40 bytes.
const maxWikiToken = 64

// Message headers set by ingest on every stored event.
const (
	// HeaderMsgID is JetStream's de-duplication id (see envelope.DedupID).
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderTimestamp is the Kafka record timestamp, in ms since the epoch.
	// serve selects by it for since= and timestamp resumes.
	HeaderTimestamp = "Es-Timestamp"
	// HeaderCluster is the name of the Kafka cluster the record was read from.
	HeaderCluster = "Es-Cluster"
	// HeaderTopic, HeaderPartition and HeaderOffset are the record's
	// coordinates in that cluster.
	HeaderTopic     = "Es-Topic"
	HeaderPartition = "Es-Partition"
	HeaderOffset    = "Es-Offset"
)

// Headers set on dead letters only, in addition to the coordinates above.
const (
	// HeaderReason says why the record was not stored as an event
	// (see envelope.Reason values).
	HeaderReason = "Es-Deadletter-Reason"
	// HeaderSize is the record's size in bytes before truncation.
	HeaderSize = "Es-Deadletter-Size"
	// HeaderTruncated is "true" when the stored payload is a prefix of the record.
	HeaderTruncated = "Es-Deadletter-Truncated"
)

// Layout is the JetStream stream name and subject prefix in use.
type Layout struct {
	Stream string
	Prefix string
}

// Validate checks that the names are usable as a JetStream stream name and
// a subject prefix.
func (l Layout) Validate() error {
	if l.Stream == "" || strings.ContainsAny(l.Stream, " \t\r\n.*>/\\") {
		return fmt.Errorf("stream name %q: must be non-empty, without spaces, '.', '*', '>', '/' or '\\'", l.Stream)
	}
	if l.Prefix == "" {
		return errors.New("subject prefix is empty")
	}
	for _, tok := range strings.Split(l.Prefix, ".") {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
			return fmt.Errorf("subject prefix %q: tokens must be non-empty, without spaces, '*' or '>'", l.Prefix)
		}
	}
	return nil
}

// RelayBucket is the NATS KV bucket where ingest's relay keeps its
// upstream positions (one key per upstream and stream): the stream's name
// with "_relay" added.
func (l Layout) RelayBucket() string { return l.Stream + "_relay" }

// Subjects is the subject list of the JetStream stream.
func (l Layout) Subjects() []string { return []string{l.Prefix + ".>"} }

// Subject is where an event of this stream and wiki token is stored.
func (l Layout) Subject(streamToken, wikiToken string) string {
	return l.Prefix + "." + streamToken + "." + wikiToken
}

// StreamFilter matches every event of one stream (all wikis).
func (l Layout) StreamFilter(streamToken string) string {
	return l.Prefix + "." + streamToken + ".*"
}

// DeadLetterSubject is where bad records of this stream are kept.
func (l Layout) DeadLetterSubject(streamToken string) string {
	return l.Prefix + "." + DeadLetterToken + "." + streamToken
}

// StreamToken is the subject token of a canonical stream name: each '.' is
// replaced by '_' (mediawiki.page-create → mediawiki_page-create). Other
// characters that NATS does not allow in a token are replaced too.
func StreamToken(name string) string {
	return sanitize(name, len(name))
}

// WikiToken is the subject token of an event's wiki id: characters outside
// [A-Za-z0-9_-] become '_', and an empty id becomes NoWiki. It is at most
// 64 bytes long.
func WikiToken(wiki string) string {
	if wiki == "" {
		return NoWiki
	}
	return sanitize(wiki, maxWikiToken)
}

func sanitize(s string, limit int) string {
	if len(s) > limit {
		s = s[:limit]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !tokenByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
