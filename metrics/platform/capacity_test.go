package platform

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

var capT0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

const capDay = 24 * time.Hour

func capNear(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s: got %v, want %v (±%v)", what, got, want, tol)
	}
}

// capLinearHistory is n daily snapshots: topic "t" grows 1e8 bytes and
// writes 100 records/s every day, broker 1 grows 2e8 bytes a day, topic
// "flat" and broker 2 never change.
func capLinearHistory(n int) []Snapshot {
	var out []Snapshot
	for i := range n {
		f := float64(i)
		out = append(out, Snapshot{
			Time: capT0.Add(time.Duration(i) * capDay),
			Topics: []TopicSnapshot{
				{Topic: "t", Bytes: int64(1e9 + f*1e8), EndOffsets: int64(f * 86400 * 100), RecordsPerSecond: 100, Partitions: 2},
				{Topic: "flat", Bytes: 5e8, EndOffsets: 42, Partitions: 1},
			},
			Brokers: []BrokerSnapshot{
				{Broker: 2, Bytes: 3e9},
				{Broker: 1, Bytes: int64(2e9 + f*2e8)},
			},
		})
	}
	return out
}

func capTopic(t *testing.T, c Capacity, name string) TopicCapacity {
	t.Helper()
	for _, tc := range c.Topics {
		if tc.Topic == name {
			return tc
		}
	}
	t.Fatalf("topic %q not in report", name)
	return TopicCapacity{}
}

func TestCapacityLinear(t *testing.T) {
	for _, m := range []ForecastMethod{LeastSquares, Holt} {
		t.Run(m.String(), func(t *testing.T) {
			h := capLinearHistory(5)
			h[0], h[3] = h[3], h[0] // order must not matter
			c := CapacityReport(h, CapacityOptions{
				Method:                          m,
				StorageBudgetBytes:              4e9,
				TopicBudgetBytes:                map[string]int64{"t": 2e9, "flat": 1e9},
				TargetPartitionRecordsPerSecond: 30,
				PricePerGBMonth:                 0.1,
			})
			if c.Snapshots != 5 || !c.Time.Equal(capT0.Add(4*capDay)) || c.WindowSeconds != 4*86400 || c.Method != m.String() {
				t.Errorf("header: got %d snapshots at %v over %vs by %s", c.Snapshots, c.Time, c.WindowSeconds, c.Method)
			}
			tc := capTopic(t, c, "t")
			if tc.Bytes != 14e8 {
				t.Errorf("bytes: got %d, want %d", tc.Bytes, int64(14e8))
			}
			capNear(t, "growth/day", tc.GrowthBytesPerDay, 1e8, 1e-3)
			capNear(t, "days until budget", tc.DaysUntilBudget, 6, 1e-9)
			capNear(t, "records/s", tc.RecordsPerSecond, 100, 1e-9)
			capNear(t, "records/s growth", tc.RecordsPerSecondGrowthPerDay, 0, 1e-9)
			capNear(t, "forecast records/s", tc.ForecastRecordsPerSecond, 100, 1e-9)
			if tc.Partitions != 2 || tc.PartitionsNeeded != 4 { // ceil(100/30)
				t.Errorf("partitions: got %d needed %d, want 2 needed 4", tc.Partitions, tc.PartitionsNeeded)
			}
			capNear(t, "cost", tc.MonthlyCost, 0.14, 1e-12)

			flat := capTopic(t, c, "flat")
			if flat.GrowthBytesPerDay != 0 || flat.DaysUntilBudget != -1 || flat.RecordsPerSecond != 0 || flat.PartitionsNeeded != 1 {
				t.Errorf("flat: got %+v, want no growth, days -1, 0 records/s, 1 partition", flat)
			}
			capNear(t, "total cost", c.MonthlyCost, 0.14+0.05, 1e-12)

			if len(c.Brokers) != 2 || c.Brokers[0].Broker != 1 || c.Brokers[1].Broker != 2 {
				t.Fatalf("brokers: got %+v, want 1 then 2", c.Brokers)
			}
			b1, b2 := c.Brokers[0], c.Brokers[1]
			capNear(t, "broker growth", b1.GrowthBytesPerDay, 2e8, 1e-3)
			capNear(t, "broker days", b1.DaysUntilBudget, 6, 1e-9) // (4e9-2.8e9)/2e8
			if b2.GrowthBytesPerDay != 0 || b2.DaysUntilBudget != -1 {
				t.Errorf("flat broker: got %+v, want no growth, days -1", b2)
			}
		})
	}
}

