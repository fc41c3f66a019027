package oidc

import (
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func TestRoomMode(t *testing.T) {
	for mode, want := range map[waitroom.Mode]string{
		"":                       modeOpen,
		waitroom.ModeQueue:       modeOpen,
		waitroom.ModePassthrough: modeOpen,
		waitroom.ModePaused:      modePaused,
		waitroom.ModeClosed:      modeClosed,
	} {
		r := waitroom.NewRoom("r", "R")
		r.Mode = mode
		if got := roomMode(r); got != want {
			t.Errorf("%q: %s, want %s", mode, got, want)
		}
	}
}
