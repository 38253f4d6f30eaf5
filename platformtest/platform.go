// Package platformtest gives integration tests and a team's own tests a
// streamkit platform to run against, in one call, with ready-made clients.
//
// A platform is a set of endpoints: Kafka brokers, a Confluent-compatible
// schema registry, a Kafka Connect worker and a Vault server (and, from the
// environment, SASL/SCRAM listeners with an admin user and a PostgreSQL
// database for Debezium). Three packages make one, and each links only
// what its backend needs:
//
//   - platformtest (this package): the platform that runs already and that
//     the environment names (STREAMKIT_* and VAULT_* variables, as
//     scripts/platform env prints them). Start and StartT connect to it;
//     FromEnvironment and Require read it without connecting. It links
//     franz-go's kgo, kadm and sr, streamkit's schema, connect and secrets
//     for the ready-made clients, and the standard library's testing.
//   - platformtest/containers: Kafka, a registry, Connect and Vault in
//     Docker containers, started with testcontainers-go; it adds
//     testcontainers-go and the Docker (moby) client.
//   - platformtest/embedded: franz-go's kfake broker and srfake registry in
//     this process, for fast tests; it adds kfake and srfake.
//
// All three return the same *Platform, so one test body runs on any of
// them:
//
//	func TestIntegrationOrders(t *testing.T) {
//		p := platformtest.StartT(t, platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry))
//		// or containers.StartT(t, ...), or embedded.StartT(t)
//		prod, err := schema.NewProducer[Order](ctx, p.Clients.Registry, topic,
//			schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
//		...
//	}
//
// StartT skips the test when the platform is unavailable (no variables, no
// Docker Engine), or fails it when STREAMKIT_REQUIRE_PLATFORM=1, so CI
// cannot pass by skipping.
//
// This package starts nothing: it never falls back to containers or to
// fakes when the environment names no platform. Programs do not import it
// or its backends: they link the testing package, and the containers
// backend Docker's client; examples/ read the same variables themselves.
// No runtime package of streamkit imports platformtest.
package platformtest

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/internal/platformenv"
)

// Component is one part of the platform a test needs.
type Component int

// The platform's components.
const (
	Kafka Component = iota + 1
	SchemaRegistry
	Connect
	Vault
	// KafkaSASL is Kafka's SASL/SCRAM listeners with a super user's
	// credentials.
	KafkaSASL
	// Postgres is a PostgreSQL database with logical decoding and a
	// superuser's credentials, for Debezium's PostgreSQL connector.
	Postgres
	// KafkaTLS is Kafka's TLS listeners (SASL_SSL, and SSL with client
	// certificates), the certificate authority that signed them with its
	// key, and a super user's client certificate. Only scripts/platform
	// has them; Require asks for them only when named.
	KafkaTLS
	// HTTPS is the registry, Kafka Connect and Vault on endpoints that
	// speak TLS (certificates of KafkaTLS's authority) and ask for
	// credentials: the registry and Connect HTTP basic authentication,
	// Vault its token; and the registry and Connect behind proxies that
	// authorize by the role in a client certificate's subject. Only
	// scripts/platform has them; Require asks for them only when named.
	HTTPS
	// SecureKafka is the secure cluster: a separate Kafka cluster for
	// restricted data whose only client listeners are SASL_SSL and SSL
	// with client certificates (KafkaTLS's authority and credentials).
	// Only scripts/platform has it; Require asks for it only when named.
	SecureKafka
)

// allComponents is what Require asks for when it is given none.
var allComponents = []Component{Kafka, SchemaRegistry, Connect, Vault, KafkaSASL, Postgres}

// knownComponents are every component.
var knownComponents = append(slices.Clip(allComponents), KafkaTLS, HTTPS, SecureKafka)

