package main

// The environment contract: every STREAMKIT_* variable the project knows,
// and the two of Vault's that a platform's description includes, in one
// table. What scripts/platform env and scripts/containers env print, the
// constants platformtest and internal/platformenv declare, and the
// scripts' label variable are generated from it (make generate); the
// constants the client packages, platformtest/containers and
// scripts/platformcheck declare by hand are checked against it, and so is
// every STREAMKIT_* name in the scripts, the Makefile, the README and the
// Go sources outside tests (envgen_test.go).
//
// Order matters: a script prints its variables, and a package declares its
// constants, in the order of this table.

// Variable is one environment variable of the contract.
type Variable struct {
	// Name is the variable's name.
	Name string
	// Doc completes a sentence whose subject is the variable (or a
	// constant that names it): "is ...", "makes ...".
	Doc string
	// Script is the script whose env command prints the variable
	// (platform or containers), or empty for one that no script prints.
	Script string
	// Value is the shell word that Script prints after NAME=: its
	// variables and functions are the script's own.
	Value string
	// Go are the Go constants whose value is Name.
	Go []Const
}

// Const is a Go constant.
type Const struct {
	// Pkg is the folder of the constant's package, from the module root.
	Pkg string
	// Name is the constant's identifier.
	Name string
	// Generated says whether envgen writes it, into Pkg/env.go; the rest
	// are declared by hand and checked.
	Generated bool
}

// Label is a name that the scripts and Go code share and that is no
// environment variable.
type Label struct {
	// Shell is the name of the variable that holds it in scripts/env.sh.
	Shell string
	// Value is the label itself.
	Value string
	// Doc completes a sentence whose subject is the label.
	Doc string
	// Go are the (hand-written, checked) constants whose value is Value.
	Go []Const
}

// The packages envgen writes an env.go into, with each file's doc.
var packages = []struct{ Pkg, Doc string }{
	{"platformtest", `Environment variables that point at a platform: scripts/platform env
prints them for the platform it started, and FromEnvironment reads them.
EnvRequirePlatform is make test's switch.`},
	{"internal/platformenv", `Environment variables every test that needs the platform reads.`},
}

// gen marks a constant envgen writes; dec one that is declared by hand.
func gen(pkg, name string) Const { return Const{Pkg: pkg, Name: name, Generated: true} }
func dec(pkg, name string) Const { return Const{Pkg: pkg, Name: name} }

