// Package wirewatch holds what the wirewatch binary embeds from the
// repository's root: the example configuration, whose rules
// `wirewatch demo` runs, so the demo and the file a desk copies can never
// differ. Everything else lives in the packages below (see README.md,
// "How it works").
package wirewatch

import _ "embed"

// ExampleConfig is config.example.toml, as in the repository.
//
//go:embed config.example.toml
var ExampleConfig []byte
