package secrets_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/streamkit/streamkit/secrets"
)

func ExampleValue() {
	password := secrets.NewValue("hunter2")
	fmt.Println(password)
	fmt.Printf("%q %#v\n", password, password)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("connecting", "user", "pricing", "password", password)
	// Output:
	// [redacted]
	// [redacted] [redacted]
	// level=INFO msg=connecting user=pricing password=[redacted]
}

func ExampleFindRefs() {
	refs, err := secrets.FindRefs(map[string]string{
		"database.password": "${vault:secret/data/pricing/db:password}",
	})
	if err != nil {
		panic(err)
	}
	r := refs["database.password"][0]
	fmt.Println(r.Path, r.Key)
	// Output: secret/data/pricing/db password
}
