package schema

import (
	"encoding/json"
	"math/big"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/hamba/avro/v2"
)

// deriveParse parses text with hamba in a fresh cache, so that a derived
// schema must define every named type it refers to.
func deriveParse(t *testing.T, text string) avro.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parse %s: got %v, want nil", text, err)
	}
	return s
}

// deriveCompare fails unless got and want are the same schema: the same
// Parsing Canonical Form, and the same full form (which also holds the
// defaults the canonical form drops).
func deriveCompare(t *testing.T, got, want string) {
	t.Helper()
	g, w := deriveParse(t, got), deriveParse(t, want)
	if g.String() != w.String() {
		t.Errorf("canonical form: got %v, want %v", g.String(), w.String())
	}
	gj, err := json.Marshal(g)
	if err != nil {
		t.Fatalf("marshal %s: %v", got, err)
	}
	wj, err := json.Marshal(w)
	if err != nil {
		t.Fatalf("marshal %s: %v", want, err)
	}
	if string(gj) != string(wj) {
		t.Errorf("full form: got %v, want %v", string(gj), string(wj))
	}
}

// deriveTestSKU is a map key that hamba writes and reads through its text
// form.
type deriveTestSKU struct{ code string }

func (k *deriveTestSKU) MarshalText() ([]byte, error) { return []byte(k.code), nil }

func (k *deriveTestSKU) UnmarshalText(b []byte) error {
	k.code = string(b)
	return nil
}

