package catalog

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// maxDocumentBytes bounds a streamconfigs document; MediaWiki's is about 200 KB.
const maxDocumentBytes = 16 << 20

// Load returns the built-in catalog when source is empty, and otherwise
// parses the streamconfigs document at source: an http(s) URL, fetched with
// client, or a file path.
func Load(ctx context.Context, source string, dcPrefixes []string, client *http.Client) (*Catalog, error) {
	if source == "" {
		return Builtin(dcPrefixes)
	}
	var doc []byte
	var err error
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		doc, err = fetch(ctx, source, client)
	} else {
		doc, err = readFile(source)
	}
	if err != nil {
		return nil, err
	}
	return Parse(doc, dcPrefixes)
}

func fetch(ctx context.Context, url string, client *http.Client) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("catalog: fetch stream config: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("catalog: fetch stream config: %s", resp.Status)
	}
	return readLimited(resp.Body)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	defer f.Close()
	return readLimited(f)
}

func readLimited(r io.Reader) ([]byte, error) {
	doc, err := io.ReadAll(io.LimitReader(r, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("catalog: read stream config: %w", err)
	}
	if len(doc) > maxDocumentBytes {
		return nil, fmt.Errorf("catalog: stream config is larger than %d bytes", maxDocumentBytes)
	}
	return doc, nil
}
