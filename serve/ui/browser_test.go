package ui_test

// The web UI and /?doc in a real browser (headless Chromium, through
// chromedp), against a stack with live events. Each test waits on
// conditions in the page, never on sleeps, and compares what the page
// shows with what the server sends a client of the same URL.

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/service"
)

const wait = 30 * time.Second

// curlURL is the stream URL of the page's curl snippet.
func curlURL(t *testing.T, tb *tab) string {
	t.Helper()
	s := eval[string](t, tb, `document.getElementById('snippet-curl').textContent`)
	return strings.TrimSuffix(strings.TrimPrefix(s, "curl -N '"), "'")
}

func noProblems(t *testing.T, tb *tab) {
	t.Helper()
	if p := tb.problems(); len(p) > 0 {
		t.Errorf("the console has errors or warnings:\n%s", strings.Join(p, "\n"))
	}
}

// pickAndWatch opens the UI at / (which redirects), picks recentchange
// in the form, by keyboard (space on the checkbox, Enter on Start) or by
// clicks, starts, and waits for events.
func pickAndWatch(t *testing.T, tb *tab, s *stack, keyboard bool) {
	t.Helper()
	tb.do(t, chromedp.Navigate(s.url+"/"))
	tb.waitJS(t, wait, `document.querySelectorAll('#stream-list input').length >= 3 && document.getElementById('filter-wiki')`)
	if loc := eval[string](t, tb, `location.pathname`); loc != "/v2/ui" {
		t.Errorf("/ led to %s, want /v2/ui", loc)
	}
	box := chromedp.CSS(`#stream-list input[value="mediawiki.recentchange"]`)
	if keyboard {
		tb.do(t, chromedp.Focus(box), chromedp.KeyEvent(" "), chromedp.Focus(chromedp.ID("run")), chromedp.KeyEvent(kb.Enter))
	} else {
		tb.do(t, chromedp.Click(box), chromedp.Click(chromedp.ID("run")))
	}
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 5`)
}

// TestPickAStream: the page loads with no console error and no CSP
// violation, lists the streams with their descriptions and one control per
// filter of /?spec; picking a stream shows its events as readable lines
// (wiki, linked title, user, type) whose JSON expands, and the page's URL
// and snippets say what is shown.
func TestPickAStream(t *testing.T) {
	s := newStack(t, 60, nil)
	tb := newTab(t)
	pickAndWatch(t, tb, s, true)

	filters := eval[[]string](t, tb, `[...document.querySelectorAll('#filters .filter label')].map((l) => l.textContent)`)
	if strings.Join(filters, ",") != "wiki,type,namespace,bot,domain" {
		t.Errorf("filter controls %v, want those of /?spec", filters)
	}
	if d := eval[string](t, tb, `document.querySelector('#stream-list input[value="mediawiki.recentchange"]').parentElement.querySelector('.desc').textContent`); d == "" {
		t.Error("recentchange has no description")
	}
	if q := eval[string](t, tb, `location.search`); q != "?streams=mediawiki.recentchange" {
		t.Errorf("page URL query %q", q)
	}
	line := eval[struct {
		Wiki, Title, Href, User, Type string
	}](t, tb, `(() => { const l = document.querySelector('#events > li .line');
		return {wiki: l.querySelector('.wiki')?.textContent ?? '', title: l.querySelector('a.title')?.textContent ?? '',
		href: l.querySelector('a.title')?.href ?? '', user: l.querySelector('.user')?.textContent ?? '', type: l.querySelector('.type')?.textContent ?? ''}; })()`)
	if line.Wiki == "" || line.Title == "" || !strings.HasPrefix(line.Href, "http") || line.User == "" || line.Type == "" {
		t.Errorf("the first line lacks a part: %+v", line)
	}

	// Expand an event's JSON with the keyboard (the list moves as events
	// arrive, so a click could land on another): it is the event,
	// pretty-printed.
	li := `#events > li[data-seq="` + strconv.FormatInt(shownSeqs(t, tb)[0], 10) + `"]`
	tb.do(t, chromedp.Focus(chromedp.CSS(li+` .toggle`)), chromedp.KeyEvent(kb.Enter))
	tb.waitJS(t, wait, `document.querySelector('`+li+` .json pre')`)
	raw := eval[string](t, tb, `document.querySelector('`+li+` .json pre').textContent`)
	var ev struct{ Meta struct{ Stream string } }
	if err := json.Unmarshal([]byte(raw), &ev); err != nil || ev.Meta.Stream != "mediawiki.recentchange" || !strings.Contains(raw, "\n  ") {
		t.Errorf("expanded JSON (%v): %.200s", err, raw)
	}
	if got := eval[string](t, tb, `document.querySelector('`+li+` .toggle').getAttribute('aria-expanded')`); got != "true" {
		t.Errorf("aria-expanded %q after expanding", got)
	}
	if u := curlURL(t, tb); u != s.url+"/v2/stream/mediawiki.recentchange" {
		t.Errorf("curl snippet URL %q", u)
	}
	if js := eval[string](t, tb, `document.getElementById('snippet-js').textContent`); !strings.Contains(js, "new EventSource('"+s.url+"/v2/stream/mediawiki.recentchange')") {
		t.Errorf("JavaScript snippet %q", js)
	}
	if id := eval[string](t, tb, `document.getElementById('last-id').textContent`); !strings.HasPrefix(id, `[{"seq":`) {
		t.Errorf("last id %q", id)
	}
	sameAsServer(t, curlURL(t, tb), shownSeqs(t, tb))
	noProblems(t, tb)
}

