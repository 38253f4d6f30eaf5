package platform

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// ForecastMethod is how CapacityReport fits a trend to a series.
type ForecastMethod int

const (
	// LeastSquares fits a straight line to the whole window by ordinary
	// least squares: robust to noise, slow to follow a change of slope.
	LeastSquares ForecastMethod = iota
	// Holt uses Holt's linear (double exponential) smoothing with
	// CapacityOptions.HoltAlpha and HoltBeta: recent points weigh more, so
	// it follows a change of slope sooner.
	Holt
)

// String returns "least-squares" or "holt".
func (m ForecastMethod) String() string {
	switch m {
	case LeastSquares:
		return "least-squares"
	case Holt:
		return "holt"
	default:
		return fmt.Sprintf("ForecastMethod(%d)", int(m))
	}
}

// Defaults for CapacityOptions' zero fields.
const (
	DefaultHoltAlpha       = 0.5
	DefaultHoltBeta        = 0.3
	DefaultCapacityHorizon = 30 * 24 * time.Hour
)

// CapacityOptions tune CapacityReport. The zero value uses every snapshot,
// least squares, no budgets, no partition target and no price.
type CapacityOptions struct {
	// Window keeps only the newest Window snapshots; 0 keeps all.
	Window int
	// WindowDuration keeps only snapshots at most this much older than
	// the newest; 0 means no limit. Applied before Window.
	WindowDuration time.Duration
	// Method is the trend fit, LeastSquares by default.
	Method ForecastMethod
	// HoltAlpha and HoltBeta are Holt's level and trend smoothing
	// factors in (0, 1]; other values mean DefaultHoltAlpha (0.5) and
	// DefaultHoltBeta (0.3).
	HoltAlpha, HoltBeta float64
	// Horizon is how far ahead ForecastRecordsPerSecond looks,
	// DefaultCapacityHorizon (30 days) when 0 or less.
	Horizon time.Duration
	// StorageBudgetBytes is each broker's storage budget; 0 means none.
	StorageBudgetBytes int64
	// TopicBudgetBytes are per-topic budgets (all replicas); topics not in
	// the map have none.
	TopicBudgetBytes map[string]int64
	// TargetPartitionRecordsPerSecond is the throughput one partition
	// should carry; 0 skips the partition recommendation.
	TargetPartitionRecordsPerSecond float64
	// PricePerGBMonth is the storage price per 1e9 bytes per month.
	PricePerGBMonth float64
}

// Capacity is CapacityReport's result. Days until a budget is -1 when there
// is no budget or the size is not growing (JSON cannot carry +Inf), and 0
// when the budget is already reached.
type Capacity struct {
	// Time is the newest snapshot's time.
	Time time.Time `json:"time"`
	// Snapshots is how many snapshots the window held; WindowSeconds the
	// time between its oldest and newest.
	Snapshots     int              `json:"snapshots"`
	WindowSeconds float64          `json:"window_seconds"`
	Method        string           `json:"method"`
	Topics        []TopicCapacity  `json:"topics"`
	Brokers       []BrokerCapacity `json:"brokers"`
	// MonthlyCost is the sum of the topics' MonthlyCost.
	MonthlyCost float64 `json:"monthly_cost"`
}

// TopicCapacity is one topic's growth and sizing. Sizes are of all
// replicas (TopicSnapshot.Bytes), since that is what disks and bills see.
type TopicCapacity struct {
	Topic             string  `json:"topic"`
	Bytes             int64   `json:"bytes"`
	GrowthBytesPerDay float64 `json:"growth_bytes_per_day"`
	BudgetBytes       int64   `json:"budget_bytes,omitempty"`
	DaysUntilBudget   float64 `json:"days_until_budget"`
	RecordsPerSecond  float64 `json:"records_per_second"`
	// RecordsPerSecondGrowthPerDay is the trend of the write rate.
	RecordsPerSecondGrowthPerDay float64 `json:"records_per_second_growth_per_day"`
	// ForecastRecordsPerSecond is the trend extrapolated by the Horizon,
	// never below 0.
	ForecastRecordsPerSecond float64 `json:"forecast_records_per_second"`
	Partitions               int     `json:"partitions"`
	// PartitionsNeeded is ceil(max(current, forecast records/s) / target),
	// at least 1; 0 when no target is set.
	PartitionsNeeded int     `json:"partitions_needed,omitempty"`
	MonthlyCost      float64 `json:"monthly_cost"`
}

