package connect

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// teamName is a connector name that needs escaping in a path.
	teamName = "team a/b"
	teamPath = "/connectors/team%20a%2Fb"
	// sinkClass is a plugin class: dots stay as they are in a path.
	sinkClass = "org.apache.kafka.connect.file.FileStreamSinkConnector"
)

// Answers of a Kafka Connect 4.x worker for teamName.
const (
	teamInfoJSON = `{"name":"team a/b","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector",
		"file":"/tmp/out.txt","name":"team a/b","tasks.max":"1","topics":"orders"},
		"tasks":[{"connector":"team a/b","task":0}],"type":"sink"}`
	teamStatusJSON = `{"name":"team a/b","connector":{"state":"RUNNING","worker_id":"10.0.0.5:8083"},
		"tasks":[{"id":0,"state":"FAILED","worker_id":"10.0.0.6:8083",
		"trace":"org.apache.kafka.connect.errors.ConnectException: boom\n\tat Task.put(Task.java:42)\n"}],"type":"sink"}`
	validateJSON = `{"name":"org.apache.kafka.connect.file.FileStreamSinkConnector","error_count":2,
		"groups":["Common","Transforms","Predicates","Error Handling","Topic Tracking"],"configs":[
		{"definition":{"name":"topics","type":"LIST","required":false,"default_value":"","importance":"HIGH",
			"documentation":"List of topics to consume, separated by commas","group":"Common","width":"LONG",
			"display_name":"Topics","dependents":[],"order":4},
		 "value":{"name":"topics","value":"","recommended_values":[],
			"errors":["Must configure one of topics or topics.regex"],"visible":true}},
		{"definition":{"name":"topics.regex","type":"STRING","required":false,"default_value":"","importance":"HIGH",
			"documentation":"Regular expression giving topics to consume.","group":"Common","width":"LONG",
			"display_name":"Topics regex","dependents":[],"order":5},
		 "value":{"name":"topics.regex","value":"","recommended_values":[],
			"errors":["Must configure one of topics or topics.regex"],"visible":true}},
		{"definition":{"name":"tasks.max","type":"INT","required":false,"default_value":"1","importance":"HIGH",
			"documentation":"Maximum number of tasks to use for this connector.","group":"Common","width":"SHORT",
			"display_name":"Tasks max","dependents":[],"order":3},
		 "value":{"name":"tasks.max","value":"1","recommended_values":[],"errors":[],"visible":true}}]}`
	validJSON = `{"name":"org.apache.kafka.connect.file.FileStreamSinkConnector","error_count":0,"groups":["Common"],
		"configs":[{"definition":{"name":"topics","type":"LIST","required":false,"default_value":"",
		"importance":"HIGH","documentation":"","group":"Common","width":"LONG","display_name":"Topics",
		"dependents":[],"order":4},"value":{"name":"topics","value":"orders","recommended_values":[],
		"errors":[],"visible":true}}]}`
)

var (
	teamConfig = map[string]string{
		"connector.class": sinkClass, "file": "/tmp/out.txt", "name": teamName, "tasks.max": "1", "topics": "orders",
	}
	teamInfo = ConnectorInfo{
		Name: teamName, Config: teamConfig, Tasks: []TaskID{{Connector: teamName, Task: 0}}, Type: "sink",
	}
	teamStatus = Status{
		Name:      teamName,
		Connector: Instance{State: StateRunning, WorkerID: "10.0.0.5:8083"},
		Tasks: []TaskState{{ID: 0, Instance: Instance{
			State: StateFailed, WorkerID: "10.0.0.6:8083",
			Trace: "org.apache.kafka.connect.errors.ConnectException: boom\n\tat Task.put(Task.java:42)\n",
		}}},
		Type: "sink",
	}
)

