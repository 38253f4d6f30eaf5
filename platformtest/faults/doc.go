// Package faults is streamkit's fault suite: tests that kill, stop and
// restart the real platform's components (the registry, the Connect
// worker, Vault, a Kafka broker) while streamkit's clients are using them,
// and count that nothing acknowledged is lost, nothing valid is
// dead-lettered or skipped, and no committed offset passes a record that
// was not handled.
//
// It has no API. Its tests take the platform from the environment
// (scripts/platform up; eval "$(scripts/platform env)") and drive faults
// through scripts/platform's stop, kill, start, pause and resume. Because
// they take components away from every other test, they run only when
// STREAMKIT_FAULTS=1, in a step of their own after the other tests: make
// faults, which make test runs.
package faults
