package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

func TestParseFlags(t *testing.T) {
	env := func(k string) string {
		if k == EnvConnectURL {
			return "http://worker-1:8083, http://worker-2:8083"
		}
		return ""
	}
	noEnv := func(string) string { return "" }
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		want    config
		wantErr string
	}{
		{
			name: "defaults from the environment",
			env:  env,
			want: config{ConnectURLs: []string{"http://worker-1:8083", "http://worker-2:8083"}, Interval: 10 * time.Second, MaxRestarts: 5, Window: time.Hour},
		},
		{
			name: "flags",
			args: []string{"-connect-url", "http://w:8083", "-namespace", "pricing.", "-interval", "2s", "-max-restarts", "3", "-window", "10m"},
			env:  noEnv,
			want: config{ConnectURLs: []string{"http://w:8083"}, Namespace: "pricing.", Interval: 2 * time.Second, MaxRestarts: 3, Window: 10 * time.Minute},
		},
		{name: "no worker", env: noEnv, wantErr: EnvConnectURL},
		{name: "zero interval", args: []string{"-interval", "0s"}, env: env, wantErr: "interval must be positive"},
		{name: "no restarts", args: []string{"-max-restarts", "0"}, env: env, wantErr: "max restarts must be at least 1"},
		{name: "negative window", args: []string{"-window", "-1m"}, env: env, wantErr: "window must be positive"},
		{name: "stray argument", args: []string{"now"}, env: env, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, tt.env, &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.ConnectURLs, ",") != strings.Join(tt.want.ConnectURLs, ",") ||
				got.Namespace != tt.want.Namespace || got.Interval != tt.want.Interval ||
				got.MaxRestarts != tt.want.MaxRestarts || got.Window != tt.want.Window {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	err := run(context.Background(), config{ConnectURLs: []string{"http://127.0.0.1:1"}}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "interval must be positive") {
		t.Fatalf("got %v, want an error about the interval", err)
	}
}

// syncBuffer is a bytes.Buffer the healer's goroutine writes while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIntegrationHealer: a FileStreamSink whose output folder is missing
// fails; once the folder exists, the healer restarts it and prints that it
// recovered.
func TestIntegrationHealer(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("healer") + "."
	topic, name := ns+"prices.v1", ns+"prices-sink"

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close) // after the cleanup below, which uses it
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	client, err := connect.New(connect.WithURLs(p.ConnectURL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.Delete(ctx, name); err != nil {
			t.Logf("cleanup: delete connector %s: %v", name, err)
		}
		if _, err := adm.DeleteTopics(ctx, topic); err != nil {
			t.Logf("cleanup: delete topic %s: %v", topic, err)
		}
	})

	out := filepath.Join(t.TempDir(), "later", "out.txt") // the worker runs on this machine
	if _, _, err := client.PutConfig(ctx, name, map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
		"tasks.max":       "1",
		"topics":          topic,
		"file":            out,
	}); err != nil {
		t.Fatalf("create connector: %v", err)
	}
	for {
		st, err := client.Status(ctx, name)
		if err == nil && st.Failed() {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("connector never failed: %+v, %v", st, err)
		case <-time.After(200 * time.Millisecond):
		}
	}

	var buf syncBuffer
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, config{
			ConnectURLs: []string{p.ConnectURL},
			Namespace:   ns,
			Interval:    300 * time.Millisecond,
			MaxRestarts: 100,
			Window:      time.Hour,
		}, &buf)
	}()

	// The cause is fixed while the healer runs.
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	want := "recovered connector=" + name
	for !strings.Contains(buf.String(), want) {
		select {
		case <-ctx.Done():
			stop()
			<-done
			t.Fatalf("no %q line:\n%s", want, buf.String())
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, buf.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	got := buf.String()
	for _, line := range []string{"healing " + ns + " on ", "restarted connector=" + name, "stopped"} {
		if !strings.Contains(got, line) {
			t.Errorf("output lacks %q:\n%s", line, got)
		}
	}
	st, err := client.Status(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() || st.Connector.State != connect.StateRunning {
		t.Errorf("after healing: %+v", st)
	}
}