func TestDeriveSchema(t *testing.T) {
	type Status string
	type Timeout time.Duration
	type Scalars struct {
		S   string
		B   bool
		I8  int8
		I16 int16
		I32 int32
		I   int
		I64 int64
		U8  uint8
		U16 uint16
		U32 uint32
		F32 float32
		F64 float64
		St  Status
	}
	type ID [16]byte
	type Binary struct {
		Raw   []byte
		Key   [16]byte
		Other ID
		Short [4]byte
		Keys  [][16]byte
	}
	type Times struct {
		At      time.Time
		Maybe   *time.Time
		Took    time.Duration
		Timeout Timeout
	}
	type Decimals struct {
		Price    *big.Rat            `avrodecimal:"10,2"`
		Discount **big.Rat           `avrodecimal:"5, 3"`
		Rates    []*big.Rat          `avrodecimal:"8,8"`
		ByCode   map[string]*big.Rat `avrodecimal:"20,0"`
	}
	type Point struct {
		X int32
		Y int32
	}
	type Optional struct {
		Name  *string
		Count *int64
		Tags  *[]string
		Where *Point
	}
	type Collections struct {
		Names   []string
		Grid    [][]int32
		Index   map[string][]string
		Maybe   []*string
		Points  map[string]Point
		ByCode  map[Status]bool
		BySKU   map[*deriveTestSKU]int32
		Nothing []Point
	}
	type Route struct {
		From  Point
		To    Point
		Via   []Point
		Label [16]byte
		Alt   [16]byte
	}
	type Tagged struct {
		ID      string `avro:"id"`
		Name    string `avro:"name,omitempty"`
		Skipped string `avro:"-"`
		Plain   int32
		Int     int32 `avro:"int"`
	}
	type Base struct {
		ID   string `avro:"id"`
		Note string `avro:"note"`
	}
	type Audit struct {
		By   string `avro:"by"`
		Note string `avro:"note"`
	}
	type Code string
	type Embedding struct {
		Name   string `avro:"name"`
		Base   `avro:"base"`
		*Audit `avro:"-"`
		Code
		Note string `avro:"note"`
		Last int32  `avro:"last"`
	}
	type Empty struct{}
	type Hosts struct {
		Primary   netip.Addr
		Secondary *netip.Addr
		All       []netip.Addr
	}

	tests := []struct {
		name      string
		typ       reflect.Type
		namespace string
		want      string
	}{
		{
			name: "scalars",
			typ:  reflect.TypeFor[Scalars](),
			want: `{"type":"record","name":"Scalars","fields":[
				{"name":"S","type":"string"},
				{"name":"B","type":"boolean"},
				{"name":"I8","type":"int"},
				{"name":"I16","type":"int"},
				{"name":"I32","type":"int"},
				{"name":"I","type":"long"},
				{"name":"I64","type":"long"},
				{"name":"U8","type":"int"},
				{"name":"U16","type":"int"},
				{"name":"U32","type":"long"},
				{"name":"F32","type":"float"},
				{"name":"F64","type":"double"},
				{"name":"St","type":"string"}]}`,
		},
		{
			name: "pointer to struct",
			typ:  reflect.TypeFor[*Point](),
			want: `{"type":"record","name":"Point","fields":[{"name":"X","type":"int"},{"name":"Y","type":"int"}]}`,
		},
		{
			name: "bytes and fixed defined once",
			typ:  reflect.TypeFor[Binary](),
			want: `{"type":"record","name":"Binary","fields":[
				{"name":"Raw","type":"bytes"},
				{"name":"Key","type":{"type":"fixed","name":"fixed16","size":16}},
				{"name":"Other","type":"fixed16"},
				{"name":"Short","type":{"type":"fixed","name":"fixed4","size":4}},
				{"name":"Keys","type":{"type":"array","items":"fixed16"}}]}`,
		},
		{
			name: "times",
			typ:  reflect.TypeFor[Times](),
			want: `{"type":"record","name":"Times","fields":[
				{"name":"At","type":{"type":"long","logicalType":"timestamp-millis"}},
				{"name":"Maybe","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},
				{"name":"Took","type":{"type":"long","logicalType":"time-micros"}},
				{"name":"Timeout","type":"long"}]}`,
		},
		{
			name: "decimals",
			typ:  reflect.TypeFor[Decimals](),
			want: `{"type":"record","name":"Decimals","fields":[
				{"name":"Price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
				{"name":"Discount","type":["null",{"type":"bytes","logicalType":"decimal","precision":5,"scale":3}],"default":null},
				{"name":"Rates","type":{"type":"array","items":{"type":"bytes","logicalType":"decimal","precision":8,"scale":8}}},
				{"name":"ByCode","type":{"type":"map","values":{"type":"bytes","logicalType":"decimal","precision":20,"scale":0}}}]}`,
		},
		{
			name: "optional fields",
			typ:  reflect.TypeFor[Optional](),
			want: `{"type":"record","name":"Optional","fields":[
				{"name":"Name","type":["null","string"],"default":null},
				{"name":"Count","type":["null","long"],"default":null},
				{"name":"Tags","type":["null",{"type":"array","items":"string"}],"default":null},
				{"name":"Where","type":["null",{"type":"record","name":"Point","fields":[
					{"name":"X","type":"int"},{"name":"Y","type":"int"}]}],"default":null}]}`,
		},
		{
			name: "collections",
			typ:  reflect.TypeFor[Collections](),
			want: `{"type":"record","name":"Collections","fields":[
				{"name":"Names","type":{"type":"array","items":"string"}},
				{"name":"Grid","type":{"type":"array","items":{"type":"array","items":"int"}}},
				{"name":"Index","type":{"type":"map","values":{"type":"array","items":"string"}}},
				{"name":"Maybe","type":{"type":"array","items":["null","string"]}},
				{"name":"Points","type":{"type":"map","values":{"type":"record","name":"Point","fields":[
					{"name":"X","type":"int"},{"name":"Y","type":"int"}]}}},
				{"name":"ByCode","type":{"type":"map","values":"boolean"}},
				{"name":"BySKU","type":{"type":"map","values":"int"}},
				{"name":"Nothing","type":{"type":"array","items":"Point"}}]}`,
		},
		{
			name: "nested record defined once without namespace",
			typ:  reflect.TypeFor[Route](),
			want: `{"type":"record","name":"Route","fields":[
				{"name":"From","type":{"type":"record","name":"Point","fields":[
					{"name":"X","type":"int"},{"name":"Y","type":"int"}]}},
				{"name":"To","type":"Point"},
				{"name":"Via","type":{"type":"array","items":"Point"}},
				{"name":"Label","type":{"type":"fixed","name":"fixed16","size":16}},
				{"name":"Alt","type":"fixed16"}]}`,
		},
		{
			name:      "nested record defined once in a namespace",
			typ:       reflect.TypeFor[Route](),
			namespace: "com.example.geo",
			want: `{"type":"record","name":"Route","namespace":"com.example.geo","fields":[
				{"name":"From","type":{"type":"record","name":"Point","namespace":"com.example.geo","fields":[
					{"name":"X","type":"int"},{"name":"Y","type":"int"}]}},
				{"name":"To","type":"com.example.geo.Point"},
				{"name":"Via","type":{"type":"array","items":"com.example.geo.Point"}},
				{"name":"Label","type":{"type":"fixed","name":"fixed16","namespace":"com.example.geo","size":16}},
				{"name":"Alt","type":"com.example.geo.fixed16"}]}`,
		},
		{
			name: "tags and skipped fields",
			typ:  reflect.TypeFor[Tagged](),
			want: `{"type":"record","name":"Tagged","fields":[
				{"name":"id","type":"string"},
				{"name":"name","type":"string"},
				{"name":"Plain","type":"int"},
				{"name":"int","type":"int"}]}`,
		},
		{
			// hamba inlines embedded structs whatever their tag, skips
			// embedded non-structs, and lets the shallower "note" win.
			name: "embedded structs inlined in go order",
			typ:  reflect.TypeFor[Embedding](),
			want: `{"type":"record","name":"Embedding","fields":[
				{"name":"name","type":"string"},
				{"name":"id","type":"string"},
				{"name":"by","type":"string"},
				{"name":"note","type":"string"},
				{"name":"last","type":"int"}]}`,
		},
		{
			name: "text struct types",
			typ:  reflect.TypeFor[Hosts](),
			want: `{"type":"record","name":"Hosts","fields":[
				{"name":"Primary","type":"string"},
				{"name":"Secondary","type":["null","string"],"default":null},
				{"name":"All","type":{"type":"array","items":"string"}}]}`,
		},
		{
			name: "empty struct",
			typ:  reflect.TypeFor[Empty](),
			want: `{"type":"record","name":"Empty","fields":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deriveSchema(tt.typ, tt.namespace)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			deriveCompare(t, got, tt.want)
			again, err := deriveSchema(tt.typ, tt.namespace)
			if err != nil || again != got {
				t.Errorf("second derivation: got %v, %v, want %v, nil", again, err, got)
			}
		})
	}
}

// Retail types for the round trip.
type (
	deriveTestAddress struct {
		Street     string `avro:"street"`
		City       string `avro:"city"`
		PostalCode string `avro:"postal_code"`
		Country    string `avro:"country"`
	}
	deriveTestLineItem struct {
		SKU       string   `avro:"sku"`
		Quantity  int32    `avro:"quantity"`
		UnitPrice *big.Rat `avro:"unit_price" avrodecimal:"10,2"`
		Gift      bool     `avro:"gift"`
	}
	deriveTestOrder struct {
		ID         [16]byte             `avro:"id"`
		Number     string               `avro:"number"`
		CustomerID int64                `avro:"customer_id"`
		Channel    int32                `avro:"channel"`
		PlacedAt   time.Time            `avro:"placed_at"`
		Total      *big.Rat             `avro:"total" avrodecimal:"12,2"`
		WeightKg   float64              `avro:"weight_kg"`
		Express    bool                 `avro:"express"`
		Coupon     *string              `avro:"coupon"`
		Note       *string              `avro:"note"`
		Lines      []deriveTestLineItem `avro:"lines"`
		Attributes map[string]string    `avro:"attributes"`
		Billing    deriveTestAddress    `avro:"billing"`
		Shipping   deriveTestAddress    `avro:"shipping"`
		Pickup     *deriveTestAddress   `avro:"pickup"`
		CachedJSON []byte               `avro:"-"`
		revision   int
	}
)

// deriveTestOrderSchema is the schema deriveTestOrder derives to in
// namespace com.example.retail.
const deriveTestOrderSchema = `{"type":"record","name":"deriveTestOrder","namespace":"com.example.retail","fields":[
	{"name":"id","type":{"type":"fixed","name":"fixed16","size":16}},
	{"name":"number","type":"string"},
	{"name":"customer_id","type":"long"},
	{"name":"channel","type":"int"},
	{"name":"placed_at","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"total","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
	{"name":"weight_kg","type":"double"},
	{"name":"express","type":"boolean"},
	{"name":"coupon","type":["null","string"],"default":null},
	{"name":"note","type":["null","string"],"default":null},
	{"name":"lines","type":{"type":"array","items":{"type":"record","name":"deriveTestLineItem","fields":[
		{"name":"sku","type":"string"},
		{"name":"quantity","type":"int"},
		{"name":"unit_price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
		{"name":"gift","type":"boolean"}]}}},
	{"name":"attributes","type":{"type":"map","values":"string"}},
	{"name":"billing","type":{"type":"record","name":"deriveTestAddress","fields":[
		{"name":"street","type":"string"},
		{"name":"city","type":"string"},
		{"name":"postal_code","type":"string"},
		{"name":"country","type":"string"}]}},
	{"name":"shipping","type":"com.example.retail.deriveTestAddress"},
	{"name":"pickup","type":["null","com.example.retail.deriveTestAddress"],"default":null}]}`

func TestDeriveSchemaOrderRoundTrip(t *testing.T) {
	text, err := deriveSchema(reflect.TypeFor[deriveTestOrder](), "com.example.retail")
	if err != nil {
		t.Fatalf("derive: got %v, want nil", err)
	}
	deriveCompare(t, text, deriveTestOrderSchema)
	s := deriveParse(t, text)

	coupon := "SPRING10"
	placed := time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("CET", 3600))
	tests := []struct {
		name  string
		order deriveTestOrder
	}{
		{
			name: "full",
			order: deriveTestOrder{
				ID:         [16]byte{0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4, 0xd3, 0xe2, 0xf1, 0x00},
				Number:     "SO-2025-000042",
				CustomerID: 9_007_199_254_740_993,
				Channel:    3,
				// hamba writes milliseconds and reads UTC.
				PlacedAt: placed.Truncate(time.Millisecond).UTC(),
				Total:    big.NewRat(-123_456, 100),
				WeightKg: 2.375,
				Express:  true,
				Coupon:   &coupon,
				Note:     nil,
				Lines: []deriveTestLineItem{
					{SKU: "TSHIRT-M-BLUE", Quantity: 2, UnitPrice: big.NewRat(1999, 100)},
					{SKU: "MUG-WHITE", Quantity: 1, UnitPrice: big.NewRat(0, 1), Gift: true},
				},
				Attributes: map[string]string{"source": "web", "campaign": "spring"},
				Billing:    deriveTestAddress{Street: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"},
				Shipping:   deriveTestAddress{Street: "Hauptstraße 5", City: "Köln", PostalCode: "50667", Country: "DE"},
				Pickup:     &deriveTestAddress{Street: "Depot 7", City: "Köln", PostalCode: "50668", Country: "DE"},
				CachedJSON: []byte(`{"number":"SO-2025-000042"}`),
				revision:   7,
			},
		},
		{
			name: "minimal",
			order: deriveTestOrder{
				Number:     "SO-1",
				PlacedAt:   time.UnixMilli(0).UTC(),
				Total:      big.NewRat(5, 1),
				Lines:      []deriveTestLineItem{},
				Attributes: map[string]string{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := avro.Marshal(s, tt.order)
			if err != nil {
				t.Fatalf("marshal: got %v, want nil", err)
			}
			var got deriveTestOrder
			if err := avro.Unmarshal(s, data, &got); err != nil {
				t.Fatalf("unmarshal: got %v, want nil", err)
			}
			want := tt.order
			// Not in the schema: left zero by the decoder.
			want.CachedJSON, want.revision = nil, 0
			// big.Rat has no canonical representation for DeepEqual:
			// compare the decimals by value, then drop them.
			if got.Total == nil || got.Total.Cmp(want.Total) != 0 {
				t.Errorf("total: got %v, want %v", got.Total, want.Total)
			}
			got.Total, want.Total = nil, nil
			if len(got.Lines) != len(want.Lines) {
				t.Fatalf("lines: got %v, want %v", len(got.Lines), len(want.Lines))
			}
			want.Lines = append([]deriveTestLineItem{}, want.Lines...)
			for i := range got.Lines {
				if got.Lines[i].UnitPrice == nil || got.Lines[i].UnitPrice.Cmp(want.Lines[i].UnitPrice) != 0 {
					t.Errorf("lines[%d].unit_price: got %v, want %v", i, got.Lines[i].UnitPrice, want.Lines[i].UnitPrice)
				}
				got.Lines[i].UnitPrice, want.Lines[i].UnitPrice = nil, nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestDeriveSchemaRecursive(t *testing.T) {
	type Category struct {
		Name     string               `avro:"name"`
		Parent   *Category            `avro:"parent"`
		Children []Category           `avro:"children"`
		ByName   map[string]*Category `avro:"by_name"`
	}
	text, err := deriveSchema(reflect.TypeFor[Category](), "shop")
	if err != nil {
		t.Fatalf("derive: got %v, want nil", err)
	}
	deriveCompare(t, text, `{"type":"record","name":"Category","namespace":"shop","fields":[
		{"name":"name","type":"string"},
		{"name":"parent","type":["null","shop.Category"],"default":null},
		{"name":"children","type":{"type":"array","items":"shop.Category"}},
		{"name":"by_name","type":{"type":"map","values":["null","shop.Category"]}}]}`)
	s := deriveParse(t, text)

	root := &Category{Name: "root", Children: []Category{}, ByName: map[string]*Category{}}
	leaf := Category{Name: "leaf", Children: []Category{}, ByName: map[string]*Category{"none": nil}}
	in := Category{
		Name:     "shoes",
		Parent:   root,
		Children: []Category{leaf},
		ByName:   map[string]*Category{"leaf": &leaf},
	}
	data, err := avro.Marshal(s, in)
	if err != nil {
		t.Fatalf("marshal: got %v, want nil", err)
	}
	var got Category
	if err := avro.Unmarshal(s, data, &got); err != nil {
		t.Fatalf("unmarshal: got %v, want nil", err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("got %+v, want %+v", got, in)
	}
}

// TestDeriveSchemaRoundTrip checks the rules where hamba decides the
// schema by encoding a value with the derived schema and decoding it back.
func TestDeriveSchemaRoundTrip(t *testing.T) {
	type Unsigned struct {
		U8  uint8
		U16 uint16
		U32 uint32
	}
	type Durations struct {
		Took  time.Duration
		Limit *time.Duration
	}
	type OptionalDecimal struct {
		Set   **big.Rat `avrodecimal:"6,3"`
		Unset **big.Rat `avrodecimal:"6,3"`
	}
	type Base struct {
		ID   string `avro:"id"`
		Note string `avro:"note"`
	}
	type Audit struct {
		By   string `avro:"by"`
		Note string `avro:"note"`
	}
	type Embedding struct {
		Name string `avro:"name"`
		Base `avro:"-"`
		*Audit
		Note string `avro:"note"`
	}
	type TextKeys struct {
		Stock map[*deriveTestSKU]int32
	}
	type Addresses struct {
		Addr  netip.Addr
		Maybe *netip.Addr
		None  *netip.Addr
		List  []netip.Addr
	}

	limit := 1500 * time.Microsecond
	zoned := netip.MustParseAddr("fe80::1%eth0")
	rat := big.NewRat(-1234, 1000)
	tests := []struct {
		name  string
		in    any // a pointer to a struct
		equal func(got, want any) bool
	}{
		{name: "unsigned", in: &Unsigned{U8: 255, U16: 65535, U32: 4_294_967_295}},
		{name: "durations", in: &Durations{Took: 90*time.Minute + 1234*time.Microsecond, Limit: &limit}},
		{
			name: "optional decimal",
			in:   &OptionalDecimal{Set: &rat},
			equal: func(got, want any) bool {
				g, w := got.(*OptionalDecimal), want.(*OptionalDecimal)
				return g.Unset == nil && g.Set != nil && (*g.Set).Cmp(*w.Set) == 0
			},
		},
		{
			name: "embedded",
			in: &Embedding{
				Name:  "n",
				Base:  Base{ID: "id-1", Note: "hidden by the outer note"},
				Audit: &Audit{By: "alice", Note: "hidden too"},
				Note:  "outer",
			},
			equal: func(got, want any) bool {
				g, w := *got.(*Embedding), *want.(*Embedding)
				w.Base.Note, w.Audit = "", &Audit{By: w.Audit.By}
				return reflect.DeepEqual(g, w)
			},
		},
		{
			name: "text struct types",
			in: &Addresses{
				Addr:  netip.MustParseAddr("192.0.2.10"),
				Maybe: &zoned,
				List:  []netip.Addr{zoned, netip.MustParseAddr("2001:db8::1")},
			},
		},
		{
			name: "text map keys",
			in:   &TextKeys{Stock: map[*deriveTestSKU]int32{{code: "MUG-WHITE"}: 7}},
			equal: func(got, _ any) bool {
				g := got.(*TextKeys)
				for k, v := range g.Stock {
					return len(g.Stock) == 1 && k.code == "MUG-WHITE" && v == 7
				}
				return false
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := reflect.TypeOf(tt.in)
			text, err := deriveSchema(typ, "")
			if err != nil {
				t.Fatalf("derive: got %v, want nil", err)
			}
			s := deriveParse(t, text)
			data, err := avro.Marshal(s, tt.in)
			if err != nil {
				t.Fatalf("marshal: got %v, want nil", err)
			}
			got := reflect.New(typ.Elem()).Interface()
			if err := avro.Unmarshal(s, data, got); err != nil {
				t.Fatalf("unmarshal: got %v, want nil", err)
			}
			equal := tt.equal
			if equal == nil {
				equal = func(got, want any) bool { return reflect.DeepEqual(got, want) }
			}
			if !equal(got, tt.in) {
				t.Errorf("got %+v, want %+v", reflect.ValueOf(got).Elem(), reflect.ValueOf(tt.in).Elem())
			}
		})
	}
}

type deriveTestPair[K, V any] struct {
	Key   K
	Value V
}

func TestDeriveSchemaErrors(t *testing.T) {
	type LineItem struct {
		SKU uint `avro:"sku"`
	}
	type Order struct {
		Lines []LineItem `avro:"lines"`
	}
	type Big struct {
		N uint64 `avro:"n"`
	}
	type Ptr struct {
		P uintptr `avro:"p"`
	}
	type Any struct {
		V any `avro:"v"`
	}
	type Err struct {
		E error `avro:"e"`
	}
	type Chan struct {
		C chan int `avro:"c"`
	}
	type Func struct {
		F func() `avro:"f"`
	}
	type Complex struct {
		C complex128 `avro:"c"`
	}
	type Complex64 struct {
		C []complex64 `avro:"c"`
	}
	type Unsafe struct {
		P unsafe.Pointer `avro:"p"`
	}
	type IntKeys struct {
		M map[int]string `avro:"m"`
	}
	type MapValues struct {
		M map[string]chan int `avro:"m"`
	}
	type Array struct {
		A [4]int32 `avro:"a"`
	}
	type PtrPtr struct {
		P **string `avro:"p"`
	}
	type NoTag struct {
		Price *big.Rat `avro:"price"`
	}
	type BadTag struct {
		Price *big.Rat `avro:"price" avrodecimal:"10"`
	}
	type NotNumbers struct {
		Price *big.Rat `avro:"price" avrodecimal:"ten,two"`
	}
	type ZeroPrecision struct {
		Price *big.Rat `avro:"price" avrodecimal:"0,0"`
	}
	type ScaleTooBig struct {
		Price *big.Rat `avro:"price" avrodecimal:"5,6"`
	}
	type NegativeScale struct {
		Price *big.Rat `avro:"price" avrodecimal:"5,-1"`
	}
	type RatValue struct {
		Price big.Rat `avro:"price" avrodecimal:"10,2"`
	}
	type StrayTag struct {
		Name string `avro:"name" avrodecimal:"10,2"`
	}
	type Address struct {
		City string `avro:"city"`
	}
	type Customer struct {
		Home Address `avro:"home"`
	}
	type Place struct {
		Geo complex64 `avro:"geo"`
	}
	type NestedError struct {
		Customer Customer `avro:"customer"`
		Extra    []map[string]*Place
	}
	type Anonymous struct {
		Meta struct{ A int32 } `avro:"meta"`
	}
	type Generic struct {
		Pair deriveTestPair[string, int32] `avro:"pair"`
	}
	type Duplicate struct {
		A string `avro:"id"`
		B string `avro:"id"`
	}
	type Left struct {
		ID string `avro:"id"`
	}
	type Right struct {
		ID string `avro:"id"`
	}
	type AmbiguousEmbedded struct {
		Left
		Right
	}
	type EmptyName struct {
		Name string `avro:",omitempty"`
	}
	type InvalidName struct {
		First string `avro:"first-name"`
	}
	type UnicodeName struct {
		Größe int32
	}
	type homeAddress = Address
	var clash reflect.Type
	{
		type Address struct {
			Street string `avro:"street"`
		}
		type Person struct {
			Home homeAddress `avro:"home"`
			Work Address     `avro:"work"`
		}
		clash = reflect.TypeFor[Person]()
	}
	type fixed16 struct {
		X int32 `avro:"x"`
	}
	type FixedClash struct {
		Meta fixed16  `avro:"meta"`
		ID   [16]byte `avro:"id"`
	}
	type long struct {
		X int32 `avro:"x"`
	}
	type Primitive struct {
		L long `avro:"l"`
	}
	type Fine struct {
		A string
	}

	tests := []struct {
		name      string
		typ       reflect.Type
		namespace string
		want      string
	}{
		{"nil type", nil, "", `derive avro schema: nil type`},
		{"not a struct", reflect.TypeFor[int](), "", `derive avro schema for int: want a struct type or a pointer to one`},
		{"pointer to pointer at top", reflect.TypeFor[**Fine](), "", `derive avro schema for **schema.Fine: want a struct type or a pointer to one`},
		{"anonymous top level", reflect.TypeFor[struct{ A string }](), "", `derive avro schema for struct { A string }: unsupported anonymous struct type struct { A string }: declare a named struct type`},
		{"invalid namespace", reflect.TypeFor[Fine](), "com..example", `derive avro schema for Fine: invalid namespace "com..example": want dot-separated avro names`},
		{"namespace part starts with a digit", reflect.TypeFor[Fine](), "com.1example", `derive avro schema for Fine: invalid namespace "com.1example": want dot-separated avro names`},
		{"uint in array items", reflect.TypeFor[Order](), "", `derive avro schema for Order: field "lines[].sku": unsupported type uint`},
		{"uint64", reflect.TypeFor[Big](), "", `derive avro schema for Big: field "n": unsupported type uint64`},
		{"uintptr", reflect.TypeFor[Ptr](), "", `derive avro schema for Ptr: field "p": unsupported type uintptr`},
		{"empty interface", reflect.TypeFor[Any](), "", `derive avro schema for Any: field "v": unsupported type interface {}`},
		{"interface", reflect.TypeFor[Err](), "", `derive avro schema for Err: field "e": unsupported type error`},
		{"channel", reflect.TypeFor[Chan](), "", `derive avro schema for Chan: field "c": unsupported type chan int`},
		{"func", reflect.TypeFor[Func](), "", `derive avro schema for Func: field "f": unsupported type func()`},
		{"complex128", reflect.TypeFor[Complex](), "", `derive avro schema for Complex: field "c": unsupported type complex128`},
		{"complex64 in array items", reflect.TypeFor[Complex64](), "", `derive avro schema for Complex64: field "c[]": unsupported type complex64`},
		{"unsafe pointer", reflect.TypeFor[Unsafe](), "", `derive avro schema for Unsafe: field "p": unsupported type unsafe.Pointer`},
		{"non-string map key", reflect.TypeFor[IntKeys](), "", `derive avro schema for IntKeys: field "m": unsupported map key type int: want a string key`},
		{"map values", reflect.TypeFor[MapValues](), "", `derive avro schema for MapValues: field "m{}": unsupported type chan int`},
		{"go array", reflect.TypeFor[Array](), "", `derive avro schema for Array: field "a": unsupported type [4]int32: use a slice, hamba encodes only slices as avro arrays`},
		{"pointer to pointer", reflect.TypeFor[PtrPtr](), "", `derive avro schema for PtrPtr: field "p": unsupported type **string: a pointer to a pointer would be a union in a union`},
		{"decimal without tag", reflect.TypeFor[NoTag](), "", `derive avro schema for NoTag: field "price": *big.Rat needs a struct tag avrodecimal:"<precision>,<scale>", e.g. avrodecimal:"10,2"`},
		{"decimal tag without scale", reflect.TypeFor[BadTag](), "", `derive avro schema for BadTag: field "price": invalid avrodecimal tag "10": want avrodecimal:"<precision>,<scale>" with precision >= 1 and 0 <= scale <= precision, e.g. avrodecimal:"10,2"`},
		{"decimal tag not numbers", reflect.TypeFor[NotNumbers](), "", `derive avro schema for NotNumbers: field "price": invalid avrodecimal tag "ten,two": want avrodecimal:"<precision>,<scale>" with precision >= 1 and 0 <= scale <= precision, e.g. avrodecimal:"10,2"`},
		{"decimal zero precision", reflect.TypeFor[ZeroPrecision](), "", `derive avro schema for ZeroPrecision: field "price": invalid avrodecimal tag "0,0": want avrodecimal:"<precision>,<scale>" with precision >= 1 and 0 <= scale <= precision, e.g. avrodecimal:"10,2"`},
		{"decimal scale above precision", reflect.TypeFor[ScaleTooBig](), "", `derive avro schema for ScaleTooBig: field "price": invalid avrodecimal tag "5,6": want avrodecimal:"<precision>,<scale>" with precision >= 1 and 0 <= scale <= precision, e.g. avrodecimal:"10,2"`},
		{"decimal negative scale", reflect.TypeFor[NegativeScale](), "", `derive avro schema for NegativeScale: field "price": invalid avrodecimal tag "5,-1": want avrodecimal:"<precision>,<scale>" with precision >= 1 and 0 <= scale <= precision, e.g. avrodecimal:"10,2"`},
		{"big.Rat value", reflect.TypeFor[RatValue](), "", `derive avro schema for RatValue: field "price": unsupported type big.Rat: use *big.Rat, hamba decodes only a pointer`},
		{"decimal tag without big.Rat", reflect.TypeFor[StrayTag](), "", `derive avro schema for StrayTag: field "name": avrodecimal tag on a field of type string, which holds no *big.Rat`},
		{"error in a nested record", reflect.TypeFor[NestedError](), "", `derive avro schema for NestedError: field "Extra[]{}.geo": unsupported type complex64`},
		{"anonymous struct field", reflect.TypeFor[Anonymous](), "", `derive avro schema for Anonymous: field "meta": unsupported anonymous struct type struct { A int32 }: declare a named struct type`},
		{"generic type", reflect.TypeFor[Generic](), "", `derive avro schema for Generic: field "pair": go type schema.deriveTestPair[string,int32]: type name "deriveTestPair[string,int32]" is not a valid avro name`},
		{"duplicate field name", reflect.TypeFor[Duplicate](), "", `derive avro schema for Duplicate: field "id": go fields A and B have the same avro name`},
		{"duplicate embedded field name", reflect.TypeFor[AmbiguousEmbedded](), "", `derive avro schema for AmbiguousEmbedded: field "id": go fields Left.ID and Right.ID have the same avro name`},
		{"empty tag name", reflect.TypeFor[EmptyName](), "", `derive avro schema for EmptyName: field "Name": avro tag ",omitempty" gives an empty name`},
		{"invalid tag name", reflect.TypeFor[InvalidName](), "", `derive avro schema for InvalidName: field "first-name": invalid avro field name: want letters, digits and underscores, not starting with a digit`},
		{"non-ascii go name", reflect.TypeFor[UnicodeName](), "", `derive avro schema for UnicodeName: field "Größe": invalid avro field name: want letters, digits and underscores, not starting with a digit`},
		{"two go types with one name", clash, "crm", `derive avro schema for Person: field "work": avro name "crm.Address" of go type schema.Address is already used by another go type schema.Address`},
		{"record named like a fixed", reflect.TypeFor[FixedClash](), "", `derive avro schema for FixedClash: field "id": avro name "fixed16" of [16]byte is already used by go type schema.fixed16`},
		{"record named like a primitive", reflect.TypeFor[Primitive](), "", `derive avro schema for Primitive: field "l": go type schema.long: type name "long" is not a valid avro name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deriveSchema(tt.typ, tt.namespace)
			if err == nil {
				t.Fatalf("got schema %v, want error %v", got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}
