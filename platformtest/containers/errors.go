package containers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/streamkit/streamkit/platformtest"
)

// Error is a container that did not start or get ready. Logs holds the
// last lines it wrote, with the Vault dev server's root token redacted.
type Error struct {
	Component platformtest.Component
	Image     string
	Err       error
	Logs      string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("platformtest: %v container (%s): %v", e.Component, e.Image, e.Err)
	if e.Logs != "" {
		msg += "\nlast lines of its log:\n" + e.Logs
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// hideInLogs redacts secret in the log lines an *Error quotes: a Vault dev
// server prints its root token as it starts. Call it before err is
// wrapped, since a wrapping error's text is made when it is.
func hideInLogs(err error, secret string) error {
	var ce *Error
	if secret != "" && errors.As(err, &ce) {
		ce.Logs = strings.ReplaceAll(ce.Logs, secret, "[redacted]")
	}
	return err
}
