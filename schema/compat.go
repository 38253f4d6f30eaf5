package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/internal/avrocodec"
)

// CompatibilityLevel is a subject's schema evolution rule, with the
// registry's meaning.
type CompatibilityLevel string

// The compatibility levels.
const (
	// None allows any change.
	None CompatibilityLevel = "NONE"
	// Backward: consumers of the new schema read data of the latest one.
	Backward CompatibilityLevel = "BACKWARD"
	// BackwardTransitive: consumers of the new schema read data of all
	// earlier ones.
	BackwardTransitive CompatibilityLevel = "BACKWARD_TRANSITIVE"
	// Forward: consumers of the latest schema read data of the new one.
	Forward CompatibilityLevel = "FORWARD"
	// ForwardTransitive: consumers of every earlier schema read data of the
	// new one.
	ForwardTransitive CompatibilityLevel = "FORWARD_TRANSITIVE"
	// Full is Backward and Forward.
	Full CompatibilityLevel = "FULL"
	// FullTransitive is BackwardTransitive and ForwardTransitive.
	FullTransitive CompatibilityLevel = "FULL_TRANSITIVE"
)

// CheckCompatibility checks offline, with no registry, whether next may
// follow previous (oldest first) under level. It returns nil when it may,
// and an *IncompatibleError listing every violation otherwise. This is what
// a team's CI runs on a changed .avsc before anything is registered.
func CheckCompatibility(level CompatibilityLevel, next *Schema, previous ...*Schema) error {
	var against []*Schema
	backward, forward := false, false
	switch level {
	case None:
		return nil
	case Backward, Forward, Full:
		if len(previous) > 0 {
			against = previous[len(previous)-1:]
		}
	case BackwardTransitive, ForwardTransitive, FullTransitive:
		against = previous
	default:
		return fmt.Errorf("check compatibility: unknown level %q", level)
	}
	switch level {
	case Backward, BackwardTransitive:
		backward = true
	case Forward, ForwardTransitive:
		forward = true
	default:
		backward, forward = true, true
	}
	var msgs []string
	for _, old := range against {
		if backward {
			if err := avrocodec.Compatible(next.parsed, old.parsed); err != nil {
				msgs = append(msgs, fmt.Sprintf("new schema cannot read data written with %s: %v", old.describe(), err))
			}
		}
		if forward {
			if err := avrocodec.Compatible(old.parsed, next.parsed); err != nil {
				msgs = append(msgs, fmt.Sprintf("%s cannot read data written with the new schema: %v", old.describe(), err))
			}
		}
	}
	if len(msgs) > 0 {
		return &IncompatibleError{Level: level, Messages: msgs}
	}
	return nil
}

func (s *Schema) describe() string {
	if name := s.FullName(); name != "" {
		return "schema " + name + " " + shortFingerprint(s)
	}
	return "schema " + shortFingerprint(s)
}

func shortFingerprint(s *Schema) string {
	fp := s.Fingerprint()
	return fmt.Sprintf("%x", fp[:4])
}

// CheckCompatibility asks the registry whether s may be registered as the
// next version of subject under the subject's configured level, without
// registering it. A subject that does not exist yet accepts any schema. It
// returns nil when s is compatible and an *IncompatibleError carrying the
// registry's messages otherwise.
func (r *Registry) CheckCompatibility(ctx context.Context, subject string, s *Schema) error {
	// Verbose: the registry says why, not only whether.
	res, err := r.cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, -1, sr.Schema{Schema: s.text, Type: sr.TypeAvro})
	if err != nil {
		rerr := registryErr(ctx, fmt.Sprintf("check compatibility of %q", subject), err)
		if isNotFound(rerr) {
			return nil
		}
		return rerr
	}
	if res.Is {
		return nil
	}
	level := CompatibilityLevel("")
	if levels := r.cl.Compatibility(ctx, subject); len(levels) == 1 && levels[0].Err == nil {
		level = CompatibilityLevel(strings.ToUpper(levels[0].Level.String()))
	}
	msgs := res.Messages
	if len(msgs) == 0 {
		// Some registries (Apicurio's ccompat API) answer without reasons:
		// find them with the offline check against the latest version.
		msgs = []string{"the registry gave no reason"}
		if latest, err := r.Latest(ctx, subject); err == nil {
			check := level
			if check == "" || check == None {
				check = Backward
			}
			var ie *IncompatibleError
			if errors.As(CheckCompatibility(check, s, latest.Schema), &ie) {
				msgs = append([]string{"the registry gave no reason; streamkit's own check says:"}, ie.Messages...)
			}
		}
	}
	return &IncompatibleError{Subject: subject, Level: level, Messages: msgs}
}
