package materialize

import "github.com/streamkit/streamkit/internal/runloop"

// EventKind says what an Event reports.
type EventKind string

// The kinds of Event.
const (
	// Written: the files of Keys of Path were rewritten with Version's
	// content.
	Written EventKind = "written"
	// Restarted: Connector and its tasks were restarted because the
	// secrets at Paths changed.
	Restarted EventKind = "restarted"
	// Failed: reading Path, writing its files, or restarting Connector
	// failed with Err; Run tries again at the next poll.
	Failed EventKind = "failed"
)

// Event is something a Materializer did. It holds no secret.
type Event struct {
	Kind EventKind
	// Path is the Vault path of a write or failure; Paths the paths whose
	// change caused a restart.
	Path  string
	Paths []string
	// Keys are the keys whose files were written.
	Keys []string
	// Version is the KV v2 version written.
	Version int
	// Connector is the connector restarted, or whose restart failed.
	Connector string
	Err       error
}

// emit calls the WithEvents function, if any; a panic in it is logged.
func (m *Materializer) emit(e Event) {
	if m.events != nil {
		runloop.Call(m.log, "materialize events", func() { m.events(e) })
	}
}
