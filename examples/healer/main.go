// Command healer is the auto-heal daemon of a team's connectors: every
// interval it lists the connectors of the team's namespace on Kafka Connect
// and restarts the FAILED ones and their FAILED tasks, with a backoff per
// connector and a cap on restarts, until SIGINT or SIGTERM. It prints one
// line per event: restarted, recovered, gave up, and failed requests.
//
//	eval "$(scripts/platform env)"
//	go run ./examples/healer -namespace pricing. -interval 10s -max-restarts 5 -window 1h
//
// The workers' URLs come from -connect-url, which defaults to
// STREAMKIT_CONNECT_URL (comma-separated), the only environment variable
// the program reads. A connector the healer gives up on stays FAILED until
// someone fixes its cause and restarts it; the healer then forgets its
// restarts.
//
// Exit codes: 0 after a signal, 1 when the healer stops with an error,
// 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/streamkit/streamkit/connect"
)

// EnvConnectURL is the environment variable -connect-url defaults to.
const EnvConnectURL = connect.EnvConnectURL

// config is what the healer runs with.
type config struct {
	// ConnectURLs are the Connect workers' REST URLs.
	ConnectURLs []string
	// Namespace is the connector-name prefix the healer looks after; an
	// empty one is every connector of the cluster.
	Namespace string
	// Interval is the pause between polls.
	Interval time.Duration
	// MaxRestarts restarts of one connector within Window make the healer
	// give up on it.
	MaxRestarts int
	Window      time.Duration
}

func (c config) validate() error {
	var errs []error
	if len(c.ConnectURLs) == 0 {
		errs = append(errs, fmt.Errorf("no Connect worker: set -connect-url or %s", EnvConnectURL))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval must be positive, got %s", c.Interval))
	}
	if c.MaxRestarts < 1 {
		errs = append(errs, fmt.Errorf("max restarts must be at least 1, got %d", c.MaxRestarts))
	}
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("window must be positive, got %s", c.Window))
	}
	return errors.Join(errs...)
}

// parseFlags turns the command line into a validated config; env replaces
// os.Getenv.
func parseFlags(args []string, env func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	var urls string
	fs := flag.NewFlagSet("healer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&urls, "connect-url", env(EnvConnectURL), "Connect workers' REST URLs, comma-separated (default $"+EnvConnectURL+")")
	fs.StringVar(&cfg.Namespace, "namespace", "", "connector-name prefix to look after (default every connector)")
	fs.DurationVar(&cfg.Interval, "interval", 10*time.Second, "pause between polls")
	fs.IntVar(&cfg.MaxRestarts, "max-restarts", 5, "restarts of one connector within -window before giving up")
	fs.DurationVar(&cfg.Window, "window", time.Hour, "window of -max-restarts")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.ConnectURLs = append(cfg.ConnectURLs, u)
		}
	}
	return cfg, cfg.validate()
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "healer:", err)
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "healer:", err)
		os.Exit(1)
	}
}

// run heals the connectors of cfg.Namespace until ctx ends, writing one
// line per event to out. It returns nil when ctx ends.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	client, err := connect.New(connect.WithURLs(cfg.ConnectURLs...))
	if err != nil {
		return fmt.Errorf("connect client: %w", err)
	}
	// The healer calls OnEvent from Run's goroutine; the lock keeps lines
	// whole should out be shared with other writers of this process.
	var mu sync.Mutex
	h, err := connect.NewHealer(client,
		connect.WithNamespace(cfg.Namespace),
		connect.WithInterval(cfg.Interval),
		connect.WithMaxRestarts(cfg.MaxRestarts, cfg.Window),
		connect.WithEvents(func(ev connect.HealEvent) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(out, formatEvent(ev))
		}))
	if err != nil {
		return fmt.Errorf("healer: %w", err)
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = "(all connectors)"
	}
	fmt.Fprintf(out, "healing %s on %s every %s, at most %d restarts per %s\n",
		ns, strings.Join(client.URLs(), ","), cfg.Interval, cfg.MaxRestarts, cfg.Window)
	if err := h.Run(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// formatEvent is one line of output: time, connector, what happened.
func formatEvent(ev connect.HealEvent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", ev.Time.UTC().Format(time.RFC3339), ev.Kind)
	if ev.Connector != "" {
		fmt.Fprintf(&b, " connector=%s", ev.Connector)
	}
	if len(ev.Tasks) > 0 {
		fmt.Fprintf(&b, " tasks=%v", ev.Tasks)
	}
	if ev.Attempt > 0 {
		fmt.Fprintf(&b, " attempt=%d", ev.Attempt)
	}
	if ev.Err != nil {
		fmt.Fprintf(&b, " error=%q", ev.Err.Error())
	}
	if ev.Trace != "" {
		// The first line of the worker's trace says what failed.
		first, _, _ := strings.Cut(ev.Trace, "\n")
		fmt.Fprintf(&b, " cause=%q", first)
	}
	return b.String()
}
