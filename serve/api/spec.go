package api

import (
	"encoding/json"
	"sort"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
)

// buildSpec is the OpenAPI 3 document served at /?spec. The EventStreams
// web UI and clients read the stream names from
// paths["/v2/stream/{streams}"].get.parameters[0].schema.items.enum
// (as the original's UI does): canonical names and aliases, sorted. The
// filters' parameters come from the filter table.
func (s *Server) buildSpec() ([]byte, error) {
	var names []string
	paths := map[string]any{}
	for _, st := range s.opts.Catalog.Streams() {
		for _, n := range append([]string{st.Name}, st.Aliases...) {
			names = append(names, n)
			desc := st.Description
			if n != st.Name {
				desc += "  (NOTE: This stream is an alias of " + st.Name + ")"
			}
			if st.SchemaTitle != "" {
				desc += "  Schema title: " + st.SchemaTitle
			}
			paths["/v2/stream/"+n] = map[string]any{"get": map[string]any{
				"tags": []string{"streams"}, "summary": n, "description": desc,
				"responses": map[string]any{"200": map[string]any{"description": "A stream of " + st.Name + " events."}},
			}}
		}
	}
	sort.Strings(names)
	errorResponse := map[string]any{"description": "Bad request: unknown stream, invalid since, seq, Last-Event-ID or filter.",
		"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/problem"}}}}
	params := []any{
		map[string]any{"name": "streams", "in": "path", "required": true, "style": "simple", "explode": false,
			"description": "Comma separated list of stream names to subscribe to.",
			"schema":      map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": names}}},
		map[string]any{"name": "Last-Event-ID", "in": "header",
			"description": "Resume after this event: the id of the last event received, as sent by this service (" +
				`[{"seq":…,"timestamp":…,"epoch":"…"}]` + "), or EventStreams' own Kafka-style id, which resumes by its timestamps. Wins over seq and since.",
			"schema": map[string]any{"type": "string"}},
		map[string]any{"name": "since", "in": "query",
			"description": "Start at the first retained event whose event time is at or after this time: integer milliseconds since the epoch, ISO 8601 / RFC 3339, a date (UTC), or RFC 1123.",
			"schema":      map[string]any{"type": "string"}},
		map[string]any{"name": "seq", "in": "query", "description": "Replay from this JetStream sequence, inclusive.",
			"schema": map[string]any{"type": "integer", "minimum": 1}},
	}
	for _, p := range filter.Params() {
		params = append(params, map[string]any{"name": p.Name, "in": "query", "description": p.Doc,
			"schema": map[string]any{"type": p.Schema}})
	}
	paths["/v2/stream/{streams}"] = map[string]any{"get": map[string]any{
		"tags":        []string{"subscribe"},
		"summary":     "Subscribe to one or multiple streams.",
		"description": "Use this route to subscribe to a comma separated list of configured streams.\n",
		"parameters":  params,
		"responses": map[string]any{
			"200": map[string]any{"description": "Server-Sent Events (or NDJSON with Accept: application/json).",
				"content": map[string]any{"text/event-stream": map[string]any{}, "application/json": map[string]any{}}},
			"400": errorResponse,
			"429": map[string]any{"description": "Too many concurrent connections from your client IP."},
		},
	}}
	paths["/v2/streams"] = map[string]any{"get": map[string]any{
		"tags": []string{"subscribe"}, "summary": "The streams this service exposes, with their aliases and topics.",
		"responses": map[string]any{"200": map[string]any{"description": "The stream list."}},
	}}
	doc := map[string]any{
		"openapi": "3.0.0",
		"info": map[string]any{"version": s.opts.Version, "title": "Wikimedia EventStreams",
			"description": "Streaming Wikimedia event data over HTTP SSE / EventSource",
			"license":     map[string]any{"name": "Apache2", "url": "http://www.apache.org/licenses/LICENSE-2.0"}},
		"externalDocs": map[string]any{"url": "https://wikitech.wikimedia.org/wiki/EventStreams"},
		// Swagger UI (/?doc) shows the tags in this order: the route with
		// every parameter first, then one path per stream.
		"tags": []any{
			map[string]any{"name": "subscribe", "description": "Subscribe to one or more streams, with filters and a start; list the streams."},
			map[string]any{"name": "streams", "description": "Each stream on its own, by its name or an alias."},
		},
		"paths": paths,
		"components": map[string]any{"schemas": map[string]any{"problem": map[string]any{"type": "object",
			"properties": map[string]any{"status": map[string]any{"type": "integer"}, "type": map[string]any{"type": "string"},
				"title": map[string]any{"type": "string"}, "detail": map[string]any{"type": "string"},
				"method": map[string]any{"type": "string"}, "uri": map[string]any{"type": "string"}}}}},
	}
	return json.Marshal(doc)
}
