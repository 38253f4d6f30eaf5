package validate

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

// DataPolicy is what a platform allows of classified data: the levels a
// topic may be classified at, which of them are restricted, and the Kafka
// clusters of the team with the levels each may hold. The seed's platform
// kept health and card data on a separate, secure cluster; a DataPolicy
// says so in a form the DATA rules check and the CLI routes by. A zero
// DataPolicy checks nothing.
type DataPolicy struct {
	// Levels are the classifications a topic may have, lowest first:
	// e.g. public, internal, confidential, restricted. Empty: topics are
	// not classified, and no DATA rule applies.
	Levels []string
	// Restricted are the levels the rules on restricted data apply to;
	// empty means the last of Levels.
	Restricted []string
	// Clusters are the team's Kafka clusters by name, e.g. "standard" and
	// "secure". Empty: every topic is on the one cluster the CLI is given,
	// and the rules on where data lives do not apply.
	Clusters map[string]ClusterPolicy
	// DefaultCluster is the cluster of a topic that names none, when
	// several may hold its level, and of a connector that names none and
	// touches no classified topic. Required with Clusters.
	DefaultCluster string
}

// ClusterPolicy is one cluster of a DataPolicy.
type ClusterPolicy struct {
	// Levels are the classifications the cluster may hold.
	Levels []string
	// TLS says every client listener of the cluster speaks TLS: only such
	// a cluster may hold restricted data.
	TLS bool
}

// Check reports what is wrong with the policy itself: unknown levels, a
// default cluster that is not one of Clusters, a restricted level on a
// cluster without TLS.
func (p DataPolicy) Check() error {
	var errs []error
	known := func(what, l string) {
		if !slices.Contains(p.Levels, l) {
			errs = append(errs, fmt.Errorf("%s: level %q is not one of the levels %v", what, l, p.Levels))
		}
	}
	for i, l := range p.Levels {
		if l == "" || slices.Contains(p.Levels[:i], l) {
			errs = append(errs, fmt.Errorf("levels: %q is empty or given twice", l))
		}
	}
	for _, l := range p.Restricted {
		known("restricted", l)
	}
	if len(p.Clusters) > 0 {
		if len(p.Levels) == 0 {
			errs = append(errs, errors.New("clusters without levels"))
		}
		if _, ok := p.Clusters[p.DefaultCluster]; !ok {
			errs = append(errs, fmt.Errorf("default cluster %q is not one of the clusters", p.DefaultCluster))
		}
	}
	for _, name := range sortedKeys(p.Clusters) {
		cp := p.Clusters[name]
		for _, l := range cp.Levels {
			known("cluster "+name, l)
			if p.IsRestricted(l) && !cp.TLS {
				errs = append(errs, fmt.Errorf("cluster %s holds restricted level %q but is not TLS-only", name, l))
			}
		}
	}
	for _, l := range p.Levels {
		if len(p.Clusters) > 0 && len(p.clustersOf(l)) == 0 {
			errs = append(errs, fmt.Errorf("no cluster may hold level %q", l))
		}
	}
	return errors.Join(errs...)
}

// IsRestricted reports whether level is one of the restricted levels.
func (p DataPolicy) IsRestricted(level string) bool {
	if len(p.Restricted) == 0 {
		return len(p.Levels) > 0 && level == p.Levels[len(p.Levels)-1]
	}
	return slices.Contains(p.Restricted, level)
}

// clustersOf returns the clusters that may hold level, by name.
func (p DataPolicy) clustersOf(level string) []string {
	var out []string
	for _, name := range sortedKeys(p.Clusters) {
		if slices.Contains(p.Clusters[name].Levels, level) {
			out = append(out, name)
		}
	}
	return out
}

// ErrNoCluster is returned by TopicCluster and ConnectorCluster for a
// resource no cluster of the policy may hold.
var ErrNoCluster = errors.New("no cluster may hold it")