func TestAPI(t *testing.T) {
	type putResult struct {
		Info    ConnectorInfo
		Created bool
	}
	restarting := Status{
		Name:      teamName,
		Connector: Instance{State: StateRestarting, WorkerID: "10.0.0.5:8083"},
		Tasks:     []TaskState{{ID: 0, Instance: Instance{State: StateRestarting, WorkerID: "10.0.0.6:8083"}}},
		Type:      "sink",
	}
	tests := []struct {
		name     string
		key      string // "METHOD /escaped/path" the worker must get
		query    string // raw query the worker must get
		body     string // JSON the worker must get; "" for none
		status   int
		response string
		call     func(context.Context, *Client) (any, error)
		want     any
	}{
		{
			name: "Info", key: "GET /", status: 200,
			response: `{"version":"4.0.0","commit":"985bc99521dd22bb","kafka_cluster_id":"I8Kw6CaLQe2OWO0hXzTtkQ"}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Info(ctx) },
			want:     WorkerInfo{Version: "4.0.0", Commit: "985bc99521dd22bb", KafkaClusterID: "I8Kw6CaLQe2OWO0hXzTtkQ"},
		},
		{
			name: "Plugins connectors only", key: "GET /connector-plugins", query: "connectorsOnly=true", status: 200,
			response: `[{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"4.0.0"},
				{"class":"org.apache.kafka.connect.mirror.MirrorSourceConnector","type":"source","version":"4.0.0"}]`,
			call: func(ctx context.Context, c *Client) (any, error) { return c.Plugins(ctx, true) },
			want: []Plugin{
				{Class: sinkClass, Type: "sink", Version: "4.0.0"},
				{Class: "org.apache.kafka.connect.mirror.MirrorSourceConnector", Type: "source", Version: "4.0.0"},
			},
		},
		{
			name: "Plugins all", key: "GET /connector-plugins", query: "connectorsOnly=false", status: 200,
			response: `[{"class":"org.apache.kafka.connect.transforms.InsertField$Value","type":"transformation","version":"4.0.0"}]`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Plugins(ctx, false) },
			want:     []Plugin{{Class: "org.apache.kafka.connect.transforms.InsertField$Value", Type: "transformation", Version: "4.0.0"}},
		},
		{
			name: "Validate with errors", key: "PUT /connector-plugins/" + sinkClass + "/config/validate",
			body: `{"connector.class":"` + sinkClass + `","file":"/tmp/out.txt"}`, status: 200, response: validateJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				v, err := c.Validate(ctx, sinkClass, map[string]string{"connector.class": sinkClass, "file": "/tmp/out.txt"})
				if err != nil {
					return nil, err
				}
				return []any{v.ErrorCount, len(v.Groups), v.Errors()}, nil
			},
			want: []any{2, 5, map[string][]string{
				"topics":       {"Must configure one of topics or topics.regex"},
				"topics.regex": {"Must configure one of topics or topics.regex"},
			}},
		},
		{
			name: "Validate valid, connector.class added", key: "PUT /connector-plugins/" + sinkClass + "/config/validate",
			body: `{"connector.class":"` + sinkClass + `","topics":"orders"}`, status: 200, response: validJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				v, err := c.Validate(ctx, sinkClass, map[string]string{"topics": "orders"})
				if err != nil {
					return nil, err
				}
				return []any{v.ErrorCount, v.Errors()}, nil
			},
			want: []any{0, map[string][]string{}},
		},
		{
			name: "Names", key: "GET /connectors", status: 200, response: `["orders-sink","team a/b"]`,
			call: func(ctx context.Context, c *Client) (any, error) { return c.Names(ctx) },
			want: []string{"orders-sink", teamName},
		},
		{
			name: "List", key: "GET /connectors", query: "expand=info&expand=status", status: 200,
			response: `{"team a/b":{"info":` + teamInfoJSON + `,"status":` + teamStatusJSON + `}}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.List(ctx) },
			want:     map[string]Connector{teamName: {Info: teamInfo, Status: teamStatus}},
		},
		{
			name: "Create with initial state", key: "POST /connectors",
			body:   `{"name":"team a/b","config":{"connector.class":"` + sinkClass + `","topics":"orders"},"initial_state":"PAUSED"}`,
			status: 201, response: teamInfoJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Create(ctx, teamName, map[string]string{"connector.class": sinkClass, "topics": "orders"}, InitialPaused)
			},
			want: teamInfo,
		},
		{
			name: "Create without initial state", key: "POST /connectors",
			body:   `{"name":"team a/b","config":{"connector.class":"` + sinkClass + `"}}`,
			status: 201, response: teamInfoJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Create(ctx, teamName, map[string]string{"connector.class": sinkClass}, "")
			},
			want: teamInfo,
		},
		{
			name: "Get", key: "GET " + teamPath, status: 200, response: teamInfoJSON,
			call: func(ctx context.Context, c *Client) (any, error) { return c.Get(ctx, teamName) },
			want: teamInfo,
		},
		{
			name: "Config", key: "GET " + teamPath + "/config", status: 200,
			response: `{"connector.class":"` + sinkClass + `","file":"/tmp/out.txt","name":"team a/b","tasks.max":"1","topics":"orders"}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Config(ctx, teamName) },
			want:     teamConfig,
		},
		{
			name: "PutConfig created", key: "PUT " + teamPath + "/config",
			body: `{"connector.class":"` + sinkClass + `","topics":"orders"}`, status: 201, response: teamInfoJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				info, created, err := c.PutConfig(ctx, teamName, map[string]string{"connector.class": sinkClass, "topics": "orders"})
				return putResult{info, created}, err
			},
			want: putResult{teamInfo, true},
		},
		{
			name: "PutConfig updated", key: "PUT " + teamPath + "/config",
			body: `{"connector.class":"` + sinkClass + `","topics":"orders"}`, status: 200, response: teamInfoJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				info, created, err := c.PutConfig(ctx, teamName, map[string]string{"connector.class": sinkClass, "topics": "orders"})
				return putResult{info, created}, err
			},
			want: putResult{teamInfo, false},
		},
		{
			name: "PatchConfig", key: "PATCH " + teamPath + "/config",
			body: `{"tasks.max":"1","file":"/tmp/out.txt","topics.regex":null,"errors.tolerance":null}`, status: 200,
			response: teamInfoJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.PatchConfig(ctx, teamName, map[string]string{"tasks.max": "1", "file": "/tmp/out.txt"},
					"topics.regex", "errors.tolerance")
			},
			want: teamInfo,
		},
		{
			name: "Delete", key: "DELETE " + teamPath, status: 204,
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Delete(ctx, teamName) },
		},
		{
			name: "Status", key: "GET " + teamPath + "/status", status: 200, response: teamStatusJSON,
			call: func(ctx context.Context, c *Client) (any, error) { return c.Status(ctx, teamName) },
			want: teamStatus,
		},
		{
			name: "Pause", key: "PUT " + teamPath + "/pause", status: 202,
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Pause(ctx, teamName) },
		},
		{
			name: "Resume", key: "PUT " + teamPath + "/resume", status: 202,
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Resume(ctx, teamName) },
		},
		{
			name: "Stop", key: "PUT " + teamPath + "/stop", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Stop(ctx, teamName) },
		},
		{
			name: "Restart connector only", key: "POST " + teamPath + "/restart",
			query: "includeTasks=false&onlyFailed=false", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) { return c.Restart(ctx, teamName, RestartOptions{}) },
			want: Status{},
		},
		{
			name: "Restart with tasks", key: "POST " + teamPath + "/restart",
			query: "includeTasks=true&onlyFailed=true", status: 202,
			response: `{"name":"team a/b","connector":{"state":"RESTARTING","worker_id":"10.0.0.5:8083"},
				"tasks":[{"id":0,"state":"RESTARTING","worker_id":"10.0.0.6:8083"}],"type":"sink"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Restart(ctx, teamName, RestartOptions{IncludeTasks: true, OnlyFailed: true})
			},
			want: restarting,
		},
		{
			name: "Restart with options, nothing matched", key: "POST " + teamPath + "/restart",
			query: "includeTasks=true&onlyFailed=false", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Restart(ctx, teamName, RestartOptions{IncludeTasks: true})
			},
			want: Status{},
		},
		{
			name: "Tasks", key: "GET " + teamPath + "/tasks", status: 200,
			response: `[{"id":{"connector":"team a/b","task":0},"config":{"task.class":"org.apache.kafka.connect.file.FileStreamSinkTask","topics":"orders"}}]`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Tasks(ctx, teamName) },
			want: []Task{{
				ID:     TaskID{Connector: teamName, Task: 0},
				Config: map[string]string{"task.class": "org.apache.kafka.connect.file.FileStreamSinkTask", "topics": "orders"},
			}},
		},
		{
			name: "TaskStatus", key: "GET " + teamPath + "/tasks/3/status", status: 200,
			response: `{"id":3,"state":"RUNNING","worker_id":"10.0.0.6:8083"}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.TaskStatus(ctx, teamName, 3) },
			want:     TaskState{ID: 3, Instance: Instance{State: StateRunning, WorkerID: "10.0.0.6:8083"}},
		},
		{
			name: "RestartTask", key: "POST " + teamPath + "/tasks/3/restart", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.RestartTask(ctx, teamName, 3) },
		},
		{
			name: "Topics", key: "GET " + teamPath + "/topics", status: 200,
			response: `{"team a/b":{"topics":["orders","payments"]}}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Topics(ctx, teamName) },
			want:     []string{"orders", "payments"},
		},
		{
			name: "ResetTopics", key: "PUT " + teamPath + "/topics/reset", status: 202,
			call: func(ctx context.Context, c *Client) (any, error) { return nil, c.ResetTopics(ctx, teamName) },
		},
		{
			name: "Offsets", key: "GET " + teamPath + "/offsets", status: 200,
			response: `{"offsets":[{"partition":{"kafka_topic":"orders","kafka_partition":2},"offset":{"kafka_offset":4}}]}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Offsets(ctx, teamName) },
			want: []Offset{{
				Partition: map[string]any{"kafka_topic": "orders", "kafka_partition": 2.0},
				Offset:    map[string]any{"kafka_offset": 4.0},
			}},
		},
		{
			name: "AlterOffsets", key: "PATCH " + teamPath + "/offsets",
			body: `{"offsets":[{"partition":{"kafka_topic":"orders","kafka_partition":2},"offset":{"kafka_offset":100}},
				{"partition":{"kafka_topic":"orders","kafka_partition":3},"offset":null}]}`,
			status: 200, response: `{"message":"The offsets for this connector have been altered successfully"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.AlterOffsets(ctx, teamName, []Offset{
					{Partition: map[string]any{"kafka_topic": "orders", "kafka_partition": 2}, Offset: map[string]any{"kafka_offset": 100}},
					{Partition: map[string]any{"kafka_topic": "orders", "kafka_partition": 3}},
				})
			},
			want: "The offsets for this connector have been altered successfully",
		},
		{
			name: "ResetOffsets", key: "DELETE " + teamPath + "/offsets", status: 200,
			response: `{"message":"The offsets for this connector have been reset successfully"}`,
			call:     func(ctx context.Context, c *Client) (any, error) { return c.ResetOffsets(ctx, teamName) },
			want:     "The offsets for this connector have been reset successfully",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle(tt.key, reply(tt.status, tt.response))
			c := newTestClient(t, []string{w.URL}, WithRetries(1))
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if v := reflect.ValueOf(got); tt.want == nil && got != nil && !v.IsZero() {
				t.Errorf("got %#v, want nothing", got)
			} else if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			reqs := w.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Key() != tt.key {
				t.Errorf("request: got %v, want %v", r.Key(), tt.key)
			}
			if r.Query != tt.query {
				t.Errorf("query: got %q, want %q", r.Query, tt.query)
			}
			if !sameJSON(t, r.Body, tt.body) {
				t.Errorf("body: got %s, want %s", r.Body, tt.body)
			}
			wantType := ""
			if tt.body != "" {
				wantType = "application/json"
			}
			if got := r.Header.Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type: got %q, want %q", got, wantType)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept: got %q, want %q", got, "application/json")
			}
		})
	}
}

