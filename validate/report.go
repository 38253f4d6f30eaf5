package validate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// sorted returns the findings ordered by file, line, column, then rule and
// message, so that reports are stable.
func (r *Result) sorted() []Finding {
	fs := slices.Clone(r.Findings)
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return fs
}

// subject is the "(resource, key)" a finding is about, or "".
func subject(f Finding) string {
	switch {
	case f.Resource != "" && f.Key != "":
		return fmt.Sprintf(" (%s, %s)", f.Resource, f.Key)
	case f.Resource != "":
		return fmt.Sprintf(" (%s)", f.Resource)
	case f.Key != "":
		return fmt.Sprintf(" (%s)", f.Key)
	}
	return ""
}

// Text reports the findings one a line, compiler style, sorted by file
// and line:
//
//	topics.jsonnet:12:7: error TOPIC003: min.insync.replicas is above the replication factor (topic pricing.orders.v1, min.insync.replicas)
func (r *Result) Text() string {
	var b strings.Builder
	for _, f := range r.sorted() {
		fmt.Fprintf(&b, "%s: %s %s: %s%s\n", f.Pos, f.Severity, f.Rule, oneLine(f.Message), subject(f))
	}
	return b.String()
}

// jsonReport is the shape of JSON.
type jsonReport struct {
	OK       bool          `json:"ok"`
	Files    []string      `json:"files"`
	Findings []jsonFinding `json:"findings"`
}

type jsonFinding struct {
	Finding
	// Severity shadows Finding's, which has no JSON form.
	Severity string `json:"severity"`
}

// JSON reports the result as one JSON object: ok, files and the sorted
// findings with their severity as a word ("error", "warning", "info").
func (r *Result) JSON() ([]byte, error) {
	rep := jsonReport{OK: r.OK(), Files: r.Files, Findings: []jsonFinding{}}
	if rep.Files == nil {
		rep.Files = []string{}
	}
	for _, f := range r.sorted() {
		rep.Findings = append(rep.Findings, jsonFinding{Finding: f, Severity: f.Severity.String()})
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return append(b, '\n'), nil
}

// GitHub reports the findings as GitHub Actions workflow commands, which
// annotate the lines of a pull request:
//
//	::error file=topics.jsonnet,line=12,col=7,title=TOPIC003::min.insync.replicas is above ...
//
// Positions are as in the Result: run the validator from the repository
// root, with Dir relative to it, for the files to match the pull request.
func (r *Result) GitHub() string {
	var b strings.Builder
	for _, f := range r.sorted() {
		level := "error"
		switch f.Severity {
		case Warning:
			level = "warning"
		case Info:
			level = "notice"
		}
		props := []string{}
		if f.Pos.File != "" {
			props = append(props, "file="+ghProperty(f.Pos.File))
			if f.Pos.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", f.Pos.Line))
			}
			if f.Pos.Column > 0 {
				props = append(props, fmt.Sprintf("col=%d", f.Pos.Column))
			}
		}
		props = append(props, "title="+ghProperty(f.Rule))
		fmt.Fprintf(&b, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(f.Message+subject(f)))
	}
	return b.String()
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// oneLine keeps a multi-line message (a jsonnet error from an imported
// file) on its line of the report.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", " | ")
}