func TestCapacityBudgets(t *testing.T) {
	h := capLinearHistory(3)
	c := CapacityReport(h, CapacityOptions{StorageBudgetBytes: 1e9, TopicBudgetBytes: map[string]int64{"flat": 1e8}})
	if d := capTopic(t, c, "flat").DaysUntilBudget; d != 0 {
		t.Errorf("topic over budget: got %v days, want 0", d)
	}
	if d := capTopic(t, c, "t").DaysUntilBudget; d != -1 {
		t.Errorf("topic without budget: got %v days, want -1", d)
	}
	for _, b := range c.Brokers {
		if b.DaysUntilBudget != 0 {
			t.Errorf("broker %d over budget: got %v days, want 0", b.Broker, b.DaysUntilBudget)
		}
	}
}

func TestCapacityRecordsTrend(t *testing.T) {
	// The write rate grows 10 records/s a day: day i writes 100+10i.
	var h []Snapshot
	var end int64
	for i := range 5 {
		if i > 0 {
			end += int64(100+10*i) * 86400
		}
		h = append(h, Snapshot{
			Time:   capT0.Add(time.Duration(i) * capDay),
			Topics: []TopicSnapshot{{Topic: "t", EndOffsets: end, Partitions: 1}},
		})
	}
	for _, m := range []ForecastMethod{LeastSquares, Holt} {
		t.Run(m.String(), func(t *testing.T) {
			c := CapacityReport(h, CapacityOptions{Method: m, TargetPartitionRecordsPerSecond: 100, Horizon: 10 * capDay})
			tc := capTopic(t, c, "t")
			capNear(t, "records/s", tc.RecordsPerSecond, 140, 1e-9)
			capNear(t, "records/s growth", tc.RecordsPerSecondGrowthPerDay, 10, 1e-9)
			capNear(t, "forecast", tc.ForecastRecordsPerSecond, 240, 1e-9)
			if tc.PartitionsNeeded != 3 { // ceil(240/100)
				t.Errorf("partitions needed: got %d, want 3", tc.PartitionsNeeded)
			}
		})
	}
}

func TestCapacityWindow(t *testing.T) {
	// Five flat days, then five days growing 1e8 a day: a window over the
	// growth alone sees the exact slope.
	var h []Snapshot
	for i := range 10 {
		size := int64(1e9)
		if i >= 5 {
			size += int64(i-5) * 1e8
		}
		h = append(h, Snapshot{Time: capT0.Add(time.Duration(i) * capDay), Topics: []TopicSnapshot{{Topic: "t", Bytes: size}}})
	}
	for name, opts := range map[string]CapacityOptions{
		"count":    {Window: 5},
		"duration": {WindowDuration: 4 * capDay},
		"both":     {Window: 7, WindowDuration: 4 * capDay},
	} {
		t.Run(name, func(t *testing.T) {
			c := CapacityReport(h, opts)
			if c.Snapshots != 5 {
				t.Errorf("snapshots: got %d, want 5", c.Snapshots)
			}
			capNear(t, "growth", capTopic(t, c, "t").GrowthBytesPerDay, 1e8, 1e-3)
		})
	}
	all := CapacityReport(h, CapacityOptions{})
	if g := capTopic(t, all, "t").GrowthBytesPerDay; g <= 0 || g >= 1e8 {
		t.Errorf("whole history: got growth %v, want between 0 and 1e8", g)
	}
}

