package eventgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
)

// The tests read their fixtures from testdata (see testdata/SOURCES.md):
//
//   - schemas.json: the schema of each stream of the public OpenAPI spec of
//     stream.wikimedia.org, keyed by schema title, as the spec has it;
//   - schemas-extra.json: the schemas of the catalog's streams that the
//     spec does not list, assembled by hand;
//   - recorded/<stream>.jsonl: recorded events of each stream of the
//     catalog that has some, the fewest that have every member the
//     recording has.
//
// go test -update-fixtures rewrites schemas.json and recorded/ from the
// spec and the recordings in ../shared/data beside the repository.
var updateFixtures = flag.Bool("update-fixtures", false, "rewrite testdata/schemas.json and testdata/recorded from ../shared/data")

const (
	sharedData    = "../../../shared/data"
	specSchemas   = "testdata/schemas.json"
	extraSchemas  = "testdata/schemas-extra.json"
	recordedDir   = "testdata/recorded"
	specFile      = "eventstreams_openapi_spec.json"
	recordingGlob = "*.jsonl"
)

var fixturesOnce sync.Once

// fixtures rewrites the fixtures once when -update-fixtures is set.
func fixtures(t *testing.T) {
	t.Helper()
	fixturesOnce.Do(func() {
		if !*updateFixtures {
			return
		}
		if err := writeSchemaFixture(); err != nil {
			t.Fatalf("update %s: %v", specSchemas, err)
		}
		if err := writeRecordedFixtures(); err != nil {
			t.Fatalf("update %s: %v", recordedDir, err)
		}
	})
}

// schemas returns the schema of each stream of the built-in catalog,
// keyed by stream name. A stream without a schema fails the test.
func schemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	fixtures(t)
	byTitle := map[string]map[string]any{}
	for _, file := range []string{specSchemas, extraSchemas} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for title, s := range m {
			if _, dup := byTitle[title]; dup {
				t.Fatalf("%s: schema %s given twice", file, title)
			}
			byTitle[title] = s
		}
	}
	cat, err := catalog.Builtin(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, s := range cat.Streams() {
		schema, ok := byTitle[s.SchemaTitle]
		if !ok {
			t.Fatalf("no schema %s (of %s) in %s or %s", s.SchemaTitle, s.Name, specSchemas, extraSchemas)
		}
		out[s.Name] = schema
	}
	return out
}

// recordedFixtures returns the files of recorded events, one per stream,
// named <stream>.jsonl.
func recordedFixtures(t *testing.T) []string {
	t.Helper()
	fixtures(t)
	files, err := filepath.Glob(filepath.Join(recordedDir, recordingGlob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded events in %s (%v)", recordedDir, err)
	}
	return files
}

// writeSchemaFixture writes the schema of every catalog stream in the
// spec, keyed by title, one schema per line, compact.
func writeSchemaFixture() error {
	var spec struct {
		Paths map[string]struct {
			Get struct {
				Responses map[string]struct {
					Content map[string]struct {
						Schema json.RawMessage `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			} `json:"get"`
		} `json:"paths"`
	}
	b, err := os.ReadFile(filepath.Join(sharedData, specFile))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return err
	}
	cat, err := catalog.Builtin(nil)
	if err != nil {
		return err
	}
	byTitle := map[string][]byte{}
	for _, s := range cat.Streams() {
		raw := spec.Paths["/v2/stream/"+s.Name].Get.Responses["200"].Content["application/json"].Schema
		if raw == nil {
			continue // not in the 2024 spec: schemas-extra.json has it
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return err
		}
		var head struct{ Title string }
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		if head.Title != s.SchemaTitle {
			return fmt.Errorf("%s: the spec's schema is %q, the catalog's %q", s.Name, head.Title, s.SchemaTitle)
		}
		if prev, ok := byTitle[head.Title]; ok && !bytes.Equal(prev, compact.Bytes()) {
			return fmt.Errorf("%s: the spec has two schemas titled %s", s.Name, head.Title)
		}
		byTitle[head.Title] = compact.Bytes()
	}
	var out bytes.Buffer
	out.WriteString("{\n")
	for i, title := range slices.Sorted(maps.Keys(byTitle)) {
		if i > 0 {
			out.WriteString(",\n")
		}
		fmt.Fprintf(&out, "%q:%s", title, byTitle[title])
	}
	out.WriteString("\n}\n")
	return os.WriteFile(specSchemas, out.Bytes(), 0o644)
}

// writeRecordedFixtures writes, for each recording of a catalog stream,
// the fewest of its events that have all the member paths (memberPaths)
// its events have: each time the event that adds the most paths not yet
// had, the earliest of equals. Lines are copied byte for byte, in the
// recording's order.
func writeRecordedFixtures() error {
	files, err := filepath.Glob(filepath.Join(sharedData, recordingGlob))
	if err != nil {
		return err
	}
	cat, err := catalog.Builtin(nil)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(recordedDir); err != nil {
		return err
	}
	if err := os.MkdirAll(recordedDir, 0o755); err != nil {
		return err
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".jsonl")
		if !strings.Contains(name, ".") {
			name = "mediawiki." + name
		}
		if _, ok := cat.Lookup(name); !ok {
			continue // mediawiki.revision-score, no longer public
		}
		lines, err := readLines(file)
		if err != nil {
			return err
		}
		paths := make([]map[string]bool, len(lines))
		all := map[string]bool{}
		for i, l := range lines {
			var doc map[string]any
			if err := json.Unmarshal(l, &doc); err != nil {
				return fmt.Errorf("%s:%d: %w", file, i+1, err)
			}
			paths[i] = map[string]bool{}
			memberPaths("", doc, paths[i])
			for p := range paths[i] {
				all[p] = true
			}
		}
		had, chosen := map[string]bool{}, map[int]bool{}
		for len(had) < len(all) {
			best, gain := -1, 0
			for i, ps := range paths {
				n := 0
				for p := range ps {
					if !had[p] {
						n++
					}
				}
				if n > gain {
					best, gain = i, n
				}
			}
			chosen[best] = true
			for p := range paths[best] {
				had[p] = true
			}
		}
		var out bytes.Buffer
		for i, l := range lines {
			if chosen[i] {
				out.Write(l)
				out.WriteByte('\n')
			}
		}
		if err := os.WriteFile(filepath.Join(recordedDir, name+".jsonl"), out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func readLines(file string) ([][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	return lines, sc.Err()
}
