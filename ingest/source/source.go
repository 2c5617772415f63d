// Package source describes the Kafka clusters ingest reads from and reads
// them: broker lists per datacenter, TLS and SASL/SCRAM, consumer-group
// settings and where a new group starts, and Kafka, the input.Opener whose
// sources are franz-go group consumers. It is the first step of the flow
// Kafka → ingest → JetStream; the mirror package drives the sources.
//
// The parsing and the options run once at start. An open Kafka source is
// used by one pipeline goroutine, and franz-go calls its callbacks from its
// own; they only report (see input.Reporter).
package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Cluster is one Kafka cluster, named after its datacenter.
type Cluster struct {
	Name    string
	Brokers []string
}

var clusterName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ParseClusters reads "name=host:port,host:port;name=host:port". Names are
// unique; every broker is host:port with a numeric port.
func ParseClusters(spec string) ([]Cluster, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("no clusters given (want name=host:port,...;name=host:port)")
	}
	var out []Cluster
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, brokers, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || !clusterName.MatchString(name) {
			return nil, fmt.Errorf("%q: want name=host:port,... with a name of letters, digits, '-' or '_'", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("cluster %q is given twice", name)
		}
		seen[name] = true
		c := Cluster{Name: name}
		for _, b := range strings.Split(brokers, ",") {
			b = strings.TrimSpace(b)
			host, port, err := net.SplitHostPort(b)
			if err != nil || host == "" {
				return nil, fmt.Errorf("cluster %q: broker %q is not host:port", name, b)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("cluster %q: broker %q has no valid port", name, b)
			}
			c.Brokers = append(c.Brokers, b)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no clusters given (want name=host:port,...;name=host:port)")
	}
	return out, nil
}

// Start is where a consumer group with no committed offset begins.
type Start struct {
	offset kgo.Offset
	text   string
}

func (s Start) String() string { return s.text }

// ParseStart reads "latest", "earliest" or an RFC 3339 time.
func ParseStart(s string) (Start, error) {
	switch s {
	case "", "latest":
		return Start{kgo.NewOffset().AtEnd(), "latest"}, nil
	case "earliest":
		return Start{kgo.NewOffset().AtStart(), "earliest"}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return Start{}, fmt.Errorf("%q: want latest, earliest or an RFC 3339 time", s)
	}
	return Start{kgo.NewOffset().AfterMilli(t.UnixMilli()), t.UTC().Format(time.RFC3339)}, nil
}

// Security is how clients authenticate to the brokers. The zero value is
// plaintext without authentication.
type Security struct {
	TLS           bool   // TLS with the system roots (implied by CAFile)
	CAFile        string // PEM file of the CA to trust
	SASLMechanism string // "", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	SASLUser      string
	SASLPassword  string
}

// Validate checks the combination of settings; it does not read files.
func (s Security) Validate() error {
	switch s.SASLMechanism {
	case "":
		if s.SASLUser != "" || s.SASLPassword != "" {
			return errors.New("a SASL user or password is set without a mechanism")
		}
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		if s.SASLUser == "" || s.SASLPassword == "" {
			return fmt.Errorf("%s needs a user and a password", s.SASLMechanism)
		}
	default:
		return fmt.Errorf("SASL mechanism %q: want SCRAM-SHA-256 or SCRAM-SHA-512", s.SASLMechanism)
	}
	return nil
}

// Group is the consumer-group membership of every cluster's client.
type Group struct {
	Name string
	// InstanceID, when set, makes the member static: a restarted ingest
	// with the same id takes its partitions back without a rebalance.
	InstanceID string
	// SessionTimeout is how long the group waits for a member that stopped
	// heartbeating (killed without leaving) before reassigning its partitions.
	SessionTimeout time.Duration
}

// ClientOptions are the franz-go options for consuming topics of one cluster.
func ClientOptions(c Cluster, topics []string, g Group, start Start, sec Security) ([]kgo.Opt, error) {
	opts, err := connOptions(c, sec)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.ConsumeTopics(topics...),
		kgo.ConsumerGroup(g.Name),
		kgo.ConsumeResetOffset(start.offset),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if g.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(g.SessionTimeout), kgo.HeartbeatInterval(min(3*time.Second, g.SessionTimeout/4)))
	}
	if g.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(g.InstanceID))
	}
	return opts, nil
}

// connOptions are the franz-go options to reach one cluster: its brokers,
// TLS and SASL.
func connOptions(c Cluster, sec Security) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID("eventstreams-ingest-" + c.Name),
	}
	if sec.TLS || sec.CAFile != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if sec.CAFile != "" {
			pem, err := os.ReadFile(sec.CAFile)
			if err != nil {
				return nil, fmt.Errorf("kafka CA: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("kafka CA: no PEM certificate in %s", sec.CAFile)
			}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	auth := scram.Auth{User: sec.SASLUser, Pass: sec.SASLPassword}
	switch sec.SASLMechanism {
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(auth.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(auth.AsSha512Mechanism()))
	}
	return opts, nil
}

// Logger adapts slog to franz-go's logger, passing on its warnings and
// errors (connection failures, group errors) and nothing chattier.
func Logger(log *slog.Logger) kgo.Logger { return kgoLogger{log} }

type kgoLogger struct{ log *slog.Logger }

func (kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelWarn
	if level == kgo.LogLevelError {
		lv = slog.LevelError
	}
	l.log.Log(context.Background(), lv, "kafka: "+msg, keyvals...)
}
