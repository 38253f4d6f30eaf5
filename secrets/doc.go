// Package secrets brings credentials from HashiCorp Vault (or OpenBao) to
// connectors and Go services without handing them to people or storing
// them in configs.
//
//	vc, err := secrets.New(ctx, secrets.WithAddress("https://vault:8200"),
//		secrets.WithAuth(secrets.AppRoleAuth(roleID, secrets.SecretIDFromFile("/run/secret-id"), "")))
//	go vc.Run(ctx) // renew the token, log in again when it expires
//	creds := vc.Credentials("secret/data/pricing/kafka", "username", "password", time.Minute, time.Hour)
//	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.SASL(creds.SCRAMSHA512()))
//
// How the parts fit: Client logs in (token, AppRole, Kubernetes), keeps its
// token alive in Run, and reads KV v2, KV v1 and dynamic secrets as Value,
// a type that prints as [redacted] everywhere. References use Kafka's
// config-provider grammar, ${vault:<path>:<key>}: Resolve fills them in a
// client-side config held in memory; Credentials turns a secret into SASL
// mechanisms and registry basic auth that read the current value for each
// new connection; Preflight checks in CI that every reference of a set of
// connector configs exists and is readable; CertificateSource keeps a
// client certificate from Vault's PKI engine current and hands each new
// TLS connection the one of the moment. A TLS handshake refused on a
// certificate is ErrCertificate, never ErrUnavailable.
//
// What it does not do: it does not write or rotate secrets in Vault, it
// never logs a secret value, and it does not deliver secrets to Kafka
// Connect: package secrets/materialize does, on top of this one and the
// connect client, so a service that wants only credentials builds neither
// (this package imports no other streamkit package).
package secrets
