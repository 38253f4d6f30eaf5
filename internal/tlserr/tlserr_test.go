package tlserr

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
)

type alert string

func (a alert) Error() string { return string(a) }

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name              string
		err               error
		certificate, alrt bool
	}{
		{"unknown authority in a url.Error", &url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}}, true, false},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}, true, false},
		{"another host's", x509.HostnameError{Host: "x"}, true, false},
		{"refused client certificate", &net.OpError{Op: "remote error", Err: alert("tls: bad certificate")}, false, true},
		{"another remote error", &net.OpError{Op: "remote error", Err: alert("handshake")}, false, false},
		{"refused connection", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false, false},
		{"eof", fmt.Errorf("read: %w", io.EOF), false, false},
	} {
		if got := IsCertificate(tc.err); got != tc.certificate {
			t.Errorf("%s: IsCertificate = %t", tc.name, got)
		}
		if got := IsRemoteAlert(tc.err); got != tc.alrt {
			t.Errorf("%s: IsRemoteAlert = %t", tc.name, got)
		}
		if got := IsRefusal(tc.err); got != (tc.certificate || tc.alrt) {
			t.Errorf("%s: IsRefusal = %t", tc.name, got)
		}
	}
}