func TestAPIPathEscaping(t *testing.T) {
	tests := []struct{ name, path string }{
		{"orders-sink", "/connectors/orders-sink"},
		{"team a/b", "/connectors/team%20a%2Fb"},
		{"50%", "/connectors/50%25"},
		{"a?b#c", "/connectors/a%3Fb%23c"},
		{"jdbc;v=1,2", "/connectors/jdbc%3Bv=1%2C2"},
		{"über.sink", "/connectors/%C3%BCber.sink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle("GET "+tt.path+"/status", reply(200, `{"name":"x","connector":{"state":"RUNNING","worker_id":"w"},"tasks":[],"type":"sink"}`))
			c := newTestClient(t, []string{w.URL}, WithRetries(1))
			if _, err := c.Status(t.Context(), tt.name); err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := w.requests()[0].Path; got != tt.path+"/status" {
				t.Errorf("got %v, want %v", got, tt.path+"/status")
			}
		})
	}
}

func TestAPIValidateKeepsCallerConfig(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("PUT /connector-plugins/"+sinkClass+"/config/validate", reply(200, validJSON))
	c := newTestClient(t, []string{w.URL})
	config := map[string]string{"topics": "orders"}
	if _, err := c.Validate(t.Context(), sinkClass, config); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"topics": "orders"}; !reflect.DeepEqual(config, want) {
		t.Errorf("caller's config: got %v, want %v", config, want)
	}
	// A connector.class the caller set is sent as it is, even an alias.
	if _, err := c.Validate(t.Context(), sinkClass, map[string]string{"connector.class": "FileStreamSink"}); err != nil {
		t.Fatal(err)
	}
	if got, want := w.requests()[1].Body, `{"connector.class":"FileStreamSink"}`; !sameJSON(t, got, want) {
		t.Errorf("body: got %s, want %s", got, want)
	}
}