// BrokerCapacity is one broker's storage growth.
type BrokerCapacity struct {
	Broker            int32   `json:"broker"`
	Bytes             int64   `json:"bytes"`
	GrowthBytesPerDay float64 `json:"growth_bytes_per_day"`
	BudgetBytes       int64   `json:"budget_bytes,omitempty"`
	DaysUntilBudget   float64 `json:"days_until_budget"`
}

// capPoint is one observation: x in days since the window's start.
type capPoint struct{ x, y float64 }

// CapacityReport fits a trend to each topic's and broker's size and each
// topic's write rate over history and reports growth, time until budget,
// partitions needed and storage cost. history need not be sorted. Topics
// and brokers are those of the newest snapshot; their series use every
// snapshot in the window that lists them. A write-rate series is derived
// from the end-offset deltas between consecutive snapshots, so it does not
// depend on how the collector computed RecordsPerSecond; with a single
// snapshot the snapshot's RecordsPerSecond is used.
func CapacityReport(history []Snapshot, opts CapacityOptions) Capacity {
	snaps := capWindow(history, opts)
	c := Capacity{Method: opts.Method.String(), Snapshots: len(snaps), Topics: []TopicCapacity{}, Brokers: []BrokerCapacity{}}
	if len(snaps) == 0 {
		return c
	}
	start, newest := snaps[0].Time, snaps[len(snaps)-1]
	c.Time = newest.Time
	c.WindowSeconds = newest.Time.Sub(start).Seconds()
	days := func(t time.Time) float64 { return t.Sub(start).Hours() / 24 }
	horizon := opts.Horizon
	if horizon <= 0 {
		horizon = DefaultCapacityHorizon
	}
	horizonDays := horizon.Hours() / 24

	for _, nt := range newest.Topics {
		var size, rate []capPoint
		var prev *TopicSnapshot
		var prevTime time.Time
		for i := range snaps {
			t, ok := capFindTopic(snaps[i].Topics, nt.Topic)
			if !ok {
				continue
			}
			x := days(snaps[i].Time)
			size = append(size, capPoint{x, float64(t.Bytes)})
			if prev != nil {
				dt := snaps[i].Time.Sub(prevTime).Seconds()
				if d := t.EndOffsets - prev.EndOffsets; dt > 0 && d >= 0 { // d < 0: topic recreated
					rate = append(rate, capPoint{x, float64(d) / dt})
				}
			}
			prev, prevTime = &t, snaps[i].Time
		}
		tc := TopicCapacity{
			Topic:            nt.Topic,
			Bytes:            nt.Bytes,
			Partitions:       nt.Partitions,
			RecordsPerSecond: nt.RecordsPerSecond,
			BudgetBytes:      opts.TopicBudgetBytes[nt.Topic],
		}
		tc.GrowthBytesPerDay, _ = capTrend(size, opts)
		tc.DaysUntilBudget = capDaysUntil(nt.Bytes, tc.BudgetBytes, tc.GrowthBytesPerDay)
		if len(rate) > 0 {
			tc.RecordsPerSecond = rate[len(rate)-1].y
		}
		var level float64
		tc.RecordsPerSecondGrowthPerDay, level = capTrend(rate, opts)
		if len(rate) == 0 {
			level = tc.RecordsPerSecond
		}
		// level is the fit at the newest snapshot, the last rate point.
		tc.ForecastRecordsPerSecond = max(0, level+tc.RecordsPerSecondGrowthPerDay*horizonDays)
		if target := opts.TargetPartitionRecordsPerSecond; target > 0 {
			need := max(tc.RecordsPerSecond, tc.ForecastRecordsPerSecond) / target
			tc.PartitionsNeeded = max(1, int(math.Ceil(need-1e-9)))
		}
		tc.MonthlyCost = float64(nt.Bytes) / 1e9 * opts.PricePerGBMonth
		c.MonthlyCost += tc.MonthlyCost
		c.Topics = append(c.Topics, tc)
	}
	slices.SortFunc(c.Topics, func(a, b TopicCapacity) int { return strings.Compare(a.Topic, b.Topic) })

	for _, nb := range newest.Brokers {
		var size []capPoint
		for i := range snaps {
			for _, b := range snaps[i].Brokers {
				if b.Broker == nb.Broker {
					size = append(size, capPoint{days(snaps[i].Time), float64(b.Bytes)})
					break
				}
			}
		}
		bc := BrokerCapacity{Broker: nb.Broker, Bytes: nb.Bytes, BudgetBytes: opts.StorageBudgetBytes}
		bc.GrowthBytesPerDay, _ = capTrend(size, opts)
		bc.DaysUntilBudget = capDaysUntil(nb.Bytes, bc.BudgetBytes, bc.GrowthBytesPerDay)
		c.Brokers = append(c.Brokers, bc)
	}
	slices.SortFunc(c.Brokers, func(a, b BrokerCapacity) int { return int(a.Broker) - int(b.Broker) })
	return c
}