// String returns the component's name.
func (c Component) String() string {
	switch c {
	case Kafka:
		return "kafka"
	case SchemaRegistry:
		return "schema registry"
	case Connect:
		return "kafka connect"
	case Vault:
		return "vault"
	case KafkaSASL:
		return "kafka sasl"
	case Postgres:
		return "postgres"
	case KafkaTLS:
		return "kafka tls"
	case HTTPS:
		return "https endpoints"
	case SecureKafka:
		return "secure kafka cluster"
	default:
		return fmt.Sprintf("component(%d)", int(c))
	}
}

// Platform holds the endpoints of a platform. A zero field means that
// component is not available.
type Platform struct {
	// Brokers are Kafka bootstrap addresses, host:port.
	Brokers []string
	// SchemaRegistryURL is the base URL of the Confluent-compatible API,
	// e.g. http://127.0.0.1:8081/apis/ccompat/v7 for Apicurio.
	SchemaRegistryURL string
	// ConnectURL is the base URL of a Kafka Connect worker: the first of
	// ConnectURLs.
	ConnectURL string
	// ConnectURLs are the base URLs of every worker of the Connect
	// cluster (EnvConnectURL is a comma-separated list); a client given
	// them all fails over from one to the next.
	ConnectURLs []string
	// ConnectSecretsDir is a folder on the worker's machine that its dir
	// and file config providers are allowed to read.
	ConnectSecretsDir string
	// VaultAddr is the Vault server's address.
	VaultAddr string
	// VaultToken is a token for VaultAddr. Platform's String, GoString
	// and JSON encoding never show it.
	VaultToken string
	// SASLBrokers are Kafka bootstrap addresses, host:port, of listeners
	// that authenticate with SASL/SCRAM (SCRAM-SHA-512; scripts/platform
	// also enables SCRAM-SHA-256) and authorize with ACLs.
	SASLBrokers []string
	// KafkaAdminUser is a SCRAM user of SASLBrokers that is a super user.
	KafkaAdminUser string
	// KafkaAdminPassword is KafkaAdminUser's password. Platform's String,
	// GoString and JSON encoding never show it.
	KafkaAdminPassword string
	// SASLSSLBrokers are Kafka bootstrap addresses of listeners that speak
	// TLS and authenticate with SASL/SCRAM (KafkaAdminUser's credentials
	// work there too).
	SASLSSLBrokers []string
	// MTLSBrokers are Kafka bootstrap addresses of listeners that speak
	// TLS and require a client certificate of TLSCAFile's authority; the
	// certificate's common name is the principal.
	MTLSBrokers []string
	// TLSCAFile is the PEM file of the authority that signed the
	// platform's TLS certificates, and TLSCAKeyFile its key's, for tests
	// that make certificates of their own.
	TLSCAFile, TLSCAKeyFile string
	// TLSCertFile and TLSKeyFile are a client certificate of that
	// authority, and its key, whose principal is a Kafka super user.
	TLSCertFile, TLSKeyFile string
	// SchemaRegistryTLSURL is the registry's base URL behind a proxy that
	// speaks TLS and asks for basic authentication as SchemaRegistryUser.
	SchemaRegistryTLSURL, SchemaRegistryUser string
	// SchemaRegistryPassword is SchemaRegistryUser's password. Platform's
	// String, GoString and JSON encoding never show it.
	SchemaRegistryPassword string
	// ConnectTLSURL is the REST URL of the secure cluster's Connect
	// worker, which speaks HTTPS and asks for basic authentication as
	// ConnectUser; it reaches the secure cluster on SecureSASLSSLBrokers.
	ConnectTLSURL, ConnectUser string
	// ConnectPassword is ConnectUser's password. Platform's String,
	// GoString and JSON encoding never show it.
	ConnectPassword string
	// ConnectTLSSecretsDir is ConnectTLSURL's worker's folder for its
	// dir and file config providers.
	ConnectTLSSecretsDir string
	// SchemaRegistryAuthzURL and ConnectAuthzURL are the registry and
	// ConnectTLSURL's worker behind a proxy that authorizes by role: a
	// client certificate of TLSCAFile's authority (such as a Vault PKI
	// mount of MountPKI) whose subject is CN=<principal>,OU=<role>,
	// O=<namespace> may do what the role allows in the namespace.
	SchemaRegistryAuthzURL, ConnectAuthzURL string
	// VaultTLSAddr is VaultAddr's server on a listener that speaks TLS;
	// VaultToken works there too.
	VaultTLSAddr string
	// SecureSASLSSLBrokers and SecureMTLSBrokers are the secure cluster's
	// bootstrap brokers on its SASL_SSL and SSL listeners.
	SecureSASLSSLBrokers, SecureMTLSBrokers []string
	// PostgresHost and PostgresPort locate a PostgreSQL server with
	// logical decoding, as seen from this process and from the Connect
	// worker (scripts/platform runs both on 127.0.0.1).
	PostgresHost string
	// PostgresPort is PostgresHost's TCP port, e.g. "5433", as a Debezium
	// connector's database.port takes it.
	PostgresPort string
	// PostgresUser is a superuser of PostgresHost, allowed to replicate.
	PostgresUser string
	// PostgresPassword is PostgresUser's password. Platform's String,
	// GoString and JSON encoding never show it.
	PostgresPassword string
	// PostgresDB is a database that tests may create tables in.
	PostgresDB string
	// ConnectSharedDir is a folder that this process and the Connect worker
	// see at the same path, for the files of FileStream connectors. The
	// containers backend mounts it into the worker; it is empty for other
	// platforms, where scripts/platform's worker runs on this machine and
	// sees every path.
	ConnectSharedDir string
	// ContainerNetwork is the Docker network of a containers platform, for
	// containers of the test's own that talk to it; empty otherwise.
	ContainerNetwork string
	// ContainerBrokers are Kafka's bootstrap addresses as containers on
	// ContainerNetwork reach it (kafka:9092).
	ContainerBrokers []string
	// ContainerSchemaRegistryURL is the registry's API as containers on
	// ContainerNetwork reach it.
	ContainerSchemaRegistryURL string
	// ContainerVaultAddr is Vault's address as containers on
	// ContainerNetwork reach it.
	ContainerVaultAddr string
	// ContainerLabels are the labels of the platform's containers and
	// network (containers.Label with the platform's id, and those of
	// containers.WithLabels): put them on a test's own containers too, so
	// that whatever looks for leftovers by label finds those as well.
	ContainerLabels map[string]string

	// Backend is the backend that made the platform: this package's
	// Start, containers.Start or embedded.Start. It is zero for
	// FromEnvironment and Require.
	Backend Backend
	// Clients are ready-made clients for the platform. Every backend's
	// Start sets them; FromEnvironment and Require leave them nil.
	Clients *Clients `json:"-"`

	closer *closer
}

