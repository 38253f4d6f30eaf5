package connect

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/streamkit/streamkit/internal/redact"
)

// A connector config holds credentials: database.password,
// sasl.jaas.config, basic.auth.user.info and the like. The types that
// carry one print it with every fmt verb and through slog with those
// values redacted, unless they are config-provider placeholders, as a
// Plan prints its changes.
//
// JSON is another matter. ConnectorInfo, Task, Connector, Validation and
// ConfigCheck are the documents of the Connect REST API: their JSON
// encoding is what a worker sends, and a program that stands in for a
// worker (a fake in a test, a proxy) encodes them, so it is left whole;
// only their slog form is redacted. A Spec is streamkit's desired state,
// which requests never encode (they send Config itself): its JSON
// encoding, for reports and for manifests exported from Go, is redacted.

// Format prints s with its config's credentials redacted, for every verb.
func (s Spec) Format(f fmt.State, verb rune) {
	// A type of the same name and fields without the methods: %#v still
	// says connect.Spec, printing it does not come back here, and the
	// conversion stops compiling when Spec gains a field.
	type Spec struct {
		Name    string
		Config  map[string]string
		State   string
		Cluster string
	}
	r := Spec(s)
	r.Config = redact.Config(s.Config)
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), r)
}

// MarshalJSON encodes s with its config's credentials redacted. Encode
// Config itself for a config that is to be used.
func (s Spec) MarshalJSON() ([]byte, error) {
	type spec Spec // Spec's fields and tags without its methods
	r := spec(s)
	r.Config = redact.Config(s.Config)
	return json.Marshal(r)
}

// Format prints i with its config's credentials redacted, for every verb.
func (i ConnectorInfo) Format(f fmt.State, verb rune) {
	type ConnectorInfo struct { // as in Spec.Format
		Name   string
		Config map[string]string
		Tasks  []TaskID
		Type   string
	}
	r := ConnectorInfo(i)
	r.Config = redact.Config(i.Config)
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), r)
}

// LogValue makes slog print i with its config's credentials redacted.
func (i ConnectorInfo) LogValue() slog.Value {
	type connectorInfo ConnectorInfo // without LogValue, which slog would call again
	r := connectorInfo(i)
	r.Config = redact.Config(i.Config)
	return slog.AnyValue(r)
}

// LogValue makes slog print c with its config's credentials redacted.
func (c Connector) LogValue() slog.Value {
	type connector Connector
	r := connector(c)
	r.Info.Config = redact.Config(c.Info.Config)
	return slog.AnyValue(r)
}

// Format prints t with its config's credentials redacted, for every verb.
func (t Task) Format(f fmt.State, verb rune) {
	type Task struct { // as in Spec.Format
		ID     TaskID
		Config map[string]string
	}
	r := Task(t)
	r.Config = redact.Config(t.Config)
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), r)
}

// LogValue makes slog print t with its config's credentials redacted.
func (t Task) LogValue() slog.Value {
	type task Task
	r := task(t)
	r.Config = redact.Config(t.Config)
	return slog.AnyValue(r)
}

// LogValue makes slog print v with the values of credentials redacted.
// fmt prints them as addresses already: they are pointers.
func (v Validation) LogValue() slog.Value {
	type validation Validation
	r := validation(v)
	r.Configs = make([]ConfigCheck, len(v.Configs))
	for i, c := range v.Configs {
		r.Configs[i] = c.redacted()
	}
	return slog.AnyValue(r)
}

// LogValue makes slog print c with its value redacted when it is a
// credential. fmt prints it as an address already: it is a pointer.
func (c ConfigCheck) LogValue() slog.Value {
	type configCheck ConfigCheck
	return slog.AnyValue(configCheck(c.redacted()))
}

// redacted returns a copy of c whose value and default value are redacted
// when its key is a credential's.
func (c ConfigCheck) redacted() ConfigCheck {
	if c.Value.Value != nil {
		c.Value.Value = ptr(redact.Value(c.Value.Name, *c.Value.Value))
	}
	if c.Definition.DefaultValue != nil {
		c.Definition.DefaultValue = ptr(redact.Value(c.Definition.Name, *c.Definition.DefaultValue))
	}
	return c
}

// Format prints what c exports, for every verb: its unexported desired
// Spec is a pointer, which fmt prints in full, unredacted, with a verb
// such as %s.
func (c Change) Format(f fmt.State, verb rune) {
	type Change struct {
		Action             Action
		Name               string
		Keys               []KeyChange
		FromState, ToState string
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), Change{c.Action, c.Name, c.Keys, c.FromState, c.ToState})
}

var (
	_ fmt.Formatter  = Spec{}
	_ json.Marshaler = Spec{}
	_ fmt.Formatter  = ConnectorInfo{}
	_ slog.LogValuer = ConnectorInfo{}
	_ slog.LogValuer = Connector{}
	_ fmt.Formatter  = Task{}
	_ slog.LogValuer = Task{}
	_ slog.LogValuer = Validation{}
	_ slog.LogValuer = ConfigCheck{}
	_ fmt.Formatter  = Change{}
)

// Format prints the healer as its client and namespace, for every verb:
// its state changes under Run while fmt would read it.
func (h *Healer) Format(f fmt.State, _ rune) {
	if h == nil {
		_, _ = io.WriteString(f, "connect.Healer(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "connect.Healer{client: %v, namespace: %q}", h.c, h.cfg.namespace)
}

var _ fmt.Formatter = (*Healer)(nil)
