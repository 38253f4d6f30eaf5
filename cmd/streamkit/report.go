package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/streamkit/streamkit/validate"
)

// report is one run's output: findings (validation's and the plan's), the
// plan, what apply did and the error that stopped it, written in one
// format at the end.
type report struct {
	format  string
	cmd     string
	team    *team
	res     *validate.Result
	rules   []validate.Rule
	plan    *deployPlan
	applied *applied
	err     error
}

// planRules describe the plan's findings for SARIF readers.
var planRules = []validate.Rule{
	{ID: RulePlanRefused, Severity: validate.Error, Summary: "a topic change Kafka cannot make (fewer partitions, a lower replication factor)"},
	{ID: RulePlanDangerous, Severity: validate.Error, Summary: "a pruned topic is still in use; deleting it needs -force"},
	{ID: RulePlanIncompatible, Severity: validate.Error, Summary: "the registry refuses the schema as the next version of its subject"},
	{ID: RulePlanDrift, Severity: validate.Error, Summary: "the subject's latest version is not the repository's schema"},
	{ID: RulePlanForce, Severity: validate.Error, Summary: "a subject no longer declared is deleted only with -prune -force"},
	{ID: validate.RuleUnreachable, Severity: validate.Warning, Summary: "a check against the platform could not run"},
}

func (r *report) write(stdout, stderr io.Writer, code int) int {
	relocate(r.res.Findings, r.team)
	var err error
	switch r.format {
	case "json":
		err = r.json(stdout, code)
	case "sarif":
		err = r.sarif(stdout, code)
		if err == nil {
			r.human(stderr, false)
		}
	default:
		r.human(stdout, r.format == "github")
	}
	if err != nil {
		fmt.Fprintln(stderr, "streamkit: write report:", err)
		return exitError
	}
	if r.err != nil && r.format != "github" {
		fmt.Fprintln(stderr, "streamkit:", r.err)
	}
	return code
}

// human writes the text or GitHub form: findings, plan, applied.
func (r *report) human(w io.Writer, github bool) {
	if r.format != "sarif" {
		if github {
			fmt.Fprint(w, r.res.GitHub())
		} else {
			fmt.Fprint(w, r.res.Text())
		}
		switch n := unreachableChecks(r.res); {
		case !r.res.OK():
		case n > 0:
			fmt.Fprintf(w, "validation: incomplete (%d files): %d checks against the platform could not run (LIVE000)\n", len(r.res.Files), n)
		default:
			fmt.Fprintf(w, "validation: ok (%d files)\n", len(r.res.Files))
		}
	}
	if r.plan != nil {
		fmt.Fprint(w, r.plan.text())
	}
	if r.applied != nil {
		fmt.Fprint(w, r.applied.text())
	}
	if r.err != nil && github {
		fmt.Fprintf(w, "::error title=streamkit %s::%s\n", r.cmd, strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(r.err.Error()))
	}
}

// unreachableChecks counts the checks against the platform that could not
// run.
func unreachableChecks(res *validate.Result) int {
	n := 0
	for _, f := range res.Findings {
		if f.Rule == validate.RuleUnreachable {
			n++
		}
	}
	return n
}

func (r *report) json(w io.Writer, code int) error {
	validation, err := r.res.JSON()
	if err != nil {
		return err
	}
	out := struct {
		Command    string          `json:"command"`
		ExitCode   int             `json:"exit_code"`
		Namespace  string          `json:"namespace"`
		Validation json.RawMessage `json:"validation"`
		Plan       *jsonPlan       `json:"plan,omitempty"`
		Applied    *applied        `json:"applied,omitempty"`
		Error      string          `json:"error,omitempty"`
	}{Command: r.cmd, ExitCode: code, Namespace: r.team.Namespace, Validation: validation, Applied: r.applied}
	if r.plan != nil {
		out.Plan = &jsonPlan{deployPlan: r.plan, Summary: r.plan.summary()}
	}
	if r.err != nil {
		out.Error = r.err.Error()
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

type jsonPlan struct {
	*deployPlan
	Summary []counts `json:"summary"`
}

// The SARIF 2.1.0 log, as much of it as code scanning reads.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool              sarifTool         `json:"tool"`
		Results           []sarifResult     `json:"results"`
		Invocations       []sarifInvocation `json:"invocations"`
		AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
		ColumnKind        string            `json:"columnKind"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string        `json:"id"`
		ShortDescription     sarifMessage  `json:"shortDescription"`
		FullDescription      *sarifMessage `json:"fullDescription,omitempty"`
		DefaultConfiguration struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex *int            `json:"ruleIndex,omitempty"`
		Level     string          `json:"level"`
		Message   sarifMessage    `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"artifactLocation"`
			Region struct {
				StartLine   int `json:"startLine"`
				StartColumn int `json:"startColumn,omitempty"`
			} `json:"region"`
		} `json:"physicalLocation"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ExitCode                   int                 `json:"exitCode"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level   string       `json:"level"`
		Message sarifMessage `json:"message"`
	}
	sarifAutomation struct {
		ID string `json:"id"`
	}
)

func sarifLevel(s validate.Severity) string {
	switch s {
	case validate.Error:
		return "error"
	case validate.Warning:
		return "warning"
	}
	return "note"
}

// sarif writes the findings as a SARIF 2.1.0 log for code scanning, with
// file URIs relative to the repository root (%SRCROOT%).
func (r *report) sarif(w io.Writer, code int) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "streamkit", Version: strings.Fields(version())[0],
			InformationURI: "https://github.com/streamkit/streamkit",
			Rules:          []sarifRule{},
		}},
		Results:           []sarifResult{},
		ColumnKind:        "unicodeCodePoints",
		AutomationDetails: &sarifAutomation{ID: "streamkit/" + r.cmd + "/" + strings.TrimSuffix(r.team.Namespace, ".") + "/"},
	}
	index := map[string]int{}
	for _, rule := range append(append([]validate.Rule{}, r.rules...), planRules...) {
		if _, ok := index[rule.ID]; ok {
			continue
		}
		sr := sarifRule{ID: rule.ID, ShortDescription: sarifMessage{rule.Summary}}
		if rule.Doc != "" {
			sr.FullDescription = &sarifMessage{rule.Doc}
		}
		sr.DefaultConfiguration.Level = sarifLevel(rule.Severity)
		index[rule.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sr)
	}
	for _, f := range r.res.Findings {
		msg := f.Message
		if f.Resource != "" {
			msg += " (" + f.Resource
			if f.Key != "" {
				msg += ", " + f.Key
			}
			msg += ")"
		}
		res := sarifResult{RuleID: f.Rule, Level: sarifLevel(f.Severity), Message: sarifMessage{msg}}
		if i, ok := index[f.Rule]; ok {
			res.RuleIndex = &i
		}
		if f.Pos.File != "" {
			var loc sarifLocation
			loc.PhysicalLocation.ArtifactLocation.URI = f.Pos.File
			loc.PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
			loc.PhysicalLocation.Region.StartLine = max(f.Pos.Line, 1)
			loc.PhysicalLocation.Region.StartColumn = f.Pos.Column
			res.Locations = []sarifLocation{loc}
		}
		run.Results = append(run.Results, res)
	}
	inv := sarifInvocation{ExecutionSuccessful: code != exitError, ExitCode: code}
	if r.err != nil {
		inv.ToolExecutionNotifications = []sarifNotification{{Level: "error", Message: sarifMessage{r.err.Error()}}}
	}
	run.Invocations = []sarifInvocation{inv}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	}
	b, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
