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
//
// Beyond Avro's schema resolution, which ignores logical types, it refuses
// at every level but None a decimal whose precision or scale changes: Avro
// stores a decimal's unscaled integer and leaves its scale to the schema,
// so the change would silently make every stored value read as another
// number. Decimals are followed into nested records, arrays, maps and
// unions (["null", decimal]), bytes and fixed alike.
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
		msgs = append(msgs, decimalChanges(next, old)...)
	}
	if len(msgs) > 0 {
		return &IncompatibleError{Level: level, Messages: msgs}
	}
	return nil
}

// decimalChanges says, one message each, which decimals of next change
// their precision or scale from old; none when no decimal does.
func decimalChanges(next, old *Schema) []string {
	var msgs []string
	for _, d := range avrocodec.DecimalChanges(old.parsed, next.parsed) {
		what := "the decimal"
		if d.Path != "" {
			what = "field " + d.Path
		}
		msgs = append(msgs, fmt.Sprintf("%s: decimal precision %d, scale %d in %s becomes precision %d, scale %d in the new schema; "+
			"a decimal's precision and scale may not change, or every stored value silently reads as another number",
			what, d.Old.Precision, d.Old.Scale, old.describe(), d.New.Precision, d.New.Scale))
	}
	return msgs
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
// registering it. A subject that does not exist yet accepts any schema,
// and so does a subject whose latest version is s already (up to
// formatting): registering it adds no version. It returns nil when s is
// compatible and an *IncompatibleError carrying the registry's messages
// otherwise.
//
// It reads the latest version first: one request for a schema that is
// already there, which is what most checks of a repository are. A new
// schema costs two more, the registry's check and the subject's level.
// A registry does not look at logical types, so when it accepts s,
// CheckCompatibility also refuses, as the offline CheckCompatibility does,
// a decimal whose precision or scale changes from the latest version
// (from every version at a transitive level, one more request; not at
// None).
func (r *Registry) CheckCompatibility(ctx context.Context, subject string, s *Schema) error {
	latest, err := r.Latest(ctx, subject)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return err
	case sameSchema(latest.Schema, s):
		return nil
	}
	// Verbose: the registry says why, not only whether.
	res, err := r.cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, -1, sr.Schema{Schema: s.text, Type: sr.TypeAvro})
	if err != nil {
		rerr := registryErr(ctx, fmt.Sprintf("check compatibility of %q", subject), err)
		if isNotFound(rerr) {
			return nil
		}
		return rerr
	}
	level := CompatibilityLevel("")
	if levels := r.cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subject); len(levels) == 1 && levels[0].Err == nil {
		level = CompatibilityLevel(strings.ToUpper(levels[0].Level.String()))
	}
	if res.Is {
		return r.checkDecimals(ctx, subject, s, level, latest.Schema)
	}
	msgs := res.Messages
	if len(msgs) == 0 {
		// Some registries (Apicurio's ccompat API) answer without reasons:
		// find them with the offline check against the latest version.
		msgs = []string{"the registry gave no reason"}
		check := level
		if check == "" || check == None {
			check = Backward
		}
		var ie *IncompatibleError
		if errors.As(CheckCompatibility(check, s, latest.Schema), &ie) {
			msgs = append([]string{"the registry gave no reason; streamkit's own check says:"}, ie.Messages...)
		}
	}
	return &IncompatibleError{Subject: subject, Level: level, Messages: msgs}
}

// checkDecimals refuses s as the next version of subject when a decimal of
// it changes precision or scale from the versions level compares it with:
// latest, or every one at a transitive level. An unknown level ("") is
// the registry's default, BACKWARD.
func (r *Registry) checkDecimals(ctx context.Context, subject string, s *Schema, level CompatibilityLevel, latest *Schema) error {
	if level == "" {
		level = Backward
	}
	var previous []*Schema
	switch level {
	case None:
		return nil
	case BackwardTransitive, ForwardTransitive, FullTransitive:
		versions, err := r.cl.Schemas(ctx, subject)
		if err != nil {
			rerr := registryErr(ctx, fmt.Sprintf("get the versions of %q", subject), err)
			if isNotFound(rerr) {
				return nil
			}
			return rerr
		}
		for _, v := range versions {
			if v.Type != sr.TypeAvro {
				continue
			}
			p, err := Parse(v.Schema.Schema)
			if err != nil {
				return fmt.Errorf("version %d of %q: %w", v.Version, subject, err)
			}
			previous = append(previous, p)
		}
	default:
		previous = []*Schema{latest}
	}
	var msgs []string
	for _, p := range previous {
		msgs = append(msgs, decimalChanges(s, p)...)
	}
	if len(msgs) > 0 {
		return &IncompatibleError{Subject: subject, Level: level, Messages: msgs}
	}
	return nil
}
