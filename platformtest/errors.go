package platformtest

import "errors"

// ErrUnavailable means a backend cannot provide a platform here: the
// environment names no platform, or lacks a component asked for, or no
// Docker Engine answers. Every backend's StartT skips a test on it, or
// fails it when STREAMKIT_REQUIRE_PLATFORM=1.
var ErrUnavailable = errors.New("platformtest: platform unavailable")

// ErrUnsupported means a component was asked of a backend that never has
// it, such as Connect of the embedded backend.
var ErrUnsupported = errors.New("platformtest: component not supported by backend")
