package catalog

// builtinStream describes one of Wikimedia's public streams. topicBase is
// the topic name after the DC prefix when it differs from the stream name.
type builtinStream struct {
	name, alias, schema, description, topicBase string
}

// builtin is the set stream.wikimedia.org exposes (shared/ARCHITECTURE.md
// "Stream catalog": allowed_streams of the production chart; topics per
// ext-EventStreamConfig; descriptions from the production /?spec).
var builtin = []builtinStream{
	{"eventgate-main.test.event", "test", "test/event", "A test event stream. A new event is posted about once a minute.", ""},
	{"mediawiki.page-create", "page-create", "mediawiki/revision/create", "MediaWiki page create events. This page create stream is just the first revision create event for each page. As such, it reuses the mediawiki/revision/create schema.", ""},
	{"mediawiki.page-delete", "page-delete", "mediawiki/page/delete", "", ""},
	{"mediawiki.page-links-change", "page-links-change", "mediawiki/page/links-change", "", ""},
	{"mediawiki.page-move", "page-move", "mediawiki/page/move", "", ""},
	{"mediawiki.page-properties-change", "page-properties-change", "mediawiki/page/properties-change", "", ""},
	{"mediawiki.page-undelete", "page-undelete", "mediawiki/page/undelete", "", ""},
	{"mediawiki.page_change.v1", "", "mediawiki/page/change", "", ""},
	{"mediawiki.recentchange", "recentchange", "mediawiki/recentchange", "", ""},
	{"mediawiki.revision-create", "revision-create", "mediawiki/revision/create", "", ""},
	{"mediawiki.revision-tags-change", "", "mediawiki/revision/tags-change", "", ""},
	{"mediawiki.revision-visibility-change", "", "mediawiki/revision/visibility-change", "", ""},
	{"rdf-streaming-updater.mutation.v2", "", "mediawiki/wikibase/entity/rdf_change", "", "rdf-streaming-updater.mutation"},
	{"rdf-streaming-updater.mutation-main.v2", "", "mediawiki/wikibase/entity/rdf_change", "", "rdf-streaming-updater.mutation-main"},
	{"rdf-streaming-updater.mutation-scholarly.v2", "", "mediawiki/wikibase/entity/rdf_change", "", "rdf-streaming-updater.mutation-scholarly"},
	{"mediainfo-streaming-updater.mutation.v2", "", "mediawiki/wikibase/entity/rdf_change", "", "mediainfo-streaming-updater.mutation"},
	{"mediawiki.page_outlink_topic_prediction_change.v1", "", "mediawiki/page/prediction_classification_change", "", ""},
	{"mediawiki.page_revert_risk_prediction_change.v1", "", "mediawiki/page/prediction_classification_change", "", ""},
	{"mediawiki.page_revert_risk_multilingual_prediction_change.v1", "", "mediawiki/page/prediction_classification_change", "", ""},
	{"mediawiki.page_revert_risk_wikidata_prediction_change.v1", "", "mediawiki/page/prediction_classification_change", "", ""},
	{"mediawiki.page_html_feature_counts_change.v1", "", "mediawiki/page/rendering_feature_counts_change", "", ""},
}

// Builtin returns Wikimedia's public streams, with one topic per DC prefix
// for each (nil prefixes means eqiad. and codfw.). It fails only when the
// prefixes make two topics collide (a prefix given twice).
func Builtin(dcPrefixes []string) (*Catalog, error) {
	if dcPrefixes == nil {
		dcPrefixes = wikimediaDCPrefixes()
	}
	streams := make([]Stream, len(builtin))
	for i, b := range builtin {
		s := Stream{Name: b.name, SchemaTitle: b.schema, Description: b.description, Aliases: []string{}}
		if b.alias != "" {
			s.Aliases = []string{b.alias}
		}
		if s.Description == "" {
			s.Description = b.name + " events."
		}
		base := b.topicBase
		if base == "" {
			base = b.name
		}
		s.Topics = prefixed(dcPrefixes, base)
		streams[i] = s
	}
	return New(streams)
}