func TestAPIValidateUnknownClass(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("PUT /connector-plugins/com.example.Nope/config/validate",
		replyError(400, "Failed to find any class that implements Connector and which name matches com.example.Nope"))
	c := newTestClient(t, []string{w.URL})
	v, err := c.Validate(t.Context(), "com.example.Nope", nil)
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("got %v, want ErrBadRequest", err)
	}
	if v != nil {
		t.Errorf("got %v, want nil Validation", v)
	}
}

func TestAPIStatusFailed(t *testing.T) {
	tests := []struct {
		name       string
		status     Status
		wantFailed bool
		wantTasks  []int
	}{
		{"running", Status{Connector: Instance{State: StateRunning}, Tasks: []TaskState{{ID: 0, Instance: Instance{State: StateRunning}}}}, false, nil},
		{"connector failed", Status{Connector: Instance{State: StateFailed}}, true, nil},
		{"tasks failed", Status{Connector: Instance{State: StateRunning}, Tasks: []TaskState{
			{ID: 0, Instance: Instance{State: StateFailed}},
			{ID: 1, Instance: Instance{State: StateRunning}},
			{ID: 2, Instance: Instance{State: StateFailed}},
		}}, true, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.status.Failed(); got != tt.wantFailed {
				t.Errorf("Failed: got %v, want %v", got, tt.wantFailed)
			}
			if got := tt.status.FailedTasks(); !slices.Equal(got, tt.wantTasks) {
				t.Errorf("FailedTasks: got %v, want %v", got, tt.wantTasks)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	sentinels := []error{ErrNotFound, ErrConflict, ErrBadRequest, ErrMalformedResponse}
	get := func(ctx context.Context, c *Client) error { _, err := c.Get(ctx, teamName); return err }
	create := func(ctx context.Context, c *Client) error {
		_, err := c.Create(ctx, teamName, map[string]string{"connector.class": sinkClass}, "")
		return err
	}
	tests := []struct {
		name         string
		key          string
		handler      http.HandlerFunc
		call         func(context.Context, *Client) error
		wantIs       error // nil: no sentinel
		wantStatus   int
		wantCode     int
		wantMessage  string
		wantRequests int
	}{
		{
			name: "404", key: "GET " + teamPath, handler: replyError(404, "Connector team a/b not found"), call: get,
			wantIs: ErrNotFound, wantStatus: 404, wantCode: 404, wantMessage: "Connector team a/b not found", wantRequests: 1,
		},
		{
			name: "400", key: "POST /connectors", call: create,
			handler: replyError(400, "Connector config {name=team a/b} contains no connector type"),
			wantIs:  ErrBadRequest, wantStatus: 400, wantCode: 400,
			wantMessage: "Connector config {name=team a/b} contains no connector type", wantRequests: 1,
		},
		{
			name: "422", key: "POST /connectors", call: create, handler: replyError(422, "Unprocessable Entity"),
			wantIs: ErrBadRequest, wantStatus: 422, wantCode: 422, wantMessage: "Unprocessable Entity", wantRequests: 1,
		},
		{
			name: "409 already exists is not retried", key: "POST /connectors", call: create,
			handler: replyError(409, "Connector team a/b already exists"),
			wantIs:  ErrConflict, wantStatus: 409, wantCode: 409, wantMessage: "Connector team a/b already exists", wantRequests: 1,
		},
		{
			name: "401 is not retried", key: "GET " + teamPath, call: get,
			handler:    replyError(401, "User cannot access the resource."),
			wantStatus: 401, wantCode: 401, wantMessage: "User cannot access the resource.", wantRequests: 1,
		},
		{
			name: "500 after every try", key: "GET " + teamPath, call: get,
			handler:    replyError(500, "Request timed out"),
			wantStatus: 500, wantCode: 500, wantMessage: "Request timed out", wantRequests: 3,
		},
		{
			name: "409 rebalance that never settles", key: "GET " + teamPath, call: get,
			handler: replyError(409, "Cannot complete request because a rebalance is in progress"),
			wantIs:  ErrConflict, wantStatus: 409, wantCode: 409,
			wantMessage: "Cannot complete request because a rebalance is in progress", wantRequests: 3,
		},
		{
			name: "empty error body", key: "GET " + teamPath, call: get, handler: reply(404, ""),
			wantIs: ErrNotFound, wantStatus: 404, wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle(tt.key, tt.handler)
			c := newTestClient(t, []string{w.URL}, WithRetries(3))
			err := tt.call(t.Context(), c)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %v, want an *APIError", err)
			}
			method, path, _ := strings.Cut(tt.key, " ")
			if apiErr.Method != method || apiErr.Path != path {
				t.Errorf("request: got %v %v, want %v", apiErr.Method, apiErr.Path, tt.key)
			}
			if apiErr.StatusCode != tt.wantStatus || apiErr.ErrorCode != tt.wantCode || apiErr.Message != tt.wantMessage {
				t.Errorf("got %d/%d/%q, want %d/%d/%q", apiErr.StatusCode, apiErr.ErrorCode, apiErr.Message,
					tt.wantStatus, tt.wantCode, tt.wantMessage)
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tt.wantIs; got != want {
					t.Errorf("errors.Is(err, %v): got %v, want %v", s, got, want)
				}
			}
			if tt.wantMessage != "" && !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("got %q, want it to hold %q", err, tt.wantMessage)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("got %q, want one line", err)
			}
			if got := len(w.requests()); got != tt.wantRequests {
				t.Errorf("requests: got %d, want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestRetryUntilSuccess(t *testing.T) {
	tests := []struct {
		name    string
		answers []http.HandlerFunc
	}{
		{"409 stale configuration", []http.HandlerFunc{
			replyError(409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"),
		}},
		{"409 rebalance in progress", []http.HandlerFunc{
			replyError(409, "Cannot complete request because a rebalance is in progress"),
			replyError(409, "Cannot complete request momentarily due to no known leader URL, likely because a rebalance is underway"),
		}},
		{"5xx", []http.HandlerFunc{
			replyError(500, "Request timed out"),
			reply(503, ""),
			reply(502, "<html>\n<body>Bad Gateway</body>\n</html>"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle("PUT "+teamPath+"/config", sequence(append(tt.answers, reply(200, teamInfoJSON))...))
			c := newTestClient(t, []string{w.URL}, WithRetries(5))
			info, created, err := c.PutConfig(t.Context(), teamName, teamConfig)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(info, teamInfo) || created {
				t.Errorf("got %v, %v, want %v, false", info, created, teamInfo)
			}
			reqs := w.requests()
			if got, want := len(reqs), len(tt.answers)+1; got != want {
				t.Fatalf("requests: got %d, want %d", got, want)
			}
			for i, r := range reqs {
				// The body goes again with every try.
				if !sameJSON(t, r.Body, reqs[0].Body) || r.Body == "" {
					t.Errorf("try %d body: got %q, want %q", i, r.Body, reqs[0].Body)
				}
			}
		})
	}
}

func TestRetryBounded(t *testing.T) {
	for _, attempts := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d attempts", attempts), func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle("GET /connectors", reply(503, ""))
			var logs syncBuffer
			c := newTestClient(t, []string{w.URL}, WithRetries(attempts), WithLogger(bufferLogger(&logs)))
			_, err := c.Names(t.Context())
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
				t.Fatalf("got %v, want a 503 *APIError", err)
			}
			if got := len(w.requests()); got != attempts {
				t.Errorf("requests: got %d, want %d", got, attempts)
			}
			// Each retry is logged; the last failure is the caller's.
			if got := strings.Count(logs.String(), "retrying"); got != attempts-1 {
				t.Errorf("retries logged: got %d, want %d\n%s", got, attempts-1, logs.String())
			}
		})
	}
}

func TestRetryBackoff(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("GET /connectors", reply(500, ""))
	c := newTestClient(t, []string{w.URL}, WithRetries(3), WithBackoff(time.Millisecond, 2*time.Millisecond))
	start := time.Now()
	if _, err := c.Names(t.Context()); err == nil {
		t.Fatal("got no error, want one")
	}
	reqs := w.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests: got %d, want 3", len(reqs))
	}
	// The n-th retry waits within [d/2, d], d = min doubled n times up to
	// max: [0.5ms, 1ms], then [1ms, 2ms].
	for i, least := range []time.Duration{500 * time.Microsecond, time.Millisecond} {
		if gap := reqs[i+1].At.Sub(reqs[i].At); gap < least {
			t.Errorf("wait before retry %d: got %v, want at least %v", i+1, gap, least)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v, want well under 1s", took)
	}
}

func TestRetryContextEnds(t *testing.T) {
	tests := []struct {
		name string
		ctx  func(t *testing.T) context.Context
		want error
	}{
		{"cancelled during backoff", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			timer := time.AfterFunc(30*time.Millisecond, cancel)
			t.Cleanup(func() { timer.Stop() })
			t.Cleanup(cancel)
			return ctx
		}, context.Canceled},
		{"deadline during backoff", func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle("GET /connectors", reply(503, ""))
			c := newTestClient(t, []string{w.URL}, WithBackoff(time.Hour, time.Hour))
			ctx := tt.ctx(t)
			start := time.Now()
			_, err := c.Names(ctx)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v, want a prompt return", took)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			// The worker's answer before the wait is kept.
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
				t.Errorf("got %v, want it to hold the 503", err)
			}
			if got := len(w.requests()); got != 1 {
				t.Errorf("requests: got %d, want 1", got)
			}
		})
	}
}

