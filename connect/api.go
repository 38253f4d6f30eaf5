package connect

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strconv"
)

// WorkerInfo is what a worker says of itself.
type WorkerInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// Plugin is a connector (or transformation, converter, ...) plugin the
// workers have installed.
type Plugin struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version"`
}

// TaskID names one task of a connector.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is a connector's definition as the worker stores it.
// Printed or logged, it shows its config with credentials redacted; its
// JSON encoding is the worker's, whole.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   string            `json:"type"`
}

// The states a connector or task reports.
const (
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateStopped    = "STOPPED"
	StateFailed     = "FAILED"
	StateUnassigned = "UNASSIGNED"
	StateRestarting = "RESTARTING"
)

// Instance is the state of a connector or of one task on a worker.
type Instance struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	// Trace is the stack trace of a FAILED connector or task.
	Trace string `json:"trace,omitempty"`
}

// TaskState is the state of one task.
type TaskState struct {
	ID int `json:"id"`
	Instance
}

// Status is a connector's state and its tasks' states.
type Status struct {
	Name      string      `json:"name"`
	Connector Instance    `json:"connector"`
	Tasks     []TaskState `json:"tasks"`
	Type      string      `json:"type"`
}

// Failed reports whether the connector or any of its tasks is FAILED.
func (s Status) Failed() bool {
	if s.Connector.State == StateFailed {
		return true
	}
	for _, t := range s.Tasks {
		if t.State == StateFailed {
			return true
		}
	}
	return false
}

