package loadtest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// ExampleScenario is a commented scenario file that sets every field.
//
//go:embed example.yaml
var ExampleScenario string

// LoadScenario reads a YAML scenario file over base: fields the file leaves
// out keep base's values, and a file's arrivals replace base's. Unknown
// fields are errors, so a misspelt setting does not pass unnoticed.
func LoadScenario(path string, base Scenario) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("read scenario: %w", err)
	}
	s, err := ParseScenario(data, base)
	if err != nil {
		return base, fmt.Errorf("scenario %s: %w", path, err)
	}
	return s, nil
}

// ParseScenario decodes a YAML scenario over base, as LoadScenario does.
func ParseScenario(data []byte, base Scenario) (Scenario, error) {
	s := base
	s.Arrivals = nil
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return base, err
	}
	if s.Arrivals == nil {
		s.Arrivals = base.Arrivals
	}
	return s, nil
}