// TestFilter sets filters with the form controls: the page shows exactly
// the events the server sends a client of the same URL, and each matches.
func TestFilter(t *testing.T) {
	s := newStack(t, 80, nil)
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui"))
	tb.waitJS(t, wait, `document.getElementById('filter-bot')`)
	tb.do(t,
		chromedp.Click(chromedp.CSS(`#stream-list input[value="mediawiki.recentchange"]`)),
		chromedp.Click(chromedp.CSS(`#stream-list input[value="mediawiki.revision-create"]`)),
		chromedp.SendKeys(chromedp.ID("filter-type"), "edit,new"),
		chromedp.SetValue(chromedp.ID("filter-bot"), "false"),
		chromedp.Click(chromedp.ID("run")))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 8`)
	url := curlURL(t, tb)
	if want := s.url + "/v2/stream/mediawiki.recentchange,mediawiki.revision-create?type=edit,new&bot=false"; url != want {
		t.Fatalf("stream URL %q, want %q", url, want)
	}
	if q := eval[string](t, tb, `location.search`); !strings.Contains(q, "type=edit,new") || !strings.Contains(q, "bot=false") {
		t.Errorf("page URL query %q lacks the filters", q)
	}
	bad := eval[[]string](t, tb, `[...document.querySelectorAll('#events > li')].map((li) => li.querySelector('.type').textContent).filter((t) => t !== 'edit' && t !== 'new')`)
	if len(bad) > 0 {
		t.Errorf("events of other types shown: %v", bad)
	}
	sameAsServer(t, url, shownSeqs(t, tb))
	noProblems(t, tb)
}

// TestPauseResume: while paused the page does not change and counts the
// events waiting; resuming shows them, in order, with none missing.
func TestPauseResume(t *testing.T) {
	s := newStack(t, 80, nil)
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui?streams=recentchange,page-create"))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 3`)
	tb.do(t, chromedp.Click(chromedp.ID("pause")))
	before := shownSeqs(t, tb)
	tb.waitJS(t, wait, `Number(document.getElementById('count-waiting').textContent) >= 30`)
	if during := shownSeqs(t, tb); len(during) != len(before) || during[len(during)-1] != before[len(before)-1] {
		t.Fatalf("the page changed while paused: %d events, last %d; before %d, last %d", len(during), during[len(during)-1], len(before), before[len(before)-1])
	}
	if p := eval[string](t, tb, `document.getElementById('pause').getAttribute('aria-pressed')`); p != "true" {
		t.Errorf("pause button aria-pressed %q", p)
	}
	tb.do(t, chromedp.Click(chromedp.ID("pause")))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= `+strconv.Itoa(len(before)+30))
	if w := eval[string](t, tb, `document.getElementById('count-waiting').textContent`); w != "0" {
		t.Errorf("%s waiting after resume", w)
	}
	sameAsServer(t, curlURL(t, tb), shownSeqs(t, tb))
	noProblems(t, tb)
}

// TestReloadResumes: reloading the page's URL opens the same selection
// and continues right after the last event shown: no gap, no duplicate.
func TestReloadResumes(t *testing.T) {
	s := newStack(t, 80, nil)
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui?streams=recentchange&type=edit"))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 5`)
	// Paused, so that the last event shown is known when the page goes.
	tb.do(t, chromedp.Click(chromedp.ID("pause")))
	before := shownSeqs(t, tb)
	tb.waitJS(t, wait, `Number(document.getElementById('count-waiting').textContent) >= 10`)
	tb.do(t, chromedp.Reload())
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 15`)
	if v := eval[string](t, tb, `document.getElementById('filter-type').value`); v != "edit" {
		t.Errorf("filter type after reload %q", v)
	}
	after := shownSeqs(t, tb)
	url := curlURL(t, tb)
	if url != s.url+"/v2/stream/mediawiki.recentchange?type=edit" {
		t.Errorf("stream URL after reload %q", url)
	}
	sameAsServer(t, url, append(before, after...))
	noProblems(t, tb)
}

// TestMaxDuration: the server ends each stream after a second; the page
// says it reconnects, counts the reconnects, and misses nothing.
func TestMaxDuration(t *testing.T) {
	s := newStack(t, 60, func(c *service.Config) { c.MaxDuration = time.Second })
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui?streams=recentchange,page-create,revision-create"))
	tb.waitJS(t, wait, `Number(document.getElementById('count-reconnects').textContent) >= 3`)
	n := len(shownSeqs(t, tb))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= `+strconv.Itoa(n+10))
	if m := inproctest.Metric(s.reg, "eventstreams_disconnects_total", "reason", "max_duration"); m < 3 {
		t.Errorf("%v streams ended at the maximum duration", m)
	}
	sameAsServer(t, curlURL(t, tb), shownSeqs(t, tb))
	noProblems(t, tb)
}