func TestRetryContextAlreadyCancelled(t *testing.T) {
	w := newFakeWorker(t)
	c := newTestClient(t, []string{w.URL})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Names(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if got := len(w.requests()); got != 0 {
		t.Errorf("requests: got %d, want 0", got)
	}
}

// closedURL returns the URL of a server that is gone: connections to it
// are refused.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// bufferLogger returns a logger that writes text to buf.
func bufferLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFailover(t *testing.T) {
	tests := []struct {
		name  string
		first func(t *testing.T) (url string, requests func() int)
	}{
		{"connection refused", func(t *testing.T) (string, func() int) {
			return closedURL(t), func() int { return 0 }
		}},
		{"503", func(t *testing.T) (string, func() int) {
			w := newFakeWorker(t)
			w.handle("GET /connectors", replyError(503, "Service Unavailable"))
			return w.URL, func() int { return len(w.requests()) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			firstURL, firstRequests := tt.first(t)
			second := newFakeWorker(t)
			second.handle("GET /connectors", reply(200, `["orders-sink"]`))
			var logs syncBuffer
			c := newTestClient(t, []string{firstURL, second.URL}, WithLogger(bufferLogger(&logs)))
			for i := range 2 {
				names, err := c.Names(t.Context())
				if err != nil {
					t.Fatalf("call %d: got error %v, want none", i, err)
				}
				if want := []string{"orders-sink"}; !slices.Equal(names, want) {
					t.Fatalf("call %d: got %v, want %v", i, names, want)
				}
			}
			if got := strings.Count(logs.String(), "retrying"); got != 1 {
				t.Errorf("retries logged: got %d, want 1 (the second call went straight to the second worker)\n%s", got, logs.String())
			}
			if got := firstRequests(); got > 1 {
				t.Errorf("first worker's requests: got %d, want at most 1", got)
			}
			if got := len(second.requests()); got != 2 {
				t.Errorf("second worker's requests: got %d, want 2", got)
			}
		})
	}
}

func TestFailoverConflictStaysOnWorker(t *testing.T) {
	// A rebalance is the cluster's, not the worker's: the retry goes to the
	// same worker.
	first, second := newFakeWorker(t), newFakeWorker(t)
	first.handle("GET /connectors", sequence(
		replyError(409, "Cannot complete request because a rebalance is in progress"),
		reply(200, `[]`)))
	c := newTestClient(t, []string{first.URL, second.URL})
	if _, err := c.Names(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := []int{len(first.requests()), len(second.requests())}, []int{2, 0}; !slices.Equal(got, want) {
		t.Errorf("requests per worker: got %v, want %v", got, want)
	}
}

func TestFailoverAllDown(t *testing.T) {
	c := newTestClient(t, []string{closedURL(t), closedURL(t)}, WithRetries(4))
	_, err := c.Names(t.Context())
	if err == nil {
		t.Fatal("got no error, want one")
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		t.Errorf("got %v, want a connection error", err)
	}
}

func TestFailoverConcurrent(t *testing.T) {
	first, second := newFakeWorker(t), newFakeWorker(t)
	first.handle("GET /connectors", reply(503, ""))
	second.handle("GET /connectors", reply(200, `["a"]`))
	c := newTestClient(t, []string{first.URL, second.URL}, WithRetries(4))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if _, err := c.Names(t.Context()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("got error %v, want none", err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		handler http.HandlerFunc
		call    func(context.Context, *Client) error
	}{
		{
			name: "invalid JSON", key: "GET " + teamPath, handler: reply(200, `{"name":"team a/b","config":`),
			call: func(ctx context.Context, c *Client) error { _, err := c.Get(ctx, teamName); return err },
		},
		{
			name: "wrong shape", key: "GET /connectors", handler: reply(200, `{"orders-sink":{}}`),
			call: func(ctx context.Context, c *Client) error { _, err := c.Names(ctx); return err },
		},
		{
			name: "empty 200", key: "GET " + teamPath, handler: reply(200, ""),
			call: func(ctx context.Context, c *Client) error { _, err := c.Get(ctx, teamName); return err },
		},
		{
			name: "204 where a body is due", key: "GET " + teamPath + "/status", handler: reply(204, ""),
			call: func(ctx context.Context, c *Client) error { _, err := c.Status(ctx, teamName); return err },
		},
		{
			name: "blank body", key: "DELETE " + teamPath + "/offsets", handler: reply(200, " \n"),
			call: func(ctx context.Context, c *Client) error { _, err := c.ResetOffsets(ctx, teamName); return err },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle(tt.key, tt.handler)
			c := newTestClient(t, []string{w.URL})
			err := tt.call(t.Context(), c)
			if !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("got %v, want ErrMalformedResponse", err)
			}
			// A worker's answer does not change with another try.
			if got := len(w.requests()); got != 1 {
				t.Errorf("requests: got %d, want 1", got)
			}
		})
	}
}

func TestMalformedErrorBody(t *testing.T) {
	text := func(status int, contentType, body string) http.HandlerFunc {
		return func(rw http.ResponseWriter, _ *http.Request) {
			rw.Header().Set("Content-Type", contentType)
			rw.WriteHeader(status)
			io.WriteString(rw, body)
		}
	}
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		wantStatus  int
		wantMessage string
		wantIs      error
	}{
		{
			name:       "HTML from a proxy",
			handler:    text(404, "text/html", "<html><head><title>404 Not Found</title></head>\n<body><h1>Not Found</h1></body>\n</html>\n"),
			wantStatus: 404, wantMessage: "<html><head><title>404 Not Found</title></head>", wantIs: ErrNotFound,
		},
		{
			name:       "HTML 502 after retries",
			handler:    text(502, "text/html", "<html><body>502 Bad Gateway</body></html>\r\n<!-- padding -->"),
			wantStatus: 502, wantMessage: "<html><body>502 Bad Gateway</body></html>",
		},
		{
			name:       "text after blank lines",
			handler:    text(400, "text/plain", "\r\n\n  Bad request from gateway\nsecond line\n"),
			wantStatus: 400, wantMessage: "Bad request from gateway", wantIs: ErrBadRequest,
		},
		{
			name:       "JSON that is not an error",
			handler:    text(400, "application/json", `["x"]`),
			wantStatus: 400, wantMessage: `["x"]`, wantIs: ErrBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFakeWorker(t)
			w.handle("GET /connectors", tt.handler)
			c := newTestClient(t, []string{w.URL}, WithRetries(2))
			_, err := c.Names(t.Context())
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %v, want an *APIError", err)
			}
			if apiErr.StatusCode != tt.wantStatus || apiErr.Message != tt.wantMessage || apiErr.ErrorCode != 0 {
				t.Errorf("got %d/%d/%q, want %d/0/%q", apiErr.StatusCode, apiErr.ErrorCode, apiErr.Message, tt.wantStatus, tt.wantMessage)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got %v, want %v", err, tt.wantIs)
			}
			if errors.Is(err, ErrMalformedResponse) {
				t.Errorf("got %v, want no ErrMalformedResponse: the status says what went wrong", err)
			}
		})
	}
}