// FailedTasks returns the IDs of the FAILED tasks.
func (s Status) FailedTasks() []int {
	var ids []int
	for _, t := range s.Tasks {
		if t.State == StateFailed {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// Connector is a connector's definition and status, as listed with
// expand=info and expand=status.
type Connector struct {
	Info   ConnectorInfo `json:"info"`
	Status Status        `json:"status"`
}

// Info returns what the worker says of itself (GET /).
func (c *Client) Info(ctx context.Context) (WorkerInfo, error) {
	var out WorkerInfo
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/", out: &out})
	return out, err
}

// Plugins lists the installed plugins (GET /connector-plugins). With
// connectorsOnly false it lists transformations, converters and the like
// too.
func (c *Client) Plugins(ctx context.Context, connectorsOnly bool) ([]Plugin, error) {
	var out []Plugin
	q := url.Values{"connectorsOnly": {strconv.FormatBool(connectorsOnly)}}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/connector-plugins", query: q, out: &out})
	return out, err
}

// Validation is the worker's verdict on a connector config (PUT
// /connector-plugins/{class}/config/validate).
type Validation struct {
	Name       string        `json:"name"`
	ErrorCount int           `json:"error_count"`
	Groups     []string      `json:"groups"`
	Configs    []ConfigCheck `json:"configs"`
}

// ConfigCheck is the verdict on one key.
type ConfigCheck struct {
	Definition struct {
		Name          string  `json:"name"`
		Type          string  `json:"type"`
		Required      bool    `json:"required"`
		DefaultValue  *string `json:"default_value"`
		Importance    string  `json:"importance"`
		Documentation string  `json:"documentation"`
	} `json:"definition"`
	Value struct {
		Name              string   `json:"name"`
		Value             *string  `json:"value"`
		RecommendedValues []string `json:"recommended_values"`
		Errors            []string `json:"errors"`
		Visible           bool     `json:"visible"`
	} `json:"value"`
}

// Errors returns each key's error messages; none when the config is valid.
func (v *Validation) Errors() map[string][]string {
	out := map[string][]string{}
	for _, c := range v.Configs {
		if len(c.Value.Errors) > 0 {
			out[c.Value.Name] = append(out[c.Value.Name], c.Value.Errors...)
		}
	}
	return out
}

// Validate asks the workers whether config is valid for connector class.
// The workers resolve config-provider placeholders while validating, so a
// ${dir:...} reference to a missing secret is an error here too. The
// validation endpoint answers 200 with errors for an invalid config;
// errors here are about the request itself, e.g. an unknown class. A
// config without connector.class is sent with class as its connector.class.
func (c *Client) Validate(ctx context.Context, class string, config map[string]string) (*Validation, error) {
	if _, ok := config["connector.class"]; !ok {
		// The worker refuses a config without connector.class (400
		// "contains no connector type") whatever the URL names.
		withClass := make(map[string]string, len(config)+1)
		maps.Copy(withClass, config)
		withClass["connector.class"] = class
		config = withClass
	}
	var out Validation
	_, err := c.do(ctx, request{
		method: http.MethodPut, path: "/connector-plugins/" + pathEscape(class) + "/config/validate",
		body: config, out: &out,
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Names lists the connectors' names (GET /connectors).
func (c *Client) Names(ctx context.Context) ([]string, error) {
	var out []string
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/connectors", out: &out})
	return out, err
}

// List returns every connector with its config and status in one request
// (GET /connectors?expand=info&expand=status).
func (c *Client) List(ctx context.Context) (map[string]Connector, error) {
	out := map[string]Connector{}
	q := url.Values{"expand": {"info", "status"}}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/connectors", query: q, out: &out})
	return out, err
}

// InitialState is the state a new connector starts in.
type InitialState string

// The initial states Create accepts; the empty one lets the worker decide
// (RUNNING).
const (
	InitialRunning InitialState = "RUNNING"
	InitialPaused  InitialState = "PAUSED"
	InitialStopped InitialState = "STOPPED"
)

// Create creates a connector (POST /connectors). A connector of that name
// already there is an error matching ErrConflict. Like every request,
// Create is retried after a 5xx or a lost response; if the first try did
// create the connector, the retry reports ErrConflict. Apply, which uses
// Create only for connectors created PAUSED or STOPPED, treats that as
// success and converges with a PUT of the config.
func (c *Client) Create(ctx context.Context, name string, config map[string]string, initial InitialState) (ConnectorInfo, error) {
	body := struct {
		Name         string            `json:"name"`
		Config       map[string]string `json:"config"`
		InitialState InitialState      `json:"initial_state,omitempty"`
	}{name, config, initial}
	var out ConnectorInfo
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/connectors", body: body, out: &out})
	return out, err
}

// Get returns a connector's definition (GET /connectors/{name}).
func (c *Client) Get(ctx context.Context, name string) (ConnectorInfo, error) {
	var out ConnectorInfo
	_, err := c.do(ctx, request{method: http.MethodGet, path: connPath(name, ""), out: &out})
	return out, err
}

// Config returns a connector's config as stored: config-provider
// placeholders unresolved (GET /connectors/{name}/config).
func (c *Client) Config(ctx context.Context, name string) (map[string]string, error) {
	out := map[string]string{}
	_, err := c.do(ctx, request{method: http.MethodGet, path: connPath(name, "/config"), out: &out})
	return out, err
}

// PutConfig creates the connector or replaces its config (PUT
// /connectors/{name}/config), and reports whether it created it.
func (c *Client) PutConfig(ctx context.Context, name string, config map[string]string) (info ConnectorInfo, created bool, err error) {
	status, err := c.do(ctx, request{method: http.MethodPut, path: connPath(name, "/config"), body: config, out: &info})
	return info, status == http.StatusCreated, err
}

// PatchConfig changes some keys of a connector's config and removes others
// (PATCH /connectors/{name}/config), leaving the rest as they are.
func (c *Client) PatchConfig(ctx context.Context, name string, set map[string]string, remove ...string) (ConnectorInfo, error) {
	patch := make(map[string]*string, len(set)+len(remove))
	for k, v := range set {
		patch[k] = &v
	}
	for _, k := range remove {
		patch[k] = nil
	}
	var out ConnectorInfo
	_, err := c.do(ctx, request{method: http.MethodPatch, path: connPath(name, "/config"), body: patch, out: &out})
	return out, err
}

// Delete deletes a connector (DELETE /connectors/{name}).
func (c *Client) Delete(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: connPath(name, "")})
	return err
}

// Status returns a connector's and its tasks' states (GET
// /connectors/{name}/status).
func (c *Client) Status(ctx context.Context, name string) (Status, error) {
	var out Status
	_, err := c.do(ctx, request{method: http.MethodGet, path: connPath(name, "/status"), out: &out})
	return out, err
}

// Pause pauses a connector and its tasks (PUT /connectors/{name}/pause).
func (c *Client) Pause(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: connPath(name, "/pause")})
	return err
}

// Resume resumes a paused or stopped connector (PUT
// /connectors/{name}/resume).
func (c *Client) Resume(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: connPath(name, "/resume")})
	return err
}

// Stop stops a connector and shuts its tasks down, keeping its config
// (PUT /connectors/{name}/stop): the STOPPED state, in which its offsets
// may be altered.
func (c *Client) Stop(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: connPath(name, "/stop")})
	return err
}

