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