func TestCapacityEdgeCases(t *testing.T) {
	if c := CapacityReport(nil, CapacityOptions{}); c.Snapshots != 0 || len(c.Topics) != 0 || len(c.Brokers) != 0 {
		t.Errorf("empty history: got %+v", c)
	}
	one := []Snapshot{{Time: capT0, Topics: []TopicSnapshot{{Topic: "t", Bytes: 100, RecordsPerSecond: 7}}}}
	tc := capTopic(t, CapacityReport(one, CapacityOptions{TargetPartitionRecordsPerSecond: 5}), "t")
	if tc.GrowthBytesPerDay != 0 || tc.RecordsPerSecond != 7 || tc.ForecastRecordsPerSecond != 7 || tc.PartitionsNeeded != 2 {
		t.Errorf("one snapshot: got %+v", tc)
	}
	// A shrinking rate is never forecast below zero.
	shrinking := []Snapshot{
		{Time: capT0, Topics: []TopicSnapshot{{Topic: "t"}}},
		{Time: capT0.Add(capDay), Topics: []TopicSnapshot{{Topic: "t", EndOffsets: 100 * 86400}}},
		{Time: capT0.Add(2 * capDay), Topics: []TopicSnapshot{{Topic: "t", EndOffsets: 110 * 86400}}},
	}
	if f := capTopic(t, CapacityReport(shrinking, CapacityOptions{}), "t").ForecastRecordsPerSecond; f != 0 {
		t.Errorf("shrinking forecast: got %v, want 0", f)
	}
}

func TestForecastLinearFit(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 5, 8}
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = 3 + 2*x
	}
	slope, level := LinearFit(xs, ys)
	capNear(t, "slope", slope, 2, 1e-12)
	capNear(t, "level", level, 19, 1e-12)

	slope, level = LinearFit([]float64{0, 1, 2, 3}, []float64{7, 7, 7, 7})
	if slope != 0 || level != 7 {
		t.Errorf("constant: got slope %v level %v, want 0 and 7", slope, level)
	}
	slope, level = LinearFit([]float64{1, 1}, []float64{2, 4})
	if slope != 0 || level != 3 {
		t.Errorf("one x: got slope %v level %v, want 0 and 3", slope, level)
	}
}

func TestForecastHolt(t *testing.T) {
	var xs, ys []float64
	for i := range 10 {
		xs, ys = append(xs, float64(i)), append(ys, 3+2*float64(i))
	}
	trend, level := HoltLinear(xs, ys, 0.5, 0.3)
	capNear(t, "linear trend", trend, 2, 1e-12)
	capNear(t, "linear level", level, 21, 1e-12)

	if trend, level := HoltLinear(xs, make([]float64, len(xs)), 0.5, 0.3); trend != 0 || level != 0 {
		t.Errorf("constant: got trend %v level %v, want 0 and 0", trend, level)
	}

	// Flat for ten points, then slope 5: Holt converges to the new slope,
	// while least squares over the whole series still lags behind it.
	xs, ys = nil, nil
	for i := range 60 {
		y := 0.0
		if i > 9 {
			y = 5 * float64(i-9)
		}
		xs, ys = append(xs, float64(i)), append(ys, y)
	}
	trend, _ = HoltLinear(xs, ys, 0.5, 0.3)
	capNear(t, "holt after change", trend, 5, 1e-3)
	if ls, _ := LinearFit(xs, ys); ls > 4.9 {
		t.Errorf("least squares after change: got %v, want visibly below 5", ls)
	}

	// Uneven spacing keeps an exact linear trend exact.
	trend, _ = HoltLinear([]float64{0, 0.5, 2, 2, 7}, []float64{1, 2, 5, 5, 15}, 0.4, 0.2)
	capNear(t, "uneven trend", trend, 2, 1e-12)
}

func TestCapacityTableAndJSON(t *testing.T) {
	c := CapacityReport(capLinearHistory(5), CapacityOptions{
		StorageBudgetBytes: 4e9, TopicBudgetBytes: map[string]int64{"t": 2e9},
		TargetPartitionRecordsPerSecond: 30, PricePerGBMonth: 0.1,
	})
	table := c.Table()
	for _, want := range []string{"TOPIC", "GROWTH/DAY", "DAYS LEFT", "COST/MONTH", "BROKER", "1.4 GB", "100.0 MB", "6.0", "TOTAL", "0.19", "least-squares", "96h0m0s"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	lines := strings.Split(table, "\n")
	var header, row string
	for _, l := range lines {
		if strings.HasPrefix(l, "TOPIC") {
			header = l
		}
		if strings.HasPrefix(l, "t ") {
			row = l
		}
	}
	if header == "" || row == "" || strings.Index(header, "BYTES") != strings.Index(row, "1.4 GB") {
		t.Errorf("columns not aligned:\n%s", table)
	}

	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"topics":`, `"brokers":`, `"growth_bytes_per_day":`, `"days_until_budget":`, `"partitions_needed":4`, `"monthly_cost":`, `"forecast_records_per_second":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("json lacks %s: %s", key, b)
		}
	}
}