// FromEnvironment reads the platform from EnvBrokers, EnvSchemaRegistryURL,
// EnvConnectURL, EnvConnectSecretsDir, EnvVaultAddr, EnvVaultToken,
// EnvSASLBrokers, EnvKafkaAdminUser, EnvKafkaAdminPassword,
// EnvSASLSSLBrokers, EnvMTLSBrokers, EnvTLSCAFile, EnvTLSCAKeyFile,
// EnvTLSCertFile, EnvTLSKeyFile, EnvSchemaRegistryTLSURL,
// EnvSchemaRegistryUser, EnvSchemaRegistryPassword, EnvConnectTLSURL,
// EnvConnectUser, EnvConnectPassword, EnvVaultTLSAddr,
// EnvSecureSASLSSLBrokers, EnvSecureMTLSBrokers, EnvPostgresHost, EnvPostgresPort,
// EnvPostgresUser, EnvPostgresPassword and EnvPostgresDB. It reads nothing
// else.
func FromEnvironment() Platform {
	return fromLookup(os.Getenv)
}

func fromLookup(getenv func(string) string) Platform {
	var workers []string
	for _, u := range splitList(getenv(EnvConnectURL)) {
		workers = append(workers, strings.TrimRight(u, "/"))
	}
	first := ""
	if len(workers) > 0 {
		first = workers[0]
	}
	return Platform{
		Brokers:                splitList(getenv(EnvBrokers)),
		SchemaRegistryURL:      strings.TrimRight(strings.TrimSpace(getenv(EnvSchemaRegistryURL)), "/"),
		ConnectURL:             first,
		ConnectURLs:            workers,
		ConnectSecretsDir:      strings.TrimSpace(getenv(EnvConnectSecretsDir)),
		VaultAddr:              strings.TrimRight(strings.TrimSpace(getenv(EnvVaultAddr)), "/"),
		VaultToken:             strings.TrimSpace(getenv(EnvVaultToken)),
		SASLBrokers:            splitList(getenv(EnvSASLBrokers)),
		KafkaAdminUser:         strings.TrimSpace(getenv(EnvKafkaAdminUser)),
		KafkaAdminPassword:     strings.TrimSpace(getenv(EnvKafkaAdminPassword)),
		SASLSSLBrokers:         splitList(getenv(EnvSASLSSLBrokers)),
		MTLSBrokers:            splitList(getenv(EnvMTLSBrokers)),
		TLSCAFile:              strings.TrimSpace(getenv(EnvTLSCAFile)),
		TLSCAKeyFile:           strings.TrimSpace(getenv(EnvTLSCAKeyFile)),
		TLSCertFile:            strings.TrimSpace(getenv(EnvTLSCertFile)),
		TLSKeyFile:             strings.TrimSpace(getenv(EnvTLSKeyFile)),
		SchemaRegistryTLSURL:   strings.TrimRight(strings.TrimSpace(getenv(EnvSchemaRegistryTLSURL)), "/"),
		SchemaRegistryUser:     strings.TrimSpace(getenv(EnvSchemaRegistryUser)),
		SchemaRegistryPassword: strings.TrimSpace(getenv(EnvSchemaRegistryPassword)),
		ConnectTLSURL:          strings.TrimRight(strings.TrimSpace(getenv(EnvConnectTLSURL)), "/"),
		ConnectUser:            strings.TrimSpace(getenv(EnvConnectUser)),
		ConnectPassword:        strings.TrimSpace(getenv(EnvConnectPassword)),
		ConnectTLSSecretsDir:   strings.TrimSpace(getenv(EnvConnectTLSSecretsDir)),
		SchemaRegistryAuthzURL: strings.TrimRight(strings.TrimSpace(getenv(EnvSchemaRegistryAuthzURL)), "/"),
		ConnectAuthzURL:        strings.TrimRight(strings.TrimSpace(getenv(EnvConnectAuthzURL)), "/"),
		VaultTLSAddr:           strings.TrimRight(strings.TrimSpace(getenv(EnvVaultTLSAddr)), "/"),
		SecureSASLSSLBrokers:   splitList(getenv(EnvSecureSASLSSLBrokers)),
		SecureMTLSBrokers:      splitList(getenv(EnvSecureMTLSBrokers)),
		PostgresHost:           strings.TrimSpace(getenv(EnvPostgresHost)),
		PostgresPort:           strings.TrimSpace(getenv(EnvPostgresPort)),
		PostgresUser:           strings.TrimSpace(getenv(EnvPostgresUser)),
		PostgresPassword:       strings.TrimSpace(getenv(EnvPostgresPassword)),
		PostgresDB:             strings.TrimSpace(getenv(EnvPostgresDB)),
	}
}