// capWindow sorts a copy of history by time and cuts it to the window.
func capWindow(history []Snapshot, opts CapacityOptions) []Snapshot {
	snaps := slices.Clone(history)
	slices.SortStableFunc(snaps, func(a, b Snapshot) int { return a.Time.Compare(b.Time) })
	if len(snaps) == 0 {
		return nil
	}
	if opts.WindowDuration > 0 {
		cut := snaps[len(snaps)-1].Time.Add(-opts.WindowDuration)
		i, _ := slices.BinarySearchFunc(snaps, cut, func(s Snapshot, t time.Time) int { return s.Time.Compare(t) })
		snaps = snaps[i:]
	}
	if opts.Window > 0 && len(snaps) > opts.Window {
		snaps = snaps[len(snaps)-opts.Window:]
	}
	return snaps
}

func capFindTopic(ts []TopicSnapshot, name string) (TopicSnapshot, bool) {
	for _, t := range ts {
		if t.Topic == name {
			return t, true
		}
	}
	return TopicSnapshot{}, false
}

// capTrend returns the slope per day and the fitted level at the last
// point with the configured method; (0, last y) for fewer than 2 points.
func capTrend(pts []capPoint, opts CapacityOptions) (slope, level float64) {
	if opts.Method == Holt {
		alpha, beta := opts.HoltAlpha, opts.HoltBeta
		if !(alpha > 0 && alpha <= 1) {
			alpha = DefaultHoltAlpha
		}
		if !(beta > 0 && beta <= 1) {
			beta = DefaultHoltBeta
		}
		xs, ys := pts2xy(pts)
		return HoltLinear(xs, ys, alpha, beta)
	}
	return LinearFit(pts2xy(pts))
}

func pts2xy(pts []capPoint) (xs, ys []float64) {
	xs, ys = make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p.x, p.y
	}
	return xs, ys
}