var variables = []Variable{
	// What scripts/platform env prints: a platform's endpoints and its
	// throwaway dev credentials.
	{
		Name: "STREAMKIT_BROKERS", Script: "platform", Value: "$(kafka_bootstrap)",
		Doc: "is a comma-separated list of Kafka bootstrap brokers.",
		Go:  []Const{gen("platformtest", "EnvBrokers")},
	},
	{
		Name: "STREAMKIT_SCHEMA_REGISTRY_URL", Script: "platform", Value: "$(registry_url)",
		Doc: "is the base URL of the Confluent-compatible API.",
		Go:  []Const{gen("platformtest", "EnvSchemaRegistryURL"), dec("schema", "EnvSchemaRegistryURL")},
	},
	{
		Name: "STREAMKIT_CONNECT_URL", Script: "platform", Value: "$(connect_urls)",
		Doc: "is the base URL of each Kafka Connect worker's REST API, comma-separated.",
		Go:  []Const{gen("platformtest", "EnvConnectURL"), dec("connect", "EnvConnectURL")},
	},
	{
		Name: "STREAMKIT_CONNECT_SECRETS_DIR", Script: "platform", Value: "$SECRETS_DIR",
		Doc: "is the folder the worker's dir and file config providers may read; optional.",
		Go:  []Const{gen("platformtest", "EnvConnectSecretsDir")},
	},
	{
		Name: "VAULT_ADDR", Script: "platform", Value: "http://$HOST:$VAULT_PORT",
		Doc: "is the address of the Vault server.",
		Go:  []Const{gen("platformtest", "EnvVaultAddr"), dec("secrets", "EnvVaultAddr")},
	},
	{
		Name: "VAULT_TOKEN", Script: "platform", Value: "$VAULT_DEV_TOKEN",
		Doc: "is a Vault token for tests.",
		Go:  []Const{gen("platformtest", "EnvVaultToken"), dec("secrets", "EnvVaultToken")},
	},
	{
		Name: "STREAMKIT_VAULT_TLS_ADDR", Script: "platform", Value: "https://$HOST:$VAULT_TLS_PORT",
		Doc: "is the address of the same Vault server on a listener that speaks " +
			"TLS, with a certificate of STREAMKIT_TLS_CA_FILE's authority.",
		Go: []Const{gen("platformtest", "EnvVaultTLSAddr")},
	},
	{
		Name: "STREAMKIT_SCHEMA_REGISTRY_TLS_URL", Script: "platform", Value: "$(registry_tls_url)",
		Doc: "is the same registry's base URL behind a proxy that speaks TLS " +
			"(a certificate of STREAMKIT_TLS_CA_FILE's authority) and asks for " +
			"HTTP basic authentication.",
		Go: []Const{gen("platformtest", "EnvSchemaRegistryTLSURL")},
	},
	{
		Name: "STREAMKIT_SCHEMA_REGISTRY_USER", Script: "platform", Value: "$REGISTRY_USER",
		Doc: "is the user of STREAMKIT_SCHEMA_REGISTRY_TLS_URL's basic authentication.",
		Go:  []Const{gen("platformtest", "EnvSchemaRegistryUser")},
	},
	{
		Name: "STREAMKIT_SCHEMA_REGISTRY_PASSWORD", Script: "platform", Value: "$REGISTRY_PASSWORD",
		Doc: "is that user's password.",
		Go:  []Const{gen("platformtest", "EnvSchemaRegistryPassword")},
	},
	{
		Name: "STREAMKIT_CONNECT_TLS_URL", Script: "platform", Value: "$(connect_tls_url)",
		Doc: "is the REST URL of the secure cluster's Kafka Connect worker, which " +
			"speaks HTTPS (a certificate of STREAMKIT_TLS_CA_FILE's authority), " +
			"asks for HTTP basic authentication and reaches the secure cluster on " +
			"its SASL_SSL listener.",
		Go: []Const{gen("platformtest", "EnvConnectTLSURL")},
	},
	{
		Name: "STREAMKIT_CONNECT_USER", Script: "platform", Value: "$CONNECT_USER",
		Doc: "is the user of STREAMKIT_CONNECT_TLS_URL's basic authentication.",
		Go:  []Const{gen("platformtest", "EnvConnectUser")},
	},
	{
		Name: "STREAMKIT_CONNECT_PASSWORD", Script: "platform", Value: "$CONNECT_PASSWORD",
		Doc: "is that user's password.",
		Go:  []Const{gen("platformtest", "EnvConnectPassword")},
	},
	{
		Name: "STREAMKIT_SCHEMA_REGISTRY_AUTHZ_URL", Script: "platform", Value: "$(authz_url \"$REGISTRY_AUTHZ_PORT\")/apis/ccompat/v7",
		Doc: "is the same registry's base URL behind a proxy that speaks TLS and " +
			"authorizes by role: a client certificate of STREAMKIT_TLS_CA_FILE's " +
			"authority whose subject is CN=<principal>,OU=<role>,O=<namespace>.",
		Go: []Const{gen("platformtest", "EnvSchemaRegistryAuthzURL")},
	},
	{
		Name: "STREAMKIT_CONNECT_AUTHZ_URL", Script: "platform", Value: "$(authz_url \"$CONNECT_AUTHZ_PORT\")",
		Doc: "is the REST URL of STREAMKIT_CONNECT_TLS_URL's worker behind a proxy " +
			"that authorizes by role, as STREAMKIT_SCHEMA_REGISTRY_AUTHZ_URL's does.",
		Go: []Const{gen("platformtest", "EnvConnectAuthzURL")},
	},
	{
		Name: "STREAMKIT_CONNECT_TLS_SECRETS_DIR", Script: "platform", Value: "$TLS_SECRETS_DIR",
		Doc: "is the folder of STREAMKIT_CONNECT_TLS_URL's worker that its dir and " +
			"file config providers may read, as STREAMKIT_CONNECT_SECRETS_DIR is the " +
			"standard workers'.",
		Go: []Const{gen("platformtest", "EnvConnectTLSSecretsDir")},
	},
	{
		Name: "STREAMKIT_SASL_BROKERS", Script: "platform", Value: "$(kafka_sasl_bootstrap)",
		Doc: "is a comma-separated list of Kafka bootstrap brokers whose listeners " +
			"authenticate with SASL/SCRAM and authorize with ACLs.",
		Go: []Const{gen("platformtest", "EnvSASLBrokers")},
	},
	{
		Name: "STREAMKIT_KAFKA_ADMIN_USER", Script: "platform", Value: "$KAFKA_ADMIN_USER",
		Doc: "is a SCRAM user that is a Kafka super user.",
		Go:  []Const{gen("platformtest", "EnvKafkaAdminUser")},
	},
	{
		Name: "STREAMKIT_KAFKA_ADMIN_PASSWORD", Script: "platform", Value: "$KAFKA_ADMIN_PASSWORD",
		Doc: "is the password of STREAMKIT_KAFKA_ADMIN_USER.",
		Go:  []Const{gen("platformtest", "EnvKafkaAdminPassword"), dec("scripts/platformcheck", "envPassword")},
	},
	{
		Name: "STREAMKIT_SASL_SSL_BROKERS", Script: "platform", Value: "$(kafka_sasl_ssl_bootstrap)",
		Doc: "is a comma-separated list of Kafka bootstrap brokers whose listeners " +
			"speak TLS (a certificate of STREAMKIT_TLS_CA_FILE's authority), " +
			"authenticate with SASL/SCRAM and authorize with ACLs.",
		Go: []Const{gen("platformtest", "EnvSASLSSLBrokers")},
	},
	{
		Name: "STREAMKIT_MTLS_BROKERS", Script: "platform", Value: "$(kafka_mtls_bootstrap)",
		Doc: "is a comma-separated list of Kafka bootstrap brokers whose listeners " +
			"speak TLS and require a client certificate of STREAMKIT_TLS_CA_FILE's " +
			"authority, whose common name is the client's principal.",
		Go: []Const{gen("platformtest", "EnvMTLSBrokers")},
	},
	{
		Name: "STREAMKIT_SECURE_SASL_SSL_BROKERS", Script: "platform", Value: "$(secure_sasl_ssl_bootstrap)",
		Doc: "is the bootstrap broker of the secure cluster, a separate cluster " +
			"for restricted data with no plain-text listener, on its SASL_SSL " +
			"listener (STREAMKIT_KAFKA_ADMIN_USER's credentials work there too).",
		Go: []Const{gen("platformtest", "EnvSecureSASLSSLBrokers")},
	},
	{
		Name: "STREAMKIT_SECURE_MTLS_BROKERS", Script: "platform", Value: "$(secure_mtls_bootstrap)",
		Doc: "is the secure cluster's bootstrap broker on its SSL listener, which " +
			"requires a client certificate of STREAMKIT_TLS_CA_FILE's authority.",
		Go: []Const{gen("platformtest", "EnvSecureMTLSBrokers")},
	},
	{
		Name: "STREAMKIT_TLS_CA_FILE", Script: "platform", Value: "$TLS_DIR/ca.pem",
		Doc: "is the PEM file of the certificate authority that signed the " +
			"platform's TLS certificates.",
		Go: []Const{gen("platformtest", "EnvTLSCAFile")},
	},
	{
		Name: "STREAMKIT_TLS_CA_KEY_FILE", Script: "platform", Value: "$TLS_DIR/ca-key.pem",
		Doc: "is the PEM file of that authority's private key, for tests that " +
			"make certificates of their own (expired, of other principals).",
		Go: []Const{gen("platformtest", "EnvTLSCAKeyFile")},
	},
	{
		Name: "STREAMKIT_TLS_CERT_FILE", Script: "platform", Value: "$TLS_DIR/client-$TLS_ADMIN_CLIENT.pem",
		Doc: "is the PEM file of a client certificate of that authority whose " +
			"principal is a Kafka super user.",
		Go: []Const{gen("platformtest", "EnvTLSCertFile")},
	},
	{
		Name: "STREAMKIT_TLS_KEY_FILE", Script: "platform", Value: "$TLS_DIR/client-$TLS_ADMIN_CLIENT-key.pem",
		Doc: "is the PEM file of STREAMKIT_TLS_CERT_FILE's private key.",
		Go:  []Const{gen("platformtest", "EnvTLSKeyFile")},
	},
	{
		Name: "STREAMKIT_POSTGRES_HOST", Script: "platform", Value: "$HOST",
		Doc: "is the host of a PostgreSQL server with logical decoding " +
			"(wal_level=logical), as the Connect worker reaches it.",
		Go: []Const{gen("platformtest", "EnvPostgresHost")},
	},
	{
		Name: "STREAMKIT_POSTGRES_PORT", Script: "platform", Value: "$POSTGRES_PORT",
		Doc: "is the TCP port of STREAMKIT_POSTGRES_HOST.",
		Go:  []Const{gen("platformtest", "EnvPostgresPort")},
	},
	{
		Name: "STREAMKIT_POSTGRES_USER", Script: "platform", Value: "$POSTGRES_USER",
		Doc: "is a PostgreSQL superuser, allowed to replicate.",
		Go:  []Const{gen("platformtest", "EnvPostgresUser")},
	},
	{
		Name: "STREAMKIT_POSTGRES_PASSWORD", Script: "platform", Value: "$POSTGRES_PASSWORD",
		Doc: "is the password of STREAMKIT_POSTGRES_USER.",
		Go:  []Const{gen("platformtest", "EnvPostgresPassword")},
	},
	{
		Name: "STREAMKIT_POSTGRES_DB", Script: "platform", Value: "$POSTGRES_DB",
		Doc: "is a database that tests may create tables in.",
		Go:  []Const{gen("platformtest", "EnvPostgresDB")},
	},

	// Tests.
	{
		Name: "STREAMKIT_REQUIRE_PLATFORM",
		Doc: `makes a test whose platform is missing fail instead of skip when it is ` +
			`"1", "true" or "yes". make test sets it.`,
		Go: []Const{gen("platformtest", "EnvRequirePlatform"), gen("internal/platformenv", "RequirePlatform")},
	},
	{
		Name: "STREAMKIT_FAULTS",
		Doc:  `runs the fault suite (platformtest/faults) when it is "1"; make faults sets it.`,
		Go:   []Const{dec("platformtest/faults", "EnvFaults")},
	},

	// What scripts/containers env prints: the images it built, which
	// replace platformtest/containers' default images.
	{
		Name: "STREAMKIT_KAFKA_IMAGE", Script: "containers", Value: "$KAFKA_IMAGE",
		Doc: "is the image of Kafka, and of Connect unless STREAMKIT_CONNECT_IMAGE says otherwise.",
		Go:  []Const{dec("platformtest/containers", "EnvKafkaImage")},
	},
	{
		Name: "STREAMKIT_CONNECT_IMAGE",
		Doc:  "is the image of the Connect worker.",
		Go:   []Const{dec("platformtest/containers", "EnvConnectImage")},
	},
	{
		Name: "STREAMKIT_SCHEMA_REGISTRY_IMAGE", Script: "containers", Value: "$APICURIO_IMAGE",
		Doc: "is the image of the schema registry (Apicurio).",
		Go:  []Const{dec("platformtest/containers", "EnvSchemaRegistryImage")},
	},
	{
		Name: "STREAMKIT_VAULT_IMAGE", Script: "containers", Value: "$OPENBAO_IMAGE",
		Doc: "is the image of the Vault server (OpenBao).",
		Go:  []Const{dec("platformtest/containers", "EnvVaultImage")},
	},

	// What the scripts and the Makefile read: where things live, the
	// platform's size, ports and versions (scripts/lib.sh and
	// scripts/platform hold the defaults). A platform keeps the size and
	// ports it was started with until scripts/platform down.
	// STREAMKIT_KAFKA_ADMIN_PASSWORD, STREAMKIT_POSTGRES_PORT and
	// STREAMKIT_POSTGRES_PASSWORD, above, are read by scripts/platform up
	// too: the platform it starts has that password, port and password.
	{Name: "STREAMKIT_CACHE", Doc: "is the folder of everything downloaded, unpacked or built (default ~/.cache/streamkit)."},
	{Name: "STREAMKIT_STATE", Doc: "is the folder of a platform's data, configs, pids and logs (default $STREAMKIT_CACHE/state)."},
	{Name: "STREAMKIT_KAFKA_NODES", Doc: "is the number of Kafka nodes scripts/platform up starts (default 3)."},
	{Name: "STREAMKIT_CONNECT_WORKERS", Doc: "is the number of Connect workers, in one group, scripts/platform up starts (default 2)."},
	{Name: "STREAMKIT_KAFKA_PORT", Doc: "is the first Kafka node's client port (default 9092); node i's are 10*(i-1) above."},
	{Name: "STREAMKIT_CONNECT_PORT", Doc: "is the first Connect worker's REST port (default 8083); worker i's is 10*(i-1) above, the secure worker's 400 above and its authorizing proxy's 401."},
	{Name: "STREAMKIT_BROKERS_SECURE", Doc: "is, for the CLI, the bootstrap brokers of the team file's cluster named secure; any cluster but the default one has its STREAMKIT_BROKERS_<NAME>."},
	{Name: "STREAMKIT_CONNECT_URL_SECURE", Doc: "is, for the CLI, the Connect workers of the team file's cluster named secure; any cluster but the default one has its STREAMKIT_CONNECT_URL_<NAME>."},
	{Name: "STREAMKIT_VAULT_PKI_MOUNT", Doc: "is, for the CLI, the Vault PKI mount where principals apply gives each principal a role that issues its client certificates (CN=<principal>,OU=<role>,O=<namespace>); unset, principals get none."},
	{Name: "STREAMKIT_CONNECT_SECRETS_DIR_SECURE", Doc: "is, for the CLI, the secrets folder of the Connect workers of the team file's cluster named secure, where its connectors' ${vault:...} references are delivered; any cluster but the default one has its STREAMKIT_CONNECT_SECRETS_DIR_<NAME>."},
	{Name: "STREAMKIT_SECURE_KAFKA_PORT", Doc: "is the base port of the secure cluster's node (default 9392): its controller, SASL_SSL and SSL listeners are 1, 2 and 3 above."},
	{Name: "STREAMKIT_REGISTRY_PORT", Doc: "is the schema registry's port (default 8081); its TLS proxy's is 10 above, its authorizing proxy's 11."},
	{Name: "STREAMKIT_VAULT_PORT", Doc: "is the Vault server's port (default 8200); its TLS listener's is 10 above."},
	{Name: "STREAMKIT_VAULT_DEV_TOKEN", Doc: "is the Vault dev server's root token (default streamkit-dev-root)."},
	{Name: "STREAMKIT_POSTGRES_DIR", Doc: "is the folder of the PostgreSQL cluster (default: under STREAMKIT_STATE, or /var/tmp for root)."},
	{Name: "STREAMKIT_KAFKA_VERSION", Doc: "overrides the Apache Kafka version of scripts/lib.sh."},
	{Name: "STREAMKIT_APICURIO_VERSION", Doc: "overrides the Apicurio Registry version of scripts/lib.sh."},
	{Name: "STREAMKIT_OPENBAO_VERSION", Doc: "overrides the OpenBao version of scripts/lib.sh."},
	{Name: "STREAMKIT_DEBEZIUM_VERSION", Doc: "overrides the Debezium version of scripts/lib.sh."},
	{Name: "STREAMKIT_DEBEZIUM_JDBC_VERSION", Doc: "overrides the version of Debezium's JDBC sink connector of scripts/lib.sh."},
	{Name: "STREAMKIT_APICURIO_CONVERTER_VERSION", Doc: "overrides the version of Apicurio's Kafka Connect converters of scripts/lib.sh."},
}

var labels = []Label{
	{
		Shell: "PLATFORMTEST_LABEL", Value: "io.streamkit.platformtest",
		Doc: "is on every container and network platformtest/containers creates; " +
			"scripts/containers removes what a killed run left and lists leaks by it.",
		Go: []Const{dec("platformtest/containers", "Label")},
	},
}
