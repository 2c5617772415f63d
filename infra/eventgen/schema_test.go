package eventgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestSchemas validates every generated event against its stream's schema
// (types, required members, enums, additionalProperties, formats of
// date-times): the one in the OpenAPI spec that stream.wikimedia.org
// serves, or for the streams it does not list, the one in
// testdata/schemas-extra.json. It fails when a stream of the built-in
// catalog has no schema or is not generated.
func TestSchemas(t *testing.T) {
	byStream := schemas(t)
	checked, canaries := map[string]int{}, map[string]int{}
	for i, e := range events(t) {
		schema := byStream[e.stream]
		if schema == nil {
			t.Fatalf("event %d on %s, a stream without a schema", i, e.Topic)
		}
		var errs []string
		validate(schema, e.doc, "", &errs)
		if len(errs) > 0 {
			t.Fatalf("event %d (%s) does not follow its schema:\n  %s\n%s", i, e.Topic, strings.Join(errs, "\n  "), e.Value)
		}
		if e.canary() {
			canaries[e.stream]++
		} else {
			checked[e.stream]++
		}
	}
	for _, s := range slices.Sorted(maps.Keys(byStream)) {
		if checked[s] == 0 {
			t.Errorf("%s: no events in %d", s, testEvents)
			continue
		}
		t.Logf("%-60s %5d events and %3d canary events follow %s", s, checked[s], canaries[s], byStream[s]["title"])
	}
}

// TestValidateRejects makes sure TestSchemas can fail.
func TestValidateRejects(t *testing.T) {
	schema := map[string]any{"type": "object", "required": []any{"a"}, "additionalProperties": false, "properties": map[string]any{
		"a": map[string]any{"type": "integer", "minimum": 0.0},
		"b": map[string]any{"type": "string", "format": "date-time"},
		"c": map[string]any{"type": "string", "enum": []any{"x"}},
		"d": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "boolean"}},
	}}
	tests := []struct{ doc, want string }{
		{`{"b":"2026-03-01T12:00:00Z"}`, "missing required a"},
		{`{"a":"1"}`, "string, want integer"},
		{`{"a":1.5}`, "number, want integer"},
		{`{"a":-1}`, "below"},
		{`{"a":1,"b":"yesterday"}`, "not a date-time"},
		{`{"a":1,"c":"y"}`, "not in"},
		{`{"a":1,"d":{"k":1}}`, "integer, want boolean"},
		{`{"a":1,"e":1}`, "member e not allowed"},
	}
	for _, tt := range tests {
		var doc any
		d := json.NewDecoder(strings.NewReader(tt.doc))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		var errs []string
		validate(schema, doc, "", &errs)
		if len(errs) != 1 || !strings.Contains(errs[0], tt.want) {
			t.Errorf("%s: errors %q, want one about %q", tt.doc, errs, tt.want)
		}
	}
}

// validate checks v against the JSON Schema subset the spec uses.
func validate(s map[string]any, v any, path string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, path+": "+fmt.Sprintf(format, args...))
	}
	if typ, ok := s["type"]; ok {
		var types []any
		switch x := typ.(type) {
		case string:
			types = []any{x}
		case []any:
			types = x
		}
		got := jsonType(v)
		if !slices.Contains(types, any(got)) && !(got == "integer" && slices.Contains(types, any("number"))) {
			fail("%s, want %v", got, typ)
			return
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("%v not in %v", v, enum)
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range asSlice(s["required"]) {
			if _, ok := x[r.(string)]; !ok {
				fail("missing required %s", r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, val := range x {
			if ps, ok := props[k].(map[string]any); ok {
				validate(ps, val, path+"."+k, errs)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("member %s not allowed", k)
				}
			case map[string]any:
				validate(ap, val, path+"."+k, errs)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range x {
				validate(items, it, fmt.Sprintf("%s[%d]", path, i), errs)
			}
		}
	case string:
		if n, ok := s["minLength"].(float64); ok && float64(len(x)) < n {
			fail("shorter than %v", n)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				fail("not a date-time: %v", err)
			}
		}
	case json.Number:
		f, _ := x.Float64()
		if m, ok := s["minimum"].(float64); ok && f < m {
			fail("%v below %v", x, m)
		}
		if m, ok := s["maximum"].(float64); ok && f > m {
			fail("%v above %v", x, m)
		}
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// coverageExceptions are members of recorded events that generated events
// need not have.
var coverageExceptions = map[string]string{
	"meta.topic":      "added by EventStreams (ingest, here)",
	"meta.partition":  "added by EventStreams (ingest, here)",
	"meta.offset":     "added by EventStreams (ingest, here)",
	"meta.schema_uri": "the 2019 recentchange event predates $schema",
}

// mapMembers hold maps whose keys are data (slot roles, log parameters,
// properties): their members are compared as "*".
var mapMembers = map[string]bool{"content_slots": true, "rev_slots": true, "log_params": true, "test_map": true,
	"added_properties": true, "removed_properties": true, "scores": true}

// memberPaths adds the paths of v's members to out: "a.b", "a.*.c" under
// maps, "a[].b" in arrays of objects.
func memberPaths(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := prefix + k
			out[p] = true
			if mapMembers[k] {
				if m, ok := val.(map[string]any); ok {
					for _, mv := range m {
						memberPaths(p+".*.", mv, out)
					}
				}
				continue
			}
			memberPaths(p+".", val, out)
		}
	case []any:
		for _, it := range x {
			memberPaths(strings.TrimSuffix(prefix, ".")+"[].", it, out)
		}
	}
}

// TestCoversRecordedEvents checks, for every stream with recorded events in
// testdata/recorded, that generated events have every member (top-level
// and nested) the recorded ones have, but the documented exceptions.
// Recorded recentchange events are compared with generated ones of the
// same type.
func TestCoversRecordedEvents(t *testing.T) {
	files := recordedFixtures(t)
	generatedPaths := map[string]map[string]bool{}
	for _, e := range events(t) {
		if e.canary() {
			continue
		}
		k := e.stream + "/" + e.str("type")
		if generatedPaths[k] == nil {
			generatedPaths[k] = map[string]bool{}
		}
		memberPaths("", e.doc, generatedPaths[k])
	}
	for _, file := range files {
		stream := strings.TrimSuffix(filepath.Base(file), ".jsonl")
		t.Run(stream, func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			missing := map[string]int{}
			n := 0
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var doc map[string]any
				d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
				d.UseNumber()
				if err := d.Decode(&doc); err != nil {
					t.Fatalf("recorded event %d: %v", n+1, err)
				}
				n++
				typ, _ := doc["type"].(string)
				have := generatedPaths[stream+"/"+typ]
				if have == nil {
					t.Fatalf("no generated %s events of type %q", stream, typ)
				}
				recorded := map[string]bool{}
				memberPaths("", doc, recorded)
				for p := range recorded {
					if !have[p] && coverageExceptions[p] == "" {
						missing[p]++
					}
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if len(missing) > 0 {
				var ps []string
				for p, c := range missing {
					ps = append(ps, fmt.Sprintf("%s (%d of %d recorded events)", p, c, n))
				}
				sort.Strings(ps)
				t.Errorf("generated %s events lack members the recorded ones have:\n  %s", stream, strings.Join(ps, "\n  "))
			}
		})
	}
}