// TestServeRestart: serve stops (its streams end, as on SIGTERM) and
// starts again on the same address; the page says it is reconnecting and
// then continues where it was.
func TestServeRestart(t *testing.T) {
	s := newStack(t, 60, func(c *service.Config) { c.MaxDuration = time.Minute })
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui?streams=recentchange"))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 3`)
	s.restart(t, func() {
		tb.waitJS(t, wait, `document.getElementById('status').textContent.startsWith('Reconnecting')`)
	})
	n := len(shownSeqs(t, tb))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= `+strconv.Itoa(n+10)+
		` && document.getElementById('status').textContent.startsWith('Connected')`)
	sameAsServer(t, curlURL(t, tb), shownSeqs(t, tb))
	// The browser logs the refused connections while serve was down; nothing else.
	for _, p := range tb.problems() {
		if !strings.Contains(p, "ERR_CONNECTION_REFUSED") {
			t.Errorf("console: %s", p)
		}
	}
}

// TestPhone: at 390 px wide the page needs no horizontal scrolling, and
// picking a stream, reading, expanding and pausing work by touch.
func TestPhone(t *testing.T) {
	s := newStack(t, 60, nil)
	tb := newTab(t)
	tb.do(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	pickAndWatch(t, tb, s, false)
	if w := eval[int](t, tb, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the page is %d px wide at a 390 px viewport", w)
	}
	// Paused, the list stands still for a tap on an event.
	tb.do(t, chromedp.Click(chromedp.ID("pause")))
	li := `#events > li[data-seq="` + strconv.FormatInt(shownSeqs(t, tb)[0], 10) + `"]`
	tb.do(t, chromedp.Click(chromedp.CSS(li+` .toggle`)))
	tb.waitJS(t, wait, `document.querySelector('`+li+` .json pre')`)
	if w := eval[int](t, tb, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("with a JSON open the page is %d px wide", w)
	}
	tb.waitJS(t, wait, `Number(document.getElementById('count-waiting').textContent) >= 5`)
	tb.do(t, chromedp.Click(chromedp.ID("pause")))
	tb.waitJS(t, wait, `document.getElementById('count-waiting').textContent === '0'`)
	sameAsServer(t, curlURL(t, tb), shownSeqs(t, tb))
	noProblems(t, tb)
}

// TestDoc: /?doc renders every operation of /?spec with Swagger UI, with
// no console error and no CSP violation.
func TestDoc(t *testing.T) {
	s := newStack(t, 10, nil)
	resp, err := http.Get(s.url + "/?spec")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var spec struct{ Paths map[string]any }
	if err := json.Unmarshal(body, &spec); err != nil || len(spec.Paths) < 3 {
		t.Fatalf("/?spec: %v, %d paths", err, len(spec.Paths))
	}
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/?doc"))
	tb.waitJS(t, wait, `document.querySelectorAll('.opblock-summary-path').length >= `+strconv.Itoa(len(spec.Paths)))
	shown := eval[[]string](t, tb, `[...document.querySelectorAll('.opblock-summary-path')].map((e) => e.dataset.path)`)
	for p := range spec.Paths {
		found := false
		for _, s := range shown {
			found = found || s == p
		}
		if !found {
			t.Errorf("/?doc does not show %s", p)
		}
	}
	noProblems(t, tb)
}

