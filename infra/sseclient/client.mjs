// client.mjs reads a stream with npm eventsource, a real SSE client outside
// the Go world, for serve's end-to-end tests (serve/api/eventsource_test.go).
//
//   node client.mjs URL N [TIMEOUT_MS]
//
// It prints one JSON line per event on stdout:
//   {"open":true}                                   a connection was opened
//   {"id":"<lastEventId>","data":"<data>"}          a message event
//   {"error":"<message>","code":<status>,"readyState":<0|1|2>}
//                                                   an error event; readyState 0
//                                                   (CONNECTING) means the client
//                                                   reconnects by itself
//   {"error":"event","data":"<data>","readyState":1}
//                                                   an `event: error` frame sent by
//                                                   the server (same event type)
// and exits 0 after N message events, 1 on a timeout or a permanent failure.
// Reconnecting, with Last-Event-ID and the server's retry:, is the library's
// own doing: this program never reconnects.
import { EventSource } from 'eventsource';

const [url, nArg, timeoutArg] = process.argv.slice(2);
const want = Number.parseInt(nArg ?? '', 10);
if (!url || !(want > 0)) {
  process.stderr.write('usage: node client.mjs URL N [TIMEOUT_MS]\n');
  process.exit(2);
}
const timeoutMs = Number.parseInt(timeoutArg ?? '30000', 10);

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// Exit only once stdout is written out: it is a pipe to the test.
const finish = (code) => {
  es.close();
  clearTimeout(timer);
  process.stdout.write('', () => process.exit(code));
};

const es = new EventSource(url);
let got = 0;

es.addEventListener('open', () => out({ open: true }));

es.addEventListener('message', (e) => {
  out({ id: e.lastEventId, data: e.data });
  if (++got === want) finish(0);
});

es.addEventListener('error', (e) => {
  if (e instanceof MessageEvent) {
    // A server-sent `event: error` frame is dispatched as a MessageEvent of
    // type error, to the same listeners as connection errors.
    out({ error: 'event', data: e.data, readyState: es.readyState });
    return;
  }
  // No message: the response ended normally (the library reconnects).
  out({ error: e.message ?? 'stream ended', code: e.code ?? null, readyState: es.readyState });
  if (es.readyState === EventSource.CLOSED) finish(1); // failed for good: no reconnect
});

const timer = setTimeout(() => {
  out({ error: `timeout: ${got} of ${want} events after ${timeoutMs} ms`, readyState: es.readyState });
  finish(1);
}, timeoutMs);
