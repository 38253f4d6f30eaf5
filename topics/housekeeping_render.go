package topics

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// String renders the report for people.
func (r *HousekeepingReport) String() string {
	var b strings.Builder
	o := r.Options
	fmt.Fprintf(&b, "housekeeping report at %s", r.Time.UTC().Format(time.RFC3339))
	var scope []string
	if o.Prefix != "" {
		scope = append(scope, fmt.Sprintf("prefix %q", o.Prefix))
	}
	if o.IncludeInternal {
		scope = append(scope, "internal topics included")
	}
	if o.IdleAfter > 0 {
		scope = append(scope, "idle after "+o.IdleAfter.String())
	}
	if o.MaxRetention > 0 {
		scope = append(scope, "max retention "+o.MaxRetention.String())
	}
	if o.PricePerGBMonth > 0 {
		scope = append(scope, fmt.Sprintf("%.4g per GB-month", o.PricePerGBMonth))
	}
	if len(scope) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(scope, ", "))
	}
	b.WriteString("\n")

	if o.IdleAfter > 0 {
		fmt.Fprintf(&b, "\nidle topics (%d):\n", len(r.IdleTopics))
		for _, t := range r.IdleTopics {
			if t.Empty {
				fmt.Fprintf(&b, "  %s: empty\n", t.Topic)
				continue
			}
			fmt.Fprintf(&b, "  %s: newest record %s, idle %s\n", t.Topic, t.Newest.UTC().Format(time.RFC3339), t.IdleFor.Round(time.Second))
		}
	}

	fmt.Fprintf(&b, "\ntopics without a consumer group (%d):\n", len(r.TopicsWithoutGroups))
	for _, t := range r.TopicsWithoutGroups {
		fmt.Fprintf(&b, "  %s\n", t)
	}

	for _, sec := range []struct {
		title  string
		groups []InactiveGroup
	}{{"empty groups", r.EmptyGroups}, {"dead groups", r.DeadGroups}} {
		fmt.Fprintf(&b, "\n%s (%d):\n", sec.title, len(sec.groups))
		for _, g := range sec.groups {
			fmt.Fprintf(&b, "  %s", g.Group)
			var info []string
			if g.ProtocolType != "" {
				info = append(info, g.ProtocolType)
			}
			if len(g.Topics) > 0 {
				info = append(info, "topics "+strings.Join(g.Topics, ", "))
			}
			if g.Age > 0 {
				info = append(info, fmt.Sprintf("last consumed record %s, age %s", g.LastConsumed.UTC().Format(time.RFC3339), g.Age.Round(time.Second)))
			} else {
				info = append(info, "age unknown")
			}
			fmt.Fprintf(&b, ": %s\n", strings.Join(info, "; "))
		}
	}

	if o.MaxRetention > 0 {
		fmt.Fprintf(&b, "\ntopics over the retention limit (%d):\n", len(r.OverRetention))
		for _, t := range r.OverRetention {
			ret := "infinite"
			if !t.Infinite() {
				ret = (time.Duration(t.RetentionMS) * time.Millisecond).String()
			}
			fmt.Fprintf(&b, "  %s: retention %s, cleanup.policy %s\n", t.Topic, ret, t.CleanupPolicy)
		}
	}

	b.WriteString("\nstorage by topic:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  topic\tpartitions\tbytes (all replicas)\tbytes (leaders)\tmonthly cost\t")
	for _, t := range r.Storage {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%.2f\t\n", t.Topic, t.Partitions, formatBytes(t.Bytes), formatBytes(t.LeaderBytes), t.MonthlyCost)
	}
	fmt.Fprintf(tw, "  total\t\t%s\t\t%.2f\t\n", formatBytes(r.TotalBytes), r.TotalMonthlyCost)
	_ = tw.Flush()

	b.WriteString("\nstorage by broker:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  broker\tbytes\t")
	for _, bs := range r.Brokers {
		fmt.Fprintf(tw, "  %d\t%s\t\n", bs.Broker, formatBytes(bs.Bytes))
	}
	_ = tw.Flush()
	return b.String()
}

// formatBytes renders n in decimal units, as the cost estimate counts
// them.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}
