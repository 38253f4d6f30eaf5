package schema

import "fmt"

// Part says whether a serde encodes record keys or record values; each has
// its own subject.
type Part int

// The parts of a record.
const (
	Value Part = iota
	Key
)

func (p Part) String() string {
	if p == Key {
		return "key"
	}
	return "value"
}

// SubjectStrategy names the subject a schema is registered under when it
// is used for part of the records of topic. A caller-supplied strategy must
// be safe for concurrent use and fast; it is called once per topic and
// schema, not per record.
type SubjectStrategy func(topic string, part Part, s *Schema) (string, error)

// TopicName is the default strategy: "<topic>-key" or "<topic>-value". A
// topic holds one type of record.
func TopicName(topic string, part Part, _ *Schema) (string, error) {
	return topic + "-" + part.String(), nil
}

// RecordName names the subject after the record's full name, so one record
// type evolves under one subject across every topic that carries it.
func RecordName(_ string, _ Part, s *Schema) (string, error) {
	name := s.FullName()
	if name == "" {
		return "", fmt.Errorf("record name strategy: schema has no name: %w", ErrInvalidSchema)
	}
	return name, nil
}

// TopicRecordName is "<topic>-<record full name>": a topic may carry several
// record types, each evolving on its own.
func TopicRecordName(topic string, part Part, s *Schema) (string, error) {
	name, err := RecordName(topic, part, s)
	if err != nil {
		return "", err
	}
	return topic + "-" + name, nil
}
