package validate

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

func TestDataPolicyCheck(t *testing.T) {
	good := corpusDataPolicy()
	if err := good.Check(); err != nil {
		t.Fatalf("the corpus policy: %v", err)
	}
	if err := (DataPolicy{}).Check(); err != nil {
		t.Errorf("the zero policy: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*DataPolicy)
		want string
	}{
		{"unknown default", func(p *DataPolicy) { p.DefaultCluster = "other" }, `default cluster "other"`},
		{"restricted without TLS", func(p *DataPolicy) {
			p.Clusters["standard"] = ClusterPolicy{Levels: []string{"public", "internal", "confidential", "restricted"}}
		}, "not TLS-only"},
		{"unknown level on a cluster", func(p *DataPolicy) { p.Clusters["secure"] = ClusterPolicy{Levels: []string{"secret"}, TLS: true} }, `level "secret"`},
		{"a level no cluster holds", func(p *DataPolicy) { p.Clusters["secure"] = ClusterPolicy{Levels: []string{"confidential"}, TLS: true} }, `no cluster may hold level "restricted"`},
		{"a level twice", func(p *DataPolicy) { p.Levels = append(p.Levels, "public") }, "given twice"},
		{"an unknown restricted level", func(p *DataPolicy) { p.Restricted = []string{"top-secret"} }, `restricted: level "top-secret"`},
	} {
		p := corpusDataPolicy()
		tc.edit(&p)
		if err := p.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestDataPolicyRouting(t *testing.T) {
	p := corpusDataPolicy()
	cards := topics.Spec{Name: "pricing.cards.v1", Classification: "restricted"}
	prices := topics.Spec{Name: "pricing.prices.v1", Classification: "internal"}
	orders := topics.Spec{Name: "pricing.orders.v1", Classification: "confidential"}
	m := &Manifest{Topics: []topics.Spec{cards, prices, orders}}
	for _, tc := range []struct {
		spec topics.Spec
		want string
	}{
		{cards, "secure"},
		{prices, "standard"},
		{orders, "standard"}, // both may: the default wins
		{topics.Spec{Name: "x", Classification: "confidential", Cluster: "secure"}, "secure"},
		{topics.Spec{Name: "unclassified"}, "standard"},
	} {
		if got, err := p.TopicCluster(tc.spec); err != nil || got != tc.want {
			t.Errorf("TopicCluster(%s) = %q, %v; want %q", tc.spec.Name, got, err, tc.want)
		}
	}
	if _, err := p.TopicCluster(topics.Spec{Name: "x", Cluster: "nowhere"}); !errors.Is(err, ErrNoCluster) {
		t.Errorf("an unknown cluster: %v", err)
	}
	if got, err := (DataPolicy{}).TopicCluster(cards); err != nil || got != "" {
		t.Errorf("no clusters: %q, %v", got, err)
	}
	sink := connect.Spec{Name: "pricing-cards-sink", Config: map[string]string{
		"connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "topics.regex": `pricing\.cards\..*`}}
	source := connect.Spec{Name: "pricing-file", Config: map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "topic": "pricing.prices.v1"}}
	other := connect.Spec{Name: "pricing-other", Config: map[string]string{"connector.class": "x.Y", "topics": "elsewhere"}}
	for _, tc := range []struct {
		spec connect.Spec
		want string
	}{{sink, "secure"}, {source, "standard"}, {other, "standard"}} {
		if got, err := p.ConnectorCluster(tc.spec, m); err != nil || got != tc.want {
			t.Errorf("ConnectorCluster(%s) = %q, %v; want %q", tc.spec.Name, got, err, tc.want)
		}
	}
}

func TestPlainTextEndpoint(t *testing.T) {
	for v, plain := range map[string]bool{
		"jdbc:postgresql://db/cards":                               true,
		"jdbc:postgresql://db/cards?sslmode=verify-full":           false,
		"jdbc:postgresql://db/cards?user=a&sslmode=disable":        true,
		"jdbc:mysql://db/cards?sslMode=VERIFY_IDENTITY":            false,
		"jdbc:mysql://db/cards":                                    true,
		"jdbc:sqlserver://db:1433;databaseName=cards;encrypt=true": false,
		"jdbc:sqlserver://db:1433;databaseName=cards":              true,
		"http://sink.internal/cards":                               true,
		"https://sink.internal/cards":                              false,
		"${vault:secret/data/pricing/db:url}":                      false,
		"pricing.cards.v1":                                         false,
	} {
		if got := plainTextEndpoint("connection.url", v) != ""; got != plain {
			t.Errorf("%s: plain text %t, want %t", v, got, plain)
		}
	}
	if plainTextEndpoint("database.sslmode", "disable") == "" || plainTextEndpoint("database.sslmode", "verify-full") != "" {
		t.Error("database.sslmode")
	}
}
