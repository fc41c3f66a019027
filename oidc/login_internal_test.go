package oidc

import "testing"

func TestModeOf(t *testing.T) {
	for doc, want := range map[string]string{
		`{"id":"r"}`:                      modeOpen,
		`{"id":"r","mode":"queue"}`:       modeOpen,
		`{"id":"r","mode":"passthrough"}`: modeOpen,
		`{"id":"r","mode":"paused"}`:      modePaused,
		`{"id":"r","mode":"closed"}`:      modeClosed,
		`{"id":"r","mode":42}`:            modeOpen,
	} {
		if got := modeOf([]byte(doc)); got != want {
			t.Errorf("%s: %s, want %s", doc, got, want)
		}
	}
}