// splitList splits a comma-separated list and drops empty entries; it
// returns nil for a list without any.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Missing returns, for each of the given components that p lacks, the
// environment variables that would provide it. It returns nil when p has
// them all.
func (p Platform) Missing(components ...Component) []string {
	var missing []string
	for _, c := range components {
		switch c {
		case Kafka:
			if len(p.Brokers) == 0 {
				missing = append(missing, EnvBrokers)
			}
		case SchemaRegistry:
			if p.SchemaRegistryURL == "" {
				missing = append(missing, EnvSchemaRegistryURL)
			}
		case Connect:
			if p.ConnectURL == "" {
				missing = append(missing, EnvConnectURL)
			}
		case Vault:
			if p.VaultAddr == "" {
				missing = append(missing, EnvVaultAddr)
			}
			if p.VaultToken == "" {
				missing = append(missing, EnvVaultToken)
			}
		case KafkaSASL:
			if len(p.SASLBrokers) == 0 {
				missing = append(missing, EnvSASLBrokers)
			}
			if p.KafkaAdminUser == "" {
				missing = append(missing, EnvKafkaAdminUser)
			}
			if p.KafkaAdminPassword == "" {
				missing = append(missing, EnvKafkaAdminPassword)
			}
		case KafkaTLS:
			for _, f := range []struct {
				ok  bool
				env string
			}{
				{len(p.SASLSSLBrokers) > 0, EnvSASLSSLBrokers},
				{len(p.MTLSBrokers) > 0, EnvMTLSBrokers},
				{p.TLSCAFile != "", EnvTLSCAFile},
				{p.TLSCAKeyFile != "", EnvTLSCAKeyFile},
				{p.TLSCertFile != "", EnvTLSCertFile},
				{p.TLSKeyFile != "", EnvTLSKeyFile},
			} {
				if !f.ok {
					missing = append(missing, f.env)
				}
			}
		case HTTPS:
			for _, f := range []struct{ value, env string }{
				{p.SchemaRegistryTLSURL, EnvSchemaRegistryTLSURL},
				{p.SchemaRegistryUser, EnvSchemaRegistryUser},
				{p.SchemaRegistryPassword, EnvSchemaRegistryPassword},
				{p.ConnectTLSURL, EnvConnectTLSURL},
				{p.ConnectUser, EnvConnectUser},
				{p.ConnectPassword, EnvConnectPassword},
				{p.ConnectTLSSecretsDir, EnvConnectTLSSecretsDir},
				{p.SchemaRegistryAuthzURL, EnvSchemaRegistryAuthzURL},
				{p.ConnectAuthzURL, EnvConnectAuthzURL},
				{p.VaultTLSAddr, EnvVaultTLSAddr},
				{p.TLSCAFile, EnvTLSCAFile},
			} {
				if f.value == "" {
					missing = append(missing, f.env)
				}
			}
		case SecureKafka:
			for _, f := range []struct {
				ok  bool
				env string
			}{
				{len(p.SecureSASLSSLBrokers) > 0, EnvSecureSASLSSLBrokers},
				{len(p.SecureMTLSBrokers) > 0, EnvSecureMTLSBrokers},
				{p.TLSCAFile != "", EnvTLSCAFile},
				{p.TLSCertFile != "", EnvTLSCertFile},
				{p.TLSKeyFile != "", EnvTLSKeyFile},
			} {
				if !f.ok {
					missing = append(missing, f.env)
				}
			}
		case Postgres:
			for _, f := range []struct{ value, env string }{
				{p.PostgresHost, EnvPostgresHost},
				{p.PostgresPort, EnvPostgresPort},
				{p.PostgresUser, EnvPostgresUser},
				{p.PostgresPassword, EnvPostgresPassword},
				{p.PostgresDB, EnvPostgresDB},
			} {
				if f.value == "" {
					missing = append(missing, f.env)
				}
			}
		}
	}
	return missing
}