const (
	authUser = "connect-admin"
	authPass = "s3cret/pw"
)

// authClients returns the ways to give a Client credentials for the
// worker at u: an option, or the URL's user info.
func authClients(u string) map[string][]ClientOpt {
	withCreds := strings.Replace(u, "://", "://"+authUser+":s3cret%2Fpw@", 1)
	return map[string][]ClientOpt{
		"WithBasicAuth":   {WithURLs(u), WithBasicAuth(authUser, authPass)},
		"URL credentials": {WithURLs(withCreds)},
	}
}

func TestAuthHeader(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("GET /connectors", reply(200, `[]`))
	for name, opts := range authClients(w.URL) {
		t.Run(name, func(t *testing.T) {
			c, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.URLs(), []string{w.URL}; !slices.Equal(got, want) {
				t.Errorf("URLs: got %v, want %v", got, want)
			}
			before := len(w.requests())
			if _, err := c.Names(t.Context()); err != nil {
				t.Fatal(err)
			}
			r := w.requests()[before]
			req := &http.Request{Header: r.Header}
			user, pass, ok := req.BasicAuth()
			if !ok || user != authUser || pass != authPass {
				t.Errorf("basic auth: got %q, %q, %v, want %q, %q, true", user, pass, ok, authUser, authPass)
			}
		})
	}
}

