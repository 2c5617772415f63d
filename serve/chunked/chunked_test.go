package chunked

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestChunkedBytes(t *testing.T) {
	server, client := net.Pipe()
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(client)
		got <- string(b)
	}()
	w := New(server, time.Second)
	if err := w.WriteHeader(200, "OK", [][2]string{{"Content-Type", "text/event-stream"}}); err != nil {
		t.Fatal(err)
	}
	_ = w.AppendString(":ok\n\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = w.Append([]byte("event: message\ndata: {}\n\n"))
	_ = w.AppendString("x")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil { // nothing buffered: nothing written
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\n:ok\n\n\r\n" + "1a\r\nevent: message\ndata: {}\n\nx\r\n" + "0\r\n\r\n"
	if s := <-got; s != want {
		t.Errorf("wire bytes\n%q\nwant\n%q", s, want)
	}
	if w.Written() != 5+26 {
		t.Errorf("Written = %d, want 31", w.Written())
	}
	if err := w.AppendString("late"); err != nil {
		t.Fatal(err) // buffered only
	}
	if err := w.Flush(); err != ErrClosed {
		t.Errorf("Flush after Close: %v, want ErrClosed", err)
	}
}

func TestLargeAppendFlushesAndStalledPeerTimesOut(t *testing.T) {
	server, client := net.Pipe() // synchronous: nothing is written until read
	defer client.Close()
	w := New(server, 100*time.Millisecond)
	start := time.Now()
	err := w.Append([]byte(strings.Repeat("x", flushAt))) // reaches the threshold: writes at once
	if err == nil {
		t.Fatal("a write to a peer that never reads succeeded")
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the write deadline was not applied")
	}
}

// tcpPair is a loopback TCP connection with small kernel buffers, so that
// a few hundred KB fill it.
func tcpPair(t *testing.T) (server *net.TCPConn, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	client, server = c.(*net.TCPConn), s.(*net.TCPConn)
	_ = client.SetReadBuffer(4096)
	_ = server.SetWriteBuffer(4096)
	return server, client
}

// TestTryFlushNeverBlocks: TryFlush returns at once when the peer does not
// read, leaves the rest of its chunk pending, and the next Flush writes
// exactly the bytes a blocking Flush would have, in order.
func TestTryFlushNeverBlocks(t *testing.T) {
	server, client := tcpPair(t)
	w := New(server, 5*time.Second)
	if !w.CanTryFlush() {
		t.Fatal("a TCP connection cannot TryFlush")
	}
	var want strings.Builder
	chunks := 0
	for !w.Pending() {
		if chunks == 1000 {
			t.Fatal("1,000 chunks of 4 KB to a peer that does not read were all taken")
		}
		body := strings.Repeat(string(rune('a'+chunks%26)), 4000)
		w.Hold(true)
		_ = w.AppendString(body)
		w.Hold(false)
		start := time.Now()
		done, err := w.TryFlush()
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > time.Second {
			t.Fatalf("TryFlush blocked for %v", time.Since(start))
		}
		if done == w.Pending() {
			t.Fatalf("TryFlush: done %v with a chunk pending %v", done, w.Pending())
		}
		want.WriteString("fa0\r\n" + body + "\r\n")
		chunks++
	}
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(client)
		got <- string(b)
	}()
	if err := w.Flush(); err != nil { // finishes the pending chunk, blocking
		t.Fatal(err)
	}
	if w.Pending() {
		t.Fatal("a chunk is still pending after Flush")
	}
	_ = w.AppendString("end")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want.WriteString("3\r\nend\r\n0\r\n\r\n")
	if s := <-got; s != want.String() {
		t.Fatalf("%d bytes on the wire, want %d (the same bytes: %v)", len(s), want.Len(), s == want.String())
	}
	if w.Written() != int64(chunks*4000+3) {
		t.Errorf("Written = %d, want %d", w.Written(), chunks*4000+3)
	}
}

// TestTryFlushAfterAnExpiredDeadline: the deadline a blocking write left
// on the connection, once past, does not fail a later TryFlush.
func TestTryFlushAfterAnExpiredDeadline(t *testing.T) {
	server, client := tcpPair(t)
	w := New(server, 50*time.Millisecond)
	_ = w.AppendString("a")
	if err := w.Flush(); err != nil { // sets a 50ms deadline
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := server.Write(nil); err != nil || time.Now().After(deadline) {
			break // the deadline has passed (or the test gives up waiting for it)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = w.AppendString("b")
	done, err := w.TryFlush()
	if err != nil || !done {
		t.Fatalf("TryFlush after the deadline: done %v, %v", done, err)
	}
	buf := make([]byte, 12)
	if _, err := io.ReadFull(client, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != "1\r\na\r\n1\r\nb\r\n" {
		t.Errorf("got %q", buf)
	}
}
