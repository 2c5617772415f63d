// Scheduled events: the test event, about once a minute, and the canary
// events, one per topic per minute on the streams that have them. A canary
// event is an example event of its stream's schema, embedded from
// canary/*.json, with its variable members filled in.

package eventgen

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// buildSpecial builds a scheduled event: the test event, in a DC it
// picks, or a canary event of sp's topic.
func (g *Generator) buildSpecial(sp special, now time.Time) Event {
	dc := sp.dc
	if dc < 0 {
		dc = g.pickDC()
	}
	e := &g.e
	e.reset()
	var key []byte
	if sp.canary {
		g.canary(e, sp.stream, now)
		if sp.stream == sPageChange {
			key = []byte(`{"wiki_id":"example","page_id":1}`)
		}
	} else {
		e.open()
		e.kstr("$schema", "/test/event/1.0.0")
		e.kobj("meta")
		e.kstr("stream", streamNames[sTest])
		e.kstr("id", g.uuid())
		e.kstr("dt", fmtDT(now))
		e.kstr("request_id", g.uuid())
		e.close()
		testFields(e)
		e.close()
	}
	return Event{Topic: g.topics[sp.stream][dc], Key: key, Value: bytes.Clone(e.b), Time: now}
}

// testFields writes the members of the test event after its meta.
func testFields(e *enc) {
	e.kstr("test", "specific test value")
	e.kobj("test_map")
	e.kstr("key1", "val1")
	e.kstr("key2", "val2")
	e.close()
}

// canaryFS holds the canary events' examples: one per schema, as
// production's canary events have it, the first example of the stream's
// schema (latest version, members sorted as in the schema repository).
//
//go:embed canary/*.json
var canaryFS embed.FS

// canaryFiles are the examples of the streams with canary events, in
// canary/.
var canaryFiles = [numStreams]string{
	sRecentChange:             "recentchange.json",
	sRevisionCreate:           "revision-create.json",
	sPageCreate:               "revision-create.json",
	sPageDelete:               "page-delete.json",
	sPageMove:                 "page-move.json",
	sPageUndelete:             "page-undelete.json",
	sPagePropertiesChange:     "page-properties-change.json",
	sPageLinksChange:          "page-links-change.json",
	sRevisionTagsChange:       "revision-tags-change.json",
	sRevisionVisibilityChange: "revision-visibility-change.json",
	sPageChange:               "page-change.json",
	sTest:                     "test-event.json",
	sOutlinkTopic:             "page-prediction-classification-change.json",
	sRevertRisk:               "page-prediction-classification-change.json",
	sRevertRiskML:             "page-prediction-classification-change.json",
	sRevertRiskWD:             "page-prediction-classification-change.json",
	sFeatureCounts:            "page-rendering-feature-counts-change.json",
}

// canaryFill is what a member of a canary event gets instead of the
// example's value.
type canaryFill uint8

const (
	fillKeep   canaryFill = iota
	fillNow               // the event's time
	fillUUID              // a new UUID
	fillStream            // the stream's name
)

// fillOf tells what the member at path (its keys joined with dots) of the
// example in file gets: meta.domain stays "canary"; meta.dt, the event's
// dt and, on mediawiki/page/change, the revision's rev_dt are the time;
// meta.id and meta.request_id are new.
func fillOf(file, path string) canaryFill {
	switch path {
	case "dt", "meta.dt":
		return fillNow
	case "meta.id", "meta.request_id":
		return fillUUID
	case "meta.stream":
		return fillStream
	case "revision.rev_dt":
		if file == "page-change.json" {
			return fillNow
		}
	}
	return fillKeep
}

// A canaryToken is a JSON token of an example: '{', '}', '[' or ']'; 'k',
// a member's key; 's', a string; 'v', a number, true, false or null as the
// example writes it.
type canaryToken struct {
	kind byte
	text string
	fill canaryFill
}

// canaryExamples are the examples, by file, read once.
var canaryExamples = sync.OnceValue(func() map[string][]canaryToken {
	m := map[string][]canaryToken{}
	for _, file := range canaryFiles {
		if file == "" || m[file] != nil {
			continue
		}
		data, err := canaryFS.ReadFile("canary/" + file)
		if err == nil {
			m[file], err = canaryTokens(file, data)
		}
		if err != nil {
			panic(fmt.Sprintf("eventgen: canary example %s: %v", file, err))
		}
	}
	return m
})

// canaryTokens reads the tokens of an example, in order.
func canaryTokens(file string, data []byte) ([]canaryToken, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	type frame struct {
		obj, wantKey bool
		key          string
	}
	var stack []frame // the open objects and arrays
	var toks []canaryToken
	for {
		t, err := d.Token()
		if err == io.EOF {
			return toks, nil
		}
		if err != nil {
			return nil, err
		}
		if delim, ok := t.(json.Delim); ok {
			toks = append(toks, canaryToken{kind: byte(delim)})
			if delim == '{' || delim == '[' {
				stack = append(stack, frame{obj: delim == '{', wantKey: delim == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
		} else if n := len(stack); n > 0 && stack[n-1].wantKey {
			stack[n-1].key, stack[n-1].wantKey = t.(string), false
			toks = append(toks, canaryToken{kind: 'k', text: t.(string)})
			continue
		} else {
			tok := canaryToken{kind: 'v', text: "null"}
			switch v := t.(type) {
			case string:
				var path []string
				for _, f := range stack {
					path = append(path, f.key) // "" in arrays
				}
				tok.kind, tok.text, tok.fill = 's', v, fillOf(file, strings.Join(path, "."))
			case json.Number:
				tok.text = v.String()
			case bool:
				tok.text = strconv.FormatBool(v)
			}
			toks = append(toks, tok)
		}
		// A value is complete: its object expects the next key.
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
}

// canary writes a canary event of stream: its example with meta.domain
// "canary", new ids and the current time.
func (g *Generator) canary(e *enc, stream int, now time.Time) {
	dt := fmtDT(now)
	for _, t := range canaryExamples()[canaryFiles[stream]] {
		switch t.kind {
		case '{':
			e.open()
		case '}':
			e.close()
		case '[':
			e.openArr()
		case ']':
			e.closeArr()
		case 'k':
			e.key(t.text)
		case 'v':
			e.raw(t.text)
		case 's':
			switch t.fill {
			case fillNow:
				e.str(dt)
			case fillUUID:
				e.str(g.uuid())
			case fillStream:
				e.str(streamNames[stream])
			default:
				e.str(t.text)
			}
		}
	}
}