func TestAuthNoAuthHeaderByDefault(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("GET /connectors", reply(200, `[]`))
	c := newTestClient(t, []string{w.URL})
	if _, err := c.Names(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := w.requests()[0].Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization: got %q, want none", got)
	}
}

func TestAuthSecretNeverLeaks(t *testing.T) {
	failing := newFakeWorker(t)
	failing.handle("GET /connectors", replyError(500, "Request timed out"))
	encoded := base64.StdEncoding.EncodeToString([]byte(authUser + ":" + authPass))
	workers := map[string]string{"500": failing.URL, "connection refused": closedURL(t)}
	for worker, u := range workers {
		for way, opts := range authClients(u) {
			t.Run(worker+"/"+way, func(t *testing.T) {
				var logs syncBuffer
				all := append(slices.Clip(opts), WithRetries(3), WithBackoff(time.Millisecond, time.Millisecond), WithLogger(bufferLogger(&logs)))
				c, err := New(all...)
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.Names(t.Context())
				if err == nil {
					t.Fatal("got no error, want one")
				}
				if !strings.Contains(logs.String(), "retrying") {
					t.Errorf("logs: got %q, want the retries", logs.String())
				}
				for what, text := range map[string]string{
					"error": err.Error(), "logs": logs.String(), "URLs": strings.Join(c.URLs(), " "),
				} {
					for _, secret := range []string{"s3cret", encoded} {
						if strings.Contains(text, secret) {
							t.Errorf("%s: got %q, want no %q", what, text, secret)
						}
					}
				}
			})
		}
	}
}