// TopicCluster returns the cluster a topic lives on: the one it names, or
// else the default cluster when that may hold its classification, or else
// the first (by name) that may. A policy without clusters returns "".
// A topic that names a cluster that may not hold its classification is
// not refused here: that is DATA002's finding.
func (p DataPolicy) TopicCluster(s topics.Spec) (string, error) {
	if len(p.Clusters) == 0 {
		return "", nil
	}
	if s.Cluster != "" {
		if _, ok := p.Clusters[s.Cluster]; !ok {
			return "", fmt.Errorf("topic %s: cluster %q is not one of the team's: %w", s.Name, s.Cluster, ErrNoCluster)
		}
		return s.Cluster, nil
	}
	if s.Classification == "" {
		return p.DefaultCluster, nil
	}
	may := p.clustersOf(s.Classification)
	switch {
	case slices.Contains(may, p.DefaultCluster):
		return p.DefaultCluster, nil
	case len(may) > 0:
		return may[0], nil
	}
	return "", fmt.Errorf("topic %s of level %q: %w", s.Name, s.Classification, ErrNoCluster)
}

// ConnectorCluster returns the cluster whose Connect workers run s: the
// one it names, or else the cluster of the manifest's topics it reads or
// writes (the first, by the order of its config, that m declares), or
// else the default cluster.
func (p DataPolicy) ConnectorCluster(s connect.Spec, m *Manifest) (string, error) {
	if len(p.Clusters) == 0 {
		return "", nil
	}
	if s.Cluster != "" {
		if _, ok := p.Clusters[s.Cluster]; !ok {
			return "", fmt.Errorf("connector %s: cluster %q is not one of the team's: %w", s.Name, s.Cluster, ErrNoCluster)
		}
		return s.Cluster, nil
	}
	for _, t := range connectorDataTopics(s, m) {
		return p.TopicCluster(t)
	}
	return p.DefaultCluster, nil
}

// levelOf returns the classification of the declared topic name.
func levelOf(m *Manifest, name string) (topics.Spec, bool) {
	for _, t := range m.Topics {
		if t.Name == name {
			return t, true
		}
	}
	return topics.Spec{}, false
}

// connectorDataTopics are the declared topics a connector reads or writes:
// a sink's "topics" and the topics of m its "topics.regex" matches in
// full, a MirrorMaker connector's "topics" (of its source cluster), a
// source's "topic" and "kafka.topic", and the topics of m under its
// "topic.prefix".
func connectorDataTopics(s connect.Spec, m *Manifest) []topics.Spec {
	var out []topics.Spec
	add := func(name string) {
		name = strings.TrimSpace(name)
		if name == "" || strings.Contains(name, "${") {
			return
		}
		if t, ok := levelOf(m, name); ok && !slices.ContainsFunc(out, func(o topics.Spec) bool { return o.Name == name }) {
			out = append(out, t)
		}
	}
	if isSink(s) || isMirror(s.Config["connector.class"]) {
		for t := range strings.SplitSeq(s.Config["topics"], ",") {
			add(t)
		}
		if re, err := compileTopicsRegex(s.Config["topics.regex"]); err == nil && re != nil {
			for _, t := range m.Topics {
				if re.MatchString(t.Name) {
					add(t.Name)
				}
			}
		}
		return out
	}
	for _, k := range writtenTopicKeys {
		add(s.Config[k])
	}
	if prefix := strings.TrimSpace(s.Config["topic.prefix"]); prefix != "" && !strings.Contains(prefix, "${") {
		for _, t := range m.Topics {
			if strings.HasPrefix(t.Name, prefix+".") {
				add(t.Name)
			}
		}
	}
	return out
}

// compileTopicsRegex compiles a sink's topics.regex to match whole topic
// names, as Kafka does; nil for none, or one the worker resolves.
func compileTopicsRegex(v string) (*regexp.Regexp, error) {
	if strings.TrimSpace(v) == "" || strings.Contains(v, "${") {
		return nil, nil
	}
	return regexp.Compile(`^(?:` + v + `)$`)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
