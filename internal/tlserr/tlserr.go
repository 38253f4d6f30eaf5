// Package tlserr tells the errors of a failed TLS handshake apart from
// those of an endpoint that cannot be reached: retrying the first cannot
// help, so streamkit's clients report them as refusals, not outages.
package tlserr

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
)

// IsCertificate reports whether a TLS handshake failed on verifying the
// peer's certificate: an unknown authority, an expired certificate,
// another host's.
func IsCertificate(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
		he  x509.HostnameError
		cve *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &he) || errors.As(err, &cve)
}

// IsRemoteAlert reports whether the peer ended the TLS handshake with an
// alert, as a server does when it refuses the client's certificate.
// crypto/tls reports it as a *net.OpError whose Op is "remote error"
// around an alert of its own, unexported type (tls.AlertError is QUIC's
// only).
func IsRemoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && op.Err != nil && strings.HasPrefix(op.Err.Error(), "tls: ")
}

// IsRefusal reports whether err is either: a handshake that failed on a
// certificate, on one side or the other.
func IsRefusal(err error) bool { return IsCertificate(err) || IsRemoteAlert(err) }
