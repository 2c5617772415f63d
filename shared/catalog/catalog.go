// Package catalog is the list of public streams: canonical names such as
// mediawiki.recentchange, their aliases such as recentchange, and the Kafka
// topics each stream is read from (shared/ARCHITECTURE.md "Streams and
// topics").
//
// A Catalog is built once at start (the built-in Wikimedia set, or a
// document in MediaWiki's action=streamconfigs format), narrowed by an
// allow-list, and then only read: it is safe for concurrent use.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// wikimediaDCPrefixes are the topic prefixes of Wikimedia's two
// datacenters, as ES_DC_PREFIXES's default (a test of package settings
// keeps the two equal).
func wikimediaDCPrefixes() []string { return []string{"eqiad.", "codfw."} }

// Stream is one public stream.
type Stream struct {
	// Name is the canonical name, e.g. "mediawiki.recentchange".
	Name string `json:"name"`
	// Aliases are other names that select the same stream, e.g. "recentchange".
	Aliases []string `json:"aliases"`
	// Description is a human-readable sentence, shown by /v2/streams and the spec.
	Description string `json:"description"`
	// SchemaTitle is the JSON schema title of the stream's events.
	SchemaTitle string `json:"schema_title,omitempty"`
	// Topics are the Kafka topics the stream is read from, in every cluster.
	Topics []string `json:"topics"`
	// Token is the stream's subject token (layout.StreamToken of Name), set
	// by New: one string per stream, which serve's filters compare events'
	// tokens with (equal strings that share their bytes compare at once).
	Token string `json:"-"`
}

// Catalog is an immutable set of streams with name, alias and topic lookups.
type Catalog struct {
	streams []*Stream          // sorted by Name
	byName  map[string]*Stream // canonical names and aliases
	byTopic map[string]*Stream
}

// UnknownStreamsError reports names that are neither a stream nor an alias.
// Names lists them in the order given, without duplicates.
type UnknownStreamsError struct {
	Names []string
}

func (e *UnknownStreamsError) Error() string {
	return "unknown streams: " + strings.Join(e.Names, ", ")
}

// ErrNoStreams is returned when a catalog would be empty.
var ErrNoStreams = errors.New("catalog: no streams")

// New builds a catalog from streams. It rejects a name or alias used twice
// or empty, a topic claimed by two streams (ingest could not tell which
// stream a record of that topic belongs to) or empty, and two streams
// whose subjects would be the same (a.b and a_b).
func New(streams []Stream) (*Catalog, error) {
	if len(streams) == 0 {
		return nil, ErrNoStreams
	}
	c := &Catalog{byName: map[string]*Stream{}, byTopic: map[string]*Stream{}}
	tokens := map[string]string{} // subject token → stream
	for i := range streams {
		s := streams[i]
		s.Aliases = slices.Clone(s.Aliases)
		s.Topics = slices.Clone(s.Topics)
		if s.Name == "" {
			return nil, errors.New("catalog: a stream has no name")
		}
		if len(s.Topics) == 0 {
			return nil, fmt.Errorf("catalog: stream %q has no topics", s.Name)
		}
		// Each stream has subjects of its own: two names with one token
		// would mix their events, and the dead letters' token is taken.
		tok := layout.StreamToken(s.Name)
		if other, dup := tokens[tok]; dup || tok == layout.DeadLetterToken {
			if !dup {
				other = "dead letters"
			}
			return nil, fmt.Errorf("catalog: stream %q would share the subjects of %q (token %q)", s.Name, other, tok)
		}
		tokens[tok] = s.Name
		s.Token = tok
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			if n == "" {
				return nil, fmt.Errorf("catalog: stream %q has an empty alias", s.Name)
			}
			if _, dup := c.byName[n]; dup {
				return nil, fmt.Errorf("catalog: name %q is used twice", n)
			}
			c.byName[n] = &s
		}
		for _, t := range s.Topics {
			if t == "" {
				return nil, fmt.Errorf("catalog: stream %q has an empty topic", s.Name)
			}
			if other, dup := c.byTopic[t]; dup {
				return nil, fmt.Errorf("catalog: topic %q belongs to both %q and %q", t, other.Name, s.Name)
			}
			c.byTopic[t] = &s
		}
		c.streams = append(c.streams, &s)
	}
	sort.Slice(c.streams, func(i, j int) bool { return c.streams[i].Name < c.streams[j].Name })
	return c, nil
}

