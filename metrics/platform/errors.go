package platform

import (
	"errors"

	"github.com/streamkit/streamkit/internal/runloop"
)

var (
	// ErrRunning is returned by Collector.Run when another Run of the
	// same Collector has not returned yet. It is the same value as the
	// other packages' ErrRunning.
	ErrRunning = runloop.ErrRunning
	// ErrInvalidAlerter is returned by NewAlerter, wrapped with the
	// details, when a rule or an option is invalid: a rule without a name
	// or Eval, a negative For, two rules with one name, a nil logger,
	// callback or client, or an empty topic.
	ErrInvalidAlerter = errors.New("invalid alerter")
)
