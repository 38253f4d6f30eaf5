package schema

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

const (
	priceV1 = `{"type":"record","name":"Price","namespace":"pricing","fields":[
		{"name":"sku","type":"string"},{"name":"price_cents","type":"long"}]}`
	// priceV2 adds a field with a default and retypes nothing.
	priceV2 = `{"type":"record","name":"Price","namespace":"pricing","fields":[
		{"name":"sku","type":"string"},{"name":"price_cents","type":"long"},
		{"name":"currency","type":"string","default":"EUR"}]}`
	// priceDerived is what a service derives from its Go struct: no
	// namespace, a field of its own.
	priceDerived = `{"type":"record","name":"Price","fields":[
		{"name":"sku","type":"string"},{"name":"price_cents","type":"long"},{"name":"note","type":["null","string"],"default":null}]}`
)

func planOf(t *testing.T, reg *Registry, opts SubjectPlanOptions, specs ...SubjectSpec) *SubjectPlan {
	t.Helper()
	p, err := reg.PlanSubjects(context.Background(), specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func actions(p *SubjectPlan) map[string]SubjectAction {
	out := map[string]SubjectAction{}
	for _, c := range p.Changes {
		out[c.Subject] = c.Action
	}
	return out
}

func TestPlanSubjectsLifecycle(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := newFakeRegistry(t)
	opts := SubjectPlanOptions{Namespace: "pricing."}
	v1 := SubjectSpec{Subject: "pricing.prices.v1-value", Schema: mustParse(t, priceV1), Compatibility: Full}

	p := planOf(t, reg, opts, v1)
	if got := actions(p)[v1.Subject]; got != SubjectCreate {
		t.Fatalf("new subject: %s, want create\n%s", got, p)
	}
	if !slices.Equal(p.Changes[0].Diff, []string{"+ field sku: string", "+ field price_cents: long"}) {
		t.Errorf("diff of a new subject: %q", p.Changes[0].Diff)
	}
	if p.Changes[0].ToLevel != Full {
		t.Errorf("level of a new subject: %q -> %q", p.Changes[0].FromLevel, p.Changes[0].ToLevel)
	}
	res, err := reg.ApplySubjects(ctx, p, SubjectApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Registered[v1.Subject] == 0 || !slices.Equal(res.Levels, []string{v1.Subject}) {
		t.Fatalf("apply: %+v", res)
	}
	if again := planOf(t, reg, opts, v1); !again.Empty() {
		t.Fatalf("second plan after apply is not empty:\n%s", again)
	}

	// The same schema written differently is unchanged.
	respaced := v1
	respaced.Schema = mustParse(t, strings.ReplaceAll(priceV1, "\n\t\t", " "))
	if p := planOf(t, reg, opts, respaced); !p.Empty() {
		t.Fatalf("reformatted schema is a change:\n%s", p)
	}

	// A new version shows its diff and registers once.
	v2 := SubjectSpec{Subject: v1.Subject, Schema: mustParse(t, priceV2), Compatibility: Full}
	p = planOf(t, reg, opts, v2)
	c := p.Changes[0]
	if c.Action != SubjectUpdate || !c.NewVersion || c.Latest != 1 {
		t.Fatalf("new version: %+v", c)
	}
	if !slices.Equal(c.Diff, []string{`+ field currency: string = "EUR"`}) {
		t.Errorf("diff: %q", c.Diff)
	}
	if _, err := reg.ApplySubjects(ctx, p, SubjectApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if l, err := reg.Latest(ctx, v1.Subject); err != nil || l.Version != 2 {
		t.Fatalf("latest after the update: %+v %v", l, err)
	}

	// A level change alone is an update that registers nothing.
	v2.Compatibility = BackwardTransitive
	p = planOf(t, reg, opts, v2)
	c = p.Changes[0]
	if c.Action != SubjectUpdate || c.NewVersion || c.FromLevel != Full || c.ToLevel != BackwardTransitive {
		t.Fatalf("level change: %+v", c)
	}
	if !strings.Contains(p.String(), "compatibility: FULL -> BACKWARD_TRANSITIVE") {
		t.Errorf("text:\n%s", p)
	}
	res, err = reg.ApplySubjects(ctx, p, SubjectApplyOptions{})
	if err != nil || len(res.Registered) != 0 {
		t.Fatalf("level apply: %+v, %v", res, err)
	}
	if again := planOf(t, reg, opts, v2); !again.Empty() {
		t.Fatalf("plan after the level change:\n%s", again)
	}
}

// A version registered outside the repository (a service's derived
// schema) is drift: reported, refused by apply, never accepted.
func TestPlanSubjectsDrift(t *testing.T) {
	ctx := context.Background()
	reg, fake, _ := newFakeRegistry(t)
	opts := SubjectPlanOptions{Namespace: "pricing."}
	spec := SubjectSpec{Subject: "pricing.prices.v1-value", Schema: mustParse(t, priceV1)}
	if _, err := reg.ApplySubjects(ctx, planOf(t, reg, opts, spec), SubjectApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fake.RegisterSchema(spec.Subject, sr.Schema{Schema: priceDerived}); err != nil {
		t.Fatal(err)
	}
	p := planOf(t, reg, opts, spec)
	c := p.Changes[0]
	if c.Action != SubjectDrift || c.Latest != 2 || c.Version != 1 {
		t.Fatalf("drift: %+v\n%s", c, p)
	}
	for _, want := range []string{"! drift pricing.prices.v1-value", "record name: Price -> pricing.Price", "- field note", "1 drifted"} {
		if !strings.Contains(p.String(), want) {
			t.Errorf("plan text lacks %q:\n%s", want, p)
		}
	}
	_, err := reg.ApplySubjects(ctx, p, SubjectApplyOptions{Force: true})
	if !errors.Is(err, ErrDrift) {
		t.Fatalf("apply of a drifted plan: %v, want ErrDrift", err)
	}
	if vs, err := reg.Client().SubjectVersions(ctx, spec.Subject); err != nil || !slices.Equal(vs, []int{1, 2}) {
		t.Fatalf("apply wrote something: versions %v, %v", vs, err)
	}
}

func TestPlanSubjectsRefusedAndPrune(t *testing.T) {
	ctx := context.Background()
	reg, fake, _ := newFakeRegistry(t)
	opts := SubjectPlanOptions{Namespace: "pricing.", Prune: true}
	old := SubjectSpec{Subject: "pricing.old-value", Schema: mustParse(t, priceV1)}
	keep := SubjectSpec{Subject: "pricing.prices.v1-value", Schema: mustParse(t, priceV1)}
	if _, _, err := fake.RegisterSchema("billing.invoices-value", sr.Schema{Schema: priceV1}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ApplySubjects(ctx, planOf(t, reg, opts, old, keep), SubjectApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// srfake finds everything compatible; answer as a registry that does
	// not.
	fake.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/compatibility/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"is_compatible": false, "messages": []string{"reader field price_cents is int, writer long"}})
		return true
	})
	retyped := keep
	retyped.Schema = mustParse(t, strings.Replace(priceV1, `"price_cents","type":"long"`, `"price_cents","type":"int"`, 1))
	p := planOf(t, reg, opts, retyped)
	got := actions(p)
	if got[keep.Subject] != SubjectRefused || got[old.Subject] != SubjectDelete || len(got) != 2 {
		t.Fatalf("plan: %v\n%s", got, p)
	}
	if !strings.Contains(p.String(), "~ field price_cents: long -> int") || !strings.Contains(p.String(), "price_cents is int") {
		t.Errorf("refusal lacks the diff or the registry's reason:\n%s", p)
	}
	if _, err := reg.ApplySubjects(ctx, p, SubjectApplyOptions{Force: true}); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("apply of a refused plan: %v", err)
	}
	fake.ClearInterceptors()

	p = planOf(t, reg, opts, keep)
	if _, err := reg.ApplySubjects(ctx, p, SubjectApplyOptions{}); !errors.Is(err, ErrDeleteNeedsForce) {
		t.Fatalf("delete without force: %v", err)
	}
	if !fake.SubjectExists(old.Subject) {
		t.Fatal("a refused apply deleted the subject")
	}
	res, err := reg.ApplySubjects(ctx, p, SubjectApplyOptions{Force: true})
	if err != nil || !slices.Equal(res.Deleted, []string{old.Subject}) {
		t.Fatalf("forced prune: %+v, %v", res, err)
	}
	if again := planOf(t, reg, opts, keep); !again.Empty() {
		t.Fatalf("plan after prune:\n%s", again)
	}
	if !fake.SubjectExists("billing.invoices-value") {
		t.Fatal("prune deleted another team's subject")
	}
}

func TestPlanSubjectsRefusesBadSpecs(t *testing.T) {
	reg, _, ct := newFakeRegistry(t)
	s := mustParse(t, priceV1)
	_, err := reg.PlanSubjects(context.Background(), []SubjectSpec{
		{Subject: "billing.x-value", Schema: s},
		{Subject: "pricing.a-value", Schema: s},
		{Subject: "pricing.a-value", Schema: s},
		{Subject: "pricing.b-value"},
		{Subject: "pricing.c-value", Schema: s, Compatibility: "SIDEWAYS"},
	}, SubjectPlanOptions{Namespace: "pricing."})
	for _, want := range []string{`"billing.x-value" is outside the namespace`, `"pricing.a-value" is declared twice`,
		`"pricing.b-value" has no schema`, `unknown compatibility level "SIDEWAYS"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if n := ct.count("/"); n != 0 {
		t.Errorf("a refused plan made %d requests", n)
	}
}

func TestDiffSchemas(t *testing.T) {
	prev := mustParse(t, `{"type":"record","name":"Order","fields":[
		{"name":"id","type":"string"},
		{"name":"total","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
		{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]}},
		{"name":"gone","type":"int"},
		{"name":"qty","type":"int","default":1}]}`)
	next := mustParse(t, `{"type":"record","name":"Order","fields":[
		{"name":"id","type":"string","doc":"the order"},
		{"name":"total","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
		{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"city","type":["null","string"],"default":null}]}},
		{"name":"qty","type":"long","default":2},
		{"name":"tags","type":{"type":"array","items":"string"},"default":[]}]}`)
	want := []string{
		"~ doc of id",
		"~ field total: bytes(decimal 10,2) -> bytes(decimal 12,2)",
		"~ field address.city: string -> null|string",
		"+ default of address.city: null",
		"~ field qty: int -> long",
		"~ default of qty: 1 -> 2",
		"+ field tags: array<string> = []",
		"- field gone",
	}
	if got := diffSchemas(prev, next); !slices.Equal(got, want) {
		t.Errorf("diff:\n got %q\nwant %q", got, want)
	}
}