// RestartOptions selects what Restart restarts.
type RestartOptions struct {
	// IncludeTasks restarts the tasks as well as the connector.
	IncludeTasks bool
	// OnlyFailed restarts only instances that are FAILED.
	OnlyFailed bool
}

// Restart restarts a connector, and with opts its tasks (POST
// /connectors/{name}/restart, KIP-745). With either option set the worker
// answers 202 with the connector's status, the instances it restarts
// marked RESTARTING; that status is returned. Without options, or from a
// worker older than Kafka 3.0, it answers 204 and the zero Status is
// returned.
func (c *Client) Restart(ctx context.Context, name string, opts RestartOptions) (Status, error) {
	q := url.Values{
		"includeTasks": {strconv.FormatBool(opts.IncludeTasks)},
		"onlyFailed":   {strconv.FormatBool(opts.OnlyFailed)},
	}
	var out Status
	_, err := c.do(ctx, request{method: http.MethodPost, path: connPath(name, "/restart"), query: q, out: &out, emptyOK: true})
	return out, err
}

// Task is a task's ID and generated config. Printed or logged, it shows
// its config with credentials redacted; its JSON encoding is the
// worker's, whole.
type Task struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// Tasks lists a connector's tasks (GET /connectors/{name}/tasks).
func (c *Client) Tasks(ctx context.Context, name string) ([]Task, error) {
	var out []Task
	_, err := c.do(ctx, request{method: http.MethodGet, path: connPath(name, "/tasks"), out: &out})
	return out, err
}

// TaskStatus returns one task's state (GET /connectors/{name}/tasks/{id}/status).
func (c *Client) TaskStatus(ctx context.Context, name string, task int) (TaskState, error) {
	var out TaskState
	_, err := c.do(ctx, request{method: http.MethodGet, path: connPath(name, "/tasks/"+strconv.Itoa(task)+"/status"), out: &out})
	return out, err
}

// RestartTask restarts one task (POST /connectors/{name}/tasks/{id}/restart).
func (c *Client) RestartTask(ctx context.Context, name string, task int) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: connPath(name, "/tasks/"+strconv.Itoa(task)+"/restart")})
	return err
}

// Topics returns the topics a connector has used since it was created or
// its topics were last reset (GET /connectors/{name}/topics).
func (c *Client) Topics(ctx context.Context, name string) ([]string, error) {
	out := map[string]struct {
		Topics []string `json:"topics"`
	}{}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: connPath(name, "/topics"), out: &out}); err != nil {
		return nil, err
	}
	return out[name].Topics, nil
}

// ResetTopics empties a connector's set of active topics (PUT
// /connectors/{name}/topics/reset).
func (c *Client) ResetTopics(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: connPath(name, "/topics/reset")})
	return err
}

// Offset is one source partition's or topic partition's offset, in the
// connector's own terms: for a sink connector, partition holds
// kafka_topic and kafka_partition and offset holds kafka_offset.
type Offset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// Offsets returns a connector's committed offsets (GET
// /connectors/{name}/offsets).
func (c *Client) Offsets(ctx context.Context, name string) ([]Offset, error) {
	var out struct {
		Offsets []Offset `json:"offsets"`
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: connPath(name, "/offsets"), out: &out})
	return out.Offsets, err
}

// AlterOffsets sets some of a STOPPED connector's offsets; a nil Offset
// map resets that partition (PATCH /connectors/{name}/offsets). It
// returns the worker's message.
func (c *Client) AlterOffsets(ctx context.Context, name string, offsets []Offset) (string, error) {
	body := struct {
		Offsets []Offset `json:"offsets"`
	}{offsets}
	var out struct {
		Message string `json:"message"`
	}
	_, err := c.do(ctx, request{method: http.MethodPatch, path: connPath(name, "/offsets"), body: body, out: &out})
	return out.Message, err
}

// ResetOffsets resets all of a STOPPED connector's offsets (DELETE
// /connectors/{name}/offsets). It returns the worker's message.
func (c *Client) ResetOffsets(ctx context.Context, name string) (string, error) {
	var out struct {
		Message string `json:"message"`
	}
	_, err := c.do(ctx, request{method: http.MethodDelete, path: connPath(name, "/offsets"), out: &out})
	return out.Message, err
}

func connPath(name, suffix string) string {
	return "/connectors/" + pathEscape(name) + suffix
}
