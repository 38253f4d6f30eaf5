// Package validate evaluates a team's jsonnet manifests into the desired
// state streamkit applies, and reports what is wrong with it at the
// file:line:col the team wrote it.
//
//	res, err := validate.Evaluate(ctx, validate.Options{
//		Dir:     "teams/pricing",
//		ExtVars: map[string]string{"env": "prod", "team": "pricing"},
//	})
//	if err != nil {
//		return err // the files could not be read, or ctx ended
//	}
//	fmt.Print(res.Text()) // or res.GitHub() in CI, res.JSON() for tools
//	if !res.OK() {
//		os.Exit(1)
//	}
//
// Evaluate turns jsonnet syntax and runtime errors (JSONNET001,
// JSONNET002) and a manifest that does not decode into a Manifest
// (MANIFEST001 to MANIFEST005) into Findings; the rules over the decoded
// Manifest check it further, placing their findings with the Result's
// Locator. Manifests can import the bundled helpers with
// import 'streamkit.libsonnet' (see Library).
//
// The package does not talk to Kafka, Kafka Connect or the schema
// registry, and does not resolve config-provider placeholders such as
// ${vault:...}: it only reads files. A single file's evaluation cannot be
// cancelled: go-jsonnet offers no hook, so ctx is checked between files and
// Options.MaxStack bounds the recursion.
package validate
