// Package materialize delivers Vault secrets to Kafka Connect workers'
// secrets folder, so that connector configs hold only ${dir:...}
// placeholders and Connect never stores a secret:
//
//	m, err := materialize.New(vault, cc, "/etc/kafka/secrets")
//	deployed, err := m.TranslateSpecs(specs) // ${vault:secret/data/pricing/db:password} -> ${dir:/etc/kafka/secrets/secret_data_pricing_db:password}
//	_, err = m.Sync(ctx, specs)              // writes /etc/kafka/secrets/secret_data_pricing_db/password
//	plan, err := cc.Plan(ctx, deployed, connect.PlanOptions{Namespace: "pricing-"})
//	_, err = cc.Apply(ctx, plan, connect.ApplyOptions{})
//	err = m.Run(ctx, specs) // on rotation: rewrite the files, restart the connectors
//
// How the parts fit: Translate and TranslateSpecs (translate.go) turn
// each ${vault:<path>:<key>} reference into the ${dir:<folder>:<key>}
// placeholder of the file Sync writes, a pure function of the folder and
// the reference; Sync (sync.go) reads each referenced secret once with a
// secrets.Client and writes its keys atomically (files.go); Run (run.go)
// polls the secrets' KV v2 metadata, rewrites what changed and restarts
// the connectors that read it with a connect.Client. Sync and Run take
// the specs as written, with their ${vault:...} references; Plan and
// Apply take the translated ones.
//
// What it does not do: it never deletes a file (a file of a reference no
// connector uses any more stays until an operator removes it), it reads
// only KV v2 secrets (their versions tell Run when to rewrite), it does
// not configure the workers' DirectoryConfigProvider, and it does not
// keep the Vault client's token alive: run secrets.Client.Run beside it.
package materialize