// LinearFit fits y = a + slope·x to the points (xs[i], ys[i]) by ordinary
// least squares and returns the slope and the fitted value at the last x.
// With fewer than 2 points, or all x equal, the slope is 0 and the level
// the mean of ys (0 when empty). xs and ys must have the same length.
func LinearFit(xs, ys []float64) (slope, level float64) {
	n := min(len(xs), len(ys))
	if n == 0 {
		return 0, 0
	}
	var mx, my float64
	for i := range n {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx float64
	for i := range n {
		dx := xs[i] - mx
		sxy += dx * (ys[i] - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, my
	}
	slope = sxy / sxx
	return slope, my + slope*(xs[n-1]-mx)
}

// HoltLinear runs Holt's linear method over the points (xs[i], ys[i]), x
// ascending, with level factor alpha and trend factor beta (both in
// (0, 1]), and returns the final trend (per unit of x) and level. It
// handles uneven spacing by scaling the trend with each step's Δx; points
// with the same x as their predecessor are skipped. It starts from
// level = ys[0] and trend = the first step's slope. With fewer than 2
// usable points the trend is 0 and the level the last y.
func HoltLinear(xs, ys []float64, alpha, beta float64) (trend, level float64) {
	n := min(len(xs), len(ys))
	if n == 0 {
		return 0, 0
	}
	level, trend = ys[0], 0.0
	lastX, started := xs[0], false
	for i := 1; i < n; i++ {
		dx := xs[i] - lastX
		if dx <= 0 {
			continue
		}
		if !started {
			trend = (ys[i] - level) / dx
			level = ys[i]
			lastX, started = xs[i], true
			continue
		}
		prevLevel := level
		level = alpha*ys[i] + (1-alpha)*(prevLevel+trend*dx)
		trend = beta*(level-prevLevel)/dx + (1-beta)*trend
		lastX = xs[i]
	}
	if !started {
		return 0, ys[n-1]
	}
	return trend, level
}

// capDaysUntil is the days until size reaches budget at growth per day:
// -1 without a budget or growth, 0 when already reached.
func capDaysUntil(size, budget int64, growth float64) float64 {
	switch {
	case budget <= 0:
		return -1
	case size >= budget:
		return 0
	case growth <= 0:
		return -1
	default:
		return float64(budget-size) / growth
	}
}

// Table renders the report as fixed-width text tables, one for topics and
// one for brokers, for a terminal or a ticket.
func (c Capacity) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "capacity at %s over %d snapshots (%s, %s)\n\n",
		c.Time.UTC().Format(time.RFC3339), c.Snapshots, time.Duration(c.WindowSeconds*float64(time.Second)).Round(time.Second), c.Method)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TOPIC\tBYTES\tGROWTH/DAY\tBUDGET\tDAYS LEFT\tREC/S\tFORECAST REC/S\tPARTITIONS\tNEEDED\tCOST/MONTH")
	for _, t := range c.Topics {
		need := "-"
		if t.PartitionsNeeded > 0 {
			need = strconv.Itoa(t.PartitionsNeeded)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%d\t%s\t%.2f\n",
			t.Topic, capBytes(float64(t.Bytes)), capBytes(t.GrowthBytesPerDay), capBudget(t.BudgetBytes), capDays(t.DaysUntilBudget),
			t.RecordsPerSecond, t.ForecastRecordsPerSecond, t.Partitions, need, t.MonthlyCost)
	}
	fmt.Fprintf(w, "TOTAL\t\t\t\t\t\t\t\t\t%.2f\n", c.MonthlyCost)
	w.Flush()
	b.WriteString("\n")
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "BROKER\tBYTES\tGROWTH/DAY\tBUDGET\tDAYS LEFT")
	for _, br := range c.Brokers {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", br.Broker, capBytes(float64(br.Bytes)), capBytes(br.GrowthBytesPerDay), capBudget(br.BudgetBytes), capDays(br.DaysUntilBudget))
	}
	w.Flush()
	return b.String()
}

func capDays(d float64) string {
	if d < 0 {
		return "-"
	}
	return strconv.FormatFloat(d, 'f', 1, 64)
}

func capBudget(n int64) string {
	if n <= 0 {
		return "-"
	}
	return capBytes(float64(n))
}

// capBytes formats n with decimal units, as storage is billed.
func capBytes(n float64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%s%.0f %s", sign, n, units[i])
	}
	return fmt.Sprintf("%s%.1f %s", sign, n, units[i])
}