// Streams returns the streams sorted by canonical name. The caller must not
// modify them.
func (c *Catalog) Streams() []*Stream { return c.streams }

// Lookup returns the stream with this canonical name or alias.
func (c *Catalog) Lookup(name string) (*Stream, bool) {
	s, ok := c.byName[name]
	return s, ok
}

// ByTopic returns the stream a Kafka topic belongs to.
func (c *Catalog) ByTopic(topic string) (*Stream, bool) {
	s, ok := c.byTopic[topic]
	return s, ok
}

// Topics returns every topic of every stream, sorted.
func (c *Catalog) Topics() []string {
	topics := make([]string, 0, len(c.byTopic))
	for t := range c.byTopic {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics
}

// Names returns every canonical name and alias, sorted.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Resolve maps names and aliases to distinct streams, in the order first
// named. Unknown names give an *UnknownStreamsError listing all of them.
func (c *Catalog) Resolve(names []string) ([]*Stream, error) {
	var out []*Stream
	var unknown []string
	for _, n := range names {
		s, ok := c.byName[n]
		if !ok {
			if !slices.Contains(unknown, n) {
				unknown = append(unknown, n)
			}
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownStreamsError{Names: unknown}
	}
	return out, nil
}

// Narrow returns a catalog with only the allowed streams, given by canonical
// name or alias. An empty list allows everything. Names that are not in the
// catalog give an *UnknownStreamsError: a typo in an allow-list must not
// silently hide a stream.
func (c *Catalog) Narrow(allowed []string) (*Catalog, error) {
	if len(allowed) == 0 {
		return c, nil
	}
	keep, err := c.Resolve(allowed)
	if err != nil {
		return nil, err
	}
	streams := make([]Stream, len(keep))
	for i, s := range keep {
		streams[i] = *s
	}
	return New(streams)
}

// streamConfigs is the document of MediaWiki's action=streamconfigs API.
type streamConfigs struct {
	Streams map[string]struct {
		Stream        string   `json:"stream"`
		Topics        []string `json:"topics"`
		StreamAliases []string `json:"stream_aliases"`
		Description   string   `json:"description"`
		SchemaTitle   string   `json:"schema_title"`
	} `json:"streams"`
}

// Parse reads a streamconfigs document
// ({"streams": {"<name>": {"topics": [...], "stream_aliases": [...], ...}}}).
// As EventStreams does, it drops regex stream names (those starting with
// "/"); a stream without topics gets one per DC prefix.
func Parse(doc []byte, dcPrefixes []string) (*Catalog, error) {
	var sc streamConfigs
	if err := json.Unmarshal(doc, &sc); err != nil {
		return nil, fmt.Errorf("catalog: streamconfigs document: %w", err)
	}
	var streams []Stream
	for key, v := range sc.Streams {
		name := key
		if v.Stream != "" {
			name = v.Stream
		}
		if strings.HasPrefix(name, "/") {
			continue
		}
		topics := v.Topics
		if len(topics) == 0 {
			topics = prefixed(dcPrefixes, name)
		}
		desc := v.Description
		if desc == "" {
			desc = name + " events."
		}
		streams = append(streams, Stream{
			Name: name, Aliases: v.StreamAliases, Description: desc,
			SchemaTitle: v.SchemaTitle, Topics: topics,
		})
	}
	return New(streams)
}

func prefixed(dcPrefixes []string, name string) []string {
	topics := make([]string, len(dcPrefixes))
	for i, p := range dcPrefixes {
		topics[i] = p + name
	}
	return topics
}