// TestConsoleWatch checks the check: an inline script, which the page's
// policy refuses, shows up among a tab's problems, so "no problems" in the
// tests above means no CSP violation.
func TestConsoleWatch(t *testing.T) {
	s := newStack(t, 10, nil)
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui"))
	tb.waitJS(t, wait, `document.getElementById('filter-wiki')`)
	eval[chromedp.Void](t, tb, `(() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s); })()`)
	if ran := eval[bool](t, tb, `window.ran === 1`); ran {
		t.Error("an inline script ran")
	}
	inproctest.WaitFor(t, wait, func() bool {
		return strings.Contains(strings.Join(tb.problems(), "\n"), "Content Security Policy")
	})
}

// TestStartFrom starts from a sequence and from a time with the form's
// start controls (the page shows what the server sends from there), and
// shows the server's JSON error for a time it cannot read.
func TestStartFrom(t *testing.T) {
	s := newStack(t, 40, nil)
	rc := s.url + "/v2/stream/mediawiki.recentchange"
	first := serverSeqs(t, rc, 1, 10) // waits for 10 stored recentchange events
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui"))
	tb.waitJS(t, wait, `document.getElementById('filter-wiki')`)

	tb.do(t, chromedp.Click(chromedp.CSS(`#stream-list input[value="mediawiki.recentchange"]`)),
		chromedp.Click(chromedp.CSS(`input[name=start][value=seq]`)),
		chromedp.SendKeys(chromedp.ID("seq"), strconv.FormatInt(first[3], 10)),
		chromedp.Click(chromedp.ID("run")))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 10`)
	if u := curlURL(t, tb); u != rc+"?seq="+strconv.FormatInt(first[3], 10) {
		t.Errorf("stream URL %q", u)
	}
	seqs := shownSeqs(t, tb)
	if seqs[0] != first[3] {
		t.Errorf("from seq %d the page starts at %d", first[3], seqs[0])
	}
	sameAsServer(t, rc, seqs)

	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	tb.do(t, chromedp.Click(chromedp.ID("stop")),
		chromedp.SetValue(chromedp.ID("cap"), "2000"), // keeps every event since the first
		chromedp.Click(chromedp.CSS(`input[name=start][value=since]`)),
		chromedp.SendKeys(chromedp.ID("since"), since),
		chromedp.Click(chromedp.ID("run")))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 10 && document.querySelector('#events > li:last-child').dataset.seq === '`+
		strconv.FormatInt(first[0], 10)+`'`)
	sameAsServer(t, rc, shownSeqs(t, tb))
	if q := eval[string](t, tb, `new URLSearchParams(location.search).get('since')`); q != since {
		t.Errorf("page URL since %q, want %q", q, since)
	}
	noProblems(t, tb)

	tb.do(t, chromedp.SetValue(chromedp.ID("since"), "not a time"), chromedp.Click(chromedp.ID("run")))
	tb.waitJS(t, wait, `document.getElementById('status').textContent.startsWith('Stopped: 400 Invalid timestamp')`)
	if dis := eval[bool](t, tb, `document.getElementById('stop').disabled`); !dis {
		t.Error("still running after a 400")
	}
}

// TestPauseBufferFull: a pause that outlasts the buffer (lowered to 25
// events here) closes the connection, and the page says so; resuming
// shows what was held and continues after it, from the server, with
// nothing lost of what came meanwhile.
func TestPauseBufferFull(t *testing.T) {
	s := newStack(t, 80, nil)
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(s.url+"/v2/ui?streams=recentchange"))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= 3`)
	tb.do(t, chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.bufferLimit = '25'`), chromedp.Click(chromedp.ID("pause")))
	before := len(shownSeqs(t, tb))
	tb.waitJS(t, wait, `document.getElementById('status').textContent.startsWith('Paused with 25 events waiting: disconnected')`)
	inproctest.WaitFor(t, wait, func() bool { return inproctest.Metric(s.reg, "eventstreams_connected_clients") == 0 })
	var last []struct{ Seq int64 }
	if err := json.Unmarshal([]byte(eval[string](t, tb, `document.getElementById('last-id').textContent`)), &last); err != nil || len(last) != 1 {
		t.Fatalf("last id: %v", err)
	}
	rc := s.url + "/v2/stream/mediawiki.recentchange"
	serverSeqs(t, rc, last[0].Seq+1, 20) // 20 more are stored while the page is disconnected
	tb.do(t, chromedp.Click(chromedp.ID("pause")))
	tb.waitJS(t, wait, `document.querySelectorAll('#events > li').length >= `+strconv.Itoa(before+25+20))
	sameAsServer(t, rc, shownSeqs(t, tb))
	noProblems(t, tb)
}
