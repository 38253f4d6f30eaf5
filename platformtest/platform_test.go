package platformtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestFromLookup(t *testing.T) {
	env := map[string]string{
		EnvBrokers:            " 127.0.0.1:9092, 127.0.0.1:9102 ,",
		EnvSchemaRegistryURL:  "http://127.0.0.1:8081/apis/ccompat/v7/",
		EnvConnectURL:         "http://127.0.0.1:8083/, http://127.0.0.1:8093",
		EnvVaultAddr:          "http://127.0.0.1:8200",
		EnvVaultToken:         "s.secret-token",
		EnvSASLBrokers:        "127.0.0.1:9094 ,,127.0.0.1:9104",
		EnvKafkaAdminUser:     " admin ",
		EnvKafkaAdminPassword: "scram-secret\n",
		EnvPostgresHost:       " 127.0.0.1",
		EnvPostgresPort:       "5433 ",
		EnvPostgresUser:       "postgres",
		EnvPostgresPassword:   "pg-secret\n",
		EnvPostgresDB:         "inventory",
	}
	p := fromLookup(func(k string) string { return env[k] })
	want := Platform{
		Brokers:            []string{"127.0.0.1:9092", "127.0.0.1:9102"},
		SchemaRegistryURL:  "http://127.0.0.1:8081/apis/ccompat/v7",
		ConnectURL:         "http://127.0.0.1:8083",
		ConnectURLs:        []string{"http://127.0.0.1:8083", "http://127.0.0.1:8093"},
		VaultAddr:          "http://127.0.0.1:8200",
		VaultToken:         "s.secret-token",
		SASLBrokers:        []string{"127.0.0.1:9094", "127.0.0.1:9104"},
		KafkaAdminUser:     "admin",
		KafkaAdminPassword: "scram-secret",
		PostgresHost:       "127.0.0.1",
		PostgresPort:       "5433",
		PostgresUser:       "postgres",
		PostgresPassword:   "pg-secret",
		PostgresDB:         "inventory",
	}
	if !reflect.DeepEqual(p, want) {
		// %#v redacts the secrets, so say whether they are the ones wanted.
		t.Fatalf("got %#v (vault token as wanted: %v, kafka admin password as wanted: %v, postgres password as wanted: %v), want %#v",
			p, p.VaultToken == want.VaultToken, p.KafkaAdminPassword == want.KafkaAdminPassword,
			p.PostgresPassword == want.PostgresPassword, want)
	}
	if got := p.Missing(Kafka, SchemaRegistry, Connect, Vault, KafkaSASL, Postgres); got != nil {
		t.Fatalf("Missing: got %v, want nil", got)
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		name       string
		p          Platform
		components []Component
		want       []string
	}{
		{"empty kafka", Platform{}, []Component{Kafka}, []string{EnvBrokers}},
		{"empty all", Platform{}, []Component{Kafka, SchemaRegistry, Connect, Vault, KafkaSASL, Postgres},
			[]string{EnvBrokers, EnvSchemaRegistryURL, EnvConnectURL, EnvVaultAddr, EnvVaultToken,
				EnvSASLBrokers, EnvKafkaAdminUser, EnvKafkaAdminPassword,
				EnvPostgresHost, EnvPostgresPort, EnvPostgresUser, EnvPostgresPassword, EnvPostgresDB}},
		{"empty postgres", Platform{}, []Component{Postgres},
			[]string{EnvPostgresHost, EnvPostgresPort, EnvPostgresUser, EnvPostgresPassword, EnvPostgresDB}},
		{"postgres without password", Platform{PostgresHost: "127.0.0.1", PostgresPort: "5433", PostgresUser: "postgres", PostgresDB: "inventory"},
			[]Component{Postgres}, []string{EnvPostgresPassword}},
		{"vault without token", Platform{VaultAddr: "http://x"}, []Component{Vault}, []string{EnvVaultToken}},
		{"empty kafka sasl", Platform{}, []Component{KafkaSASL},
			[]string{EnvSASLBrokers, EnvKafkaAdminUser, EnvKafkaAdminPassword}},
		{"kafka sasl without password", Platform{SASLBrokers: []string{"b:3"}, KafkaAdminUser: "admin"},
			[]Component{KafkaSASL}, []string{EnvKafkaAdminPassword}},
		{"plaintext brokers are not sasl brokers", Platform{Brokers: []string{"b:1"}, KafkaAdminUser: "admin", KafkaAdminPassword: "pw"},
			[]Component{Kafka, KafkaSASL}, []string{EnvSASLBrokers}},
		{"kafka present, registry asked", Platform{Brokers: []string{"b:1"}}, []Component{Kafka, SchemaRegistry},
			[]string{EnvSchemaRegistryURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Missing(tt.components...); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlatformStringRedactsSecrets(t *testing.T) {
	tests := []struct {
		name, secret string
		p            Platform
	}{
		{"vault token", "hvs.very-secret",
			Platform{Brokers: []string{"b:1"}, VaultAddr: "http://v", VaultToken: "hvs.very-secret"}},
		{"kafka admin password", "scram-very-secret",
			Platform{SASLBrokers: []string{"b:3"}, KafkaAdminUser: "admin", KafkaAdminPassword: "scram-very-secret"}},
		{"postgres password", "pg-very-secret",
			Platform{PostgresHost: "127.0.0.1", PostgresPort: "5433", PostgresUser: "postgres", PostgresPassword: "pg-very-secret"}},
		{"all", "very-secret",
			Platform{VaultToken: "hvs.very-secret", KafkaAdminUser: "admin", KafkaAdminPassword: "scram-very-secret",
				PostgresUser: "postgres", PostgresPassword: "pg-very-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, err := json.Marshal(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{tt.p.String(), fmt.Sprintf("%v", tt.p), fmt.Sprintf("%+v", tt.p), fmt.Sprintf("%#v", tt.p), fmt.Sprint(&tt.p), string(js)} {
				if strings.Contains(s, tt.secret) {
					t.Fatalf("secret printed: %s", s)
				}
				if !strings.Contains(s, "[redacted]") {
					t.Fatalf("no redaction marker in %s", s)
				}
			}
		})
	}
	if s := (Platform{KafkaAdminUser: "admin"}).String(); strings.Contains(s, "[redacted]") || !strings.Contains(s, "kafka_admin_user=admin") {
		t.Fatalf("without secrets: got %s, want the user and no redaction marker", s)
	}
	if js, _ := json.Marshal(Platform{KafkaAdminUser: "admin"}); !strings.Contains(string(js), `"VaultToken":"","SASLBrokers":null,"KafkaAdminUser":"admin","KafkaAdminPassword":""`) {
		t.Fatalf("JSON without secrets: got %s, want the user and empty secrets", js)
	}
	pg := Platform{PostgresHost: "127.0.0.1", PostgresPort: "5433", PostgresUser: "postgres", PostgresDB: "inventory"}
	if s, want := pg.String(), "postgres=127.0.0.1:5433 postgres_user=postgres postgres_password= postgres_db=inventory"; !strings.HasSuffix(s, want) {
		t.Fatalf("postgres without password: got %s, want it to end with %s", s, want)
	}
}

func TestRequire(t *testing.T) {
	full := Platform{Brokers: []string{"b:1"}, SchemaRegistryURL: "r", ConnectURL: "c", VaultAddr: "v", VaultToken: "t",
		SASLBrokers: []string{"b:3"}, KafkaAdminUser: "admin", KafkaAdminPassword: "pw",
		PostgresHost: "h", PostgresPort: "5433", PostgresUser: "postgres", PostgresPassword: "pg", PostgresDB: "inventory"}
	withoutSASL := full
	withoutSASL.SASLBrokers, withoutSASL.KafkaAdminUser, withoutSASL.KafkaAdminPassword = nil, "", ""
	withoutPostgres := full
	withoutPostgres.PostgresHost, withoutPostgres.PostgresPort, withoutPostgres.PostgresUser = "", "", ""
	withoutPostgres.PostgresPassword, withoutPostgres.PostgresDB = "", ""
	tests := []struct {
		name                  string
		p                     Platform
		required              bool
		components            []Component
		wantSkip, wantFail    bool
		wantMessageContaining string
	}{
		{"present", full, true, nil, false, false, ""},
		{"missing skips", Platform{}, false, []Component{Kafka}, true, false, EnvBrokers},
		{"missing fails when required", Platform{}, true, []Component{Kafka}, false, true, EnvRequirePlatform},
		{"no components means all", Platform{Brokers: []string{"b:1"}}, true, nil, false, true, EnvVaultToken},
		{"only what is asked", Platform{Brokers: []string{"b:1"}}, true, []Component{Kafka}, false, false, ""},
		{"no components includes kafka sasl", withoutSASL, true, nil, false, true, EnvKafkaAdminPassword},
		{"kafka sasl missing skips", withoutSASL, false, []Component{KafkaSASL}, true, false, EnvSASLBrokers},
		{"four without kafka sasl", withoutSASL, true, []Component{Kafka, SchemaRegistry, Connect, Vault}, false, false, ""},
		{"no components includes postgres", withoutPostgres, true, nil, false, true, EnvPostgresPassword},
		{"postgres missing skips", withoutPostgres, false, []Component{Kafka, Connect, Postgres}, true, false, EnvPostgresHost},
		{"five without postgres", withoutPostgres, true, []Component{Kafka, SchemaRegistry, Connect, Vault, KafkaSASL}, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvRequirePlatform, map[bool]string{true: "1", false: ""}[tt.required])
			rec := &recordingTB{TB: t}
			require(rec, tt.p, tt.components)
			if rec.skipped != tt.wantSkip || rec.failed != tt.wantFail {
				t.Fatalf("skipped=%v failed=%v, want skipped=%v failed=%v (%s)", rec.skipped, rec.failed, tt.wantSkip, tt.wantFail, rec.msg)
			}
			if !strings.Contains(rec.msg, tt.wantMessageContaining) {
				t.Fatalf("message %q does not mention %q", rec.msg, tt.wantMessageContaining)
			}
		})
	}
}

func TestUniqueName(t *testing.T) {
	if a, b := UniqueName("orders"), UniqueName("orders"); a == b || !strings.HasPrefix(a, "orders-") {
		t.Fatalf("got %q and %q, want two different orders-… names", a, b)
	}
}