// connectURLs are ConnectURLs, or ConnectURL alone for a Platform built
// by hand with that field only.
func (p Platform) connectURLs() []string {
	if len(p.ConnectURLs) > 0 || p.ConnectURL == "" {
		return p.ConnectURLs
	}
	return []string{p.ConnectURL}
}

// String describes p without its Vault token and its Kafka admin,
// PostgreSQL, registry and Connect passwords.
func (p Platform) String() string {
	return fmt.Sprintf("brokers=%s registry=%s connect=%s vault=%s vault_token=%s sasl_brokers=%s kafka_admin_user=%s kafka_admin_password=%s"+
		" sasl_ssl_brokers=%s mtls_brokers=%s tls_ca=%s tls_cert=%s"+
		" registry_tls=%s registry_user=%s registry_password=%s connect_tls=%s connect_user=%s connect_password=%s"+
		" connect_tls_secrets=%s registry_authz=%s connect_authz=%s vault_tls=%s"+
		" secure_sasl_ssl_brokers=%s secure_mtls_brokers=%s"+
		" postgres=%s postgres_user=%s postgres_password=%s postgres_db=%s",
		strings.Join(p.Brokers, ","), p.SchemaRegistryURL, strings.Join(p.connectURLs(), ","), p.VaultAddr, redact(p.VaultToken),
		strings.Join(p.SASLBrokers, ","), p.KafkaAdminUser, redact(p.KafkaAdminPassword),
		strings.Join(p.SASLSSLBrokers, ","), strings.Join(p.MTLSBrokers, ","), p.TLSCAFile, p.TLSCertFile,
		p.SchemaRegistryTLSURL, p.SchemaRegistryUser, redact(p.SchemaRegistryPassword),
		p.ConnectTLSURL, p.ConnectUser, redact(p.ConnectPassword), p.ConnectTLSSecretsDir, p.SchemaRegistryAuthzURL, p.ConnectAuthzURL, p.VaultTLSAddr,
		strings.Join(p.SecureSASLSSLBrokers, ","), strings.Join(p.SecureMTLSBrokers, ","),
		postgresAddr(p.PostgresHost, p.PostgresPort), p.PostgresUser, redact(p.PostgresPassword), p.PostgresDB)
}

