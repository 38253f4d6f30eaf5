package topics_test

import (
	"fmt"

	"github.com/streamkit/streamkit/topics"
)

// A reader of the pricing team may read its topics and commit in its
// groups, and nothing else.
func ExampleTeamRole_Bindings() {
	bindings, err := topics.TeamReader.Bindings("User:pricing.analytics", "pricing.")
	if err != nil {
		panic(err)
	}
	for _, b := range bindings {
		fmt.Println(b.Resource, b.Pattern, b.Name, b.Operation)
	}
	// Output:
	// TOPIC PREFIXED pricing. READ
	// TOPIC PREFIXED pricing. DESCRIBE
	// GROUP PREFIXED pricing. READ
	// GROUP PREFIXED pricing. DESCRIBE
}
