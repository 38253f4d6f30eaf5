package topics

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/streamkit/streamkit/internal/kafkaauth"
)

var (
	// ErrAuthentication is returned, as an *AuthError, when a broker
	// refuses the client's credentials (SASL authentication failed, a
	// client certificate refused) or the client refuses the broker's
	// certificate. It is the same value as schema.ErrAuthentication.
	ErrAuthentication = kafkaauth.ErrAuthentication
	// ErrCertificateRefused is returned, in an *AuthError, when a broker
	// ends the TLS handshake with an alert: it refused the client's
	// certificate (none, expired, or of an authority it does not trust).
	ErrCertificateRefused = kafkaauth.ErrCertificateRefused

	// ErrOutsideNamespace is returned by Plan for a desired topic or ACL
	// outside the plan's namespace.
	ErrOutsideNamespace = errors.New("outside namespace")
	// ErrRefused is returned by Apply for a plan holding a change Kafka
	// cannot make, such as fewer partitions.
	ErrRefused = errors.New("change refused")
	// ErrDangerousDelete is returned by Apply for a plan that deletes a
	// topic with recent writes or consumer groups, unless forced.
	ErrDangerousDelete = errors.New("dangerous delete")
	// ErrPolicy is returned by CheckPolicy when a spec breaks the policy;
	// the error is a *PolicyError.
	ErrPolicy = errors.New("policy violation")
)

// PolicyError lists every policy violation of a set of specs. It matches
// ErrPolicy.
type PolicyError struct {
	// Violations maps a topic name to what is wrong with it.
	Violations map[string][]string
}

func (e *PolicyError) Error() string {
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(e.Violations)) {
		parts = append(parts, t+": "+strings.Join(e.Violations[t], ", "))
	}
	return fmt.Sprintf("%s: %s", ErrPolicy, strings.Join(parts, "; "))
}

// Unwrap returns ErrPolicy.
func (e *PolicyError) Unwrap() error { return ErrPolicy }

// ErrStaleReport is found, per item, in the error of DeleteIdleTopics when
// the cluster changed since the housekeeping report in a way that makes
// the action unsafe, such as a write to a topic reported idle. The item is
// left alone.
var ErrStaleReport = errors.New("housekeeping report is stale")

// HousekeepingError lists the items a housekeeping action failed on. It
// unwraps to each item's error, so errors.Is finds a kerr error or
// ErrStaleReport in it.
type HousekeepingError struct {
	// Action is the action that failed, one of the Audit constants.
	Action string
	// Attempted is how many items the action was attempted on.
	Attempted int
	// Failed are the audit entries of the failed items.
	Failed []AuditEntry
}

func (e *HousekeepingError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = f.Target + ": " + f.Err.Error()
	}
	return fmt.Sprintf("%s: %d of %d failed: %s", e.Action, len(e.Failed), e.Attempted, strings.Join(parts, "; "))
}

// Unwrap returns each failed item's error.
func (e *HousekeepingError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// AuthError says a broker refused the client's credentials, or that the
// TLS handshake failed on a certificate; a Client built by NewFromOptions
// returns it at once. It matches ErrAuthentication and the cause with
// errors.Is and errors.As: kerr.SaslAuthenticationFailed for a wrong
// password, x509.UnknownAuthorityError or x509.CertificateInvalidError for
// a broker certificate the client does not trust, ErrCertificateRefused
// for a client certificate the broker refused (none, expired, of another
// authority). Its fields are Broker, the address of the broker that
// refused, and Err. It is the same type as schema.AuthError.
type AuthError = kafkaauth.Error
