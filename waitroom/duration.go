package waitroom

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes as a Go duration string
// ("90s", "15m") and also reads a number of seconds, so that config files
// and the admin API accept both.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s float64
	if err := json.Unmarshal(b, &s); err == nil {
		*d = Duration(s * float64(time.Second))
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("duration: want a string like \"90s\" or a number of seconds")
	}
	return d.UnmarshalText([]byte(str))
}

// UnmarshalText reads a duration string (also used by YAML and env vars).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("duration %q: want a value like \"90s\" or \"15m\"", string(b))
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d as a duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func invalidList(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return Errorf(CodeInvalid, "%s", strings.Join(problems, "; "))
}