// postgresAddr joins a host and port for String, or is empty when both are.
func postgresAddr(host, port string) string {
	if host == "" && port == "" {
		return ""
	}
	return net.JoinHostPort(host, port)
}

// redact hides a secret but shows whether there is one.
func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is String, so %#v does not print the secrets either.
func (p Platform) GoString() string { return "platformtest.Platform{" + p.String() + "}" }

// MarshalJSON encodes p with its Vault token, Kafka admin password and
// PostgreSQL password redacted, so that slog's JSON handler does not show
// them either.
func (p Platform) MarshalJSON() ([]byte, error) {
	type platform Platform // Platform without its methods
	r := platform(p)
	r.VaultToken, r.KafkaAdminPassword, r.PostgresPassword = redact(p.VaultToken), redact(p.KafkaAdminPassword), redact(p.PostgresPassword)
	r.SchemaRegistryPassword, r.ConnectPassword = redact(p.SchemaRegistryPassword), redact(p.ConnectPassword)
	return json.Marshal(r)
}

// Required reports whether EnvRequirePlatform asks for a missing platform
// to fail tests rather than skip them.
func Required() bool { return platformenv.Required() }

// SkipOrFail skips tb with msg, or fails it when Required reports true:
// for a test whose platform lacks something Require cannot check, such as
// a third broker.
func SkipOrFail(tb testing.TB, msg string) {
	tb.Helper()
	platformenv.Missing(tb, msg)
}

// Require returns the platform from the environment when it has every
// given component (all of them, KafkaSASL and Postgres included, when none
// are given).
// Otherwise it skips the test, or fails it when Required reports true.
func Require(tb testing.TB, components ...Component) Platform {
	tb.Helper()
	return require(tb, FromEnvironment(), components)
}

func require(tb testing.TB, p Platform, components []Component) Platform {
	tb.Helper()
	if len(components) == 0 {
		components = allComponents
	}
	missing := p.Missing(components...)
	if len(missing) == 0 {
		return p
	}
	msg := fmt.Sprintf("platform not configured: %s unset (start one with scripts/platform up; eval \"$(scripts/platform env)\")",
		strings.Join(missing, ", "))
	platformenv.Missing(tb, msg)
	return p
}
