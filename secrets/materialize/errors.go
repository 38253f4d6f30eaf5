package materialize

import "github.com/streamkit/streamkit/internal/runloop"

// ErrRunning is returned by Run when another Run of the same Materializer
// has not returned yet. It is the value every streamkit Run returns for
// this (secrets.ErrRunning among them), so errors.Is matches it across
// packages.
var ErrRunning = runloop.ErrRunning
