// Package configvars lists the environment variables a program reads, and
// their defaults, from its configuration struct's envconfig tags
// (ingest/service.Config, serve/service.Config, which embed
// settings.Common), by reflection: the tags are the one place where a
// variable and its default are written, and the deployment files' checks
// (infra/composecheck, infra/helmcheck) compare against them rather than
// against a copy.
//
// It only reads types; safe for concurrent use.
package configvars

import (
	"fmt"
	"reflect"
	"sort"
	"time"

	ingestservice "github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	serveservice "github.com/wikimedia-eventstreams-go/eventstreams/serve/service"
)

// Var is one environment variable of a configuration.
type Var struct {
	Name string
	// Default is what the program takes when the variable is unset: its
	// `default` tag, or else the zero value as the variable would be
	// written ("" for strings and lists, "false", "0", "0s").
	Default string
	// Tagged tells whether Default comes from a `default` tag.
	Tagged bool
}

// Of lists the variables of spec, a struct or a pointer to one with
// envconfig tags, embedded structs included, sorted by name. A variable
// named twice (LOG_LEVEL in two embedded structs) is listed once, with the
// outermost field's default.
func Of(spec any) []Var {
	t := reflect.TypeOf(spec)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("configvars: %T is not a struct", spec))
	}
	seen := map[string]Var{}
	collect(t, seen, false)
	out := make([]Var, 0, len(seen))
	for _, v := range seen {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// collect adds t's variables to seen. A field of t itself replaces a
// variable of the same name found in an embedded struct; an embedded one
// does not replace what is there.
func collect(t reflect.Type, seen map[string]Var, embedded bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			collect(f.Type, seen, true)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		if _, ok := seen[name]; ok && embedded {
			continue
		}
		v := Var{Name: name}
		v.Default, v.Tagged = f.Tag.Lookup("default")
		if !v.Tagged {
			v.Default = zero(f.Type)
		}
		seen[name] = v
	}
}

// zero is how the zero value of t would be written in the environment.
func zero(t reflect.Type) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		return "0s"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "0"
	default:
		return ""
	}
}

// Names is the set of the variables' names.
func Names(vars []Var) map[string]bool {
	out := map[string]bool{}
	for _, v := range vars {
		out[v.Name] = true
	}
	return out
}

// Ingest lists the variables ingest reads.
func Ingest() []Var { return Of(ingestservice.Config{}) }

// Serve lists the variables serve reads.
func Serve() []Var { return Of(serveservice.Config{}) }
