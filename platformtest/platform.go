// Package platformtest gives integration tests, examples and a team's own
// tests a streamkit platform to run against.
//
// A platform is a set of endpoints: Kafka brokers, a Confluent-compatible
// schema registry, a Kafka Connect worker and a Vault server. It comes from
// one of two places:
//
//   - the environment, for the real platform that scripts/platform starts
//     (or any other): FromEnvironment reads the variables, and Require
//     skips a test when they are unset, or fails it when
//     STREAMKIT_REQUIRE_PLATFORM=1, so CI cannot pass by skipping;
//   - the process itself: StartEmbedded runs franz-go's kfake broker and
//     srfake registry in memory, for unit tests and the examples' default.
//
// A typical integration test:
//
//	func TestIntegrationOrders(t *testing.T) {
//		p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry)
//		cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
//		...
//	}
//
// The embedded platform is a fake: kfake has no replication and srfake
// answers every compatibility check with "compatible". It never stands in
// for the real platform in an integration test. No runtime package of
// streamkit imports platformtest.
package platformtest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Environment variables that point at a platform. scripts/platform env
// prints them for the platform it started.
const (
	// EnvBrokers is a comma-separated list of Kafka bootstrap brokers.
	EnvBrokers = "STREAMKIT_BROKERS"
	// EnvSchemaRegistryURL is the base URL of the Confluent-compatible API.
	EnvSchemaRegistryURL = "STREAMKIT_SCHEMA_REGISTRY_URL"
	// EnvConnectURL is the base URL of a Kafka Connect worker's REST API.
	EnvConnectURL = "STREAMKIT_CONNECT_URL"
	// EnvConnectSecretsDir is the folder the worker's dir and file config
	// providers may read; optional.
	EnvConnectSecretsDir = "STREAMKIT_CONNECT_SECRETS_DIR"
	// EnvVaultAddr is the address of the Vault server.
	EnvVaultAddr = "VAULT_ADDR"
	// EnvVaultToken is a Vault token for tests.
	EnvVaultToken = "VAULT_TOKEN"
	// EnvRequirePlatform, when "1" or "true", makes Require fail a test
	// whose platform is missing instead of skipping it. make test sets it.
	EnvRequirePlatform = "STREAMKIT_REQUIRE_PLATFORM"
)

// Component is one part of the platform a test needs.
type Component int

// The platform's components.
const (
	Kafka Component = iota + 1
	SchemaRegistry
	Connect
	Vault
)

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
	// ConnectURL is the base URL of a Kafka Connect worker.
	ConnectURL string
	// ConnectSecretsDir is a folder on the worker's machine that its dir
	// and file config providers are allowed to read.
	ConnectSecretsDir string
	// VaultAddr is the Vault server's address.
	VaultAddr string
	// VaultToken is a token for VaultAddr. Platform's String and GoString
	// never print it.
	VaultToken string
}

// FromEnvironment reads the platform from EnvBrokers, EnvSchemaRegistryURL,
// EnvConnectURL, EnvConnectSecretsDir, EnvVaultAddr and EnvVaultToken. It
// reads nothing else.
func FromEnvironment() Platform {
	return fromLookup(os.Getenv)
}

func fromLookup(getenv func(string) string) Platform {
	var brokers []string
	for _, b := range strings.Split(getenv(EnvBrokers), ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	return Platform{
		Brokers:           brokers,
		SchemaRegistryURL: strings.TrimRight(strings.TrimSpace(getenv(EnvSchemaRegistryURL)), "/"),
		ConnectURL:        strings.TrimRight(strings.TrimSpace(getenv(EnvConnectURL)), "/"),
		ConnectSecretsDir: strings.TrimSpace(getenv(EnvConnectSecretsDir)),
		VaultAddr:         strings.TrimRight(strings.TrimSpace(getenv(EnvVaultAddr)), "/"),
		VaultToken:        strings.TrimSpace(getenv(EnvVaultToken)),
	}
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
		}
	}
	return missing
}

// String describes p without its Vault token.
func (p Platform) String() string {
	token := ""
	if p.VaultToken != "" {
		token = "[redacted]"
	}
	return fmt.Sprintf("brokers=%s registry=%s connect=%s vault=%s vault_token=%s",
		strings.Join(p.Brokers, ","), p.SchemaRegistryURL, p.ConnectURL, p.VaultAddr, token)
}

// GoString is String, so %#v does not print the token either.
func (p Platform) GoString() string { return "platformtest.Platform{" + p.String() + "}" }

// Required reports whether EnvRequirePlatform asks for a missing platform
// to fail tests rather than skip them.
func Required() bool {
	return isTrue(os.Getenv(EnvRequirePlatform))
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// Require returns the platform from the environment when it has every
// given component (all four when none are given). Otherwise it skips the
// test, or fails it when Required reports true.
func Require(tb testing.TB, components ...Component) Platform {
	tb.Helper()
	return require(tb, FromEnvironment(), Required(), components)
}

func require(tb testing.TB, p Platform, required bool, components []Component) Platform {
	tb.Helper()
	if len(components) == 0 {
		components = []Component{Kafka, SchemaRegistry, Connect, Vault}
	}
	missing := p.Missing(components...)
	if len(missing) == 0 {
		return p
	}
	msg := fmt.Sprintf("platform not configured: %s unset (start one with scripts/platform up; eval \"$(scripts/platform env)\")",
		strings.Join(missing, ", "))
	if required {
		tb.Fatalf("%s; %s=1 makes this a failure", msg, EnvRequirePlatform)
		return p
	}
	tb.Skip(msg)
	return p
}