func TestNewInvalid(t *testing.T) {
	tests := []struct {
		name string
		opts []ClientOpt
		want []string // fragments of the error
	}{
		{"no option", nil, []string{"no worker url"}},
		{"no url", []ClientOpt{WithURLs()}, []string{"no worker url"}},
		{"no scheme", []ClientOpt{WithURLs("localhost:8083")}, []string{`invalid worker url "localhost:8083"`}},
		{"no host", []ClientOpt{WithURLs("http://")}, []string{"invalid worker url"}},
		{"not a url", []ClientOpt{WithURLs("http://[::1")}, []string{"invalid worker url"}},
		{"scheme with credentials", []ClientOpt{WithURLs("ftp://admin:s3cret@host:21")}, []string{"invalid worker url", "host:21"}},
		{"bad port with credentials", []ClientOpt{WithURLs("http://admin:s3cret@host:80a")}, []string{"invalid worker url", "host:80a"}},
		{"@ in a password", []ClientOpt{WithURLs("http://admin:s3cret@pw%zz@host:8083")}, []string{"invalid worker url", "host:8083"}},
		{"one bad among good", []ClientOpt{WithURLs("http://a:8083", "tcp://b:8083")}, []string{`invalid worker url "tcp://b:8083"`}},
		{"no attempts", []ClientOpt{WithURLs("http://a:8083"), WithRetries(0)}, []string{"retries", "at least 1"}},
		{"negative backoff", []ClientOpt{WithURLs("http://a:8083"), WithBackoff(-time.Millisecond, time.Second)}, []string{"backoff"}},
		{"min above max", []ClientOpt{WithURLs("http://a:8083"), WithBackoff(2*time.Second, time.Second)}, []string{"backoff: min 2s, max 1s"}},
		{
			"HTTP client and TLS", []ClientOpt{WithURLs("https://a:8443"), WithHTTPClient(&http.Client{}), WithTLSConfig(&tls.Config{})},
			[]string{"WithHTTPClient and WithTLSConfig"},
		},
		{"nil logger", []ClientOpt{WithURLs("http://a:8083"), WithLogger(nil)}, []string{"nil logger"}},
		{
			"every problem at once", []ClientOpt{WithRetries(-1), WithBackoff(time.Second, time.Millisecond)},
			[]string{"no worker url", "at least 1", "backoff"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts...)
			if err == nil {
				t.Fatalf("got %v, want an error", c)
			}
			if c != nil {
				t.Errorf("got %v, want nil Client", c)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "new connect client: ") {
				t.Errorf("got %q, want it to start with %q", msg, "new connect client: ")
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("got %q, want it to hold %q", msg, w)
				}
			}
			for _, secret := range []string{"s3cret", "pw%zz"} {
				if strings.Contains(msg, secret) {
					t.Errorf("got %q, want no %q", msg, secret)
				}
			}
		})
	}
}

func TestNewValid(t *testing.T) {
	tests := []struct {
		name string
		opts []ClientOpt
		want []string
	}{
		{"trimmed", []ClientOpt{WithURLs(" http://a:8083/ ", "https://b:8443")}, []string{"http://a:8083", "https://b:8443"}},
		{"credentials removed", []ClientOpt{WithURLs("http://admin:s3cret@a:8083")}, []string{"http://a:8083"}},
		{"path kept", []ClientOpt{WithURLs("https://gw.example.com/connect/")}, []string{"https://gw.example.com/connect"}},
		{"nil option ignored", []ClientOpt{nil, WithURLs("http://a:8083")}, []string{"http://a:8083"}},
		{"HTTP client", []ClientOpt{WithURLs("http://a:8083"), WithHTTPClient(&http.Client{})}, []string{"http://a:8083"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts...)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := c.URLs(); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewPathPrefix(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("GET /connect/connectors", reply(200, `["a"]`))
	c := newTestClient(t, []string{w.URL + "/connect/"})
	if _, err := c.Names(t.Context()); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
}

func TestNewEnvironment(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("GET /connectors", reply(200, `[]`))
	withCreds := strings.Replace(w.URL, "://", "://"+authUser+":s3cret%2Fpw@", 1)
	tests := []struct {
		name     string
		value    *string // nil: unset
		wantURLs []string
		wantErr  string
	}{
		{name: "unset", wantErr: EnvConnectURL + " is not set"},
		{name: "blank", value: new(" "), wantErr: EnvConnectURL + " is not set"},
		{name: "invalid", value: new("localhost:8083"), wantErr: `invalid worker url "localhost:8083"`},
		{name: "two", value: new("http://a:8083, http://b:8083/"), wantURLs: []string{"http://a:8083", "http://b:8083"}},
		{name: "with credentials", value: new(withCreds), wantURLs: []string{w.URL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvConnectURL, "")
			if tt.value == nil {
				os.Unsetenv(EnvConnectURL)
			} else {
				os.Setenv(EnvConnectURL, *tt.value)
			}
			c, err := New(WithEnvironment())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error holding %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := c.URLs(); !slices.Equal(got, tt.wantURLs) {
				t.Errorf("got %v, want %v", got, tt.wantURLs)
			}
			if tt.name != "with credentials" {
				return
			}
			if _, err := c.Names(t.Context()); err != nil {
				t.Fatal(err)
			}
			req := &http.Request{Header: w.requests()[0].Header}
			if user, pass, _ := req.BasicAuth(); user != authUser || pass != authPass {
				t.Errorf("basic auth: got %q, %q, want %q, %q", user, pass, authUser, authPass)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/connectors" {
			replyError(404, "HTTP 404 Not Found")(rw, r)
			return
		}
		reply(200, `["orders-sink"]`)(rw, r)
	}))
	// The refused handshake below would log to stderr.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	t.Run("trusted", func(t *testing.T) {
		c := newTestClient(t, []string{srv.URL}, WithTLSConfig(&tls.Config{RootCAs: pool}))
		names, err := c.Names(t.Context())
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		if want := []string{"orders-sink"}; !slices.Equal(names, want) {
			t.Errorf("got %v, want %v", names, want)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		c := newTestClient(t, []string{srv.URL}, WithRetries(2))
		_, err := c.Names(t.Context())
		var certErr *tls.CertificateVerificationError
		if !errors.As(err, &certErr) {
			t.Errorf("got %v, want a certificate verification error", err)
		}
	})
}

func TestClientHeaders(t *testing.T) {
	w := newFakeWorker(t)
	w.handle("PUT "+teamPath+"/pause", reply(202, ""))
	c := newTestClient(t, []string{w.URL})
	if err := c.Pause(t.Context(), teamName); err != nil {
		t.Fatal(err)
	}
	h := w.requests()[0].Header
	for key, want := range map[string]string{
		"Accept": "application/json", "User-Agent": "streamkit-connect", "Content-Type": "", "Authorization": "",
	} {
		if got := h.Get(key); got != want {
			t.Errorf("%s: got %q, want %q", key, got, want)
		}
	}
}
