package platform

import (
	"fmt"
	"io"
)

// Format prints the collector as its interval, for every verb: its fields
// hold live clients and snapshots that change under Run while fmt would
// read them.
func (c *Collector) Format(f fmt.State, _ rune) {
	if c == nil {
		_, _ = io.WriteString(f, "platform.Collector(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "platform.Collector{interval: %s, connect: %t}", c.cfg.interval, c.cfg.connect != nil)
}

// Format prints the alerter as its rules' names, for every verb: its
// state changes under Evaluate while fmt would read it.
func (a *Alerter) Format(f fmt.State, _ rune) {
	if a == nil {
		_, _ = io.WriteString(f, "platform.Alerter(nil)")
		return
	}
	names := make([]string, len(a.rules))
	for i, r := range a.rules {
		names[i] = r.Name
	}
	_, _ = fmt.Fprintf(f, "platform.Alerter{rules: %v}", names)
}

var (
	_ fmt.Formatter = (*Collector)(nil)
	_ fmt.Formatter = (*Alerter)(nil)
)
