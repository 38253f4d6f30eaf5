package schema

import (
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// retailOrder is the realistic record of the benchmarks and the integration
// tests: 20 fields with strings, longs, enums, timestamps, decimals, an
// optional field, a nested array of records and a map. Its schema is
// testdata/order.avsc.
type retailOrder struct {
	OrderID       string            `avro:"order_id"`
	CustomerID    string            `avro:"customer_id"`
	StoreID       string            `avro:"store_id"`
	Channel       string            `avro:"channel"`
	Status        string            `avro:"status"`
	CreatedAt     time.Time         `avro:"created_at"`
	UpdatedAt     time.Time         `avro:"updated_at"`
	Total         *big.Rat          `avro:"total"`
	Tax           *big.Rat          `avro:"tax"`
	Currency      string            `avro:"currency"`
	ItemCount     int32             `avro:"item_count"`
	LoyaltyPoints int64             `avro:"loyalty_points"`
	CouponCode    *string           `avro:"coupon_code"`
	Gift          bool              `avro:"gift"`
	ShippingCity  string            `avro:"shipping_city"`
	ShippingZip   string            `avro:"shipping_zip"`
	WeightKg      float64           `avro:"weight_kg"`
	Lines         []orderLine       `avro:"lines"`
	Attributes    map[string]string `avro:"attributes"`
	Revision      int64             `avro:"revision"`
}

type orderLine struct {
	SKU       string   `avro:"sku"`
	Quantity  int32    `avro:"quantity"`
	UnitPrice *big.Rat `avro:"unit_price"`
}

func mustOrderSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := ParseFile("testdata/order.avsc")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	channels = []string{"STORE", "WEB", "APP"}
	statuses = []string{"PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"}
)

// makeOrder returns the i-th order of a deterministic sequence.
func makeOrder(i int) retailOrder {
	created := time.UnixMilli(1_760_000_000_000 + int64(i)*1_000).UTC()
	lines := make([]orderLine, 1+i%4)
	var total big.Rat
	for j := range lines {
		price := big.NewRat(int64(199+j*250+i%100), 100)
		lines[j] = orderLine{SKU: fmt.Sprintf("sku-%05d", (i*7+j)%50000), Quantity: int32(1 + j), UnitPrice: price}
		total.Add(&total, new(big.Rat).Mul(price, big.NewRat(int64(1+j), 1)))
	}
	tax := new(big.Rat).Mul(&total, big.NewRat(19, 100))
	tax.SetString(tax.FloatString(2))
	var coupon *string
	if i%3 == 0 {
		c := "SPRING-" + strconv.Itoa(i%10)
		coupon = &c
	}
	return retailOrder{
		OrderID:       fmt.Sprintf("ord-%08d", i),
		CustomerID:    fmt.Sprintf("cust-%06d", i%100000),
		StoreID:       fmt.Sprintf("store-%03d", i%250),
		Channel:       channels[i%len(channels)],
		Status:        statuses[i%len(statuses)],
		CreatedAt:     created,
		UpdatedAt:     created.Add(90 * time.Second),
		Total:         &total,
		Tax:           tax,
		Currency:      "EUR",
		ItemCount:     int32(len(lines)),
		LoyaltyPoints: int64(i % 5000),
		CouponCode:    coupon,
		Gift:          i%11 == 0,
		ShippingCity:  "Berlin",
		ShippingZip:   fmt.Sprintf("%05d", 10000+i%9000),
		WeightKg:      0.25 * float64(1+i%20),
		Lines:         lines,
		Attributes:    map[string]string{"source": "pos", "campaign": "c" + strconv.Itoa(i%17)},
		Revision:      int64(i),
	}
}

// equalOrders compares every field; decimals by value.
func equalOrders(a, b retailOrder) error {
	ratEq := func(x, y *big.Rat) bool { return x != nil && y != nil && x.Cmp(y) == 0 }
	if !ratEq(a.Total, b.Total) || !ratEq(a.Tax, b.Tax) {
		return fmt.Errorf("decimals differ: %v/%v vs %v/%v", a.Total, a.Tax, b.Total, b.Tax)
	}
	if len(a.Lines) != len(b.Lines) {
		return fmt.Errorf("lines: %d vs %d", len(a.Lines), len(b.Lines))
	}
	for i := range a.Lines {
		if a.Lines[i].SKU != b.Lines[i].SKU || a.Lines[i].Quantity != b.Lines[i].Quantity || !ratEq(a.Lines[i].UnitPrice, b.Lines[i].UnitPrice) {
			return fmt.Errorf("line %d: %+v vs %+v", i, a.Lines[i], b.Lines[i])
		}
	}
	if !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return fmt.Errorf("times differ: %v/%v vs %v/%v", a.CreatedAt, a.UpdatedAt, b.CreatedAt, b.UpdatedAt)
	}
	if (a.CouponCode == nil) != (b.CouponCode == nil) || a.CouponCode != nil && *a.CouponCode != *b.CouponCode {
		return fmt.Errorf("coupon differs")
	}
	a2, b2 := a, b
	a2.Total, a2.Tax, a2.Lines, a2.CreatedAt, a2.UpdatedAt, a2.CouponCode = nil, nil, nil, time.Time{}, time.Time{}, nil
	b2.Total, b2.Tax, b2.Lines, b2.CreatedAt, b2.UpdatedAt, b2.CouponCode = nil, nil, nil, time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(a2, b2) {
		return fmt.Errorf("%+v vs %+v", a2, b2)
	}
	return nil
}

func TestRetailOrderRoundTrip(t *testing.T) {
	reg, _, _ := newFakeRegistry(t)
	s, err := NewSerde[retailOrder](reg, WithSchema(mustOrderSchema(t)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		in := makeOrder(i)
		b, err := s.Encode(t.Context(), "orders", in)
		if err != nil {
			t.Fatal(err)
		}
		var out retailOrder
		if err := s.Decode(t.Context(), b, &out); err != nil {
			t.Fatal(err)
		}
		if err := equalOrders(in, out); err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	// The comparison can fail.
	if equalOrders(makeOrder(1), makeOrder(2)) == nil {
		t.Fatal("different orders compare equal")
	}
}
